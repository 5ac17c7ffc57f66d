//! `normalized-spec`: the spec exactly as progenitor is fed it, for review.

use std::path::{Path, PathBuf};

use phala_cloud_codegen::overlay::Overlay;
use phala_cloud_codegen::SpecError;

use crate::validate::{parse_json, NotJson};

/// Why the normalized spec could not be produced.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NormalizedError {
    /// The spec could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// Its path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The spec is not JSON.
    #[error(transparent)]
    NotJson(#[from] NotJson),
    /// A normalizer rule refuses the spec.
    #[error(transparent)]
    Refused(#[from] SpecError),
    /// The normalized spec could not be serialized.
    #[error("cannot print the normalized spec: {0}")]
    Print(#[from] serde_json::Error),
}

/// The normalized form of the spec at `path` (with the overlay beside it
/// applied), pretty-printed JSON.
///
/// ```no_run
/// let text = xtask::normalized::normalized_spec("openapi.json".as_ref())?;
/// assert!(text.contains("\"openapi\": \"3.0.3\""));
/// # Ok::<(), xtask::normalized::NormalizedError>(())
/// ```
pub fn normalized_spec(path: &Path) -> Result<String, NormalizedError> {
    let bytes = std::fs::read(path).map_err(|source| NormalizedError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let spec = parse_json(&path.display().to_string(), &bytes, None)?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let normalized = phala_cloud_codegen::normalize::normalize(spec, &Overlay::read_beside(dir)?)?;
    Ok(serde_json::to_string_pretty(&normalized.spec)?)
}
