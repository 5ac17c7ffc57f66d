//! Watching CVM state over Server-Sent Events against a scripted server:
//! chunking, multi-line data, comments, reconnection with `Last-Event-ID`,
//! server timeouts, the attempt limit, and waiting for a state.

use std::time::{Duration, Instant};

use futures::StreamExt;
use phala_cloud::types::CvmLifecycleStatus;
use phala_cloud::watch::{CvmStateEvent, WatchOptions};
use phala_cloud::{Error, RetryPolicy};
use support::{client, fixture, json, sse_head, sse_head_then_drop, ScriptedServer};

const RUNNING: &str = "GET_api_v1_cvms_{cvm_id}_state__py-action-matrix.json";

fn options() -> WatchOptions {
    WatchOptions::new("running").reconnect_delay(Duration::from_millis(1))
}

/// An answer: `head`, then `body` in pieces of `size` bytes.
fn answer(head: Vec<u8>, body: &str, size: usize) -> Vec<Vec<u8>> {
    std::iter::once(head)
        .chain(body.as_bytes().chunks(size).map(<[u8]>::to_vec))
        .collect()
}

/// `running` as one `data:` line.
fn running() -> String {
    fixture(RUNNING).replace('\n', "")
}

/// Everything a watch of `cvm_ykL5lbAn` on `server` yields, up to its end.
/// The guard only turns a hang into a failure.
async fn watch(
    server: &ScriptedServer,
    options: WatchOptions,
) -> Vec<Result<CvmStateEvent, Error>> {
    let events = client(&server.url, RetryPolicy::none()).watch_cvm_state("cvm_ykL5lbAn", options);
    tokio::time::timeout(Duration::from_secs(60), events.collect())
        .await
        .expect("the stream ends")
}

fn statuses(events: &[Result<CvmStateEvent, Error>]) -> Vec<String> {
    events.iter().map(status).collect()
}

fn status(event: &Result<CvmStateEvent, Error>) -> String {
    match event {
        Ok(CvmStateEvent::State(state)) => format!("state:{}", state.status),
        Ok(CvmStateEvent::Complete(done)) => format!("complete:{}", done.status),
        Ok(CvmStateEvent::Timeout(_)) => "timeout".into(),
        Ok(CvmStateEvent::Error(e)) => format!("error:{}", e.error.as_deref().unwrap_or("")),
        Ok(CvmStateEvent::Other { event, data }) => format!("other:{event}:{data}"),
        Ok(other) => format!("{other:?}"),
        Err(e) => format!("Err({e})"),
    }
}

#[tokio::test]
async fn events_arrive_typed_whatever_the_chunk_boundaries() {
    let body = format!(
        ": connected\r\n\
         event: state\r\n\
         data: {{\"status\": \"starting\",\r\n\
         data:  \"name\": \"n\", \"boot_progress\": \"40%\", \"queue\": 2}}\r\n\r\n\
         event: error\ndata: {{\"error\": \"vm busy\", \"elapsed\": 3.0, \"code\": 7}}\n\n\
         event: heartbeat\ndata: x\n\n\
         event: state\ndata: {}\n\n\
         event: complete\ndata: {{\"status\": \"running\", \"elapsed\": 12.5, \"target\": \"running\", \"node\": \"n1\"}}\n\n\
         event: state\ndata: {{\"status\": \"after the end\"}}\n\n",
        running()
    );
    for size in [1, 3, 7, 64] {
        let server = ScriptedServer::start_in_pieces(vec![answer(sse_head(), &body, size)]).await;
        let options = options()
            .interval(Duration::from_secs(5))
            .timeout(Duration::from_secs(10));
        let events = watch(&server, options).await;
        assert_eq!(
            statuses(&events),
            [
                "state:starting",
                "error:vm busy",
                "other:heartbeat:x",
                "state:running",
                "complete:running"
            ],
            "pieces of {size} bytes"
        );
        let Ok(CvmStateEvent::State(first)) = &events[0] else {
            panic!("{:?}", events[0])
        };
        assert_eq!(first.name.as_deref(), Some("n"));
        assert_eq!(first.boot_progress.as_deref(), Some("40%"));
        let Ok(CvmStateEvent::Complete(done)) = &events[4] else {
            panic!("{:?}", events[4])
        };
        assert_eq!(done.elapsed, Some(12.5));
        // Nothing the server sent is lost, known field or not.
        assert_eq!(
            serde_json::to_value(first).unwrap(),
            serde_json::json!({"status": "starting", "name": "n", "boot_progress": "40%", "queue": 2})
        );
        assert_eq!(
            serde_json::to_value(done).unwrap(),
            serde_json::json!({"status": "running", "elapsed": 12.5, "target": "running", "node": "n1"})
        );
        let Ok(CvmStateEvent::Error(error)) = &events[1] else {
            panic!("{:?}", events[1])
        };
        assert_eq!(
            serde_json::to_value(error).unwrap(),
            serde_json::json!({"error": "vm busy", "elapsed": 3.0, "code": 7})
        );

        let requests = server.requests();
        assert_eq!(requests.len(), 1);
        let request = &requests[0];
        assert_eq!(
            request.path,
            "/api/v1/cvms/cvm_ykL5lbAn/state?target=running&interval=5&timeout=10"
        );
        assert_eq!(request.header("accept"), Some("text/event-stream"));
        assert_eq!(request.header("cache-control"), Some("no-cache"));
        assert_eq!(request.header("x-api-key"), Some("phak_test"));
        assert_eq!(
            request.header("x-phala-version"),
            Some(phala_cloud::API_VERSION)
        );
        assert_eq!(request.header("last-event-id"), None);
    }
}

#[tokio::test]
async fn a_dropped_connection_reconnects_with_the_last_event_id() {
    let first =
        "id: 41\nevent: state\ndata: {\"status\": \"starting\"}\n\nid: 42\ndata: half an event";
    let second = format!(
        "event: state\ndata: {}\n\nevent: complete\ndata: {{\"status\": \"running\"}}\n\n",
        running()
    );
    let server = ScriptedServer::start_in_pieces(vec![
        answer(sse_head_then_drop(), first, 16),
        answer(sse_head(), &second, 16),
    ])
    .await;
    let events = watch(&server, options()).await;
    assert_eq!(
        statuses(&events),
        ["state:starting", "state:running", "complete:running"]
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].header("last-event-id"), None);
    assert_eq!(
        requests[1].header("last-event-id"),
        Some("41"),
        "the id of the last complete event, not of the half one"
    );
    assert_eq!(requests[1].header("x-api-key"), Some("phak_test"));
}

#[tokio::test]
async fn a_server_timeout_reconnects_and_the_stream_goes_on() {
    let first = "id: 7\nevent: state\ndata: {\"status\": \"starting\"}\n\n\
                 event: timeout\ndata: {\"error\": \"Timeout waiting for status running\", \"elapsed\": 10, \"target\": \"running\"}\n\n\
                 event: state\ndata: {\"status\": \"ignored: the connection is over\"}\n\n";
    let second = "event: complete\ndata: {\"status\": \"running\"}\n\n";
    let server = ScriptedServer::start_in_pieces(vec![
        answer(sse_head(), first, 512),
        answer(sse_head(), second, 512),
    ])
    .await;
    let events = watch(&server, options()).await;
    assert_eq!(
        statuses(&events),
        ["state:starting", "timeout", "complete:running"]
    );
    let Ok(CvmStateEvent::Timeout(timeout)) = &events[1] else {
        panic!("{:?}", events[1])
    };
    assert_eq!(timeout.target.as_deref(), Some("running"));
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].header("last-event-id"), Some("7"));
}

#[tokio::test]
async fn the_attempt_limit_ends_the_stream_with_one_error() {
    let dropped = || answer(sse_head_then_drop(), ": still there\n", 64);
    let server =
        ScriptedServer::start_in_pieces(vec![dropped(), dropped(), dropped(), dropped()]).await;
    let events = watch(&server, options().max_reconnects(2)).await;
    assert_eq!(events.len(), 1, "{:?}", events);
    let err = events[0].as_ref().unwrap_err();
    assert!(err.is_transport(), "{err}");
    assert_eq!(
        server.requests().len(),
        3,
        "the first attempt and 2 reconnects"
    );
}

#[tokio::test]
async fn a_stream_that_ends_without_complete_counts_as_a_failure() {
    let ended = || {
        answer(
            sse_head(),
            "event: state\ndata: {\"status\": \"starting\"}\n\n",
            64,
        )
    };
    let server = ScriptedServer::start_in_pieces(vec![ended(), ended()]).await;
    let events = watch(&server, options().max_reconnects(0)).await;
    assert_eq!(
        statuses(&events),
        [
            "state:starting",
            "Err(the answer does not decode at `.`: the state stream ended before a `complete` or `timeout` event)"
        ]
    );
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn an_error_status_that_will_not_change_ends_at_once() {
    let server = ScriptedServer::start(vec![json(404, r#"{"detail": "CVM not found"}"#)]).await;
    let events = watch(&server, options()).await;
    assert_eq!(events.len(), 1);
    let err = events[0].as_ref().unwrap_err();
    assert!(err.is_not_found());
    assert_eq!(err.message(), "CVM not found");
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_json_answer_is_not_an_event_stream() {
    let server = ScriptedServer::start(vec![json(200, &fixture(RUNNING))]).await;
    let events = watch(&server, options()).await;
    assert_eq!(
        statuses(&events),
        ["Err(the answer does not decode at `.`: expected an event stream (text/event-stream), got application/json)"]
    );
}

#[tokio::test]
async fn invalid_options_send_nothing() {
    let server = ScriptedServer::start(vec![]).await;
    let options = options().interval(Duration::from_secs(3));
    let events = watch(&server, options).await;
    assert_eq!(
        statuses(&events),
        ["Err(invalid request: interval must be whole seconds from 5 to 30, not 3s)"]
    );
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn an_undecodable_event_says_where() {
    let body = "event: state\ndata: {\"status\": 5}\n\n";
    let server = ScriptedServer::start_in_pieces(vec![answer(sse_head(), body, 64)]).await;
    let events = watch(&server, options()).await;
    assert_eq!(events.len(), 1);
    let Err(Error::Decode(decode)) = &events[0] else {
        panic!("{:?}", events[0])
    };
    assert_eq!(decode.path, "status");
    assert!(
        decode.excerpt.contains("\"status\": 5"),
        "{}",
        decode.excerpt
    );
}

#[tokio::test]
async fn the_servers_retry_field_replaces_the_reconnect_delay() {
    let first = "retry: 1\nevent: state\ndata: {\"status\": \"starting\"}\n\n";
    let second = "event: complete\ndata: {\"status\": \"running\"}\n\n";
    let server = ScriptedServer::start_in_pieces(vec![
        answer(sse_head(), first, 64),
        answer(sse_head(), second, 64),
    ])
    .await;
    // Were the hour used, `collect`'s guard would fail the test.
    let options = WatchOptions::new("running").reconnect_delay(Duration::from_secs(3600));
    let events = watch(&server, options).await;
    assert_eq!(statuses(&events), ["state:starting", "complete:running"]);
}

#[tokio::test]
async fn waiting_returns_the_final_state() {
    let body = format!(
        "event: state\ndata: {{\"status\": \"starting\"}}\n\n\
         event: state\ndata: {}\n\n\
         event: complete\ndata: {{\"status\": \"running\"}}\n\n",
        running()
    );
    let server = ScriptedServer::start_in_pieces(vec![answer(sse_head(), &body, 64)]).await;
    wait_until_running(&server).await;
}

/// Waits for `cvm_ykL5lbAn` to run, and checks the state it ends with.
async fn wait_until_running(server: &ScriptedServer) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let state = client(&server.url, RetryPolicy::none())
        .wait_for_cvm_state("cvm_ykL5lbAn", "running", deadline)
        .await
        .unwrap()
        .expect("reached");
    assert_eq!(state.status, CvmLifecycleStatus::Running);
    assert_eq!(state.name.as_deref(), Some("n"));
}

#[tokio::test]
async fn a_target_reached_after_the_last_state_reads_the_current_state() {
    let body = "event: state\ndata: {\"status\": \"starting\"}\n\n\
                event: complete\ndata: {\"status\": \"running\"}\n\n";
    let current = json(200, &running());
    let server = ScriptedServer::start_in_pieces(vec![
        answer(sse_head(), body, 64),
        vec![current.into_bytes()],
    ])
    .await;
    wait_until_running(&server).await;
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].path, "/api/v1/cvms/cvm_ykL5lbAn/state");
}

#[tokio::test]
async fn waiting_on_a_silent_server_ends_at_the_deadline() {
    // The kernel accepts the connection; nobody ever answers it.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", silent.local_addr().unwrap());
    let deadline = Instant::now() + Duration::from_millis(50);
    let reached = client(&url, RetryPolicy::none())
        .wait_for_cvm_state("cvm_ykL5lbAn", options(), deadline)
        .await
        .unwrap();
    assert_eq!(reached, None);
}

#[tokio::test]
async fn waiting_ends_with_the_watchs_error() {
    let server =
        ScriptedServer::start(vec![json(403, r#"{"detail": "CVM not in workspace"}"#)]).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    let err = client(&server.url, RetryPolicy::none())
        .wait_for_cvm_state("cvm_ykL5lbAn", options(), deadline)
        .await
        .unwrap_err();
    assert!(err.is_auth(), "{err}");
}

/// The compose-hash waiters, on the typed mock: the state stream says
/// `running`, and `GET /cvms/{id}` answers the CVMs of `looks` in turn
/// (the last one again once they run out).
mod compose_hash_waits {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, Instant};

    use phala_cloud::deploy::{DeployError, WaitedFor};
    use phala_cloud::ids::ComposeHash;
    use phala_cloud::mock::deploy::{self as flows, MockDeployExt};
    use phala_cloud::mock::httpmock::HttpMockResponse;
    use phala_cloud::mock::{self, MockServer, MockServerExt};
    use phala_cloud::types::{self, CvmLifecycleStatus};
    use phala_cloud::watch::AttestationSource;
    use serde_json::{json, Value};

    const CVM: &str = flows::VM_UUID;

    fn hash(byte: u8) -> ComposeHash {
        ComposeHash::from([byte; 32])
    }

    fn look(
        status: CvmLifecycleStatus,
        in_progress: bool,
        hash: &ComposeHash,
    ) -> types::CvmInfoDetail {
        let mut cvm = flows::running_cvm(&flows::committed_vm("my-web-app", flows::APP_ID));
        cvm.status = status;
        cvm.in_progress = Some(in_progress);
        cvm.compose_hash = Some(hash.clone());
        cvm
    }

    fn serve(looks: Vec<types::CvmInfoDetail>) -> MockServer {
        let server = MockServer::start();
        server.cvm_state_stream(CVM, "running", &[flows::state("running")]);
        let seen = AtomicUsize::new(0);
        server.get_cvm(move |when, then| {
            when.cvm_id(CVM.replace('-', "").as_str());
            then.into_inner().respond_with(move |_| {
                let n = seen.fetch_add(1, Ordering::SeqCst).min(looks.len() - 1);
                HttpMockResponse::builder()
                    .status(200)
                    .header("content-type", "application/json")
                    .body(serde_json::to_vec(&looks[n]).unwrap())
                    .build()
            });
        });
        server
    }

    fn far() -> Instant {
        Instant::now() + Duration::from_secs(600)
    }

    #[tokio::test]
    async fn the_wait_ends_once_the_cvm_runs_the_hash_with_nothing_in_progress() {
        let server = serve(vec![
            look(CvmLifecycleStatus::Running, false, &hash(2)),
            look(CvmLifecycleStatus::Running, true, &hash(2)),
            look(CvmLifecycleStatus::Running, true, &hash(1)),
            look(CvmLifecycleStatus::Running, false, &hash(1)),
        ]);
        let running = mock::client(&server)
            .wait_for_compose_hash(CVM, hash(1), far())
            .poll_interval(Duration::from_millis(1))
            .send()
            .await
            .unwrap();
        assert_eq!(running.cvm.compose_hash, Some(hash(1)));
        assert_eq!(running.state.status, CvmLifecycleStatus::Running);
    }

    #[tokio::test]
    async fn a_cvm_that_settles_on_another_hash_ends_the_wait_with_what_it_runs() {
        let server = serve(vec![
            look(CvmLifecycleStatus::Starting, false, &hash(2)),
            look(CvmLifecycleStatus::Running, false, &hash(3)),
        ]);
        let err = mock::client(&server)
            .wait_for_compose_hash(CVM, hash(1), far())
            .poll_interval(Duration::from_millis(1))
            .send()
            .await
            .unwrap_err();
        let Some(DeployError::OtherComposeHash {
            expected,
            found,
            waited_for,
            ..
        }) = err.deploy_error()
        else {
            panic!("{err}")
        };
        assert_eq!(
            (expected, found, waited_for),
            (&hash(1), &Some(hash(3)), &WaitedFor::Running)
        );
        assert!(err.to_string().contains(&hash(3).to_string()), "{err}");
    }

    #[tokio::test]
    async fn the_deadline_is_an_error_with_what_was_last_seen() {
        let server = serve(vec![look(CvmLifecycleStatus::Running, true, &hash(2))]);
        let err = mock::client(&server)
            .wait_for_compose_hash(CVM, hash(1), Instant::now() + Duration::from_millis(200))
            .poll_interval(Duration::from_millis(20))
            .send()
            .await
            .unwrap_err();
        let Some(DeployError::DeadlinePassed(unfinished)) = err.deploy_error() else {
            panic!("{err}")
        };
        assert_eq!(unfinished.compose_hash, hash(1));
        assert_eq!(unfinished.cvm_id.as_str(), CVM.replace('-', ""));
        assert_eq!(unfinished.last_status.as_deref(), Some("running"));
        assert_eq!(unfinished.last_compose_hash, Some(hash(2)));
        assert_eq!(
            unfinished.app_id.as_ref().map(|a| a.as_str()),
            Some(flows::APP_ID)
        );
        assert_eq!(unfinished.waited_for, WaitedFor::Running);
    }

    /// `GET /cvms/{id}/attestation` as the API answers it, with the event
    /// log of a real CVM (dstack's verifier fixture, bundle A: compose hash
    /// `3763bc34…27e7`).
    fn attestation() -> (Value, ComposeHash) {
        let report = support::fixture_json("attestation/dstack-verifier-quote-report.json");
        let events: Value = serde_json::from_str(report["event_log"].as_str().unwrap()).unwrap();
        let hash = "3763bc34552cf3a27ff71ad5f7a90471562a1a2df552dfc1998cba2d60da27e7";
        let answer = json!({
            "is_online": true, "is_public": true, "name": "my-web-app",
            "tcb_info": {
                "mrtd": "00", "rtmr0": "00", "rtmr1": "00", "rtmr2": "00", "rtmr3": "00",
                "event_log": events, "app_compose": "{}",
            },
        });
        (answer, hash.parse().unwrap())
    }

    #[tokio::test]
    async fn the_attestation_waiter_reads_the_compose_hash_event() {
        let (answer, attested) = attestation();
        let server = serve(vec![look(CvmLifecycleStatus::Running, false, &attested)]);
        let answer: types::CvmAttestation = serde_json::from_value(answer).unwrap();
        let mock = server.get_cvm_attestation(|_, then| {
            then.ok(&answer);
        });
        let client = mock::client(&server);
        let shown = client
            .wait_for_attested_compose_hash(CVM, attested.clone(), far())
            .poll_interval(Duration::from_millis(1))
            .send()
            .await;
        mock.assert_async().await;
        let shown = shown.unwrap();
        assert_eq!(shown.compose_hash, attested);
        assert!(matches!(shown.source, AttestationSource::ApiAnswer));

        // The API says it runs `attested`, the event log another hash.
        let mut other = attested.to_bytes().unwrap();
        other[0] ^= 1;
        let other = ComposeHash::from(other);
        let server = serve(vec![look(CvmLifecycleStatus::Running, false, &other)]);
        server.get_cvm_attestation(|_, then| {
            then.ok(&answer);
        });
        let err = mock::client(&server)
            .wait_for_attested_compose_hash(CVM, other, far())
            .send()
            .await
            .unwrap_err();
        assert!(
            matches!(
                err.deploy_error(),
                Some(DeployError::OtherComposeHash { found: Some(f), waited_for: WaitedFor::Attested, .. }) if *f == attested
            ),
            "{err}"
        );
    }
}
