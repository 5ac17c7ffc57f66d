//! A first tour of the client: the KMS instances page by page, your CVMs,
//! one CVM in detail, and a typed error.
//!
//! With `PHALA_CLOUD_API_KEY` set, it runs against your account and only
//! reads (GET requests). Without it, it starts the crate's typed mock of the
//! API (`phala_cloud::mock`) on 127.0.0.1, seeds it with sample data and runs
//! the same tour: offline, without an account.
//!
//! ```sh
//! cargo run --example quickstart
//! ```

use std::num::NonZeroU64;

use futures::TryStreamExt;
use phala_cloud::mock::{self, sample, MockServer, MockServerExt};
use phala_cloud::{types, Client};

/// Small, so that the KMS list takes several pages.
const KMS_PAGE_SIZE: u64 = 3;
/// The first page of CVMs is enough for a tour.
const CVM_PAGE_SIZE: u64 = 10;
/// An ID that names no CVM, for the error.
const MISSING_CVM: &str = "cvm_doesnotexist";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let demo = mock::Demo::start(seed).await?;
    let client = demo.client().clone();
    if demo.is_mock() {
        println!(
            "PHALA_CLOUD_API_KEY is not set: touring a mock of the API at {}.",
            client.base_url()
        );
    } else {
        println!(
            "Touring the Phala Cloud API at {} (read-only).",
            client.base_url()
        );
    }

    list_kms(&client).await?;
    let cvms = list_cvms(&client).await?;
    match cvms.first() {
        Some(cvm) => show_cvm(&client, &cvm.id).await?,
        None => println!("\nNo CVM to show in detail."),
    }
    show_typed_error(&client).await?;
    Ok(())
}

/// Every KMS instance, through the pagination stream: one request a page,
/// sent as the stream is read.
async fn list_kms(client: &Client) -> Result<(), phala_cloud::Error> {
    println!("\nKMS instances, {KMS_PAGE_SIZE} per page:");
    let mut rows = Vec::new();
    let mut pages = client.list_kms().page_size(KMS_PAGE_SIZE).pages();
    while let Some(answer) = pages.try_next().await? {
        println!(
            "  page {}/{}: {} instance(s)",
            answer.page,
            answer.pages,
            answer.items.len()
        );
        rows.extend(answer.items.iter().map(|kms| {
            let chain = kms
                .chain_id
                .map_or_else(|| "off-chain".to_string(), |id| format!("chain {id}"));
            [
                kms.id.to_string(),
                kms.slug.clone().unwrap_or_default(),
                kms.version.clone(),
                chain,
                kms.url.clone(),
            ]
        }));
    }
    print_table(["id", "slug", "version", "chain", "url"], &rows);
    Ok(())
}

/// The first page of CVMs.
async fn list_cvms(client: &Client) -> Result<Vec<types::CvmInfo>, phala_cloud::Error> {
    let page = client
        .list_cvms_paginated()
        .page(1)
        .page_size(CVM_PAGE_SIZE)
        .send()
        .await?
        .into_inner();
    println!("\nCVMs ({} of {}):", page.items.len(), page.total);
    let rows: Vec<_> = page
        .items
        .iter()
        .map(|cvm| {
            let resource = &cvm.resource;
            [
                cvm.id.to_string(),
                cvm.name.clone(),
                cvm.status.to_string(),
                resource.instance_type.clone().unwrap_or_default(),
                resource.vcpu.map(|n| n.to_string()).unwrap_or_default(),
                resource
                    .memory_in_gb
                    .map(|gb| format!("{gb} GB"))
                    .unwrap_or_default(),
            ]
        })
        .collect();
    print_table(["id", "name", "status", "type", "vCPU", "memory"], &rows);
    Ok(page.items)
}

/// One CVM in detail.
async fn show_cvm(client: &Client, id: &phala_cloud::ids::CvmId) -> Result<(), phala_cloud::Error> {
    let cvm = client.get_cvm().cvm_id(id).send().await?.into_inner();
    let node = cvm.node_info.as_ref();
    let fields = [
        ("name", cvm.name.clone()),
        ("status", cvm.status.to_string()),
        (
            "app id",
            cvm.app_id
                .as_ref()
                .map(|a| a.to_string())
                .unwrap_or_default(),
        ),
        (
            "node",
            node.and_then(|n| n.name.clone()).unwrap_or_default(),
        ),
        (
            "region",
            node.and_then(|n| n.region.clone()).unwrap_or_default(),
        ),
        (
            "KMS",
            cvm.kms_type.map(|k| k.to_string()).unwrap_or_default(),
        ),
        (
            "image",
            cvm.os
                .as_ref()
                .and_then(|os| os.name.clone())
                .unwrap_or_default(),
        ),
        (
            "endpoint",
            cvm.endpoints
                .iter()
                .flatten()
                .map(|e| e.app.clone())
                .next()
                .unwrap_or_else(|| "-".to_string()),
        ),
    ];
    println!("\nCVM {id}:");
    for (name, value) in fields {
        println!("  {name:<10} {value}");
    }
    Ok(())
}

/// Errors are values with a class; here, a CVM that does not exist.
async fn show_typed_error(client: &Client) -> Result<(), phala_cloud::Error> {
    println!("\nget_cvm({MISSING_CVM}):");
    match client.get_cvm().cvm_id(MISSING_CVM).send().await {
        Ok(cvm) => println!("  unexpectedly found {}", cvm.name),
        Err(e) if e.is_not_found() => {
            let status = e.status().map(|s| s.as_u16()).unwrap_or_default();
            println!("  not found (HTTP {status}): {}", e.message());
        }
        Err(e) => return Err(e),
    }
    Ok(())
}

/// Answers the tour's requests with the sample data: seven KMS instances in
/// pages of [`KMS_PAGE_SIZE`], three CVMs, and a 404 for [`MISSING_CVM`].
fn seed(server: &MockServer) {
    let kms = sample::kms_instances();
    let pages = (kms.len() as u64).div_ceil(KMS_PAGE_SIZE);
    for page in 1..=pages {
        server.list_kms(|when, then| {
            when.page(NonZeroU64::new(page))
                .page_size(NonZeroU64::new(KMS_PAGE_SIZE));
            then.ok(&sample::kms_page(&kms, page, KMS_PAGE_SIZE));
        });
    }
    let cvms = sample::cvms();
    server.list_cvms_paginated(|when, then| {
        when.page(NonZeroU64::new(1))
            .page_size(NonZeroU64::new(CVM_PAGE_SIZE));
        then.ok(&sample::cvm_page(&cvms, 1, CVM_PAGE_SIZE));
    });
    for cvm in &cvms {
        server.get_cvm(|when, then| {
            when.cvm_id(&cvm.id);
            then.ok(&sample::cvm_detail(cvm));
        });
    }
    server.get_cvm(|when, then| {
        when.cvm_id(MISSING_CVM);
        then.client_error(404, &sample::error("CVM not found"));
    });
}

/// Prints `rows` under `headers`, each column as wide as its widest cell.
fn print_table<const N: usize>(headers: [&str; N], rows: &[[String; N]]) {
    let widths: [usize; N] = std::array::from_fn(|i| {
        rows.iter()
            .map(|row| row[i].chars().count())
            .chain([headers[i].len()])
            .max()
            .unwrap_or(0)
    });
    let line = |cells: [&str; N]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        println!("  {}", padded.join("  ").trim_end());
    };
    line(headers);
    line(widths.map(|w| "─".repeat(w)).each_ref().map(String::as_str));
    for row in rows {
        line(row.each_ref().map(String::as_str));
    }
}
