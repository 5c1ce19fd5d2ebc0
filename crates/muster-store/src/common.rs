//! What the SQLite and PostgreSQL backends share: the checks and encodings before a write, the
//! values bound to each row written (in the column order the backends' SQL lists), the incident
//! listing (whose placeholders [`QueryBuilder`] writes for either database) and the decoding of
//! rows read back. Statements with hand-written placeholders, transactions and pools stay with
//! each backend.

use std::str::FromStr;

use muster_core::access::Role;
use muster_core::incident::{Event, Incident, IncidentId, Status};
use muster_core::plan::{CategoryId, PersonId, SeverityId};
use sqlx::query::Query;
use sqlx::{ColumnIndex, Database, Decode, Encode, QueryBuilder, Row, Transaction, Type};

use crate::{Head, IncidentFilter, IncidentPage, RawEvent, StoreError, TokenRecord};

/// Checks that a batch can be appended as one piece of one incident's chain.
pub(crate) fn check_batch<'a>(
    events: &'a [Event],
    state: &Incident,
) -> Result<&'a Event, StoreError> {
    let refuse = |reason: String| {
        StoreError::Database(format!("refusing to append to {}: {reason}", state.id))
    };
    let last = events
        .last()
        .ok_or_else(|| refuse("there are no events to append".to_owned()))?;
    if let Some(stranger) = events.iter().find(|event| event.incident != state.id) {
        return Err(refuse(format!(
            "event {} belongs to {}",
            stranger.seq, stranger.incident
        )));
    }
    if let Some(pair) = events
        .windows(2)
        .find(|pair| pair[0].seq.checked_add(1) != Some(pair[1].seq))
    {
        return Err(refuse(format!(
            "event {} follows event {}; the events are not consecutive",
            pair[1].seq, pair[0].seq
        )));
    }
    if state.last_seq != last.seq {
        return Err(refuse(format!(
            "the state given ends at event {} but the last event is {}",
            state.last_seq, last.seq
        )));
    }
    Ok(last)
}

pub(crate) fn to_i64(value: u64, what: &str) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError::Database(format!("{what} {value} is too large")))
}

fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(database) if database.is_unique_violation())
}

/// The JSON stored in the `state` column of `incident_states`.
pub(crate) fn encode_state(state: &Incident) -> Result<String, StoreError> {
    serde_json::to_string(state)
        .map_err(|error| StoreError::Database(format!("cannot encode {}: {error}", state.id)))
}

/// Binds an event of `incident` to an insert into `events`, in the column order
/// `(incident, seq, at, actor, body, hash)`; the body is the JSON of the event kind.
pub(crate) fn bind_event<'q, DB>(
    query: Query<'q, DB, DB::Arguments>,
    incident: &str,
    event: &Event,
) -> Result<Query<'q, DB, DB::Arguments>, StoreError>
where
    DB: Database,
    for<'t> &'t str: Encode<'t, DB> + Type<DB>,
    for<'t> String: Encode<'t, DB> + Type<DB>,
    for<'t> i64: Encode<'t, DB> + Type<DB>,
{
    let body = serde_json::to_string(&event.kind).map_err(|error| {
        StoreError::Database(format!("cannot encode event {}: {error}", event.seq))
    })?;
    Ok(query
        .bind(incident)
        .bind(to_i64(event.seq, "event")?)
        .bind(event.at)
        .bind(event.actor.as_str())
        .bind(body)
        .bind(event.hash.as_str()))
}

/// What the failed insert of `event` means: [`StoreError::Conflict`] when its place in the chain
/// is taken (after rolling the transaction back), the database's error otherwise.
pub(crate) async fn insert_failed<DB: Database>(
    tx: Transaction<'_, DB>,
    error: sqlx::Error,
    state: &Incident,
    event: &Event,
) -> StoreError {
    if !is_unique_violation(&error) {
        return error.into();
    }
    match tx.rollback().await {
        Ok(()) => StoreError::Conflict {
            incident: state.id.clone(),
            seq: event.seq,
        },
        Err(error) => error.into(),
    }
}

/// Binds an incident's projection to an upsert into `incidents`, in the column order
/// `(id, title, status, severity, category, drill, declared_at, updated_at, last_seq,
/// last_hash, detected_at, acknowledged_at, resolved_at, started_at, root_cause)`. The full state goes to `incident_states` (see [`encode_state`]).
pub(crate) fn bind_incident<'q, DB>(
    query: Query<'q, DB, DB::Arguments>,
    id: &str,
    state: &Incident,
    last_hash: &str,
) -> Result<Query<'q, DB, DB::Arguments>, StoreError>
where
    DB: Database,
    for<'t> &'t str: Encode<'t, DB> + Type<DB>,
    for<'t> String: Encode<'t, DB> + Type<DB>,
    for<'t> Option<String>: Encode<'t, DB> + Type<DB>,
    for<'t> i64: Encode<'t, DB> + Type<DB>,
    for<'t> Option<i64>: Encode<'t, DB> + Type<DB>,
    for<'t> bool: Encode<'t, DB> + Type<DB>,
{
    Ok(query
        .bind(id)
        .bind(state.title.as_str())
        .bind(state.status.as_str())
        .bind(state.severity.as_str())
        .bind(
            state
                .category
                .as_ref()
                .map(|category| category.as_str().to_owned()),
        )
        .bind(state.drill)
        .bind(state.declared_at)
        .bind(state.updated_at)
        .bind(to_i64(state.last_seq, "event")?)
        .bind(last_hash)
        .bind(state.detected_at)
        .bind(state.acknowledged_at)
        .bind(state.resolved_at)
        .bind(state.started_at)
        .bind(state.root_cause.as_ref().map(|cause| cause.tag.clone())))
}

/// Binds a token to an insert into `tokens`, in the column order
/// `(name, secret_hash, role, person, created_at, revoked_at)`.
pub(crate) fn bind_token<'q, DB>(
    query: Query<'q, DB, DB::Arguments>,
    record: &TokenRecord,
    secret_hash: &str,
) -> Query<'q, DB, DB::Arguments>
where
    DB: Database,
    for<'t> &'t str: Encode<'t, DB> + Type<DB>,
    for<'t> Option<String>: Encode<'t, DB> + Type<DB>,
    for<'t> i64: Encode<'t, DB> + Type<DB>,
    for<'t> Option<i64>: Encode<'t, DB> + Type<DB>,
{
    query
        .bind(record.name.as_str())
        .bind(secret_hash)
        .bind(record.role.as_str())
        .bind(
            record
                .person
                .as_ref()
                .map(|person| person.as_str().to_owned()),
        )
        .bind(record.created_at)
        .bind(record.revoked_at)
}

/// The incident number a day's counter row holds.
pub(crate) fn incident_number(day: jiff::civil::Date, last: i64) -> Result<u32, StoreError> {
    u32::try_from(last).map_err(|_| StoreError::Corrupt {
        what: format!("the incident numbers of {day}"),
        reason: format!("{last} is not a valid incident number"),
    })
}

fn incident_state(what: &str, json: &str) -> Result<Incident, StoreError> {
    serde_json::from_str(json).map_err(|error| StoreError::Corrupt {
        what: what.to_owned(),
        reason: format!("its stored state is not a valid incident: {error}"),
    })
}

/// Decodes a row of `incidents` with the columns `state` and `last_hash`.
pub(crate) fn head<R>(what: &str, row: &R) -> Result<Head, StoreError>
where
    R: Row,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    &'static str: ColumnIndex<R>,
{
    let state: String = row.try_get("state")?;
    Ok(Head {
        incident: incident_state(what, &state)?,
        last_hash: row.try_get("last_hash")?,
    })
}

/// Decodes a row of `events` with the columns `incident, seq, at, actor, body, hash`.
pub(crate) fn raw_event<R>(row: &R) -> Result<RawEvent, sqlx::Error>
where
    R: Row,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    &'static str: ColumnIndex<R>,
{
    Ok(RawEvent {
        incident: row.try_get("incident")?,
        seq: row.try_get("seq")?,
        at: row.try_get("at")?,
        actor: row.try_get("actor")?,
        body: row.try_get("body")?,
        hash: row.try_get("hash")?,
    })
}

/// Decodes an incident's stored events, naming the first that cannot be read.
pub(crate) fn decode_events(id: &IncidentId, raws: &[RawEvent]) -> Result<Vec<Event>, StoreError> {
    raws.iter()
        .map(|raw| {
            raw.decode().map_err(|reason| StoreError::Corrupt {
                what: format!("{id} event {}", raw.seq),
                reason,
            })
        })
        .collect()
}

/// Decodes a row of `tokens` with the columns `name, role, person, created_at, revoked_at`.
pub(crate) fn token_record<R>(row: &R) -> Result<TokenRecord, StoreError>
where
    R: Row,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    &'static str: ColumnIndex<R>,
{
    let name: String = row.try_get("name")?;
    let role: String = row.try_get("role")?;
    let role = Role::from_str(&role).map_err(|reason| StoreError::Corrupt {
        what: format!("token '{name}'"),
        reason,
    })?;
    let person: Option<String> = row.try_get("person")?;
    Ok(TokenRecord {
        name,
        role,
        person: person.map(PersonId),
        created_at: row.try_get("created_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

/// Appends the `WHERE` clause a filter asks for; every value is bound.
fn push_filter<DB>(query: &mut QueryBuilder<DB>, filter: &IncidentFilter)
where
    DB: Database,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> bool: Encode<'q, DB> + Type<DB>,
{
    query.push(" WHERE 1 = 1");
    if !filter.status.is_empty() {
        let statuses = filter.status.iter().map(|status| status.as_str());
        push_list(query, " AND status IN (", statuses);
    }
    if let Some(open) = filter.open {
        let finished = Status::ALL.into_iter().filter(|status| !status.is_open());
        let test = if open {
            " AND status NOT IN ("
        } else {
            " AND status IN ("
        };
        push_list(query, test, finished.map(Status::as_str));
    }
    if !filter.severity.is_empty() {
        let severities = filter
            .severity
            .iter()
            .map(|severity| severity.as_str().to_owned());
        push_list(query, " AND severity IN (", severities);
    }
    if !filter.category.is_empty() {
        let categories = filter
            .category
            .iter()
            .map(|category| category.as_str().to_owned());
        push_list(query, " AND category IN (", categories);
    }
    if let Some(drill) = filter.drill {
        query.push(" AND drill = ").push_bind(drill);
    }
    if let Some(tag) = &filter.tag {
        query
            .push(" AND EXISTS (SELECT 1 FROM incident_tags WHERE incident_tags.incident = incidents.id AND incident_tags.tag = ")
            .push_bind(tag.clone())
            .push(")");
    }
    if let Some(from) = filter.declared_from {
        query.push(" AND declared_at >= ").push_bind(from);
    }
    if let Some(until) = filter.declared_until {
        query.push(" AND declared_at < ").push_bind(until);
    }
}

/// Appends `test` (ending in an opening parenthesis), the values bound and separated by commas,
/// and the closing parenthesis.
fn push_list<'t, DB, T>(query: &mut QueryBuilder<DB>, test: &str, values: impl Iterator<Item = T>)
where
    DB: Database,
    T: Encode<'t, DB> + Type<DB>,
{
    query.push(test);
    let mut list = query.separated(", ");
    for value in values {
        list.push_bind(value);
    }
    query.push(")");
}

/// The queries for a listing: the count of every incident a filter matches, and the page of
/// `id, state` rows it asks for, most recently declared first.
pub(crate) fn list_queries<DB>(filter: &IncidentFilter) -> (QueryBuilder<DB>, QueryBuilder<DB>)
where
    DB: Database,
    DB::Arguments: Default,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> bool: Encode<'q, DB> + Type<DB>,
{
    let mut count = QueryBuilder::new("SELECT COUNT(*) FROM incidents");
    push_filter(&mut count, filter);
    // The page is chosen on the narrow `incidents` rows; only its rows' states are read.
    let mut page = QueryBuilder::new(
        "SELECT page.id, incident_states.state FROM (SELECT id, declared_at FROM incidents",
    );
    push_filter(&mut page, filter);
    page.push(" ORDER BY declared_at DESC, id DESC LIMIT ")
        .push_bind(i64::from(filter.limit.clamp(1, IncidentFilter::MAX_LIMIT)))
        .push(" OFFSET ")
        .push_bind(i64::try_from(filter.offset).unwrap_or(i64::MAX))
        .push(
            ") AS page JOIN incident_states ON incident_states.id = page.id \
             ORDER BY page.declared_at DESC, page.id DESC",
        );
    (count, page)
}

/// Decodes the page of [`list_queries`], given the count.
pub(crate) fn incident_page<R>(rows: &[R], total: i64) -> Result<IncidentPage, StoreError>
where
    R: Row,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    &'static str: ColumnIndex<R>,
{
    let incidents = rows
        .iter()
        .map(|row| {
            let id: String = row.try_get("id")?;
            let state: String = row.try_get("state")?;
            incident_state(&id, &state)
        })
        .collect::<Result<_, _>>()?;
    Ok(IncidentPage {
        incidents,
        total: u64::try_from(total).unwrap_or(0),
    })
}

/// Decodes a row with the columns `severity, category, status, drill, declared_at, started_at,
/// detected_at, acknowledged_at, resolved_at, root_cause` of `incidents`.
pub(crate) fn incident_times<R>(row: &R) -> Result<crate::IncidentTimes, StoreError>
where
    R: Row,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Option<String>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Option<i64>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> bool: Decode<'r, R::Database> + Type<R::Database>,
    &'static str: ColumnIndex<R>,
{
    let status: String = row.try_get("status")?;
    let declared_at: i64 = row.try_get("declared_at")?;
    Ok(crate::IncidentTimes {
        severity: SeverityId(row.try_get("severity")?),
        category: row
            .try_get::<Option<String>, _>("category")?
            .map(CategoryId),
        status: status.parse().map_err(|reason| StoreError::Corrupt {
            what: "an incident's status".to_owned(),
            reason,
        })?,
        drill: row.try_get("drill")?,
        declared_at,
        started_at: row
            .try_get::<Option<i64>, _>("started_at")?
            .unwrap_or(declared_at),
        detected_at: row
            .try_get::<Option<i64>, _>("detected_at")?
            .unwrap_or(declared_at),
        acknowledged_at: row.try_get("acknowledged_at")?,
        resolved_at: row.try_get("resolved_at")?,
        root_cause: row.try_get("root_cause")?,
    })
}

/// Decodes a row of `action_items` (every column).
pub(crate) fn action_item<R>(row: &R) -> Result<crate::ActionItemRecord, StoreError>
where
    R: Row,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Option<String>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Option<i64>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> bool: Decode<'r, R::Database> + Type<R::Database>,
    &'static str: ColumnIndex<R>,
{
    let corrupt = |reason: String| StoreError::Corrupt {
        what: "an action item".to_owned(),
        reason,
    };
    let item: i64 = row.try_get("item")?;
    let horizon: String = row.try_get("horizon")?;
    let status: String = row.try_get("status")?;
    Ok(crate::ActionItemRecord {
        incident: row.try_get("incident")?,
        item: u32::try_from(item).map_err(|_| corrupt(format!("item number {item}")))?,
        title: row.try_get("title")?,
        owner: PersonId(row.try_get("owner")?),
        horizon: horizon.parse().map_err(corrupt)?,
        status: status.parse().map_err(corrupt)?,
        root_cause: row.try_get("root_cause")?,
        created_at: row.try_get("created_at")?,
        due_at: row.try_get("due_at")?,
        closed_at: row.try_get("closed_at")?,
        drill: row.try_get("drill")?,
    })
}
