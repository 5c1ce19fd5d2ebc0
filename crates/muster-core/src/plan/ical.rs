//! A schedule's shifts as an iCalendar feed (RFC 5545), for calendar apps to subscribe to.
//!
//! One `VEVENT` per shift, in UTC. Each event's `UID` is made of the schedule, the shift's start
//! and its person, so regenerating the feed (with a later `now`, or a window that starts in the
//! middle of a shift) keeps every unchanged shift the same event; shifts are whole, never clipped
//! to the window. Lines end with CRLF and are folded at 75 octets on character boundaries; text
//! values are escaped.

use std::fmt::Write as _;

use jiff::Timestamp;

use crate::plan::model::{Plan, Schedule};
use crate::plan::oncall::{self, Shift, ShiftSource};

/// The longest line, in octets and without its CRLF, that RFC 5545 allows before folding.
const LINE_OCTETS: usize = 75;

/// The calendar of the shifts of `schedule` that overlap `[from, to)`, each whole; `now` is the
/// `DTSTAMP` of every event.
pub fn calendar(
    plan: &Plan,
    schedule: &Schedule,
    from: Timestamp,
    to: Timestamp,
    now: Timestamp,
) -> Result<String, String> {
    let shifts = oncall::overlapping_shifts(plan, schedule, from, to)?;
    let schedule_name = schedule.name.as_deref().unwrap_or(schedule.id.as_str());
    let mut out = String::new();
    let mut line = |text: &str| fold(text, &mut out);
    line("BEGIN:VCALENDAR");
    line("VERSION:2.0");
    line("PRODID:-//Muster//On-call calendar//EN");
    line("CALSCALE:GREGORIAN");
    line("METHOD:PUBLISH");
    line(&format!(
        "X-WR-CALNAME:{}",
        text(&format!("{schedule_name} ({})", plan.organization.name))
    ));
    line(&format!(
        "X-WR-CALDESC:{}",
        text(&format!(
            "Who is on call for {schedule_name}; hand-off times are kept in {}.",
            schedule
                .timezone
                .as_deref()
                .unwrap_or_else(|| plan.timezone())
        ))
    ));
    // Subscribers refresh hourly, so edits to the plan reach their calendars the same day.
    line("REFRESH-INTERVAL;VALUE=DURATION:PT1H");
    line("X-PUBLISHED-TTL:PT1H");
    for shift in &shifts {
        let description = description(plan, schedule, shift)?;
        let person_name = plan
            .person(shift.person.as_str())
            .map_or(shift.person.as_str(), |person| person.name.as_str());
        line("BEGIN:VEVENT");
        line(&format!(
            "UID:{}",
            text(&format!(
                "{}-{}-{}@muster",
                schedule.id,
                utc(shift.start),
                shift.person
            ))
        ));
        line(&format!("DTSTAMP:{}", utc(now)));
        line(&format!("DTSTART:{}", utc(shift.start)));
        line(&format!("DTEND:{}", utc(shift.end)));
        line(&format!(
            "SUMMARY:{}",
            text(&format!("On call: {person_name} ({schedule_name})"))
        ));
        line(&format!("DESCRIPTION:{}", text(&description)));
        // Being on call does not make a person busy in other people's scheduling.
        line("TRANSP:TRANSPARENT");
        line("END:VEVENT");
    }
    line("END:VCALENDAR");
    Ok(out)
}

/// A UTC date-time as iCalendar writes it: `20260105T080000Z`.
#[must_use]
pub fn utc(at: Timestamp) -> String {
    at.strftime("%Y%m%dT%H%M%SZ").to_string()
}

/// The person's name, title and contacts, and what put them on call.
fn description(plan: &Plan, schedule: &Schedule, shift: &Shift) -> Result<String, String> {
    let mut out = String::new();
    match plan.person(shift.person.as_str()) {
        Some(person) => {
            out.push_str(&person.name);
            if let Some(title) = &person.title {
                let _ = write!(out, ", {title}");
            }
            out.push('\n');
            for (method, address) in person.contacts.methods() {
                let _ = writeln!(out, "{method}: {address}");
            }
        }
        None => {
            let _ = writeln!(out, "{}", shift.person);
        }
    }
    match shift.source {
        ShiftSource::Rotation(index) => {
            let name = schedule
                .rotations
                .get(index)
                .and_then(|rotation| rotation.name.clone())
                .unwrap_or_else(|| format!("rotation {}", index + 1));
            let _ = write!(out, "From the rotation \"{name}\".");
        }
        ShiftSource::Override => {
            out.push_str("From an override");
            match oncall::override_at(plan, schedule, shift.start)?
                .and_then(|entry| entry.reason.as_deref())
            {
                Some(reason) => {
                    let _ = write!(out, ": {reason}");
                }
                None => out.push('.'),
            }
        }
    }
    Ok(out)
}

/// A TEXT value escaped as RFC 5545 §3.3.11 asks: backslash, semicolon and comma are escaped, a
/// line break (LF, CRLF or CR) becomes `\n`, and other control characters but tab are dropped.
#[must_use]
pub fn text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut characters = value.chars().peekable();
    while let Some(character) = characters.next() {
        match character {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {
                characters.next_if_eq(&'\n');
                out.push_str("\\n");
            }
            '\t' => out.push('\t'),
            control if control.is_control() => {}
            other => out.push(other),
        }
    }
    out
}

/// Appends one content line to `out`, folded so that no physical line exceeds 75 octets: a
/// continuation starts with a space, which counts, and a fold never splits a UTF-8 character.
pub fn fold(line: &str, out: &mut String) {
    let mut octets = 0;
    for character in line.chars() {
        let width = character.len_utf8();
        if octets + width > LINE_OCTETS {
            out.push_str("\r\n ");
            octets = 1;
        }
        out.push(character);
        octets += width;
    }
    out.push_str("\r\n");
}
