//! One set of storage cases run against both backends: every case runs once on a fresh SQLite
//! file and once on a fresh PostgreSQL database, so the two keep the same behaviour.
//!
//! The PostgreSQL half needs `MUSTER_TEST_POSTGRES_URL` (`scripts/test` starts a throwaway
//! cluster and sets it).

mod cases;
mod fixtures;
mod followup;
mod intake;
mod public;
mod timeline;

/// Generates `sqlite::<case>` and `postgres::<case>` tests for each named case in `cases`.
macro_rules! conformance {
    ($($case:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    let fixture = crate::fixtures::SqliteFixture::new().await;
                    crate::cases::$case(&fixture).await;
                }
            )+
        }

        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    let fixture = crate::fixtures::PostgresFixture::new().await;
                    crate::cases::$case(&fixture).await;
                }
            )+
        }
    };
}

conformance!(
    append_then_read_back,
    malformed_batches_are_refused,
    conflicting_append_keeps_nothing,
    racing_writers_one_wins,
    events_cannot_be_changed,
    incident_numbers_count_per_day,
    list_filters,
    list_pages,
    tokens,
    raw_events_are_the_stored_bytes,
    reopening_keeps_everything,
    accepted_alerts_are_stored_once_in_order,
    alert_state_follows_the_latest_event,
    any_store_opens_by_url,
    integration_keys,
    triaged_alerts_are_taken_once,
    only_published_updates_reach_the_status_page,
    incident_times_are_read_without_the_state,
    action_items_across_incidents,
    a_public_postmortem_reaches_the_status_page,
);

mod sqlite_only {
    use muster_store::{AnyStore, IncidentFilter, SqliteStore, Store};

    use crate::timeline::{Timeline, at, incident};

    #[tokio::test]
    async fn an_in_memory_database_lives_as_long_as_the_store() {
        let store = SqliteStore::open(":memory:").await.unwrap();
        let id = incident(2025, 3, 1, 1);
        let mut timeline = Timeline::declare(&id, at(2025, 3, 1, 9), "P1");
        timeline.append_all(&store).await;
        timeline.note(at(2025, 3, 1, 10), "still here");
        timeline.append_from(&store, 2).await;
        assert_eq!(store.events(&id).await.unwrap(), timeline.events);
        assert_eq!(
            store.list(&IncidentFilter::default()).await.unwrap().total,
            1
        );

        let any = AnyStore::open("sqlite::memory:").await.unwrap();
        assert_eq!(any.backend(), "sqlite");
        assert!(
            any.head(&id).await.unwrap().is_none(),
            "each :memory: store is its own"
        );
    }

    #[tokio::test]
    async fn a_missing_folder_is_reported_with_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("no-such-folder").join("muster.db");
        let path = path.to_str().unwrap();
        let error = SqliteStore::open(path).await.unwrap_err().to_string();
        assert!(error.contains(path), "{error}");
    }
}

mod postgres_only {
    use muster_store::Store;

    use crate::fixtures::{Fixture, PostgresFixture};
    use crate::timeline::{Timeline, at, incident};

    #[tokio::test]
    async fn events_cannot_be_truncated() {
        let fixture = PostgresFixture::new().await;
        let id = incident(2025, 3, 1, 1);
        let timeline = Timeline::declare(&id, at(2025, 3, 1, 9), "P1");
        timeline.append_all(fixture.store()).await;
        let error = fixture.execute("TRUNCATE events").await.unwrap_err();
        assert!(error.contains("events are append-only"), "{error}");
        assert_eq!(
            fixture
                .store()
                .raw_events(&id.to_string())
                .await
                .unwrap()
                .len(),
            1
        );
    }
}
