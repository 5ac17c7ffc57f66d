//! Typed `httpmock` helpers, generated from the same normalized spec and
//! with the same settings as the client, so that a mock is written with the
//! types the client returns.

use std::collections::HashMap;

use progenitor::Generator;
use quote::format_ident;
use syn::visit_mut::VisitMut;

use crate::generate::{openapi, quietly, settings};
use crate::normalize::{pascal_case, Normalized, ERROR_BODY};
use crate::operations::{entry, Version};
use crate::passes::{last_segment, path_is, path_starts_with};
use crate::rewrites::{Fires, Rewrite};
use crate::SpecError;

/// Rust source of the mock helpers (progenitor's `Generator::httpmock`,
/// reshaped by [`MOCK_REWRITES`]): a module `operations` with
/// a `When` and a `Then` per operation, and the trait `MockServerExt`.
///
/// The code expects to sit in a module of the `phala-cloud` crate next to a
/// `query_param(when, name, value)` function that matches a query parameter
/// the way the client encodes it, with the optional dependencies `httpmock`
/// and `regex`.
pub fn generate_mock(normalized: &Normalized) -> Result<String, SpecError> {
    let openapi = openapi(normalized)?;
    let mut generator = Generator::new(&settings());
    let tokens = quietly(|| generator.httpmock(&openapi, "crate"))
        .map_err(|panic| {
            SpecError::at(
                "",
                format!("progenitor's mock generator panicked on the normalized spec: {panic}"),
            )
        })?
        .map_err(|e| {
            SpecError::at(
                "",
                format!("progenitor's mock generator refused the normalized spec: {e}"),
            )
        })?;
    let mut file: syn::File = syn::parse2(tokens).map_err(|e| {
        SpecError::at(
            "",
            format!("progenitor produced mock code that does not parse: {e}"),
        )
    })?;
    crate::rewrites::run(MOCK_REWRITES, &mut file, normalized)?;
    Ok(prettyplease::unparse(&file))
}

/// The rewrites of progenitor's mock code, in the order they run; each
/// gives how often it fired and `generate_mock` checks it, as for
/// the client's.
pub const MOCK_REWRITES: &[Rewrite] = &[
    Rewrite {
        name: "mocks_say_which_request",
        expected: |cx| Fires::Exactly(3 * cx.operations.len()),
        apply: |file, n| Ok(document_mocks(file, &requests(n))),
    },
    Rewrite {
        name: "forms_have_no_json_body_matcher",
        expected: |cx| Fires::Exactly(cx.forms.len()),
        apply: |file, n| Ok(no_json_body_for_forms(file, n)),
    },
    Rewrite {
        name: "typed_error_bodies",
        expected: |cx| Fires::Exactly(2 * cx.operations.len()),
        apply: |file, _| Ok(on_fns(file, "Then", type_error_body)),
    },
    Rewrite {
        name: "byte_answers_take_bytes",
        expected: |cx| Fires::Exactly(cx.byte_answers.len()),
        apply: |file, _| Ok(on_fns(file, "Then", bytes_answer)),
    },
    Rewrite {
        name: "id_matchers_take_text",
        expected: |_| Fires::AtLeast(1),
        apply: |file, _| Ok(on_fns(file, "When", accept_id_text)),
    },
    Rewrite {
        name: "query_parameters_as_the_client_encodes_them",
        expected: |_| Fires::AtLeast(1),
        apply: |file, _| {
            let mut pass = EncodeQuery(0);
            visit_impls(file, "When", &mut pass);
            Ok(pass.0)
        },
    },
    Rewrite {
        name: "mock_paths_lose_version_marks",
        expected: crate::rewrites::per_versioned_sibling,
        apply: |file, _| Ok(on_fns(file, "When", crate::passes::mock_paths_lose_marks)),
    },
    Rewrite {
        name: "mocks_match_the_pinned_version",
        expected: |cx| {
            let pinned = cx
                .operations
                .iter()
                .filter(|o| entry(&o.name).is_some_and(|e| e.version.is_some()))
                .count();
            Fires::Exactly(pinned)
        },
        apply: |file, n| Ok(match_pinned_versions(file, n)),
    },
    Rewrite {
        name: "path_parameters_escaped",
        expected: |_| Fires::AtLeast(1),
        apply: |file, _| {
            let mut pass = EscapePath(0);
            visit_impls(file, "When", &mut pass);
            Ok(pass.0)
        },
    },
];

/// `list_kms` → `GET /api/v1/kms`.
fn requests(normalized: &Normalized) -> HashMap<String, String> {
    normalized
        .context
        .operations
        .iter()
        .map(|op| {
            let path = crate::additions::wire_path(&op.path);
            let request = format!("{} {path}", op.method.to_uppercase());
            (op.name.clone(), request)
        })
        .collect()
}

/// The `When` of each operation the operation table pins to a version
/// matches that version's `X-Phala-Version` (a versioned sibling's mock and
/// its base's, on one path, each get their own requests); gives how many.
fn match_pinned_versions(file: &mut syn::File, normalized: &Normalized) -> usize {
    let versions: HashMap<String, syn::Expr> = normalized
        .context
        .operations
        .iter()
        .filter_map(|op| {
            let version: syn::Expr = match entry(&op.name)?.version? {
                Version::Spec => syn::parse_quote!(crate::API_VERSION),
                Version::Of(v) => syn::parse_quote!(#v),
            };
            Some((format!("{}When", pascal_case(&op.name)), version))
        })
        .collect();
    on_impls(file, "When", |imp| {
        let Some(version) =
            last_segment(&imp.self_ty).and_then(|t| versions.get(&t.ident.to_string()))
        else {
            return 0;
        };
        imp.items
            .iter_mut()
            .filter_map(|item| match item {
                syn::ImplItem::Fn(f) => Some(f),
                _ => None,
            })
            .map(|f| usize::from(crate::passes::mock_matches_version(f, version)))
            .sum()
    })
}

/// Runs `edit` on every inherent `impl` of a type named `…<suffix>`
/// (`ListKmsWhen`), in `file` and its modules; gives the sum of its counts.
fn on_impls(
    file: &mut syn::File,
    suffix: &str,
    mut edit: impl FnMut(&mut syn::ItemImpl) -> usize,
) -> usize {
    fn walk(
        items: &mut [syn::Item],
        suffix: &str,
        edit: &mut dyn FnMut(&mut syn::ItemImpl) -> usize,
    ) -> usize {
        let mut count = 0;
        for item in items {
            match item {
                syn::Item::Impl(imp) if imp.trait_.is_none() => {
                    let named = last_segment(&imp.self_ty)
                        .is_some_and(|s| s.ident.to_string().ends_with(suffix));
                    if named {
                        count += edit(imp);
                    }
                }
                syn::Item::Mod(m) => {
                    if let Some((_, items)) = &mut m.content {
                        count += walk(items, suffix, edit);
                    }
                }
                _ => {}
            }
        }
        count
    }
    walk(&mut file.items, suffix, &mut edit)
}

/// Runs `pass` over the `impl`s [`on_impls`] visits.
fn visit_impls(file: &mut syn::File, suffix: &str, pass: &mut impl VisitMut) {
    on_impls(file, suffix, |imp| {
        pass.visit_item_impl_mut(imp);
        0
    });
}

/// Runs `edit` on every method of the `impl`s [`on_impls`] visits; gives
/// how many it changed.
fn on_fns(file: &mut syn::File, suffix: &str, edit: fn(&mut syn::ImplItemFn) -> bool) -> usize {
    on_impls(file, suffix, |imp| {
        let mut changed = 0;
        for item in &mut imp.items {
            if let syn::ImplItem::Fn(f) = item {
                changed += usize::from(edit(f));
            }
        }
        changed
    })
}

/// Each operation's `When`, `Then` and `MockServerExt` method say which
/// request they mock; gives how many it documented.
fn document_mocks(file: &mut syn::File, requests: &HashMap<String, String>) -> usize {
    let mut docs = DocumentMocks {
        requests,
        types: requests
            .keys()
            .map(|name| (pascal_case(name), name.as_str()))
            .collect(),
        documented: 0,
    };
    docs.visit_file_mut(file);
    docs.documented
}

struct DocumentMocks<'a> {
    /// `list_kms` → `GET /api/v1/kms`.
    requests: &'a HashMap<String, String>,
    /// `ListKms` → `list_kms`.
    types: HashMap<String, &'a str>,
    documented: usize,
}

impl DocumentMocks<'_> {
    /// The operation a `ListKmsWhen`/`ListKmsThen` belongs to, and its request.
    fn operation_of(&self, type_name: &str, suffix: &str) -> Option<(&str, &str)> {
        let name = *self.types.get(type_name.strip_suffix(suffix)?)?;
        Some((name, self.requests.get(name)?))
    }
}

impl VisitMut for DocumentMocks<'_> {
    fn visit_item_struct_mut(&mut self, item: &mut syn::ItemStruct) {
        let ty = item.ident.to_string();
        let doc = if let Some((name, request)) = self.operation_of(&ty, "When") {
            format!(
                " Matches a `{request}` request ([`Client::{name}`](crate::Client::{name})); \
                 each method adds a condition on one parameter."
            )
        } else if let Some((name, request)) = self.operation_of(&ty, "Then") {
            format!(
                " The answer to a `{request}` request ([`Client::{name}`](crate::Client::{name})), \
                 typed as the client decodes it."
            )
        } else {
            return;
        };
        item.attrs.insert(0, syn::parse_quote!(#[doc = #doc]));
        self.documented += 1;
    }

    fn visit_item_trait_mut(&mut self, item: &mut syn::ItemTrait) {
        for trait_item in &mut item.items {
            let syn::TraitItem::Fn(f) = trait_item else {
                continue;
            };
            let name = f.sig.ident.to_string();
            if let Some(request) = self.requests.get(&name) {
                let doc = format!(
                    " Mocks `{request}` ([`Client::{name}`](crate::Client::{name})): \
                     `config_fn` sets what the request must match and what the server answers."
                );
                f.attrs.insert(0, syn::parse_quote!(#[doc = #doc]));
                self.documented += 1;
            }
        }
    }
}

/// A multipart body is no JSON: progenitor's JSON body matcher would never
/// match it, so a form operation's `When` has none. Gives how many
/// matchers it dropped.
fn no_json_body_for_forms(file: &mut syn::File, normalized: &Normalized) -> usize {
    let context = &normalized.context;
    let forms: Vec<String> = context
        .forms
        .iter()
        .filter_map(|form| {
            let op = context
                .operations
                .iter()
                .find(|o| o.operation_id == form.operation_id)?;
            Some(format!("{}When", pascal_case(&op.name)))
        })
        .collect();
    on_impls(file, "When", |imp| {
        let form = last_segment(&imp.self_ty).is_some_and(|s| forms.iter().any(|f| s.ident == f));
        if !form {
            return 0;
        }
        let before = imp.items.len();
        imp.items
            .retain(|i| !matches!(i, syn::ImplItem::Fn(f) if f.sig.ident == "body"));
        before - imp.items.len()
    })
}

/// A query parameter is matched as the client encodes it: progenitor
/// compares `self.0.query_param(name, value.to_string())`, which does not
/// compile for arrays and differs from the wire form for timestamps; the
/// crate's `query_param(when, name, value)` matches every value of an
/// array, RFC 3339 for a timestamp, the serde name for an enum.
struct EncodeQuery(usize);

impl VisitMut for EncodeQuery {
    fn visit_expr_mut(&mut self, expr: &mut syn::Expr) {
        if let syn::Expr::MethodCall(call) = expr {
            if call.method == "query_param" && is_self_0(&call.receiver) {
                if let (Some(name), Some(value)) = (call.args.first(), call.args.get(1)) {
                    if is_to_string_of_value(value) {
                        *expr = syn::parse_quote!(super::query_param(self.0, #name, &value));
                        self.0 += 1;
                        return;
                    }
                }
            }
        }
        syn::visit_mut::visit_expr_mut(self, expr);
    }
}

/// A path parameter's value is matched literally: progenitor splices
/// `value.to_string()` into the path's regex (`format!("^/…/{}$", …)`)
/// unescaped.
struct EscapePath(usize);

impl VisitMut for EscapePath {
    fn visit_macro_mut(&mut self, mac: &mut syn::Macro) {
        self.0 += crate::passes::edit_format_args(mac, |i, arg| {
            let value = i > 0 && is_to_string_of_value(arg);
            if value {
                *arg = syn::parse_quote!(regex::escape(&value.to_string()));
            }
            value
        });
    }
}

/// A success answer progenitor sends as JSON although the operation answers
/// bytes (`Raw`: the byte answers of `normalize::answers`) takes the bytes
/// and their content type: `fn ok(self, value: ::serde_json::Value)` →
/// `fn ok(self, content_type: &str, value: impl AsRef<[u8]>)`, sent with
/// `.body(value)` under that content type. The error answers are
/// [`type_error_body`]'s. Whether it changed `f`.
fn bytes_answer(f: &mut syn::ImplItemFn) -> bool {
    if is_error_answer(f) {
        return false;
    }
    let Some(value) = f.sig.inputs.iter_mut().find_map(|input| match input {
        syn::FnArg::Typed(arg) if is_json_value(&arg.ty) => Some(arg),
        _ => None,
    }) else {
        return false;
    };
    *value.ty = syn::parse_quote!(impl AsRef<[u8]>);
    let at = f.sig.inputs.len() - 1;
    f.sig
        .inputs
        .insert(at, syn::parse_quote!(content_type: &str));
    SendBytes.visit_block_mut(&mut f.block);
    true
}

/// `"application/json"` → `content_type`, `.json_body(value)` → `.body(value)`.
struct SendBytes;

impl VisitMut for SendBytes {
    fn visit_expr_mut(&mut self, expr: &mut syn::Expr) {
        if let syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s),
            ..
        }) = expr
        {
            if s.value() == "application/json" {
                *expr = syn::parse_quote!(content_type);
                return;
            }
        }
        syn::visit_mut::visit_expr_mut(self, expr);
    }

    fn visit_expr_method_call_mut(&mut self, call: &mut syn::ExprMethodCall) {
        if call.method == "json_body" {
            call.method = syn::Ident::new("body", call.method.span());
        }
        syn::visit_mut::visit_expr_method_call_mut(self, call);
    }
}

/// `client_error` or `server_error`.
fn is_error_answer(f: &syn::ImplItemFn) -> bool {
    f.sig.ident == "client_error" || f.sig.ident == "server_error"
}

/// `::serde_json::Value`.
fn is_json_value(ty: &syn::Type) -> bool {
    matches!(ty, syn::Type::Path(p) if p.qself.is_none() && path_is(&p.path, &["serde_json", "Value"]))
}

/// `fn client_error(self, status: u16, value: ::serde_json::Value)` that
/// sends `.json_body(value)` becomes `value: &types::ApiErrorBody` sent with
/// `.json_body_obj(value)`: the normalizer declares that body for every
/// error range, as `*/*` so that the client reads it itself. Whether it
/// changed `f`.
fn type_error_body(f: &mut syn::ImplItemFn) -> bool {
    if !is_error_answer(f) {
        return false;
    }
    let body_type = format_ident!("{ERROR_BODY}");
    let mut typed = false;
    for input in &mut f.sig.inputs {
        if let syn::FnArg::Typed(arg) = input {
            let is_value = matches!(&*arg.pat, syn::Pat::Ident(p) if p.ident == "value");
            if is_value && is_json_value(&arg.ty) {
                *arg.ty = syn::parse_quote!(&types::#body_type);
                typed = true;
            }
        }
    }
    if typed {
        RenameCall {
            from: "json_body",
            to: "json_body_obj",
        }
        .visit_block_mut(&mut f.block);
    }
    typed
}

/// A matcher taking `value: &crate::ids::X` takes anything the client's
/// setter takes (`"cvm_x"`, `&cvm.id`, the ID itself): `V: TryInto<X>`. An
/// ID the client would refuse can never be matched, so it panics there, at
/// the test's own line, with the parse error. Whether it changed `f`.
fn accept_id_text(f: &mut syn::ImplItemFn) -> bool {
    let name = f.sig.ident.to_string();
    let mut id_type = None;
    for input in &mut f.sig.inputs {
        let syn::FnArg::Typed(arg) = input else {
            continue;
        };
        let is_value = matches!(&*arg.pat, syn::Pat::Ident(p) if p.ident == "value");
        let syn::Type::Reference(reference) = &*arg.ty else {
            continue;
        };
        let is_id = matches!(&*reference.elem, syn::Type::Path(p)
            if p.qself.is_none() && path_starts_with(&p.path, &["crate", "ids"]));
        if is_value && is_id {
            id_type = Some((*reference.elem).clone());
            *arg.ty = syn::parse_quote!(V);
        }
    }
    let Some(id_type) = id_type else {
        return false;
    };
    f.sig.generics = syn::parse_quote!(<V>);
    f.sig.generics.where_clause = Some(syn::parse_quote! {
        where V: ::std::convert::TryInto<#id_type>, V::Error: ::std::fmt::Display
    });
    let convert: syn::Stmt = syn::parse_quote! {
        let value: &#id_type = &crate::ids::param(#name, value).unwrap_or_else(|e| panic!("{e}"));
    };
    f.block.stmts.insert(0, convert);
    f.attrs.push(syn::parse_quote!(#[track_caller]));
    true
}

/// Renames every method call `from` to `to`.
struct RenameCall {
    from: &'static str,
    to: &'static str,
}

impl VisitMut for RenameCall {
    fn visit_expr_method_call_mut(&mut self, call: &mut syn::ExprMethodCall) {
        if call.method == self.from {
            call.method = syn::Ident::new(self.to, call.method.span());
        }
        syn::visit_mut::visit_expr_method_call_mut(self, call);
    }
}

/// `self.0`
fn is_self_0(expr: &syn::Expr) -> bool {
    matches!(expr, syn::Expr::Field(field)
        if matches!(&field.member, syn::Member::Unnamed(i) if i.index == 0)
            && matches!(&*field.base, syn::Expr::Path(p) if p.path.is_ident("self")))
}

/// `value.to_string()`
fn is_to_string_of_value(expr: &syn::Expr) -> bool {
    matches!(expr, syn::Expr::MethodCall(call)
        if call.method == "to_string"
            && call.args.is_empty()
            && matches!(&*call.receiver, syn::Expr::Path(p) if p.path.is_ident("value")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the mock rewrite `name` on `file` for a spec of `list_apps`
    /// (`GET /api/v1/apps`, a form): the code, and how often it fired.
    fn fire(name: &str, file: &mut syn::File) -> (String, usize) {
        use crate::normalize::{Context, FormOperation, OperationName};
        let normalized = Normalized {
            spec: serde_json::json!({}),
            context: Context {
                operations: vec![OperationName {
                    operation_id: "list_apps_api".into(),
                    method: "get".into(),
                    path: "/api/v1/apps".into(),
                    name: "list_apps".into(),
                }],
                forms: vec![FormOperation {
                    operation_id: "list_apps_api".into(),
                    pointer: String::new(),
                    fields: Vec::new(),
                }],
                ..Context::default()
            },
        };
        let rewrite = MOCK_REWRITES.iter().find(|r| r.name == name).unwrap();
        let fired = (rewrite.apply)(file, &normalized).unwrap();
        (prettyplease::unparse(file), fired)
    }

    #[test]
    fn query_parameters_are_matched_as_the_client_encodes_them() {
        let mut file: syn::File = syn::parse_quote! {
            impl ListAppsWhen {
                pub fn status<'a, T>(self, value: T) -> Self
                where
                    T: Into<Option<&'a ::std::vec::Vec<::std::string::String>>>,
                {
                    if let Some(value) = value.into() {
                        Self(self.0.query_param("status", value.to_string()))
                    } else {
                        Self(self.0.query_param_missing("status"))
                    }
                }
            }
        };
        let (code, fired) = fire("query_parameters_as_the_client_encodes_them", &mut file);
        assert_eq!(fired, 1);
        assert!(
            code.contains(r#"Self(super::query_param(self.0, "status", &value))"#),
            "{code}"
        );
        assert!(!code.contains("to_string"), "{code}");
    }

    #[test]
    fn path_parameters_are_escaped() {
        let mut file: syn::File = syn::parse_quote! {
            impl GetAppWhen {
                pub fn app_id(self, value: &str) -> Self {
                    let re = regex::Regex::new(&format!("^/api/v1/apps/{}$", value.to_string())).unwrap();
                    Self(self.0.path_matches(re))
                }
            }
        };
        let (code, fired) = fire("path_parameters_escaped", &mut file);
        assert_eq!(fired, 1);
        assert!(
            code.contains(r#"format!("^/api/v1/apps/{}$", regex::escape(& value.to_string()))"#),
            "{code}"
        );
    }

    #[test]
    fn error_answers_take_the_typed_error_body() {
        let mut file: syn::File = syn::parse_quote! {
            impl ListAppsThen {
                pub fn ok(self, value: &::serde_json::Value) -> Self {
                    Self(self.0.status(200u16).json_body_obj(value))
                }
                pub fn client_error(self, status: u16, value: ::serde_json::Value) -> Self {
                    assert_eq!(status / 100u16, 4u16);
                    Self(self.0.status(status).header("content-type", "application/json").json_body(value))
                }
            }
        };
        let (code, fired) = fire("typed_error_bodies", &mut file);
        assert_eq!(fired, 1);
        assert!(
            code.contains("pub fn client_error(self, status: u16, value: &types::ApiErrorBody)"),
            "{code}"
        );
        assert!(code.contains(".json_body_obj(value)"), "{code}");
        assert!(!code.contains(".json_body(value)"), "{code}");
        assert!(
            code.contains("pub fn ok(self, value: &::serde_json::Value)"),
            "{code}"
        );
    }

    #[test]
    fn operations_say_which_request_they_mock() {
        let mut file: syn::File = syn::parse_quote! {
            pub struct ListAppsWhen(::httpmock::When);
            pub struct ListAppsThen(::httpmock::Then);
            pub trait MockServerExt {
                fn list_apps<F>(&self, config_fn: F) -> ::httpmock::Mock<'_>
                where
                    F: FnOnce(operations::ListAppsWhen, operations::ListAppsThen);
            }
        };
        let (code, fired) = fire("mocks_say_which_request", &mut file);
        assert_eq!(fired, 3);
        assert_eq!(code.matches("`GET /api/v1/apps`").count(), 3, "{code}");
        assert_eq!(
            code.matches("[`Client::list_apps`](crate::Client::list_apps)")
                .count(),
            3,
            "{code}"
        );
    }

    #[test]
    fn byte_answers_take_bytes_and_ids_take_text_and_forms_no_json_body() {
        let mut file: syn::File = syn::parse_quote! {
            pub mod operations {
                impl ListAppsThen {
                    pub fn ok(self, value: ::serde_json::Value) -> Self {
                        Self(self.0.status(200u16).header("content-type", "application/json").json_body(value))
                    }
                    pub fn server_error(self, status: u16, value: ::serde_json::Value) -> Self {
                        Self(self.0.status(status).json_body(value))
                    }
                }
                impl ListAppsWhen {
                    pub fn cvm_id(self, value: &crate::ids::CvmRef) -> Self {
                        Self(self.0.path_matches(value))
                    }
                    pub fn name(self, value: &str) -> Self { self }
                    pub fn body(self, value: &types::Body) -> Self { self }
                }
            }
        };
        let (_, fired) = fire("byte_answers_take_bytes", &mut file);
        assert_eq!(fired, 1, "the error answers are not byte answers");
        let (_, fired) = fire("id_matchers_take_text", &mut file);
        assert_eq!(fired, 1);
        let (code, fired) = fire("forms_have_no_json_body_matcher", &mut file);
        assert_eq!(fired, 1);
        crate::passes::assert_generates(
            &file,
            &[
                "pub fn ok(self, content_type: &str, value: impl AsRef<[u8]>) -> Self { \
                 Self(self.0.status(200u16).header(\"content-type\", content_type).body(value)) }",
                "pub fn server_error(self, status: u16, value: ::serde_json::Value)",
                "pub fn cvm_id<V>(self, value: V) -> Self where V: ::std::convert::TryInto<crate::ids::CvmRef>",
                "pub fn name(self, value: &str)",
            ],
        );
        assert!(!code.contains("pub fn body("), "{code}");
    }

    #[test]
    fn the_vendored_spec_gives_documented_typed_mocks() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi.json");
        let spec = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        let overlay = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi.overlay.json");
        let overlay = crate::overlay::Overlay::parse(&std::fs::read(overlay).unwrap()).unwrap();
        let normalized = crate::normalize::normalize(spec, &overlay).unwrap();
        let code = generate_mock(&normalized).unwrap();
        let operations = normalized.context.operations.len();
        assert_eq!(code.matches("/// Matches a `").count(), operations);
        assert_eq!(code.matches("/// The answer to a `").count(), operations);
        assert_eq!(code.matches("/// Mocks `").count(), operations);
        assert_eq!(
            code.matches("pub fn client_error(self, status: u16, value: &types::ApiErrorBody)")
                .count(),
            operations
        );
        assert!(code.contains(r#"super::query_param(self.0, "operation_types", &value)"#));
        assert!(
            !code.contains(".query_param("),
            "a query parameter compared by to_string"
        );
        // Raw answers (`*/*`) take owned JSON; only the error ranges are raw,
        // and the byte answers, which take bytes.
        assert!(
            !code.contains("value: ::serde_json::Value"),
            "a raw answer is left"
        );
        assert!(
            code.contains("pub fn ok(self, content_type: &str, value: impl AsRef<[u8]>) -> Self"),
            "the raw quote's answer takes bytes"
        );
        let when = code.find("impl VerifyAttestationWhen {").unwrap();
        let end = when + code[when..].find("\n    }\n").unwrap();
        assert!(
            !code[when..end].contains("pub fn body("),
            "a form has no JSON body matcher"
        );
    }

    #[test]
    fn a_name_with_a_digit_after_an_underscore_is_found() {
        let requests = HashMap::from([("login_with_2fa".to_string(), "POST /2fa".to_string())]);
        let mut file: syn::File = syn::parse_quote! {
            pub struct LoginWith2faWhen(::httpmock::When);
        };
        assert_eq!(document_mocks(&mut file, &requests), 1);
    }
}
