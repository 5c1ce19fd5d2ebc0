-- wrk: one `add_note` command per request, round-robin over the open incidents in $IDS, with
-- the admin token in $TOKEN. Each accepted request appends exactly one event.
local ids = {}
for line in io.lines(os.getenv("IDS")) do
  ids[#ids + 1] = line
end
local token = os.getenv("TOKEN")
local headers = { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }
local body = '{"command":"add_note","text":"load-test observation"}'
local n = math.random(#ids)

request = function()
  n = n % #ids + 1
  return wrk.format("POST", "/api/incidents/" .. ids[n] .. "/commands", headers, body)
end
