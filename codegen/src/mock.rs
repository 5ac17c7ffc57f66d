//! Typed `httpmock` helpers, generated from the same normalized spec and
//! with the same settings as the client, so that a mock is written with the
//! types the client returns.

use std::collections::HashMap;

use progenitor::Generator;
use quote::{format_ident, ToTokens};
use syn::punctuated::Punctuated;
use syn::visit_mut::VisitMut;

use crate::generate::{openapi, quietly, settings};
use crate::normalize::{Normalized, ERROR_BODY};
use crate::SpecError;

/// Rust source of the mock helpers (progenitor's `Generator::httpmock`,
/// reshaped as the comment on `MockShape` says): a module `operations` with
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
    MockShape::new(normalized).visit_file_mut(&mut file);
    Ok(prettyplease::unparse(&file))
}

/// The edits to progenitor's mock code:
/// - a query parameter is matched as the client encodes it (progenitor
///   compares with `to_string()`, which does not compile for arrays and
///   differs from the wire form for timestamps): every value of an array,
///   RFC 3339 for a timestamp, the serde name for an enum;
/// - a path parameter's value is matched literally (progenitor splices it
///   into a regex unescaped);
/// - `client_error` and `server_error` take the typed error body
///   (`types::ApiErrorBody`) instead of raw JSON: the normalizer declares it
///   for every error range, as `*/*` so that the client reads it itself;
/// - each operation's `When`, `Then` and `MockServerExt` method say which
///   request they mock.
struct MockShape {
    /// `list_kms` → `GET /api/v1/kms`.
    requests: HashMap<String, String>,
    /// The `impl` block being visited: `ListKmsWhen`, `MockServerExt`, …
    self_ty: String,
    /// The `multipart/form-data` operations, by name.
    forms: Vec<String>,
}

impl MockShape {
    fn new(normalized: &Normalized) -> Self {
        let requests = normalized
            .context
            .operations
            .iter()
            .map(|op| {
                let request = format!("{} {}", op.method.to_uppercase(), op.path);
                (op.name.clone(), request)
            })
            .collect();
        let context = &normalized.context;
        let forms = context
            .forms
            .iter()
            .filter_map(|form| {
                let op = context
                    .operations
                    .iter()
                    .find(|o| o.operation_id == form.operation_id)?;
                Some(op.name.clone())
            })
            .collect();
        MockShape {
            requests,
            self_ty: String::new(),
            forms,
        }
    }

    /// The operation a `ListKmsWhen`/`ListKmsThen` belongs to, and its request.
    fn operation_of(&self, type_name: &str, suffix: &str) -> Option<(String, &str)> {
        let pascal = type_name.strip_suffix(suffix)?;
        let name = snake_case(pascal);
        let request = self.requests.get(&name)?;
        Some((name, request))
    }
}

impl VisitMut for MockShape {
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
    }

    fn visit_item_impl_mut(&mut self, item: &mut syn::ItemImpl) {
        self.self_ty = item.self_ty.to_token_stream().to_string();
        // A multipart body is no JSON: progenitor's JSON body matcher would
        // never match it, so a form operation's `When` has none.
        let form = self
            .self_ty
            .strip_suffix("When")
            .is_some_and(|pascal| self.forms.contains(&snake_case(pascal)));
        if form {
            item.items
                .retain(|i| !matches!(i, syn::ImplItem::Fn(f) if f.sig.ident == "body"));
        }
        syn::visit_mut::visit_item_impl_mut(self, item);
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
            }
        }
    }

    fn visit_impl_item_fn_mut(&mut self, f: &mut syn::ImplItemFn) {
        let name = f.sig.ident.to_string();
        if self.self_ty.ends_with("Then") {
            if matches!(name.as_str(), "client_error" | "server_error") {
                type_error_body(f);
            } else {
                bytes_answer(f);
            }
        }
        if self.self_ty.ends_with("When") {
            accept_id_text(f);
        }
        syn::visit_mut::visit_impl_item_fn_mut(self, f);
    }

    fn visit_expr_mut(&mut self, expr: &mut syn::Expr) {
        if self.self_ty.ends_with("When") {
            if let syn::Expr::MethodCall(call) = expr {
                if call.method == "query_param" && is_self_0(&call.receiver) {
                    if let (Some(name), Some(value)) = (call.args.first(), call.args.get(1)) {
                        if is_to_string_of_value(value) {
                            *expr = syn::parse_quote!(super::query_param(self.0, #name, &value));
                            return;
                        }
                    }
                }
            }
        }
        syn::visit_mut::visit_expr_mut(self, expr);
    }

    fn visit_macro_mut(&mut self, mac: &mut syn::Macro) {
        if !(self.self_ty.ends_with("When") && mac.path.is_ident("format")) {
            return;
        }
        let Ok(mut args) =
            mac.parse_body_with(Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated)
        else {
            return;
        };
        let mut changed = false;
        for arg in args.iter_mut().skip(1) {
            if is_to_string_of_value(arg) {
                *arg = syn::parse_quote!(regex::escape(&value.to_string()));
                changed = true;
            }
        }
        if changed {
            mac.tokens = args.into_token_stream();
        }
    }
}

/// A success answer progenitor sends as JSON although the operation answers
/// bytes (`Raw`: the byte answers of `normalize::answers`) takes the bytes
/// and their content type: `fn ok(self, value: ::serde_json::Value)` →
/// `fn ok(self, content_type: &str, value: impl AsRef<[u8]>)`, sent with
/// `.body(value)`.
fn bytes_answer(f: &mut syn::ImplItemFn) {
    let Some(value) = f.sig.inputs.iter_mut().find_map(|input| match input {
        syn::FnArg::Typed(arg)
            if arg.ty.to_token_stream().to_string() == ":: serde_json :: Value" =>
        {
            Some(arg)
        }
        _ => None,
    }) else {
        return;
    };
    *value.ty = syn::parse_quote!(impl AsRef<[u8]>);
    let at = f.sig.inputs.len() - 1;
    f.sig
        .inputs
        .insert(at, syn::parse_quote!(content_type: &str));
    let block = f.block.to_token_stream().to_string();
    let block = block
        .replace("\"application/json\"", "content_type")
        .replace("json_body (value)", "body (value)");
    if let Ok(edited) = syn::parse_str(&block) {
        f.block = edited;
    }
}

/// `fn client_error(self, status: u16, value: ::serde_json::Value)` that
/// sends `.json_body(value)` becomes `value: &types::ApiErrorBody` sent with
/// `.json_body_obj(value)`.
fn type_error_body(f: &mut syn::ImplItemFn) {
    let body_type = format_ident!("{ERROR_BODY}");
    let mut typed = false;
    for input in &mut f.sig.inputs {
        if let syn::FnArg::Typed(arg) = input {
            let is_value = matches!(&*arg.pat, syn::Pat::Ident(p) if p.ident == "value");
            if is_value && arg.ty.to_token_stream().to_string() == ":: serde_json :: Value" {
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
}

/// A matcher taking `value: &crate::ids::X` takes anything the client's
/// setter takes (`"cvm_x"`, `&cvm.id`, the ID itself): `V: TryInto<X>`. An
/// ID the client would refuse can never be matched, so it panics there, at
/// the test's own line, with the parse error.
fn accept_id_text(f: &mut syn::ImplItemFn) {
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
        let inner = reference.elem.to_token_stream().to_string();
        if is_value && inner.starts_with("crate :: ids ::") {
            id_type = Some((*reference.elem).clone());
            *arg.ty = syn::parse_quote!(V);
        }
    }
    let Some(id_type) = id_type else {
        return;
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
    expr.to_token_stream().to_string() == "self . 0"
}

/// `value.to_string()`
fn is_to_string_of_value(expr: &syn::Expr) -> bool {
    expr.to_token_stream().to_string() == "value . to_string ()"
}

/// `ListKms` → `list_kms`.
fn snake_case(pascal: &str) -> String {
    let mut out = String::with_capacity(pascal.len() + 4);
    for c in pascal.chars() {
        if c.is_ascii_uppercase() {
            if !out.is_empty() {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(file: &mut syn::File) -> String {
        let mut shape = MockShape {
            requests: HashMap::from([("list_apps".to_string(), "GET /api/v1/apps".to_string())]),
            self_ty: String::new(),
            forms: Vec::new(),
        };
        shape.visit_file_mut(file);
        prettyplease::unparse(file)
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
        let code = shape(&mut file);
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
        let code = shape(&mut file);
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
        let code = shape(&mut file);
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
        let code = shape(&mut file);
        assert_eq!(code.matches("`GET /api/v1/apps`").count(), 3, "{code}");
        assert_eq!(
            code.matches("[`Client::list_apps`](crate::Client::list_apps)")
                .count(),
            3,
            "{code}"
        );
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
    fn snake_case_undoes_pascal_case() {
        assert_eq!(snake_case("ListKms"), "list_kms");
        assert_eq!(snake_case("GetCvmStatusBatch"), "get_cvm_status_batch");
    }
}
