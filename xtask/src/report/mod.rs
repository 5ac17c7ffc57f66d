//! What changed between two revisions of the upstream spec, in terms a user
//! of the generated client cares about, with the breaking changes flagged.
//!
//! Both revisions are compared raw (as upstream serves them), so the report
//! also speaks of what the normalizer would hide or refuse. The facts the ID
//! types and pagination streams rely on come from
//! [`phala_cloud_codegen::inspect`], the same reading they check against.

mod describe;
mod operations;
mod render;
mod schemas;

use std::collections::BTreeMap;
use std::fmt;

use phala_cloud_codegen::inspect::{self, PaginatedOperation, PaginationStyle};
use phala_cloud_codegen::SpecError;
use serde_json::Value;

use describe::Field;

pub use render::{additions_report, markdown, text, unnecessary_overlay_actions};

/// The differences between a vendored and a candidate spec.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Report {
    /// Operations only in the vendored spec (each one breaking).
    pub operations_removed: Vec<Operation>,
    /// Operations only in the candidate.
    pub operations_added: Vec<Operation>,
    /// Operations in both whose parameters, bodies or responses differ.
    pub operations_changed: Vec<Changed>,
    /// Schemas reachable from an operation in the vendored spec only.
    pub schemas_removed: Vec<String>,
    /// Schemas reachable from an operation in the candidate only.
    pub schemas_added: Vec<String>,
    /// Schemas reachable in both, with their fields' differences.
    pub schemas_changed: Vec<Changed>,
    /// `X-Phala-Version` versions named by the candidate's schemas only.
    pub new_versions: Vec<String>,
    /// Hashid kinds (prefix, table) of the candidate only.
    pub new_hashid_kinds: Vec<(String, String)>,
    /// Operations paginated in the candidate that were not (or did not exist) before.
    pub new_paginated: Vec<PaginatedOperation>,
}

/// An operation, by method and path (its identity across revisions).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Operation {
    /// Path template.
    pub path: String,
    /// Upper-case HTTP method.
    pub method: String,
    /// Upstream `operationId`.
    pub operation_id: String,
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

/// An operation or a schema present in both revisions, and how it differs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changed {
    /// `GET /api/v1/kms` or a schema name.
    pub subject: String,
    /// Its differences, in a stable order.
    pub changes: Vec<Change>,
}

/// One difference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// What happened.
    pub kind: ChangeKind,
    /// Code written against the vendored spec may stop compiling or working.
    pub breaking: bool,
    /// In words, names in backticks.
    pub what: String,
}

/// The nature of a [`Change`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// Something new.
    Added,
    /// Something gone.
    Removed,
    /// Something different.
    Changed,
}

impl Change {
    fn new(kind: ChangeKind, breaking: bool, what: impl Into<String>) -> Self {
        Self {
            kind,
            breaking,
            what: what.into(),
        }
    }
}

impl Report {
    /// No difference the report covers.
    pub fn is_empty(&self) -> bool {
        self == &Report::default()
    }

    /// How many changes are flagged as breaking (every removed operation, and
    /// the breaking changes of changed operations and schemas).
    pub fn breaking(&self) -> usize {
        self.operations_removed.len()
            + self
                .operations_changed
                .iter()
                .chain(&self.schemas_changed)
                .flat_map(|c| &c.changes)
                .filter(|c| c.breaking)
                .count()
    }
}

/// Compares the vendored spec `old` with the candidate `new`.
///
/// Fails only when a spec references a schema it does not define (then no
/// set of reachable schemas exists).
///
/// ```
/// use serde_json::json;
///
/// let old = json!({"openapi": "3.1.0", "paths": {"/kms": {"get": {"operationId": "list_kms"}}}});
/// let new = json!({"openapi": "3.1.0", "paths": {"/apps": {"get": {"operationId": "list_apps"}}}});
/// let report = xtask::report::compare(&old, &new)?;
/// assert_eq!(report.operations_removed[0].to_string(), "GET /kms");
/// assert_eq!(report.operations_added[0].operation_id, "list_apps");
/// assert_eq!(report.breaking(), 1);
/// # Ok::<(), phala_cloud_codegen::SpecError>(())
/// ```
pub fn compare(old: &Value, new: &Value) -> Result<Report, SpecError> {
    let ops = operations::compare(old, new);
    let reached = schemas::compare(old, new)?;
    let old_kinds = inspect::hashid_kinds(old);
    let old_paginated: Vec<(String, String)> = inspect::paginated_operations(old)
        .into_iter()
        .map(|o| (o.method, o.path))
        .collect();
    Ok(Report {
        operations_removed: ops.removed,
        operations_added: ops.added,
        operations_changed: ops.changed,
        schemas_removed: reached.removed,
        schemas_added: reached.added,
        schemas_changed: reached.changed,
        new_versions: inspect::versions(new)
            .difference(&inspect::versions(old))
            .cloned()
            .collect(),
        new_hashid_kinds: inspect::hashid_kinds(new)
            .into_iter()
            .filter(|(prefix, _)| !old_kinds.contains_key(prefix))
            .collect(),
        new_paginated: inspect::paginated_operations(new)
            .into_iter()
            .filter(|o| !old_paginated.contains(&(o.method.clone(), o.path.clone())))
            .collect(),
    })
}

/// Who writes the values of a parameter, a body or a field, which decides
/// what breaks existing code.
#[derive(Clone, Copy)]
enum Role {
    /// The caller (parameters, request bodies): a new required input breaks
    /// every call, a relaxed one breaks none.
    Sent,
    /// Either side (schema fields): any change of required-ness turns `T`
    /// into `Option<T>` or back in the generated struct; a new field breaks nothing.
    Shared,
}

/// The changes between two versions of one parameter, body or field, absent
/// on one side when it was added or removed; `label` names it.
fn member_changes(
    label: &str,
    old: Option<&Field>,
    new: Option<&Field>,
    role: Role,
) -> Vec<Change> {
    match (old, new) {
        (None, None) => Vec::new(),
        (Some(_), None) => vec![Change::new(
            ChangeKind::Removed,
            true,
            format!("{label} removed"),
        )],
        (None, Some(n)) => vec![Change::new(
            ChangeKind::Added,
            matches!(role, Role::Sent) && n.required,
            format!("{label} added ({}, {})", n.presence(), n.ty),
        )],
        (Some(o), Some(n)) => {
            let mut changes = Vec::new();
            if o.ty != n.ty {
                changes.push(Change::new(
                    ChangeKind::Changed,
                    true,
                    format!("{label}: {} → {}", o.ty, n.ty),
                ));
            }
            if o.required != n.required {
                changes.push(Change::new(
                    ChangeKind::Changed,
                    matches!(role, Role::Shared) || n.required,
                    format!("{label} is now {}", n.presence()),
                ));
            }
            changes
        }
    }
}

/// How a paginated operation pages, in words.
fn pagination(style: &PaginationStyle) -> String {
    match style {
        PaginationStyle::PageNumber => "`page` / `page_size`".into(),
        PaginationStyle::LimitOffset { offset_param } => format!("`limit` / `{offset_param}`"),
        PaginationStyle::Cursor => "`cursor`".into(),
    }
}

/// The three lists a comparison of operations or schemas gives.
#[derive(Debug)]
struct Diff<T> {
    removed: Vec<T>,
    added: Vec<T>,
    changed: Vec<Changed>,
}

impl<T> Default for Diff<T> {
    fn default() -> Self {
        Self {
            removed: Vec::new(),
            added: Vec::new(),
            changed: Vec::new(),
        }
    }
}

/// One key of two keyed collections.
enum Side<'a, V> {
    Removed(&'a V),
    Added(&'a V),
    Both(&'a V, &'a V),
}

impl<'a, V> Side<'a, V> {
    /// The old and the new value, `None` where absent.
    fn options(&self) -> (Option<&'a V>, Option<&'a V>) {
        match *self {
            Side::Removed(o) => (Some(o), None),
            Side::Added(n) => (None, Some(n)),
            Side::Both(o, n) => (Some(o), Some(n)),
        }
    }
}

/// Every key of `old` and `new`, in order, with the side(s) holding it.
fn sides<'a, K: Ord + Clone, V>(
    old: &'a BTreeMap<K, V>,
    new: &'a BTreeMap<K, V>,
) -> Vec<(K, Side<'a, V>)> {
    let mut keys: Vec<&K> = old.keys().chain(new.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter_map(|k| {
            let side = match (old.get(k), new.get(k)) {
                (Some(o), Some(n)) => Side::Both(o, n),
                (Some(o), None) => Side::Removed(o),
                (None, Some(n)) => Side::Added(n),
                (None, None) => return None,
            };
            Some((k.clone(), side))
        })
        .collect()
}
