--[[
  Sets one symbol's entry of massive:chain:latest without touching the others' (several workers may own
  different symbols), and without decoding JSON: the value is kept as one entry per line,
    {
    "NDX":{...},
    "SPX":{...}
    }
  which is valid JSON because compact JSON never holds a raw newline. Entries stay byte-exact.

  KEYS[1] massive:chain:latest (STRING, JSON object keyed by {U})
  ARGV[1] symbol ({U}); letters, digits, '.', '_' or '-'
  ARGV[2] the symbol's entry: compact JSON (no raw newline)

  Returns the number of symbols in the object.
]]
local current = redis.call('GET', KEYS[1])
local entries = {}
local order = {}
if current then
  for line in string.gmatch(current, '[^\n]+') do
    local name = string.match(line, '^"([^"]+)":')
    if name then
      local body = string.gsub(line, ',$', '')
      if entries[name] == nil then table.insert(order, name) end
      entries[name] = body
    end
  end
end
local key = ARGV[1]
if entries[key] == nil then table.insert(order, key) end
entries[key] = '"' .. key .. '":' .. ARGV[2]
table.sort(order)
local out = {}
for i, name in ipairs(order) do out[i] = entries[name] end
redis.call('SET', KEYS[1], '{\n' .. table.concat(out, ',\n') .. '\n}')
return #order
