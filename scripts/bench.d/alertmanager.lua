-- wrk: Alertmanager webhook notifications (payload version 4) of $BATCH firing alerts each
-- (default 1), every alert with a fingerprint of its own, labelled as one of ten services'
-- outages. The key is $KEY. Non-2xx answers are counted by wrk as errors.
local batch = tonumber(os.getenv("BATCH") or "1")
local key = os.getenv("KEY")
local headers = { ["Authorization"] = "Bearer " .. key, ["Content-Type"] = "application/json" }
local threads = 0
local n = 0

setup = function(thread)
  threads = threads + 1
  thread:set("prefix", string.format("%s-t%d", os.getenv("RUN") or "run", threads))
end

request = function()
  local alerts = {}
  for i = 1, batch do
    n = n + 1
    local service = "svc" .. (n % 10)
    alerts[i] = string.format(
      '{"status":"firing","labels":{"alertname":"BenchLoad","bench":"load","service":"%s","instance":"%s-%d"},'
        .. '"annotations":{"summary":"Load alert %d on %s"},"startsAt":"2026-11-21T09:00:00Z",'
        .. '"endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://prometheus.example/graph","fingerprint":"%s-%d"}',
      service, prefix, n, n, service, prefix, n)
  end
  local body = '{"version":"4","groupKey":"{}:{alertname=\\"BenchLoad\\"}","truncatedAlerts":0,'
    .. '"status":"firing","receiver":"muster","groupLabels":{"alertname":"BenchLoad"},'
    .. '"commonLabels":{"alertname":"BenchLoad","bench":"load"},"commonAnnotations":{},'
    .. '"externalURL":"http://alertmanager.example:9093","alerts":[' .. table.concat(alerts, ",") .. ']}'
  return wrk.format("POST", "/intake/alertmanager", headers, body)
end

done = function(summary, latency, requests)
  local refused = summary.errors.status
  io.write(string.format("accepted: %d alerts in %d requests (%d refused)\n",
    (summary.requests - refused) * batch, summary.requests - refused, refused))
end
