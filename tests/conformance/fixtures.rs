//! Real-shaped bodies (`tests/fixtures/`, provenance in `SOURCES.md`):
//! which operation each is an answer of, and whether it decodes (and, as an
//! answer, encodes back to the same JSON: `compare.rs`) or contradicts the
//! spec (and why).
//!
//! Copied from `shared/fixtures/`: every body of API version 2026-01-21 (the
//! version the client pins) or of no particular version, and the bodies of
//! the operations typed beyond the spec (`openapi.additions.json`, sent at
//! 2026-06-23, whose shapes their 2026-05-22 and 2026-06-23 bodies have).
//! Bodies tagged with another version of a spec operation, or that are CLI
//! output rather than API answers, are not: `SOURCES.md` lists them and why.

use phala_cloud::webhook::WebhookEvent;
use serde_json::{json, Value};
use support::schema::validate;

use super::examples::Mode;
use super::spec::{Coverage, Spec};
use super::wire::{Answer, Case, Server};

pub struct Fixture {
    /// The file in `tests/fixtures/`.
    pub file: &'static str,
    pub target: Target,
    pub expect: Expect,
}

pub enum Target {
    /// A success answer of this generated operation.
    Answer(&'static str),
    /// An error answer of this generated operation, with this status;
    /// `nested` when the file holds what FastAPI sends under `detail`.
    Error {
        operation: &'static str,
        status: u16,
        nested: bool,
    },
    /// A webhook delivery (`phala_cloud::webhook`).
    Webhook,
    /// A success answer of an operation the JSON driver does not call (a
    /// multipart body or a byte answer, `crate::WIRE_TESTED`): checked
    /// against the spec here; its decoding is tested in its wire tests.
    WireTested(&'static str),
    /// Not an API body (the `phala` CLI's JSON output): the test file
    /// `tests/<used_by>` builds an API body from it; checked to be in use.
    CliOutput { used_by: &'static str },
}

pub enum Expect {
    /// Valid for the spec, and decodes (an answer: and encodes back to the
    /// same JSON).
    Decodes,
    /// Not valid for the spec, for this reason (the suite checks that the
    /// validator still refuses it), and whether the client decodes it all
    /// the same, losing nothing (checked for every answer but a hand-written
    /// operation's).
    Contradicts { why: &'static str, decodes: bool },
}

const fn answer(file: &'static str, operation: &'static str) -> Fixture {
    Fixture {
        file,
        target: Target::Answer(operation),
        expect: Expect::Decodes,
    }
}

const fn error(file: &'static str, operation: &'static str, status: u16, nested: bool) -> Fixture {
    Fixture {
        file,
        target: Target::Error {
            operation,
            status,
            nested,
        },
        expect: Expect::Decodes,
    }
}

const fn contradicts(
    file: &'static str,
    operation: &'static str,
    why: &'static str,
    decodes: bool,
) -> Fixture {
    Fixture {
        file,
        target: Target::Answer(operation),
        expect: Expect::Contradicts { why, decodes },
    }
}

const MOCK_CVM_WITHOUT_GATEWAY: &str =
    "an SDK test mock of the 2026-01-21 shape with four fields; `CVMInfoDetail` requires \
     `gateway` (an object), and FastAPI sends every field of a response model, so a real answer \
     has it: the client refuses the mock";
const PLACEHOLDER_APP_ID: &str =
    "an SDK test mock whose `app_id` is a placeholder (`app-123`, `a`, `app_test123`), not the 40 hex \
     digits of an app id; the client decodes an answer's app id as an `ids::AppId` and keeps it as \
     sent (the `__v20260121` body beside it is the same answer with real-shaped ids)";
const PLACEHOLDER_COMPOSE_HASH: &str =
    "the Python SDK's mock has the placeholders `hash` and `app_1` for a compose hash and an app id; \
     the client decodes them as `ids::ComposeHash` and `ids::AppId` and keeps them as sent (the \
     `__v20260121` body beside it is the same answer with real-shaped ids)";
const PLACEHOLDER_KMS_ID: &str =
    "the placeholder id `k1` is not a `kms_` hashid (the spec's pattern); hashids decode \
     leniently, so the client reads it";

pub const FIXTURES: &[Fixture] = &[
    error("ANY__500__py-test-465.json", "list_kms", 500, false),
    error(
        "GET_any__400-structured-with-request-id__py-test-465.json",
        "get_cvm",
        400,
        false,
    ),
    answer(
        "GET_api_v1_apps__js-get-apps-list-test_empty.json",
        "list_apps",
    ),
    answer(
        "GET_api_v1_apps_filter-options__py-action-matrix.json",
        "get_app_filter_options",
    ),
    contradicts(
        "GET_api_v1_apps_{app_id}_attestations__go-apps-test.json",
        "get_app_attestation",
        PLACEHOLDER_APP_ID,
        true,
    ),
    answer(
        "GET_api_v1_apps_{app_id}_attestations__v20260121.json",
        "get_app_attestation",
    ),
    answer(
        "GET_api_v1_apps_{app_id}_device-allowlist__go-types-cvms-test_v20260121.json",
        "get_app_device_allowlist",
    ),
    contradicts(
        "GET_api_v1_apps_{app_id}_revisions_{revision_id}__py-action-matrix.json",
        "get_app_revision_detail",
        "the Python SDK's mock leaves out `compose_file`, `encrypted_env`, `user_config` and \
         `trace_id`, which the spec requires (nullable: present, maybe `null`), and FastAPI sends \
         every field of a response model: the client refuses the mock",
        false,
    ),
    answer(
        "GET_api_v1_attestations_collateral_{checksum}__docs-attestations-sample.json",
        "get_attestation_collateral",
    ),
    answer(
        "GET_api_v1_attestations_recent__docs-attestations.json",
        "list_recent_attestations",
    ),
    answer(
        "GET_api_v1_attestations_view_{checksum}__docs-attestations.json",
        "get_attestation",
    ),
    contradicts(
        "GET_api_v1_cvms_{cvm_id}__go-types-cvms-test_hashid.json",
        "get_cvm",
        MOCK_CVM_WITHOUT_GATEWAY,
        false,
    ),
    contradicts(
        "GET_api_v1_cvms_{cvm_id}__py-js-parity-test.json",
        "get_cvm",
        MOCK_CVM_WITHOUT_GATEWAY,
        false,
    ),
    answer("GET_api_v1_cvms_{cvm_id}__v20260121.json", "get_cvm"),
    answer(
        "GET_api_v1_cvms_{cvm_id}_available-os-images__py-js-parity-test_item.json",
        "get_available_os_images",
    ),
    answer(
        "GET_api_v1_cvms_{cvm_id}_compose_file__py-action-matrix.json",
        "get_cvm_compose_file",
    ),
    answer(
        "GET_api_v1_cvms_{cvm_id}_state__py-action-matrix.json",
        "get_cvm_state",
    ),
    answer(
        "GET_api_v1_cvms_{cvm_id}_user_config__py-action-matrix.json",
        "get_cvm_user_config",
    ),
    answer(
        "GET_api_v1_instance-types__py-action-matrix.json",
        "list_instance_types",
    ),
    answer(
        "GET_api_v1_instance-types_{family}__py-action-matrix.json",
        "list_family_instance_types",
    ),
    contradicts(
        "GET_api_v1_kms__py-action-matrix.json",
        "list_kms",
        PLACEHOLDER_KMS_ID,
        true,
    ),
    answer(
        "GET_api_v1_kms_on-chain_{chain}__py-action-matrix.json",
        "get_kms_onchain_detail",
    ),
    contradicts(
        "GET_api_v1_kms_phala_next_app_id__py-action-matrix.json",
        "get_next_app_id",
        PLACEHOLDER_APP_ID,
        true,
    ),
    answer(
        "GET_api_v1_kms_phala_next_app_id__v20260121.json",
        "get_next_app_id",
    ),
    answer("GET_api_v1_kms_{kms_id}__hashid.json", "get_kms_info"),
    contradicts(
        "GET_api_v1_kms_{kms_id}__py-action-matrix.json",
        "get_kms_info",
        PLACEHOLDER_KMS_ID,
        true,
    ),
    answer(
        "GET_api_v1_kms_{kms_id}_pubkey_{app_id}__py-action-matrix.json",
        "get_app_env_encrypt_pubkey",
    ),
    contradicts(
        "GET_api_v1_user_ssh-keys__py-action-matrix.json",
        "list_ssh_keys",
        "the Python SDK's mock has only `id`, `name` and `public_key`; `SshKeyResponse` also \
         requires `user_id`, `fingerprint`, `key_type`, `source`, `created_at` and `updated_at` \
         (so does the JS SDK's schema), and FastAPI sends every field of a response model",
        false,
    ),
    answer(
        "PATCH_api_v1_cvms_{cvm_id}__202__py-action-matrix.json",
        "patch_cvm",
    ),
    error(
        "PATCH_api_v1_cvms_{cvm_id}__465-detail__js-patch-cvm-test.json",
        "patch_cvm",
        465,
        true,
    ),
    answer(
        "PATCH_api_v1_cvms_{cvm_id}__no_change__js-patch-cvm-test.json",
        "patch_cvm",
    ),
    // The Python SDK answers /envs and /pre-launch-script with the same
    // body; so do the other updates that answer 202 (`CvmUpdateResponse`).
    Fixture {
        file: "PATCH_api_v1_cvms_{cvm_id}_docker-compose__202__py-action-matrix.json",
        target: Target::WireTested("update_docker_compose"),
        expect: Expect::Decodes,
    },
    answer(
        "PATCH_api_v1_cvms_{cvm_id}_docker-compose__202__py-action-matrix.json",
        "update_cvm_envs",
    ),
    answer(
        "PATCH_api_v1_cvms_{cvm_id}_docker-compose__202__py-action-matrix.json",
        "update_cvm_os_image",
    ),
    answer(
        "PATCH_api_v1_cvms_{cvm_id}_docker-compose__202__py-action-matrix.json",
        "trigger_cvm_compose_file_update",
    ),
    answer(
        "PATCH_api_v1_cvms_{cvm_id}_docker-compose__202__py-action-matrix.json",
        "submit_cvm_compose_file_update",
    ),
    error(
        "PATCH_api_v1_cvms_{cvm_id}_envs__465-legacy-flat__py-test-465.json",
        "update_cvm_envs",
        465,
        false,
    ),
    contradicts(
        "POST_api_v1_apps_{app_id}_instances__go-apps-test.json",
        "create_app_instance",
        "the Go SDK's mock has only `id`, `name`, `resource` and `status`; the answer is a `VM`, \
         which requires `teepod_id`, `app_id`, `vcpu`, `memory`, `disk_size` and `created_at`",
        false,
    ),
    Fixture {
        file: "POST_api_v1_attestations_verify__docs-attestations.json",
        target: Target::WireTested("verify_attestation"),
        expect: Expect::Decodes,
    },
    error(
        "POST_api_v1_cvms__422-detail-items__js-errors-test.json",
        "commit_cvm_provision",
        422,
        false,
    ),
    contradicts(
        "POST_api_v1_cvms_provision__py-action-matrix.json",
        "provision_cvm",
        PLACEHOLDER_COMPOSE_HASH,
        true,
    ),
    answer(
        "POST_api_v1_cvms_provision__v20260121.json",
        "provision_cvm",
    ),
    answer(
        "POST_api_v1_cvms_provision__v20260121.json",
        "provision_cvm_for_eliza",
    ),
    answer(
        "POST_api_v1_cvms_{cvm_id}_commit-update__docs-multisig-cli-output.json",
        "commit_cvm_update",
    ),
    answer(
        "POST_api_v1_cvms_{cvm_id}_revisions_{revision_id}_redeploy__202__go-apps-test.json",
        "redeploy_cvm_revision",
    ),
    answer(
        "POST_api_v1_cvms_{cvm_id}_revisions_{revision_id}_redeploy__202__go-apps-test.json",
        "redeploy_app_revision",
    ),
    answer(
        "GET_api_v1_attestations_ppids__v20260121.json",
        "list_attestation_ppids",
    ),
    answer(
        "GET_api_v1_attestations_device_ids__v20260121.json",
        "list_attestation_device_ids",
    ),
    answer(
        "GET_api_v1_cvms_{cvm_id}_operation-status__v20260121.json",
        "get_cvm_operation_status",
    ),
    answer(
        "POST_api_v1_workspace_webhooks_{webhook_id}_reveal-secret__v20260121.json",
        "reveal_webhook_secret",
    ),
    answer(
        "POST_api_v1_workspace_webhooks_{webhook_id}_reveal-secret__v20260121.json",
        "rotate_webhook_secret",
    ),
    contradicts(
        "POST_api_v1_cvms_{cvm_id}_start__js-lifecycle-versioning-test_v20260121.json",
        "start_cvm",
        PLACEHOLDER_APP_ID,
        true,
    ),
    answer(
        "POST_api_v1_cvms_{cvm_id}_start__v20260121.json",
        "start_cvm",
    ),
    // A replica, committed or not, is a new CVM record (`VM`).
    answer(
        "POST_api_v1_cvms_{cvm_id}_start__v20260121.json",
        "replicate_cvm",
    ),
    answer(
        "POST_api_v1_cvms_{cvm_id}_start__v20260121.json",
        "commit_cvm_replica",
    ),
    answer(
        "POST_api_v1_user_ssh-keys_github-profile__py-action-matrix.json",
        "import_github_profile_ssh_keys",
    ),
    answer(
        "POST_api_v1_user_ssh-keys_github-sync__py-action-matrix.json",
        "sync_github_ssh_keys",
    ),
    Fixture {
        file: "PATCH_api_v1_cvms_{cvm_id}__prepare-only-cli-json-output__docs-multisig.json",
        target: Target::CliOutput {
            used_by: "onchain.rs",
        },
        expect: Expect::Decodes,
    },
    // Beyond the spec (`openapi.additions.json`).
    answer(
        "GET_api_v1_auth_me__py-action-matrix_v20260121.json",
        "get_current_user",
    ),
    answer(
        "GET_api_v1_workspaces_{slug}_quotas__py-action-matrix.json",
        "get_workspace_quotas",
    ),
    answer(
        "GET_api_v1_os-images__py-action-matrix.json",
        "list_os_images",
    ),
    answer(
        "GET_api_v1_teepods_cvm-create-resources__py-action-matrix.json",
        "get_cvm_create_resources",
    ),
    contradicts(
        "POST_api_v1_cvms_{cvm_id}_is-allowed__go-types-cvms-test_v20260522.json",
        "check_cvm_is_allowed",
        "the Go SDK's mock has the placeholder `compose-hash` for a compose hash; the client \
         decodes it as an `ids::ComposeHash` and keeps it as sent",
        true,
    ),
    answer(
        "GET_api_v1_kms__go-kms-contract-test_v20260623.json",
        "list_kms_contracts",
    ),
    answer(
        "GET_api_v1_kms_{slug}_nodes__go-kms-contract-test_v20260623.json",
        "list_kms_contract_nodes",
    ),
    Fixture {
        file: "WEBHOOK_event_cvm.created__docs-webhooks.json",
        target: Target::Webhook,
        expect: Expect::Decodes,
    },
    Fixture {
        file: "WEBHOOK_event_cvm.update.pending_approval__docs-multisig.json",
        target: Target::Webhook,
        expect: Expect::Decodes,
    },
];

/// The text of `tests/fixtures/<file>`.
pub fn read(file: &str) -> String {
    let path = format!("{}/tests/fixtures/{file}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Checks `fixture`: `Err` says what is wrong.
pub async fn check(server: &Server, fixture: &Fixture) -> Result<(), String> {
    let text = read(fixture.file);
    let body: Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: not JSON: {e}", fixture.file))?;
    let spec = Spec::get();
    let operations = spec.operations();
    let find = |name: &str| {
        operations
            .iter()
            .find(|op| op.name() == name)
            .ok_or_else(|| format!("{}: no operation {name}", fixture.file))
    };
    let (valid, decoded) = match &fixture.target {
        Target::Answer(name) => {
            let op = find(name)?;
            let (status, schema) = op.success();
            let schema = schema.cloned().unwrap_or_else(|| json!({}));
            let valid = validate(&spec.upstream, &schema, &body);
            let mut case = Case::new(spec, op, name, Mode::Minimal);
            case.label = format!("{} as {name}", fixture.file);
            case.answer = Answer::json(status, schema, body);
            (valid, Some(server.run(&case).await))
        }
        Target::WireTested(name) => {
            let op = find(name)?;
            if !matches!(&op.coverage, Coverage::Generated(g) if crate::WIRE_TESTED.contains(&g.as_str()))
            {
                return Err(format!("{}: {name} is not in WIRE_TESTED", fixture.file));
            }
            let schema = op.success().1.cloned().unwrap_or_else(|| json!({}));
            (validate(&spec.upstream, &schema, &body), None)
        }
        Target::CliOutput { used_by } => {
            let user =
                std::fs::read_to_string(format!("{}/tests/{used_by}", env!("CARGO_MANIFEST_DIR")))
                    .unwrap_or_default();
            let used = user.contains(fixture.file);
            (
                Ok(()),
                Some(
                    used.then_some(()).ok_or_else(|| {
                        format!("{}: tests/{used_by} does not use it", fixture.file)
                    }),
                ),
            )
        }
        Target::Webhook => {
            let decoded = serde_json::from_value::<WebhookEvent>(body)
                .map(|_| ())
                .map_err(|e| format!("{}: does not decode as a webhook event: {e}", fixture.file));
            (Ok(()), Some(decoded))
        }
        Target::Error {
            operation,
            status,
            nested,
        } => {
            let op = find(operation)?;
            let mut case = Case::new(spec, op, operation, Mode::Minimal);
            let body = if *nested {
                json!({"detail": body})
            } else {
                body
            };
            case.answer = Answer::json(*status, json!({}), body);
            let (problems, result) = server.exchange(&case).await;
            let decoded = match result {
                Err(e)
                    if e.status().map(|s| s.as_u16()) == Some(*status)
                        && e.api_error().and_then(|a| a.body()).is_some()
                        && problems.is_empty() =>
                {
                    Ok(())
                }
                other => Err(format!(
                    "{}: expected an API error {status} with a decoded body, got {other:?} {problems:?}",
                    fixture.file
                )),
            };
            (Ok(()), Some(decoded))
        }
    };
    judge(fixture, valid, decoded)
}

/// The fixture's verdict (valid for the spec; decoded, if decoding it is
/// this suite's job) against what it is expected to be.
fn judge(
    fixture: &Fixture,
    valid: Result<(), String>,
    decoded: Option<Result<(), String>>,
) -> Result<(), String> {
    let file = fixture.file;
    match (&fixture.expect, valid) {
        (Expect::Decodes, Ok(())) => decoded.unwrap_or(Ok(())),
        (Expect::Decodes, Err(e)) => Err(format!(
            "{file}: contradicts the spec {e}: if the server is right, fix the normalizer; if not, record why"
        )),
        (Expect::Contradicts { why, .. }, Ok(())) => Err(format!(
            "{file}: is recorded as contradicting the spec ({why}), but is valid now"
        )),
        (Expect::Contradicts { decodes, .. }, Err(_)) => match decoded {
            Some(Ok(())) if !decodes => Err(format!(
                "{file}: is recorded as not decoding, but decodes now"
            )),
            Some(Err(e)) if *decodes => Err(format!(
                "{file}: is recorded as decoding despite contradicting the spec, but: {e}"
            )),
            _ => Ok(()),
        },
    }
}
