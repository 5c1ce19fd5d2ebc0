-- wrk: PagerDuty Events API v2 trigger events to /v2/enqueue, each with a dedup_key of its
-- own, as one of ten components' outages. The routing key is $KEY.
local key = os.getenv("KEY")
local headers = { ["Content-Type"] = "application/json" }
local threads = 0
local n = 0

setup = function(thread)
  threads = threads + 1
  thread:set("prefix", string.format("%s-t%d", os.getenv("RUN") or "run", threads))
end

request = function()
  n = n + 1
  local component = "svc" .. (n % 10)
  local body = string.format(
    '{"routing_key":"%s","event_action":"trigger","dedup_key":"%s-%d","payload":{"summary":"Load event %d on %s",'
      .. '"source":"bench-detector","severity":"critical","component":"%s","class":"load"}}',
    key, prefix, n, n, component, component)
  return wrk.format("POST", "/v2/enqueue", headers, body)
end

done = function(summary, latency, requests)
  local refused = summary.errors.status
  io.write(string.format("accepted: %d alerts in %d requests (%d refused)\n",
    summary.requests - refused, summary.requests - refused, refused))
end
