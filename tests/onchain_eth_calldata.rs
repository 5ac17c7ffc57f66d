//! `onchain::eth` without a wallet: the bindings' selectors and topics, the
//! calldata of every write, and the calls an approval or a webhook asks for.
//!
//! The expected values are in `tests/fixtures/onchain_eth/vectors.json`,
//! computed independently of this crate by `vectors.py` beside it
//! (pycryptodome's Keccak-256, eth-abi's encoder; the commands are in its
//! docstring). The 4-byte selectors and the KMS addresses are also written
//! out below as the reference lists them.

use phala_cloud::onchain::eth::alloy_sol_types::{SolCall, SolError, SolEvent};
use phala_cloud::onchain::eth::{
    kms_deployment, Address, AppContract, Bytes, Call, DeployApp, DstackApp, DstackKms, EthError,
    KmsContract, B256, BASE_CHAIN_ID, ETHEREUM_CHAIN_ID, KMS_DEPLOYMENTS,
};
use phala_cloud::onchain::OnChainApprovalRequired;
use phala_cloud::webhook::WebhookEvent;
use serde_json::{json, Value};
use support::fixture_json;

fn vectors() -> Value {
    fixture_json("onchain_eth/vectors.json")
}

fn hex(bytes: &[u8]) -> String {
    format!("0x{}", ::hex::encode(bytes))
}

/// Each binding's signature and selector, as `sol!` generated them.
fn function_selectors() -> Vec<(&'static str, [u8; 4])> {
    vec![
        (
            DstackApp::addComposeHashCall::SIGNATURE,
            DstackApp::addComposeHashCall::SELECTOR,
        ),
        (
            DstackApp::removeComposeHashCall::SIGNATURE,
            DstackApp::removeComposeHashCall::SELECTOR,
        ),
        (
            DstackApp::addDeviceCall::SIGNATURE,
            DstackApp::addDeviceCall::SELECTOR,
        ),
        (
            DstackApp::removeDeviceCall::SIGNATURE,
            DstackApp::removeDeviceCall::SELECTOR,
        ),
        (
            DstackApp::setAllowAnyDeviceCall::SIGNATURE,
            DstackApp::setAllowAnyDeviceCall::SELECTOR,
        ),
        (
            DstackApp::setRequireTcbUpToDateCall::SIGNATURE,
            DstackApp::setRequireTcbUpToDateCall::SELECTOR,
        ),
        (
            DstackApp::disableUpgradesCall::SIGNATURE,
            DstackApp::disableUpgradesCall::SELECTOR,
        ),
        (
            DstackApp::allowedComposeHashesCall::SIGNATURE,
            DstackApp::allowedComposeHashesCall::SELECTOR,
        ),
        (
            DstackApp::allowedDeviceIdsCall::SIGNATURE,
            DstackApp::allowedDeviceIdsCall::SELECTOR,
        ),
        (
            DstackApp::allowAnyDeviceCall::SIGNATURE,
            DstackApp::allowAnyDeviceCall::SELECTOR,
        ),
        (
            DstackApp::requireTcbUpToDateCall::SIGNATURE,
            DstackApp::requireTcbUpToDateCall::SELECTOR,
        ),
        (
            DstackApp::ownerCall::SIGNATURE,
            DstackApp::ownerCall::SELECTOR,
        ),
        (
            DstackApp::versionCall::SIGNATURE,
            DstackApp::versionCall::SELECTOR,
        ),
        (
            DstackKms::deployAndRegisterApp_0Call::SIGNATURE,
            DstackKms::deployAndRegisterApp_0Call::SELECTOR,
        ),
        (
            DstackKms::deployAndRegisterApp_1Call::SIGNATURE,
            DstackKms::deployAndRegisterApp_1Call::SELECTOR,
        ),
        (
            DstackKms::kmsInfoCall::SIGNATURE,
            DstackKms::kmsInfoCall::SELECTOR,
        ),
        (
            DstackKms::registeredAppsCall::SIGNATURE,
            DstackKms::registeredAppsCall::SELECTOR,
        ),
        (
            DstackKms::appImplementationCall::SIGNATURE,
            DstackKms::appImplementationCall::SELECTOR,
        ),
        (
            DstackApp::OwnableUnauthorizedAccount::SIGNATURE,
            DstackApp::OwnableUnauthorizedAccount::SELECTOR,
        ),
        (
            DstackApp::OwnableInvalidOwner::SIGNATURE,
            DstackApp::OwnableInvalidOwner::SELECTOR,
        ),
    ]
}

fn event_topics() -> Vec<(&'static str, B256)> {
    vec![
        (
            DstackApp::ComposeHashAdded::SIGNATURE,
            DstackApp::ComposeHashAdded::SIGNATURE_HASH,
        ),
        (
            DstackApp::ComposeHashRemoved::SIGNATURE,
            DstackApp::ComposeHashRemoved::SIGNATURE_HASH,
        ),
        (
            DstackApp::DeviceAdded::SIGNATURE,
            DstackApp::DeviceAdded::SIGNATURE_HASH,
        ),
        (
            DstackApp::DeviceRemoved::SIGNATURE,
            DstackApp::DeviceRemoved::SIGNATURE_HASH,
        ),
        (
            DstackApp::AllowAnyDeviceSet::SIGNATURE,
            DstackApp::AllowAnyDeviceSet::SIGNATURE_HASH,
        ),
        (
            DstackApp::RequireTcbUpToDateSet::SIGNATURE,
            DstackApp::RequireTcbUpToDateSet::SIGNATURE_HASH,
        ),
        (
            DstackApp::UpgradesDisabled::SIGNATURE,
            DstackApp::UpgradesDisabled::SIGNATURE_HASH,
        ),
        (
            DstackApp::PolicyChanged::SIGNATURE,
            DstackApp::PolicyChanged::SIGNATURE_HASH,
        ),
        (
            DstackKms::AppDeployedViaFactory::SIGNATURE,
            DstackKms::AppDeployedViaFactory::SIGNATURE_HASH,
        ),
        (
            DstackKms::AppRegistered::SIGNATURE,
            DstackKms::AppRegistered::SIGNATURE_HASH,
        ),
    ]
}

#[test]
fn selectors_equal_the_reference_and_the_independent_vectors() {
    // As `trust-and-onchain.md` §3.1 lists them.
    let reference = [
        ("addComposeHash(bytes32)", "0xdfc77223"),
        ("removeComposeHash(bytes32)", "0x67b3f22c"),
        ("addDevice(bytes32)", "0x2a819728"),
        ("removeDevice(bytes32)", "0x1d266200"),
        ("setAllowAnyDevice(bool)", "0x7c4beeb8"),
        ("setRequireTcbUpToDate(bool)", "0x6e4c7422"),
        ("disableUpgrades()", "0xec669036"),
        ("allowedComposeHashes(bytes32)", "0x2f6622e5"),
        ("allowedDeviceIds(bytes32)", "0xbf8b211b"),
        ("allowAnyDevice()", "0x3440a16a"),
        ("requireTcbUpToDate()", "0x0aa58c83"),
        ("owner()", "0x8da5cb5b"),
        ("version()", "0x54fd4d50"),
        (
            "deployAndRegisterApp(address,bool,bool,bytes32,bytes32)",
            "0x8618169d",
        ),
        (
            "deployAndRegisterApp(address,bool,bool,bool,bytes32,bytes32)",
            "0x9cb9c31f",
        ),
        ("kmsInfo()", "0x09177063"),
        ("registeredApps(address)", "0xa6c4cce9"),
        ("appImplementation()", "0x25a992da"),
        ("OwnableUnauthorizedAccount(address)", "0x118cdaa7"),
        ("OwnableInvalidOwner(address)", "0x1e4fbdf7"),
    ];
    let ours: Vec<(&str, String)> = function_selectors()
        .into_iter()
        .map(|(signature, selector)| (signature, hex(&selector)))
        .collect();
    let expected: Vec<(&str, String)> = reference
        .iter()
        .map(|(signature, selector)| (*signature, selector.to_string()))
        .collect();
    assert_eq!(ours, expected);

    let vectors = vectors();
    for (signature, selector) in &ours {
        assert_eq!(
            vectors["selectors"][signature],
            json!(selector),
            "{signature}"
        );
    }
    assert_eq!(vectors["selectors"].as_object().unwrap().len(), ours.len());
}

#[test]
fn event_topics_equal_the_independent_vectors_and_the_reference_prefixes() {
    // As §3.1 lists them: whole for three, the first four bytes for the rest.
    let reference = [
        ("ComposeHashAdded(bytes32)", "0xfecb3430"),
        ("ComposeHashRemoved(bytes32)", "0x755b79bd"),
        ("DeviceAdded(bytes32)", "0x67fc71ab"),
        ("DeviceRemoved(bytes32)", "0xe0862975"),
        ("AllowAnyDeviceSet(bool)", "0xbb2cdb6c"),
        ("RequireTcbUpToDateSet(bool)", "0xafae6056"),
        ("UpgradesDisabled()", "0x0e5daa94"),
        (
            "PolicyChanged(address,bytes32,bytes32,bool)",
            "0x341d3bc64e32172fc5bcf27b0f7f69dc5adc19af64b7aa1dee361e5883c32375",
        ),
        (
            "AppDeployedViaFactory(address,address)",
            "0xfd86d7f6962eba3b7a3bf9129c06c0b2f885e1c61ef2c9f0dbb856be0deefdee",
        ),
        (
            "AppRegistered(address)",
            "0x0d540ad8f39e07d19909687352b9fa017405d93c91a6760981fbae9cf28bfef7",
        ),
    ];
    let vectors = vectors();
    let ours = event_topics();
    assert_eq!(ours.len(), reference.len());
    for ((signature, topic), (listed, prefix)) in ours.iter().zip(reference) {
        assert_eq!(*signature, listed);
        let topic = topic.to_string();
        assert!(topic.starts_with(prefix), "{signature}: {topic}");
        assert_eq!(vectors["topics"][signature], json!(topic), "{signature}");
    }
}

#[test]
fn every_write_encodes_as_the_independent_vector() {
    let vectors = vectors();
    let expected = |name: &str| vectors["calldata"][name].as_str().unwrap().to_string();
    let app_address: Address = "0x09cef33ca9c6e4f2b1d5a7c3e8f0b2a4d6e8f1c3"
        .parse()
        .unwrap();
    let app = AppContract::new(BASE_CHAIN_ID, app_address);
    let writes: [(&str, Call); 7] = [
        (
            "addComposeHash",
            app.add_compose_hash(B256::repeat_byte(0x11)),
        ),
        (
            "removeComposeHash",
            app.remove_compose_hash(B256::repeat_byte(0x22)),
        ),
        ("addDevice", app.add_device(B256::repeat_byte(0x33))),
        ("removeDevice", app.remove_device(B256::repeat_byte(0x44))),
        ("setAllowAnyDevice", app.set_allow_any_device(true)),
        (
            "setRequireTcbUpToDate",
            app.set_require_tcb_up_to_date(true),
        ),
        ("disableUpgrades", app.disable_upgrades()),
    ];
    for (name, call) in &writes {
        assert_eq!(hex(&call.data), expected(name), "{name}");
        assert_eq!((call.chain_id, call.to), (8453, app_address), "{name}");
        assert!(call.function.starts_with(name), "{name}: {}", call.function);
    }

    let owner: Address = vectors["owner"].as_str().unwrap().parse().unwrap();
    let kms = KmsContract::deployed(ETHEREUM_CHAIN_ID).unwrap();
    let five = kms.deploy_and_register_app(
        &DeployApp::new(owner)
            .allow_any_device(true)
            .device_id(B256::repeat_byte(0x55))
            .compose_hash(B256::repeat_byte(0x66)),
    );
    assert_eq!(hex(&five.data), expected("deployAndRegisterApp5"));
    assert_eq!(
        five.function,
        "deployAndRegisterApp(address,bool,bool,bytes32,bytes32)"
    );
    let six = kms.deploy_and_register_app(
        &DeployApp::new(owner)
            .disable_upgrades(true)
            .require_tcb_up_to_date(true)
            .device_id(B256::repeat_byte(0x77))
            .compose_hash(B256::repeat_byte(0x88)),
    );
    assert_eq!(hex(&six.data), expected("deployAndRegisterApp6"));
    for call in [&five, &six] {
        assert_eq!((call.chain_id, call.to), (1, kms.address()));
    }
}

#[test]
fn the_kms_contracts_are_the_documented_ones() {
    let listed: Vec<(u64, &str, String)> = KMS_DEPLOYMENTS
        .iter()
        .map(|d| (d.chain_id, d.name, d.kms.to_string()))
        .collect();
    assert_eq!(
        listed,
        [
            (
                1,
                "ethereum",
                "0xd343a3f5593b93D8056aB5D60c433622d7D65a80".to_string()
            ),
            (
                8453,
                "base",
                "0x2f83172A49584C017F2B256F0FB2Dca14126Ba9C".to_string()
            ),
        ]
    );
    assert_eq!(kms_deployment(BASE_CHAIN_ID), Some(KMS_DEPLOYMENTS[1]));
    assert_eq!(KmsContract::deployed(31337), None);
}

#[test]
fn a_call_serializes_for_a_safe() {
    let app = AppContract::new(
        8453,
        "0x09cef33ca9c6e4f2b1d5a7c3e8f0b2a4d6e8f1c3"
            .parse()
            .unwrap(),
    );
    let call = app.add_device(B256::repeat_byte(0x33));
    assert_eq!(
        serde_json::to_value(&call).unwrap(),
        json!({
            "chain_id": 8453,
            "to": "0x09cef33ca9c6e4f2b1d5a7c3e8f0b2a4d6e8f1c3",
            "data": vectors()["calldata"]["addDevice"],
            "function": "addDevice(bytes32)",
        })
    );
}

const PREPARE_ONLY: &str =
    "PATCH_api_v1_cvms_{cvm_id}__prepare-only-cli-json-output__docs-multisig.json";
const PENDING_APPROVAL: &str = "WEBHOOK_event_cvm.update.pending_approval__docs-multisig.json";

/// The documented prepare-only answer, whose example hashes are 63 digits,
/// with the last digit doubled to make them 32 bytes.
fn documented_approval(fix_hashes: bool) -> OnChainApprovalRequired {
    let mut body: Value = fixture_json(PREPARE_ONLY);
    if fix_hashes {
        for field in ["compose_hash", "device_id"] {
            let short = body[field].as_str().unwrap().to_string();
            body[field] = json!(format!("{short}{}", &short[short.len() - 1..]));
        }
    }
    body["message"] = json!("Compose hash registration required on-chain");
    serde_json::from_value(body).unwrap()
}

#[test]
fn an_approval_asks_for_what_phase_1_found_missing() {
    let approval = documented_approval(true);
    let calls = approval.calldata().unwrap();
    // The documented status: compose hash not allowed, device allowed.
    assert_eq!(calls.len(), 1);
    let call = &calls[0];
    assert_eq!(call.chain_id, 8453);
    assert_eq!(
        call.to,
        "0x09cef33ca9c6e4f2b1d5a7c3e8f0b2a4d6e8f1c3"
            .parse::<Address>()
            .unwrap()
    );
    assert_eq!(call.function, "addComposeHash(bytes32)");
    assert_eq!(
        hex(&call.data),
        format!(
            "0xdfc77223{}",
            approval.compose_hash.trim_start_matches("0x")
        )
    );

    let mut both_missing = approval.clone();
    both_missing.onchain_status =
        serde_json::from_value(json!({"compose_hash_allowed": false, "device_id_allowed": false}))
            .unwrap();
    let functions: Vec<_> = both_missing
        .calldata()
        .unwrap()
        .iter()
        .map(|c| c.function)
        .collect();
    assert_eq!(functions, ["addComposeHash(bytes32)", "addDevice(bytes32)"]);

    let mut both_allowed = approval.clone();
    both_allowed.onchain_status = serde_json::from_value(
        json!({"compose_hash_allowed": true, "device_id_allowed": true, "is_allowed": true}),
    )
    .unwrap();
    assert_eq!(both_allowed.calldata().unwrap(), []);

    let mut unknown = approval;
    unknown.onchain_status = None;
    let functions: Vec<_> = unknown
        .calldata()
        .unwrap()
        .iter()
        .map(|c| c.function)
        .collect();
    assert_eq!(
        functions,
        ["addComposeHash(bytes32)"],
        "no status: the hash only"
    );
}

#[test]
fn bad_approval_values_are_typed_errors() {
    // The documentation's own example hash is 63 digits: refused, named.
    let err = documented_approval(false).calldata().unwrap_err();
    assert!(
        matches!(
            &err,
            EthError::InvalidField {
                field: "compose_hash",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().starts_with("compose_hash \"0xff22c67f"),
        "{err}"
    );

    let mut approval = documented_approval(true);
    approval.app_id = "not-an-address".into();
    let err = approval.calldata().unwrap_err();
    assert!(
        matches!(
            err,
            EthError::InvalidField {
                field: "app_id",
                ..
            }
        ),
        "{err:?}"
    );

    let mut approval = documented_approval(true);
    approval.kms_info = None;
    // The prepare-only body's top-level `chain_id` still names the chain.
    assert_eq!(approval.calldata().unwrap()[0].chain_id, 8453);
    approval.other.remove("chain_id");
    assert!(matches!(approval.calldata(), Err(EthError::MissingChainId)));
}

#[test]
fn the_pending_approval_webhook_gives_its_call() {
    let mut body: Value = fixture_json(PENDING_APPROVAL);
    let event: WebhookEvent = serde_json::from_value(body.clone()).unwrap();
    let phala_cloud::webhook::EventData::CvmUpdatePendingApproval(pending) = &event.data else {
        panic!("pending approval")
    };
    assert!(matches!(
        pending.calldata(),
        Err(EthError::InvalidField {
            field: "compose_hash",
            ..
        })
    ));

    let hash = format!("0x{}", "ab".repeat(32));
    body["data"]["compose_hash"] = json!(hash);
    let event: WebhookEvent = serde_json::from_value(body).unwrap();
    let phala_cloud::webhook::EventData::CvmUpdatePendingApproval(pending) = &event.data else {
        panic!("pending approval")
    };
    let call = pending.calldata().unwrap();
    assert_eq!(call.chain_id, 8453);
    assert_eq!(
        call.to.to_string().to_lowercase(),
        pending.onchain_action.to
    );
    assert_eq!(call.function, pending.onchain_action.method);
    assert_eq!(
        call.data,
        Bytes::from(::hex::decode(format!("dfc77223{}", "ab".repeat(32))).unwrap())
    );
}
