//! The tracing output: one span per request with its facts, and never the
//! key. Alone in its test binary: tracing caches callsite interest
//! process-wide, so a test without a subscriber running in parallel could
//! silence these callsites.

use std::io::Write;
use std::sync::{Arc, Mutex};

use phala_cloud::Client;
use support::{json, ScriptedServer};

const KEY: &str = "phak_very_secret_key_4f9a";
const TOKEN: &str = "oidc_very_secret_token_77c1";
const WORKSPACE: &str = "very-secret-workspace-a0e2";

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn debug_output_and_traces_never_show_the_credentials() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = ScriptedServer::start(vec![
        json(503, r#"{"detail": "busy"}"#),
        json(
            200,
            r#"{"items": [], "total": 0, "page": 1, "page_size": 10, "pages": 0}"#,
        ),
        json(
            200,
            r#"{"items": [], "total": 0, "page": 1, "page_size": 10, "pages": 0}"#,
        ),
    ])
    .await;
    let builder = Client::builder()
        .api_key(KEY)
        .base_url(&server.url)
        .retry_policy(
            phala_cloud::RetryPolicy::default().base_delay(std::time::Duration::from_millis(5)),
        );
    assert!(!format!("{builder:?}").contains(KEY));
    let client = builder.build().unwrap();
    assert!(!format!("{client:?}").contains(KEY));
    client.list_kms().page(1).send().await.unwrap();
    let oidc = Client::builder()
        .bearer_token(TOKEN)
        .workspace(WORKSPACE)
        .base_url(&server.url)
        .build()
        .unwrap();
    assert!(!format!("{oidc:?}").contains("very_secret"));
    assert!(!format!("{oidc:?}").contains(WORKSPACE));
    oidc.list_kms().send().await.unwrap();

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("phala_cloud.request"), "{logs}");
    assert!(logs.contains("operation=\"list_kms\""), "{logs}");
    assert!(logs.contains("path=/api/v1/kms"), "{logs}");
    assert!(logs.contains("retrying"), "{logs}");
    assert!(logs.contains("attempt=2"), "{logs}");
    assert!(logs.contains("status=200"), "{logs}");
    for secret in [KEY, TOKEN, WORKSPACE] {
        assert!(
            !logs.contains(secret),
            "{secret} leaked into the logs: {logs}"
        );
    }
}
