//! Answers progenitor does not decode: bytes (`normalize::answers` hands
//! them to it as a byte stream), a `HEAD`'s answer (whether the resource
//! exists), and a success status without a body next to an untyped one.
//!
//! Why: progenitor decodes every success as JSON or hands back a raw byte
//! stream; a caller would get an unread stream for a quote download, an
//! error for a `HEAD`, a decode error for a `202` without a body. It expects
//! progenitor's `send_unmapped` (after `send_returns_crate_error`) with a
//! `match response.status().as_u16()` over `<n>u16` arms.

use syn::visit_mut::VisitMut;

use super::{builder_of, impl_of_mut, path_is};
use crate::normalize::Context;
use crate::SpecError;

/// Gives the builders of byte answers a `send()` that reads the bytes (and
/// a `send_json()` where the spec offers JSON too), the builders of `HEAD`
/// operations an `exists()`, and decodes an empty answer as `null` where
/// the normalizer gave a bodyless status an untyped answer. Gives how many
/// builders it finished.
pub(crate) fn finish_answers(file: &mut syn::File, cx: &Context) -> Result<usize, SpecError> {
    let mut finished = 0;
    let name_of = |operation_id: &str| {
        cx.operations
            .iter()
            .find(|o| o.operation_id == operation_id)
            .map(|o| o.name.clone())
    };
    for answer in &cx.byte_answers {
        let Some(name) = name_of(&answer.operation_id) else {
            continue;
        };
        let accept = answer.media_types.join(", ");
        let imp = builder_impl(file, &name)?;
        let unmapped = send_unmapped(imp, &name)?;
        let mut with_bytes = unmapped.clone();
        Accept(accept.clone()).visit_block_mut(&mut with_bytes.block);
        let bytes_doc = format!(
            "Sends the request and reads the answer's bytes (`Accept: {accept}`) within the \
             client's body limit; its `Content-Type` and other headers come with them."
        );
        let mut items: Vec<syn::ImplItem> = vec![
            syn::ImplItem::Fn(with_bytes),
            syn::parse_quote! {
                #[doc = #bytes_doc]
                pub async fn send(self) -> ::std::result::Result<ResponseValue<::bytes::Bytes>, crate::Error> {
                    crate::transport::send::bytes_answer(self.send_unmapped().await).await
                }
            },
        ];
        if answer.json {
            let mut json = unmapped.clone();
            json.sig.ident = syn::Ident::new("send_json_unmapped", json.sig.ident.span());
            json.sig.output = syn::parse_quote! {
                -> Result<ResponseValue<::serde_json::Value>, Error<ByteStream>>
            };
            Accept("application/json".into()).visit_block_mut(&mut json.block);
            DecodeJson.visit_block_mut(&mut json.block);
            items.push(syn::ImplItem::Fn(json));
            items.push(syn::parse_quote! {
                /// Sends the request asking for the JSON form of the answer
                /// (`Accept: application/json`) and decodes it.
                pub async fn send_json(self) -> ::std::result::Result<ResponseValue<::serde_json::Value>, crate::Error> {
                    crate::error::from_generated(self.send_json_unmapped().await).await
                }
            });
        }
        imp.items.retain(|item| {
            !matches!(item, syn::ImplItem::Fn(f) if f.sig.ident == "send" || f.sig.ident == "send_unmapped")
        });
        imp.items.extend(items);
        finished += 1;
    }
    for op in cx.operations.iter().filter(|o| o.method == "head") {
        let imp = builder_impl(file, &op.name)?;
        imp.items.push(syn::parse_quote! {
            /// Sends the request: `true` when the server answers with a
            /// success, `false` on a 404, an error otherwise.
            pub async fn exists(self) -> ::std::result::Result<bool, crate::Error> {
                crate::transport::send::exists(self.send().await)
            }
        });
        finished += 1;
    }
    for empty in &cx.empty_answers {
        let Some(name) = name_of(&empty.operation_id) else {
            continue;
        };
        let imp = builder_impl(file, &name)?;
        let mut arm = EmptyAsNull {
            status: empty.status,
            replaced: false,
        };
        for item in &mut imp.items {
            if let syn::ImplItem::Fn(f) = item {
                arm.visit_block_mut(&mut f.block);
            }
        }
        if !arm.replaced {
            return Err(SpecError::at(
                "",
                format!(
                    "`{name}`: progenitor's output has no arm for status {}",
                    empty.status
                ),
            ));
        }
        finished += 1;
    }
    Ok(finished)
}

fn builder_impl<'a>(
    file: &'a mut syn::File,
    name: &str,
) -> Result<&'a mut syn::ItemImpl, SpecError> {
    let missing = || {
        SpecError::at(
            "",
            format!("progenitor's output has no builder for `{name}`"),
        )
    };
    let builder = builder_of(file, name).ok_or_else(missing)?;
    impl_of_mut(file, &builder).ok_or_else(missing)
}

fn send_unmapped(imp: &syn::ItemImpl, name: &str) -> Result<syn::ImplItemFn, SpecError> {
    imp.items
        .iter()
        .find_map(|item| match item {
            syn::ImplItem::Fn(f) if f.sig.ident == "send_unmapped" => Some(f.clone()),
            _ => None,
        })
        .ok_or_else(|| {
            SpecError::at(
                "",
                format!("the builder of `{name}` has no `send_unmapped`"),
            )
        })
}

/// Asks for the given media types: `….build()` → `….header(ACCEPT, …).build()`.
struct Accept(String);

impl VisitMut for Accept {
    fn visit_expr_method_call_mut(&mut self, call: &mut syn::ExprMethodCall) {
        syn::visit_mut::visit_expr_method_call_mut(self, call);
        if call.method == "build" && call.args.is_empty() {
            let receiver = &call.receiver;
            let accept = &self.0;
            *call.receiver = syn::parse_quote! {
                #receiver.header(
                    ::reqwest::header::ACCEPT,
                    ::reqwest::header::HeaderValue::from_static(#accept),
                )
            };
        }
    }
}

/// A success arm's `Ok(ResponseValue::stream(response))` → the JSON decode.
struct DecodeJson;

impl VisitMut for DecodeJson {
    fn visit_expr_mut(&mut self, expr: &mut syn::Expr) {
        if is_ok_of_stream(expr) {
            *expr = syn::parse_quote!(ResponseValue::from_response(response).await);
            return;
        }
        syn::visit_mut::visit_expr_mut(self, expr);
    }
}

/// `Ok(ResponseValue::stream(response))`.
fn is_ok_of_stream(expr: &syn::Expr) -> bool {
    let call_of = |expr: &syn::Expr, path: &[&str]| match expr {
        syn::Expr::Call(call) if call.args.len() == 1 && is_path(&call.func, path) => {
            call.args.first().cloned()
        }
        _ => None,
    };
    call_of(expr, &["Ok"])
        .and_then(|inner| call_of(&inner, &["ResponseValue", "stream"]))
        .is_some_and(|arg| is_path(&arg, &["response"]))
}

/// Whether `expr` is the path `segments`.
fn is_path(expr: &syn::Expr, segments: &[&str]) -> bool {
    matches!(expr, syn::Expr::Path(p) if p.qself.is_none() && path_is(&p.path, segments))
}

/// The arm of `status` decodes an empty answer as `null`.
struct EmptyAsNull {
    status: u16,
    replaced: bool,
}

impl VisitMut for EmptyAsNull {
    fn visit_arm_mut(&mut self, arm: &mut syn::Arm) {
        let status = match &arm.pat {
            syn::Pat::Lit(syn::ExprLit {
                lit: syn::Lit::Int(n),
                ..
            }) if n.suffix() == "u16" => n.base10_parse::<u16>().ok(),
            _ => None,
        };
        if status == Some(self.status) {
            *arm.body = syn::parse_quote!({
                let status = response.status();
                let headers = response.headers().clone();
                let body = response.bytes().await.map_err(Error::ResponseBodyError)?;
                let text: &[u8] = if body.is_empty() { b"null" } else { &body };
                match ::serde_json::from_slice(text) {
                    Ok(inner) => Ok(ResponseValue::new(inner, status, headers)),
                    Err(e) => Err(Error::InvalidResponsePayload(body, e)),
                }
            });
            self.replaced = true;
            return;
        }
        syn::visit_mut::visit_arm_mut(self, arm);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::{ByteAnswer, EmptyAnswer, OperationName};

    fn op(name: &str, method: &str) -> OperationName {
        OperationName {
            operation_id: format!("{name}_api"),
            method: method.into(),
            path: "/x".into(),
            name: name.into(),
        }
    }

    fn generated() -> syn::File {
        syn::parse_quote! {
            impl Client {
                pub fn export(&self) -> builder::Export<'_> { builder::Export::new(self) }
                pub fn check(&self) -> builder::Check<'_> { builder::Check::new(self) }
                pub fn put_compose(&self) -> builder::PutCompose<'_> { builder::PutCompose::new(self) }
            }
            pub mod builder {
                impl<'a> Export<'a> {
                    async fn send_unmapped(self) -> Result<ResponseValue<ByteStream>, Error<ByteStream>> {
                        let mut request = client.client.get(url).headers(header_map).build()?;
                        match response.status().as_u16() {
                            200u16 => Ok(ResponseValue::stream(response)),
                            400u16..=499u16 => Err(Error::ErrorResponse(ResponseValue::stream(response))),
                            _ => Err(Error::UnexpectedResponse(response)),
                        }
                    }
                    pub async fn send(self) -> Result<ResponseValue<ByteStream>, crate::Error> { todo() }
                }
                impl<'a> Check<'a> {
                    pub async fn send(self) -> Result<ResponseValue<()>, crate::Error> { todo() }
                }
                impl<'a> PutCompose<'a> {
                    async fn send_unmapped(self) -> Result<ResponseValue<::serde_json::Value>, Error<()>> {
                        match response.status().as_u16() {
                            200u16 => ResponseValue::from_response(response).await,
                            202u16 => ResponseValue::from_response(response).await,
                            _ => Err(Error::UnexpectedResponse(response)),
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn bytes_json_exists_and_empty_answers() {
        let cx = Context {
            operations: vec![
                op("export", "get"),
                op("check", "head"),
                op("put_compose", "put"),
            ],
            byte_answers: vec![ByteAnswer {
                operation_id: "export_api".into(),
                media_types: vec!["application/zip".into(), "application/pdf".into()],
                json: true,
            }],
            empty_answers: vec![EmptyAnswer {
                operation_id: "put_compose_api".into(),
                status: 202,
            }],
            ..Context::default()
        };
        let mut file = generated();
        assert_eq!(finish_answers(&mut file, &cx).unwrap(), 3, "one of each");
        let code = super::super::assert_generates(
            &file,
            &[
                r#".headers(header_map) .header( ::reqwest::header::ACCEPT, ::reqwest::header::HeaderValue::from_static( "application/zip, application/pdf", ), ) .build()?"#,
                "pub async fn send( self, ) -> ::std::result::Result<ResponseValue<::bytes::Bytes>, crate::Error>",
                r#"HeaderValue::from_static("application/json")"#,
                "200u16 => ResponseValue::from_response(response).await,",
                "Err(Error::ErrorResponse(ResponseValue::stream(response)))",
                "pub async fn send_json(",
                "pub async fn exists(self) -> ::std::result::Result<bool, crate::Error>",
                r#"202u16 => { let status = response.status(); let headers = response.headers().clone(); let body = response.bytes().await.map_err(Error::ResponseBodyError)?; let text: &[u8] = if body.is_empty() { b"null" } else { &body };"#,
                "200u16 => ResponseValue::from_response(response).await, 202u16",
            ],
        );
        assert_eq!(code.matches("pub async fn send(").count(), 2, "{code}");
    }
}
