//! The CLI's side of the JSON API: where the server is, which token to send, and errors a person
//! can act on (server not running, token refused, command rejected and why).

use std::process::ExitCode;

use anyhow::{Context, Result, anyhow};
use clap::Args;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::StatusCode;
use serde_json::Value;

#[derive(Debug, Clone, Args)]
pub struct ServerArgs {
    /// The Muster server.
    #[arg(
        long,
        env = "MUSTER_URL",
        default_value = "http://127.0.0.1:8080",
        global = true
    )]
    pub url: String,
    /// An API token (`muster token create` makes one).
    #[arg(long, env = "MUSTER_TOKEN", hide_env_values = true, global = true)]
    pub token: Option<String>,
    /// Print the server's JSON instead of a table.
    #[arg(long, global = true)]
    pub json: bool,
}

/// A failed call, already worded for the person at the terminal.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The server refused the request (4xx): exit 1.
    #[error("{0}")]
    Refused(String),
    /// The server could not be reached, or failed: exit 2.
    #[error("{0}")]
    Unavailable(String),
}

#[derive(Debug)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Client {
    pub fn new(args: &ServerArgs) -> Result<Self> {
        let token = args
            .token
            .clone()
            .filter(|token| !token.trim().is_empty())
            .ok_or_else(|| {
                anyhow!("no token: set MUSTER_TOKEN or pass --token (an admin creates one with `muster token create`)")
            })?;
        // One TLS stack in the whole tree: rustls with ring.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .user_agent(concat!("muster-cli/", env!("CARGO_PKG_VERSION")))
            .timeout(std::time::Duration::from_secs(30))
            .build()?;
        Ok(Self {
            http,
            base: args.url.trim_end_matches('/').to_owned(),
            token,
        })
    }

    pub async fn get(&self, path: &str, query: &[(&str, String)]) -> Result<Value, CallError> {
        let request = self.http.get(format!("{}{path}", self.base)).query(query);
        self.send(request).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Result<Value, CallError> {
        let request = self.http.post(format!("{}{path}", self.base)).json(body);
        self.send(request).await
    }

    pub async fn delete(&self, path: &str) -> Result<Value, CallError> {
        let request = self.http.delete(format!("{}{path}", self.base));
        self.send(request).await
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Result<Value, CallError> {
        let response = request
            .bearer_auth(self.token.trim())
            .send()
            .await
            .map_err(|error| self.unreachable(&error))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|error| self.unreachable(&error))?;
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if status.is_success() {
            return Ok(body);
        }
        let code = body["error"]["code"].as_str().unwrap_or("");
        let message = body["error"]["message"]
            .as_str()
            .map_or_else(|| text.trim().to_owned(), str::to_owned);
        Err(match status {
            StatusCode::UNAUTHORIZED => {
                CallError::Refused(format!("the server refused the token ({code}): {message}"))
            }
            StatusCode::FORBIDDEN => CallError::Refused(format!("not allowed: {message}")),
            status if status.is_client_error() => {
                CallError::Refused(format!("refused ({code}): {message}"))
            }
            status => CallError::Unavailable(format!("the server failed ({status}): {message}")),
        })
    }

    fn unreachable(&self, error: &reqwest::Error) -> CallError {
        let mut cause = error.to_string();
        let mut source = std::error::Error::source(error);
        while let Some(inner) = source {
            cause = inner.to_string();
            source = inner.source();
        }
        CallError::Unavailable(format!(
            "cannot reach the Muster server at {}: {cause}; is `muster serve` running there? (set MUSTER_URL or --url)",
            self.base
        ))
    }
}

/// Every byte but the unreserved ones (RFC 3986: letters, digits, `-`, `_`, `.`, `~`).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// One path segment, percent-encoded: an alert key may hold `/`, `?`, `#` or spaces.
pub fn segment(text: &str) -> String {
    utf8_percent_encode(text, SEGMENT).to_string()
}

/// Makes one call and prints its answer: the server's JSON with `--json`, else `human` of it.
/// Exit 1 when the server refuses, 2 when it cannot be reached or fails.
pub fn run_call<F>(
    server: &ServerArgs,
    call: impl AsyncFnOnce(&Client) -> Result<Value, CallError>,
    human: F,
) -> Result<ExitCode>
where
    F: FnOnce(&Value) -> String,
{
    let client = Client::new(server)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    match runtime.block_on(call(&client)) {
        Ok(body) => {
            if server.json {
                println!("{}", serde_json::to_string_pretty(&body)?);
            } else {
                print!("{}", human(&body));
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(CallError::Refused(message)) => {
            eprintln!("error: {message}");
            Ok(ExitCode::FAILURE)
        }
        Err(CallError::Unavailable(message)) => {
            eprintln!("error: {message}");
            Ok(ExitCode::from(crate::cli::EXIT_USAGE))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::segment;

    #[test]
    fn segments_keep_unreserved_characters_only() {
        assert_eq!(segment("a3c1f0b2d4e5f607"), "a3c1f0b2d4e5f607");
        assert_eq!(
            segment("mainnet/oracle/ETH-USD"),
            "mainnet%2Foracle%2FETH-USD"
        );
        assert_eq!(segment("a b?c#d%"), "a%20b%3Fc%23d%25");
        assert_eq!(segment("é"), "%C3%A9");
    }
}
