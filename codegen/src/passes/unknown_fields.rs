//! The map of unknown fields (`keep_unknown_fields`), finished.
//!
//! Why: typify treats the flattened `extra` map as one more required field,
//! undocumented; a type would lose `Default` and a builder fail with "no
//! value supplied for extra". Expects typify's structs with a
//! `#[serde(flatten)] extra` field and their builders' `Default` impls.

use syn::visit_mut::VisitMut;

use super::{edit_derives, module_mut, serde_keys};
use crate::normalize::EXTRA_FIELD;

/// The flattened map `keep_unknown_fields` gives a type, as typify leaves
/// it: undocumented, and counted as a required field — a type whose other
/// fields are all optional loses its `Default`, and a builder that is not
/// given the map fails with "no value supplied for extra". This documents
/// the map, derives `Default` again for those types and starts every
/// builder with an empty map. Gives how many maps it finished.
pub(crate) fn finish_unknown_field_maps(file: &mut syn::File) -> usize {
    let Some(types) = module_mut(&mut file.items, "types") else {
        return 0;
    };
    let mut maps = 0;
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
        maps += 1;
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
            edit_derives(&mut s.attrs, |traits| {
                if !traits.iter().any(|t| t.is_ident("Default")) {
                    traits.push(syn::parse_quote!(Default));
                }
            });
        }
    }
    maps
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
