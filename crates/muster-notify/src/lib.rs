//! Notification channels: Slack, Discord, Telegram, Matrix, email over SMTP, a signed generic
//! webhook and PagerDuty. Each channel formats a message apart from sending it.
//!
//! The engine builds a [`Message`] from an incident, turns each of the plan's channels into a
//! [`Destination`] with [`Destination::resolve`] (reading the channel's secrets from the
//! environment), and hands both to [`Sender::send`]. A failed send comes back as a [`SendError`]
//! that says whether to try again and how long the service asked to wait; [`backoff`] turns the
//! attempt number into the delay before the next try. Retrying, recording and throttling belong
//! to the engine: this crate sends once per call.
//!
//! Every channel module (`slack`, `discord`, `telegram`, `matrix`, `email`, `webhook`,
//! `pagerduty`) has a pure `format` that returns what is sent (a JSON body, or for email a
//! subject, text and HTML), and the web channels a pure `classify` that reads the service's
//! answer ([`HttpReply`]) into a [`Sent`] or a [`SendError`]; [`Sender`] only does the IO in
//! between.
//!
//! Invariants:
//! - Secrets (webhook URLs, tokens, SMTP passwords, HMAC secrets, routing keys) are held in
//!   [`Secret`], whose `Debug` prints `[redacted]`; error messages name the environment variable,
//!   never its value, and a [`SendError`] is scrubbed of every secret of its destination.
//! - Every format shows a drill as a drill: `[DRILL]` leads the title, subject or text.
//! - A message a responder wrote ([`Authored`]) is sent as written: its subject and body replace
//!   the headline and detail lines, escaped like any user text; the drill mark and the incident
//!   link are still added, and the mark is not repeated on a subject or body that already has it.
//! - User text is escaped for the markup of each service (Slack mrkdwn, Telegram and Matrix HTML),
//!   so an incident title cannot inject links or mentions.

pub mod discord;
pub mod email;
pub mod matrix;
pub mod pagerduty;
mod send;
pub mod slack;
pub mod telegram;
mod text;
pub mod webhook;

use std::fmt;

use muster_core::plan::Channel;
use serde::{Deserialize, Serialize};

pub use email::{SmtpServer, SmtpTls};
pub use send::{HttpReply, SendError, Sender, Sent, backoff};
pub use webhook::{SignatureError, verify_signature};

/// What to say; built by the engine from an incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// The incident's id, `INC-20261121-001`.
    pub incident: String,
    pub title: String,
    /// The severity's id, `P0`.
    pub severity: String,
    /// The severity's name, `Critical`.
    pub severity_name: Option<String>,
    /// The incident's status, `investigating`.
    pub status: String,
    /// What happened, in a few words: `Paged (escalation level 1 of 3)`, `Resolved`,
    /// `Update overdue`.
    pub headline: String,
    /// Detail lines: summary, linked alerts, the runbook's first step.
    pub lines: Vec<String>,
    /// An exercise: every format marks it `[DRILL]`.
    pub drill: bool,
    /// The incident's page.
    pub url: Option<String>,
    /// A signed one-click acknowledge link.
    pub ack_url: Option<String>,
    /// How many further notifications were folded into this one.
    pub folded: u32,
    /// The paged person, for mentions and for the address of an email.
    pub recipient: Option<Recipient>,
    /// Set for messages people wrote: formats send `subject` and `body` as written instead of
    /// the headline and detail lines (the drill mark and the incident link are still added).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authored: Option<Authored>,
}

/// A message a responder wrote (from a plan template), sent as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Authored {
    /// The email subject / chat header; when absent the incident's title line is used.
    pub subject: Option<String>,
    /// Plain text (Markdown-ish), several paragraphs, sent verbatim.
    pub body: String,
}

/// A person a message is meant for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recipient {
    /// The person's id in the plan.
    pub person: String,
    /// The name people know them by.
    pub name: String,
    pub email: Option<String>,
    /// Their handle on the chat service, for a mention: a Slack member id (`U024BE7LH`), a
    /// Discord user id (`80351110224678912`), a Telegram user id or `@username`, a Matrix user id
    /// (`@alice:example.org`).
    pub handle: Option<String>,
}

/// A secret read from the environment. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    #[must_use]
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself, for building a request.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("[redacted]")
    }
}

/// Base URLs and trust settings, overridable so tests and self-hosted gateways can point the
/// channels elsewhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// The Telegram Bot API, `https://api.telegram.org`.
    pub telegram_api: String,
    /// PagerDuty's Events API v2 endpoint, `https://events.pagerduty.com/v2/enqueue`.
    pub pagerduty_events: String,
    /// Extra certificate authorities (PEM) to trust for SMTP over TLS, besides the system's:
    /// a private mail relay, or a test server.
    pub smtp_root_certificates: Vec<String>,
}

impl Default for Endpoints {
    fn default() -> Self {
        Endpoints {
            telegram_api: "https://api.telegram.org".to_owned(),
            pagerduty_events: "https://events.pagerduty.com/v2/enqueue".to_owned(),
            smtp_root_certificates: Vec::new(),
        }
    }
}

/// The variable read for the SMTP server of an email channel that names none.
pub const DEFAULT_SMTP_URL_VARIABLE: &str = "MUSTER_SMTP_URL";

/// Where a message goes, with the secrets read: a plan's channel made ready to send.
///
/// `Debug` shows no secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// A Slack incoming webhook; `channel` overrides the webhook's default channel.
    Slack {
        webhook_url: Secret,
        channel: Option<String>,
    },
    /// A Discord channel webhook.
    Discord { webhook_url: Secret },
    /// A Telegram chat, through a bot.
    Telegram {
        api: String,
        token: Secret,
        chat_id: String,
    },
    /// A Matrix room, through an account's access token.
    Matrix {
        homeserver: String,
        room_id: String,
        token: Secret,
    },
    /// Email through an SMTP server. `to` empty: the recipient's address.
    Email {
        server: SmtpServer,
        from: String,
        to: Vec<String>,
    },
    /// A generic webhook, signed with HMAC-SHA256 (see [`webhook`]).
    Webhook { url: String, secret: Secret },
    /// A PagerDuty service, through an Events API v2 integration.
    Pagerduty {
        events_url: String,
        routing_key: Secret,
    },
}

impl Destination {
    /// Reads the channel's secrets through `env` (the engine passes `std::env::var`) and checks
    /// them. A status page or a manual channel sends nothing: `Ok(None)`.
    ///
    /// An email channel without `smtp_url_env` reads [`DEFAULT_SMTP_URL_VARIABLE`]; its `from`
    /// defaults to the SMTP user when that is an address, else `muster@` the server's host.
    ///
    /// Errors name the missing or invalid variable and never show its value.
    pub fn resolve(
        channel: &Channel,
        env: &dyn Fn(&str) -> Option<String>,
        overrides: &Endpoints,
    ) -> Result<Option<Destination>, String> {
        let destination = match channel {
            Channel::Slack {
                webhook_url_env,
                channel,
            } => Destination::Slack {
                webhook_url: Secret(http_url_from(env, webhook_url_env, "Slack webhook URL")?),
                channel: channel.clone(),
            },
            Channel::Discord { webhook_url_env } => Destination::Discord {
                webhook_url: Secret(http_url_from(env, webhook_url_env, "Discord webhook URL")?),
            },
            Channel::Telegram { token_env, chat_id } => {
                let token = read(env, token_env, "Telegram bot token")?;
                if token.contains(['/', '?', '#']) || token.chars().any(char::is_whitespace) {
                    return Err(format!(
                        "{token_env} does not hold a Telegram bot token (digits, a colon and letters)"
                    ));
                }
                Destination::Telegram {
                    api: checked_url(&overrides.telegram_api, "the Telegram API base URL")?,
                    token: Secret(token),
                    chat_id: chat_id.clone(),
                }
            }
            Channel::Matrix {
                homeserver,
                room_id,
                token_env,
            } => Destination::Matrix {
                homeserver: checked_url(homeserver, "the Matrix homeserver")?,
                room_id: room_id.clone(),
                token: Secret(read(env, token_env, "Matrix access token")?),
            },
            Channel::Email {
                to,
                from,
                smtp_url_env,
            } => {
                let variable = smtp_url_env.as_deref().unwrap_or(DEFAULT_SMTP_URL_VARIABLE);
                let url = read(env, variable, "SMTP server URL")?;
                let mut server = SmtpServer::parse(&url)
                    .map_err(|problem| format!("{variable} is not a usable SMTP URL: {problem}"))?;
                server
                    .root_certificates
                    .clone_from(&overrides.smtp_root_certificates);
                let from = match from {
                    Some(from) => from.clone(),
                    None => server.default_from(),
                };
                email::check_address(&from).map_err(|problem| {
                    format!("the email channel's sender {from:?} is not an address: {problem}")
                })?;
                for address in to {
                    email::check_address(address).map_err(|problem| {
                        format!(
                            "the email channel's recipient {address:?} is not an address: {problem}"
                        )
                    })?;
                }
                Destination::Email {
                    server,
                    from,
                    to: to.clone(),
                }
            }
            Channel::Webhook {
                url, secret_env, ..
            } => Destination::Webhook {
                url: checked_url(url, "the webhook URL")?,
                secret: Secret(read(env, secret_env, "webhook signing secret")?),
            },
            Channel::Pagerduty { routing_key_env } => Destination::Pagerduty {
                events_url: checked_url(&overrides.pagerduty_events, "the PagerDuty events URL")?,
                routing_key: Secret(read(env, routing_key_env, "PagerDuty routing key")?),
            },
            Channel::StatusPage {} | Channel::Manual { .. } => return Ok(None),
        };
        Ok(Some(destination))
    }

    /// The channel kind, as the plan spells it (`slack`, `email`, …).
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Destination::Slack { .. } => "slack",
            Destination::Discord { .. } => "discord",
            Destination::Telegram { .. } => "telegram",
            Destination::Matrix { .. } => "matrix",
            Destination::Email { .. } => "email",
            Destination::Webhook { .. } => "webhook",
            Destination::Pagerduty { .. } => "pagerduty",
        }
    }

    /// Every secret of this destination, to scrub from error messages.
    pub(crate) fn secrets(&self) -> Vec<&str> {
        let secret = match self {
            Destination::Slack { webhook_url, .. } | Destination::Discord { webhook_url } => {
                webhook_url
            }
            Destination::Telegram { token, .. } | Destination::Matrix { token, .. } => token,
            Destination::Webhook { secret, .. } => secret,
            Destination::Pagerduty { routing_key, .. } => routing_key,
            Destination::Email { server, .. } => {
                return server.password.iter().map(Secret::expose).collect();
            }
        };
        vec![secret.expose()]
    }
}

/// The value of `variable`, which must be set and not blank.
fn read(
    env: &dyn Fn(&str) -> Option<String>,
    variable: &str,
    what: &str,
) -> Result<String, String> {
    match env(variable) {
        None => Err(format!("{variable} is not set (it should hold the {what})")),
        Some(value) if value.trim().is_empty() => {
            Err(format!("{variable} is empty (it should hold the {what})"))
        }
        Some(value) => Ok(value.trim().to_owned()),
    }
}

/// The value of `variable`, which must be an `http` or `https` URL. The message never shows it.
fn http_url_from(
    env: &dyn Fn(&str) -> Option<String>,
    variable: &str,
    what: &str,
) -> Result<String, String> {
    let value = read(env, variable, what)?;
    match reqwest::Url::parse(&value) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.has_host() => Ok(value),
        _ => Err(format!(
            "{variable} does not hold an http(s) URL (it should hold the {what})"
        )),
    }
}

/// `url`, which comes from the plan (not a secret), checked to be `http` or `https`.
fn checked_url(url: &str, what: &str) -> Result<String, String> {
    match reqwest::Url::parse(url) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") && parsed.has_host() => {
            Ok(url.to_owned())
        }
        Ok(_) => Err(format!("{what} {url:?} is not an http(s) URL")),
        Err(error) => Err(format!("{what} {url:?} is not a URL: {error}")),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: BTreeMap<String, String> = pairs
            .iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn a_missing_variable_is_named_and_a_bad_value_is_not_shown() {
        let channel = Channel::Slack {
            webhook_url_env: "SLACK_HOOK".to_owned(),
            channel: None,
        };
        let error =
            Destination::resolve(&channel, &env_of(&[]), &Endpoints::default()).unwrap_err();
        assert_eq!(
            error,
            "SLACK_HOOK is not set (it should hold the Slack webhook URL)"
        );
        let error = Destination::resolve(
            &channel,
            &env_of(&[("SLACK_HOOK", "hooks.slack.com/T0/B0/sekrit")]),
            &Endpoints::default(),
        )
        .unwrap_err();
        assert!(error.starts_with("SLACK_HOOK does not hold an http(s) URL"));
        assert!(!error.contains("sekrit"));
    }

    #[test]
    fn a_stored_message_without_authored_text_still_reads_and_round_trips() {
        // As older versions stored a delivery's message: no `authored` key.
        let stored = r#"{"incident":"INC-20261121-001","title":"Bridge relayer halted","severity":"P0","severity_name":"Critical","status":"investigating","headline":"Declared","lines":["3 alerts linked"],"drill":false,"url":null,"ack_url":null,"folded":0,"recipient":null}"#;
        let message: Message = serde_json::from_str(stored).unwrap();
        assert_eq!(message.authored, None);
        assert_eq!(message.headline, "Declared");
        // Written back, it is the same text: no `authored` key appears.
        assert_eq!(serde_json::to_string(&message).unwrap(), stored);

        let authored = Message {
            authored: Some(Authored {
                subject: Some("Service disruption".to_owned()),
                body: "Dear Valued Customer,\n\nWe are on it.".to_owned(),
            }),
            ..message
        };
        let json = serde_json::to_value(&authored).unwrap();
        assert_eq!(
            json["authored"],
            serde_json::json!({"subject": "Service disruption", "body": "Dear Valued Customer,\n\nWe are on it."})
        );
        assert_eq!(serde_json::from_value::<Message>(json).unwrap(), authored);
        let no_subject: Authored = serde_json::from_str(r#"{"subject":null,"body":"x"}"#).unwrap();
        assert_eq!(no_subject.subject, None);
    }

    #[test]
    fn status_pages_and_manual_channels_send_nothing() {
        let none = env_of(&[]);
        assert_eq!(
            Destination::resolve(&Channel::StatusPage {}, &none, &Endpoints::default()),
            Ok(None)
        );
        let manual = Channel::Manual {
            description: "post on the blog".to_owned(),
        };
        assert_eq!(
            Destination::resolve(&manual, &none, &Endpoints::default()),
            Ok(None)
        );
    }

    #[test]
    fn debug_shows_no_secret() {
        let env = env_of(&[
            (
                "SLACK",
                "https://hooks.slack.com/services/T0/B0/slack-sekrit",
            ),
            (
                "DISCORD",
                "https://discord.com/api/webhooks/1/discord-sekrit",
            ),
            ("TG", "123456:telegram-sekrit"),
            ("MX", "matrix-sekrit"),
            (
                "SMTP",
                "smtp://alerts%40example.org:smtp-sekrit@mail.example.org",
            ),
            ("HMAC", "hmac-sekrit"),
            ("PD", "pd-sekrit"),
        ]);
        let channels = [
            Channel::Slack {
                webhook_url_env: "SLACK".to_owned(),
                channel: Some("#incidents".to_owned()),
            },
            Channel::Discord {
                webhook_url_env: "DISCORD".to_owned(),
            },
            Channel::Telegram {
                token_env: "TG".to_owned(),
                chat_id: "-100200".to_owned(),
            },
            Channel::Matrix {
                homeserver: "https://matrix.example.org".to_owned(),
                room_id: "!room:example.org".to_owned(),
                token_env: "MX".to_owned(),
            },
            Channel::Email {
                to: vec!["oncall@example.org".to_owned()],
                from: None,
                smtp_url_env: Some("SMTP".to_owned()),
            },
            Channel::Webhook {
                url: "https://hooks.example.org/muster".to_owned(),
                secret_env: "HMAC".to_owned(),
                throttle: None,
            },
            Channel::Pagerduty {
                routing_key_env: "PD".to_owned(),
            },
        ];
        for channel in &channels {
            let destination = Destination::resolve(channel, &env, &Endpoints::default())
                .unwrap()
                .unwrap();
            let shown = format!("{destination:?} {destination:#?}");
            assert!(!shown.contains("sekrit"), "{shown}");
            assert!(shown.contains("[redacted]"), "{shown}");
            assert_eq!(destination.kind(), channel.kind());
            assert!(
                destination
                    .secrets()
                    .iter()
                    .all(|secret| secret.contains("sekrit"))
            );
        }
    }

    #[test]
    fn an_email_channel_falls_back_to_the_default_server_and_the_smtp_user() {
        let channel = Channel::Email {
            to: vec![],
            from: None,
            smtp_url_env: None,
        };
        let error =
            Destination::resolve(&channel, &env_of(&[]), &Endpoints::default()).unwrap_err();
        assert!(error.starts_with("MUSTER_SMTP_URL is not set"), "{error}");
        let Some(Destination::Email { server, from, to }) = Destination::resolve(
            &channel,
            &env_of(&[(
                "MUSTER_SMTP_URL",
                "smtps://pager%40example.org:pw@smtp.example.org",
            )]),
            &Endpoints::default(),
        )
        .unwrap() else {
            panic!("an email destination")
        };
        assert_eq!(from, "pager@example.org");
        assert!(to.is_empty());
        assert_eq!(server.port, 465);
        assert_eq!(server.tls, SmtpTls::Wrapper);
    }

    #[test]
    fn bad_addresses_and_urls_in_the_plan_are_refused() {
        let env = env_of(&[("SMTP", "smtp://mail.example.org"), ("K", "k")]);
        let channel = Channel::Email {
            to: vec!["not an address".to_owned()],
            from: None,
            smtp_url_env: Some("SMTP".to_owned()),
        };
        let error = Destination::resolve(&channel, &env, &Endpoints::default()).unwrap_err();
        assert!(error.contains("\"not an address\""), "{error}");
        let channel = Channel::Webhook {
            url: "ftp://example.org/hook".to_owned(),
            secret_env: "K".to_owned(),
            throttle: None,
        };
        let error = Destination::resolve(&channel, &env, &Endpoints::default()).unwrap_err();
        assert_eq!(
            error,
            "the webhook URL \"ftp://example.org/hook\" is not an http(s) URL"
        );
    }
}
