//! `GET /metrics` and `GET /api/metrics/report` over real HTTP, on the intake plan and a
//! hand-set clock: incidents declared, acknowledged and resolved, an alert taken in, a page
//! attempted and a timer fired, then the scrape read by a strict parser of the text format.

// The values compared are whole numbers and halves, exact in binary.
#![allow(clippy::float_cmp)]

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

use muster_engine::{EngineOptions, ManualClock};
use reqwest::StatusCode;
use serde_json::json;

use crate::Server;

const PROMETHEUS_KEY: &str = "am-key-metrics-7d1f";
const MINUTE: i64 = 60_000;

/// 2026-03-02 10:00 UTC.
const START: i64 = 1_772_445_600_000;

async fn start() -> (Server, Arc<ManualClock>) {
    let secrets: HashMap<&str, &str> = [
        ("PAGER_HOOK_SECRET", "hook-secret-for-tests"),
        ("PROMETHEUS_KEY", PROMETHEUS_KEY),
    ]
    .into_iter()
    .collect();
    let options = EngineOptions {
        secrets: Arc::new(move |name| secrets.get(name).map(|value| (*value).to_owned())),
        ..EngineOptions::default()
    };
    let clock = Arc::new(ManualClock::new(START));
    let plan = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/api/fixtures/intake.yaml");
    let server = Server::start_with_plan(&plan, clock.clone(), options).await;
    (server, clock)
}

/// One sample: its name and labels.
type Series = (String, BTreeMap<String, String>);

/// A scrape read: each family's type, and each series' value.
type Scrape = (BTreeMap<String, String>, BTreeMap<Series, f64>);

/// A scrape, read strictly: every sample belongs to a family announced by `# TYPE` before it
/// (a summary's `_sum` and `_count` to the summary), names and labels are well formed, label
/// values are escaped as the format says, values are numbers, and no series comes twice.
fn parse(text: &str) -> Result<Scrape, String> {
    let mut types: BTreeMap<String, String> = BTreeMap::new();
    let mut helped: Vec<String> = Vec::new();
    let mut samples: BTreeMap<Series, f64> = BTreeMap::new();
    if !text.ends_with('\n') {
        return Err("the text does not end with a line feed".to_owned());
    }
    for (number, line) in text.lines().enumerate() {
        let at = |why: String| format!("line {}: {why}: {line:?}", number + 1);
        if line.is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            let mut words = comment.trim_start().splitn(3, ' ');
            match (words.next(), words.next(), words.next()) {
                (Some("TYPE"), Some(name), Some(kind)) => {
                    name_ok(name).map_err(at)?;
                    if !["counter", "gauge", "summary", "histogram", "untyped"].contains(&kind) {
                        return Err(at(format!("unknown type {kind}")));
                    }
                    if samples
                        .keys()
                        .any(|(sample, _)| family_of(sample, &types) == Some(name))
                    {
                        return Err(at("TYPE after the family's samples".to_owned()));
                    }
                    if types.insert(name.to_owned(), kind.to_owned()).is_some() {
                        return Err(at("a second TYPE for the family".to_owned()));
                    }
                }
                (Some("HELP"), Some(name), _) => {
                    name_ok(name).map_err(at)?;
                    if helped.contains(&name.to_owned()) {
                        return Err(at("a second HELP for the family".to_owned()));
                    }
                    helped.push(name.to_owned());
                }
                _ => {}
            }
            continue;
        }
        let (series, value) = sample(line).map_err(at)?;
        let family = family_of(&series.0, &types)
            .ok_or_else(|| at("no TYPE announced this sample's family".to_owned()))?;
        if types[family] == "summary" && series.0 == family && !series.1.contains_key("quantile") {
            return Err(at("a summary sample without a quantile".to_owned()));
        }
        if samples.insert(series, value).is_some() {
            return Err(at("the same series twice".to_owned()));
        }
    }
    Ok((types, samples))
}

/// The family a sample name belongs to, among those announced.
fn family_of<'a>(name: &'a str, types: &BTreeMap<String, String>) -> Option<&'a str> {
    if types.contains_key(name) {
        return Some(name);
    }
    for suffix in ["_sum", "_count", "_bucket"] {
        if let Some(base) = name.strip_suffix(suffix)
            && let Some(kind) = types.get(base)
            && (kind == "summary" || kind == "histogram")
            && (suffix != "_bucket" || kind == "histogram")
        {
            return Some(base);
        }
    }
    None
}

fn name_ok(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':');
    if first_ok && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
        Ok(())
    } else {
        Err(format!("'{name}' is not a metric name"))
    }
}

/// `name{label="value",…} value [timestamp]`.
fn sample(line: &str) -> Result<(Series, f64), String> {
    let name_end = line.find(['{', ' ']).ok_or("no value")?;
    let name = &line[..name_end];
    name_ok(name)?;
    let mut rest = &line[name_end..];
    let mut labels = BTreeMap::new();
    if let Some(inner) = rest.strip_prefix('{') {
        let mut chars = inner.char_indices().peekable();
        loop {
            let Some(&(start, c)) = chars.peek() else {
                return Err("the labels do not close".to_owned());
            };
            if c == '}' {
                rest = &inner[start + 1..];
                break;
            }
            let eq = inner[start..].find('=').ok_or("a label without '='")? + start;
            let label = &inner[start..eq];
            let mut label_chars = label.chars();
            if !(label_chars
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && label_chars.all(|c| c.is_ascii_alphanumeric() || c == '_'))
            {
                return Err(format!("'{label}' is not a label name"));
            }
            while chars.peek().is_some_and(|(at, _)| *at <= eq) {
                chars.next();
            }
            if chars.next().map(|(_, c)| c) != Some('"') {
                return Err(format!("label {label}'s value is not quoted"));
            }
            let mut value = String::new();
            loop {
                match chars.next().map(|(_, c)| c) {
                    None => return Err("a label value does not end".to_owned()),
                    Some('"') => break,
                    Some('\\') => match chars.next().map(|(_, c)| c) {
                        Some('\\') => value.push('\\'),
                        Some('"') => value.push('"'),
                        Some('n') => value.push('\n'),
                        other => return Err(format!("a bad escape \\{other:?}")),
                    },
                    Some('\n') => return Err("a raw line feed in a label value".to_owned()),
                    Some(c) => value.push(c),
                }
            }
            if labels.insert(label.to_owned(), value).is_some() {
                return Err(format!("label {label} twice"));
            }
            match chars.peek().map(|(_, c)| *c) {
                Some(',') => {
                    chars.next();
                }
                Some('}') => {}
                _ => return Err("labels are not separated by commas".to_owned()),
            }
        }
    }
    let mut parts = rest
        .strip_prefix(' ')
        .ok_or("no space before the value")?
        .split(' ');
    let value = parts.next().ok_or("no value")?;
    let value = match value {
        "NaN" => f64::NAN,
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        number => number
            .parse::<f64>()
            .ok()
            .filter(|value| value.is_finite())
            .ok_or(format!("'{number}' is not a number"))?,
    };
    if let Some(timestamp) = parts.next() {
        timestamp
            .parse::<i64>()
            .map_err(|_| format!("'{timestamp}' is not a timestamp"))?;
    }
    if parts.next().is_some() {
        return Err("more after the timestamp".to_owned());
    }
    Ok(((name.to_owned(), labels), value))
}

fn series(name: &str, labels: &[(&str, &str)]) -> Series {
    (
        name.to_owned(),
        labels
            .iter()
            .map(|(label, value)| ((*label).to_owned(), (*value).to_owned()))
            .collect(),
    )
}

#[test]
fn the_parser_refuses_what_the_format_does_not_allow() {
    let good = "# HELP a_total A.\n# TYPE a_total counter\na_total{x=\"q\\\"\\\\\\n\"} 1\n";
    let (_, samples) = parse(good).unwrap();
    assert_eq!(samples[&series("a_total", &[("x", "q\"\\\n")])], 1.0);
    for bad in [
        "a_total 1\n",
        "# TYPE a_total counter\na_total 1\na_total 2\n",
        "# TYPE a_total counter\na_total{x=\"1\"} one\n",
        "# TYPE a_total counter\na_total{x=1} 1\n",
        "# TYPE a_total counter\na_total{1x=\"1\"} 1\n",
        "# TYPE a_total counter\na_total{x=\"\\t\"} 1\n",
        "# TYPE 1a counter\n",
        "# TYPE s summary\ns 1\n",
        "# TYPE a counter\na 1",
    ] {
        assert!(parse(bad).is_err(), "{bad:?}");
    }
}

#[tokio::test]
async fn the_scrape_counts_what_happened_in_the_text_format() {
    let (server, clock) = start().await;
    let mut ids = Vec::new();
    for (title, severity) in [
        ("Pool drained", "P1"),
        ("Oracle stale", "P1"),
        ("Slow RPC", "P3"),
    ] {
        let answer = server
            .post(
                "/api/incidents",
                &server.responder,
                &json!({"title": title, "severity": severity}),
            )
            .await;
        assert_eq!(answer.status, StatusCode::CREATED, "{answer:?}");
        ids.push(answer.body["incident"]["id"].as_str().unwrap().to_owned());
    }
    clock.advance(2 * MINUTE);
    let ack = server
        .command(&ids[0], &json!({"command": "acknowledge"}))
        .await;
    assert_eq!(ack.status, StatusCode::OK, "{ack:?}");
    clock.advance(MINUTE);
    let resolved = server
        .command(
            &ids[2],
            &json!({"command": "resolve", "summary": "cache warmed"}),
        )
        .await;
    assert_eq!(resolved.status, StatusCode::OK, "{resolved:?}");

    let alert = json!({
        "version": "4",
        "groupKey": "{}:{alertname=\"DiskFull\"}",
        "status": "firing",
        "receiver": "muster",
        "groupLabels": {"alertname": "DiskFull"},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": [{
            "status": "firing",
            "labels": {"alertname": "DiskFull", "instance": "node-1"},
            "startsAt": "2026-03-02T09:58:00Z",
            "endsAt": "0001-01-01T00:00:00Z"
        }]
    });
    let taken = server
        .send(
            reqwest::Method::POST,
            "/intake/alertmanager",
            Some(PROMETHEUS_KEY),
            Some(alert.to_string()),
            Some("application/json"),
        )
        .await;
    assert_eq!(taken.status, StatusCode::ACCEPTED, "{taken:?}");

    // The P1 declarations paged alice through a webhook nobody listens on: an attempt that
    // fails. Ten minutes on, the unacknowledged P1's deadline timer is due.
    server.engine.deliver_due().await.unwrap();
    clock.advance(10 * MINUTE);
    assert!(server.engine.fire_due_timers().await.unwrap() > 0);

    let missing = server
        .send(reqwest::Method::GET, "/metrics", None, None, None)
        .await;
    missing.expect(401, "missing-token");

    let scrape = server
        .client
        .get(format!("{}/metrics", server.base))
        .bearer_auth(&server.viewer)
        .send()
        .await
        .unwrap();
    assert_eq!(scrape.status(), StatusCode::OK);
    assert_eq!(
        scrape.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = scrape.text().await.unwrap();
    let (types, samples) = parse(&text).unwrap_or_else(|error| panic!("{error}\n{text}"));
    let value = |name: &str, labels: &[(&str, &str)]| {
        samples
            .get(&series(name, labels))
            .copied()
            .unwrap_or_else(|| panic!("no {name} {labels:?} in\n{text}"))
    };

    assert_eq!(value("muster_up", &[]), 1.0);
    assert_eq!(types["muster_incidents_open"], "gauge");
    assert_eq!(value("muster_incidents_open", &[("severity", "P1")]), 2.0);
    assert_eq!(value("muster_incidents_open", &[("severity", "P3")]), 0.0);
    assert_eq!(
        value("muster_incidents_declared", &[("severity", "P1")]),
        2.0
    );
    assert_eq!(
        value("muster_incidents_declared", &[("severity", "P3")]),
        1.0
    );

    assert_eq!(types["muster_mtta_seconds"], "summary");
    let p1 = [("severity", "P1")];
    assert_eq!(value("muster_mtta_seconds_count", &p1), 1.0);
    assert_eq!(value("muster_mtta_seconds_sum", &p1), 120.0);
    for quantile in ["0.5", "0.9"] {
        let labels = [("severity", "P1"), ("quantile", quantile)];
        assert_eq!(value("muster_mtta_seconds", &labels), 120.0);
    }
    assert_eq!(
        value("muster_mttr_seconds_count", &[("severity", "P3")]),
        1.0
    );
    assert_eq!(
        value("muster_mttr_seconds_sum", &[("severity", "P3")]),
        180.0
    );
    assert!(
        value(
            "muster_mttr_seconds",
            &[("severity", "P1"), ("quantile", "0.5")]
        )
        .is_nan()
    );
    assert_eq!(value("muster_mttd_seconds_count", &p1), 2.0);
    // P1: one acknowledged in 2 minutes (within 10), one 13 minutes on and never: a miss.
    assert_eq!(
        value(
            "muster_sla_compliance_ratio",
            &[("severity", "P1"), ("sla", "ack")]
        ),
        0.5
    );
    assert_eq!(
        value(
            "muster_target_seconds",
            &[("severity", "P1"), ("figure", "mtta")]
        ),
        600.0
    );

    assert_eq!(types["muster_alerts_received_total"], "counter");
    assert!(value("muster_alerts_received_total", &[("type", "alertmanager")]) >= 1.0);
    assert_eq!(value("muster_alerts_rejected_total", &[]), 0.0);
    let attempts: f64 = ["sent", "failed", "retrying"]
        .iter()
        .map(|outcome| value("muster_notifications_total", &[("outcome", outcome)]))
        .sum();
    assert!(attempts >= 1.0, "{text}");
    assert!(value("muster_timers_fired_total", &[]) >= 1.0);
    assert!(value("muster_timer_lag_seconds", &[("which", "max")]) >= 0.0);
    assert_eq!(value("muster_declarations_total", &[]), 3.0);
    assert_eq!(value("muster_action_items", &[("state", "open")]), 0.0);
    assert!(types.contains_key("muster_repeat_rate_ratio"));

    server.stop().await;
}

#[tokio::test]
async fn the_report_reads_days_in_the_plan_zone_and_refuses_bad_ones() {
    let (server, clock) = start().await;
    let answer = server
        .post(
            "/api/incidents",
            &server.responder,
            &json!({"title": "Pool drained", "severity": "P1"}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{answer:?}");
    clock.advance(5 * MINUTE);

    let report = server.get("/api/metrics/report", &server.viewer).await;
    assert_eq!(report.status, StatusCode::OK, "{report:?}");
    assert_eq!(report.body["incidents"], 1);
    assert_eq!(report.body["drills_included"], false);
    assert_eq!(report.body["timezone"], "UTC");
    // The last 30 days, today included: 2026-02-01 up to 2026-03-03.
    assert_eq!(report.body["from"], 1_769_904_000_000_i64);
    assert_eq!(report.body["until"], 1_772_496_000_000_i64);
    let p1 = &report.body["severities"][0];
    assert_eq!(p1["severity"], "P1");
    let ack = &p1["acknowledged_in_time"];
    assert_eq!(
        (&ack["kept"], &ack["missed"], &ack["pending"]),
        (&json!(0), &json!(0), &json!(1))
    );

    let earlier = server
        .get(
            "/api/metrics/report?from=2026-01-01&until=2026-03-01&drills=true",
            &server.viewer,
        )
        .await;
    assert_eq!(earlier.status, StatusCode::OK, "{earlier:?}");
    assert_eq!(earlier.body["incidents"], 0);
    assert_eq!(earlier.body["drills_included"], true);
    assert_eq!(earlier.body["weeks"].as_array().unwrap().len(), 9);

    for (query, parameter) in [
        ("from=2026-13-01", "from"),
        ("from=yesterday", "from"),
        ("until=2026-3-1", "until"),
        ("from=2026-03-01&until=2026-03-01", "until"),
        ("from=2026-04-01", "from"),
        ("drills=yes", "drills"),
        ("days=30", "days"),
        ("from=2026-01-01&from=2026-01-02", "from"),
    ] {
        let answer = server
            .get(&format!("/api/metrics/report?{query}"), &server.viewer)
            .await;
        answer.expect(400, "invalid-query");
        assert!(
            answer
                .message()
                .starts_with(&format!("query parameter '{parameter}'")),
            "{query}: {answer:?}"
        );
    }
    let anonymous = server
        .send(
            reqwest::Method::GET,
            "/api/metrics/report",
            None,
            None,
            None,
        )
        .await;
    anonymous.expect(401, "missing-token");
    server.stop().await;
}
