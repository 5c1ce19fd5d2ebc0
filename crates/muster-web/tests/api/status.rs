//! The public status page, its Atom feed and its JSON summary, over real HTTP on the smart
//! contract protocol plan and a hand-set clock: only what was published reaches them, escaped,
//! without signing in, and they follow each published update at once.

use std::path::Path;
use std::sync::Arc;

use muster_engine::{EngineOptions, ManualClock};
use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{Answer, Page, Server};

const HOUR: i64 = 3_600_000;

fn millis(time: &str) -> i64 {
    time.parse::<jiff::Timestamp>().unwrap().as_millisecond()
}

/// A server on the smart contract protocol plan (status page "Harbor Status" with six
/// components, UTC), its clock at 2026-03-02 10:00 UTC.
async fn start() -> (Server, Arc<ManualClock>) {
    let plan =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/smart-contract-protocol.yaml");
    let clock = Arc::new(ManualClock::new(millis("2026-03-02T10:00:00Z")));
    let server = Server::start_with_plan(&plan, clock.clone(), EngineOptions::default()).await;
    (server, clock)
}

/// The three public views, fetched as a browser without a session would.
struct Public {
    page: Page,
    feed: Page,
    summary: Answer,
}

impl Server {
    /// Runs an incident command that must succeed; returns the sequence number of its event.
    async fn must(&self, id: &str, command: &Value) -> u64 {
        let answer = self.command(id, command).await;
        assert_eq!(answer.status, StatusCode::OK, "{command}: {answer:?}");
        answer.body["events"][0]["seq"].as_u64().unwrap()
    }

    async fn public(&self) -> Public {
        let page = self.page("/status", None).await;
        let feed = self.page("/status/feed.atom", None).await;
        let summary = self
            .send(Method::GET, "/status/summary.json", None, None, None)
            .await;
        for (what, status) in [
            ("page", page.status),
            ("feed", feed.status),
            ("summary", summary.status),
        ] {
            assert_eq!(status, StatusCode::OK, "{what} without signing in");
        }
        Public {
            page,
            feed,
            summary,
        }
    }
}

impl Public {
    /// Asserts `text` appears in none of the three views.
    #[track_caller]
    fn never_shows(&self, text: &str) {
        assert!(!self.page.body.contains(text), "page shows {text:?}");
        assert!(!self.feed.body.contains(text), "feed shows {text:?}");
        assert!(
            !self.summary.body.to_string().contains(text),
            "summary shows {text:?}"
        );
    }
}

/// The part of `text` from the first `from` to the next `to` after it.
#[track_caller]
fn between<'a>(text: &'a str, from: &str, to: &str) -> &'a str {
    let start = text
        .find(from)
        .unwrap_or_else(|| panic!("{from:?} not in {text}"));
    let rest = &text[start..];
    let end = rest.find(to).map_or(rest.len(), |end| end + to.len());
    &rest[..end]
}

/// The `<li>` of a component in the page's component list.
#[track_caller]
fn component_row<'a>(page: &'a str, id: &str) -> &'a str {
    between(page, &format!("<li id=\"component-{id}\">"), "</li>")
}

/// The history row of a component.
#[track_caller]
fn history_row<'a>(page: &'a str, id: &str) -> &'a str {
    between(page, &format!("id=\"history-{id}\""), "</p>")
}

/// Checks entity references: every `&` starts `&lt;`, `&gt;`, `&amp;`, `&quot;`, `&apos;` or a
/// numeric reference.
#[track_caller]
fn assert_entities(text: &str) {
    for (at, _) in text.match_indices('&') {
        let rest = &text[at..];
        let end = rest
            .find(';')
            .unwrap_or_else(|| panic!("unterminated entity at {rest:?}"));
        let name = &rest[1..end];
        let numeric = name
            .strip_prefix("#x")
            .map(|hex| !hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit()))
            .or_else(|| {
                name.strip_prefix('#')
                    .map(|dec| !dec.is_empty() && dec.chars().all(|c| c.is_ascii_digit()))
            })
            .unwrap_or(false);
        assert!(
            numeric || ["lt", "gt", "amp", "quot", "apos"].contains(&name),
            "unknown entity &{name}; in {text:?}"
        );
    }
}

/// A structural check of an XML document, without an XML parser: the declaration first, then
/// exactly one root element `root`, every tag closed in order, attribute values quoted, no stray
/// `<` or `>` in text and only defined entities.
#[track_caller]
fn assert_well_formed(xml: &str, root: &str) {
    let mut rest = xml
        .strip_prefix("<?xml version=\"1.0\" encoding=\"utf-8\"?>")
        .expect("starts with the XML declaration");
    let mut open: Vec<&str> = Vec::new();
    let mut roots = 0;
    while let Some(start) = rest.find('<') {
        let text = &rest[..start];
        assert!(!text.contains('>'), "stray '>' in text {text:?}");
        assert_entities(text);
        if open.is_empty() {
            assert!(text.trim().is_empty(), "text outside the root: {text:?}");
        }
        let end = rest[start..].find('>').expect("tag closed") + start;
        let tag = &rest[start + 1..end];
        assert!(!tag.contains('<'), "'<' inside tag {tag:?}");
        assert_eq!(
            tag.matches('"').count() % 2,
            0,
            "unbalanced quotes in {tag:?}"
        );
        assert_entities(tag);
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(open.pop(), Some(name), "closing tag out of order");
        } else {
            let name = tag.split_whitespace().next().unwrap().trim_end_matches('/');
            if open.is_empty() {
                roots += 1;
                assert_eq!(name, root, "root element");
            }
            if !tag.ends_with('/') {
                open.push(name);
            }
        }
        rest = &rest[end + 1..];
    }
    assert!(rest.trim().is_empty(), "text after the root: {rest:?}");
    assert!(open.is_empty(), "unclosed elements {open:?}");
    assert_eq!(roots, 1, "one root element");
}

/// Text with its entity references replaced by the characters they stand for.
fn decode(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let end = rest[at..].find(';').unwrap() + at;
        let name = &rest[at + 1..end];
        let decoded = match name {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = match name.strip_prefix("#x") {
                    Some(hex) => u32::from_str_radix(hex, 16).unwrap(),
                    None => name.strip_prefix('#').unwrap().parse().unwrap(),
                };
                char::from_u32(code).unwrap()
            }
        };
        out.push(decoded);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

/// The text of every `tag` element of `xml`, in order.
fn texts<'a>(xml: &'a str, tag: &str) -> Vec<&'a str> {
    let (open, close) = (format!("<{tag}"), format!("</{tag}>"));
    xml.match_indices(&open)
        .filter(|(at, _)| matches!(xml.as_bytes()[at + open.len()], b'>' | b' '))
        .map(|(at, _)| {
            let start = xml[at..].find('>').unwrap() + at + 1;
            let end = xml[start..].find(&close).unwrap() + start;
            &xml[start..end]
        })
        .collect()
}

/// The `<entry>` elements of a feed, in order.
fn entries(xml: &str) -> Vec<&str> {
    xml.match_indices("<entry>")
        .map(|(at, _)| between(&xml[at..], "<entry>", "</entry>"))
        .collect()
}

#[tokio::test]
async fn only_published_words_reach_the_page_feed_and_summary() {
    let (server, clock) = start().await;
    let id = server
        .declare(
            "Reentrancy in VaultV2 INTERNAL-TITLE-2b1f",
            "treasury-drain",
        )
        .await;
    server
        .must(
            &id,
            &json!({"command": "publish_update", "state": "investigating",
                "title": "Vault withdrawals failing",
                "message": "We are investigating failed withdrawals from vaults.",
                "components": ["vaults"], "impact": "major_outage"}),
        )
        .await;
    server
        .must(
            &id,
            &json!({"command": "add_note", "text": "INTERNAL-NOTE-7f3a attacker wallet 0xdead"}),
        )
        .await;
    server
        .must(
            &id,
            &json!({"command": "change_severity", "to": "P1", "reason": "SEVERITY-REASON-91c2 contained"}),
        )
        .await;
    let secrets = [
        "INTERNAL-TITLE-2b1f",
        "INTERNAL-NOTE-7f3a",
        "0xdead",
        "SEVERITY-REASON-91c2",
        "RESOLUTION-SUMMARY-5d0e",
    ];

    let public = server.public().await;
    for secret in secrets {
        public.never_shows(secret);
    }
    let message = "We are investigating failed withdrawals from vaults.";
    assert!(public.page.body.contains(message));
    assert!(public.page.body.contains("Vault withdrawals failing"));
    assert_eq!(
        texts(&public.feed.body, "content"),
        vec![message],
        "exactly the published text"
    );
    assert_eq!(
        public.summary.body["incidents"][0]["updates"][0]["message"],
        message
    );
    assert_eq!(
        public.summary.body["incidents"][0]["title"],
        "Vault withdrawals failing"
    );

    clock.advance(HOUR);
    server
        .must(
            &id,
            &json!({"command": "resolve", "summary": "RESOLUTION-SUMMARY-5d0e paused the vault"}),
        )
        .await;
    server
        .must(
            &id,
            &json!({"command": "publish_update", "state": "resolved",
                "message": "Withdrawals work again.", "components": ["vaults"]}),
        )
        .await;
    let public = server.public().await;
    for secret in secrets {
        public.never_shows(secret);
    }
    assert_eq!(
        texts(&public.feed.body, "content"),
        vec!["Withdrawals work again.", message]
    );
    assert!(public.page.body.contains("Withdrawals work again."));
    assert!(public.page.body.contains(message));
    server.stop().await;
}

#[tokio::test]
async fn markup_in_published_text_is_escaped_everywhere() {
    let (server, _clock) = start().await;
    let id = server
        .declare("Front-end compromise", "treasury-drain")
        .await;
    let title = "<img src=x onerror=alert(2)> Vaults";
    let message = "<script>alert(1)</script> & \"quoted\" 'text'";
    server
        .must(
            &id,
            &json!({"command": "publish_update", "state": "identified", "title": title,
                "message": message, "components": ["app"], "impact": "partial_outage"}),
        )
        .await;

    let public = server.public().await;
    let page = &public.page.body;
    assert!(!page.to_lowercase().contains("<script"), "{page}");
    assert!(!page.contains("<img"), "{page}");
    let messages: Vec<String> = texts(page, "p").into_iter().map(decode).collect();
    assert!(messages.iter().any(|text| text == message), "{page}");
    let titles: Vec<String> = texts(page, "h3").into_iter().map(decode).collect();
    assert!(titles.iter().any(|text| text == title), "{page}");

    let feed = &public.feed.body;
    assert_well_formed(feed, "feed");
    assert!(
        !feed.contains("<script") && !feed.contains("<img"),
        "{feed}"
    );
    assert_eq!(
        texts(feed, "content")
            .into_iter()
            .map(decode)
            .collect::<Vec<_>>(),
        vec![message]
    );
    assert_eq!(
        decode(texts(feed, "title")[1]),
        format!("{title} \u{2014} Identified")
    );

    let incident = &public.summary.body["incidents"][0];
    assert_eq!(incident["title"], title, "a plain string in JSON");
    assert_eq!(incident["updates"][0]["message"], message);
    server.stop().await;
}

#[tokio::test]
async fn the_page_answers_without_sign_in_and_runs_no_script() {
    let (server, _clock) = start().await;
    let public = server.public().await;
    let page = &public.page;
    assert!(
        page.headers[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(!page.body.to_lowercase().contains("<script"));
    assert!(!page.body.contains("muster.js"));
    let policy = page.headers["content-security-policy"].to_str().unwrap();
    assert!(policy.contains("default-src 'none'"), "{policy}");
    assert!(page.body.contains("<title>Harbor Status</title>"));
    assert!(page.body.contains(
        "<link rel=\"alternate\" type=\"application/atom+xml\" title=\"Harbor Status\" href=\"/status/feed.atom\">"
    ));
    assert!(page.body.contains("href=\"/status/summary.json\""));
    assert!(page.body.contains("name=\"viewport\""), "fits a phone");
    assert!(page.body.contains("All systems operational"));
    assert!(page.body.contains("No incidents in the last 90 days."));
    for (what, headers) in [
        ("page", &public.page.headers),
        ("feed", &public.feed.headers),
        ("summary", &public.summary.headers),
    ] {
        assert_eq!(headers[CACHE_CONTROL], "no-cache", "{what}");
        assert!(headers.get("set-cookie").is_none(), "{what}");
    }
    assert_eq!(
        public.feed.headers[CONTENT_TYPE],
        "application/atom+xml; charset=utf-8"
    );
    assert!(
        public.summary.headers[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    server.stop().await;
}

#[tokio::test]
async fn components_and_the_banner_follow_what_is_published() {
    let (server, clock) = start().await;
    let page = server.public().await.page.body;
    assert!(between(&page, "id=\"overall\"", "</p>").contains("All systems operational"));
    for component in [
        "lending-pools",
        "vaults",
        "oracles",
        "governance",
        "app",
        "api",
    ] {
        assert!(
            component_row(&page, component).contains("Operational"),
            "{component}"
        );
    }
    assert!(
        component_row(&page, "app").contains("app.harbor.example"),
        "description"
    );
    assert!(!page.contains("id=\"active-incidents\""));

    let id = server.declare("Vault drained", "treasury-drain").await;
    server
        .must(
            &id,
            &json!({"command": "publish_update", "state": "investigating",
                "title": "Vault withdrawals failing", "message": "Looking into it.",
                "components": ["vaults"], "impact": "major_outage"}),
        )
        .await;
    let page = server.public().await.page.body;
    assert!(between(&page, "id=\"overall\"", "</p>").contains("Major outage"));
    assert!(component_row(&page, "vaults").contains("Major outage"));
    assert!(component_row(&page, "oracles").contains("Operational"));
    let active = between(&page, "id=\"active-incidents\"", "</section>");
    assert!(active.contains("Vault withdrawals failing"));
    assert!(active.contains("Investigating"));
    assert!(active.contains("Affects Vaults"));
    assert!(active.contains("<time datetime=\"2026-03-02T10:00:00Z\">2026-03-02 10:00 UTC</time>"));

    clock.advance(2 * HOUR);
    server
        .must(
            &id,
            &json!({"command": "publish_update", "state": "identified",
                "message": "Paused the vault; the cause is known.",
                "components": ["vaults", "oracles"], "impact": "partial_outage"}),
        )
        .await;
    let page = server.public().await.page.body;
    assert!(between(&page, "id=\"overall\"", "</p>").contains("Partial outage"));
    assert!(component_row(&page, "vaults").contains("Partial outage"));
    assert!(component_row(&page, "oracles").contains("Partial outage"));
    let active = between(&page, "id=\"active-incidents\"", "</section>");
    let newer = active.find("Paused the vault").unwrap();
    let older = active.find("Looking into it.").unwrap();
    assert!(newer < older, "updates newest first");

    clock.set(millis("2026-03-03T09:00:00Z"));
    server
        .must(
            &id,
            &json!({"command": "publish_update", "state": "resolved",
                "message": "Withdrawals work again."}),
        )
        .await;
    let page = server.public().await.page.body;
    assert!(between(&page, "id=\"overall\"", "</p>").contains("All systems operational"));
    assert!(component_row(&page, "vaults").contains("Operational"));
    assert!(!page.contains("id=\"active-incidents\""));
    let past = between(&page, "id=\"past-incidents\"", "</section>");
    assert!(past.contains("Vault withdrawals failing"));
    for update in [
        "Withdrawals work again.",
        "Paused the vault",
        "Looking into it.",
    ] {
        assert!(past.contains(update), "{update}");
    }

    // The history keeps the worst of each day: 2 March a major outage, 3 March a partial
    // outage until it was resolved; the oracles only from the second update on.
    let vaults = history_row(&page, "vaults");
    assert_eq!(vaults.matches("class=\"day ").count(), 90);
    assert!(vaults.contains("title=\"2026-03-02: Major outage\""));
    assert!(vaults.contains("aria-label=\"2026-03-02: Major outage\""));
    assert!(vaults.contains("title=\"2026-03-03: Partial outage\""));
    assert!(vaults.contains("title=\"2026-03-01: Operational\""));
    assert!(vaults.contains("2 days with incidents"));
    let oracles = history_row(&page, "oracles");
    assert!(oracles.contains("title=\"2026-03-02: Partial outage\""));
    let api = history_row(&page, "api");
    assert!(api.contains("title=\"2026-03-03: Operational\""));
    assert!(api.contains("No incidents"));
    let first = page.find("title=\"2025-12-04: ").unwrap();
    let today = page.find("title=\"2026-03-03: ").unwrap();
    assert!(first < today, "oldest day first");
    server.stop().await;
}

#[tokio::test]
async fn the_feed_has_one_entry_per_update_newest_first() {
    let (server, clock) = start().await;
    let empty = server.public().await.feed.body;
    assert_well_formed(&empty, "feed");
    assert!(empty.contains("<feed xmlns=\"http://www.w3.org/2005/Atom\">"));
    assert_eq!(entries(&empty).len(), 0);
    assert_eq!(
        texts(&empty, "updated"),
        vec!["2026-03-02T10:00:00Z"],
        "now, when nothing was published"
    );
    assert_eq!(texts(&empty, "title"), vec!["Harbor Status"]);

    let id = server.declare("Oracle stale", "treasury-drain").await;
    let mut seqs = Vec::new();
    for (state, message) in [
        ("investigating", "Prices look stale."),
        ("monitoring", "A fallback feed is live."),
        ("resolved", "Prices are current again."),
    ] {
        seqs.push(
            server
                .must(
                    &id,
                    &json!({"command": "publish_update", "state": state,
                        "title": "Stale oracle prices", "message": message,
                        "components": ["oracles"], "impact": "degraded"}),
                )
                .await,
        );
        clock.advance(HOUR);
    }

    let feed = server.public().await.feed.body;
    assert_well_formed(&feed, "feed");
    let entries = entries(&feed);
    assert_eq!(entries.len(), 3, "{feed}");
    assert_eq!(
        feed.matches("<entry>").count(),
        feed.matches("</entry>").count()
    );
    let contents: Vec<&str> = entries
        .iter()
        .map(|entry| texts(entry, "content")[0])
        .collect();
    assert_eq!(
        contents,
        vec![
            "Prices are current again.",
            "A fallback feed is live.",
            "Prices look stale."
        ]
    );
    let titles: Vec<&str> = entries
        .iter()
        .map(|entry| texts(entry, "title")[0])
        .collect();
    assert_eq!(
        titles,
        vec![
            "Stale oracle prices \u{2014} Resolved",
            "Stale oracle prices \u{2014} Monitoring",
            "Stale oracle prices \u{2014} Investigating",
        ]
    );
    let ids: Vec<String> = seqs
        .iter()
        .rev()
        .map(|seq| format!("urn:muster:{id}:{seq}"))
        .collect();
    let entry_ids: Vec<&str> = entries.iter().map(|entry| texts(entry, "id")[0]).collect();
    assert_eq!(entry_ids, ids);
    let updated: Vec<&str> = entries
        .iter()
        .map(|entry| texts(entry, "updated")[0])
        .collect();
    assert_eq!(
        updated,
        vec![
            "2026-03-02T12:00:00Z",
            "2026-03-02T11:00:00Z",
            "2026-03-02T10:00:00Z"
        ]
    );
    assert_eq!(
        texts(&feed, "updated")[0],
        "2026-03-02T12:00:00Z",
        "the feed's time is its newest entry's"
    );
    assert!(
        entries
            .iter()
            .all(|entry| entry.contains("<content type=\"text\">"))
    );
    assert!(feed.contains(&format!("href=\"https://status.harbor.example#{id}\"")));
    server.stop().await;
}

#[tokio::test]
async fn the_summary_describes_active_incidents() {
    let (server, clock) = start().await;
    let summary = server.public().await.summary.body;
    assert_eq!(summary["status"]["indicator"], "none");
    assert_eq!(summary["status"]["description"], "All systems operational");
    assert_eq!(summary["incidents"], json!([]));
    assert_eq!(summary["page"]["updated_at"], "2026-03-02T10:00:00Z");

    let id = server
        .declare("Oracle manipulation", "treasury-drain")
        .await;
    server
        .must(
            &id,
            &json!({"command": "publish_update", "state": "investigating",
                "title": "Lending paused", "message": "Borrowing is paused.",
                "components": ["lending-pools", "oracles"], "impact": "partial_outage"}),
        )
        .await;
    clock.advance(HOUR);
    server
        .must(
            &id,
            &json!({"command": "publish_update", "state": "identified",
                "message": "A manipulated price feed; repaying works."}),
        )
        .await;

    let summary = server.public().await.summary.body;
    assert_eq!(summary["page"]["title"], "Harbor Status");
    assert_eq!(summary["page"]["url"], "https://status.harbor.example");
    assert_eq!(summary["page"]["updated_at"], "2026-03-02T11:00:00Z");
    assert_eq!(summary["status"]["indicator"], "degraded");
    assert_eq!(summary["status"]["description"], "Degraded performance");
    let components: Vec<(&str, &str)> = summary["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["id"].as_str().unwrap(), c["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        components,
        vec![
            ("lending-pools", "degraded"),
            ("vaults", "operational"),
            ("oracles", "degraded"),
            ("governance", "operational"),
            ("app", "operational"),
            ("api", "operational"),
        ],
        "an update naming no components keeps those named before; its impact counts"
    );
    assert_eq!(summary["components"][2]["name"], "Price oracles");
    assert_eq!(
        summary["incidents"],
        json!([{
            "id": id,
            "title": "Lending paused",
            "state": "identified",
            "impact": "degraded",
            "components": ["lending-pools", "oracles"],
            "started_at": "2026-03-02T10:00:00Z",
            "updated_at": "2026-03-02T11:00:00Z",
            "updates": [
                {"state": "identified", "message": "A manipulated price feed; repaying works.",
                    "at": "2026-03-02T11:00:00Z"},
                {"state": "investigating", "message": "Borrowing is paused.",
                    "at": "2026-03-02T10:00:00Z"},
            ],
        }])
    );

    server
        .must(
            &id,
            &json!({"command": "publish_update", "state": "resolved", "message": "Lending is open."}),
        )
        .await;
    let summary = server.public().await.summary.body;
    assert_eq!(summary["incidents"], json!([]), "active incidents only");
    assert_eq!(summary["status"]["indicator"], "none");
    server.stop().await;
}

#[tokio::test]
async fn a_drill_is_never_published() {
    let (server, _clock) = start().await;
    let declared = server
        .post(
            "/api/incidents",
            &server.responder,
            &json!({"title": "Tabletop: treasury drain", "scenario": "treasury-drain", "drill": true}),
        )
        .await;
    assert_eq!(declared.status, StatusCode::CREATED, "{declared:?}");
    let id = declared.body["incident"]["id"].as_str().unwrap().to_owned();
    let answer = server
        .command(
            &id,
            &json!({"command": "publish_update", "state": "investigating",
                "message": "DRILL-MESSAGE-4e1d", "components": ["vaults"],
                "impact": "major_outage"}),
        )
        .await;
    assert!(answer.status.is_client_error(), "{answer:?}");
    assert_eq!(answer.code(), "drill");
    assert!(answer.message().contains("drill"), "{answer:?}");

    let public = server.public().await;
    public.never_shows("DRILL-MESSAGE-4e1d");
    public.never_shows("Tabletop");
    assert!(public.page.body.contains("All systems operational"));
    assert_eq!(entries(&public.feed.body).len(), 0);
    assert_eq!(public.summary.body["incidents"], json!([]));
    assert_eq!(public.summary.body["status"]["indicator"], "none");
    server.stop().await;
}

#[tokio::test]
async fn without_a_status_page_the_page_still_answers() {
    // The start-up plan has no status_page.
    let server = Server::start().await;
    assert!(server.engine.plan().plan.status_page.is_none());
    let public = server.public().await;
    let page = &public.page.body;
    assert!(page.contains("<title>Example Start-up status</title>"));
    assert!(page.contains("All systems operational"));
    assert!(!page.contains("id=\"components\""));
    assert!(!page.contains("id=\"history\""));
    assert!(!page.to_lowercase().contains("<script"));
    assert_well_formed(&public.feed.body, "feed");
    assert_eq!(public.summary.body["components"], json!([]));
    assert_eq!(
        public.summary.body["page"]["title"],
        "Example Start-up status"
    );
    assert!(public.summary.body["page"].get("url").is_none());
    server.stop().await;
}
