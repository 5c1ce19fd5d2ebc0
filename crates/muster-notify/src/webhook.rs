//! A generic webhook, signed: `POST` the message as JSON with three headers:
//!
//! - `X-Muster-Timestamp`: the send time in Unix seconds;
//! - `X-Muster-Signature`: `v1=` and the hex HMAC-SHA256, keyed with the channel's secret, of
//!   the timestamp, a `.`, and the body's bytes;
//! - `X-Muster-Delivery`: the delivery's id, the same on every retry, so a receiver can drop
//!   repeats.
//!
//! A receiver checks a request with [`verify_signature`]: the timestamp within its tolerance
//! (so a captured request cannot be replayed later) and the signature compared in constant
//! time. Any `2xx` answer is success.

use std::fmt::Write as _;
use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::Message;
use crate::send::{HttpReply, SendError, Sent};

pub const TIMESTAMP_HEADER: &str = "x-muster-timestamp";
pub const SIGNATURE_HEADER: &str = "x-muster-signature";
pub const DELIVERY_HEADER: &str = "x-muster-delivery";

/// The body: the message's fields, the delivery id and the send time (RFC 3339, UTC).
///
/// ```json
/// {
///   "delivery_id": "42",
///   "incident": "INC-20261121-001",
///   "title": "Bridge relayer halted",
///   "severity": "P0",
///   "severity_name": "Critical",
///   "status": "investigating",
///   "headline": "Paged (escalation level 1 of 3)",
///   "lines": ["Relayer stopped signing at block 21,004,113"],
///   "drill": false,
///   "url": "https://muster.example.org/incidents/INC-20261121-001",
///   "ack_url": "https://muster.example.org/ack/…",
///   "folded": 0,
///   "recipient": {"person": "alice", "name": "Alice Example"},
///   "authored": null,
///   "sent_at": "2026-11-21T09:00:00Z"
/// }
/// ```
///
/// Optional values are `null` when absent. `authored` is set for a message a responder wrote:
/// `{"subject": "…" or null, "body": "…"}`, their text as written (what the chat and email
/// formats send instead of `headline` and `lines`).
#[must_use]
pub fn format(message: &Message, delivery_id: &str, now_unix: i64) -> Value {
    let sent_at = jiff::Timestamp::from_second(now_unix)
        .map(|at| at.to_string())
        .unwrap_or_default();
    json!({
        "delivery_id": delivery_id,
        "incident": message.incident,
        "title": message.title,
        "severity": message.severity,
        "severity_name": message.severity_name,
        "status": message.status,
        "headline": message.headline,
        "lines": message.lines,
        "drill": message.drill,
        "url": message.url,
        "ack_url": message.ack_url,
        "folded": message.folded,
        "recipient": message.recipient.as_ref().map(|recipient| json!({
            "person": recipient.person,
            "name": recipient.name,
        })),
        "authored": message.authored,
        "sent_at": sent_at,
    })
}

/// The `X-Muster-Signature` value for `body` sent at `timestamp`: `v1=<hex>`.
#[must_use]
pub fn sign(secret: &[u8], timestamp: &str, body: &[u8]) -> String {
    let mac = keyed(secret, timestamp, body);
    let digest = mac.finalize().into_bytes();
    let mut signature = String::from("v1=");
    for byte in digest {
        let _ = write!(signature, "{byte:02x}");
    }
    signature
}

/// Why a webhook request was not accepted as Muster's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the timestamp is not a number of seconds")]
    BadTimestamp,
    /// Too old or too far in the future: possibly a replay.
    #[error("the timestamp is {skew} s away from now, more than the {tolerance} s allowed")]
    OutsideTolerance { skew: u64, tolerance: u64 },
    #[error("the signature header holds no v1= signature")]
    NoSignature,
    #[error("the signature does not match the body")]
    Mismatch,
}

/// Checks a received request: `timestamp` and `header` are the `X-Muster-Timestamp` and
/// `X-Muster-Signature` values, `body` the raw bytes. The timestamp must lie within `tolerance`
/// of `now_unix`; the header may hold several comma-separated `v1=` signatures (during a secret
/// rotation) and one must match, compared in constant time.
pub fn verify_signature(
    secret: &[u8],
    timestamp: &str,
    body: &[u8],
    header: &str,
    now_unix: i64,
    tolerance: Duration,
) -> Result<(), SignatureError> {
    let sent: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| SignatureError::BadTimestamp)?;
    let skew = now_unix.abs_diff(sent);
    if skew > tolerance.as_secs() {
        return Err(SignatureError::OutsideTolerance {
            skew,
            tolerance: tolerance.as_secs(),
        });
    }
    let candidates: Vec<Vec<u8>> = header
        .split(',')
        .filter_map(|part| part.trim().strip_prefix("v1="))
        .filter_map(decode_hex)
        .collect();
    if candidates.is_empty() {
        return Err(SignatureError::NoSignature);
    }
    let timestamp = timestamp.trim();
    if candidates.iter().any(|candidate| {
        keyed(secret, timestamp, body)
            .verify_slice(candidate)
            .is_ok()
    }) {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// Reads the receiver's answer: any `2xx` is success.
pub fn classify(reply: &HttpReply) -> Result<Sent, SendError> {
    if reply.is_success() {
        Ok(Sent {
            status: reply.status,
            detail: reply.detail(),
        })
    } else {
        Err(reply.failure("The webhook", None, None))
    }
}

/// HMAC-SHA256 keyed with `secret`, fed `timestamp.body`.
fn keyed(secret: &[u8], timestamp: &str, body: &[u8]) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// Lower- or upper-case hex to bytes; `None` for anything else.
fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(text.get(at..at + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"whsec-test";
    const BODY: &[u8] = br#"{"incident":"INC-20261121-001"}"#;
    const MINUTE: Duration = Duration::from_mins(1);

    #[test]
    fn a_signature_verifies_within_the_tolerance_only() {
        let signature = sign(SECRET, "1700000000", BODY);
        assert!(signature.starts_with("v1="));
        assert_eq!(signature.len(), 3 + 64);
        assert_eq!(
            verify_signature(
                SECRET,
                "1700000000",
                BODY,
                &signature,
                1_700_000_030,
                MINUTE
            ),
            Ok(())
        );
        assert_eq!(
            verify_signature(
                SECRET,
                "1700000000",
                BODY,
                &signature,
                1_700_000_061,
                MINUTE
            ),
            Err(SignatureError::OutsideTolerance {
                skew: 61,
                tolerance: 60
            })
        );
        assert_eq!(
            verify_signature(
                SECRET,
                "1700000000",
                BODY,
                &signature,
                1_699_999_939,
                MINUTE
            ),
            Err(SignatureError::OutsideTolerance {
                skew: 61,
                tolerance: 60
            })
        );
    }

    #[test]
    fn any_change_breaks_the_signature() {
        let signature = sign(SECRET, "1700000000", BODY);
        let now = 1_700_000_000;
        assert_eq!(
            verify_signature(b"other", "1700000000", BODY, &signature, now, MINUTE),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_signature(SECRET, "1700000001", BODY, &signature, now, MINUTE),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_signature(SECRET, "1700000000", b"{}", &signature, now, MINUTE),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_signature(SECRET, "soon", BODY, &signature, now, MINUTE),
            Err(SignatureError::BadTimestamp)
        );
        assert_eq!(
            verify_signature(SECRET, "1700000000", BODY, "sha256=abc", now, MINUTE),
            Err(SignatureError::NoSignature)
        );
        let rotated = format!(
            "v1=00ff, {}",
            signature.to_uppercase().replace("V1=", "v1=")
        );
        assert_eq!(
            verify_signature(SECRET, "1700000000", BODY, &rotated, now, MINUTE),
            Ok(())
        );
    }

    #[test]
    fn the_signature_is_hmac_sha256_of_timestamp_dot_body() {
        // Python: hmac.new(b"Jefe", b"1700000000.what do ya want for nothing?", sha256).
        assert_eq!(
            sign(b"Jefe", "1700000000", b"what do ya want for nothing?"),
            "v1=1cdd0650c8be1cb0974b1788d458b1e781206cfef59b85faafc582d2e182c57e"
        );
    }
}
