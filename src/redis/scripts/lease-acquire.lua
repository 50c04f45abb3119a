--[[
  Takes a free lease, or extends one the caller already holds.

  KEYS[1] the lease (STRING "{owner}|{fence}")
  KEYS[2] the fencing counter (same slot)
  ARGV[1] owner id
  ARGV[2] ttl, ms

  Returns the lease value held by the caller, or false when another owner holds it.
]]
local current = redis.call('GET', KEYS[1])
if current then
  if string.sub(current, 1, string.len(ARGV[1]) + 1) == ARGV[1] .. '|' then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return current
  end
  return false
end
local fence = redis.call('INCR', KEYS[2])
local value = ARGV[1] .. '|' .. fence
redis.call('SET', KEYS[1], value, 'PX', ARGV[2])
return value
