//! What follows the first page, through the CLI against a real server: messages from the plan's
//! templates, deadlines, action items and the post-mortem, on the ZKP protocol's plan (templates,
//! communications table, a GDPR deadline on `tag:personal-data`).

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::serve::{Server, ok, sqlite_database, stderr, stdout};

fn zkp_plan() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/zkp-protocol")
}

/// The plan's channels name their secrets in the environment: local addresses nothing listens
/// on, so deliveries fail here and nothing leaves the machine.
const CHANNEL_SECRETS: [(&str, &str); 4] = [
    (
        "SLACK_INCIDENT_WEBHOOK",
        "http://127.0.0.1:9/slack/incident",
    ),
    ("SLACK_TEAM_LEADS_WEBHOOK", "http://127.0.0.1:9/slack/leads"),
    ("PAGERDUTY_ROUTING_KEY", "not-a-real-routing-key"),
    (
        "MUSTER_PAGERDUTY_EVENTS_URL",
        "http://127.0.0.1:9/v2/enqueue",
    ),
];

const HOUR: i64 = 3_600_000;

/// A stored time as `muster incident show` prints it.
fn shown(at: i64) -> String {
    jiff::Timestamp::from_millisecond(at)
        .expect("a time")
        .strftime("%Y-%m-%d %H:%M:%SZ")
        .to_string()
}

/// The kinds of the incident's events, leaving out deliveries (they land whenever they happen).
fn kinds(server: &Server, token: &str, id: &str) -> Vec<String> {
    server.json(token, &["timeline", id])["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|event| event["kind"]["type"].as_str().expect("a kind").to_owned())
        .filter(|kind| kind != "notified")
        .collect()
}

#[test]
fn messages_deadlines_action_items_and_the_postmortem_are_worked_from_the_cli() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let server =
        Server::start_with_env(&sqlite_database(&dir), &zkp_plan(), false, &CHANNEL_SECRETS);
    let alice = server.token("alice", "responder", Some("alice"));
    let viewer = server.token("dashboard", "viewer", None);

    let title = "PID to address linkage exposed in logs";
    let declared = server.json(
        &alice,
        &[
            "declare",
            "--title",
            title,
            "--severity",
            "P0",
            "--tag",
            "personal-data",
        ],
    );
    let id = declared["incident"]["id"]
        .as_str()
        .expect("an id")
        .to_owned();
    let detected = declared["incident"]["detected_at"]
        .as_i64()
        .expect("a detection time");

    // A preview renders the plan's template from the incident and records nothing.
    let preview = ok(&server.incident(
        &viewer,
        &[
            "message",
            &id,
            "--template",
            "internal-declaration",
            "--preview",
        ],
    ));
    assert!(
        preview.contains(&format!("**Incident ID**: {id}")),
        "{preview}"
    );
    assert!(preview.contains(title), "{preview}");
    assert!(!kinds(&server, &alice, &id).contains(&"message_sent".to_owned()));

    // Sending it records the message, on the audience's channel.
    let sent = ok(&server.incident(
        &alice,
        &[
            "message",
            &id,
            "--template",
            "internal-declaration",
            "--audience",
            "Internal: incident declared",
        ],
    ));
    assert!(
        sent.contains("Message to Internal: incident declared via slack-incident"),
        "{sent}"
    );
    let timeline = server.json(&viewer, &["timeline", &id]);
    let message = timeline["events"]
        .as_array()
        .expect("events")
        .iter()
        .find(|event| event["kind"]["type"] == "message_sent")
        .unwrap_or_else(|| panic!("no message_sent event: {timeline:#}"));
    assert_eq!(message["kind"]["template"], "internal-declaration");
    assert_eq!(message["kind"]["channels"][0], "slack-incident");
    assert_eq!(message["actor"], "alice");
    let text = message["kind"]["body"].as_str().expect("a body");
    assert!(text.contains(&id) && text.contains(title), "{text}");

    // A body file that is not there is a local error naming it; nothing is sent.
    let missing = dir.path().join("no-such-update.md");
    let unread = server.incident(
        &alice,
        &[
            "message",
            &id,
            "--audience",
            "Internal: real-time updates",
            "--body-file",
            missing.to_str().expect("a UTF-8 path"),
        ],
    );
    assert_eq!(unread.status.code(), Some(2), "{}", stderr(&unread));
    assert!(
        stderr(&unread).contains(&missing.display().to_string()),
        "{}",
        stderr(&unread)
    );

    // `show` lists what is owed: the 30-minute internal updates and the GDPR notification,
    // due 72 hours after detection.
    let show = ok(&server.incident(&viewer, &["show", &id]));
    assert!(show.contains("\nCommunications\n"), "{show}");
    assert!(show.contains("Internal: real-time updates"), "{show}");
    let gdpr = show
        .lines()
        .find(|line| line.contains("gdpr-breach-notification"))
        .unwrap_or_else(|| panic!("no GDPR deadline in:\n{show}"));
    assert!(gdpr.contains("GDPR Breach Notification"), "{gdpr}");
    assert!(gdpr.contains(&shown(detected + 72 * HOUR)), "{gdpr}");
    assert!(gdpr.trim_end().ends_with("open"), "{gdpr}");
    let deadlines = server.json(&viewer, &["show", &id])["deadlines"].clone();
    assert_eq!(deadlines[0]["key"], "gdpr-breach-notification");
    assert_eq!(deadlines[0]["due_at"], detected + 72 * HOUR);

    ok(&server.incident(
        &alice,
        &[
            "deadline-met",
            &id,
            "gdpr-breach-notification",
            "--note",
            "Reported to the DPA",
        ],
    ));
    let show = ok(&server.incident(&viewer, &["show", &id]));
    let gdpr = show
        .lines()
        .find(|line| line.contains("gdpr-breach-notification"))
        .expect("the GDPR deadline");
    assert!(gdpr.contains("met "), "{gdpr}");

    // An action item for someone the plan does not know is refused with the server's reason.
    let before = kinds(&server, &alice, &id);
    let refused = server.incident(
        &alice,
        &["action", &id, "--title", "Scrub PIDs", "--owner", "nobody"],
    );
    assert_eq!(refused.status.code(), Some(1), "{}", stdout(&refused));
    assert!(
        stderr(&refused).contains("the plan has no person 'nobody'"),
        "{}",
        stderr(&refused)
    );
    assert_eq!(kinds(&server, &alice, &id), before, "nothing was recorded");

    ok(&server.incident(
        &alice,
        &["root-cause", &id, "pid-logging", "Debug logging kept PIDs"],
    ));
    let due_day = jiff::Timestamp::from_millisecond(detected + 10 * 24 * HOUR)
        .expect("a time")
        .strftime("%Y-%m-%d")
        .to_string();
    let added = ok(&server.incident(
        &alice,
        &[
            "action",
            &id,
            "--title",
            "Scrub PIDs from the logs",
            "--owner",
            "bob",
            "--due",
            &due_day,
        ],
    ));
    assert!(
        added.contains("Action item #1 (immediate) for bob: Scrub PIDs from the logs"),
        "{added}"
    );

    // The plan's zone is UTC: the item is due at the end of that day there.
    let listed = ok(&server.cli(&viewer, &["action-items"]));
    let row = listed
        .lines()
        .find(|line| line.contains("Scrub PIDs from the logs"))
        .unwrap_or_else(|| panic!("the item is not listed:\n{listed}"));
    for cell in [
        id.as_str(),
        "bob",
        "immediate",
        &format!("{due_day} 23:59 UTC"),
        "open",
    ] {
        assert!(row.contains(cell), "{cell:?} missing from {row:?}");
    }
    assert!(!row.contains("OVERDUE"), "{row}");
    let items = server.cli_json(&viewer, &["action-items"]);
    assert_eq!(items["items"][0]["item"], 1);
    assert_eq!(items["items"][0]["root_cause"], "pid-logging");
    let end_of_day = items["items"][0]["due_at"].as_i64().expect("a due time");
    assert_eq!(shown(end_of_day), format!("{due_day} 23:59:59Z"));
    assert_eq!(end_of_day % 1000, 999, "the day's last millisecond");

    // A fresh item is not overdue.
    let overdue = ok(&server.cli(&viewer, &["action-items", "--overdue"]));
    assert_eq!(overdue, "no action items\n");
    let overdue = server.cli_json(&viewer, &["action-items", "--overdue"]);
    assert_eq!(overdue["items"], Value::Array(Vec::new()));

    ok(&server.incident(&alice, &["action-update", &id, "1", "--status", "done"]));
    let open = server.cli_json(&viewer, &["action-items", "--open"]);
    assert_eq!(open["items"], Value::Array(Vec::new()));

    // The draft post-mortem carries the timeline; saved and published, it is what is shown.
    let draft = ok(&server.incident(&viewer, &["postmortem", &id, "--draft"]));
    assert!(draft.starts_with("# "), "{draft}");
    assert!(
        draft
            .lines()
            .any(|line| line.starts_with('|') && line.contains(&format!("Declared P0: {title}"))),
        "no timeline row of the declaration:\n{draft}"
    );
    let file = dir.path().join("postmortem.md");
    let edited = draft.replace("[Key takeaways]", "Keep PIDs out of debug logs.");
    std::fs::write(&file, &edited).expect("the post-mortem is written");
    let file = file.to_str().expect("a UTF-8 path");
    let saved = ok(&server.incident(
        &alice,
        &["postmortem", &id, "--save", file, "--note", "first version"],
    ));
    assert!(
        saved.contains("Post-mortem version 1 saved: first version"),
        "{saved}"
    );
    let published = ok(&server.incident(&alice, &["postmortem", &id, "--publish"]));
    assert!(
        published.contains("Post-mortem version 1 published internally"),
        "{published}"
    );
    let current = server.json(&viewer, &["postmortem", &id]);
    assert_eq!(current["version"], 1);
    assert_eq!(current["published_version"], 1);
    assert_eq!(current["public"], false);
    assert_eq!(current["markdown"], edited.as_str());
    let printed = ok(&server.incident(&viewer, &["postmortem", &id]));
    assert_eq!(printed, edited);

    // A viewer reads but cannot save.
    let denied = server.incident(&viewer, &["postmortem", &id, "--save", file]);
    assert_eq!(denied.status.code(), Some(1));
    assert!(
        stderr(&denied).contains("not allowed"),
        "{}",
        stderr(&denied)
    );
}
