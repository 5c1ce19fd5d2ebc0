//! The channels against fakes of the services that speak their documented wire formats
//! (loopback axum servers that record each request and answer as scripted), email against a
//! real SMTP server, and every format's output.

use std::collections::BTreeMap;

use muster_core::plan::Channel;
use muster_notify::{Destination, Endpoints, Message, Recipient};

mod authored;
mod discord;
mod email;
mod fake;
mod format;
mod matrix;
mod pagerduty;
mod slack;
mod telegram;
mod webhook;

/// 2026-11-21T09:00:00Z, the "now" of every send.
const NOW: i64 = 1_795_251_600;

/// A drill page for Alice with everything filled in.
fn page() -> Message {
    Message {
        incident: "INC-20261121-001".to_owned(),
        title: "Bridge relayer halted".to_owned(),
        severity: "P0".to_owned(),
        severity_name: Some("Critical".to_owned()),
        status: "investigating".to_owned(),
        headline: "Paged (escalation level 1 of 3)".to_owned(),
        lines: vec![
            "Relayer stopped signing at block 21,004,113".to_owned(),
            "3 alerts linked".to_owned(),
            "Runbook: pause the bridge contract".to_owned(),
        ],
        drill: true,
        url: Some("https://muster.example.org/incidents/INC-20261121-001".to_owned()),
        ack_url: Some(
            "https://muster.example.org/ack/INC-20261121-001?person=alice&sig=0f1e".to_owned(),
        ),
        folded: 2,
        recipient: Some(Recipient {
            person: "alice".to_owned(),
            name: "Alice Example".to_owned(),
            email: Some("alice@example.org".to_owned()),
            handle: None,
        }),
        authored: None,
    }
}

/// A real (not drill) page with nothing optional.
fn bare() -> Message {
    Message {
        incident: "INC-20261121-002".to_owned(),
        title: "Finality lag".to_owned(),
        severity: "P1".to_owned(),
        severity_name: None,
        status: "declared".to_owned(),
        headline: "Declared".to_owned(),
        lines: vec![],
        drill: false,
        url: None,
        ack_url: None,
        folded: 0,
        recipient: None,
        authored: None,
    }
}

/// An environment made of `pairs` only; the process environment is never read or changed.
fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: BTreeMap<String, String> = pairs
        .iter()
        .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
        .collect();
    move |name| map.get(name).cloned()
}

/// `channel` resolved with `pairs` as its environment.
#[track_caller]
fn resolve(channel: &Channel, pairs: &[(&str, &str)], endpoints: &Endpoints) -> Destination {
    Destination::resolve(channel, &env_of(pairs), endpoints)
        .expect("the channel resolves")
        .expect("the channel sends")
}

/// A loopback port nothing listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let port = listener.local_addr().expect("its address").port();
    drop(listener);
    port
}

fn sender() -> muster_notify::Sender {
    muster_notify::Sender::new().expect("the HTTP client builds")
}
