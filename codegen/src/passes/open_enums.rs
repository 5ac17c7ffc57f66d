//! Enums in answers are open: a value the spec does not list is kept.
//!
//! Why: typify generates closed enums, so a status the server adds next
//! month would make the whole answer fail to decode, and a read-modify-send
//! would lose it. Expects typify's unit-only enums and the impls typify
//! gives them.

use std::collections::{BTreeMap, BTreeSet};

use syn::visit::Visit;
use syn::visit_mut::VisitMut;

use super::{append_doc, edit_derives, module, module_mut};
use crate::SpecError;

/// The variant that holds a value the spec does not list.
const OTHER: &str = "Other";

/// Gives every string enum an answer can hold an
/// `#[serde(untagged)] Other(String)` variant, so that a value a newer
/// server sends (a new `kms_type`) decodes as `Other("…")` and serializes
/// back unchanged, instead of failing the whole answer. `Display` writes it
/// and `FromStr` reads any unknown string as it, so text and JSON agree.
/// `Copy` goes (the variant holds a `String`).
///
/// An answer's types are those the `send` methods return (success and
/// error bodies) and everything their fields reach. Enums only requests use
/// stay closed: a value the client sends is one the spec lists. An enum both
/// use is open: a value read from the API must go back unchanged (read,
/// modify, send), and a request that sends `Other` is the caller's explicit
/// choice, which the server validates. Gives how many enums it opened.
pub(crate) fn open_answer_enums(file: &mut syn::File) -> Result<usize, SpecError> {
    let answers = answer_types(file);
    let Some(types) = module_mut(&mut file.items, "types") else {
        return Ok(0);
    };
    let open: BTreeSet<String> = types
        .iter()
        .filter_map(|item| match item {
            syn::Item::Enum(e) if answers.contains(&e.ident.to_string()) && is_unit_only(e) => {
                Some(e.ident.to_string())
            }
            _ => None,
        })
        .collect();
    for item in types.iter_mut() {
        match item {
            syn::Item::Enum(e) if open.contains(&e.ident.to_string()) => open_enum(e)?,
            syn::Item::Impl(imp) if self_type(imp).is_some_and(|t| open.contains(&t)) => {
                OpenImpl.visit_item_impl_mut(imp)
            }
            _ => {}
        }
    }
    Ok(open.len())
}

/// The names of the `types` items an answer can hold.
fn answer_types(file: &syn::File) -> BTreeSet<String> {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for item in module(&file.items, "types").unwrap_or_default() {
        let (name, mut names) = match item {
            syn::Item::Struct(s) => (s.ident.to_string(), names(|n| n.visit_fields(&s.fields))),
            syn::Item::Enum(e) => (
                e.ident.to_string(),
                names(|n| e.variants.iter().for_each(|v| n.visit_variant(v))),
            ),
            syn::Item::Type(t) => (t.ident.to_string(), names(|n| n.visit_type(&t.ty))),
            _ => continue,
        };
        names.remove(&name);
        graph.insert(name, names);
    }
    let mut stack: Vec<String> = Vec::new();
    for item in module(&file.items, "builder").unwrap_or_default() {
        let syn::Item::Impl(imp) = item else { continue };
        for impl_item in &imp.items {
            match impl_item {
                syn::ImplItem::Fn(f) if f.sig.ident.to_string().starts_with("send") => {
                    stack.extend(names(|n| n.visit_return_type(&f.sig.output)));
                }
                _ => {}
            }
        }
    }
    let mut reached = BTreeSet::new();
    while let Some(name) = stack.pop() {
        if let Some(next) = graph.get(&name) {
            if reached.insert(name) {
                stack.extend(next.iter().cloned());
            }
        }
    }
    reached
}

/// Every path segment name a syntax node holds, as `visit` walks it.
fn names(visit: impl FnOnce(&mut Names)) -> BTreeSet<String> {
    let mut names = Names::default();
    visit(&mut names);
    names.0
}

#[derive(Default)]
struct Names(BTreeSet<String>);

impl<'ast> Visit<'ast> for Names {
    fn visit_path_segment(&mut self, segment: &'ast syn::PathSegment) {
        self.0.insert(segment.ident.to_string());
        syn::visit::visit_path_segment(self, segment);
    }
}

/// A string enum, as typify writes one: unit variants only.
fn is_unit_only(e: &syn::ItemEnum) -> bool {
    !e.variants.is_empty()
        && e.variants
            .iter()
            .all(|v| matches!(v.fields, syn::Fields::Unit))
}

/// `X` of `impl … for X`.
fn self_type(imp: &syn::ItemImpl) -> Option<String> {
    match &*imp.self_ty {
        syn::Type::Path(p) => p.path.get_ident().map(|i| i.to_string()),
        _ => None,
    }
}

fn open_enum(e: &mut syn::ItemEnum) -> Result<(), SpecError> {
    if e.variants.iter().any(|v| v.ident == OTHER) {
        return Err(SpecError::at(
            "",
            format!(
                "`types::{}` has a value named `{OTHER}`: no variant is left for the values the spec does not list",
                e.ident
            ),
        ));
    }
    edit_derives(&mut e.attrs, |traits| {
        traits.retain(|t| !t.is_ident("Copy"))
    });
    append_doc(
        &mut e.attrs,
        "Open: a value the spec does not list decodes as [`Self::Other`] and is written back unchanged.",
    );
    let other = syn::Ident::new(OTHER, proc_macro2::Span::call_site());
    e.variants.push(syn::parse_quote! {
        /// A value this version of the client does not know, as the server sent it.
        #[serde(untagged)]
        #other(::std::string::String)
    });
    Ok(())
}

/// `Display` writes `Other`'s text; `FromStr` reads an unknown string as
/// `Other` (typify's `_ => Err(…)` arm).
struct OpenImpl;

impl VisitMut for OpenImpl {
    fn visit_expr_match_mut(&mut self, m: &mut syn::ExprMatch) {
        let other = syn::Ident::new(OTHER, proc_macro2::Span::call_site());
        if let syn::Expr::Unary(syn::ExprUnary {
            op: syn::UnOp::Deref(_),
            expr,
            ..
        }) = &*m.expr
        {
            // `match *self` in `Display::fmt`.
            if matches!(&**expr, syn::Expr::Path(p) if p.path.is_ident("self")) {
                m.expr = syn::parse_quote!(self);
                m.arms
                    .push(syn::parse_quote!(Self::#other(value) => f.write_str(value),));
            }
            return;
        }
        let on_value = matches!(&*m.expr, syn::Expr::Path(p) if p.path.is_ident("value"));
        for arm in &mut m.arms {
            if on_value && matches!(arm.pat, syn::Pat::Wild(_)) {
                arm.body = syn::parse_quote!(Ok(Self::#other(value.to_string())));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passes::assert_generates;

    fn file() -> syn::File {
        syn::parse_quote! {
            pub mod types {
                pub struct Page { pub items: Vec<Cvm>, pub kind: Option<Kind> }
                pub struct Cvm { pub status: Status }
                /// A status.
                #[derive(::serde::Deserialize, ::serde::Serialize, Clone, Copy, Debug, PartialEq)]
                pub enum Status {
                    #[serde(rename = "running")]
                    Running,
                }
                impl ::std::fmt::Display for Status {
                    fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        match *self {
                            Self::Running => f.write_str("running"),
                        }
                    }
                }
                impl ::std::str::FromStr for Status {
                    type Err = self::error::ConversionError;
                    fn from_str(value: &str) -> ::std::result::Result<Self, self::error::ConversionError> {
                        match value {
                            "running" => Ok(Self::Running),
                            _ => Err("invalid value".into()),
                        }
                    }
                }
                #[derive(Clone, Copy)]
                pub enum Kind { A }
                #[derive(Clone, Copy)]
                pub enum RequestOnly { B }
                pub struct Body { pub only: RequestOnly }
            }
            pub mod builder {
                impl<'a> ListCvms<'a> {
                    async fn send_unmapped(self) -> Result<ResponseValue<types::Page>, Error<types::ApiErrorBody>> { todo!() }
                }
            }
        }
    }

    #[test]
    fn enums_an_answer_reaches_are_open_and_request_only_ones_are_not() {
        let mut file = file();
        open_answer_enums(&mut file).unwrap();
        let code = assert_generates(
            &file,
            &[
                "#[serde(untagged)] Other(::std::string::String), }",
                "/// A status. /** Open: a value the spec does not list",
                "Clone, Debug, PartialEq)] pub enum Status",
                "match self { Self::Running => f.write_str(\"running\"), Self::Other(value) => f.write_str(value), }",
                "_ => Ok(Self::Other(value.to_string())),",
                "#[derive(Clone)] pub enum Kind",
                "#[derive(Clone, Copy)] pub enum RequestOnly { B, }",
            ],
        );
        assert_eq!(
            code.matches("Other(::std::string::String)").count(),
            2,
            "{code}"
        );
    }

    #[test]
    fn a_value_named_other_is_refused() {
        let mut file: syn::File = syn::parse_quote! {
            pub mod types { pub enum Mode { Other } }
            pub mod builder {
                impl X { async fn send(self) -> Result<ResponseValue<types::Mode>, crate::Error> { todo!() } }
            }
        };
        let err = open_answer_enums(&mut file).unwrap_err();
        assert!(err.message.contains("`types::Mode`"), "{err}");
    }
}
