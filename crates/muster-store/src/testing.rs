//! Helpers for tests that need a real database: this crate's conformance suite and the tests of
//! the crates built on it.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::{Connection, PgConnection};

/// The variable naming a PostgreSQL server the tests may create databases on.
pub const POSTGRES_URL_VARIABLE: &str = "MUSTER_TEST_POSTGRES_URL";

static SCRATCH_DATABASES: AtomicU32 = AtomicU32::new(0);

/// Creates a new, empty PostgreSQL database for one test and returns its URL.
///
/// The server is the one `MUSTER_TEST_POSTGRES_URL` names, with a role allowed to create
/// databases (for example `postgres://postgres@127.0.0.1:55432/postgres`). Each call makes a
/// database of its own, so tests running at the same time never see each other's data.
///
/// # Panics
///
/// When the variable is not set, or the database cannot be created: a test that needs
/// PostgreSQL fails rather than passing without having run.
pub async fn scratch_postgres_url() -> String {
    let admin_url = std::env::var(POSTGRES_URL_VARIABLE).unwrap_or_else(|_| {
        panic!(
            "{POSTGRES_URL_VARIABLE} is not set: run scripts/test, which starts a throwaway PostgreSQL cluster, or point it at one"
        )
    });
    let counter = SCRATCH_DATABASES.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    let name = format!("muster_test_{}_{counter}_{nanos}", std::process::id());
    let mut admin = PgConnection::connect(&admin_url)
        .await
        .unwrap_or_else(|error| panic!("cannot connect to {POSTGRES_URL_VARIABLE}: {error}"));
    // The name is made of digits, underscores and ASCII letters only, so it needs no quoting.
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .unwrap_or_else(|error| panic!("cannot create the test database {name}: {error}"));
    admin.close().await.ok();
    with_database(&admin_url, &name)
}

/// `url` with its database name replaced by `database`, keeping user, host and parameters.
fn with_database(url: &str, database: &str) -> String {
    let (base, parameters) = match url.split_once('?') {
        Some((base, parameters)) => (base, Some(parameters)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |at| at + 3);
    let authority_end = base[authority_start..]
        .find('/')
        .map_or(base.len(), |at| authority_start + at);
    let mut scratch = format!("{}/{database}", &base[..authority_end]);
    if let Some(parameters) = parameters {
        scratch.push('?');
        scratch.push_str(parameters);
    }
    scratch
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn the_database_name_is_replaced_and_the_rest_kept() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:55432/postgres", "t1"),
            "postgres://postgres@127.0.0.1:55432/t1"
        );
        assert_eq!(
            with_database("postgresql://u:p@db/admin?sslmode=disable", "t2"),
            "postgresql://u:p@db/t2?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://localhost:5432", "t3"),
            "postgres://localhost:5432/t3"
        );
    }
}
