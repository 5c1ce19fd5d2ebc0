//! The numbers a team is judged by, computed from plain rows: how fast incidents were detected,
//! acknowledged and resolved (overall, per severity, per category), how often the severities'
//! deadlines were kept, how many incidents came each week, how often a root cause came back, and
//! how much of the follow-up work got done.
//!
//! Pure: no clock, no I/O. The caller reads the rows (the engine converts the store's), picks
//! which to pass (drills or not) and hands in `now`.
//!
//! Definitions, one each:
//! - **MTTD** (time to detect) = `detected_at − started_at`; **MTTA** (time to acknowledge) =
//!   `acknowledged_at − detected_at`, over acknowledged incidents only; **MTTR** (time to
//!   resolve) = `resolved_at − detected_at`, over resolved incidents only. A difference below
//!   zero (a clock that went backwards) counts as zero.
//! - **Percentiles** by nearest rank: the `p` percentile of `n` values is the value at rank
//!   `ceil(p · n)` (1-based, at least 1) of the values sorted ascending. It is always one of the
//!   measured values. The **median** is the 0.5 percentile by the same rule (for an even count,
//!   the lower of the two middle values); **p90** the 0.9 percentile (of 10 values, the 9th).
//! - A time figure's **target** is judged on its mean — these are *mean* times — and is **met**
//!   when the mean is at or under it: MTTD against `targets.mttd` (overall, per severity, per
//!   category), MTTA per severity against its `ack_within`, MTTR per severity against its
//!   `resolve_target`. Overall MTTA and MTTR have no single target.
//! - **Deadline compliance** per severity: the share of incidents acknowledged within
//!   `ack_within` of detection. An incident never acknowledged counts as a miss once
//!   `now − detected_at` exceeds `ack_within`, and is left out (pending) while it is still
//!   within it. The same for resolution within `resolve_target` (when the severity has one), and
//!   for detection within `targets.mttd` (every incident was detected, so none is pending).
//! - **Frequency**: incidents per severity and per category, and per week — ISO weeks, Monday
//!   00:00 to Monday 00:00 in the plan's time zone, from the week holding the period's start to
//!   the week holding its end — by when they were declared.
//! - **Repeat rate**: among the incidents with a root-cause tag, the share whose tag was also on
//!   an incident declared strictly earlier, among the rows given; met when at or under
//!   `targets.repeat_rate_percent`.
//! - **Action items**: open means open or in progress; overdue means open and due before `now`;
//!   completion rate = done / (all − dropped); on-time rate = done and closed at or before the
//!   due time / done.
//!
//! Cost: one pass over the rows, one sort per duration (`sort_unstable` of the measured values
//! with their groups), then one walk per duration that fills every group's figures at once; no
//! allocation per row beyond those vectors. 100,000 rows take about 17 ms in a release build on
//! the benchmark machine (BENCHMARKS.md), a small part of reading them from the database.

use std::collections::HashMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::incident::{ActionStatus, Millis};
use crate::plan::values::Duration;
use crate::plan::{CategoryId, Plan, SeverityId};

/// The most weeks a report counts week by week (about a century); a longer period is counted
/// in its first this-many weeks.
pub const MAX_WEEKS: usize = 5_300;

/// One incident as the report reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentSample {
    pub severity: SeverityId,
    pub category: Option<CategoryId>,
    pub drill: bool,
    /// When impact began.
    pub started_at: Millis,
    pub detected_at: Millis,
    pub declared_at: Millis,
    pub acknowledged_at: Option<Millis>,
    pub resolved_at: Option<Millis>,
    /// The root-cause tag, once one is set.
    pub root_cause: Option<String>,
}

/// One action item as the report reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionSample {
    pub status: ActionStatus,
    pub due_at: Millis,
    pub created_at: Millis,
    /// When it was done or dropped.
    pub closed_at: Option<Millis>,
}

/// Everything [`report`] works out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Report {
    /// The period's start, inclusive (ms since the epoch).
    pub from: Millis,
    /// The period's end, exclusive.
    pub until: Millis,
    /// The moment the report was made for (pending deadlines, overdue items).
    pub generated_at: Millis,
    /// The IANA zone weeks are counted in (the plan's).
    pub timezone: String,
    /// Whether drills were asked for.
    pub drills_included: bool,
    /// Incidents counted.
    pub incidents: u64,
    /// How many of them are drills.
    pub drills: u64,
    /// Times over every incident.
    pub overall: Times,
    /// The plan's severities in plan order, then any others met in the rows, sorted.
    pub severities: Vec<SeverityReport>,
    /// The plan's categories in plan order, then any others met, sorted, then the incidents
    /// without a category (`category: null`), if any.
    pub categories: Vec<CategoryReport>,
    /// Incidents declared per week.
    pub weeks: Vec<WeekCount>,
    pub repeats: Repeats,
    pub action_items: ActionItems,
}

/// Time to detect, acknowledge and resolve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Times {
    pub mttd: TimeFigure,
    pub mtta: TimeFigure,
    pub mttr: TimeFigure,
}

/// One duration over a group of incidents, in seconds. Without measurements the mean, median
/// and p90 are `null`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TimeFigure {
    /// How many incidents were measured.
    pub count: u64,
    /// All measured durations added up.
    pub sum_seconds: f64,
    pub mean_seconds: Option<f64>,
    /// The 0.5 percentile by nearest rank.
    pub median_seconds: Option<f64>,
    /// The 0.9 percentile by nearest rank.
    pub p90_seconds: Option<f64>,
    /// What the mean is judged against, when the plan sets a target.
    pub target_seconds: Option<f64>,
    /// Whether the mean is at or under the target; `null` without a target or a measurement.
    pub met: Option<bool>,
}

/// One severity's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SeverityReport {
    pub severity: SeverityId,
    /// The severity's name in the plan; `null` for a severity the plan no longer has.
    pub name: Option<String>,
    pub incidents: u64,
    pub times: Times,
    /// Acknowledged within the severity's `ack_within`.
    pub acknowledged_in_time: Option<Compliance>,
    /// Resolved within the severity's `resolve_target`, when it has one.
    pub resolved_in_time: Option<Compliance>,
    /// Detected within `targets.mttd`, when the plan sets it.
    pub detected_in_time: Option<Compliance>,
}

/// How often a deadline was kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Compliance {
    /// The deadline, in seconds from detection (from the start of impact for detection).
    pub within_seconds: f64,
    /// Incidents that kept it.
    pub kept: u64,
    /// Incidents that missed it, counting those still waiting past it.
    pub missed: u64,
    /// Incidents still waiting and still within it: not counted either way.
    pub pending: u64,
    /// `kept / (kept + missed)` in percent; `null` when nothing was counted.
    pub percent: Option<f64>,
}

/// One category's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CategoryReport {
    /// `null` for the incidents without a category.
    pub category: Option<CategoryId>,
    /// The category's name in the plan, when it has it.
    pub name: Option<String>,
    pub incidents: u64,
    pub times: Times,
}

/// Incidents declared in one week.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct WeekCount {
    /// The Monday it starts on, `YYYY-MM-DD`.
    pub start: String,
    /// The ISO week, `YYYY-Www`.
    pub iso_week: String,
    pub incidents: u64,
    /// Per severity, in the order of [`Report::severities`].
    pub by_severity: Vec<u64>,
}

/// Incidents whose root cause was seen before.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Repeats {
    /// Incidents with a root-cause tag.
    pub tagged: u64,
    /// Those whose tag was on an incident declared earlier.
    pub repeated: u64,
    /// `repeated / tagged` in percent; `null` when no incident is tagged.
    pub rate_percent: Option<f64>,
    /// `targets.repeat_rate_percent`.
    pub target_percent: Option<f64>,
    /// Whether the rate is at or under the target.
    pub met: Option<bool>,
    /// The tags that came back, most repeats first.
    pub tags: Vec<RepeatedTag>,
}

/// A root cause seen more than once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RepeatedTag {
    pub tag: String,
    /// Incidents with this tag.
    pub incidents: u64,
    /// Those after the first.
    pub repeats: u64,
}

/// How the follow-up work stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ActionItems {
    pub total: u64,
    pub done: u64,
    pub dropped: u64,
    /// Open or in progress.
    pub open: u64,
    /// Open and due before the report's moment.
    pub overdue: u64,
    /// `done / (total − dropped)` in percent; `null` when nothing is left to count.
    pub completion_percent: Option<f64>,
    /// Done at or before the due time, of those done, in percent; `null` when none is done.
    pub on_time_percent: Option<f64>,
}

/// The 1-based rank of the `percent` percentile of `count` sorted values by nearest rank:
/// `ceil(percent / 100 · count)`, at least 1 (0 for no values).
#[must_use]
pub fn nearest_rank(count: u64, percent: u64) -> u64 {
    if count == 0 {
        return 0;
    }
    (count * percent).div_ceil(100).max(1)
}

/// The `percent` percentile of ascending `sorted` values by nearest rank.
#[must_use]
pub fn percentile(sorted: &[Millis], percent: u64) -> Option<Millis> {
    let rank = nearest_rank(sorted.len() as u64, percent);
    let index = usize::try_from(rank).ok()?.checked_sub(1)?;
    sorted.get(index).copied()
}

/// Reads a day written `YYYY-MM-DD`; the error says what to write.
pub fn parse_day(text: &str) -> Result<jiff::civil::Date, String> {
    let text = text.trim();
    let shaped = text.len() == 10
        && text.bytes().enumerate().all(|(at, byte)| match at {
            4 | 7 => byte == b'-',
            _ => byte.is_ascii_digit(),
        });
    let wrong = || format!("'{text}' is not a day; write YYYY-MM-DD, e.g. 2026-01-31");
    if !shaped {
        return Err(wrong());
    }
    text.parse::<jiff::civil::Date>().map_err(|_| wrong())
}

/// The instants from midnight of `from` to midnight of `until` in `timezone` (the plan's): the
/// period of the days `from` up to but not including `until`. `None` when the zone is unknown
/// or a midnight is out of range.
#[must_use]
pub fn days(
    timezone: &str,
    from: jiff::civil::Date,
    until: jiff::civil::Date,
) -> Option<(Millis, Millis)> {
    let zone = jiff::tz::TimeZone::get(timezone).ok()?;
    let midnight = |day: jiff::civil::Date| {
        day.to_zoned(zone.clone())
            .ok()
            .map(|at| at.timestamp().as_millisecond())
    };
    Some((midnight(from)?, midnight(until)?))
}

/// The last `count` days in `timezone`, today (the day holding `now`) included: the first of
/// them, and the day after today (the end of [`days`]).
#[must_use]
pub fn last_days(
    timezone: &str,
    now: Millis,
    count: i64,
) -> (jiff::civil::Date, jiff::civil::Date) {
    let zone = jiff::tz::TimeZone::get(timezone).unwrap_or(jiff::tz::TimeZone::UTC);
    let today = jiff::Timestamp::from_millisecond(now)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .to_zoned(zone)
        .date();
    let after = today.tomorrow().unwrap_or(today);
    let first = after
        .checked_sub(jiff::Span::new().days(count))
        .unwrap_or(today);
    (first, after)
}

/// Computes the report over `incidents` and `actions` for `period` (`[from, until)`, which
/// sets the weeks), as of `now`. `drills_included` is set when any row is a drill; a caller that
/// asked for drills sets it whatever the rows hold.
#[must_use]
pub fn report(
    plan: &Plan,
    incidents: &[IncidentSample],
    actions: &[ActionSample],
    period: (Millis, Millis),
    now: Millis,
) -> Report {
    // Each row's groups, worked out once: slots as met, then moved into report order.
    const UNCATEGORISED: u32 = u32::MAX;
    let mut severity_slots = Slots::new(plan.severities.iter().map(|s| s.id.as_str()));
    let mut category_slots = Slots::new(plan.categories.iter().map(|c| c.id.as_str()));
    let mut groups: Vec<(u32, u32)> = incidents
        .iter()
        .map(|row| {
            let category = row
                .category
                .as_ref()
                .map_or(UNCATEGORISED, |id| category_slots.slot(id.as_str()));
            (severity_slots.slot(row.severity.as_str()), category)
        })
        .collect();
    let (severity_names, severity_moved) = severity_slots.finish();
    let (category_names, category_moved) = category_slots.finish();
    let uncategorised = u32::try_from(category_names.len()).unwrap_or(u32::MAX);
    for (severity, category) in &mut groups {
        *severity = severity_moved[*severity as usize];
        *category = if *category == UNCATEGORISED {
            uncategorised
        } else {
            category_moved[*category as usize]
        };
    }
    let severities: Vec<SeverityId> = severity_names.into_iter().map(SeverityId::from).collect();
    let mut categories: Vec<Option<CategoryId>> = category_names
        .into_iter()
        .map(|name| Some(CategoryId::from(name)))
        .collect();
    if groups
        .iter()
        .any(|(_, category)| *category == uncategorised)
    {
        categories.push(None);
    }
    let severity_count = severities.len();
    let category_count = categories.len();

    let mttd_target = plan
        .targets
        .as_ref()
        .and_then(|targets| targets.mttd)
        .map(Duration::as_millis);
    let ack_targets: Vec<Option<Millis>> = severities
        .iter()
        .map(|id| plan.severity(id.as_str()).map(|s| s.ack_within.as_millis()))
        .collect();
    let resolve_targets: Vec<Option<Millis>> = severities
        .iter()
        .map(|id| {
            plan.severity(id.as_str())
                .and_then(|s| s.resolve_target)
                .map(Duration::as_millis)
        })
        .collect();

    let mut detect = Measured::with_capacity(incidents.len(), severity_count, category_count);
    let mut acknowledge = Measured::with_capacity(incidents.len(), severity_count, category_count);
    let mut resolve = Measured::with_capacity(incidents.len(), severity_count, category_count);
    let mut acknowledged_in_time = vec![Tally::default(); severity_count];
    let mut resolved_in_time = vec![Tally::default(); severity_count];
    let mut detected_in_time = vec![Tally::default(); severity_count];
    let mut per_severity = vec![0u64; severity_count];
    let mut per_category = vec![0u64; category_count];
    let mut weeks = Weeks::over(plan.timezone(), period);
    let mut weekly = vec![0u64; weeks.starts.len() * severity_count];
    let mut drills = 0;
    for (row, &(severity, category)) in incidents.iter().zip(&groups) {
        let s = severity as usize;
        per_severity[s] += 1;
        per_category[category as usize] += 1;
        drills += u64::from(row.drill);
        if let Some(week) = weeks.index(row.declared_at) {
            weekly[week * severity_count + s] += 1;
        }

        let to_detect = since(row.started_at, row.detected_at);
        detect.push(to_detect, severity, category);
        if let Some(target) = mttd_target {
            detected_in_time[s].count(Some(to_detect), target, 0);
        }
        let to_acknowledge = row.acknowledged_at.map(|at| since(row.detected_at, at));
        if let Some(value) = to_acknowledge {
            acknowledge.push(value, severity, category);
        }
        if let Some(target) = ack_targets[s] {
            acknowledged_in_time[s].count(to_acknowledge, target, now - row.detected_at);
        }
        let to_resolve = row.resolved_at.map(|at| since(row.detected_at, at));
        if let Some(value) = to_resolve {
            resolve.push(value, severity, category);
        }
        if let Some(target) = resolve_targets[s] {
            resolved_in_time[s].count(to_resolve, target, now - row.detected_at);
        }
    }
    let detect = detect.finish();
    let acknowledge = acknowledge.finish();
    let resolve = resolve.finish();

    let times =
        |slot: usize, mttd: Option<Millis>, mtta: Option<Millis>, mttr: Option<Millis>| Times {
            mttd: detect[slot].figure(mttd),
            mtta: acknowledge[slot].figure(mtta),
            mttr: resolve[slot].figure(mttr),
        };
    let severity_reports = severities
        .iter()
        .enumerate()
        .map(|(s, id)| SeverityReport {
            severity: id.clone(),
            name: plan
                .severity(id.as_str())
                .map(|severity| severity.name.clone()),
            incidents: per_severity[s],
            times: times(1 + s, mttd_target, ack_targets[s], resolve_targets[s]),
            acknowledged_in_time: ack_targets[s].map(|target| acknowledged_in_time[s].of(target)),
            resolved_in_time: resolve_targets[s].map(|target| resolved_in_time[s].of(target)),
            detected_in_time: mttd_target.map(|target| detected_in_time[s].of(target)),
        })
        .collect();
    let category_reports = categories
        .iter()
        .enumerate()
        .map(|(c, id)| CategoryReport {
            category: id.clone(),
            name: id
                .as_ref()
                .and_then(|id| plan.category(id.as_str()))
                .map(|category| category.name.clone()),
            incidents: per_category[c],
            times: times(1 + severity_count + c, mttd_target, None, None),
        })
        .collect();
    let week_counts = weeks
        .starts
        .iter()
        .enumerate()
        .map(|(w, monday)| {
            let by_severity = weekly[w * severity_count..(w + 1) * severity_count].to_vec();
            let iso = monday.iso_week_date();
            WeekCount {
                start: monday.to_string(),
                iso_week: format!("{:04}-W{:02}", iso.year(), iso.week()),
                incidents: by_severity.iter().sum(),
                by_severity,
            }
        })
        .collect();

    Report {
        from: period.0,
        until: period.1,
        generated_at: now,
        timezone: plan.timezone().to_owned(),
        drills_included: drills > 0,
        incidents: incidents.len() as u64,
        drills,
        overall: times(0, mttd_target, None, None),
        severities: severity_reports,
        categories: category_reports,
        weeks: week_counts,
        repeats: repeats(plan, incidents),
        action_items: action_items(actions, now),
    }
}

/// `to − from`, never below zero.
fn since(from: Millis, to: Millis) -> Millis {
    to.saturating_sub(from).max(0)
}

fn seconds(millis: Millis) -> f64 {
    millis as f64 / 1000.0
}

fn percent(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 * 100.0 / whole as f64)
}

/// The ids met in the rows, each with a slot: the plan's first, in plan order, then the others
/// as they are first met. A plan has a handful of severities and categories, so a linear look-up
/// beats any map.
struct Slots<'a> {
    names: Vec<&'a str>,
    planned: usize,
}

impl<'a> Slots<'a> {
    fn new(planned: impl Iterator<Item = &'a str>) -> Self {
        let names: Vec<&str> = planned.collect();
        Self {
            planned: names.len(),
            names,
        }
    }

    fn slot(&mut self, name: &'a str) -> u32 {
        let at = self
            .names
            .iter()
            .position(|known| *known == name)
            .unwrap_or_else(|| {
                self.names.push(name);
                self.names.len() - 1
            });
        u32::try_from(at).unwrap_or(u32::MAX)
    }

    /// The names in report order (the plan's, then the others sorted), and where each slot
    /// handed out went.
    fn finish(self) -> (Vec<&'a str>, Vec<u32>) {
        let mut order: Vec<usize> = (0..self.names.len()).collect();
        order[self.planned..].sort_by_key(|&at| self.names[at]);
        let mut moved = vec![0u32; self.names.len()];
        for (to, &from) in order.iter().enumerate() {
            moved[from] = u32::try_from(to).unwrap_or(u32::MAX);
        }
        let names = order.iter().map(|&at| self.names[at]).collect();
        (names, moved)
    }
}

/// One duration, measured: the values with their severity and category slots, and per group
/// (overall, each severity, each category) how many there are.
struct Measured {
    values: Vec<(Millis, u32, u32)>,
    groups: Vec<Group>,
    severities: usize,
}

impl Measured {
    fn with_capacity(rows: usize, severities: usize, categories: usize) -> Self {
        Self {
            values: Vec::with_capacity(rows),
            groups: vec![Group::default(); 1 + severities + categories],
            severities,
        }
    }

    fn push(&mut self, value: Millis, severity: u32, category: u32) {
        self.values.push((value, severity, category));
        self.groups[0].count += 1;
        self.groups[1 + severity as usize].count += 1;
        self.groups[1 + self.severities + category as usize].count += 1;
    }

    /// Sorts once, then walks the values in order: each group sees its own values ascending,
    /// and takes its median and p90 when it reaches their ranks.
    fn finish(mut self) -> Vec<Group> {
        self.values.sort_unstable_by_key(|(value, _, _)| *value);
        for group in &mut self.groups {
            group.median_rank = nearest_rank(group.count, 50);
            group.p90_rank = nearest_rank(group.count, 90);
        }
        for &(value, severity, category) in &self.values {
            self.groups[0].take(value);
            self.groups[1 + severity as usize].take(value);
            self.groups[1 + self.severities + category as usize].take(value);
        }
        self.groups
    }
}

/// A group's running figures for one duration.
#[derive(Debug, Clone, Default)]
struct Group {
    count: u64,
    seen: u64,
    sum: i128,
    median_rank: u64,
    p90_rank: u64,
    median: Option<Millis>,
    p90: Option<Millis>,
}

impl Group {
    fn take(&mut self, value: Millis) {
        self.seen += 1;
        self.sum += i128::from(value);
        if self.seen == self.median_rank {
            self.median = Some(value);
        }
        if self.seen == self.p90_rank {
            self.p90 = Some(value);
        }
    }

    fn figure(&self, target: Option<Millis>) -> TimeFigure {
        let sum_seconds = self.sum as f64 / 1000.0;
        let mean_seconds = (self.count > 0).then(|| sum_seconds / self.count as f64);
        let target_seconds = target.map(seconds);
        TimeFigure {
            count: self.count,
            sum_seconds,
            mean_seconds,
            median_seconds: self.median.map(seconds),
            p90_seconds: self.p90.map(seconds),
            target_seconds,
            met: mean_seconds
                .zip(target_seconds)
                .map(|(mean, target)| mean <= target),
        }
    }
}

/// Kept, missed and pending counts of one deadline.
#[derive(Debug, Clone, Copy, Default)]
struct Tally {
    kept: u64,
    missed: u64,
    pending: u64,
}

impl Tally {
    /// `took`: how long it took, if it happened; `waited`: how long it has been waited for.
    fn count(&mut self, took: Option<Millis>, within: Millis, waited: Millis) {
        match took {
            Some(took) if took <= within => self.kept += 1,
            Some(_) => self.missed += 1,
            None if waited > within => self.missed += 1,
            None => self.pending += 1,
        }
    }

    fn of(self, within: Millis) -> Compliance {
        Compliance {
            within_seconds: seconds(within),
            kept: self.kept,
            missed: self.missed,
            pending: self.pending,
            percent: percent(self.kept, self.kept + self.missed),
        }
    }
}

/// The weeks of a period in a zone, by their start instants.
struct Weeks {
    starts: Vec<jiff::civil::Date>,
    /// Where each week starts, and where the last one ends: one more than `starts`.
    bounds: Vec<Millis>,
    /// The week last found.
    hint: usize,
}

impl Weeks {
    fn over(zone: &str, (from, until): (Millis, Millis)) -> Self {
        let empty = Self {
            starts: Vec::new(),
            bounds: Vec::new(),
            hint: 0,
        };
        if until <= from {
            return empty;
        }
        let zone = jiff::tz::TimeZone::get(zone).unwrap_or(jiff::tz::TimeZone::UTC);
        let day = |at: Millis| {
            jiff::Timestamp::from_millisecond(at)
                .map(|at| at.to_zoned(zone.clone()).date())
                .ok()
        };
        let (Some(first), Some(last)) = (day(from), day(until - 1)) else {
            return empty;
        };
        let midnight = |date: jiff::civil::Date| {
            date.to_zoned(zone.clone())
                .map(|at| at.timestamp().as_millisecond())
                .ok()
        };
        let mut starts = Vec::new();
        let mut bounds = Vec::new();
        let mut monday = monday_of(first);
        while monday <= last && starts.len() < MAX_WEEKS {
            let Some(start) = midnight(monday) else {
                break;
            };
            starts.push(monday);
            bounds.push(start);
            let Ok(next) = monday.checked_add(jiff::Span::new().weeks(1)) else {
                break;
            };
            monday = next;
        }
        match midnight(monday) {
            Some(end) if !starts.is_empty() => bounds.push(end),
            _ => return empty,
        }
        Self {
            starts,
            bounds,
            hint: 0,
        }
    }

    /// The week holding `at`, by position. Rows come mostly in declaration order, so the week
    /// of the last call is tried first.
    fn index(&mut self, at: Millis) -> Option<usize> {
        let (first, last) = (*self.bounds.first()?, *self.bounds.last()?);
        if at < first || at >= last {
            return None;
        }
        let hint = self.hint;
        if self.bounds[hint] <= at && at < self.bounds[hint + 1] {
            return Some(hint);
        }
        self.hint = self.bounds.partition_point(|start| *start <= at) - 1;
        Some(self.hint)
    }
}

fn monday_of(date: jiff::civil::Date) -> jiff::civil::Date {
    let back = i64::from(date.weekday().to_monday_zero_offset());
    date.checked_sub(jiff::Span::new().days(back))
        .unwrap_or(date)
}

/// Per tag: how many incidents, when the first was declared and how many were declared then.
fn repeats(plan: &Plan, incidents: &[IncidentSample]) -> Repeats {
    // Order does not matter here: the tags that repeat are sorted at the end.
    let mut tags: HashMap<&str, (u64, Millis, u64)> = HashMap::new();
    for row in incidents {
        let Some(tag) = row.root_cause.as_deref() else {
            continue;
        };
        let entry = tags.entry(tag).or_insert((0, row.declared_at, 0));
        entry.0 += 1;
        match row.declared_at.cmp(&entry.1) {
            std::cmp::Ordering::Less => *entry = (entry.0, row.declared_at, 1),
            std::cmp::Ordering::Equal => entry.2 += 1,
            std::cmp::Ordering::Greater => {}
        }
    }
    let tagged = tags.values().map(|(count, _, _)| count).sum();
    let mut repeated_tags: Vec<RepeatedTag> = tags
        .into_iter()
        .filter(|(_, (count, _, first))| count > first)
        .map(|(tag, (count, _, first))| RepeatedTag {
            tag: tag.to_owned(),
            incidents: count,
            repeats: count - first,
        })
        .collect();
    repeated_tags.sort_by(|a, b| b.repeats.cmp(&a.repeats).then_with(|| a.tag.cmp(&b.tag)));
    let repeated = repeated_tags.iter().map(|tag| tag.repeats).sum();
    let rate_percent = percent(repeated, tagged);
    let target_percent = plan
        .targets
        .as_ref()
        .and_then(|targets| targets.repeat_rate_percent);
    Repeats {
        tagged,
        repeated,
        rate_percent,
        target_percent,
        met: rate_percent
            .zip(target_percent)
            .map(|(rate, target)| rate <= target),
        tags: repeated_tags,
    }
}

fn action_items(actions: &[ActionSample], now: Millis) -> ActionItems {
    let mut items = ActionItems {
        total: actions.len() as u64,
        done: 0,
        dropped: 0,
        open: 0,
        overdue: 0,
        completion_percent: None,
        on_time_percent: None,
    };
    let mut on_time = 0;
    for action in actions {
        match action.status {
            ActionStatus::Done => {
                items.done += 1;
                on_time += u64::from(action.closed_at.is_some_and(|at| at <= action.due_at));
            }
            ActionStatus::Dropped => items.dropped += 1,
            ActionStatus::Open | ActionStatus::InProgress => {
                items.open += 1;
                items.overdue += u64::from(action.due_at < now);
            }
        }
    }
    items.completion_percent = percent(items.done, items.total - items.dropped);
    items.on_time_percent = percent(on_time, items.done);
    items
}

#[cfg(test)]
// Every figure compared is a whole number of seconds or an exact fraction of one.
#[allow(clippy::float_cmp)]
mod tests {
    use super::*;
    use crate::plan::{Source, load};

    const SECOND: Millis = 1000;
    const MINUTE: Millis = 60 * SECOND;
    const HOUR: Millis = 60 * MINUTE;
    const DAY: Millis = 24 * HOUR;
    /// Monday 2026-01-05 00:00 UTC.
    const MONDAY: Millis = 1_767_571_200_000;

    /// A plan with P0 (ack 5m, resolve 4h) and P1 (ack 15m, no resolve target), MTTD 5m and a
    /// 10 % repeat-rate target.
    fn plan() -> Plan {
        let text = "\
version: 1
organization:
  name: Test
  timezone: Europe/Berlin
severities:
  - id: P0
    name: Critical
    urgent: true
    important: true
    ack_within: 5m
    resolve_target: 4h
    escalation: none
  - id: P1
    name: High
    urgent: true
    important: false
    ack_within: 15m
    escalation: none
categories:
  - id: exploit
    name: Exploit
  - id: outage
    name: Outage
targets:
  mttd: 5m
  repeat_rate_percent: 10
";
        let loaded = load(
            &[Source {
                name: "plan.yaml",
                text,
            }],
            jiff::Timestamp::UNIX_EPOCH,
        );
        loaded
            .plan
            .unwrap_or_else(|| panic!("{:#?}", loaded.diagnostics))
    }

    /// An incident of `severity` declared at `at`, detected at the same moment, started a
    /// minute before.
    fn incident(severity: &str, at: Millis) -> IncidentSample {
        IncidentSample {
            severity: SeverityId::from(severity),
            category: None,
            drill: false,
            started_at: at - MINUTE,
            detected_at: at,
            declared_at: at,
            acknowledged_at: None,
            resolved_at: None,
            root_cause: None,
        }
    }

    fn acked(severity: &str, at: Millis, after: Millis) -> IncidentSample {
        IncidentSample {
            acknowledged_at: Some(at + after),
            ..incident(severity, at)
        }
    }

    fn run(incidents: &[IncidentSample], now: Millis) -> Report {
        report(&plan(), incidents, &[], (MONDAY, MONDAY + 14 * DAY), now)
    }

    #[test]
    fn nearest_rank_percentiles_at_the_edges() {
        assert_eq!(nearest_rank(0, 50), 0);
        assert_eq!(nearest_rank(1, 50), 1);
        assert_eq!(nearest_rank(1, 90), 1);
        assert_eq!(nearest_rank(2, 50), 1);
        assert_eq!(nearest_rank(10, 50), 5);
        assert_eq!(nearest_rank(10, 90), 9);
        assert_eq!(nearest_rank(11, 90), 10);
        assert_eq!(nearest_rank(100_000, 90), 90_000);
        let ten: Vec<Millis> = (1..=10).collect();
        assert_eq!(percentile(&ten, 90), Some(9));
        assert_eq!(percentile(&ten, 50), Some(5));
        assert_eq!(percentile(&[7], 90), Some(7));
        assert_eq!(percentile(&[7], 50), Some(7));
        assert_eq!(percentile(&[], 50), None);
        // Ties: the rank's value, whichever of the equal values holds it.
        assert_eq!(percentile(&[1, 2, 2, 2, 9], 50), Some(2));
        assert_eq!(percentile(&[1, 2, 2, 2, 9], 90), Some(9));
    }

    #[test]
    fn one_incident_is_its_own_median_and_p90() {
        let report = run(&[acked("P0", MONDAY, 3 * MINUTE)], MONDAY + DAY);
        let mtta = &report.overall.mtta;
        assert_eq!(mtta.count, 1);
        assert_eq!(mtta.median_seconds, Some(180.0));
        assert_eq!(mtta.p90_seconds, Some(180.0));
        assert_eq!(mtta.mean_seconds, Some(180.0));
        assert_eq!(
            mtta.target_seconds, None,
            "overall MTTA has no single target"
        );
        let p0 = &report.severities[0];
        assert_eq!(p0.times.mtta.target_seconds, Some(300.0));
        assert_eq!(p0.times.mtta.met, Some(true));
        assert_eq!(report.overall.mttd.median_seconds, Some(60.0));
        assert_eq!(report.overall.mttd.met, Some(true));
        assert_eq!(report.overall.mttr.count, 0);
        assert_eq!(report.overall.mttr.median_seconds, None);
        assert_eq!(report.overall.mttr.mean_seconds, None);
    }

    #[test]
    fn ten_incidents_p90_is_the_ninth_and_groups_see_only_their_own() {
        // P1: acknowledged after 1..=10 minutes, given out of order; P0: one after 100 minutes.
        let mut rows: Vec<IncidentSample> = [7, 3, 10, 1, 9, 2, 8, 4, 6, 5]
            .into_iter()
            .map(|minutes| acked("P1", MONDAY + minutes * HOUR, minutes * MINUTE))
            .collect();
        rows.push(acked("P0", MONDAY, 100 * MINUTE));
        let report = run(&rows, MONDAY + 7 * DAY);
        let p1 = &report.severities[1];
        assert_eq!(p1.severity.as_str(), "P1");
        assert_eq!(p1.times.mtta.count, 10);
        assert_eq!(p1.times.mtta.p90_seconds, Some(540.0));
        assert_eq!(p1.times.mtta.median_seconds, Some(300.0));
        assert_eq!(p1.times.mtta.mean_seconds, Some(330.0));
        assert_eq!(p1.times.mtta.met, Some(true));
        let p0 = &report.severities[0];
        assert_eq!(p0.times.mtta.median_seconds, Some(6000.0));
        assert_eq!(p0.times.mtta.met, Some(false));
        // Overall: 11 values, p90 rank ceil(9.9) = 10 → 10 minutes; median rank 6 → 6 minutes.
        assert_eq!(report.overall.mtta.p90_seconds, Some(600.0));
        assert_eq!(report.overall.mtta.median_seconds, Some(360.0));
        assert_eq!(report.overall.mtta.sum_seconds, 55.0 * 60.0 + 6000.0);
        // Every row is uncategorised.
        assert_eq!(report.categories.len(), 3);
        assert_eq!(report.categories[2].category, None);
        assert_eq!(report.categories[2].incidents, 11);
        assert_eq!(report.categories[2].times.mtta.p90_seconds, Some(600.0));
        assert_eq!(report.categories[0].incidents, 0);
        assert_eq!(report.categories[0].times.mtta.median_seconds, None);
    }

    #[test]
    fn ties_give_the_tied_value() {
        let rows: Vec<IncidentSample> = [2, 2, 2, 2, 2, 2, 2, 2, 2, 30]
            .into_iter()
            .map(|minutes| acked("P1", MONDAY, minutes * MINUTE))
            .collect();
        let report = run(&rows, MONDAY + DAY);
        assert_eq!(report.overall.mtta.median_seconds, Some(120.0));
        assert_eq!(report.overall.mtta.p90_seconds, Some(120.0));
    }

    #[test]
    fn unacknowledged_incidents_are_pending_within_the_deadline_and_missed_after() {
        let rows = vec![
            acked("P0", MONDAY, 4 * MINUTE),     // kept
            acked("P0", MONDAY, 6 * MINUTE),     // missed
            incident("P0", MONDAY),              // never acknowledged, 10 minutes ago: missed
            incident("P0", MONDAY + 8 * MINUTE), // 2 minutes ago: pending
        ];
        let report = run(&rows, MONDAY + 10 * MINUTE);
        let p0 = &report.severities[0];
        let ack = p0.acknowledged_in_time.as_ref().unwrap();
        assert_eq!((ack.kept, ack.missed, ack.pending), (1, 2, 1));
        assert_eq!(ack.percent, Some(100.0 / 3.0));
        assert_eq!(ack.within_seconds, 300.0);
        // Resolve within 4 h: nothing resolved, nothing overdue yet.
        let resolve = p0.resolved_in_time.as_ref().unwrap();
        assert_eq!((resolve.kept, resolve.missed, resolve.pending), (0, 0, 4));
        assert_eq!(resolve.percent, None);
        // P1 has no resolve target; detection within 5 m holds for every incident.
        assert!(report.severities[1].resolved_in_time.is_none());
        let detect = p0.detected_in_time.as_ref().unwrap();
        assert_eq!((detect.kept, detect.missed, detect.pending), (4, 0, 0));
        // Exactly at the deadline still counts as within; a moment after is a miss.
        let edge = run(&[incident("P0", MONDAY)], MONDAY + 5 * MINUTE);
        let ack = edge.severities[0].acknowledged_in_time.as_ref().unwrap();
        assert_eq!((ack.kept, ack.missed, ack.pending), (0, 0, 1));
        let late = run(&[incident("P0", MONDAY)], MONDAY + 5 * MINUTE + 1);
        let ack = late.severities[0].acknowledged_in_time.as_ref().unwrap();
        assert_eq!((ack.kept, ack.missed, ack.pending), (0, 1, 0));
    }

    #[test]
    fn resolution_counts_from_detection_against_the_target() {
        let mut slow = incident("P0", MONDAY);
        slow.resolved_at = Some(MONDAY + 5 * HOUR);
        let mut fast = incident("P0", MONDAY);
        fast.resolved_at = Some(MONDAY + HOUR);
        let report = run(&[slow, fast], MONDAY + DAY);
        let p0 = &report.severities[0];
        assert_eq!(p0.times.mttr.count, 2);
        assert_eq!(p0.times.mttr.mean_seconds, Some(3.0 * 3600.0));
        assert_eq!(p0.times.mttr.met, Some(true));
        let resolve = p0.resolved_in_time.as_ref().unwrap();
        assert_eq!((resolve.kept, resolve.missed), (1, 1));
        assert_eq!(resolve.percent, Some(50.0));
    }

    #[test]
    fn severities_outside_the_plan_come_after_sorted_and_weeks_count_by_declaration() {
        let rows = vec![
            incident("SEV-z", MONDAY + HOUR),
            incident("P1", MONDAY + 8 * DAY),
            incident("SEV-a", MONDAY + 2 * HOUR),
            incident("P0", MONDAY + 3 * HOUR),
        ];
        let report = run(&rows, MONDAY + 14 * DAY);
        let ids: Vec<&str> = report
            .severities
            .iter()
            .map(|s| s.severity.as_str())
            .collect();
        assert_eq!(ids, ["P0", "P1", "SEV-a", "SEV-z"]);
        assert_eq!(report.severities[2].name, None);
        assert!(report.severities[2].acknowledged_in_time.is_none());
        // The period starts on Monday 00:00 UTC, which is Monday 01:00 in Berlin; it ends two
        // weeks later at 01:00 Berlin, so the weeks of 2026-01-05, -12 and -19 are counted.
        let weeks: Vec<(&str, &str, u64)> = report
            .weeks
            .iter()
            .map(|w| (w.start.as_str(), w.iso_week.as_str(), w.incidents))
            .collect();
        assert_eq!(
            weeks,
            [
                ("2026-01-05", "2026-W02", 3),
                ("2026-01-12", "2026-W03", 1),
                ("2026-01-19", "2026-W04", 0)
            ]
        );
        assert_eq!(report.weeks[0].by_severity, [1, 0, 1, 1]);
        assert_eq!(report.weeks[1].by_severity, [0, 1, 0, 0]);
    }

    #[test]
    fn categories_outside_the_plan_come_after_sorted_and_the_uncategorised_last() {
        let of = |category: Option<&str>, minutes: Millis| IncidentSample {
            category: category.map(CategoryId::from),
            ..acked("P1", MONDAY, minutes * MINUTE)
        };
        let rows = [
            of(Some("zebra"), 1),
            of(None, 2),
            of(Some("outage"), 3),
            of(Some("apple"), 4),
            of(Some("zebra"), 5),
        ];
        let report = run(&rows, MONDAY + DAY);
        let seen: Vec<(Option<&str>, u64, Option<f64>)> = report
            .categories
            .iter()
            .map(|c| {
                (
                    c.category.as_ref().map(CategoryId::as_str),
                    c.incidents,
                    c.times.mtta.p90_seconds,
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                (Some("exploit"), 0, None),
                (Some("outage"), 1, Some(180.0)),
                (Some("apple"), 1, Some(240.0)),
                (Some("zebra"), 2, Some(300.0)),
                (None, 1, Some(120.0)),
            ]
        );
        assert_eq!(report.categories[1].name.as_deref(), Some("Outage"));
        assert_eq!(report.categories[2].name, None);
    }

    #[test]
    fn weeks_start_at_local_midnight() {
        // Sunday 2026-01-11 23:30 UTC is Monday 00:30 in Berlin: the second week.
        let row = incident("P0", MONDAY + 6 * DAY + 23 * HOUR + 30 * MINUTE);
        let counted = run(&[row], MONDAY + 14 * DAY);
        assert_eq!(counted.weeks[0].incidents, 0);
        assert_eq!(counted.weeks[1].incidents, 1);
        assert!(
            report(&plan(), &[], &[], (MONDAY, MONDAY), MONDAY)
                .weeks
                .is_empty()
        );
    }

    fn tagged(tag: &str, at: Millis) -> IncidentSample {
        IncidentSample {
            root_cause: Some(tag.to_owned()),
            ..incident("P1", at)
        }
    }

    #[test]
    fn repeats_count_only_tags_seen_on_an_earlier_incident() {
        let rows = vec![
            // Given out of order: "oracle" first seen at +1 h, again at +3 h and +5 h.
            tagged("oracle", MONDAY + 5 * HOUR),
            tagged("oracle", MONDAY + HOUR),
            tagged("keys", MONDAY + 2 * HOUR),
            tagged("oracle", MONDAY + 3 * HOUR),
            tagged("bridge", MONDAY + 4 * HOUR),
            tagged("bridge", MONDAY + 6 * HOUR),
            incident("P0", MONDAY),
        ];
        let report = run(&rows, MONDAY + DAY);
        let repeats = &report.repeats;
        assert_eq!(repeats.tagged, 6);
        assert_eq!(repeats.repeated, 3);
        assert_eq!(repeats.rate_percent, Some(50.0));
        assert_eq!(repeats.target_percent, Some(10.0));
        assert_eq!(repeats.met, Some(false));
        assert_eq!(
            repeats.tags,
            [
                RepeatedTag {
                    tag: "oracle".to_owned(),
                    incidents: 3,
                    repeats: 2
                },
                RepeatedTag {
                    tag: "bridge".to_owned(),
                    incidents: 2,
                    repeats: 1
                },
            ]
        );
        // Declared at the same moment: neither is earlier than the other.
        let same = run(
            &[tagged("keys", MONDAY), tagged("keys", MONDAY)],
            MONDAY + DAY,
        );
        assert_eq!(same.repeats.repeated, 0);
        assert_eq!(same.repeats.met, Some(true));
        // Seen only later: the first of them is no repeat.
        let later = run(
            &[
                tagged("keys", MONDAY + HOUR),
                tagged("keys", MONDAY + 2 * HOUR),
            ],
            MONDAY + DAY,
        );
        assert_eq!(later.repeats.repeated, 1);
        let none = run(&[incident("P0", MONDAY)], MONDAY + DAY);
        assert_eq!(none.repeats.rate_percent, None);
        assert_eq!(none.repeats.met, None);
    }

    #[test]
    fn days_are_read_strictly_and_counted_from_local_midnight() {
        assert_eq!(parse_day("2026-01-05"), Ok(jiff::civil::date(2026, 1, 5)));
        for bad in [
            "2026-1-5",
            "2026-13-01",
            "2026-02-30",
            "05.01.2026",
            "2026-01-05T00:00",
            "",
        ] {
            let error = parse_day(bad).unwrap_err();
            assert!(error.contains("YYYY-MM-DD"), "{bad}: {error}");
        }
        let (from, until) = days(
            "Europe/Berlin",
            jiff::civil::date(2026, 1, 5),
            jiff::civil::date(2026, 1, 6),
        )
        .unwrap();
        assert_eq!((from, until), (MONDAY - HOUR, MONDAY + DAY - HOUR));
        assert_eq!(
            days(
                "Nowhere/Atlantis",
                jiff::civil::date(2026, 1, 5),
                jiff::civil::date(2026, 1, 6)
            ),
            None
        );
        // Thirty days, today included: Jan 7 → Dec 9 up to Jan 8.
        let (first, after) = last_days("UTC", MONDAY + 2 * DAY + HOUR, 30);
        assert_eq!(first, jiff::civil::date(2025, 12, 9));
        assert_eq!(after, jiff::civil::date(2026, 1, 8));
    }

    fn action(status: ActionStatus, due: Millis, closed: Option<Millis>) -> ActionSample {
        ActionSample {
            status,
            due_at: due,
            created_at: MONDAY,
            closed_at: closed,
        }
    }

    #[test]
    fn completion_leaves_dropped_items_out() {
        let now = MONDAY + 10 * DAY;
        let actions = [
            action(ActionStatus::Done, MONDAY + 7 * DAY, Some(MONDAY + 2 * DAY)),
            action(ActionStatus::Done, MONDAY + DAY, Some(MONDAY + 3 * DAY)),
            action(ActionStatus::Dropped, MONDAY + DAY, Some(MONDAY + DAY)),
            action(ActionStatus::Open, MONDAY + DAY, None),
            action(ActionStatus::InProgress, MONDAY + 30 * DAY, None),
        ];
        let all = report(&plan(), &[], &actions, (MONDAY, now), now);
        let items = &all.action_items;
        assert_eq!(
            (
                items.total,
                items.done,
                items.dropped,
                items.open,
                items.overdue
            ),
            (5, 2, 1, 2, 1)
        );
        assert_eq!(items.completion_percent, Some(50.0));
        assert_eq!(items.on_time_percent, Some(50.0));
        let dropped = report(
            &plan(),
            &[],
            &[action(ActionStatus::Dropped, MONDAY, None)],
            (MONDAY, now),
            now,
        );
        assert_eq!(dropped.action_items.completion_percent, None);
        assert_eq!(dropped.action_items.on_time_percent, None);
    }

    #[test]
    fn drills_are_counted_and_the_report_round_trips_as_json() {
        let mut drill = acked("P0", MONDAY, MINUTE);
        drill.drill = true;
        drill.category = Some(CategoryId::from("exploit"));
        let report = run(&[drill, incident("P1", MONDAY)], MONDAY + DAY);
        assert!(report.drills_included);
        assert_eq!((report.incidents, report.drills), (2, 1));
        assert_eq!(report.categories[0].incidents, 1);
        assert_eq!(report.categories[0].name.as_deref(), Some("Exploit"));
        let json = serde_json::to_string(&report).unwrap();
        let back: Report = serde_json::from_str(&json).unwrap();
        assert_eq!(back, report);
    }
}
