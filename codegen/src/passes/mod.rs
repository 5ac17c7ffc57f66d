//! `syn` passes over progenitor's output: the request builders
//! (`builders`, `forms`, `answers`) and the `types` module (typify's part:
//! what a schema cannot tell typify). Each pass is one function over the
//! whole file that gives how often it fired, run by
//! [`crate::rewrites::REWRITES`]; this module also holds the `syn` helpers
//! they share.

mod answers;
mod builders;
mod forms;
mod open_enums;
mod setters;
mod unions;
mod unknown_fields;
mod version_marks;

pub(crate) use answers::finish_answers;
pub(crate) use builders::{
    add_paging_fields, drop_api_version_header, drop_client_new, explain_conversions,
    hide_progenitor_client, send_returns_crate_error,
};
pub(crate) use forms::finish_form_operations;
pub(crate) use open_enums::open_answer_enums;
pub(crate) use setters::optional_setters_take_the_value;
pub(crate) use unions::{refuse_flattened_unions, union_accessors};
pub(crate) use unknown_fields::finish_unknown_field_maps;
pub(crate) use version_marks::{mock_matches_version, mock_paths_lose_marks, strip_version_marks};

/// Runs `edit` on each argument of a `format!` macro (the format string
/// first) and writes the arguments back when an edit says it changed one;
/// gives how many did. Any other macro, or one whose body does not parse as
/// arguments, is left alone.
pub(crate) fn edit_format_args(
    mac: &mut syn::Macro,
    mut edit: impl FnMut(usize, &mut syn::Expr) -> bool,
) -> usize {
    if !mac.path.is_ident("format") {
        return 0;
    }
    let Ok(mut args) = mac.parse_body_with(
        syn::punctuated::Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated,
    ) else {
        return 0;
    };
    let changed = args
        .iter_mut()
        .enumerate()
        .filter_map(|(i, arg)| edit(i, arg).then_some(()))
        .count();
    if changed > 0 {
        mac.tokens = quote::ToTokens::into_token_stream(args);
    }
    changed
}

/// The items of the module `name` among `items`.
pub(crate) fn module<'a>(items: &'a [syn::Item], name: &str) -> Option<&'a [syn::Item]> {
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
pub(crate) fn last_segment(ty: &syn::Type) -> Option<&syn::PathSegment> {
    match ty {
        syn::Type::Path(p) if p.qself.is_none() => p.path.segments.last(),
        _ => None,
    }
}

/// `T` of `…::Name<T>`.
pub(crate) fn generic_of<'a>(ty: &'a syn::Type, name: &str) -> Option<&'a syn::Type> {
    let segment = last_segment(ty).filter(|s| s.ident == name)?;
    let syn::PathArguments::AngleBracketed(args) = &segment.arguments else {
        return None;
    };
    match args.args.first()? {
        syn::GenericArgument::Type(t) if args.args.len() == 1 => Some(t),
        _ => None,
    }
}

/// Whether `path` is `segments` (with a leading `::` or not), without
/// generic arguments.
pub(crate) fn path_is(path: &syn::Path, segments: &[&str]) -> bool {
    path.segments.len() == segments.len() && path_starts_with(path, segments)
}

/// Whether `path`'s first segments are `segments`, without generic arguments.
pub(crate) fn path_starts_with(path: &syn::Path, segments: &[&str]) -> bool {
    path.segments.len() >= segments.len()
        && path
            .segments
            .iter()
            .zip(segments)
            .all(|(s, name)| s.ident == name && s.arguments.is_none())
}

/// Whether a path in `ty` (`ty` itself or a generic argument, at any
/// depth) has the consecutive segments `segments`: `Result<types::builder::X,
/// String>` mentions `types::builder::X`.
pub(crate) fn mentions(ty: &syn::Type, segments: &[&str]) -> bool {
    struct Mentions<'a> {
        segments: &'a [&'a str],
        found: bool,
    }
    impl<'ast> syn::visit::Visit<'ast> for Mentions<'_> {
        fn visit_path(&mut self, path: &'ast syn::Path) {
            let idents: Vec<&syn::Ident> = path.segments.iter().map(|s| &s.ident).collect();
            self.found |= idents
                .windows(self.segments.len())
                .any(|w| w.iter().zip(self.segments).all(|(i, name)| *i == name));
            syn::visit::visit_path(self, path);
        }
    }
    let mut visitor = Mentions {
        segments,
        found: false,
    };
    syn::visit::Visit::visit_type(&mut visitor, ty);
    visitor.found
}

/// Whether `ty` is the generated client's `Client`.
pub(crate) fn is_client(ty: &syn::Type) -> bool {
    matches!(ty, syn::Type::Path(p) if p.qself.is_none() && path_is(&p.path, &["Client"]))
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

/// Rewrites the traits of an item's `#[derive(…)]` with `edit`.
fn edit_derives(attrs: &mut [syn::Attribute], edit: impl FnOnce(&mut Vec<syn::Path>)) {
    use syn::punctuated::Punctuated;
    let Some(attr) = attrs.iter_mut().find(|a| a.path().is_ident("derive")) else {
        return;
    };
    let Ok(paths) = attr.parse_args_with(Punctuated::<syn::Path, syn::Token![,]>::parse_terminated)
    else {
        return;
    };
    let mut paths: Vec<syn::Path> = paths.into_iter().collect();
    edit(&mut paths);
    *attr = syn::parse_quote!(#[derive(#(#paths),*)]);
}

/// Asserts that the code of `file`, whitespace squeezed, contains each of
/// `expected`; gives the code.
#[cfg(test)]
pub(crate) fn assert_generates(file: &syn::File, expected: &[&str]) -> String {
    let code = prettyplease::unparse(file);
    let squeezed = code.split_whitespace().collect::<Vec<_>>().join(" ");
    for expected in expected {
        assert!(squeezed.contains(expected), "missing {expected} in\n{code}");
    }
    code
}

/// The builder struct of the client method `name` (`X` of
/// `pub fn name(&self) -> builder::X<'_>`).
pub(crate) fn builder_of(file: &syn::File, name: &str) -> Option<syn::Ident> {
    file.items.iter().find_map(|item| {
        let syn::Item::Impl(imp) = item else {
            return None;
        };
        if !is_client(&imp.self_ty) {
            return None;
        }
        imp.items.iter().find_map(|i| match i {
            syn::ImplItem::Fn(f) if f.sig.ident == name => builder_name(&f.sig),
            _ => None,
        })
    })
}

/// `X` for a method `fn name(&self) -> builder::X<'_>`.
pub(crate) fn builder_name(sig: &syn::Signature) -> Option<syn::Ident> {
    let syn::ReturnType::Type(_, ty) = &sig.output else {
        return None;
    };
    let syn::Type::Path(path) = &**ty else {
        return None;
    };
    let segments: Vec<_> = path.path.segments.iter().collect();
    match segments.as_slice() {
        [module, builder] if module.ident == "builder" => Some(builder.ident.clone()),
        _ => None,
    }
}

/// The fields of the struct `name` among `items`.
pub(crate) fn struct_fields<'a>(
    items: &'a [syn::Item],
    name: &syn::Ident,
) -> Option<&'a syn::Fields> {
    items.iter().find_map(|item| match item {
        syn::Item::Struct(s) if s.ident == *name => Some(&s.fields),
        _ => None,
    })
}

/// The inherent `impl` of the builder struct `name` in the `builder` module.
fn impl_of_mut<'a>(file: &'a mut syn::File, name: &syn::Ident) -> Option<&'a mut syn::ItemImpl> {
    module_mut(&mut file.items, "builder")?
        .iter_mut()
        .find_map(|item| match item {
            syn::Item::Impl(imp)
                if imp.trait_.is_none()
                    && last_segment(&imp.self_ty).is_some_and(|s| s.ident == *name) =>
            {
                Some(imp)
            }
            _ => None,
        })
}
