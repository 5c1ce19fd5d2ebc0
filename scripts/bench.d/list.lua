-- wrk: incident listings with filters over the seeded database, the way a dashboard asks.
local token = os.getenv("TOKEN")
local headers = { ["Authorization"] = "Bearer " .. token }
local queries = {
  "/api/incidents",
  "/api/incidents?open=true",
  "/api/incidents?status=resolved&severity=P1",
  "/api/incidents?severity=P0&tag=chain-halt",
  "/api/incidents?drill=true&limit=100",
  "/api/incidents?from=2026-06-01T00:00:00Z&until=2026-07-01T00:00:00Z",
  "/api/incidents?status=resolved&offset=50000",
}
local n = 0

request = function()
  n = n % #queries + 1
  return wrk.format("GET", queries[n], headers)
end
