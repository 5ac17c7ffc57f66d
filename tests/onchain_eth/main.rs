//! `onchain::eth` against a fake node on 127.0.0.1 (`fake_chain`): reads
//! decode, a write is a signed EIP-1559 transaction for the right chain and
//! contract, a non-owner or a wrong chain is refused before anything is
//! signed, a reverted or missing receipt is a typed error, `deploy_app_auth`
//! reads the app id from its event, `register` then `confirm` carries
//! the registering transaction into phase 2, and a deploy registers (or
//! deploys the app contract) before it commits (`deploy`).

mod deploy;
mod fake_chain;

use std::time::Duration;

use fake_chain::{FakeChain, ADD_COMPOSE_HASH, ADD_DEVICE, DEPLOY_5, KEY, KEY_ADDRESS};
use phala_cloud::onchain::eth::alloy_provider::{Provider, ProviderBuilder, WalletProvider};
use phala_cloud::onchain::eth::alloy_signer_local::PrivateKeySigner;
use phala_cloud::onchain::eth::{
    Address, AppContract, DeployApp, EthError, KmsContract, TxOptions, B256, U256,
};
use phala_cloud::onchain::{
    ConfirmUpdate, OnChainApprovalRequired, ProposeUpdate, UpdateOutcome, ALREADY_REGISTERED,
};
use phala_cloud::types::UpdateCvmRequest;
use phala_cloud::RetryPolicy;
use serde_json::{json, Value};
use support::{client, fixture_json, json, ScriptedServer};

const CHAIN: u64 = 8453;

fn provider(chain: &FakeChain) -> impl Provider + WalletProvider {
    ProviderBuilder::new()
        .wallet(KEY.parse::<PrivateKeySigner>().unwrap())
        .connect_http(chain.url.parse().unwrap())
}

fn app(chain: &FakeChain) -> AppContract {
    AppContract::new(CHAIN, chain.with(|s| s.app))
}

/// Quick enough for tests, and bounded.
fn options() -> TxOptions {
    TxOptions::new()
        .receipt_timeout(Duration::from_secs(10))
        .read_back_timeout(Duration::from_secs(10))
        .poll_interval(Duration::from_millis(10))
}

fn vectors() -> Value {
    fixture_json("onchain_eth/vectors.json")
}

#[tokio::test]
async fn reads_decode() {
    let chain = FakeChain::start(CHAIN).await;
    let vectors = vectors();
    let kms_info = hex::decode(
        vectors["kms_info_return"]
            .as_str()
            .unwrap()
            .trim_start_matches("0x"),
    )
    .unwrap();
    chain.with(|s| {
        s.compose_hashes.insert(B256::repeat_byte(0x11));
        s.devices.insert(B256::repeat_byte(0x33));
        s.kms_info = kms_info;
    });
    let provider = provider(&chain);
    let app = app(&chain);

    assert_eq!(
        app.owner(&provider).await.unwrap(),
        KEY_ADDRESS.parse::<Address>().unwrap()
    );
    assert!(app
        .compose_hash_allowed(&provider, B256::repeat_byte(0x11))
        .await
        .unwrap());
    assert!(!app
        .compose_hash_allowed(&provider, B256::repeat_byte(0x12))
        .await
        .unwrap());
    assert!(app
        .device_listed(&provider, B256::repeat_byte(0x33))
        .await
        .unwrap());
    assert!(!app.allow_any_device(&provider).await.unwrap());
    assert!(!app
        .device_allowed(&provider, B256::repeat_byte(0x34))
        .await
        .unwrap());
    assert!(app.require_tcb_up_to_date(&provider).await.unwrap());
    assert_eq!(app.version(&provider).await.unwrap(), U256::from(2));

    let kms = KmsContract::new(CHAIN, chain.with(|s| s.kms));
    let info = kms.kms_info(&provider).await.unwrap();
    let expected = |field: &str| vectors["kms_info"][field].as_str().unwrap().to_string();
    assert_eq!(info.k256Pubkey.to_string(), expected("k256_pubkey"));
    assert_eq!(info.caPubkey.to_string(), expected("ca_pubkey"));
    assert_eq!(info.quote.to_string(), expected("quote"));
    assert_eq!(info.eventlog.to_string(), expected("eventlog"));
    assert!(kms.is_registered(&provider, app.address()).await.unwrap());
    assert!(!kms
        .is_registered(&provider, Address::repeat_byte(1))
        .await
        .unwrap());
    assert_eq!(
        kms.app_implementation(&provider).await.unwrap(),
        Address::repeat_byte(0xee)
    );

    let nowhere = AppContract::new(CHAIN, Address::repeat_byte(0x77));
    let err = nowhere.owner(&provider).await.unwrap_err();
    assert!(
        matches!(
            err,
            EthError::NoContract {
                function: "owner()",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(chain.sent().is_empty());
}

#[tokio::test]
async fn prerequisites_are_read_in_one_round_trip() {
    let chain = FakeChain::start(CHAIN).await;
    chain.with(|s| {
        s.devices.insert(B256::repeat_byte(0x33));
    });
    let provider = provider(&chain);
    let app = app(&chain);
    let read = app
        .check_prerequisites(&provider, B256::repeat_byte(0x33), B256::repeat_byte(0x11))
        .await
        .unwrap();
    assert_eq!(
        (
            read.allow_any_device,
            read.device_allowed,
            read.compose_hash_allowed,
            read.is_allowed()
        ),
        (false, true, false, false)
    );
    assert_eq!(chain.with(|s| s.batches.clone()), [3]);
    assert_eq!(chain.methods(), ["eth_call", "eth_call", "eth_call"]);

    chain.with(|s| {
        s.allow_any_device = true;
        s.compose_hashes.insert(B256::repeat_byte(0x11));
    });
    let read = app
        .check_prerequisites(&provider, B256::repeat_byte(0x99), B256::repeat_byte(0x11))
        .await
        .unwrap();
    assert!(read.allow_any_device && read.device_allowed && read.is_allowed());
}

#[tokio::test]
async fn prerequisites_fall_back_to_single_calls_when_batches_are_refused() {
    let chain = FakeChain::start(CHAIN).await;
    chain.with(|s| {
        s.refuse_batches = true;
        s.compose_hashes.insert(B256::repeat_byte(0x11));
    });
    let read = app(&chain)
        .check_prerequisites(
            &provider(&chain),
            B256::repeat_byte(0x33),
            B256::repeat_byte(0x11),
        )
        .await
        .unwrap();
    assert_eq!(
        (read.device_allowed, read.compose_hash_allowed),
        (false, true)
    );
    assert_eq!(chain.with(|s| s.batches.clone()), [3]);
    assert_eq!(chain.methods(), ["eth_call", "eth_call", "eth_call"]);
}

#[tokio::test]
async fn a_write_is_a_signed_eip1559_transaction_for_the_chain_and_contract() {
    let chain = FakeChain::start(CHAIN).await;
    let provider = provider(&chain);
    let app = app(&chain);
    let call = app.add_compose_hash(B256::repeat_byte(0x11));
    let receipt = call.send_with(&provider, &options()).await.unwrap();

    let sent = chain.sent();
    assert_eq!(sent.len(), 1);
    let tx = &sent[0];
    assert_eq!(tx.raw[0], 0x02, "an EIP-2718 type-2 (EIP-1559) envelope");
    let signed = tx.envelope.as_eip1559().unwrap();
    assert_eq!(signed.tx().chain_id, CHAIN);
    assert_eq!(signed.tx().to.to(), Some(&app.address()));
    assert_eq!(signed.tx().value, U256::ZERO);
    assert_eq!(tx.input(), &call.data[..]);
    assert_eq!(
        hex::encode(tx.input()),
        vectors()["calldata"]["addComposeHash"]
            .as_str()
            .unwrap()
            .trim_start_matches("0x")
    );
    assert_eq!(tx.sender, KEY_ADDRESS.parse::<Address>().unwrap());
    assert_eq!(receipt.transaction_hash, *tx.envelope.tx_hash());
    // The owner was read before signing.
    let methods = chain.methods();
    let owner_read = methods.iter().position(|m| m == "eth_call").unwrap();
    let sent_at = methods
        .iter()
        .position(|m| m == "eth_sendRawTransaction")
        .unwrap();
    assert!(owner_read < sent_at, "{methods:?}");
}

#[tokio::test]
async fn a_non_owner_is_refused_before_sending() {
    let chain = FakeChain::start(CHAIN).await;
    let owner = Address::repeat_byte(0x5a);
    chain.with(|s| s.owner = owner);
    let provider = provider(&chain);
    let app = app(&chain);
    let err = app
        .add_device(B256::repeat_byte(0x33))
        .send_with(&provider, &options())
        .await
        .unwrap_err();
    let EthError::NotOwner {
        contract,
        owner: found,
        sender,
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(
        (*contract, *found, *sender),
        (app.address(), owner, provider.default_signer_address())
    );
    assert!(
        err.to_string().contains("is not the owner of contract"),
        "{err}"
    );
    assert!(chain.sent().is_empty());
    assert!(!chain
        .methods()
        .iter()
        .any(|m| m == "eth_sendRawTransaction"));
}

#[tokio::test]
async fn a_provider_on_another_chain_is_refused_before_signing() {
    let chain = FakeChain::start(1).await;
    let provider = provider(&chain);
    let err = app(&chain)
        .set_allow_any_device(true)
        .send_with(&provider, &options())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            EthError::WrongChain {
                expected: 8453,
                actual: 1
            }
        ),
        "{err:?}"
    );
    assert_eq!(chain.methods(), ["eth_chainId"]);
}

#[tokio::test]
async fn a_reverted_receipt_is_a_typed_error() {
    let chain = FakeChain::start(CHAIN).await;
    chain.with(|s| s.revert = true);
    let provider = provider(&chain);
    let err = app(&chain)
        .remove_compose_hash(B256::repeat_byte(0x22))
        .send_with(&provider, &options())
        .await
        .unwrap_err();
    let hash = *chain.sent()[0].envelope.tx_hash();
    let EthError::Reverted {
        transaction_hash,
        block_number,
        function,
    } = err
    else {
        panic!("{err:?}")
    };
    assert_eq!(
        (transaction_hash, block_number, function),
        (hash, Some(0x11), "removeComposeHash(bytes32)")
    );
}

#[tokio::test]
async fn a_receipt_that_never_comes_times_out_with_the_hash() {
    let chain = FakeChain::start(CHAIN).await;
    chain.with(|s| s.withhold_receipts = true);
    let provider = provider(&chain);
    let waited = Duration::from_millis(600);
    let err = app(&chain)
        .disable_upgrades()
        .send_with(&provider, &options().receipt_timeout(waited))
        .await
        .unwrap_err();
    let hash = *chain.sent()[0].envelope.tx_hash();
    assert!(
        matches!(err, EthError::ReceiptTimeout { transaction_hash, waited: w } if transaction_hash == hash && w == waited),
        "{err:?}"
    );
}

#[tokio::test]
async fn deploy_app_auth_reads_the_app_id_from_its_event() {
    let chain = FakeChain::start(CHAIN).await;
    let provider = provider(&chain);
    let kms = KmsContract::new(CHAIN, chain.with(|s| s.kms));
    let app =
        DeployApp::new(provider.default_signer_address()).compose_hash(B256::repeat_byte(0x66));
    let deployed = kms
        .deploy_app_auth(&provider, &app, &options())
        .await
        .unwrap();
    assert_eq!(
        deployed.app,
        AppContract::new(CHAIN, chain.with(|s| s.next_app))
    );
    assert_eq!(deployed.deployer, provider.default_signer_address());
    let sent = chain.sent();
    assert_eq!(deployed.transaction_hash, *sent[0].envelope.tx_hash());
    assert_eq!(sent[0].input()[..4], DEPLOY_5);
    assert_eq!(deployed.block_number, Some(0x11));
    assert_eq!(deployed.gas_used, 0x5208);

    let missing = KmsContract::new(CHAIN, Address::repeat_byte(0x01));
    let err = missing
        .deploy_app_auth(&provider, &app, &options())
        .await
        .unwrap_err();
    assert!(matches!(err, EthError::NoContract { .. }), "{err:?}");
    assert_eq!(chain.sent().len(), 1, "nothing sent to an empty address");
}

/// A 465 for the fake chain's app, with both device and hash missing.
fn approval_465(chain: &FakeChain) -> String {
    let details = [
        ("compose_hash", json!(format!("0x{}", "11".repeat(32)))),
        ("app_id", json!(chain.with(|s| s.app).to_string())),
        ("device_id", json!(format!("0x{}", "33".repeat(32)))),
        (
            "kms_info",
            json!({"chain_id": CHAIN, "kms_contract_address": chain.with(|s| s.kms).to_string()}),
        ),
        (
            "onchain_status",
            json!({"compose_hash_allowed": false, "device_id_allowed": false, "is_allowed": false}),
        ),
    ]
    .map(|(field, value)| json!({"field": field, "value": value}));
    json!({"detail": {
        "error_code": "ERR-01-005",
        "message": "Compose hash registration required on-chain",
        "details": details,
    }})
    .to_string()
}

#[tokio::test]
async fn register_then_confirm_carries_the_transaction_into_phase_2() {
    let chain = FakeChain::start(CHAIN).await;
    // The node lags: two reads after mining still answer "not allowed".
    chain.with(|s| s.lag = 2);
    let api = ScriptedServer::start(vec![
        json(465, &approval_465(&chain)),
        json(202, r#"{"status": "in_progress", "correlation_id": "c-1"}"#),
    ])
    .await;
    let client = client(&api.url, RetryPolicy::none());
    let update = client
        .patch_cvm()
        .cvm_id("cvm_ykL5lbAn")
        .body(UpdateCvmRequest {
            docker_compose_file: Some("services: {}\n".into()),
            ..Default::default()
        });
    let UpdateOutcome::ApprovalRequired(approval) = update.clone().propose().await.unwrap() else {
        panic!("an approval")
    };

    let provider = provider(&chain);
    let registration = approval.register_with(&provider, &options()).await.unwrap();

    let sent = chain.sent();
    let selectors: Vec<&[u8]> = sent.iter().map(|tx| &tx.input()[..4]).collect();
    assert_eq!(selectors, [&ADD_DEVICE[..], &ADD_COMPOSE_HASH[..]]);
    assert_eq!(
        registration.device_transaction,
        Some(*sent[0].envelope.tx_hash())
    );
    let compose_tx = *sent[1].envelope.tx_hash();
    assert_eq!(registration.compose_hash_transaction, Some(compose_tx));
    assert!(
        chain.with(|s| s.batches.len()) >= 3,
        "read before, then polled until the lagging node agreed"
    );

    let applied = update.confirm(&approval, registration).await.unwrap();
    assert!(format!("{applied:?}").contains("c-1"));
    let phase_2 = &api.requests()[1];
    assert_eq!(
        phase_2.header("x-transaction-hash"),
        Some(compose_tx.to_string().as_str())
    );
    assert_eq!(
        phase_2.header("x-compose-hash"),
        Some(approval.compose_hash.as_str())
    );
}

#[tokio::test]
async fn register_sends_nothing_when_all_is_allowed() {
    let chain = FakeChain::start(CHAIN).await;
    chain.with(|s| {
        s.compose_hashes.insert(B256::repeat_byte(0x11));
        s.allow_any_device = true;
    });
    let approval: OnChainApprovalRequired = serde_json::from_value(json!({
        "compose_hash": "11".repeat(32),
        "app_id": chain.with(|s| s.app).to_string(),
        "device_id": format!("0x{}", "33".repeat(32)),
        "kms_info": {"chain_id": CHAIN},
        "message": "m",
    }))
    .unwrap();
    let registration = approval
        .register_with(&provider(&chain), &options())
        .await
        .unwrap();
    assert_eq!(registration.transaction_hash(), ALREADY_REGISTERED);
    assert!(chain.sent().is_empty());
}

#[tokio::test]
async fn register_fails_typed_when_the_contract_never_reads_back_allowed() {
    let chain = FakeChain::start(CHAIN).await;
    chain.with(|s| s.lag = usize::MAX);
    let approval: OnChainApprovalRequired = serde_json::from_value(json!({
        "compose_hash": format!("0x{}", "11".repeat(32)),
        "app_id": chain.with(|s| s.app).to_string(),
        "kms_info": {"chain_id": CHAIN},
        "message": "m",
    }))
    .unwrap();
    let options = options().read_back_timeout(Duration::from_millis(200));
    let err = approval
        .register_with(&provider(&chain), &options)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            EthError::NotAllowed {
                compose_hash_allowed: false,
                device_allowed: true,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        chain.sent().len(),
        1,
        "addComposeHash only: no device named"
    );
}
