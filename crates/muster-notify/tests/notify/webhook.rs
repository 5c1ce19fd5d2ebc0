//! The signed generic webhook, against a receiver that checks the signature the way the crate
//! tells receivers to, with `verify_signature`.

use std::time::Duration;

use muster_core::plan::Channel;
use muster_notify::{Destination, Endpoints, SignatureError, verify_signature};
use serde_json::json;

use crate::fake::{Fake, Reply};
use crate::{NOW, page, resolve, sender};

const SECRET: &str = "whsec_5f0c1e3a9b";
const TOLERANCE: Duration = Duration::from_mins(5);

/// A receiver that answers 401 to any request whose signature does not verify.
async fn receiver() -> Fake {
    Fake::start(|request| {
        let verdict = verify_signature(
            SECRET.as_bytes(),
            request.header("x-muster-timestamp").unwrap_or_default(),
            &request.body,
            request.header("x-muster-signature").unwrap_or_default(),
            NOW,
            TOLERANCE,
        );
        match verdict {
            Ok(()) => Reply::json(200, &json!({"received": true})),
            Err(error) => Reply::text(401, &format!("signature refused: {error}")),
        }
    })
    .await
}

fn destination(fake: &Fake, secret: &str) -> Destination {
    resolve(
        &Channel::Webhook {
            url: format!("{}/hooks/muster?team=ops", fake.base),
            secret_env: "HOOK_SECRET".to_owned(),
            throttle: None,
        },
        &[("HOOK_SECRET", secret)],
        &Endpoints::default(),
    )
}

#[tokio::test]
async fn a_signed_page_verifies_at_the_receiver() {
    let fake = receiver().await;
    let sent = sender()
        .send(&destination(&fake, SECRET), &page(), "delivery-9", NOW)
        .await
        .unwrap();
    assert_eq!(sent.status, 200, "{sent:?}");
    assert_eq!(sent.detail, r#"{"received":true}"#);

    let request = fake.last();
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/hooks/muster?team=ops");
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(request.header("x-muster-timestamp"), Some("1795251600"));
    assert_eq!(request.header("x-muster-delivery"), Some("delivery-9"));
    let signature = request.header("x-muster-signature").unwrap();
    assert!(
        signature.starts_with("v1=") && signature.len() == 67,
        "{signature}"
    );

    let body = request.json();
    assert_eq!(body["incident"], "INC-20261121-001");
    assert_eq!(body["drill"], true);
    assert_eq!(body["folded"], 2);
    assert_eq!(body["delivery_id"], "delivery-9");
    assert_eq!(body["sent_at"], "2026-11-21T09:00:00Z");
    assert_eq!(body["ack_url"], page().ack_url.unwrap().as_str());
    assert_eq!(body["lines"].as_array().unwrap().len(), 3);
    assert_eq!(
        body["recipient"],
        json!({"person": "alice", "name": "Alice Example"})
    );

    // A receiver must see any change to the body, and refuse the request later on.
    let mut tampered = request.body.to_vec();
    tampered[10] ^= 1;
    assert_eq!(
        verify_signature(
            SECRET.as_bytes(),
            "1795251600",
            &tampered,
            signature,
            NOW,
            TOLERANCE
        ),
        Err(SignatureError::Mismatch)
    );
    assert!(matches!(
        verify_signature(
            SECRET.as_bytes(),
            "1795251600",
            &request.body,
            signature,
            NOW + 301,
            TOLERANCE
        ),
        Err(SignatureError::OutsideTolerance { .. })
    ));
}

#[tokio::test]
async fn a_wrong_secret_is_refused_permanently_and_outages_are_retried() {
    let fake = receiver().await;
    let sender = sender();
    let error = sender
        .send(&destination(&fake, "whsec_stale"), &page(), "d", NOW)
        .await
        .unwrap_err();
    assert_eq!(
        (error.retryable, error.status, error.message.as_str()),
        (
            false,
            Some(401),
            "The webhook answered 401: signature refused: the signature does not match the body"
        )
    );

    fake.then(
        Reply::text(503, "maintenance").header("Retry-After", "Sat, 21 Nov 2026 09:02:00 GMT"),
    );
    fake.then(Reply::empty(500));
    let good = destination(&fake, SECRET);
    let error = sender.send(&good, &page(), "d", NOW).await.unwrap_err();
    assert_eq!(
        (error.retryable, error.status, error.retry_after),
        (true, Some(503), Some(Duration::from_mins(2)))
    );
    let error = sender.send(&good, &page(), "d", NOW).await.unwrap_err();
    assert_eq!(
        (error.retryable, error.message.as_str()),
        (true, "The webhook answered 500")
    );
}
