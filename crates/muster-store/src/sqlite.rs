//! The embedded backend: one SQLite file in WAL mode with `synchronous=FULL`, so a call returns
//! only once its data is on disk. Appends take the write lock up front (`BEGIN IMMEDIATE`), so
//! concurrent writers queue on the busy timeout instead of failing to upgrade a read lock.

use std::str::FromStr;
use std::time::Duration;

use muster_core::incident::{Event, Incident, IncidentId, Millis};
use sqlx::Sqlite;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::common;
use crate::work::work_queries;
use crate::{
    Effects, Head, IncidentFilter, IncidentPage, RawEvent, Store, StoreError, TokenRecord,
};

static MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");

/// How long a writer waits for another to release the database before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// How much of the database file each reading connection maps into memory (256 MiB).
const READER_MMAP_SIZE: &str = "268435456";

/// Reading connections kept for a database file (WAL lets readers run beside the writer).
const READERS: u32 = 4;

/// Incidents and tokens in one SQLite file (or in memory, for `:memory:`).
///
/// SQLite has one writer at a time. Every write goes through a pool of exactly one connection, so
/// writers of this process wait their turn in the pool's queue instead of in SQLite's busy
/// handler, which sleeps in steps of up to 100 ms and would put those sleeps into the latency.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    writer: SqlitePool,
}

impl SqliteStore {
    /// Opens the database at `path`, creating the file if it is missing, and brings its schema
    /// up to date. `:memory:` gives a private in-memory database that lives as long as the store.
    pub async fn open(path: &str) -> Result<Self, StoreError> {
        let cannot_open =
            |error: sqlx::Error| StoreError::Database(format!("cannot open {path}: {error}"));
        let (pool, writer) = if path == ":memory:" {
            let options = SqliteConnectOptions::from_str(path)
                .map_err(cannot_open)?
                .foreign_keys(true);
            // Each connection to `:memory:` would be a database of its own: keep exactly one,
            // for as long as the store lives.
            let pool = SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(options)
                .await
                .map_err(cannot_open)?;
            (pool.clone(), pool)
        } else {
            let options = SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(BUSY_TIMEOUT);
            let writer = SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(options.clone())
                .await
                .map_err(cannot_open)?;
            // Readers go through memory-mapped pages: listings over large databases make far
            // fewer system calls than through each connection's small page cache. The mapped
            // pages are the file's, shared with the OS cache; they count in RSS, not in the
            // process's own (anonymous) memory.
            let pool = SqlitePoolOptions::new()
                .max_connections(READERS)
                .connect_with(options.pragma("mmap_size", READER_MMAP_SIZE))
                .await
                .map_err(cannot_open)?;
            (pool, writer)
        };
        MIGRATIONS.run(&writer).await?;
        Ok(Self { pool, writer })
    }
}

impl Store for SqliteStore {
    async fn append_with(
        &self,
        events: &[Event],
        state: &Incident,
        effects: &Effects,
        now: Millis,
    ) -> Result<(), StoreError> {
        let last = common::check_batch(events, state)?;
        let state_json = common::encode_state(state)?;
        let id = state.id.to_string();
        let mut tx = self.begin_write().await?;
        for event in events {
            let insert = common::bind_event(
                sqlx::query(
                    "INSERT INTO events (incident, seq, at, actor, body, hash) VALUES (?, ?, ?, ?, ?, ?)",
                ),
                &id,
                event,
            )?;
            if let Err(error) = insert.execute(&mut *tx).await {
                return Err(common::insert_failed(tx, error, state, event).await);
            }
        }
        Self::write_projection(&mut tx, &id, state, state_json, &last.hash, events).await?;
        Self::write_published(&mut tx, &id, events).await?;
        Self::write_effects(&mut tx, effects, now).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn next_incident_number(&self, day: jiff::civil::Date) -> Result<u32, StoreError> {
        let last: i64 = sqlx::query_scalar(
            "INSERT INTO incident_days (day, last) VALUES (?, 1) \
             ON CONFLICT (day) DO UPDATE SET last = incident_days.last + 1 \
             RETURNING last",
        )
        .bind(day.to_string())
        .fetch_one(&self.writer)
        .await?;
        common::incident_number(day, last)
    }

    async fn head(&self, id: &IncidentId) -> Result<Option<Head>, StoreError> {
        let what = id.to_string();
        let row = sqlx::query(
            "SELECT incident_states.state, incidents.last_hash FROM incidents \
             JOIN incident_states ON incident_states.id = incidents.id WHERE incidents.id = ?",
        )
        .bind(&what)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| common::head(&what, &row)).transpose()
    }

    async fn events(&self, id: &IncidentId) -> Result<Vec<Event>, StoreError> {
        common::decode_events(id, &self.raw_events(&id.to_string()).await?)
    }

    async fn incident_ids(&self) -> Result<Vec<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT DISTINCT incident FROM events ORDER BY incident")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    async fn raw_events(&self, incident: &str) -> Result<Vec<RawEvent>, StoreError> {
        let rows = sqlx::query(
            "SELECT incident, seq, at, actor, body, hash FROM events WHERE incident = ? ORDER BY seq",
        )
        .bind(incident)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(common::raw_event)
            .collect::<Result<_, _>>()?)
    }

    async fn list(&self, filter: &IncidentFilter) -> Result<IncidentPage, StoreError> {
        let (mut count, mut page) = common::list_queries::<Sqlite>(filter);
        let total: i64 = count.build_query_scalar().fetch_one(&self.pool).await?;
        let rows = page.build().fetch_all(&self.pool).await?;
        common::incident_page(&rows, total)
    }

    /// A revoked token's name may be given to a new token, which replaces the revoked one.
    async fn create_token(
        &self,
        record: &TokenRecord,
        secret_hash: &str,
    ) -> Result<(), StoreError> {
        let inserted = common::bind_token(
            sqlx::query(
                "INSERT INTO tokens (name, secret_hash, role, person, created_at, revoked_at) \
                 VALUES (?, ?, ?, ?, ?, ?) \
                 ON CONFLICT (name) DO UPDATE SET \
                     secret_hash = excluded.secret_hash, role = excluded.role, \
                     person = excluded.person, created_at = excluded.created_at, \
                     revoked_at = excluded.revoked_at \
                 WHERE tokens.revoked_at IS NOT NULL",
            ),
            record,
            secret_hash,
        )
        .execute(&self.writer)
        .await?;
        if inserted.rows_affected() == 0 {
            return Err(StoreError::TokenNameTaken(record.name.clone()));
        }
        Ok(())
    }

    async fn token_by_hash(&self, secret_hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT name, role, person, created_at, revoked_at FROM tokens WHERE secret_hash = ?",
        )
        .bind(secret_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(common::token_record).transpose()
    }

    async fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT name, role, person, created_at, revoked_at FROM tokens ORDER BY name",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(common::token_record).collect()
    }

    async fn revoke_token(&self, name: &str, at: Millis) -> Result<bool, StoreError> {
        let revoked =
            sqlx::query("UPDATE tokens SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL")
                .bind(at)
                .bind(name)
                .execute(&self.writer)
                .await?;
        Ok(revoked.rows_affected() > 0)
    }

    async fn published(&self, since: Millis) -> Result<Vec<Event>, StoreError> {
        self.published_since(since).await
    }

    async fn incident_times(
        &self,
        from: Millis,
        until: Millis,
        drills: bool,
    ) -> Result<Vec<crate::IncidentTimes>, StoreError> {
        self.times_between(from, until, drills).await
    }

    async fn action_items(
        &self,
        query: &crate::ActionItemQuery,
    ) -> Result<Vec<crate::ActionItemRecord>, StoreError> {
        self.action_items_matching(query).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}

work_queries!(SqliteStore, sqlx::Sqlite, pg: false, reader: pool, writer: writer, begin: "BEGIN IMMEDIATE");
