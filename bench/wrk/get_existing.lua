-- wrk script: GET keys k1-1 .. k1-<n> written by put_unique.lua (n from NDS_KEYS, default 10000).
local n = tonumber(os.getenv("NDS_KEYS") or "10000")
local i = 0
function request()
  i = i % n + 1
  return wrk.format("GET", "/store/k1-" .. i)
end
