//! Runs progenitor on the normalized spec and shapes its output for the
//! hand-written layer: the normalizer's spec goes in, progenitor's tokens
//! go through the [`REWRITES`], the operation table's items and the
//! client's constants (`API_VERSION`, `OPERATIONS`) are appended.

use std::panic::{catch_unwind, AssertUnwindSafe};

use progenitor_impl::{
    GenerationSettings, Generator, HooksMode, InterfaceStyle, TagStyle, TypeImpl,
};
use quote::quote;
use schemars::schema::{InstanceType, SchemaObject};
use serde_json::Value;

use crate::additions::{wire_path, Additions};
use crate::normalize::{normalize, Normalized, ID_TYPES};
use crate::overlay::Overlay;
use crate::rewrites::{Fired, REWRITES};
use crate::SpecError;

/// The generated client, and what the normalizer learned on the way.
#[derive(Debug, Clone)]
pub struct Generated {
    /// Pretty-printed Rust source of the client, its builders and types.
    pub client: String,
    /// The normalized spec and its context.
    pub normalized: Normalized,
    /// How often each of [`REWRITES`] fired on progenitor's output.
    pub fired: Vec<Fired>,
}

/// [`generate`] from the bytes of `openapi.json` and of the overlay and the
/// additions beside it ([`crate::overlay::OVERLAY_FILE`],
/// [`crate::additions::ADDITIONS_FILE`]).
pub fn generate_from_bytes(
    spec: &[u8],
    overlay: &[u8],
    additions: &[u8],
) -> Result<Generated, SpecError> {
    let overlay = Overlay::parse(overlay)?.with_additions(Additions::parse(additions)?);
    let spec: Value = serde_json::from_slice(spec)
        .map_err(|e| SpecError::at("", format!("not valid JSON: {e}")))?;
    generate(spec, &overlay)
}

/// Normalizes `spec` with `overlay` and generates the client from it.
pub fn generate(spec: Value, overlay: &Overlay) -> Result<Generated, SpecError> {
    let normalized = normalize(spec, overlay)?;
    let openapi = openapi(&normalized)?;
    let mut generator = Generator::new(&settings());

    let tokens = quietly(|| generator.generate_tokens(&openapi))
        .map_err(|panic| {
            SpecError::at(
                "",
                format!(
                    "progenitor panicked on the normalized spec: {panic} (a bug of the \
                     normalizer: a rule of `check_generator_limits` should have refused \
                     this first; please report it with the spec)"
                ),
            )
        })?
        .map_err(|e| SpecError::at("", format!("progenitor refused the normalized spec: {e}")))?;
    let mut file: syn::File = syn::parse2(tokens).map_err(|e| {
        SpecError::at(
            "",
            format!("progenitor produced code that does not parse: {e}"),
        )
    })?;
    let fired = crate::rewrites::run(REWRITES, &mut file, &normalized)?;
    let pinned = &normalized.context.api_version;
    let versions = &normalized.context.versions;
    file.items.push(syn::parse_quote! {
        /// The `X-Phala-Version` this client is generated for and sends by
        /// default: the newest API version whose response shapes the spec holds.
        pub const API_VERSION: &str = #pinned;
    });
    file.items.push(syn::parse_quote! {
        /// Every API version named by the spec's schemas, oldest first.
        pub const API_VERSIONS: &[&str] = &[#(#versions),*];
    });
    let operations = normalized.context.operations.iter().map(|op| {
        let (name, method, path) = (&op.name, op.method.to_uppercase(), wire_path(&op.path));
        quote!(Operation { name: #name, method: #method, path: #path })
    });
    file.items.push(syn::parse_quote! {
        /// An operation of the API, as the client generates it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub struct Operation {
            /// The client method's name, e.g. `list_kms`.
            pub name: &'static str,
            /// The HTTP method, upper case.
            pub method: &'static str,
            /// The path template, e.g. `/api/v1/cvms/{cvm_id}`.
            pub path: &'static str,
        }
    });
    file.items.push(syn::parse_quote! {
        /// Every generated operation, in the spec's order.
        pub const OPERATIONS: &[Operation] = &[#(#operations),*];
    });
    crate::from_table::add_table_items(&mut file, &normalized)?;
    file.items.push(hashid_types());
    Ok(Generated {
        client: prettyplease::unparse(&file),
        normalized,
        fired,
    })
}

/// The normalized spec as progenitor reads it.
pub(crate) fn openapi(normalized: &Normalized) -> Result<openapiv3::OpenAPI, SpecError> {
    serde_json::from_value(normalized.spec.clone()).map_err(|e| {
        SpecError::at(
            "",
            format!("the normalized spec is not OpenAPI 3.0 as progenitor reads it: {e}"),
        )
    })
}

/// Progenitor's settings. The mock generator (`crate::mock`) uses them too,
/// so that both name and convert every type alike.
pub(crate) fn settings() -> GenerationSettings {
    let mut settings = GenerationSettings::default();
    settings
        .with_interface(InterfaceStyle::Builder)
        .with_tag(TagStyle::Merged)
        .with_hooks(HooksMode::Expected)
        .with_inner_type(quote!(crate::client::ClientState))
        .with_derive("PartialEq");
    with_id_types(&mut settings);
    let file = SchemaObject {
        instance_type: Some(InstanceType::String.into()),
        format: Some(crate::normalize::FILE_FORMAT.to_string()),
        ..SchemaObject::default()
    };
    settings.with_conversion(file, "crate::multipart::File", std::iter::empty());
    settings
}

/// Maps each ID format ([`ID_TYPES`]) to its `crate::ids` type. typify
/// matches a schema by equality ignoring its documentation, so every
/// `{type: string, format: <id format>}` — field, parameter, nullable or not
/// — becomes the type.
fn with_id_types(settings: &mut GenerationSettings) {
    for id in ID_TYPES {
        let schema = SchemaObject {
            instance_type: Some(InstanceType::String.into()),
            format: Some(id.format.to_string()),
            ..SchemaObject::default()
        };
        settings.with_conversion(
            schema,
            id.rust_type,
            [TypeImpl::Display, TypeImpl::FromStr].into_iter(),
        );
    }
}

/// `mod hashids`: the hashid rows of [`ID_TYPES`] as `ids::hashid::hashid_types!`
/// defines them, one type per kind, which `crate::ids` re-exports.
fn hashid_types() -> syn::Item {
    let rows = ID_TYPES.iter().filter_map(|id| {
        let hashid = id.hashid?;
        let name = id.rust_type.rsplit("::").next()?;
        let name = quote::format_ident!("{name}");
        let (kind, prefix, table) = (hashid.kind, hashid.prefix, hashid.table);
        Some(quote!(#name, #kind, #prefix, #table;))
    });
    syn::parse_quote! {
        /// The hashid types, one per hashid row of codegen's `ID_TYPES`.
        pub(crate) mod hashids {
            crate::ids::hashid::hashid_types! {
                #(#rows)*
            }
        }
    }
}

/// Runs `f`, turning a panic into its message without printing it.
pub(crate) fn quietly<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = catch_unwind(AssertUnwindSafe(f));
    std::panic::set_hook(hook);
    result.map_err(|panic| {
        panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "no message".to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_json_is_an_error_not_a_panic() {
        let overlay = br#"{"overlay": "1.0.0", "info": {"title": "t", "version": "1"}, "actions": [{"target": "$", "update": {}}]}"#;
        let additions =
            br#"{"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {}}"#;
        let err = generate_from_bytes(b"{\"openapi\": ", overlay, additions).unwrap_err();
        assert!(
            err.to_string().starts_with("openapi.json#: not valid JSON"),
            "{err}"
        );
    }

    #[test]
    fn a_panic_becomes_its_message() {
        assert_eq!(quietly(|| panic!("boom")).unwrap_err(), "boom");
        assert_eq!(quietly(|| 3), Ok(3));
    }
}
