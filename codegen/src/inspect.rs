//! Facts read off an upstream spec: ID kinds, API versions, paginated
//! operations, the setter each parameter becomes. The ID types, the
//! pagination streams, the API-change report and the conformance suite all
//! check themselves against these, so one reading serves them all.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::normalize::version_in_name;
pub use crate::walk::METHODS;

pub use crate::walk::reachable_schemas;

/// The setter progenitor names after a parameter, which the generated
/// builders have: `X-Compose-Hash` → `x_compose_hash`.
///
/// ```
/// assert_eq!(phala_cloud_codegen::inspect::setter_name("X-Compose-Hash"), "x_compose_hash");
/// ```
pub fn setter_name(parameter: &str) -> String {
    parameter
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// The hashid kinds: `prefix` → table, from schemas with `format: hashid`,
/// `pattern: ^<prefix>_.+` and `title: HashedId[<table>]`
/// (e.g. `kms` → `kms`, `wks` → `teams`).
pub fn hashid_kinds(spec: &Value) -> BTreeMap<String, String> {
    let mut kinds = BTreeMap::new();
    visit(spec, &mut |map| {
        if map.get("format").and_then(Value::as_str) != Some("hashid") {
            return;
        }
        let prefix = map
            .get("pattern")
            .and_then(Value::as_str)
            .and_then(|p| p.strip_prefix('^'))
            .and_then(|p| p.strip_suffix("_.+"));
        let table = map
            .get("title")
            .and_then(Value::as_str)
            .and_then(|t| t.strip_prefix("HashedId["))
            .and_then(|t| t.strip_suffix(']'));
        if let (Some(prefix), Some(table)) = (prefix, table) {
            kinds.insert(prefix.to_string(), table.to_string());
        }
    });
    kinds
}

/// The API versions named by component schema names, oldest first.
pub fn versions(spec: &Value) -> BTreeSet<String> {
    spec.pointer("/components/schemas")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|schemas| schemas.keys())
        .filter_map(|name| version_in_name(name))
        .collect()
}

/// How an operation pages through its results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaginationStyle {
    /// `page` (1-based) and `page_size` query parameters.
    PageNumber,
    /// `limit` with `offset` or `skip`; the field names the offset parameter.
    LimitOffset {
        /// `offset` or `skip`.
        offset_param: String,
    },
    /// An opaque `cursor` query parameter, answered with `next_cursor`.
    Cursor,
}

/// A paginated operation of the spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaginatedOperation {
    /// Lower-case HTTP method.
    pub method: String,
    /// Path template.
    pub path: String,
    /// Upstream operationId.
    pub operation_id: String,
    /// Its pagination style.
    pub style: PaginationStyle,
}

/// Every operation whose query parameters follow one of the
/// [`PaginationStyle`]s, in document order.
pub fn paginated_operations(spec: &Value) -> Vec<PaginatedOperation> {
    let mut found = Vec::new();
    let Some(paths) = spec.get("paths").and_then(Value::as_object) else {
        return found;
    };
    for (path, item) in paths {
        for method in METHODS {
            let Some(op) = item.get(method) else {
                continue;
            };
            let query: BTreeSet<&str> = op
                .get("parameters")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter(|p| p.get("in").and_then(Value::as_str) == Some("query"))
                .filter_map(|p| p.get("name").and_then(Value::as_str))
                .collect();
            let style = if query.contains("cursor") {
                PaginationStyle::Cursor
            } else if query.contains("page") && query.contains("page_size") {
                PaginationStyle::PageNumber
            } else if let (true, Some(offset)) = (
                query.contains("limit"),
                ["offset", "skip"].into_iter().find(|o| query.contains(o)),
            ) {
                PaginationStyle::LimitOffset {
                    offset_param: offset.to_string(),
                }
            } else {
                continue;
            };
            found.push(PaginatedOperation {
                method: method.to_string(),
                path: path.clone(),
                operation_id: op
                    .get("operationId")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                style,
            });
        }
    }
    found
}

fn visit(value: &Value, f: &mut dyn FnMut(&serde_json::Map<String, Value>)) {
    match value {
        Value::Object(map) => {
            f(map);
            map.values().for_each(|v| visit(v, f));
        }
        Value::Array(items) => items.iter().for_each(|v| visit(v, f)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_hashid_kinds() {
        let spec = json!({"components": {"schemas": {"A": {"properties": {
            "id": {"type": "string", "format": "hashid", "pattern": "^kms_.+", "title": "HashedId[kms]"},
            "team": {"type": "string", "format": "hashid", "pattern": "^wks_.+", "title": "HashedId[teams]"},
            "loose": {"type": "string", "format": "hashid", "title": "Id"}
        }}}}});
        let kinds = hashid_kinds(&spec);
        assert_eq!(kinds.len(), 2);
        assert_eq!(kinds["wks"], "teams");
    }

    #[test]
    fn reads_versions() {
        let spec = json!({"components": {"schemas": {"a__v20251028__X": {}, "B": {}, "c__v20260121__Y": {}}}});
        assert_eq!(
            versions(&spec).into_iter().collect::<Vec<_>>(),
            ["2025-10-28", "2026-01-21"]
        );
    }

    #[test]
    fn classifies_pagination_styles() {
        let q = |names: &[&str]| -> Value {
            Value::Array(
                names
                    .iter()
                    .map(|n| json!({"in": "query", "name": n}))
                    .collect(),
            )
        };
        let spec = json!({"paths": {
            "/a": {"get": {"operationId": "a", "parameters": q(&["page", "page_size", "search"])}},
            "/b": {"get": {"operationId": "b", "parameters": q(&["skip", "limit"])}},
            "/c": {"get": {"operationId": "c", "parameters": q(&["cursor", "limit"])}},
            "/d": {"get": {"operationId": "d", "parameters": q(&["limit"])}}
        }});
        let styles: Vec<_> = paginated_operations(&spec)
            .into_iter()
            .map(|o| (o.operation_id, o.style))
            .collect();
        assert_eq!(
            styles,
            [
                ("a".to_string(), PaginationStyle::PageNumber),
                (
                    "b".to_string(),
                    PaginationStyle::LimitOffset {
                        offset_param: "skip".into()
                    }
                ),
                ("c".to_string(), PaginationStyle::Cursor),
            ]
        );
    }
}
