//! `syn` passes over the `types` module progenitor's output holds (typify's
//! part): what a schema cannot tell typify. Each pass is one function, run
//! by [`crate::generate`] after progenitor, over the whole file.

mod open_enums;
mod setters;
mod unions;

pub(crate) use open_enums::open_answer_enums;
pub(crate) use setters::optional_setters_take_the_value;
pub(crate) use unions::{refuse_flattened_unions, union_accessors};

use quote::ToTokens;
use syn::visit_mut::VisitMut;

use crate::normalize::EXTRA_FIELD;

/// The items of the module `name` among `items`.
fn module<'a>(items: &'a [syn::Item], name: &str) -> Option<&'a [syn::Item]> {
    items.iter().find_map(|item| match item {
        syn::Item::Mod(m) if m.ident == name => m.content.as_ref().map(|c| c.1.as_slice()),
        _ => None,
    })
}

/// The items of the module `name` among `items`, to change.
fn module_mut<'a>(items: &'a mut [syn::Item], name: &str) -> Option<&'a mut Vec<syn::Item>> {
    items.iter_mut().find_map(|item| match item {
        syn::Item::Mod(m) if m.ident == name => m.content.as_mut().map(|c| &mut c.1),
        _ => None,
    })
}

/// The last segment of a type's path (`String` for `::std::string::String`).
fn last_segment(ty: &syn::Type) -> Option<&syn::PathSegment> {
    match ty {
        syn::Type::Path(p) if p.qself.is_none() => p.path.segments.last(),
        _ => None,
    }
}

/// `T` of `…::Name<T>`.
fn generic_of<'a>(ty: &'a syn::Type, name: &str) -> Option<&'a syn::Type> {
    let segment = last_segment(ty).filter(|s| s.ident == name)?;
    let syn::PathArguments::AngleBracketed(args) = &segment.arguments else {
        return None;
    };
    match args.args.first()? {
        syn::GenericArgument::Type(t) if args.args.len() == 1 => Some(t),
        _ => None,
    }
}

/// Two types written alike.
fn same_type(a: &syn::Type, b: &syn::Type) -> bool {
    a.to_token_stream().to_string() == b.to_token_stream().to_string()
}

/// Adds `paragraph` to an item's doc comment, after the doc it has.
fn append_doc(attrs: &mut Vec<syn::Attribute>, paragraph: &str) {
    let text = format!("\n\n{paragraph}");
    let at = attrs
        .iter()
        .rposition(|a| a.path().is_ident("doc"))
        .map_or(0, |i| i + 1);
    attrs.insert(at, syn::parse_quote!(#[doc = #text]));
}

/// The flattened map `keep_unknown_fields` gives a type, as typify leaves
/// it: undocumented, and counted as a required field — a type whose other
/// fields are all optional loses its `Default`, and a builder that is not
/// given the map fails with "no value supplied for extra". This documents
/// the map, derives `Default` again for those types and starts every
/// builder with an empty map.
pub(crate) fn finish_unknown_field_maps(file: &mut syn::File) {
    let Some(types) = module_mut(&mut file.items, "types") else {
        return;
    };
    if let Some(builders) = module_mut(types, "builder") {
        for item in builders.iter_mut() {
            if let syn::Item::Impl(imp) = item {
                EmptyMapByDefault.visit_item_impl_mut(imp);
            }
        }
    }
    for item in types.iter_mut() {
        let syn::Item::Struct(s) = item else { continue };
        let is_extra = |f: &syn::Field| f.ident.as_ref().is_some_and(|i| i == EXTRA_FIELD);
        let Some(extra) = s.fields.iter_mut().find(|f| is_extra(f)) else {
            continue;
        };
        if !extra.attrs.iter().any(|a| a.path().is_ident("doc")) {
            extra.attrs.insert(
                0,
                syn::parse_quote! {
                    #[doc = "Fields the API's spec does not list, kept as the server sent them and written back when this value is serialized."]
                },
            );
        }
        let optional = |f: &syn::Field| {
            serde_keys(&f.attrs)
                .iter()
                .any(|k| k == "default" || k == "skip_serializing_if")
        };
        if s.fields.iter().all(|f| is_extra(f) || optional(f)) {
            derive_default(&mut s.attrs);
        }
    }
}

/// `extra: Ok(Default::default())` in a builder's `Default`.
struct EmptyMapByDefault;

impl VisitMut for EmptyMapByDefault {
    fn visit_item_impl_mut(&mut self, imp: &mut syn::ItemImpl) {
        let is_default = imp
            .trait_
            .as_ref()
            .and_then(|(_, path, _)| path.segments.last())
            .is_some_and(|s| s.ident == "Default");
        if is_default {
            syn::visit_mut::visit_item_impl_mut(self, imp);
        }
    }

    fn visit_field_value_mut(&mut self, field: &mut syn::FieldValue) {
        if matches!(&field.member, syn::Member::Named(name) if name == EXTRA_FIELD) {
            field.expr = syn::parse_quote!(Ok(Default::default()));
        }
    }
}

/// The keys of an item's `#[serde(…)]` attributes (`default`, `rename`, …).
fn serde_keys(attrs: &[syn::Attribute]) -> Vec<String> {
    let mut keys = Vec::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let _ = attr.parse_nested_meta(|meta| {
            if let Some(key) = meta.path.get_ident() {
                keys.push(key.to_string());
            }
            if let Ok(value) = meta.value() {
                value.parse::<syn::Expr>()?;
            }
            Ok(())
        });
    }
    keys
}

/// Adds `Default` to a `#[derive(…)]` that lacks it.
fn derive_default(attrs: &mut [syn::Attribute]) {
    use syn::punctuated::Punctuated;
    for attr in attrs.iter_mut().filter(|a| a.path().is_ident("derive")) {
        let Ok(mut paths) =
            attr.parse_args_with(Punctuated::<syn::Path, syn::Token![,]>::parse_terminated)
        else {
            continue;
        };
        if paths.iter().any(|p| p.is_ident("Default")) {
            return;
        }
        paths.push(syn::parse_quote!(Default));
        *attr = syn::parse_quote!(#[derive(#paths)]);
        return;
    }
}

/// Asserts that the code of `file`, whitespace squeezed, contains each of
/// `expected`; gives the code.
#[cfg(test)]
fn assert_generates(file: &syn::File, expected: &[&str]) -> String {
    let code = prettyplease::unparse(file);
    let squeezed = code.split_whitespace().collect::<Vec<_>>().join(" ");
    for expected in expected {
        assert!(squeezed.contains(expected), "missing {expected} in\n{code}");
    }
    code
}
