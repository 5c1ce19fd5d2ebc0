//! Email over SMTP (lettre, tokio, rustls with ring): a plain-text body with an HTML
//! alternative. The subject starts with `[DRILL] ` for an exercise. The message goes to the
//! channel's `to` list, or to the paged person's address when the list is empty. lettre sets
//! `Date` and `Message-ID`; `References` names the incident, so mail clients thread every
//! message about one incident together.
//!
//! The server is an SMTP URL:
//!
//! | URL | connection |
//! | --- | --- |
//! | `smtp://host:port` | STARTTLS when the server offers it, plain otherwise |
//! | `smtp://user:password@host:port` | STARTTLS required, so the password never travels in clear |
//! | `smtp://…?tls=required` | STARTTLS required |
//! | `smtp://…?tls=opportunistic` | STARTTLS when offered, even with a password |
//! | `smtp://host:port?tls=none` | plain, for a relay on the same host |
//! | `smtps://host:port` | TLS from the first byte |
//!
//! The port defaults to 587 (465 for `smtps`, 25 for `tls=none`). User and password are
//! percent-decoded (`%40` for `@`).
//!
//! A 4xx reply and a failed connection may pass on a later attempt; a 5xx reply, a refused
//! certificate and a malformed message will not.

use std::fmt;
use std::fmt::Write as _;
use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use crate::send::{SendError, Sent, chain};
use crate::text::{
    authored_title, folded_line, html_escape, html_paragraphs, needs_drill_mark, one_line,
    severity_label, title_line, truncate,
};
use crate::{Authored, Message, Secret};

/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a whole SMTP conversation may take: lettre bounds only the connection, and a server
/// that stops answering would otherwise hold the send for as long as the socket stays open.
const SEND_TIMEOUT: Duration = Duration::from_secs(30);
const MAX_SUBJECT: usize = 200;
/// The line that leads a drill's mail.
const DRILL_BANNER: &str = "[DRILL] This is a drill: an exercise, not a real incident.";

/// A message as mail: its subject, its text and its HTML alternative.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain text only.
    None,
    /// STARTTLS when the server offers it.
    Opportunistic,
    /// STARTTLS, or no message.
    Required,
    /// TLS from the first byte (`smtps`).
    Wrapper,
}

/// An SMTP server, read from an SMTP URL.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpServer {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub user: Option<String>,
    pub password: Option<Secret>,
    /// Certificate authorities (PEM) trusted besides the system's.
    pub root_certificates: Vec<String>,
}

impl fmt::Debug for SmtpServer {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("SmtpServer")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("user", &self.user)
            .field("password", &self.password)
            .field("root_certificates", &self.root_certificates.len())
            .finish()
    }
}

impl SmtpServer {
    /// Reads an SMTP URL (see the module's documentation). Problems are described without
    /// repeating the URL, which may hold a password.
    pub fn parse(url: &str) -> Result<SmtpServer, String> {
        let url = reqwest::Url::parse(url).map_err(|error| error.to_string())?;
        if !matches!(url.scheme(), "smtp" | "smtps") {
            return Err(format!(
                "the scheme is {}: (smtp:// or smtps:// expected)",
                url.scheme()
            ));
        }
        // An IPv6 host comes in brackets, which a socket address does not take.
        let host = match url.host_str() {
            Some(host) if !host.is_empty() => host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned(),
            _ => return Err("the URL names no host".to_owned()),
        };
        let mut tls_parameter = None;
        for (key, value) in url.query_pairs() {
            match key.as_ref() {
                "tls" => tls_parameter = Some(value.into_owned()),
                other => {
                    return Err(format!(
                        "unknown parameter {other:?} (the only one is tls=none|opportunistic|required)"
                    ));
                }
            }
        }
        if !matches!(url.path(), "" | "/") || url.fragment().is_some() {
            return Err("an SMTP URL has no path".to_owned());
        }
        let user = match url.username() {
            "" => None,
            user => Some(percent_decode(user).ok_or("the user is not valid UTF-8")?),
        };
        let password = match url.password() {
            None => None,
            Some(password) => Some(Secret::new(
                percent_decode(password).ok_or("the password is not valid UTF-8")?,
            )),
        };
        if user.is_some() != password.is_some() {
            return Err("give both a user and a password, or neither".to_owned());
        }
        let tls = match (url.scheme(), tls_parameter.as_deref()) {
            ("smtp", None) if password.is_some() => SmtpTls::Required,
            ("smtp", None | Some("opportunistic")) => SmtpTls::Opportunistic,
            ("smtp", Some("required")) => SmtpTls::Required,
            ("smtp", Some("none")) => SmtpTls::None,
            (_, None) => SmtpTls::Wrapper,
            (_, Some(other)) => {
                return Err(format!(
                    "tls={other} is not understood here (smtp:// takes tls=none, opportunistic or required; smtps:// takes none)"
                ));
            }
        };
        let port = url.port().unwrap_or(match tls {
            SmtpTls::Wrapper => 465,
            SmtpTls::None => 25,
            SmtpTls::Opportunistic | SmtpTls::Required => 587,
        });
        Ok(SmtpServer {
            host,
            port,
            tls,
            user,
            password,
            root_certificates: Vec::new(),
        })
    }

    /// The sender when the channel names none: the SMTP user when it is an address, else
    /// `muster@` the server's host name (`muster@localhost` for an IP address).
    pub(crate) fn default_from(&self) -> String {
        match &self.user {
            Some(user) if check_address(user).is_ok() => user.clone(),
            _ if self.host.parse::<std::net::IpAddr>().is_ok() => "muster@localhost".to_owned(),
            _ => format!("muster@{}", self.host),
        }
    }

    /// A lettre transport for this server.
    fn transport(&self) -> Result<AsyncSmtpTransport<Tokio1Executor>, SendError> {
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&self.host)
            .port(self.port)
            .timeout(Some(CONNECT_TIMEOUT));
        builder = builder.tls(match self.tls {
            SmtpTls::None => Tls::None,
            SmtpTls::Opportunistic => Tls::Opportunistic(self.tls_parameters()?),
            SmtpTls::Required => Tls::Required(self.tls_parameters()?),
            SmtpTls::Wrapper => Tls::Wrapper(self.tls_parameters()?),
        });
        if let (Some(user), Some(password)) = (&self.user, &self.password) {
            builder =
                builder.credentials(Credentials::new(user.clone(), password.expose().to_owned()));
        }
        Ok(builder.build())
    }

    /// TLS for this server: the system's authorities and the extra ones, names checked.
    fn tls_parameters(&self) -> Result<TlsParameters, SendError> {
        let mut parameters = TlsParameters::builder(self.host.clone());
        for pem in &self.root_certificates {
            let certificate = Certificate::from_pem(pem.as_bytes()).map_err(|error| {
                SendError::permanent(
                    None,
                    format!("an extra SMTP root certificate is unusable: {error}"),
                )
            })?;
            parameters = parameters.add_root_certificate(certificate);
        }
        parameters.build_rustls().map_err(|error| {
            SendError::permanent(
                None,
                format!("cannot set up TLS for SMTP: {}", chain(&error)),
            )
        })
    }
}

/// The mail for `message`.
///
/// A message a responder wrote is sent as written: the subject is theirs (the title line when
/// they gave none), the text is their body, then the incident's link; the HTML alternative is
/// the body's paragraphs, escaped. A drill's mail still leads with the drill banner, unless the
/// body already starts with `[DRILL]`.
#[must_use]
pub fn format(message: &Message) -> Email {
    if let Some(authored) = &message.authored {
        return format_authored(message, authored);
    }
    let subject = truncate(
        &one_line(&format!("{} — {}", title_line(message), message.headline)),
        MAX_SUBJECT,
    );

    let mut text = Vec::new();
    let mut html = Vec::new();
    if message.drill {
        text.push(DRILL_BANNER.to_owned());
        html.push(format!("<p><strong>{DRILL_BANNER}</strong></p>"));
    }
    let mut headline = message.headline.clone();
    let mut headline_html = format!("<strong>{}</strong>", html_escape(&message.headline));
    if let Some(recipient) = &message.recipient {
        let _ = write!(headline, " — {}", recipient.name);
        let _ = write!(headline_html, " — {}", html_escape(&recipient.name));
    }
    text.push(headline);
    html.push(format!("<p>{headline_html}</p>"));

    let facts = [
        ("Incident", message.incident.clone()),
        ("Title", message.title.clone()),
        ("Severity", severity_label(message)),
        ("Status", message.status.clone()),
    ];
    text.push(
        facts
            .iter()
            .map(|(label, value)| format!("{label}: {value}"))
            .collect::<Vec<_>>()
            .join("\n"),
    );
    html.push(format!(
        "<table>{}</table>",
        facts
            .iter()
            .map(|(label, value)| format!(
                "<tr><th align=\"left\">{label}</th><td>{}</td></tr>",
                html_escape(value)
            ))
            .collect::<Vec<_>>()
            .concat()
    ));

    if !message.lines.is_empty() {
        text.push(
            message
                .lines
                .iter()
                .map(|line| format!("- {line}"))
                .collect::<Vec<_>>()
                .join("\n"),
        );
        html.push(format!(
            "<ul>{}</ul>",
            message
                .lines
                .iter()
                .map(|line| format!("<li>{}</li>", html_escape(line)))
                .collect::<Vec<_>>()
                .concat()
        ));
    }
    if let Some(folded) = folded_line(message) {
        html.push(format!("<p><em>{folded}</em></p>"));
        text.push(folded);
    }
    let mut links = Vec::new();
    let mut links_html = Vec::new();
    for (label, url) in [
        ("Acknowledge", &message.ack_url),
        ("Open the incident", &message.url),
    ] {
        if let Some(url) = url {
            links.push(format!("{label}: {url}"));
            links_html.push(format!("<a href=\"{}\">{label}</a>", html_escape(url)));
        }
    }
    if !links.is_empty() {
        text.push(links.join("\n"));
        html.push(format!("<p>{}</p>", links_html.join(" · ")));
    }
    text.push(format!("-- \nMuster{}", drill_suffix(message)));

    Email {
        subject,
        text: text.join("\n\n") + "\n",
        html: format!(
            "<!DOCTYPE html><html><body>{}</body></html>\n",
            html.concat()
        ),
    }
}

/// The mail for a message a responder wrote: see [`format`].
fn format_authored(message: &Message, authored: &Authored) -> Email {
    let subject = truncate(&authored_title(message, authored), MAX_SUBJECT);
    let body = authored.body.trim_end_matches(['\n', '\r']);

    let mut text = Vec::new();
    let mut html = Vec::new();
    if needs_drill_mark(message, body) {
        text.push(DRILL_BANNER.to_owned());
        html.push(format!("<p><strong>{DRILL_BANNER}</strong></p>"));
    }
    if !body.trim().is_empty() {
        text.push(body.to_owned());
        html.extend(html_paragraphs(body));
    }
    if let Some(url) = &message.url {
        text.push(format!("Open the incident: {url}"));
        html.push(format!(
            "<p><a href=\"{}\">Open the incident</a></p>",
            html_escape(url)
        ));
    }
    Email {
        subject,
        text: text.join("\n\n") + "\n",
        html: format!(
            "<!DOCTYPE html><html><body>\n{}\n</body></html>\n",
            html.join("\n")
        ),
    }
}

/// Checks that `address` is a mailbox (`a@example.org`, or `Name <a@example.org>`).
pub(crate) fn check_address(address: &str) -> Result<(), String> {
    address
        .parse::<Mailbox>()
        .map(drop)
        .map_err(|error| error.to_string())
}

/// Sends `message` as mail from `from` to `to`, or to the recipient's address when `to` is
/// empty.
pub(crate) async fn send(
    server: &SmtpServer,
    from: &str,
    to: &[String],
    message: &Message,
) -> Result<Sent, SendError> {
    let recipients: Vec<&str> = if to.is_empty() {
        message
            .recipient
            .as_ref()
            .and_then(|recipient| recipient.email.as_deref())
            .into_iter()
            .collect()
    } else {
        to.iter().map(String::as_str).collect()
    };
    if recipients.is_empty() {
        return Err(SendError::permanent(
            None,
            "no address to send to: the email channel lists none and the paged person has no email",
        ));
    }
    let mail = build(from, &recipients, message)?;
    let transport = server.transport()?;
    match tokio::time::timeout(SEND_TIMEOUT, transport.send(mail)).await {
        Ok(Ok(response)) => Ok(Sent {
            status: u16::from(response.code()),
            detail: truncate(&response.message().collect::<Vec<_>>().join(" "), 300),
        }),
        Ok(Err(error)) => Err(classify(&error)),
        Err(_) => Err(SendError::retryable(
            None,
            None,
            format!(
                "SMTP: the server did not finish within {} s",
                SEND_TIMEOUT.as_secs()
            ),
        )),
    }
}

/// The mail itself, with lettre's `Date` and `Message-ID`.
fn build(from: &str, to: &[&str], message: &Message) -> Result<lettre::Message, SendError> {
    let address = |text: &str| {
        text.parse::<Mailbox>().map_err(|error| {
            SendError::permanent(None, format!("{text:?} is not an email address: {error}"))
        })
    };
    let email = format(message);
    let mut builder = lettre::Message::builder()
        .from(address(from)?)
        .subject(email.subject)
        .message_id(None)
        .references(format!("<{}@muster>", message.incident));
    for recipient in to {
        builder = builder.to(address(recipient)?);
    }
    builder
        .multipart(MultiPart::alternative_plain_html(email.text, email.html))
        .map_err(|error| SendError::permanent(None, format!("cannot build the email: {error}")))
}

/// What an SMTP failure means for the next attempt.
fn classify(error: &lettre::transport::smtp::Error) -> SendError {
    let status = error.status().map(u16::from);
    let message = format!("SMTP: {}", chain(error));
    if error.is_transient() {
        SendError::retryable(status, None, message)
    } else if error.is_permanent()
        || error.is_client()
        || error.is_tls()
        || refused_certificate(error)
    {
        SendError::permanent(status, message)
    } else {
        // Connecting, timing out, a dropped connection, an unreadable reply.
        SendError::retryable(status, None, message)
    }
}

/// Whether `error` comes from a server certificate that was not accepted (unknown authority,
/// wrong name, expired): a setting to fix, not a passing fault.
fn refused_certificate(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(error) = current {
        if let Some(tls) = error.downcast_ref::<rustls::Error>() {
            return matches!(
                tls,
                rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented
            );
        }
        // An I/O error's `source` skips the error it wraps: look at that one too.
        if let Some(inner) = error
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
            && refused_certificate(inner)
        {
            return true;
        }
        current = error.source();
    }
    false
}

fn drill_suffix(message: &Message) -> &'static str {
    if message.drill { " · drill" } else { "" }
}

/// `%XX` sequences decoded; `None` when the result is not UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at] == b'%'
            && let Some(byte) = text
                .get(at + 1..at + 3)
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            decoded.push(byte);
            at += 3;
            continue;
        }
        decoded.push(bytes[at]);
        at += 1;
    }
    String::from_utf8(decoded).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Authored, Recipient};

    /// A customer email a responder wrote, about a drill.
    fn customer_email() -> Message {
        Message {
            incident: "INC-20261121-001".to_owned(),
            title: "Bridge relayer halted".to_owned(),
            severity: "P0".to_owned(),
            severity_name: Some("Critical".to_owned()),
            status: "investigating".to_owned(),
            headline: "Paged (escalation level 1 of 3)".to_owned(),
            lines: vec!["Relayer stopped signing at block 21,004,113".to_owned()],
            drill: true,
            url: Some("https://muster.example.org/incidents/INC-20261121-001?view=a&b".to_owned()),
            ack_url: None,
            folded: 0,
            recipient: Some(Recipient {
                person: "alice".to_owned(),
                name: "Alice Example".to_owned(),
                email: Some("alice@example.org".to_owned()),
                handle: None,
            }),
            authored: Some(Authored {
                subject: Some("Service disruption: <b>payments</b> & refunds — état".to_owned()),
                body: "Dear Valued Customer,\n\nWe are investigating <b>delays</b> & errors.\n\
                       Payments may fail; the Équipe is on it.\n\nKind regards,\nThe Example team\n"
                    .to_owned(),
            }),
        }
    }

    /// A mail as sent, read back: its unfolded, decoded headers and its parts' decoded bodies
    /// by content type.
    struct Parsed {
        headers: Vec<(String, String)>,
        parts: Vec<(String, String)>,
    }

    impl Parsed {
        fn header(&self, name: &str) -> Option<&str> {
            self.headers
                .iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(name))
                .map(|(_, value)| value.as_str())
        }

        fn part(&self, content_type: &str) -> &str {
            self.parts
                .iter()
                .find(|(kind, _)| kind.starts_with(content_type))
                .map_or_else(
                    || panic!("no {content_type} part"),
                    |(_, body)| body.as_str(),
                )
        }
    }

    /// Splits `bytes` at the blank line into headers (unfolded, RFC 2047 words decoded) and body.
    fn split(bytes: &str) -> (Vec<(String, String)>, &str) {
        let (head, body) = bytes.split_once("\r\n\r\n").expect("headers end");
        let mut headers: Vec<(String, String)> = Vec::new();
        for line in head.split("\r\n") {
            if line.starts_with([' ', '\t']) {
                headers.last_mut().expect("a header to continue").1 += line;
            } else {
                let (name, value) = line.split_once(':').expect("a header");
                headers.push((name.to_owned(), value.trim_start().to_owned()));
            }
        }
        for (_, value) in &mut headers {
            *value = decode_words(value);
        }
        (headers, body)
    }

    /// `=?utf-8?b?…?=` and `=?utf-8?q?…?=` words decoded; the space between two words dropped.
    fn decode_words(value: &str) -> String {
        let mut decoded = Vec::new();
        let mut previous_was_word = false;
        for token in value.split(' ') {
            let word = token
                .strip_prefix("=?")
                .and_then(|rest| rest.strip_suffix("?="))
                .and_then(|rest| {
                    let mut pieces = rest.splitn(3, '?');
                    let charset = pieces.next()?;
                    assert!(charset.eq_ignore_ascii_case("utf-8"), "{charset}");
                    match pieces.next()? {
                        "b" | "B" => Some(base64(pieces.next()?)),
                        "q" | "Q" => Some(quoted_printable(&pieces.next()?.replace('_', " "))),
                        other => panic!("encoding {other}"),
                    }
                });
            if let Some(bytes) = word {
                if !previous_was_word && !decoded.is_empty() {
                    decoded.push(b' ');
                }
                decoded.extend(bytes);
                previous_was_word = true;
            } else {
                if !decoded.is_empty() {
                    decoded.push(b' ');
                }
                decoded.extend(token.as_bytes());
                previous_was_word = false;
            }
        }
        String::from_utf8(decoded).expect("UTF-8")
    }

    fn base64(text: &str) -> Vec<u8> {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut bits = 0_u32;
        let mut count = 0;
        let mut bytes = Vec::new();
        for byte in text
            .bytes()
            .filter(|byte| !byte.is_ascii_whitespace() && *byte != b'=')
        {
            let value = ALPHABET.iter().position(|c| *c == byte).expect("base64");
            bits = (bits << 6) | u32::try_from(value).unwrap();
            count += 6;
            if count >= 8 {
                count -= 8;
                bytes.push(u8::try_from((bits >> count) & 0xFF).unwrap());
            }
        }
        bytes
    }

    fn quoted_printable(text: &str) -> Vec<u8> {
        let text = text.replace("=\r\n", "");
        let bytes = text.as_bytes();
        let mut decoded = Vec::new();
        let mut at = 0;
        while at < bytes.len() {
            if bytes[at] == b'=' {
                let hex = std::str::from_utf8(&bytes[at + 1..at + 3]).unwrap();
                decoded.push(u8::from_str_radix(hex, 16).expect("=XX"));
                at += 3;
            } else {
                decoded.push(bytes[at]);
                at += 1;
            }
        }
        decoded
    }

    /// Reads a `multipart/alternative` mail as lettre writes it.
    fn parse(mail: &[u8]) -> Parsed {
        let mail = std::str::from_utf8(mail).expect("a mail is ASCII");
        let (headers, body) = split(mail);
        let content_type = headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("content-type"))
            .map(|(_, value)| value.clone())
            .expect("a content type");
        assert!(
            content_type.starts_with("multipart/alternative;"),
            "{content_type}"
        );
        let boundary = content_type
            .split("boundary=")
            .nth(1)
            .expect("a boundary")
            .trim_matches('"');
        let (_, rest) = body
            .split_once(&format!("--{boundary}\r\n"))
            .expect("a first part");
        let (rest, _) = rest
            .split_once(&format!("\r\n--{boundary}--"))
            .expect("a closing boundary");
        let parts = rest
            .split(&format!("\r\n--{boundary}\r\n"))
            .map(|part| {
                let (headers, body) = split(part);
                let header = |name: &str| {
                    headers
                        .iter()
                        .find(|(key, _)| key.eq_ignore_ascii_case(name))
                        .map(|(_, value)| value.clone())
                        .unwrap_or_default()
                };
                let bytes = match header("content-transfer-encoding").as_str() {
                    "quoted-printable" => quoted_printable(body),
                    "base64" => base64(body),
                    _ => body.as_bytes().to_vec(),
                };
                let text = String::from_utf8(bytes)
                    .expect("UTF-8")
                    .replace("\r\n", "\n");
                (header("content-type"), text)
            })
            .collect();
        Parsed { headers, parts }
    }

    #[test]
    fn an_authored_mail_carries_the_subject_and_the_body_as_written() {
        let message = customer_email();
        let mail = build(
            "Muster <muster@example.org>",
            &["customers@example.org"],
            &message,
        )
        .unwrap()
        .formatted();
        let parsed = parse(&mail);
        assert_eq!(
            parsed.header("Subject"),
            Some("[DRILL] Service disruption: <b>payments</b> & refunds — état")
        );
        assert_eq!(parsed.header("To"), Some("customers@example.org"));
        assert_eq!(
            parsed.header("References"),
            Some("<INC-20261121-001@muster>")
        );
        assert_eq!(
            parsed.part("text/plain"),
            "[DRILL] This is a drill: an exercise, not a real incident.\n\n\
             Dear Valued Customer,\n\n\
             We are investigating <b>delays</b> & errors.\n\
             Payments may fail; the Équipe is on it.\n\n\
             Kind regards,\nThe Example team\n\n\
             Open the incident: https://muster.example.org/incidents/INC-20261121-001?view=a&b\n"
        );
        assert_eq!(
            parsed.part("text/html"),
            "<!DOCTYPE html><html><body>\n\
             <p><strong>[DRILL] This is a drill: an exercise, not a real incident.</strong></p>\n\
             <p>Dear Valued Customer,</p>\n\
             <p>We are investigating &lt;b&gt;delays&lt;/b&gt; &amp; errors.<br>\
             Payments may fail; the Équipe is on it.</p>\n\
             <p>Kind regards,<br>The Example team</p>\n\
             <p><a href=\"https://muster.example.org/incidents/INC-20261121-001?view=a&amp;b\">\
             Open the incident</a></p>\n\
             </body></html>\n"
        );
        for part in [parsed.part("text/plain"), parsed.part("text/html")] {
            assert!(!part.contains("Paged (escalation"), "{part}");
            assert!(!part.contains("Relayer stopped"), "{part}");
            assert!(!part.contains("Severity"), "{part}");
            assert!(!part.contains("Alice Example"), "{part}");
        }
    }

    #[test]
    fn an_authored_mail_marks_a_drill_once_and_a_real_one_not_at_all() {
        let mut message = customer_email();
        message.authored = Some(Authored {
            subject: Some("[DRILL] Status update".to_owned()),
            body: "[DRILL] All systems go.".to_owned(),
        });
        let mail = format(&message);
        assert_eq!(mail.subject, "[DRILL] Status update");
        assert!(
            mail.text.starts_with("[DRILL] All systems go.\n\n"),
            "{}",
            mail.text
        );
        assert!(!mail.text.contains("This is a drill"));
        assert!(!mail.html.contains("This is a drill"));

        message.drill = false;
        message.authored = Some(Authored {
            subject: None,
            body: "All systems go.".to_owned(),
        });
        let mail = format(&message);
        // No subject: the title line, as a notification's subject starts.
        assert_eq!(mail.subject, "P0 INC-20261121-001: Bridge relayer halted");
        assert!(
            mail.text.starts_with("All systems go.\n\n"),
            "{}",
            mail.text
        );
        assert!(!mail.text.contains("DRILL") && !mail.html.contains("DRILL"));
    }

    #[test]
    fn an_authored_subject_stays_on_one_line_within_the_limit() {
        let mut message = customer_email();
        message.authored = Some(Authored {
            subject: Some(format!(
                "Line one\r\nBcc: evil@example.org {}",
                "é".repeat(300)
            )),
            body: "Body".to_owned(),
        });
        let mail = format(&message);
        assert!(!mail.subject.contains(['\r', '\n']), "{}", mail.subject);
        assert_eq!(mail.subject.chars().count(), MAX_SUBJECT);
        assert!(
            mail.subject
                .starts_with("[DRILL] Line one  Bcc: evil@example.org é")
        );
        assert!(mail.subject.ends_with('…'));
        let sent = build("muster@example.org", &["a@example.org"], &message)
            .unwrap()
            .formatted();
        let parsed = parse(&sent);
        assert_eq!(parsed.header("Subject"), Some(mail.subject.as_str()));
        assert_eq!(parsed.header("Bcc"), None);
    }

    #[test]
    fn smtp_urls_choose_tls_port_and_credentials() {
        let server = SmtpServer::parse("smtp://mail.example.org").unwrap();
        assert_eq!((server.port, server.tls), (587, SmtpTls::Opportunistic));
        assert_eq!(server.user, None);

        let server =
            SmtpServer::parse("smtp://pager%40example.org:p%2Fw@mail.example.org:2525").unwrap();
        assert_eq!((server.port, server.tls), (2525, SmtpTls::Required));
        assert_eq!(server.user.as_deref(), Some("pager@example.org"));
        assert_eq!(server.password.as_ref().map(Secret::expose), Some("p/w"));
        assert_eq!(server.default_from(), "pager@example.org");

        let server = SmtpServer::parse("smtp://u:p@mail.example.org?tls=opportunistic").unwrap();
        assert_eq!(server.tls, SmtpTls::Opportunistic);
        assert_eq!(server.default_from(), "muster@mail.example.org");
        let server = SmtpServer::parse("smtp://127.0.0.1?tls=none").unwrap();
        assert_eq!((server.port, server.tls), (25, SmtpTls::None));
        let server = SmtpServer::parse("smtp://[::1]:25?tls=required").unwrap();
        assert_eq!(
            (server.host.as_str(), server.tls),
            ("::1", SmtpTls::Required)
        );
        assert_eq!(server.default_from(), "muster@localhost");
        let server = SmtpServer::parse("smtps://mail.example.org").unwrap();
        assert_eq!((server.port, server.tls), (465, SmtpTls::Wrapper));
    }

    #[test]
    fn bad_smtp_urls_are_explained_without_the_password() {
        for (url, expected) in [
            (
                "http://u:sekrit@h",
                "the scheme is http: (smtp:// or smtps:// expected)",
            ),
            (
                "smtp://u:sekrit@h?tls=maybe",
                "tls=maybe is not understood here",
            ),
            (
                "smtps://u:sekrit@h?tls=none",
                "tls=none is not understood here",
            ),
            (
                "smtp://u:sekrit@h?starttls=1",
                "unknown parameter \"starttls\"",
            ),
            ("smtp://u:sekrit@h/relay", "an SMTP URL has no path"),
            ("smtp://u@h", "give both a user and a password, or neither"),
            ("mail.example.org:25", "the scheme is mail.example.org"),
            ("not a url", "relative URL without a base"),
        ] {
            let error = SmtpServer::parse(url).unwrap_err();
            assert!(error.starts_with(expected), "{url}: {error}");
            assert!(!error.contains("sekrit"));
        }
    }
}
