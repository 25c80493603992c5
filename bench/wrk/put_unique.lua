-- wrk script: PUT a 100-byte value under a new key each request: k<thread>-<n>, prefixed by
-- NDS_RUN (so that repeated runs add keys instead of overwriting them).
local run = os.getenv("NDS_RUN") or ""
local counter = 0
tid = 0  -- a global: thread:set() sets it in each thread
local value = string.rep("v", 100)
function setup(thread)
  tid = tid + 1
  thread:set("tid", tid)
end
function init(args)
  counter = 0
end
function request()
  counter = counter + 1
  return wrk.format("PUT", "/store/" .. run .. "k" .. tid .. "-" .. counter, nil, value)
end
