//! A first tour of the client.
//!
//! With `PHALA_CLOUD_API_KEY` set, it lists the KMS instances of your
//! account (read-only). Without it, it starts an in-process mock of the API
//! on 127.0.0.1 and runs the same tour against it, so it works offline and
//! without an account:
//!
//! ```sh
//! cargo run --example quickstart
//! ```

use httpmock::prelude::*;
use phala_cloud::Client;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mock;
    let client = match Client::from_env() {
        Ok(client) => {
            println!(
                "Using the Phala Cloud API at {} with PHALA_CLOUD_API_KEY.",
                client.base_url()
            );
            client
        }
        Err(_) => {
            mock = MockServer::start_async().await;
            seed(&mock).await;
            println!(
                "PHALA_CLOUD_API_KEY is not set: using a mock of the API at {}.",
                mock.base_url()
            );
            Client::builder()
                .api_key("phak_mock")
                .base_url(mock.base_url())
                .build()?
        }
    };

    let page = client.list_kms().page_size(100).send().await?.into_inner();
    println!("\n{} KMS instance(s):", page.total);
    println!(
        "{:<16} {:<12} {:<8} {:<10} url",
        "id", "slug", "version", "chain"
    );
    for kms in &page.items {
        let chain = kms
            .chain_id
            .map_or_else(|| "off-chain".to_string(), |c| c.to_string());
        println!(
            "{:<16} {:<12} {:<8} {:<10} {}",
            kms.id,
            kms.slug.as_deref().unwrap_or("-"),
            kms.version,
            chain,
            kms.url
        );
    }

    // Errors are values with a class: here, a CVM that does not exist.
    match client.get_cvm().cvm_id("cvm_doesnotexist").send().await {
        Ok(cvm) => println!("\nunexpectedly found {}", cvm.name),
        Err(e) if e.is_not_found() => println!("\nget_cvm(cvm_doesnotexist): not found ({e})"),
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

/// Answers `GET /api/v1/kms` and `GET /api/v1/cvms/{cvm_id}` like the real API does.
async fn seed(server: &MockServer) {
    let body = serde_json::json!({
        "items": [
            {"id": "kms_dA2M76mq", "slug": "phala-prod", "url": "https://kms.phala.network", "version": "0.5.3",
             "chain_id": null, "kms_contract_address": null, "gateway_app_id": null},
            {"id": "kms_B7x2Lp0Q", "slug": "base-prod", "url": "https://kms-base.phala.network", "version": "0.5.3",
             "chain_id": 8453, "kms_contract_address": "0x2f83172A49584C017F2B256F0FB2Dca14126Ba9C", "gateway_app_id": null}
        ],
        "total": 2, "page": 1, "page_size": 100, "pages": 1
    });
    server
        .mock_async(|when, then| {
            when.method(GET).path("/api/v1/kms");
            then.status(200).json_body(body);
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/api/v1/cvms/cvm_doesnotexist");
            then.status(404)
                .json_body(serde_json::json!({"detail": "CVM not found"}));
        })
        .await;
}
