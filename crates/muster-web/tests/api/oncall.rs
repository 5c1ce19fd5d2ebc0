//! `GET /api/oncall` and the calendar feed `GET /api/schedules/{id}/oncall.ics` on the example
//! start-up plan: a weekly rotation of janet and david handing off on Mondays at 09:00 UTC from
//! 2026-01-05.

use reqwest::header::{CONTENT_TYPE, HeaderMap};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::Server;

/// An answer whose body may be anything.
struct Raw {
    status: StatusCode,
    headers: HeaderMap,
    text: String,
}

impl Raw {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).expect("a JSON body")
    }

    #[track_caller]
    fn expect_error(&self, status: u16, code: &str) {
        assert_eq!(self.status.as_u16(), status, "{}", self.text);
        let body = self.json();
        assert_eq!(body["error"]["code"], code, "{}", self.text);
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|message| !message.is_empty())
        );
    }
}

async fn raw(server: &Server, path: &str, bearer: Option<&str>) -> Raw {
    let mut request = server.client.get(format!("{}{path}", server.base));
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    Raw {
        status: response.status(),
        headers: response.headers().clone(),
        text: response.text().await.unwrap(),
    }
}

/// A token as a query value: `mst_` and URL-safe characters need no escaping, but be sure.
fn query_value(text: &str) -> String {
    text.bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
                char::from(byte).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect()
}

fn feed(token: &str) -> String {
    format!(
        "/api/schedules/first-responder/oncall.ics?token={}",
        query_value(token)
    )
}

/// Who the example rotation puts on call at a UTC moment given as seconds since the epoch, and
/// when that shift started, counted in whole weeks from Monday 2026-01-05 09:00 UTC.
fn expected(seconds: i64) -> (&'static str, i64) {
    const FIRST: i64 = 1_767_603_600; // 2026-01-05T09:00:00Z
    const WEEK: i64 = 7 * 24 * 3600;
    let week = (seconds - FIRST).div_euclid(WEEK);
    let person = if week.rem_euclid(2) == 0 {
        "janet"
    } else {
        "david"
    };
    (person, FIRST + week * WEEK)
}

#[tokio::test]
async fn a_viewer_sees_who_is_on_call_now_and_next() {
    let server = Server::start().await;
    // Monday 2026-01-12 at 10:00 UTC, one hour into week 1.
    let answer = server
        .get("/api/oncall?at=2026-01-12T10:00:00Z", &server.viewer)
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    assert_eq!(
        answer.body,
        json!({
            "at": "2026-01-12T10:00:00Z",
            "schedules": [{
                "schedule": "first-responder",
                "name": "First responder",
                "timezone": "UTC",
                "now": {
                    "person": "david",
                    "start": "2026-01-12T09:00:00Z",
                    "end": "2026-01-19T09:00:00Z",
                    "source": {"kind": "rotation", "index": 0},
                },
                "next": {
                    "person": "janet",
                    "start": "2026-01-19T09:00:00Z",
                    "end": "2026-01-26T09:00:00Z",
                    "source": {"kind": "rotation", "index": 0},
                },
            }],
        })
    );
    assert_eq!(expected(1_768_212_000), ("david", 1_768_208_400));

    // Without `at`, the engine's clock decides.
    let answer = server.get("/api/oncall", &server.viewer).await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    let at: jiff::Timestamp = answer.body["at"].as_str().unwrap().parse().unwrap();
    let (person, start) = expected(at.as_second());
    let now = &answer.body["schedules"][0]["now"];
    assert_eq!(now["person"], person);
    let start = jiff::Timestamp::from_second(start).unwrap();
    assert_eq!(now["start"], start.to_string());
    server.stop().await;
}

#[tokio::test]
async fn the_summary_needs_a_token_and_a_readable_query() {
    let server = Server::start().await;
    server
        .send(Method::GET, "/api/oncall", None, None, None)
        .await
        .expect(401, "missing-token");
    server
        .get("/api/oncall", &server.revoked)
        .await
        .expect(401, "revoked-token");
    server
        .get("/api/oncall?at=yesterday", &server.viewer)
        .await
        .expect(400, "invalid-query");
    server
        .get("/api/oncall?when=2026-01-12T10:00:00Z", &server.viewer)
        .await
        .expect(400, "invalid-query");
    server
        .get(
            "/api/oncall?at=2026-01-12T10:00:00Z&at=2026-01-13T10:00:00Z",
            &server.viewer,
        )
        .await
        .expect(400, "invalid-query");
    server.stop().await;
}

#[tokio::test]
async fn the_calendar_takes_a_viewer_token_in_the_query() {
    let server = Server::start().await;
    let answer = raw(&server, &feed(&server.viewer), None).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(answer.headers[CONTENT_TYPE], "text/calendar; charset=utf-8");
    assert!(
        answer
            .text
            .starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
    );
    assert!(answer.text.ends_with("END:VCALENDAR\r\n"));

    // From 7 days ago to 90 days ahead, in whole weekly shifts.
    let now = jiff::Timestamp::now().as_second();
    let unfolded = answer.text.replace("\r\n ", "");
    let times = |name: &str| -> Vec<i64> {
        unfolded
            .lines()
            .filter_map(|line| line.strip_prefix(name))
            .map(|value| {
                jiff::fmt::strtime::parse("%Y%m%dT%H%M%SZ", value.trim_end())
                    .unwrap()
                    .to_datetime()
                    .unwrap()
                    .to_zoned(jiff::tz::TimeZone::UTC)
                    .unwrap()
                    .timestamp()
                    .as_second()
            })
            .collect()
    };
    let starts = times("DTSTART:");
    let ends = times("DTEND:");
    assert_eq!(starts.len(), ends.len());
    assert!(starts.len() >= 14, "{}", answer.text);
    let (_, first_start) = expected(now - 7 * 24 * 3600);
    assert_eq!(starts[0], first_start);
    assert!(*ends.last().unwrap() >= now + 90 * 24 * 3600);
    assert!(*starts.last().unwrap() < now + 90 * 24 * 3600 + 60);
    for (start, end) in starts.iter().zip(&ends) {
        assert_eq!(end - start, 7 * 24 * 3600);
        let (person, shift_start) = expected(*start);
        assert_eq!(shift_start, *start);
        let name = if person == "janet" {
            "SUMMARY:On call: Janet"
        } else {
            "SUMMARY:On call: David"
        };
        assert!(unfolded.contains(name), "{name}");
    }

    // A bearer header works as well; the API's other tokens too.
    let answer = raw(
        &server,
        "/api/schedules/first-responder/oncall.ics",
        Some(&server.admin),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert!(answer.text.starts_with("BEGIN:VCALENDAR\r\n"));
    server.stop().await;
}

#[tokio::test]
async fn the_calendar_refuses_a_missing_or_bad_token_before_anything_else() {
    let server = Server::start().await;
    let without = raw(&server, "/api/schedules/first-responder/oncall.ics", None).await;
    without.expect_error(401, "missing-token");
    assert_eq!(without.headers["www-authenticate"], "Bearer");
    raw(
        &server,
        "/api/schedules/first-responder/oncall.ics?token=",
        None,
    )
    .await
    .expect_error(401, "missing-token");
    raw(&server, &feed("mst_not-a-token"), None)
        .await
        .expect_error(401, "invalid-token");
    raw(&server, &feed(&server.revoked), None)
        .await
        .expect_error(401, "revoked-token");
    // An unknown schedule is not revealed to a caller without a token.
    raw(&server, "/api/schedules/nope/oncall.ics", None)
        .await
        .expect_error(401, "missing-token");
    server.stop().await;
}

#[tokio::test]
async fn an_unknown_schedule_is_404() {
    let server = Server::start().await;
    let answer = raw(
        &server,
        &feed(&server.viewer).replace("first-responder", "first-responders"),
        None,
    )
    .await;
    answer.expect_error(404, "unknown-schedule");
    assert!(
        answer.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("did you mean 'first-responder'?"),
        "{}",
        answer.text
    );
    raw(&server, &format!("{}&extra=1", feed(&server.viewer)), None)
        .await
        .expect_error(400, "invalid-query");
    server.stop().await;
}

#[tokio::test]
async fn both_routes_are_documented() {
    let document = muster_web::openapi();
    let summary = &document["paths"]["/api/oncall"]["get"];
    assert_eq!(summary["x-muster-role"], "viewer");
    assert_eq!(summary["parameters"][0]["name"], "at");
    let schema = &document["components"]["schemas"]["ScheduleNow"]["properties"];
    let mut documented: Vec<&str> = schema
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    documented.sort_unstable();
    assert_eq!(
        documented,
        ["error", "name", "next", "now", "schedule", "timezone"]
    );
    let shift = &document["components"]["schemas"]["Shift"]["properties"];
    for field in ["person", "start", "end", "source"] {
        assert!(shift[field].is_object(), "{field}");
    }
    let calendar = &document["paths"]["/api/schedules/{id}/oncall.ics"]["get"];
    let parameters: Vec<&str> = calendar["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|parameter| parameter["name"].as_str().unwrap())
        .collect();
    assert_eq!(parameters, ["id", "token"]);
    for status in ["200", "401", "404"] {
        assert!(calendar["responses"][status].is_object(), "{status}");
    }
}
