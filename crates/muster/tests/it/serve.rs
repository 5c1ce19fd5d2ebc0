//! `muster serve` end to end: a real server process on a temporary SQLite file, then on a fresh
//! PostgreSQL database, driven by the real CLI (`muster token`, `muster incident`, `muster audit`).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, Command, Output, Stdio};

use muster_core::incident::IncidentId;
use muster_core::incident::signature::{approval_message, sign_eth_personal};
use serde_json::Value;

/// Anvil's published development keys; the example plan gives mara, daniel and yuki these
/// accounts so drills can be signed locally.
const MARA_KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const DANIEL_KEY: &str = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

pub(crate) fn example_plan() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/smart-contract-protocol.yaml")
}

pub(crate) fn muster(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_muster"));
    command.args(args).env("NO_COLOR", "1");
    for key in [
        "MUSTER_URL",
        "MUSTER_TOKEN",
        "MUSTER_DATABASE_URL",
        "MUSTER_PLAN",
    ] {
        command.env_remove(key);
    }
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("the muster binary runs")
}

pub(crate) fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub(crate) fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[track_caller]
pub(crate) fn ok(output: &Output) -> String {
    assert!(
        output.status.success(),
        "expected success, got {:?}\nstdout: {}\nstderr: {}",
        output.status.code(),
        stdout(output),
        stderr(output)
    );
    stdout(output)
}

/// A running `muster serve`, stopped when dropped.
pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) url: String,
    pub(crate) database: String,
    /// The server's log, when the test reads it.
    log: Option<BufReader<ChildStderr>>,
}

impl Server {
    pub(crate) fn start(database: &str) -> Self {
        Self::start_with(database, &example_plan(), false)
    }

    pub(crate) fn start_with(database: &str, plan: &Path, read_log: bool) -> Self {
        Self::start_with_env(database, plan, read_log, &[])
    }

    /// Starts a server with extra environment variables (integration keys, channel secrets).
    pub(crate) fn start_with_env(
        database: &str,
        plan: &Path,
        read_log: bool,
        env: &[(&str, &str)],
    ) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_muster"))
            .args(["serve", "--listen", "127.0.0.1:0", "--database", database])
            .arg("--plan")
            .arg(plan)
            .envs(env.iter().copied())
            .env("MUSTER_LOG", if read_log { "info" } else { "warn" })
            .stdout(Stdio::piped())
            .stderr(if read_log {
                Stdio::piped()
            } else {
                Stdio::inherit()
            })
            .spawn()
            .expect("muster serve starts");
        let log = child.stderr.take().map(BufReader::new);
        // The server prints its address once it is listening; reading the line waits for that.
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped stdout"))
            .read_line(&mut line)
            .expect("the server prints its address");
        let url = line
            .split_whitespace()
            .find(|word| word.starts_with("http://"))
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .to_owned();
        Self {
            child,
            url,
            database: database.to_owned(),
            log,
        }
    }

    /// Reads the server's log up to the first line that contains `needle`; blocks until then.
    fn log_line_with(&mut self, needle: &str) -> String {
        let log = self.log.as_mut().expect("started with its log captured");
        let mut line = String::new();
        loop {
            line.clear();
            let read = log.read_line(&mut line).expect("the log is readable");
            assert!(read > 0, "the server stopped before logging {needle:?}");
            if line.contains(needle) {
                return line;
            }
        }
    }

    fn hang_up(&self) {
        let status = Command::new("kill")
            .args(["-HUP", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
    }

    pub(crate) fn token(&self, name: &str, role: &str, person: Option<&str>) -> String {
        let mut args = vec![
            "token",
            "create",
            "--name",
            name,
            "--role",
            role,
            "--database",
            &self.database,
        ];
        if let Some(person) = person {
            args.extend(["--person", person]);
        }
        ok(&muster(&args, &[])).trim().to_owned()
    }

    /// Runs `muster ARGS` against this server with a token.
    pub(crate) fn cli(&self, token: &str, args: &[&str]) -> Output {
        muster(args, &[("MUSTER_URL", &self.url), ("MUSTER_TOKEN", token)])
    }

    /// `muster ARGS --json` against this server, which must succeed; its JSON.
    pub(crate) fn cli_json(&self, token: &str, args: &[&str]) -> Value {
        let mut full = args.to_vec();
        full.push("--json");
        serde_json::from_str(&ok(&self.cli(token, &full))).expect("--json prints JSON")
    }

    /// Runs `muster incident …` against this server with a token.
    pub(crate) fn incident(&self, token: &str, args: &[&str]) -> Output {
        let mut full = vec!["incident"];
        full.extend(args);
        self.cli(token, &full)
    }

    pub(crate) fn json(&self, token: &str, args: &[&str]) -> Value {
        let mut full = vec!["incident"];
        full.extend(args);
        self.cli_json(token, &full)
    }

    /// Posts a JSON body to `path` with a bearer key; the status and the answer's text.
    pub(crate) fn post(&self, path: &str, key: &str, body: String) -> (u16, String) {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let url = format!("{}{path}", self.url);
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime")
            .block_on(async {
                let response = reqwest::Client::new()
                    .post(url)
                    .bearer_auth(key)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .expect("the server answers");
                let status = response.status().as_u16();
                (status, response.text().await.unwrap_or_default())
            })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn sign(key: &str, id: &str, approver: &str) -> String {
    let id: IncidentId = id.parse().expect("an incident id");
    sign_eth_personal(
        key,
        &approval_message(&id, &"pause-protocol".into(), &approver.into()),
    )
    .expect("a development key signs")
}

/// The whole life of an exploit incident, as the responders would run it.
fn incident_life(database: &str) {
    let server = Server::start(database);
    let admin = server.token("admin", "admin", None);
    let lena = server.token("lena", "responder", Some("lena"));
    let mara = server.token("mara", "responder", Some("mara"));
    let daniel = server.token("daniel", "responder", Some("daniel"));
    let viewer = server.token("dashboard", "viewer", None);

    let declared = server.json(
        &lena,
        &[
            "declare",
            "--title",
            "Pool drained through the flash-loan path",
            "--scenario",
            "treasury-drain",
        ],
    );
    let id = declared["incident"]["id"]
        .as_str()
        .expect("an id")
        .to_owned();
    assert!(id.starts_with("INC-") && id.ends_with("-001"), "{id}");
    assert_eq!(declared["incident"]["severity"], "P0");
    assert_eq!(declared["incident"]["runbook"], "contract-exploit");

    let acked = server.json(&lena, &["ack", &id]);
    assert_eq!(
        acked["events"][0]["kind"]["person"], "lena",
        "the token's person acknowledged"
    );
    ok(&server.incident(&lena, &["assign", &id, "incident-commander", "lena"]));
    ok(&server.incident(&lena, &["status", &id, "investigating"]));
    ok(&server.incident(&lena, &["step", &id, "confirm"]));

    // The pause is gated by the signers' decision: refused before quorum, with the reason.
    let refused = server.incident(&lena, &["step", &id, "pause"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("needs-approval"),
        "{}",
        stderr(&refused)
    );
    assert!(stderr(&refused).contains("0 of 2"), "{}", stderr(&refused));

    ok(&server.incident(
        &lena,
        &[
            "request",
            &id,
            "pause-protocol",
            "--reason",
            "funds still at risk",
        ],
    ));
    // An unsigned approval does not count; a signature for someone else is refused.
    let unsigned = server.incident(&mara, &["approve", &id, "pause-protocol", "--as", "mara"]);
    assert!(
        stderr(&unsigned).contains("signature-required"),
        "{}",
        stderr(&unsigned)
    );
    let forged = server.incident(
        &mara,
        &[
            "approve",
            &id,
            "pause-protocol",
            "--as",
            "mara",
            "--signature",
            &sign(DANIEL_KEY, &id, "mara"),
        ],
    );
    assert!(
        stderr(&forged).contains("bad-signature"),
        "{}",
        stderr(&forged)
    );
    // A token that acts for mara cannot approve as daniel.
    let impersonation = server.incident(
        &mara,
        &[
            "approve",
            &id,
            "pause-protocol",
            "--as",
            "daniel",
            "--signature",
            &sign(DANIEL_KEY, &id, "daniel"),
        ],
    );
    assert!(
        stderr(&impersonation).contains("not allowed"),
        "{}",
        stderr(&impersonation)
    );

    ok(&server.incident(
        &mara,
        &[
            "approve",
            &id,
            "pause-protocol",
            "--as",
            "mara",
            "--signature",
            &sign(MARA_KEY, &id, "mara"),
        ],
    ));
    let still = server.incident(&lena, &["step", &id, "pause"]);
    assert!(stderr(&still).contains("1 of 2"), "{}", stderr(&still));
    ok(&server.incident(
        &daniel,
        &[
            "approve",
            &id,
            "pause-protocol",
            "--as",
            "daniel",
            "--signature",
            &sign(DANIEL_KEY, &id, "daniel"),
        ],
    ));
    ok(&server.incident(
        &lena,
        &["step", &id, "pause", "--note", "Paused event seen"],
    ));
    ok(&server.incident(&lena, &["note", &id, "Attacker contract identified"]));

    // Resolving needs a summary; the CLI demands it and the server refuses a blank one.
    let blank = server.incident(&lena, &["resolve", &id, "--summary", " "]);
    assert_eq!(blank.status.code(), Some(1));
    assert!(
        stderr(&blank).contains("missing-text"),
        "{}",
        stderr(&blank)
    );
    ok(&server.incident(
        &lena,
        &[
            "resolve",
            &id,
            "--summary",
            "Pool paused, exploit path closed",
        ],
    ));

    // A viewer reads but cannot write.
    let shown = ok(&server.incident(&viewer, &["show", &id]));
    assert!(shown.contains("resolved"), "{shown}");
    assert!(shown.contains("[x] pause"), "{shown}");
    assert!(shown.contains("[x] confirm"), "{shown}");
    let denied = server.incident(&viewer, &["note", &id, "drive-by"]);
    assert_eq!(denied.status.code(), Some(1));
    assert!(
        stderr(&denied).contains("not allowed"),
        "{}",
        stderr(&denied)
    );

    let timeline = server.json(&viewer, &["timeline", &id]);
    let events = timeline["events"].as_array().expect("events");
    // Pages go out in the background: their `notified` events (failures here, as the example's
    // channels have no credentials in this environment) fall wherever they happen to land.
    let notified = events
        .iter()
        .filter(|event| event["kind"]["type"] == "notified")
        .count();
    assert!(notified >= 1, "the first page is attempted: {timeline:#}");
    let worked: Vec<&Value> = events
        .iter()
        .filter(|event| event["kind"]["type"] != "notified")
        .collect();
    let kinds: Vec<&str> = worked
        .iter()
        .map(|event| event["kind"]["type"].as_str().expect("a kind"))
        .collect();
    assert_eq!(
        kinds,
        [
            "declared",
            "escalated",
            "acknowledged",
            "role_assigned",
            "status_changed",
            "step_completed",
            "decision_requested",
            "approval_given",
            "approval_given",
            "step_completed",
            "note_added",
            "resolved",
        ]
    );
    let actors: Vec<&str> = worked
        .iter()
        .map(|event| event["actor"].as_str().expect("an actor"))
        .collect();
    assert_eq!(actors[7], "mara");
    assert_eq!(actors[8], "daniel");
    let mara_approval = worked[7]["seq"].as_i64().expect("a sequence number");
    let human = ok(&server.incident(&viewer, &["timeline", &id]));
    assert_eq!(human.lines().count(), events.len(), "{human}");

    let listed = server.json(&admin, &["list", "--finished"]);
    assert_eq!(listed["total"], 1);
    let open = server.json(&admin, &["list", "--open"]);
    assert_eq!(open["total"], 0);

    drop(server);
    let verified = muster(&["audit", "verify", "--database", database], &[]);
    assert!(
        ok(&verified).contains("every chain holds"),
        "{}",
        stdout(&verified)
    );

    // Someone with database access turns mara's approval into "mora"'s: one byte.
    forge_one_byte(database, &id, mara_approval);
    let audit = muster(&["audit", "verify", "--database", database], &[]);
    assert_eq!(audit.status.code(), Some(1), "{}", stdout(&audit));
    assert!(
        stdout(&audit).contains(&format!("BROKEN {id} event {mara_approval}:")),
        "{}",
        stdout(&audit)
    );
}

/// Changes one byte of a stored event's body behind Muster's back, as an attacker with database
/// access would: the append-only triggers are switched off first.
fn forge_one_byte(database: &str, incident: &str, seq: i64) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        if database.starts_with("postgres") {
            let pool = sqlx::PgPool::connect(database).await.expect("connects");
            sqlx::query("ALTER TABLE events DISABLE TRIGGER USER")
                .execute(&pool)
                .await
                .expect("triggers off");
            let changed = sqlx::query(
                "UPDATE events SET body = replace(body, '\"mara\"', '\"mora\"') WHERE incident = $1 AND seq = $2",
            )
            .bind(incident)
            .bind(seq)
            .execute(&pool)
            .await
            .expect("the forgery is written");
            assert_eq!(changed.rows_affected(), 1);
        } else {
            let pool = sqlx::SqlitePool::connect(&format!("sqlite://{database}"))
                .await
                .expect("opens");
            sqlx::query("DROP TRIGGER events_refuse_update")
                .execute(&pool)
                .await
                .expect("trigger dropped");
            let changed = sqlx::query(
                "UPDATE events SET body = replace(body, '\"mara\"', '\"mora\"') WHERE incident = ?1 AND seq = ?2",
            )
            .bind(incident)
            .bind(seq)
            .execute(&pool)
            .await
            .expect("the forgery is written");
            assert_eq!(changed.rows_affected(), 1);
        }
    });
}

pub(crate) fn sqlite_database(dir: &tempfile::TempDir) -> String {
    dir.path().join("muster.db").display().to_string()
}

#[test]
fn an_incident_is_worked_end_to_end_on_sqlite() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    incident_life(&sqlite_database(&dir));
}

pub(crate) fn scratch_postgres() -> String {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(muster_store::testing::scratch_postgres_url())
}

#[test]
fn an_incident_is_worked_end_to_end_on_postgres() {
    incident_life(&scratch_postgres());
}

#[test]
fn the_client_says_when_the_server_cannot_be_reached_or_refuses_the_token() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let database = sqlite_database(&dir);
    let server = Server::start(&database);
    let bad = server.incident("mst_not-a-real-token", &["list"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        stderr(&bad).contains("refused the token"),
        "{}",
        stderr(&bad)
    );

    let url = server.url.clone();
    drop(server);
    let unreachable = muster(
        &["incident", "list"],
        &[("MUSTER_URL", &url), ("MUSTER_TOKEN", "mst_x")],
    );
    assert_eq!(unreachable.status.code(), Some(2));
    assert!(
        stderr(&unreachable).contains("cannot reach the Muster server"),
        "{}",
        stderr(&unreachable)
    );

    let missing = muster(&["incident", "list"], &[("MUSTER_URL", &url)]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("MUSTER_TOKEN"),
        "{}",
        stderr(&missing)
    );
}

#[test]
fn serve_refuses_an_unknown_database_scheme_and_creates_nothing() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = format!("mysql://{}/muster", dir.path().display());
    let output = muster(
        &["serve", "--listen", "127.0.0.1:0", "--database", &url],
        &[(
            "MUSTER_PLAN",
            example_plan().to_str().expect("a UTF-8 path"),
        )],
    );
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("not a database Muster can use"),
        "{}",
        stderr(&output)
    );
    assert_eq!(std::fs::read_dir(dir.path()).expect("listable").count(), 0);
}

#[test]
fn sighup_reloads_a_clean_plan_and_keeps_the_running_one_otherwise() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let plan_path = dir.path().join("plan.yaml");
    let original = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/startup.yaml"),
    )
    .expect("the example reads");
    std::fs::write(&plan_path, &original).expect("the plan is written");
    let mut server = Server::start_with(&sqlite_database(&dir), &plan_path, true);
    let token = server.token("ops", "responder", None);
    let declare = |server: &Server| {
        server.json(
            &token,
            &[
                "declare",
                "--title",
                "Gas funds spiking",
                "--scenario",
                "gas-spike",
            ],
        )["incident"]["severity"]
            .clone()
    };
    assert_eq!(declare(&server), "P2");

    std::fs::write(&plan_path, "organization: {name: 3}\n").expect("a broken plan is written");
    server.hang_up();
    let refused = server.log_line_with("SIGHUP");
    assert!(refused.contains("the running plan stays"), "{refused}");
    assert_eq!(declare(&server), "P2");

    let raised = original.replace(
        "    severity: P2\n    runbook: gas-spike",
        "    severity: P1\n    runbook: gas-spike",
    );
    assert_ne!(raised, original);
    std::fs::write(&plan_path, raised).expect("the edited plan is written");
    server.hang_up();
    let reloaded = server.log_line_with("SIGHUP");
    assert!(reloaded.contains("plan reloaded"), "{reloaded}");
    assert_eq!(declare(&server), "P1");
}
