--[[
  Sets one symbol's entry of massive:chain:latest without touching the others' (several workers may own
  different symbols).

  KEYS[1] massive:chain:latest (STRING, JSON object keyed by {U})
  ARGV[1] symbol ({U})
  ARGV[2] the symbol's entry, JSON

  Returns the number of symbols in the object.
  The entry's JSON must not hold empty arrays: cjson would re-encode them as {}.
]]
local current = redis.call('GET', KEYS[1])
local doc = {}
if current then
  local ok, decoded = pcall(cjson.decode, current)
  if ok and type(decoded) == 'table' then doc = decoded end
end
doc[ARGV[1]] = cjson.decode(ARGV[2])
redis.call('SET', KEYS[1], cjson.encode(doc))
local n = 0
for _ in pairs(doc) do n = n + 1 end
return n
