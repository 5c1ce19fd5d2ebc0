//! A fresh database per test, the store opened on it, and a second connection beside the store
//! for what only someone with direct database access could do.

use std::time::Duration;

use muster_store::{PostgresStore, SqliteStore, Store, Work, testing};
use sqlx::postgres::PgPool;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};
use tempfile::TempDir;

/// What the cases need from a backend besides its store.
pub trait Fixture: Sync {
    type Store: Store + Work + Clone + 'static;

    fn store(&self) -> &Self::Store;

    /// Runs a statement through a connection of its own; the database's error message if it
    /// refuses.
    async fn execute(&self, sql: &str) -> Result<u64, String>;

    /// Removes the append-only guard from `events`, as a database administrator could.
    async fn remove_append_only_guard(&self);

    /// Opens the same database again, as a restarted server would.
    async fn reopen(&self) -> Self::Store;

    /// The database URL `AnyStore::open` takes.
    fn url(&self) -> String;
}

pub struct SqliteFixture {
    _dir: TempDir,
    path: String,
    store: SqliteStore,
    direct: SqlitePool,
}

impl SqliteFixture {
    pub async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("muster.db").to_str().unwrap().to_owned();
        let store = SqliteStore::open(&path).await.unwrap();
        let direct = SqlitePool::connect_with(
            SqliteConnectOptions::new()
                .filename(&path)
                .busy_timeout(Duration::from_secs(5)),
        )
        .await
        .unwrap();
        Self {
            _dir: dir,
            path,
            store,
            direct,
        }
    }
}

impl Fixture for SqliteFixture {
    type Store = SqliteStore;

    fn store(&self) -> &SqliteStore {
        &self.store
    }

    async fn execute(&self, sql: &str) -> Result<u64, String> {
        sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
            .execute(&self.direct)
            .await
            .map(|done| done.rows_affected())
            .map_err(|error| error.to_string())
    }

    async fn remove_append_only_guard(&self) {
        self.execute("DROP TRIGGER events_refuse_update")
            .await
            .unwrap();
        self.execute("DROP TRIGGER events_refuse_delete")
            .await
            .unwrap();
    }

    async fn reopen(&self) -> SqliteStore {
        SqliteStore::open(&self.path).await.unwrap()
    }

    fn url(&self) -> String {
        format!("sqlite://{}", self.path)
    }
}

pub struct PostgresFixture {
    url: String,
    store: PostgresStore,
    direct: PgPool,
}

impl PostgresFixture {
    pub async fn new() -> Self {
        let url = testing::scratch_postgres_url().await;
        let store = PostgresStore::open(&url).await.unwrap();
        let direct = PgPool::connect(&url).await.unwrap();
        Self { url, store, direct }
    }
}

impl Fixture for PostgresFixture {
    type Store = PostgresStore;

    fn store(&self) -> &PostgresStore {
        &self.store
    }

    async fn execute(&self, sql: &str) -> Result<u64, String> {
        sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
            .execute(&self.direct)
            .await
            .map(|done| done.rows_affected())
            .map_err(|error| error.to_string())
    }

    async fn remove_append_only_guard(&self) {
        self.execute("ALTER TABLE events DISABLE TRIGGER USER")
            .await
            .unwrap();
    }

    async fn reopen(&self) -> PostgresStore {
        PostgresStore::open(&self.url).await.unwrap()
    }

    fn url(&self) -> String {
        self.url.clone()
    }
}
