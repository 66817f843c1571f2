-- Query points shared by the GET scripts: random points inside random grids (where field
-- staff stand), written by benches/run.sh to the file named by $POINTS.
local points = {}
for line in io.lines(os.getenv("POINTS")) do
  local x, y = line:match("([^,]+),([^,]+)")
  points[#points + 1] = {x, y}
end
function point()
  local p = points[math.random(#points)]
  return p[1], p[2]
end
