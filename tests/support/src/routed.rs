//! A server on 127.0.0.1 that answers every request in its own task, so
//! that answers can overlap and come out of order.

use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::sync::Notify;

use crate::http::{read_request, response_on, Recorded};

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

/// What a [`RoutedServer`] received and answered, each in order.
#[derive(Default)]
pub struct Log {
    received: Mutex<Vec<Recorded>>,
    answered: Mutex<Vec<Recorded>>,
    changed: Notify,
}

impl Log {
    /// The requests received so far, in the order they arrived.
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
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    /// What it received and answered.
    pub log: Arc<Log>,
}

impl RoutedServer {
    /// Starts the server; every request is answered by `answer`.
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
