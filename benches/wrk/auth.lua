-- Sends $TOKEN (a minqing bearer token) with every request, when set.
local token = os.getenv("TOKEN")
if token and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end
