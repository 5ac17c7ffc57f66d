//! Update a CVM whose KMS is on chain, with the app contract owned by a
//! multisig: phase 1 provisions the update, checks that the server's
//! compose hash is the hash of the compose sent, and stops at the approval;
//! the signers get what to sign; phase 2 commits it once the transaction
//! that registered the compose hash has executed.
//!
//! Without `PHALA_CLOUD_API_KEY` it runs against the crate's typed mock of
//! the API on 127.0.0.1, and plays the signers itself. With the key set:
//!
//! ```sh
//! cargo run --example onchain_update                                   # on the mock
//! cargo run --example onchain_update -- cvm_ykL5lbAn docker-compose.yml # on your account
//! cargo run --example onchain_update --features onchain-eth-calldata    # also prints the calldata
//! ```
//!
//! On your account it then asks for the registering transaction's hash
//! (or `already-registered`) before it commits.

use phala_cloud::deploy::Proposal;
use phala_cloud::mock::deploy::MockDeployExt;
use phala_cloud::mock::{self, MockServer};
use phala_cloud::onchain::OnChainApprovalRequired;

const MOCK_CVM: &str = "cvm_Q3mZr8Ke";
const COMPOSE: &str = "services:\n  agent:\n    image: ghcr.io/example/agent:2\n";
/// What the mock's signers answer: the Safe transaction's hash.
const MOCK_TRANSACTION: &str = "0x5e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let demo = mock::Demo::start(seed).await?;
    let client = demo.client().clone();
    let (cvm, compose) = if demo.is_mock() {
        println!(
            "PHALA_CLOUD_API_KEY is not set: updating a CVM on a mock of the API at {}.",
            client.base_url()
        );
        (MOCK_CVM.to_string(), COMPOSE.to_string())
    } else {
        let mut args = std::env::args().skip(1);
        let (Some(cvm), Some(path)) = (args.next(), args.next()) else {
            return Err("usage: onchain_update <cvm id> <docker-compose.yml>".into());
        };
        (cvm, std::fs::read_to_string(path)?)
    };

    // Phase 1: provision and check the hash; the signers take their time.
    let update = client.update_compose(cvm.as_str(), compose);
    let pending = match update.propose().await? {
        Proposal::Applied(applied) => {
            println!("Applied at once (the compose hash was allowed): {applied:?}");
            return Ok(());
        }
        Proposal::ApprovalRequired(pending) => pending,
    };
    hand_off(pending.approval())?;

    // The signers execute; phase 2 takes their transaction.
    let transaction = if !demo.is_mock() {
        ask_for_transaction()?
    } else {
        MOCK_TRANSACTION.to_string()
    };
    let applied = pending.confirm(transaction).await?;
    println!("\nCommitted: {applied:?}");
    Ok(())
}

/// What the Safe's signers need: the contract, the call and its argument,
/// the calldata, and where the update can be committed.
fn hand_off(approval: &OnChainApprovalRequired) -> Result<(), Box<dyn std::error::Error>> {
    let chain = approval.kms_info.as_ref().and_then(|kms| kms.chain_id);
    println!("\nThe app contract must allow the new compose hash first. For the signers:");
    println!(
        "  chain     {}",
        chain.map_or("?".into(), |id| id.to_string())
    );
    println!(
        "  contract  {} (DstackApp; its address is the app id)",
        approval.app_id
    );
    println!(
        "  call      addComposeHash(bytes32 {})",
        approval.compose_hash
    );
    #[cfg(feature = "onchain-eth-calldata")]
    for call in approval.calldata()? {
        println!(
            "  calldata  to {} on chain {}: {} = {}",
            call.to, call.chain_id, call.function, call.data
        );
    }
    if let Some(url) = &approval.commit_url {
        println!("  commit at {url} (the token lasts 14 days)");
    }
    // The approval serializes: keep it while the signers act.
    println!("  approval  {}", serde_json::to_string(approval)?);
    Ok(())
}

fn ask_for_transaction() -> std::io::Result<String> {
    println!("\nPaste the transaction hash once it has executed (or `already-registered`):");
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(line.trim().to_string())
}

/// The mock: a CVM on the Base KMS; the provision answers the hash of the
/// compose sent, not registered yet, and the commit is accepted.
fn seed(server: &MockServer) {
    let current = serde_json::json!({
        "name": "agent", "docker_compose_file": "services:\n  agent:\n    image: ghcr.io/example/agent:1\n",
    });
    let current = serde_json::from_value(current).expect("a name and a file make a compose");
    server.mock_compose_update(MOCK_CVM, &current, true);
}
