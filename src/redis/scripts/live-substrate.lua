--[[
  A live build's substrate write: the newer data wins. Sent by the bulk writer (EVALSHA, EVAL after a
  NOSCRIPT), one key per call, so it works on a cluster.

  KEYS[1] epoch:{id}:contract:{cid}
  ARGV[1] the substrate JSON built from the stream; its `ts` is the quote's time (a contract only traded
          keeps the `ts` of the snapshot the build started from)

  Written only over an existing substrate (a missing one would have no TTL and outlive its epoch), keeping
  its TTL, and only when the stored substrate's `ts` is not newer: a REST refresh of the epoch that landed
  first (a newer snapshot as-of) keeps its values against a live flush built from older quotes.

  Returns 1 when written, 0 when the key is gone, -1 when the stored substrate is newer.
]]
local cur = redis.call('GET', KEYS[1])
if not cur then
  return 0
end
local function ts(json)
  local ok, v = pcall(cjson.decode, json)
  if ok and type(v) == 'table' and type(v.ts) == 'number' then
    return v.ts
  end
  return nil
end
local stored, incoming = ts(cur), ts(ARGV[1])
if stored and incoming and stored > incoming then
  return -1
end
redis.call('SET', KEYS[1], ARGV[1], 'KEEPTTL')
return 1
