//! The on-call calendar feed: RFC 5545 framing (CRLF, folding at 75 octets on character
//! boundaries, escaped text), one event per shift with the shift's exact times, and identifiers
//! that survive regeneration.

use jiff::Timestamp;
use muster_core::plan::ical::{self, calendar, fold};
use muster_core::plan::oncall::shifts;
use muster_core::plan::{Plan, Schedule};
use serde_json::json;

/// A Berlin plan whose people have multibyte names and contacts, with a weekly Monday 09:00
/// rotation over the spring-forward of 2026-03-29 and one override with a reason.
fn plan() -> Plan {
    serde_json::from_value(json!({
        "version": 1,
        "organization": { "name": "Hafen, Süd; GmbH", "timezone": "Europe/Berlin" },
        "people": [
            { "id": "zoe", "name": "Zoë Ångström-Çelik 東京オフィス担当", "title": "Sécurité",
              "contacts": { "email": "zoe@example.org", "phone": "+49 30 555 0100", "matrix": "@zoe:example.org" } },
            { "id": "ole", "name": "Ole Ødegård", "contacts": { "telegram": "@ole" } },
            { "id": "ann", "name": "Ann, the backup" },
        ],
        "schedules": [{
            "id": "primary",
            "name": "Primär-Überwachung; Rufbereitschaft, Protokoll",
            "rotations": [{ "name": "Wöchentlich", "members": ["zoe", "ole"], "every": "1w", "handoff": "mon 09:00", "start": "2026-03-16" }],
            "overrides": [{ "person": "ann", "from": "2026-03-25T10:00", "to": "2026-03-25T18:00", "reason": "Zoë\\out; back at 18:00" }],
        }],
    }))
    .expect("the fixture is a valid plan")
}

fn schedule(plan: &Plan) -> &Schedule {
    &plan.schedules[0]
}

fn at(text: &str) -> Timestamp {
    text.parse().expect("a valid timestamp")
}

/// The content lines of a calendar with folding undone.
fn unfold(text: &str) -> Vec<String> {
    text.replace("\r\n ", "")
        .split("\r\n")
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Each event's properties, in order.
fn events(text: &str) -> Vec<Vec<(String, String)>> {
    let mut events = Vec::new();
    let mut current: Option<Vec<(String, String)>> = None;
    for line in unfold(text) {
        match line.as_str() {
            "BEGIN:VEVENT" => current = Some(Vec::new()),
            "END:VEVENT" => events.push(current.take().expect("an event was open")),
            _ => {
                if let Some(event) = current.as_mut() {
                    let (name, value) = line.split_once(':').expect("name:value");
                    event.push((name.to_owned(), value.to_owned()));
                }
            }
        }
    }
    events
}

fn property<'a>(event: &'a [(String, String)], name: &str) -> &'a str {
    event.iter().find(|(key, _)| key == name).map_or_else(
        || panic!("the event has {name}"),
        |(_, value)| value.as_str(),
    )
}

const FROM: &str = "2026-03-16T08:00:00Z";
const TO: &str = "2026-04-13T07:00:00Z";
const NOW: &str = "2026-03-20T11:22:33Z";

fn feed() -> String {
    let plan = plan();
    calendar(&plan, schedule(&plan), at(FROM), at(TO), at(NOW)).unwrap()
}

#[test]
fn lines_end_with_crlf_and_are_folded_at_75_octets_on_character_boundaries() {
    let text = feed();
    assert!(
        text.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"),
        "{text}"
    );
    assert!(text.ends_with("END:VCALENDAR\r\n"));
    assert_eq!(
        text.matches('\n').count(),
        text.matches("\r\n").count(),
        "no bare LF"
    );
    assert_eq!(
        text.matches('\r').count(),
        text.matches("\r\n").count(),
        "no bare CR"
    );
    let physical: Vec<&str> = text.trim_end_matches("\r\n").split("\r\n").collect();
    assert!(
        physical.iter().all(|line| line.len() <= 75),
        "{physical:#?}"
    );
    assert!(
        physical.iter().any(|line| line.starts_with(' ')),
        "the long summaries and descriptions are folded"
    );
    // Every fold is as late as it can be: the character that starts the continuation did not fit.
    // Zoë's summary has a two-octet Ü across octet 75, which moves whole to the next line.
    let folds: Vec<(&str, char)> = physical
        .iter()
        .zip(physical.iter().skip(1))
        .filter_map(|(line, next)| Some((*line, next.strip_prefix(' ')?.chars().next()?)))
        .collect();
    for (line, first) in &folds {
        assert!(line.len() + first.len_utf8() > 75, "{line:?} folded early");
    }
    assert!(
        folds
            .iter()
            .any(|(line, first)| line.len() == 74 && *first == 'Ü'),
        "{physical:#?}"
    );
    let summary = unfold(&text)
        .into_iter()
        .find(|line| line.starts_with("SUMMARY:On call: Zoë"))
        .expect("zoe has a shift");
    assert_eq!(
        summary,
        "SUMMARY:On call: Zoë Ångström-Çelik 東京オフィス担当 (Primär-Überwachung\\; Rufbereitschaft\\, Protokoll)"
    );
    assert!(summary.len() > 75);
}

#[test]
fn folding_never_splits_a_character() {
    let mut out = String::new();
    fold(&format!("{}é{}", "a".repeat(74), "東".repeat(30)), &mut out);
    let lines: Vec<&str> = out.trim_end_matches("\r\n").split("\r\n").collect();
    // 74 + 2 octets would pass 75: the é starts the next line, after the space.
    assert_eq!(lines[0], "a".repeat(74));
    assert!(lines[1].starts_with(" é東"));
    // The continuation holds the space, the é and as many whole three-octet characters as fit.
    assert_eq!(lines[1].len(), 1 + 2 + 3 * 24);
    for line in &lines {
        assert!(line.len() <= 75, "{line}");
    }
    assert_eq!(
        out.replace("\r\n ", ""),
        format!("{}é{}\r\n", "a".repeat(74), "東".repeat(30))
    );
    // Exactly 75 octets is not folded.
    let mut exact = String::new();
    fold(&"x".repeat(75), &mut exact);
    assert_eq!(exact, format!("{}\r\n", "x".repeat(75)));
}

#[test]
fn text_values_are_escaped() {
    assert_eq!(
        ical::text("back\\slash; semi, comma\nLF\r\nCRLF\rCR\ttab\u{7}bell"),
        "back\\\\slash\\; semi\\, comma\\nLF\\nCRLF\\nCR\ttabbell"
    );
    let lines = unfold(&feed());
    assert!(
        lines.contains(&"X-WR-CALNAME:Primär-Überwachung\\; Rufbereitschaft\\, Protokoll (Hafen\\, Süd\\; GmbH)".to_owned()),
        "{lines:#?}"
    );
    let override_description = events(&feed())
        .into_iter()
        .find(|event| property(event, "SUMMARY").contains("Ann"))
        .map(|event| property(&event, "DESCRIPTION").to_owned())
        .expect("ann's override is an event");
    assert_eq!(
        override_description,
        "Ann\\, the backup\\nFrom an override: Zoë\\\\out\\; back at 18:00"
    );
}

#[test]
fn the_calendar_has_the_required_properties() {
    let lines = unfold(&feed());
    for required in [
        "VERSION:2.0",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "PRODID:-//Muster//On-call calendar//EN",
    ] {
        assert!(lines.contains(&required.to_owned()), "{required}");
    }
    for event in events(&feed()) {
        assert_eq!(property(&event, "DTSTAMP"), "20260320T112233Z");
        assert!(property(&event, "UID").ends_with("@muster"));
    }
    let zoe = events(&feed())
        .into_iter()
        .find(|event| property(event, "SUMMARY").contains("Zoë"))
        .unwrap();
    assert_eq!(
        property(&zoe, "DESCRIPTION"),
        "Zoë Ångström-Çelik 東京オフィス担当\\, Sécurité\\nemail: zoe@example.org\\nphone: +49 30 555 0100\\nmatrix: @zoe:example.org\\nFrom the rotation \"Wöchentlich\"."
    );
}

#[test]
fn every_event_is_one_shift_with_its_exact_times() {
    let plan = plan();
    let expected = shifts(&plan, schedule(&plan), at(FROM), at(TO)).unwrap();
    let events = events(&feed());
    assert_eq!(events.len(), expected.len());
    // Zoë, Ole (split by Ann's override on Wednesday), Zoë, Ole: six shifts.
    assert_eq!(events.len(), 6);
    for (event, shift) in events.iter().zip(&expected) {
        assert_eq!(property(event, "DTSTART"), ical::utc(shift.start));
        assert_eq!(property(event, "DTEND"), ical::utc(shift.end));
        assert_eq!(
            property(event, "UID"),
            format!("primary-{}-{}@muster", ical::utc(shift.start), shift.person)
        );
    }
    // The hand-offs are 09:00 in Berlin: 08:00Z before the spring-forward, 07:00Z after it.
    assert_eq!(property(&events[0], "DTSTART"), "20260316T080000Z");
    assert_eq!(property(&events[4], "DTSTART"), "20260330T070000Z");
    // Ann's override runs 10:00 to 18:00 in Berlin; Ole takes back the rest of his week.
    assert_eq!(property(&events[2], "DTSTART"), "20260325T090000Z");
    assert_eq!(property(&events[2], "DTEND"), "20260325T170000Z");
    assert_eq!(property(&events[3], "DTSTART"), "20260325T170000Z");
    assert_eq!(property(&events[3], "DTEND"), "20260330T070000Z");
}

#[test]
fn events_keep_their_identity_and_times_when_the_feed_is_regenerated_later() {
    let plan = plan();
    let schedule = schedule(&plan);
    let first = calendar(&plan, schedule, at(FROM), at(TO), at(NOW)).unwrap();
    // A day and a half later, starting in the middle of the first shift.
    let later = calendar(
        &plan,
        schedule,
        at("2026-03-21T23:00:00Z"),
        at(TO),
        at("2026-03-21T23:00:00Z"),
    )
    .unwrap();
    let strip = |text: &str| -> Vec<Vec<(String, String)>> {
        events(text)
            .into_iter()
            .map(|event| {
                event
                    .into_iter()
                    .filter(|(name, _)| name != "DTSTAMP")
                    .collect()
            })
            .collect()
    };
    assert_eq!(strip(&first), strip(&later));
}
