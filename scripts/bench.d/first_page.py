#!/usr/bin/env python3
"""Alert received -> first notification delivered, timed one sample at a time.

Usage: first_page.py MUSTER_URL KEY SINK_PORT SAMPLES

Listens on 127.0.0.1:SINK_PORT as the webhook the benchmark plan pages through, then sends
SAMPLES Alertmanager notifications one after the other, each a new outage (label
sample=<n>) that declares an incident and pages the on-call. A sample's time runs from just
before its alert is sent to the moment the page naming it arrives at the sink. Prints p50, p90,
p99 and max in milliseconds.
"""

import http.client
import http.server
import json
import sys
import threading
import time

url, key, sink_port, samples = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
host, port = url.removeprefix("http://").split(":")
arrived = {}
lock = threading.Condition()


class Sink(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        now = time.perf_counter()
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()
        title = json.loads(body).get("title", "")
        if title.startswith("Sample "):
            with lock:
                arrived.setdefault(title.split()[1], now)
                lock.notify_all()

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", sink_port), Sink)
threading.Thread(target=server.serve_forever, daemon=True).start()

run = str(int(time.time()))
connection = http.client.HTTPConnection(host, int(port))
times = []
for n in range(samples):
    sample = f"{run}-{n}"
    alert = {
        "status": "firing",
        "labels": {"alertname": "BenchSample", "bench": "sample", "sample": sample},
        "annotations": {"summary": f"Sample {sample} is down"},
        "startsAt": "2026-11-21T09:00:00Z",
        "fingerprint": f"sample-{sample}",
    }
    body = json.dumps({"version": "4", "status": "firing", "alerts": [alert]})
    started = time.perf_counter()
    connection.request(
        "POST",
        "/intake/alertmanager",
        body,
        {"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    answer = connection.getresponse()
    answer.read()
    if answer.status != 202:
        sys.exit(f"sample {sample}: the intake answered {answer.status}")
    with lock:
        if not lock.wait_for(lambda: sample in arrived, timeout=10):
            sys.exit(f"sample {sample}: no page within 10 s")
        times.append((arrived[sample] - started) * 1000)

times.sort()


def pct(p):
    return times[min(len(times) - 1, int(len(times) * p / 100))]


print(
    f"alert -> first page, {samples} samples: p50 {pct(50):.1f} ms, p90 {pct(90):.1f} ms, "
    f"p99 {pct(99):.1f} ms, max {times[-1]:.1f} ms"
)
