//! Helpers the server tests share: polling with a deadline, free ports, and a webhook receiver.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

/// How long anything a test waits for may take.
pub(crate) const PATIENCE: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(100);

/// Calls `check` every [`POLL`] until it gives `Ok`; after [`PATIENCE`], panics with `what`
/// and the last `Err`, which says what was seen instead.
#[track_caller]
pub(crate) fn wait_for<T>(what: &str, mut check: impl FnMut() -> Result<T, String>) -> T {
    let deadline = Instant::now() + PATIENCE;
    loop {
        match check() {
            Ok(value) => return value,
            Err(seen) if Instant::now() >= deadline => {
                panic!("gave up after {PATIENCE:?} waiting for {what}; last seen:\n{seen}")
            }
            Err(_) => std::thread::sleep(POLL),
        }
    }
}

/// A port the kernel reports free right now.
pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// One HTTP request as received: lower-case header names, the body's bytes.
pub(crate) struct Request {
    pub(crate) start_line: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Request {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// Reads one HTTP/1.1 request (headers, then a `Content-Length` body) and answers 200.
fn serve_one(stream: TcpStream) -> std::io::Result<Request> {
    stream.set_read_timeout(Some(PATIENCE))?;
    let mut reader = BufReader::new(stream);
    let mut start_line = String::new();
    reader.read_line(&mut start_line)?;
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    let length = headers
        .iter()
        .find(|(name, _)| name == "content-length")
        .and_then(|(_, value)| value.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    reader
        .get_mut()
        .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")?;
    Ok(Request {
        start_line: start_line.trim_end().to_owned(),
        headers,
        body,
    })
}

/// A local HTTP receiver for the plan's webhook channel: every request is answered 200 and
/// handed to the test.
pub(crate) struct Sink {
    pub(crate) url: String,
    received: mpsc::Receiver<Request>,
}

impl Sink {
    pub(crate) fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("the sink listens");
        let url = format!(
            "http://{}/hook",
            listener.local_addr().expect("a local address")
        );
        let (sender, received) = mpsc::channel();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(request) = stream.and_then(serve_one) else {
                    continue;
                };
                if sender.send(request).is_err() {
                    return;
                }
            }
        });
        Self { url, received }
    }

    #[track_caller]
    pub(crate) fn next(&self) -> Request {
        self.received
            .recv_timeout(PATIENCE)
            .unwrap_or_else(|_| panic!("no request reached the sink within {PATIENCE:?}"))
    }

    /// Takes received requests until one's JSON body satisfies `wanted`, and returns that body.
    #[track_caller]
    pub(crate) fn next_json_where(&self, wanted: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + PATIENCE;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let Ok(request) = self.received.recv_timeout(left) else {
                panic!("no such request within {PATIENCE:?}; received: {seen:#?}");
            };
            let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
            if wanted(&body) {
                return body;
            }
            seen.push(body);
        }
    }
}
