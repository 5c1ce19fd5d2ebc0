//! The web UI in a real browser: headless Chromium, driven through chromedriver, signs in,
//! declares an incident, watches its timeline change live, works its checklist and its gated
//! decision, publishes to the public status page and resolves the incident; and the same pages
//! used by keyboard alone.
//!
//! chromedriver comes from `MUSTER_TEST_CHROMEDRIVER` (else `chromedriver` on `PATH`) and the
//! browser from `MUSTER_TEST_CHROMIUM` (else `chromium` on `PATH`, else chromedriver's own
//! choice); `scripts/test` installs both through scripts/lib/chromium.sh. Each test runs its own
//! chromedriver on a free port and every browser session gets a fresh profile. Screenshots are
//! written to `MUSTER_TEST_SCREENSHOTS` (default: target/screenshots).

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::elements::Element;
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use muster_core::access::Role;
use muster_engine::{EngineOptions, SystemClock};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::Server;

/// How long any one thing may take to appear: a page, a live timeline item, chromedriver.
const PATIENCE: Duration = Duration::from_secs(10);
/// How often a condition is checked again while waiting for it.
const POLL: Duration = Duration::from_millis(50);

/// What keeps headless Chromium quiet on a closed network and runnable as root in a container.
const CHROMIUM_FLAGS: [&str; 8] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
];

const NOTE: &str = "internal: suspect oracle";
const PUBLIC_TITLE: &str = "Delayed withdrawals";
const PUBLIC_MESSAGE: &str = "We are investigating delayed withdrawals from vaults.";

fn war_room_plan() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/api/fixtures/war-room.yaml")
}

fn named(variable: &str) -> Option<OsString> {
    std::env::var_os(variable).filter(|value| !value.is_empty())
}

/// `program` found in one of the `PATH` directories.
fn on_path(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

fn chromedriver() -> PathBuf {
    named("MUSTER_TEST_CHROMEDRIVER")
        .map(PathBuf::from)
        .or_else(|| on_path("chromedriver"))
        .unwrap_or_else(|| {
            panic!(
                "MUSTER_TEST_CHROMEDRIVER names the chromedriver these tests drive Chromium \
                 with, and there is no chromedriver on PATH either; run scripts/test, or first \
                 `source scripts/lib/chromium.sh && start_chromium_tools` (as root: apt-get \
                 install chromium chromium-driver)"
            )
        })
}

fn chromium() -> Option<PathBuf> {
    named("MUSTER_TEST_CHROMIUM")
        .map(PathBuf::from)
        .or_else(|| on_path("chromium"))
}

fn screenshots() -> PathBuf {
    named("MUSTER_TEST_SCREENSHOTS").map_or_else(
        || {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../target/screenshots"
            ))
        },
        PathBuf::from,
    )
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// The screen a browser session has.
#[derive(Debug, Clone, Copy)]
enum Screen {
    /// A laptop's window, 1280×900.
    Desktop,
    /// A phone held upright, 390×844 CSS pixels, emulated as a touch device.
    Phone,
}

/// A chromedriver of this test, with the profiles of its browsers. Dropping it kills its whole
/// process group: chromedriver and every Chromium it started, even after a failed assertion.
#[derive(Debug)]
struct Driver {
    child: Child,
    url: String,
    log: PathBuf,
    sessions: AtomicU32,
    dir: tempfile::TempDir,
}

impl Driver {
    /// Starts chromedriver on a free port and waits until it reports itself ready.
    async fn start() -> Driver {
        let program = chromedriver();
        let dir = tempfile::tempdir().expect("a directory for chromedriver");
        let log = dir.path().join("chromedriver.log");
        let port = free_port();
        let child = Command::new(&program)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|error| panic!("cannot run {}: {error}", program.display()));
        let mut driver = Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
            log,
            sessions: AtomicU32::new(0),
            dir,
        };
        driver.wait_ready().await;
        driver
    }

    /// Polls `GET /status` until chromedriver says it is ready.
    async fn wait_ready(&mut self) {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(1))
            .build()
            .unwrap();
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Ok(Some(exit)) = self.child.try_wait() {
                panic!(
                    "chromedriver exited ({exit}) before it was ready:\n{}",
                    self.log_text()
                );
            }
            let seen = match http.get(format!("{}/status", self.url)).send().await {
                Ok(answer) => {
                    let body: Value = answer.json().await.unwrap_or_default();
                    if body["value"]["ready"] == true {
                        return;
                    }
                    body.to_string()
                }
                Err(error) => error.to_string(),
            };
            assert!(
                Instant::now() < deadline,
                "chromedriver was not ready after {PATIENCE:?} ({seen}):\n{}",
                self.log_text()
            );
            tokio::time::sleep(POLL).await;
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// A new browser session with its own profile.
    async fn session(&self, screen: Screen) -> Client {
        let number = self.sessions.fetch_add(1, Ordering::Relaxed);
        let profile = self.dir.path().join(format!("profile-{number}"));
        let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|&flag| flag.to_owned()).collect();
        args.push(format!("--user-data-dir={}", profile.display()));
        let mut options = json!({});
        match screen {
            Screen::Desktop => args.push("--window-size=1280,900".to_owned()),
            Screen::Phone => {
                // Headless windows are never narrower than 500 pixels; the phone's screen is
                // emulated inside the window instead.
                args.push("--window-size=390,844".to_owned());
                options["mobileEmulation"] = json!({
                    "deviceMetrics": {"width": 390, "height": 844, "pixelRatio": 1.0, "mobile": true, "touch": true}
                });
            }
        }
        options["args"] = json!(args);
        if let Some(binary) = chromium() {
            options["binary"] = json!(binary);
        }
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".to_owned(), json!("chrome"));
        capabilities.insert("goog:chromeOptions".to_owned(), options);
        ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&self.url)
            .await
            .unwrap_or_else(|error| {
                panic!(
                    "chromedriver did not start Chromium: {error}\n{}",
                    self.log_text()
                )
            })
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The group id is chromedriver's pid (`process_group(0)`); Chromium inherits it.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An `XPath` test that an element has `class` among its classes.
fn has_class(class: &str) -> String {
    format!("contains(concat(' ', normalize-space(@class), ' '), ' {class} ')")
}

/// Waits until `locator` finds an element; on time-out, fails with what the page shows.
async fn wait_for(client: &Client, locator: Locator<'_>, what: &str) -> Element {
    match client
        .wait()
        .at_most(PATIENCE)
        .every(POLL)
        .for_element(locator)
        .await
    {
        Ok(element) => element,
        Err(error) => {
            let url = client
                .current_url()
                .await
                .map(|url| url.to_string())
                .unwrap_or_default();
            let text = match client.find(Locator::Css("body")).await {
                Ok(body) => body.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            let text: String = text.chars().take(2000).collect();
            panic!(
                "gave up after {PATIENCE:?} waiting for {what} ({error}) on {url}; the page \
                 reads:\n{text}"
            )
        }
    }
}

async fn find(client: &Client, css: &str) -> Element {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|error| panic!("the page has no {css}: {error}"))
}

async fn text(client: &Client, css: &str) -> String {
    find(client, css)
        .await
        .text()
        .await
        .unwrap()
        .trim()
        .to_owned()
}

/// Makes `element` visible the way a person would: by opening the folded `<details>` it is in.
async fn reveal(element: &Element) {
    while !element.is_displayed().await.unwrap() {
        let Ok(fold) = element
            .find(Locator::XPath("ancestor::details[not(@open)][1]/summary"))
            .await
        else {
            return;
        };
        fold.click().await.unwrap();
    }
}

/// Types `value` into the field `css` (emptied first).
async fn fill(client: &Client, css: &str, value: &str) {
    let field = find(client, css).await;
    reveal(&field).await;
    field.clear().await.unwrap();
    field.send_keys(value).await.unwrap();
}

async fn choose(client: &Client, css: &str, value: &str) {
    find(client, css)
        .await
        .select_by_value(value)
        .await
        .unwrap_or_else(|error| panic!("{css} has no option {value}: {error}"));
}

/// Clicks the submit button of the form `form`.
async fn submit(client: &Client, form: &str) {
    let button = find(
        client,
        &format!("{form} button:not([type=button]):not([type=reset])"),
    )
    .await;
    reveal(&button).await;
    button.click().await.unwrap();
}

async fn path(client: &Client) -> String {
    client.current_url().await.unwrap().path().to_owned()
}

async fn screenshot(client: &Client, name: &str) {
    let png = client.screenshot().await.unwrap();
    let dir = screenshots();
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
}

/// Presses and releases one key where the focus is.
async fn press(client: &Client, key: Key) {
    let value: char = key.into();
    let keys = KeyActions::new("keyboard".to_owned())
        .then(KeyAction::Down { value })
        .then(KeyAction::Up { value });
    client.perform_actions(keys).await.unwrap();
}

/// Opens `path` signed out, which must lead to the sign-in form coming back to `path`, and
/// types `token` into it. Returns the token field, not yet submitted.
async fn sign_in_form(client: &Client, server: &Server, path: &str, token: &str) -> Element {
    client
        .goto(&format!("{}{path}", server.base))
        .await
        .unwrap();
    let field = wait_for(client, Locator::Css("input#token"), "the sign-in form").await;
    let url = client.current_url().await.unwrap();
    assert_eq!(url.path(), "/login", "{url}");
    let next: Vec<String> = url
        .query_pairs()
        .filter(|(key, _)| key == "next")
        .map(|(_, value)| value.into_owned())
        .collect();
    assert_eq!(next, [path], "{url}");
    field.send_keys(token).await.unwrap();
    field
}

/// A token acting for the plan person `person`, with the responder role.
async fn token_for(server: &Server, person: &str) -> String {
    server
        .engine
        .create_token(&format!("{person}-browser"), Role::Responder, Some(person))
        .await
        .unwrap()
}

async fn start() -> Server {
    Server::start_with_plan(
        &war_room_plan(),
        Arc::new(SystemClock),
        EngineOptions::default(),
    )
    .await
}

#[tokio::test]
async fn a_responder_works_an_incident_from_declaration_to_resolution_in_the_browser() {
    let server = start().await;
    let alice = token_for(&server, "alice").await;
    let bob = token_for(&server, "bob").await;
    let carol = token_for(&server, "carol").await;
    let driver = Driver::start().await;
    let client = driver.session(Screen::Desktop).await;

    // Signing in from the declaration form comes back to it.
    sign_in_form(&client, &server, "/incidents/new", &alice).await;
    screenshot(&client, "login").await;
    submit(&client, r#"form[action="/login"]"#).await;
    wait_for(
        &client,
        Locator::Css("form#declare"),
        "the declaration form",
    )
    .await;
    assert_eq!(path(&client).await, "/incidents/new");

    let title = "Withdrawals drain the main pool";
    fill(&client, "form#declare input[name=title]", title).await;
    choose(&client, "form#declare select[name=scenario]", "pool-drain").await;
    choose(&client, "form#declare select[name=severity]", "P1").await;
    choose(&client, "form#declare select[name=category]", "exploit").await;
    fill(
        &client,
        "form#declare textarea[name=summary]",
        "Withdrawals without matching deposits since 14:02.",
    )
    .await;
    let drill = find(&client, "form#declare input[name=drill]").await;
    assert!(
        !drill.is_selected().await.unwrap(),
        "a real incident, not a drill"
    );
    submit(&client, "form#declare").await;

    let heading = wait_for(
        &client,
        Locator::Css("h1#incident-title"),
        "the new incident's page",
    )
    .await;
    assert_eq!(heading.text().await.unwrap().trim(), title);
    let incident_path = path(&client).await;
    let id = incident_path
        .strip_prefix("/incidents/")
        .filter(|id| !id.is_empty() && *id != "new" && !id.contains('/'))
        .unwrap_or_else(|| panic!("the declaration lands on its incident, not {incident_path}"))
        .to_owned();
    let declared = server
        .get(&format!("/api/incidents/{id}"), &server.viewer)
        .await;
    assert_eq!(declared.status, StatusCode::OK, "{declared:?}");
    assert_eq!(declared.body["scenario"], "pool-drain", "{declared:?}");
    assert_eq!(declared.body["drill"], false, "{declared:?}");
    assert_eq!(text(&client, "#summary #severity").await, "P1");
    assert_eq!(text(&client, "#summary #acknowledged").await, "no");
    assert!(!text(&client, "#summary #status").await.is_empty());

    // A note added elsewhere appears at the top of the timeline without a reload.
    wait_for(
        &client,
        Locator::XPath(r#"//*[@id="live-state"][normalize-space()="live"]"#),
        "the live timeline to connect",
    )
    .await;
    client
        .execute("window.musterSamePage = true;", vec![])
        .await
        .unwrap();
    let noted = server
        .command(&id, &json!({"command": "add_note", "text": NOTE}))
        .await;
    assert_eq!(noted.status, StatusCode::OK, "{noted:?}");
    let item = wait_for(
        &client,
        Locator::XPath(&format!(
            r#"//ul[@id="timeline"]/li[{}][contains(., "{NOTE}")]"#,
            has_class("k-note_added")
        )),
        "the note to arrive in the timeline",
    )
    .await;
    assert!(
        item.find(Locator::Css(".what"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
            .contains(NOTE)
    );
    let newest = find(&client, "ul#timeline > li").await;
    assert_eq!(
        newest.attr("id").await.unwrap(),
        item.attr("id").await.unwrap()
    );
    assert!(
        newest
            .attr("id")
            .await
            .unwrap()
            .unwrap_or_default()
            .starts_with("event-")
    );
    assert_eq!(
        client
            .execute("return window.musterSamePage === true;", vec![])
            .await
            .unwrap(),
        true,
        "the page was not reloaded"
    );

    // Acknowledging.
    submit(&client, "form#ack").await;
    wait_for(
        &client,
        Locator::XPath(
            r#"//*[@id="acknowledged"][normalize-space()!="" and normalize-space()!="no"]"#,
        ),
        "the incident to show as acknowledged",
    )
    .await;
    wait_for(
        &client,
        Locator::XPath(&format!(
            r#"//ul[@id="timeline"]/li[{}]"#,
            has_class("k-acknowledged")
        )),
        "the acknowledgement in the timeline",
    )
    .await;

    // Pausing the pool waits for Bob and Carol.
    wait_for(
        &client,
        Locator::Css("ul#checklist li#step-pause.blocked"),
        "the pause step, blocked",
    )
    .await;
    let button = find(&client, "li#step-pause form.step-done button").await;
    assert!(
        !button.is_enabled().await.unwrap(),
        "the done button is disabled while the decision lacks its approvals"
    );
    for (token, approver) in [(&bob, "bob"), (&carol, "carol")] {
        let approved = server
            .post(
                &format!("/api/incidents/{id}/commands"),
                token,
                &json!({"command": "approve", "decision": "pause-pool", "approver": approver}),
            )
            .await;
        assert_eq!(approved.status, StatusCode::OK, "{approver}: {approved:?}");
    }
    client.refresh().await.unwrap();
    let button = wait_for(
        &client,
        Locator::Css("li#step-pause:not(.blocked) form.step-done button:enabled"),
        "the pause step's done button, enabled",
    )
    .await;
    button.click().await.unwrap();
    wait_for(
        &client,
        Locator::Css("ul#checklist li#step-pause.done"),
        "the pause step, done",
    )
    .await;

    // A status-page update.
    wait_for(&client, Locator::Css("form#publish"), "the publish form").await;
    choose(&client, "form#publish select[name=state]", "investigating").await;
    fill(&client, "form#publish input[name=title]", PUBLIC_TITLE).await;
    fill(
        &client,
        "form#publish textarea[name=message]",
        PUBLIC_MESSAGE,
    )
    .await;
    let vaults = find(&client, "form#publish input[name=components][value=vaults]").await;
    if !vaults.is_selected().await.unwrap() {
        vaults.click().await.unwrap();
    }
    choose(
        &client,
        "form#publish select[name=impact]",
        "partial_outage",
    )
    .await;
    submit(&client, "form#publish").await;
    wait_for(
        &client,
        Locator::XPath(&format!(
            r#"//ul[@id="timeline"]/li[{}]"#,
            has_class("k-update_published")
        )),
        "the published update in the timeline",
    )
    .await;

    // The public page, signed out, shows the update and nothing internal.
    let public = driver.session(Screen::Desktop).await;
    public
        .goto(&format!("{}/status", server.base))
        .await
        .unwrap();
    wait_for(
        &public,
        Locator::XPath(&format!(r#"//body[contains(., "{PUBLIC_MESSAGE}")]"#)),
        "the published message on the status page",
    )
    .await;
    assert_eq!(path(&public).await, "/status");
    let page = text(&public, "body").await;
    assert_eq!(page.matches(PUBLIC_MESSAGE).count(), 1, "{page}");
    assert!(page.contains(PUBLIC_TITLE), "{page}");
    assert!(page.contains("Vaults"), "{page}");
    assert!(page.contains("Web app"), "{page}");
    let source = public.source().await.unwrap();
    assert!(!source.contains(NOTE), "{source}");
    assert!(
        !source.contains("<script"),
        "the status page needs no script"
    );
    screenshot(&public, "status").await;
    public.close().await.unwrap();

    // Resolving.
    fill(
        &client,
        "form#resolve textarea[name=summary]",
        "Paused the pool; the oracle feed was replaced and withdrawals match deposits again.",
    )
    .await;
    submit(&client, "form#resolve").await;
    wait_for(
        &client,
        Locator::XPath(r#"//*[@id="status"][normalize-space()="resolved"]"#),
        "the incident to show as resolved",
    )
    .await;
    wait_for(&client, Locator::Css("form#reopen"), "the reopen form").await;
    screenshot(&client, "incident").await;

    client
        .goto(&format!("{}/incidents", server.base))
        .await
        .unwrap();
    wait_for(
        &client,
        Locator::XPath(&format!(r#"//main[@id="main"][contains(., "{title}")]"#)),
        "the incident list",
    )
    .await;
    assert_eq!(path(&client).await, "/incidents");
    screenshot(&client, "incidents").await;

    client.goto(&format!("{}/", server.base)).await.unwrap();
    wait_for(&client, Locator::Css("main#main"), "the dashboard").await;
    assert_eq!(path(&client).await, "/");
    screenshot(&client, "dashboard").await;
    client.close().await.unwrap();

    // The incident on a phone.
    let phone = driver.session(Screen::Phone).await;
    sign_in_form(&phone, &server, &incident_path, &alice).await;
    submit(&phone, r#"form[action="/login"]"#).await;
    wait_for(
        &phone,
        Locator::Css("h1#incident-title"),
        "the incident page on a phone",
    )
    .await;
    assert_eq!(
        phone
            .execute("return window.innerWidth;", vec![])
            .await
            .unwrap(),
        390
    );
    screenshot(&phone, "incident-phone").await;
    phone.close().await.unwrap();

    drop(driver);
    server.stop().await;
}

#[tokio::test]
async fn the_keyboard_alone_signs_in_and_acknowledges() {
    let server = start().await;
    let alice = token_for(&server, "alice").await;
    let id = server.declare("Oracle price stale", "pool-drain").await;
    let driver = Driver::start().await;
    let client = driver.session(Screen::Desktop).await;

    // Enter in the token field submits the sign-in form.
    let field = sign_in_form(&client, &server, &format!("/incidents/{id}"), &alice).await;
    field.send_keys(&Key::Enter).await.unwrap();
    wait_for(
        &client,
        Locator::Css("h1#incident-title"),
        "the incident page after signing in by keyboard",
    )
    .await;
    assert_eq!(text(&client, "#summary #acknowledged").await, "no");

    // Tab reaches the acknowledge button, and Enter presses it.
    let mut reached = false;
    for _ in 0..80 {
        press(&client, Key::Tab).await;
        let focused = client
            .execute(
                "return document.activeElement !== null \
                 && document.activeElement.matches('form#ack button');",
                vec![],
            )
            .await
            .unwrap();
        if focused == true {
            reached = true;
            break;
        }
    }
    assert!(reached, "Tab never reached the acknowledge button");
    press(&client, Key::Enter).await;
    wait_for(
        &client,
        Locator::XPath(
            r#"//*[@id="acknowledged"][normalize-space()!="" and normalize-space()!="no"]"#,
        ),
        "the incident to show as acknowledged",
    )
    .await;
    let incident = server
        .get(&format!("/api/incidents/{id}"), &server.viewer)
        .await;
    assert!(incident.body["acknowledged_at"].is_i64(), "{incident:?}");

    client.close().await.unwrap();
    drop(driver);
    server.stop().await;
}
