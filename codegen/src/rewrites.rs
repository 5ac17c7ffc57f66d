//! The rewrites of progenitor's client output, as a named list run in order:
//! the generator's counterpart of the normalizer's [`RULES`](crate::normalize::RULES).
//!
//! Why a list with counts: each rewrite matches a shape of progenitor's (or
//! typify's) output. A progenitor update that changes the shape would not
//! break a rewrite, it would just stop it from firing, and the edit it makes
//! (the `crate::Error` of `send`, owned builders, open enums…) would be
//! silently gone. So each rewrite gives how often it fired and says how often
//! it must fire on a spec, from what the normalizer learned of the spec;
//! a mismatch fails the build naming the rewrite. Each matches `syn`
//! structure (paths, method calls, literals), never token text, and has a
//! unit test on a small input beside its code; `codegen/tests/real_spec.rs`
//! runs them all on the vendored spec.

use crate::normalize::{Context, Normalized};
use crate::passes;
use crate::SpecError;

/// One rewrite of the generated file.
pub struct Rewrite {
    /// Stable name, used in messages and tests.
    pub name: &'static str,
    /// How often it must fire on a spec the normalizer learned `Context` of.
    pub expected: fn(&Context) -> Fires,
    /// The rewrite, given the normalized spec the file was generated from;
    /// gives how often it fired.
    pub apply: fn(&mut syn::File, &Normalized) -> Result<usize, SpecError>,
}

/// How often a rewrite fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fires {
    /// Exactly this often.
    Exactly(usize),
    /// At least this often (what grows with the spec's types).
    AtLeast(usize),
}

impl Fires {
    fn allows(self, count: usize) -> bool {
        match self {
            Fires::Exactly(n) => count == n,
            Fires::AtLeast(n) => count >= n,
        }
    }
}

impl std::fmt::Display for Fires {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fires::Exactly(n) => write!(f, "exactly {n}"),
            Fires::AtLeast(n) => write!(f, "at least {n}"),
        }
    }
}

/// A rewrite's name and how often it fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fired {
    /// The rewrite's [`Rewrite::name`].
    pub name: &'static str,
    /// How often it fired.
    pub count: usize,
    /// How often it had to.
    pub expected: Fires,
}

fn per_operation(cx: &Context) -> Fires {
    Fires::Exactly(cx.operations.len())
}

fn once(_: &Context) -> Fires {
    Fires::Exactly(1)
}

fn at_least_once(_: &Context) -> Fires {
    Fires::AtLeast(1)
}

/// One per versioned sibling (an operation whose path carries its version:
/// [`crate::additions`]).
pub(crate) fn per_versioned_sibling(cx: &Context) -> Fires {
    let marked = cx
        .operations
        .iter()
        .filter(|o| o.path.contains(crate::additions::VERSION_MARK))
        .count();
    Fires::Exactly(marked)
}

/// The rewrites, in the order they run.
pub const REWRITES: &[Rewrite] = &[
    Rewrite {
        name: "drop_api_version_header",
        expected: per_operation,
        apply: |file, _| Ok(passes::drop_api_version_header(file)),
    },
    Rewrite {
        name: "hide_progenitor_client",
        expected: once,
        apply: |file, _| Ok(passes::hide_progenitor_client(file)),
    },
    Rewrite {
        name: "drop_client_new",
        expected: once,
        apply: |file, _| Ok(passes::drop_client_new(file)),
    },
    Rewrite {
        name: "send_returns_crate_error",
        expected: per_operation,
        apply: |file, _| Ok(passes::send_returns_crate_error(file)),
    },
    Rewrite {
        name: "builders_own_the_client",
        expected: per_operation,
        apply: |file, _| Ok(crate::owned_builders::own_the_client(file)),
    },
    Rewrite {
        name: "setters_keep_conversion_errors",
        expected: at_least_once,
        apply: |file, _| Ok(passes::explain_conversions(file)),
    },
    Rewrite {
        name: "finish_form_operations",
        expected: |cx| Fires::Exactly(cx.forms.len()),
        apply: |file, n| passes::finish_form_operations(file, &n.context),
    },
    Rewrite {
        name: "finish_answers",
        expected: |cx| {
            let heads = cx.operations.iter().filter(|o| o.method == "head").count();
            Fires::Exactly(cx.byte_answers.len() + heads + cx.empty_answers.len())
        },
        apply: |file, n| passes::finish_answers(file, &n.context),
    },
    Rewrite {
        name: "paging_fields",
        expected: |cx| Fires::AtLeast(cx.page_sizes.len()),
        apply: |file, _| Ok(passes::add_paging_fields(file)),
    },
    Rewrite {
        name: "union_accessors",
        expected: at_least_once,
        apply: |file, _| {
            passes::refuse_flattened_unions(file)?;
            Ok(passes::union_accessors(file))
        },
    },
    Rewrite {
        name: "open_answer_enums",
        expected: at_least_once,
        apply: |file, _| passes::open_answer_enums(file),
    },
    Rewrite {
        name: "finish_unknown_field_maps",
        expected: at_least_once,
        apply: |file, _| Ok(passes::finish_unknown_field_maps(file)),
    },
    Rewrite {
        name: "optional_setters_take_the_value",
        expected: at_least_once,
        apply: |file, _| Ok(passes::optional_setters_take_the_value(file)),
    },
    Rewrite {
        name: "document_builders",
        expected: at_least_once,
        apply: |file, n| Ok(crate::docs::document_builders(file, &n.spec)),
    },
    Rewrite {
        name: "strip_version_marks",
        expected: per_versioned_sibling,
        apply: |file, _| Ok(passes::strip_version_marks(file)),
    },
    Rewrite {
        name: "answer_builders_under_mock",
        expected: at_least_once,
        apply: |file, _| Ok(passes::answer_builders_under_mock(file)),
    },
    Rewrite {
        name: "inline_operations",
        expected: |cx| Fires::AtLeast(2 * cx.operations.len()),
        apply: |file, _| Ok(passes::inline_operations(file)),
    },
];

/// Runs `rewrites` over `file`, in order, and checks that each fired as
/// often as it must on the spec `normalized`.
pub(crate) fn run(
    rewrites: &[Rewrite],
    file: &mut syn::File,
    normalized: &Normalized,
) -> Result<Vec<Fired>, SpecError> {
    let mut fired = Vec::with_capacity(rewrites.len());
    for rewrite in rewrites {
        let count = (rewrite.apply)(file, normalized)?;
        let expected = (rewrite.expected)(&normalized.context);
        if !expected.allows(count) {
            return Err(SpecError::at(
                "",
                format!(
                    "the rewrite `{}` fired {count} times on progenitor's output, expected \
                     {expected}: the output's shape changed (a progenitor update?); fix the \
                     rewrite in codegen",
                    rewrite.name
                ),
            ));
        }
        fired.push(Fired {
            name: rewrite.name,
            count,
            expected,
        });
    }
    Ok(fired)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrite_names_are_unique() {
        let mut names: Vec<_> = REWRITES.iter().map(|r| r.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), REWRITES.len());
    }

    #[test]
    fn a_rewrite_that_stops_firing_fails_with_its_name() {
        let mut file: syn::File = syn::parse_quote!(
            pub struct Unrelated;
        );
        let normalized = Normalized {
            spec: serde_json::json!({}),
            context: Context::default(),
        };
        let err = run(&REWRITES[2..3], &mut file, &normalized).unwrap_err();
        assert_eq!(
            err.message,
            "the rewrite `drop_client_new` fired 0 times on progenitor's output, expected \
             exactly 1: the output's shape changed (a progenitor update?); fix the rewrite \
             in codegen"
        );
        assert_eq!(Fires::AtLeast(2).to_string(), "at least 2");
        assert!(Fires::AtLeast(2).allows(3) && !Fires::Exactly(2).allows(3));
    }
}
