//! `multipart/form-data` operations: progenitor wrote their builders for the
//! JSON body the normalizer gave them (`normalize::forms`); this pass sends
//! that body as a form instead and gives the builder one setter per form
//! field, so the builder keeps progenitor's shape (its parameters, `body`,
//! `body_map`, `send`) and goes out through the same hooks, transport and
//! error type as every other operation.

use quote::{format_ident, quote};
use syn::visit_mut::VisitMut;

use super::{builder_of, generic_of, impl_of_mut, module, struct_fields};
use crate::normalize::Context;
use crate::SpecError;

/// Finishes every [`FormOperation`] of `cx` in `file`; gives how many.
pub(crate) fn finish_form_operations(
    file: &mut syn::File,
    cx: &Context,
) -> Result<usize, SpecError> {
    let mut impls = Vec::new();
    for form in &cx.forms {
        let Some(name) = cx
            .operations
            .iter()
            .find(|o| o.operation_id == form.operation_id)
            .map(|o| o.name.as_str())
        else {
            continue;
        };
        let missing = |what: &str| {
            SpecError::at(
                &form.pointer,
                format!("the multipart operation `{name}` has no {what} in progenitor's output"),
            )
        };
        let builder = builder_of(file, name).ok_or_else(|| missing("builder"))?;
        let body_type = body_type(file, &builder).ok_or_else(|| missing("builder body"))?;
        let body_fields = body_fields(file, &body_type).ok_or_else(|| missing("body type"))?;
        let mut parts = Vec::new();
        let mut setters = Vec::new();
        for field in &form.fields {
            let Some((ident, ty, mut docs)) = body_fields
                .iter()
                .find(|f| f.wire == field.name || f.ident == field.name)
                .map(|f| (format_ident!("{}", f.ident), f.ty.clone(), f.docs.clone()))
            else {
                return Err(missing(&format!("body field `{}`", field.name)));
            };
            let wire = &field.name;
            if !docs.is_empty() {
                docs.push(syn::parse_quote!(#[doc = ""]));
            }
            let optional = generic_of(&ty, "Option").is_some();
            if field.file {
                parts.push(if optional {
                    quote!(parts.extend(self.#ident.as_ref().map(|file| crate::multipart::file_part(#wire, file)));)
                } else {
                    quote!(parts.push(crate::multipart::file_part(#wire, &self.#ident));)
                });
                let doc = format!(
                    "The form field `{wire}`, a file: its bytes, the file name and the content type it is sent with."
                );
                setters.push(quote! {
                    #(#docs)*
                    #[doc = #doc]
                    pub fn #ident(
                        mut self,
                        content: impl ::std::convert::Into<::bytes::Bytes>,
                        file_name: impl ::std::convert::Into<::std::string::String>,
                        content_type: impl ::std::convert::Into<::std::string::String>,
                    ) -> Self {
                        match crate::multipart::File::new(content, file_name, content_type) {
                            Ok(file) => self.body_map(|body| body.#ident(file)),
                            Err(e) => {
                                self.body = Err(format!("{}: {}", #wire, e));
                                self
                            }
                        }
                    }
                });
            } else {
                parts.push(quote!(crate::multipart::text_parts(&mut parts, #wire, &self.#ident);));
                let value = generic_of(&ty, "Option").cloned().unwrap_or(ty);
                let doc = format!("The form field `{wire}`.");
                setters.push(quote! {
                    #(#docs)*
                    #[doc = #doc]
                    pub fn #ident<V>(mut self, value: V) -> Self
                    where
                        V: ::std::convert::TryInto<#value>,
                        V::Error: ::std::fmt::Display,
                    {
                        match value.try_into() {
                            Ok(value) => self.body_map(|body| body.#ident(value)),
                            Err(e) => {
                                self.body = Err(format!("{}: {}", #wire, e));
                                self
                            }
                        }
                    }
                });
            }
        }
        impls.push(syn::parse_quote! {
            impl crate::multipart::FormFields for types::#body_type {
                fn parts(&self) -> ::std::vec::Vec<crate::multipart::Part> {
                    let mut parts = ::std::vec::Vec::new();
                    #(#parts)*
                    parts
                }
            }
        });
        let imp = impl_of_mut(file, &builder).ok_or_else(|| missing("builder impl"))?;
        let mut send = SendAsForm { replaced: false };
        for item in &mut imp.items {
            if let syn::ImplItem::Fn(f) = item {
                if f.sig.ident == "send_unmapped" {
                    send.visit_block_mut(&mut f.block);
                }
            }
        }
        if !send.replaced {
            return Err(missing("`.json(&body)` in `send`"));
        }
        for setter in setters {
            imp.items
                .push(syn::parse2(setter).map_err(|e| missing(&format!("setter ({e})")))?);
        }
    }
    let finished = impls.len();
    file.items.extend(impls);
    Ok(finished)
}

/// `.json(&body)` → the body as a form.
struct SendAsForm {
    replaced: bool,
}

impl VisitMut for SendAsForm {
    fn visit_expr_mut(&mut self, expr: &mut syn::Expr) {
        syn::visit_mut::visit_expr_mut(self, expr);
        if let syn::Expr::MethodCall(call) = expr {
            if call.method == "json" && call.args.len() == 1 {
                let receiver = &call.receiver;
                let body = &call.args[0];
                *expr = syn::parse_quote!(crate::multipart::attach(#receiver, #body));
                self.replaced = true;
            }
        }
    }
}

/// `X` of a builder's `body: Result<types::builder::X, String>`.
fn body_type(file: &syn::File, builder: &syn::Ident) -> Option<syn::Ident> {
    let fields = struct_fields(module(&file.items, "builder")?, builder)?;
    let body = fields
        .iter()
        .find(|f| f.ident.as_ref().is_some_and(|i| i == "body"))?;
    // `Result<types::builder::X, String>`: the first of two arguments.
    let syn::Type::Path(result) = &body.ty else {
        return None;
    };
    let syn::PathArguments::AngleBracketed(args) = &result.path.segments.last()?.arguments else {
        return None;
    };
    let Some(syn::GenericArgument::Type(syn::Type::Path(path))) = args.args.first() else {
        return None;
    };
    path.path.segments.last().map(|s| s.ident.clone())
}

/// A field of a body type.
struct BodyField {
    ident: String,
    ty: syn::Type,
    docs: Vec<syn::Attribute>,
    /// Its name on the wire.
    wire: String,
}

/// The fields of `types::name`.
fn body_fields(file: &syn::File, name: &syn::Ident) -> Option<Vec<BodyField>> {
    let fields = struct_fields(module(&file.items, "types")?, name)?;
    Some(
        fields
            .iter()
            .filter_map(|f| {
                let ident = f.ident.as_ref()?.to_string();
                let ident = ident.trim_start_matches("r#").to_string();
                let docs = f
                    .attrs
                    .iter()
                    .filter(|a| a.path().is_ident("doc"))
                    .cloned()
                    .collect();
                let wire = serde_rename(&f.attrs).unwrap_or_else(|| ident.clone());
                Some(BodyField {
                    ident,
                    ty: f.ty.clone(),
                    docs,
                    wire,
                })
            })
            .collect(),
    )
}

/// `x` of `#[serde(rename = "x")]`.
fn serde_rename(attrs: &[syn::Attribute]) -> Option<String> {
    let mut rename = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let _ = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") {
                let value: syn::LitStr = meta.value()?.parse()?;
                rename = Some(value.value());
            } else if let Ok(value) = meta.value() {
                value.parse::<syn::Expr>()?;
            }
            Ok(())
        });
    }
    rename
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::{FormField, FormOperation, OperationName};

    fn generated() -> syn::File {
        syn::parse_quote! {
            impl Client {
                pub fn upload(&self) -> builder::Upload<'_> { builder::Upload::new(self) }
            }
            pub mod types {
                pub struct UploadBody {
                    ///The caption.
                    pub caption: ::std::option::Option<::std::string::String>,
                    pub avatar: crate::multipart::File,
                    #[serde(rename = "x-size")]
                    pub x_size: ::std::option::Option<i64>,
                    #[serde(flatten)]
                    pub extra: ::serde_json::Map<::std::string::String, ::serde_json::Value>,
                }
            }
            pub mod builder {
                pub struct Upload<'a> {
                    client: &'a super::Client,
                    body: Result<types::builder::UploadBody, String>,
                }
                impl<'a> Upload<'a> {
                    async fn send_unmapped(self) -> Result<ResponseValue<()>, Error<()>> {
                        let request = client.client.put(url).json(&body).headers(header_map).build()?;
                        todo()
                    }
                }
            }
        }
    }

    fn context() -> Context {
        Context {
            operations: vec![OperationName {
                operation_id: "upload_api".into(),
                method: "put".into(),
                path: "/upload".into(),
                name: "upload".into(),
            }],
            forms: vec![FormOperation {
                operation_id: "upload_api".into(),
                pointer: "/paths/~1upload/put".into(),
                fields: vec![
                    FormField {
                        name: "avatar".into(),
                        file: true,
                    },
                    FormField {
                        name: "caption".into(),
                        file: false,
                    },
                    FormField {
                        name: "x-size".into(),
                        file: false,
                    },
                ],
            }],
            ..Context::default()
        }
    }

    #[test]
    fn the_body_goes_as_a_form_in_the_specs_order_with_a_setter_per_field() {
        let mut file = generated();
        assert_eq!(finish_form_operations(&mut file, &context()).unwrap(), 1);
        let code = super::super::assert_generates(
            &file,
            &[
                "crate::multipart::attach(client.client.put(url), &body)",
                "impl crate::multipart::FormFields for types::UploadBody",
                "pub fn avatar( mut self, content: impl ::std::convert::Into<::bytes::Bytes>,",
                "pub fn caption<V>(mut self, value: V) -> Self where V: ::std::convert::TryInto<::std::string::String>,",
                "pub fn x_size<V>(mut self, value: V) -> Self where V: ::std::convert::TryInto<i64>,",
                "///The caption.",
            ],
        );
        let avatar = code.find(r#"file_part("avatar""#).unwrap();
        let caption = code.find(r#"text_parts(&mut parts, "caption""#).unwrap();
        let size = code.find(r#"text_parts(&mut parts, "x-size""#).unwrap();
        assert!(avatar < caption && caption < size, "{code}");
        assert!(!code.contains("\"extra\""), "{code}");
    }

    #[test]
    fn a_field_progenitor_did_not_generate_is_an_error_with_the_pointer() {
        let mut file = generated();
        let mut cx = context();
        cx.forms[0].fields.push(FormField {
            name: "gone".into(),
            file: false,
        });
        let err = finish_form_operations(&mut file, &cx).unwrap_err();
        assert_eq!(err.pointer, "/paths/~1upload/put");
        assert!(err.message.contains("`gone`"), "{err}");
    }
}
