-- Random tiles from a list ($TILES: one path per line), keep-alive; with GZIP=1 the client
-- accepts gzip. Every request picks a tile at random (fixed seed: same sequence each run).
dofile("benches/wrk/auth.lua")
local paths = {}
for line in io.lines(os.getenv("TILES")) do
  paths[#paths + 1] = line
end
if os.getenv("GZIP") == "1" then
  wrk.headers["Accept-Encoding"] = "gzip"
end
math.randomseed(7)
request = function()
  return wrk.format("GET", paths[math.random(#paths)])
end
