//! Maintenance commands for the phala-cloud workspace: `cargo xtask <command>`.

use std::io::Write;
use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask <command>

commands:
  normalized-spec [FILE]   print the spec progenitor is fed (default: openapi.json)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("normalized-spec") => {
            normalized_spec(args.get(1).map_or("openapi.json", String::as_str))
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

/// Prints the normalized form of the spec in `path`.
fn normalized_spec(path: &str) -> Result<(), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    let spec = serde_json::from_slice(&bytes).map_err(|e| format!("{path} is not JSON: {e}"))?;
    let normalized = phala_cloud_codegen::normalize::normalize(spec).map_err(|e| e.to_string())?;
    let text = serde_json::to_string_pretty(&normalized.spec).map_err(|e| e.to_string())?;
    let mut stdout = std::io::stdout().lock();
    match writeln!(stdout, "{text}") {
        // `| head` closing the pipe is not a failure.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        result => result.map_err(|e| format!("cannot write to stdout: {e}")),
    }
}
