//! The tamper-evident timeline: `hash = sha256(previous hash ‖ canonical bytes of the event)`.
//!
//! Canonical bytes are the event's JSON with keys sorted at every level and no spaces, so they do
//! not depend on field order in the code or on how a database returns JSON. The first event of an
//! incident chains to 32 zero bytes.

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::incident::event::{Event, EventKind, IncidentId, Millis};

/// The previous hash of an incident's first event.
pub const GENESIS: [u8; 32] = [0; 32];

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (index, key) in keys.into_iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(&map[key], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// The bytes that are hashed for an event: everything stored about it except the hash itself.
#[must_use]
pub fn canonical_bytes(
    incident: &IncidentId,
    seq: u64,
    at: Millis,
    actor: &str,
    kind: &EventKind,
) -> Vec<u8> {
    let value = serde_json::json!({
        "incident": incident.to_string(),
        "seq": seq,
        "at": at,
        "actor": actor,
        "kind": kind,
    });
    let mut out = String::new();
    write_canonical(&value, &mut out);
    out.into_bytes()
}

/// Lower-case hex of bytes, as hashes are written.
#[must_use]
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push(char::from(DIGITS[usize::from(byte >> 4)]));
        text.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    text
}

fn from_hex(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 {
        return None;
    }
    let mut bytes = [0u8; 32];
    for (index, pair) in text.as_bytes().chunks(2).enumerate() {
        let pair = std::str::from_utf8(pair).ok()?;
        bytes[index] = u8::from_str_radix(pair, 16).ok()?;
    }
    Some(bytes)
}

/// The hash of an event that follows `previous` (hex), or the first event when `previous` is `None`.
#[must_use]
pub fn hash(previous: Option<&str>, canonical: &[u8]) -> String {
    let previous = previous.and_then(from_hex).unwrap_or(GENESIS);
    let mut hasher = Sha256::new();
    hasher.update(previous);
    hasher.update(canonical);
    to_hex(&hasher.finalize())
}

/// Where an incident's chain ends: the sequence number and hash of its last event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Link<'a> {
    pub seq: u64,
    pub hash: &'a str,
}

impl<'a> From<&'a Event> for Link<'a> {
    fn from(event: &'a Event) -> Self {
        Link {
            seq: event.seq,
            hash: &event.hash,
        }
    }
}

/// Builds the stored form of a new event, chained to the incident's last event.
#[must_use]
pub fn seal(
    incident: &IncidentId,
    previous: Option<&Event>,
    at: Millis,
    actor: &str,
    kind: EventKind,
) -> Event {
    seal_after(incident, previous.map(Link::from), at, actor, kind)
}

/// Builds the stored form of a new event given only where the chain ends, as a store keeps it.
#[must_use]
pub fn seal_after(
    incident: &IncidentId,
    previous: Option<Link<'_>>,
    at: Millis,
    actor: &str,
    kind: EventKind,
) -> Event {
    let seq = previous.map_or(1, |link| link.seq + 1);
    let canonical = canonical_bytes(incident, seq, at, actor, &kind);
    Event {
        incident: incident.clone(),
        seq,
        at,
        actor: actor.to_owned(),
        hash: hash(previous.map(|link| link.hash), &canonical),
        kind,
    }
}

/// The first link that does not hold, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenLink {
    pub incident: String,
    pub seq: u64,
    pub reason: String,
}

impl std::fmt::Display for BrokenLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} event {}: {}", self.incident, self.seq, self.reason)
    }
}

/// Recomputes one incident's chain, events in stored order.
pub fn verify(events: &[Event]) -> Result<(), BrokenLink> {
    let mut previous: Option<&Event> = None;
    for event in events {
        // Positions are reported as the chain expects them, not as the stored event claims:
        // a tampered sequence number must not move the report elsewhere.
        let expected_seq = previous.map_or(1, |before| before.seq + 1);
        let broken = |reason: String| BrokenLink {
            incident: event.incident.to_string(),
            seq: expected_seq,
            reason,
        };
        if event.seq != expected_seq {
            return Err(broken(format!(
                "the event stored here says it is event {}; an event is missing or out of order",
                event.seq
            )));
        }
        if let Some(before) = previous
            && before.incident != event.incident
        {
            return Err(broken(format!(
                "belongs to {} but follows an event of {}",
                event.incident, before.incident
            )));
        }
        let canonical = canonical_bytes(
            &event.incident,
            event.seq,
            event.at,
            &event.actor,
            &event.kind,
        );
        let expected = hash(previous.map(|before| before.hash.as_str()), &canonical);
        if event.hash != expected {
            return Err(broken(
                "its hash does not match its contents and the event before it: the event was changed after it was written"
                    .to_owned(),
            ));
        }
        previous = Some(event);
    }
    Ok(())
}
