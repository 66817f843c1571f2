-- The 20 nearest open events around random points over the Shanwei demo area.
math.randomseed(43)
local x0, y0, x1, y1 = 115.0, 22.75, 115.95, 23.35
request = function()
  local lon = x0 + math.random() * (x1 - x0)
  local lat = y0 + math.random() * (y1 - y0)
  return wrk.format("GET", string.format("/api/v1/events/nearby?lon=%.6f&lat=%.6f&limit=20", lon, lat))
end
