//! Whole shifts and hand-offs: the shift on call at a moment with its real start and end, the next
//! hand-off (a different person, or someone after nobody), and the summary of every schedule.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use muster_core::plan::oncall::{
    ScheduleNow, Shift, ShiftSource, next_handoff, overlapping_shifts, shift_at, shifts, summary,
};
use muster_core::plan::{PersonId, Plan};
use serde_json::{Value, json};

/// A plan with five people (`alice` to `erin`) and the given schedules, in the organization
/// zone `timezone`.
fn plan_with(timezone: &str, schedules: &Value) -> Plan {
    let people: Vec<Value> = ["alice", "bob", "carol", "dave", "erin"]
        .iter()
        .map(|id| json!({ "id": id, "name": id.to_uppercase() }))
        .collect();
    serde_json::from_value(json!({
        "version": 1,
        "organization": { "name": "Example", "timezone": timezone },
        "people": people,
        "schedules": schedules,
    }))
    .expect("the fixture is a valid plan")
}

/// A weekly Monday 09:00 rotation of alice and bob from 2026-03-16, in Berlin, with `overrides`.
/// Berlin springs forward on Sunday 2026-03-29 and falls back on Sunday 2026-10-25.
fn berlin_weekly(overrides: &Value) -> Plan {
    plan_with(
        "Europe/Berlin",
        &json!([{
            "id": "primary",
            "name": "Primary",
            "rotations": [{ "name": "weekly", "members": ["alice", "bob"], "every": "1w", "handoff": "mon 09:00", "start": "2026-03-16" }],
            "overrides": overrides,
        }]),
    )
}

fn at(text: &str) -> Timestamp {
    text.parse().expect("a valid timestamp")
}

fn shift(id: &str, start: &str, end: &str, source: ShiftSource) -> Shift {
    Shift {
        person: PersonId::from(id),
        start: at(start),
        end: at(end),
        source,
    }
}

fn berlin_hour(moment: Timestamp) -> (i8, i8) {
    let local = moment.to_zoned(TimeZone::get("Europe/Berlin").unwrap());
    (local.hour(), local.minute())
}

const WEEKLY: ShiftSource = ShiftSource::Rotation(0);

#[test]
fn the_shift_now_is_whole_and_the_handoff_stays_at_nine_local_across_spring_forward() {
    let plan = berlin_weekly(&json!([]));
    let schedule = &plan.schedules[0];
    // Week 1 (bob) starts at 09:00 CET = 08:00Z and ends at 09:00 CEST = 07:00Z: 167 hours.
    let now = shift_at(&plan, schedule, at("2026-03-25T12:00:00Z")).unwrap();
    let bob = shift(
        "bob",
        "2026-03-23T08:00:00Z",
        "2026-03-30T07:00:00Z",
        WEEKLY,
    );
    assert_eq!(now, Some(bob.clone()));
    let next = next_handoff(&plan, schedule, at("2026-03-25T12:00:00Z")).unwrap();
    let alice = shift(
        "alice",
        "2026-03-30T07:00:00Z",
        "2026-04-06T07:00:00Z",
        WEEKLY,
    );
    assert_eq!(next, Some(alice.clone()));
    for moment in [bob.start, bob.end, alice.end] {
        assert_eq!(berlin_hour(moment), (9, 0), "{moment}");
    }
    // Asked at the very hand-off, the new shift is the one on call and the next is a week later.
    assert_eq!(shift_at(&plan, schedule, alice.start).unwrap(), Some(alice));
    let after = next_handoff(&plan, schedule, at("2026-03-30T07:00:00Z"))
        .unwrap()
        .unwrap();
    assert_eq!(after.person.as_str(), "bob");
    assert_eq!(berlin_hour(after.start), (9, 0));
}

#[test]
fn the_handoff_stays_at_nine_local_across_fall_back() {
    let plan = berlin_weekly(&json!([]));
    let schedule = &plan.schedules[0];
    // 2026-10-19 is week 31 from 2026-03-16, so bob; the next Monday is after the fall-back.
    let next = next_handoff(&plan, schedule, at("2026-10-21T12:00:00Z"))
        .unwrap()
        .unwrap();
    assert_eq!(
        next,
        shift(
            "alice",
            "2026-10-26T08:00:00Z",
            "2026-11-02T08:00:00Z",
            WEEKLY
        )
    );
    let now = shift_at(&plan, schedule, at("2026-10-21T12:00:00Z"))
        .unwrap()
        .unwrap();
    assert_eq!(now.start, at("2026-10-19T07:00:00Z"));
    assert_eq!(now.end.duration_since(now.start).as_hours(), 169);
    assert_eq!(berlin_hour(now.start), (9, 0));
    assert_eq!(berlin_hour(now.end), (9, 0));
}

#[test]
fn an_override_is_the_next_handoff_and_the_rotation_takes_over_after_it() {
    let plan = berlin_weekly(&json!([
        { "person": "carol", "from": "2026-03-25T10:00", "to": "2026-03-25T18:00", "reason": "bob at the dentist" },
    ]));
    let schedule = &plan.schedules[0];
    let carol = shift(
        "carol",
        "2026-03-25T09:00:00Z",
        "2026-03-25T17:00:00Z",
        ShiftSource::Override,
    );
    assert_eq!(
        next_handoff(&plan, schedule, at("2026-03-24T12:00:00Z")).unwrap(),
        Some(carol.clone())
    );
    // During the override: carol now, and bob takes back the rest of his week.
    let during = at("2026-03-25T12:00:00Z");
    assert_eq!(shift_at(&plan, schedule, during).unwrap(), Some(carol));
    assert_eq!(
        next_handoff(&plan, schedule, during).unwrap(),
        Some(shift(
            "bob",
            "2026-03-25T17:00:00Z",
            "2026-03-30T07:00:00Z",
            WEEKLY
        ))
    );
    // Before the override, bob's shift now ends where carol's begins.
    assert_eq!(
        shift_at(&plan, schedule, at("2026-03-24T12:00:00Z"))
            .unwrap()
            .unwrap()
            .end,
        at("2026-03-25T09:00:00Z")
    );
}

#[test]
fn an_override_that_extends_the_same_persons_duty_is_not_a_handoff() {
    // Bob keeps the pager one more day after his week ends on Monday 2026-03-30 at 09:00.
    let plan = berlin_weekly(&json!([
        { "person": "bob", "from": "2026-03-30T09:00", "to": "2026-03-31T09:00" },
    ]));
    let schedule = &plan.schedules[0];
    let next = next_handoff(&plan, schedule, at("2026-03-25T12:00:00Z"))
        .unwrap()
        .unwrap();
    assert_eq!(
        next,
        shift(
            "alice",
            "2026-03-31T07:00:00Z",
            "2026-04-06T07:00:00Z",
            WEEKLY
        )
    );
    assert_eq!(berlin_hour(next.start), (9, 0));
}

#[test]
fn someone_coming_on_after_nobody_is_a_handoff_even_when_it_is_the_same_person() {
    let plan = plan_with(
        "Europe/Berlin",
        &json!([{
            "id": "office",
            "rotations": [{ "members": ["alice"], "every": "1w", "handoff": "mon 09:00", "start": "2026-01-05", "active": "mon-fri 09:00-17:00" }],
        }]),
    );
    let schedule = &plan.schedules[0];
    // Friday 2026-03-27 at 18:00 in Berlin: nobody until Monday 09:00, the first day of summer time.
    let friday_evening = at("2026-03-27T17:00:00Z");
    assert_eq!(shift_at(&plan, schedule, friday_evening).unwrap(), None);
    assert_eq!(
        next_handoff(&plan, schedule, friday_evening).unwrap(),
        Some(shift(
            "alice",
            "2026-03-30T07:00:00Z",
            "2026-03-30T15:00:00Z",
            WEEKLY
        ))
    );
    // Monday at 10:00: alice until 17:00, then alice again on Tuesday morning.
    let monday = at("2026-03-30T08:00:00Z");
    assert_eq!(
        shift_at(&plan, schedule, monday).unwrap().unwrap().end,
        at("2026-03-30T15:00:00Z")
    );
    assert_eq!(
        next_handoff(&plan, schedule, monday)
            .unwrap()
            .unwrap()
            .start,
        at("2026-03-31T07:00:00Z")
    );
}

#[test]
fn a_one_person_rotation_has_no_handoff_and_a_shift_cut_at_the_horizon() {
    let plan = plan_with(
        "UTC",
        &json!([{
            "id": "solo",
            "rotations": [{ "members": ["dave"], "every": "1w", "handoff": "mon 09:00", "start": "2026-01-05" }],
        }]),
    );
    let schedule = &plan.schedules[0];
    let moment = at("2026-06-01T00:00:00Z");
    assert_eq!(next_handoff(&plan, schedule, moment).unwrap(), None);
    let now = shift_at(&plan, schedule, moment).unwrap().unwrap();
    assert_eq!(now.start, at("2026-01-05T09:00:00Z"));
    assert_eq!(
        now.end,
        at("2027-06-02T00:00:00Z"),
        "366 days after the moment"
    );
}

#[test]
fn the_summary_names_every_schedule_now_and_next() {
    let mut plan = berlin_weekly(&json!([]));
    plan.schedules.push(
        serde_json::from_value(json!({
            "id": "later",
            "timezone": "America/New_York",
            "rotations": [{ "members": ["erin"], "every": "1d", "handoff": "08:00", "start": "2028-01-01" }],
        }))
        .unwrap(),
    );
    let moment = at("2026-03-25T12:00:00Z");
    let entries = summary(&plan, moment);
    assert_eq!(
        entries,
        vec![
            ScheduleNow {
                schedule: "primary".into(),
                name: "Primary".to_owned(),
                timezone: "Europe/Berlin".to_owned(),
                now: Some(shift(
                    "bob",
                    "2026-03-23T08:00:00Z",
                    "2026-03-30T07:00:00Z",
                    WEEKLY
                )),
                next: Some(shift(
                    "alice",
                    "2026-03-30T07:00:00Z",
                    "2026-04-06T07:00:00Z",
                    WEEKLY
                )),
                error: None,
            },
            // Its rotation starts more than a year ahead: nobody now, nobody next.
            ScheduleNow {
                schedule: "later".into(),
                name: "later".to_owned(),
                timezone: "America/New_York".to_owned(),
                now: None,
                next: None,
                error: None,
            },
        ]
    );
    let json = serde_json::to_value(&entries[0]).unwrap();
    assert_eq!(json["now"]["start"], "2026-03-23T08:00:00Z");
    assert_eq!(
        json["next"]["source"],
        json!({"kind": "rotation", "index": 0})
    );
    assert!(json.get("error").is_none());
}

#[test]
fn a_schedule_that_cannot_be_evaluated_says_why_without_hiding_the_others() {
    let mut plan = berlin_weekly(&json!([]));
    let mut broken = plan.schedules[0].clone();
    broken.id = "broken".into();
    broken.timezone = Some("Mars/Olympus_Mons".to_owned());
    plan.schedules.push(broken);
    let entries = summary(&plan, at("2026-03-25T12:00:00Z"));
    assert!(entries[0].now.is_some() && entries[0].error.is_none());
    assert!(entries[1].now.is_none() && entries[1].next.is_none());
    assert!(
        entries[1]
            .error
            .as_deref()
            .is_some_and(|error| error.contains("Mars/Olympus_Mons")),
        "{entries:?}"
    );
}

#[test]
fn overlapping_shifts_are_whole_whatever_the_window() {
    let plan = berlin_weekly(&json!([]));
    let schedule = &plan.schedules[0];
    let whole = overlapping_shifts(
        &plan,
        schedule,
        at("2026-03-25T12:00:00Z"),
        at("2026-04-01T12:00:00Z"),
    )
    .unwrap();
    assert_eq!(
        whole,
        vec![
            shift(
                "bob",
                "2026-03-23T08:00:00Z",
                "2026-03-30T07:00:00Z",
                WEEKLY
            ),
            shift(
                "alice",
                "2026-03-30T07:00:00Z",
                "2026-04-06T07:00:00Z",
                WEEKLY
            ),
        ]
    );
    // On hand-off boundaries it is exactly the clipped list.
    let (from, to) = (at("2026-03-23T08:00:00Z"), at("2026-04-06T07:00:00Z"));
    assert_eq!(
        overlapping_shifts(&plan, schedule, from, to).unwrap(),
        shifts(&plan, schedule, from, to).unwrap()
    );
    assert!(
        overlapping_shifts(&plan, schedule, to, from)
            .unwrap()
            .is_empty()
    );
}
