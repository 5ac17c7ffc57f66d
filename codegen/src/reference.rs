//! Local JSON references (`{"$ref": "#/components/schemas/Kms"}`): how a
//! `$ref` is followed, in one place, for whatever reads a spec's schemas
//! (the crate's schema validator and example generator among them).

use serde_json::Value;

/// What the local reference `reference` (`#` and a JSON pointer, RFC 6901
/// escapes and all) points to in `doc`; `None` for a reference to another
/// document and for one that dangles.
///
/// ```
/// use phala_cloud_codegen::reference::resolve;
///
/// let doc = serde_json::json!({"components": {"schemas": {"a/b": {"type": "string"}}}});
/// assert_eq!(
///     resolve(&doc, "#/components/schemas/a~1b"),
///     Some(&serde_json::json!({"type": "string"}))
/// );
/// assert_eq!(resolve(&doc, "#/components/schemas/c"), None);
/// assert_eq!(resolve(&doc, "other.json#/components/schemas/a~1b"), None);
/// ```
pub fn resolve<'a>(doc: &'a Value, reference: &str) -> Option<&'a Value> {
    doc.pointer(reference.strip_prefix('#')?)
}

/// The schema `schema`'s own `$ref` points to: `None` without one,
/// `Some(Err(reference))` when it does not resolve in `doc`.
///
/// ```
/// use phala_cloud_codegen::reference::target;
///
/// let doc = serde_json::json!({"components": {"schemas": {"Kms": {"type": "object"}}}});
/// let kms = serde_json::json!({"$ref": "#/components/schemas/Kms"});
/// assert_eq!(target(&doc, &kms), Some(Ok(&doc["components"]["schemas"]["Kms"])));
/// let gone = serde_json::json!({"$ref": "#/components/schemas/Gone"});
/// assert_eq!(target(&doc, &gone), Some(Err("#/components/schemas/Gone")));
/// assert_eq!(target(&doc, &serde_json::json!({"type": "string"})), None);
/// ```
pub fn target<'a, 's>(doc: &'a Value, schema: &'s Value) -> Option<Result<&'a Value, &'s str>> {
    let reference = schema.get("$ref")?.as_str()?;
    Some(resolve(doc, reference).ok_or(reference))
}
