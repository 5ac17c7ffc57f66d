//! A versioned sibling's path carries its API version after a mark
//! (`/api/v1/kms#2026-06-23`, see [`crate::additions`]), so that progenitor
//! generates it beside the spec's operation on the same path. The mark is
//! not part of the URL: these passes take it out of every string progenitor
//! wrote it into (the URL's `format!`, the docs, the mock's path regexes),
//! and make the mock match the version header instead.

use syn::visit_mut::VisitMut;

use crate::additions::VERSION_MARK;

/// `text` without its version mark, and the version; `None` without one.
fn split(text: &str) -> Option<(String, String)> {
    let start = text.find(VERSION_MARK)?;
    let rest = &text[start + VERSION_MARK.len_utf8()..];
    let len = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '-'))
        .unwrap_or(rest.len());
    let version = rest[..len].to_string();
    Some((format!("{}{}", &text[..start], &rest[len..]), version))
}

/// Takes the marks out of the string literals below what it visits,
/// `format!` arguments included; counts the literals of code (not of docs)
/// it changed and keeps the last version it saw.
#[derive(Default)]
struct Strip {
    in_code: usize,
    version: Option<String>,
}

impl Strip {
    fn lit(&mut self, lit: &mut syn::LitStr) -> bool {
        let Some((text, version)) = split(&lit.value()) else {
            return false;
        };
        *lit = syn::LitStr::new(&text, lit.span());
        self.version = Some(version);
        true
    }
}

impl VisitMut for Strip {
    fn visit_attribute_mut(&mut self, attr: &mut syn::Attribute) {
        if let syn::Meta::NameValue(nv) = &mut attr.meta {
            if let syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(lit),
                ..
            }) = &mut nv.value
            {
                self.lit(lit);
            }
        }
    }

    fn visit_lit_str_mut(&mut self, lit: &mut syn::LitStr) {
        if self.lit(lit) {
            self.in_code += 1;
        }
    }

    fn visit_macro_mut(&mut self, mac: &mut syn::Macro) {
        super::edit_format_args(mac, |_, arg| {
            let before = self.in_code;
            self.visit_expr_mut(arg);
            self.in_code != before
        });
    }
}

/// Strips the marks from the generated client; gives how many URLs it
/// changed (one per versioned sibling).
pub(crate) fn strip_version_marks(file: &mut syn::File) -> usize {
    let mut strip = Strip::default();
    strip.visit_file_mut(file);
    strip.in_code
}

/// Strips the marks from one mock `When` method (its path regex, its path
/// parameters' setters). Whether it was a `new` with one: once per
/// versioned sibling.
pub(crate) fn mock_paths_lose_marks(f: &mut syn::ImplItemFn) -> bool {
    let mut strip = Strip::default();
    strip.visit_impl_item_fn_mut(f);
    strip.version.is_some() && f.sig.ident == "new"
}

/// Makes a mock `When`'s `new` match the `X-Phala-Version` `version` (an
/// expression) too, so that two mocks of one path, each for its version,
/// tell their requests apart: `Self(chain)` →
/// `Self(chain.header("x-phala-version", version))`. Whether it did.
pub(crate) fn mock_matches_version(f: &mut syn::ImplItemFn, version: &syn::Expr) -> bool {
    if f.sig.ident != "new" {
        return false;
    }
    let mut header = AddHeader(version, false);
    header.visit_block_mut(&mut f.block);
    header.1
}

struct AddHeader<'a>(&'a syn::Expr, bool);

impl VisitMut for AddHeader<'_> {
    fn visit_expr_call_mut(&mut self, call: &mut syn::ExprCall) {
        let is_self = matches!(&*call.func, syn::Expr::Path(p) if p.path.is_ident("Self"));
        if let (true, Some(inner)) = (is_self, call.args.first_mut()) {
            let version = self.0;
            *inner = syn::parse_quote!(#inner.header("x-phala-version", #version));
            self.1 = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::ToTokens;

    #[test]
    fn splits_the_mark_wherever_it_stands() {
        assert_eq!(
            split("^/api/v1/kms/{}#2026-06-23$"),
            Some(("^/api/v1/kms/{}$".into(), "2026-06-23".into()))
        );
        assert_eq!(
            split("Sends a `GET` to `/api/v1/kms#2026-06-23`"),
            Some(("Sends a `GET` to `/api/v1/kms`".into(), "2026-06-23".into()))
        );
        assert_eq!(split("/api/v1/kms"), None);
    }

    #[test]
    fn the_client_loses_its_marks_and_counts_its_urls() {
        let mut file: syn::File = syn::parse_quote! {
            ///Sends a `GET` request to `/api/v1/kms#2026-06-23`
            fn send() {
                let url = format!("{}/api/v1/kms#2026-06-23", client.baseurl);
                let other = format!("{}/api/v1/kms", client.baseurl);
            }
        };
        assert_eq!(strip_version_marks(&mut file), 1);
        let code = file.into_token_stream().to_string();
        assert!(
            !code.contains('#') || !code.contains("2026-06-23"),
            "{code}"
        );
        assert!(code.contains(r#""{}/api/v1/kms""#), "{code}");
    }

    #[test]
    fn a_mock_of_a_sibling_loses_its_mark_and_matches_its_version() {
        let mut f: syn::ImplItemFn = syn::parse_quote! {
            pub fn new(inner: ::httpmock::When) -> Self {
                Self(inner.method(GET).path_matches(regex::Regex::new("^/api/v1/kms#2026-06-23$").unwrap()))
            }
        };
        assert!(mock_paths_lose_marks(&mut f));
        assert!(mock_matches_version(
            &mut f,
            &syn::parse_quote!("2026-06-23")
        ));
        let code = f.into_token_stream().to_string();
        assert!(code.contains(r#""^/api/v1/kms$""#), "{code}");
        assert!(
            code.contains(r#". header ("x-phala-version" , "2026-06-23")"#),
            "{code}"
        );
        let mut setter: syn::ImplItemFn = syn::parse_quote! {
            pub fn slug(self, value: &str) -> Self {
                let re = regex::Regex::new(&format!("^/api/v1/kms/{}#2026-06-23$", value.to_string())).unwrap();
                Self(self.0.path_matches(re))
            }
        };
        assert!(!mock_paths_lose_marks(&mut setter), "only `new` counts");
        assert!(!mock_matches_version(&mut setter, &syn::parse_quote!("v")));
        let code = setter.into_token_stream().to_string();
        assert!(code.contains(r#""^/api/v1/kms/{}$""#), "{code}");
    }
}
