//! The spec files beside the crate, read at test time (not compiled in),
//! so that a spec update is checked by the suite before anything else.

use phala_cloud_codegen::overlay::Overlay;
use serde_json::Value;

/// `openapi.json` as upstream serves it, and the overlay beside it
/// (`openapi.overlay.json`, with the additions of `openapi.additions.json`):
/// what the normalizer and the checks start from.
pub fn files() -> (Value, Overlay) {
    let read = |name: &str| {
        let path = format!("{}/../../{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    };
    let spec = serde_json::from_slice(&read("openapi.json")).expect("openapi.json is JSON");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let overlay = Overlay::read_beside(&dir).expect("the overlay and the additions parse");
    (spec, overlay)
}
