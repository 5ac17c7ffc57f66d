//! Each paginated operation's glue: its style, page size, page and item
//! types, and where an answer keeps its items and totals.

use futures::future::BoxFuture;

use super::{
    sealed, Cursor, Items, LimitOffset, PageNumber, PageSignal, Pages, Paginated,
    PaginatedOperation, Style,
};
use crate::{builder, types, Error};

/// Every operation with `items()` and `pages()` streams.
pub const OPERATIONS: &[PaginatedOperation] = &[
    <builder::ListKms as Paginated>::OPERATION,
    <builder::ListCvmsPaginated as Paginated>::OPERATION,
    <builder::ListApps as Paginated>::OPERATION,
    <builder::ListAppRevisions as Paginated>::OPERATION,
    <builder::GetAppUsage as Paginated>::OPERATION,
    <builder::ListWebhookDeliveries as Paginated>::OPERATION,
    <builder::ListRecentAttestations as Paginated>::OPERATION,
    <builder::ListCvmOperations as Paginated>::OPERATION,
];

/// Implements [`Paginated`] for a builder and gives it `items()` and
/// `pages()`. `$position` and `$size` are the builder's setters (and query
/// parameters) placing and sizing a page; `|p| $items` is where a page keeps
/// its items, `|p| $signal` what it says about the listing.
macro_rules! paginated {
    (
        $method:ident => $builder:ident: $what:literal, $style:ident($position:ident, $size:ident <= $max:literal),
        $page:ty => |$p:ident| $items:expr => $item:ty,
        signal: |$s:ident| $signal:expr $(,)?
    ) => {
        impl sealed::Sealed for builder::$builder {}

        impl Paginated for builder::$builder {
            type Style = $style;
            type Page = $page;
            type Item = $item;
            type Fetch = BoxFuture<'static, Result<$page, Error>>;

            const OPERATION: PaginatedOperation = PaginatedOperation {
                name: stringify!($method),
                style: <$style as Style>::KIND,
                position_param: stringify!($position),
                page_size_param: stringify!($size),
                default_page_size: $max,
            };

            fn with_position(self, position: <$style as Style>::Position) -> Self {
                position.place(self, |builder, value| builder.$position(value))
            }

            fn with_page_size(self, size: u64) -> Self {
                self.$size(size)
            }

            fn fetch(self) -> Self::Fetch {
                Box::pin(async move { Ok(self.send().await?.into_inner()) })
            }

            fn signal($s: &$page) -> PageSignal<'_> {
                $signal
            }

            fn into_items($p: $page) -> Vec<$item> {
                $items
            }
        }

        impl builder::$builder {
            #[doc = concat!("Every ", $what, " across all pages, in order: see [`Items`](crate::paginate::Items) and the [`paginate`](crate::paginate) module.")]
            pub fn items(self) -> Items<Self> {
                Pages::new(self).items()
            }

            #[doc = concat!("Every page of the listing, in order, as the API answers it: see [`Pages`](crate::paginate::Pages) and the [`paginate`](crate::paginate) module.")]
            pub fn pages(self) -> Pages<Self> {
                Pages::new(self)
            }
        }
    };
}

paginated! {
    list_kms => ListKms: "KMS instance", PageNumber(page, page_size <= 100),
    types::KmsListResponse => |p| p.items => types::KmsInfo,
    signal: |p| PageSignal::of_items(p.items.len()).with_total_pages(p.pages),
}

paginated! {
    list_cvms_paginated => ListCvmsPaginated: "CVM", PageNumber(page, page_size <= 100),
    types::PaginatedCvmInfos => |p| p.items => types::CvmInfo,
    signal: |p| PageSignal::of_items(p.items.len()).with_total_pages(p.pages),
}

paginated! {
    list_apps => ListApps: "app", PageNumber(page, page_size <= 100),
    types::DstackAppListResponse => |p| p.dstack_apps => types::DstackAppListResponseDstackAppsItem,
    signal: |p| PageSignal::of_items(p.dstack_apps.len()).with_total_pages(p.total_pages),
}

paginated! {
    list_app_revisions => ListAppRevisions: "app revision", PageNumber(page, page_size <= 1000),
    types::AppRevisionsResponse => |p| p.revisions => types::AppRevisionResponse,
    signal: |p| PageSignal::of_items(p.revisions.len()).with_total_pages(p.total_pages),
}

paginated! {
    get_app_usage => GetAppUsage: "usage record", LimitOffset(offset, limit <= 5000),
    types::AppUsageResponse => |p| p.usage => types::MeteredUsageResponse,
    signal: |p| PageSignal::of_items(p.usage.len()).with_total(p.total),
}

// The spec gives no maximum here: its default keeps a server-side cap from
// passing for a short last page.
paginated! {
    list_webhook_deliveries => ListWebhookDeliveries: "webhook delivery", LimitOffset(offset, limit <= 50),
    Vec<types::WebhookDeliveryResponse> => |p| p => types::WebhookDeliveryResponse,
    signal: |p| PageSignal::of_items(p.len()),
}

paginated! {
    list_recent_attestations => ListRecentAttestations: "recent attestation", LimitOffset(skip, limit <= 100),
    Vec<types::AttestationSummary> => |p| p => types::AttestationSummary,
    signal: |p| PageSignal::of_items(p.len()),
}

paginated! {
    list_cvm_operations => ListCvmOperations: "CVM operation", Cursor(cursor, limit <= 500),
    types::PaginatedCvmOperationsResponse => |p| p.items => types::CvmOperationResponse,
    signal: |p| PageSignal::of_items(p.items.len()).with_next_cursor(p.next_cursor.as_deref()),
}

/// A page position set on a builder. A number always is; a cursor only from
/// the second page on, the first going out as the caller's builder has it.
trait Place {
    type Value;
    fn place<B>(self, builder: B, set: impl FnOnce(B, Self::Value) -> B) -> B;
}

impl Place for u64 {
    type Value = u64;
    fn place<B>(self, builder: B, set: impl FnOnce(B, u64) -> B) -> B {
        set(builder, self)
    }
}

impl Place for Option<String> {
    type Value = String;
    fn place<B>(self, builder: B, set: impl FnOnce(B, String) -> B) -> B {
        match self {
            Some(cursor) => set(builder, cursor),
            None => builder,
        }
    }
}
