//! Runs progenitor on the normalized spec and shapes its output for the
//! hand-written layer.

use std::panic::{catch_unwind, AssertUnwindSafe};

use progenitor::{GenerationSettings, Generator, HooksMode, InterfaceStyle, TagStyle, TypeImpl};
use quote::{quote, ToTokens};
use schemars::schema::{InstanceType, SchemaObject};
use serde_json::Value;
use syn::visit_mut::VisitMut;

use crate::normalize::{normalize, Normalized, ID_TYPES};
use crate::overlay::Overlay;
use crate::{passes, SpecError};

/// The generated client, and what the normalizer learned on the way.
#[derive(Debug, Clone)]
pub struct Generated {
    /// Pretty-printed Rust source of the client, its builders and types.
    pub client: String,
    /// The normalized spec and its context.
    pub normalized: Normalized,
}

/// [`generate`] from the bytes of `openapi.json` and of the overlay beside
/// it ([`crate::overlay::OVERLAY_FILE`]).
pub fn generate_from_bytes(spec: &[u8], overlay: &[u8]) -> Result<Generated, SpecError> {
    let overlay = Overlay::parse(overlay)?;
    let spec: Value = serde_json::from_slice(spec)
        .map_err(|e| SpecError::at("", format!("not valid JSON: {e}")))?;
    generate(spec, &overlay)
}

/// Normalizes `spec` with `overlay` and generates the client from it.
pub fn generate(spec: Value, overlay: &Overlay) -> Result<Generated, SpecError> {
    let normalized = normalize(spec, overlay)?;
    let openapi = openapi(&normalized)?;
    let mut generator = Generator::new(&settings());

    let tokens = quietly(|| generator.generate_tokens(&openapi))
        .map_err(|panic| {
            SpecError::at(
                "",
                format!(
                    "progenitor panicked on the normalized spec: {panic} (a bug of the \
                     normalizer: a rule of `check_generator_limits` should have refused \
                     this first; please report it with the spec)"
                ),
            )
        })?
        .map_err(|e| SpecError::at("", format!("progenitor refused the normalized spec: {e}")))?;
    let mut file: syn::File = syn::parse2(tokens).map_err(|e| {
        SpecError::at(
            "",
            format!("progenitor produced code that does not parse: {e}"),
        )
    })?;
    Shape.visit_file_mut(&mut file);
    crate::owned_builders::own_the_client(&mut file);
    ExplainConversions.visit_file_mut(&mut file);
    passes::finish_form_operations(&mut file, &normalized.context)?;
    passes::finish_answers(&mut file, &normalized.context)?;
    add_paging_fields(&mut file);
    shape_types(&mut file)?;
    crate::docs::document_builders(&mut file, &normalized.spec);
    let pinned = &normalized.context.api_version;
    let versions = &normalized.context.versions;
    file.items.push(syn::parse_quote! {
        /// The `X-Phala-Version` this client is generated for and sends by
        /// default: the newest API version whose response shapes the spec holds.
        pub const API_VERSION: &str = #pinned;
    });
    file.items.push(syn::parse_quote! {
        /// Every API version named by the spec's schemas, oldest first.
        pub const API_VERSIONS: &[&str] = &[#(#versions),*];
    });
    let operations = normalized.context.operations.iter().map(|op| {
        let (name, method, path) = (&op.name, op.method.to_uppercase(), &op.path);
        quote!(Operation { name: #name, method: #method, path: #path })
    });
    file.items.push(syn::parse_quote! {
        /// An operation of the API, as the client generates it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub struct Operation {
            /// The client method's name, e.g. `list_kms`.
            pub name: &'static str,
            /// The HTTP method, upper case.
            pub method: &'static str,
            /// The path template, e.g. `/api/v1/cvms/{cvm_id}`.
            pub path: &'static str,
        }
    });
    file.items.push(syn::parse_quote! {
        /// Every generated operation, in the spec's order.
        pub const OPERATIONS: &[Operation] = &[#(#operations),*];
    });
    crate::from_table::add_table_items(&mut file, &normalized)?;
    Ok(Generated {
        client: prettyplease::unparse(&file),
        normalized,
    })
}

/// The passes over the `types` module (`crate::passes`): unions as sum
/// types with accessors, open enums in answers, documented unknown-field
/// maps, optional setters that take the value.
fn shape_types(file: &mut syn::File) -> Result<(), SpecError> {
    passes::refuse_flattened_unions(file)?;
    passes::union_accessors(file);
    passes::open_answer_enums(file)?;
    passes::finish_unknown_field_maps(file);
    passes::optional_setters_take_the_value(file);
    Ok(())
}

/// The normalized spec as progenitor reads it.
pub(crate) fn openapi(normalized: &Normalized) -> Result<openapiv3::OpenAPI, SpecError> {
    serde_json::from_value(normalized.spec.clone()).map_err(|e| {
        SpecError::at(
            "",
            format!("the normalized spec is not OpenAPI 3.0 as progenitor reads it: {e}"),
        )
    })
}

/// Progenitor's settings. The mock generator (`crate::mock`) uses them too,
/// so that both name and convert every type alike.
pub(crate) fn settings() -> GenerationSettings {
    let mut settings = GenerationSettings::default();
    settings
        .with_interface(InterfaceStyle::Builder)
        .with_tag(TagStyle::Merged)
        .with_hooks(HooksMode::Expected)
        .with_inner_type(quote!(crate::client::ClientState))
        .with_derive("PartialEq");
    with_id_types(&mut settings);
    let file = SchemaObject {
        instance_type: Some(InstanceType::String.into()),
        format: Some(crate::normalize::FILE_FORMAT.to_string()),
        ..SchemaObject::default()
    };
    settings.with_conversion(file, "crate::multipart::File", std::iter::empty());
    settings
}

/// Maps each ID format ([`ID_TYPES`]) to its `crate::ids` type. typify
/// matches a schema by equality ignoring its documentation, so every
/// `{type: string, format: <id format>}` — field, parameter, nullable or not
/// — becomes the type.
fn with_id_types(settings: &mut GenerationSettings) {
    for id in ID_TYPES {
        let schema = SchemaObject {
            instance_type: Some(InstanceType::String.into()),
            format: Some(id.format.to_string()),
            ..SchemaObject::default()
        };
        settings.with_conversion(
            schema,
            id.rust_type,
            [TypeImpl::Display, TypeImpl::FromStr].into_iter(),
        );
    }
}

/// Runs `f`, turning a panic into its message without printing it.
pub(crate) fn quietly<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = catch_unwind(AssertUnwindSafe(f));
    std::panic::set_hook(hook);
    result.map_err(|panic| {
        panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "no message".to_string())
    })
}

/// The edits to progenitor's output:
/// - no `api-version` header (this API versions by `X-Phala-Version`, which
///   the client sets itself);
/// - the constructor that bypasses `Client::builder()` goes (`new`, which
///   builds a client without credentials; `crate::owned_builders` replaces
///   the rest of progenitor's `Client`), and progenitor's `Error` becomes
///   crate-private: it never reaches the public API;
/// - each builder's `send` is renamed `send_unmapped` and wrapped by a `send`
///   that returns `crate::Error`.
struct Shape;

impl VisitMut for Shape {
    fn visit_block_mut(&mut self, block: &mut syn::Block) {
        block.stmts.retain(|stmt| {
            !stmt
                .to_token_stream()
                .to_string()
                .contains("\"api-version\"")
        });
        syn::visit_mut::visit_block_mut(self, block);
    }

    fn visit_item_use_mut(&mut self, item: &mut syn::ItemUse) {
        if item
            .to_token_stream()
            .to_string()
            .contains("progenitor_client")
        {
            item.vis = syn::Visibility::Inherited;
        }
    }

    fn visit_item_impl_mut(&mut self, item: &mut syn::ItemImpl) {
        let self_ty = item.self_ty.to_token_stream().to_string();
        if self_ty == "Client" {
            item.items
                .retain(|i| !matches!(i, syn::ImplItem::Fn(f) if f.sig.ident == "new"));
        }
        let mut wrappers = Vec::new();
        for impl_item in &mut item.items {
            let syn::ImplItem::Fn(f) = impl_item else {
                continue;
            };
            if f.sig.ident == "send" {
                if let Some(wrapper) = mapped_send(f) {
                    wrappers.push(wrapper);
                }
            }
        }
        item.items.extend(wrappers);
        syn::visit_mut::visit_item_impl_mut(self, item);
    }
}

/// The query parameters a pagination stream reads back from a builder.
const PAGING_FIELDS: [&str; 5] = ["page", "page_size", "limit", "offset", "skip"];

/// Gives each request builder with paging parameters an implementation of
/// `crate::paginate::PagingFields`, so the streams can read what the caller
/// set without the builders' fields leaving the generated code.
fn add_paging_fields(file: &mut syn::File) {
    let Some(builders) = file.items.iter_mut().find_map(|item| match item {
        syn::Item::Mod(m) if m.ident == "builder" => m.content.as_mut(),
        _ => None,
    }) else {
        return;
    };
    let mut impls: Vec<syn::Item> = Vec::new();
    for item in &builders.1 {
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
    builders.1.extend(impls);
}

/// Renames `send` to `send_unmapped` and returns the public `send` wrapping it.
fn mapped_send(f: &mut syn::ImplItemFn) -> Option<syn::ImplItem> {
    let syn::ReturnType::Type(_, ty) = &f.sig.output else {
        return None;
    };
    let syn::Type::Path(path) = &**ty else {
        return None;
    };
    let last = path.path.segments.last()?;
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

/// Progenitor's parameter setters (`V: TryInto<T>`) replace the conversion
/// error with "conversion to `T` for cvm_id failed". This pass keeps it, as
/// progenitor already does for bodies: the setter requires the error to be
/// `Display` and reports `cvm_id: <error>`, so an invalid ID reads
/// `cvm_id: invalid CVM reference "…": expected …`.
struct ExplainConversions;

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
    fn invalid_json_is_an_error_not_a_panic() {
        let overlay = br#"{"overlay": "1.0.0", "info": {"title": "t", "version": "1"}, "actions": [{"target": "$", "update": {}}]}"#;
        let err = generate_from_bytes(b"{\"openapi\": ", overlay).unwrap_err();
        assert!(
            err.to_string().starts_with("openapi.json#: not valid JSON"),
            "{err}"
        );
    }

    #[test]
    fn a_panic_becomes_its_message() {
        assert_eq!(quietly(|| panic!("boom")).unwrap_err(), "boom");
        assert_eq!(quietly(|| 3), Ok(3));
    }

    #[test]
    fn send_is_wrapped_and_api_version_dropped() {
        let mut file: syn::File = syn::parse_quote! {
            impl<'a> ListKms<'a> {
                pub async fn send(self) -> Result<ResponseValue<types::KmsList>, Error<ByteStream>> {
                    let mut header_map = HeaderMap::with_capacity(1usize);
                    header_map.append(HeaderName::from_static("api-version"), HeaderValue::from_static(Client::api_version()));
                    todo()
                }
            }
        };
        Shape.visit_file_mut(&mut file);
        ExplainConversions.visit_file_mut(&mut file);
        let code = prettyplease::unparse(&file);
        assert!(!code.contains("api-version"), "{code}");
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
        ExplainConversions.visit_file_mut(&mut file);
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
        add_paging_fields(&mut file);
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
}
