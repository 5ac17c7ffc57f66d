//! Lowers the upstream Phala Cloud spec into what progenitor 0.15 accepts.
//!
//! The [`Overlay`] beside the spec is applied first, so that every rule sees
//! the answers, vocabularies and documentation it adds as if the spec had
//! them. Then the normalizer runs a fixed sequence of named [`RULES`]. Each rule is a plain
//! function over `serde_json::Value` with unit tests on small fragments; a rule
//! that meets a construct it cannot lower refuses with a [`SpecError`] naming
//! the JSON pointer. Order matters and is part of the contract: the 3.1
//! lowering runs before the rules that inspect schemas, version dispatch runs
//! before the union rules (which must see the pinned version's shapes only)
//! and before pruning (legacy shapes become unreachable), and renaming runs
//! last so every other rule sees upstream names in its messages.

mod answers;
mod bodies;
mod defaults;
mod errors;
mod forms;
mod handwritten;
mod id_formats;
mod limits;
mod lower;
mod names;
mod paging;
mod params;
mod presence;
mod prune;
mod responses;
mod unions;
mod unknown_fields;
mod versions;

use serde_json::Value;

use crate::additions::AdditionNote;
use crate::overlay::{Overlay, Unnecessary};
use crate::SpecError;

pub use answers::{ByteAnswer, EmptyAnswer};
pub use forms::{FormField, FormOperation, FILE_FORMAT};
pub use handwritten::HandWritten;
pub use id_formats::{HashidKind, IdType, ID_TYPES};
pub(crate) use names::pascal_case;
pub use names::TYPE_RENAMES;
pub use unknown_fields::EXTRA_FIELD;
pub use versions::{version_in_name, VersionScope, SCHEMA_VERSIONS};

/// Name of the component schema every error response is declared with.
pub const ERROR_BODY: &str = "ApiErrorBody";

/// One normalization step.
pub struct Rule {
    /// Stable name, used in messages and tests.
    pub name: &'static str,
    /// The transformation.
    pub apply: fn(&mut Value, &mut Context) -> Result<(), SpecError>,
}

/// The rules, in the order they run.
pub const RULES: &[Rule] = &[
    Rule {
        name: "type_id_fields",
        apply: id_formats::type_id_fields,
    },
    Rule {
        name: "form_bodies",
        apply: forms::form_bodies,
    },
    Rule {
        name: "reject_unsupported_bodies",
        apply: bodies::reject_unsupported_bodies,
    },
    Rule {
        name: "drop_head_response_bodies",
        apply: responses::drop_head_response_bodies,
    },
    Rule {
        name: "byte_answers",
        apply: answers::byte_answers,
    },
    Rule {
        name: "one_success_type",
        apply: answers::one_success_type,
    },
    Rule {
        name: "name_operations",
        apply: names::name_operations,
    },
    Rule {
        name: "check_hand_written",
        apply: handwritten::check_hand_written,
    },
    Rule {
        name: "read_page_sizes",
        apply: paging::read_page_sizes,
    },
    Rule {
        name: "clean_summaries",
        apply: names::clean_summaries,
    },
    Rule {
        name: "lower_type_arrays",
        apply: lower::lower_type_arrays,
    },
    Rule {
        name: "lower_nullable_unions",
        apply: lower::lower_nullable_unions,
    },
    Rule {
        name: "lower_bare_null",
        apply: lower::lower_bare_null,
    },
    Rule {
        name: "lower_const",
        apply: lower::lower_const,
    },
    Rule {
        name: "merge_enum_unions",
        apply: lower::merge_enum_unions,
    },
    Rule {
        name: "lower_open_enums",
        apply: lower::lower_open_enums,
    },
    Rule {
        name: "lower_examples",
        apply: lower::lower_examples,
    },
    Rule {
        name: "lower_exclusive_bounds",
        apply: lower::lower_exclusive_bounds,
    },
    Rule {
        name: "lower_prefix_items",
        apply: lower::lower_prefix_items,
    },
    Rule {
        name: "lower_custom_formats",
        apply: lower::lower_custom_formats,
    },
    Rule {
        name: "drop_patterns",
        apply: lower::drop_patterns,
    },
    Rule {
        name: "plain_bounded_strings",
        apply: names::plain_bounded_strings,
    },
    Rule {
        name: "drop_inline_titles",
        apply: lower::drop_inline_titles,
    },
    Rule {
        name: "dispatch_versions",
        apply: versions::dispatch_versions,
    },
    Rule {
        name: "type_untyped_union_fields",
        apply: unions::type_untyped_union_fields,
    },
    Rule {
        name: "order_union_branches",
        apply: unions::order_union_branches,
    },
    Rule {
        name: "flatten_optional_bodies",
        apply: bodies::flatten_optional_bodies,
    },
    Rule {
        name: "simplify_parameters",
        apply: params::simplify_parameters,
    },
    Rule {
        name: "type_path_parameters",
        apply: id_formats::type_path_parameters,
    },
    Rule {
        name: "document_defaults",
        apply: defaults::document_defaults,
    },
    Rule {
        name: "optional_collections_are_options",
        apply: presence::optional_collections_are_options,
    },
    Rule {
        name: "unify_error_responses",
        apply: errors::unify_error_responses,
    },
    Rule {
        name: "prune_unreachable",
        apply: prune::prune_unreachable,
    },
    Rule {
        name: "keep_unknown_fields",
        apply: unknown_fields::keep_unknown_fields,
    },
    Rule {
        name: "rename_types",
        apply: names::rename_types,
    },
    Rule {
        name: "check_generator_limits",
        apply: limits::check_generator_limits,
    },
    Rule {
        name: "declare_openapi_3_0",
        apply: declare_openapi_3_0,
    },
];

/// What the rules learn about the spec while they run.
#[derive(Debug, Default, Clone)]
pub struct Context {
    /// The operations left for progenitor, under their final names.
    pub operations: Vec<OperationName>,
    /// The hand-written client methods, on operations of the spec.
    pub hand_written: Vec<HandWritten>,
    /// The `multipart/form-data` operations, which the generator finishes.
    pub forms: Vec<FormOperation>,
    /// The operations that answer bytes.
    pub byte_answers: Vec<ByteAnswer>,
    /// Success statuses without a body that decode as `null`.
    pub empty_answers: Vec<EmptyAnswer>,
    /// The page size each paginated operation's streams ask for, by
    /// operation name.
    pub page_sizes: Vec<(String, u64)>,
    /// The API version the client pins with `X-Phala-Version`.
    pub api_version: String,
    /// Every API version found in schema names, oldest first.
    pub versions: Vec<String>,
    /// The overlay's updates this spec no longer needs (it says the same).
    pub overlay_unnecessary: Vec<Unnecessary>,
    /// The additions this spec now describes itself, or builds on no more.
    pub additions: Vec<AdditionNote>,
}

/// A generated operation: where it is and what it is called in Rust.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationName {
    /// Upstream `operationId`.
    pub operation_id: String,
    /// Lower-case HTTP method.
    pub method: String,
    /// Path template.
    pub path: String,
    /// The snake_case method name on the client.
    pub name: String,
}

/// The result of [`normalize`].
#[derive(Debug, Clone)]
pub struct Normalized {
    /// The OpenAPI 3.0.3 document progenitor is fed.
    pub spec: Value,
    /// What the rules found out.
    pub context: Context,
}

/// Checks that `spec` is OpenAPI 3.0 or 3.1, applies `overlay` to it, then
/// runs every rule on it, in order.
pub fn normalize(mut spec: Value, overlay: &Overlay) -> Result<Normalized, SpecError> {
    require_openapi_3(&spec)?;
    let applied = overlay.apply(&mut spec)?;
    let mut context = Context {
        overlay_unnecessary: applied.unnecessary,
        additions: applied.additions,
        ..Context::default()
    };
    for rule in RULES {
        (rule.apply)(&mut spec, &mut context)?;
    }
    Ok(Normalized { spec, context })
}

/// Only OpenAPI 3.0 and 3.1 documents with `paths` are understood.
fn require_openapi_3(spec: &Value) -> Result<(), SpecError> {
    let version = spec.get("openapi").and_then(Value::as_str).unwrap_or("");
    if !(version.starts_with("3.0.") || version.starts_with("3.1.")) {
        return Err(SpecError::at(
            "/openapi",
            format!("expected OpenAPI 3.0 or 3.1, found {version:?}"),
        ));
    }
    if !spec.get("paths").is_some_and(Value::is_object) {
        return Err(SpecError::at("/paths", "the document has no paths object"));
    }
    Ok(())
}

/// Marks the lowered document as the version progenitor reads.
fn declare_openapi_3_0(spec: &mut Value, _: &mut Context) -> Result<(), SpecError> {
    spec["openapi"] = Value::from("3.0.3");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rule_names_are_unique() {
        let mut names: Vec<_> = RULES.iter().map(|r| r.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), RULES.len());
    }

    #[test]
    fn refuses_swagger_2() {
        let err =
            normalize(json!({"swagger": "2.0", "paths": {}}), &Overlay::default()).unwrap_err();
        assert_eq!(err.pointer, "/openapi");
    }

    #[test]
    fn refuses_missing_paths() {
        let err = require_openapi_3(&json!({"openapi": "3.1.0"})).unwrap_err();
        assert_eq!(
            err.to_string(),
            "openapi.json#/paths: the document has no paths object"
        );
    }
}
