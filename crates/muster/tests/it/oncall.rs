//! `muster oncall now|next|calendar` through the real binary, on the example smart-contract
//! protocol plan: a weekly rotation of lena, kwame, rui and tariq handing off on Mondays at 09:00
//! UTC from 2026-01-05.
//! The expected people and times are worked out here from plain date arithmetic.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const PLAN: &str = "examples/smart-contract-protocol.yaml";
const MEMBERS: [(&str, &str); 4] = [
    ("lena", "Lena Hartmann"),
    ("kwame", "Kwame Mensah"),
    ("rui", "Rui Costa"),
    ("tariq", "Tariq Aziz"),
];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn muster(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_muster"))
        .args(args)
        .current_dir(workspace())
        .env("NO_COLOR", "1")
        .env_remove("MUSTER_PLAN")
        .output()
        .expect("the muster binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Days since 1970-01-01 of a proleptic Gregorian date (the usual era-based formula).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date of a day count, as `YYYY-MM-DD`.
fn civil_from_days(days: i64) -> String {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// For a UTC moment `YYYY-MM-DDTHH:MM:00Z`: the number of the rotation's shift then, and the day
/// count of the Monday that shift started.
fn week(moment: &str) -> (i64, i64) {
    let first = days_from_civil(2026, 1, 5) * 1440 + 9 * 60;
    let week = (minutes(moment) - first).div_euclid(7 * 1440);
    (week, days_from_civil(2026, 1, 5) + week * 7)
}

/// Minutes since the epoch of a UTC moment `YYYY-MM-DDTHH:MM:00Z`.
fn minutes(moment: &str) -> i64 {
    let number = |range: std::ops::Range<usize>| moment[range].parse::<i64>().unwrap();
    days_from_civil(number(0..4), number(5..7), number(8..10)) * 1440
        + number(11..13) * 60
        + number(14..16)
}

fn member(week: i64) -> (&'static str, &'static str) {
    MEMBERS[usize::try_from(week.rem_euclid(4)).unwrap()]
}

#[test]
fn the_date_arithmetic_agrees_with_the_calendar() {
    assert_eq!(days_from_civil(1970, 1, 1), 0);
    assert_eq!(civil_from_days(days_from_civil(2026, 11, 21)), "2026-11-21");
    assert_eq!(
        civil_from_days(days_from_civil(2028, 2, 29) + 1),
        "2028-03-01"
    );
    assert_eq!(week("2026-01-05T09:00:00Z").0, 0);
    assert_eq!(week("2026-01-05T08:59:00Z").0, -1);
    assert_eq!(week("2026-01-12T09:00:00Z").0, 1);
}

#[test]
fn now_shows_who_is_on_call_since_and_until_when_with_contacts() {
    for moment in [
        "2026-01-05T09:00:00Z",
        "2026-03-30T08:59:00Z",
        "2026-03-30T09:00:00Z",
        "2026-11-21T00:00:00Z",
        "2027-02-14T23:30:00Z",
    ] {
        let (week, monday) = week(moment);
        let (id, name) = member(week);
        let output = muster(&["oncall", "now", "--plan", PLAN, "--at", moment]);
        assert!(output.status.success(), "{}", stderr(&output));
        let text = stdout(&output);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("SCHEDULE"), "{text}");
        let row = lines[1];
        assert!(row.starts_with("security-oncall"), "{text}");
        assert!(row.contains(&format!("{name} ({id})")), "{moment}: {text}");
        assert!(
            row.contains(&format!("Mon {} 09:00 UTC", civil_from_days(monday))),
            "since: {moment}: {text}"
        );
        assert!(
            row.contains(&format!("Mon {} 09:00 UTC", civil_from_days(monday + 7))),
            "until: {moment}: {text}"
        );
        assert!(
            row.contains(&format!("email {id}@harbor.example")),
            "{text}"
        );
    }
}

#[test]
fn next_shows_who_takes_over_and_when() {
    let moment = "2026-11-21T00:00:00Z";
    let (week, monday) = week(moment);
    let (_, current) = member(week);
    let (id, name) = member(week + 1);
    let output = muster(&[
        "oncall",
        "next",
        "--plan",
        PLAN,
        "--at",
        moment,
        "--schedule",
        "security-oncall",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    let row = text.lines().nth(1).expect("one row");
    assert!(row.contains(current), "{text}");
    assert!(row.contains(&format!("{name} ({id})")), "{text}");
    assert!(
        row.contains(&format!(
            "Mon {} 09:00 UTC  Mon {} 09:00 UTC",
            civil_from_days(monday + 7),
            civil_from_days(monday + 14)
        )),
        "{text}"
    );
}

#[test]
fn json_gives_now_and_next_in_rfc_3339() {
    let moment = "2026-07-01T12:00:00Z";
    let (week, monday) = week(moment);
    for command in ["now", "next"] {
        let output = muster(&["oncall", command, "--plan", PLAN, "--at", moment, "--json"]);
        assert!(output.status.success(), "{}", stderr(&output));
        let document: Value = serde_json::from_str(&stdout(&output)).expect("JSON");
        assert_eq!(document["at"], moment);
        let schedule = &document["schedules"][0];
        assert_eq!(schedule["schedule"], "security-oncall");
        assert_eq!(schedule["name"], "Security on-call");
        assert_eq!(schedule["timezone"], "UTC");
        assert_eq!(schedule["now"]["person"], member(week).0);
        assert_eq!(
            schedule["now"]["start"],
            format!("{}T09:00:00Z", civil_from_days(monday))
        );
        assert_eq!(schedule["next"]["person"], member(week + 1).0);
        assert_eq!(
            schedule["next"]["start"],
            format!("{}T09:00:00Z", civil_from_days(monday + 7))
        );
        assert_eq!(
            schedule["next"]["source"],
            serde_json::json!({"kind": "rotation", "index": 0})
        );
    }
}

#[test]
fn an_unknown_schedule_exits_1_with_a_suggestion() {
    for command in [
        vec![
            "oncall",
            "now",
            "--plan",
            PLAN,
            "--schedule",
            "security-oncal",
        ],
        vec![
            "oncall",
            "calendar",
            "--plan",
            PLAN,
            "--schedule",
            "security-oncal",
        ],
    ] {
        let output = muster(&command);
        assert_eq!(output.status.code(), Some(1), "{command:?}");
        assert!(stdout(&output).is_empty());
        assert!(
            stderr(&output).contains(
                "the plan has no schedule 'security-oncal'; did you mean 'security-oncall'?"
            ),
            "{}",
            stderr(&output)
        );
    }
}

#[test]
fn a_plan_with_errors_exits_1_and_an_unreadable_one_2() {
    let broken = "crates/muster-core/tests/corpus/broken/unknown-reference.yaml";
    let output = muster(&["oncall", "now", "--plan", broken]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("unknown-reference"),
        "{}",
        stderr(&output)
    );
    assert!(stderr(&output).contains("muster plan check"));
    let output = muster(&["oncall", "next", "--plan", "does/not/exist.yaml"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("cannot read the plan"));
}

#[test]
fn calendar_writes_an_ics_file_with_one_event_per_shift() {
    let moment = "2026-11-21T00:00:00Z";
    let (week, monday) = week(moment);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("on-call.ics");
    let output = muster(&[
        "oncall",
        "calendar",
        "--plan",
        PLAN,
        "--schedule",
        "security-oncall",
        "--days",
        "30",
        "--at",
        moment,
        "-o",
        file.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.starts_with("BEGIN:VCALENDAR\r\n"), "{text}");
    assert!(text.ends_with("END:VCALENDAR\r\n"));
    // The shift on call now, whole, and every shift that starts in the next 30 days: the Mondays
    // up to 30 days after the moment.
    let mut expected = 1;
    while (monday + 7 * expected) * 1440 + 540 < minutes(moment) + 30 * 1440 {
        expected += 1;
    }
    assert_eq!(
        text.matches("BEGIN:VEVENT").count(),
        usize::try_from(expected).unwrap()
    );
    let unfolded = text.replace("\r\n ", "");
    assert!(unfolded.contains(&format!(
        "DTSTART:{}T090000Z\r\n",
        civil_from_days(monday).replace('-', "")
    )));
    assert!(unfolded.contains(&format!(
        "SUMMARY:On call: {} (Security on-call)\r\n",
        member(week).1
    )));

    // Without -o the calendar goes to standard output, for `> file.ics`.
    let output = muster(&[
        "oncall",
        "calendar",
        "--plan",
        PLAN,
        "--schedule",
        "security-oncall",
        "--at",
        moment,
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).starts_with("BEGIN:VCALENDAR\r\n"));
}
