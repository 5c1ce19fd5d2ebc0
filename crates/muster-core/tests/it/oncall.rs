//! On-call maths: hand-offs in local time, layers, overrides, gaps, target resolution and policy
//! gaps, plus properties that must hold for any rotation.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use muster_core::plan::oncall::{
    self, Gap, Shift, ShiftSource, gaps, on_call, policy_gaps, reachable, shifts,
};
use muster_core::plan::{PersonId, Plan, Schedule};
use proptest::prelude::*;
use serde_json::{Value, json};

/// A plan with five people (`alice` to `erin`), one team, one role, the given schedules and
/// escalation policies, in the organization zone `timezone`.
fn plan_with(timezone: &str, schedules: Value, policies: Value) -> Plan {
    let people: Vec<Value> = ["alice", "bob", "carol", "dave", "erin"]
        .iter()
        .map(|id| json!({ "id": id, "name": id.to_uppercase() }))
        .collect();
    let mut plan = json!({
        "version": 1,
        "organization": { "name": "Example", "timezone": timezone },
        "people": people,
        "teams": [{ "id": "core", "name": "Core", "members": ["alice", "bob", "ghost"] }],
        "roles": [{ "id": "ic", "name": "Incident commander", "primary": "carol", "backup": "dave" }],
    });
    plan["schedules"] = schedules;
    plan["escalation_policies"] = policies;
    serde_json::from_value(plan).expect("the fixture is a valid plan")
}

fn plan_with_schedule(timezone: &str, schedule: Value) -> Plan {
    plan_with(timezone, Value::Array(vec![schedule]), json!([]))
}

fn first_schedule(plan: &Plan) -> &Schedule {
    &plan.schedules[0]
}

fn at(text: &str) -> Timestamp {
    text.parse().expect("a valid timestamp")
}

fn person(id: &str) -> PersonId {
    PersonId::from(id)
}

fn shift(id: &str, start: &str, end: &str, source: ShiftSource) -> Shift {
    Shift {
        person: person(id),
        start: at(start),
        end: at(end),
        source,
    }
}

fn gap(start: &str, end: &str) -> Gap {
    Gap {
        start: at(start),
        end: at(end),
    }
}

fn who(plan: &Plan, moment: &str) -> Option<String> {
    on_call(plan, first_schedule(plan), at(moment))
        .expect("the schedule can be evaluated")
        .map(|person| person.0)
}

#[test]
fn weekly_handoff_stays_at_local_time_across_spring_forward() {
    // Berlin moves from UTC+1 to UTC+2 on Sunday 2026-03-29, between two Monday hand-offs.
    let plan = plan_with_schedule(
        "Europe/Berlin",
        json!({
            "id": "primary",
            "rotations": [{ "members": ["alice", "bob"], "every": "1w", "handoff": "mon 09:00", "start": "2026-03-16" }],
        }),
    );
    let schedule = first_schedule(&plan);
    let week = shifts(
        &plan,
        schedule,
        at("2026-03-20T00:00:00Z"),
        at("2026-04-03T00:00:00Z"),
    )
    .unwrap();
    assert_eq!(
        week,
        vec![
            shift(
                "alice",
                "2026-03-20T00:00:00Z",
                "2026-03-23T08:00:00Z",
                ShiftSource::Rotation(0)
            ),
            shift(
                "bob",
                "2026-03-23T08:00:00Z",
                "2026-03-30T07:00:00Z",
                ShiftSource::Rotation(0)
            ),
            shift(
                "alice",
                "2026-03-30T07:00:00Z",
                "2026-04-03T00:00:00Z",
                ShiftSource::Rotation(0)
            ),
        ]
    );
    assert_eq!(who(&plan, "2026-03-30T06:59:59Z").as_deref(), Some("bob"));
    assert_eq!(who(&plan, "2026-03-30T07:00:00Z").as_deref(), Some("alice"));
}

#[test]
fn weekly_handoff_stays_at_local_time_across_fall_back() {
    // New York moves from UTC-4 to UTC-5 on Sunday 2026-11-01.
    let plan = plan_with_schedule(
        "UTC",
        json!({
            "id": "primary",
            "timezone": "America/New_York",
            "rotations": [{ "members": ["alice", "bob"], "every": "1w", "handoff": "mon 09:00", "start": "2026-10-26" }],
        }),
    );
    assert_eq!(who(&plan, "2026-10-26T12:59:00Z").as_deref(), None);
    assert_eq!(who(&plan, "2026-10-26T13:00:00Z").as_deref(), Some("alice"));
    assert_eq!(who(&plan, "2026-11-02T13:59:00Z").as_deref(), Some("alice"));
    assert_eq!(who(&plan, "2026-11-02T14:00:00Z").as_deref(), Some("bob"));
}

#[test]
fn daily_rotation_starts_on_its_start_date_and_cycles_through_members() {
    let plan = plan_with_schedule(
        "UTC",
        json!({
            "id": "daily",
            "rotations": [{ "members": ["alice", "bob", "carol"], "every": "1d", "handoff": "08:00", "start": "2026-01-01" }],
        }),
    );
    // Before the first shift the rotation covers nobody.
    assert_eq!(who(&plan, "2026-01-01T07:59:59Z"), None);
    assert_eq!(who(&plan, "2026-01-01T08:00:00Z").as_deref(), Some("alice"));
    assert_eq!(who(&plan, "2026-01-02T07:59:59Z").as_deref(), Some("alice"));
    assert_eq!(who(&plan, "2026-01-02T08:00:00Z").as_deref(), Some("bob"));
    assert_eq!(who(&plan, "2026-01-03T12:00:00Z").as_deref(), Some("carol"));
    assert_eq!(who(&plan, "2026-01-04T12:00:00Z").as_deref(), Some("alice"));
    assert_eq!(
        gaps(
            &plan,
            first_schedule(&plan),
            at("2026-01-01T00:00:00Z"),
            at("2026-01-05T00:00:00Z")
        )
        .unwrap(),
        vec![gap("2026-01-01T00:00:00Z", "2026-01-01T08:00:00Z")]
    );
}

#[test]
fn weekday_handoff_waits_for_that_weekday_after_the_start_date() {
    // 2026-01-01 is a Thursday; the first Monday hand-off is on 2026-01-05.
    let plan = plan_with_schedule(
        "UTC",
        json!({
            "id": "primary",
            "rotations": [{ "members": ["alice", "bob"], "every": "1w", "handoff": "mon 09:00", "start": "2026-01-01" }],
        }),
    );
    assert_eq!(who(&plan, "2026-01-05T08:59:00Z"), None);
    assert_eq!(who(&plan, "2026-01-05T09:00:00Z").as_deref(), Some("alice"));
    assert_eq!(who(&plan, "2026-01-12T09:00:00Z").as_deref(), Some("bob"));
}

#[test]
fn twelve_hour_shifts_use_wall_clock_arithmetic() {
    let plan = plan_with_schedule(
        "UTC",
        json!({
            "id": "halves",
            "timezone": "Europe/Berlin",
            "rotations": [{ "members": ["alice", "bob"], "every": "12h", "handoff": "08:00", "start": "2026-03-28" }],
        }),
    );
    // 08:00 and 20:00 Berlin time on both sides of the switch to summer time on 2026-03-29.
    assert_eq!(who(&plan, "2026-03-28T07:00:00Z").as_deref(), Some("alice"));
    assert_eq!(who(&plan, "2026-03-28T19:00:00Z").as_deref(), Some("bob"));
    assert_eq!(who(&plan, "2026-03-29T06:00:00Z").as_deref(), Some("alice"));
    assert_eq!(who(&plan, "2026-03-29T17:59:00Z").as_deref(), Some("alice"));
    assert_eq!(who(&plan, "2026-03-29T18:00:00Z").as_deref(), Some("bob"));
}

#[test]
fn a_handoff_the_clock_skips_happens_at_the_jump() {
    // New York skips 02:00-03:00 on 2026-03-08; the 02:30 hand-off happens at 03:00 local.
    let plan = plan_with_schedule(
        "America/New_York",
        json!({
            "id": "nightly",
            "rotations": [{ "members": ["alice", "bob"], "every": "1d", "handoff": "02:30", "start": "2026-03-07" }],
        }),
    );
    assert_eq!(who(&plan, "2026-03-08T06:59:59Z").as_deref(), Some("alice"));
    assert_eq!(who(&plan, "2026-03-08T07:00:00Z").as_deref(), Some("bob"));
    // The next day the hand-off is back at 02:30, now summer time.
    assert_eq!(who(&plan, "2026-03-09T06:29:59Z").as_deref(), Some("bob"));
    assert_eq!(who(&plan, "2026-03-09T06:30:00Z").as_deref(), Some("alice"));
}

fn layered_schedule() -> Value {
    json!({
        "id": "layered",
        "rotations": [
            { "name": "around the clock", "members": ["alice", "bob"], "every": "1w", "handoff": "mon 09:00", "start": "2026-01-05" },
            { "name": "office hours", "members": ["carol"], "every": "1d", "handoff": "09:00", "start": "2026-01-05", "active": "mon-fri 09:00-17:00" },
        ],
    })
}

#[test]
fn a_business_hours_layer_wins_over_the_round_the_clock_one_during_its_window() {
    let plan = plan_with_schedule("Europe/Berlin", layered_schedule());
    let schedule = first_schedule(&plan);
    assert_eq!(who(&plan, "2026-01-06T07:59:00Z").as_deref(), Some("alice"));
    assert_eq!(who(&plan, "2026-01-06T08:00:00Z").as_deref(), Some("carol"));
    assert_eq!(who(&plan, "2026-01-06T16:00:00Z").as_deref(), Some("alice"));
    assert_eq!(who(&plan, "2026-01-10T12:00:00Z").as_deref(), Some("alice"));
    let tuesday = shifts(
        &plan,
        schedule,
        at("2026-01-05T23:00:00Z"),
        at("2026-01-06T23:00:00Z"),
    )
    .unwrap();
    assert_eq!(
        tuesday,
        vec![
            shift(
                "alice",
                "2026-01-05T23:00:00Z",
                "2026-01-06T08:00:00Z",
                ShiftSource::Rotation(0)
            ),
            shift(
                "carol",
                "2026-01-06T08:00:00Z",
                "2026-01-06T16:00:00Z",
                ShiftSource::Rotation(1)
            ),
            shift(
                "alice",
                "2026-01-06T16:00:00Z",
                "2026-01-06T23:00:00Z",
                ShiftSource::Rotation(0)
            ),
        ]
    );
}

#[test]
fn overrides_beat_every_rotation() {
    let mut schedule = layered_schedule();
    schedule["overrides"] = json!([
        { "person": "erin", "from": "2026-01-06T12:00", "to": "2026-01-07T12:00", "reason": "swap" },
    ]);
    let plan = plan_with_schedule("Europe/Berlin", schedule);
    assert_eq!(who(&plan, "2026-01-06T10:59:00Z").as_deref(), Some("carol"));
    assert_eq!(who(&plan, "2026-01-06T11:00:00Z").as_deref(), Some("erin"));
    assert_eq!(who(&plan, "2026-01-06T20:00:00Z").as_deref(), Some("erin"));
    assert_eq!(who(&plan, "2026-01-07T11:00:00Z").as_deref(), Some("carol"));
    let around = shifts(
        &plan,
        first_schedule(&plan),
        at("2026-01-06T10:00:00Z"),
        at("2026-01-07T17:00:00Z"),
    )
    .unwrap();
    assert_eq!(
        around,
        vec![
            shift(
                "carol",
                "2026-01-06T10:00:00Z",
                "2026-01-06T11:00:00Z",
                ShiftSource::Rotation(1)
            ),
            shift(
                "erin",
                "2026-01-06T11:00:00Z",
                "2026-01-07T11:00:00Z",
                ShiftSource::Override
            ),
            shift(
                "carol",
                "2026-01-07T11:00:00Z",
                "2026-01-07T16:00:00Z",
                ShiftSource::Rotation(1)
            ),
            shift(
                "alice",
                "2026-01-07T16:00:00Z",
                "2026-01-07T17:00:00Z",
                ShiftSource::Rotation(0)
            ),
        ]
    );
}

#[test]
fn office_hours_only_leave_exactly_the_nights_and_weekends_uncovered() {
    // The week includes the switch to summer time on Sunday 2026-03-08 in New York, so Monday's
    // 09:00 is 13:00 UTC while the week before it was 14:00 UTC.
    let plan = plan_with_schedule(
        "America/New_York",
        json!({
            "id": "office",
            "rotations": [{ "members": ["alice", "bob"], "every": "1d", "handoff": "09:00", "start": "2026-03-02", "active": "mon-fri 09:00-17:00" }],
        }),
    );
    let schedule = first_schedule(&plan);
    let from = at("2026-03-02T05:00:00Z"); // Monday 00:00 EST
    let to = at("2026-03-10T04:00:00Z"); // Tuesday 00:00 EDT
    assert_eq!(
        gaps(&plan, schedule, from, to).unwrap(),
        vec![
            gap("2026-03-02T05:00:00Z", "2026-03-02T14:00:00Z"),
            gap("2026-03-02T22:00:00Z", "2026-03-03T14:00:00Z"),
            gap("2026-03-03T22:00:00Z", "2026-03-04T14:00:00Z"),
            gap("2026-03-04T22:00:00Z", "2026-03-05T14:00:00Z"),
            gap("2026-03-05T22:00:00Z", "2026-03-06T14:00:00Z"),
            gap("2026-03-06T22:00:00Z", "2026-03-09T13:00:00Z"),
            gap("2026-03-09T21:00:00Z", "2026-03-10T04:00:00Z"),
        ]
    );
    let monday = shifts(&plan, schedule, at("2026-03-09T00:00:00Z"), to).unwrap();
    assert_eq!(
        monday,
        vec![shift(
            "bob",
            "2026-03-09T13:00:00Z",
            "2026-03-09T21:00:00Z",
            ShiftSource::Rotation(0)
        )]
    );
}

#[test]
fn an_overnight_window_covers_the_hours_after_midnight() {
    let plan = plan_with_schedule(
        "UTC",
        json!({
            "id": "nights",
            "rotations": [{ "members": ["dave"], "every": "1w", "handoff": "mon 00:00", "start": "2026-01-05", "active": "fri 22:00-06:00" }],
        }),
    );
    assert_eq!(
        gaps(
            &plan,
            first_schedule(&plan),
            at("2026-01-05T00:00:00Z"),
            at("2026-01-12T00:00:00Z")
        )
        .unwrap(),
        vec![
            gap("2026-01-05T00:00:00Z", "2026-01-09T22:00:00Z"),
            gap("2026-01-10T06:00:00Z", "2026-01-12T00:00:00Z"),
        ]
    );
}

#[test]
fn an_unknown_time_zone_is_an_error_that_names_the_schedule_and_the_zone() {
    let plan = plan_with_schedule(
        "UTC",
        json!({
            "id": "primary",
            "timezone": "Europe/Berln",
            "rotations": [{ "members": ["alice"], "every": "1w", "handoff": "mon 09:00", "start": "2026-01-05" }],
        }),
    );
    let error = on_call(&plan, first_schedule(&plan), at("2026-01-06T00:00:00Z")).unwrap_err();
    assert_eq!(
        error,
        "schedule primary: unknown time zone 'Europe/Berln'; use an IANA name such as UTC, Europe/Berlin or America/New_York"
    );
    let from = at("2026-01-06T00:00:00Z");
    assert!(
        shifts(
            &plan,
            first_schedule(&plan),
            from,
            at("2026-01-07T00:00:00Z")
        )
        .is_err()
    );
    // A target that cannot be evaluated reaches nobody rather than failing.
    assert!(reachable(&plan, &"schedule:primary".parse().unwrap(), from).is_empty());
}

#[test]
fn a_window_that_is_empty_or_reversed_has_no_shifts_and_no_gaps() {
    let plan = plan_with_schedule("UTC", layered_schedule());
    let moment = at("2026-01-06T00:00:00Z");
    assert!(
        shifts(&plan, first_schedule(&plan), moment, moment)
            .unwrap()
            .is_empty()
    );
    assert!(
        gaps(
            &plan,
            first_schedule(&plan),
            moment,
            at("2026-01-05T00:00:00Z")
        )
        .unwrap()
        .is_empty()
    );
}

#[test]
fn targets_resolve_to_the_people_they_reach() {
    let plan = plan_with("UTC", json!([layered_schedule()]), json!([]));
    let moment = at("2026-01-06T12:00:00Z");
    let reach = |target: &str| -> Vec<String> {
        reachable(&plan, &target.parse().unwrap(), moment)
            .into_iter()
            .map(|person| person.0)
            .collect()
    };
    assert_eq!(reach("person:bob"), ["bob"]);
    assert!(reach("person:nobody").is_empty());
    // The team lists a member who is not in the plan; only real people are reachable.
    assert_eq!(reach("team:core"), ["alice", "bob"]);
    assert_eq!(reach("role:ic"), ["carol", "dave"]);
    assert_eq!(reach("schedule:layered"), ["carol"]);
    assert!(reach("schedule:missing").is_empty());
    assert!(reach("channel:war-room").is_empty());
}

#[test]
fn a_policy_that_only_notifies_a_channel_reaches_nobody_at_any_time() {
    let plan = plan_with(
        "UTC",
        json!([]),
        json!([{ "id": "loud", "levels": [{ "after": "0m", "notify": ["channel:war-room"] }] }]),
    );
    let from = at("2026-01-05T00:00:00Z");
    let to = at("2026-01-12T00:00:00Z");
    assert_eq!(
        policy_gaps(&plan, plan.policy("loud").unwrap(), from, to).unwrap(),
        vec![Gap {
            start: from,
            end: to
        }]
    );
}

#[test]
fn policy_gaps_are_the_hours_no_level_reaches_a_person() {
    let office = json!({
        "id": "office",
        "rotations": [{ "members": ["alice"], "every": "1w", "handoff": "mon 09:00", "start": "2026-01-05", "active": "mon-fri 09:00-17:00" }],
    });
    let weekend = json!({
        "id": "weekend",
        "rotations": [{ "members": ["bob"], "every": "1w", "handoff": "mon 09:00", "start": "2026-01-05", "active": "sat-sun 00:00-24:00" }],
    });
    let plan = plan_with(
        "UTC",
        json!([office, weekend]),
        json!([
            { "id": "business", "levels": [
                { "after": "0m", "notify": ["channel:war-room", "schedule:office"] },
                { "after": "15m", "notify": ["schedule:weekend", "role:missing"] },
            ] },
            { "id": "staffed", "levels": [
                { "after": "0m", "notify": ["schedule:office"] },
                { "after": "30m", "notify": ["role:ic"] },
            ] },
        ]),
    );
    let from = at("2026-01-05T00:00:00Z");
    let to = at("2026-01-12T00:00:00Z");
    assert_eq!(
        policy_gaps(&plan, plan.policy("business").unwrap(), from, to).unwrap(),
        vec![
            gap("2026-01-05T00:00:00Z", "2026-01-05T09:00:00Z"),
            gap("2026-01-05T17:00:00Z", "2026-01-06T09:00:00Z"),
            gap("2026-01-06T17:00:00Z", "2026-01-07T09:00:00Z"),
            gap("2026-01-07T17:00:00Z", "2026-01-08T09:00:00Z"),
            gap("2026-01-08T17:00:00Z", "2026-01-09T09:00:00Z"),
            gap("2026-01-09T17:00:00Z", "2026-01-10T00:00:00Z"),
        ]
    );
    assert!(
        policy_gaps(&plan, plan.policy("staffed").unwrap(), from, to)
            .unwrap()
            .is_empty()
    );
}

const ZONES: [&str; 6] = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Australia/Sydney",
    "Asia/Kolkata",
    "Australia/Lord_Howe",
];

const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

prop_compose! {
    /// A random single-rotation schedule and a window to look at it through.
    fn rotation_case()(
        members in 1usize..=5,
        every_days in 1u32..=14,
        start_day in 0i64..730,
        weekday in proptest::option::of(0usize..7),
        handoff_minute in 0u16..(24 * 60),
        zone in 0usize..ZONES.len(),
        window_offset_hours in -24i64 * 30..24 * 400,
        window_hours in 1i64..24 * 60,
    ) -> (Plan, Timestamp, Timestamp, String) {
        let start = jiff::civil::date(2025, 1, 1)
            .checked_add(jiff::Span::new().days(start_day))
            .unwrap();
        let clock = format!("{:02}:{:02}", handoff_minute / 60, handoff_minute % 60);
        let handoff = match weekday {
            Some(day) => format!("{} {clock}", WEEKDAYS[day]),
            None => clock,
        };
        let names = ["alice", "bob", "carol", "dave", "erin"];
        let plan = plan_with_schedule(
            ZONES[zone],
            json!({
                "id": "random",
                "rotations": [{
                    "members": names[..members],
                    "every": format!("{every_days}d"),
                    "handoff": handoff,
                    "start": start.to_string(),
                }],
            }),
        );
        let from = start
            .to_zoned(TimeZone::UTC)
            .unwrap()
            .timestamp()
            .checked_add(jiff::SignedDuration::from_hours(window_offset_hours))
            .unwrap();
        let to = from.checked_add(jiff::SignedDuration::from_hours(window_hours)).unwrap();
        (plan, from, to, ZONES[zone].to_owned())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn shifts_and_gaps_tile_the_window_and_agree_with_on_call(
        (plan, from, to, zone_name) in rotation_case(),
        samples in proptest::collection::vec(0.0f64..1.0, 20),
    ) {
        let schedule = first_schedule(&plan);
        let on_duty = shifts(&plan, schedule, from, to).unwrap();
        let uncovered = gaps(&plan, schedule, from, to).unwrap();

        // Shifts and gaps together cover the window exactly once, in order.
        let mut pieces: Vec<(Timestamp, Timestamp, Option<PersonId>)> = on_duty
            .iter()
            .map(|shift| (shift.start, shift.end, Some(shift.person.clone())))
            .chain(uncovered.iter().map(|gap| (gap.start, gap.end, None)))
            .collect();
        pieces.sort_by_key(|piece| piece.0);
        prop_assert_eq!(pieces.first().map(|piece| piece.0), Some(from));
        prop_assert_eq!(pieces.last().map(|piece| piece.1), Some(to));
        for pair in pieces.windows(2) {
            prop_assert_eq!(pair[0].1, pair[1].0, "pieces must touch without overlap");
        }
        for piece in &pieces {
            prop_assert!(piece.0 < piece.1, "pieces must not be empty");
        }
        // Merging leaves no two touching shifts with the same person.
        for pair in on_duty.windows(2) {
            prop_assert!(pair[0].end != pair[1].start || pair[0].person != pair[1].person);
        }
        // A single rotation without a window only leaves the time before its first shift open.
        prop_assert!(uncovered.len() <= 1);
        if let Some(first_gap) = uncovered.first() {
            prop_assert_eq!(first_gap.start, from);
        }

        // Every hand-off inside the window happens at the hand-off's wall-clock time, unless the
        // clock skipped that time and the hand-off moved to the jump.
        let zone = TimeZone::get(&zone_name).unwrap();
        let handoff = plan.schedules[0].rotations[0].handoff;
        let whole_weeks = plan.schedules[0].rotations[0].every.as_secs() % (7 * 24 * 3600) == 0;
        for shift in on_duty.iter().filter(|shift| shift.start > from) {
            let local = zone.to_datetime(shift.start);
            let minute = i32::from(local.hour()) * 60 + i32::from(local.minute());
            let at_jump = zone
                .preceding(shift.start.checked_add(jiff::SignedDuration::from_secs(1)).unwrap())
                .next()
                .is_some_and(|transition| transition.timestamp() == shift.start);
            prop_assert!(minute == i32::from(handoff.minute_of_day) || at_jump, "hand-off at {local}");
            // Only whole-week shifts keep the weekday; a weekday names just the first hand-off.
            if let Some(weekday) = handoff.weekday
                && whole_weeks
            {
                prop_assert!(local.weekday() == weekday || at_jump, "hand-off on {local}");
            }
        }

        // on_call at any instant names the holder of the piece containing it.
        let span = to.duration_since(from).as_secs_f64();
        let instants = pieces
            .iter()
            .flat_map(|piece| {
                [piece.0, piece.1.checked_sub(jiff::SignedDuration::from_secs(1)).unwrap()]
            })
            .chain(samples.iter().map(|fraction| {
                from.checked_add(jiff::SignedDuration::from_secs_f64(span * fraction)).unwrap()
            }));
        for instant in instants.filter(|instant| *instant >= from && *instant < to) {
            let expected = pieces
                .iter()
                .find(|piece| piece.0 <= instant && instant < piece.1)
                .and_then(|piece| piece.2.clone());
            prop_assert_eq!(on_call(&plan, schedule, instant).unwrap(), expected, "at {}", instant);
        }
    }
}

prop_compose! {
    /// Two layers, the upper one restricted to a random weekly window, and one override, in a
    /// zone with daylight-saving changes, looked at over a window that crosses them.
    fn layered_case()(
        every_hours in 1u64..=24 * 14,
        handoff_minute in 0u16..(24 * 60),
        first_day in 0usize..7,
        last_day in 0usize..7,
        window_start in 0u16..(24 * 4),
        window_length in 1u16..(24 * 4),
        override_start_hours in 0i64..24 * 60,
        override_hours in 1i64..24 * 5,
        zone in 1usize..ZONES.len(),
        window_offset_days in 0i64..360,
    ) -> (Plan, Timestamp, Timestamp) {
        let clock = |minute: u16| format!("{:02}:{:02}", minute / 60, minute % 60);
        // Quarter hours keep windows readable; the end may be 24:00 or wrap past midnight.
        let start_minute = window_start * 15;
        let end_minute = (start_minute + window_length * 15) % (24 * 60);
        let end_text = if end_minute == 0 { "24:00".to_owned() } else { clock(end_minute) };
        let active = format!("{}-{} {}-{end_text}", WEEKDAYS[first_day], WEEKDAYS[last_day], clock(start_minute));
        let override_from = jiff::civil::date(2025, 1, 1)
            .to_datetime(jiff::civil::Time::midnight())
            .checked_add(jiff::SignedDuration::from_hours(
                24 * window_offset_days + override_start_hours,
            ))
            .unwrap();
        let override_to = override_from
            .checked_add(jiff::SignedDuration::from_hours(override_hours))
            .unwrap();
        let plan = plan_with_schedule(
            ZONES[zone],
            json!({
                "id": "layers",
                "rotations": [
                    { "members": ["alice", "bob", "carol"], "every": format!("{every_hours}h"), "handoff": clock(handoff_minute), "start": "2025-01-01" },
                    { "members": ["dave", "erin"], "every": "1d", "handoff": "mon 00:30", "start": "2025-01-01", "active": active },
                ],
                "overrides": [{
                    "person": "erin",
                    "from": override_from.strftime("%Y-%m-%dT%H:%M").to_string(),
                    "to": override_to.strftime("%Y-%m-%dT%H:%M").to_string(),
                }],
            }),
        );
        let from = at("2025-01-01T00:00:00Z")
            .checked_add(jiff::SignedDuration::from_hours(24 * window_offset_days))
            .unwrap();
        let to = from.checked_add(jiff::SignedDuration::from_hours(24 * 70)).unwrap();
        (plan, from, to)
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(100))]

    #[test]
    fn layered_schedules_hold_one_holder_throughout_each_shift_and_gap(
        (plan, from, to) in layered_case(),
        samples in proptest::collection::vec(0.0f64..1.0, 200),
    ) {
        let schedule = first_schedule(&plan);
        let on_duty = shifts(&plan, schedule, from, to).unwrap();
        let uncovered = gaps(&plan, schedule, from, to).unwrap();
        let span = to.duration_since(from).as_secs_f64();
        let one_second = jiff::SignedDuration::from_secs(1);
        let instants = on_duty
            .iter()
            .flat_map(|shift| [shift.start, shift.end.checked_sub(one_second).unwrap()])
            .chain(uncovered.iter().flat_map(|gap| {
                [gap.start, gap.end.checked_sub(one_second).unwrap()]
            }))
            .chain(samples.iter().map(|fraction| {
                from.checked_add(jiff::SignedDuration::from_secs_f64(span * fraction)).unwrap()
            }));
        for instant in instants.filter(|instant| *instant >= from && *instant < to) {
            let holder = on_call(&plan, schedule, instant).unwrap();
            let shift = on_duty.iter().find(|shift| shift.start <= instant && instant < shift.end);
            let in_gap = uncovered.iter().any(|gap| gap.start <= instant && instant < gap.end);
            if let Some(shift) = shift {
                prop_assert!(!in_gap, "{} is in a shift and a gap", instant);
                prop_assert_eq!(holder, Some(shift.person.clone()), "at {}", instant);
            } else {
                prop_assert!(in_gap, "{} is in neither a shift nor a gap", instant);
                prop_assert_eq!(holder, None, "at {}", instant);
            }
        }
    }
}

#[test]
fn zone_lookup_names_the_unknown_zone() {
    assert!(oncall::zone("Europe/Berlin").is_ok());
    assert!(
        oncall::zone("Mars/Olympus")
            .unwrap_err()
            .contains("'Mars/Olympus'")
    );
}
