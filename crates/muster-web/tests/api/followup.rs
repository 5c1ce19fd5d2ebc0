//! What follows the first page, in the web UI, over real HTTP on a plan with a communications
//! table, deadlines and a status page (`fixtures/comms.yaml`) and a hand-set clock: the incident
//! page's communications, deadlines, action items and post-mortem state, the message preview and
//! send, the post-mortem editor and its publication on the status page, and the action items
//! across incidents.

use std::path::Path;
use std::sync::Arc;

use muster_engine::{EngineOptions, ManualClock};
use reqwest::StatusCode;
use reqwest::header::CONTENT_SECURITY_POLICY;
use serde_json::{Value, json};

use crate::{Page, Server};

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;
const HOSTILE: &str = "<script>alert('pwned')</script>";

fn millis(time: &str) -> i64 {
    time.parse::<jiff::Timestamp>().unwrap().as_millisecond()
}

/// A server on the follow-up plan (UTC), its clock at 2026-03-02 10:00 UTC.
async fn start() -> (Server, Arc<ManualClock>) {
    let plan = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/api/fixtures/comms.yaml");
    let clock = Arc::new(ManualClock::new(millis("2026-03-02T10:00:00Z")));
    let server = Server::start_with_plan(&plan, clock.clone(), EngineOptions::default()).await;
    (server, clock)
}

/// Declares a P0 with `tags`; returns its id.
async fn declare(server: &Server, title: &str, tags: &[&str]) -> String {
    let answer = server
        .post(
            "/api/incidents",
            &server.responder,
            &json!({"title": title, "severity": "P0", "tags": tags}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{answer:?}");
    answer.body["incident"]["id"].as_str().unwrap().to_owned()
}

/// Runs an incident command through the API that must succeed.
async fn must(server: &Server, id: &str, command: &Value) {
    let answer = server.command(id, command).await;
    assert_eq!(answer.status, StatusCode::OK, "{command}: {answer:?}");
}

async fn incident(server: &Server, id: &str) -> Value {
    let answer = server
        .get(&format!("/api/incidents/{id}"), &server.viewer)
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    answer.body
}

/// The incident's events, as the API's timeline gives them.
async fn events(server: &Server, id: &str) -> Vec<Value> {
    let answer = server
        .get(&format!("/api/incidents/{id}/timeline"), &server.viewer)
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    answer.body["events"].as_array().unwrap().clone()
}

/// The part of `body` from the element with id `id` to the end of that list item, row or
/// section.
#[track_caller]
fn element<'a>(body: &'a str, id: &str, end: &str) -> &'a str {
    let start = body
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no element {id} in {body}"));
    let stop = body[start..].find(end).map_or(body.len(), |at| start + at);
    &body[start..stop]
}

#[track_caller]
fn assert_redirect(page: &Page, to: &str) {
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{page:?}");
    assert_eq!(page.location(), to, "{page:?}");
}

#[tokio::test]
async fn the_incident_page_shows_what_is_owed_and_previews_and_sends_messages() {
    let (server, clock) = start().await;
    let id = declare(&server, "Customer records exposed", &["personal-data"]).await;
    let page = server
        .page(&format!("/incidents/{id}"), Some(&server.responder))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let body = &page.body;

    // Both audiences of the table for a P0, with their owners and channels.
    let internal = element(body, "audience-internal-updates", "</li>");
    assert!(internal.contains("Every 30m"), "{internal}");
    assert!(internal.contains("due in 30m"), "{internal}");
    assert!(
        internal.contains("Incident commander: Alice Example"),
        "{internal}"
    );
    assert!(internal.contains("phone-tree (post by hand)"), "{internal}");
    let users = element(body, "audience-users", "</li>");
    assert!(users.contains("due in 2h 00m"), "{users}");
    assert!(
        users.contains("Communications lead: Bob Example"),
        "{users}"
    );
    assert!(
        users.contains("status-page (use the status page form)"),
        "{users}"
    );

    // The GDPR clock of an incident tagged personal-data, due 72 hours after detection.
    let gdpr = element(body, "deadline-gdpr", "</li>");
    assert!(
        gdpr.contains("Personal-data breach notification (GDPR)"),
        "{gdpr}"
    );
    assert!(gdpr.contains("detected+3d"), "{gdpr}");
    assert!(
        gdpr.contains("2026-03-05 10:00 UTC (due in 3d 0h)"),
        "{gdpr}"
    );
    assert!(gdpr.contains("Lead supervisory authority"), "{gdpr}");
    assert!(gdpr.contains("Legal liaison: Carol Example"), "{gdpr}");
    assert!(gdpr.contains("running"), "{gdpr}");
    // The post-mortem is due two days after a resolution that has not come yet.
    let due = element(body, "deadline-message-post-mortem", "</li>");
    assert!(due.contains("starts at resolution"), "{due}");
    assert!(due.contains("not started yet"), "{due}");
    assert!(due.contains("met by publishing the post-mortem"), "{due}");

    // The message form offers the audiences owed something and the plan's templates.
    let form = element(body, "message", "</form>");
    for option in [
        "<option value=\"\">— channels only —</option>",
        "<option value=\"Internal updates\" selected>",
        "<option value=\"Users\" >",
        "<option value=\"Post-mortem\" >",
        "<option value=\"internal-update\" selected>",
    ] {
        assert!(form.contains(option), "{option} in {form}");
    }
    assert!(!form.contains("name=\"channels\" value=\"status-page\""));
    assert!(form.contains("The on-call phone tree"), "{form}");
    assert!(form.contains("use the status page form"), "{form}");
    assert!(!body.contains("id=\"alarms\""), "nothing is late yet");

    // A preview renders the template and sends nothing.
    let before = server.timeline_len(&id).await;
    let path = format!("/incidents/{id}/message");
    let preview = server
        .submit(
            &path,
            &server.responder,
            &[
                ("audience", "Internal updates"),
                ("template", "internal-update"),
                ("subject", ""),
                ("body", ""),
                ("preview", "1"),
            ],
        )
        .await;
    assert_eq!(preview.status, StatusCode::OK, "{preview:?}");
    let form = element(&preview.body, "message", "</form>");
    assert!(
        form.contains("value=\"[P0] Customer records exposed\""),
        "{form}"
    );
    assert!(form.contains(&format!("{id} is Triage")), "{form}");
    assert!(form.contains("IC: "), "{form}");
    assert!(preview.body.contains("id=\"message-preview\""));
    assert_eq!(
        server.timeline_len(&id).await,
        before,
        "a preview records nothing"
    );

    // An unknown template: the error in the form, what was typed kept, nothing recorded.
    let unknown = server
        .submit(
            &path,
            &server.responder,
            &[
                ("audience", "Internal updates"),
                ("template", "nope"),
                ("subject", "Typed subject"),
                ("body", "Typed body"),
                ("preview", "1"),
            ],
        )
        .await;
    assert_eq!(
        unknown.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{unknown:?}"
    );
    let problem = element(&unknown.body, "message-problem", "</p>");
    assert!(problem.contains("no template"), "{problem}");
    assert!(problem.contains("nope"), "{problem}");
    let form = element(&unknown.body, "message", "</form>");
    assert!(form.contains("value=\"Typed subject\""), "{form}");
    assert!(form.contains(">Typed body</textarea>"), "{form}");
    assert_eq!(server.timeline_len(&id).await, before);

    // Sending to the status page is refused in the form, with what was typed kept.
    let status_page = server
        .submit(
            &path,
            &server.responder,
            &[
                ("channels", "status-page"),
                ("body", "We are looking into it"),
            ],
        )
        .await;
    assert_eq!(status_page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        element(&status_page.body, "message-problem", "</p>").contains("status page"),
        "{}",
        status_page.body
    );
    assert!(
        status_page
            .body
            .contains(">We are looking into it</textarea>")
    );
    assert_eq!(server.timeline_len(&id).await, before);

    // Sending records the edited text.
    clock.advance(10 * MINUTE);
    let sent = server
        .submit(
            &path,
            &server.responder,
            &[
                ("audience", "Internal updates"),
                ("template", "internal-update"),
                ("subject", "Edited subject"),
                ("body", "Edited body: <b>bold</b>"),
            ],
        )
        .await;
    assert_redirect(&sent, &format!("/incidents/{id}#communications"));
    let events = events(&server, &id).await;
    assert_eq!(events.len(), before + 1);
    let kind = &events.last().unwrap()["kind"];
    assert_eq!(kind["type"], "message_sent", "{kind}");
    assert_eq!(kind["audience"], "Internal updates");
    assert_eq!(kind["template"], "internal-update");
    assert_eq!(kind["channels"], json!(["phone-tree"]));
    assert_eq!(kind["subject"], "Edited subject");
    assert_eq!(kind["body"], "Edited body: <b>bold</b>");
    let page = server
        .page(&format!("/incidents/{id}"), Some(&server.responder))
        .await;
    let internal = element(&page.body, "audience-internal-updates", "</li>");
    assert!(
        internal.contains("due in 30m"),
        "the clock restarted: {internal}"
    );
    assert!(
        internal.contains("2026-03-02 10:10 UTC (0s ago)"),
        "{internal}"
    );
    assert!(
        !page.body.contains("<b>bold</b>"),
        "the timeline escapes it"
    );

    // Two hours on, the users' update is overdue: highlighted, and flagged at a glance.
    clock.advance(2 * HOUR);
    let page = server
        .page(&format!("/incidents/{id}"), Some(&server.viewer))
        .await;
    let users = element(&page.body, "audience-users", "</li>");
    assert!(users.contains("class=\"overdue\""), "{users}");
    assert!(users.contains("overdue by 10m"), "{users}");
    let alarms = element(&page.body, "alarms", "</dd>");
    assert!(alarms.contains("badge alarm"), "{alarms}");
    assert!(alarms.contains("Update overdue: Users"), "{alarms}");

    // Marking the GDPR notification met.
    let met = server
        .submit(
            &format!("/incidents/{id}/deadline"),
            &server.responder,
            &[("deadline", "gdpr"), ("note", "Reference DPA-42")],
        )
        .await;
    assert_redirect(&met, &format!("/incidents/{id}#deadlines"));
    assert!(incident(&server, &id).await["deadlines_met"]["gdpr"].is_i64());
    let page = server
        .page(&format!("/incidents/{id}"), Some(&server.responder))
        .await;
    let gdpr = element(&page.body, "deadline-gdpr", "</li>");
    assert!(gdpr.contains("met 2026-03-02 12:10 UTC"), "{gdpr}");
    assert!(!gdpr.contains("Mark met"), "{gdpr}");
    // Twice is refused with the rule's message.
    let again = server
        .submit(
            &format!("/incidents/{id}/deadline"),
            &server.responder,
            &[("deadline", "gdpr")],
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{again:?}");
    assert!(again.body.contains("already met"), "{}", again.body);

    // Three days on, the met GDPR notification is not flagged; an unmet one would be.
    clock.advance(3 * DAY);
    let page = server
        .page(&format!("/incidents/{id}"), Some(&server.responder))
        .await;
    let alarms = element(&page.body, "alarms", "</dd>");
    assert!(!alarms.contains("Deadline missed"), "{alarms}");
    let other = declare(&server, "Second exposure", &["personal-data"]).await;
    clock.advance(3 * DAY + MINUTE);
    let page = server
        .page(&format!("/incidents/{other}"), Some(&server.responder))
        .await;
    let alarms = element(&page.body, "alarms", "</dd>");
    assert!(
        alarms.contains("Deadline missed: Personal-data breach notification (GDPR)"),
        "{alarms}"
    );
    assert!(
        element(&page.body, "deadline-gdpr", "</li>").contains("class=\"overdue\""),
        "{}",
        page.body
    );
    server.stop().await;
}

#[tokio::test]
async fn action_items_and_the_root_cause_are_kept_from_the_page() {
    let (server, _clock) = start().await;
    let id = declare(&server, "Oracle lag", &[]).await;
    let root = server
        .submit(
            &format!("/incidents/{id}/root-cause"),
            &server.responder,
            &[
                ("tag", "oracle-staleness"),
                ("text", "The price feed stalled for 20 minutes."),
            ],
        )
        .await;
    assert_redirect(&root, &format!("/incidents/{id}#follow-up"));

    let add = format!("/incidents/{id}/action-item");
    let added = server
        .submit(
            &add,
            &server.responder,
            &[
                ("title", "Alert on oracle staleness"),
                ("owner", "bob"),
                ("horizon", "immediate"),
                ("due", "2026-03-06"),
            ],
        )
        .await;
    assert_redirect(&added, &format!("/incidents/{id}#follow-up"));
    let item = &incident(&server, &id).await["action_items"]["1"];
    assert_eq!(item["title"], "Alert on oracle staleness", "{item}");
    assert_eq!(item["owner"], "bob");
    assert_eq!(item["horizon"], "immediate");
    assert_eq!(item["root_cause"], "oracle-staleness");
    // Due by the end of that day in the plan's zone.
    assert_eq!(item["due_at"], millis("2026-03-07T00:00:00Z") - 1);

    // An unknown owner is refused with the rule's message; nothing is recorded.
    let before = server.timeline_len(&id).await;
    let unknown = server
        .submit(
            &add,
            &server.responder,
            &[
                ("title", "Rotate the keys"),
                ("owner", "zed"),
                ("horizon", "short-term"),
            ],
        )
        .await;
    assert_eq!(unknown.status, StatusCode::CONFLICT, "{unknown:?}");
    assert!(unknown.body.contains("zed"), "{}", unknown.body);
    assert!(unknown.body.contains("person"), "{}", unknown.body);
    let bad_day = server
        .submit(
            &add,
            &server.responder,
            &[
                ("title", "Rotate the keys"),
                ("owner", "carol"),
                ("horizon", "short-term"),
                ("due", "next friday"),
            ],
        )
        .await;
    assert_eq!(bad_day.status, StatusCode::BAD_REQUEST, "{bad_day:?}");
    assert!(bad_day.body.contains("YYYY-MM-DD"), "{}", bad_day.body);
    assert_eq!(server.timeline_len(&id).await, before);

    let page = server
        .page(&format!("/incidents/{id}"), Some(&server.responder))
        .await;
    let cause = element(&page.body, "root-cause", "</p>");
    assert!(cause.contains("oracle-staleness"), "{cause}");
    assert!(
        cause.contains("The price feed stalled for 20 minutes."),
        "{cause}"
    );
    let row = element(&page.body, "item-1", "</tr>");
    for text in [
        "Alert on oracle staleness",
        "Bob Example",
        "Immediate (1 week)",
        "2026-03-06",
        "<option value=\"open\" selected>",
    ] {
        assert!(row.contains(text), "{text} in {row}");
    }

    let done = server
        .submit(
            &format!("/incidents/{id}/action-item-status"),
            &server.responder,
            &[("item", "1"), ("status", "done")],
        )
        .await;
    assert_redirect(&done, &format!("/incidents/{id}#follow-up"));
    let item = &incident(&server, &id).await["action_items"]["1"];
    assert_eq!(item["status"], "done", "{item}");
    let page = server
        .page(&format!("/incidents/{id}"), Some(&server.responder))
        .await;
    assert!(element(&page.body, "item-1", "</tr>").contains("<option value=\"done\" selected>"));
    server.stop().await;
}

#[tokio::test]
async fn the_postmortem_is_drafted_saved_and_published_on_the_status_page() {
    let (server, clock) = start().await;
    let id = declare(&server, "Internal name of the outage", &[]).await;
    must(
        &server,
        &id,
        &json!({"command": "add_note", "text": "restarted the oracle relayer"}),
    )
    .await;
    clock.advance(HOUR);
    must(
        &server,
        &id,
        &json!({"command": "resolve", "summary": "Relayer restarted"}),
    )
    .await;
    let path = format!("/incidents/{id}/postmortem");

    // Before anything is saved, the editor holds the draft written from the timeline.
    let page = server.page(&path, Some(&server.responder)).await;
    assert_eq!(page.status, StatusCode::OK, "{page:?}");
    let editor = element(&page.body, "pm-markdown", "</textarea>");
    assert!(editor.contains(&format!("# Post-mortem {id}")), "{editor}");
    assert!(
        editor.contains("Declared P0: Internal name of the outage"),
        "{editor}"
    );
    assert!(
        editor.contains("Note: restarted the oracle relayer"),
        "{editor}"
    );
    assert!(page.body.contains("Not started: no version saved yet."));
    assert!(page.body.contains("No version is saved yet."));
    assert!(
        !page.body.contains("id=\"postmortem-publish\""),
        "nothing to publish yet"
    );

    let markdown = format!(
        "# What happened\n\nThe relayer stalled. {HOSTILE}\n\n| Time | Event |\n|---|---|\n| 10:00 | Declared |\n"
    );
    let saved = server
        .submit(
            &format!("/incidents/{id}/save-postmortem"),
            &server.responder,
            &[("markdown", &markdown), ("note", "first cut")],
        )
        .await;
    assert_redirect(&saved, &path);
    let page = server.page(&path, Some(&server.responder)).await;
    assert!(page.body.contains("Version 1 saved"), "{}", page.body);
    let rendered = element(&page.body, "postmortem-rendered", "</article>");
    assert!(rendered.contains("<h1>What happened</h1>"), "{rendered}");
    assert!(rendered.contains("<table>"), "{rendered}");
    assert!(!rendered.contains("<script>"), "{rendered}");
    assert!(rendered.contains("&lt;script&gt;"), "{rendered}");
    assert!(
        !page.body.contains("<script>alert"),
        "the editor escapes it too"
    );
    let editor = element(&page.body, "pm-markdown", "</textarea>");
    assert!(editor.contains("The relayer stalled."), "{editor}");
    // The public button waits for the status page.
    let public = element(&page.body, "postmortem-publish-public", "</form>");
    assert!(public.contains("disabled"), "{public}");

    // A fresh draft on request, whatever was saved.
    let draft = server
        .page(&format!("{path}?draft=1"), Some(&server.responder))
        .await;
    let editor = element(&draft.body, "pm-markdown", "</textarea>");
    assert!(editor.contains(&format!("# Post-mortem {id}")), "{editor}");
    assert!(!editor.contains("The relayer stalled."), "{editor}");

    // An empty save is refused with the rule's message, on the page.
    let before = server.timeline_len(&id).await;
    let empty = server
        .submit(
            &format!("/incidents/{id}/save-postmortem"),
            &server.responder,
            &[("markdown", "   "), ("note", "kept note")],
        )
        .await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST, "{empty:?}");
    assert_eq!(server.timeline_len(&id).await, before);

    let publish = format!("/incidents/{id}/publish-postmortem");
    let internal = server
        .submit(&publish, &server.responder, &[("public", "false")])
        .await;
    assert_redirect(&internal, &path);
    let page = server.page(&path, Some(&server.responder)).await;
    assert!(
        page.body.contains("version 1 published internally."),
        "{}",
        page.body
    );

    // Publicly, only once the incident has been on the status page.
    let refused = server
        .submit(&publish, &server.responder, &[("public", "true")])
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{refused:?}"
    );
    let problem = element(&refused.body, "problem", "</p>");
    assert!(problem.contains("never on the status page"), "{problem}");
    assert_eq!(server.timeline_len(&id).await, before + 1);
    let status = server.page("/status", None).await;
    assert!(!status.body.contains("/postmortem"), "{}", status.body);
    let none = server
        .page(&format!("/status/incidents/{id}/postmortem"), None)
        .await;
    assert_eq!(none.status, StatusCode::NOT_FOUND);

    must(
        &server,
        &id,
        &json!({"command": "publish_update", "state": "resolved", "title": "Delayed prices", "message": "Prices were delayed; fixed.", "components": ["api"]}),
    )
    .await;
    let public = server
        .submit(&publish, &server.responder, &[("public", "true")])
        .await;
    assert_redirect(&public, &path);
    let answer = server
        .get(&format!("/api/incidents/{id}/postmortem"), &server.viewer)
        .await;
    assert_eq!(answer.body["public"], true, "{answer:?}");
    let page = server
        .page(&format!("/incidents/{id}"), Some(&server.viewer))
        .await;
    assert!(
        element(&page.body, "postmortem-state", "</p>")
            .contains("version 1 published internally and on the status page"),
        "{}",
        page.body
    );

    // The status page links to it; the public page shows the text, escaped, and nothing else.
    let status = server.page("/status", None).await;
    let link = format!("href=\"/status/incidents/{id}/postmortem\"");
    assert!(status.body.contains(&link), "{}", status.body);
    let public = server
        .page(&format!("/status/incidents/{id}/postmortem"), None)
        .await;
    assert_eq!(public.status, StatusCode::OK, "{public:?}");
    assert_eq!(
        public.headers[CONTENT_SECURITY_POLICY],
        "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
    );
    let body = &public.body;
    assert!(body.contains("Post-mortem: Delayed prices"), "{body}");
    assert!(body.contains("<h1>What happened</h1>"), "{body}");
    assert!(body.contains("&lt;script&gt;"), "{body}");
    assert!(!body.contains("<script"), "{body}");
    for internal in [
        "Internal name of the outage",
        "restarted the oracle relayer",
        "Relayer restarted",
        "first cut",
    ] {
        assert!(!body.contains(internal), "{internal} leaked: {body}");
    }
    let feed = server.page("/status/feed.atom", None).await;
    assert!(
        feed.body
            .contains(&format!("/status/incidents/{id}/postmortem")),
        "{}",
        feed.body
    );
    assert!(!feed.body.contains("<script>"), "{}", feed.body);
    // Another incident, or no incident at all, has none.
    for path in [
        "/status/incidents/INC-20260302-999/postmortem",
        "/status/incidents/nonsense/postmortem",
    ] {
        let page = server.page(path, None).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
    }
    server.stop().await;
}

#[tokio::test]
async fn the_overdue_report_lists_late_open_items_only() {
    let (server, clock) = start().await;
    let id = declare(&server, "Bridge stuck", &[]).await;
    let now = millis("2026-03-02T10:00:00Z");
    for (title, owner, due) in [
        ("Late item", "bob", now - DAY),
        ("Future item", "carol", now + 5 * DAY),
        ("Late but done", "bob", now - 2 * DAY),
    ] {
        must(
            &server,
            &id,
            &json!({"command": "add_action_item", "title": title, "owner": owner, "horizon": "short-term", "due_at": due}),
        )
        .await;
    }
    must(
        &server,
        &id,
        &json!({"command": "update_action_item", "item": 3, "status": "done"}),
    )
    .await;
    clock.advance(MINUTE);

    let report = server
        .page("/action-items?overdue=true", Some(&server.viewer))
        .await;
    assert_eq!(report.status, StatusCode::OK, "{report:?}");
    let row = element(&report.body, &format!("item-{id}-1"), "</tr>");
    assert!(row.contains("Late item"), "{row}");
    assert!(row.contains("class=\"overdue\""), "{row}");
    assert!(
        row.contains(&format!("href=\"/incidents/{id}#follow-up\"")),
        "{row}"
    );
    assert!(row.contains("Bob Example"), "{row}");
    assert!(row.contains("2026-03-01"), "{row}");
    assert!(!report.body.contains("Future item"));
    assert!(!report.body.contains("Late but done"));
    assert!(report.body.contains("1 action item, overdue."));
    assert!(
        report
            .body
            .contains("name=\"overdue\" value=\"true\" checked")
    );

    let all = server.page("/action-items", Some(&server.viewer)).await;
    for title in ["Late item", "Future item", "Late but done"] {
        assert!(all.body.contains(title), "{title}");
    }
    assert!(all.body.contains("class=\"current\" data-key=\"g a\""));
    let carol = server
        .page("/action-items?owner=carol&open=", Some(&server.viewer))
        .await;
    assert!(carol.body.contains("Future item"));
    assert!(!carol.body.contains("Late item"));
    let unknown = server
        .page("/action-items?owner=zed", Some(&server.viewer))
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert!(
        element(&unknown.body, "problem", "</p>").contains("zed"),
        "{}",
        unknown.body
    );
    server.stop().await;
}

#[tokio::test]
async fn a_viewer_reads_the_follow_up_but_cannot_act_on_it() {
    let (server, _clock) = start().await;
    let id = declare(&server, "Withdrawals paused", &["personal-data"]).await;
    must(
        &server,
        &id,
        &json!({"command": "add_action_item", "title": "Write the runbook", "owner": "alice", "horizon": "long-term"}),
    )
    .await;
    must(
        &server,
        &id,
        &json!({"command": "save_postmortem", "markdown": "# Saved text"}),
    )
    .await;
    for path in [
        format!("/incidents/{id}"),
        format!("/incidents/{id}/postmortem"),
        "/action-items".to_owned(),
    ] {
        let page = server.page(&path, Some(&server.viewer)).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {page:?}");
        assert!(
            !page.body.contains(&format!("action=\"/incidents/{id}/")),
            "{path}: a viewer is shown no forms"
        );
    }
    let page = server
        .page(&format!("/incidents/{id}"), Some(&server.viewer))
        .await;
    assert!(page.body.contains("Write the runbook"));
    assert!(page.body.contains("id=\"deadline-gdpr\""));
    let postmortem = server
        .page(&format!("/incidents/{id}/postmortem"), Some(&server.viewer))
        .await;
    assert!(postmortem.body.contains("<h1>Saved text</h1>"));
    assert!(!postmortem.body.contains("<textarea"));

    let before = server.timeline_len(&id).await;
    for (action, fields) in [
        (
            "message",
            vec![("audience", "Internal updates"), ("body", "viewer message")],
        ),
        (
            "message",
            vec![("template", "internal-update"), ("preview", "1")],
        ),
        ("deadline", vec![("deadline", "gdpr")]),
        ("root-cause", vec![("tag", "viewer"), ("text", "viewer")]),
        (
            "action-item",
            vec![
                ("title", "viewer item"),
                ("owner", "alice"),
                ("horizon", "immediate"),
            ],
        ),
        (
            "action-item-status",
            vec![("item", "1"), ("status", "done")],
        ),
        ("save-postmortem", vec![("markdown", "viewer text")]),
        ("publish-postmortem", vec![("public", "false")]),
    ] {
        let answer = server
            .submit(
                &format!("/incidents/{id}/{action}"),
                &server.viewer,
                &fields,
            )
            .await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{action}: {answer:?}");
        assert!(answer.body.contains("viewer"), "{}", answer.body);
    }
    assert_eq!(server.timeline_len(&id).await, before);

    // Signed out, the new pages send the browser to sign in; the public post-mortem does not.
    for path in [
        "/action-items".to_owned(),
        format!("/incidents/{id}/postmortem"),
    ] {
        let page = server.page(&path, None).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{path}");
        assert!(page.location().starts_with("/login?next="), "{path}");
    }
    server.stop().await;
}
