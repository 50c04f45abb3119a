--[[
  Applies one GEX build's level events exactly once, across builders: checks that the symbol's level state
  is still the version the caller computed from (else 'retry': reread and recompute) and that the build is
  newer than the last one applied (else 'stale': an older or the same build, already reported), then
  stores the new state and XADDs the events. Small values only: nothing is decoded.

  KEYS[1] massive:events:levels:{massive:events}:{U} (HASH: v, as_of, state)
  KEYS[2] massive:events (STREAM), same slot by the hash tag
  ARGV[1] the version the caller read ('' when the hash did not exist)
  ARGV[2] the build's as-of, Unix seconds (the fence)
  ARGV[3] the new state (JSON)
  ARGV[4] MAXLEN ~ of the stream
  ARGV[5] the state hash TTL, seconds
  ARGV[6..] the events (JSON), in order

  Returns {'ok', id…}, {'retry'} or {'stale'}.
]]
local v = redis.call('HGET', KEYS[1], 'v') or ''
if v ~= ARGV[1] then return {'retry'} end
local fence = tonumber(redis.call('HGET', KEYS[1], 'as_of') or '')
if fence ~= nil and fence >= tonumber(ARGV[2]) then return {'stale'} end
redis.call('HSET', KEYS[1], 'v', tostring((tonumber(v) or 0) + 1), 'as_of', ARGV[2], 'state', ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[5])
local out = {'ok'}
for i = 6, #ARGV do
  out[#out + 1] = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', 'payload', ARGV[i])
end
return out
