-- wrk script for etcd's v3 JSON gateway, the counterpart of put_unique.lua and get_existing.lua.
-- ETCD_OP=put (default): POST /v3/kv/put of a 100-byte value under a new key each request,
-- k<thread>-<n>. ETCD_OP=get: POST /v3/kv/range (linearizable, etcd's default) of the keys
-- k1-1 .. k1-<n> that the puts wrote (n from NDS_KEYS, default 10000). Keys and values are
-- base64, as the gateway wants.
local op = os.getenv("ETCD_OP") or "put"
local n = tonumber(os.getenv("NDS_KEYS") or "10000")
local i = 0
local counter = 0
tid = 0  -- a global: thread:set() sets it in each thread
local b64chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local function b64(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    local k = 4
    if not b then k = 2 elseif not c then k = 3 end
    for j = 1, 4 do
      if j <= k then
        local v = math.floor(n / 2 ^ (6 * (4 - j))) % 64
        out[#out + 1] = b64chars:sub(v + 1, v + 1)
      else
        out[#out + 1] = "="
      end
    end
  end
  return table.concat(out)
end
local value = b64(string.rep("v", 100))
function setup(thread)
  tid = tid + 1
  thread:set("tid", tid)
end
function init(args)
  counter = 0
  wrk.headers["Content-Type"] = "application/json"
end
function request()
  if op == "get" then
    i = i % n + 1
    return wrk.format("POST", "/v3/kv/range", nil, '{"key":"' .. b64("k1-" .. i) .. '"}')
  end
  counter = counter + 1
  local body = '{"key":"' .. b64("k" .. tid .. "-" .. counter) .. '","value":"' .. value .. '"}'
  return wrk.format("POST", "/v3/kv/put", nil, body)
end
