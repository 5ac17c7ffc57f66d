//! A hostile server on 127.0.0.1, for the limits tests: it answers each
//! connection as a script says — an endless body, a body that lies about
//! its length, one cut short, silence, a dropped connection — and counts
//! what it wrote.
//!
//! It is bounded itself, so that a client that fails to stop cannot hang or
//! flood the suite: an endless answer stops after [`MAX_WRITTEN`] bytes, a
//! connection is dropped after [`MAX_CONNECTION_TIME`], and the server stops
//! when dropped.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// The most one connection writes, whatever its script says.
pub const MAX_WRITTEN: u64 = 256 * 1024 * 1024;
/// The longest a connection stays open.
pub const MAX_CONNECTION_TIME: Duration = Duration::from_secs(30);

/// What the server does on one connection, once it has read the request.
#[derive(Debug, Clone)]
pub enum Answer {
    /// Writes these bytes and closes.
    Bytes(Vec<u8>),
    /// Writes `head`, then `chunk` over and over until the client stops
    /// reading (or [`MAX_WRITTEN`]).
    Endless {
        /// The status line and headers.
        head: Vec<u8>,
        /// The body's piece, repeated.
        chunk: Vec<u8>,
    },
    /// Writes `head`, then holds the connection open, silent.
    HeadThenSilence(Vec<u8>),
    /// Never answers; holds the connection open.
    Silence,
    /// Closes the connection at once, without an answer.
    Drop,
}

/// A head for a `status` answer with `headers`, and `connection: close`.
pub fn head(status: u16, headers: &[(&str, &str)]) -> Vec<u8> {
    let mut all = vec![("connection", "close")];
    all.extend_from_slice(headers);
    crate::http::head(status, &all).into_bytes()
}

/// A complete answer with a `Content-Length` body.
pub fn answer(status: u16, headers: &[(&str, &str)], body: &str) -> Answer {
    Answer::Bytes(crate::http::response(status, headers, body).into_bytes())
}

/// A JSON answer.
pub fn json(status: u16, body: &str) -> Answer {
    answer(status, &[("content-type", "application/json")], body)
}

/// A JSON answer whose head promises all of `body` (its `Content-Length`)
/// but whose connection closes after the first `sent` bytes of it: a proxy
/// or load balancer dropping the connection mid-body.
pub fn cut(status: u16, body: &str, sent: usize) -> Answer {
    let length = body.len().to_string();
    let mut bytes = head(
        status,
        &[
            ("content-type", "application/json"),
            ("content-length", &length),
        ],
    );
    bytes.extend_from_slice(&body.as_bytes()[..sent.min(body.len())]);
    Answer::Bytes(bytes)
}

/// The head of an answer whose body runs until the connection closes.
pub fn streaming_head(status: u16, content_type: &str) -> Vec<u8> {
    head(status, &[("content-type", content_type)])
}

/// The server; it stops when dropped.
pub struct Hostile {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    connections: Arc<AtomicUsize>,
    written: Arc<AtomicU64>,
    task: JoinHandle<()>,
}

impl Hostile {
    /// Answers connection `n` (from 0) with `script(n)`.
    pub async fn start(script: impl Fn(usize) -> Answer + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let connections = Arc::new(AtomicUsize::new(0));
        let written = Arc::new(AtomicU64::new(0));
        let (counted, total) = (connections.clone(), written.clone());
        let script = Arc::new(script);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let n = counted.fetch_add(1, Ordering::SeqCst);
                let answer = script(n);
                let total = total.clone();
                tokio::spawn(async move {
                    let serve = serve(stream, answer, total);
                    let _ = tokio::time::timeout(MAX_CONNECTION_TIME, serve).await;
                });
            }
        });
        Self {
            url,
            connections,
            written,
            task,
        }
    }

    /// Answers every connection the same way.
    pub async fn always(answer: Answer) -> Self {
        Self::start(move |_| answer.clone()).await
    }

    /// The connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// The bytes written so far, over all connections.
    pub fn written(&self) -> u64 {
        self.written.load(Ordering::SeqCst)
    }
}

impl Drop for Hostile {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(mut stream: TcpStream, answer: Answer, written: Arc<AtomicU64>) {
    if !read_head(&mut stream).await {
        return;
    }
    let out = &mut stream;
    match answer {
        Answer::Bytes(bytes) => {
            write(out, &written, &bytes).await;
        }
        Answer::Endless { head, chunk } => {
            if !write(out, &written, &head).await {
                return;
            }
            let mut sent = 0u64;
            while sent < MAX_WRITTEN && write(out, &written, &chunk).await {
                sent += chunk.len() as u64;
            }
        }
        Answer::HeadThenSilence(head) => {
            write(out, &written, &head).await;
            std::future::pending::<()>().await;
        }
        Answer::Silence => std::future::pending::<()>().await,
        Answer::Drop => {}
    }
    let _ = stream.shutdown().await;
}

/// Writes `bytes`, counting them; false once the client is gone.
async fn write(stream: &mut TcpStream, written: &AtomicU64, bytes: &[u8]) -> bool {
    let ok = stream.write_all(bytes).await.is_ok();
    if ok {
        written.fetch_add(bytes.len() as u64, Ordering::SeqCst);
    }
    ok
}

/// Reads up to the end of a request's head (and ignores any body): at most
/// 64 KiB.
async fn read_head(stream: &mut TcpStream) -> bool {
    let mut seen = Vec::new();
    let mut chunk = [0u8; 4096];
    while seen.len() < 64 * 1024 {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => seen.extend_from_slice(&chunk[..n]),
        }
        if seen.windows(4).any(|w| w == b"\r\n\r\n") {
            return true;
        }
    }
    false
}
