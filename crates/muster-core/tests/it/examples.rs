//! The example plans rendered as documents: snapshots a reviewer reads side by side with the
//! source plans, and the promise that nothing in a plan is left out of its document.

use std::path::Path;

use muster_core::plan::render;

use crate::check::{load_files, read_plan};

fn example(name: &str) -> muster_core::plan::Plan {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name);
    let loaded = load_files(&read_plan(&path));
    assert_eq!(loaded.errors(), 0, "{name}: {:#?}", loaded.diagnostics);
    loaded.plan.unwrap()
}

/// The first scenario, person, decision or runbook step the document does not mention.
pub fn first_left_out(plan: &muster_core::plan::Plan, markdown: &str) -> Option<String> {
    let scenarios = plan.scenarios.iter().map(|s| ("scenario", &s.title));
    let people = plan.people.iter().map(|p| ("person", &p.name));
    let decisions = plan.decisions.iter().map(|d| ("decision", &d.title));
    let steps = plan
        .runbooks
        .iter()
        .flat_map(|runbook| &runbook.steps)
        .map(|step| ("step", &step.title));
    scenarios
        .chain(people)
        .chain(decisions)
        .chain(steps)
        .find(|(_, text)| !markdown.contains(text.as_str()))
        .map(|(what, text)| format!("{what} '{text}'"))
}

macro_rules! example_snapshot {
    ($test:ident, $name:literal) => {
        #[test]
        fn $test() {
            let plan = example($name);
            let markdown = render::markdown(&plan);
            assert_eq!(first_left_out(&plan, &markdown), None, "{}", $name);
            insta::assert_snapshot!(markdown);
        }
    };
}

example_snapshot!(client_team_renders_as_its_document, "client-team.yaml");
example_snapshot!(startup_renders_as_its_document, "startup.yaml");
example_snapshot!(zkp_protocol_renders_as_its_document, "zkp-protocol");
example_snapshot!(
    smart_contract_protocol_renders_as_its_document,
    "smart-contract-protocol.yaml"
);

#[test]
fn zkp_protocol_html_is_a_standalone_page() {
    let page = render::html(&example("zkp-protocol"));
    assert!(page.to_ascii_lowercase().starts_with("<!doctype html>"));
    assert!(page.contains("<meta name=\"viewport\""));
    assert!(
        page.contains("INC-"),
        "the templates keep the incident id format"
    );
}

mod generated {
    //! Plans written as YAML text by a generator, put through the whole loader: whatever passes
    //! `check` must render, and its document must mention everything a reader looks up.

    use std::fmt::Write as _;

    use muster_core::plan::render;
    use proptest::prelude::*;

    use crate::check::load_files;

    /// Names and titles as people write them, punctuation included.
    fn words() -> impl Strategy<Value = String> {
        "[A-Z][a-z]{1,8}( [A-Za-z][a-z'.,-]{0,8}){0,3}"
    }

    fn quoted(text: &str) -> String {
        format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
    }

    #[derive(Debug, Clone)]
    struct Shape {
        people: Vec<String>,
        scenarios: Vec<(String, usize, bool)>,
        decisions: Vec<(String, Vec<usize>, bool)>,
        steps: Vec<Vec<String>>,
    }

    fn shape() -> impl Strategy<Value = Shape> {
        (
            proptest::collection::vec(words(), 2..7),
            proptest::collection::vec((words(), 0..2usize, any::<bool>()), 1..6),
            proptest::collection::vec(
                (
                    words(),
                    proptest::collection::vec(0..7usize, 1..3),
                    any::<bool>(),
                ),
                0..4,
            ),
            proptest::collection::vec(proptest::collection::vec(words(), 1..4), 1..4),
        )
            .prop_map(|(people, scenarios, decisions, steps)| Shape {
                people,
                scenarios,
                decisions,
                steps,
            })
    }

    fn yaml(shape: &Shape) -> String {
        let person = |index: usize| format!("person-{}", index % shape.people.len());
        let mut out = String::from(
            "version: 1\norganization: { name: Generated }\nseverities:\n  - { id: P0, name: Critical, urgent: true, important: true, ack_within: 15m, escalation: page }\n  - { id: P1, name: Low, urgent: false, important: false, ack_within: 1d, escalation: none }\ncategories:\n  - { id: hack, name: Hacker attack }\n  - { id: net, name: Network problem }\npeople:\n",
        );
        for (index, name) in shape.people.iter().enumerate() {
            writeln!(
                out,
                "  - {{ id: person-{index}, name: {}, contacts: {{ email: p{index}@example.com, phone: \"+1555000{index}\" }}, keys: [\"eth:0x{index:040x}\"] }}",
                quoted(name)
            )
            .unwrap();
        }
        let members: Vec<String> = (0..shape.people.len()).map(person).collect();
        writeln!(
            out,
            "teams:\n  - {{ id: core, name: Core, members: [{0}] }}\nroles:\n  - {{ id: lead, name: Lead, primary: person-0, backup: person-1 }}\nschedules:\n  - id: primary\n    rotations:\n      - {{ members: [{0}], every: 1w, handoff: \"mon 09:00\", start: 2026-01-05 }}\nescalation_policies:\n  - id: page\n    levels:\n      - {{ after: 0m, notify: [schedule:primary] }}\n      - {{ after: 15m, notify: [role:lead] }}",
            members.join(", ")
        )
        .unwrap();
        out.push_str("runbooks:\n");
        for (index, steps) in shape.steps.iter().enumerate() {
            writeln!(
                out,
                "  - id: runbook-{index}\n    title: Runbook {index}\n    steps:"
            )
            .unwrap();
            for (step_index, title) in steps.iter().enumerate() {
                let decision = if shape.decisions.is_empty() {
                    String::new()
                } else {
                    format!(
                        ", decision: decision-{}",
                        step_index % shape.decisions.len()
                    )
                };
                writeln!(
                    out,
                    "      - {{ id: step-{step_index}, title: {}, phase: containment, within: 5m{decision} }}",
                    quoted(title)
                )
                .unwrap();
            }
        }
        out.push_str("scenarios:\n");
        for (index, (title, category, urgent)) in shape.scenarios.iter().enumerate() {
            writeln!(
                out,
                "  - {{ id: scenario-{index}, category: {}, title: {}, detection: [\"alert:generated-{index}\"], severity: {}, runbook: runbook-{} }}",
                ["hack", "net"][*category],
                quoted(title),
                if *urgent { "P0" } else { "P1" },
                index % shape.steps.len()
            )
            .unwrap();
        }
        out.push_str("decisions:\n");
        if shape.decisions.is_empty() {
            out.push_str("  []\n");
        }
        for (index, (title, approvers, signed)) in shape.decisions.iter().enumerate() {
            let mut required: Vec<String> = approvers
                .iter()
                .map(|a| format!("person:{}", person(*a)))
                .collect();
            required.sort();
            required.dedup();
            writeln!(
                out,
                "  - {{ id: decision-{index}, title: {}, required: [{}], signed: {signed} }}",
                quoted(title),
                required.join(", ")
            )
            .unwrap();
        }
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn a_plan_that_passes_check_renders_and_mentions_everything(shape in shape()) {
            let text = yaml(&shape);
            let loaded = load_files(&[("generated.yaml".to_owned(), text.clone())]);
            prop_assert_eq!(loaded.errors(), 0, "{}\n{:#?}", text, loaded.diagnostics);
            let plan = loaded.plan.unwrap();
            let markdown = render::markdown(&plan);
            let html = render::html(&plan);
            prop_assert!(html.contains("</html>"));
            prop_assert_eq!(super::first_left_out(&plan, &markdown), None);
        }
    }
}
