//! Rendering the plan as the human document: snapshots of a plan modelled on the start-up
//! emergency-response plan, and the behaviours a reader relies on (escaping, mandatory sections,
//! every name mentioned).

use muster_core::plan::{Plan, render};
use proptest::prelude::*;
use serde_json::{Value, json};

fn plan(value: Value) -> Plan {
    serde_json::from_value(value).expect("fixture plan deserializes")
}

/// The start-up plan of seed 001 (potential issues, response procedure, escalation, core and
/// extended teams, communications, decisions, live exercises), with the severity levels, roles
/// and targets a team adds once it grows.
fn startup_plan() -> Plan {
    plan(json!({
        "version": 1,
        "organization": {
            "name": "Example Protocol",
            "timezone": "UTC",
            "summary": "How Example Protocol prepares for, detects and answers emergencies.\n\nThe plan is rehearsed in live exercises twice a year.",
            "emergency_contact": "security@example.com",
            "hotline": "+19995551200",
            "status_page_url": "https://status.example.com",
            "principles": ["Stop the bleeding first", "Nobody acts alone on user funds"]
        },
        "severities": [
            {
                "id": "P0", "name": "Critical", "urgent": true, "important": true,
                "description": "Funds at risk or the protocol halted",
                "ack_within": "15m", "action_within": "0m", "update_every": "30m",
                "resolve_target": "2h", "escalation": "critical",
                "notify_note": "Immediate notification to C-level",
                "examples": ["Stolen user funds", "Exploit in progress", "Contract paused by an attacker"]
            },
            {
                "id": "P1", "name": "High", "urgent": true, "important": false,
                "ack_within": "1h", "action_within": "2h", "update_every": "2h",
                "resolve_target": "8h", "escalation": "critical",
                "examples": ["Spike in failed transactions"]
            },
            {
                "id": "P2", "name": "Medium", "urgent": false, "important": true,
                "ack_within": "4h", "update_note": "Daily updates if ongoing", "escalation": "none"
            }
        ],
        "categories": [
            {
                "id": "hacker", "name": "Hacker Attack",
                "description": "Someone is attacking the protocol or its users",
                "examples": ["DDoS", "Stolen funds"],
                "notify": { "core": "on-detection", "extended": "on-validation" }
            },
            {
                "id": "protocol", "name": "Protocol Problem",
                "notify": { "core": "on-validation", "extended": "on-validation" }
            },
            {
                "id": "network", "name": "Network Problem",
                "notify": { "core": "on-validation", "extended": "on-resolution" }
            }
        ],
        "people": [
            {
                "id": "janet", "name": "Janet R",
                "contacts": { "email": "janet@example.com", "telegram": "@janet", "phone": "+19995551212" },
                "keys": ["eth:0x0000000000000000000000000000000000000001"]
            },
            {
                "id": "david", "name": "David L",
                "contacts": { "email": "david@example.com", "slack": "@david", "phone": "+19995551213" }
            },
            {
                "id": "eveline", "name": "Eveline B", "title": "Security Consultant",
                "organization": "External Security Co",
                "contacts": { "email": "eveline@external.com", "chat": "@eveline", "phone": "+19995551214" }
            },
            {
                "id": "martin", "name": "Martin K", "title": "Community Liaison",
                "contacts": { "email": "martin@example.com", "discord": "@marting", "phone": "+19995551215" }
            },
            {
                "id": "officer", "name": "Officer", "title": "Law Enforcement",
                "contacts": { "email": "officer@fedlaw.com", "phone": "+19995551216" }
            },
            {
                "id": "carol", "name": "Carol M", "title": "Chief Executive Officer",
                "contacts": { "email": "carol@example.com" }
            },
            {
                "id": "omar", "name": "Omar S", "title": "Chief Operating Officer",
                "contacts": { "email": "omar@example.com" }
            },
            {
                "id": "fiona", "name": "Fiona C", "title": "Chief Financial Officer",
                "contacts": { "email": "fiona@example.com" }
            }
        ],
        "teams": [
            {
                "id": "core", "name": "Core Response Team", "members": ["janet", "david"],
                "categories": ["hacker", "protocol", "network"]
            },
            {
                "id": "extended", "name": "Extended Response Team", "kind": "extended",
                "members": ["eveline", "martin", "officer"]
            }
        ],
        "roles": [
            {
                "id": "first-responder", "name": "First responder", "short": "FR",
                "primary": "janet", "backup": "david",
                "duties": ["Open the responders' channel", "Page the core team", "Keep the timeline"]
            },
            { "id": "ceo", "name": "CEO", "primary": "carol" },
            { "id": "coo", "name": "COO", "primary": "omar" },
            { "id": "cfo", "name": "CFO", "primary": "fiona" },
            { "id": "administrators", "name": "Administrators", "primary": "david", "backup": "janet" },
            { "id": "community-liaison", "name": "Community Liaison", "primary": "martin" },
            { "id": "head-of-support", "name": "Head of support", "primary": "martin" }
        ],
        "schedules": [
            {
                "id": "primary", "name": "Primary on-call",
                "rotations": [
                    {
                        "name": "Weekly", "members": ["janet", "david"], "every": "1w",
                        "handoff": "mon 09:00", "start": "2026-01-05"
                    }
                ],
                "overrides": [
                    { "person": "david", "from": "2026-03-02T09:00", "to": "2026-03-09T09:00", "reason": "Janet on leave" }
                ]
            }
        ],
        "escalation_policies": [
            {
                "id": "critical", "name": "Critical ladder", "repeat": 2,
                "levels": [
                    { "after": "0m", "notify": ["schedule:primary"] },
                    { "after": "15m", "notify": ["role:first-responder", "team:core"] },
                    { "after": "30m", "notify": ["role:ceo", "channel:emergency"] }
                ]
            }
        ],
        "scenarios": [
            {
                "id": "ddos", "category": "hacker", "title": "Protocol DDoS",
                "detection": ["Spike in TXs or events"], "severity": "P1"
            },
            {
                "id": "stolen-funds", "category": "hacker", "title": "Stolen User Funds",
                "description": "An attacker drains user funds from the vault.",
                "detection": ["Reports on social media", "detector:treasury-outflow"],
                "severity": "P0", "runbook": "stolen-funds", "tags": ["funds"]
            },
            {
                "id": "gas-spike", "category": "network", "title": "Spike in Gas Funds",
                "detection": ["Spike in Failed TXs"], "severity": "P1",
                "notify": { "extended": "never" }
            },
            {
                "id": "unknown-bug", "category": "protocol", "title": "Unknown Bug",
                "detection": ["Spike in Failed TXs"], "severity": "P2", "runbook": "emergency-upgrade"
            }
        ],
        "runbooks": [
            {
                "id": "stolen-funds", "title": "Stolen user funds",
                "description": "Halt the drain first, then find and fix the exploit.",
                "template": "advisory",
                "steps": [
                    {
                        "id": "pause", "title": "Pause contract", "phase": "containment", "within": "5m",
                        "details": "Use the pauser multisig", "decision": "pause-contract",
                        "owner": "role:first-responder",
                        "command": "cast send $PAUSER 'pause()' --rpc-url $RPC_URL"
                    },
                    {
                        "id": "identify", "title": "Identify exploit", "phase": "investigation", "within": "1h",
                        "details": "Trace the attacker's transactions with the block explorer and Tenderly"
                    },
                    {
                        "id": "patch", "title": "Create/test patch", "phase": "eradication", "within": "4h",
                        "details": "Fork tests against mainnet state"
                    },
                    {
                        "id": "upgrade", "title": "Emergency upgrade", "phase": "eradication",
                        "details": "Through the upgrade timelock's emergency path", "decision": "upgrade-contract"
                    },
                    {
                        "id": "losses", "title": "Quantify losses", "phase": "recovery",
                        "details": "Run scripts/losses.ts against the incident block range"
                    },
                    {
                        "id": "cleanup", "title": "Determine cleanup", "phase": "post-incident",
                        "details": "Compensation, reimbursement or recovery from the attacker"
                    }
                ]
            },
            {
                "id": "emergency-upgrade", "title": "Emergency upgrade",
                "steps": [
                    {
                        "id": "reproduce", "title": "Reproduce the bug", "phase": "investigation", "within": "2h",
                        "details": "Fork mainnet at the first failing block"
                    },
                    {
                        "id": "upgrade", "title": "Upgrade contract", "phase": "eradication",
                        "decision": "upgrade-contract",
                        "command": "forge script script/Upgrade.s.sol \\\n  --rpc-url $RPC_URL --broadcast"
                    }
                ]
            }
        ],
        "decisions": [
            {
                "id": "pause-contract", "title": "Pause contract",
                "required": ["role:ceo", "role:coo"], "additional": ["role:administrators"], "signed": true
            },
            {
                "id": "upgrade-contract", "title": "Upgrade contract",
                "required": ["team:core"], "additional": ["role:administrators"], "quorum": 1
            },
            { "id": "emergency-fund", "title": "Access emergency fund", "required": ["role:ceo", "role:cfo"] },
            { "id": "law-enforcement", "title": "Notify law enforcement", "required": ["role:ceo", "role:coo"] }
        ],
        "communications": [
            {
                "audience": "Responders", "timing": "Open until completion",
                "channels": ["responders"], "owner": "role:first-responder"
            },
            { "audience": "Internal updates", "every": "hourly", "channels": ["emergency"], "owner": "team:core" },
            {
                "audience": "Users", "every": "4h", "channels": ["twitter", "announcements", "community"],
                "owner": "role:community-liaison", "template": "advisory"
            },
            { "audience": "Internal post-mortem", "due": "resolved+2d", "channels": ["operations"], "owner": "team:core" },
            {
                "audience": "Public post-mortem", "due": "resolved+5d", "channels": ["blog"],
                "owner": "role:head-of-support", "when": "severity:P0"
            }
        ],
        "deadlines": [
            {
                "id": "gdpr", "title": "GDPR breach notification", "when": "tag:personal-data",
                "due": "detected+72h", "authority": "Local DPA",
                "content": "Nature, impact, measures, contact"
            }
        ],
        "channels": {
            "responders": { "type": "telegram", "token_env": "TG_TOKEN", "chat_id": "-1001234" },
            "emergency": { "type": "slack", "webhook_url_env": "SLACK_EMERGENCY_URL", "channel": "#emergency" },
            "operations": { "type": "slack", "webhook_url_env": "SLACK_OPERATIONS_URL", "channel": "#operations" },
            "announcements": { "type": "telegram", "token_env": "TG_TOKEN", "chat_id": "@example_announcements" },
            "community": { "type": "discord", "webhook_url_env": "DISCORD_URL" },
            "twitter": { "type": "manual", "description": "Twitter" },
            "blog": { "type": "manual", "description": "Company blog post" },
            "status": { "type": "status-page" }
        },
        "templates": [
            {
                "id": "advisory", "title": "Security advisory", "kind": "security-advisory",
                "subject": "Security Advisory - {{ incident.title }}",
                "body": "We are investigating {{ incident.title }}.\n\nImpact: [Description]\nAction required: [User action]"
            }
        ],
        "status_page": {
            "title": "Example Protocol Status",
            "components": [
                { "id": "contracts", "name": "Contracts", "description": "Vault and router on mainnet" },
                { "id": "api", "name": "API" }
            ]
        },
        "drills": {
            "every": "6 months", "duration": "2h", "moderator": "role:first-responder",
            "scenarios": ["stolen-funds", "ddos"],
            "criteria": ["Response time against the SLA", "Communication clarity"],
            "history": [ { "date": "2026-01-15", "scenarios": ["stolen-funds"], "notes": "Pause took 9 minutes" } ]
        },
        "training": { "every": "quarterly", "duration": "2h", "topics": ["Incident classification", "Runbook walkthroughs"] },
        "targets": { "mttd": "5m", "repeat_rate_percent": 10.0, "runbook_coverage_percent": 90.0 },
        "document": {
            "owner": "Security Team", "review_every": "quarterly", "next_review": "2026-03-01",
            "revisions": [ { "version": "1.0", "date": "2025-12", "author": "Security Team", "changes": "Initial release" } ]
        }
    }))
}

/// Only what a plan cannot do without: a version and an organization.
fn empty_plan() -> Plan {
    plan(json!({ "version": 1, "organization": { "name": "Bare Org" } }))
}

#[test]
fn startup_plan_markdown() {
    insta::assert_snapshot!(render::markdown(&startup_plan()));
}

#[test]
fn startup_plan_html() {
    insta::assert_snapshot!(render::html(&startup_plan()));
}

#[test]
fn empty_plan_markdown() {
    insta::assert_snapshot!(render::markdown(&empty_plan()));
}

#[test]
fn the_document_keeps_the_order_of_the_source_documents() {
    let markdown = render::markdown(&startup_plan());
    let sections = [
        "# Example Protocol Incident Response Plan",
        "## Contents",
        "## Quick reference",
        "## Severity levels",
        "## Categories",
        "## Qualification matrix",
        "## Potential issues",
        "## Response procedures",
        "## Escalation process",
        "## Core response team",
        "## Extended response team",
        "## Other contacts",
        "## Roles and responsibilities",
        "## On-call schedules",
        "## Communications process",
        "## Decision process",
        "## Deadlines",
        "## Notification channels",
        "## Message templates",
        "## Status page",
        "## Live exercises",
        "## Training",
        "## Targets",
        "## Document control",
    ];
    let mut from = 0;
    for section in sections {
        let at = markdown[from..]
            .find(&format!("{section}\n"))
            .unwrap_or_else(|| panic!("{section} missing or out of order"));
        from += at + section.len();
    }
}

#[test]
fn seed_tables_are_reproduced_row_for_row() {
    let markdown = render::markdown(&startup_plan());
    for row in [
        "| Hacker Attack | Protocol DDoS | Spike in TXs or events | P1 - High | No runbook |",
        "| Protocol Problem | Unknown Bug | Spike in Failed TXs | P2 - Medium | Emergency upgrade |",
        "| Hacker Attack | Upon detection | Upon validation |",
        "| Network Problem | Upon validation | Upon resolution |",
        "| Janet R | Hacker Attack, Protocol Problem, Network Problem | [janet@example.com](mailto:janet@example.com) | @janet | +19995551212 |",
        "| Officer | Law Enforcement | [officer@fedlaw.com](mailto:officer@fedlaw.com) |  | +19995551216 |",
        "| Responders | Open until completion | Telegram responders | First responder |",
        "| Internal updates | Hourly | Slack #emergency | Core Response Team |",
        "| Users | Every 4 hours | Twitter, Telegram announcements, Discord community | Community Liaison |",
        "| Internal post-mortem | Resolution + 2 days | Slack #operations | Core Response Team |",
        "| Pause contract | CEO, COO | Administrators | 2 | Yes |",
        "| Access emergency fund | CEO, CFO |  | 2 | No |",
    ] {
        assert!(markdown.contains(row), "missing row {row}\n\n{markdown}");
    }
}

#[test]
fn escalation_ladders_name_the_people_behind_each_reference() {
    let markdown = render::markdown(&startup_plan());
    assert!(markdown.contains(
        "2. After 15 minutes: notify role First responder (Janet R, backup David L), team Core \
         Response Team (Janet R, David L)"
    ));
    assert!(markdown.contains("1. Immediately: notify whoever is on call in Primary on-call"));
    assert!(markdown.contains("the whole ladder runs 2 more times"));
}

#[test]
fn secrets_are_named_never_valued() {
    let markdown = render::markdown(&startup_plan());
    assert!(markdown.contains("`TG_TOKEN`"));
    assert!(markdown.contains("`SLACK_EMERGENCY_URL`"));
}

#[test]
fn raw_html_in_plan_text_is_escaped_in_both_formats() {
    let hostile = plan(json!({
        "version": 1,
        "organization": {
            "name": "<script>alert('org')</script>",
            "summary": "<script>alert(1)</script>\n\n<div onclick=\"steal()\">click</div>",
            "status_page_url": "javascript:alert(1)"
        },
        "people": [ { "id": "x", "name": "<img src=x onerror=alert(2)>",
                      "contacts": { "email": "a@b.example\"><script>alert(3)</script>" } } ],
        "scenarios": [ { "id": "s", "category": "c", "title": "<script>alert(4)</script>", "severity": "P0" } ],
        "templates": [ { "id": "t", "title": "T", "kind": "other", "body": "</pre><script>alert(5)</script>" } ]
    }));
    let html = render::html(&hostile);
    assert!(!html.contains("<script"), "{html}");
    assert!(!html.contains("<img"), "{html}");
    assert!(!html.contains("<div"), "{html}");
    assert!(!html.contains("href=\"javascript"), "{html}");
    assert!(html.contains("<strong>Status page</strong>: javascript:alert(1)"));
    assert!(
        html.contains("&lt;script&gt;alert(4)&lt;/script&gt;"),
        "{html}"
    );
    assert!(html.contains(
        "<title>&lt;script&gt;alert(&#39;org&#39;)&lt;/script&gt; Incident Response Plan</title>"
    ));
    let markdown = render::markdown(&hostile);
    // Outside code blocks (where text is shown verbatim) every angle bracket is escaped, so
    // no Markdown renderer sees a tag.
    let mut in_code = false;
    for line in markdown.lines() {
        if line.starts_with("```") {
            in_code = !in_code;
        } else if !in_code {
            let bare = line
                .match_indices('<')
                .any(|(at, _)| !line[..at].ends_with('\\'));
            assert!(!bare, "{line}");
        }
    }
    assert!(markdown.contains("```text\n</pre><script>alert(5)</script>\n```"));
    assert!(markdown.contains("\\<script>alert(4)\\</script>"));
}

#[test]
fn pipes_and_line_breaks_do_not_break_tables() {
    let tricky = plan(json!({
        "version": 1,
        "organization": { "name": "Pipes" },
        "severities": [ { "id": "P0", "name": "A | B", "urgent": true, "important": true, "ack_within": "15m" } ],
        "scenarios": [ {
            "id": "s", "category": "c", "title": "first line\nsecond | line \\| end",
            "detection": ["a|b", "ends with a backslash \\"], "severity": "P0"
        } ]
    }));
    let html = render::html(&tricky);
    assert!(
        html.contains("<td>first line second | line \\| end</td>"),
        "{html}"
    );
    assert!(
        html.contains("<td>a|b; ends with a backslash \\</td>"),
        "{html}"
    );
    assert!(html.contains("<td>P0 - A | B</td>"), "{html}");
    // Every row of the potential-issues table has exactly its five cells.
    let issues = html
        .split("<h2 id=\"potential-issues\">")
        .nth(1)
        .and_then(|rest| rest.split("</table>").next())
        .expect("potential issues table");
    for row in issues.split("<tr>").skip(1) {
        let cells = row.matches("<td").count() + row.matches("<th").count();
        assert_eq!(cells, 5, "{row}");
    }
}

#[test]
fn empty_plan_still_shows_the_mandatory_sections() {
    let markdown = render::markdown(&empty_plan());
    for line in [
        "# Bare Org Incident Response Plan",
        "## Severity levels",
        "No severity levels are defined.",
        "## Potential issues",
        "No potential issues are defined.",
        "## Response procedures",
        "No response procedures are defined.",
    ] {
        assert!(markdown.contains(line), "missing {line}\n\n{markdown}");
    }
    for absent in [
        "## Quick reference",
        "## Decision process",
        "## Live exercises",
    ] {
        assert!(!markdown.contains(absent), "{absent} should be left out");
    }
}

#[test]
fn references_that_point_nowhere_show_the_raw_id() {
    let broken = plan(json!({
        "version": 1,
        "organization": { "name": "Broken" },
        "teams": [ { "id": "core", "name": "Core", "members": ["ghost"] } ],
        "roles": [ { "id": "ic", "name": "Incident Commander", "primary": "nobody", "backup": "nobody-else" } ],
        "escalation_policies": [ { "id": "p", "levels": [ { "after": "5m", "notify": ["role:missing", "schedule:gone"] } ] } ],
        "scenarios": [ { "id": "s", "category": "no-category", "title": "S", "severity": "P9", "runbook": "no-runbook" } ],
        "runbooks": [ { "id": "r", "title": "R", "steps": [ { "id": "a", "title": "A", "phase": "containment", "decision": "no-decision" } ] } ],
        "decisions": [ { "id": "d", "title": "D", "required": ["person:nobody", "team:none"] } ],
        "communications": [ { "audience": "Users", "channels": ["nowhere"], "owner": "role:none", "when": "severity:P9" } ]
    }));
    let markdown = render::markdown(&broken);
    for text in [
        "| ghost |",
        "**Primary**: nobody",
        "**Backup**: nobody-else",
        "After 5 minutes: notify role missing, whoever is on call in gone",
        "| no-category | S |  | P9 | no-runbook |",
        "| no-decision |",
        "| D | nobody, none |",
        "| Users (P9 incidents only) |  | nowhere | none |",
    ] {
        assert!(markdown.contains(text), "missing {text}\n\n{markdown}");
    }
}

#[test]
fn html_is_a_standalone_page_with_anchored_contents() {
    let html = render::html(&startup_plan());
    assert!(html.starts_with("<!doctype html>\n<html lang=\"en\">"));
    assert!(html.contains("<meta charset=\"utf-8\">"));
    assert!(html.contains("<meta name=\"viewport\""));
    assert!(html.contains("<title>Example Protocol Incident Response Plan</title>"));
    assert!(html.contains("@media print"));
    assert!(html.contains("border: 1px solid"));
    // Every link of the contents lands on a heading.
    let contents = html
        .split("<h2 id=\"contents\">Contents</h2>")
        .nth(1)
        .and_then(|rest| rest.split("</ul>").next())
        .expect("contents list");
    let mut links = 0;
    for link in contents.split("href=\"#").skip(1) {
        let anchor = link.split('"').next().unwrap_or_default();
        assert!(html.contains(&format!("<h2 id=\"{anchor}\">")), "{anchor}");
        links += 1;
    }
    assert_eq!(links, 22);
}

/// The tags the renderer itself writes; anything else on the page came from plan text.
const RENDERED_TAGS: [&str; 25] = [
    "!doctype", "html", "head", "meta", "title", "style", "body", "main", "h1", "h2", "h3", "p",
    "ul", "ol", "li", "table", "thead", "tbody", "tr", "th", "td", "a", "strong", "code", "pre",
];

/// Text of any printable characters, or text made mostly of tags.
fn hostile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ -~\n]{0,24}",
        "(<[a-z]{1,8}( on[a-z]{1,5}=x)?>|</[a-z]{1,8}>|[ -~\n]{0,4}){0,6}",
    ]
}

proptest! {
    #[test]
    fn no_plan_text_becomes_markup(
        names in proptest::collection::vec(hostile_text(), 4),
    ) {
        let hostile = plan(json!({
            "version": 1,
            "organization": { "name": names[0], "summary": names[1] },
            "people": [ { "id": "p", "name": names[2], "contacts": { "email": names[3] } } ],
            "teams": [ { "id": "t", "name": names[3], "members": ["p"] } ],
            "scenarios": [ { "id": "s", "category": "c", "title": names[1], "detection": [names[2]], "severity": "P0" } ],
            "decisions": [ { "id": "d", "title": names[0], "required": ["person:p"] } ]
        }));
        let html = render::html(&hostile);
        // Every tag on the page is one the renderer itself writes.
        for tag in html.split('<').skip(1) {
            let name: String = tag
                .trim_start_matches('/')
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '!')
                .collect();
            prop_assert!(RENDERED_TAGS.contains(&name.as_str()), "unexpected tag <{}", tag);
        }
        prop_assert!(!html.contains("href=\"javascript"));
    }
}
