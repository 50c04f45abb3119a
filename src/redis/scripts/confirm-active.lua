--[[
  Confirms, before a refresh or merge is announced, that the caller still holds the symbol's lease and that
  the epoch it rewrote is still the active one: both read in one step.

  KEYS[1] epoch:active (HASH)
  KEYS[2] the symbol's worker lease (same slot as KEYS[1] through its {epoch:active} hash tag)
  ARGV[1] symbol ({U})
  ARGV[2] the epoch id the caller refreshed
  ARGV[3] expected lease value "{owner}|{fence}", or "" to skip the fencing check

  Returns 1 when the epoch is still active, 0 when another epoch (or none) is, or an error:
  FENCED  the lease is lost or held by another worker (whatever is active)
]]
if ARGV[3] ~= '' and redis.call('GET', KEYS[2]) ~= ARGV[3] then
  return redis.error_reply('FENCED lease lost')
end
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  return 1
end
return 0
