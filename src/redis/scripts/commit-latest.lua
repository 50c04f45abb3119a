--[[
  Makes an assembled massive:chain:latest current, unless another assembly was committed since this one
  read the document it copied the other symbols from. The document was SET client-side under a staging
  key; this script only compares small values, RENAMEs and writes the layout (no decode, no copy of the
  multi-megabyte value inside Redis). All keys share one slot: they carry the hash tag
  {massive:chain:latest}, which hashes like the untagged name.

  A stale assembly is not retried here: its writer assembles again from the new document.

  KEYS[1] document revision (INCR on every commit)
  KEYS[2] staging key holding the assembled document
  KEYS[3] massive:chain:latest
  KEYS[4] the version of the document made current last (announced once)
  KEYS[5] the document's version counter
  KEYS[6] the layout HASH: per symbol, its contracts token and where its summary and contracts sit
  ARGV[1] the revision read with the document's layout
  ARGV[2] the document's version (the one read, or one above when its ticker set changed)
  ARGV[3] channel announcing a new version (massive:chain:geometry_updated)
  ARGV[4..] the new layout: field, value, field, value, ...

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
redis.call('INCR', KEYS[1])
redis.call('DEL', KEYS[6])
if #ARGV > 3 then redis.call('HSET', KEYS[6], unpack(ARGV, 4)) end
redis.call('SET', KEYS[5], ARGV[2])
if redis.call('GET', KEYS[4]) == ARGV[2] then return 1 end
redis.call('SET', KEYS[4], ARGV[2])
redis.call('PUBLISH', ARGV[3], '{"version":' .. ARGV[2] .. '}')
return 2
