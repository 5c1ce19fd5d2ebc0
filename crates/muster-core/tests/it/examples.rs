//! The example plans rendered as documents: snapshots a reviewer reads side by side with the
//! source plans, and the promise that nothing in a plan is left out of its document.

use std::path::Path;

use muster_core::plan::render;

use crate::check::{load_files, read_plan};

fn example(name: &str) -> muster_core::plan::Plan {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples").join(name);
    let loaded = load_files(&read_plan(&path));
    assert_eq!(loaded.errors(), 0, "{name}: {:#?}", loaded.diagnostics);
    loaded.plan.unwrap()
}

fn assert_mentions_everything(name: &str, plan: &muster_core::plan::Plan, markdown: &str) {
    for scenario in &plan.scenarios {
        assert!(markdown.contains(&scenario.title), "{name}: scenario {} missing", scenario.title);
    }
    for person in &plan.people {
        assert!(markdown.contains(&person.name), "{name}: person {} missing", person.name);
    }
    for decision in &plan.decisions {
        assert!(markdown.contains(&decision.title), "{name}: decision {} missing", decision.title);
    }
    for runbook in &plan.runbooks {
        for step in &runbook.steps {
            assert!(markdown.contains(&step.title), "{name}: step {} missing", step.title);
        }
    }
}

macro_rules! example_snapshot {
    ($test:ident, $name:literal) => {
        #[test]
        fn $test() {
            let plan = example($name);
            let markdown = render::markdown(&plan);
            assert_mentions_everything($name, &plan, &markdown);
            insta::assert_snapshot!(markdown);
        }
    };
}

example_snapshot!(client_team_renders_as_its_document, "client-team.yaml");
example_snapshot!(startup_renders_as_its_document, "startup.yaml");
example_snapshot!(zkp_protocol_renders_as_its_document, "zkp-protocol");
example_snapshot!(smart_contract_protocol_renders_as_its_document, "smart-contract-protocol.yaml");

#[test]
fn zkp_protocol_html_is_a_standalone_page() {
    let page = render::html(&example("zkp-protocol"));
    assert!(page.to_ascii_lowercase().starts_with("<!doctype html>"));
    assert!(page.contains("<meta name=\"viewport\""));
    assert!(page.contains("INC-"), "the templates keep the incident id format");
}
