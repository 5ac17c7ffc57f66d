//! The report as plain text (the terminal) or Markdown (a pull request
//! description): one walk over the report, two ways of writing it down.

use std::fmt::Write as _;

use phala_cloud_codegen::additions::{AdditionNote, NoteKind, ADDITIONS_FILE};
use phala_cloud_codegen::overlay::{Unnecessary, Why, OVERLAY_FILE};

use super::{pagination, Change, ChangeKind, Changed, Operation, Report};

/// The report as plain text, `!` marking breaking changes.
///
/// ```
/// let text = xtask::report::text(&xtask::report::Report::default(), "openapi.json", "new.json");
/// assert!(text.starts_with("API changes: openapi.json → new.json"));
/// ```
pub fn text(report: &Report, from: &str, to: &str) -> String {
    render(report, from, to, Format::Text)
}

/// The report as Markdown for a pull request description, long lists folded.
///
/// ```
/// let md = xtask::report::markdown(&xtask::report::Report::default(), "openapi.json", "new.json");
/// assert!(md.starts_with("## API changes"));
/// ```
pub fn markdown(report: &Report, from: &str, to: &str) -> String {
    render(report, from, to, Format::Markdown)
}

/// The overlay's updates a candidate spec makes unnecessary, as plain text
/// or (`markdown`) Markdown; empty when there are none.
///
/// ```
/// use phala_cloud_codegen::overlay::{Unnecessary, Why};
///
/// let typed = Unnecessary { index: 3, target: "$.paths['/x'].get".into(), description: Some("typed".into()), why: Why::SaysTheSame };
/// let text = xtask::report::unnecessary_overlay_actions(&[typed], false);
/// assert!(text.contains("action 3 (`$.paths['/x'].get`): typed"), "{text}");
/// assert!(xtask::report::unnecessary_overlay_actions(&[], false).is_empty());
/// ```
pub fn unnecessary_overlay_actions(unnecessary: &[Unnecessary], markdown: bool) -> String {
    let mut out = Writer::new(if markdown {
        Format::Markdown
    } else {
        Format::Text
    });
    if unnecessary.is_empty() {
        return out.out;
    }
    for (why, heading) in [
        (Why::SaysTheSame, "it says the same; remove them"),
        (
            Why::TargetGone,
            "the operation they are about is gone, or their filter selects nothing; remove them",
        ),
    ] {
        let actions: Vec<_> = unnecessary.iter().filter(|a| a.why == why).collect();
        if actions.is_empty() {
            continue;
        }
        out.section(
            &format!("{OVERLAY_FILE} actions the new spec makes unnecessary ({heading})"),
            actions.len(),
        );
        for action in actions {
            let what = action.description.as_deref().unwrap_or("no description");
            out.item(
                0,
                ChangeKind::Removed,
                false,
                &format!("action {} (`{}`): {what}", action.index, action.target),
            );
        }
        out.end_section();
    }
    out.out
}

/// What a candidate spec says of the operations typed beyond it
/// (`openapi.additions.json`): the ones it now describes itself (redundant,
/// or conflicting with the addition) and the versioned siblings whose path
/// it dropped; as plain text or (`markdown`) Markdown, empty when none.
///
/// ```
/// use phala_cloud_codegen::additions::{AdditionNote, NoteKind};
///
/// let note = AdditionNote { name: "get_current_user".into(), request: "GET /api/v1/auth/me".into(), kind: NoteKind::Redundant };
/// let text = xtask::report::additions_report(&[note], false);
/// assert!(text.contains("get_current_user (GET /api/v1/auth/me)"), "{text}");
/// assert!(text.contains("redundant"), "{text}");
/// assert!(xtask::report::additions_report(&[], false).is_empty());
/// ```
pub fn additions_report(notes: &[AdditionNote], markdown: bool) -> String {
    let mut out = Writer::new(if markdown {
        Format::Markdown
    } else {
        Format::Text
    });
    if notes.is_empty() {
        return out.out;
    }
    out.section(
        &format!("{ADDITIONS_FILE}: operations typed beyond the spec that it now meets"),
        notes.len(),
    );
    for note in notes {
        let what = match &note.kind {
            NoteKind::Redundant => "redundant: the spec describes it now, with the same fields; \
                                    compare and remove the addition"
                .to_string(),
            NoteKind::Conflicts(how) => format!(
                "conflicts: the spec describes it now, differently ({how}); the addition is in \
                 force until it is removed"
            ),
            NoteKind::BaseGone => "the spec no longer has the path it shares by version; it is \
                                   generated at that path alone"
                .to_string(),
            other => format!("{other:?}"),
        };
        out.item(
            0,
            ChangeKind::Changed,
            matches!(note.kind, NoteKind::Conflicts(_)),
            &format!("{} ({}): {what}", note.name, note.request),
        );
    }
    out.end_section();
    out.out
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Text,
    Markdown,
}

/// Sections longer than this are folded in Markdown.
const FOLD_OVER: usize = 10;

fn render(report: &Report, from: &str, to: &str, format: Format) -> String {
    let mut out = Writer::new(format);
    out.header(report, from, to);
    if report.is_empty() {
        out.line(
            "No difference in operations, parameters, bodies, responses or reachable schemas: \
             the two files differ only in what this report does not compare \
             (descriptions, examples, unreachable schemas, formatting).",
        );
        return out.out;
    }
    out.operations("Operations removed", &report.operations_removed, true);
    out.operations("Operations added", &report.operations_added, false);
    out.changed("Operations changed", &report.operations_changed);
    out.names(
        "Schemas removed",
        &report.schemas_removed,
        ChangeKind::Removed,
    );
    out.names("Schemas added", &report.schemas_added, ChangeKind::Added);
    out.changed("Schemas changed", &report.schemas_changed);
    let versions: Vec<String> = report
        .new_versions
        .iter()
        .map(|v| format!("`{v}`"))
        .collect();
    out.names(
        "New `X-Phala-Version` versions in schema names",
        &versions,
        ChangeKind::Added,
    );
    let kinds: Vec<String> = report
        .new_hashid_kinds
        .iter()
        .map(|(prefix, table)| format!("`{prefix}_` ({table})"))
        .collect();
    out.names("New hashid kinds", &kinds, ChangeKind::Added);
    let paginated: Vec<String> = report
        .new_paginated
        .iter()
        .map(|o| {
            format!(
                "`{} {}` (`{}`): {}",
                o.method.to_ascii_uppercase(),
                o.path,
                o.operation_id,
                pagination(&o.style)
            )
        })
        .collect();
    out.names("New paginated operations", &paginated, ChangeKind::Added);
    out.out
}

struct Writer {
    format: Format,
    out: String,
    folded: bool,
}

impl Writer {
    fn new(format: Format) -> Self {
        Writer {
            format,
            out: String::new(),
            folded: false,
        }
    }

    fn line(&mut self, line: &str) {
        self.out.push_str(line);
        self.out.push('\n');
    }

    fn header(&mut self, report: &Report, from: &str, to: &str) {
        let counts = [
            (
                "operations",
                report.operations_removed.len(),
                report.operations_added.len(),
                report.operations_changed.len(),
            ),
            (
                "schemas reachable from operations",
                report.schemas_removed.len(),
                report.schemas_added.len(),
                report.schemas_changed.len(),
            ),
        ];
        let breaking = report.breaking();
        match self.format {
            Format::Text => {
                self.line(&format!("API changes: {from} → {to}"));
                for (what, removed, added, changed) in counts {
                    self.line(&format!(
                        "  {what}: {removed} removed, {added} added, {changed} changed"
                    ));
                }
                self.line(&format!("  breaking changes: {breaking}"));
                self.line("  marks: ! breaking, + added, - removed, ~ changed");
            }
            Format::Markdown => {
                self.line("## API changes\n");
                self.line(&format!("From `{from}` to `{to}`.\n"));
                self.line("| | removed | added | changed |\n|---|---:|---:|---:|");
                for (what, removed, added, changed) in counts {
                    self.line(&format!("| {what} | {removed} | {added} | {changed} |"));
                }
                self.line(&format!(
                    "\n**{breaking} breaking change{}** (marked ⚠️).",
                    if breaking == 1 { "" } else { "s" }
                ));
            }
        }
    }

    fn section(&mut self, title: &str, count: usize) {
        match self.format {
            Format::Text => self.line(&format!("\n{title} ({count})")),
            Format::Markdown => {
                self.line(&format!("\n### {title} ({count})\n"));
                self.folded = count > FOLD_OVER;
                if self.folded {
                    self.line(&format!("<details><summary>{count} entries</summary>\n"));
                }
            }
        }
    }

    fn end_section(&mut self) {
        if self.folded {
            self.line("\n</details>");
            self.folded = false;
        }
    }

    fn item(&mut self, depth: usize, kind: ChangeKind, breaking: bool, text: &str) {
        let mark = match (self.format, breaking, kind) {
            (Format::Text, true, _) => "! ",
            (Format::Text, false, ChangeKind::Added) => "+ ",
            (Format::Text, false, ChangeKind::Removed) => "- ",
            (Format::Text, false, ChangeKind::Changed) => "~ ",
            (Format::Markdown, true, _) => "- ⚠️ ",
            (Format::Markdown, false, _) => "- ",
        };
        let indent = match self.format {
            Format::Text => "  ".repeat(depth + 1),
            Format::Markdown => "  ".repeat(depth),
        };
        let _ = writeln!(self.out, "{indent}{mark}{text}");
    }

    fn operations(&mut self, title: &str, operations: &[Operation], breaking: bool) {
        if operations.is_empty() {
            return;
        }
        let kind = if breaking {
            ChangeKind::Removed
        } else {
            ChangeKind::Added
        };
        self.section(title, operations.len());
        for op in operations {
            self.item(
                0,
                kind,
                breaking,
                &format!("`{op}` (`{}`)", op.operation_id),
            );
        }
        self.end_section();
    }

    fn names(&mut self, title: &str, names: &[String], kind: ChangeKind) {
        if names.is_empty() {
            return;
        }
        self.section(title, names.len());
        for name in names {
            let name = if name.contains('`') {
                name.clone()
            } else {
                format!("`{name}`")
            };
            self.item(0, kind, false, &name);
        }
        self.end_section();
    }

    fn changed(&mut self, title: &str, changed: &[Changed]) {
        if changed.is_empty() {
            return;
        }
        self.section(title, changed.len());
        for entry in changed {
            let breaking = entry.changes.iter().any(|c| c.breaking);
            self.item(
                0,
                ChangeKind::Changed,
                breaking,
                &format!("`{}`", entry.subject),
            );
            for Change {
                kind,
                breaking,
                what,
            } in &entry.changes
            {
                self.item(1, *kind, *breaking, what);
            }
        }
        self.end_section();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Report {
        Report {
            operations_removed: vec![Operation {
                path: "/api/v1/auth/me".into(),
                method: "GET".into(),
                operation_id: "get_me".into(),
            }],
            operations_changed: vec![Changed {
                subject: "GET /api/v1/kms".into(),
                changes: vec![
                    Change::new(ChangeKind::Removed, true, "query parameter `x` removed"),
                    Change::new(
                        ChangeKind::Added,
                        false,
                        "query parameter `y` added (optional, string)",
                    ),
                ],
            }],
            new_versions: vec!["2026-01-21".into()],
            ..Report::default()
        }
    }

    #[test]
    fn text_marks_breaking_changes() {
        let text = text(&sample(), "a", "b");
        assert!(
            text.contains("  operations: 1 removed, 0 added, 1 changed\n"),
            "{text}"
        );
        assert!(text.contains("  breaking changes: 2\n"), "{text}");
        assert!(
            text.contains("\nOperations removed (1)\n  ! `GET /api/v1/auth/me` (`get_me`)\n"),
            "{text}"
        );
        assert!(text.contains("  ! `GET /api/v1/kms`\n    ! query parameter `x` removed\n    + query parameter `y`"), "{text}");
        assert!(
            text.contains("versions in schema names (1)\n  + `2026-01-21`\n"),
            "{text}"
        );
    }

    #[test]
    fn markdown_has_a_table_nested_lists_and_folds_long_sections() {
        let mut report = sample();
        let md = markdown(&report, "a", "b");
        assert!(md.contains("| operations | 1 | 0 | 1 |"), "{md}");
        assert!(md.contains("**2 breaking changes**"), "{md}");
        assert!(md.contains("- ⚠️ `GET /api/v1/kms`\n  - ⚠️ query parameter `x` removed\n  - query parameter `y`"), "{md}");
        assert!(!md.contains("<details>"), "{md}");
        report.schemas_added = (0..=FOLD_OVER).map(|i| format!("S{i}")).collect();
        let md = markdown(&report, "a", "b");
        assert!(
            md.contains(
                "### Schemas added (11)\n\n<details><summary>11 entries</summary>\n\n- `S0`\n"
            ),
            "{md}"
        );
        assert!(md.contains("- `S10`\n\n</details>\n"), "{md}");
    }

    #[test]
    fn an_empty_report_says_where_the_difference_is() {
        assert!(text(&Report::default(), "a", "b")
            .contains("differ only in what this report does not compare"));
    }
}
