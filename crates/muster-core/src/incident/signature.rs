//! Signed approvals: the exact text an approver signs, and the checks for the two kinds of key a
//! plan may list for a person.
//!
//! The text names the incident, the decision and the approver, so a signature given for one of
//! them is worth nothing for any other. Keys are written as in the plan:
//!
//! - `eth:0x<40 hex digits>`: an Ethereum address. The signature is what a wallet's
//!   `personal_sign` (EIP-191) gives for the text: `0x` and 65 bytes in hex, `r ‖ s ‖ v`, with `v`
//!   27 or 28 (0 or 1 is accepted too). It verifies when the address recovered from it is the key.
//! - `ed25519:<base64>`: a 32-byte public key. The signature is 64 bytes in standard, padded
//!   base64 over the text's bytes, checked strictly (no small-order points, canonical scalars).
//!
//! Everything here is pure: no IO, no randomness. Signing helpers exist for drills and tests.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use k256::ecdsa::{RecoveryId, Signature as EcdsaSignature, SigningKey, VerifyingKey};
use k256::elliptic_curve::scalar::IsHigh as _;
use sha3::{Digest as _, Keccak256};

use crate::incident::event::{Event, EventKind, IncidentId};
use crate::plan::{DecisionId, PersonId};

/// Why a signature does not count. Messages are written for the person who pasted it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// Nothing was given.
    #[error("the signature is empty")]
    Empty,
    /// The text is neither `0x`-prefixed hex nor standard base64.
    #[error("the signature is not {expected}: {problem}")]
    Encoding {
        expected: &'static str,
        problem: String,
    },
    /// The decoded signature has the wrong number of bytes.
    #[error("{kind} signature must be {expected} bytes, found {found}")]
    Length {
        kind: &'static str,
        expected: usize,
        found: usize,
    },
    /// The last byte of an Ethereum signature is not a recovery id.
    #[error("an Ethereum signature must end in v = 27 or 28 (or 0 or 1), found {0}")]
    RecoveryByte(u8),
    /// `r` or `s` is zero or not below the curve order.
    #[error(
        "the signature's r or s value is out of range, so it cannot have been produced by a signer"
    )]
    OutOfRange,
    /// The person has no key of the kind the signature was made with.
    #[error("this is {kind} signature, but the approver has no {key_prefix} key in the plan")]
    NoKeyOfKind {
        kind: &'static str,
        key_prefix: &'static str,
    },
    /// The signature is well formed but none of the person's keys made it over this text.
    #[error("{}", no_match(.keys, .recovered.as_deref()))]
    NoMatch {
        /// The keys that were tried.
        keys: Vec<String>,
        /// For Ethereum signatures, the address the signature recovers to over this text.
        recovered: Option<String>,
    },
    /// A private key given to a signing helper cannot be used.
    #[error("not a usable private key: {0}")]
    PrivateKey(String),
}

fn no_match(keys: &[String], recovered: Option<&str>) -> String {
    let tried = keys.join(", ");
    match recovered {
        Some(address) => format!(
            "no key of this person verifies it (tried {tried}); over this approval's text it recovers to {address}, so it was made with another key or over another text (another incident, decision or approver)"
        ),
        None => format!("no key of this person verifies it (tried {tried})"),
    }
}

/// The text an approver signs: which incident, which decision, who approves.
///
/// ```text
/// Muster approval
/// incident: INC-20251207-001
/// decision: pause-protocol
/// approver: mara
/// ```
///
/// Each line ends in `\n`, the last one included. Identifiers are written as they are, except that
/// a backslash becomes `\\` and a control character (such as a newline) becomes `\u{…}`, so no
/// choice of identifiers can make two different approvals read the same.
#[must_use]
pub fn approval_message(
    incident: &IncidentId,
    decision: &DecisionId,
    approver: &PersonId,
) -> String {
    format!(
        "Muster approval\nincident: {}\ndecision: {}\napprover: {}\n",
        escaped(&incident.to_string()),
        escaped(decision.as_str()),
        escaped(approver.as_str())
    )
}

fn escaped(value: &str) -> String {
    let mut text = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => text.push_str("\\\\"),
            c if c.is_control() => text.extend(c.escape_unicode()),
            c => text.push(c),
        }
    }
    text
}

/// Checks `signature` over `message` against a person's `keys` (as written in the plan) and
/// returns the key that verifies it.
///
/// A signature starting with `0x` is read as an Ethereum `personal_sign` signature and tried
/// against the `eth:` keys; anything else is read as base64 ed25519 and tried against the
/// `ed25519:` keys. Keys that cannot be read are skipped (the plan check reports them).
pub fn verify_approval(
    keys: &[String],
    message: &str,
    signature: &str,
) -> Result<String, SignatureError> {
    let signature = signature.trim();
    if signature.is_empty() {
        return Err(SignatureError::Empty);
    }
    if let Some(hex) = signature
        .strip_prefix("0x")
        .or_else(|| signature.strip_prefix("0X"))
    {
        verify_eth(keys, message, hex)
    } else {
        verify_ed25519(keys, message, signature)
    }
}

/// Re-checks the signature recorded with an approval on a timeline against the key recorded
/// with it. `None` for any other event and for approvals given without a signature.
#[must_use]
pub fn recheck(event: &Event) -> Option<Result<(), SignatureError>> {
    let EventKind::ApprovalGiven {
        decision,
        approver,
        signature: Some(signature),
        key,
        ..
    } = &event.kind
    else {
        return None;
    };
    let keys: Vec<String> = key.iter().cloned().collect();
    let message = approval_message(&event.incident, decision, approver);
    Some(verify_approval(&keys, &message, signature).map(|_| ()))
}

fn verify_eth(keys: &[String], message: &str, hex: &str) -> Result<String, SignatureError> {
    let bytes = decode_hex(hex, 2).map_err(|problem| SignatureError::Encoding {
        expected: "an Ethereum signature (0x followed by 130 hex digits)",
        problem,
    })?;
    if bytes.len() != 65 {
        return Err(SignatureError::Length {
            kind: "an Ethereum",
            expected: 65,
            found: bytes.len(),
        });
    }
    let parity = match bytes[64] {
        27 | 0 => false,
        28 | 1 => true,
        other => return Err(SignatureError::RecoveryByte(other)),
    };
    let signature =
        EcdsaSignature::from_slice(&bytes[..64]).map_err(|_| SignatureError::OutOfRange)?;
    // A high s is the same signature mirrored: take the low one and flip the parity with it.
    let high = bool::from(signature.s().is_high());
    let signature = signature.normalize_s();
    let recovery = RecoveryId::new(parity ^ high, false);
    let addresses: Vec<(&String, [u8; 20])> = keys
        .iter()
        .filter_map(|key| eth_key_address(key).map(|address| (key, address)))
        .collect();
    if addresses.is_empty() {
        return Err(SignatureError::NoKeyOfKind {
            kind: "an Ethereum",
            key_prefix: "eth:",
        });
    }
    let recovered = VerifyingKey::recover_from_prehash(&eip191_hash(message), &signature, recovery)
        .ok()
        .map(|key| address_of(&key));
    if let Some(recovered) = recovered
        && let Some((key, _)) = addresses.iter().find(|(_, address)| *address == recovered)
    {
        return Ok((*key).clone());
    }
    Err(SignatureError::NoMatch {
        keys: addresses.iter().map(|(key, _)| (*key).clone()).collect(),
        recovered: recovered.map(|address| format!("0x{}", to_hex(&address))),
    })
}

fn verify_ed25519(keys: &[String], message: &str, text: &str) -> Result<String, SignatureError> {
    let bytes = BASE64
        .decode(text)
        .map_err(|error| SignatureError::Encoding {
            expected: "an ed25519 signature (64 bytes in standard base64) or an Ethereum signature (0x and hex)",
            problem: error.to_string(),
        })?;
    let bytes: [u8; 64] = bytes
        .try_into()
        .map_err(|bytes: Vec<u8>| SignatureError::Length {
            kind: "an ed25519",
            expected: 64,
            found: bytes.len(),
        })?;
    let signature = ed25519_dalek::Signature::from_bytes(&bytes);
    let candidates: Vec<(&String, ed25519_dalek::VerifyingKey)> = keys
        .iter()
        .filter_map(|key| ed25519_key(key).map(|public| (key, public)))
        .collect();
    if candidates.is_empty() {
        return Err(SignatureError::NoKeyOfKind {
            kind: "an ed25519",
            key_prefix: "ed25519:",
        });
    }
    if let Some((key, _)) = candidates
        .iter()
        .find(|(_, public)| public.verify_strict(message.as_bytes(), &signature).is_ok())
    {
        return Ok((*key).clone());
    }
    Err(SignatureError::NoMatch {
        keys: candidates.iter().map(|(key, _)| (*key).clone()).collect(),
        recovered: None,
    })
}

/// Keccak-256 of the EIP-191 `personal_sign` envelope around `message`.
fn eip191_hash(message: &str) -> [u8; 32] {
    Keccak256::new()
        .chain_update(b"\x19Ethereum Signed Message:\n")
        .chain_update(message.len().to_string().as_bytes())
        .chain_update(message.as_bytes())
        .finalize()
        .into()
}

/// The last 20 bytes of Keccak-256 of the uncompressed public key without its `0x04` tag.
fn address_of(key: &VerifyingKey) -> [u8; 20] {
    let point = key.to_sec1_point(false);
    let hash: [u8; 32] = Keccak256::digest(&point.as_bytes()[1..]).into();
    let mut address = [0u8; 20];
    address.copy_from_slice(&hash[12..]);
    address
}

fn eth_key_address(key: &str) -> Option<[u8; 20]> {
    let hex = key.strip_prefix("eth:")?.strip_prefix("0x")?;
    decode_hex(hex, 0).ok()?.try_into().ok()
}

fn ed25519_key(key: &str) -> Option<ed25519_dalek::VerifyingKey> {
    let bytes: [u8; 32] = BASE64
        .decode(key.strip_prefix("ed25519:")?)
        .ok()?
        .try_into()
        .ok()?;
    ed25519_dalek::VerifyingKey::from_bytes(&bytes).ok()
}

/// Hex digits to bytes; `skipped` is how many characters came before `text` (a `0x`), so a
/// position in an error counts from the start of what was given.
fn decode_hex(text: &str, skipped: usize) -> Result<Vec<u8>, String> {
    if let Some((index, c)) = text.char_indices().find(|(_, c)| !c.is_ascii_hexdigit()) {
        return Err(format!(
            "'{c}' at position {} is not a hex digit",
            skipped + index + 1
        ));
    }
    if !text.len().is_multiple_of(2) {
        return Err(format!(
            "{} hex digits is not a whole number of bytes",
            text.len()
        ));
    }
    Ok(text
        .as_bytes()
        .chunks(2)
        .map(|pair| {
            let digits = std::str::from_utf8(pair).unwrap_or_default();
            u8::from_str_radix(digits, 16).unwrap_or_default()
        })
        .collect())
}

fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push(char::from(DIGITS[usize::from(byte >> 4)]));
        text.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    text
}

/// Signs `message` as a wallet's `personal_sign` would, giving `0x` and 65 bytes in hex with
/// `v` 27 or 28. Signing is deterministic (RFC 6979).
///
/// For drills and tests with published development keys; real approvers sign in their own
/// wallet and never hand a private key to Muster.
pub fn sign_eth_personal(private_key_hex: &str, message: &str) -> Result<String, SignatureError> {
    let hex = private_key_hex.trim();
    let hex = hex
        .strip_prefix("0x")
        .or_else(|| hex.strip_prefix("0X"))
        .unwrap_or(hex);
    let bytes = decode_hex(hex, 0).map_err(SignatureError::PrivateKey)?;
    if bytes.len() != 32 {
        return Err(SignatureError::PrivateKey(format!(
            "expected 32 bytes (64 hex digits), found {}",
            bytes.len()
        )));
    }
    let key = SigningKey::from_slice(&bytes).map_err(|_| {
        SignatureError::PrivateKey("zero or not below the secp256k1 group order".to_owned())
    })?;
    let (signature, recovery) = key.sign_prehash_recoverable(&eip191_hash(message));
    let mut bytes = signature.to_bytes().to_vec();
    bytes.push(27 + recovery.to_byte());
    Ok(format!("0x{}", to_hex(&bytes)))
}

/// Signs `message` with the ed25519 key made from `seed`, giving the signature in standard
/// base64. For drills and tests; see [`ed25519_public_key`] for the matching plan key.
#[must_use]
pub fn sign_ed25519(seed: &[u8; 32], message: &str) -> String {
    use ed25519_dalek::Signer as _;
    let signature = ed25519_dalek::SigningKey::from_bytes(seed).sign(message.as_bytes());
    BASE64.encode(signature.to_bytes())
}

/// The plan key (`ed25519:<base64>`) of the ed25519 key made from `seed`. For drills and tests.
#[must_use]
pub fn ed25519_public_key(seed: &[u8; 32]) -> String {
    let public = ed25519_dalek::SigningKey::from_bytes(seed).verifying_key();
    format!("ed25519:{}", BASE64.encode(public.as_bytes()))
}
