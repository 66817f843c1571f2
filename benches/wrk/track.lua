-- wrk: POST batches of $BATCH track points with fresh sequence numbers to one patrol each
-- connection ($PATROLS: comma-separated patrol ids, one per connection, round robin),
-- with $TOKEN (a grid worker's). Every request stores $BATCH new points.
local batch = tonumber(os.getenv("BATCH") or "100")
local patrols = {}
for id in string.gmatch(os.getenv("PATROLS") or "", "[^,]+") do patrols[#patrols + 1] = id end
local token = os.getenv("TOKEN")
local n = 0
local lon0, lat0 = tonumber(os.getenv("LON") or "115.37"), tonumber(os.getenv("LAT") or "22.78")

request = function()
  n = n + 1
  local patrol = patrols[(n % #patrols) + 1]
  local base = math.floor(n / #patrols) * batch
  local pts = {}
  for i = 0, batch - 1 do
    local s = base + i
    pts[#pts + 1] = string.format(
      '{"seq":%d,"at":"2026-12-01T08:%02d:%02dZ","lon":%.6f,"lat":%.6f,"accuracy_m":5}',
      s, math.floor(s / 60) % 60, s % 60, lon0 + (s % 1000) * 0.00001, lat0)
  end
  local body = '{"points":[' .. table.concat(pts, ",") .. ']}'
  return wrk.format("POST", "/api/v1/patrols/" .. patrol .. "/points",
    {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}, body)
end
