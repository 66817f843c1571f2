-- The 20 nearest open events around random points inside random grids.
dofile("benches/wrk/auth.lua")
dofile("benches/wrk/points.lua")
math.randomseed(43)
request = function()
  local lon, lat = point()
  return wrk.format("GET", "/api/v1/events/nearby?lon=" .. lon .. "&lat=" .. lat .. "&limit=20")
end
