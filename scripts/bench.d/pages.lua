-- wrk: web UI pages signed in with the session cookie $TOKEN. PAGE=incident fetches the page of an
-- open incident from $IDS round-robin; PAGE=list, dashboard fetch the incident list and the
-- dashboard.
local page = os.getenv("PAGE")
local ids = {}
if page == "incident" then
  for line in io.lines(os.getenv("IDS")) do
    ids[#ids + 1] = line
  end
end
local headers = { ["Cookie"] = "muster_session=" .. os.getenv("TOKEN") }
local n = 0

request = function()
  if page == "incident" then
    n = n % #ids + 1
    return wrk.format("GET", "/incidents/" .. ids[n], headers)
  elseif page == "list" then
    return wrk.format("GET", "/incidents?open=false&severity=P1", headers)
  else
    return wrk.format("GET", "/", headers)
  end
end

done = function(summary, latency, requests)
  io.write(string.format("non-2xx or errors: %d\n", summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.timeout))
end
