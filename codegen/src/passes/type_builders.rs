//! typify's struct builders (`types::builder::X`, `X::builder()`) only for
//! the types a request takes; the rest under the `mock` feature.
//!
//! A builder is how a program writes a value to send. An answer-only type
//! is decoded, never written, except by tests that build sample answers,
//! which have the `mock` feature. The builders were most of the generated
//! lines; behind a `cfg` they cost a build without `mock` nothing.

use std::collections::{BTreeSet, HashMap};

use syn::visit::Visit;

use super::{last_segment, module, module_mut};

/// The types reachable from a request builder's fields (its body and
/// parameters), following the fields, variants and aliases of the `types`
/// module.
fn request_types(file: &syn::File) -> BTreeSet<String> {
    /// Every identifier in a path of what it visits.
    #[derive(Default)]
    struct Names(Vec<String>);
    impl<'ast> Visit<'ast> for Names {
        fn visit_path(&mut self, path: &'ast syn::Path) {
            self.0
                .extend(path.segments.iter().map(|s| s.ident.to_string()));
            syn::visit::visit_path(self, path);
        }
    }
    let types: HashMap<String, &syn::Item> = module(&file.items, "types")
        .unwrap_or_default()
        .iter()
        .filter_map(|item| {
            let ident = match item {
                syn::Item::Struct(s) => &s.ident,
                syn::Item::Enum(e) => &e.ident,
                syn::Item::Type(t) => &t.ident,
                _ => return None,
            };
            Some((ident.to_string(), item))
        })
        .collect();
    let mut roots = Names::default();
    for item in module(&file.items, "builder").unwrap_or_default() {
        if let syn::Item::Struct(s) = item {
            roots.visit_fields(&s.fields);
        }
    }
    let mut reached = BTreeSet::new();
    let mut pending = roots.0;
    while let Some(name) = pending.pop() {
        let Some(item) = types.get(&name) else {
            continue;
        };
        if reached.insert(name) {
            let mut names = Names::default();
            match item {
                syn::Item::Struct(s) => names.visit_fields(&s.fields),
                syn::Item::Enum(e) => e.variants.iter().for_each(|v| names.visit_variant(v)),
                syn::Item::Type(t) => names.visit_type(&t.ty),
                _ => {}
            }
            pending.extend(names.0);
        }
    }
    reached
}

/// The name a `types::builder` item is about: the struct's, or the type an
/// `impl` is for (`X` of `impl TryFrom<X> for super::X`).
fn subject(item: &syn::Item) -> Option<String> {
    match item {
        syn::Item::Struct(s) => Some(s.ident.to_string()),
        syn::Item::Impl(imp) => last_segment(&imp.self_ty).map(|s| s.ident.to_string()),
        _ => None,
    }
}

/// Puts the builder of every type no request takes (its struct, its `impl`s
/// and `X::builder()`) under `#[cfg(feature = "mock")]`. Gives how many
/// types' builders it moved.
pub(crate) fn answer_builders_under_mock(file: &mut syn::File) -> usize {
    let requests = request_types(file);
    let under_mock: syn::Attribute = syn::parse_quote!(#[cfg(feature = "mock")]);
    let labelled: syn::Attribute =
        syn::parse_quote!(#[cfg_attr(docsrs, doc(cfg(feature = "mock")))]);
    let Some(types) = module_mut(&mut file.items, "types") else {
        return 0;
    };
    let mut moved = BTreeSet::new();
    if let Some(builders) = module_mut(types, "builder") {
        for item in builders.iter_mut() {
            let Some(name) = subject(item).filter(|n| !requests.contains(n)) else {
                continue;
            };
            if let syn::Item::Struct(s) = item {
                s.attrs.push(under_mock.clone());
                moved.insert(name);
            } else if let syn::Item::Impl(imp) = item {
                imp.attrs.push(under_mock.clone());
            }
        }
    }
    for item in types.iter_mut() {
        let syn::Item::Impl(imp) = item else { continue };
        if imp.trait_.is_some() || subject(item).is_none_or(|n| !moved.contains(&n)) {
            continue;
        }
        let syn::Item::Impl(imp) = item else { continue };
        for impl_item in &mut imp.items {
            if let syn::ImplItem::Fn(f) = impl_item {
                if f.sig.ident == "builder" && f.sig.inputs.is_empty() {
                    f.attrs.push(under_mock.clone());
                    f.attrs.push(labelled.clone());
                }
            }
        }
    }
    moved.len()
}

#[cfg(test)]
mod tests {
    use super::super::assert_generates;
    use super::*;

    #[test]
    fn builders_of_answer_only_types_go_under_mock() {
        let mut file: syn::File = syn::parse_quote! {
            pub mod types {
                pub struct Request { pub compose: Option<Compose>, pub kind: Kind }
                pub struct Compose { pub name: String, pub nested: Vec<Alias> }
                pub type Alias = Deep;
                pub enum Kind { A(Deep), B }
                pub struct Deep { pub x: i64 }
                pub struct Answer { pub compose: Compose }
                impl Request {
                    pub fn builder() -> builder::Request { Default::default() }
                }
                impl Answer {
                    pub fn builder() -> builder::Answer { Default::default() }
                    pub fn other(&self) {}
                }
                impl ::std::fmt::Display for Answer {
                    fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result { Ok(()) }
                }
                pub mod builder {
                    pub struct Request { compose: Result<Option<super::Compose>, String> }
                    pub struct Compose { name: Result<String, String> }
                    pub struct Deep { x: Result<i64, String> }
                    pub struct Answer { compose: Result<super::Compose, String> }
                    impl Default for Answer { fn default() -> Self { todo!() } }
                    impl ::std::convert::TryFrom<Answer> for super::Answer {
                        type Error = String;
                        fn try_from(value: Answer) -> Result<Self, String> { todo!() }
                    }
                    impl ::std::convert::From<super::Answer> for Answer {
                        fn from(value: super::Answer) -> Self { todo!() }
                    }
                    impl Request { pub fn compose(self) -> Self { self } }
                }
            }
            pub mod builder {
                pub struct CreateThing {
                    client: super::Client,
                    body: Result<types::builder::Request, String>,
                }
                impl CreateThing {
                    pub async fn send(self) -> Result<ResponseValue<types::Answer>, Error> { todo!() }
                }
            }
        };
        assert_eq!(answer_builders_under_mock(&mut file), 1);
        let code = assert_generates(
            &file,
            &[
                "#[cfg(feature = \"mock\")] pub struct Answer { compose",
                "#[cfg(feature = \"mock\")] impl Default for Answer",
                "#[cfg(feature = \"mock\")] impl ::std::convert::TryFrom<Answer> for super::Answer",
                "#[cfg(feature = \"mock\")] impl ::std::convert::From<super::Answer> for Answer",
                "#[cfg(feature = \"mock\")] #[cfg_attr(docsrs, doc(cfg(feature = \"mock\")))] pub fn builder() -> builder::Answer",
                "pub fn other(&self)",
            ],
        );
        assert_eq!(code.matches("cfg(feature = \"mock\")").count(), 6, "{code}");
        assert_eq!(
            request_types(&file),
            ["Compose", "Deep", "Kind", "Request", "Alias"]
                .map(String::from)
                .into_iter()
                .collect()
        );
    }
}
