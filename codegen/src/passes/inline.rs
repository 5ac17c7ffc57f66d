//! `#[inline]` on what only a program's own calls need: the request
//! builders' methods, the `Client` methods that start them, and the type
//! builders' conversions.
//!
//! rustc generates the code of an `#[inline]` function (and of the future
//! an `#[inline] async fn` returns) in the crate that calls it, not in the
//! crate that defines it. The crate still type-checks every operation, but
//! the ones a program never calls (most of them: the `send()`s, their
//! answers' decoders, their error mapping) cost its build no code
//! generation; the ones it calls are generated in it, once.

use super::{is_client, module_mut};

/// Marks every method of the `Client`'s inherent `impl`s, of the `builder`
/// module's `impl`s and of the `types::builder` module's `impl`s
/// `#[inline]`. Gives how many methods it marked.
pub(crate) fn inline_operations(file: &mut syn::File) -> usize {
    let mut marked = 0;
    for item in &mut file.items {
        if let syn::Item::Impl(imp) = item {
            if imp.trait_.is_none() && is_client(&imp.self_ty) {
                marked += inline_all(std::slice::from_mut(item));
            }
        }
    }
    if let Some(builders) = module_mut(&mut file.items, "builder") {
        marked += inline_all(builders);
    }
    if let Some(type_builders) =
        module_mut(&mut file.items, "types").and_then(|types| module_mut(types, "builder"))
    {
        marked += inline_all(type_builders);
    }
    marked
}

/// Marks the methods of every `impl` among `items` `#[inline]` (unless
/// they carry an `inline` attribute already); gives how many it marked.
fn inline_all(items: &mut [syn::Item]) -> usize {
    let mut marked = 0;
    for item in items {
        let syn::Item::Impl(imp) = item else { continue };
        for impl_item in &mut imp.items {
            let syn::ImplItem::Fn(f) = impl_item else {
                continue;
            };
            if !f.attrs.iter().any(|a| a.path().is_ident("inline")) {
                f.attrs.push(syn::parse_quote!(#[inline]));
                marked += 1;
            }
        }
    }
    marked
}

#[cfg(test)]
mod tests {
    use super::super::assert_generates;
    use super::*;

    #[test]
    fn marks_the_operations_and_the_type_builders_only() {
        let mut file: syn::File = syn::parse_quote! {
            impl Client {
                pub fn list_kms(&self) -> builder::ListKms { builder::ListKms::new(self) }
            }
            impl Clone for Client {
                fn clone(&self) -> Self { todo!() }
            }
            impl Other {
                pub fn keep(&self) {}
            }
            pub mod types {
                impl Kms {
                    pub fn id(&self) -> &str { &self.id }
                }
                pub mod builder {
                    impl ::std::convert::TryFrom<Kms> for super::Kms {
                        type Error = super::error::ConversionError;
                        fn try_from(value: Kms) -> Result<Self, Self::Error> { todo!() }
                    }
                }
            }
            pub mod builder {
                impl ListKms {
                    pub fn new(client: &super::Client) -> Self { todo!() }
                    #[inline]
                    pub fn already(self) -> Self { self }
                    pub async fn send(self) -> Result<(), crate::Error> { Ok(()) }
                }
            }
        };
        assert_eq!(inline_operations(&mut file), 4);
        let code = assert_generates(
            &file,
            &[
                "#[inline] pub fn list_kms(&self)",
                "fn clone(&self) -> Self",
                "#[inline] fn try_from(value: Kms)",
                "#[inline] pub fn new(client: &super::Client)",
                "#[inline] pub fn already(self)",
                "#[inline] pub async fn send(self)",
            ],
        );
        assert_eq!(code.matches("#[inline]").count(), 5, "{code}");
        assert!(!code.contains("#[inline]\n    fn clone"), "{code}");
        assert!(!code.contains("#[inline]\n    pub fn keep"), "{code}");
        assert!(!code.contains("#[inline]\n        pub fn id"), "{code}");
    }
}
