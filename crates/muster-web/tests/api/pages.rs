//! The dashboard and the plan pages: only for signed-in users, drawn from real data (incidents
//! declared, acknowledged and resolved at known times; the plan's readiness, scenarios and
//! on-call schedule as the core computes them), and with every piece of plan text escaped.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use muster_core::plan::{coverage, oncall};
use muster_engine::{EngineOptions, ManualClock};
use reqwest::StatusCode;
use serde_json::json;

use crate::{Page, Server, example_plan};

const MINUTE: i64 = 60_000;

const PAGES: [&str; 4] = ["/", "/plan", "/plan/scenarios", "/oncall"];

fn at(text: &str) -> i64 {
    text.parse::<jiff::Timestamp>().unwrap().as_millisecond()
}

/// A server on the example plan with a clock that moves only when told to.
async fn server_at(now: &str) -> (Server, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(at(now)));
    let server =
        Server::start_with_plan(&example_plan(), clock.clone(), EngineOptions::default()).await;
    (server, clock)
}

/// Text as the page templates escape it.
fn html(text: &str) -> String {
    text.replace('&', "&#38;")
        .replace('<', "&#60;")
        .replace('>', "&#62;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

/// The `aria-label` of the chart whose label starts with `start`.
#[track_caller]
fn chart_label<'p>(page: &'p Page, start: &str) -> &'p str {
    page.body
        .split("<svg class=\"chart\"")
        .skip(1)
        .filter_map(|svg| svg.split("aria-label=\"").nth(1)?.split('"').next())
        .find(|label| label.starts_with(start))
        .unwrap_or_else(|| panic!("no chart labelled '{start}…' in {}", page.body))
}

/// The part of the page inside the element that opens with `opening`.
#[track_caller]
fn section<'p>(page: &'p Page, opening: &str) -> &'p str {
    let start = page
        .body
        .find(opening)
        .unwrap_or_else(|| panic!("no {opening} in {}", page.body));
    let rest = &page.body[start..];
    &rest[..rest.find("</section>").unwrap_or(rest.len())]
}

#[track_caller]
fn expect_ok(page: &Page, section: &str) {
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let content_type = page.headers["content-type"].to_str().unwrap();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    assert!(
        page.body.contains("id=\"signed-in-as\""),
        "the page is drawn inside the signed-in frame: {}",
        page.body
    );
    let link = if section == "dashboard" {
        "/".to_owned()
    } else {
        format!("/{section}")
    };
    assert!(
        page.body
            .contains(&format!("<a href=\"{link}\" class=\"current\"")),
        "{section} is the current section: {}",
        page.body
    );
}

#[tokio::test]
async fn without_a_session_every_page_sends_the_browser_to_sign_in() {
    let server = Server::start().await;
    for path in PAGES.into_iter().chain(["/oncall?week=2026-03-02"]) {
        let page = server.page(path, None).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{path}: {}", page.body);
        let next: String = form_urlencoded::byte_serialize(path.as_bytes()).collect();
        assert_eq!(page.location(), format!("/login?next={next}"), "{path}");
        assert!(!page.body.contains("Readiness"), "{path}");
    }
    let page = server.page("/plan", Some(&server.revoked)).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    server.stop().await;
}

#[tokio::test]
async fn every_page_renders_for_every_role() {
    let server = Server::start().await;
    for token in [&server.viewer, &server.responder, &server.admin] {
        for (path, section) in [
            ("/", "dashboard"),
            ("/plan", "plan"),
            ("/plan/scenarios", "plan"),
            ("/oncall", "oncall"),
        ] {
            let page = server.page(path, Some(token)).await;
            expect_ok(&page, section);
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn an_empty_dashboard_says_there_is_no_data_yet() {
    let (server, _clock) = server_at("2026-03-04T10:00:00Z").await;
    let page = server.page("/", Some(&server.viewer)).await;
    expect_ok(&page, "dashboard");
    assert_eq!(
        chart_label(&page, "Open incidents by severity"),
        "Open incidents by severity: P0 0, P1 0, P2 0."
    );
    assert!(
        chart_label(&page, "Median time").ends_with(": no data yet."),
        "{}",
        page.body
    );
    assert!(page.body.contains("No data yet"));
    assert!(page.body.contains("No open incidents."));
    server.stop().await;
}

#[tokio::test]
async fn the_dashboard_charts_the_incidents_declared_acknowledged_and_resolved() {
    let (server, clock) = server_at("2026-02-25T10:00:00Z").await;
    let acknowledge = json!({"command": "acknowledge"});
    let resolve = json!({"command": "resolve", "summary": "fixed"});

    // Last week: a gas spike acknowledged after 5 minutes and resolved after 20, and a drill
    // that must count nowhere.
    let gas = server.declare("Gas prices jumped", "gas-spike").await;
    let drill = server
        .post(
            "/api/incidents",
            &server.responder,
            &json!({"title": "Practice", "scenario": "stolen-user-funds", "drill": true}),
        )
        .await;
    assert_eq!(drill.status, StatusCode::CREATED, "{drill:?}");
    let drill = drill.body["incident"]["id"].as_str().unwrap().to_owned();
    clock.advance(MINUTE);
    assert_eq!(
        server.command(&drill, &acknowledge).await.status,
        StatusCode::OK
    );
    assert_eq!(
        server.command(&drill, &resolve).await.status,
        StatusCode::OK
    );
    clock.advance(4 * MINUTE);
    assert_eq!(
        server.command(&gas, &acknowledge).await.status,
        StatusCode::OK
    );
    clock.advance(15 * MINUTE);
    assert_eq!(server.command(&gas, &resolve).await.status, StatusCode::OK);

    // This week (from Monday 2 March): funds stolen, acknowledged after 10 minutes and resolved
    // after an hour; a DDoS acknowledged after 30 minutes; an unknown bug nobody has touched.
    clock.set(at("2026-03-04T10:00:00Z"));
    let funds = server
        .declare("Funds leaving the treasury", "stolen-user-funds")
        .await;
    clock.advance(10 * MINUTE);
    assert_eq!(
        server.command(&funds, &acknowledge).await.status,
        StatusCode::OK
    );
    clock.advance(50 * MINUTE);
    assert_eq!(
        server.command(&funds, &resolve).await.status,
        StatusCode::OK
    );
    let ddos = server
        .declare("Flood of transactions", "protocol-ddos")
        .await;
    clock.advance(30 * MINUTE);
    assert_eq!(
        server.command(&ddos, &acknowledge).await.status,
        StatusCode::OK
    );
    clock.advance(30 * MINUTE);
    let bug = server.declare("Transactions revert", "unknown-bug").await;
    clock.advance(60 * MINUTE);

    let page = server.page("/", Some(&server.viewer)).await;
    expect_ok(&page, "dashboard");
    assert_eq!(
        chart_label(&page, "Open incidents by severity"),
        "Open incidents by severity: P0 0, P1 2, P2 0."
    );
    assert!(page.body.contains(
        "<a href=\"/incidents?open=true&#38;severity=P1\"><span class=\"badge sev-1\">P1</span> High: <strong>2</strong> open</a>"
    ));

    let weekly = chart_label(&page, "Incidents declared per week");
    assert!(
        weekly.starts_with("Incidents declared per week: week of 2025-12-15 0; "),
        "twelve weeks, oldest first: {weekly}"
    );
    assert!(
        weekly.ends_with(
            "week of 2026-02-16 0; week of 2026-02-23 1 (P2 1); week of 2026-03-02 3 (P0 1, P1 2)."
        ),
        "{weekly}"
    );
    assert_eq!(weekly.matches("week of").count(), 12, "{weekly}");

    let medians = chart_label(&page, "Median time to acknowledge");
    assert!(medians.contains(", in minutes: "), "{medians}");
    assert!(
        medians.ends_with(
            "week of 2026-02-16 no data; week of 2026-02-23 MTTA 5, MTTR 20; week of 2026-03-02 MTTA 10, MTTR 60."
        ),
        "the drill counts nowhere and the unresolved ones only where they were acknowledged: {medians}"
    );

    // The open list links each open incident, newest first, and leaves the resolved ones out.
    let open = section(
        &page,
        "<section class=\"panel\" aria-labelledby=\"open-list-heading\"",
    );
    let bug_at = open
        .find(&format!("href=\"/incidents/{bug}\""))
        .expect(open);
    let ddos_at = open
        .find(&format!("href=\"/incidents/{ddos}\""))
        .expect(open);
    assert!(bug_at < ddos_at, "{open}");
    assert!(!open.contains(&funds) && !open.contains(&gas) && !open.contains(&drill));

    // Against the targets: the P0 was acknowledged within its 15 minutes, the P1 on its 30.
    let targets = section(
        &page,
        "<section class=\"panel\" aria-labelledby=\"times-heading\"",
    );
    assert!(
        targets.contains("P0</span> Critical</th>\n          <td>10m</td>\n          <td>15m</td>\n          <td>1 of 1 within target</td>"),
        "{targets}"
    );
    assert!(
        targets.contains("P1</span> High</th>\n          <td>30m</td>\n          <td>30m</td>\n          <td>1 of 1 within target</td>"),
        "{targets}"
    );
    server.stop().await;
}

#[tokio::test]
async fn the_plan_page_shows_the_readiness_the_core_computes() {
    let now = "2026-03-04T10:00:00Z";
    let (server, _clock) = server_at(now).await;
    let plan = server.engine.plan().plan.clone();
    let readiness = coverage::readiness(&plan, now.parse().unwrap(), &BTreeMap::new());

    let page = server.page("/plan", Some(&server.viewer)).await;
    expect_ok(&page, "plan");
    assert!(
        page.body.contains(&format!(
            "<span id=\"readiness-score\">{}</span>/100",
            readiness.score
        )),
        "{}",
        page.body
    );
    for part in &readiness.parts {
        let shown = section(&page, &format!("<li id=\"part-{}\">", part.key));
        assert!(
            shown.contains(&format!("{}: {}%", html(&part.title), part.score)),
            "{shown}"
        );
        assert!(shown.contains(&html(&part.summary)), "{shown}");
        for finding in &part.findings {
            assert!(shown.contains(&html(finding)), "{finding} in {shown}");
        }
    }
    // The readiness comes first, then the plan document, embedded rather than a page of its own.
    let score_at = page.body.find("readiness-score").unwrap();
    let document_at = page
        .body
        .find("Example Start-up Incident Response Plan")
        .expect("the rendered plan");
    assert!(score_at < document_at);
    assert_eq!(page.body.matches("<html").count(), 1);
    assert_eq!(page.body.matches("<main").count(), 1);
    assert!(!page.body.contains("<style>"));
    server.stop().await;
}

#[tokio::test]
async fn the_scenarios_page_lists_every_scenario_and_step_of_the_plan() {
    let server = Server::start().await;
    let plan = server.engine.plan().plan.clone();
    let page = server.page("/plan/scenarios", Some(&server.viewer)).await;
    expect_ok(&page, "plan");
    assert!(!plan.scenarios.is_empty());
    for scenario in &plan.scenarios {
        let shown = section(
            &page,
            &format!(
                "<section class=\"panel scenario\" id=\"scenario-{}\"",
                scenario.id
            ),
        );
        assert!(shown.contains(&html(&scenario.title)), "{shown}");
        let category = plan.category(scenario.category.as_str()).unwrap();
        assert!(shown.contains(&html(&category.name)), "{shown}");
        assert!(
            shown.contains(&format!(">{}</span>", scenario.severity)),
            "{shown}"
        );
        for signal in &scenario.detection {
            assert!(shown.contains(&html(signal)), "{signal} in {shown}");
        }
        let runbook = plan
            .runbook(scenario.runbook.as_ref().unwrap().as_str())
            .unwrap();
        for step in &runbook.steps {
            assert!(
                shown.contains(&html(&step.title)),
                "{} in {shown}",
                step.title
            );
            let item = &shown[shown
                .find(&format!("id=\"step-{}-{}\"", runbook.id, step.id))
                .unwrap()..];
            let item = &item[..item.find("</li>").unwrap()];
            if let Some(within) = step.within {
                assert!(item.contains(&within.words()), "{item}");
            }
            if let Some(command) = &step.command {
                assert!(
                    item.contains(&format!("<pre><code>{}</code></pre>", html(command))),
                    "{item}"
                );
            }
            if let Some(decision) = &step.decision {
                let decision = plan.decision(decision.as_str()).unwrap();
                assert!(item.contains(&html(&decision.title)), "{item}");
            }
        }
    }
    // Phases come in the order an incident goes through them.
    let funds = section(&page, "id=\"scenario-stolen-user-funds\"");
    let containment = funds.find("<h4>Containment</h4>").unwrap();
    let recovery = funds.find("<h4>Recovery</h4>").unwrap();
    assert!(containment < recovery);
    assert!(
        funds.contains("<strong>Pause contract</strong> (2 approvals: CEO, COO, each by a different person; Administrators may also approve; signed)"),
        "{funds}"
    );
    assert!(funds.contains("Owner:</span> Administrators <code>role:administrators</code>"));
    server.stop().await;
}

#[tokio::test]
async fn the_oncall_week_shows_who_is_on_call_now_and_each_day() {
    // Wednesday of the ninth week of the rotation (janet, david; Mondays 09:00 UTC from 5 January).
    let now = "2026-03-04T10:00:00Z";
    let (server, _clock) = server_at(now).await;
    let plan = server.engine.plan().plan.clone();
    let page = server.page("/oncall", Some(&server.viewer)).await;
    expect_ok(&page, "oncall");

    let summary = oncall::summary(&plan, now.parse().unwrap());
    let on_call_now = section(&page, "<section class=\"panel\" id=\"oncall-now\"");
    for schedule in &summary {
        let person = schedule
            .now
            .as_ref()
            .expect("someone is on call")
            .person
            .as_str();
        let name = &plan.person(person).unwrap().name;
        assert!(
            on_call_now.contains(&format!("<strong>{}</strong>:", html(&schedule.name))),
            "{on_call_now}"
        );
        assert!(
            on_call_now.contains(&format!("<span class=\"person\">{}</span>", html(name))),
            "{on_call_now}"
        );
    }
    assert!(on_call_now.contains("Janet R"), "{on_call_now}");
    assert!(
        on_call_now.contains("Next: David L from Mon 9 Mar 09:00 UTC"),
        "{on_call_now}"
    );

    assert!(page.body.contains("Mon 2 Mar 2026 to Sun 8 Mar 2026"));
    assert!(
        page.body
            .contains("<a href=\"/oncall?week=2026-02-23\" rel=\"prev\">")
    );
    assert!(
        page.body
            .contains("<a href=\"/oncall?week=2026-03-09\" rel=\"next\">")
    );
    let week = section(
        &page,
        "<section class=\"schedule\" id=\"schedule-first-responder\"",
    );
    assert!(week.contains("<div class=\"scroll\">"));
    let monday = &week[week.find("<td>").unwrap()..];
    let monday = &monday[..monday.find("</td>").unwrap()];
    assert!(
        monday.contains("<strong>David L</strong><br>00:00–09:00"),
        "{monday}"
    );
    assert!(
        monday.contains("<strong>Janet R</strong><br>09:00–24:00"),
        "{monday}"
    );
    assert!(week.contains("class=\"today\" aria-current=\"date\">Wed 4 Mar</th>"));

    // Any day names its week; the next week is david's.
    let next = server
        .page("/oncall?week=2026-03-11", Some(&server.viewer))
        .await;
    expect_ok(&next, "oncall");
    assert!(next.body.contains("Mon 9 Mar 2026 to Sun 15 Mar 2026"));
    assert!(next.body.contains("<a href=\"/oncall\">This week</a>"));
    let week = section(
        &next,
        "<section class=\"schedule\" id=\"schedule-first-responder\"",
    );
    assert!(
        week.contains("<strong>David L</strong><br>09:00–24:00"),
        "{week}"
    );
    assert!(!week.contains("aria-current"));

    let refused = server
        .page("/oncall?week=next-tuesday", Some(&server.viewer))
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.body.contains("YYYY-MM-DD"), "{}", refused.body);
    server.stop().await;
}

#[tokio::test]
async fn plan_text_is_escaped_on_every_page() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/api/fixtures/hostile.yaml");
    let clock = Arc::new(ManualClock::new(at("2026-03-04T10:00:00Z")));
    let server = Server::start_with_plan(&fixture, clock.clone(), EngineOptions::default()).await;
    let id = server
        .declare("<script>alert(\"title\")</script>", "markup")
        .await;
    clock.advance(5 * MINUTE);
    let answer = server
        .command(&id, &json!({"command": "acknowledge"}))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");

    let expected: [(&str, &[&str]); 4] = [
        ("/", &["organization", "severity", "title"]),
        (
            "/plan",
            &["organization", "person", "scenario", "runbook", "step"],
        ),
        (
            "/plan/scenarios",
            &[
                "organization",
                "scenario",
                "category",
                "severity",
                "description",
                "detection",
                "runbook",
                "step",
                "role",
                "decision",
                "details",
            ],
        ),
        (
            "/oncall",
            &["organization", "schedule", "person", "rotation"],
        ),
    ];
    for (path, sources) in expected {
        let page = server.page(path, Some(&server.viewer)).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
        assert!(
            !page.body.contains("<script>alert"),
            "{path}: {}",
            page.body
        );
        assert!(!page.body.contains("</code></pre><script"), "{path}");
        // Templates, charts and the rendered plan each escape in their own (equivalent) way.
        let text = page
            .body
            .replace("&#60;", "&lt;")
            .replace("&#62;", "&gt;")
            .replace("&quot;", "\"")
            .replace("&#34;", "\"");
        for source in sources {
            let shown = format!("&lt;script&gt;alert(\"{source}\")&lt;/script&gt;");
            assert!(
                text.contains(&shown),
                "{path} shows the {source} as text: {}",
                page.body
            );
        }
    }
    server.stop().await;
}
