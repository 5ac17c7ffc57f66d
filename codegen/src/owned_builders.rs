//! Makes progenitor's request builders own their client.
//!
//! Progenitor's builders borrow it (`client: &'a super::Client`), so a
//! builder, and a stream made from one, cannot outlive the client or move
//! into `tokio::spawn`. The crate's `Client` is a cheap handle (an `Arc`),
//! defined by hand in `src/client.rs`, so this pass:
//! - drops progenitor's `Client` struct, its constructor, its `ClientInfo`
//!   impl and the `prelude` re-exporting it, and imports
//!   `crate::client::Client` instead;
//! - turns every struct of the `builder` module (and every `impl` of one)
//!   lifetime-free, its `client` field an owned `super::Client` that `new`
//!   clones, and the `Client` methods' return types with it;
//! - reads the client's base URL and HTTP client through `ClientInfo`
//!   (`client.baseurl()`) rather than its fields, and calls the `post` hook
//!   through its trait (the client's own `post` sends raw requests);
//! - gives every builder `with_options` (per-call overrides) through the
//!   crate's `with_options!` macro, which sets them on the owned client.
//!
//! A builder the generator adds later gets all of it as long as it is a
//! struct in the `builder` module with a `client` field.

use quote::ToTokens;
use syn::punctuated::Punctuated;
use syn::visit_mut::VisitMut;

use crate::passes::is_client;

/// Runs the pass over the generated file; gives how many builders own
/// their client now.
pub(crate) fn own_the_client(file: &mut syn::File) -> usize {
    file.items.retain_mut(|item| match item {
        syn::Item::Struct(s) => s.ident != "Client",
        syn::Item::Mod(m) => m.ident != "prelude",
        syn::Item::Impl(imp) if is_client(&imp.self_ty) => {
            if imp.trait_.is_some() {
                // `ClientInfo`, written by hand beside the hooks; the hooks'
                // assertion is a `const`, not an impl.
                return !trait_is(imp, "ClientInfo");
            }
            imp.items
                .retain(|i| !matches!(i, syn::ImplItem::Fn(f) if f.sig.ident == "new_with_client"));
            for impl_item in &mut imp.items {
                if let syn::ImplItem::Fn(f) = impl_item {
                    if let syn::ReturnType::Type(_, ty) = &mut f.sig.output {
                        strip_lifetimes(ty);
                    }
                }
            }
            !imp.items.is_empty()
        }
        _ => true,
    });
    file.items.insert(
        0,
        syn::parse_quote!(
            pub use crate::client::Client;
        ),
    );
    let Some((_, builders)) = file.items.iter_mut().find_map(|item| match item {
        syn::Item::Mod(m) if m.ident == "builder" => m.content.as_mut(),
        _ => None,
    }) else {
        return 0;
    };
    let mut owners = Vec::new();
    for item in builders.iter_mut() {
        match item {
            syn::Item::Struct(s) => owners.extend(own_client_field(s).then(|| s.ident.clone())),
            syn::Item::Impl(imp) => {
                imp.generics.params = imp
                    .generics
                    .params
                    .iter()
                    .filter(|p| !matches!(p, syn::GenericParam::Lifetime(_)))
                    .cloned()
                    .collect();
                strip_lifetimes(&mut imp.self_ty);
                OwnedClient.visit_item_impl_mut(imp);
            }
            _ => {}
        }
    }
    if !owners.is_empty() {
        builders.push(syn::parse_quote!(crate::options::with_options!(#(#owners),*);));
    }
    owners.len()
}

fn trait_is(imp: &syn::ItemImpl, name: &str) -> bool {
    imp.trait_
        .as_ref()
        .and_then(|(_, path, _)| path.segments.last())
        .is_some_and(|s| s.ident == name)
}

/// Removes the lifetime arguments of a path type: `X<'a>` → `X`.
fn strip_lifetimes(ty: &mut syn::Type) {
    let syn::Type::Path(path) = ty else { return };
    let Some(last) = path.path.segments.last_mut() else {
        return;
    };
    if let syn::PathArguments::AngleBracketed(args) = &mut last.arguments {
        args.args = args
            .args
            .iter()
            .filter(|a| !matches!(a, syn::GenericArgument::Lifetime(_)))
            .cloned()
            .collect();
        if args.args.is_empty() {
            last.arguments = syn::PathArguments::None;
        }
    }
}

/// Makes the struct lifetime-free with an owned `client`; whether it has one.
fn own_client_field(s: &mut syn::ItemStruct) -> bool {
    s.generics.params = s
        .generics
        .params
        .iter()
        .filter(|p| !matches!(p, syn::GenericParam::Lifetime(_)))
        .cloned()
        .collect();
    if s.generics.params.is_empty() {
        s.generics.lt_token = None;
        s.generics.gt_token = None;
    }
    let mut owns = false;
    for field in s.fields.iter_mut() {
        if field.ident.as_ref().is_some_and(|i| i == "client") {
            if let syn::Type::Reference(reference) = &field.ty {
                field.ty = (*reference.elem).clone();
            }
            owns = true;
        }
    }
    owns
}

/// The edits inside a builder's `impl`: `new` takes `&Client` and clones
/// it, the client's parts are read through `ClientInfo`, the `post` hook is
/// called through `ClientHooks`.
struct OwnedClient;

impl VisitMut for OwnedClient {
    fn visit_impl_item_fn_mut(&mut self, f: &mut syn::ImplItemFn) {
        if f.sig.ident == "new" {
            for input in f.sig.inputs.iter_mut() {
                if let syn::FnArg::Typed(arg) = input {
                    if let syn::Type::Reference(reference) = &mut *arg.ty {
                        reference.lifetime = None;
                    }
                }
            }
        }
        syn::visit_mut::visit_impl_item_fn_mut(self, f);
    }

    /// `format!` arguments are tokens to syn: parsed, edited, put back.
    fn visit_macro_mut(&mut self, mac: &mut syn::Macro) {
        if !mac.path.is_ident("format") {
            return;
        }
        let parser = Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated;
        if let Ok(mut args) = mac.parse_body_with(parser) {
            for arg in args.iter_mut() {
                self.visit_expr_mut(arg);
            }
            mac.tokens = args.to_token_stream();
        }
    }

    fn visit_field_value_mut(&mut self, field: &mut syn::FieldValue) {
        if matches!(&field.member, syn::Member::Named(n) if n == "client")
            && is_client_var(&field.expr)
        {
            field.expr = syn::parse_quote!(::std::clone::Clone::clone(client));
            field.colon_token = Some(Default::default());
        }
        syn::visit_mut::visit_field_value_mut(self, field);
    }

    fn visit_expr_mut(&mut self, expr: &mut syn::Expr) {
        syn::visit_mut::visit_expr_mut(self, expr);
        match expr {
            syn::Expr::Field(field) if is_client_var(&field.base) => {
                if let syn::Member::Named(name) = &field.member {
                    if name == "baseurl" || name == "client" {
                        *expr = syn::parse_quote!(ClientInfo::#name(&client));
                    }
                }
            }
            syn::Expr::MethodCall(call)
                if call.method == "post"
                    && is_client_var(&call.receiver)
                    && call.args.len() == 2 =>
            {
                let args = &call.args;
                *expr = syn::parse_quote!(ClientHooks::post(&client, #args));
            }
            _ => {}
        }
    }
}

/// Whether `expr` is the variable `client`.
fn is_client_var(expr: &syn::Expr) -> bool {
    matches!(expr, syn::Expr::Path(p) if p.path.is_ident("client"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builders_own_their_client_and_take_options() {
        let mut file: syn::File = syn::parse_quote! {
            pub struct Client { pub(crate) baseurl: String }
            impl Client {
                pub(crate) fn new_with_client(baseurl: &str) -> Self { todo!() }
            }
            impl ClientInfo<crate::client::ClientState> for Client {
                fn baseurl(&self) -> &str { todo!() }
            }
            pub mod prelude {
                pub use self::super::Client;
            }
            impl Client {
                pub fn get_cvm(&self) -> builder::GetCvm<'_> { builder::GetCvm::new(self) }
            }
            pub mod builder {
                pub struct GetCvm<'a> {
                    client: &'a super::Client,
                    cvm_id: Result<String, String>,
                }
                impl<'a> GetCvm<'a> {
                    pub fn new(client: &'a super::Client) -> Self {
                        Self { client: client, cvm_id: Err("unset".into()) }
                    }
                    async fn send_unmapped(self) -> Result<(), ()> {
                        let Self { client, cvm_id } = self;
                        let url = format!("{}/api/v1/cvms/{}", client.baseurl, cvm_id?,);
                        let request = client.client.get(url).build()?;
                        let result = client.exec(request, &info).await;
                        client.post(&result, &info).await?;
                        Ok(())
                    }
                }
                impl crate::paginate::PagingFields for GetCvm<'_> {}
            }
        };
        assert_eq!(own_the_client(&mut file), 1);
        let code = prettyplease::unparse(&file);
        assert!(!code.contains("pub struct Client"), "{code}");
        assert!(!code.contains("new_with_client"), "{code}");
        assert!(!code.contains("impl ClientInfo"), "{code}");
        assert!(code.contains("pub use crate::client::Client;"), "{code}");
        assert!(!code.contains("prelude"), "{code}");
        assert!(!code.contains('\''), "no lifetime is left: {code}");
        assert!(code.contains("client: super::Client,"), "{code}");
        assert!(
            code.contains("pub fn new(client: &super::Client)"),
            "{code}"
        );
        assert!(
            code.contains("client: ::std::clone::Clone::clone(client)"),
            "{code}"
        );
        // Inside `format!`, prettyplease spaces the tokens.
        assert!(code.contains("ClientInfo::baseurl(& client)"), "{code}");
        assert!(!code.contains("client.baseurl"), "{code}");
        assert!(
            code.contains("ClientInfo::client(&client).get(url)"),
            "{code}"
        );
        assert!(
            code.contains("ClientHooks::post(&client, &result, &info)"),
            "{code}"
        );
        assert!(code.contains("client.exec(request, &info)"), "{code}");
        assert!(
            code.contains("crate::options::with_options!(GetCvm);"),
            "{code}"
        );
        assert!(code.contains("-> builder::GetCvm {"), "{code}");
    }
}
