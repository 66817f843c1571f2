-- New reports at random points: every one must be committed before its 201.
math.randomseed(44)
local x0, y0, x1, y1 = 115.0, 22.75, 115.95, 23.35
local cats = {"hazard.fire", "urban.road", "environment.garbage", "service.water", "dispute.neighbour"}
local headers = {["Content-Type"] = "application/json"}
request = function()
  local lon = x0 + math.random() * (x1 - x0)
  local lat = y0 + math.random() * (y1 - y0)
  local body = string.format(
    '{"type":"Feature","geometry":{"type":"Point","coordinates":[%.6f,%.6f]},"properties":{"category":"%s","title":"压测上报","description":"benchmark","reporter":"bench 13800000000"}}',
    lon, lat, cats[math.random(#cats)])
  return wrk.format("POST", "/api/v1/events", headers, body)
end
