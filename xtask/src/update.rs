//! `update-spec`: fetch the candidate spec, refuse it unless the build's
//! generator accepts it, report what changed, and only then replace the
//! vendored spec.

use std::path::PathBuf;
use std::time::Duration;

use phala_cloud_codegen::additions::ADDITIONS_FILE;
use phala_cloud_codegen::overlay::OVERLAY_FILE;
use phala_cloud_codegen::SpecError;

use crate::fetch::{fetch, FetchError, Source, DEFAULT_TIMEOUT, DEFAULT_URL};
use crate::report::{compare, Report};
use crate::validate::{generates, parse_json, Accepted, NotJson};
use crate::write::replace_atomically;

/// One run of `update-spec`.
#[derive(Debug, Clone)]
pub struct UpdateSpec {
    /// Where the candidate comes from.
    pub source: Source,
    /// The vendored spec, compared with and (unless `check`) replaced; the
    /// overlay the build applies to it is the `openapi.overlay.json` beside it.
    pub spec: PathBuf,
    /// Compare only, never write.
    pub check: bool,
    /// Bound on the download.
    pub timeout: Duration,
}

/// What a successful run found.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Outcome {
    /// The candidate is byte-identical to the vendored spec; nothing was written.
    Unchanged,
    /// The candidate differs and generates.
    Differs {
        /// What changed.
        report: Box<Report>,
        /// What the generator made of the candidate.
        accepted: Accepted,
        /// The vendored spec now holds the candidate's bytes (false with `check`).
        written: bool,
    },
}

/// Why a run stopped; in every case the vendored spec is left as it was.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UpdateError {
    /// The vendored spec could not be read.
    #[error("cannot read the vendored spec {path}: {source}")]
    ReadVendored {
        /// Its path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The overlay or the additions beside the vendored spec could not be read.
    #[error("cannot read {path}: {source}")]
    ReadOverlay {
        /// Its path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The candidate could not be obtained.
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// The candidate or the vendored spec is not JSON.
    #[error(transparent)]
    NotJson(#[from] NotJson),
    /// The build's generator refuses the candidate.
    #[error("{}", refusal(.error))]
    Refused {
        /// Where and why; the pointer is into the candidate.
        error: SpecError,
        /// What changed, when the two specs could be compared.
        report: Option<Box<Report>>,
    },
    /// The specs could not be compared (a `$ref` to an undefined schema).
    #[error("cannot compare the specs: {0}")]
    Compare(SpecError),
    /// The new bytes could not be written.
    #[error("cannot replace {path}: {source}")]
    Write {
        /// The vendored spec.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// The refusal in words, with the JSON pointer when a rule refused.
fn refusal(error: &SpecError) -> String {
    let SpecError { pointer, message } = error;
    if pointer.is_empty() {
        format!("the new spec does not generate: {message}")
    } else {
        format!("the normalizer refuses the new spec at JSON pointer {pointer}: {message}")
    }
}

impl UpdateSpec {
    /// An update of `spec` from the docs site, with the default timeout.
    pub fn new(spec: impl Into<PathBuf>) -> Self {
        Self {
            source: Source::Url(DEFAULT_URL.into()),
            spec: spec.into(),
            check: false,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// Runs the update.
    ///
    /// ```no_run
    /// use xtask::fetch::Source;
    /// use xtask::update::{Outcome, UpdateSpec};
    ///
    /// let mut update = UpdateSpec::new("openapi.json");
    /// update.source = Source::File("downloads/openapi.json".into());
    /// update.check = true;
    /// match update.run()? {
    ///     Outcome::Unchanged => println!("up to date"),
    ///     Outcome::Differs { report, .. } => println!("{} breaking changes", report.breaking()),
    ///     _ => {}
    /// }
    /// # Ok::<(), xtask::update::UpdateError>(())
    /// ```
    pub fn run(&self) -> Result<Outcome, UpdateError> {
        let vendored = std::fs::read(&self.spec).map_err(|source| UpdateError::ReadVendored {
            path: self.spec.clone(),
            source,
        })?;
        let beside = |name: &str| {
            let path = self.spec.with_file_name(name);
            std::fs::read(&path).map_err(|source| UpdateError::ReadOverlay { path, source })
        };
        let overlay = beside(OVERLAY_FILE)?;
        let additions = beside(ADDITIONS_FILE)?;
        let fetched = fetch(&self.source, self.timeout)?;
        if fetched.bytes == vendored {
            return Ok(Outcome::Unchanged);
        }
        let new = parse_json(
            &self.source.to_string(),
            &fetched.bytes,
            fetched.content_type.as_deref(),
        )?;
        let old = parse_json(&self.spec.display().to_string(), &vendored, None)?;
        let accepted = generates(&fetched.bytes, &overlay, &additions).map_err(|error| {
            UpdateError::Refused {
                error,
                report: compare(&old, &new).ok().map(Box::new),
            }
        })?;
        let report = Box::new(compare(&old, &new).map_err(UpdateError::Compare)?);
        if !self.check {
            replace_atomically(&self.spec, &fetched.bytes).map_err(|source| {
                UpdateError::Write {
                    path: self.spec.clone(),
                    source,
                }
            })?;
        }
        Ok(Outcome::Differs {
            report,
            accepted,
            written: !self.check,
        })
    }
}
