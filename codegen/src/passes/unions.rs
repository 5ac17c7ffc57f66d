//! The enums of unions (`order_union_branches`): no flattened structs, and
//! accessors for the fields every variant has.
//!
//! Why: typify flattens a union it cannot order into a struct of
//! `subtype_N` options, which decodes anything and says nothing; and an
//! enum of shapes makes every caller `match` to read a field all shapes
//! share. Expects typify's untagged enums of one-struct variants.

use std::collections::BTreeMap;

use proc_macro2::TokenStream;
use quote::quote;

use super::{append_doc, generic_of, last_segment, module, module_mut, serde_keys};
use crate::SpecError;

/// typify's spelling of a union it could not make an enum of: a struct of
/// `#[serde(flatten)] subtype_N: Option<…>` fields, where the first branch
/// that takes every body wins and the others stay `None`. The normalizer
/// turns every union into a `oneOf`, so one left is a construct no rule
/// handles: the build fails naming the type.
pub(crate) fn refuse_flattened_unions(file: &syn::File) -> Result<(), SpecError> {
    for item in module(&file.items, "types").unwrap_or_default() {
        let syn::Item::Struct(s) = item else { continue };
        let flattened = s.fields.iter().find_map(|f| {
            f.ident
                .as_ref()
                .filter(|i| i.to_string().starts_with("subtype_"))
        });
        if let Some(field) = flattened {
            return Err(SpecError::at(
                "",
                format!(
                    "typify generated `types::{}` as a struct of flattened union branches \
                     (`{field}`); the normalizer must lower that union to a `oneOf`",
                    s.ident
                ),
            ));
        }
    }
    Ok(())
}

/// A struct's fields: name and type.
type Fields = Vec<(syn::Ident, syn::Type)>;

/// For every untagged enum whose variants each hold one struct (a union of
/// object shapes), adds a method per field that every variant's struct has
/// with the same type, optional or not: `app.app_id()` whichever shape the
/// app came in. A field optional in some variant reads as an `Option`;
/// `String` reads as `&str`, `Vec<T>` as `&[T]`, numbers and booleans by
/// value. The enum's doc says how it decodes. Gives how many unions it
/// documented.
pub(crate) fn union_accessors(file: &mut syn::File) -> usize {
    let Some(types) = module_mut(&mut file.items, "types") else {
        return 0;
    };
    let mut unions = 0;
    let structs: BTreeMap<String, Fields> = types
        .iter()
        .filter_map(|item| match item {
            syn::Item::Struct(s) => Some((
                s.ident.to_string(),
                s.fields
                    .iter()
                    .filter_map(|f| Some((f.ident.clone()?, f.ty.clone())))
                    .collect(),
            )),
            _ => None,
        })
        .collect();
    let mut impls: Vec<syn::Item> = Vec::new();
    for item in types.iter_mut() {
        let syn::Item::Enum(e) = item else { continue };
        let untagged = serde_keys(&e.attrs).iter().any(|k| k == "untagged");
        let variants: Option<Vec<(&syn::Ident, &Fields)>> = e
            .variants
            .iter()
            .map(|v| match &v.fields {
                syn::Fields::Unnamed(f) if f.unnamed.len() == 1 => {
                    let name = last_segment(&f.unnamed[0].ty)?.ident.to_string();
                    Some((&v.ident, structs.get(&name)?))
                }
                _ => None,
            })
            .collect();
        let Some(variants) = variants.filter(|v| untagged && v.len() > 1) else {
            continue;
        };
        let order: Vec<String> = variants.iter().map(|(v, _)| format!("`{v}`")).collect();
        let doc = format!(
            "Decoded as the first variant the body fits, most specific first ({}); \
             a body that fits none does not decode. The methods read the fields every variant has.",
            order.join(", ")
        );
        append_doc(&mut e.attrs, &doc);
        unions += 1;
        let methods: Vec<TokenStream> = variants[0]
            .1
            .iter()
            .filter_map(|(field, _)| {
                let types: Option<Vec<&syn::Type>> = variants
                    .iter()
                    .map(|(_, fields)| fields.iter().find(|(f, _)| f == field).map(|(_, t)| t))
                    .collect();
                accessor(field, &variants, &types?)
            })
            .collect();
        if methods.is_empty() {
            continue;
        }
        let name = &e.ident;
        impls.push(syn::parse_quote! {
            impl #name {
                #(#methods)*
            }
        });
    }
    types.extend(impls);
    unions
}

/// How a field reads: the type the accessor returns, and the expression
/// that reads it from a variant's value `v` (`optional`: the variant's
/// field is an `Option`).
enum Reading<'a> {
    Str,
    Slice(&'a syn::Type),
    Value(&'a syn::Type),
    Reference(&'a syn::Type),
}

impl<'a> Reading<'a> {
    fn of(ty: &'a syn::Type) -> Self {
        if let Some(item) = generic_of(ty, "Vec") {
            return Reading::Slice(item);
        }
        match last_segment(ty).map(|s| s.ident.to_string()).as_deref() {
            Some("String") => Reading::Str,
            Some("bool" | "i64" | "u64" | "i32" | "u32" | "f64" | "f32") => Reading::Value(ty),
            _ => Reading::Reference(ty),
        }
    }

    fn returns(&self, optional: bool) -> TokenStream {
        let ty = match self {
            Reading::Str => quote!(&str),
            Reading::Slice(item) => quote!(&[#item]),
            Reading::Value(ty) => quote!(#ty),
            Reading::Reference(ty) => quote!(&#ty),
        };
        if optional {
            quote!(::std::option::Option<#ty>)
        } else {
            ty
        }
    }

    /// Reads `v.field`, which is `Option<…>` if `field_optional`, as
    /// [`Reading::returns`] of `optional`.
    fn read(&self, field: &syn::Ident, field_optional: bool, optional: bool) -> TokenStream {
        let plain = match self {
            Reading::Str => quote!(v.#field.as_str()),
            Reading::Slice(_) => quote!(v.#field.as_slice()),
            Reading::Value(_) => quote!(v.#field),
            Reading::Reference(_) => quote!(&v.#field),
        };
        match (field_optional, optional) {
            (false, false) => plain,
            (false, true) => quote!(::std::option::Option::Some(#plain)),
            (true, _) => match self {
                Reading::Str | Reading::Slice(_) => quote!(v.#field.as_deref()),
                Reading::Value(_) => quote!(v.#field),
                Reading::Reference(_) => quote!(v.#field.as_ref()),
            },
        }
    }
}

/// `T` for `Option<T>`, else the type itself.
fn without_option(ty: &syn::Type) -> &syn::Type {
    generic_of(ty, "Option").unwrap_or(ty)
}

/// The method that reads `field`, of type `types[i]` in variant `i`; `None`
/// if the variants do not agree on its type.
fn accessor(
    field: &syn::Ident,
    variants: &[(&syn::Ident, &Fields)],
    types: &[&syn::Type],
) -> Option<TokenStream> {
    let base = without_option(types.first()?);
    if !types.iter().all(|t| without_option(t) == base) {
        return None;
    }
    let optional = types.iter().any(|t| generic_of(t, "Option").is_some());
    let reading = Reading::of(base);
    let returns = reading.returns(optional);
    let arms = variants.iter().zip(types).map(|((variant, _), ty)| {
        let read = reading.read(field, generic_of(ty, "Option").is_some(), optional);
        quote!(Self::#variant(v) => #read,)
    });
    let name = field.to_string();
    let name = name.trim_start_matches("r#");
    let doc = if optional {
        format!("The `{name}` field of whichever variant this is, if set.")
    } else {
        format!("The `{name}` field of whichever variant this is.")
    };
    Some(quote! {
        #[doc = #doc]
        pub fn #field(&self) -> #returns {
            match self {
                #(#arms)*
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passes::assert_generates;

    fn file() -> syn::File {
        syn::parse_quote! {
            pub mod types {
                pub struct Full {
                    pub app_id: ::std::string::String,
                    pub cvm_count: ::std::option::Option<i64>,
                    pub cvms: ::std::vec::Vec<Cvm>,
                    pub id: crate::ids::ProjectId,
                    pub name: ::std::string::String,
                    pub only_full: bool,
                    pub kms_type: ::std::string::String,
                }
                pub struct Minimal {
                    pub app_id: ::std::string::String,
                    pub cvm_count: ::std::option::Option<i64>,
                    pub cvms: ::std::option::Option<::std::vec::Vec<Cvm>>,
                    pub id: ::std::option::Option<crate::ids::ProjectId>,
                    pub name: ::std::option::Option<::std::string::String>,
                    pub kms_type: ::std::option::Option<::serde_json::Value>,
                }
                #[derive(Clone)]
                #[serde(untagged)]
                pub enum App {
                    Full(Full),
                    Minimal(Minimal),
                }
                #[serde(untagged)]
                pub enum Version { Variant0([i64; 4usize]), Variant1([i64; 3usize]) }
            }
        }
    }

    #[test]
    fn every_field_all_variants_share_gets_an_accessor() {
        let mut file = file();
        union_accessors(&mut file);
        let code = assert_generates(
            &file,
            &[
                "pub fn app_id(&self) -> &str { match self { Self::Full(v) => v.app_id.as_str(), Self::Minimal(v) => v.app_id.as_str(), } }",
                "pub fn cvm_count(&self) -> ::std::option::Option<i64> { match self { Self::Full(v) => v.cvm_count, Self::Minimal(v) => v.cvm_count, } }",
                "pub fn cvms(&self) -> ::std::option::Option<&[Cvm]> { match self { Self::Full(v) => ::std::option::Option::Some(v.cvms.as_slice()), Self::Minimal(v) => v.cvms.as_deref(), } }",
                "pub fn id(&self) -> ::std::option::Option<&crate::ids::ProjectId> { match self { Self::Full(v) => ::std::option::Option::Some(&v.id), Self::Minimal(v) => v.id.as_ref(), } }",
                "pub fn name(&self) -> ::std::option::Option<&str> { match self { Self::Full(v) => ::std::option::Option::Some(v.name.as_str()), Self::Minimal(v) => v.name.as_deref(), } }",
                "most specific first (`Full`, `Minimal`)",
            ],
        );
        // Not in every variant, or of another type in one.
        assert!(!code.contains("fn only_full"), "{code}");
        assert!(!code.contains("fn kms_type"), "{code}");
        // Variants that are not structs get none.
        assert_eq!(code.matches("impl ").count(), 1, "{code}");
    }

    #[test]
    fn a_flattened_union_fails_the_build_naming_its_type() {
        let file: syn::File = syn::parse_quote! {
            pub mod types {
                pub struct Item {
                    #[serde(flatten)]
                    pub subtype_0: Option<A>,
                }
            }
        };
        let err = refuse_flattened_unions(&file).unwrap_err();
        assert!(err.message.contains("`types::Item`"), "{err}");
        assert!(refuse_flattened_unions(&self::file()).is_ok());
    }
}
