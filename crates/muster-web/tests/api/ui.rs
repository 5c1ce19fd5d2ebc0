//! The web UI's guarantees over real HTTP: only `/status` without signing in, no form accepted
//! without this session's anti-forgery token or from another site, a viewer cannot act, user
//! text is escaped everywhere it is shown, and the incident page's live stream carries new events.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use muster_core::access::Role;
use muster_engine::{EngineOptions, SystemClock};
use reqwest::StatusCode;
use serde_json::json;

use crate::{Page, Server};

const HOSTILE: &str = "<script>alert('pwned')</script><img src=x onerror=alert(1)>";

async fn protocol_server() -> Server {
    let plan =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/smart-contract-protocol.yaml");
    Server::start_with_plan(&plan, Arc::new(SystemClock), EngineOptions::default()).await
}

async fn acknowledged(server: &Server, id: &str) -> bool {
    let answer = server
        .get(&format!("/api/incidents/{id}"), &server.viewer)
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    answer.body["acknowledged_at"].is_i64()
}

#[track_caller]
fn assert_to_login(page: &Page, what: &str) {
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{what}: {page:?}");
    assert!(
        page.location().starts_with("/login?next="),
        "{what}: {}",
        page.location()
    );
}

#[tokio::test]
async fn without_signing_in_only_the_status_page_and_the_sign_in_form_answer() {
    let server = Server::start().await;
    let id = server
        .declare("Secret outage in the matching engine", "protocol-ddos")
        .await;
    for path in [
        "/".to_owned(),
        "/incidents".to_owned(),
        "/incidents/new".to_owned(),
        format!("/incidents/{id}"),
        format!("/incidents/{id}/live"),
        format!("/incidents/{id}/postmortem"),
        "/action-items".to_owned(),
        "/plan".to_owned(),
        "/plan/scenarios".to_owned(),
        "/oncall".to_owned(),
    ] {
        let page = server.page(&path, None).await;
        assert_to_login(&page, &path);
        assert!(!page.body.contains("Secret outage"), "{path}");
        // A revoked token is no session either.
        let page = server.page(&path, Some(&server.revoked)).await;
        assert_to_login(&page, &path);
    }
    let next = server.page(&format!("/incidents/{id}"), None).await;
    assert_eq!(next.location(), format!("/login?next=%2Fincidents%2F{id}"));
    // Acting without a session changes nothing.
    let page = server
        .submit_raw(&format!("/incidents/{id}/ack"), None, &[("_csrf", "x")])
        .await;
    assert_to_login(&page, "ack");
    assert!(!acknowledged(&server, &id).await);

    for path in [
        "/status",
        "/status/feed.atom",
        "/status/summary.json",
        "/login",
    ] {
        let page = server.page(path, None).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {page:?}");
        assert!(!page.body.contains("Secret outage"), "{path}");
    }
    server.stop().await;
}

#[tokio::test]
async fn signing_in_sets_a_strict_http_only_session_and_refuses_bad_tokens() {
    let server = Server::start().await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let form = client
        .get(format!("{}/login?next=/incidents", server.base))
        .send()
        .await
        .unwrap();
    let login_cookie = form
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let nonce = login_cookie.split_once('=').unwrap().1.to_owned();
    let body = form.text().await.unwrap();
    assert!(body.contains(&format!("value=\"{nonce}\"")), "{body}");

    let sign_in = |token: &str, csrf: &str, cookie: &str| {
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs([("_csrf", csrf), ("next", "/incidents"), ("token", token)])
            .finish();
        client
            .post(format!("{}/login", server.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("origin", &server.base)
            .header("cookie", cookie.to_owned())
            .body(body)
            .send()
    };
    let good = sign_in(&server.responder, &nonce, &login_cookie)
        .await
        .unwrap();
    assert_eq!(good.status(), StatusCode::SEE_OTHER);
    assert_eq!(good.headers()["location"], "/incidents");
    let session = good.headers()["set-cookie"].to_str().unwrap();
    assert!(session.starts_with(&format!("muster_session={}", server.responder)));
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(session.contains(attribute), "{session}");
    }

    let wrong = sign_in("mst_not_a_token", &nonce, &login_cookie)
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(
        wrong
            .headers()
            .get("set-cookie")
            .is_none_or(|c| !c.to_str().unwrap().contains("muster_session"))
    );
    assert!(wrong.text().await.unwrap().contains("not known"));

    let revoked = sign_in(&server.revoked, &nonce, &login_cookie)
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::UNAUTHORIZED);
    assert!(revoked.text().await.unwrap().contains("revoked"));

    // The sign-in form's own token must match its cookie (no login forgery).
    let forged = sign_in(&server.responder, "guess", &login_cookie)
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert!(
        forged
            .headers()
            .get("set-cookie")
            .is_none_or(|c| !c.to_str().unwrap().contains("muster_session"))
    );
    server.stop().await;
}

#[tokio::test]
async fn forms_without_this_sessions_token_or_from_another_site_change_nothing() {
    let server = Server::start().await;
    let id = server
        .declare("Pool withdrawals failing", "protocol-ddos")
        .await;
    let ack = format!("/incidents/{id}/ack");
    let before = server.timeline_len(&id).await;

    let missing = server.submit_raw(&ack, Some(&server.responder), &[]).await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN, "{missing:?}");
    assert!(missing.body.contains("anti-forgery"), "{}", missing.body);

    // Another session's token does not pass for this one.
    let other = server.form_token(&server.admin).await;
    let stolen = server
        .submit_raw(&ack, Some(&server.responder), &[("_csrf", &other)])
        .await;
    assert_eq!(stolen.status, StatusCode::FORBIDDEN);

    // The right token, sent from another origin.
    let token = server.form_token(&server.responder).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let cross = client
        .post(format!("{}{ack}", server.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", "https://evil.example")
        .header("cookie", format!("muster_session={}", server.responder))
        .body(format!("_csrf={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), StatusCode::FORBIDDEN);
    assert!(!acknowledged(&server, &id).await);
    assert_eq!(
        server.timeline_len(&id).await,
        before,
        "nothing was recorded"
    );

    // The same form, genuine, acts.
    let done = server.submit(&ack, &server.responder, &[]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{done:?}");
    assert!(done.location().starts_with(&format!("/incidents/{id}")));
    assert!(acknowledged(&server, &id).await);
    server.stop().await;
}

#[tokio::test]
async fn a_viewer_sees_incidents_but_cannot_act_on_them() {
    let server = Server::start().await;
    let id = server
        .declare("Bridge relayer stuck", "protocol-ddos")
        .await;
    let before = server.timeline_len(&id).await;
    let page = server
        .page(&format!("/incidents/{id}"), Some(&server.viewer))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Bridge relayer stuck"));
    assert!(
        !page.body.contains(&format!("action=\"/incidents/{id}/")),
        "a viewer is shown no forms"
    );

    for (action, fields) in [
        ("ack", vec![]),
        ("note", vec![("text", "viewer was here")]),
        ("resolve", vec![("summary", "viewer fixed it")]),
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
    let declare = server
        .submit(
            "/incidents",
            &server.viewer,
            &[("title", "viewer incident")],
        )
        .await;
    assert_eq!(declare.status, StatusCode::FORBIDDEN);
    let form = server.page("/incidents/new", Some(&server.viewer)).await;
    assert_eq!(form.status, StatusCode::FORBIDDEN);
    assert_eq!(server.timeline_len(&id).await, before);
    assert_eq!(server.total().await, 1);
    server.stop().await;
}

#[tokio::test]
async fn user_text_is_escaped_on_every_page_and_in_the_live_stream() {
    let server = protocol_server().await;
    let answer = server
        .post(
            "/api/incidents",
            &server.responder,
            &json!({"title": HOSTILE, "scenario": "treasury-drain", "summary": HOSTILE, "tags": [HOSTILE]}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{answer:?}");
    let id = answer.body["incident"]["id"].as_str().unwrap().to_owned();
    for command in [
        json!({"command": "add_note", "text": HOSTILE}),
        json!({"command": "publish_update", "state": "investigating", "title": HOSTILE, "message": HOSTILE}),
    ] {
        let answer = server.command(&id, &command).await;
        assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    }
    let live = live_events(&server, &id, 0, |text| text.contains("Status page:")).await;
    for (path, page) in [
        (
            "incident",
            server
                .page(&format!("/incidents/{id}"), Some(&server.viewer))
                .await
                .body,
        ),
        (
            "list",
            server.page("/incidents", Some(&server.viewer)).await.body,
        ),
        (
            "dashboard",
            server.page("/", Some(&server.viewer)).await.body,
        ),
        ("status", server.page("/status", None).await.body),
        ("feed", server.page("/status/feed.atom", None).await.body),
        ("live", live),
    ] {
        assert!(
            !page.contains("<script>alert"),
            "{path} carries live markup"
        );
        assert!(!page.contains("<img src=x"), "{path} carries live markup");
        if path != "dashboard" {
            assert!(
                page.contains("&#60;script&#62;") || page.contains("&lt;script&gt;"),
                "{path} lost the text"
            );
        }
    }
    server.stop().await;
}

/// Reads the incident's live stream (signed in as the viewer) until `done` holds for what came.
async fn live_events(server: &Server, id: &str, after: u64, done: impl Fn(&str) -> bool) -> String {
    let mut response = reqwest::Client::new()
        .get(format!("{}/incidents/{id}/live?after={after}", server.base))
        .header("cookie", format!("muster_session={}", server.viewer))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let mut seen = String::new();
    tokio::time::timeout(Duration::from_secs(10), async {
        while !done(&seen) {
            let chunk = response
                .chunk()
                .await
                .unwrap()
                .expect("the stream stays open");
            seen.push_str(&String::from_utf8_lossy(&chunk));
        }
    })
    .await
    .unwrap_or_else(|_| panic!("the live stream never carried what was expected: {seen}"));
    seen
}

#[tokio::test]
async fn the_live_stream_carries_events_recorded_after_the_page_was_drawn() {
    let server = Server::start().await;
    let id = server.declare("Sequencer halted", "protocol-ddos").await;
    let last = u64::try_from(server.timeline_len(&id).await).unwrap();
    let reader = {
        let base = server.base.clone();
        let viewer = server.viewer.clone();
        let id = id.clone();
        tokio::spawn(async move {
            let mut response = reqwest::Client::new()
                .get(format!("{base}/incidents/{id}/live?after={last}"))
                .header("cookie", format!("muster_session={viewer}"))
                .send()
                .await
                .unwrap();
            let mut seen = String::new();
            while !seen.contains("event: summary") {
                let chunk = response.chunk().await.unwrap().unwrap();
                seen.push_str(&String::from_utf8_lossy(&chunk));
            }
            seen
        })
    };
    // The reader is connected once the stream answers; the note is added after that.
    wait_until_subscribed(&server).await;
    let answer = server
        .command(
            &id,
            &json!({"command": "add_note", "text": "rolled back to v1.4.2"}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    let seen = tokio::time::timeout(Duration::from_secs(10), reader)
        .await
        .expect("the note arrives live")
        .unwrap();
    assert!(seen.contains("event: timeline"), "{seen}");
    assert!(seen.contains(&format!("id: {}", last + 1)), "{seen}");
    assert!(seen.contains("Note: rolled back to v1.4.2"), "{seen}");
    assert!(
        !seen.contains("Declared"),
        "only events after the page's last one: {seen}"
    );
    server.stop().await;
}

/// Waits until a live page is subscribed to the engine's announcements.
async fn wait_until_subscribed(server: &Server) {
    tokio::time::timeout(Duration::from_secs(10), async {
        while server.engine.change_listeners() == 0 {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("a live page subscribes");
}

#[tokio::test]
async fn declaring_from_the_form_opens_the_incident_and_a_bad_form_changes_nothing() {
    let server = Server::start().await;
    let created = server
        .submit(
            "/incidents",
            &server.responder,
            &[
                ("title", "RPC nodes out of sync"),
                ("scenario", "protocol-ddos"),
                ("summary", ""),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{created:?}");
    let location = created.location().to_owned();
    assert!(location.starts_with("/incidents/INC-"), "{location}");
    let page = server.page(&location, Some(&server.responder)).await;
    assert!(page.body.contains("RPC nodes out of sync"));
    assert!(page.body.contains("id=\"live-state\""));

    let refused = server
        .submit(
            "/incidents",
            &server.responder,
            &[("title", "  "), ("scenario", "protocol-ddos")],
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{refused:?}"
    );
    assert!(refused.body.contains("title"), "{}", refused.body);
    let unknown = server
        .submit(
            "/incidents",
            &server.responder,
            &[("title", "x"), ("severity", "P9")],
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unknown.body.contains("P9"), "{}", unknown.body);
    assert_eq!(server.total().await, 1);

    let list = server
        .page("/incidents?severity=P9", Some(&server.viewer))
        .await;
    assert_eq!(list.status, StatusCode::BAD_REQUEST);
    assert!(list.body.contains("P9"), "{}", list.body);
    let dates = server
        .page("/incidents?from=yesterday", Some(&server.viewer))
        .await;
    assert_eq!(dates.status, StatusCode::BAD_REQUEST);
    assert!(dates.body.contains("YYYY-MM-DD"), "{}", dates.body);
    // Days are the plan's: today's incident is in a list from today and until today, not in
    // one until yesterday.
    let zone = jiff::tz::TimeZone::get(server.engine.plan().plan.timezone()).unwrap();
    let today = jiff::Timestamp::now().to_zoned(zone).date();
    let yesterday = today.yesterday().unwrap();
    for (query, listed) in [
        (format!("from={today}&until={today}"), true),
        (format!("until={yesterday}"), false),
        (format!("from={yesterday}"), true),
    ] {
        let page = server
            .page(&format!("/incidents?{query}"), Some(&server.viewer))
            .await;
        assert_eq!(page.status, StatusCode::OK, "{query}");
        assert_eq!(
            page.body.contains("RPC nodes out of sync"),
            listed,
            "{query}"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn a_gated_step_waits_for_its_quorum_on_the_page() {
    let server = protocol_server().await;
    let id = server.declare("Treasury outflow", "treasury-drain").await;
    let gated = |body: &str| -> String {
        let start = body
            .find("id=\"step-pause\"")
            .expect("the gated step is listed");
        let end = body[start..].find("</li>").unwrap() + start;
        body[start..end].to_owned()
    };
    let page = server
        .page(&format!("/incidents/{id}"), Some(&server.responder))
        .await;
    let step = gated(&page.body);
    assert!(step.contains("class=\"blocked\""), "{step}");
    assert!(step.contains("disabled"), "{step}");
    assert!(step.contains("0 of 2 approvals"), "{step}");
    // Marking it done anyway is refused by the engine's rule, shown as a page.
    let early = server
        .submit(
            &format!("/incidents/{id}/step"),
            &server.responder,
            &[("step", "pause")],
        )
        .await;
    assert_eq!(early.status, StatusCode::CONFLICT, "{early:?}");
    assert!(early.body.contains("approv"), "{}", early.body);

    let admin = server
        .engine
        .create_token("guardian-desk", Role::Admin, None)
        .await
        .unwrap();
    for approver in ["mara", "daniel"] {
        let answer = server
            .submit(
                &format!("/incidents/{id}/approve"),
                &admin,
                &[
                    ("decision", "pause-protocol"),
                    ("approver", approver),
                    ("signature", "0x00"),
                ],
            )
            .await;
        // The plan asks for signed approvals: a bad signature is refused and changes nothing.
        assert_eq!(answer.status, StatusCode::CONFLICT, "{answer:?}");
    }
    let page = server
        .page(&format!("/incidents/{id}"), Some(&server.responder))
        .await;
    assert!(gated(&page.body).contains("disabled"));
    server.stop().await;
}
