//! The two streams every paginated operation gets: whole pages, and their
//! items one by one.

use std::fmt;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use futures::stream::{FusedStream, FuturesOrdered};
use futures::{Stream, StreamExt};

use super::{Paginated, Prefetch, Style};
use crate::error::LimitExceeded;
use crate::Error;

/// The default of [`Pages::max_pages`] and [`Items::max_pages`].
pub const DEFAULT_MAX_PAGES: u64 = 10_000;
/// The default of [`Pages::max_items`] and [`Items::max_items`].
pub const DEFAULT_MAX_ITEMS: u64 = 1_000_000;

/// The answers of a paginated operation, one page at a time, in order.
///
/// Made by the `pages()` method of a list builder (e.g.
/// [`ListKms::pages`](crate::builder::ListKms::pages)). Nothing is requested
/// until it is polled. It ends after the API's last page, or after yielding
/// its first error. A listing that goes on past [`Pages::max_pages`] pages
/// or [`Pages::max_items`] items (a server that never says it is done) ends
/// with [`LimitExceeded::Count`] after the last page allowed.
///
/// ```no_run
/// use futures::TryStreamExt;
///
/// # async fn run(client: phala_cloud::Client) -> Result<(), phala_cloud::Error> {
/// let mut pages = client.list_kms().page_size(20).pages();
/// while let Some(page) = pages.try_next().await? {
///     println!("page {} of {}: {} KMS", page.page, page.pages, page.items.len());
/// }
/// # Ok(())
/// # }
/// ```
#[must_use = "streams do nothing unless polled"]
pub struct Pages<S: Paginated> {
    state: State<S>,
    in_flight: FuturesOrdered<S::Fetch>,
    concurrency: usize,
    /// Pages and items read so far, and how many may be.
    read: (u64, u64),
    max: (u64, u64),
}

enum State<S: Paginated> {
    Listing {
        builder: S,
        style: S::Style,
    },
    /// The page just yielded was the last good one; this error comes next.
    Failing(Error),
    Done,
}

impl<S: Paginated> Pages<S> {
    pub(crate) fn new(builder: S) -> Self {
        let state = match S::Style::start(builder) {
            Ok((builder, style)) => State::Listing { builder, style },
            Err(error) => State::Failing(error),
        };
        Self {
            state,
            in_flight: FuturesOrdered::new(),
            concurrency: 1,
            read: (0, 0),
            max: (DEFAULT_MAX_PAGES, DEFAULT_MAX_ITEMS),
        }
    }

    /// The most pages one listing reads (default [`DEFAULT_MAX_PAGES`],
    /// 10 000): past it the stream ends with [`LimitExceeded::Count`].
    pub fn max_pages(mut self, pages: u64) -> Self {
        self.max.0 = pages;
        self
    }

    /// The most items one listing reads (default [`DEFAULT_MAX_ITEMS`],
    /// 1 000 000), counted a page at a time: once a page reaches it and the
    /// listing goes on, the stream ends with [`LimitExceeded::Count`].
    pub fn max_items(mut self, items: u64) -> Self {
        self.max.1 = items;
        self
    }

    /// Counts a page of `items`; the error when the listing must stop.
    fn count(&mut self, items: usize) -> Option<Error> {
        self.read.0 += 1;
        self.read.1 = self.read.1.saturating_add(items as u64);
        let (pages, items) = self.max;
        if self.read.0 >= pages {
            Some(LimitExceeded::count("pages in one listing", pages, "max_pages").into())
        } else if self.read.1 >= items {
            Some(LimitExceeded::count("items in one listing", items, "max_items").into())
        } else {
            None
        }
    }

    /// The same pages one item at a time.
    pub fn items(self) -> Items<S> {
        Items {
            pages: self,
            current: Vec::new().into_iter(),
        }
    }

    fn finish(&mut self, next: State<S>) {
        self.state = next;
        // Requests for pages after the last one, or after an error.
        self.in_flight = FuturesOrdered::new();
    }
}

impl<S: Paginated> Pages<S>
where
    S::Style: Prefetch,
{
    /// Requests up to `n` pages at once (default 1: one after the other);
    /// 0 counts as 1.
    ///
    /// Prefetching starts once an answer reports how many pages there are;
    /// until then, and for operations that never report it, pages are
    /// requested one after the other. Pages still come out in order, and at
    /// most `n` are held (requested, or answered and waiting their turn) at
    /// any time. As with [`StreamExt::buffered`], the requests progress
    /// while the stream is polled.
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }
}

impl<S: Paginated> Stream for Pages<S> {
    type Item = Result<S::Page, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let State::Listing { builder, style } = &mut this.state else {
            return Poll::Ready(match std::mem::replace(&mut this.state, State::Done) {
                State::Failing(error) => Some(Err(error)),
                _ => None,
            });
        };
        while this.in_flight.len() < this.concurrency {
            let Some(position) = style.next() else {
                break;
            };
            this.in_flight
                .push_back(builder.clone().with_position(position).fetch());
        }
        match ready!(this.in_flight.poll_next_unpin(cx)) {
            None => {
                this.finish(State::Done);
                Poll::Ready(None)
            }
            Some(Err(error)) => {
                this.finish(State::Done);
                Poll::Ready(Some(Err(error)))
            }
            Some(Ok(page)) => {
                let signal = S::signal(&page);
                let items = signal.items;
                match style.record(signal) {
                    Ok(true) => this.finish(State::Done),
                    Ok(false) => {
                        if let Some(error) = this.count(items) {
                            this.finish(State::Failing(error));
                        }
                    }
                    Err(error) => this.finish(State::Failing(error)),
                }
                Poll::Ready(Some(Ok(page)))
            }
        }
    }
}

impl<S: Paginated> FusedStream for Pages<S> {
    fn is_terminated(&self) -> bool {
        matches!(self.state, State::Done)
    }
}

impl<S: Paginated> fmt::Debug for Pages<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            State::Listing { style, .. } => format!("{style:?}"),
            State::Failing(error) => format!("failing: {error}"),
            State::Done => "done".into(),
        };
        f.debug_struct("Pages")
            .field("state", &state)
            .field("in_flight", &self.in_flight.len())
            .field("concurrency", &self.concurrency)
            .field("read", &self.read)
            .field("max", &self.max)
            .finish()
    }
}

/// The items of a paginated operation, in order, across all its pages.
///
/// Made by the `items()` method of a list builder (e.g.
/// [`ListKms::items`](crate::builder::ListKms::items)); see [`Pages`] for
/// when requests go out and when it ends.
///
/// ```no_run
/// use futures::TryStreamExt;
///
/// # async fn run(client: phala_cloud::Client) -> Result<(), phala_cloud::Error> {
/// let apps = client
///     .list_apps()
///     .search("agent")
///     .items()
///     .concurrency(4)
///     .try_collect::<Vec<_>>()
///     .await?;
/// # Ok(())
/// # }
/// ```
#[must_use = "streams do nothing unless polled"]
pub struct Items<S: Paginated> {
    pages: Pages<S>,
    current: std::vec::IntoIter<S::Item>,
}

impl<S: Paginated> Items<S> {
    /// The most pages one listing reads; see [`Pages::max_pages`].
    pub fn max_pages(mut self, pages: u64) -> Self {
        self.pages = self.pages.max_pages(pages);
        self
    }

    /// The most items one listing reads; see [`Pages::max_items`].
    pub fn max_items(mut self, items: u64) -> Self {
        self.pages = self.pages.max_items(items);
        self
    }
}

impl<S: Paginated> Items<S>
where
    S::Style: Prefetch,
{
    /// Requests up to `n` pages at once; see [`Pages::concurrency`]. The page
    /// whose items are being read counts as one of the `n`.
    pub fn concurrency(mut self, n: usize) -> Self {
        self.pages = self.pages.concurrency(n);
        self
    }
}

impl<S: Paginated> Stream for Items<S> {
    type Item = Result<S::Item, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(item) = this.current.next() {
                return Poll::Ready(Some(Ok(item)));
            }
            // Frees the read page before more are requested.
            this.current = Vec::new().into_iter();
            match ready!(this.pages.poll_next_unpin(cx)) {
                Some(Ok(page)) => this.current = S::into_items(page).into_iter(),
                Some(Err(error)) => return Poll::Ready(Some(Err(error))),
                None => return Poll::Ready(None),
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.current.len(), None)
    }
}

impl<S: Paginated> FusedStream for Items<S> {
    fn is_terminated(&self) -> bool {
        self.current.len() == 0 && self.pages.is_terminated()
    }
}

impl<S: Paginated> fmt::Debug for Items<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Items")
            .field("pages", &self.pages)
            .field("unread", &self.current.len())
            .finish()
    }
}
