//! Fills a database with incidents for benchmarks: `seed DATABASE PLAN COUNT`.
//!
//! Incidents are declared through the engine (so every one has a real, verifiable chain), spread
//! over the year before now, with the plan's severities in turn; nine in ten are resolved, the rest
//! acknowledged (`MUSTER_SEED_OPEN_EVERY=N` leaves one in N open instead of one in ten). The ids of the incidents left open are printed, one per line, for load
//! generators to write to. When the plan has a status page, one incident in 250 is published
//! there (an investigating update, then a resolved one for those that are resolved).

use std::sync::Arc;

use muster_core::access::Role;
use muster_core::incident::{Command, Impact, PublicState};
use muster_engine::{Engine, ManualClock, Principal, RunningPlan, plan_files};
use muster_store::AnyStore;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, database, plan_path, count] = args.as_slice() else {
        return Err("usage: seed DATABASE PLAN COUNT".into());
    };
    let count: u32 = count.parse()?;
    let open_every: u32 = std::env::var("MUSTER_SEED_OPEN_EVERY")
        .ok()
        .map(|every| every.parse())
        .transpose()?
        .unwrap_or(10)
        .max(1);
    let now = jiff::Timestamp::now();
    let (_, loaded) = plan_files::load(std::path::Path::new(plan_path), now)?;
    let plan = loaded.clean_plan().cloned().ok_or("the plan has errors")?;
    let severities: Vec<String> = plan.severities.iter().map(|s| s.id.to_string()).collect();
    let components: Vec<_> = plan
        .status_page
        .iter()
        .flat_map(|page| page.components.iter().map(|c| c.id.clone()))
        .collect();
    let start = now.as_millisecond() - 365 * 86_400_000;
    let step = 365 * 86_400_000 / i64::from(count.max(1));
    let clock = Arc::new(ManualClock::new(start));
    let store = AnyStore::open(database).await?;
    let engine = Arc::new(Engine::new(
        store,
        RunningPlan {
            plan,
            path: None,
            loaded_at: start,
            warnings: Vec::new(),
        },
        clock.clone(),
    ));
    let principal = Principal {
        name: "seed".into(),
        role: Role::Admin,
        person: None,
    };
    for n in 0..count {
        clock.advance(step);
        let declare = Command::Declare {
            title: format!("Seeded incident {n}"),
            scenario: None,
            severity: Some(severities[n as usize % severities.len()].as_str().into()),
            urgent: None,
            important: None,
            category: None,
            summary: None,
            started_at: None,
            detected_at: None,
            drill: n % 20 == 0,
            tags: if n % 7 == 0 {
                vec!["chain-halt".into()]
            } else {
                Vec::new()
            },
        };
        let outcome = engine.declare(&principal, &declare).await?;
        let published = !components.is_empty() && n % 250 == 13;
        let publish = |state: PublicState| Command::PublishUpdate {
            state,
            message: format!("Seeded update {n}: {}", state.title()),
            title: None,
            components: vec![components[n as usize % components.len()].clone()],
            impact: Impact::PartialOutage,
        };
        if published {
            engine
                .execute(
                    &principal,
                    &outcome.incident.id,
                    &publish(PublicState::Investigating),
                )
                .await?;
        }
        if n % open_every == 0 {
            // Open incidents of a long history have been acknowledged: no escalation pending.
            engine
                .execute(
                    &principal,
                    &outcome.incident.id,
                    &Command::Acknowledge { person: None },
                )
                .await?;
            println!("{}", outcome.incident.id);
        } else {
            engine
                .execute(
                    &principal,
                    &outcome.incident.id,
                    &Command::Resolve {
                        summary: "seeded".into(),
                    },
                )
                .await?;
            if published {
                engine
                    .execute(
                        &principal,
                        &outcome.incident.id,
                        &publish(PublicState::Resolved),
                    )
                    .await?;
            }
        }
        if n % 10_000 == 0 {
            eprintln!("seeded {n} of {count}");
        }
    }
    Ok(())
}
