--[[
  Extends a lease only if it still holds the caller's exact value.

  KEYS[1] the lease
  ARGV[1] expected value "{owner}|{fence}"
  ARGV[2] ttl, ms

  Returns 1 when renewed, 0 when the lease was lost.
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
