#!/usr/bin/env python3
"""Writes a large, valid plan for benchmarks: N scenarios, each with its own runbook.

Usage: scripts/gen-plan.py N > big.yaml
"""
import sys

count = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
out = sys.stdout.write
out("""version: 1
organization: { name: Benchmark Protocol, timezone: Europe/Berlin }
severities:
  - { id: P0, name: Critical, urgent: true, important: true, ack_within: 15m, update_every: 30m, resolve_target: 2h, escalation: critical }
  - { id: P1, name: High, urgent: true, important: false, ack_within: 1h, update_every: 2h, escalation: critical }
categories:
  - { id: hacker, name: Hacker attack, notify: { core: on-detection } }
  - { id: network, name: Network problem, notify: { core: on-validation } }
people:
""")
for i in range(20):
    out(f'  - {{ id: p{i}, name: Person {i}, contacts: {{ email: p{i}@example.com, phone: "+1999555{i:04d}" }}, keys: ["eth:0x{i:040x}"] }}\n')
out("""teams:
  - { id: core, name: Core, members: [p0, p1, p2, p3] }
roles:
  - { id: incident-commander, name: Incident Commander, primary: p0, backup: p1 }
schedules:
  - id: primary
    rotations:
      - { members: [p0, p1, p2, p3, p4, p5], every: 1w, handoff: "mon 09:00", start: 2026-01-05 }
escalation_policies:
  - id: critical
    repeat: 2
    levels:
      - { after: 0m, notify: [schedule:primary] }
      - { after: 15m, notify: [role:incident-commander, team:core] }
decisions:
  - { id: pause-contract, title: Pause contract, required: [person:p0, person:p1], signed: true }
channels:
  war-room: { type: slack, webhook_url_env: SLACK_WEBHOOK_URL }
communications:
  - { audience: Internal updates, every: 1h, channels: [war-room], owner: role:incident-commander }
scenarios:
""")
for i in range(count):
    category = "hacker" if i % 2 else "network"
    out(f"""  - id: scenario-{i}
    category: {category}
    title: Potential issue number {i}
    detection: ["detector:probe-{i}", Reports from users]
    severity: P{i % 2}
    runbook: runbook-{i}
""")
out("runbooks:\n")
for i in range(count):
    out(f"""  - id: runbook-{i}
    title: Response to issue {i}
    steps:
      - {{ id: contain, title: Pause contract, phase: containment, within: 5m, decision: pause-contract, command: "cast send $PAUSER 'pause()'" }}
      - {{ id: investigate, title: Identify the cause, phase: investigation, within: 1h }}
      - {{ id: recover, title: Restore service, phase: recovery }}
""")
