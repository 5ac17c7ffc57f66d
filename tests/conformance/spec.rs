//! The spec as the suite reads it: the upstream `openapi.json` with the
//! overlay beside it applied (what the server promises and expects), the
//! normalized spec the client was generated from, and the schema lookups
//! the generator and the comparisons share (on `support::schema::flatten`).

use std::sync::OnceLock;

use phala_cloud_codegen::normalize::{normalize, Context, Normalized, RULES};
use phala_cloud_codegen::SpecError;
use serde_json::Value;
use support::schema::flatten;

/// The HTTP methods a path item can hold.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

pub struct Spec {
    /// `openapi.json` as upstream serves it, completed by the overlay beside
    /// it (`openapi.overlay.json`): what the server promises and expects.
    pub upstream: Value,
    /// `upstream` with only the pinned version's branch of each
    /// version-dispatch response: the shapes a client pinning
    /// `X-Phala-Version` gets back.
    pub pinned: Value,
    /// What the client was generated from.
    pub normalized: Normalized,
}

/// One operation of the upstream spec.
pub struct Operation<'a> {
    pub method: &'static str,
    pub path: &'a str,
    pub operation_id: &'a str,
    /// The upstream operation object.
    pub op: &'a Value,
    /// The same operation with version dispatch applied.
    pub pinned: &'a Value,
    /// Its normalized form, if the client generates it.
    pub normalized: Option<&'a Value>,
    /// How the client covers it.
    pub coverage: Coverage,
}

pub enum Coverage {
    /// A generated method, by name.
    Generated(String),
    /// Neither: a spec change the client has not caught up with.
    Missing,
}

/// The normalizer's rule `name`.
fn rule(name: &str) -> fn(&mut Value, &mut Context) -> Result<(), SpecError> {
    RULES
        .iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("the normalizer has a {name} rule"))
        .apply
}

impl Spec {
    /// Read once per test binary, at test time ([`support::spec::files`]).
    pub fn get() -> &'static Spec {
        static SPEC: OnceLock<Spec> = OnceLock::new();
        SPEC.get_or_init(|| {
            let (spec, overlay) = support::spec::files();
            let mut upstream = spec.clone();
            overlay
                .apply(&mut upstream)
                .expect("the overlay applies to openapi.json");
            // The answers' app ids, compose hashes and VM UUIDs are what the
            // client decodes them as: examples and checks use their formats.
            rule("type_id_fields")(&mut upstream, &mut Default::default())
                .expect("type_id_fields accepts the upstream spec");
            let normalized =
                normalize(spec, &overlay).expect("the normalizer accepts openapi.json");
            let mut pinned = upstream.clone();
            rule("dispatch_versions")(&mut pinned, &mut Default::default())
                .expect("dispatch_versions accepts the upstream spec");
            Spec {
                upstream,
                pinned,
                normalized,
            }
        })
    }

    /// Every operation of the upstream spec, in document order.
    pub fn operations(&self) -> Vec<Operation<'_>> {
        let mut out = Vec::new();
        let Some(paths) = self.upstream["paths"].as_object() else {
            return out;
        };
        for (path, item) in paths {
            for method in METHODS {
                let Some(op) = item.get(method) else { continue };
                let operation_id = op["operationId"].as_str().unwrap_or_default();
                let context = &self.normalized.context;
                let coverage = if let Some(g) = context
                    .operations
                    .iter()
                    .find(|o| o.operation_id == operation_id)
                {
                    Coverage::Generated(g.name.clone())
                } else {
                    Coverage::Missing
                };
                out.push(Operation {
                    method,
                    path,
                    operation_id,
                    op,
                    pinned: &self.pinned["paths"][path][method],
                    normalized: self.normalized.spec["paths"]
                        .get(path)
                        .and_then(|i| i.get(method)),
                    coverage,
                });
            }
        }
        out
    }
}

impl Operation<'_> {
    pub fn name(&self) -> String {
        match &self.coverage {
            Coverage::Generated(name) => name.clone(),
            Coverage::Missing => format!("{} {} ({})", self.method, self.path, self.operation_id),
        }
    }

    /// The first success status and its JSON schema (`None`: no body).
    pub fn success(&self) -> (u16, Option<&Value>) {
        let responses = self.pinned["responses"].as_object();
        let Some((status, response)) = responses
            .into_iter()
            .flatten()
            .find(|(status, _)| status.starts_with('2'))
        else {
            return (200, None);
        };
        let status = status.parse().unwrap_or(200);
        (
            status,
            response.pointer("/content/application~1json/schema"),
        )
    }

    /// The request body's JSON schema and whether it is required.
    pub fn body(&self) -> Option<(&Value, bool)> {
        let body = self.op.get("requestBody")?;
        let schema = body.pointer("/content/application~1json/schema")?;
        Some((schema, body["required"].as_bool().unwrap_or(false)))
    }
}

/// Whether `schema` admits `null`, in any of the spellings of OpenAPI 3.0
/// (`nullable`) and 3.1 (`type: [T, "null"]`, a `{type: "null"}` branch).
pub fn is_nullable(doc: &Value, schema: &Value) -> bool {
    let schema = flatten(doc, schema);
    if schema.get("nullable") == Some(&Value::Bool(true)) {
        return true;
    }
    match schema.get("type") {
        Some(Value::String(t)) if t == "null" => return true,
        Some(Value::Array(types)) if types.iter().any(|t| t == "null") => return true,
        _ => {}
    }
    if schema
        .get("enum")
        .and_then(Value::as_array)
        .is_some_and(|e| e.contains(&Value::Null))
    {
        return true;
    }
    ["anyOf", "oneOf"].iter().any(|k| {
        schema
            .get(*k)
            .and_then(Value::as_array)
            .is_some_and(|branches| branches.iter().any(|b| is_nullable(doc, b)))
    })
}

/// The schema's non-null type (`type: "string"`, `type: ["string", "null"]`),
/// or the one its keywords imply.
pub fn type_of(schema: &Value) -> Option<&str> {
    match schema.get("type") {
        Some(Value::String(t)) if t != "null" => Some(t),
        Some(Value::Array(types)) => types
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null"),
        _ if schema.get("properties").is_some() => Some("object"),
        _ if schema.get("items").is_some() || schema.get("prefixItems").is_some() => Some("array"),
        _ => None,
    }
}

/// The non-null branches of an `anyOf`/`oneOf`, if the schema is a union.
pub fn union_branches<'a>(doc: &Value, schema: &'a Value) -> Option<Vec<&'a Value>> {
    let branches = schema
        .get("anyOf")
        .or_else(|| schema.get("oneOf"))
        .and_then(Value::as_array)?;
    Some(branches.iter().filter(|b| !is_null_only(doc, b)).collect())
}

/// `{type: "null"}`: the branch that only admits `null`.
pub fn is_null_only(doc: &Value, schema: &Value) -> bool {
    let schema = flatten(doc, schema);
    schema.get("type").is_some_and(|t| t == "null")
}

/// The schema of property `name` of an object schema (flattened): its
/// declared property, else its `additionalProperties` schema.
pub fn property_schema<'a>(schema: &'a Value, name: &str) -> Option<&'a Value> {
    schema
        .get("properties")
        .and_then(|p| p.get(name))
        .or_else(|| schema.get("additionalProperties").filter(|a| a.is_object()))
}

/// The argument name of a parameter: its setter on the generated builder.
pub use phala_cloud_codegen::inspect::setter_name;
