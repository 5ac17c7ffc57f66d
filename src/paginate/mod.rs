//! Listing everything: `items()` and `pages()` streams for every paginated
//! operation.
//!
//! Each list builder (`client.list_kms()`, `client.list_apps()`, …) gains
//! two methods. [`items()`](crate::builder::ListKms::items) streams every item
//! across all pages; [`pages()`](crate::builder::ListKms::pages) streams the
//! whole answers, totals included. Every filter set on the builder is sent
//! with every page request:
//!
//! ```no_run
//! use futures::TryStreamExt;
//!
//! # async fn run(client: phala_cloud::Client) -> Result<(), phala_cloud::Error> {
//! let kms = client.list_kms().items().try_collect::<Vec<_>>().await?;
//!
//! let running = client
//!     .list_apps()
//!     .status(vec![phala_cloud::types::CvmLifecycleStatus::Running])
//!     .items()
//!     .concurrency(4)
//!     .try_collect::<Vec<_>>()
//!     .await?;
//! # Ok(())
//! # }
//! ```
//!
//! # How the streams behave
//!
//! - Nothing is requested until the stream is polled.
//! - Pages are as large as the operation allows (see [`OPERATIONS`]) unless
//!   the builder sets a page size, and the listing starts where the builder
//!   points: page 1, offset 0, no cursor, unless it sets one.
//! - The listing ends at the API's end signal: the page count the latest
//!   answer reports (`pages`, `total_pages`), the `total` of items, a page
//!   shorter than asked for, no `next_cursor` — and always at an empty page,
//!   whatever the totals say. A cursor the server already sent ends it with
//!   an [`Error::Decode`] at `next_cursor` rather than a loop; a listing
//!   longer than [`Pages::max_pages`] (10 000) pages or [`Pages::max_items`]
//!   (1 000 000) items ends with [`Error::Limit`], so that a server that
//!   never says it is done cannot keep a stream going forever.
//! - Each page request is an ordinary `send()`, under the client's retry
//!   policy. The first error is yielded once, after the items of the pages
//!   before it, and the stream ends there.
//! - For page numbers and offsets, [`Items::concurrency`] and
//!   [`Pages::concurrency`] request up to `n` pages at once, once an answer
//!   has reported how many there are; items still come out in order.
//! - A stream borrows the client, as the builder does. To list in a spawned
//!   task, move a clone of the client (cheap) into the task and build the
//!   stream there.
//!
//! | method | style | item | page |
//! |---|---|---|---|
//! | `list_kms` | page number | [`KmsInfo`](crate::types::KmsInfo) | [`KmsListResponse`](crate::types::KmsListResponse) |
//! | `list_cvms_paginated` | page number | [`CvmInfo`](crate::types::CvmInfo) | [`PaginatedCvmInfos`](crate::types::PaginatedCvmInfos) |
//! | `list_apps` | page number | [`DstackAppListResponseDstackAppsItem`](crate::types::DstackAppListResponseDstackAppsItem) | [`DstackAppListResponse`](crate::types::DstackAppListResponse) |
//! | `list_app_revisions` | page number | [`AppRevisionResponse`](crate::types::AppRevisionResponse) | [`AppRevisionsResponse`](crate::types::AppRevisionsResponse) |
//! | `get_app_usage` | limit + offset | [`MeteredUsageResponse`](crate::types::MeteredUsageResponse) | [`AppUsageResponse`](crate::types::AppUsageResponse) |
//! | `list_webhook_deliveries` | limit + offset | [`WebhookDeliveryResponse`](crate::types::WebhookDeliveryResponse) | `Vec` of the items (the API answers a bare array) |
//! | `list_recent_attestations` | limit + skip | [`types::AttestationSummary`](crate::types::AttestationSummary) | `Vec` of the items |
//! | `list_cvm_operations` | cursor | [`CvmOperationResponse`](crate::types::CvmOperationResponse) | [`PaginatedCvmOperationsResponse`](crate::types::PaginatedCvmOperationsResponse) |

mod fields;
mod operations;
mod stream;
mod style;

use std::fmt::Debug;
use std::future::Future;

pub(crate) use fields::{paging_number, PagingFields};
pub use operations::OPERATIONS;
pub(crate) use operations::{paginated, Place};
pub use stream::{Items, Pages, DEFAULT_MAX_ITEMS, DEFAULT_MAX_PAGES};
pub use style::{Cursor, LimitOffset, PageNumber};

use crate::Error;

pub(crate) mod sealed {
    pub trait Sealed {}
}

/// A list builder whose operation answers in pages: how to ask for a page,
/// and what an answer holds.
///
/// Implemented for the builders of the operations in [`OPERATIONS`]; sealed.
pub trait Paginated: Clone + Send + Unpin + Debug + sealed::Sealed + fields::PagingFields {
    /// How its pages are addressed.
    type Style: Style;
    /// One answer.
    type Page: Send + Unpin;
    /// One listed item.
    type Item: Send + Unpin;
    /// One page request in flight.
    type Fetch: Future<Output = Result<Self::Page, Error>> + Send;

    /// The operation and how it pages.
    const OPERATION: PaginatedOperation;

    /// The builder set to request the page at `position`.
    fn with_position(self, position: <Self::Style as Style>::Position) -> Self;
    /// The builder set to ask for `size` items a page.
    fn with_page_size(self, size: u64) -> Self;
    /// Sends the request.
    fn fetch(self) -> Self::Fetch;
    /// What an answer says about the listing.
    fn signal(page: &Self::Page) -> PageSignal<'_>;
    /// The items of an answer.
    fn into_items(page: Self::Page) -> Vec<Self::Item>;
}

/// A way of addressing pages: which page to request next, and when the
/// listing ends. Sealed; see [`PageNumber`], [`LimitOffset`], [`Cursor`].
pub trait Style: Send + Unpin + Debug + sealed::Sealed {
    /// Where a page is: a page number, an offset, a cursor.
    type Position: Send;
    /// The style, as [`PaginatedOperation::style`] names it.
    const KIND: StyleKind;

    /// The builder ready for the first page (the operation's page size,
    /// unless it sets one), and where the listing starts.
    fn start<S: Paginated<Style = Self>>(builder: S) -> Result<(S, Self), Error>
    where
        Self: Sized;
    /// The next page that may be requested now, if any.
    fn next(&mut self) -> Option<Self::Position>;
    /// Takes in the next answer, in request order: `true` when the listing
    /// ends with it, an error when following it would go wrong.
    fn record(&mut self, page: PageSignal<'_>) -> Result<bool, Error>;
}

/// The styles whose pages can be requested ahead: page numbers and offsets.
pub trait Prefetch: Style {}

impl Prefetch for PageNumber {}
impl Prefetch for LimitOffset {}

/// What one answer says about the listing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PageSignal<'p> {
    /// How many items it holds.
    pub items: usize,
    /// How many pages the listing has, if reported.
    pub total_pages: Option<u64>,
    /// How many items the listing has, if reported.
    pub total: Option<u64>,
    /// Where the next page is, if reported.
    pub next_cursor: Option<&'p str>,
}

impl<'p> PageSignal<'p> {
    fn count(value: i64) -> Option<u64> {
        // A negative count is malformed; 0 ends the listing rather than
        // leaving it open.
        Some(u64::try_from(value).unwrap_or(0))
    }

    pub(crate) fn of_items(items: usize) -> Self {
        Self {
            items,
            ..Self::default()
        }
    }

    pub(crate) fn with_total_pages(self, pages: i64) -> Self {
        Self {
            total_pages: Self::count(pages),
            ..self
        }
    }

    pub(crate) fn with_total(self, total: i64) -> Self {
        Self {
            total: Self::count(total),
            ..self
        }
    }

    pub(crate) fn with_next_cursor(self, cursor: Option<&'p str>) -> Self {
        Self {
            next_cursor: cursor,
            ..self
        }
    }
}

/// A paginated operation: its client method, style and page-size limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PaginatedOperation {
    /// The client method, e.g. `list_kms`.
    pub name: &'static str,
    /// How its pages are addressed.
    pub style: StyleKind,
    /// The query parameter placing a page: `page`, `offset`, `skip`, `cursor`.
    pub position_param: &'static str,
    /// The query parameter sizing a page: `page_size` or `limit`.
    pub page_size_param: &'static str,
    /// The page size streams ask for unless the builder sets one: the
    /// operation's maximum, or its default when the spec gives no maximum.
    pub default_page_size: u64,
}

/// How an operation's pages are addressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StyleKind {
    /// `page` and `page_size`.
    PageNumber,
    /// `limit` with `offset` or `skip`.
    LimitOffset,
    /// `cursor` and `next_cursor`.
    Cursor,
}

/// The builder with the operation's page size unless the caller set one,
/// and the page size in effect.
fn sized<S: Paginated>(builder: S) -> Result<(S, u64), Error> {
    let op = S::OPERATION;
    Ok(
        match fields::number(&builder, op.name, op.page_size_param)? {
            Some(size) => (builder, size),
            None => (
                builder.with_page_size(op.default_page_size),
                op.default_page_size,
            ),
        },
    )
}

/// Where the caller's builder points, if it sets a page or offset.
fn position<S: Paginated>(builder: &S) -> Result<Option<u64>, Error> {
    let op = S::OPERATION;
    fields::number(builder, op.name, op.position_param)
}
