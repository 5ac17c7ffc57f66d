//! The setters of typify's struct builders (`types::builder`).
//!
//! Why: typify's optional-field setters are bounded by `TryInto<Option<T>>`,
//! which `&str` does not satisfy, so `.name("web")` would not compile on
//! an optional field while it does on a required one.

use syn::visit_mut::VisitMut;

use super::{generic_of, module_mut};

/// An optional field's setter takes what a required one takes: typify bounds
/// it by `T: TryInto<Option<U>>`, which neither `&str` (for a `String`) nor
/// `&str` for an ID type satisfies (`.name("web")` did not compile). This
/// bounds it by `T: TryInto<U>` and stores `Some`, as progenitor's own
/// parameter setters do; an unset field is simply not set. Gives how many
/// setters it changed.
pub(crate) fn optional_setters_take_the_value(file: &mut syn::File) -> usize {
    let Some(builders) =
        module_mut(&mut file.items, "types").and_then(|types| module_mut(types, "builder"))
    else {
        return 0;
    };
    let mut setters = 0;
    for item in builders.iter_mut() {
        let syn::Item::Impl(imp) = item else { continue };
        for impl_item in &mut imp.items {
            let syn::ImplItem::Fn(f) = impl_item else {
                continue;
            };
            if unwrap_option_bound(&mut f.sig) {
                WrapInSome.visit_block_mut(&mut f.block);
                setters += 1;
            }
        }
    }
    setters
}

/// `T: TryInto<Option<U>>` → `T: TryInto<U>`; whether there was one.
fn unwrap_option_bound(sig: &mut syn::Signature) -> bool {
    let Some(where_clause) = sig.generics.where_clause.as_mut() else {
        return false;
    };
    let mut changed = false;
    for predicate in &mut where_clause.predicates {
        let syn::WherePredicate::Type(predicate) = predicate else {
            continue;
        };
        for bound in &mut predicate.bounds {
            let syn::TypeParamBound::Trait(bound) = bound else {
                continue;
            };
            let Some(last) = bound.path.segments.last_mut() else {
                continue;
            };
            if last.ident != "TryInto" {
                continue;
            }
            let syn::PathArguments::AngleBracketed(args) = &mut last.arguments else {
                continue;
            };
            if let Some(syn::GenericArgument::Type(target)) = args.args.first_mut() {
                if let Some(inner) = generic_of(target, "Option").cloned() {
                    *target = inner;
                    changed = true;
                }
            }
        }
    }
    changed
}

/// `value.try_into()` → `value.try_into().map(Some)`.
struct WrapInSome;

impl VisitMut for WrapInSome {
    fn visit_expr_mut(&mut self, expr: &mut syn::Expr) {
        if let syn::Expr::MethodCall(call) = expr {
            let converts_value = call.method == "try_into"
                && matches!(&*call.receiver, syn::Expr::Path(p) if p.path.is_ident("value"));
            if converts_value {
                *expr = syn::parse_quote!(#call.map(::std::option::Option::Some));
                return;
            }
        }
        syn::visit_mut::visit_expr_mut(self, expr);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passes::assert_generates;

    #[test]
    fn an_optional_field_takes_the_value_and_a_required_one_is_unchanged() {
        let mut file: syn::File = syn::parse_quote! {
            pub mod types {
                pub mod builder {
                    impl Body {
                        pub fn name<T>(mut self, value: T) -> Self
                        where
                            T: ::std::convert::TryInto<::std::option::Option<::std::string::String>>,
                            T::Error: ::std::fmt::Display,
                        {
                            self.name = value.try_into().map_err(|e| format!("error converting supplied value for name: {e}"));
                            self
                        }
                        pub fn id<T>(mut self, value: T) -> Self
                        where
                            T: ::std::convert::TryInto<crate::ids::CvmId>,
                            T::Error: ::std::fmt::Display,
                        {
                            self.id = value.try_into().map_err(|e| format!("error converting supplied value for id: {e}"));
                            self
                        }
                    }
                }
            }
        };
        optional_setters_take_the_value(&mut file);
        let code = assert_generates(
            &file,
            &[
                "T: ::std::convert::TryInto<::std::string::String>,",
                "self.name = value .try_into() .map(::std::option::Option::Some) .map_err(",
                "T: ::std::convert::TryInto<crate::ids::CvmId>,",
            ],
        );
        assert_eq!(code.matches("Option::Some").count(), 1, "{code}");
    }
}
