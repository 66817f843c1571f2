-- Where am I: random points inside random grids.
dofile("benches/wrk/points.lua")
math.randomseed(42)
request = function()
  local lon, lat = point()
  return wrk.format("GET", "/api/v1/locate?lon=" .. lon .. "&lat=" .. lat)
end
