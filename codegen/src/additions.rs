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
                (Some(theirs), None) => {
                    notes.push(note(compare(spec, &theirs, &self.schemas, &added.operation)));
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
        let theirs = spec.pointer("/components/schemas").and_then(Value::as_object);
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
/// `path` (parameter names aside).
fn spec_operation(spec: &Value, path: &str, method: &str) -> Option<Value> {
    let template = shape(path);
    spec.get("paths")?
        .as_object()?
        .iter()
        .find(|(p, _)| shape(p) == template)
        .and_then(|(_, item)| item.get(method))
        .cloned()
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
/// the fields of their first success answers' objects.
fn compare(spec: &Value, theirs: &Value, our_schemas: &Map<String, Value>, ours: &Value) -> NoteKind {
    let their_schemas = spec
        .pointer("/components/schemas")
        .and_then(Value::as_object);
    let fields = |op: &Value, schemas: Option<&Map<String, Value>>| -> Vec<String> {
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
            schema = schemas.and_then(|s| s.get(name));
        }
        let mut names: Vec<String> = schema
            .and_then(|s| s.get("properties"))
            .and_then(Value::as_object)
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default();
        names.sort();
        names
    };
    let (theirs, ours) = (fields(theirs, their_schemas), fields(ours, Some(our_schemas)));
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
