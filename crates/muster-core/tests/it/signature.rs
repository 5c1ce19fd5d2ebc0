//! Signed approvals: the text an approver signs, Ethereum (EIP-191) and ed25519 signatures over
//! it, and the rules that make a signed decision count only with valid signatures.

use std::path::Path;

use k256::ecdsa::SigningKey;
use muster_core::incident::signature::{
    SignatureError, approval_message, ed25519_public_key, recheck, sign_ed25519, sign_eth_personal,
    verify_approval,
};
use muster_core::incident::{Command, EventKind, IncidentId, Status};
use muster_core::plan::Plan;
use sha3::{Digest, Keccak256};

use crate::check::{load_files, read_plan};
use crate::incident::Timeline;

/// The published private keys of the Anvil/Hardhat development accounts 0, 1 and 2.
const DEV_KEYS: [&str; 3] = [
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
];

/// Their addresses, as every Ethereum tool prints them (EIP-55 mixed case).
const DEV_ADDRESSES: [&str; 3] = [
    "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
    "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
    "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
];

/// The seed behind the ed25519 key the incident tests' plan gives janet.
const SEED: [u8; 32] = [7; 32];

fn dev_key(index: usize) -> String {
    format!("eth:{}", DEV_ADDRESSES[index])
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut text, byte| {
        write!(text, "{byte:02x}").unwrap();
        text
    })
}

fn unhex(text: &str) -> Vec<u8> {
    let text = text.strip_prefix("0x").unwrap_or(text);
    (0..text.len() / 2)
        .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

/// An address derived from a private key with the curve and hash crates directly, written with
/// the EIP-55 checksum: the check on the addresses the example plan lists.
fn address_of_private_key(private_key: &str) -> String {
    let key = SigningKey::from_slice(&unhex(private_key)).unwrap();
    let point = key.verifying_key().to_sec1_point(false);
    let hash = Keccak256::digest(&point.as_bytes()[1..]);
    let lower = hex(&hash[12..]);
    let checksum = Keccak256::digest(lower.as_bytes());
    let mixed: String = lower
        .chars()
        .enumerate()
        .map(|(index, c)| {
            let nibble = (checksum[index / 2] >> (if index % 2 == 0 { 4 } else { 0 })) & 0x0f;
            if nibble >= 8 {
                c.to_ascii_uppercase()
            } else {
                c
            }
        })
        .collect();
    format!("0x{mixed}")
}

fn incident(text: &str) -> IncidentId {
    text.parse().unwrap()
}

fn mara_pause_message() -> String {
    approval_message(
        &incident("INC-20251207-001"),
        &"pause-protocol".into(),
        &"mara".into(),
    )
}

#[test]
fn the_development_accounts_have_their_published_addresses() {
    for (key, address) in DEV_KEYS.iter().zip(DEV_ADDRESSES) {
        assert_eq!(address_of_private_key(key), address);
    }
}

fn smart_contract_protocol() -> Plan {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/smart-contract-protocol.yaml");
    let loaded = load_files(&read_plan(&path));
    assert!(loaded.diagnostics.is_empty(), "{:#?}", loaded.diagnostics);
    loaded.plan.unwrap()
}

#[test]
fn the_example_guardian_signers_hold_development_accounts_0_1_2() {
    let plan = smart_contract_protocol();
    for (index, person) in ["mara", "daniel", "yuki"].into_iter().enumerate() {
        assert_eq!(
            plan.person(person).unwrap().keys,
            vec![format!("eth:{}", address_of_private_key(DEV_KEYS[index]))],
            "{person}"
        );
    }
}

#[test]
fn the_approval_text_names_incident_decision_and_approver() {
    assert_eq!(
        mara_pause_message(),
        "Muster approval\nincident: INC-20251207-001\ndecision: pause-protocol\napprover: mara\n"
    );
    // Identifiers are not checked for line breaks by the plan, so they are escaped: no
    // identifier can smuggle in a line that makes the text read as another approval.
    assert_eq!(
        approval_message(
            &incident("INC-20251207-001"),
            &"pause\napprover: yuki".into(),
            &"back\\slash".into(),
        ),
        "Muster approval\nincident: INC-20251207-001\ndecision: pause\\u{a}approver: yuki\napprover: back\\\\slash\n"
    );
}

#[test]
fn eth_signatures_match_known_answers_from_other_wallets() {
    // viem's `signMessage` with development account 0, as printed in its documentation and
    // tests; the second message checks that the EIP-191 length counts bytes, not characters.
    assert_eq!(
        sign_eth_personal(DEV_KEYS[0], "hello world").unwrap(),
        "0xa461f509887bd19e312c0c58467ce8ff8e300d3c1a90b608a760c5b80318eaf15fe57c96f9175d6cd4daad4663763baa7e78836e067d0163e9a2ccf2ff753f5b1b"
    );
    assert_eq!(
        sign_eth_personal(DEV_KEYS[0], "🥵").unwrap(),
        "0x05c99bbbe9fac3ad61721a815d19d6771ad39f3e8dffa7ae7561358f20431d8e7f9e1d487c77355790c79c6eb0b0d63690f690615ef99ee3e4f25eef0317d0701b"
    );
    for message in ["hello world", "🥵"] {
        let signature = sign_eth_personal(DEV_KEYS[0], message).unwrap();
        assert_eq!(
            verify_approval(&[dev_key(0)], message, &signature),
            Ok(dev_key(0))
        );
    }
}

/// Account 0's signature of mara's pause approval on INC-20251207-001: fixed, since RFC 6979
/// makes ECDSA deterministic. Any change to the text or its envelope changes it.
const MARA_PAUSE_SIGNATURE: &str = "0x1e23db036846e88cd10905d5c258b2c01cb40230994082703c35d3a1010773a758dc2a01f05be4961d9d9e0a76771ad02d903875b0b10b4017f9be26396251ee1c";

#[test]
fn the_approval_text_signed_by_account_0_is_a_fixed_signature_that_recovers_to_it() {
    let signature = sign_eth_personal(DEV_KEYS[0], &mara_pause_message()).unwrap();
    assert_eq!(signature, MARA_PAUSE_SIGNATURE);
    let keys = [
        "ed25519:6kpsY+KcUgq+9VB7Ey7F+ZVHdq6+vnuSQh7qaRRG0iw=".to_owned(),
        dev_key(1),
        dev_key(0).to_lowercase(),
    ];
    assert_eq!(
        verify_approval(&keys, &mara_pause_message(), MARA_PAUSE_SIGNATURE),
        Ok(keys[2].clone()),
        "addresses compare without regard to case; the key that verified is returned as written"
    );
    assert_eq!(
        verify_approval(
            &[dev_key(1)],
            &mara_pause_message(),
            &format!(" {MARA_PAUSE_SIGNATURE}\n")
        ),
        Err(SignatureError::NoMatch {
            keys: vec![dev_key(1)],
            recovered: Some(DEV_ADDRESSES[0].to_lowercase()),
        }),
        "the recovered signer is named when it is not the approver's key"
    );
}

#[test]
fn an_eth_signature_for_another_incident_decision_or_approver_is_refused() {
    let signature = sign_eth_personal(DEV_KEYS[0], &mara_pause_message()).unwrap();
    let others = [
        approval_message(
            &incident("INC-20251207-002"),
            &"pause-protocol".into(),
            &"mara".into(),
        ),
        approval_message(
            &incident("INC-20251207-001"),
            &"unpause-protocol".into(),
            &"mara".into(),
        ),
        approval_message(
            &incident("INC-20251207-001"),
            &"pause-protocol".into(),
            &"daniel".into(),
        ),
    ];
    for other in others {
        let Err(SignatureError::NoMatch { recovered, .. }) =
            verify_approval(&[dev_key(0)], &other, &signature)
        else {
            panic!("a signature over another approval verified for {other:?}");
        };
        assert_ne!(recovered, Some(DEV_ADDRESSES[0].to_lowercase()));
    }
}

#[test]
fn a_tampered_eth_signature_is_refused() {
    let message = mara_pause_message();
    let bytes = unhex(MARA_PAUSE_SIGNATURE);
    for index in 0..64 {
        for bit in [0x01, 0x80] {
            let mut tampered = bytes.clone();
            tampered[index] ^= bit;
            let tampered = format!("0x{}", hex(&tampered));
            assert!(
                verify_approval(&[dev_key(0)], &message, &tampered).is_err(),
                "byte {index} bit {bit:#x}"
            );
        }
    }
    let mut flipped = bytes;
    flipped[64] = 27 + 28 - flipped[64];
    assert!(
        verify_approval(&[dev_key(0)], &message, &format!("0x{}", hex(&flipped))).is_err(),
        "the other recovery id recovers another key"
    );
}

/// The secp256k1 group order, big-endian.
const ORDER: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
    0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
];

/// `ORDER - value`, big-endian.
fn negate(value: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; 32];
    let mut borrow = 0i16;
    for index in (0..32).rev() {
        let mut digit = i16::from(ORDER[index]) - i16::from(value[index]) - borrow;
        borrow = i16::from(digit < 0);
        if digit < 0 {
            digit += 256;
        }
        out[index] = u8::try_from(digit).unwrap();
    }
    out
}

#[test]
fn eth_recovery_bytes_27_28_and_0_1_and_high_s_are_all_accepted() {
    let message = mara_pause_message();
    let bytes = unhex(MARA_PAUSE_SIGNATURE);
    let v = bytes[64];
    assert!(v == 27 || v == 28);
    let mut zero_one = bytes.clone();
    zero_one[64] = v - 27;
    assert_eq!(
        verify_approval(&[dev_key(0)], &message, &format!("0x{}", hex(&zero_one))),
        Ok(dev_key(0))
    );
    let upper = format!("0X{}", hex(&bytes).to_uppercase());
    assert_eq!(
        verify_approval(&[dev_key(0)], &message, &upper),
        Ok(dev_key(0))
    );
    // The mirrored signature (n - s with the other parity) is the same approval.
    let mut high = bytes[..32].to_vec();
    high.extend(negate(&bytes[32..64]));
    high.push(27 + 28 - v);
    assert_eq!(
        verify_approval(&[dev_key(0)], &message, &format!("0x{}", hex(&high))),
        Ok(dev_key(0))
    );
    let mut bad_v = bytes;
    bad_v[64] = 37;
    assert_eq!(
        verify_approval(&[dev_key(0)], &message, &format!("0x{}", hex(&bad_v))),
        Err(SignatureError::RecoveryByte(37))
    );
}

#[test]
fn malformed_eth_signatures_say_what_is_wrong() {
    let message = mara_pause_message();
    let keys = [dev_key(0)];
    let error = |signature: &str| {
        verify_approval(&keys, &message, signature)
            .unwrap_err()
            .to_string()
    };
    assert_eq!(error("  "), "the signature is empty");
    assert_eq!(
        error(&MARA_PAUSE_SIGNATURE[..MARA_PAUSE_SIGNATURE.len() - 2]),
        "an Ethereum signature must be 65 bytes, found 64"
    );
    assert_eq!(
        error(&format!("{MARA_PAUSE_SIGNATURE}00")),
        "an Ethereum signature must be 65 bytes, found 66"
    );
    assert_eq!(
        error(&MARA_PAUSE_SIGNATURE[..MARA_PAUSE_SIGNATURE.len() - 1]),
        "the signature is not an Ethereum signature (0x followed by 130 hex digits): 129 hex digits is not a whole number of bytes"
    );
    assert_eq!(
        error(&MARA_PAUSE_SIGNATURE.replacen('e', "g", 1)),
        "the signature is not an Ethereum signature (0x followed by 130 hex digits): 'g' at position 4 is not a hex digit"
    );
    let zero_r = format!("0x{}{}", "00".repeat(32), &MARA_PAUSE_SIGNATURE[66..]);
    assert_eq!(
        error(&zero_r),
        "the signature's r or s value is out of range, so it cannot have been produced by a signer"
    );
    let order_s = format!("0x{}{}1b", &MARA_PAUSE_SIGNATURE[2..66], hex(&ORDER));
    assert_eq!(
        verify_approval(&keys, &message, &order_s),
        Err(SignatureError::OutOfRange)
    );
    assert_eq!(
        verify_approval(
            &["ed25519:6kpsY+KcUgq+9VB7Ey7F+ZVHdq6+vnuSQh7qaRRG0iw=".to_owned()],
            &message,
            MARA_PAUSE_SIGNATURE
        )
        .unwrap_err()
        .to_string(),
        "this is an Ethereum signature, but the approver has no eth: key in the plan"
    );
}

/// RFC 8032 section 7.1, test 1: the empty message.
const RFC8032_SECRET: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
const RFC8032_PUBLIC: &str = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
const RFC8032_SIGNATURE: &str = "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";

fn base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[test]
fn ed25519_matches_the_rfc_8032_test_vector() {
    let seed: [u8; 32] = unhex(RFC8032_SECRET).try_into().unwrap();
    let key = format!("ed25519:{}", base64(&unhex(RFC8032_PUBLIC)));
    assert_eq!(ed25519_public_key(&seed), key);
    let signature = base64(&unhex(RFC8032_SIGNATURE));
    assert_eq!(sign_ed25519(&seed, ""), signature);
    assert_eq!(
        verify_approval(std::slice::from_ref(&key), "", &signature),
        Ok(key)
    );
}

#[test]
fn an_ed25519_signature_verifies_against_its_key_and_nothing_else() {
    let message = mara_pause_message();
    let key = ed25519_public_key(&SEED);
    assert_eq!(key, "ed25519:6kpsY+KcUgq+9VB7Ey7F+ZVHdq6+vnuSQh7qaRRG0iw=");
    let other = ed25519_public_key(&[8; 32]);
    let signature = sign_ed25519(&SEED, &message);
    assert_eq!(
        verify_approval(
            &[dev_key(0), other.clone(), key.clone()],
            &message,
            &signature
        ),
        Ok(key.clone())
    );
    assert_eq!(
        verify_approval(std::slice::from_ref(&other), &message, &signature),
        Err(SignatureError::NoMatch {
            keys: vec![other],
            recovered: None
        })
    );
    let replayed = approval_message(
        &incident("INC-20251207-002"),
        &"pause-protocol".into(),
        &"mara".into(),
    );
    assert!(verify_approval(std::slice::from_ref(&key), &replayed, &signature).is_err());
}

#[test]
fn a_tampered_ed25519_signature_is_refused() {
    use base64::Engine as _;
    let message = mara_pause_message();
    let key = ed25519_public_key(&SEED);
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(sign_ed25519(&SEED, &message))
        .unwrap();
    for index in 0..64 {
        let mut tampered = bytes.clone();
        tampered[index] ^= 0x01;
        assert!(
            verify_approval(std::slice::from_ref(&key), &message, &base64(&tampered)).is_err(),
            "byte {index}"
        );
    }
}

#[test]
fn malformed_ed25519_signatures_say_what_is_wrong() {
    let message = mara_pause_message();
    let keys = [ed25519_public_key(&SEED)];
    let signature = sign_ed25519(&SEED, &message);
    let error = |signature: &str| {
        verify_approval(&keys, &message, signature)
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        error(&base64(&[1; 63])),
        "an ed25519 signature must be 64 bytes, found 63"
    );
    assert_eq!(
        error(signature.trim_end_matches('=')),
        "the signature is not an ed25519 signature (64 bytes in standard base64) or an Ethereum signature (0x and hex): Invalid padding"
    );
    assert!(
        error(
            &signature
                .replace('+', "-")
                .replace('/', "_")
                .replacen('A', "-", 1)
        )
        .starts_with("the signature is not an ed25519 signature"),
        "URL-safe base64 is not accepted"
    );
    assert_eq!(
        verify_approval(&[dev_key(0)], &message, &signature)
            .unwrap_err()
            .to_string(),
        "this is an ed25519 signature, but the approver has no ed25519: key in the plan"
    );
}

#[test]
fn signing_helpers_refuse_unusable_private_keys() {
    assert_eq!(
        sign_eth_personal("0x1234", "x").unwrap_err().to_string(),
        "not a usable private key: expected 32 bytes (64 hex digits), found 2"
    );
    assert_eq!(
        sign_eth_personal(&"00".repeat(32), "x")
            .unwrap_err()
            .to_string(),
        "not a usable private key: zero or not below the secp256k1 group order"
    );
    assert!(
        sign_eth_personal(&DEV_KEYS[0][2..], "x").is_ok(),
        "0x is optional"
    );
}

fn approve(decision: &str, approver: &str, signature: Option<String>) -> Command {
    Command::Approve {
        decision: decision.into(),
        approver: approver.into(),
        comment: None,
        signature,
    }
}

fn complete(step: &str) -> Command {
    Command::CompleteStep {
        step: step.into(),
        note: None,
    }
}

const T0: i64 = 1_765_000_000_000;

/// The signature `account` gives for `approver`'s approval of `decision` on `incident`.
fn signed(account: usize, incident_id: &str, decision: &str, approver: &str) -> String {
    let message = approval_message(&incident(incident_id), &decision.into(), &approver.into());
    sign_eth_personal(DEV_KEYS[account], &message).unwrap()
}

#[test]
fn a_signed_decision_counts_only_valid_signatures_and_then_unlocks_its_step() {
    let mut timeline = Timeline::with_plan(smart_contract_protocol());
    let id = timeline.id.to_string();
    timeline
        .run(
            &Command::Declare {
                title: "Treasury outflow".into(),
                scenario: Some("treasury-drain".into()),
                severity: None,
                urgent: None,
                important: None,
                category: None,
                summary: None,
                started_at: None,
                detected_at: None,
                drill: true,
                tags: vec![],
            },
            T0,
        )
        .unwrap();
    assert_eq!(
        timeline.state().runbook.as_ref().unwrap().as_str(),
        "contract-exploit"
    );
    timeline
        .run(
            &Command::RequestDecision {
                decision: "pause-protocol".into(),
                reason: Some("funds leaving the treasury".into()),
            },
            T0 + 1000,
        )
        .unwrap();
    let refused = timeline.run(&complete("pause"), T0 + 2000).unwrap_err();
    assert_eq!(
        refused,
        "needs-approval: step 'Pause the affected contracts' needs decision 'Pause the protocol' approved first: 0 of 2 approvals"
    );

    let before = (timeline.events.len(), timeline.state().clone());
    let unsigned = timeline
        .run(&approve("pause-protocol", "mara", None), T0 + 3000)
        .unwrap_err();
    assert!(
        unsigned.starts_with("signature-required: 'Pause the protocol' needs a signed approval"),
        "{unsigned}"
    );
    assert!(
        unsigned.contains("muster incident approval-message")
            && unsigned.contains(&format!("{:?}", mara_pause_message())),
        "the refusal says what to sign: {unsigned}"
    );
    let refusals = [
        // Daniel's key signing mara's approval.
        approve(
            "pause-protocol",
            "mara",
            Some(signed(1, &id, "pause-protocol", "mara")),
        ),
        // Mara's key, but her approval of this decision on another incident.
        approve(
            "pause-protocol",
            "mara",
            Some(signed(0, "INC-20251207-002", "pause-protocol", "mara")),
        ),
        // Mara's key, but her approval of another decision.
        approve(
            "pause-protocol",
            "mara",
            Some(signed(0, &id, "unpause-protocol", "mara")),
        ),
        // Mara's valid signature presented as daniel's approval.
        approve(
            "pause-protocol",
            "daniel",
            Some(signed(0, &id, "pause-protocol", "mara")),
        ),
        approve("pause-protocol", "mara", Some("0x1234".into())),
    ];
    for command in &refusals {
        let refused = timeline.run(command, T0 + 4000).unwrap_err();
        let Command::Approve { approver, .. } = command else {
            unreachable!()
        };
        assert!(
            refused.starts_with(&format!(
                "bad-signature: {approver}'s signature on 'Pause the protocol' does not count: "
            )),
            "{refused}"
        );
        assert_eq!((timeline.events.len(), timeline.state().clone()), before);
    }
    let refused = timeline
        .run(
            &approve(
                "pause-protocol",
                "lena",
                Some(signed(0, &id, "pause-protocol", "lena")),
            ),
            T0 + 4500,
        )
        .unwrap_err();
    assert!(refused.starts_with("not-an-approver: lena"), "{refused}");

    let mara = Some(signed(0, &id, "pause-protocol", "mara"));
    timeline
        .run(&approve("pause-protocol", "mara", mara.clone()), T0 + 5000)
        .unwrap();
    let Some(EventKind::ApprovalGiven { signature, key, .. }) =
        timeline.events.last().map(|event| &event.kind)
    else {
        panic!("expected an approval");
    };
    assert_eq!(
        (signature, key.as_deref()),
        (&mara, Some(dev_key(0).as_str()))
    );
    let refused = timeline
        .run(&approve("pause-protocol", "mara", mara), T0 + 5500)
        .unwrap_err();
    assert!(refused.starts_with("already-approved"), "{refused}");
    let refused = timeline.run(&complete("pause"), T0 + 6000).unwrap_err();
    assert!(refused.ends_with("1 of 2 approvals"), "{refused}");

    timeline
        .run(
            &approve(
                "pause-protocol",
                "yuki",
                Some(signed(2, &id, "pause-protocol", "yuki")),
            ),
            T0 + 7000,
        )
        .unwrap();
    timeline.run(&complete("pause"), T0 + 8000).unwrap();
    assert!(timeline.state().steps_done.contains_key("pause"));
    assert_eq!(timeline.state().status, Status::Triage);

    // The timeline alone is enough to check every signature again.
    let rechecked: Vec<_> = timeline.events.iter().filter_map(recheck).collect();
    assert_eq!(rechecked, vec![Ok(()), Ok(())]);
    let mut forged = timeline.events.clone();
    for event in &mut forged {
        if let EventKind::ApprovalGiven { approver, .. } = &mut event.kind {
            *approver = "daniel".into();
        }
    }
    assert!(
        forged
            .iter()
            .filter_map(recheck)
            .all(|result| result.is_err()),
        "a signature does not survive a change of approver"
    );
    muster_core::incident::chain::verify(&timeline.events).unwrap();
}

/// The incident tests' plan: `pause-contract` is unsigned, janet holds development account 2 and
/// an ed25519 key.
#[test]
fn an_unsigned_decision_takes_an_optional_signature_that_must_still_verify() {
    let plan = load_files(&[("test.yaml".to_owned(), crate::incident::PLAN.to_owned())])
        .plan
        .unwrap();
    let mut timeline = Timeline::with_plan(plan);
    let id = timeline.id.to_string();
    timeline
        .run(
            &Command::Declare {
                title: "Drain".into(),
                scenario: Some("stolen-funds".into()),
                severity: None,
                urgent: None,
                important: None,
                category: None,
                summary: None,
                started_at: None,
                detected_at: None,
                drill: false,
                tags: vec![],
            },
            T0,
        )
        .unwrap();
    let refused = timeline
        .run(
            &approve("pause-contract", "janet", Some("not a signature".into())),
            T0 + 1,
        )
        .unwrap_err();
    assert!(
        refused.starts_with("bad-signature: janet's signature on 'Pause contract' does not count: the signature is not an ed25519 signature"),
        "{refused}"
    );
    let refused = timeline
        .run(
            &approve(
                "pause-contract",
                "ceo-sofia",
                Some(signed(0, &id, "pause-contract", "ceo-sofia")),
            ),
            T0 + 2,
        )
        .unwrap_err();
    assert_eq!(
        refused,
        "bad-signature: ceo-sofia's signature on 'Pause contract' does not count: this is an Ethereum signature, but the approver has no eth: key in the plan"
    );
    // A blank signature is no signature.
    timeline
        .run(
            &approve("pause-contract", "ceo-sofia", Some("  ".into())),
            T0 + 3,
        )
        .unwrap();
    let Some(EventKind::ApprovalGiven { signature, key, .. }) =
        timeline.events.last().map(|event| &event.kind)
    else {
        panic!("expected an approval");
    };
    assert_eq!((signature, key), (&None, &None));
    let message = approval_message(&timeline.id, &"pause-contract".into(), &"janet".into());
    timeline
        .run(
            &approve(
                "pause-contract",
                "janet",
                Some(sign_ed25519(&SEED, &message)),
            ),
            T0 + 4,
        )
        .unwrap();
    let Some(EventKind::ApprovalGiven { key, .. }) =
        timeline.events.last().map(|event| &event.kind)
    else {
        panic!("expected an approval");
    };
    assert_eq!(key.as_deref(), Some(ed25519_public_key(&SEED).as_str()));

    // The signed `upgrade` decision takes janet's Ethereum key as well.
    timeline
        .run(
            &approve("upgrade", "janet", Some(signed(2, &id, "upgrade", "janet"))),
            T0 + 5,
        )
        .unwrap();
    let json = serde_json::to_value(&timeline.events.last().unwrap().kind).unwrap();
    assert_eq!(json["key"], dev_key(2));
    assert_eq!(
        serde_json::to_value(&timeline.events[1].kind).unwrap(),
        serde_json::json!({"type": "approval_given", "decision": "pause-contract", "approver": "ceo-sofia"}),
        "an unsigned approval is stored exactly as before signatures existed"
    );
}
