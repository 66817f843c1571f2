-- New reports at random points inside random grids: each must be committed before its 201.
dofile("benches/wrk/auth.lua")
dofile("benches/wrk/points.lua")
math.randomseed(44)
local cats = {"hazard.fire", "urban.road", "environment.garbage", "service.water", "dispute.neighbour"}
local headers = {["Content-Type"] = "application/json", ["Authorization"] = wrk.headers["Authorization"]}
request = function()
  local lon, lat = point()
  local body = '{"type":"Feature","geometry":{"type":"Point","coordinates":[' .. lon .. ',' .. lat ..
    ']},"properties":{"category":"' .. cats[math.random(#cats)] ..
    '","title":"压测上报","description":"benchmark","reporter":"bench 13800000000"}}'
  return wrk.format("POST", "/api/v1/events", headers, body)
end
