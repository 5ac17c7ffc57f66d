//! Documentation for the builders progenitor and typify leave bare: every
//! request-builder setter says what its parameter is (the spec's or the
//! overlay's description), and every type-builder setter carries its
//! field's documentation.
//!
//! Why: progenitor documents a request builder's setters only when the
//! spec documents the parameter (most of this spec's are not), and typify
//! never documents a type builder's setters; rustdoc's `missing_docs` would
//! otherwise list hundreds of bare methods (`codegen/tests/docs.rs` checks
//! none is left). It expects progenitor's builder shape: `Client` methods
//! returning `builder::X`, setters named like their parameter
//! ([`setter_name`]), typify's `types::builder` mirroring `types`.

use std::collections::HashMap;

use serde_json::Value;

use crate::inspect::setter_name;
use crate::passes::{builder_name, is_client};
use crate::walk::METHODS;

/// Adds the documentation to `file`, the generated client, from `spec`, the
/// normalized spec it was generated from; gives how many methods it
/// documented.
pub(crate) fn document_builders(file: &mut syn::File, spec: &Value) -> usize {
    let parameters = parameter_docs(spec);
    let builders = builder_methods(file);
    let mut documented = 0;
    for item in &mut file.items {
        match item {
            syn::Item::Mod(m) if m.ident == "builder" => {
                for item in items_mut(m) {
                    if let syn::Item::Impl(imp) = item {
                        let method = impl_name(imp).and_then(|b| builders.get(&b));
                        if let Some(method) = method {
                            documented += document_request_builder(imp, method, &parameters);
                        }
                    }
                }
            }
            syn::Item::Mod(m) if m.ident == "types" => documented += document_types(m),
            _ => {}
        }
    }
    documented
}

/// `(operation, setter)` → what the parameter is.
type ParameterDocs = HashMap<(String, String), String>;

fn parameter_docs(spec: &Value) -> ParameterDocs {
    let mut docs = ParameterDocs::new();
    let paths = spec.get("paths").and_then(Value::as_object);
    for item in paths.into_iter().flat_map(|p| p.values()) {
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            let Some(name) = op.get("operationId").and_then(Value::as_str) else {
                continue;
            };
            let params = op.get("parameters").and_then(Value::as_array);
            for param in params.into_iter().flatten() {
                let Some(param_name) = param.get("name").and_then(Value::as_str) else {
                    continue;
                };
                if let Some(doc) = parameter_doc(param) {
                    docs.insert((name.to_string(), setter_name(param_name)), doc);
                }
            }
        }
    }
    docs
}

/// A parameter's description, whether it is required, and its server-side
/// default; `None` when the spec and the overlay say nothing about it.
fn parameter_doc(param: &Value) -> Option<String> {
    let schema = param.get("schema");
    let description = param
        .get("description")
        .or_else(|| schema.and_then(|s| s.get("description")))
        .and_then(Value::as_str)
        .filter(|d| !d.trim().is_empty())?;
    let mut doc = description.trim().to_string();
    if param.get("required").and_then(Value::as_bool) == Some(true) {
        doc.push_str("\n\nRequired: `send()` fails with `Error::InvalidRequest` until it is set.");
    } else if let Some(default) = schema.and_then(|s| s.get("default")) {
        doc.push_str(&format!("\n\nThe server's default: `{default}`."));
    }
    Some(doc)
}

/// Each request builder's operation: `ListApps` → `list_apps`, read from the
/// `Client` methods that return them.
fn builder_methods(file: &syn::File) -> HashMap<String, String> {
    let mut builders = HashMap::new();
    for item in &file.items {
        let syn::Item::Impl(imp) = item else { continue };
        if !is_client(&imp.self_ty) {
            continue;
        }
        for impl_item in &imp.items {
            let syn::ImplItem::Fn(f) = impl_item else {
                continue;
            };
            if let Some(builder) = builder_name(&f.sig) {
                builders.insert(builder.to_string(), f.sig.ident.to_string());
            }
        }
    }
    builders
}

fn items_mut(m: &mut syn::ItemMod) -> impl Iterator<Item = &mut syn::Item> {
    m.content.iter_mut().flat_map(|(_, items)| items.iter_mut())
}

/// The name of the type an inherent `impl` block is for.
fn impl_name(imp: &syn::ItemImpl) -> Option<String> {
    if imp.trait_.is_some() {
        return None;
    }
    match &*imp.self_ty {
        syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    }
}

fn document_request_builder(imp: &mut syn::ItemImpl, method: &str, docs: &ParameterDocs) -> usize {
    let mut documented = 0;
    for impl_item in &mut imp.items {
        let syn::ImplItem::Fn(f) = impl_item else {
            continue;
        };
        if !matches!(f.vis, syn::Visibility::Public(_)) || has_doc(&f.attrs) {
            continue;
        }
        let name = f.sig.ident.to_string();
        let doc = match name.as_str() {
            "new" => Some(format!(
                "A request with nothing set; [`Client::{method}`](super::Client::{method}) starts one."
            )),
            "body" => Some(format!(
                "Sets the request body: a [`{ty}`](super::{ty}), its builder, or anything that converts to one.",
                ty = body_type(f).unwrap_or_else(|| "types".into())
            )),
            "body_map" => Some(
                "Changes the request body through its builder, starting from what is set so far."
                    .to_string(),
            ),
            _ => docs.get(&(method.to_string(), name)).cloned(),
        };
        if let Some(doc) = doc {
            add_doc(&mut f.attrs, &doc);
            documented += 1;
        }
    }
    documented
}

/// `types::X` of a `body` setter's `V: TryInto<types::X>` bound.
fn body_type(f: &syn::ImplItemFn) -> Option<String> {
    let predicates = &f.sig.generics.where_clause.as_ref()?.predicates;
    predicates.iter().find_map(|p| {
        let syn::WherePredicate::Type(p) = p else {
            return None;
        };
        p.bounds.iter().find_map(|b| {
            let syn::TypeParamBound::Trait(t) = b else {
                return None;
            };
            let last = t.path.segments.last()?;
            if last.ident != "TryInto" {
                return None;
            }
            let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
                return None;
            };
            let syn::GenericArgument::Type(syn::Type::Path(target)) = args.args.first()? else {
                return None;
            };
            let segments: Vec<String> = target
                .path
                .segments
                .iter()
                .map(|s| s.ident.to_string())
                .collect();
            Some(segments.join("::"))
        })
    })
}

/// The type builders' setters get their field's documentation, and each
/// type's `builder()` says what it starts.
fn document_types(types: &mut syn::ItemMod) -> usize {
    let mut documented = 0;
    let mut field_docs: HashMap<(String, String), Vec<syn::Attribute>> = HashMap::new();
    for item in items_mut(types) {
        if let syn::Item::Struct(s) = item {
            for field in &s.fields {
                let Some(ident) = &field.ident else { continue };
                let docs: Vec<_> = field.attrs.iter().filter(|a| is_doc(a)).cloned().collect();
                field_docs.insert((s.ident.to_string(), ident.to_string()), docs);
            }
        }
    }
    for item in items_mut(types) {
        match item {
            syn::Item::Impl(imp) => {
                let Some(ty) = impl_name(imp) else { continue };
                for impl_item in &mut imp.items {
                    if let syn::ImplItem::Fn(f) = impl_item {
                        if f.sig.ident == "builder" && !has_doc(&f.attrs) {
                            add_doc(
                                &mut f.attrs,
                                &format!("A builder for a [`{ty}`], nothing set."),
                            );
                            documented += 1;
                        }
                    }
                }
            }
            syn::Item::Mod(m) if m.ident == "builder" => {
                for item in items_mut(m) {
                    let syn::Item::Impl(imp) = item else { continue };
                    let Some(ty) = impl_name(imp) else { continue };
                    for impl_item in &mut imp.items {
                        let syn::ImplItem::Fn(f) = impl_item else {
                            continue;
                        };
                        if !matches!(f.vis, syn::Visibility::Public(_)) || has_doc(&f.attrs) {
                            continue;
                        }
                        let field = f.sig.ident.to_string();
                        documented += 1;
                        match field_docs.get(&(ty.clone(), field.clone())) {
                            Some(docs) if !docs.is_empty() => f.attrs.extend(docs.iter().cloned()),
                            _ => add_doc(
                                &mut f.attrs,
                                &format!("Sets [`{ty}::{field}`](super::{ty}::{field})."),
                            ),
                        }
                    }
                }
            }
            _ => {}
        }
    }
    documented
}

fn is_doc(attr: &syn::Attribute) -> bool {
    attr.path().is_ident("doc")
}

fn has_doc(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(is_doc)
}

fn add_doc(attrs: &mut Vec<syn::Attribute>, doc: &str) {
    attrs.insert(0, syn::parse_quote!(#[doc = #doc]));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn setters_get_their_parameter_and_field_docs() {
        let spec = json!({"paths": {"/x/{cvm_id}": {"patch": {
            "operationId": "patch_cvm",
            "parameters": [
                {"name": "cvm_id", "in": "path", "required": true, "description": "The CVM."},
                {"name": "X-Prepare-Only", "in": "header", "schema": {"description": "Prepare only.", "default": "false"}},
                {"name": "quiet", "in": "query"}
            ]
        }}}});
        let mut file: syn::File = syn::parse_quote! {
            impl Client {
                pub fn patch_cvm(&self) -> builder::PatchCvm<'_> { builder::PatchCvm::new(self) }
            }
            pub mod builder {
                impl<'a> PatchCvm<'a> {
                    pub fn new(client: &'a super::Client) -> Self { todo() }
                    pub fn cvm_id<V>(mut self, value: V) -> Self { self }
                    pub fn x_prepare_only<V>(mut self, value: V) -> Self { self }
                    pub fn quiet<V>(mut self, value: V) -> Self { self }
                    pub fn body<V>(mut self, value: V) -> Self where V: std::convert::TryInto<types::UpdateCvmRequest> { self }
                    fn send_unmapped(self) {}
                }
            }
            pub mod types {
                pub struct Thing {
                    ///The thing's name
                    pub name: String,
                    pub size: u64,
                }
                impl Thing {
                    pub fn builder() -> builder::Thing { Default::default() }
                }
                pub mod builder {
                    impl Thing {
                        pub fn name<T>(mut self, value: T) -> Self { self }
                        pub fn size<T>(mut self, value: T) -> Self { self }
                    }
                }
            }
        };
        document_builders(&mut file, &spec);
        let code = prettyplease::unparse(&file);
        for expected in [
            "/**The CVM.\n\nRequired: `send()` fails",
            "/**Prepare only.\n\nThe server's default: `\"false\"`.*/",
            "///A request with nothing set; [`Client::patch_cvm`](super::Client::patch_cvm) starts one.",
            "///Sets the request body: a [`types::UpdateCvmRequest`](super::types::UpdateCvmRequest)",
            "///The thing's name\n            pub fn name",
            "///Sets [`Thing::size`](super::Thing::size).",
            "///A builder for a [`Thing`], nothing set.",
        ] {
            assert!(code.contains(expected), "{expected}\n{code}");
        }
        let before_quiet = code.split("pub fn quiet").next().unwrap_or_default();
        assert!(
            before_quiet.trim_end().ends_with('}'),
            "no description, no doc: {code}"
        );
    }
}
