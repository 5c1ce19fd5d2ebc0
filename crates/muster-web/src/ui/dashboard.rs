//! The dashboard (`/`): what is open now, how many incidents were declared each week, and how
//! fast they were acknowledged and resolved, against the plan's targets.
//!
//! It stays cheap however many incidents are stored: the open counts are the store's indexed
//! counts (one per severity), the open list is one page of ten, and the weekly figures read only
//! the narrow time rows of the incidents declared in the last twelve weeks. Drills are left out
//! of the weekly figures; the open counts include them, as the incident list they link to does.
//!
//! Weeks run Monday 00:00 to Monday 00:00 in the plan's time zone. Times to acknowledge and to
//! resolve count from detection, the whole time the problem was known, and medians are by
//! nearest rank: the same definitions as `muster report` (core `metrics`).

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use muster_core::incident::Millis;
use muster_core::plan::values::Duration;
use muster_core::plan::{Plan, SeverityId};
use muster_engine::{Engine, EngineError};
use muster_store::{IncidentFilter, IncidentTimes, Store};

use crate::ui::charts::{self, Bar, Column, Line, Stack};
use crate::ui::{Chrome, Session, Times, duration, midnight, refused, render, severity_class};

/// How many weeks the weekly figures cover, the current one included.
pub(crate) const WEEKS: usize = 12;
/// How many open incidents the dashboard lists.
const OPEN_LISTED: u32 = 10;
/// Above this many minutes, times are charted in hours.
const HOURS_FROM_MINUTES: f64 = 120.0;
/// Under this many seconds, times are charted in seconds.
const MINUTES_FROM_SECONDS: f64 = 120.0;

pub(crate) async fn page(State(engine): State<Arc<Engine>>, session: Session) -> Response {
    let chrome = Chrome::new(&engine, &session, "dashboard");
    let running = engine.plan();
    let plan = &running.plan;
    let times = Times::of(&engine);
    let weeks = Weeks::ending_at(times.zone(), engine.now(), WEEKS);

    // The counts, the open list and the weekly rows are independent reads: made at once.
    let counting = futures_util::future::try_join_all(plan.severities.iter().map(|severity| {
        let filter = IncidentFilter {
            open: Some(true),
            severity: vec![severity.id.clone()],
            limit: 1,
            ..IncidentFilter::default()
        };
        let engine = &engine;
        async move { engine.list(&filter).await.map(|page| page.total) }
    }));
    let listed = IncidentFilter {
        open: Some(true),
        limit: OPEN_LISTED,
        ..IncidentFilter::default()
    };
    let listing = engine.list(&listed);
    let reading = async {
        engine
            .store()
            .incident_times(weeks.from(), weeks.until(), false)
            .await
            .map_err(EngineError::Store)
    };
    let (totals, listed, rows) = match tokio::try_join!(counting, listing, reading) {
        Ok(read) => read,
        Err(error) => return refused(Some(&chrome), &error),
    };
    let open: Vec<OpenCount> = plan
        .severities
        .iter()
        .zip(totals)
        .map(|(severity, count)| OpenCount {
            id: severity.id.to_string(),
            name: severity.name.clone(),
            class: severity_class(plan, &severity.id),
            count,
            href: format!(
                "/incidents?open=true&severity={}",
                query_value(severity.id.as_str())
            ),
        })
        .collect();

    let severities: Vec<SeverityId> = plan.severities.iter().map(|s| s.id.clone()).collect();
    let figures = weekly(&rows, &weeks, &severities);
    let columns = weeks.columns();

    let open_chart = charts::bar_chart(
        "Open incidents by severity",
        &open
            .iter()
            .map(|count| Bar {
                label: count.id.clone(),
                name: format!("{} {}", count.id, count.name),
                value: count.count,
                class: count.class.clone(),
            })
            .collect::<Vec<_>>(),
    );
    let mut stacks: Vec<Stack> = plan
        .severities
        .iter()
        .zip(&figures.counts)
        .map(|(severity, values)| Stack {
            name: severity.id.to_string(),
            class: severity_class(plan, &severity.id),
            values: values.clone(),
        })
        .collect();
    if figures.other.iter().any(|count| *count > 0) {
        stacks.push(Stack {
            name: "other".to_owned(),
            class: "sev-4".to_owned(),
            values: figures.other.clone(),
        });
    }
    let weekly_chart = charts::stacked_chart("Incidents declared per week", &columns, &stacks);
    let times_chart = times_chart(&columns, &figures);

    let recent = listed
        .incidents
        .iter()
        .map(|incident| OpenIncident {
            id: incident.id.to_string(),
            href: format!("/incidents/{}", incident.id),
            title: incident.title.clone(),
            severity: incident.severity.to_string(),
            class: severity_class(plan, &incident.severity),
            status: incident.status.as_str(),
            declared: times.show(incident.declared_at),
            declared_iso: Times::iso(incident.declared_at),
            drill: incident.drill,
        })
        .collect::<Vec<_>>();
    let more = listed.total.saturating_sub(recent.len() as u64);

    render(&DashboardPage {
        chrome: Some(chrome),
        open_total: open.iter().map(|count| count.count).sum(),
        open_chart,
        open,
        recent,
        more,
        weekly_chart,
        times_chart,
        targets: target_rows(plan, &rows),
        zone: times.zone().iana_name().unwrap_or("UTC").to_owned(),
        first_week: weeks
            .starts
            .first()
            .map(ToString::to_string)
            .unwrap_or_default(),
    })
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    chrome: Option<Chrome>,
    open_chart: String,
    open: Vec<OpenCount>,
    open_total: u64,
    recent: Vec<OpenIncident>,
    /// Open incidents beyond those listed.
    more: u64,
    weekly_chart: String,
    times_chart: String,
    targets: Vec<TargetRow>,
    zone: String,
    first_week: String,
}

struct OpenCount {
    id: String,
    name: String,
    class: String,
    count: u64,
    href: String,
}

struct OpenIncident {
    id: String,
    href: String,
    title: String,
    severity: String,
    class: String,
    status: &'static str,
    declared: String,
    declared_iso: String,
    drill: bool,
}

/// One severity's times over the weeks shown, against its targets.
struct TargetRow {
    severity: String,
    name: String,
    class: String,
    acknowledge: Measured,
    resolve: Measured,
}

/// A median and how many incidents met the target, as the page shows them.
struct Measured {
    median: String,
    target: String,
    within: String,
    missed: bool,
}

/// Percent-encodes a query value.
fn query_value(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// The medians chart, in minutes; in hours when the longest median passes two hours, in seconds
/// when it is under two minutes.
fn times_chart(columns: &[Column], figures: &Weekly) -> String {
    let longest = figures
        .acknowledge
        .iter()
        .chain(&figures.resolve)
        .flatten()
        .fold(0.0_f64, |max, value| max.max(*value));
    let (unit, per_unit) = if longest / 60_000.0 > HOURS_FROM_MINUTES {
        ("hours", 3_600_000.0)
    } else if longest < MINUTES_FROM_SECONDS * 1000.0 {
        ("seconds", 1000.0)
    } else {
        ("minutes", 60_000.0)
    };
    let series = |name: &str, class: &str, values: &[Option<f64>]| Line {
        name: name.to_owned(),
        class: class.to_owned(),
        values: values
            .iter()
            .map(|value| value.map(|ms| ms / per_unit))
            .collect(),
    };
    charts::line_chart(
        "Median time to acknowledge (MTTA) and to resolve (MTTR) per week",
        unit,
        columns,
        &[
            series("MTTA", "series-mtta", &figures.acknowledge),
            series("MTTR", "series-mttr", &figures.resolve),
        ],
    )
}

fn target_rows(plan: &Plan, rows: &[IncidentTimes]) -> Vec<TargetRow> {
    plan.severities
        .iter()
        .map(|severity| {
            let of_severity = || {
                rows.iter()
                    .filter(|row| !row.drill && row.severity == severity.id)
            };
            let acknowledge: Vec<Millis> = of_severity().filter_map(time_to_acknowledge).collect();
            let resolve: Vec<Millis> = of_severity().filter_map(time_to_resolve).collect();
            TargetRow {
                severity: severity.id.to_string(),
                name: severity.name.clone(),
                class: severity_class(plan, &severity.id),
                acknowledge: measured(
                    &against(&acknowledge, Some(severity.ack_within.as_millis())),
                    "acknowledged",
                ),
                resolve: measured(
                    &against(&resolve, severity.resolve_target.map(Duration::as_millis)),
                    "resolved",
                ),
            }
        })
        .collect()
}

fn measured(figure: &AgainstTarget, done: &str) -> Measured {
    #[allow(clippy::cast_possible_truncation)]
    let median = figure
        .median
        .map_or_else(|| "—".to_owned(), |ms| duration(ms.round() as Millis));
    let within = match figure.target {
        _ if figure.of == 0 => format!("none {done} yet"),
        Some(_) => format!("{} of {} within target", figure.within, figure.of),
        None => format!("{} {done}", figure.of),
    };
    Measured {
        median,
        target: figure
            .target
            .map_or_else(|| "none set".to_owned(), duration),
        within,
        missed: figure.target.is_some() && figure.within < figure.of,
    }
}

/// The weeks a dashboard covers, oldest first: each from Monday 00:00 to the next Monday 00:00
/// in a time zone (so a week with a daylight-saving change is an hour shorter or longer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Weeks {
    /// The Monday each week starts on.
    pub starts: Vec<Date>,
    /// Where the weeks start, and where the last one ends: one more than `starts`.
    bounds: Vec<Millis>,
}

impl Weeks {
    /// `count` weeks in `zone`, the last of them holding `now`.
    pub(crate) fn ending_at(zone: &TimeZone, now: Millis, count: usize) -> Self {
        let today = jiff::Timestamp::from_millisecond(now)
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
            .to_zoned(zone.clone())
            .date();
        let this_week = monday_of(today);
        let weeks_back = i64::try_from(count).unwrap_or(0) - 1;
        let starts: Vec<Date> = (0..=weeks_back)
            .rev()
            .filter_map(|back| this_week.checked_sub(jiff::Span::new().weeks(back)).ok())
            .collect();
        let bounds = starts
            .iter()
            .copied()
            .chain(this_week.checked_add(jiff::Span::new().weeks(1)).ok())
            .map(|monday| midnight(zone, monday))
            .collect();
        Self { starts, bounds }
    }

    /// The start of the first week.
    pub(crate) fn from(&self) -> Millis {
        self.bounds.first().copied().unwrap_or(0)
    }

    /// The end of the last week.
    pub(crate) fn until(&self) -> Millis {
        self.bounds.last().copied().unwrap_or(0)
    }

    /// The week holding `at`, by position.
    pub(crate) fn index(&self, at: Millis) -> Option<usize> {
        if self.starts.is_empty() || at < self.from() || at >= self.until() {
            return None;
        }
        Some(self.bounds.partition_point(|start| *start <= at) - 1)
    }

    /// The weeks as chart columns: `Mar 2`, named `week of 2026-03-02`.
    pub(crate) fn columns(&self) -> Vec<Column> {
        self.starts
            .iter()
            .map(|monday| Column {
                label: monday.strftime("%b %-d").to_string(),
                name: format!("week of {monday}"),
            })
            .collect()
    }
}

/// The Monday of the week holding `date`.
pub(crate) fn monday_of(date: Date) -> Date {
    let back = i64::from(date.weekday().to_monday_zero_offset());
    date.checked_sub(jiff::Span::new().days(back))
        .unwrap_or(date)
}

/// The weekly figures.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Weekly {
    /// Incidents declared per week, one row per severity in the order given.
    pub counts: Vec<Vec<u64>>,
    /// Incidents per week of severities not given (the plan no longer has them).
    pub other: Vec<u64>,
    /// Median time to acknowledge per week, in milliseconds; `None` for a week in which no
    /// incident was acknowledged.
    pub acknowledge: Vec<Option<f64>>,
    /// Median time to resolve per week, in milliseconds; `None` for a week in which no incident
    /// was resolved.
    pub resolve: Vec<Option<f64>>,
}

/// Buckets incidents into `weeks` by when they were declared; drills and incidents outside the
/// weeks are left out.
pub(crate) fn weekly(rows: &[IncidentTimes], weeks: &Weeks, severities: &[SeverityId]) -> Weekly {
    let count = weeks.starts.len();
    let mut counts = vec![vec![0; count]; severities.len()];
    let mut other = vec![0; count];
    let mut acknowledge: Vec<Vec<Millis>> = vec![Vec::new(); count];
    let mut resolve: Vec<Vec<Millis>> = vec![Vec::new(); count];
    for row in rows.iter().filter(|row| !row.drill) {
        let Some(week) = weeks.index(row.declared_at) else {
            continue;
        };
        match severities.iter().position(|id| *id == row.severity) {
            Some(rank) => counts[rank][week] += 1,
            None => other[week] += 1,
        }
        acknowledge[week].extend(time_to_acknowledge(row));
        resolve[week].extend(time_to_resolve(row));
    }
    Weekly {
        counts,
        other,
        acknowledge: acknowledge.iter_mut().map(|times| median(times)).collect(),
        resolve: resolve.iter_mut().map(|times| median(times)).collect(),
    }
}

/// From detection to acknowledgement (MTTA, as `muster report` measures it), when it was
/// acknowledged.
pub(crate) fn time_to_acknowledge(row: &IncidentTimes) -> Option<Millis> {
    row.acknowledged_at
        .map(|at| at.saturating_sub(row.detected_at).max(0))
}

/// From detection to resolution, when it was resolved.
pub(crate) fn time_to_resolve(row: &IncidentTimes) -> Option<Millis> {
    row.resolved_at
        .map(|at| at.saturating_sub(row.detected_at).max(0))
}

/// The median by nearest rank, the one definition `muster report` uses too; `None` for no
/// values.
pub(crate) fn median(values: &mut [Millis]) -> Option<f64> {
    values.sort_unstable();
    muster_core::metrics::percentile(values, 50).map(|median| median as f64)
}

/// Times measured against a target.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AgainstTarget {
    pub median: Option<f64>,
    pub target: Option<Millis>,
    /// How many were at or under the target (zero without one).
    pub within: usize,
    /// How many were measured.
    pub of: usize,
}

pub(crate) fn against(times: &[Millis], target: Option<Millis>) -> AgainstTarget {
    let mut sorted = times.to_vec();
    AgainstTarget {
        median: median(&mut sorted),
        target,
        within: target.map_or(0, |target| {
            times.iter().filter(|time| **time <= target).count()
        }),
        of: times.len(),
    }
}

#[cfg(test)]
mod tests {
    use muster_core::incident::Status;

    use super::*;

    const MINUTE: Millis = 60_000;

    fn at(text: &str) -> Millis {
        text.parse::<jiff::Timestamp>().unwrap().as_millisecond()
    }

    fn row(
        severity: &str,
        declared: Millis,
        ack: Option<Millis>,
        resolve: Option<Millis>,
    ) -> IncidentTimes {
        IncidentTimes {
            severity: SeverityId::from(severity),
            category: None,
            status: Status::Investigating,
            drill: false,
            declared_at: declared,
            started_at: declared,
            detected_at: declared,
            acknowledged_at: ack.map(|after| declared + after),
            resolved_at: resolve.map(|after| declared + after),
            root_cause: None,
        }
    }

    #[test]
    fn weeks_start_on_monday_in_the_zone() {
        let utc = TimeZone::UTC;
        // Wednesday 4 March 2026.
        let weeks = Weeks::ending_at(&utc, at("2026-03-04T10:00:00Z"), 12);
        assert_eq!(weeks.starts.len(), 12);
        assert_eq!(weeks.starts[11].to_string(), "2026-03-02");
        assert_eq!(weeks.starts[0].to_string(), "2025-12-15");
        assert_eq!(weeks.from(), at("2025-12-15T00:00:00Z"));
        assert_eq!(weeks.until(), at("2026-03-09T00:00:00Z"));
        assert_eq!(weeks.index(at("2026-03-02T00:00:00Z")), Some(11));
        assert_eq!(weeks.index(at("2026-03-01T23:59:59Z")), Some(10));
        assert_eq!(weeks.index(at("2025-12-14T23:59:59Z")), None);
        assert_eq!(weeks.index(at("2026-03-09T00:00:00Z")), None);
        assert_eq!(weeks.columns()[11].label, "Mar 2");
        assert_eq!(weeks.columns()[11].name, "week of 2026-03-02");

        // Sunday 23:30 in Berlin is already Monday in Tokyo and still Sunday in UTC.
        let berlin = TimeZone::get("Europe/Berlin").unwrap();
        let sunday_night = at("2026-03-08T22:30:00Z");
        let weeks = Weeks::ending_at(&berlin, sunday_night, 2);
        assert_eq!(weeks.starts[1].to_string(), "2026-03-02");
        assert_eq!(weeks.until(), at("2026-03-08T23:00:00Z"));
        let tokyo = TimeZone::get("Asia/Tokyo").unwrap();
        let weeks = Weeks::ending_at(&tokyo, sunday_night, 2);
        assert_eq!(weeks.starts[1].to_string(), "2026-03-09");
        assert_eq!(weeks.from(), at("2026-03-01T15:00:00Z"));
    }

    #[test]
    fn a_week_with_a_clock_change_keeps_its_monday_midnights() {
        let berlin = TimeZone::get("Europe/Berlin").unwrap();
        // Clocks go forward on Sunday 29 March 2026: that week is 167 hours long.
        let weeks = Weeks::ending_at(&berlin, at("2026-03-31T12:00:00Z"), 2);
        assert_eq!(weeks.bounds[1] - weeks.bounds[0], 167 * 60 * MINUTE);
        assert_eq!(weeks.bounds[1], at("2026-03-29T22:00:00Z"));
    }

    #[test]
    fn medians_of_odd_and_even_counts() {
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [7]), Some(7.0));
        assert_eq!(median(&mut [30, 10, 20]), Some(20.0));
        assert_eq!(
            median(&mut [40, 10, 30, 20]),
            Some(20.0),
            "nearest rank: the 2nd of 4"
        );
    }

    #[test]
    fn incidents_are_counted_and_timed_in_the_week_they_were_declared() {
        let weeks = Weeks::ending_at(&TimeZone::UTC, at("2026-03-04T10:00:00Z"), 3);
        let severities = [SeverityId::from("P0"), SeverityId::from("P1")];
        let this_week = at("2026-03-02T08:00:00Z");
        let last_week = at("2026-02-26T08:00:00Z");
        let mut drill = row("P0", this_week, Some(MINUTE), Some(MINUTE));
        drill.drill = true;
        let rows = [
            row("P0", last_week, Some(5 * MINUTE), Some(20 * MINUTE)),
            row("P0", this_week, Some(10 * MINUTE), Some(60 * MINUTE)),
            row("P1", this_week, Some(30 * MINUTE), None),
            row("P1", this_week, None, None),
            row("P9", this_week, None, None),
            row("P0", at("2026-01-01T00:00:00Z"), Some(MINUTE), None),
            drill,
        ];
        let figures = weekly(&rows, &weeks, &severities);
        assert_eq!(figures.counts, vec![vec![0, 1, 1], vec![0, 0, 2]]);
        assert_eq!(figures.other, vec![0, 0, 1]);
        let minutes = |values: &[Option<f64>]| -> Vec<Option<f64>> {
            values
                .iter()
                .map(|value| value.map(|ms| ms / 60_000.0))
                .collect()
        };
        // A week without incidents has no median at all, not a zero; of 10 and 30 minutes the
        // median by nearest rank is the first.
        assert_eq!(
            minutes(&figures.acknowledge),
            vec![None, Some(5.0), Some(10.0)]
        );
        assert_eq!(
            minutes(&figures.resolve),
            vec![None, Some(20.0), Some(60.0)]
        );
    }

    #[test]
    fn times_count_from_detection() {
        let mut late = row("P0", 100 * MINUTE, Some(2 * MINUTE), Some(10 * MINUTE));
        late.detected_at = 95 * MINUTE;
        assert_eq!(time_to_acknowledge(&late), Some(7 * MINUTE));
        assert_eq!(time_to_resolve(&late), Some(15 * MINUTE));
    }

    #[test]
    fn times_are_held_against_their_target() {
        let figure = against(&[5 * MINUTE, 15 * MINUTE, 40 * MINUTE], Some(15 * MINUTE));
        assert_eq!(figure.median, Some(15.0 * 60_000.0));
        assert_eq!((figure.within, figure.of), (2, 3));
        let shown = measured(&figure, "acknowledged");
        assert_eq!(shown.median, "15m");
        assert_eq!(shown.target, "15m");
        assert_eq!(shown.within, "2 of 3 within target");
        assert!(shown.missed);
        let untargeted = measured(&against(&[MINUTE], None), "resolved");
        assert_eq!(untargeted.target, "none set");
        assert_eq!(untargeted.within, "1 resolved");
        assert!(!untargeted.missed);
        assert_eq!(measured(&against(&[], None), "resolved").median, "—");
    }
}
