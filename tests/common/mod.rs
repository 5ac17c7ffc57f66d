//! Test helpers: fixtures, a scripted HTTP/1.1 server on 127.0.0.1 that
//! answers each connection with the next scripted response, in order, and
//! records what it received — for the sequences httpmock cannot express (a
//! 429 then a 200, an event stream in pieces, a dropped connection); a
//! strict `multipart/form-data` parser to read uploads back; and a routed
//! server that answers every request in its own task, so that answers can
//! overlap and come out of order.

#![allow(dead_code)]

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::Notify;

/// The API key every test client sends.
pub const KEY: &str = "phak_test";

/// A client of `url` with the retry policy `retry`, sending [`KEY`].
pub fn client(url: &str, retry: phala_cloud::RetryPolicy) -> phala_cloud::Client {
    phala_cloud::Client::builder()
        .api_key(KEY)
        .base_url(url)
        .retry_policy(retry)
        .build()
        .unwrap()
}

/// The text of `tests/fixtures/<name>`.
pub fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// One request as the server received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The query parameters, decoded, in order.
    pub fn query(&self) -> Vec<(String, String)> {
        phala_cloud::reqwest::Url::parse(&format!("http://h{}", self.path))
            .map(|url| url.query_pairs().into_owned().collect())
            .unwrap_or_default()
    }

    /// The first value of query parameter `name`.
    pub fn param(&self, name: &str) -> Option<String> {
        self.query()
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }
}

/// A response: status line, headers and body; the connection closes after it.
pub fn response(status: u16, headers: &[(&str, &str)], body: &str) -> String {
    response_on(status, headers, body, "close")
}

/// A JSON response after which a [`RoutedServer`] keeps the connection open
/// for the client's next request.
pub fn json_keep_alive(status: u16, body: &str) -> String {
    response_on(
        status,
        &[("content-type", "application/json")],
        body,
        "keep-alive",
    )
}

fn response_on(status: u16, headers: &[(&str, &str)], body: &str, connection: &str) -> String {
    let mut out = format!(
        "HTTP/1.1 {status} Scripted\r\ncontent-length: {}\r\nconnection: {connection}\r\n",
        body.len()
    );
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(body);
    out
}

pub fn json(status: u16, body: &str) -> String {
    response(status, &[("content-type", "application/json")], body)
}

pub struct ScriptedServer {
    pub url: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
}

impl ScriptedServer {
    pub async fn start(script: Vec<String>) -> Self {
        Self::start_in_pieces(script.into_iter().map(|a| vec![a.into_bytes()]).collect()).await
    }

    /// Like `start`, but each answer is written piece by piece, each piece
    /// flushed and followed by a short pause, so that the client receives
    /// them as separate chunks. The connection is closed after the last one.
    pub async fn start_in_pieces(script: Vec<Vec<Vec<u8>>>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let recorded = requests.clone();
        tokio::spawn(async move {
            let mut script = script.into_iter();
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                let _ = stream.set_nodelay(true);
                let Some(request) = read_request(&mut stream).await else {
                    continue;
                };
                recorded.lock().unwrap().push(request);
                let answer = script
                    .next()
                    .unwrap_or_else(|| vec![response(599, &[], "unscripted request").into_bytes()]);
                let last = answer.len().saturating_sub(1);
                for (i, piece) in answer.iter().enumerate() {
                    if stream.write_all(piece).await.is_err() || stream.flush().await.is_err() {
                        break;
                    }
                    if i < last {
                        tokio::time::sleep(Duration::from_millis(2)).await;
                    }
                }
                let _ = stream.shutdown().await;
            }
        });
        Self { url, requests }
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }
}

async fn read_request(stream: &mut tokio::net::TcpStream) -> Option<Recorded> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let (method, path) = (first.next()?.to_string(), first.next()?.to_string());
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(Recorded {
        method,
        path,
        headers,
        body,
    })
}

/// The head of a Server-Sent Events answer; the body runs until the server
/// closes the connection.
pub fn sse_head() -> Vec<u8> {
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\nconnection: close\r\n\r\n"
        .to_vec()
}

/// The head of an answer that promises more body than the server will send
/// before it closes: the client sees the connection drop mid-body.
pub fn sse_head_then_drop() -> Vec<u8> {
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-length: 100000\r\nconnection: close\r\n\r\n"
        .to_vec()
}

/// One part of a `multipart/form-data` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormPart {
    pub name: String,
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

/// Parses a `multipart/form-data` body as a server would, strictly: CRLF
/// framing, the boundary from `content_type`, the closing delimiter last.
pub fn parse_multipart(content_type: &str, body: &[u8]) -> Vec<FormPart> {
    let (media, boundary) = content_type.split_once(';').expect("a boundary parameter");
    assert_eq!(media.trim(), "multipart/form-data");
    let boundary = boundary
        .trim()
        .strip_prefix("boundary=")
        .expect("boundary=")
        .trim_matches('"');
    let open = format!("--{boundary}\r\n");
    let close = format!("\r\n--{boundary}--\r\n");
    assert!(
        body.starts_with(open.as_bytes()),
        "opens with the delimiter"
    );
    assert!(
        body.ends_with(close.as_bytes()),
        "ends with the closing delimiter"
    );
    let inner = &body[open.len()..body.len() - close.len()];
    let separator = format!("\r\n--{boundary}\r\n");
    split(inner, separator.as_bytes())
        .into_iter()
        .map(|part| {
            let head_end = find(part, b"\r\n\r\n").expect("part headers end");
            let head = std::str::from_utf8(&part[..head_end]).expect("ASCII part headers");
            let mut parsed = FormPart {
                name: String::new(),
                filename: None,
                content_type: None,
                body: part[head_end + 4..].to_vec(),
            };
            for line in head.split("\r\n") {
                let (name, value) = line.split_once(':').expect("a header");
                match name.trim().to_ascii_lowercase().as_str() {
                    "content-disposition" => {
                        let mut params = value.split(';').map(str::trim);
                        assert_eq!(params.next(), Some("form-data"));
                        for param in params {
                            let (key, value) = param.split_once('=').expect("key=value");
                            let value = value.trim_matches('"').to_string();
                            match key {
                                "name" => parsed.name = value,
                                "filename" => parsed.filename = Some(value),
                                other => panic!("unexpected parameter {other}"),
                            }
                        }
                    }
                    "content-type" => parsed.content_type = Some(value.trim().to_string()),
                    other => panic!("unexpected part header {other}"),
                }
            }
            parsed
        })
        .collect()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn split<'a>(mut bytes: &'a [u8], separator: &[u8]) -> Vec<&'a [u8]> {
    let mut parts = Vec::new();
    while let Some(at) = find(bytes, separator) {
        parts.push(&bytes[..at]);
        bytes = &bytes[at + separator.len()..];
    }
    parts.push(bytes);
    parts
}

/// What a [`RoutedServer`] received and answered, each in order.
#[derive(Default)]
pub struct Log {
    received: Mutex<Vec<Recorded>>,
    answered: Mutex<Vec<Recorded>>,
    changed: Notify,
}

impl Log {
    pub fn received(&self) -> Vec<Recorded> {
        self.received.lock().unwrap().clone()
    }

    /// The requests whose answers were written, in the order they were.
    pub fn answered(&self) -> Vec<Recorded> {
        self.answered.lock().unwrap().clone()
    }

    /// Waits until `done` holds for the answered requests.
    pub async fn until_answered(&self, done: impl Fn(&[Recorded]) -> bool) {
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if done(&self.answered.lock().unwrap()) {
                return;
            }
            changed.await;
        }
    }
}

/// A server on 127.0.0.1 that answers every connection in its own task with
/// `answer(request, log)`, so that answers overlap and finish in whatever
/// order their handlers do. A connection stays open for more requests when
/// the answer says `connection: keep-alive` ([`json_keep_alive`]).
pub struct RoutedServer {
    pub url: String,
    pub log: Arc<Log>,
}

impl RoutedServer {
    pub async fn start<F, Fut>(answer: F) -> Self
    where
        F: Fn(Recorded, Arc<Log>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = String> + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let log = Arc::new(Log::default());
        let answer = Arc::new(answer);
        let shared = log.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                let (log, answer) = (shared.clone(), answer.clone());
                tokio::spawn(async move {
                    while let Some(request) = read_request(&mut stream).await {
                        log.received.lock().unwrap().push(request.clone());
                        log.changed.notify_waiters();
                        let response = answer(request.clone(), log.clone()).await;
                        let close = response.contains("\r\nconnection: close\r\n");
                        let _ = stream.write_all(response.as_bytes()).await;
                        if close {
                            let _ = stream.shutdown().await;
                        }
                        log.answered.lock().unwrap().push(request);
                        log.changed.notify_waiters();
                        if close {
                            return;
                        }
                    }
                });
            }
        });
        Self { url, log }
    }
}
