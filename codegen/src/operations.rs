//! The operation table: every fact about an operation that the spec does not
//! say, in one row per operation, keyed by its client method name.
//!
//! Why one table: the method name chosen by hand, whether the operation is
//! also written by hand, how it is retried and how it pages used to live in
//! five lists (the normalizer's renames and hand-written list, the retry
//! layer's conflict list, the pagination glue, the conformance lists), each
//! spelling the operation names as strings and kept in step by tests. Here
//! a row says it all, and the generator derives from it what the crate
//! needs: the names progenitor sees (`name_operations`), the retry class
//! and answer limit lookups (`lifecycle_operation`, `quote_answer`,
//! generated `match`es), the `Paginated`
//! impls and `paginate::OPERATIONS`, the hand-written methods' operations
//! (`HAND_WRITTEN_OPERATIONS`), all emitted by `from_table`.
//!
//! An operation with no row is generated all the same, with the defaults: the
//! name derived from its `operationId`, retried by its HTTP method, not
//! paginated (a new operation whose parameters look paginated is named by
//! `cargo xtask update-spec`'s report and fails `tests/paginate.rs`'s
//! coverage test until it has a row). A row whose operation a spec revision
//! does not have is skipped for that revision, except a hand-written one (the
//! hand-written method would call an endpoint that no longer exists); the
//! vendored spec has every row's operation (`codegen/tests/real_spec.rs`).
//!
//! ID formats are not here: they are chosen per parameter and field name,
//! whatever the operation (`normalize::id_formats`).

/// One operation's row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// The client method name (the `operationId` progenitor sees).
    pub name: &'static str,
    /// The upstream `operationId` this name replaces, when the derivation
    /// rule (FastAPI's suffix and `handle_` prefix stripped) would get the
    /// name wrong: to follow the official SDKs' names, to say what an
    /// operation does rather than how the server names its handler, to
    /// separate the two `handle_replicate_cvm`s.
    pub renamed_from: Option<&'static str>,
    /// A client method written by hand on this operation, beside the
    /// generated one.
    pub hand_written: Option<HandWrittenUse>,
    /// How a failed attempt is retried.
    pub retry: Retry,
    /// Which size limit its success answer is read within.
    pub answer_limit: AnswerLimit,
    /// How the operation pages, when it has `items()` and `pages()` streams.
    pub paging: Option<Paging>,
    /// The `X-Phala-Version` its request and answer types describe, sent
    /// with every call unless the call names another
    /// (`RequestOptions::api_version`), whatever the client's version; `None`:
    /// the client's version (`ClientBuilder::api_version`, default the
    /// spec's `API_VERSION`), for an operation whose shape no version
    /// change is known to alter.
    pub version: Option<Version>,
}

/// The `X-Phala-Version` an operation is pinned to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// The spec's own (`API_VERSION`): for an operation the spec types, on a
    /// path that answers another shape under a newer version.
    Spec,
    /// This one: for an operation typed beyond the spec at the version its
    /// source describes.
    Of(&'static str),
}

/// A hand-written client method on an operation, and why it is not generated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HandWrittenUse {
    /// The hand-written method's name.
    pub method: &'static str,
    /// What the spec cannot describe.
    pub reason: &'static str,
}

/// How a failed attempt of an operation is retried (`src/retry.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// By its HTTP method: GET, HEAD, PUT, DELETE, OPTIONS retry transient
    /// failures, POST and PATCH never.
    ByMethod,
    /// The CVM lifecycle and update operations, which the server refuses
    /// while another one runs ("another operation in progress": a 409
    /// without an error code) and which are safe to repeat, whatever their
    /// method: they retry that 409, 429 and 503. The same set as the official
    /// Go SDK's.
    Lifecycle,
}

/// Which size limit a success answer is read within (`Client::answer_limit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerLimit {
    /// `ClientBuilder::max_response_size`, as every answer.
    Response,
    /// `ClientBuilder::max_quote_size`: a raw attestation quote, far larger
    /// than a JSON answer may be.
    Quote,
}

/// How a paginated operation pages (`src/paginate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    /// What one item is, in the streams' docs: "KMS instance".
    pub what: &'static str,
    /// How pages are addressed.
    pub style: PagingStyle,
    /// The query parameter placing a page: `page`, `offset`, `skip`, `cursor`.
    pub position: &'static str,
    /// The query parameter sizing a page: `page_size`, `limit`.
    pub size: &'static str,
    /// Why the streams ask for the size parameter's `default` when the spec
    /// gives it no `maximum`; `None`: the spec's `maximum` is the page size
    /// (the streams ask for as many items as the server allows).
    pub no_maximum: Option<&'static str>,
    /// The page size the streams ask for when the spec gives the size
    /// parameter neither a `maximum` nor a `default` (`no_maximum` says why).
    pub chosen_size: Option<u64>,
    /// The field of an answer holding the page's items; `None`: the answer
    /// is the array of items.
    pub items: Option<&'static str>,
    /// What else an answer says about the listing.
    pub signal: Signal,
}

/// How a paginated operation pages, as `paginate::Style` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PagingStyle {
    /// Page numbers from 1 (`page`, `page_size`).
    PageNumber,
    /// An item offset and a count.
    LimitOffset,
    /// An opaque cursor from the previous answer.
    Cursor,
}

/// What an answer says about the listing besides its items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// Nothing: a short page ends the listing.
    ItemsOnly,
    /// How many pages there are, in this field.
    TotalPages(&'static str),
    /// How many items there are, in this field.
    Total(&'static str),
    /// Where the next page is, in this (optional string) field; a dotted
    /// path (`pagination.next_cursor`) names a field of a field.
    NextCursor(&'static str),
}

impl Entry {
    const fn new(name: &'static str) -> Self {
        Entry {
            name,
            renamed_from: None,
            hand_written: None,
            retry: Retry::ByMethod,
            answer_limit: AnswerLimit::Response,
            paging: None,
            version: None,
        }
    }

    const fn version(self, version: Version) -> Self {
        Entry {
            version: Some(version),
            ..self
        }
    }

    const fn renamed_from(self, upstream: &'static str) -> Self {
        Entry {
            renamed_from: Some(upstream),
            ..self
        }
    }

    const fn hand_written(self, method: &'static str, reason: &'static str) -> Self {
        Entry {
            hand_written: Some(HandWrittenUse { method, reason }),
            ..self
        }
    }

    const fn lifecycle(self) -> Self {
        Entry {
            retry: Retry::Lifecycle,
            ..self
        }
    }

    const fn quote_answer(self) -> Self {
        Entry {
            answer_limit: AnswerLimit::Quote,
            ..self
        }
    }

    const fn paged(self, paging: Paging) -> Self {
        Entry {
            paging: Some(paging),
            ..self
        }
    }
}

impl Paging {
    const fn new(
        what: &'static str,
        style: PagingStyle,
        position: &'static str,
        size: &'static str,
    ) -> Self {
        Paging {
            what,
            style,
            position,
            size,
            no_maximum: None,
            chosen_size: None,
            items: None,
            signal: Signal::ItemsOnly,
        }
    }

    const fn items(self, field: &'static str) -> Self {
        Paging {
            items: Some(field),
            ..self
        }
    }

    const fn signal(self, signal: Signal) -> Self {
        Paging { signal, ..self }
    }

    const fn no_maximum(self, why: &'static str) -> Self {
        Paging {
            no_maximum: Some(why),
            ..self
        }
    }

    const fn chosen_size(self, size: u64, why: &'static str) -> Self {
        Paging {
            no_maximum: Some(why),
            chosen_size: Some(size),
            ..self
        }
    }
}

use PagingStyle::{Cursor, LimitOffset, PageNumber};

/// The API version of the official SDKs' defaults, whose shapes the
/// operations beyond the spec have (`openapi.additions.json`).
const V2026_06_23: &str = "2026-06-23";
use Signal::{NextCursor, Total, TotalPages};

const fn op(name: &'static str) -> Entry {
    Entry::new(name)
}

/// The rows, in the vendored spec's order.
pub const TABLE: &[Entry] = &[
    op("provision_cvm").lifecycle(),
    op("commit_cvm_provision").renamed_from("handle_create_cvm_from_povision_api_v1_cvms_post"),
    op("trigger_cvm_compose_file_update").lifecycle(),
    op("provision_for_cvm_compose_file_update").lifecycle(),
    op("list_cvm_operations")
        .renamed_from("get_cvm_operations_api_v1_cvms__cvm_id__operations_get")
        .paged(
            Paging::new("CVM operation", Cursor, "cursor", "limit")
                .items("items")
                .signal(NextCursor("next_cursor")),
        ),
    op("get_cvm_pre_launch_script")
        .renamed_from("handle_get_cvm_prelaunch_script_api_v1_cvms__cvm_id__pre_launch_script_get"),
    op("update_pre_launch_script")
        .renamed_from("update_cvm_pre_launch_script_api_v1_cvms__cvm_id__pre_launch_script_patch")
        .lifecycle(),
    op("update_cvm_os_image").lifecycle(),
    op("update_cvm_envs").lifecycle(),
    op("update_docker_compose")
        .renamed_from("update_cvm_docker_compose_api_v1_cvms__cvm_id__docker_compose_patch")
        .lifecycle(),
    op("batch_refresh_cvm_instance_ids").lifecycle(),
    op("list_cvms_paginated").paged(
        Paging::new("CVM", PageNumber, "page", "page_size")
            .items("items")
            .signal(TotalPages("pages")),
    ),
    op("refresh_cvm_instance_id").lifecycle(),
    op("delete_cvm")
        .renamed_from("handle_remove_cvm_api_v1_cvms__cvm_id__delete")
        .lifecycle(),
    op("patch_cvm")
        .renamed_from("update_cvm_endpoint_api_v1_cvms__cvm_id__patch")
        .lifecycle(),
    op("start_cvm").lifecycle(),
    op("shutdown_cvm").lifecycle(),
    op("stop_cvm").lifecycle(),
    op("restart_cvm").lifecycle(),
    op("get_cvm_operation_status")
        .renamed_from("get_operation_status_api_v1_cvms__cvm_id__operation_status_get"),
    op("update_cvm_listed").lifecycle(),
    op("get_cvm_status_batch").renamed_from("handle_batch_cvm_status_api_v1_status_batch_post"),
    op("get_cvm_state").hand_written(
        "watch_cvm_state",
        "with `target`, the answer is a Server-Sent Events stream, which the spec declares \
         as one JSON answer: the watch reads its events as they come, reconnects, and ends \
         at the target state",
    ),
    // `GET /kms` and `GET /kms/{kms_id}` answer KMS contracts from
    // 2026-06-23 on (`list_kms_contracts`, `get_kms_contract`): these two
    // keep the node shapes the spec types, whatever the client's version.
    op("list_kms").version(Version::Spec).paged(
        Paging::new("KMS instance", PageNumber, "page", "page_size")
            .items("items")
            .signal(TotalPages("pages")),
    ),
    op("get_kms_info").version(Version::Spec),
    // Under an older version the server resolves `{kms_id}` through its node
    // namespace and can land on a disabled replica that never answers
    // (phala-cloud PR #494); from 2026-06-23 on it resolves the contract and
    // skips disabled replicas. The answer's fields are the same.
    op("get_app_env_encrypt_pubkey").version(Version::Of(V2026_06_23)),
    op("list_apps")
        .renamed_from("list_dstack_apps_api_v1_apps_get")
        .paged(
            Paging::new("app", PageNumber, "page", "page_size")
                .items("dstack_apps")
                .signal(TotalPages("total_pages")),
        ),
    op("get_app_filter_options").renamed_from("get_filter_options_api_v1_apps_filter_options_get"),
    op("get_app").renamed_from("get_dstack_app_api_v1_apps__app_id__get"),
    op("list_app_cvms").renamed_from("handle_get_app_cvms_api_v1_apps__app_id__cvms_get"),
    op("replicate_app_cvm")
        .renamed_from("handle_replicate_cvm_api_v1_apps__app_id__cvms__vm_uuid__replicas_post"),
    op("get_app_device_allowlist")
        .renamed_from("get_device_allowlist_api_v1_apps__app_id__device_allowlist_get"),
    op("list_app_revisions")
        .renamed_from("get_app_revisions_api_v1_apps__app_id__revisions_get")
        .paged(
            Paging::new("app revision", PageNumber, "page", "page_size")
                .items("revisions")
                .signal(TotalPages("total_pages")),
        ),
    op("get_app_usage").paged(
        Paging::new("usage record", LimitOffset, "offset", "limit")
            .items("usage")
            .signal(Total("total")),
    ),
    op("list_instance_types").renamed_from("list_all_families_api_v1_instance_types_get"),
    op("verify_attestation")
        .renamed_from("handle_upload_and_verify_api_v1_attestations_verify_post"),
    op("list_recent_attestations")
        .renamed_from("handle_list_recent_api_v1_attestations_recent_get")
        .paged(Paging::new(
            "recent attestation",
            LimitOffset,
            "skip",
            "limit",
        )),
    op("get_attestation").renamed_from("handle_view_api_v1_attestations_view__checksum__get"),
    op("get_attestation_collateral")
        .renamed_from("get_collateral_api_v1_attestations_collateral__checksum__get"),
    // The raw quote's client methods, `download_raw_attestation` and
    // `raw_attestation_exists`, take the checksum and call these two.
    op("get_raw_attestation")
        .renamed_from("handle_get_raw_api_v1_attestations_raw__checksum__get")
        .quote_answer(),
    op("check_raw_attestation")
        .renamed_from("handle_check_raw_file_api_v1_attestations_raw__checksum__head"),
    op("list_attestation_ppids").renamed_from("handle_list_ppids_api_v1_attestations_ppids_get"),
    op("list_attestation_device_ids")
        .renamed_from("handle_list_device_ids_api_v1_attestations_device_ids_get"),
    op("list_attestation_nodes").renamed_from("handle_list_nodes_api_v1_attestations_nodes_get"),
    op("list_webhook_deliveries")
        .renamed_from("list_deliveries_api_v1_workspace_webhooks__webhook_id__deliveries_get")
        .paged(
            Paging::new("webhook delivery", LimitOffset, "offset", "limit").no_maximum(
                "the spec gives `limit` no maximum: its default keeps a server-side cap \
                 from passing for a short last page",
            ),
        ),
    op("resend_webhook_delivery").renamed_from(
        "resend_delivery_api_v1_workspace_webhooks__webhook_id__deliveries__event_id__resend_post",
    ),
    op("get_webhook_stats")
        .renamed_from("webhook_stats_api_v1_workspace_webhooks__webhook_id__stats_get"),
    op("list_ssh_keys").renamed_from("get_user_ssh_keys_api_v1_user_ssh_keys_get"),
    op("create_ssh_key").renamed_from("create_user_ssh_key_api_v1_user_ssh_keys_post"),
    op("delete_ssh_key").renamed_from("delete_user_ssh_key_api_v1_user_ssh_keys__key_id__delete"),
    // Beyond the spec (`openapi.additions.json`): typed at the version of
    // the official SDKs whose shapes they have.
    op("get_current_user").version(Version::Of(V2026_06_23)),
    op("list_workspaces")
        .version(Version::Of(V2026_06_23))
        .paged(
            Paging::new("workspace", Cursor, "cursor", "limit")
                .items("data")
                .signal(NextCursor("pagination.next_cursor"))
                .chosen_size(
                    50,
                    "no source gives `limit` a default or a maximum: 50, a size every \
                 listing of the API accepts",
                ),
        ),
    op("get_workspace").version(Version::Of(V2026_06_23)),
    op("get_workspace_quotas").version(Version::Of(V2026_06_23)),
    op("list_workspace_nodes")
        .version(Version::Of(V2026_06_23))
        .paged(
            Paging::new("workspace node", PageNumber, "page", "page_size")
                .items("items")
                .signal(TotalPages("pages")),
        ),
    op("get_available_nodes").version(Version::Of(V2026_06_23)),
    op("get_cvm_create_resources").version(Version::Of(V2026_06_23)),
    op("list_os_images")
        .version(Version::Of(V2026_06_23))
        .paged(
            Paging::new("OS image", PageNumber, "page", "page_size")
                .items("items")
                .signal(TotalPages("pages"))
                .chosen_size(
                    50,
                    "no source gives `page_size` a default or a maximum: 50, a size every \
                 listing of the API accepts",
                ),
        ),
    op("list_kms_contracts")
        .version(Version::Of(V2026_06_23))
        .paged(
            Paging::new("KMS contract", PageNumber, "page", "page_size")
                .items("items")
                .signal(TotalPages("pages")),
        ),
    op("get_kms_contract").version(Version::Of(V2026_06_23)),
    op("list_kms_contract_nodes").version(Version::Of(V2026_06_23)),
    op("get_cvm_ssh_keys").version(Version::Of(V2026_06_23)),
    op("update_cvm_ssh_keys").version(Version::Of(V2026_06_23)),
    op("get_pre_launch_script_upgrade_status").version(Version::Of(V2026_06_23)),
    op("upgrade_pre_launch_script")
        .version(Version::Of(V2026_06_23))
        .lifecycle(),
    op("revoke_current_api_token").version(Version::Of(V2026_06_23)),
    op("check_cvm_is_allowed").version(Version::Of(V2026_06_23)),
    op("request_device_code").version(Version::Of(V2026_06_23)),
    op("poll_device_token").version(Version::Of(V2026_06_23)),
];

/// The row of the operation `name`, if it has one.
pub fn entry(name: &str) -> Option<&'static Entry> {
    TABLE.iter().find(|e| e.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_row_per_operation_and_per_upstream_id() {
        let mut names: Vec<_> = TABLE.iter().map(|e| e.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), TABLE.len(), "an operation has two rows");
        let mut upstream: Vec<_> = TABLE.iter().filter_map(|e| e.renamed_from).collect();
        let renamed = upstream.len();
        upstream.sort_unstable();
        upstream.dedup();
        assert_eq!(upstream.len(), renamed, "an operationId is renamed twice");
    }

    #[test]
    fn every_row_says_something_the_spec_does_not() {
        for e in TABLE {
            let says = e.renamed_from.is_some()
                || e.hand_written.is_some()
                || e.retry != Retry::ByMethod
                || e.answer_limit != AnswerLimit::Response
                || e.paging.is_some()
                || e.version.is_some();
            assert!(says, "`{}`'s row holds only the defaults", e.name);
        }
    }

    #[test]
    fn an_operation_without_a_row_gets_the_defaults() {
        assert_eq!(entry("get_cvm"), None);
        let start = entry("start_cvm").unwrap();
        assert_eq!((start.retry, start.paging), (Retry::Lifecycle, None));
    }
}
