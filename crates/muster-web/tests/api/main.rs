//! The API over real HTTP: a server on a loopback port, an engine on a fresh SQLite file, the
//! example start-up plan, and a client sending what real clients send.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use muster_core::access::Role;
use muster_engine::{Clock, Engine, EngineOptions, RunningPlan, SystemClock, plan_files};
use muster_store::{AnyStore, Store};
use reqwest::header::{CONTENT_TYPE, HeaderMap};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

mod alerts;
mod browser;
mod documentation;
mod errors;
mod followup;
mod incidents;
mod intake;
mod integrations;
mod metrics;
mod oncall;
mod pages;
mod plan;
mod status;
mod tokens;
mod ui;

/// A running server with a token of each role.
struct Server {
    base: String,
    client: reqwest::Client,
    engine: Arc<Engine>,
    plan_path: PathBuf,
    admin: String,
    responder: String,
    viewer: String,
    revoked: String,
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
    _dir: tempfile::TempDir,
}

/// What came back.
#[derive(Debug)]
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

impl Answer {
    /// The error code of an error answer.
    fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or_default()
    }

    fn message(&self) -> &str {
        self.body["error"]["message"].as_str().unwrap_or_default()
    }

    #[track_caller]
    fn expect(&self, status: u16, code: &str) {
        assert_eq!(self.status.as_u16(), status, "{self:?}");
        assert_eq!(self.code(), code, "{self:?}");
        assert!(!self.message().is_empty(), "{self:?}");
    }
}

fn example_plan() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/startup.yaml")
}

impl Server {
    async fn start() -> Server {
        Self::start_with_plan(
            &example_plan(),
            Arc::new(SystemClock),
            EngineOptions::default(),
        )
        .await
    }

    /// A server running the plan at `plan` (copied into the server's directory) on `clock`;
    /// integration keys and channel secrets are read through `options.secrets`.
    async fn start_with_plan(plan: &Path, clock: Arc<dyn Clock>, options: EngineOptions) -> Server {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = tempfile::tempdir().unwrap();
        let plan_path = dir.path().join("plan.yaml");
        std::fs::copy(plan, &plan_path).unwrap();
        let now = jiff::Timestamp::from_millisecond(clock.now()).unwrap();
        let (_, loaded) = plan_files::load(&plan_path, now).unwrap();
        let plan = loaded
            .clean_plan()
            .cloned()
            .expect("the plan has no errors");
        let running = RunningPlan {
            plan,
            path: Some(plan_path.clone()),
            loaded_at: now.as_millisecond(),
            warnings: loaded.diagnostics,
        };
        let database = dir.path().join("muster.db");
        let store = AnyStore::open(database.to_str().unwrap()).await.unwrap();
        let engine = Arc::new(Engine::with_options(store, running, clock, options));
        let admin = engine
            .create_token("admin", Role::Admin, None)
            .await
            .unwrap();
        let responder = engine
            .create_token("responder", Role::Responder, None)
            .await
            .unwrap();
        let viewer = engine
            .create_token("viewer", Role::Viewer, None)
            .await
            .unwrap();
        let revoked = engine
            .create_token("gone", Role::Admin, None)
            .await
            .unwrap();
        assert!(
            engine
                .store()
                .revoke_token("gone", engine.now())
                .await
                .unwrap()
        );

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(muster_web::serve(engine.clone(), listener, async move {
            let _ = stopped.await;
        }));
        Server {
            base,
            client: reqwest::Client::new(),
            engine,
            plan_path,
            admin,
            responder,
            viewer,
            revoked,
            stop,
            task,
            _dir: dir,
        }
    }

    /// Shuts the server down gracefully and checks it stopped cleanly.
    async fn stop(self) {
        self.stop.send(()).unwrap();
        self.task.await.unwrap().unwrap();
    }

    /// Sends a request; `body` is sent as it is with `Content-Type: application/json`.
    async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<String>,
        content_type: Option<&str>,
    ) -> Answer {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(content_type) = content_type {
            request = request.header(CONTENT_TYPE, content_type);
        }
        if let Some(body) = body {
            request = request.body(body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.unwrap();
        let json = headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_none_or(|value| value.contains("json"));
        let body = if bytes.is_empty() {
            Value::Null
        } else if !json {
            // HTML pages (acknowledge links) and calendar feeds.
            Value::String(String::from_utf8_lossy(&bytes).into_owned())
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|error| {
                panic!(
                    "{status} answer is not JSON ({error}): {}",
                    String::from_utf8_lossy(&bytes)
                )
            })
        };
        Answer {
            status,
            headers,
            body,
        }
    }

    async fn get(&self, path: &str, token: &str) -> Answer {
        self.send(Method::GET, path, Some(token), None, None).await
    }

    async fn post(&self, path: &str, token: &str, body: &Value) -> Answer {
        self.post_raw(path, token, body.to_string()).await
    }

    async fn post_raw(&self, path: &str, token: &str, body: String) -> Answer {
        self.send(
            Method::POST,
            path,
            Some(token),
            Some(body),
            Some("application/json"),
        )
        .await
    }

    /// Fetches a page of the web UI, signed in with `token` (`None`: not signed in). Redirects
    /// are not followed, so a redirect to the sign-in page can be seen.
    async fn page(&self, path: &str, token: Option<&str>) -> Page {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let mut request = client.get(format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.header("cookie", format!("muster_session={token}"));
        }
        Page::from(request.send().await.unwrap()).await
    }

    /// The anti-forgery token the forms of `token`'s session carry.
    async fn form_token(&self, token: &str) -> String {
        self.engine.form_token(token).await.unwrap()
    }

    /// Submits a web UI form as a browser on this site would: signed in with `token`, with the
    /// session's anti-forgery token added to `fields`.
    async fn submit(&self, path: &str, token: &str, fields: &[(&str, &str)]) -> Page {
        let csrf = self.form_token(token).await;
        let mut all: Vec<(&str, &str)> = vec![("_csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.submit_raw(path, Some(token), &all).await
    }

    /// Submits exactly `fields` (no anti-forgery token added), from this site's origin.
    async fn submit_raw(&self, path: &str, token: Option<&str>, fields: &[(&str, &str)]) -> Page {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let mut request = client
            .post(format!("{}{path}", self.base))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header("origin", &self.base)
            .body(body);
        if let Some(token) = token {
            request = request.header("cookie", format!("muster_session={token}"));
        }
        Page::from(request.send().await.unwrap()).await
    }

    /// Declares an incident of `scenario`; returns its id.
    async fn declare(&self, title: &str, scenario: &str) -> String {
        let answer = self
            .post(
                "/api/incidents",
                &self.responder,
                &json!({"title": title, "scenario": scenario}),
            )
            .await;
        assert_eq!(answer.status, StatusCode::CREATED, "{answer:?}");
        answer.body["incident"]["id"].as_str().unwrap().to_owned()
    }

    async fn command(&self, id: &str, command: &Value) -> Answer {
        self.post(
            &format!("/api/incidents/{id}/commands"),
            &self.responder,
            command,
        )
        .await
    }

    async fn timeline_len(&self, id: &str) -> usize {
        let answer = self
            .get(&format!("/api/incidents/{id}/timeline"), &self.viewer)
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
        answer.body["events"].as_array().unwrap().len()
    }

    async fn total(&self) -> u64 {
        let answer = self.get("/api/incidents", &self.viewer).await;
        assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
        answer.body["total"].as_u64().unwrap()
    }
}

/// A web UI answer: status, headers and the body as text.
#[derive(Debug)]
struct Page {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Page {
    async fn from(response: reqwest::Response) -> Page {
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.text().await.unwrap();
        Page {
            status,
            headers,
            body,
        }
    }

    /// Where a redirect points.
    fn location(&self) -> &str {
        self.headers
            .get(reqwest::header::LOCATION)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
    }
}

/// The scenario ids of the example plan, read from the file.
fn scenarios() -> Vec<String> {
    let (_, loaded) = plan_files::load(&example_plan(), jiff::Timestamp::now()).unwrap();
    loaded
        .plan
        .expect("the example plan loads")
        .scenarios
        .iter()
        .map(|scenario| scenario.id.to_string())
        .collect()
}
