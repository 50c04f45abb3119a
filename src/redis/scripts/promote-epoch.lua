--[[
  Flips epoch:active to a new epoch, atomically, if the caller still holds the symbol's lease.

  KEYS[1] epoch:active (HASH)
  KEYS[2] the symbol's worker lease (same slot as KEYS[1] through its {epoch:active} hash tag)
  KEYS[3] (optional, single server only) epoch:meta:{new}
  KEYS[4] (optional, single server only) epoch:{new}:contracts
  ARGV[1] symbol ({U})
  ARGV[2] new epoch id
  ARGV[3] expected lease value "{owner}|{fence}", or "" to skip the fencing check

  Returns the previous epoch id ("" when none), or an error:
  FENCED  the lease is lost or held by another worker: nothing changed
  MISSING the new epoch's meta or contract index is gone (Redis lost data mid-cycle): nothing changed
]]
if ARGV[3] ~= '' and redis.call('GET', KEYS[2]) ~= ARGV[3] then
  return redis.error_reply('FENCED lease lost')
end
if KEYS[3] and redis.call('EXISTS', KEYS[3]) == 0 then
  return redis.error_reply('MISSING epoch meta')
end
if KEYS[4] and redis.call('EXISTS', KEYS[4]) == 0 then
  return redis.error_reply('MISSING epoch contract index')
end
local prev = redis.call('HGET', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return prev or ''
