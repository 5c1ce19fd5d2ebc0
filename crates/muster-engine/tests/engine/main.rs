//! The engine on both backends: whatever responders do, the stored events fold to exactly the
//! state the store holds, chains verify, races on one incident lose nothing, reloads keep a good
//! plan.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use muster_core::access::Role;
use muster_core::incident::{Command, Incident, IncidentId, Status, chain};
use muster_engine::{Engine, EngineError, ManualClock, Principal, ReloadError, RunningPlan};
use muster_store::{AnyStore, Store};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

mod comms;
mod paging;

/// 2026-11-21T09:00:00Z
const T0: i64 = 1_795_251_600_000;

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name)
}

fn running_plan(path: &Path) -> RunningPlan {
    let (_, loaded) =
        muster_engine::plan_files::load(path, jiff::Timestamp::from_millisecond(T0).unwrap())
            .expect("the example reads");
    RunningPlan {
        plan: loaded.clean_plan().cloned().expect("the example is clean"),
        path: Some(path.to_path_buf()),
        loaded_at: T0,
        warnings: loaded.diagnostics,
    }
}

async fn engine_on(url: &str, plan: &Path) -> (Engine, Arc<ManualClock>) {
    let store = AnyStore::open(url).await.expect("the store opens");
    let clock = Arc::new(ManualClock::new(T0));
    (Engine::new(store, running_plan(plan), clock.clone()), clock)
}

fn admin() -> Principal {
    Principal {
        name: "test".into(),
        role: Role::Admin,
        person: None,
    }
}

fn declare() -> Command {
    Command::Declare {
        title: "Funds moving out of the pool".into(),
        scenario: Some("stolen-user-funds".into()),
        severity: None,
        urgent: None,
        important: None,
        category: None,
        summary: None,
        started_at: None,
        detected_at: None,
        drill: false,
        tags: Vec::new(),
    }
}

fn command_strategy() -> impl Strategy<Value = Command> {
    let person = prop::sample::select(vec!["sofia", "tomas", "hannah", "janet", "nobody"]);
    prop_oneof![
        person.clone().prop_map(|p| Command::Acknowledge {
            person: Some(p.into())
        }),
        prop::sample::select(vec!["P0", "P1", "P2", "P9"]).prop_map(|s| Command::ChangeSeverity {
            to: s.into(),
            reason: "new facts".into()
        }),
        prop::sample::select(Status::ALL.to_vec())
            .prop_map(|to| Command::ChangeStatus { to, note: None }),
        (
            prop::sample::select(vec!["ceo", "coo", "moderator"]),
            person.clone()
        )
            .prop_map(|(role, p)| Command::AssignRole {
                role: role.into(),
                person: p.into()
            }),
        "[a-z ]{0,8}".prop_map(|text| Command::AddNote { text }),
        prop::sample::select(vec![
            "pause-contract",
            "identify-exploit",
            "quantify-losses"
        ])
        .prop_map(|step| Command::CompleteStep {
            step: step.into(),
            note: None
        }),
        (
            prop::sample::select(vec!["access-emergency-fund", "pause-contract"]),
            person
        )
            .prop_map(|(decision, p)| Command::Approve {
                decision: decision.into(),
                approver: p.into(),
                signature: None,
                comment: None,
            }),
        "[a-z]{0,3}".prop_map(|tag| Command::AddTag { tag }),
        "[a-z ]{0,6}".prop_map(|summary| Command::Resolve { summary }),
        Just(Command::Reopen {
            reason: "regressed".into()
        }),
        Just(Command::Close { note: None }),
    ]
}

/// Runs random command sequences through one engine; after each sequence the store's
/// projection equals the fold of the stored events, and the chain verifies.
fn stored_state_is_the_fold_of_stored_events(url: &str) {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let (engine, clock) = runtime.block_on(engine_on(url, &example("startup.yaml")));
    let mut runner = TestRunner::new(Config::with_cases(24));
    runner
        .run(
            &proptest::collection::vec(command_strategy(), 1..30),
            |commands| {
                runtime.block_on(async {
                    let principal = admin();
                    let declared = engine.declare(&principal, &declare()).await.unwrap();
                    let id = declared.incident.id.clone();
                    for command in &commands {
                        clock.advance(1_000);
                        let before = engine.store().head(&id).await.unwrap().unwrap();
                        match engine.execute(&principal, &id, command).await {
                            Ok(outcome) => {
                                prop_assert!(!outcome.events.is_empty());
                                prop_assert_eq!(
                                    outcome.incident.last_seq,
                                    before.incident.last_seq + outcome.events.len() as u64
                                );
                            }
                            Err(EngineError::Rejected(_)) => {
                                let after = engine.store().head(&id).await.unwrap().unwrap();
                                prop_assert_eq!(after, before, "a refused command changed nothing");
                            }
                            Err(other) => prop_assert!(false, "unexpected error {other}"),
                        }
                    }
                    let events = engine.store().events(&id).await.unwrap();
                    let head = engine.store().head(&id).await.unwrap().unwrap();
                    prop_assert_eq!(Incident::fold(&events), Some(head.incident.clone()));
                    prop_assert_eq!(&head.last_hash, &events.last().unwrap().hash);
                    prop_assert!(chain::verify(&events).is_ok());
                    Ok(())
                })
            },
        )
        .unwrap();
    let report = runtime.block_on(engine.verify_audit()).unwrap();
    assert!(report.is_clean(), "{report:?}");
    assert!(report.incidents >= 24);
}

/// Several responders write to one incident at the same moment: every write lands, in some
/// order, on one unbroken chain.
async fn concurrent_writers_all_land(url: &str) {
    let (engine, _clock) = engine_on(url, &example("startup.yaml")).await;
    let engine = Arc::new(engine);
    let id = engine
        .declare(&admin(), &declare())
        .await
        .unwrap()
        .incident
        .id;
    let writers: Vec<_> = (0..6)
        .map(|n| {
            let engine = engine.clone();
            let id = id.clone();
            tokio::spawn(async move {
                engine
                    .execute(
                        &admin(),
                        &id,
                        &Command::AddNote {
                            text: format!("observation {n}"),
                        },
                    )
                    .await
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap().expect("each note is stored");
    }
    let events = engine.timeline(&id).await.unwrap();
    // The declaration, the first escalation level paged with it, and six notes.
    assert_eq!(events.len(), 8);
    assert!(chain::verify(&events).is_ok());
    assert_eq!(engine.incident(&id).await.unwrap().incident.notes, 6);
}

/// Ids count up per day in the plan's time zone, and restart the next day.
async fn ids_count_per_day(url: &str) {
    let (engine, clock) = engine_on(url, &example("startup.yaml")).await;
    let first = engine
        .declare(&admin(), &declare())
        .await
        .unwrap()
        .incident
        .id;
    let second = engine
        .declare(&admin(), &declare())
        .await
        .unwrap()
        .incident
        .id;
    clock.advance(24 * 3_600_000);
    let next_day = engine
        .declare(&admin(), &declare())
        .await
        .unwrap()
        .incident
        .id;
    assert_eq!(first.to_string(), "INC-20261121-001");
    assert_eq!(second.to_string(), "INC-20261121-002");
    assert_eq!(next_day.to_string(), "INC-20261122-001");
}

/// Roles are enforced by the engine too, not only by the web layer; nothing is written.
async fn viewers_cannot_write(url: &str) {
    let (engine, _clock) = engine_on(url, &example("startup.yaml")).await;
    let viewer = Principal {
        name: "wall".into(),
        role: Role::Viewer,
        person: None,
    };
    assert!(matches!(
        engine.declare(&viewer, &declare()).await,
        Err(EngineError::Forbidden(_))
    ));
    let page = engine
        .list(&muster_store::IncidentFilter::default())
        .await
        .unwrap();
    assert_eq!(page.total, 0);
    let unknown: IncidentId = "INC-20261121-404".parse().unwrap();
    assert!(matches!(
        engine
            .execute(&admin(), &unknown, &Command::AddNote { text: "x".into() })
            .await,
        Err(EngineError::NotFound(_))
    ));
}

/// A broken plan on disk does not replace the running one.
async fn reload_keeps_a_good_plan(url: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plan.yaml");
    std::fs::copy(example("startup.yaml"), &path).unwrap();
    let (engine, clock) = engine_on(url, &path).await;
    clock.advance(60_000);
    let reloaded = engine.reload_plan().expect("the same plan reloads");
    assert_eq!(reloaded.loaded_at, T0 + 60_000);
    std::fs::write(&path, "organization: {name: 3}\nseverities: nope\n").unwrap();
    clock.advance(60_000);
    match engine.reload_plan() {
        Err(ReloadError::Invalid(diagnostics)) => assert!(!diagnostics.is_empty()),
        other => panic!("expected the broken plan to be refused, got {other:?}"),
    }
    let running = engine.plan();
    assert_eq!(running.loaded_at, T0 + 60_000);
    assert_eq!(running.plan.organization.name, "Example Start-up");
}

macro_rules! on_both_backends {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let dir = tempfile::tempdir().unwrap();
                    let url = dir.path().join("muster.db").display().to_string();
                    super::$case(&url).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let url = muster_store::testing::scratch_postgres_url().await;
                    super::$case(&url).await;
                }
            )*
        }
    };
}

on_both_backends!(
    concurrent_writers_all_land,
    ids_count_per_day,
    viewers_cannot_write,
    reload_keeps_a_good_plan,
);

#[test]
fn stored_state_is_the_fold_of_stored_events_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    stored_state_is_the_fold_of_stored_events(&dir.path().join("muster.db").display().to_string());
}

#[test]
fn stored_state_is_the_fold_of_stored_events_on_postgres() {
    let url = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(muster_store::testing::scratch_postgres_url());
    stored_state_is_the_fold_of_stored_events(&url);
}
