//! Generates the client from `openapi.json`: the normalizer lowers the spec
//! into what progenitor accepts, progenitor writes the client and its types,
//! and the result lands in `$OUT_DIR/client.rs` (included by `src/generated.rs`).

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    println!("cargo:rerun-if-changed=openapi.json");
    println!("cargo:rerun-if-changed=build.rs");

    let spec = match std::fs::read("openapi.json") {
        Ok(bytes) => bytes,
        Err(e) => {
            eprintln!("error: cannot read openapi.json: {e}");
            return ExitCode::FAILURE;
        }
    };
    let generated = match phala_cloud_codegen::generate_from_bytes(&spec) {
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
    // Only `tests/conformance.rs` includes the driver that calls any operation by name.
    let driver =
        phala_cloud_codegen::conformance::driver(&generated.client).map_err(|e| e.to_string());
    if let Err(e) = driver
        .and_then(|d| std::fs::write(out_dir.join("conformance.rs"), d).map_err(|e| e.to_string()))
    {
        eprintln!("error: cannot write the conformance driver: {e}");
        return ExitCode::FAILURE;
    }
    if let Err(e) = std::fs::write(out_dir.join("client.rs"), generated.client) {
        eprintln!("error: cannot write the generated client: {e}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
