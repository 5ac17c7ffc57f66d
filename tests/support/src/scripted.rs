//! A scripted HTTP/1.1 server on 127.0.0.1: it answers each connection with
//! the next scripted answer, in order, and records what it received — for
//! the sequences httpmock cannot express (a 429 then a 200, an event
//! stream in pieces, a dropped connection).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

use crate::http::{read_request, response, Recorded};

/// The server; its URL is [`ScriptedServer::url`]. A request beyond the
/// script is answered `599 unscripted request`.
pub struct ScriptedServer {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
}

impl ScriptedServer {
    /// Answers connection `n` with `script[n]`, written at once.
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

    /// The requests received so far, in order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }
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
