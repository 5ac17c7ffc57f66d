//! `client.deploy(…).register_with(&provider, …)`: the on-chain step done
//! with the provider's signer between provision and commit.

use phala_cloud::mock::deploy as flows;
use phala_cloud::onchain::eth::alloy_provider::WalletProvider;
use phala_cloud::onchain::eth::B256;
use phala_cloud::types::KmsType;
use phala_cloud::RetryPolicy;
use serde_json::Value;

use super::{options, provider, CHAIN};
use crate::fake_chain::{FakeChain, ADD_COMPOSE_HASH, ADD_DEVICE, DEPLOY_5};
use support::{client, json, ScriptedServer};

const COMPOSE: &str = "services:\n  agent:\n    image: ghcr.io/example/agent:1\n";

/// The provision answer on the fake chain's KMS.
fn provisioned(chain: &FakeChain) -> String {
    let mut answer = flows::provision_on_chain();
    answer.compose_hash = sent_hash();
    if let Some(kms) = answer.kms_info.as_mut() {
        kms.chain_id = Some(CHAIN as i64);
        kms.kms_contract_address = Some(chain.with(|s| s.kms).to_string());
    }
    json(200, &serde_json::to_string(&answer).unwrap())
}

/// The hash of the complete app compose the deploy sends: the server
/// answers it, as the deploy checks.
fn sent_hash() -> phala_cloud::ids::ComposeHash {
    phala_cloud::ids::ComposeHash::of_json(&serde_json::json!({
        "name": "my-agent", "docker_compose_file": COMPOSE, "allowed_envs": [],
        "manifest_version": 2, "runner": "docker-compose", "features": ["kms", "tproxy-net"],
        "kms_enabled": true, "gateway_enabled": true, "tproxy_enabled": true,
        "public_logs": true, "public_sysinfo": true, "public_tcbinfo": true,
        "local_key_provider_enabled": false, "no_instance_id": false, "secure_time": false,
        "storage_fs": "zfs",
    }))
}

fn committed(app: &str) -> String {
    json(
        200,
        &serde_json::to_string(&flows::committed_vm("my-agent", app)).unwrap(),
    )
}

fn hex_of(address: impl ToString) -> String {
    address.to_string().trim_start_matches("0x").to_lowercase()
}

#[tokio::test]
async fn on_the_named_app_contract_it_registers_then_commits() {
    let chain = FakeChain::start(CHAIN).await;
    let app = hex_of(chain.with(|s| s.app));
    let api = ScriptedServer::start(vec![provisioned(&chain), committed(&app)]).await;
    let deployment = client(&api.url, RetryPolicy::none())
        .deploy(COMPOSE)
        .name("my-agent")
        .kms(KmsType::Base)
        .app_id(app.as_str())
        .register_with(&provider(&chain), &options())
        .await
        .unwrap();

    let selectors: Vec<[u8; 4]> = chain
        .sent()
        .iter()
        .map(|tx| tx.input()[..4].try_into().unwrap())
        .collect();
    assert_eq!(selectors, [ADD_DEVICE, ADD_COMPOSE_HASH]);
    let hash: B256 = format!("0x{}", sent_hash()).parse().unwrap();
    assert!(chain.with(|s| s.compose_hashes.contains(&hash)));
    let requests = api.requests();
    assert_eq!(
        requests.len(),
        2,
        "provision, then the commit once registered"
    );
    let commit: Value = serde_json::from_slice(&requests[1].body).unwrap();
    assert_eq!(commit["app_id"], app.as_str());
    assert_eq!(commit["contract_address"], format!("0x{app}"));
    assert_eq!(deployment.app_id.as_str(), app);
}

#[tokio::test]
async fn without_an_app_contract_it_deploys_one_then_commits() {
    let chain = FakeChain::start(CHAIN).await;
    let app = hex_of(chain.with(|s| s.next_app));
    let api = ScriptedServer::start(vec![provisioned(&chain), committed(&app)]).await;
    let provider = provider(&chain);
    client(&api.url, RetryPolicy::none())
        .deploy(COMPOSE)
        .name("my-agent")
        .kms(KmsType::Base)
        .register_with(&provider, &options())
        .await
        .unwrap();

    let sent = chain.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].input()[..4], DEPLOY_5);
    let commit: Value = serde_json::from_slice(&api.requests()[1].body).unwrap();
    assert_eq!(commit["app_id"], app.as_str());
    assert_eq!(
        hex_of(commit["deployer_address"].as_str().unwrap()),
        hex_of(provider.default_signer_address())
    );
}
