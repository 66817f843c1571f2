-- Requests random paths from the file named by $PATHS (one path per line), with $TOKEN.
dofile("benches/wrk/auth.lua")
local paths = {}
for line in io.lines(os.getenv("PATHS")) do
  paths[#paths + 1] = line
end
request = function()
  return wrk.format("GET", paths[math.random(#paths)])
end
