//! Building real, correctly chained incident timelines for the cases.

use muster_core::incident::{Event, EventKind, Incident, IncidentId, Millis, Status, chain};
use muster_core::plan::{CategoryId, PersonId, SeverityId};
use muster_store::Store;

pub fn day(year: i16, month: i8, day: i8) -> jiff::civil::Date {
    jiff::civil::date(year, month, day)
}

pub fn incident(year: i16, month: i8, of_month: i8, number: u32) -> IncidentId {
    IncidentId::new(day(year, month, of_month), number)
}

/// Milliseconds since the epoch at a whole hour (UTC) of a day.
pub fn at(year: i16, month: i8, of_month: i8, hour: i8) -> Millis {
    day(year, month, of_month)
        .at(hour, 0, 0, 0)
        .to_zoned(jiff::tz::TimeZone::UTC)
        .unwrap()
        .timestamp()
        .as_millisecond()
}

/// What a declaration says, beyond the defaults.
#[derive(Debug, Clone, Default)]
pub struct Declaration {
    pub category: Option<&'static str>,
    pub drill: bool,
    pub tags: Vec<&'static str>,
}

/// One incident's events, sealed one after the other as the engine would.
#[derive(Debug, Clone)]
pub struct Timeline {
    pub id: IncidentId,
    pub events: Vec<Event>,
}

impl Timeline {
    pub fn declare(id: &IncidentId, at: Millis, severity: &str) -> Self {
        Self::declare_with(id, at, severity, Declaration::default())
    }

    pub fn declare_with(
        id: &IncidentId,
        at: Millis,
        severity: &str,
        declaration: Declaration,
    ) -> Self {
        let kind = EventKind::Declared {
            title: format!("Checkout errors ({id})"),
            severity: SeverityId::from(severity),
            category: declaration.category.map(CategoryId::from),
            scenario: None,
            runbook: None,
            summary: Some("Payments fail with \"timeout\" for ~30% of users".to_owned()),
            started_at: at - 120_000,
            detected_at: at - 60_000,
            drill: declaration.drill,
            tags: declaration.tags.into_iter().map(str::to_owned).collect(),
        };
        Self {
            id: id.clone(),
            events: vec![chain::seal(id, None, at, "alice", kind)],
        }
    }

    /// Seals the next event and adds it.
    pub fn then(&mut self, at: Millis, actor: &str, kind: EventKind) -> &Event {
        let event = chain::seal(&self.id, self.events.last(), at, actor, kind);
        self.events.push(event);
        self.events.last().unwrap()
    }

    pub fn note(&mut self, at: Millis, text: &str) -> &Event {
        self.then(
            at,
            "bob",
            EventKind::NoteAdded {
                text: text.to_owned(),
            },
        )
    }

    pub fn status(&mut self, at: Millis, to: Status) {
        let from = self.state().status;
        self.then(
            at,
            "alice",
            EventKind::StatusChanged {
                from,
                to,
                note: None,
            },
        );
    }

    pub fn resolve(&mut self, at: Millis) {
        self.then(
            at,
            "alice",
            EventKind::Resolved {
                summary: "Rolled back the connection pool change".to_owned(),
            },
        );
    }

    pub fn acknowledge(&mut self, at: Millis, person: &str) {
        self.then(
            at,
            person,
            EventKind::Acknowledged {
                person: Some(PersonId::from(person)),
            },
        );
    }

    /// The incident after every event so far.
    pub fn state(&self) -> Incident {
        Incident::fold(&self.events).unwrap()
    }

    /// The incident after its first `count` events.
    pub fn state_after(&self, count: usize) -> Incident {
        Incident::fold(&self.events[..count]).unwrap()
    }

    /// Appends every event in one batch.
    pub async fn append_all<S: Store>(&self, store: &S) {
        store.append(&self.events, &self.state()).await.unwrap();
    }

    /// Appends the events from sequence number `seq` on, in one batch.
    pub async fn append_from<S: Store>(&self, store: &S, seq: usize) {
        store
            .append(&self.events[seq - 1..], &self.state())
            .await
            .unwrap();
    }
}
