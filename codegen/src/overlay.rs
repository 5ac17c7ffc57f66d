//! The overlay beside the spec: what the API does that `openapi.json` does
//! not say (answers the spec leaves as `schema: {}`, vocabularies, ID
//! formats, documentation), as an [OpenAPI Overlay 1.0] document.
//!
//! [`normalize`](crate::normalize::normalize) applies it before any rule, so
//! every rule sees the spec as the overlay completes it, and `openapi.json`
//! itself stays byte for byte what upstream serves.
//!
//! Each action selects nodes with an RFC 9535 JSONPath `target` and either
//! merges `update` into each (objects key by key, arrays appended to, any
//! other value replaced) or removes them (`remove: true`). Two checks keep a
//! spec change from silently disabling a fix:
//! - an action whose target matches nothing is an error naming the action's
//!   index and target — unless the operation it is about
//!   (`$.paths['…'].<method>`, what its target starts with) is gone from the
//!   spec altogether, or it selects by a filter that nothing passes: then the
//!   spec no longer needs it, and it is reported as [`Unnecessary`]
//!   ([`Why::TargetGone`]). A named schema that is gone is still an error:
//!   it is more likely renamed than dropped, and the fix must follow it;
//! - an update whose every match already holds what it supplies (the spec
//!   now says it itself) is reported as [`Unnecessary`], for `update-spec`
//!   to list. A type keyword (`$ref`, `type`, `format`, `enum`) or a text
//!   (`description`, `summary`, `title`) counts as held when the spec has one
//!   at all, whatever its value; an action marked `x-override: true`
//!   replaces the spec's text on purpose and is never reported.
//!
//! [OpenAPI Overlay 1.0]: https://spec.openapis.org/overlay/v1.0.0.html

use serde_json::{Map, Value};

use crate::additions::{AdditionNote, Additions};
use crate::jsonpath::JsonPath;
use crate::SpecError;

/// The overlay's file name, beside `openapi.json`.
pub const OVERLAY_FILE: &str = "openapi.overlay.json";

/// Keys an update supplies that count as held by any value of the spec's.
const HELD_BY_ANY_VALUE: &[&str] = &[
    "$ref",
    "type",
    "format",
    "enum",
    "description",
    "summary",
    "title",
];

/// Keys that type a schema as well as a `$ref` does.
const TYPED_WITHOUT_REF: &[&str] = &["allOf", "anyOf", "oneOf", "properties", "enum"];

/// A parsed overlay document, with the operations beyond the spec
/// ([`Additions`]) it merges after its actions.
#[derive(Debug, Clone, Default)]
pub struct Overlay {
    actions: Vec<Action>,
    additions: Additions,
}

/// What [`Overlay::apply`] found the spec no longer needs, or now says itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    /// The actions the spec no longer needs.
    pub unnecessary: Vec<Unnecessary>,
    /// The additions the spec now describes, or whose path it dropped.
    pub additions: Vec<AdditionNote>,
}

/// One action of the overlay.
#[derive(Debug, Clone)]
pub struct Action {
    /// The RFC 9535 JSONPath of the nodes it changes, as written.
    pub target: String,
    /// Why the action exists (the document's own `description`).
    pub description: Option<String>,
    /// `x-override: true`: the action replaces what the spec says.
    pub overrides: bool,
    path: JsonPath,
    change: Change,
}

#[derive(Debug, Clone)]
enum Change {
    Update(Value),
    Remove,
}

/// An action the spec no longer needs, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unnecessary {
    /// The action's index in `actions`.
    pub index: usize,
    /// Its target.
    pub target: String,
    /// Its description.
    pub description: Option<String>,
    /// Why the spec does not need it.
    pub why: Why,
}

/// Why an overlay action is [`Unnecessary`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// The spec already has everything the update supplies, at every node
    /// it selects.
    SaysTheSame,
    /// The operation it is about is not in the spec, or its filter selects
    /// nothing.
    TargetGone,
}

impl Overlay {
    /// Parses an overlay document (JSON), checking it against Overlay 1.0:
    /// `overlay: 1.0.x`, an `info` with `title` and `version`, a non-empty
    /// list of actions, each with a valid `target` and exactly one of
    /// `update` and `remove: true`; `x-` extensions anywhere they are
    /// allowed, nothing else.
    ///
    /// ```
    /// use phala_cloud_codegen::overlay::Overlay;
    ///
    /// let overlay = Overlay::parse(br#"{
    ///     "overlay": "1.0.0",
    ///     "info": {"title": "fixes", "version": "1"},
    ///     "actions": [{"target": "$.info", "update": {"description": "Typed."}}]
    /// }"#)?;
    /// let mut spec = serde_json::json!({"info": {"title": "API"}});
    /// overlay.apply(&mut spec)?;
    /// assert_eq!(spec["info"]["description"], "Typed.");
    /// # Ok::<(), phala_cloud_codegen::SpecError>(())
    /// ```
    pub fn parse(bytes: &[u8]) -> Result<Self, SpecError> {
        let doc: Value = serde_json::from_slice(bytes)
            .map_err(|e| refuse("", format!("not valid JSON: {e}")))?;
        let doc = doc
            .as_object()
            .ok_or_else(|| refuse("", "the document is not an object"))?;
        only_keys(doc, &["overlay", "info", "extends", "actions"], "")?;
        let version = doc.get("overlay").and_then(Value::as_str).unwrap_or("");
        if !version.starts_with("1.0.") {
            return Err(refuse(
                "/overlay",
                format!("expected Overlay version 1.0.x, found {version:?}"),
            ));
        }
        let info = doc
            .get("info")
            .and_then(Value::as_object)
            .ok_or_else(|| refuse("/info", "missing"))?;
        only_keys(info, &["title", "version"], "/info")?;
        for key in ["title", "version"] {
            if !info.get(key).is_some_and(Value::is_string) {
                return Err(refuse(&format!("/info/{key}"), "missing or not a string"));
            }
        }
        let actions = doc
            .get("actions")
            .and_then(Value::as_array)
            .filter(|a| !a.is_empty())
            .ok_or_else(|| refuse("/actions", "missing or empty"))?;
        let actions = actions
            .iter()
            .enumerate()
            .map(|(i, action)| Action::parse(i, action))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            actions,
            additions: Additions::default(),
        })
    }

    /// The overlay with `additions` to merge after its actions.
    pub fn with_additions(self, additions: Additions) -> Self {
        Self { additions, ..self }
    }

    /// Reads the overlay ([`OVERLAY_FILE`]) and the additions
    /// ([`ADDITIONS_FILE`](crate::additions::ADDITIONS_FILE)) in `dir`, the
    /// folder of `openapi.json`.
    pub fn read_beside(dir: &std::path::Path) -> Result<Self, SpecError> {
        let read = |name: &str| {
            std::fs::read(dir.join(name))
                .map_err(|e| SpecError::at("", format!("cannot read {name}: {e}")))
        };
        Ok(Self::parse(&read(OVERLAY_FILE)?)?
            .with_additions(Additions::parse(&read(crate::additions::ADDITIONS_FILE)?)?))
    }

    /// Its actions, in order.
    pub fn actions(&self) -> &[Action] {
        &self.actions
    }

    /// The operations it adds to the spec.
    pub fn additions(&self) -> &Additions {
        &self.additions
    }

    /// Applies every action to `spec`, in order, each to the document as
    /// the ones before it left it, then merges the additions. Returns the
    /// updates `spec` no longer needs and what it says of the additions; an
    /// action that matches nothing is an error.
    pub fn apply(&self, spec: &mut Value) -> Result<Applied, SpecError> {
        let unnecessary = self.apply_actions(spec)?;
        let additions = self.additions.merge(spec)?;
        Ok(Applied {
            unnecessary,
            additions,
        })
    }

    fn apply_actions(&self, spec: &mut Value) -> Result<Vec<Unnecessary>, SpecError> {
        let mut unnecessary = Vec::new();
        for (index, action) in self.actions.iter().enumerate() {
            let pointers = action.path.pointers(spec);
            if pointers.is_empty() {
                if !action.subject_gone(spec) {
                    return Err(action.refuse(
                        index,
                        "matches nothing in the spec: the spec changed there, so update or remove the action",
                    ));
                }
                unnecessary.push(Unnecessary {
                    index,
                    target: action.target.clone(),
                    description: action.description.clone(),
                    why: Why::TargetGone,
                });
                continue;
            }
            match &action.change {
                Change::Update(update) => {
                    let held = pointers.iter().all(|p| {
                        spec.pointer(p).is_some_and(|node| match node {
                            Value::Array(items) => items.contains(update),
                            node => holds(node, update),
                        })
                    });
                    if held && !action.overrides {
                        unnecessary.push(Unnecessary {
                            index,
                            target: action.target.clone(),
                            description: action.description.clone(),
                            why: Why::SaysTheSame,
                        });
                    }
                    for pointer in &pointers {
                        let Some(node) = spec.pointer_mut(pointer) else {
                            continue;
                        };
                        match node {
                            Value::Object(_) => merge(node, update),
                            Value::Array(items) => items.push(update.clone()),
                            _ => {
                                return Err(action.refuse(
                                    index,
                                    format!(
                                        "selects {pointer}, which is not an object or an array"
                                    ),
                                ))
                            }
                        }
                    }
                }
                Change::Remove => {
                    // Last first, so that removing an array item leaves the
                    // indices of the others valid.
                    for pointer in pointers.iter().rev() {
                        remove(spec, pointer);
                    }
                }
            }
        }
        Ok(unnecessary)
    }
}

impl Action {
    fn parse(index: usize, value: &Value) -> Result<Self, SpecError> {
        let at = format!("/actions/{index}");
        let action = value
            .as_object()
            .ok_or_else(|| refuse(&at, "an action is an object"))?;
        only_keys(action, &["target", "description", "update", "remove"], &at)?;
        let target = action
            .get("target")
            .and_then(Value::as_str)
            .ok_or_else(|| refuse(&format!("{at}/target"), "missing or not a string"))?
            .to_string();
        let path = JsonPath::parse(&target)
            .map_err(|e| refuse(&format!("{at}/target"), format!("not a JSONPath: {e}")))?;
        let description = match action.get("description") {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return Err(refuse(&format!("{at}/description"), "not a string")),
        };
        let overrides = match action.get("x-override") {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err(refuse(&format!("{at}/x-override"), "not a boolean")),
        };
        let change = match (action.get("update"), action.get("remove")) {
            (Some(update), None | Some(Value::Bool(false))) => Change::Update(update.clone()),
            (None, Some(Value::Bool(true))) => Change::Remove,
            (Some(_), Some(Value::Bool(true))) => {
                return Err(refuse(&at, "an action either updates or removes, not both"))
            }
            (_, Some(other)) if !other.is_boolean() => {
                return Err(refuse(&format!("{at}/remove"), "not a boolean"))
            }
            _ => return Err(refuse(&at, "an action needs `update` or `remove: true`")),
        };
        Ok(Self {
            target,
            description,
            overrides,
            path,
            change,
        })
    }

    /// Whether what the action is about is gone: it selects by a filter, or
    /// its target starts with an operation the spec does not have. An
    /// action whose operation is there but whose node is not fails instead:
    /// the spec changed where the fix applies.
    fn subject_gone(&self, spec: &Value) -> bool {
        if self.target.contains("[?") {
            return true;
        }
        subject(&self.target)
            .and_then(|subject| JsonPath::parse(&subject).ok())
            .is_some_and(|subject| subject.pointers(spec).is_empty())
    }

    fn refuse(&self, index: usize, what: impl std::fmt::Display) -> SpecError {
        SpecError::at(
            "",
            format!(
                "{OVERLAY_FILE} action {index} (target `{}`) {what}",
                self.target
            ),
        )
    }
}

/// An error in the overlay document itself, at `pointer` into it.
/// The operation a target starts with (`$.paths['/x'].get`).
fn subject(target: &str) -> Option<String> {
    let rest = target.strip_prefix("$.paths['")?;
    let path_end = "$.paths['".len() + rest.find("']")? + 2;
    let method = target[path_end..].strip_prefix('.')?;
    let method_len = method
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(method.len());
    Some(target[..path_end + 1 + method_len].to_string())
}

fn refuse(pointer: &str, what: impl std::fmt::Display) -> SpecError {
    SpecError::at("", format!("{OVERLAY_FILE}#{pointer}: {what}"))
}

/// Refuses any key of `object` that is neither in `allowed` nor an `x-`
/// extension.
fn only_keys(object: &Map<String, Value>, allowed: &[&str], at: &str) -> Result<(), SpecError> {
    match object
        .keys()
        .find(|k| !allowed.contains(&k.as_str()) && !k.starts_with("x-"))
    {
        Some(key) => Err(refuse(at, format!("unknown field `{key}`"))),
        None => Ok(()),
    }
}

/// Merges `update` into `node`: objects key by key, arrays appended to,
/// anything else replaced.
fn merge(node: &mut Value, update: &Value) {
    match (node, update) {
        (Value::Object(node), Value::Object(update)) => {
            for (key, value) in update {
                match node.get_mut(key) {
                    Some(existing) => merge(existing, value),
                    None => {
                        node.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (Value::Array(node), Value::Array(update)) => node.extend(update.iter().cloned()),
        (node, update) => *node = update.clone(),
    }
}

/// Whether `node` already holds everything `update` would merge into it.
fn holds(node: &Value, update: &Value) -> bool {
    match (node, update) {
        (Value::Object(node), Value::Object(update)) => {
            update.iter().all(|(key, value)| match node.get(key) {
                Some(_) if HELD_BY_ANY_VALUE.contains(&key.as_str()) => true,
                Some(existing) => holds(existing, value),
                None => key == "$ref" && TYPED_WITHOUT_REF.iter().any(|k| node.contains_key(*k)),
            })
        }
        (Value::Array(node), Value::Array(update)) => update.iter().all(|v| node.contains(v)),
        (node, update) => node == update,
    }
}

/// Removes the node at `pointer` from its parent object or array.
fn remove(doc: &mut Value, pointer: &str) {
    let Some((parent, last)) = pointer.rsplit_once('/') else {
        return;
    };
    let key = last.replace("~1", "/").replace("~0", "~");
    match doc.pointer_mut(parent) {
        Some(Value::Object(map)) => {
            map.shift_remove(&key);
        }
        Some(Value::Array(items)) => {
            if let Some(i) = key.parse::<usize>().ok().filter(|i| *i < items.len()) {
                items.remove(i);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn overlay(actions: Value) -> Overlay {
        let doc =
            json!({"overlay": "1.0.0", "info": {"title": "t", "version": "1"}, "actions": actions});
        Overlay::parse(&serde_json::to_vec(&doc).unwrap()).unwrap()
    }

    fn spec() -> Value {
        json!({"paths": {"/a": {"get": {
            "parameters": [
                {"name": "x", "in": "query", "schema": {"type": "string"}},
                {"name": "target", "in": "query", "schema": {"type": "string"}}
            ],
            "responses": {"200": {"content": {"application/json": {"schema": {}}}}}
        }}}, "components": {"schemas": {"S": {"type": "object", "required": ["a"]}}}})
    }

    #[test]
    fn updates_merge_objects_append_to_arrays_and_replace_the_rest() {
        let mut doc = spec();
        let unnecessary = overlay(json!([
            {"target": "$.paths['/a'].get.responses['200'].content['application/json'].schema",
             "update": {"$ref": "#/components/schemas/S"}},
            {"target": "$.components.schemas.S", "update": {"required": ["b"], "type": "object", "title": "T"}},
            {"target": "$.components.schemas.S.required", "update": "c"}
        ]))
        .apply(&mut doc)
        .unwrap()
        .unnecessary;
        assert_eq!(
            doc.pointer("/paths/~1a/get/responses/200/content/application~1json/schema"),
            Some(&json!({"$ref": "#/components/schemas/S"}))
        );
        assert_eq!(
            doc["components"]["schemas"]["S"],
            json!({"type": "object", "required": ["a", "b", "c"], "title": "T"})
        );
        assert!(unnecessary.is_empty(), "{unnecessary:?}");
    }

    #[test]
    fn removes_what_a_filter_selects() {
        let mut doc = spec();
        overlay(json!([{"target": "$.paths['/a'].get.parameters[?@.name == 'target']", "remove": true}]))
            .apply(&mut doc)
            .unwrap();
        let names: Vec<_> = doc["paths"]["/a"]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].clone())
            .collect();
        assert_eq!(names, [json!("x")]);
    }

    #[test]
    fn a_target_that_matches_nothing_names_the_action() {
        let err = overlay(json!([
            {"target": "$.components", "update": {}},
            {"target": "$.paths['/a'].get.responses['201']", "update": {"description": "s"}}
        ]))
        .apply(&mut spec())
        .unwrap_err();
        assert_eq!(
            err.message,
            "openapi.overlay.json action 1 (target `$.paths['/a'].get.responses['201']`) matches nothing in the spec: \
             the spec changed there, so update or remove the action"
        );
    }

    #[test]
    fn an_action_about_an_operation_that_is_gone_is_reported() {
        let mut doc = spec();
        let unnecessary = overlay(json!([
            {"target": "$.paths['/gone'].get.responses['200']", "update": {"description": "s"}},
            {"target": "$.paths['/a'].post", "update": {"summary": "s"}},
            {"target": "$.components.schemas[?@.properties.nothing]", "update": {"title": "x"}}
        ]))
        .apply(&mut doc)
        .unwrap()
        .unnecessary;
        assert_eq!(unnecessary.len(), 3, "{unnecessary:?}");
        assert!(unnecessary.iter().all(|u| u.why == Why::TargetGone));
        assert_eq!(doc, spec(), "nothing applied");
        assert_eq!(
            subject("$.paths['/a/{x}'].get.responses"),
            Some("$.paths['/a/{x}'].get".into())
        );
        assert_eq!(subject("$.components.schemas.S.required"), None);
        // A schema that is gone is more likely renamed: the fix must follow.
        let renamed = json!([{"target": "$.components.schemas['Gone'].properties.x", "update": {"title": "x"}}]);
        let err = overlay(renamed).apply(&mut spec()).unwrap_err();
        assert!(err.message.contains("matches nothing"), "{err}");
    }

    #[test]
    fn an_update_the_spec_already_holds_is_reported() {
        let mut doc = spec();
        doc["paths"]["/a"]["get"]["responses"]["200"]["content"]["application/json"]["schema"] =
            json!({"type": "object", "properties": {"id": {"type": "string"}}});
        doc["paths"]["/a"]["get"]["parameters"][0]["description"] = json!("documented upstream");
        let actions = json!([
            {"target": "$.paths['/a'].get.responses['200'].content['application/json'].schema",
             "update": {"$ref": "#/components/schemas/S"}, "description": "typed by us"},
            {"target": "$.paths['/a'].get.parameters[?@.name == 'x'].schema", "update": {"enum": ["a"]}},
            {"target": "$.paths['/a'].get.parameters[?@.name == 'x']", "update": {"description": "d"}},
            {"target": "$.paths['/a'].get.parameters[?@.name == 'x']", "update": {"description": "e"}, "x-override": true}
        ]);
        let unnecessary = overlay(actions).apply(&mut doc).unwrap().unnecessary;
        let indices: Vec<_> = unnecessary.iter().map(|u| u.index).collect();
        assert_eq!(indices, [0, 2], "{unnecessary:?}");
        assert_eq!(unnecessary[0].description.as_deref(), Some("typed by us"));
    }

    #[test]
    fn updating_a_scalar_is_refused() {
        let err = overlay(json!([{"target": "$.components.schemas.S.type", "update": "string"}]))
            .apply(&mut spec())
            .unwrap_err();
        assert!(err.message.contains("not an object or an array"), "{err}");
    }

    #[test]
    fn malformed_documents_are_refused_with_their_place() {
        let cases = [
            (
                json!({"overlay": "1.1.0", "info": {"title": "t", "version": "1"}, "actions": []}),
                "#/overlay",
            ),
            (
                json!({"overlay": "1.0.0", "info": {"title": "t"}, "actions": [{}]}),
                "#/info/version",
            ),
            (
                json!({"overlay": "1.0.0", "info": {"title": "t", "version": "1"}, "actions": []}),
                "#/actions",
            ),
            (
                json!({"overlay": "1.0.0", "info": {"title": "t", "version": "1"}, "actions": [{"target": "$", "update": {}, "remove": true}]}),
                "#/actions/0",
            ),
            (
                json!({"overlay": "1.0.0", "info": {"title": "t", "version": "1"}, "actions": [{"target": "not a path", "remove": true}]}),
                "#/actions/0/target",
            ),
            (
                json!({"overlay": "1.0.0", "info": {"title": "t", "version": "1"}, "actions": [{"target": "$"}]}),
                "#/actions/0",
            ),
            (
                json!({"overlay": "1.0.0", "info": {"title": "t", "version": "1"}, "actions": [{"target": "$", "remove": true, "updates": 1}]}),
                "#/actions/0",
            ),
        ];
        for (doc, at) in cases {
            let err = Overlay::parse(&serde_json::to_vec(&doc).unwrap()).unwrap_err();
            assert!(
                err.message
                    .starts_with(&format!("openapi.overlay.json{at}:")),
                "{at}: {err}"
            );
        }
        assert!(Overlay::parse(b"[").is_err());
    }
}
