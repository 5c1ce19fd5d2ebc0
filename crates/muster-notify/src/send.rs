//! Sending: one HTTP client for every web service, SMTP through lettre, and what a failure means
//! for the next try.

use std::fmt;
use std::time::Duration;

use reqwest::Method;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderName, HeaderValue, RETRY_AFTER};

use crate::{Destination, Message, discord, email, matrix, pagerduty, slack, telegram, webhook};

/// How long one request may take, connecting included.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest delay [`backoff`] gives without a service asking for more.
const MAX_BACKOFF: Duration = Duration::from_mins(5);
/// How much of a service's answer is kept in a [`Sent`] or a [`SendError`].
const MAX_DETAIL: usize = 300;

/// A message the service accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// The HTTP status, or the SMTP reply code (250).
    pub status: u16,
    /// What the service said: Slack's `ok`, a message or event id, the SMTP server's reply.
    pub detail: String,
}

/// A message that was not delivered, and whether trying again may help.
///
/// `message` never contains a secret: request URLs are left out of transport errors, and every
/// secret of the destination is replaced by `[redacted]`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SendError {
    /// A later attempt may succeed: rate limits, server errors, timeouts, refused connections,
    /// SMTP 4xx replies.
    pub retryable: bool,
    /// How long the service asked to wait before the next attempt.
    pub retry_after: Option<Duration>,
    /// The HTTP status or SMTP reply code, when the service answered.
    pub status: Option<u16>,
    pub message: String,
}

impl SendError {
    /// A failure that trying again will not fix.
    pub(crate) fn permanent(status: Option<u16>, message: impl Into<String>) -> Self {
        SendError {
            retryable: false,
            retry_after: None,
            status,
            message: message.into(),
        }
    }

    /// A failure a later attempt may get past.
    pub(crate) fn retryable(
        status: Option<u16>,
        retry_after: Option<Duration>,
        message: impl Into<String>,
    ) -> Self {
        SendError {
            retryable: true,
            retry_after,
            status,
            message: message.into(),
        }
    }

    /// The same error with every secret in its message replaced by `[redacted]`.
    fn scrubbed(mut self, secrets: &[&str]) -> Self {
        for secret in secrets {
            if !secret.is_empty() {
                self.message = self.message.replace(secret, "[redacted]");
            }
        }
        self
    }
}

/// A web service's answer, as the channel modules read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpReply {
    pub status: u16,
    /// The `Retry-After` header, as a delay (seconds or an HTTP date).
    pub retry_after: Option<Duration>,
    pub body: String,
}

impl HttpReply {
    pub(crate) fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The failure this reply stands for: 408, 429 and 5xx may pass on a later attempt (after
    /// `retry_after`, or the `Retry-After` header), any other status will not. `text` is the
    /// service's own explanation; the body is used when there is none.
    pub(crate) fn failure(
        &self,
        service: &str,
        retry_after: Option<Duration>,
        text: Option<String>,
    ) -> SendError {
        let status = self.status;
        let text = text
            .filter(|text| !text.trim().is_empty())
            .unwrap_or_else(|| self.body.trim().to_owned());
        let message = if text.is_empty() {
            format!("{service} answered {status}")
        } else {
            format!(
                "{service} answered {status}: {}",
                crate::text::truncate(&text, MAX_DETAIL)
            )
        };
        if status == 408 || status == 429 || status >= 500 {
            SendError::retryable(Some(status), retry_after.or(self.retry_after), message)
        } else {
            SendError::permanent(Some(status), message)
        }
    }

    /// The body, shortened, for [`Sent::detail`].
    pub(crate) fn detail(&self) -> String {
        crate::text::truncate(self.body.trim(), MAX_DETAIL)
    }
}

/// Delay before attempt `attempt` (1 = the first retry): one second, doubling with each attempt,
/// at most five minutes; "equal jitter", so the delay lies between half that and all of it,
/// placed by `jitter` in `[0, 1)`. Never less than `retry_after` when the service gave one.
#[must_use]
pub fn backoff(attempt: u32, retry_after: Option<Duration>, jitter: f64) -> Duration {
    let doublings = attempt.saturating_sub(1).min(20);
    let base = Duration::from_secs(1_u64 << doublings).min(MAX_BACKOFF);
    let jitter = if jitter.is_finite() {
        jitter.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let delay = base / 2 + base.mul_f64(jitter / 2.0);
    delay.max(retry_after.unwrap_or_default())
}

/// Sends messages to destinations. Holds one HTTP client (rustls with ring, 10 s timeout, no
/// redirects) for all the web services; SMTP connections are made per message.
#[derive(Clone)]
pub struct Sender {
    http: reqwest::Client,
}

impl fmt::Debug for Sender {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.debug_struct("Sender").finish_non_exhaustive()
    }
}

impl Sender {
    pub fn new() -> Result<Self, String> {
        // One TLS stack in the whole tree: rustls with ring.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            // A redirected POST would arrive as a GET without its body: report the 3xx instead.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("muster/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| format!("cannot build the HTTP client: {}", chain(&error)))?;
        Ok(Sender { http })
    }

    /// Sends `message` to `destination` once. `delivery_id` identifies this delivery across
    /// retries (Matrix's transaction id, the webhook's `X-Muster-Delivery`), so a retried send is
    /// not shown twice where the service can tell; `now_unix` stamps signatures and reads
    /// `Retry-After` dates.
    pub async fn send(
        &self,
        destination: &Destination,
        message: &Message,
        delivery_id: &str,
        now_unix: i64,
    ) -> Result<Sent, SendError> {
        let result = self
            .send_unscrubbed(destination, message, delivery_id, now_unix)
            .await;
        match &result {
            Ok(sent) => tracing::debug!(
                kind = destination.kind(),
                incident = %message.incident,
                delivery = delivery_id,
                status = sent.status,
                "notification sent"
            ),
            Err(error) => tracing::debug!(
                kind = destination.kind(),
                incident = %message.incident,
                delivery = delivery_id,
                status = ?error.status,
                retryable = error.retryable,
                "notification failed"
            ),
        }
        result.map_err(|error| error.scrubbed(&destination.secrets()))
    }

    async fn send_unscrubbed(
        &self,
        destination: &Destination,
        message: &Message,
        delivery_id: &str,
        now_unix: i64,
    ) -> Result<Sent, SendError> {
        match destination {
            Destination::Slack {
                webhook_url,
                channel,
            } => {
                let body = slack::format(message, channel.as_deref());
                let reply = self
                    .call(Method::POST, webhook_url.expose(), &[], &body, now_unix)
                    .await?;
                slack::classify(&reply)
            }
            Destination::Discord { webhook_url } => {
                let url = discord::execute_url(webhook_url.expose())
                    .map_err(|problem| SendError::permanent(None, problem))?;
                let body = discord::format(message);
                let reply = self.call(Method::POST, &url, &[], &body, now_unix).await?;
                discord::classify(&reply)
            }
            Destination::Telegram {
                api,
                token,
                chat_id,
            } => {
                let url = telegram::send_message_url(api, token.expose());
                let body = telegram::format(message, chat_id);
                let reply = self.call(Method::POST, &url, &[], &body, now_unix).await?;
                telegram::classify(&reply)
            }
            Destination::Matrix {
                homeserver,
                room_id,
                token,
            } => {
                let url = matrix::send_url(homeserver, room_id, delivery_id);
                let body = matrix::format(message);
                let authorization = format!("Bearer {}", token.expose());
                let reply = self
                    .call(
                        Method::PUT,
                        &url,
                        &[(AUTHORIZATION, &authorization)],
                        &body,
                        now_unix,
                    )
                    .await?;
                matrix::classify(&reply)
            }
            Destination::Email { server, from, to } => email::send(server, from, to, message).await,
            Destination::Webhook { url, secret } => {
                let body = webhook::format(message, delivery_id, now_unix);
                let bytes = serde_json::to_vec(&body).unwrap_or_default();
                let timestamp = now_unix.to_string();
                let signature = webhook::sign(secret.expose().as_bytes(), &timestamp, &bytes);
                let headers = [
                    (
                        HeaderName::from_static(webhook::TIMESTAMP_HEADER),
                        timestamp.as_str(),
                    ),
                    (
                        HeaderName::from_static(webhook::SIGNATURE_HEADER),
                        signature.as_str(),
                    ),
                    (
                        HeaderName::from_static(webhook::DELIVERY_HEADER),
                        delivery_id,
                    ),
                ];
                let reply = self
                    .call_bytes(Method::POST, url, &headers, bytes, now_unix)
                    .await?;
                webhook::classify(&reply)
            }
            Destination::Pagerduty {
                events_url,
                routing_key,
            } => {
                let body = pagerduty::format(message, routing_key.expose());
                let reply = self
                    .call(Method::POST, events_url, &[], &body, now_unix)
                    .await?;
                pagerduty::classify(&reply)
            }
        }
    }

    async fn call(
        &self,
        method: Method,
        url: &str,
        headers: &[(HeaderName, &str)],
        body: &serde_json::Value,
        now_unix: i64,
    ) -> Result<HttpReply, SendError> {
        let bytes = serde_json::to_vec(body).unwrap_or_default();
        self.call_bytes(method, url, headers, bytes, now_unix).await
    }

    /// One request with a JSON body; the answer whatever its status, or the transport failure.
    async fn call_bytes(
        &self,
        method: Method,
        url: &str,
        headers: &[(HeaderName, &str)],
        body: Vec<u8>,
        now_unix: i64,
    ) -> Result<HttpReply, SendError> {
        let mut request = self
            .http
            .request(method, url)
            .header(CONTENT_TYPE, "application/json")
            .body(body);
        for (name, value) in headers {
            let value = HeaderValue::from_str(value).map_err(|_| {
                SendError::permanent(None, format!("the {name} header cannot hold its value"))
            })?;
            request = request.header(name, value);
        }
        let response = request.send().await.map_err(transport_error)?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| parse_retry_after(value, now_unix));
        let body = response.text().await.map_err(transport_error)?;
        Ok(HttpReply {
            status,
            retry_after,
            body,
        })
    }
}

/// A request that got no answer. Building errors (a malformed URL) are permanent; connecting,
/// timing out and broken connections may pass.
fn transport_error(error: reqwest::Error) -> SendError {
    let error = error.without_url();
    let message = format!("request failed: {}", chain(&error));
    if error.is_builder() {
        SendError::permanent(None, message)
    } else {
        SendError::retryable(None, None, message)
    }
}

/// An error and its sources, `outer: inner: innermost`, repeats left out.
pub(crate) fn chain(error: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = vec![error.to_string()];
    let mut source = error.source();
    while let Some(inner) = source {
        let text = inner.to_string();
        if !parts.iter().any(|part| part.contains(&text)) {
            parts.push(text);
        }
        source = inner.source();
    }
    parts.join(": ")
}

/// A `Retry-After` value: delay seconds (fractions allowed), or an HTTP date read against `now`.
pub(crate) fn parse_retry_after(value: &str, now_unix: i64) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<f64>() {
        return Duration::try_from_secs_f64(seconds).ok();
    }
    let at = jiff::fmt::rfc2822::DateTimeParser::new()
        .parse_timestamp(value)
        .ok()?;
    let seconds = at.as_second().saturating_sub(now_unix);
    Some(Duration::from_secs(u64::try_from(seconds).unwrap_or(0)))
}

/// Seconds as a delay, from a JSON number that may be fractional or negative.
pub(crate) fn seconds(value: &serde_json::Value) -> Option<Duration> {
    value
        .as_f64()
        .and_then(|seconds| Duration::try_from_secs_f64(seconds).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_one_second_up_to_five_minutes() {
        let top = |attempt| backoff(attempt, None, 0.99);
        let bottom = |attempt| backoff(attempt, None, 0.0);
        assert_eq!(bottom(1), Duration::from_millis(500));
        assert_eq!(top(1), Duration::from_millis(995));
        assert_eq!(bottom(2), Duration::from_secs(1));
        assert_eq!(bottom(4), Duration::from_secs(4));
        assert_eq!(bottom(9), Duration::from_secs(128));
        assert_eq!(bottom(10), Duration::from_secs(150));
        assert_eq!(bottom(10_000), Duration::from_secs(150));
        assert!(top(10_000) <= MAX_BACKOFF);
        assert_eq!(bottom(0), bottom(1));
        assert_eq!(backoff(3, None, 0.5), Duration::from_secs(3));
    }

    #[test]
    fn backoff_never_undercuts_the_service() {
        let asked = Duration::from_secs(30);
        assert_eq!(backoff(1, Some(asked), 0.5), asked);
        assert_eq!(
            backoff(12, Some(asked), 0.0),
            Duration::from_secs(150),
            "a longer own delay stays"
        );
        assert_eq!(backoff(1, None, f64::NAN), Duration::from_millis(500));
        assert_eq!(backoff(1, None, 7.0), Duration::from_secs(1));
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        assert_eq!(parse_retry_after("5", 0), Some(Duration::from_secs(5)));
        assert_eq!(
            parse_retry_after(" 1.5 ", 0),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(parse_retry_after("-3", 0), None);
        // Wed, 21 Oct 2015 07:28:00 GMT is 1445412480.
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1_445_412_480 - 120),
            Some(Duration::from_mins(2))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1_445_412_480 + 5),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", 0), None);
    }

    #[test]
    fn failures_are_classified_by_status_and_scrubbed() {
        let reply = |status| HttpReply {
            status,
            retry_after: Some(Duration::from_secs(7)),
            body: "token abc123 refused".to_owned(),
        };
        let limited = reply(429).failure("Svc", None, None);
        assert!(limited.retryable);
        assert_eq!(limited.retry_after, Some(Duration::from_secs(7)));
        assert_eq!(limited.status, Some(429));
        let own = reply(429).failure("Svc", Some(Duration::from_secs(2)), None);
        assert_eq!(own.retry_after, Some(Duration::from_secs(2)));
        assert!(reply(503).failure("Svc", None, None).retryable);
        let refused = reply(403).failure("Svc", None, Some("forbidden".to_owned()));
        assert!(!refused.retryable);
        assert_eq!(refused.retry_after, None);
        assert_eq!(refused.message, "Svc answered 403: forbidden");
        let scrubbed = reply(400)
            .failure("Svc", None, None)
            .scrubbed(&["abc123", ""]);
        assert_eq!(
            scrubbed.message,
            "Svc answered 400: token [redacted] refused"
        );
    }
}
