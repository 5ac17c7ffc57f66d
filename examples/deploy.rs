//! Deploy an app, wait until it runs, list your CVMs, change its env vars,
//! and tear it down.
//!
//! Without `PHALA_CLOUD_API_KEY` it runs against the crate's typed mock of
//! the API (`phala_cloud::mock`) on 127.0.0.1, with a test KMS that signs
//! the app's key: offline, without an account. With the key set, it
//! deploys a small nginx CVM on your account (billed while it runs) and
//! deletes it at the end.
//!
//! ```sh
//! cargo run --example deploy
//! ```

use std::time::{Duration, Instant};

use phala_cloud::deploy::{DeployError, Deployment};
use phala_cloud::env_encryption::KeyVerification;
use phala_cloud::mock::deploy::{self as flows, MockDeployExt, TestKms};
use phala_cloud::mock::{self, sample, MockServer, MockServerExt};
use phala_cloud::onchain::Applied;
use phala_cloud::Client;

const COMPOSE: &str = "services:\n  web:\n    image: nginx:1.27\n    ports: [\"80:80\"]\n";

/// The whole deploy: provision with the server's compose hash checked
/// against the hash of the compose sent, key verified, env vars encrypted,
/// commit, wait until the CVM runs that hash.
async fn deploy(client: &Client) -> Result<Deployment, phala_cloud::Error> {
    client
        .deploy(COMPOSE)
        .name("my-web-app")
        .env("GREETING", "hello from a TEE")
        .wait_until_running(Instant::now() + Duration::from_secs(15 * 60))
        .send()
        .await
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let demo = mock::Demo::start(seed).await?;
    let client = demo.client().clone();
    if demo.is_mock() {
        println!(
            "PHALA_CLOUD_API_KEY is not set: deploying on a mock of the API at {}.",
            client.base_url()
        );
    } else {
        println!("Deploying on your account at {}.", client.base_url());
    }

    let deployment = match deploy(&client).await {
        Ok(deployment) => deployment,
        Err(e) => {
            if let Some(DeployError::DeadlinePassed(unfinished)) = e.deploy_error() {
                // Committed, not running yet: keep waiting with the waiter.
                println!(
                    "CVM {} does not run {} yet: client.wait_for_compose_hash() waits on",
                    unfinished.cvm_id, unfinished.compose_hash
                );
            }
            return Err(e.into());
        }
    };
    // `Ok` with a wait means it runs, with the hash checked.
    println!(
        "\nCVM {} (app {}) runs compose hash {}",
        deployment.cvm_id, deployment.app_id, deployment.compose_hash
    );
    println!("  (the hash of the compose sent; the server's answer was checked against it)");
    if let Some(KeyVerification::Verified { signer, anchor }) = &deployment.key_verification {
        println!("  env vars encrypted to a key signed by {signer} ({anchor})");
    }
    for url in &deployment.endpoints {
        println!("  {url}");
    }

    let page = client
        .list_cvms_paginated()
        .page(1)
        .page_size(10)
        .send()
        .await?;
    println!("\nYour CVMs ({} of {}):", page.items.len(), page.total);
    for cvm in &page.items {
        println!("  {} {} {}", cvm.id, cvm.name, cvm.status);
    }

    let applied = client
        .update_env_vars(deployment.cvm_id.clone(), [("GREETING", "hello again")])
        .send()
        .await?;
    match applied {
        Applied::Started(update) => println!(
            "\nEnv vars updating (operation {:?}).",
            update.correlation_id
        ),
        other => println!("\nEnv vars: {other:?}"),
    }

    client
        .delete_cvm()
        .cvm_id(deployment.cvm_id.clone())
        .send()
        .await?;
    println!("\nCVM {} deleted.", deployment.cvm_id);
    Ok(())
}

/// What the mock answers: a whole deploy on Phala's KMS, then the list, the
/// env update (the CVM's compose allows `GREETING`, its key comes from the
/// same test KMS) and the delete.
fn seed(server: &MockServer) {
    let kms = TestKms::new();
    server.mock_deploy(&kms);
    let vm = flows::committed_vm("my-web-app", flows::APP_ID);
    // The list shows the new CVM in place of the first sample.
    let mut cvms = sample::cvms();
    cvms[0].name = vm.name.clone();
    cvms[0].app_id = Some(vm.app_id.clone());
    cvms[0].vm_uuid = vm.vm_uuid.clone();
    server.list_cvms_paginated(|_, then| {
        then.ok(&sample::cvm_page(&cvms, 1, 10));
    });
    let uuid = flows::VM_UUID.replace('-', "");
    server.get_cvm_compose_file(|when, then| {
        when.cvm_id(uuid.as_str());
        let compose = serde_json::json!({"name": "my-web-app", "docker_compose_file": COMPOSE, "allowed_envs": ["GREETING"]});
        then.ok(&serde_json::from_value(compose).unwrap_or_else(|e| panic!("an app compose: {e}")));
    });
    kms.serve(server, "phala", flows::APP_ID);
    server.update_cvm_envs(|when, then| {
        when.cvm_id(uuid.as_str());
        then.accepted(&flows::update_started("corr-env-1"));
    });
    server.delete_cvm(|when, then| {
        when.cvm_id(uuid.as_str());
        then.no_content();
    });
}
