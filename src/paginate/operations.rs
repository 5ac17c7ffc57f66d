//! Each paginated operation's glue: its style, page size, page and item
//! types, and where an answer keeps its items and totals. The generator
//! invokes [`paginated!`] once per paginated row of codegen's operation
//! table (`codegen/src/operations.rs`), with the page size read from the
//! spec and the page and item types read from the generated builders.

use super::PaginatedOperation;

/// Every operation with `items()` and `pages()` streams.
pub const OPERATIONS: &[PaginatedOperation] = crate::generated::PAGINATED_OPERATIONS;

/// Implements [`Paginated`](super::Paginated) for a builder and gives it
/// `items()` and `pages()`. `$position` and `$size` are the builder's setters
/// (and query parameters) placing and sizing a page; `|p| $items` is where a
/// page keeps its items, `|p| $signal` what it says about the listing.
macro_rules! paginated {
    (
        $method:ident => $builder:ident: $what:literal, $style:ident($position:ident, $size:ident <= $max:literal),
        $page:ty => |$p:ident| $items:expr => $item:ty,
        signal: |$s:ident| $signal:expr $(,)?
    ) => {
        impl $crate::paginate::sealed::Sealed for builder::$builder {}

        impl $crate::paginate::Paginated for builder::$builder {
            type Style = $crate::paginate::$style;
            type Page = $page;
            type Item = $item;
            type Fetch = ::futures::future::BoxFuture<'static, Result<$page, $crate::Error>>;

            const OPERATION: $crate::paginate::PaginatedOperation =
                $crate::paginate::PaginatedOperation {
                    name: stringify!($method),
                    style: <$crate::paginate::$style as $crate::paginate::Style>::KIND,
                    position_param: stringify!($position),
                    page_size_param: stringify!($size),
                    default_page_size: $max,
                };

            fn with_position(
                self,
                position: <$crate::paginate::$style as $crate::paginate::Style>::Position,
            ) -> Self {
                $crate::paginate::Place::place(position, self, |builder, value| {
                    builder.$position(value)
                })
            }

            fn with_page_size(self, size: u64) -> Self {
                self.$size(size)
            }

            fn fetch(self) -> Self::Fetch {
                Box::pin(async move { Ok(self.send().await?.into_inner()) })
            }

            fn signal($s: &$page) -> $crate::paginate::PageSignal<'_> {
                $signal
            }

            fn into_items($p: $page) -> Vec<$item> {
                $items
            }
        }

        impl builder::$builder {
            #[doc = concat!("Every ", $what, " across all pages, in order: see [`Items`](crate::paginate::Items) and the [`paginate`](crate::paginate) module.")]
            pub fn items(self) -> $crate::paginate::Items<Self> {
                $crate::paginate::Pages::new(self).items()
            }

            #[doc = concat!("Every page of the listing, in order, as the API answers it: see [`Pages`](crate::paginate::Pages) and the [`paginate`](crate::paginate) module.")]
            pub fn pages(self) -> $crate::paginate::Pages<Self> {
                $crate::paginate::Pages::new(self)
            }
        }
    };
}

pub(crate) use paginated;

/// A page position set on a builder. A number always is; a cursor only from
/// the second page on, the first going out as the caller's builder has it.
pub(crate) trait Place {
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
