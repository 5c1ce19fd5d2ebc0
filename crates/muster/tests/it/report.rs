//! `muster report` through the real binary over a generated two-year history of 100,000
//! incidents in a temporary SQLite file (the first 2,000 appended through the store with real
//! hash chains, the rest written as the very rows those appends are checked to write). The
//! report's numbers are checked against a computation of their own here, written differently
//! (selection instead of a sort, a set walked in declaration order, weeks by division), and
//! must match exactly: counts, percentile seconds, deadlines kept, repeats, weeks, action items.
//! Then the table, the chart and the refusals of bad input, on a small history.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use muster_core::incident::chain::{self, Link};
use muster_core::incident::{
    ActionStatus, Event, EventKind, Horizon, Incident, IncidentId, Millis, Status,
};
use muster_core::metrics::Report;
use muster_core::plan::{CategoryId, PersonId, Plan, SeverityId};
use muster_store::{AnyStore, Store};

use crate::serve::{example_plan, muster, stderr, stdout};

const SECOND: Millis = 1000;
const MINUTE: Millis = 60 * SECOND;
const HOUR: Millis = 60 * MINUTE;
const DAY: Millis = 24 * HOUR;
/// 2024-11-04 00:00 UTC, a Monday: the history starts here.
const START: Millis = 1_730_678_400_000;
/// Two years of 52 weeks, ending 2026-11-02 00:00 UTC (a Monday, before the test ever runs).
const END: Millis = START + 104 * 7 * DAY;
const INCIDENTS: usize = 100_000;
/// How many of them are appended through the store (see [`fill`]).
const APPENDED: usize = 2_000;

/// xorshift64*: small, fast and the same on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A whole number in `0..bound`.
    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }

    /// An index into a list of `len` things.
    fn pick(&mut self, len: usize) -> usize {
        usize::try_from(self.below(len as u64)).unwrap()
    }

    /// True one time in `n`.
    fn one_in(&mut self, n: u64) -> bool {
        self.below(n) == 0
    }

    /// A whole number of seconds in `0..seconds`, as milliseconds.
    fn seconds(&mut self, seconds: i64) -> Millis {
        i64::try_from(self.below(u64::try_from(seconds).unwrap())).unwrap() * SECOND
    }
}

/// One generated incident: every time is a whole second.
#[derive(Debug, Clone)]
struct Generated {
    id: IncidentId,
    severity: String,
    category: Option<String>,
    drill: bool,
    started: Millis,
    detected: Millis,
    declared: Millis,
    acknowledged: Option<Millis>,
    resolved: Option<Millis>,
    root_cause: Option<String>,
    actions: Vec<GeneratedAction>,
}

#[derive(Debug, Clone)]
struct GeneratedAction {
    created: Millis,
    due: Millis,
    status: ActionStatus,
    closed: Option<Millis>,
}

fn plan() -> Plan {
    let text = std::fs::read_to_string(example_plan()).unwrap();
    let source = muster_core::plan::Source {
        name: "smart-contract-protocol.yaml",
        text: &text,
    };
    muster_core::plan::load(&[source], jiff::Timestamp::from_millisecond(END).unwrap())
        .plan
        .expect("the example plan loads")
}

fn day_of(at: Millis) -> jiff::civil::Date {
    jiff::Timestamp::from_millisecond(at)
        .unwrap()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
}

/// The history: declarations strictly one after the other (about every ten minutes), random
/// severities and categories from the plan, one in 25 a drill, one in 12 never acknowledged,
/// one in 8 never resolved, one in 5 with a root cause from 400 tags, one in 10 with action
/// items.
fn generate(plan: &Plan, count: usize) -> Vec<Generated> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let severities: Vec<(String, Millis)> = plan
        .severities
        .iter()
        .map(|s| (s.id.to_string(), s.ack_within.as_millis()))
        .collect();
    let categories: Vec<String> = plan.categories.iter().map(|c| c.id.to_string()).collect();
    let step = (END - START - DAY) / i64::try_from(count).unwrap();
    let step_seconds = step / SECOND;
    let mut numbers: BTreeMap<jiff::civil::Date, u32> = BTreeMap::new();
    let mut history = Vec::with_capacity(count);
    for n in 0..count {
        let slot = START + i64::try_from(n).unwrap() * step_seconds * SECOND;
        let declared = slot + rng.seconds(step_seconds);
        let detected = declared - rng.seconds(600);
        let started = if rng.one_in(4) {
            detected
        } else {
            detected - rng.seconds(1800)
        };
        let (severity, ack_within) = severities[rng.pick(severities.len())].clone();
        let category = (!rng.one_in(10)).then(|| categories[rng.pick(categories.len())].clone());
        let acknowledged =
            (!rng.one_in(12)).then(|| declared + rng.seconds(ack_within / SECOND * 3));
        let resolved = (!rng.one_in(8))
            .then(|| acknowledged.unwrap_or(declared) + rng.seconds(12 * 3600) + SECOND);
        let root_cause = rng.one_in(5).then(|| format!("cause-{}", rng.below(400)));
        let after = resolved.or(acknowledged).unwrap_or(declared) + MINUTE;
        let actions = if rng.one_in(10) {
            (0..=rng.below(3))
                .map(|item| {
                    let created = after + i64::try_from(item).unwrap() * MINUTE;
                    let due = (created + rng.seconds(40 * 86_400) + HOUR).min(END);
                    let status = ActionStatus::ALL[rng.pick(4)];
                    let closed =
                        (!status.is_open()).then(|| created + rng.seconds(60 * 86_400) + SECOND);
                    GeneratedAction {
                        created,
                        due,
                        status,
                        closed,
                    }
                })
                .collect()
        } else {
            Vec::new()
        };
        let day = day_of(declared);
        let number = numbers.entry(day).or_insert(0);
        *number += 1;
        history.push(Generated {
            id: IncidentId::new(day, *number),
            severity,
            category,
            drill: rng.one_in(25),
            started,
            detected,
            declared,
            acknowledged,
            resolved,
            root_cause,
            actions,
        });
    }
    history
}

/// The incident's events, sealed one after the other as the engine would, and its state.
fn timeline(incident: &Generated) -> (Vec<Event>, Incident) {
    let mut kinds: Vec<(Millis, EventKind)> = vec![(
        incident.declared,
        EventKind::Declared {
            title: format!("Generated incident {}", incident.id),
            severity: SeverityId(incident.severity.clone()),
            category: incident.category.clone().map(CategoryId),
            scenario: None,
            runbook: None,
            summary: None,
            started_at: incident.started,
            detected_at: incident.detected,
            drill: incident.drill,
            tags: Vec::new(),
        },
    )];
    if let Some(at) = incident.acknowledged {
        kinds.push((at, EventKind::Acknowledged { person: None }));
    }
    if let Some(at) = incident.resolved {
        kinds.push((
            at,
            EventKind::Resolved {
                summary: "fixed".to_owned(),
            },
        ));
    }
    if let Some(tag) = &incident.root_cause {
        let at = kinds.last().unwrap().0 + SECOND;
        kinds.push((
            at,
            EventKind::RootCauseSet {
                tag: tag.clone(),
                text: "generated".to_owned(),
            },
        ));
    }
    for (number, action) in (1u32..).zip(&incident.actions) {
        kinds.push((
            action.created,
            EventKind::ActionItemAdded {
                item: number,
                title: format!("Follow-up {number}"),
                owner: PersonId::from("lena"),
                due_at: action.due,
                horizon: Horizon::ShortTerm,
                root_cause: incident.root_cause.clone(),
            },
        ));
    }
    for (number, action) in (1u32..).zip(&incident.actions) {
        if action.status == ActionStatus::Open {
            continue;
        }
        kinds.push((
            action.closed.unwrap_or(action.created + SECOND),
            EventKind::ActionItemUpdated {
                item: number,
                status: Some(action.status),
                owner: None,
                due_at: None,
                note: None,
            },
        ));
    }
    let mut events: Vec<Event> = Vec::with_capacity(kinds.len());
    for (at, kind) in kinds {
        let link = events.last().map(Link::from);
        let event = chain::seal_after(&incident.id, link, at, "generator", kind);
        events.push(event);
    }
    let state = Incident::fold(&events).expect("a declared incident");
    (events, state)
}

/// Fills the database. The first [`APPENDED`] incidents go through the store, one transaction
/// each as the engine appends (sealed on a thread of their own while the store writes); the
/// rows the store wrote for them are then compared with what [`incident_row`] and
/// [`action_rows`] make of the same incidents, and the rest are written as those rows, in one
/// transaction. (Appending all 100,000 one durable commit at a time takes minutes in a debug
/// build; the report reads only these rows.)
async fn fill(database: &Path, history: &[Generated]) {
    let (appended, written) = history.split_at(APPENDED.min(history.len()));
    let store = AnyStore::open(database.to_str().unwrap()).await.unwrap();
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<(Vec<Event>, Incident)>(256);
    let to_seal = appended.to_vec();
    let sealing = std::thread::spawn(move || {
        for incident in &to_seal {
            if sender.blocking_send(timeline(incident)).is_err() {
                return;
            }
        }
    });
    while let Some((events, state)) = receiver.recv().await {
        store.append(&events, &state).await.unwrap();
    }
    sealing.join().unwrap();
    drop(store);

    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", database.display()))
        .await
        .unwrap();
    let stored: Vec<IncidentRow> = sqlx::query_as(
        "SELECT id, severity, category, status, drill, declared_at, started_at, detected_at, \
             acknowledged_at, resolved_at, root_cause \
         FROM incidents ORDER BY id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let mut expected: Vec<IncidentRow> = appended.iter().map(incident_row).collect();
    expected.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(stored, expected, "the rows the store writes");
    let stored: Vec<ActionRow> = sqlx::query_as(
        "SELECT incident, item, title, owner, horizon, status, root_cause, created_at, due_at, \
             closed_at, drill \
         FROM action_items ORDER BY incident, item",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let mut expected: Vec<ActionRow> = appended.iter().flat_map(action_rows).collect();
    expected.sort_by(|a, b| (&a.incident, a.item).cmp(&(&b.incident, b.item)));
    assert_eq!(stored, expected, "the action items the store writes");

    let mut transaction = pool.begin().await.unwrap();
    for chunk in written.chunks(500) {
        let mut insert = sqlx::QueryBuilder::new(
            "INSERT INTO incidents (id, title, status, severity, category, drill, declared_at, \
                 updated_at, last_seq, last_hash, detected_at, acknowledged_at, resolved_at, \
                 started_at, root_cause) ",
        );
        insert.push_values(chunk, |mut values, incident| {
            let row = incident_row(incident);
            values
                .push_bind(row.id)
                .push_bind(format!("Generated incident {}", incident.id))
                .push_bind(row.status)
                .push_bind(row.severity)
                .push_bind(row.category)
                .push_bind(row.drill)
                .push_bind(row.declared_at)
                .push_bind(incident.declared)
                .push_bind(1_i64)
                .push_bind("0".repeat(64))
                .push_bind(row.detected_at)
                .push_bind(row.acknowledged_at)
                .push_bind(row.resolved_at)
                .push_bind(row.started_at)
                .push_bind(row.root_cause);
        });
        insert.build().execute(&mut *transaction).await.unwrap();
    }
    let actions: Vec<ActionRow> = written.iter().flat_map(action_rows).collect();
    for chunk in actions.chunks(500) {
        let mut insert = sqlx::QueryBuilder::new(
            "INSERT INTO action_items (incident, item, title, owner, horizon, status, root_cause, \
                 created_at, due_at, closed_at, drill) ",
        );
        insert.push_values(chunk, |mut values, action| {
            values
                .push_bind(action.incident.clone())
                .push_bind(action.item)
                .push_bind(action.title.clone())
                .push_bind(action.owner.clone())
                .push_bind(action.horizon.clone())
                .push_bind(action.status.clone())
                .push_bind(action.root_cause.clone())
                .push_bind(action.created_at)
                .push_bind(action.due_at)
                .push_bind(action.closed_at)
                .push_bind(action.drill);
        });
        insert.build().execute(&mut *transaction).await.unwrap();
    }
    transaction.commit().await.unwrap();
    pool.close().await;
}

/// The columns of `incidents` the report reads.
#[derive(Debug, PartialEq, sqlx::FromRow)]
struct IncidentRow {
    id: String,
    severity: String,
    category: Option<String>,
    status: String,
    drill: bool,
    declared_at: i64,
    started_at: Option<i64>,
    detected_at: Option<i64>,
    acknowledged_at: Option<i64>,
    resolved_at: Option<i64>,
    root_cause: Option<String>,
}

/// A row of `action_items`.
#[derive(Debug, PartialEq, sqlx::FromRow)]
struct ActionRow {
    incident: String,
    item: i64,
    title: String,
    owner: String,
    horizon: String,
    status: String,
    root_cause: Option<String>,
    created_at: i64,
    due_at: i64,
    closed_at: Option<i64>,
    drill: bool,
}

/// The `incidents` row an append of [`timeline`] writes, in the columns the report reads.
fn incident_row(incident: &Generated) -> IncidentRow {
    let status = if incident.resolved.is_some() {
        Status::Resolved
    } else {
        Status::Triage
    };
    IncidentRow {
        id: incident.id.to_string(),
        severity: incident.severity.clone(),
        category: incident.category.clone(),
        status: status.as_str().to_owned(),
        drill: incident.drill,
        declared_at: incident.declared,
        started_at: Some(incident.started),
        detected_at: Some(incident.detected),
        acknowledged_at: incident.acknowledged,
        resolved_at: incident.resolved,
        root_cause: incident.root_cause.clone(),
    }
}

/// The `action_items` rows an append of [`timeline`] writes.
fn action_rows(incident: &Generated) -> Vec<ActionRow> {
    (1i64..)
        .zip(&incident.actions)
        .map(|(item, action)| ActionRow {
            incident: incident.id.to_string(),
            item,
            title: format!("Follow-up {item}"),
            owner: "lena".to_owned(),
            horizon: Horizon::ShortTerm.as_str().to_owned(),
            status: action.status.as_str().to_owned(),
            root_cause: incident.root_cause.clone(),
            created_at: action.created,
            due_at: action.due,
            closed_at: action.closed,
            drill: incident.drill,
        })
        .collect()
}

/// The nearest-rank percentile, by selection rather than a sort: the value at rank
/// `ceil(p · n)` is the element a partial selection puts at index `rank − 1`.
fn select(values: &mut [Millis], tenths: usize) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let rank = (values.len() * tenths).div_ceil(10).max(1);
    let (_, value, _) = values.select_nth_unstable(rank - 1);
    Some(*value as f64 / 1000.0)
}

/// What the report must say about one group of durations.
#[derive(Debug, PartialEq)]
struct Expected {
    count: u64,
    median: Option<f64>,
    p90: Option<f64>,
    sum: f64,
}

fn expected(mut values: Vec<Millis>) -> Expected {
    let sum = values.iter().sum::<Millis>() as f64 / 1000.0;
    Expected {
        count: values.len() as u64,
        median: select(&mut values, 5),
        p90: select(&mut values, 9),
        sum,
    }
}

fn seen(figure: &muster_core::metrics::TimeFigure) -> Expected {
    Expected {
        count: figure.count,
        median: figure.median_seconds,
        p90: figure.p90_seconds,
        sum: figure.sum_seconds,
    }
}

/// Checks the report against the generated rows it covers.
fn check(report: &Report, plan: &Plan, rows: &[&Generated]) {
    assert_eq!(report.incidents, rows.len() as u64);
    assert_eq!(
        report.drills,
        rows.iter().filter(|row| row.drill).count() as u64
    );
    let detect = |row: &Generated| row.detected - row.started;
    let acknowledge = |row: &Generated| row.acknowledged.map(|at| at - row.detected);
    let resolve = |row: &Generated| row.resolved.map(|at| at - row.detected);

    assert_eq!(
        seen(&report.overall.mttd),
        expected(rows.iter().map(|row| detect(row)).collect())
    );
    assert_eq!(
        seen(&report.overall.mtta),
        expected(rows.iter().filter_map(|row| acknowledge(row)).collect())
    );
    assert_eq!(
        seen(&report.overall.mttr),
        expected(rows.iter().filter_map(|row| resolve(row)).collect())
    );

    let ids: Vec<&str> = report
        .severities
        .iter()
        .map(|s| s.severity.as_str())
        .collect();
    let planned: Vec<&str> = plan.severities.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, planned);
    for (severity, figures) in plan.severities.iter().zip(&report.severities) {
        let of: Vec<&Generated> = rows
            .iter()
            .copied()
            .filter(|row| row.severity == severity.id.as_str())
            .collect();
        let what = severity.id.as_str();
        assert_eq!(figures.incidents, of.len() as u64, "{what}");
        assert_eq!(
            seen(&figures.times.mttd),
            expected(of.iter().map(|row| detect(row)).collect()),
            "{what}"
        );
        let acknowledged: Vec<Millis> = of.iter().filter_map(|row| acknowledge(row)).collect();
        let resolved: Vec<Millis> = of.iter().filter_map(|row| resolve(row)).collect();
        assert_eq!(
            seen(&figures.times.mtta),
            expected(acknowledged.clone()),
            "{what}"
        );
        assert_eq!(
            seen(&figures.times.mttr),
            expected(resolved.clone()),
            "{what}"
        );

        // Every incident is long past its deadlines: never acknowledged is a miss.
        let within = severity.ack_within.as_millis();
        let ack = figures.acknowledged_in_time.as_ref().unwrap();
        let kept = acknowledged.iter().filter(|took| **took <= within).count() as u64;
        assert_eq!(
            (ack.kept, ack.missed, ack.pending),
            (kept, of.len() as u64 - kept, 0),
            "{what}"
        );
        match severity.resolve_target {
            Some(target) => {
                let resolve = figures.resolved_in_time.as_ref().unwrap();
                let kept = resolved
                    .iter()
                    .filter(|took| **took <= target.as_millis())
                    .count() as u64;
                assert_eq!(
                    (resolve.kept, resolve.missed, resolve.pending),
                    (kept, of.len() as u64 - kept, 0),
                    "{what}"
                );
            }
            None => assert!(figures.resolved_in_time.is_none(), "{what}"),
        }
        let mttd = plan.targets.as_ref().unwrap().mttd.unwrap().as_millis();
        let detected = figures.detected_in_time.as_ref().unwrap();
        let kept = of.iter().filter(|row| detect(row) <= mttd).count() as u64;
        assert_eq!(
            (detected.kept, detected.missed),
            (kept, of.len() as u64 - kept),
            "{what}"
        );
    }

    // Categories: the plan's in order, then the uncategorised.
    let mut by_category: BTreeMap<Option<&str>, u64> = BTreeMap::new();
    for row in rows {
        *by_category.entry(row.category.as_deref()).or_default() += 1;
    }
    for category in &report.categories {
        let key = category.category.as_ref().map(CategoryId::as_str);
        assert_eq!(
            category.incidents,
            by_category.get(&key).copied().unwrap_or(0),
            "{key:?}"
        );
    }
    assert_eq!(
        report
            .categories
            .iter()
            .map(|category| category.incidents)
            .sum::<u64>(),
        rows.len() as u64
    );

    // Weeks: UTC, every one of the 104 from START.
    let mut weeks = vec![0u64; 104];
    for row in rows {
        weeks[usize::try_from((row.declared - START) / (7 * DAY)).unwrap()] += 1;
    }
    let counted: Vec<u64> = report.weeks.iter().map(|week| week.incidents).collect();
    assert_eq!(counted, weeks);
    assert_eq!(report.weeks[0].start, "2024-11-04");
    assert_eq!(report.weeks[0].iso_week, "2024-W45");

    // Repeats: walk in declaration order, remembering the tags seen.
    let mut seen_tags: HashSet<&str> = HashSet::new();
    let (mut tagged, mut repeated) = (0u64, 0u64);
    let mut by_declaration: Vec<&Generated> = rows.to_vec();
    by_declaration.sort_by_key(|row| row.declared);
    for row in by_declaration {
        if let Some(tag) = &row.root_cause {
            tagged += 1;
            if !seen_tags.insert(tag) {
                repeated += 1;
            }
        }
    }
    assert_eq!(
        (report.repeats.tagged, report.repeats.repeated),
        (tagged, repeated)
    );
    assert_eq!(
        report
            .repeats
            .tags
            .iter()
            .map(|tag| tag.repeats)
            .sum::<u64>(),
        repeated
    );

    // Action items of these incidents created inside the period (an incident declared near
    // its end may get them after it); every one is due before now.
    let actions: Vec<&GeneratedAction> = rows
        .iter()
        .flat_map(|row| &row.actions)
        .filter(|action| (START..END).contains(&action.created))
        .collect();
    let count = |status: ActionStatus| actions.iter().filter(|a| a.status == status).count() as u64;
    let items = &report.action_items;
    let open = count(ActionStatus::Open) + count(ActionStatus::InProgress);
    assert_eq!(
        (
            items.total,
            items.done,
            items.dropped,
            items.open,
            items.overdue
        ),
        (
            actions.len() as u64,
            count(ActionStatus::Done),
            count(ActionStatus::Dropped),
            open,
            open
        )
    );
    let on_time = actions
        .iter()
        .filter(|a| a.status == ActionStatus::Done && a.closed.unwrap() <= a.due)
        .count() as f64;
    let done = count(ActionStatus::Done) as f64;
    assert!((items.on_time_percent.unwrap() - on_time * 100.0 / done).abs() < 1e-9);
}

#[test]
fn a_two_year_history_is_reported_exactly_as_computed_here() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("history.db");
    let plan = plan();
    let history = generate(&plan, INCIDENTS);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(fill(&database, &history));

    let database = database.to_str().unwrap();
    let plan_path = example_plan();
    let plan_path = plan_path.to_str().unwrap();
    let period = ["--from", "2024-11-04", "--until", "2026-11-02"];
    let base = ["report", "--plan", plan_path, "--database", database];

    let output = muster(&[&base[..], &period, &["--format", "json"]].concat(), &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let report: Report = serde_json::from_slice(&output.stdout).unwrap();
    assert!(!report.drills_included);
    assert_eq!((report.from, report.until), (START, END));
    let real: Vec<&Generated> = history.iter().filter(|row| !row.drill).collect();
    check(&report, &plan, &real);

    let output = muster(
        &[&base[..], &period, &["--format", "json", "--drills"]].concat(),
        &[],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let report: Report = serde_json::from_slice(&output.stdout).unwrap();
    assert!(report.drills_included);
    let all: Vec<&Generated> = history.iter().collect();
    check(&report, &plan, &all);
}

/// A small history for the table, the chart and the refusals.
fn small_database(dir: &Path) -> String {
    let database = dir.join("small.db");
    let history = generate(&plan(), 300);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(fill(&database, &history));
    database.to_str().unwrap().to_owned()
}

/// Elements opened and closed in order, attributes quoted: enough to know the SVG is
/// well-formed XML.
fn well_formed(xml: &str) -> Result<usize, String> {
    let mut open: Vec<&str> = Vec::new();
    let mut elements = 0;
    let mut rest = xml.trim();
    while let Some(start) = rest.find('<') {
        let text = &rest[..start];
        if text.contains('>') {
            return Err(format!("a stray '>' in text: {text:?}"));
        }
        check_entities(text)?;
        let end = rest[start..].find('>').ok_or("an unclosed tag")? + start;
        let tag = &rest[start + 1..end];
        rest = &rest[end + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            let expected = open.pop().ok_or(format!("</{name}> closes nothing"))?;
            if expected != name.trim() {
                return Err(format!("</{name}> closes <{expected}>"));
            }
            continue;
        }
        let closed = tag.ends_with('/');
        let tag = tag.trim_end_matches('/');
        let name = tag.split_whitespace().next().ok_or("an empty tag")?;
        if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == ':')
        {
            return Err(format!("<{name}> is not a name"));
        }
        let attributes = &tag[name.len()..];
        if !attributes.matches('"').count().is_multiple_of(2) || attributes.contains('<') {
            return Err(format!("<{name}> has unbalanced quotes"));
        }
        check_entities(attributes)?;
        elements += 1;
        if !closed {
            open.push(name);
        }
    }
    if !open.is_empty() {
        return Err(format!("left open: {open:?}"));
    }
    if !rest.trim().is_empty() {
        return Err(format!("text after the root: {rest:?}"));
    }
    Ok(elements)
}

fn check_entities(text: &str) -> Result<(), String> {
    for (at, _) in text.match_indices('&') {
        let entity = &text[at..];
        if !["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"]
            .iter()
            .any(|known| entity.starts_with(known))
        {
            return Err(format!("a bare '&': {entity:?}"));
        }
    }
    Ok(())
}

#[test]
fn the_table_and_the_chart_show_the_numbers_against_the_targets() {
    let dir = tempfile::tempdir().unwrap();
    let database = small_database(dir.path());
    let plan_path = example_plan();
    let chart = dir.path().join("times.svg");
    let output = muster(
        &[
            "report",
            "--plan",
            plan_path.to_str().unwrap(),
            "--database",
            &database,
            "--from",
            "2024-11-04",
            "--until",
            "2026-11-02",
            "--chart",
            chart.to_str().unwrap(),
        ],
        &[],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let table = stdout(&output);
    assert!(
        table.starts_with("Incidents declared 2024-11-04 to 2026-11-01 (UTC): "),
        "{table}"
    );
    for heading in [
        "TIME TO DETECT",
        "TIME TO ACKNOWLEDGE",
        "TIME TO RESOLVE",
        "DEADLINES KEPT",
        "BY CATEGORY",
        "Repeat rate: ",
        "Action items created: ",
    ] {
        assert!(table.contains(heading), "{heading}:\n{table}");
    }
    // P0's acknowledgement target is the plan's 5 minutes, with a ✓ or ✗ beside its mean.
    let p0 = table
        .lines()
        .skip_while(|line| !line.starts_with("TIME TO ACKNOWLEDGE"))
        .find(|line| line.starts_with("P0 "))
        .unwrap();
    assert!(p0.contains("≤ 5m"), "{p0}");
    assert!(p0.ends_with('✓') || p0.ends_with('✗'), "{p0}");
    assert!(table.lines().all(|line| line == line.trim_end()), "{table}");

    let svg = std::fs::read_to_string(&chart).unwrap();
    assert!(well_formed(&svg).unwrap() > 20, "{svg}");
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(svg.contains("role=\"img\""));
    assert!(svg.contains(
        "<title id=\"chart-title\">Time to acknowledge and to resolve by severity, 2024-11-04 to 2026-11-01 (UTC)</title>"
    ));
    for severity in ["P0", "P1", "P2", "P3"] {
        assert!(svg.contains(&format!(">{severity}</text>")), "{severity}");
    }
    assert!(svg.contains("stroke-dasharray"), "target lines are drawn");
    assert!(svg.contains("time from detection (log scale)"));
    assert!(well_formed("<svg><g></svg>").is_err());
    assert!(well_formed("<svg><text>a & b</text></svg>").is_err());
}

#[test]
fn bad_input_is_refused_with_what_to_fix_and_nothing_written() {
    let dir = tempfile::tempdir().unwrap();
    let database = small_database(dir.path());
    let plan_path = example_plan();
    let plan_path = plan_path.to_str().unwrap();
    let chart = dir.path().join("chart.svg");
    let missing = dir.path().join("no-such-folder").join("chart.svg");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["--from", "2026-13-01"],
            "'2026-13-01' is not a day; write YYYY-MM-DD",
        ),
        (vec!["--until", "yesterday"], "'yesterday' is not a day"),
        (
            vec!["--from", "2026-02-01", "--until", "2026-01-01"],
            "--until must leave at least one day",
        ),
        (
            vec!["--from", "2026-01-01", "--until", "2026-01-01"],
            "is empty",
        ),
        (
            vec!["--format", "yaml"],
            "invalid value 'yaml' for '--format",
        ),
        (
            vec!["--chart", missing.to_str().unwrap()],
            "there is no folder",
        ),
        (
            vec!["--chart", "chart.png"],
            "give a file name ending in .svg",
        ),
    ];
    for (extra, message) in cases {
        let mut args = vec!["report", "--plan", plan_path, "--database", &database];
        args.extend(&extra);
        if !extra.contains(&"--chart") {
            args.extend(["--chart", chart.to_str().unwrap()]);
        }
        let output = muster(&args, &[]);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{extra:?}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains(message),
            "{extra:?}: {}",
            stderr(&output)
        );
        assert!(stdout(&output).is_empty(), "{extra:?}");
        assert!(!chart.exists(), "{extra:?} wrote the chart");
        assert!(!missing.exists());
    }
    // A database that is not there is not made.
    let absent = dir.path().join("absent.db");
    let output = muster(
        &[
            "report",
            "--plan",
            plan_path,
            "--database",
            absent.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("there is no database at"),
        "{}",
        stderr(&output)
    );
    assert!(!absent.exists());
}
