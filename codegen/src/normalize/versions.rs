//! Version dispatch: the client pins one `X-Phala-Version`, so a response that
//! the spec declares as an `anyOf` of per-version shapes is generated with the
//! pinned version's branch(es) only, never as an untagged enum of old and new.

use std::collections::{BTreeSet, HashSet};

use serde_json::{Map, Value};

use super::Context;
use crate::pointer::join;
use crate::walk::{collect_refs, operations, ref_name};
use crate::SpecError;

/// Which API versions a schema belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionScope {
    /// Returned only under this `X-Phala-Version`.
    Only(&'static str),
    /// Returned under every version.
    All,
}

/// Schemas whose version cannot be read from their name or from what they
/// reference, with the version they belong to (upstream names).
pub const SCHEMA_VERSIONS: &[(&str, VersionScope)] = &[
    // The legacy flat CVM shape (`hosted{}`, numeric ids) of `GET /cvms` and
    // `GET /apps/{app_id}/cvms`.
    ("HostedCvm", VersionScope::Only("2025-10-28")),
    // `GET /cvms/{cvm_id}`: the legacy shape; `CVMInfoDetail` is 2026-01-21's
    // (the official SDKs decode it so under that header).
    (
        "teehouse__api__routes__cvms__management__CvmBasicInfo",
        VersionScope::Only("2025-10-28"),
    ),
    ("CVMInfoDetail", VersionScope::Only("2026-01-21")),
    // `GET /apps/{app_id}` answers this for an app without CVMs, whatever the version.
    ("DstackAppMinimalResponse", VersionScope::All),
];

/// The API version a schema name carries (`…__v20260121__…` → `2026-01-21`).
pub fn version_in_name(name: &str) -> Option<String> {
    let bytes = name.as_bytes();
    (0..bytes.len().saturating_sub(8)).find_map(|i| {
        let marker = matches!(bytes[i], b'v' | b'V');
        let digits = &name[i + 1..i + 9];
        let boundary = i == 0 || !bytes[i - 1].is_ascii_digit();
        let after = name
            .as_bytes()
            .get(i + 9)
            .is_none_or(|b| !b.is_ascii_digit());
        (marker
            && boundary
            && after
            && digits.starts_with("20")
            && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| format!("{}-{}-{}", &digits[..4], &digits[4..6], &digits[6..]))
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Scope {
    Only(String),
    All,
    Unknown,
    Conflicting(BTreeSet<String>),
}

struct Classifier<'a> {
    schemas: &'a Map<String, Value>,
}

impl Classifier<'_> {
    fn branch(&self, branch: &Value) -> Scope {
        if branch.get("type").is_some_and(|t| t == "array") {
            if let Some(items) = branch.get("items") {
                return self.branch(items);
            }
        }
        if let Some(name) = branch
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(ref_name)
        {
            if let Some(v) = version_in_name(name) {
                return Scope::Only(v);
            }
            if let Some((_, scope)) = SCHEMA_VERSIONS.iter().find(|(n, _)| *n == name) {
                return match scope {
                    VersionScope::Only(v) => Scope::Only((*v).to_string()),
                    VersionScope::All => Scope::All,
                };
            }
        }
        let found = self.markers_below(branch);
        match found.len() {
            0 => Scope::Unknown,
            1 => Scope::Only(found.into_iter().next().unwrap_or_default()),
            _ => Scope::Conflicting(found),
        }
    }

    /// Versions named by the schemas reachable from `value`, by their names
    /// or by [`SCHEMA_VERSIONS`].
    fn markers_below(&self, value: &Value) -> BTreeSet<String> {
        let mut seen = HashSet::new();
        let mut stack = Vec::new();
        collect_refs(value, &mut stack);
        let mut found = BTreeSet::new();
        while let Some(name) = stack.pop() {
            if !seen.insert(name) {
                continue;
            }
            found.extend(version_in_name(name));
            if let Some((_, VersionScope::Only(v))) =
                SCHEMA_VERSIONS.iter().find(|(n, _)| *n == name)
            {
                found.insert((*v).to_string());
            }
            if let Some(schema) = self.schemas.get(name) {
                collect_refs(schema, &mut stack);
            }
        }
        found
    }
}

/// Finds the pinned version and resolves every version-dispatch `anyOf` of a
/// success response to the pinned version's branches.
pub fn dispatch_versions(spec: &mut Value, cx: &mut Context) -> Result<(), SpecError> {
    let schemas = spec
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let versions = crate::inspect::versions(spec);
    let Some(pinned) = versions.last().cloned() else {
        return Err(SpecError::at(
            "/components/schemas",
            "no schema name carries an API version (`v20260121`): cannot choose the X-Phala-Version to pin",
        ));
    };
    cx.versions = versions.into_iter().collect();
    cx.api_version = pinned.clone();
    let classifier = Classifier { schemas: &schemas };

    operations(spec, &mut |op| {
        let Some(responses) = op.op.get_mut("responses").and_then(Value::as_object_mut) else {
            return Ok(());
        };
        for (status, response) in responses.iter_mut() {
            if !status.starts_with('2') {
                continue;
            }
            let Some(schema) = response.pointer_mut("/content/application~1json/schema") else {
                continue;
            };
            let ptr = ["responses", status, "content", "application/json", "schema"]
                .iter()
                .fold(op.pointer.clone(), |p, t| join(&p, t));
            resolve(schema, &classifier, &pinned, &ptr)?;
        }
        Ok(())
    })
}

fn resolve(
    schema: &mut Value,
    classifier: &Classifier<'_>,
    pinned: &str,
    ptr: &str,
) -> Result<(), SpecError> {
    let Some(Value::Array(branches)) = schema.get("anyOf") else {
        return Ok(());
    };
    let scopes: Vec<Scope> = branches.iter().map(|b| classifier.branch(b)).collect();
    if scopes.iter().all(|s| *s == Scope::Unknown) {
        return Ok(());
    }
    let mut kept: Vec<Value> = Vec::new();
    for (i, (branch, scope)) in branches.iter().zip(&scopes).enumerate() {
        match scope {
            Scope::Only(v) if v == pinned => {}
            Scope::All => {}
            Scope::Only(_) => continue,
            Scope::Unknown => {
                return Err(SpecError::at(
                    format!("{ptr}/anyOf/{i}"),
                    "a branch of a version-dispatch anyOf has no API version: \
                     add its schema to SCHEMA_VERSIONS",
                ))
            }
            Scope::Conflicting(found) => {
                return Err(SpecError::at(
                    format!("{ptr}/anyOf/{i}"),
                    format!(
                        "a branch of a version-dispatch anyOf references several API versions {found:?}: \
                         add its schema to SCHEMA_VERSIONS"
                    ),
                ))
            }
        }
        if !kept.contains(branch) {
            kept.push(branch.clone());
        }
    }
    match kept.len() {
        0 => Err(SpecError::at(
            format!("{ptr}/anyOf"),
            format!(
                "no branch of this version-dispatch anyOf belongs to the pinned version {pinned}"
            ),
        )),
        1 => {
            *schema = kept.remove(0);
            Ok(())
        }
        _ => {
            schema["anyOf"] = Value::Array(kept);
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn r(name: &str) -> Value {
        json!({"$ref": format!("#/components/schemas/{name}")})
    }

    fn spec(response: Value, schemas: Value) -> Value {
        json!({
            "paths": {"/x": {"get": {"responses": {"200": {"content": {"application/json": {"schema": response}}}}}}},
            "components": {"schemas": schemas}
        })
    }

    fn response(spec: &Value) -> &Value {
        spec.pointer("/paths/~1x/get/responses/200/content/application~1json/schema")
            .unwrap()
    }

    #[test]
    fn reads_versions_from_names() {
        assert_eq!(
            version_in_name("a__v20260121__schemas__X").as_deref(),
            Some("2026-01-21")
        );
        assert_eq!(version_in_name("ProvisionV2"), None);
        assert_eq!(
            version_in_name("UserInfoV20251028").as_deref(),
            Some("2025-10-28")
        );
        assert_eq!(version_in_name("v202601211"), None);
    }

    #[test]
    fn keeps_the_newest_versions_branch() {
        let mut s = spec(
            json!({"anyOf": [r("m__v20251028__A"), r("m__v20260121__A")]}),
            json!({"m__v20251028__A": {}, "m__v20260121__A": {}}),
        );
        let mut cx = Context::default();
        dispatch_versions(&mut s, &mut cx).unwrap();
        assert_eq!(response(&s), &r("m__v20260121__A"));
        assert_eq!(cx.api_version, "2026-01-21");
        assert_eq!(cx.versions, ["2025-10-28", "2026-01-21"]);
    }

    #[test]
    fn follows_references_and_arrays_and_the_table() {
        let mut s = spec(
            json!({"anyOf": [
                {"type": "array", "items": r("HostedCvm")},
                {"type": "array", "items": r("Page")}
            ]}),
            json!({"HostedCvm": {}, "Page": {"properties": {"items": r("m__v20260121__Info")}}, "m__v20260121__Info": {}}),
        );
        dispatch_versions(&mut s, &mut Context::default()).unwrap();
        assert_eq!(response(&s), &json!({"type": "array", "items": r("Page")}));
    }

    #[test]
    fn keeps_version_independent_branches_once() {
        let mut s = spec(
            json!({"anyOf": [r("a__v20251028__Full"), r("DstackAppMinimalResponse"), r("a__v20260121__Full"), r("DstackAppMinimalResponse")]}),
            json!({"a__v20251028__Full": {}, "a__v20260121__Full": {}, "DstackAppMinimalResponse": {}}),
        );
        dispatch_versions(&mut s, &mut Context::default()).unwrap();
        assert_eq!(
            response(&s),
            &json!({"anyOf": [r("DstackAppMinimalResponse"), r("a__v20260121__Full")]})
        );
    }

    #[test]
    fn an_unclassified_branch_is_an_error() {
        let mut s = spec(
            json!({"anyOf": [r("Mystery"), r("a__v20260121__Full")]}),
            json!({"Mystery": {}, "a__v20260121__Full": {}}),
        );
        let err = dispatch_versions(&mut s, &mut Context::default()).unwrap_err();
        assert_eq!(
            err.pointer,
            "/paths/~1x/get/responses/200/content/application~1json/schema/anyOf/0"
        );
        assert!(err.message.contains("SCHEMA_VERSIONS"));
    }

    #[test]
    fn ordinary_unions_are_left_alone() {
        let union = json!({"anyOf": [{"type": "string"}, r("Plain")]});
        let mut s = spec(union.clone(), json!({"Plain": {}, "x__v20260121__Y": {}}));
        dispatch_versions(&mut s, &mut Context::default()).unwrap();
        assert_eq!(response(&s), &union);
    }
}
