//! The three ways the API pages, each deciding which page to request next
//! and when the listing ends.

use std::collections::HashSet;

use super::{position, sealed, sized, PageSignal, Paginated, Style, StyleKind};
use crate::error::DecodeError;
use crate::Error;

/// Pages addressed by position: page numbers, or offsets a `limit` apart.
///
/// Page `i` may be requested once every earlier page has answered without
/// ending the listing, or, when the latest answer reported how many pages
/// there are, as soon as `i` is below that count (the prefetch). Answers are
/// recorded in request order.
#[derive(Debug, Default)]
struct Indexed {
    requested: u64,
    answered: u64,
    count: Option<u64>,
    ended: bool,
}

impl Indexed {
    fn next(&mut self) -> Option<u64> {
        let ready = self.requested == self.answered
            || self.count.is_some_and(|count| self.requested < count);
        (!self.ended && ready).then(|| {
            self.requested += 1;
            self.requested - 1
        })
    }

    /// Records the next answer; true when the listing ends with it.
    fn record(&mut self, items: usize, count: Option<u64>, short: bool) -> bool {
        let index = self.answered;
        self.answered += 1;
        if count.is_some() {
            self.count = count;
        }
        self.ended = items == 0 || short || self.count.is_some_and(|count| index + 1 >= count);
        self.ended
    }
}

/// `page` (1-based) and `page_size`. The listing ends at the page count the
/// latest answer reports (`pages` or `total_pages`), or at an empty page.
#[derive(Debug)]
pub struct PageNumber {
    first: u64,
    pages: Indexed,
}

impl PageNumber {
    /// A listing starting at page `first` (1-based).
    pub(crate) fn new(first: u64) -> Self {
        Self {
            first: first.max(1),
            pages: Indexed::default(),
        }
    }
}

impl sealed::Sealed for PageNumber {}

impl Style for PageNumber {
    type Position = u64;
    const KIND: StyleKind = StyleKind::PageNumber;

    fn start<S: Paginated<Style = Self>>(builder: S) -> Result<(S, Self), Error> {
        let first = position(&builder)?.unwrap_or(1);
        let (builder, _) = sized(builder)?;
        Ok((builder, Self::new(first)))
    }

    fn next(&mut self) -> Option<u64> {
        self.pages.next().map(|i| self.first.saturating_add(i))
    }

    fn record(&mut self, page: PageSignal<'_>) -> Result<bool, Error> {
        let remaining = page
            .total_pages
            .map(|pages| pages.saturating_sub(self.first - 1));
        Ok(self.pages.record(page.items, remaining, false))
    }
}

/// `limit` with `offset` (or `skip`). The listing ends at a page shorter
/// than `limit`, at an empty page, or once the offset reaches the `total`
/// the latest answer reports, when it reports one.
#[derive(Debug)]
pub struct LimitOffset {
    first: u64,
    limit: u64,
    pages: Indexed,
}

impl LimitOffset {
    /// A listing starting at offset `first`, `limit` items a page.
    pub(crate) fn new(operation: &str, first: u64, limit: u64) -> Result<Self, Error> {
        if limit == 0 {
            return Err(Error::InvalidRequest(format!(
                "{operation}: a limit of 0 would never advance; use at least 1"
            )));
        }
        Ok(Self {
            first,
            limit,
            pages: Indexed::default(),
        })
    }
}

impl sealed::Sealed for LimitOffset {}

impl Style for LimitOffset {
    type Position = u64;
    const KIND: StyleKind = StyleKind::LimitOffset;

    fn start<S: Paginated<Style = Self>>(builder: S) -> Result<(S, Self), Error> {
        let first = position(&builder)?.unwrap_or(0);
        let (builder, limit) = sized(builder)?;
        Ok((builder, Self::new(S::OPERATION.name, first, limit)?))
    }

    fn next(&mut self) -> Option<u64> {
        self.pages
            .next()
            .map(|i| self.first.saturating_add(i.saturating_mul(self.limit)))
    }

    fn record(&mut self, page: PageSignal<'_>) -> Result<bool, Error> {
        let count = page
            .total
            .map(|total| total.saturating_sub(self.first).div_ceil(self.limit));
        let short = (page.items as u64) < self.limit;
        Ok(self.pages.record(page.items, count, short))
    }
}

/// An opaque `cursor`, answered with `next_cursor`. The listing ends when
/// an answer carries no cursor (or an empty one) or no items; a cursor that
/// was already followed ends it with an error instead of a loop.
#[derive(Debug)]
pub struct Cursor {
    next: Option<Option<String>>,
    seen: HashSet<String>,
}

impl Cursor {
    /// A listing starting where the builder's own `cursor` (if any) points.
    pub(crate) fn new() -> Self {
        Self {
            next: Some(None),
            seen: HashSet::new(),
        }
    }
}

impl sealed::Sealed for Cursor {}

impl Style for Cursor {
    /// `None` for the first request (the builder as the caller left it),
    /// then the cursor to send.
    type Position = Option<String>;
    const KIND: StyleKind = StyleKind::Cursor;

    fn start<S: Paginated<Style = Self>>(builder: S) -> Result<(S, Self), Error> {
        let (builder, _) = sized(builder)?;
        Ok((builder, Self::new()))
    }

    fn next(&mut self) -> Option<Option<String>> {
        self.next.take()
    }

    fn record(&mut self, page: PageSignal<'_>) -> Result<bool, Error> {
        let Some(cursor) = page.next_cursor.filter(|c| !c.is_empty() && page.items > 0) else {
            return Ok(true);
        };
        if !self.seen.insert(cursor.to_string()) {
            return Err(Error::Decode(Box::new(DecodeError {
                path: "next_cursor".into(),
                message: "the server sent a cursor it had already sent; \
                          following it again would list the same pages forever"
                    .into(),
                excerpt: crate::error::excerpt(cursor.as_bytes()),
            })));
        }
        self.next = Some(Some(cursor.to_string()));
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signal(items: usize) -> PageSignal<'static> {
        PageSignal {
            items,
            ..PageSignal::default()
        }
    }

    /// Requests whatever the style allows, answers them in order with
    /// `answer(position)`, and returns the positions requested.
    fn drive<S: Style>(
        mut style: S,
        mut answer: impl FnMut(&S::Position) -> PageSignal<'static>,
    ) -> Vec<S::Position>
    where
        S::Position: Clone,
    {
        let mut requested = Vec::new();
        let mut pending = std::collections::VecDeque::new();
        loop {
            while let Some(position) = style.next() {
                requested.push(position.clone());
                pending.push_back(position);
            }
            let Some(position) = pending.pop_front() else {
                return requested;
            };
            if style.record(answer(&position)).unwrap() {
                return requested;
            }
        }
    }

    #[test]
    fn page_numbers_prefetch_up_to_the_reported_count() {
        let requested = drive(PageNumber::new(1), |_| PageSignal {
            total_pages: Some(4),
            ..signal(10)
        });
        assert_eq!(requested, [1, 2, 3, 4]);
    }

    #[test]
    fn page_numbers_count_from_the_first_page_asked() {
        let requested = drive(PageNumber::new(3), |_| PageSignal {
            total_pages: Some(4),
            ..signal(10)
        });
        assert_eq!(requested, [3, 4]);
    }

    #[test]
    fn an_empty_page_ends_even_if_the_count_says_more() {
        let requested = drive(PageNumber::new(1), |&page| PageSignal {
            total_pages: Some(9),
            ..signal(if page == 2 { 0 } else { 10 })
        });
        // Pages 3..9 were asked for once page 1 reported 9: the stream drops
        // them when page 2 ends the listing.
        assert_eq!(requested[..2], [1, 2]);
    }

    #[test]
    fn offsets_advance_by_the_limit_and_stop_at_a_short_page() {
        let style = LimitOffset::new("op", 0, 10).unwrap();
        let requested = drive(style, |&offset| signal(if offset == 20 { 3 } else { 10 }));
        assert_eq!(requested, [0, 10, 20]);
    }

    #[test]
    fn offsets_prefetch_up_to_the_total() {
        let style = LimitOffset::new("op", 5, 10).unwrap();
        let requested = drive(style, |_| PageSignal {
            total: Some(35),
            ..signal(10)
        });
        assert_eq!(requested, [5, 15, 25]);
    }

    #[test]
    fn a_zero_limit_is_refused() {
        assert!(LimitOffset::new("op", 0, 0).is_err());
    }

    #[test]
    fn cursors_follow_until_there_is_none() {
        let cursors = ["a", "b"];
        let requested = drive(Cursor::new(), |position| PageSignal {
            next_cursor: match position.as_deref() {
                None => Some(cursors[0]),
                Some("a") => Some(cursors[1]),
                _ => None,
            },
            ..signal(1)
        });
        assert_eq!(requested, [None, Some("a".into()), Some("b".into())]);
    }

    #[test]
    fn a_cursor_seen_before_is_an_error() {
        let mut style = Cursor::new();
        assert_eq!(style.next(), Some(None));
        let a = PageSignal {
            next_cursor: Some("a"),
            ..signal(1)
        };
        assert!(!style.record(a).unwrap());
        assert_eq!(style.next(), Some(Some("a".into())));
        let err = style.record(a).unwrap_err();
        assert!(err.to_string().contains("next_cursor"), "{err}");
    }
}
