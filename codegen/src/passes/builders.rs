//! The request builders' edits: what progenitor's builder output does that
//! this crate's builders must not, or lacks that they need.
//!
//! Why each exists, and the progenitor output it expects, is on its
//! function; [`crate::rewrites::REWRITES`] runs them and checks how often
//! each fired, so that a progenitor update that changes the shape one
//! matches fails the build with the rewrite's name instead of silently
//! leaving the edit undone.

use quote::quote;
use syn::visit_mut::VisitMut;

use super::{is_client, last_segment, module_mut};

/// Drops every `header_map.append(HeaderName::from_static("api-version"), …);`
/// progenitor adds to a request from the spec's `info.version`: this API
/// versions by `X-Phala-Version`, which the client sets itself. Gives how
/// many it dropped (one per operation).
pub(crate) fn drop_api_version_header(file: &mut syn::File) -> usize {
    struct Drop(usize);
    impl VisitMut for Drop {
        fn visit_block_mut(&mut self, block: &mut syn::Block) {
            let before = block.stmts.len();
            block
                .stmts
                .retain(|stmt| !appends_header(stmt, "api-version"));
            self.0 += before - block.stmts.len();
            syn::visit_mut::visit_block_mut(self, block);
        }
    }
    let mut drop = Drop(0);
    drop.visit_file_mut(file);
    drop.0
}

/// `….append(HeaderName::from_static("<name>"), …);`
fn appends_header(stmt: &syn::Stmt, name: &str) -> bool {
    let syn::Stmt::Expr(syn::Expr::MethodCall(call), _) = stmt else {
        return false;
    };
    let Some(syn::Expr::Call(header)) = call.args.first() else {
        return false;
    };
    let from_static = matches!(&*header.func, syn::Expr::Path(p)
        if p.path.segments.last().is_some_and(|s| s.ident == "from_static"));
    call.method == "append"
        && from_static
        && matches!(header.args.first(), Some(syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }))
            if s.value() == name)
}

/// Makes progenitor's `pub use progenitor_client::{…}` private: its `Error`
/// never reaches the public API (every `send` returns `crate::Error`), and
/// the rest is the crate's business. Gives how many imports it hid.
pub(crate) fn hide_progenitor_client(file: &mut syn::File) -> usize {
    let mut hidden = 0;
    for item in &mut file.items {
        if let syn::Item::Use(item) = item {
            let from_client = match &item.tree {
                syn::UseTree::Path(p) => p.ident == "progenitor_client",
                _ => false,
            };
            if from_client && matches!(item.vis, syn::Visibility::Public(_)) {
                item.vis = syn::Visibility::Inherited;
                hidden += 1;
            }
        }
    }
    hidden
}

/// Drops `Client::new`, which builds a client without credentials:
/// `Client::builder()` is the one way in (`crate::owned_builders` replaces
/// the rest of progenitor's `Client`). Gives how many it dropped.
pub(crate) fn drop_client_new(file: &mut syn::File) -> usize {
    let mut dropped = 0;
    for item in &mut file.items {
        if let syn::Item::Impl(imp) = item {
            if imp.trait_.is_none() && is_client(&imp.self_ty) {
                let before = imp.items.len();
                imp.items
                    .retain(|i| !matches!(i, syn::ImplItem::Fn(f) if f.sig.ident == "new"));
                dropped += before - imp.items.len();
            }
        }
    }
    dropped
}

/// Renames each builder's `send` to a private `send_unmapped` and adds the
/// public `send` wrapping it, which returns `crate::Error` (progenitor's
/// returns its own `Error<E>`). Expects `pub async fn send(self) ->
/// Result<T, Error<E>>` in the builders' inherent impls. Gives how many it
/// wrapped (one per operation).
pub(crate) fn send_returns_crate_error(file: &mut syn::File) -> usize {
    let Some(builders) = module_mut(&mut file.items, "builder") else {
        return 0;
    };
    let mut wrapped = 0;
    for item in builders.iter_mut() {
        let syn::Item::Impl(imp) = item else { continue };
        if imp.trait_.is_some() {
            continue;
        }
        let mut wrappers = Vec::new();
        for impl_item in &mut imp.items {
            if let syn::ImplItem::Fn(f) = impl_item {
                if f.sig.ident == "send" {
                    wrappers.extend(mapped_send(f));
                }
            }
        }
        wrapped += wrappers.len();
        imp.items.extend(wrappers);
    }
    wrapped
}

/// Renames `send` to `send_unmapped` and returns the public `send` wrapping it.
fn mapped_send(f: &mut syn::ImplItemFn) -> Option<syn::ImplItem> {
    let syn::ReturnType::Type(_, ty) = &f.sig.output else {
        return None;
    };
    let last = last_segment(ty).filter(|s| s.ident == "Result")?;
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    let ok = args.args.first()?.clone();
    f.sig.ident = syn::Ident::new("send_unmapped", f.sig.ident.span());
    f.vis = syn::Visibility::Inherited;
    Some(syn::parse_quote! {
        /// Sends the request and decodes the answer.
        ///
        /// Every failure — transport, timeout, an error status with its parsed
        /// body, an answer that does not decode — is a [`crate::Error`].
        pub async fn send(self) -> ::std::result::Result<#ok, crate::Error> {
            crate::error::from_generated(self.send_unmapped().await).await
        }
    })
}

/// The query parameters a pagination stream reads back from a builder.
const PAGING_FIELDS: [&str; 5] = ["page", "page_size", "limit", "offset", "skip"];

/// Gives each request builder with paging parameters an implementation of
/// `crate::paginate::PagingFields`, so the streams can read what the caller
/// set without the builders' fields leaving the generated code. Gives how
/// many builders have paging parameters.
pub(crate) fn add_paging_fields(file: &mut syn::File) -> usize {
    let Some(builders) = module_mut(&mut file.items, "builder") else {
        return 0;
    };
    let mut impls: Vec<syn::Item> = Vec::new();
    for item in builders.iter() {
        let syn::Item::Struct(builder) = item else {
            continue;
        };
        let arms: Vec<proc_macro2::TokenStream> = builder
            .fields
            .iter()
            .filter_map(|f| f.ident.as_ref())
            .filter(|f| PAGING_FIELDS.contains(&f.to_string().as_str()))
            .map(|f| {
                let name = f.to_string();
                quote!(#name => Some(crate::paginate::paging_number(#name, &self.#f)))
            })
            .collect();
        if arms.is_empty() {
            continue;
        }
        let ident = &builder.ident;
        impls.push(syn::parse_quote! {
            impl crate::paginate::PagingFields for #ident {
                fn paging_number(&self, field: &str) -> Option<Result<Option<u64>, String>> {
                    match field {
                        #(#arms,)*
                        _ => None,
                    }
                }
            }
        });
    }
    let count = impls.len();
    builders.extend(impls);
    count
}

/// Progenitor's parameter setters (`V: TryInto<T>`) replace the conversion
/// error with "conversion to `T` for cvm_id failed". This pass keeps it, as
/// progenitor already does for bodies: the setter requires the error to be
/// `Display` and reports `cvm_id: <error>`, so an invalid ID reads
/// `cvm_id: invalid CVM reference "…": expected …`. Gives how many setters
/// it changed.
pub(crate) fn explain_conversions(file: &mut syn::File) -> usize {
    let mut explain = ExplainConversions(0);
    explain.visit_file_mut(file);
    explain.0
}

struct ExplainConversions(usize);

impl VisitMut for ExplainConversions {
    fn visit_impl_item_fn_mut(&mut self, f: &mut syn::ImplItemFn) {
        let Some((value, try_into)) = try_into_bound(&f.sig) else {
            return;
        };
        let mut closure = ConversionClosure {
            message: syn::LitStr::new(&format!("{}: {{}}", f.sig.ident), f.sig.ident.span()),
            replaced: false,
        };
        closure.visit_block_mut(&mut f.block);
        if closure.replaced {
            self.0 += 1;
            f.sig
                .generics
                .make_where_clause()
                .predicates
                .push(syn::parse_quote!(<#value as #try_into>::Error: ::std::fmt::Display));
        }
    }
}

/// The `V` and `TryInto<T>` of a `where V: …TryInto<T>` bound.
fn try_into_bound(sig: &syn::Signature) -> Option<(syn::Type, syn::Path)> {
    sig.generics
        .where_clause
        .as_ref()?
        .predicates
        .iter()
        .find_map(|predicate| {
            let syn::WherePredicate::Type(predicate) = predicate else {
                return None;
            };
            predicate.bounds.iter().find_map(|bound| match bound {
                syn::TypeParamBound::Trait(t)
                    if t.path.segments.last().is_some_and(|s| s.ident == "TryInto") =>
                {
                    Some((predicate.bounded_ty.clone(), t.path.clone()))
                }
                _ => None,
            })
        })
}

/// Rewrites `.map_err(|_| "conversion to … failed".to_string())` to
/// `.map_err(|e| format!("<setter>: {}", e))`.
struct ConversionClosure {
    message: syn::LitStr,
    replaced: bool,
}

impl VisitMut for ConversionClosure {
    fn visit_expr_method_call_mut(&mut self, call: &mut syn::ExprMethodCall) {
        syn::visit_mut::visit_expr_method_call_mut(self, call);
        if call.method != "map_err" || call.args.len() != 1 {
            return;
        }
        let Some(syn::Expr::Closure(closure)) = call.args.first() else {
            return;
        };
        let drops_error = closure.inputs.len() == 1
            && matches!(closure.inputs.first(), Some(syn::Pat::Wild(_)))
            && matches!(&*closure.body, syn::Expr::MethodCall(to_string)
                if to_string.method == "to_string"
                    && matches!(&*to_string.receiver, syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. })
                        if s.value().starts_with("conversion to ")));
        if drops_error {
            let message = &self.message;
            call.args = syn::parse_quote!(|e| format!(#message, e));
            self.replaced = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn send_is_wrapped_and_api_version_dropped() {
        let mut file: syn::File = syn::parse_quote! {
            pub mod builder {
                impl ListKms {
                    pub async fn send(self) -> Result<ResponseValue<types::KmsList>, Error<ByteStream>> {
                        let mut header_map = HeaderMap::with_capacity(1usize);
                        header_map.append(HeaderName::from_static("api-version"), HeaderValue::from_static(Client::api_version()));
                        header_map.append(HeaderName::from_static("x-kept"), HeaderValue::from_static("1"));
                        todo()
                    }
                }
            }
        };
        assert_eq!(drop_api_version_header(&mut file), 1);
        assert_eq!(send_returns_crate_error(&mut file), 1);
        let code = prettyplease::unparse(&file);
        assert!(!code.contains("api-version"), "{code}");
        assert!(code.contains("x-kept"), "{code}");
        assert!(code.contains("    async fn send_unmapped("), "{code}");
        assert!(code.contains("pub async fn send("), "{code}");
        assert!(code.contains("crate::Error>"), "{code}");
    }

    #[test]
    fn setters_keep_the_conversion_error() {
        let mut file: syn::File = syn::parse_quote! {
            impl<'a> GetCvm<'a> {
                pub fn cvm_id<V>(mut self, value: V) -> Self
                where
                    V: std::convert::TryInto<crate::ids::CvmRef>,
                {
                    self.cvm_id = value
                        .try_into()
                        .map_err(|_| "conversion to `crate :: ids :: CvmRef` for cvm_id failed".to_string());
                    self
                }
                pub fn body_map<F>(mut self, f: F) -> Self
                where
                    F: std::ops::FnOnce(Body) -> Body,
                {
                    self.body = self.body.map(f).map_err(|_| "kept".to_string());
                    self
                }
            }
        };
        assert_eq!(explain_conversions(&mut file), 1);
        let code = prettyplease::unparse(&file);
        assert!(
            code.contains(".map_err(|e| format!(\"cvm_id: {}\", e))"),
            "{code}"
        );
        assert!(
            code.contains(
                "<V as std::convert::TryInto<crate::ids::CvmRef>>::Error: ::std::fmt::Display"
            ),
            "{code}"
        );
        assert!(!code.contains("conversion to"), "{code}");
        assert!(code.contains("map_err(|_| \"kept\".to_string())"), "{code}");
    }

    #[test]
    fn builders_with_paging_parameters_can_be_read_back() {
        let mut file: syn::File = syn::parse_quote! {
            pub mod builder {
                pub struct ListKms<'a> {
                    client: &'a super::Client,
                    is_onchain: Result<Option<bool>, String>,
                    page: Result<Option<::std::num::NonZeroU64>, String>,
                    page_size: Result<Option<::std::num::NonZeroU64>, String>,
                }
                pub struct GetCvm<'a> {
                    client: &'a super::Client,
                    cvm_id: Result<crate::ids::CvmRef, String>,
                }
            }
        };
        assert_eq!(add_paging_fields(&mut file), 1);
        let code = prettyplease::unparse(&file);
        assert_eq!(
            code.matches("impl crate::paginate::PagingFields for")
                .count(),
            1,
            "{code}"
        );
        assert!(code.contains("for ListKms {"), "{code}");
        assert!(
            code.contains(r#"crate::paginate::paging_number("page_size", &self.page_size)"#),
            "{code}"
        );
        assert!(!code.contains(r#""is_onchain""#), "{code}");
    }

    #[test]
    fn progenitor_client_is_hidden_and_client_new_dropped() {
        let mut file: syn::File = syn::parse_quote! {
            pub use progenitor_client::{encode_path, ByteStream, Error};
            pub use crate::client::Client;
            impl Client {
                pub fn new(baseurl: &str) -> Self { todo() }
                pub fn list_kms(&self) -> builder::ListKms { todo() }
            }
        };
        assert_eq!(hide_progenitor_client(&mut file), 1);
        assert_eq!(drop_client_new(&mut file), 1);
        let code = prettyplease::unparse(&file);
        assert!(code.starts_with("use progenitor_client::"), "{code}");
        assert!(code.contains("pub use crate::client::Client;"), "{code}");
        assert!(!code.contains("fn new("), "{code}");
        assert!(code.contains("pub fn list_kms("), "{code}");
    }
}
