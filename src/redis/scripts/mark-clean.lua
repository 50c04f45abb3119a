--[[
  Marks an epoch's models built (clean), atomically, only if no refresh landed since the build read it.

  KEYS[1] epoch:meta:{id} (HASH)
  KEYS[2] epoch:dirty (SET)
  KEYS[3] epoch:clean (SET)
  ARGV[1] epoch id
  ARGV[2] the meta's last_refresh_ts the build read ("" when the field was absent)

  A worker's refresh writes last_refresh_ts, then adds the epoch to epoch:dirty. Done in one script, the
  compare and the move from dirty to clean cannot straddle a refresh: either the refresh came first (the
  timestamps differ: nothing changes, the epoch stays dirty) or it comes after (its SADD re-dirties it).

  An epoch retired while it was being built (status `superseded`: a promotion landed meanwhile) is taken
  out of both sets: a superseded id in epoch:clean would stay there forever (retire removed it already).

  Returns 1 when marked clean, 0 when a refresh landed (the epoch stays dirty) or the epoch was superseded.
]]
local meta = redis.call('HMGET', KEYS[1], 'last_refresh_ts', 'status')
if meta[2] == 'superseded' then
  redis.call('SREM', KEYS[2], ARGV[1])
  redis.call('SREM', KEYS[3], ARGV[1])
  return 0
end
local ts = meta[1] or ''
if ts ~= ARGV[2] then
  return 0
end
redis.call('SREM', KEYS[2], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[1])
return 1
