//! Small textual values that a plan writes as strings: durations, periods, cadences, incident-relative
//! deadlines, references to people/teams/roles, conditions, hand-off times and weekly windows.
//!
//! Each type parses with a message that says what the accepted forms are, prints back in one
//! canonical form, and describes itself in the JSON Schema with a `format` that the structural
//! checker uses to report every malformed value at once.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use jiff::civil::Weekday;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Implements string serialisation, deserialisation through `FromStr`, and a schema with a format.
macro_rules! string_value {
    ($name:ident, $format:literal, $description:literal, [$($example:literal),*]) => {
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }

        impl JsonSchema for $name {
            fn schema_name() -> Cow<'static, str> {
                stringify!($name).into()
            }

            fn json_schema(_generator: &mut SchemaGenerator) -> Schema {
                json_schema!({
                    "type": "string",
                    "format": $format,
                    "description": $description,
                    "examples": [$($example),*]
                })
            }
        }
    };
}

/// Checks a string against one of the formats used in the plan schema.
/// Returns `None` for formats this module does not own (they are not checked).
#[must_use]
pub fn check_format(format: &str, text: &str) -> Option<Result<(), String>> {
    fn run<T: FromStr<Err = String>>(text: &str) -> Result<(), String> {
        text.parse::<T>().map(|_| ())
    }
    Some(match format {
        "muster-duration" => run::<Duration>(text),
        "muster-period" => run::<Period>(text),
        "muster-cadence" => run::<Cadence>(text),
        "muster-relative-time" => run::<RelativeTime>(text),
        "muster-target" => run::<Target>(text),
        "muster-condition" => run::<Condition>(text),
        "muster-time-of-week" => run::<TimeOfWeek>(text),
        "muster-time-window" => run::<TimeWindow>(text),
        "date" => run::<Date>(text),
        "muster-local-datetime" => run::<LocalDateTime>(text),
        "muster-matcher" => run::<Matcher>(text),
        "muster-rate-limit" => run::<RateLimit>(text),
        _ => return None,
    })
}

/// A length of time, written like `15m`, `1h`, `2h30m`, `72h`, `4 hours`, `2 days`, `1w`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration {
    seconds: u64,
}

const MINUTE: u64 = 60;
const HOUR: u64 = 60 * MINUTE;
const DAY: u64 = 24 * HOUR;
const WEEK: u64 = 7 * DAY;

impl Duration {
    #[must_use]
    pub const fn from_secs(seconds: u64) -> Self {
        Self { seconds }
    }

    #[must_use]
    pub const fn from_mins(minutes: u64) -> Self {
        Self {
            seconds: minutes * MINUTE,
        }
    }

    #[must_use]
    pub const fn as_secs(self) -> u64 {
        self.seconds
    }

    #[must_use]
    pub const fn as_millis(self) -> i64 {
        // A plan's durations are at most years long; this never overflows.
        #[allow(clippy::cast_possible_wrap)]
        let millis = (self.seconds * 1000) as i64;
        millis
    }

    /// Words a person would say: "15 minutes", "1 hour", "2 days", "1 hour 30 minutes".
    #[must_use]
    pub fn words(self) -> String {
        if self.seconds == 0 {
            return "immediately".to_owned();
        }
        let mut rest = self.seconds;
        let mut parts = Vec::new();
        for (size, singular) in [
            (WEEK, "week"),
            (DAY, "day"),
            (HOUR, "hour"),
            (MINUTE, "minute"),
            (1, "second"),
        ] {
            // Whole days read better than weeks unless the value is a whole number of weeks.
            if size == WEEK && !self.seconds.is_multiple_of(WEEK) {
                continue;
            }
            let count = rest / size;
            if count > 0 {
                rest -= count * size;
                let plural = if count == 1 { "" } else { "s" };
                parts.push(format!("{count} {singular}{plural}"));
            }
        }
        parts.join(" ")
    }
}

fn unit_seconds(unit: &str) -> Option<u64> {
    Some(match unit {
        "s" | "sec" | "secs" | "second" | "seconds" => 1,
        "m" | "min" | "mins" | "minute" | "minutes" => MINUTE,
        "h" | "hr" | "hrs" | "hour" | "hours" => HOUR,
        "d" | "day" | "days" => DAY,
        "w" | "wk" | "wks" | "week" | "weeks" => WEEK,
        _ => return None,
    })
}

/// Splits `2h30m`, `4 hours` or `1 hour 30 minutes` into `(number, unit)` pairs.
fn number_unit_pairs(text: &str) -> Result<Vec<(u64, String)>, String> {
    let mut pairs = Vec::new();
    let mut chars = text.trim().chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            break;
        }
        let mut number = String::new();
        while let Some(c) = chars.peek().copied().filter(char::is_ascii_digit) {
            number.push(c);
            chars.next();
        }
        if number.is_empty() {
            return Err("expected a number".to_owned());
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut unit = String::new();
        while let Some(c) = chars.peek().copied().filter(char::is_ascii_alphabetic) {
            unit.push(c.to_ascii_lowercase());
            chars.next();
        }
        if unit.is_empty() {
            return Err(format!("the number {number} has no unit"));
        }
        let value = number
            .parse::<u64>()
            .map_err(|_| format!("{number} is too large"))?;
        pairs.push((value, unit));
    }
    if pairs.is_empty() {
        return Err("the value is empty".to_owned());
    }
    Ok(pairs)
}

const DURATION_FORMS: &str =
    "write a number and a unit (s, m, h, d, w), e.g. 15m, 1h30m, 72h or \"2 days\"";

impl FromStr for Duration {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let pairs = number_unit_pairs(text)
            .map_err(|why| format!("'{text}' is not a duration: {why}; {DURATION_FORMS}"))?;
        let mut seconds: u64 = 0;
        for (value, unit) in pairs {
            let size = unit_seconds(&unit).ok_or_else(|| {
                format!("'{text}' is not a duration: unknown unit '{unit}'; {DURATION_FORMS}")
            })?;
            seconds = value
                .checked_mul(size)
                .and_then(|part| seconds.checked_add(part))
                .ok_or_else(|| format!("'{text}' is too long a duration"))?;
        }
        Ok(Self { seconds })
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.seconds == 0 {
            return f.write_str("0m");
        }
        let mut rest = self.seconds;
        for (size, unit) in [(DAY, "d"), (HOUR, "h"), (MINUTE, "m"), (1, "s")] {
            let count = rest / size;
            if count > 0 {
                write!(f, "{count}{unit}")?;
                rest -= count * size;
            }
        }
        Ok(())
    }
}

string_value!(
    Duration,
    "muster-duration",
    "A length of time: a number and a unit (s, m, h, d, w).",
    ["15m", "1h", "2h30m", "72h", "2 days"]
);

/// An update cadence: a duration, or `hourly`, `daily`, `weekly`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cadence(pub Duration);

impl FromStr for Cadence {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let seconds = match text.trim().to_ascii_lowercase().as_str() {
            "hourly" => HOUR,
            "daily" => DAY,
            "weekly" => WEEK,
            _ => {
                let duration = text.parse::<Duration>().map_err(|_| {
                    format!("'{text}' is not a cadence; write hourly, daily, weekly or a duration such as 30m or 4h")
                })?;
                if duration.as_secs() == 0 {
                    return Err(format!(
                        "'{text}' is not a cadence: it must be longer than zero"
                    ));
                }
                return Ok(Self(duration));
            }
        };
        Ok(Self(Duration::from_secs(seconds)))
    }
}

impl fmt::Display for Cadence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Cadence {
    /// "every 30 minutes", "hourly", "daily".
    #[must_use]
    pub fn words(self) -> String {
        match self.0.as_secs() {
            HOUR => "hourly".to_owned(),
            DAY => "daily".to_owned(),
            WEEK => "weekly".to_owned(),
            _ => format!("every {}", self.0.words()),
        }
    }
}

string_value!(
    Cadence,
    "muster-cadence",
    "How often: hourly, daily, weekly, or a duration such as 30m or 4h.",
    ["30m", "hourly", "4h", "daily"]
);

/// A calendar period for drills and reviews: `6 months`, `1y`, `2w`, `quarterly`, `semi-annually`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Period {
    pub months: u32,
    pub duration: Duration,
}

impl FromStr for Period {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        const FORMS: &str =
            "write e.g. \"6 months\", 3mo, 1y, 2w, monthly, quarterly, semi-annually or annually";
        let months = |months| Period {
            months,
            duration: Duration::default(),
        };
        match text.trim().to_ascii_lowercase().as_str() {
            "daily" => {
                return Ok(Period {
                    months: 0,
                    duration: Duration::from_secs(DAY),
                });
            }
            "weekly" => {
                return Ok(Period {
                    months: 0,
                    duration: Duration::from_secs(WEEK),
                });
            }
            "monthly" => return Ok(months(1)),
            "quarterly" => return Ok(months(3)),
            "semi-annually" | "semiannually" | "twice a year" => return Ok(months(6)),
            "annually" | "yearly" => return Ok(months(12)),
            _ => {}
        }
        let pairs = number_unit_pairs(text)
            .map_err(|why| format!("'{text}' is not a period: {why}; {FORMS}"))?;
        let mut period = months(0);
        for (value, unit) in pairs {
            let value_u32 =
                u32::try_from(value).map_err(|_| format!("'{text}' is too long a period"))?;
            match unit.as_str() {
                "mo" | "month" | "months" => period.months += value_u32,
                "y" | "yr" | "year" | "years" => period.months += value_u32 * 12,
                other => {
                    let size = unit_seconds(other).ok_or_else(|| {
                        format!("'{text}' is not a period: unknown unit '{other}'; {FORMS}")
                    })?;
                    period.duration = Duration::from_secs(period.duration.as_secs() + value * size);
                }
            }
        }
        if period.months == 0 && period.duration.as_secs() == 0 {
            return Err(format!(
                "'{text}' is not a period: it must be longer than zero"
            ));
        }
        Ok(period)
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut wrote = false;
        if self.months > 0 {
            if self.months.is_multiple_of(12) {
                let years = self.months / 12;
                write!(f, "{years} year{}", if years == 1 { "" } else { "s" })?;
            } else {
                write!(
                    f,
                    "{} month{}",
                    self.months,
                    if self.months == 1 { "" } else { "s" }
                )?;
            }
            wrote = true;
        }
        if self.duration.as_secs() > 0 {
            if wrote {
                f.write_str(" ")?;
            }
            f.write_str(&self.duration.words())?;
        }
        Ok(())
    }
}

impl Period {
    /// Adds this period to a date (months first, then the rest, rounded up to whole days).
    #[must_use]
    pub fn after(self, date: jiff::civil::Date) -> jiff::civil::Date {
        let days = self.duration.as_secs().div_ceil(DAY);
        let span = jiff::Span::new()
            .months(i64::from(self.months))
            .days(i64::try_from(days).unwrap_or(i64::MAX / 2));
        date.checked_add(span).unwrap_or(jiff::civil::Date::MAX)
    }
}

string_value!(
    Period,
    "muster-period",
    "A calendar period: e.g. \"6 months\", 3mo, 1y, 2w, quarterly, semi-annually.",
    ["6 months", "quarterly", "1y"]
);

/// The incident times a deadline can count from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Anchor {
    Started,
    Detected,
    Declared,
    Acknowledged,
    Mitigated,
    Resolved,
    Closed,
}

impl Anchor {
    const ALL: [(Anchor, &'static str); 7] = [
        (Anchor::Started, "started"),
        (Anchor::Detected, "detected"),
        (Anchor::Declared, "declared"),
        (Anchor::Acknowledged, "acknowledged"),
        (Anchor::Mitigated, "mitigated"),
        (Anchor::Resolved, "resolved"),
        (Anchor::Closed, "closed"),
    ];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(anchor, _)| *anchor == self)
            .map_or("", |(_, name)| name)
    }
}

/// A deadline relative to an incident time: `resolved+2d`, `detected + 72h`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RelativeTime {
    pub anchor: Anchor,
    pub offset: Duration,
}

impl FromStr for RelativeTime {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let anchors = Anchor::ALL.map(|(_, name)| name).join(", ");
        let (anchor_text, offset_text) = text.split_once('+').ok_or_else(|| {
            format!("'{text}' is not a relative time; write an incident time, '+' and a duration, e.g. resolved+2d (times: {anchors})")
        })?;
        let anchor_text = anchor_text.trim().to_ascii_lowercase();
        let anchor = Anchor::ALL
            .iter()
            .find(|(_, name)| *name == anchor_text)
            .map(|(anchor, _)| *anchor)
            .ok_or_else(|| {
                format!("'{anchor_text}' is not an incident time; use one of: {anchors}")
            })?;
        let offset = offset_text.parse::<Duration>()?;
        Ok(Self { anchor, offset })
    }
}

impl fmt::Display for RelativeTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}+{}", self.anchor.as_str(), self.offset)
    }
}

impl RelativeTime {
    /// "resolution + 2 days", "detection + 3 days".
    #[must_use]
    pub fn words(self) -> String {
        let noun = match self.anchor {
            Anchor::Started => "start of impact",
            Anchor::Detected => "detection",
            Anchor::Declared => "declaration",
            Anchor::Acknowledged => "acknowledgement",
            Anchor::Mitigated => "mitigation",
            Anchor::Resolved => "resolution",
            Anchor::Closed => "closure",
        };
        format!("{noun} + {}", self.offset.words())
    }
}

string_value!(
    RelativeTime,
    "muster-relative-time",
    "An incident time plus a duration: started, detected, declared, acknowledged, mitigated, resolved or closed, then '+' and a duration.",
    ["resolved+2d", "detected+72h"]
);

/// What a reference points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TargetKind {
    Person,
    Team,
    Role,
    Schedule,
    Channel,
}

impl TargetKind {
    const ALL: [(TargetKind, &'static str); 5] = [
        (TargetKind::Person, "person"),
        (TargetKind::Team, "team"),
        (TargetKind::Role, "role"),
        (TargetKind::Schedule, "schedule"),
        (TargetKind::Channel, "channel"),
    ];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(kind, _)| *kind == self)
            .map_or("", |(_, name)| name)
    }
}

/// A reference to whoever should be notified or approve: `role:incident-commander`, `person:janet`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Target {
    pub kind: TargetKind,
    pub id: String,
}

impl FromStr for Target {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let kinds = TargetKind::ALL.map(|(_, name)| name).join(", ");
        let (kind_text, id) = text.split_once(':').ok_or_else(|| {
            format!("'{text}' does not say what it refers to; write KIND:ID with KIND one of {kinds}, e.g. role:{text} or person:{text}")
        })?;
        let kind = TargetKind::ALL
            .iter()
            .find(|(_, name)| *name == kind_text.trim())
            .map(|(kind, _)| *kind)
            .ok_or_else(|| {
                format!("'{kind_text}' is not a kind of reference; use one of {kinds}")
            })?;
        let id = id.trim();
        if id.is_empty() {
            return Err(format!("'{text}' has no id after the colon"));
        }
        Ok(Self {
            kind,
            id: id.to_owned(),
        })
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind.as_str(), self.id)
    }
}

string_value!(
    Target,
    "muster-target",
    "A reference: person:ID, team:ID, role:ID, schedule:ID or channel:ID.",
    [
        "role:incident-commander",
        "schedule:primary",
        "person:janet"
    ]
);

/// Which incidents something applies to: `always`, `tag:personal-data`, `severity:P0`,
/// `category:hacker`, `scenario:stolen-funds`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Condition {
    Always,
    Tag(String),
    Severity(String),
    Category(String),
    Scenario(String),
}

impl FromStr for Condition {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text == "always" {
            return Ok(Self::Always);
        }
        let forms = "write always, tag:NAME, severity:ID, category:ID or scenario:ID";
        let (kind, value) = text
            .split_once(':')
            .ok_or_else(|| format!("'{text}' is not a condition; {forms}"))?;
        let value = value.trim().to_owned();
        if value.is_empty() {
            return Err(format!("'{text}' has nothing after the colon; {forms}"));
        }
        match kind.trim() {
            "tag" => Ok(Self::Tag(value)),
            "severity" => Ok(Self::Severity(value)),
            "category" => Ok(Self::Category(value)),
            "scenario" => Ok(Self::Scenario(value)),
            other => Err(format!("'{other}' is not a kind of condition; {forms}")),
        }
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Condition::Always => f.write_str("always"),
            Condition::Tag(value) => write!(f, "tag:{value}"),
            Condition::Severity(value) => write!(f, "severity:{value}"),
            Condition::Category(value) => write!(f, "category:{value}"),
            Condition::Scenario(value) => write!(f, "scenario:{value}"),
        }
    }
}

string_value!(
    Condition,
    "muster-condition",
    "Which incidents: always, tag:NAME, severity:ID, category:ID or scenario:ID.",
    ["tag:personal-data", "severity:P0", "always"]
);

/// When a team is told of an incident (seed 001's escalation process).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum NotifyWhen {
    OnDetection,
    OnValidation,
    OnResolution,
    Never,
}

impl NotifyWhen {
    #[must_use]
    pub fn words(self) -> &'static str {
        match self {
            NotifyWhen::OnDetection => "Upon detection",
            NotifyWhen::OnValidation => "Upon validation",
            NotifyWhen::OnResolution => "Upon resolution",
            NotifyWhen::Never => "Not notified",
        }
    }
}

fn parse_weekday(text: &str) -> Option<Weekday> {
    Some(match text.trim().to_ascii_lowercase().get(..3)? {
        "mon" => Weekday::Monday,
        "tue" => Weekday::Tuesday,
        "wed" => Weekday::Wednesday,
        "thu" => Weekday::Thursday,
        "fri" => Weekday::Friday,
        "sat" => Weekday::Saturday,
        "sun" => Weekday::Sunday,
        _ => return None,
    })
}

fn weekday_short(day: Weekday) -> &'static str {
    match day {
        Weekday::Monday => "mon",
        Weekday::Tuesday => "tue",
        Weekday::Wednesday => "wed",
        Weekday::Thursday => "thu",
        Weekday::Friday => "fri",
        Weekday::Saturday => "sat",
        Weekday::Sunday => "sun",
    }
}

/// Minutes since midnight from `HH:MM`; `24:00` is allowed as the end of a day.
fn parse_clock(text: &str) -> Option<u16> {
    let (hours, minutes) = text.trim().split_once(':')?;
    if minutes.len() != 2 || hours.is_empty() || hours.len() > 2 {
        return None;
    }
    let hours: u16 = hours.parse().ok()?;
    let minutes: u16 = minutes.parse().ok()?;
    if minutes >= 60 || hours > 24 || (hours == 24 && minutes != 0) {
        return None;
    }
    Some(hours * 60 + minutes)
}

fn write_clock(f: &mut fmt::Formatter<'_>, minutes: u16) -> fmt::Result {
    write!(f, "{:02}:{:02}", minutes / 60, minutes % 60)
}

/// When a rotation hands over: `mon 09:00` (weekly) or `09:00` (every shift at that time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeOfWeek {
    pub weekday: Option<Weekday>,
    /// Minutes after midnight, below 24 * 60.
    pub minute_of_day: u16,
}

impl FromStr for TimeOfWeek {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let error = || {
            format!(
                "'{text}' is not a hand-off time; write HH:MM or a weekday and HH:MM, e.g. 09:00 or \"mon 09:00\""
            )
        };
        let mut words = text.split_whitespace();
        let (weekday, clock) = match (words.next(), words.next(), words.next()) {
            (Some(clock), None, None) => (None, clock),
            (Some(day), Some(clock), None) => (Some(parse_weekday(day).ok_or_else(error)?), clock),
            _ => return Err(error()),
        };
        let minute_of_day = parse_clock(clock)
            .filter(|minutes| *minutes < 24 * 60)
            .ok_or_else(error)?;
        Ok(Self {
            weekday,
            minute_of_day,
        })
    }
}

impl fmt::Display for TimeOfWeek {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(day) = self.weekday {
            write!(f, "{} ", weekday_short(day))?;
        }
        write_clock(f, self.minute_of_day)
    }
}

string_value!(
    TimeOfWeek,
    "muster-time-of-week",
    "Hand-off time: HH:MM, or a weekday and HH:MM.",
    ["mon 09:00", "09:00"]
);

/// Part of the week a rotation layer covers: `mon-fri 09:00-17:00`, `09:00-17:00`, `sat-sun 00:00-24:00`.
/// An end before the start runs past midnight (`22:00-06:00`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeWindow {
    pub first_day: Weekday,
    pub last_day: Weekday,
    pub start_minute: u16,
    pub end_minute: u16,
}

impl FromStr for TimeWindow {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let error = || {
            format!(
                "'{text}' is not a weekly window; write [DAY-DAY] HH:MM-HH:MM, e.g. \"mon-fri 09:00-17:00\" or 22:00-06:00"
            )
        };
        let mut words = text.split_whitespace();
        let (days, hours) = match (words.next(), words.next(), words.next()) {
            (Some(hours), None, None) => (None, hours),
            (Some(days), Some(hours), None) => (Some(days), hours),
            _ => return Err(error()),
        };
        let (first_day, last_day) = if let Some(days) = days {
            if let Some((first, last)) = days.split_once('-') {
                (
                    parse_weekday(first).ok_or_else(error)?,
                    parse_weekday(last).ok_or_else(error)?,
                )
            } else {
                let day = parse_weekday(days).ok_or_else(error)?;
                (day, day)
            }
        } else {
            (Weekday::Monday, Weekday::Sunday)
        };
        let (start, end) = hours.split_once('-').ok_or_else(error)?;
        let start_minute = parse_clock(start)
            .filter(|m| *m < 24 * 60)
            .ok_or_else(error)?;
        let end_minute = parse_clock(end).ok_or_else(error)?;
        if start_minute == end_minute {
            return Err(format!(
                "'{text}' is an empty window: it starts and ends at the same time"
            ));
        }
        Ok(Self {
            first_day,
            last_day,
            start_minute,
            end_minute,
        })
    }
}

impl fmt::Display for TimeWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.first_day == self.last_day {
            write!(f, "{} ", weekday_short(self.first_day))?;
        } else {
            write!(
                f,
                "{}-{} ",
                weekday_short(self.first_day),
                weekday_short(self.last_day)
            )?;
        }
        write_clock(f, self.start_minute)?;
        f.write_str("-")?;
        write_clock(f, self.end_minute)
    }
}

impl TimeWindow {
    /// Whether a local time on a given weekday falls inside the window. A window that runs past
    /// midnight belongs to the day it starts on.
    #[must_use]
    pub fn contains(&self, weekday: Weekday, minute_of_day: u16) -> bool {
        let day_in = |day: Weekday| {
            let first = self.first_day.to_monday_zero_offset();
            let last = self.last_day.to_monday_zero_offset();
            let day = day.to_monday_zero_offset();
            if first <= last {
                (first..=last).contains(&day)
            } else {
                day >= first || day <= last
            }
        };
        if self.start_minute < self.end_minute {
            day_in(weekday) && (self.start_minute..self.end_minute).contains(&minute_of_day)
        } else {
            (day_in(weekday) && minute_of_day >= self.start_minute)
                || (day_in(weekday.wrapping_sub(1)) && minute_of_day < self.end_minute)
        }
    }
}

string_value!(
    TimeWindow,
    "muster-time-window",
    "A weekly window: [DAY-DAY] HH:MM-HH:MM.",
    ["mon-fri 09:00-17:00", "22:00-06:00"]
);

/// A calendar date, `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(pub jiff::civil::Date);

impl FromStr for Date {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        text.trim()
            .parse::<jiff::civil::Date>()
            .map(Date)
            .map_err(|_| format!("'{text}' is not a date; write YYYY-MM-DD, e.g. 2026-01-05"))
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

string_value!(Date, "date", "A calendar date, YYYY-MM-DD.", ["2026-01-05"]);

/// A wall-clock date and time in a schedule's zone, `YYYY-MM-DDTHH:MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LocalDateTime(pub jiff::civil::DateTime);

impl FromStr for LocalDateTime {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        text.trim()
            .replacen(' ', "T", 1)
            .parse::<jiff::civil::DateTime>()
            .map(LocalDateTime)
            .map_err(|_| format!("'{text}' is not a local date and time; write YYYY-MM-DDTHH:MM, e.g. 2026-01-05T09:00"))
    }
}

impl fmt::Display for LocalDateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.strftime("%Y-%m-%dT%H:%M"))
    }
}

string_value!(
    LocalDateTime,
    "muster-local-datetime",
    "A local date and time, YYYY-MM-DDTHH:MM.",
    ["2026-01-05T09:00"]
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_in_every_written_form() {
        for (text, seconds) in [
            ("15m", 900),
            ("1h", 3600),
            ("2h30m", 9000),
            ("72h", 259_200),
            ("4 hours", 14_400),
            ("2 days", 172_800),
            ("1 hour 30 minutes", 5400),
            ("0m", 0),
            ("1w", 604_800),
        ] {
            assert_eq!(
                text.parse::<Duration>().unwrap().as_secs(),
                seconds,
                "{text}"
            );
        }
    }

    #[test]
    fn bad_durations_say_what_to_write() {
        let error = "15".parse::<Duration>().unwrap_err();
        assert!(error.contains("has no unit"), "{error}");
        let error = "5 fortnights".parse::<Duration>().unwrap_err();
        assert!(error.contains("unknown unit 'fortnights'"), "{error}");
        assert!("".parse::<Duration>().is_err());
        assert!("soon".parse::<Duration>().is_err());
    }

    #[test]
    fn durations_print_canonically_and_round_trip() {
        for text in ["15m", "1h30m", "3d", "0m", "1d2h"] {
            let duration: Duration = text.parse().unwrap();
            assert_eq!(duration.to_string(), text);
        }
        assert_eq!("90m".parse::<Duration>().unwrap().to_string(), "1h30m");
        assert_eq!("72h".parse::<Duration>().unwrap().words(), "3 days");
        assert_eq!("15m".parse::<Duration>().unwrap().words(), "15 minutes");
    }

    #[test]
    fn periods_cover_the_seed_cadences() {
        let six: Period = "6 months".parse().unwrap();
        assert_eq!(six.months, 6);
        assert_eq!("semi-annually".parse::<Period>().unwrap(), six);
        assert_eq!("quarterly".parse::<Period>().unwrap().months, 3);
        let date = jiff::civil::date(2026, 1, 31);
        assert_eq!(six.after(date), jiff::civil::date(2026, 7, 31));
        assert!("0 months".parse::<Period>().is_err());
    }

    #[test]
    fn relative_times_accept_spaces_and_name_the_anchors_on_error() {
        let due: RelativeTime = "resolved + 2 days".parse().unwrap();
        assert_eq!(due.anchor, Anchor::Resolved);
        assert_eq!(due.offset.as_secs(), 2 * DAY);
        assert_eq!(due.to_string(), "resolved+2d");
        let error = "fixed+2d".parse::<RelativeTime>().unwrap_err();
        assert!(error.contains("use one of: started, detected"), "{error}");
    }

    #[test]
    fn targets_need_a_kind() {
        let target: Target = "role:incident-commander".parse().unwrap();
        assert_eq!(target.kind, TargetKind::Role);
        let error = "ceo".parse::<Target>().unwrap_err();
        assert!(error.contains("role:ceo or person:ceo"), "{error}");
        assert!("robot:x".parse::<Target>().is_err());
        assert!("role:".parse::<Target>().is_err());
    }

    #[test]
    fn windows_handle_weekdays_and_midnight() {
        let office: TimeWindow = "mon-fri 09:00-17:00".parse().unwrap();
        assert!(office.contains(Weekday::Monday, 9 * 60));
        assert!(!office.contains(Weekday::Monday, 17 * 60));
        assert!(!office.contains(Weekday::Saturday, 10 * 60));
        let night: TimeWindow = "22:00-06:00".parse().unwrap();
        assert!(night.contains(Weekday::Tuesday, 23 * 60));
        assert!(night.contains(Weekday::Wednesday, 60));
        assert!(!night.contains(Weekday::Wednesday, 12 * 60));
        let weekend: TimeWindow = "sat-sun 00:00-24:00".parse().unwrap();
        assert!(weekend.contains(Weekday::Sunday, 23 * 60 + 59));
        assert!("mon-fri 9-5".parse::<TimeWindow>().is_err());
    }

    #[test]
    fn handoffs_parse_with_and_without_weekday() {
        let weekly: TimeOfWeek = "mon 09:00".parse().unwrap();
        assert_eq!(weekly.weekday, Some(Weekday::Monday));
        assert_eq!(weekly.minute_of_day, 540);
        assert_eq!("18:30".parse::<TimeOfWeek>().unwrap().to_string(), "18:30");
        assert!("noon".parse::<TimeOfWeek>().is_err());
        assert!("mon 24:00".parse::<TimeOfWeek>().is_err());
    }
}

/// How a matcher compares a label's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MatchOp {
    /// `=`
    Equal,
    /// `!=`
    NotEqual,
    /// `=~`, the whole value matches the regular expression
    Matches,
    /// `!~`
    NotMatches,
}

/// An Alertmanager-style label matcher: `alertname=Watchdog`, `severity=~critical|page`,
/// `env!=staging`, `chain!~test.*`. The value may be written in double quotes. Regular
/// expressions are anchored at both ends, as in Alertmanager. A label that is absent has the
/// empty value.
#[derive(Debug, Clone)]
pub struct Matcher {
    pub label: String,
    pub op: MatchOp,
    pub value: String,
    regex: Option<regex_lite::Regex>,
}

impl PartialEq for Matcher {
    fn eq(&self, other: &Self) -> bool {
        self.label == other.label && self.op == other.op && self.value == other.value
    }
}

impl Matcher {
    /// Whether the label's value (empty when the label is absent) satisfies this matcher.
    #[must_use]
    pub fn matches(&self, value: Option<&str>) -> bool {
        let value = value.unwrap_or("");
        match self.op {
            MatchOp::Equal => value == self.value,
            MatchOp::NotEqual => value != self.value,
            MatchOp::Matches => self.regex.as_ref().is_some_and(|re| re.is_match(value)),
            MatchOp::NotMatches => !self.regex.as_ref().is_some_and(|re| re.is_match(value)),
        }
    }
}

impl FromStr for Matcher {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let forms = "write LABEL=VALUE, LABEL!=VALUE, LABEL=~REGEX or LABEL!~REGEX, e.g. alertname=Watchdog";
        let at = text
            .find(['=', '!'])
            .ok_or_else(|| format!("'{text}' is not a matcher; {forms}"))?;
        let label = text[..at].trim();
        let rest = &text[at..];
        let (op, value) = if let Some(value) = rest.strip_prefix("=~") {
            (MatchOp::Matches, value)
        } else if let Some(value) = rest.strip_prefix("!~") {
            (MatchOp::NotMatches, value)
        } else if let Some(value) = rest.strip_prefix("!=") {
            (MatchOp::NotEqual, value)
        } else if let Some(value) = rest.strip_prefix('=') {
            (MatchOp::Equal, value)
        } else {
            return Err(format!("'{text}' is not a matcher; {forms}"));
        };
        let valid_label = !label.is_empty()
            && label
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-')
            && !label.starts_with(|c: char| c.is_ascii_digit());
        if !valid_label {
            return Err(format!(
                "'{text}': '{label}' is not a label name (letters, digits, '_', '.', '-'); {forms}"
            ));
        }
        let value = value.trim();
        let value = match value.strip_prefix('"') {
            Some(quoted) => quoted
                .strip_suffix('"')
                .ok_or_else(|| format!("'{text}': the quoted value has no closing quote"))?,
            None => value,
        }
        .to_owned();
        let regex = match op {
            MatchOp::Matches | MatchOp::NotMatches => Some(
                regex_lite::Regex::new(&format!("^(?:{value})$")).map_err(|why| {
                    format!("'{text}': '{value}' is not a regular expression: {why}")
                })?,
            ),
            MatchOp::Equal | MatchOp::NotEqual => None,
        };
        Ok(Self {
            label: label.to_owned(),
            op,
            value,
            regex,
        })
    }
}

impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = match self.op {
            MatchOp::Equal => "=",
            MatchOp::NotEqual => "!=",
            MatchOp::Matches => "=~",
            MatchOp::NotMatches => "!~",
        };
        write!(f, "{}{op}{}", self.label, self.value)
    }
}

string_value!(
    Matcher,
    "muster-matcher",
    "A label matcher: LABEL=VALUE, LABEL!=VALUE, LABEL=~REGEX or LABEL!~REGEX.",
    [
        "alertname=Watchdog",
        "severity=~critical|page",
        "env!=staging"
    ]
);

/// A rate: a count per second or per minute, written `500/s`, `6000/m` or `100/min`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RateLimit {
    pub count: u32,
    /// The window in seconds: 1 or 60.
    pub per_seconds: u32,
}

impl RateLimit {
    /// Sustained events per second.
    #[must_use]
    pub fn per_second(self) -> f64 {
        f64::from(self.count) / f64::from(self.per_seconds)
    }
}

impl FromStr for RateLimit {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let forms = "write a count per second or minute, e.g. 500/s or 6000/m";
        let (count, unit) = text
            .split_once('/')
            .ok_or_else(|| format!("'{text}' is not a rate; {forms}"))?;
        let count: u32 = count.trim().parse().map_err(|_| {
            format!(
                "'{text}': '{}' is not a whole number; {forms}",
                count.trim()
            )
        })?;
        if count == 0 {
            return Err(format!(
                "'{text}': a rate of zero would refuse every alert; {forms}"
            ));
        }
        let per_seconds = match unit.trim() {
            "s" | "sec" | "second" => 1,
            "m" | "min" | "minute" => 60,
            other => return Err(format!("'{text}': unknown unit '{other}'; {forms}")),
        };
        Ok(Self { count, per_seconds })
    }
}

impl fmt::Display for RateLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = if self.per_seconds == 1 { "s" } else { "m" };
        write!(f, "{}/{unit}", self.count)
    }
}

string_value!(
    RateLimit,
    "muster-rate-limit",
    "A rate: a count per second or per minute, e.g. 500/s or 6000/m.",
    ["500/s", "6000/m"]
);
