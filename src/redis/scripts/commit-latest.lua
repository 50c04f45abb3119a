--[[
  Makes an assembled massive:chain:latest current, unless a part changed since it was assembled. The
  document was SET client-side under a staging key; this script only compares two small values and
  RENAMEs (no decode, no copy of the multi-megabyte value inside Redis). All keys share one slot: the
  parts' keys carry the hash tag {massive:chain:latest}, which hashes like the untagged name.

  A stale assembly gives up rather than retrying: the part write that made it stale is followed by its
  own writer's assembly, which reads every part after that write ("the last writer assembles").

  KEYS[1] parts revision counter (INCR on every part write)
  KEYS[2] staging key holding the assembled document
  KEYS[3] massive:chain:latest
  KEYS[4] the version of the document made current last
  ARGV[1] the revision read before the parts were read
  ARGV[2] the document's version
  ARGV[3] channel announcing a new version (massive:chain:geometry_updated)

  Returns 0 (stale: staging deleted, nothing changed), 1 (current, same version), 2 (current, new
  version: {"version":N} PUBLISHed on ARGV[3]).
]]
local rev = redis.call('GET', KEYS[1]) or '0'
if rev ~= ARGV[1] then
  redis.call('DEL', KEYS[2])
  return 0
end
redis.call('RENAME', KEYS[2], KEYS[3])
redis.call('PERSIST', KEYS[3])
if redis.call('GET', KEYS[4]) == ARGV[2] then return 1 end
redis.call('SET', KEYS[4], ARGV[2])
redis.call('PUBLISH', ARGV[3], '{"version":' .. ARGV[2] .. '}')
return 2
