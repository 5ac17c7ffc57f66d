//! What the generated client gets from the operation table
//! ([`crate::operations`]), so that the hand-written layer names no operation
//! itself: the retry class and answer limit lookups, the hand-written
//! methods' operations, and
//! the `paginate::paginated!` invocations with `paginate::OPERATIONS`.
//!
//! Only the rows whose operation the spec has are emitted (a revision without
//! one still generates); each paginated row's page size comes from the spec.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use crate::normalize::{Context, Normalized};
use crate::operations::{AnswerLimit, Entry, Paging, PagingStyle, Retry, Signal, Version, TABLE};
use crate::passes::{builder_of, generic_of, last_segment, module, struct_fields};
use crate::SpecError;

/// Appends the items to `file`, the generated client (after its rewrites:
/// the page types are read from the builders' `send`).
pub(crate) fn add_table_items(
    file: &mut syn::File,
    normalized: &Normalized,
) -> Result<(), SpecError> {
    let cx = &normalized.context;
    let rows: Vec<&Entry> = TABLE
        .iter()
        .filter(|e| cx.operations.iter().any(|o| o.name == e.name))
        .collect();
    file.items.push(retry_lookup(&rows));
    file.items.push(quote_lookup(&rows));
    file.items.push(version_lookup(&rows));
    file.items.extend(hand_written(cx));
    let mut paginated = Vec::new();
    let mut invocations = Vec::new();
    for row in &rows {
        let Some(paging) = &row.paging else { continue };
        let builder = builder_of(file, row.name).ok_or_else(|| {
            SpecError::at(
                "",
                format!("the paginated `{}` has no request builder", row.name),
            )
        })?;
        let limit = cx
            .page_sizes
            .iter()
            .find(|(op, _)| op == row.name)
            .map(|(_, size)| *size)
            .ok_or_else(|| {
                SpecError::at("", format!("no page size was read for `{}`", row.name))
            })?;
        invocations.push(invocation(file, row.name, &builder, paging, limit)?);
        paginated.push(quote!(<builder::#builder as crate::paginate::Paginated>::OPERATION));
    }
    file.items.extend(invocations);
    file.items.push(syn::parse_quote! {
        /// Every operation with `items()` and `pages()` streams: the paginated
        /// rows of codegen's operation table.
        pub(crate) const PAGINATED_OPERATIONS: &[crate::paginate::PaginatedOperation] =
            &[#(#paginated),*];
    });
    Ok(())
}

/// `lifecycle_operation(name)`: whether the row is retried as
/// [`Retry::Lifecycle`].
fn retry_lookup(rows: &[&Entry]) -> syn::Item {
    lookup(
        rows,
        |e| e.retry == Retry::Lifecycle,
        "lifecycle_operation",
        "Whether `operation` is one of the CVM lifecycle and update operations, \
         which retry a transient conflict whatever their HTTP method \
         (`Retry::Lifecycle` in codegen's operation table).",
    )
}

/// `quote_answer(name)`: whether the row's answer is a raw quote
/// ([`AnswerLimit::Quote`]).
fn quote_lookup(rows: &[&Entry]) -> syn::Item {
    lookup(
        rows,
        |e| e.answer_limit == AnswerLimit::Quote,
        "quote_answer",
        "Whether `operation` answers a raw attestation quote, read within \
         `ClientBuilder::max_quote_size` (`AnswerLimit::Quote` in codegen's \
         operation table).",
    )
}

/// `operation_version(name)`: the `X-Phala-Version` the row pins, if any.
fn version_lookup(rows: &[&Entry]) -> syn::Item {
    let mut versions: Vec<Version> = rows.iter().filter_map(|e| e.version).collect();
    versions.sort_unstable_by_key(|v| match v {
        Version::Spec => "",
        Version::Of(v) => v,
    });
    versions.dedup();
    let arms = versions.iter().map(|version| {
        let names = rows
            .iter()
            .filter(|e| e.version == Some(*version))
            .map(|e| e.name);
        let value = match version {
            Version::Spec => quote!(API_VERSION),
            Version::Of(v) => quote!(#v),
        };
        quote!(#(#names)|* => Some(#value),)
    });
    syn::parse_quote! {
        /// The `X-Phala-Version` that `operation`'s types describe, where
        /// codegen's operation table pins one: sent unless the call names
        /// another (`RequestOptions::api_version`).
        pub fn operation_version(operation: &str) -> Option<&'static str> {
            match operation {
                #(#arms)*
                _ => None,
            }
        }
    }
}

/// `pub(crate) fn <name>(operation: &str) -> bool`, documented by `doc`: a
/// `match` on the names of the rows `keep` selects.
fn lookup(rows: &[&Entry], keep: fn(&Entry) -> bool, name: &str, doc: &str) -> syn::Item {
    let names: Vec<&str> = rows.iter().filter(|e| keep(e)).map(|e| e.name).collect();
    let body = if names.is_empty() {
        quote!(false)
    } else {
        quote!(matches!(operation, #(#names)|*))
    };
    let name = format_ident!("{name}");
    syn::parse_quote! {
        #[doc = #doc]
        pub(crate) fn #name(operation: &str) -> bool {
            #body
        }
    }
}

/// `mod hand_written` with one `Operation` per hand-written method, and
/// `HAND_WRITTEN_OPERATIONS` listing them.
fn hand_written(cx: &Context) -> [syn::Item; 2] {
    let consts = cx.hand_written.iter().map(|h| {
        let ident = format_ident!("{}", h.name.to_uppercase());
        let (name, method, path) = (h.name, h.method.to_uppercase(), &h.path);
        let doc = format!(" `{name}`, on `{method} {path}`: {}.", h.reason);
        quote! {
            #[doc = #doc]
            pub(crate) const #ident: super::Operation =
                super::Operation { name: #name, method: #method, path: #path };
        }
    });
    let idents = cx
        .hand_written
        .iter()
        .map(|h| format_ident!("{}", h.name.to_uppercase()));
    [
        syn::parse_quote! {
            /// The hand-written client methods' operations, by method name.
            pub(crate) mod hand_written {
                #(#consts)*
            }
        },
        syn::parse_quote! {
            /// The client methods written by hand on an operation of the spec,
            /// for what the spec cannot describe (a Server-Sent Events stream);
            /// the operation itself is in [`OPERATIONS`] too.
            pub const HAND_WRITTEN_OPERATIONS: &[Operation] = &[#(hand_written::#idents),*];
        },
    ]
}

/// `crate::paginate::paginated! { … }` for one row.
fn invocation(
    file: &syn::File,
    name: &str,
    builder: &syn::Ident,
    paging: &Paging,
    limit: u64,
) -> Result<syn::Item, SpecError> {
    let refuse = |what: &str| {
        SpecError::at(
            "",
            format!("the paginated `{name}`: {what}; update its row of the operation table"),
        )
    };
    let page = page_type(file, builder).ok_or_else(|| refuse("its answer type is not found"))?;
    let item = match paging.items {
        None => generic_of(&page, "Vec").cloned(),
        Some(field) => items_type(file, &page, field),
    }
    .ok_or_else(|| refuse("its answer holds no array of items where the row says"))?;
    let method = format_ident!("{name}");
    let (what, position, size) = (
        paging.what,
        format_ident!("{}", paging.position),
        format_ident!("{}", paging.size),
    );
    let style = format_ident!(
        "{}",
        match paging.style {
            PagingStyle::PageNumber => "PageNumber",
            PagingStyle::LimitOffset => "LimitOffset",
            PagingStyle::Cursor => "Cursor",
        }
    );
    let limit = Literal::u64_unsuffixed(limit);
    let items: TokenStream = match paging.items {
        None => quote!(p),
        Some(field) => {
            let field = format_ident!("{field}");
            quote!(p.#field)
        }
    };
    let signal = match paging.signal {
        Signal::ItemsOnly => quote!(),
        Signal::TotalPages(field) => {
            let field = format_ident!("{field}");
            quote!(.with_total_pages(p.#field))
        }
        Signal::Total(field) => {
            let field = format_ident!("{field}");
            quote!(.with_total(p.#field))
        }
        Signal::NextCursor(field) => {
            let fields = field.split('.').map(|f| format_ident!("{f}"));
            quote!(.with_next_cursor(p #(.#fields)*.as_deref()))
        }
    };
    Ok(syn::parse_quote! {
        crate::paginate::paginated! {
            #method => #builder: #what, #style(#position, #size <= #limit),
            #page => |p| #items => #item,
            signal: |p| crate::paginate::PageSignal::of_items(#items.len())#signal,
        }
    })
}

/// `T` of the builder's `send(self) -> Result<ResponseValue<T>, crate::Error>`.
fn page_type(file: &syn::File, builder: &syn::Ident) -> Option<syn::Type> {
    let builders = module(&file.items, "builder")?;
    builders.iter().find_map(|item| {
        let syn::Item::Impl(imp) = item else {
            return None;
        };
        if imp.trait_.is_some() || last_segment(&imp.self_ty)?.ident != *builder {
            return None;
        }
        imp.items.iter().find_map(|i| match i {
            syn::ImplItem::Fn(f) if f.sig.ident == "send" => {
                let syn::ReturnType::Type(_, ty) = &f.sig.output else {
                    return None;
                };
                let answer = generic_of_first(ty, "Result")?;
                generic_of(answer, "ResponseValue").cloned()
            }
            _ => None,
        })
    })
}

/// The first type argument of `…::Name<T, …>`.
fn generic_of_first<'a>(ty: &'a syn::Type, name: &str) -> Option<&'a syn::Type> {
    let segment = last_segment(ty).filter(|s| s.ident == name)?;
    let syn::PathArguments::AngleBracketed(args) = &segment.arguments else {
        return None;
    };
    match args.args.first()? {
        syn::GenericArgument::Type(t) => Some(t),
        _ => None,
    }
}

/// `types::T` of the `field: Vec<T>` of the answer struct `page`.
fn items_type(file: &syn::File, page: &syn::Type, field: &str) -> Option<syn::Type> {
    let types = module(&file.items, "types")?;
    let fields = struct_fields(types, &last_segment(page)?.ident)?;
    let field = fields
        .iter()
        .find(|f| f.ident.as_ref().is_some_and(|i| i == field))?;
    let item = generic_of(&field.ty, "Vec")?;
    // Inside `types`, a type of its own is named bare.
    Some(match item {
        syn::Type::Path(p) if p.qself.is_none() && p.path.segments.len() == 1 => {
            let ident = &p.path.segments[0].ident;
            syn::parse_quote!(types::#ident)
        }
        other => other.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::{HandWritten, OperationName};

    fn context() -> Context {
        let op = |name: &str, path: &str| OperationName {
            operation_id: name.into(),
            method: "get".into(),
            path: path.into(),
            name: name.into(),
        };
        Context {
            operations: vec![
                op("list_kms", "/api/v1/kms"),
                op("start_cvm", "/api/v1/cvms/{cvm_id}/start"),
                op("list_webhook_deliveries", "/d"),
            ],
            hand_written: vec![HandWritten {
                method: "get".into(),
                path: "/api/v1/cvms/{cvm_id}/state".into(),
                name: "watch_cvm_state",
                reason: "a stream",
            }],
            page_sizes: vec![
                ("list_kms".into(), 100),
                ("list_webhook_deliveries".into(), 50),
            ],
            ..Context::default()
        }
    }

    fn client() -> syn::File {
        syn::parse_quote! {
            impl Client {
                pub fn list_kms(&self) -> builder::ListKms { builder::ListKms::new(self) }
                pub fn list_webhook_deliveries(&self) -> builder::ListWebhookDeliveries { todo() }
            }
            pub mod builder {
                impl ListKms {
                    pub async fn send(self) -> ::std::result::Result<ResponseValue<types::KmsListResponse>, crate::Error> { todo() }
                }
                impl ListWebhookDeliveries {
                    pub async fn send(self) -> ::std::result::Result<ResponseValue<::std::vec::Vec<types::Delivery>>, crate::Error> { todo() }
                }
            }
            pub mod types {
                pub struct KmsListResponse {
                    pub items: ::std::vec::Vec<KmsInfo>,
                    pub pages: i64,
                }
            }
        }
    }

    #[test]
    fn the_table_becomes_the_retry_lookup_the_streams_and_the_hand_written_list() {
        let normalized = Normalized {
            spec: serde_json::json!({}),
            context: context(),
        };
        let mut file = client();
        add_table_items(&mut file, &normalized).unwrap();
        crate::passes::assert_generates(
            &file,
            &[
                r#"matches!(operation, "start_cvm")"#,
                "pub(crate) fn quote_answer(operation: &str) -> bool { false }",
                "list_kms => ListKms : \"KMS instance\", PageNumber(page, page_size <= 100), \
                 types::KmsListResponse => | p | p.items => types::KmsInfo, signal : | p | crate \
                 ::paginate::PageSignal::of_items(p.items.len()).with_total_pages(p.pages),",
                "ListWebhookDeliveries : \"webhook delivery\", LimitOffset(offset, limit <= 50), \
                 ::std::vec::Vec < types::Delivery > => | p | p => types::Delivery",
                "pub(crate) const WATCH_CVM_STATE: super::Operation = super::Operation { name: \
                 \"watch_cvm_state\", method: \"GET\", path: \"/api/v1/cvms/{cvm_id}/state\", };",
                "&[hand_written::WATCH_CVM_STATE]",
                "<builder::ListKms as crate::paginate::Paginated>::OPERATION, \
                 <builder::ListWebhookDeliveries as crate::paginate::Paginated>::OPERATION",
            ],
        );
    }
}
