--[[
  Deletes a lease only if it still holds the caller's exact value.

  KEYS[1] the lease
  ARGV[1] expected value

  Returns 1 when released, 0 otherwise.
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
