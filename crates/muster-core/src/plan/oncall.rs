//! On-call maths: who a schedule puts on call at a moment, its shifts and gaps over a window, the
//! next hand-off, and whom an escalation target or policy reaches.
//!
//! Everything a schedule says is wall-clock time in its zone: hand-offs, active windows and
//! overrides. Shift `k` of a rotation starts at `first + k * every` computed in civil time, so a
//! weekly 09:00 hand-off stays at 09:00 local across daylight-saving changes. A civil time becomes
//! an instant by one monotone rule (see `instant` below): a wall-clock time the clock passes twice
//! counts at its first occurrence, and one the clock skips counts at the moment of the jump.
//! Monotone matters because it keeps shift starts in order, so shifts tile time without overlap.
//!
//! Intervals are computed exactly rather than by sampling. Between two consecutive boundaries (a
//! shift start, an override edge, an active-window edge or a zone transition) nothing that decides
//! who is on call can change, so one evaluation per piece describes the whole piece.

use jiff::civil::{DateTime, Time};
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::plan::model::{
    EscalationPolicy, Override, PersonId, Plan, Rotation, Schedule, ScheduleId,
};
use crate::plan::values::{Target, TargetKind};

const MINUTES_PER_DAY: u16 = 24 * 60;

/// What put a person on call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", content = "index", rename_all = "kebab-case")]
pub enum ShiftSource {
    /// The rotation at this position (from zero) in the schedule's `rotations`.
    Rotation(usize),
    /// One of the schedule's overrides.
    Override,
}

/// A stretch of time one person is on call for one reason, `[start, end)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Shift {
    pub person: PersonId,
    pub start: Timestamp,
    pub end: Timestamp,
    pub source: ShiftSource,
}

/// A maximal stretch of time during which nobody is on call, `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Gap {
    pub start: Timestamp,
    pub end: Timestamp,
}

impl Gap {
    #[must_use]
    pub fn duration(&self) -> SignedDuration {
        self.end.duration_since(self.start)
    }
}

/// Looks up an IANA time zone in the bundled database.
pub fn zone(name: &str) -> Result<TimeZone, String> {
    TimeZone::get(name).map_err(|_| {
        format!("unknown time zone '{name}'; use an IANA name such as UTC, Europe/Berlin or America/New_York")
    })
}

/// The zone a schedule's times are written in: its own, else the organization's.
pub fn schedule_zone(plan: &Plan, schedule: &Schedule) -> Result<TimeZone, String> {
    let name = schedule
        .timezone
        .as_deref()
        .unwrap_or_else(|| plan.timezone());
    zone(name).map_err(|why| format!("schedule {}: {why}", schedule.id))
}

/// Who the schedule puts on call at `at`, if anyone.
pub fn on_call(
    plan: &Plan,
    schedule: &Schedule,
    at: Timestamp,
) -> Result<Option<PersonId>, String> {
    let prepared = Prepared::new(plan, schedule)?;
    Ok(prepared.holder(at)?.map(|(person, _)| person.clone()))
}

/// The shifts of a schedule within `[from, to)`, clipped to it. Consecutive pieces with the same
/// person and source are merged into one shift, so a one-person rotation yields one long shift.
pub fn shifts(
    plan: &Plan,
    schedule: &Schedule,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<Shift>, String> {
    let prepared = Prepared::new(plan, schedule)?;
    Ok(prepared
        .timeline(from, to)?
        .into_iter()
        .filter_map(|piece| {
            piece.holder.map(|(person, source)| Shift {
                person: person.clone(),
                start: piece.start,
                end: piece.end,
                source,
            })
        })
        .collect())
}

/// The maximal intervals within `[from, to)` during which the schedule puts nobody on call.
pub fn gaps(
    plan: &Plan,
    schedule: &Schedule,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<Gap>, String> {
    let prepared = Prepared::new(plan, schedule)?;
    Ok(prepared
        .timeline(from, to)?
        .into_iter()
        .filter(|piece| piece.holder.is_none())
        .map(|piece| Gap {
            start: piece.start,
            end: piece.end,
        })
        .collect())
}

/// The people a notification target reaches at `at`, without duplicates and in plan order.
///
/// A person reaches itself, a team its members, a role its primary and backup, a schedule whoever
/// is on call (nobody when the schedule cannot be evaluated), and a channel nobody: a channel is
/// not a human who can acknowledge. References to things that do not exist reach nobody; the validator
/// reports them.
#[must_use]
pub fn reachable(plan: &Plan, target: &Target, at: Timestamp) -> Vec<PersonId> {
    let mut people = Vec::new();
    let mut add = |id: &PersonId| {
        if plan.person(id.as_str()).is_some() && !people.contains(id) {
            people.push(id.clone());
        }
    };
    match target.kind {
        TargetKind::Person => {
            if let Some(person) = plan.person(&target.id) {
                add(&person.id);
            }
        }
        TargetKind::Team => {
            if let Some(team) = plan.team(&target.id) {
                team.members.iter().for_each(&mut add);
            }
        }
        TargetKind::Role => {
            if let Some(role) = plan.role(&target.id) {
                add(&role.primary);
                if let Some(backup) = &role.backup {
                    add(backup);
                }
            }
        }
        TargetKind::Schedule => {
            if let Some(schedule) = plan.schedule(&target.id)
                && let Ok(Some(person)) = on_call(plan, schedule, at)
            {
                add(&person);
            }
        }
        TargetKind::Channel => {}
    }
    people
}

/// The maximal intervals within `[from, to)` during which no level of the policy reaches a person.
///
/// Persons, teams and roles do not change over time, so one of them that reaches somebody closes
/// every gap; only schedules vary. A policy that only notifies channels reaches nobody at all.
pub fn policy_gaps(
    plan: &Plan,
    policy: &EscalationPolicy,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<Gap>, String> {
    if from >= to {
        return Ok(Vec::new());
    }
    let mut covered = Vec::new();
    for target in policy.levels.iter().flat_map(|level| &level.notify) {
        if target.kind == TargetKind::Schedule {
            if let Some(schedule) = plan.schedule(&target.id) {
                let on_duty = shifts(plan, schedule, from, to)?;
                covered.extend(on_duty.into_iter().map(|shift| (shift.start, shift.end)));
            }
        } else if !reachable(plan, target, from).is_empty() {
            return Ok(Vec::new());
        }
    }
    covered.sort();
    let mut gaps = Vec::new();
    let mut cursor = from;
    for (start, end) in covered {
        if start > cursor {
            gaps.push(Gap {
                start: cursor,
                end: start,
            });
        }
        cursor = cursor.max(end);
    }
    if cursor < to {
        gaps.push(Gap {
            start: cursor,
            end: to,
        });
    }
    Ok(gaps)
}

/// How far, in days, the functions that answer with whole shifts look before and after the moments
/// they are asked about. A shift longer than this is cut at the horizon.
pub const HORIZON_DAYS: i64 = 366;

/// The first window searched for a whole shift, in days; widened fourfold until the shift is whole
/// or the window reaches the horizon. Most shifts are a day or a week long.
const FIRST_REACH_DAYS: i64 = 8;

/// The shift that holds `at`, whole: from when its person took over for this reason to when they
/// hand over, each cut at [`HORIZON_DAYS`] from `at`. `None` when nobody is on call at `at`.
pub fn shift_at(plan: &Plan, schedule: &Schedule, at: Timestamp) -> Result<Option<Shift>, String> {
    Prepared::new(plan, schedule)?.whole_shift(at)
}

/// The next hand-off after `at`: the first shift starting after `at` whose person was not already
/// on call just before it starts. That is a different person taking over, or someone starting
/// after a stretch with nobody on call; a person's rotation shift followed directly by their own
/// override is not a hand-off. The shift is whole (cut at [`HORIZON_DAYS`] from `at`); `None`
/// when nobody takes over within the horizon.
pub fn next_handoff(
    plan: &Plan,
    schedule: &Schedule,
    at: Timestamp,
) -> Result<Option<Shift>, String> {
    Prepared::new(plan, schedule)?.next_handoff(at)
}

/// The shifts that overlap `[from, to)`, whole rather than clipped to the window: the first one
/// keeps its real start and the last its real end (each cut at [`HORIZON_DAYS`] from the window's
/// edge), so the same shift reads the same whatever window it is asked for in.
pub fn overlapping_shifts(
    plan: &Plan,
    schedule: &Schedule,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<Shift>, String> {
    if from >= to {
        return Ok(Vec::new());
    }
    let prepared = Prepared::new(plan, schedule)?;
    let start = prepared
        .whole_shift(from)?
        .map_or(from, |shift| shift.start);
    let last = to
        .checked_sub(SignedDuration::from_nanos(1))
        .map_err(|_| prepared.out_of_range())?;
    let end = prepared.whole_shift(last)?.map_or(to, |shift| shift.end);
    shifts(plan, schedule, start, end)
}

/// The override in force at `at`, if any; where several cover it, the last listed wins, as it
/// does for [`on_call`].
pub fn override_at<'s>(
    plan: &Plan,
    schedule: &'s Schedule,
    at: Timestamp,
) -> Result<Option<&'s Override>, String> {
    let zone = schedule_zone(plan, schedule)?;
    for entry in schedule.overrides.iter().rev() {
        let in_schedule = |why| format!("schedule {}: override {why}", schedule.id);
        let from = instant(&zone, entry.from.0).map_err(in_schedule)?;
        let to = instant(&zone, entry.to.0).map_err(in_schedule)?;
        if from <= at && at < to {
            return Ok(Some(entry));
        }
    }
    Ok(None)
}

/// One schedule at a moment: who is on call and who takes over next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScheduleNow {
    pub schedule: ScheduleId,
    /// The schedule's name, or its id when it has none.
    pub name: String,
    /// The IANA zone the schedule's times are written in.
    pub timezone: String,
    /// The whole shift that holds the moment; `null` when nobody is on call.
    pub now: Option<Shift>,
    /// The next hand-off (see [`next_handoff`]); `null` when nobody takes over within a year.
    pub next: Option<Shift>,
    /// Why the schedule could not be evaluated; `now` and `next` are then `null`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Every schedule of the plan at `at`, in plan order: who is on call and who takes over next. A
/// schedule that cannot be evaluated carries its `error` instead of failing the others.
#[must_use]
pub fn summary(plan: &Plan, at: Timestamp) -> Vec<ScheduleNow> {
    plan.schedules
        .iter()
        .map(|schedule| {
            let evaluated = Prepared::new(plan, schedule)
                .and_then(|prepared| Ok((prepared.whole_shift(at)?, prepared.next_handoff(at)?)));
            let (now, next, error) = match evaluated {
                Ok((now, next)) => (now, next, None),
                Err(why) => (None, None, Some(why)),
            };
            ScheduleNow {
                schedule: schedule.id.clone(),
                name: schedule
                    .name
                    .clone()
                    .unwrap_or_else(|| schedule.id.to_string()),
                timezone: schedule
                    .timezone
                    .clone()
                    .unwrap_or_else(|| plan.timezone().to_owned()),
                now,
                next,
                error,
            }
        })
        .collect()
}

/// Turns a wall-clock time into an instant, keeping the order of wall-clock times.
///
/// A time the clock passes twice (when it falls back) counts at its first occurrence, so a shift
/// never starts an hour late. A time the clock skips (when it springs forward) counts at the moment
/// of the jump: that is the first instant whose wall-clock reading is at or after it.
fn instant(zone: &TimeZone, civil: DateTime) -> Result<Timestamp, String> {
    let ambiguous = zone.to_ambiguous_timestamp(civil);
    let earlier = ambiguous
        .earlier()
        .map_err(|_| format!("{civil} is outside the supported range of times"))?;
    if let AmbiguousOffset::Gap { .. } = ambiguous.offset() {
        // The earlier reading of a skipped time lies just before the jump, so the next transition
        // is the jump itself.
        if let Some(transition) = zone.following(earlier).next() {
            return Ok(transition.timestamp());
        }
    }
    Ok(earlier)
}

/// Every instant whose wall-clock reading is exactly `civil`: none in a gap, two in a fold.
fn occurrences(zone: &TimeZone, civil: DateTime) -> Vec<Timestamp> {
    let ambiguous = zone.to_ambiguous_timestamp(civil);
    match ambiguous.offset() {
        AmbiguousOffset::Unambiguous { .. } => ambiguous.compatible().ok().into_iter().collect(),
        AmbiguousOffset::Fold { .. } => [ambiguous.earlier(), ambiguous.later()]
            .into_iter()
            .filter_map(Result::ok)
            .collect(),
        AmbiguousOffset::Gap { .. } => Vec::new(),
    }
}

fn minute_of_day(local: DateTime) -> u16 {
    u16::from(local.hour().unsigned_abs()) * 60 + u16::from(local.minute().unsigned_abs())
}

/// One rotation, ready for arithmetic.
struct Layer<'a> {
    index: usize,
    rotation: &'a Rotation,
    /// Wall-clock start of shift zero.
    first: DateTime,
    every_seconds: i64,
}

/// A schedule with its zone resolved and its wall-clock data turned into numbers and instants, so
/// that many moments can be asked about without repeating the work.
struct Prepared<'a> {
    schedule: &'a Schedule,
    zone: TimeZone,
    layers: Vec<Layer<'a>>,
    /// `[from, to)` as instants, in plan order.
    overrides: Vec<(Timestamp, Timestamp, &'a PersonId)>,
}

/// A piece of the timeline with one holder (or none) throughout.
struct Piece<'a> {
    start: Timestamp,
    end: Timestamp,
    holder: Option<(&'a PersonId, ShiftSource)>,
}

impl<'a> Prepared<'a> {
    fn new(plan: &Plan, schedule: &'a Schedule) -> Result<Self, String> {
        let zone = schedule_zone(plan, schedule)?;
        let mut layers = Vec::new();
        for (index, rotation) in schedule.rotations.iter().enumerate() {
            // A rotation without members covers nobody, so it never decides anything.
            if rotation.members.is_empty() {
                continue;
            }
            let every_seconds = i64::try_from(rotation.every.as_secs()).map_err(|_| {
                format!(
                    "schedule {}: rotation {} has shifts too long to compute; set every to e.g. 1w",
                    schedule.id,
                    index + 1
                )
            })?;
            if every_seconds == 0 {
                return Err(format!(
                    "schedule {}: rotation {} has shifts of length zero; set every to e.g. 1w or 1d",
                    schedule.id,
                    index + 1
                ));
            }
            let first =
                first_start(rotation).map_err(|why| format!("schedule {}: {why}", schedule.id))?;
            layers.push(Layer {
                index,
                rotation,
                first,
                every_seconds,
            });
        }
        let mut overrides = Vec::new();
        for entry in &schedule.overrides {
            let in_schedule = |why| format!("schedule {}: override {why}", schedule.id);
            let from = instant(&zone, entry.from.0).map_err(in_schedule)?;
            let to = instant(&zone, entry.to.0).map_err(in_schedule)?;
            overrides.push((from, to, &entry.person));
        }
        Ok(Self {
            schedule,
            zone,
            layers,
            overrides,
        })
    }

    fn out_of_range(&self) -> String {
        format!(
            "schedule {}: the shifts run outside the supported range of times",
            self.schedule.id
        )
    }

    /// The instant shift `number` of a layer starts (negative numbers lie before the rotation).
    fn shift_start(&self, layer: &Layer<'_>, number: i64) -> Result<Timestamp, String> {
        let offset = layer
            .every_seconds
            .checked_mul(number)
            .ok_or_else(|| self.out_of_range())?;
        let civil = layer
            .first
            .checked_add(SignedDuration::from_secs(offset))
            .map_err(|_| self.out_of_range())?;
        instant(&self.zone, civil).map_err(|_| self.out_of_range())
    }

    /// The number of the layer's shift that contains `at`: the last one starting at or before it.
    fn shift_number(
        &self,
        layer: &Layer<'_>,
        at: Timestamp,
        local: DateTime,
    ) -> Result<i64, String> {
        // The wall-clock estimate is exact away from transitions; the corrections below handle the
        // hour around one, where the wall clock and the shift starts disagree by at most a shift.
        let elapsed = local.duration_since(layer.first).as_secs();
        let mut number = elapsed.div_euclid(layer.every_seconds);
        while self.shift_start(layer, number)? > at {
            number -= 1;
        }
        while self.shift_start(layer, number + 1)? <= at {
            number += 1;
        }
        Ok(number)
    }

    /// Who is on call at `at` and why: overrides first (the last listed wins), then the rotations
    /// from last to first, each only inside its active window and from its first shift on.
    fn holder(&self, at: Timestamp) -> Result<Option<(&'a PersonId, ShiftSource)>, String> {
        if let Some((_, _, person)) = self
            .overrides
            .iter()
            .rev()
            .find(|(from, to, _)| *from <= at && at < *to)
        {
            return Ok(Some((person, ShiftSource::Override)));
        }
        let local = self.zone.to_datetime(at);
        let weekday = local.weekday();
        let minute = minute_of_day(local);
        for layer in self.layers.iter().rev() {
            if layer
                .rotation
                .active
                .is_some_and(|window| !window.contains(weekday, minute))
            {
                continue;
            }
            let Ok(number) = usize::try_from(self.shift_number(layer, at, local)?) else {
                // The moment lies before the first shift.
                continue;
            };
            let members = &layer.rotation.members;
            return Ok(Some((
                &members[number % members.len()],
                ShiftSource::Rotation(layer.index),
            )));
        }
        Ok(None)
    }

    /// Every instant in `(from, to)` at which the holder may change.
    fn boundaries(&self, from: Timestamp, to: Timestamp) -> Result<Vec<Timestamp>, String> {
        let mut bounds = vec![from];
        let mut push = |moment: Timestamp| {
            if from < moment && moment < to {
                bounds.push(moment);
            }
        };
        for (start, end, _) in &self.overrides {
            push(*start);
            push(*end);
        }
        let local_from = self.zone.to_datetime(from);
        for layer in &self.layers {
            let mut number = self.shift_number(layer, from, local_from)? + 1;
            loop {
                let start = self.shift_start(layer, number)?;
                if start >= to {
                    break;
                }
                push(start);
                number += 1;
            }
            if let Some(window) = layer.rotation.active {
                // Around a fall-back the wall clock runs behind by up to a few hours, so one day of
                // margin on each side catches every window edge the window can reach.
                let out_of_range = |_| self.out_of_range();
                let mut day = local_from.date().yesterday().map_err(out_of_range)?;
                let last_day = self
                    .zone
                    .to_datetime(to)
                    .date()
                    .tomorrow()
                    .map_err(out_of_range)?;
                while day <= last_day {
                    for minute in [window.start_minute, window.end_minute % MINUTES_PER_DAY] {
                        let civil = day
                            .to_datetime(Time::midnight())
                            .checked_add(SignedDuration::from_mins(i64::from(minute)))
                            .map_err(out_of_range)?;
                        occurrences(&self.zone, civil)
                            .into_iter()
                            .for_each(&mut push);
                    }
                    day = day.tomorrow().map_err(out_of_range)?;
                }
            }
        }
        // A window edge the clock skips takes effect at the jump, so every transition counts.
        for transition in self.zone.following(from) {
            if transition.timestamp() >= to {
                break;
            }
            push(transition.timestamp());
        }
        bounds.sort();
        bounds.dedup();
        Ok(bounds)
    }

    /// `at` moved by `days` days (backwards when negative).
    fn days_from(&self, at: Timestamp, days: i64) -> Result<Timestamp, String> {
        at.checked_add(SignedDuration::from_hours(24 * days))
            .map_err(|_| self.out_of_range())
    }

    /// The shift that holds `at`, whole up to the horizon: the window around `at` widens until the
    /// piece holding it starts and ends inside the window.
    fn whole_shift(&self, at: Timestamp) -> Result<Option<Shift>, String> {
        let mut reach = FIRST_REACH_DAYS;
        loop {
            let from = self.days_from(at, -reach)?;
            let to = self.days_from(at, reach)?;
            let pieces = self.timeline(from, to)?;
            let Some(piece) = pieces
                .into_iter()
                .find(|piece| piece.start <= at && at < piece.end)
            else {
                return Ok(None);
            };
            let Some((person, source)) = piece.holder else {
                return Ok(None);
            };
            if (from < piece.start && piece.end < to) || reach >= HORIZON_DAYS {
                return Ok(Some(Shift {
                    person: person.clone(),
                    start: piece.start,
                    end: piece.end,
                    source,
                }));
            }
            reach = (reach * 4).min(HORIZON_DAYS);
        }
    }

    /// See [`next_handoff`]: the window after `at` widens until a hand-off is found whose shift
    /// ends inside it, or the window reaches the horizon.
    fn next_handoff(&self, at: Timestamp) -> Result<Option<Shift>, String> {
        let mut reach = FIRST_REACH_DAYS;
        loop {
            let to = self.days_from(at, reach)?;
            let pieces = self.timeline(at, to)?;
            // The first piece starts at `at`: whoever holds it is the one on call now.
            let mut before = pieces
                .first()
                .and_then(|piece| piece.holder)
                .map(|(person, _)| person);
            let mut found = None;
            for piece in pieces.iter().skip(1) {
                match piece.holder {
                    Some((person, source)) if before != Some(person) => {
                        found = Some(Shift {
                            person: person.clone(),
                            start: piece.start,
                            end: piece.end,
                            source,
                        });
                        break;
                    }
                    holder => before = holder.map(|(person, _)| person),
                }
            }
            let whole = found.as_ref().is_some_and(|shift| shift.end < to);
            if whole || reach >= HORIZON_DAYS {
                return Ok(found);
            }
            reach = (reach * 4).min(HORIZON_DAYS);
        }
    }

    /// The window `[from, to)` cut into maximal pieces with one holder each.
    fn timeline(&self, from: Timestamp, to: Timestamp) -> Result<Vec<Piece<'a>>, String> {
        if from >= to {
            return Ok(Vec::new());
        }
        let bounds = self.boundaries(from, to)?;
        let mut pieces: Vec<Piece<'a>> = Vec::new();
        for (position, start) in bounds.iter().enumerate() {
            let end = bounds.get(position + 1).copied().unwrap_or(to);
            let holder = self.holder(*start)?;
            match pieces.last_mut() {
                Some(last) if last.holder == holder => last.end = end,
                _ => pieces.push(Piece {
                    start: *start,
                    end,
                    holder,
                }),
            }
        }
        Ok(pieces)
    }
}

/// The wall-clock start of a rotation's first shift: the first hand-off at or after the start
/// date's midnight.
fn first_start(rotation: &Rotation) -> Result<DateTime, String> {
    let start = rotation.start.0;
    let days_ahead = rotation.handoff.weekday.map_or(0, |weekday| {
        i64::from(
            (weekday.to_monday_zero_offset() - start.weekday().to_monday_zero_offset())
                .rem_euclid(7),
        )
    });
    let out_of_range =
        |_| format!("rotation starting {start} runs outside the supported range of dates");
    start
        .to_datetime(Time::midnight())
        .checked_add(SignedDuration::from_hours(24 * days_ahead))
        .and_then(|midnight| {
            midnight.checked_add(SignedDuration::from_mins(i64::from(
                rotation.handoff.minute_of_day,
            )))
        })
        .map_err(out_of_range)
}
