//! The conformance driver: one function that calls any generated operation by
//! name, so a data-driven test can exercise all of them.
//!
//! The driver is read off the generated client itself: each `Client` method
//! returns a builder, each builder field is `Result<T, String>` (required) or
//! `Result<Option<T>, String>` (optional), and its setter takes any value that
//! converts into `T`. So each argument is deserialized into exactly the type
//! its setter takes, and the typed answer is serialized back to JSON. The
//! output is meant for `include!` from a test crate: every path in it is
//! absolute (`::phala_cloud::…`).

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::visit_mut::VisitMut;

use crate::passes::{builder_name, last_segment, mentions, path_is, struct_fields};
use crate::SpecError;

/// One setter of a builder: the argument name and the type the setter takes.
struct Setter {
    name: syn::Ident,
    ty: syn::Type,
}

/// One operation: the client method and its setters.
struct Callable {
    method: syn::Ident,
    setters: Vec<Setter>,
}

/// Emits the source of
/// `pub async fn call(client: &Client, operation: &str, args: &serde_json::Value) -> Result<serde_json::Value, phala_cloud::Error>`
/// and `pub const CALLABLE: &[&str]` (the operations it dispatches) from the
/// generated client's source (`Generated::client`).
///
/// `args` is a JSON object keyed by setter name (`cvm_id`, `page_size`,
/// `x_prepare_only`, `body`); an argument that does not deserialize into its
/// setter's type, or that the operation does not take, is an
/// `Error::InvalidRequest` naming it, and nothing is sent.
pub fn driver(client_source: &str) -> Result<String, SpecError> {
    let file: syn::File = syn::parse_str(client_source).map_err(|e| {
        SpecError::at(
            "",
            format!("the generated client does not parse for the conformance driver: {e}"),
        )
    })?;
    let callables = callables(&file)?;
    let names = callables.iter().map(|c| c.method.to_string());
    let arms = callables.iter().map(arm);
    let tokens = quote! {
        /// The operations [`call`] dispatches, by client method name.
        pub const CALLABLE: &[&str] = &[#(#names),*];

        /// Calls the client method `operation` with `args` (a JSON object keyed
        /// by setter name), sends the request and serializes the typed answer
        /// back to JSON (`null` for an answer without a body).
        pub async fn call(
            client: &::phala_cloud::Client,
            operation: &str,
            args: &::serde_json::Value,
        ) -> ::std::result::Result<::serde_json::Value, ::phala_cloud::Error> {
            let mut args = Args::new(operation, args)?;
            match operation {
                #(#arms)*
                _ => Err(::phala_cloud::Error::InvalidRequest(format!(
                    "the conformance driver has no operation `{operation}`"
                ))),
            }
        }

        /// The arguments of one call, consumed setter by setter.
        struct Args {
            operation: ::std::string::String,
            values: ::serde_json::Map<::std::string::String, ::serde_json::Value>,
        }

        impl Args {
            fn new(
                operation: &str,
                args: &::serde_json::Value,
            ) -> ::std::result::Result<Self, ::phala_cloud::Error> {
                let values = match args {
                    ::serde_json::Value::Object(values) => values.clone(),
                    ::serde_json::Value::Null => ::serde_json::Map::new(),
                    other => {
                        return Err(::phala_cloud::Error::InvalidRequest(format!(
                            "{operation}: the arguments are not a JSON object: {other}"
                        )))
                    }
                };
                Ok(Self {
                    operation: operation.to_string(),
                    values,
                })
            }

            /// The argument `name` as its setter's type, if given.
            fn take<T: ::serde::de::DeserializeOwned>(
                &mut self,
                name: &str,
            ) -> ::std::result::Result<::std::option::Option<T>, ::phala_cloud::Error> {
                let Some(value) = self.values.remove(name) else {
                    return Ok(None);
                };
                ::serde_json::from_value(value).map(Some).map_err(|e| {
                    ::phala_cloud::Error::InvalidRequest(format!(
                        "{}: argument `{name}` is not a `{}`: {e}",
                        self.operation,
                        ::std::any::type_name::<T>()
                    ))
                })
            }

            /// Refuses the arguments no setter took.
            fn finish(self) -> ::std::result::Result<(), ::phala_cloud::Error> {
                if self.values.is_empty() {
                    return Ok(());
                }
                let names: ::std::vec::Vec<&str> = self.values.keys().map(|k| k.as_str()).collect();
                Err(::phala_cloud::Error::InvalidRequest(format!(
                    "{}: no setter for argument(s) {}",
                    self.operation,
                    names.join(", ")
                )))
            }
        }

        /// The typed answer as JSON.
        fn answer<T: ::serde::Serialize>(
            sent: ::std::result::Result<::phala_cloud::ResponseValue<T>, ::phala_cloud::Error>,
        ) -> ::std::result::Result<::serde_json::Value, ::phala_cloud::Error> {
            let value = sent?.into_inner();
            ::serde_json::to_value(&value).map_err(|e| {
                ::phala_cloud::Error::Decode(::std::boxed::Box::new(::phala_cloud::error::DecodeError {
                    path: ".".to_string(),
                    message: format!("the decoded answer does not encode back to JSON: {e}"),
                    excerpt: ::std::string::String::new(),
                }))
            })
        }
    };
    let file: syn::File = syn::parse2(tokens)
        .map_err(|e| SpecError::at("", format!("the conformance driver does not parse: {e}")))?;
    Ok(prettyplease::unparse(&file))
}

/// The match arm that calls one operation.
fn arm(callable: &Callable) -> TokenStream {
    let method = &callable.method;
    let name = method.to_string();
    let setters = callable.setters.iter().map(|Setter { name, ty }| {
        let key = name.to_string();
        quote! {
            let request = match args.take::<#ty>(#key)? {
                Some(value) => request.#name(value),
                None => request,
            };
        }
    });
    quote! {
        #name => {
            let request = client.#method();
            #(#setters)*
            args.finish()?;
            answer(request.send().await)
        }
    }
}

/// Every `Client` method that returns a builder, with that builder's setters.
fn callables(file: &syn::File) -> Result<Vec<Callable>, SpecError> {
    let builders = file
        .items
        .iter()
        .find_map(|item| match item {
            syn::Item::Mod(m) if m.ident == "builder" => m.content.as_ref(),
            _ => None,
        })
        .map(|(_, items)| items.as_slice())
        .ok_or_else(|| SpecError::at("", "the generated client has no `builder` module"))?;
    let not_json = not_json(file, builders);
    let mut callables = Vec::new();
    for item in &file.items {
        let syn::Item::Impl(imp) = item else { continue };
        if !matches!(&*imp.self_ty, syn::Type::Path(p) if p.path.is_ident("Client")) {
            continue;
        }
        for impl_item in &imp.items {
            let syn::ImplItem::Fn(f) = impl_item else {
                continue;
            };
            let Some(builder) = builder_name(&f.sig) else {
                continue;
            };
            if not_json.contains(&builder.to_string()) {
                continue;
            }
            let setters = setters(builders, &builder).ok_or_else(|| {
                SpecError::at(
                    "",
                    format!(
                        "`Client::{}` returns `builder::{builder}`, which the builder module does not define",
                        f.sig.ident
                    ),
                )
            })?;
            callables.push(Callable {
                method: f.sig.ident.clone(),
                setters,
            });
        }
    }
    Ok(callables)
}

/// The builders that do not speak JSON, which the driver leaves to their
/// own wire tests: those of a `multipart/form-data` body (the generator
/// implements `FormFields` for their body type) and those whose `send()`
/// answers bytes.
fn not_json(file: &syn::File, builders: &[syn::Item]) -> Vec<String> {
    // `impl crate::multipart::FormFields for types::X` → `X`, whose builder
    // `types::builder::X` a form operation's builder holds.
    let form_bodies: Vec<&syn::Ident> =
        file.items
            .iter()
            .filter_map(|item| match item {
                syn::Item::Impl(imp)
                    if imp.trait_.as_ref().is_some_and(|(_, t, _)| {
                        path_is(t, &["crate", "multipart", "FormFields"])
                    }) =>
                {
                    last_segment(&imp.self_ty).map(|s| &s.ident)
                }
                _ => None,
            })
            .collect();
    let mut skipped = Vec::new();
    for item in builders {
        match item {
            syn::Item::Struct(s)
                if s.fields.iter().any(|f| {
                    form_bodies
                        .iter()
                        .any(|b| mentions(&f.ty, &["types", "builder", &b.to_string()]))
                }) =>
            {
                skipped.push(s.ident.to_string());
            }
            syn::Item::Impl(imp) => {
                let answers_bytes = imp.items.iter().any(|i| {
                    matches!(i, syn::ImplItem::Fn(f)
                        if f.sig.ident == "send" && matches!(&f.sig.output,
                            syn::ReturnType::Type(_, ty) if mentions(ty, &["bytes", "Bytes"])))
                });
                if answers_bytes {
                    if let syn::Type::Path(p) = &*imp.self_ty {
                        if let Some(last) = p.path.segments.last() {
                            skipped.push(last.ident.to_string());
                        }
                    }
                }
            }
            _ => {}
        }
    }
    skipped
}

/// The setters of the builder struct `name`: every field but `client`.
fn setters(builders: &[syn::Item], name: &syn::Ident) -> Option<Vec<Setter>> {
    let fields = struct_fields(builders, name)?;
    Some(
        fields
            .iter()
            .filter_map(|field| {
                let name = field.ident.clone()?;
                if name == "client" {
                    return None;
                }
                let ty = setter_type(&field.ty)?;
                Some(Setter { name, ty })
            })
            .collect(),
    )
}

/// The type a setter takes, from its field `Result<T, String>`: `T`, or `U`
/// for `Option<U>`, or `types::X` for a body kept as `types::builder::X`;
/// with paths made absolute.
fn setter_type(field: &syn::Type) -> Option<syn::Type> {
    let mut ty = first_generic(field, "Result")?;
    if let Some(inner) = first_generic(&ty, "Option") {
        ty = inner;
    }
    let mut ty = body_type(ty);
    Absolute.visit_type_mut(&mut ty);
    Some(ty)
}

/// `T` in `…::Name<T, …>`.
fn first_generic(ty: &syn::Type, name: &str) -> Option<syn::Type> {
    let syn::Type::Path(path) = ty else {
        return None;
    };
    let last = path.path.segments.last()?;
    if last.ident != name {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.first()? {
        syn::GenericArgument::Type(t) => Some(t.clone()),
        _ => None,
    }
}

/// `types::builder::X` (how a builder keeps its body) → `types::X` (what
/// the body setter takes).
fn body_type(ty: syn::Type) -> syn::Type {
    let syn::Type::Path(mut path) = ty else {
        return ty;
    };
    let idents: Vec<String> = path
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    if idents.len() == 3 && idents[0] == "types" && idents[1] == "builder" {
        path.path.segments = path
            .path
            .segments
            .into_iter()
            .enumerate()
            .filter(|(i, _)| *i != 1)
            .map(|(_, s)| s)
            .collect();
    }
    syn::Type::Path(path)
}

/// Rewrites the generated module's relative paths (`crate::ids::X`,
/// `types::X`) into paths that resolve from a crate depending on
/// `phala_cloud`.
struct Absolute;

impl VisitMut for Absolute {
    fn visit_path_mut(&mut self, path: &mut syn::Path) {
        if path.leading_colon.is_none() {
            let first = path.segments.first().map(|s| s.ident.to_string());
            match first.as_deref() {
                Some("crate") => {
                    if let Some(first) = path.segments.first_mut() {
                        first.ident = syn::Ident::new("phala_cloud", Span::call_site());
                    }
                    path.leading_colon = Some(Default::default());
                }
                Some("types") => {
                    path.segments
                        .insert(0, syn::Ident::new("phala_cloud", Span::call_site()).into());
                    path.leading_colon = Some(Default::default());
                }
                _ => {}
            }
        }
        syn::visit_mut::visit_path_mut(self, path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLIENT: &str = r#"
        pub mod types {
            pub mod builder { pub struct Body { x: Result<u8, String> } }
        }
        pub struct Client;
        impl Client {
            pub fn get_thing(&self) -> builder::GetThing<'_> { builder::GetThing::new(self) }
            pub fn put_thing(&self) -> builder::PutThing<'_> { builder::PutThing::new(self) }
            pub fn baseurl(&self) -> &String { todo!() }
        }
        pub mod builder {
            pub struct GetThing<'a> {
                client: &'a super::Client,
                thing_id: Result<crate::ids::CvmRef, String>,
                page: Result<Option<::std::num::NonZeroU64>, String>,
                status: Result<Option<::std::vec::Vec<::std::string::String>>, String>,
            }
            pub struct PutThing<'a> {
                client: &'a super::Client,
                body: Result<types::builder::Body, String>,
            }
        }
    "#;

    fn squeeze(s: &str) -> String {
        s.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn each_setter_takes_its_fields_type_with_absolute_paths() {
        let code = squeeze(&driver(CLIENT).unwrap());
        assert!(
            code.contains(r#"pub const CALLABLE: &[&str] = &["get_thing", "put_thing"];"#),
            "{code}"
        );
        for expected in [
            r#"args.take::<::phala_cloud::ids::CvmRef>("thing_id")? { Some(value) => request.thing_id(value), None => request, }"#,
            r#"args.take::<::std::num::NonZeroU64>("page")?"#,
            r#".take::<::std::vec::Vec<::std::string::String>>("status")?"#,
            r#"args.take::<::phala_cloud::types::Body>("body")? { Some(value) => request.body(value),"#,
            r#""get_thing" => { let request = client.get_thing();"#,
        ] {
            assert!(code.contains(expected), "missing {expected}\nin {code}");
        }
        assert!(!code.contains("baseurl"), "{code}");
        assert!(!code.contains("\"client\""), "{code}");
    }

    #[test]
    fn form_and_byte_operations_are_left_to_their_wire_tests() {
        let client = CLIENT
            .replace(
                "pub fn baseurl",
                "pub fn upload(&self) -> builder::Upload<'_> { todo!() } \
                 pub fn download(&self) -> builder::Download<'_> { todo!() } \
                 pub fn baseurl",
            )
            .replace(
                "pub struct PutThing<'a> {",
                "pub struct Upload<'a> { client: &'a super::Client, body: Result<types::builder::UploadBody, String> }
                 pub struct Download<'a> { client: &'a super::Client }
                 impl<'a> Download<'a> {
                     pub async fn send(self) -> Result<ResponseValue<::bytes::Bytes>, crate::Error> { todo!() }
                 }
                 pub struct PutThing<'a> {",
            )
            + "impl crate::multipart::FormFields for types::UploadBody {}";
        let code = squeeze(&driver(&client).unwrap());
        assert!(
            code.contains(r#"pub const CALLABLE: &[&str] = &["get_thing", "put_thing"];"#),
            "{code}"
        );
    }

    #[test]
    fn a_builder_the_module_lacks_is_an_error() {
        let err = driver(
            "pub struct Client; impl Client { pub fn x(&self) -> builder::X<'_> { todo!() } } pub mod builder {}",
        )
        .unwrap_err();
        assert!(
            err.message.contains("`Client::x` returns `builder::X`"),
            "{err}"
        );
    }

    #[test]
    fn source_without_builders_is_an_error() {
        let err = driver("pub struct Client;").unwrap_err();
        assert!(err.message.contains("no `builder` module"), "{err}");
        assert!(driver("fn (").is_err());
    }
}
