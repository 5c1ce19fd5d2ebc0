//! The backend for several Muster instances sharing one PostgreSQL database. Racing appends to
//! one incident are settled by the `(incident, seq)` primary key: the loser's transaction fails
//! on a unique violation and is rolled back whole.

use muster_core::incident::{Event, Incident, IncidentId, Millis};
use sqlx::Postgres;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgPool, PgPoolOptions};

use crate::common;
use crate::work::work_queries;
use crate::{
    Effects, Head, IncidentFilter, IncidentPage, RawEvent, Store, StoreError, TokenRecord,
};

static MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// Connections kept to the server by one store.
const POOL_SIZE: u32 = 8;

/// Incidents and tokens in a PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Connects to the database a `postgres://` URL names and brings its schema up to date.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(POOL_SIZE)
            .connect(url)
            .await
            .map_err(|error| {
                StoreError::Database(format!("cannot connect to PostgreSQL: {error}"))
            })?;
        MIGRATIONS.run(&pool).await?;
        Ok(Self { pool })
    }
}

impl Store for PostgresStore {
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
                    "INSERT INTO events (incident, seq, at, actor, body, hash) VALUES ($1, $2, $3, $4, $5, $6)",
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
            "INSERT INTO incident_days (day, last) VALUES ($1, 1) \
             ON CONFLICT (day) DO UPDATE SET last = incident_days.last + 1 \
             RETURNING last",
        )
        .bind(day.to_string())
        .fetch_one(&self.pool)
        .await?;
        common::incident_number(day, last)
    }

    async fn head(&self, id: &IncidentId) -> Result<Option<Head>, StoreError> {
        let what = id.to_string();
        let row = sqlx::query(
            "SELECT incident_states.state, incidents.last_hash FROM incidents \
             JOIN incident_states ON incident_states.id = incidents.id WHERE incidents.id = $1",
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
            "SELECT incident, seq, at, actor, body, hash FROM events WHERE incident = $1 ORDER BY seq",
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
        let (mut count, mut page) = common::list_queries::<Postgres>(filter);
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
                 VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (name) DO UPDATE SET \
                     secret_hash = excluded.secret_hash, role = excluded.role, \
                     person = excluded.person, created_at = excluded.created_at, \
                     revoked_at = excluded.revoked_at \
                 WHERE tokens.revoked_at IS NOT NULL",
            ),
            record,
            secret_hash,
        )
        .execute(&self.pool)
        .await?;
        if inserted.rows_affected() == 0 {
            return Err(StoreError::TokenNameTaken(record.name.clone()));
        }
        Ok(())
    }

    async fn token_by_hash(&self, secret_hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT name, role, person, created_at, revoked_at FROM tokens WHERE secret_hash = $1",
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
            sqlx::query("UPDATE tokens SET revoked_at = $1 WHERE name = $2 AND revoked_at IS NULL")
                .bind(at)
                .bind(name)
                .execute(&self.pool)
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

work_queries!(PostgresStore, sqlx::Postgres, pg: true, reader: pool, writer: pool, begin: "");
