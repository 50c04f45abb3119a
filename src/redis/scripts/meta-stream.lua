--[[
  A live build's bookkeeping in its epoch's meta, only while the meta exists.

  KEYS[1] epoch:meta:{id} (HASH)
  ARGV[1] last_stream_ts (Unix seconds)
  ARGV[2] streamed quotes applied by the build (added to stream_updates when above 0)

  A plain HSET on a meta that has expired (the epoch superseded a day ago, or lost in an outage) would
  recreate it with these two fields and no TTL: a key that never goes. HSET and HINCRBY keep the TTL of a
  meta that is there (a superseded one's day).

  Returns 1 when written, 0 when the meta is gone.
]]
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
redis.call('HSET', KEYS[1], 'last_stream_ts', ARGV[1])
if tonumber(ARGV[2]) > 0 then
  redis.call('HINCRBY', KEYS[1], 'stream_updates', ARGV[2])
end
return 1
