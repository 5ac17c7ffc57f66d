//! Generates the client from `openapi.json` and the overlay and the
//! additions beside it (`openapi.overlay.json`, `openapi.additions.json`:
//! what the spec gets wrong, and the endpoints it lacks): the normalizer
//! applies the overlay, merges the additions and lowers
//! the spec into what progenitor accepts, progenitor writes the client and its types,
//! and the result lands in `$OUT_DIR/client.rs` (included by `src/generated.rs`).
//! With the `mock` feature, the typed `httpmock` helpers generated from the
//! same spec land in `$OUT_DIR/mock.rs` (included by `src/mock/generated.rs`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The test that includes the conformance driver.
const CONFORMANCE_TEST: &str = "tests/conformance.rs";

fn main() -> ExitCode {
    let overlay_file = phala_cloud_codegen::overlay::OVERLAY_FILE;
    let additions_file = phala_cloud_codegen::additions::ADDITIONS_FILE;
    println!("cargo:rerun-if-changed=build.rs");
    let mut inputs = Vec::new();
    for file in ["openapi.json", overlay_file, additions_file] {
        println!("cargo:rerun-if-changed={file}");
        match std::fs::read(file) {
            Ok(bytes) => inputs.push(bytes),
            Err(e) => {
                eprintln!("error: cannot read {file}: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    let generated =
        match phala_cloud_codegen::generate_from_bytes(&inputs[0], &inputs[1], &inputs[2]) {
            Ok(generated) => generated,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        };
    let Some(out_dir) = std::env::var_os("OUT_DIR").map(PathBuf::from) else {
        eprintln!("error: OUT_DIR is not set (build.rs runs under cargo)");
        return ExitCode::FAILURE;
    };
    // Only `tests/conformance.rs` includes the driver that calls any operation
    // by name, and the published package has no tests: a dependent's build
    // does not spend the time.
    if Path::new(CONFORMANCE_TEST).exists() {
        // Only when it exists: cargo reruns a build script whose
        // `rerun-if-changed` file is missing on every build, and with it the
        // crate's whole compile (a dependent on a path or git copy of the
        // package, which has no tests).
        println!("cargo:rerun-if-changed={CONFORMANCE_TEST}");
        let driver =
            phala_cloud_codegen::conformance::driver(&generated.client).map_err(|e| e.to_string());
        if let Err(e) = driver.and_then(|d| {
            std::fs::write(out_dir.join("conformance.rs"), d).map_err(|e| e.to_string())
        }) {
            eprintln!("error: cannot write the conformance driver: {e}");
            return ExitCode::FAILURE;
        }
    }
    if let Err(e) = std::fs::write(out_dir.join("client.rs"), &generated.client) {
        eprintln!("error: cannot write the generated client: {e}");
        return ExitCode::FAILURE;
    }
    if std::env::var_os("CARGO_FEATURE_MOCK").is_some() {
        return write_mock(&generated, &out_dir);
    }
    ExitCode::SUCCESS
}

/// Generates the mock helpers only when the `mock` feature asks for them:
/// without it, the build neither spends the time nor compiles the code.
fn write_mock(generated: &phala_cloud_codegen::Generated, out_dir: &Path) -> ExitCode {
    let mock = match phala_cloud_codegen::generate_mock(&generated.normalized) {
        Ok(mock) => mock,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = std::fs::write(out_dir.join("mock.rs"), mock) {
        eprintln!("error: cannot write the generated mock helpers: {e}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
