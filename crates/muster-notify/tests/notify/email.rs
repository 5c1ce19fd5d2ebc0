//! Email against a real SMTP server: the sink `scripts/lib/smtp.sh` starts (aiosmtpd), which
//! offers STARTTLS and AUTH on one port and TLS from the first byte on another, with a
//! certificate from a test authority, and writes each message it receives to a directory.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use muster_core::plan::Channel;
use muster_notify::{Destination, Endpoints, Recipient};
use serde_json::Value;

use crate::{NOW, closed_port, env_of, page, sender};

/// The running SMTP sink, from the variables `start_smtp_sink` exports.
struct Sink {
    /// `127.0.0.1:PORT`: plain, STARTTLS offered, AUTH after STARTTLS.
    addr: String,
    /// `127.0.0.1:PORT`: TLS from the first byte.
    tls_addr: String,
    dir: PathBuf,
    /// The authority (PEM) that signed the sink's certificate.
    ca: String,
    /// `USER:PASSWORD` the sink accepts.
    auth: String,
}

fn sink() -> Sink {
    let var = |name: &str| {
        std::env::var(name).unwrap_or_else(|_| {
            panic!(
                "{name} is not set: run through scripts/test, which starts the SMTP sink, or `source scripts/lib/smtp.sh && start_smtp_sink` first"
            )
        })
    };
    let addr = var("MUSTER_TEST_SMTP_ADDR");
    let ca_path = var("MUSTER_TEST_SMTP_CA");
    Sink {
        addr,
        tls_addr: var("MUSTER_TEST_SMTP_TLS_ADDR"),
        dir: PathBuf::from(var("MUSTER_TEST_SMTP_DIR")),
        ca: std::fs::read_to_string(&ca_path)
            .unwrap_or_else(|error| panic!("cannot read MUSTER_TEST_SMTP_CA {ca_path}: {error}")),
        auth: var("MUSTER_TEST_SMTP_AUTH"),
    }
}

/// An email destination for the SMTP URL `url`, trusting `roots`.
fn destination(url: &str, to: &[&str], roots: Vec<String>) -> Destination {
    let channel = Channel::Email {
        to: to.iter().map(|address| (*address).to_owned()).collect(),
        from: Some("Muster <muster@example.org>".to_owned()),
        smtp_url_env: Some("SMTP_URL".to_owned()),
    };
    let endpoints = Endpoints {
        smtp_root_certificates: roots,
        ..Endpoints::default()
    };
    Destination::resolve(&channel, &env_of(&[("SMTP_URL", url)]), &endpoints)
        .expect("the channel resolves")
        .expect("email sends")
}

/// The page, for `address` only.
fn page_to(address: &str) -> muster_notify::Message {
    let mut message = page();
    message.recipient = Some(Recipient {
        email: Some(address.to_owned()),
        ..message.recipient.unwrap()
    });
    message
}

/// The record of the message the sink received for `address`, waiting a few seconds at most.
async fn received(dir: &Path, address: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(record) = find(dir, address) {
            return record;
        }
        assert!(
            Instant::now() < deadline,
            "no message for {address} reached the SMTP sink in {}",
            dir.display()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The sink's record of a message to `address`, if there is one yet.
fn find(dir: &Path, address: &str) -> Option<Value> {
    std::fs::read_dir(dir)
        .expect("the sink's directory")
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            path.extension()
                .is_some_and(|extension| extension == "json")
        })
        .filter_map(|path| serde_json::from_slice::<Value>(&std::fs::read(path).ok()?).ok())
        .find(|record| {
            record["rcpt_tos"]
                .as_array()
                .is_some_and(|to| to.iter().any(|to| to == address))
        })
}

#[tokio::test]
async fn a_drill_page_arrives_marked_as_a_drill_with_its_details() {
    let sink = sink();
    let address = "alice+drill@example.org";
    let destination = destination(&format!("smtp://{}?tls=none", sink.addr), &[], vec![]);
    let sent = sender()
        .send(&destination, &page_to(address), "d1", NOW)
        .await
        .unwrap();
    assert_eq!(sent.status, 250);
    assert!(
        sent.detail.starts_with("2.0.0 Message accepted as "),
        "{sent:?}"
    );

    let record = received(&sink.dir, address).await;
    assert_eq!(record["rcpt_tos"], serde_json::json!([address]));
    assert_eq!(record["mail_from"], "muster@example.org");
    assert_eq!(record["tls"], false);
    assert_eq!(record["to"], address);
    assert_eq!(record["from"], "Muster <muster@example.org>");
    assert_eq!(
        record["subject"],
        "[DRILL] P0 INC-20261121-001: Bridge relayer halted — Paged (escalation level 1 of 3)"
    );
    assert_eq!(record["references"], "<INC-20261121-001@muster>");
    assert!(!record["message_id"].as_str().unwrap().is_empty());
    assert!(!record["date"].as_str().unwrap().is_empty());

    let text = record["text"].as_str().unwrap();
    assert!(text.starts_with("[DRILL] This is a drill"), "{text}");
    for expected in [
        "Paged (escalation level 1 of 3) — Alice Example",
        "Severity: P0 Critical",
        "- Relayer stopped signing at block 21,004,113",
        "+2 more notifications folded in",
        "Acknowledge: https://muster.example.org/ack/INC-20261121-001?person=alice&sig=0f1e",
    ] {
        assert!(text.contains(expected), "{expected:?} missing from {text}");
    }
    let html = record["html"].as_str().unwrap();
    assert!(html.contains(
        "<a href=\"https://muster.example.org/ack/INC-20261121-001?person=alice&amp;sig=0f1e\">Acknowledge</a>"
    ));

    let eml = std::fs::read_to_string(sink.dir.join(record["eml"].as_str().unwrap())).unwrap();
    assert!(eml.starts_with(&format!(
        "X-Envelope-From: muster@example.org\r\nX-Envelope-To: {address}\r\n"
    )));
    assert!(eml.contains("\r\nMessage-ID: <") || eml.contains("\r\nMessage-Id: <"));
    assert!(eml.contains("multipart/alternative"));
}

#[tokio::test]
async fn the_channels_list_wins_over_the_paged_persons_address() {
    let sink = sink();
    let list = ["ops+list1@example.org", "ops+list2@example.org"];
    let destination = destination(&format!("smtp://{}?tls=none", sink.addr), &list, vec![]);
    sender()
        .send(&destination, &page_to("alice+not@example.org"), "d1", NOW)
        .await
        .unwrap();
    let record = received(&sink.dir, list[0]).await;
    assert_eq!(record["rcpt_tos"], serde_json::json!(list));
    assert!(find(&sink.dir, "alice+not@example.org").is_none());
}

#[tokio::test]
async fn starttls_and_auth_work_with_a_private_certificate_authority() {
    let sink = sink();
    let address = "alice+starttls@example.org";
    let (user, _) = sink.auth.split_once(':').unwrap();
    // With a password and no tls= parameter, STARTTLS is required.
    let destination = destination(
        &format!("smtp://{}@{}", sink.auth, sink.addr),
        &[],
        vec![sink.ca.clone()],
    );
    sender()
        .send(&destination, &page_to(address), "d1", NOW)
        .await
        .unwrap();
    let record = received(&sink.dir, address).await;
    assert_eq!(record["tls"], true);
    assert_eq!(record["auth_user"], user);
}

#[tokio::test]
async fn smtps_speaks_tls_from_the_first_byte() {
    let sink = sink();
    let address = "alice+smtps@example.org";
    let destination = destination(
        &format!("smtps://{}@{}", sink.auth, sink.tls_addr),
        &[],
        vec![sink.ca.clone()],
    );
    sender()
        .send(&destination, &page_to(address), "d1", NOW)
        .await
        .unwrap();
    let record = received(&sink.dir, address).await;
    assert_eq!(record["tls"], true);
    assert_eq!(record["auth_user"], "muster");
}

#[tokio::test]
async fn an_untrusted_certificate_stops_the_message_for_good() {
    let sink = sink();
    let address = "alice+untrusted@example.org";
    let destination = destination(&format!("smtp://{}?tls=required", sink.addr), &[], vec![]);
    let error = sender()
        .send(&destination, &page_to(address), "d1", NOW)
        .await
        .unwrap_err();
    assert!(!error.retryable, "{error:?}");
    assert!(error.message.starts_with("SMTP: "), "{error:?}");
    assert!(find(&sink.dir, address).is_none());
}

#[tokio::test]
async fn a_wrong_password_is_refused_for_good_and_not_shown() {
    let sink = sink();
    let destination = destination(
        &format!("smtp://muster:hunter2-wrong@{}", sink.addr),
        &[],
        vec![sink.ca.clone()],
    );
    let error = sender()
        .send(
            &destination,
            &page_to("alice+badauth@example.org"),
            "d1",
            NOW,
        )
        .await
        .unwrap_err();
    assert_eq!(
        (error.retryable, error.status),
        (false, Some(535)),
        "{error:?}"
    );
    assert!(!error.message.contains("hunter2"), "{error:?}");
    assert!(!format!("{destination:?}").contains("hunter2"));
}

#[tokio::test]
async fn a_4xx_reply_is_retried_and_a_5xx_reply_is_not() {
    let sink = sink();
    let url = format!("smtp://{}?tls=none", sink.addr);
    let later = destination(&url, &["tempfail@example.org"], vec![]);
    let error = sender().send(&later, &page(), "d1", NOW).await.unwrap_err();
    assert_eq!(
        (error.retryable, error.status),
        (true, Some(451)),
        "{error:?}"
    );
    assert!(error.message.contains("try again later"), "{error:?}");

    let never = destination(&url, &["reject@example.org"], vec![]);
    let error = sender().send(&never, &page(), "d1", NOW).await.unwrap_err();
    assert_eq!(
        (error.retryable, error.status),
        (false, Some(550)),
        "{error:?}"
    );
    assert!(error.message.contains("No such user"), "{error:?}");
}

#[tokio::test]
async fn a_closed_port_is_retried() {
    let destination = destination(
        &format!("smtp://127.0.0.1:{}?tls=none", closed_port()),
        &["oncall@example.org"],
        vec![],
    );
    let error = sender()
        .send(&destination, &page(), "d1", NOW)
        .await
        .unwrap_err();
    assert!(error.retryable, "{error:?}");
    assert_eq!(error.status, None);
}

#[tokio::test]
async fn nobody_to_send_to_is_a_permanent_failure() {
    let destination = destination(
        &format!("smtp://127.0.0.1:{}?tls=none", closed_port()),
        &[],
        vec![],
    );
    let mut message = page();
    message.recipient = None;
    let error = sender()
        .send(&destination, &message, "d1", NOW)
        .await
        .unwrap_err();
    assert!(!error.retryable);
    assert!(
        error.message.starts_with("no address to send to"),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_written_message_arrives_as_written() {
    let sink = sink();
    let address = "customers+authored@example.org";
    let destination = destination(
        &format!("smtp://{}?tls=none", sink.addr),
        &[address],
        vec![],
    );
    let mut message = page();
    message.drill = false;
    message.authored = Some(muster_notify::Authored {
        subject: Some("Service disruption: <b>payments</b> & refunds — état".to_owned()),
        body: "Dear Valued Customer,\n\nWe are looking into <b>delays</b> & errors.\n\
               The Équipe is on it.\n\nKind regards,\nThe Example team"
            .to_owned(),
    });
    sender()
        .send(&destination, &message, "d1", NOW)
        .await
        .unwrap();

    let record = received(&sink.dir, address).await;
    assert_eq!(
        record["subject"],
        "Service disruption: <b>payments</b> & refunds — état"
    );
    assert_eq!(record["references"], "<INC-20261121-001@muster>");
    let text = record["text"].as_str().unwrap().replace("\r\n", "\n");
    assert_eq!(
        text,
        "Dear Valued Customer,\n\nWe are looking into <b>delays</b> & errors.\n\
         The Équipe is on it.\n\nKind regards,\nThe Example team\n\n\
         Open the incident: https://muster.example.org/incidents/INC-20261121-001\n"
    );
    let html = record["html"].as_str().unwrap();
    assert!(
        html.contains(
            "<p>We are looking into &lt;b&gt;delays&lt;/b&gt; &amp; errors.<br>The Équipe is on it.</p>"
        ),
        "{html}"
    );
    assert!(
        html.contains("<p>Kind regards,<br>The Example team</p>"),
        "{html}"
    );
    for part in [text.as_str(), html] {
        assert!(!part.contains("Paged (escalation"), "{part}");
        assert!(!part.contains("Relayer stopped"), "{part}");
        assert!(!part.contains("folded in"), "{part}");
    }
}
