--[[
  Counts a failed cycle against the symbol's active epoch, atomically: raises its dormant count and, at the
  threshold, marks it dormant.

  KEYS[1] epoch:meta:{id} (HASH)
  ARGV[1] the dormant threshold (a count, ≥ 1)

  Nothing changes when the meta is gone (expired, or lost with Redis) or the epoch was retired (status
  `superseded`: a promotion landed after the caller read `epoch:active`). Done as separate commands, a
  retirement between the count and the status write left a superseded epoch marked dormant.

  Returns {count, dormant}: the new count and 1 when the epoch is dormant now; {0, 0} when nothing changed.
]]
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {0, 0}
end
local status = redis.call('HGET', KEYS[1], 'status')
if status == 'superseded' then
  return {0, 0}
end
local count = redis.call('HINCRBY', KEYS[1], 'dormant_count', 1)
if count < tonumber(ARGV[1]) then
  return {count, 0}
end
if status ~= 'dormant' then
  redis.call('HSET', KEYS[1], 'status', 'dormant')
end
return {count, 1}
