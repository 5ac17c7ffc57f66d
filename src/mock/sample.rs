//! Realistic sample objects for mocks: KMS instances, CVMs, apps, instance
//! types and error bodies, shaped like the API's answers for the version the
//! client pins ([`API_VERSION`](crate::API_VERSION)).
//!
//! The values are illustrative (made-up IDs, addresses and prices, in the
//! API's formats); `tests/mock.rs` checks every sample against the spec's
//! response schemas. Each function returns a fresh owned value: change the
//! fields a test cares about and serve it.
//!
//! ```
//! use phala_cloud::mock::sample;
//!
//! let mut cvm = sample::cvm_detail(&sample::cvms()[0]);
//! cvm.status = phala_cloud::types::CvmLifecycleStatus::Stopped;
//! let page = sample::kms_page(&sample::kms_instances(), 2, 3);
//! assert_eq!((page.page, page.pages, page.items.len()), (2, 3, 3));
//! ```

use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use crate::types;

/// Seven KMS instances: three off-chain Phala KMS and four on-chain ones
/// (Base, Ethereum, Base Sepolia), enough for several pages.
pub fn kms_instances() -> Vec<types::KmsInfo> {
    decode("kms_instances", kms_instances_json())
}

/// The KMS contract of the `base-prod` KMS, which the on-chain sample CVM uses.
const BASE_KMS_CONTRACT: &str = "0x2f83172A49584C017F2B256F0FB2Dca14126Ba9C";

fn kms_instances_json() -> Value {
    let offchain = |id: &str, slug: &str, version: &str| {
        json!({
            "id": id, "slug": slug, "url": format!("https://kms.{slug}.phala.network"),
            "version": version, "chain_id": null, "kms_contract_address": null, "gateway_app_id": null
        })
    };
    let onchain = |id: &str, slug: &str, chain_id: u64, contract: &str, gateway: &str| {
        json!({
            "id": id, "slug": slug, "url": format!("https://kms.{slug}.phala.network"),
            "version": "0.5.3", "chain_id": chain_id, "kms_contract_address": contract,
            "gateway_app_id": gateway
        })
    };
    json!([
        offchain("kms_dA2M76mq", "phala-prod6", "0.5.3"),
        offchain("kms_Xk3pL9Qa", "phala-prod7", "0.5.3"),
        offchain("kms_Wd7nR2Ve", "phala-prod5", "0.3.6"),
        onchain(
            "kms_B7x2Lp0Q",
            "base-prod",
            8453,
            BASE_KMS_CONTRACT,
            "0x7ef3aB9cbE1d3F8f8fB5c1fB3AeBB7aBd5bA12C4"
        ),
        onchain(
            "kms_Tz5cV8Hn",
            "base-prod2",
            8453,
            "0x9c1E2D4b5A6f7e8D9C0b1A2f3E4d5C6b7A8f9E0D",
            "0x1Ab2C3d4E5f6A7b8C9d0E1f2A3b4C5d6E7f8A9b0"
        ),
        onchain(
            "kms_Lm4Ry6Js",
            "eth-prod",
            1,
            "0x3F5a1E0b9D8c7B6a5F4e3D2c1B0a9F8e7D6c5B4A",
            "0x5D4c3B2a1F0e9D8c7B6a5F4e3D2c1B0a9F8e7D6c"
        ),
        onchain(
            "kms_Qp9Ws3Gu",
            "base-sepolia",
            84532,
            "0x8E7d6C5b4A3f2E1d0C9b8A7f6E5d4C3b2A1f0E9d",
            "0x0F1e2D3c4B5a6F7e8D9c0B1a2F3e4D5c6B7a8F9e"
        ),
    ])
}

/// Page `page` (from 1) of `instances`, `page_size` per page, as
/// `GET /api/v1/kms` answers it.
pub fn kms_page(instances: &[types::KmsInfo], page: u64, page_size: u64) -> types::KmsListResponse {
    let window = Window::of(instances, page, page_size);
    types::KmsListResponse {
        items: window.items,
        page: window.page,
        page_size: window.page_size,
        pages: window.pages,
        total: window.total,
        extra: Default::default(),
    }
}

/// Three CVMs of one workspace: a web service on the Phala KMS, an agent on
/// an on-chain (Base) KMS and a stopped GPU inference box.
pub fn cvms() -> Vec<types::CvmInfo> {
    decode("cvms", cvms_json())
}

fn cvms_json() -> Value {
    let running = Cvm {
        id: "cvm_ykL5lbAn",
        name: "web-prod",
        app_id: "2a7b4d0d0c0883d0d3119c36eb25a1f72122a7c4",
        vm_uuid: "c48d9363-21b2-4f4a-87d9-3496623f020d",
        instance_id: Some("8f4c2a9e1b7d3f5a6c0e2b4d8a1f3c5e7b9d0a2c"),
        status: "running",
        instance_type: ("tdx.medium", 2, 4.0, 40, 0),
        node: (11, "prod6", "US-WEST-1"),
        kms: Kms::Phala,
        created_at: "2026-02-03T09:14:27Z",
    };
    let onchain = Cvm {
        id: "cvm_Q3mZr8Ke",
        name: "eliza-agent",
        app_id: "c0ffee6b1e9a48d5a1f3b2e4d6c8a0b1c3d5e7f9",
        vm_uuid: "5f2e8c1a-7b3d-4e9f-a6c2-1d8b4e7f3a90",
        instance_id: Some("3e9a1c7f5b2d8e4a6c0f1b3d5e7a9c2e4f6b8d0a"),
        status: "running",
        instance_type: ("tdx.large", 4, 8.0, 80, 0),
        node: (14, "prod7", "EU-WEST-1"),
        kms: Kms::Base,
        created_at: "2026-03-11T16:02:51Z",
    };
    let gpu = Cvm {
        id: "cvm_N8wPq2Ld",
        name: "llm-inference",
        app_id: "7d1c9e3b5a2f4d6e8c0a1b3d5f7e9c2a4b6d8f0e",
        vm_uuid: "a3d9b2c7-4e1f-4a8b-9c6d-2e5f7a1b3c80",
        instance_id: None,
        status: "stopped",
        instance_type: ("h200.small", 24, 192.0, 500, 1),
        node: (31, "gpu-h200-1", "US-EAST-1"),
        kms: Kms::Phala,
        created_at: "2026-04-22T07:45:10Z",
    };
    Value::Array([running, onchain, gpu].iter().map(Cvm::to_json).collect())
}

/// Page `page` (from 1) of `cvms`, `page_size` per page, as
/// `GET /api/v1/cvms/paginated` answers it.
pub fn cvm_page(cvms: &[types::CvmInfo], page: u64, page_size: u64) -> types::PaginatedCvmInfos {
    let window = Window::of(cvms, page, page_size);
    types::PaginatedCvmInfos {
        items: window.items,
        page: window.page,
        page_size: window.page_size,
        pages: window.pages,
        total: window.total,
        extra: Default::default(),
    }
}

/// `cvm` as `GET /api/v1/cvms/{cvm_id}` answers it: the same fields, and its
/// compose file.
pub fn cvm_detail(cvm: &types::CvmInfo) -> types::CvmInfoDetail {
    let mut detail = reshape::<_, types::CvmInfoDetail>("cvm_detail", cvm);
    detail.compose_file = Some(types::CvmInfoDetailComposeFile::String(format!(
        "services:\n  {}:\n    image: ghcr.io/acme/{}:1.4.2\n    ports:\n      - \"8080:8080\"\n",
        cvm.name, cvm.name
    )));
    detail
}

/// One app per CVM of [`cvms`], each with that CVM as its current one.
pub fn apps() -> Vec<types::DstackAppFullResponse> {
    decode("apps", apps_json())
}

fn apps_json() -> Value {
    let ids = ["prj_A6eez86X", "prj_K2vn7QxR", "prj_Hb4t9MzW"];
    let apps = cvms()
        .into_iter()
        .zip(ids)
        .map(|(cvm, id)| {
            json!({
                "id": id,
                "name": cvm.name,
                "app_id": cvm.app_id,
                "app_provision_type": null,
                "app_icon_url": null,
                "created_at": cvm.created_at,
                "kms_type": cvm.kms_type,
                "current_cvm": cvm,
                "cvms": [cvm],
                "cvm_count": 1,
                "profile": null
            })
        })
        .collect();
    Value::Array(apps)
}

/// Page `page` (from 1) of `apps`, `page_size` per page, as
/// `GET /api/v1/apps` answers it.
pub fn app_page(
    apps: &[types::DstackAppFullResponse],
    page: u64,
    page_size: u64,
) -> types::DstackAppListResponse {
    let window = Window::of(apps, page, page_size);
    types::DstackAppListResponse {
        dstack_apps: window
            .items
            .into_iter()
            .map(types::DstackAppListResponseDstackAppsItem::from)
            .collect(),
        page: window.page,
        page_size: window.page_size,
        total: window.total,
        total_pages: window.pages,
        extra: Default::default(),
    }
}

/// The instance types of the `cpu` and `gpu` families, as
/// `GET /api/v1/instance-types` answers it.
pub fn instance_types() -> types::AllFamiliesResponse {
    decode("instance_types", instance_types_json())
}

fn instance_types_json() -> Value {
    let cpu: Vec<_> = [
        ("tdx.small", "Small", 1, 2048, "0.058", 20),
        ("tdx.medium", "Medium", 2, 4096, "0.116", 40),
        ("tdx.large", "Large", 4, 8192, "0.232", 80),
        ("tdx.xlarge", "X-Large", 8, 16384, "0.464", 160),
    ]
    .into_iter()
    .map(|(id, name, vcpu, memory_mb, rate, disk)| {
        json!({
            "id": id, "name": name, "family": "cpu", "vcpu": vcpu, "memory_mb": memory_mb,
            "hourly_rate": rate, "requires_gpu": false, "default_disk_size_gb": disk,
            "description": format!("Intel TDX, {vcpu} vCPU, {} GB memory", memory_mb / 1024)
        })
    })
    .collect();
    let gpu = json!({
        "id": "h200.small", "name": "H200 Small", "family": "gpu", "vcpu": 24, "memory_mb": 196608,
        "hourly_rate": "3.500", "requires_gpu": true, "default_disk_size_gb": 500,
        "description": "Intel TDX with one NVIDIA H200 in confidential computing mode"
    });
    json!({"result": [
        {"name": "cpu", "total": cpu.len(), "items": cpu},
        {"name": "gpu", "total": 1, "items": [gpu]}
    ]})
}

/// The instance types of `family` from [`instance_types`], as
/// `GET /api/v1/instance-types/{family}` answers it (empty for an unknown
/// family).
pub fn family_instance_types(family: &str) -> types::FamilyInstanceTypesResponse {
    let items = instance_types()
        .result
        .into_iter()
        .find(|group| group.name == family)
        .map(|group| group.items)
        .unwrap_or_default();
    types::FamilyInstanceTypesResponse {
        family: family.to_string(),
        total: integer(items.len()),
        items,
        extra: Default::default(),
    }
}

/// A FastAPI error body, `{"detail": message}`: what most `404`s and `403`s
/// carry.
///
/// ```
/// let body = phala_cloud::mock::sample::error("CVM not found");
/// assert_eq!(body.detail, Some("CVM not found".into()));
/// ```
pub fn error(message: &str) -> types::ApiErrorBody {
    types::ApiErrorBody {
        detail: Some(Value::String(message.to_string())),
        ..Default::default()
    }
}

/// A structured error body with an `ERR-xx-yyy` code (see the API's error
/// codes), as the CVM and billing operations answer.
///
/// ```
/// let body = phala_cloud::mock::sample::coded_error("ERR-02-001", "The requested instance type does not exist");
/// assert_eq!(body.error_code.as_deref(), Some("ERR-02-001"));
/// ```
pub fn coded_error(code: &str, message: &str) -> types::ApiErrorBody {
    types::ApiErrorBody {
        error_code: Some(code.to_string()),
        message: Some(message.to_string()),
        ..Default::default()
    }
}

/// The signed-in user of [`get_current_user`](crate::Client::get_current_user):
/// `ada`, owner of the workspace `acme` on the pro tier.
pub fn current_user() -> types::CurrentUser {
    decode(
        "current_user",
        json!({
            "user": {
                "username": "ada", "email": "ada@example.com", "role": "user", "avatar": "",
                "email_verified": true, "totp_enabled": true, "has_backup_codes": true,
                "flag_has_password": true
            },
            "workspace": {"id": "wks_3nT8vQ2m", "name": "Acme", "slug": "acme", "tier": "pro", "role": "owner"},
            "credits": {"balance": "42.50", "granted_balance": "10.00", "is_post_paid": false},
            "features": []
        }),
    )
}

/// The KMS contracts of [`list_kms_contracts`](crate::Client::list_kms_contracts)
/// (2026-06-23): Phala's off-chain KMS and the on-chain one on Base, whose
/// contract the on-chain sample CVM uses.
pub fn kms_contracts() -> types::KmsContractList {
    decode(
        "kms_contracts",
        json!({
            "items": [
                {"id": "kc_9fQ2mB7x", "slug": "phala", "label": "Phala KMS", "contract_address": "phala",
                 "chain_id": 0, "k256_pubkey": null, "ca_pubkey": null, "node_count": 3},
                {"id": "kc_4hR8nC1z", "slug": "base", "label": "Base KMS",
                 "contract_address": BASE_KMS_CONTRACT, "chain_id": 8453,
                 "k256_pubkey": null, "ca_pubkey": null, "node_count": 11}
            ],
            "total": 2, "page": 1, "page_size": 100, "pages": 1
        }),
    )
}

/// What a deploy can use ([`get_available_nodes`](crate::Client::get_available_nodes)):
/// two nodes of the sample CVMs, each offering `dstack-0.5.3` (one also the
/// dev image), each with its device ids, and the two KMS kinds.
pub fn available_nodes() -> types::AvailableNodes {
    let image = |name: &str, is_dev: bool| json!({"name": name, "is_dev": is_dev, "version": [0, 5, 3], "os_image_hash": null, "slug": name});
    let node = |teepod_id: u32, name: &str, region: &str, device: &str, images: Value| {
        json!({
            "teepod_id": teepod_id, "name": name, "listed": true, "resource_score": 0.8,
            "remaining_vcpu": 48.0, "remaining_memory": 196608.0, "remaining_cvm_slots": 20.0,
            "images": images, "support_onchain_kms": true, "fmspc": "00806f050000",
            "device_id": device,
            "device_ids": [{"device_id": device, "algorithm_version": "v1", "enabled": true}],
            "region_identifier": region, "default_kms": "kms_dA2M76mq", "kms_list": ["kms_dA2M76mq"]
        })
    };
    let kms = kms_instances_json();
    decode(
        "available_nodes",
        json!({
            "tier": "pro",
            "capacity": {"max_instances": 20, "max_vcpu": 64, "max_memory": 262144, "max_disk": 2000},
            "nodes": [
                node(12, "prod7", "us-west", &"7a".repeat(32), json!([image("dstack-0.5.3", false), image("dstack-dev-0.5.3", true)])),
                node(18, "prod9", "eu-central", &"9c".repeat(32), json!([image("dstack-0.5.3", false)]))
            ],
            "kms_list": [kms[0].clone(), kms[3].clone()]
        }),
    )
}

/// The OS images of [`list_os_images`](crate::Client::list_os_images).
pub fn os_images() -> types::OsImageList {
    let image = |name: &str, version: &str, is_dev: bool| {
        json!({"name": name, "slug": name, "version": version, "os_image_hash": null,
               "is_dev": is_dev, "requires_gpu": false})
    };
    decode(
        "os_images",
        json!({
            "items": [
                image("dstack-0.5.3", "0.5.3", false),
                image("dstack-dev-0.5.3", "0.5.3", true),
                image("dstack-0.5.4", "0.5.4", false)
            ],
            "total": 3, "page": 1, "page_size": 50, "pages": 1
        }),
    )
}

/// What varies between the sample CVMs.
struct Cvm {
    id: &'static str,
    name: &'static str,
    app_id: &'static str,
    vm_uuid: &'static str,
    /// Set while the CVM runs.
    instance_id: Option<&'static str>,
    status: &'static str,
    /// Instance type, vCPUs, memory (GB), disk (GB), GPUs.
    instance_type: (&'static str, u32, f64, u32, u32),
    /// Teepod ID, name and region.
    node: (u32, &'static str, &'static str),
    kms: Kms,
    created_at: &'static str,
}

/// The KMS a sample CVM uses.
enum Kms {
    /// Phala's off-chain KMS.
    Phala,
    /// The on-chain KMS on Base.
    Base,
}

impl Cvm {
    fn to_json(&self) -> Value {
        let (instance_type, vcpu, memory_in_gb, disk_in_gb, gpus) = self.instance_type;
        let (teepod_id, node_name, region) = self.node;
        let base_domain = format!("dstack-{node_name}.phala.network");
        let (kms_type, kms_info) = match self.kms {
            Kms::Phala => ("phala", Value::Null),
            Kms::Base => (
                "base",
                json!({
                    "chain_id": 8453,
                    "dstack_kms_address": BASE_KMS_CONTRACT,
                    "dstack_app_address": format!("0x{}", self.app_id),
                    "deployer_address": "0x4B1f6c3E9d2A7b8C5e0F1a2D3c4B5e6F7a8D9c0E",
                    "rpc_endpoint": "https://mainnet.base.org",
                    "encrypted_env_pubkey": "0x8d3e0f1b2c4a69587e6d5c4b3a29180f7e6d5c4b3a2918f0e1d2c3b4a5968778"
                }),
            ),
        };
        json!({
            "id": self.id,
            "name": self.name,
            "app_id": self.app_id,
            "vm_uuid": self.vm_uuid,
            "instance_id": self.instance_id,
            "status": self.status,
            "in_progress": false,
            "progress": null,
            "resource": {
                "instance_type": instance_type, "vcpu": vcpu, "memory_in_gb": memory_in_gb,
                "disk_in_gb": disk_in_gb, "gpus": gpus, "compute_billing_price": null,
                "billing_period": "hourly"
            },
            "node_info": {
                "object_type": "node", "id": teepod_id, "name": node_name, "region": region,
                "status": "ONLINE", "version": "0.5.3"
            },
            "os": {
                "name": "dstack-0.5.3", "version": "0.5.3", "is_dev": false,
                "os_image_hash": "0b327bcd642788b0517de3ff46d31ebd3847b6c64ea40bacde268bb9f1c8ec83"
            },
            "kms_type": kms_type,
            "kms_info": kms_info,
            "compose_hash": "e1b7f8a4c3d2b6a9f0e5d8c7b4a3f2e1d0c9b8a7f6e5d4c3b2a1f0e9d8c7b6a5",
            "docker_compose_hash": null,
            "pre_launch_script_hash": null,
            "gateway": {"base_domain": base_domain, "cname": null},
            "logs": null,
            "services": [],
            "endpoints": self.instance_id.map(|instance_id| json!([{
                "app": format!("https://{}-8080.{base_domain}", self.app_id),
                "instance": format!("https://{instance_id}-8080.{base_domain}")
            }])),
            "public_logs": true,
            "public_sysinfo": true,
            "public_tcbinfo": true,
            "gateway_enabled": true,
            "secure_time": false,
            "storage_fs": "zfs",
            "workspace": {
                "object_type": "workspace", "id": "wks_R8mT2pXc", "name": "Acme", "slug": "acme",
                "avatar_url": null
            },
            "creator": {
                "object_type": "user", "id": "usr_J4kW9nBq", "username": "alice", "avatar_url": null
            },
            "created_at": self.created_at,
            "deleted_at": null,
            "listed": false,
            "project_type": null
        })
    }
}

/// One page of a list, with the counts a paginated answer carries.
struct Window<T> {
    items: Vec<T>,
    page: i64,
    page_size: i64,
    pages: i64,
    total: i64,
}

impl<T: Clone> Window<T> {
    fn of(all: &[T], page: u64, page_size: u64) -> Self {
        let size = usize::try_from(page_size.max(1)).unwrap_or(usize::MAX);
        let skip = usize::try_from(page.max(1) - 1)
            .unwrap_or(usize::MAX)
            .saturating_mul(size);
        Window {
            items: all.iter().skip(skip).take(size).cloned().collect(),
            page: integer(page),
            page_size: integer(page_size),
            pages: integer(all.len().div_ceil(size)),
            total: integer(all.len()),
        }
    }
}

/// A count as the API's integer type.
fn integer<N: TryInto<i64>>(n: N) -> i64 {
    n.try_into().unwrap_or(i64::MAX)
}

/// A sample written as JSON, in the type the client decodes it into.
///
/// The samples are constants of this module, checked against the spec by
/// `tests/mock.rs`: a failure here means the spec changed under them.
pub(super) fn decode<T: DeserializeOwned>(what: &str, value: Value) -> T {
    serde_json::from_value(value)
        .unwrap_or_else(|e| panic!("the sample {what} no longer matches the spec's types: {e}"))
}

/// `value` as another type with the same JSON shape.
fn reshape<F: serde::Serialize, T: DeserializeOwned>(what: &str, value: &F) -> T {
    let json = serde_json::to_value(value)
        .unwrap_or_else(|e| panic!("the sample {what} does not serialize: {e}"));
    decode(what, json)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `json` without its `null`s, which the generated types do not
    /// serialize for an optional field.
    fn without_nulls(json: Value) -> Value {
        match json {
            Value::Object(map) => Value::Object(
                map.into_iter()
                    .filter(|(_, v)| !v.is_null())
                    .map(|(k, v)| (k, without_nulls(v)))
                    .collect(),
            ),
            Value::Array(items) => Value::Array(items.into_iter().map(without_nulls).collect()),
            other => other,
        }
    }

    /// Every field of the sample's JSON is a field of its type: a misspelt
    /// name would vanish in `decode` and make the round trip differ.
    fn assert_lossless<T: DeserializeOwned + serde::Serialize>(json: Value) {
        let typed: T = decode("under test", json.clone());
        assert_eq!(
            serde_json::to_value(&typed).unwrap(),
            without_nulls(json),
            "{}",
            std::any::type_name::<T>()
        );
    }

    #[test]
    fn samples_lose_nothing_in_their_types() {
        assert_lossless::<Vec<types::KmsInfo>>(kms_instances_json());
        assert_lossless::<Vec<types::CvmInfo>>(cvms_json());
        assert_lossless::<Vec<types::DstackAppFullResponse>>(apps_json());
        assert_lossless::<types::AllFamiliesResponse>(instance_types_json());
    }

    #[test]
    fn pages_slice_and_count() {
        let all = kms_instances();
        let last = kms_page(&all, 3, 3);
        assert_eq!(last.items, all[6..]);
        assert_eq!(
            (last.page, last.page_size, last.pages, last.total),
            (3, 3, 3, 7)
        );
        assert!(kms_page(&all, 4, 3).items.is_empty());
        assert_eq!(cvm_page(&cvms(), 1, 0).pages, 3);
        let apps = app_page(&apps(), 1, 2);
        assert_eq!((apps.dstack_apps.len(), apps.total_pages), (2, 2));
    }

    #[test]
    fn apps_and_cvms_agree() {
        for (app, cvm) in apps().iter().zip(cvms()) {
            assert_eq!(app.app_id, cvm.app_id.clone().unwrap());
            assert_eq!(app.current_cvm.as_ref(), Some(&cvm));
        }
    }

    #[test]
    fn a_detail_keeps_the_summary_and_adds_the_compose_file() {
        let cvm = &cvms()[1];
        let detail = cvm_detail(cvm);
        assert_eq!(
            (&detail.id, &detail.name, &detail.kms_info),
            (&cvm.id, &cvm.name, &cvm.kms_info)
        );
        assert!(detail.compose_file.is_some());
        assert_eq!(family_instance_types("gpu").total, 1);
        assert_eq!(family_instance_types("tpu").items, []);
    }
}
