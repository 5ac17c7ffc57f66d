//! The operations beyond the spec: endpoints the official SDKs type and call
//! that the docs' `openapi.json` does not describe (or describes only under
//! an older `X-Phala-Version`), kept in `openapi.additions.json` beside it.
//!
//! The file is an OpenAPI 3.1 document of its own: `paths` with one
//! operation per endpoint, each naming where its shape comes from
//! (`x-source`: an official SDK's file, a spec revision, a fixture), and the
//! `components.schemas` they reference. [`Overlay::apply`] merges it into the
//! spec after the overlay's actions, so every normalizer rule, the generator,
//! the mocks and the conformance suite treat an added operation as one of
//! the spec's; `openapi.json` stays what upstream serves.
//!
//! How an addition meets the spec:
//! - an endpoint the spec lacks is added, and its docs say so and name the
//!   source;
//! - an endpoint the spec has under another version (`GET /kms` answers KMS
//!   nodes at 2026-01-21 and KMS contracts at 2026-06-23) is a *versioned
//!   sibling* when its row in the operation table pins a version
//!   (`Version::Of`): it is generated as an operation of its own, under a
//!   path that carries the version after a `#` ([`VERSION_MARK`]), which the
//!   generator strips from the URL ([`wire_path`]) and sends as its
//!   `X-Phala-Version` instead;
//! - an endpoint the spec now describes itself (a newer docs revision) keeps
//!   the addition's shape, and is reported ([`AdditionNote`]) for review:
//!   redundant when the spec answers the same fields, conflicting when not;
//! - a versioned sibling whose path the spec no longer has is reported too
//!   (it goes in at its own path);
//! - a schema of the additions named as one of the spec's, or a reference to a
//!   spec schema that is gone, fails with the place named.
//!
//! [`Overlay::apply`]: crate::overlay::Overlay::apply

use serde_json::{Map, Value};

use crate::operations::{entry, Version};
use crate::pointer::escape;
use crate::walk::collect_refs;
use crate::SpecError;

/// The additions' file name, beside `openapi.json`.
pub const ADDITIONS_FILE: &str = "openapi.additions.json";

/// What separates a versioned sibling's path from its version
/// (`/api/v1/kms#2026-06-23`); a URL path never holds it.
pub const VERSION_MARK: char = '#';

/// The HTTP methods an operation can have.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The path a request goes to: `path` without a versioned sibling's mark.
///
/// ```
/// use phala_cloud_codegen::additions::wire_path;
///
/// assert_eq!(wire_path("/api/v1/kms#2026-06-23"), "/api/v1/kms");
/// assert_eq!(wire_path("/api/v1/kms"), "/api/v1/kms");
/// ```
pub fn wire_path(path: &str) -> &str {
    path.split_once(VERSION_MARK).map_or(path, |(path, _)| path)
}

/// The parsed additions document.
#[derive(Debug, Clone, Default)]
pub struct Additions {
    operations: Vec<Added>,
    schemas: Map<String, Value>,
}

/// One operation of the additions.
#[derive(Debug, Clone, PartialEq)]
pub struct Added {
    /// Lower-case HTTP method.
    pub method: String,
    /// The path, as the spec would write it (`/api/v1/auth/me`).
    pub path: String,
    /// Its `operationId`: the client method's name.
    pub name: String,
    /// Where its shape comes from (`x-source`).
    pub source: String,
    /// The spec operation (by client method name) whose method and path it
    /// shares, answering another shape under another version
    /// (`x-versioned-sibling-of`).
    pub sibling_of: Option<String>,
    /// The operation object.
    pub operation: Value,
}

/// An addition the spec now meets, for `cargo xtask update-spec` to report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdditionNote {
    /// The added operation's name.
    pub name: String,
    /// `GET /api/v1/auth/me`.
    pub request: String,
    /// What the spec does to it.
    pub kind: NoteKind,
}

/// What an [`AdditionNote`] says.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NoteKind {
    /// The spec describes the endpoint now, answering the same fields: the
    /// addition can go (the spec's operation then generates under its own
    /// name: check it against the addition's).
    Redundant,
    /// The spec describes the endpoint now, differently: which to keep is a
    /// decision (the addition is in force until it is removed).
    Conflicts(String),
    /// A versioned sibling's path is gone from the spec: the addition still
    /// generates, at its own path.
    BaseGone,
}

impl Additions {
    /// Parses an additions document: `openapi: 3.1.x`, an `info`, `paths`
    /// whose every operation has an `operationId` and a non-empty
    /// `x-source`, and `components.schemas`; nothing else.
    ///
    /// ```
    /// use phala_cloud_codegen::additions::Additions;
    ///
    /// let additions = Additions::parse(br#"{
    ///     "openapi": "3.1.0",
    ///     "info": {"title": "beyond", "version": "1"},
    ///     "paths": {"/api/v1/auth/me": {"get": {
    ///         "operationId": "get_current_user",
    ///         "x-source": "JS getCurrentUser",
    ///         "responses": {"200": {"description": "The user."}}
    ///     }}}
    /// }"#)?;
    /// assert_eq!(additions.operations()[0].name, "get_current_user");
    /// # Ok::<(), phala_cloud_codegen::SpecError>(())
    /// ```
    pub fn parse(bytes: &[u8]) -> Result<Self, SpecError> {
        let doc: Value = serde_json::from_slice(bytes)
            .map_err(|e| refuse("", format!("not valid JSON: {e}")))?;
        let doc = doc
            .as_object()
            .ok_or_else(|| refuse("", "the document is not an object"))?;
        if let Some(key) = doc
            .keys()
            .find(|k| !["openapi", "info", "paths", "components"].contains(&k.as_str()))
        {
            return Err(refuse("", format!("unknown field `{key}`")));
        }
        let version = doc.get("openapi").and_then(Value::as_str).unwrap_or("");
        if !version.starts_with("3.1.") {
            return Err(refuse(
                "/openapi",
                format!("expected OpenAPI 3.1.x, found {version:?}"),
            ));
        }
        if !doc.get("info").is_some_and(Value::is_object) {
            return Err(refuse("/info", "missing"));
        }
        let mut operations = Vec::new();
        let paths = doc
            .get("paths")
            .and_then(Value::as_object)
            .ok_or_else(|| refuse("/paths", "missing or not an object"))?;
        for (path, item) in paths {
            let at = format!("/paths/{}", escape(path));
            let item = item
                .as_object()
                .ok_or_else(|| refuse(&at, "a path item is an object"))?;
            if let Some(key) = item.keys().find(|k| !METHODS.contains(&k.as_str())) {
                return Err(refuse(
                    &at,
                    format!("`{key}`: only operations, each with its own parameters"),
                ));
            }
            for (method, operation) in item {
                operations.push(Added::parse(path, method, operation, &at)?);
            }
        }
        let schemas = match doc.get("components") {
            None => Map::new(),
            Some(components) => {
                let components = components
                    .as_object()
                    .ok_or_else(|| refuse("/components", "not an object"))?;
                if let Some(key) = components.keys().find(|k| *k != "schemas") {
                    return Err(refuse("/components", format!("unknown field `{key}`")));
                }
                components
                    .get("schemas")
                    .and_then(Value::as_object)
                    .cloned()
                    .ok_or_else(|| refuse("/components/schemas", "not an object"))?
            }
        };
        Ok(Self {
            operations,
            schemas,
        })
    }

    /// Its operations, in document order.
    pub fn operations(&self) -> &[Added] {
        &self.operations
    }

    /// Merges the additions into `spec` (see the module docs); gives what
    /// the spec now says of them.
    pub fn merge(&self, spec: &mut Value) -> Result<Vec<AdditionNote>, SpecError> {
        self.check_references(spec)?;
        let schemas = object_at(spec, &["components", "schemas"])?;
        if let Some(name) = self.schemas.keys().find(|name| schemas.contains_key(*name)) {
            return Err(refuse(
                &format!("/components/schemas/{}", escape(name)),
                "the spec has a schema of this name: rename the addition's",
            ));
        }
        schemas.extend(self.schemas.clone());
        let mut notes = Vec::new();
        for added in &self.operations {
            let request = format!("{} {}", added.method.to_uppercase(), added.path);
            let note = |kind| AdditionNote {
                name: added.name.clone(),
                request: request.clone(),
                kind,
            };
            let existing = spec_operation(spec, &added.path, &added.method);
            let path = match (existing, &added.sibling_of) {
                (Some(_), Some(_)) => {
                    let Some(Version::Of(version)) = entry(&added.name).and_then(|e| e.version)
                    else {
                        return Err(refuse(
                            &added.pointer(),
                            format!(
                                "`{}` shares its path with a spec operation by version: its row \
                                 of the operation table (codegen/src/operations.rs) must pin it \
                                 with `.version(Version::Of(…))`",
                                added.name
                            ),
                        ));
                    };
                    format!("{}{VERSION_MARK}{version}", added.path)
                }
                (None, Some(_)) => {
                    notes.push(note(NoteKind::BaseGone));
                    added.path.clone()
                }
                (Some((their_path, theirs)), None) => {
                    let kind = compare(spec, &theirs, &self.schemas, &added.operation);
                    notes.push(note(kind));
                    // In force instead of the spec's, whose path may name
                    // its parameters otherwise.
                    remove_operation(spec, &their_path, &added.method);
                    added.path.clone()
                }
                (None, None) => added.path.clone(),
            };
            object_at(spec, &["paths", &path])?.insert(added.method.clone(), added.documented());
        }
        Ok(notes)
    }

    /// Every reference of the additions to a schema they do not define must
    /// name one of the spec's.
    fn check_references(&self, spec: &Value) -> Result<(), SpecError> {
        let mut refs = Vec::new();
        for added in &self.operations {
            collect_refs(&added.operation, &mut refs);
        }
        for schema in self.schemas.values() {
            collect_refs(schema, &mut refs);
        }
        let theirs = spec
            .pointer("/components/schemas")
            .and_then(Value::as_object);
        match refs.into_iter().find(|name| {
            !self.schemas.contains_key(*name) && !theirs.is_some_and(|s| s.contains_key(*name))
        }) {
            Some(name) => Err(refuse(
                "/components/schemas",
                format!("an addition references the spec's schema `{name}`, which the spec no longer has"),
            )),
            None => Ok(()),
        }
    }
}

impl Added {
    fn parse(path: &str, method: &str, operation: &Value, at: &str) -> Result<Self, SpecError> {
        let at = format!("{at}/{method}");
        if !path.starts_with("/api/v1/") || path.contains(VERSION_MARK) {
            return Err(refuse(&at, "a path starts with /api/v1/ and has no `#`"));
        }
        let text = |key: &str| {
            operation
                .get(key)
                .and_then(Value::as_str)
                .filter(|s| !s.trim().is_empty())
                .map(str::to_string)
                .ok_or_else(|| refuse(&format!("{at}/{key}"), "missing or empty"))
        };
        Ok(Self {
            method: method.to_string(),
            path: path.to_string(),
            name: text("operationId")?,
            source: text("x-source")?,
            sibling_of: operation
                .get("x-versioned-sibling-of")
                .and_then(Value::as_str)
                .map(str::to_string),
            operation: operation.clone(),
        })
    }

    fn pointer(&self) -> String {
        format!("/paths/{}/{}", escape(&self.path), self.method)
    }

    /// The operation as merged: its description says it is not in the
    /// docs' spec and where its shape comes from.
    fn documented(&self) -> Value {
        let mut operation = self.operation.clone();
        let said = operation
            .get("description")
            .and_then(Value::as_str)
            .map(|d| format!("{d}\n\n"))
            .unwrap_or_default();
        operation["description"] = Value::String(format!(
            "{said}*Beyond the spec:* the docs' OpenAPI spec does not describe this endpoint; \
             its shape comes from {}.",
            self.source
        ));
        operation
    }
}

/// The spec's operation at `method` and a path of the same template as
/// `path` (parameter names aside), with the spec's path.
fn spec_operation(spec: &Value, path: &str, method: &str) -> Option<(String, Value)> {
    let template = shape(path);
    spec.get("paths")?
        .as_object()?
        .iter()
        .filter(|(p, _)| shape(p) == template)
        .find_map(|(p, item)| Some((p.clone(), item.get(method)?.clone())))
}

/// Removes the spec's operation at `path` and `method`, and the path when
/// nothing is left of it.
fn remove_operation(spec: &mut Value, path: &str, method: &str) {
    let Some(paths) = spec.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    let empty = paths
        .get_mut(path)
        .and_then(Value::as_object_mut)
        .is_some_and(|item| {
            item.remove(method);
            !item.keys().any(|k| METHODS.contains(&k.as_str()))
        });
    if empty {
        paths.remove(path);
    }
}

/// `/a/{x}/b` → `/a/{}/b`.
fn shape(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_param = true;
                out.push('{');
            }
            '}' => {
                in_param = false;
                out.push('}');
            }
            _ if in_param => {}
            c => out.push(c),
        }
    }
    out
}

/// Whether the spec's own `theirs` answers what the addition's `ours` does:
/// the fields of their first success answers' objects (an addition's
/// reference names its own schema, or else the spec's).
fn compare(
    spec: &Value,
    theirs: &Value,
    our_schemas: &Map<String, Value>,
    ours: &Value,
) -> NoteKind {
    let their_schemas = spec
        .pointer("/components/schemas")
        .and_then(Value::as_object);
    let (theirs, ours) = (
        answer_fields(theirs, &[their_schemas]),
        answer_fields(ours, &[Some(our_schemas), their_schemas]),
    );
    if theirs == ours {
        NoteKind::Redundant
    } else {
        NoteKind::Conflicts(format!(
            "the spec's answer has the fields [{}], the addition's [{}]",
            theirs.join(", "),
            ours.join(", ")
        ))
    }
}

/// The sorted field names of `op`'s first success answer, its references
/// resolved in the first of `schemas` that defines them.
fn answer_fields(op: &Value, schemas: &[Option<&Map<String, Value>>]) -> Vec<String> {
    let mut schema = op
        .get("responses")
        .and_then(Value::as_object)
        .and_then(|r| r.iter().find(|(status, _)| status.starts_with('2')))
        .and_then(|(_, r)| r.pointer("/content/application~1json/schema"));
    while let Some(name) = schema
        .and_then(|s| s.get("$ref"))
        .and_then(Value::as_str)
        .and_then(crate::walk::ref_name)
    {
        schema = schemas.iter().flatten().find_map(|s| s.get(name));
    }
    let mut names: Vec<String> = schema
        .and_then(|s| s.get("properties"))
        .and_then(Value::as_object)
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    names.sort();
    names
}

/// The object at `keys` below `value`, made where missing; a node on the
/// way that is not an object is the spec's error, at its pointer.
fn object_at<'a>(
    value: &'a mut Value,
    keys: &[&str],
) -> Result<&'a mut Map<String, Value>, SpecError> {
    let mut node = value;
    let mut pointer = String::new();
    for key in keys {
        let map = node
            .as_object_mut()
            .ok_or_else(|| SpecError::at(pointer.clone(), "not an object"))?;
        pointer = format!("{pointer}/{}", escape(key));
        node = map
            .entry(key.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
    }
    node.as_object_mut()
        .ok_or_else(|| SpecError::at(pointer, "not an object"))
}

fn refuse(pointer: &str, what: impl std::fmt::Display) -> SpecError {
    SpecError::at("", format!("{ADDITIONS_FILE}#{pointer}: {what}"))
}

/// The endpoints the official SDKs call beyond the spec that this crate does
/// not type, and why: `(request, why)`.
pub const NOT_TYPED: &[(&str, &str)] = &[
    (
        "GET /api/v1/cvms/{cvm_id}/composition",
        "deprecated in the 2026-03-25 spec revision (the containers' stats)",
    ),
    (
        "PATCH /api/v1/cvms/{cvm_id}/resources",
        "deprecated in favour of `PATCH /cvms/{cvm_id}` (`patch_cvm`)",
    ),
    (
        "PATCH /api/v1/cvms/{cvm_id}/visibility",
        "deprecated in favour of `PATCH /cvms/{cvm_id}` (`patch_cvm`)",
    ),
    (
        "POST /api/v1/cvms/from_cvm_configuration",
        "a legacy CLI helper, marked deprecated (`provision_cvm` and `commit_cvm_provision` replace it)",
    ),
    (
        "POST /api/v1/cvms/pubkey/from_cvm_configuration",
        "a legacy CLI helper, marked deprecated (`app_env_encrypt_key` replaces it)",
    ),
    (
        "PUT /api/v1/cvms/{cvm_id}/compose",
        "a legacy CLI helper, marked deprecated (`update_docker_compose`, `update_compose`)",
    ),
    (
        "GET /api/v1/teepods/available?v03x_only=1",
        "a legacy CLI helper's filter, marked deprecated (`get_available_nodes` without it)",
    ),
];

/// The README's table of the official SDKs' operations beyond the docs'
/// spec: each added operation with its client method and version, each
/// spec operation the table pins to a version of its own, and [`NOT_TYPED`].
/// `codegen/tests/docs.rs` checks the README holds it.
pub fn readme_table(additions: &Additions) -> String {
    let version = |name: &str| match entry(name).and_then(|e| e.version) {
        Some(Version::Of(v)) => v.to_string(),
        Some(Version::Spec) => "the spec's".to_string(),
        None => "the client's".to_string(),
    };
    let mut out =
        String::from("| endpoint | typed here as | `X-Phala-Version` sent |\n|---|---|---|\n");
    for added in &additions.operations {
        let note = match &added.sibling_of {
            Some(base) => format!(" (beside `{base}`, the spec's shape of the path)"),
            None => String::new(),
        };
        out.push_str(&format!(
            "| `{} {}` | `{}`{note} | {} |\n",
            added.method.to_uppercase(),
            added.path.trim_start_matches("/api/v1"),
            added.name,
            version(&added.name)
        ));
    }
    for row in crate::operations::TABLE {
        let (Some(Version::Of(v)), false) = (
            row.version,
            additions.operations.iter().any(|a| a.name == row.name),
        ) else {
            continue;
        };
        out.push_str(&format!(
            "| the spec's `{}`, at the version the SDKs call it | `{}` | {v} |\n",
            row.name, row.name
        ));
    }
    for (request, why) in NOT_TYPED {
        let request = request.replacen("/api/v1", "", 1);
        out.push_str(&format!("| `{request}` | not typed: {why} | |\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn additions(paths: Value, schemas: Value) -> Additions {
        let doc = json!({
            "openapi": "3.1.0",
            "info": {"title": "t", "version": "1"},
            "paths": paths,
            "components": {"schemas": schemas}
        });
        Additions::parse(&serde_json::to_vec(&doc).unwrap()).unwrap()
    }

    fn answering(name: &str, schema: &str) -> Value {
        json!({"operationId": name, "x-source": "a test",
               "responses": {"200": {"description": "ok", "content": {"application/json": {
                   "schema": {"$ref": format!("#/components/schemas/{schema}")}}}}}})
    }

    fn spec() -> Value {
        json!({"openapi": "3.1.0", "paths": {
            "/api/v1/kms": {"get": answering("list_kms_api_v1_kms_get", "Nodes")},
            "/api/v1/me": {"get": answering("me", "Me")}
        }, "components": {"schemas": {
            "Nodes": {"type": "object", "properties": {"items": {"type": "array"}}},
            "Me": {"type": "object", "properties": {"name": {"type": "string"}}}
        }}})
    }

    #[test]
    fn a_new_endpoint_is_added_and_says_where_it_comes_from() {
        let mut doc = spec();
        let notes = additions(
            json!({"/api/v1/os-images": {"get": answering("list_os_images", "Images")}}),
            json!({"Images": {"type": "object"}}),
        )
        .merge(&mut doc)
        .unwrap();
        assert_eq!(notes, []);
        let op = &doc["paths"]["/api/v1/os-images"]["get"];
        assert_eq!(op["operationId"], "list_os_images");
        assert!(op["description"]
            .as_str()
            .unwrap()
            .ends_with("*Beyond the spec:* the docs' OpenAPI spec does not describe this endpoint; its shape comes from a test."));
        assert_eq!(
            doc["components"]["schemas"]["Images"],
            json!({"type": "object"})
        );
    }

    #[test]
    fn a_versioned_sibling_goes_beside_the_spec_operation_under_a_marked_path() {
        let mut sibling = answering("list_kms_contracts", "Contracts");
        sibling["x-versioned-sibling-of"] = json!("list_kms");
        let added = additions(
            json!({"/api/v1/kms": {"get": sibling}}),
            json!({"Contracts": {"type": "object"}}),
        );
        let mut doc = spec();
        assert_eq!(added.merge(&mut doc).unwrap(), []);
        assert_eq!(
            doc["paths"]["/api/v1/kms"]["get"]["operationId"],
            "list_kms_api_v1_kms_get"
        );
        assert_eq!(
            doc["paths"]["/api/v1/kms#2026-06-23"]["get"]["operationId"],
            "list_kms_contracts"
        );
        assert_eq!(wire_path("/api/v1/kms#2026-06-23"), "/api/v1/kms");

        let mut without_base = spec();
        without_base["paths"]
            .as_object_mut()
            .unwrap()
            .remove("/api/v1/kms");
        let notes = added.merge(&mut without_base).unwrap();
        assert_eq!(notes[0].kind, NoteKind::BaseGone);
        assert_eq!(notes[0].request, "GET /api/v1/kms");
        assert!(without_base["paths"]["/api/v1/kms"]["get"].is_object());
    }

    #[test]
    fn a_sibling_without_a_pinned_version_is_refused() {
        let mut sibling = answering("not_in_the_table", "Me2");
        sibling["x-versioned-sibling-of"] = json!("me");
        let err = additions(json!({"/api/v1/me": {"get": sibling}}), json!({"Me2": {}}))
            .merge(&mut spec())
            .unwrap_err();
        assert!(err.message.contains("Version::Of"), "{err}");
    }

    #[test]
    fn an_endpoint_the_spec_now_describes_is_redundant_or_conflicting() {
        let same = additions(
            json!({"/api/v1/me": {"get": answering("get_current_user", "User")}}),
            json!({"User": {"type": "object", "properties": {"name": {"type": "string"}}}}),
        );
        let mut doc = spec();
        let notes = same.merge(&mut doc).unwrap();
        assert_eq!(notes[0].kind, NoteKind::Redundant);
        assert_eq!(
            doc["paths"]["/api/v1/me"]["get"]["operationId"], "get_current_user",
            "the addition stays in force"
        );

        let other = additions(
            json!({"/api/v1/me": {"get": answering("get_current_user", "User")}}),
            json!({"User": {"type": "object", "properties": {"login": {"type": "string"}}}}),
        );
        let notes = other.merge(&mut spec()).unwrap();
        assert_eq!(
            notes[0].kind,
            NoteKind::Conflicts(
                "the spec's answer has the fields [name], the addition's [login]".into()
            )
        );
    }

    #[test]
    fn a_schema_named_as_the_specs_or_a_reference_to_a_gone_one_is_refused() {
        let clash = additions(
            json!({"/api/v1/x": {"get": answering("x", "Me")}}),
            json!({"Me": {"type": "object"}}),
        );
        let err = clash.merge(&mut spec()).unwrap_err();
        assert_eq!(
            err.message,
            "openapi.additions.json#/components/schemas/Me: the spec has a schema of this name: rename the addition's"
        );

        let dangling = additions(
            json!({"/api/v1/x": {"get": answering("x", "Gone")}}),
            json!({}),
        );
        let err = dangling.merge(&mut spec()).unwrap_err();
        assert!(
            err.message.contains("`Gone`, which the spec no longer has"),
            "{err}"
        );

        let builds_on = additions(
            json!({"/api/v1/x": {"get": answering("x", "Me")}}),
            json!({}),
        );
        assert_eq!(builds_on.merge(&mut spec()).unwrap(), []);
    }

    #[test]
    fn malformed_documents_are_refused_with_their_place() {
        let parse = |doc: Value| Additions::parse(&serde_json::to_vec(&doc).unwrap()).unwrap_err();
        let ok = |paths: Value| json!({"openapi": "3.1.0", "info": {}, "paths": paths});
        assert!(Additions::parse(b"[")
            .unwrap_err()
            .message
            .contains("not valid JSON"));
        assert!(parse(json!({"openapi": "3.0.3", "info": {}, "paths": {}}))
            .message
            .contains("expected OpenAPI 3.1.x"));
        assert!(
            parse(json!({"openapi": "3.1.0", "info": {}, "paths": {}, "servers": []}))
                .message
                .contains("unknown field `servers`")
        );
        let no_source = ok(json!({"/api/v1/x": {"get": {"operationId": "x", "responses": {}}}}));
        assert_eq!(
            parse(no_source).message,
            "openapi.additions.json#/paths/~1api~1v1~1x/get/x-source: missing or empty"
        );
        let shared = ok(json!({"/api/v1/x": {"parameters": [], "get": {}}}));
        assert!(parse(shared).message.contains("`parameters`"));
        let marked = ok(json!({"/api/v1/x#1": {"get": {"operationId": "x", "x-source": "s"}}}));
        assert!(parse(marked).message.contains("has no `#`"));
    }

    #[test]
    fn the_addition_replaces_the_specs_operation_whatever_its_parameter_names() {
        let mut doc = spec();
        doc["paths"]["/api/v1/w/{team_slug}"] = json!({
            "get": answering("get_workspace_api", "Me"),
            "post": answering("post_workspace_api", "Me")
        });
        doc["paths"]["/api/v1/v/{team_slug}"] = json!({"get": answering("get_v_api", "Me")});
        let added = additions(
            json!({
                "/api/v1/w/{slug}": {"get": answering("get_workspace", "Me")},
                "/api/v1/v/{slug}": {"get": answering("get_v", "Me")}
            }),
            json!({}),
        );
        let notes = added.merge(&mut doc).unwrap();
        assert_eq!(notes.len(), 2);
        assert!(notes.iter().all(|n| n.kind == NoteKind::Redundant));
        assert_eq!(
            doc["paths"]["/api/v1/w/{slug}"]["get"]["operationId"],
            "get_workspace"
        );
        let theirs = doc["paths"]["/api/v1/w/{team_slug}"].as_object().unwrap();
        assert_eq!(theirs.keys().collect::<Vec<_>>(), ["post"]);
        assert!(doc["paths"].get("/api/v1/v/{team_slug}").is_none());
    }

    #[test]
    fn path_shapes_ignore_parameter_names() {
        assert_eq!(shape("/a/{slug}/b"), shape("/a/{kms_id}/b"));
        assert_ne!(shape("/a/{x}"), shape("/a/{x}/b"));
    }

    #[test]
    fn the_readme_table_has_every_addition_and_what_is_not_typed() {
        let mut sibling = answering("list_kms_contracts", "C");
        sibling["x-versioned-sibling-of"] = json!("list_kms");
        let table = readme_table(&additions(
            json!({"/api/v1/kms": {"get": sibling}}),
            json!({}),
        ));
        assert!(table.contains(
            "| `GET /kms` | `list_kms_contracts` (beside `list_kms`, the spec's shape of the path) | 2026-06-23 |"
        ), "{table}");
        assert!(
            table.contains("| the spec's `get_app_env_encrypt_pubkey`"),
            "{table}"
        );
        assert!(
            table.contains("| `PATCH /cvms/{cvm_id}/resources` | not typed: deprecated"),
            "{table}"
        );
    }
}
