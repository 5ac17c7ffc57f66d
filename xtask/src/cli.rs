//! The command line: arguments in, output and an exit code out.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::build_time::{build_time, Scratch};
use crate::fetch::Source;
use crate::normalized::normalized_spec;
use crate::report::{additions_report, markdown, text, unnecessary_overlay_actions};
use crate::update::{Outcome, UpdateError, UpdateSpec};
use crate::validate::Accepted;

/// Exit code: success, or (`--check`) the candidate is identical.
pub const SUCCESS: u8 = 0;
/// Exit code of `--check` when the candidate differs (and generates).
pub const DIFFERS: u8 = 1;
/// Exit code of any failure, and of a usage error.
pub const FAILURE: u8 = 2;

/// The help text.
pub const USAGE: &str = "usage: cargo xtask <command>

commands:
  update-spec [--url URL | --from FILE] [--check] [--report-md FILE] [--spec PATH] [--timeout SECS]
      fetch the spec (default https://docs.phala.com/openapi.json), check that the
      build generates a client from it, print what changed, then replace the spec
      --check           compare only, never write: exit 0 identical, 1 differs, 2 error
      --report-md FILE  also write the report as Markdown (for a pull request)
      --spec PATH       the vendored spec (default: openapi.json at the workspace root);
                        the overlay applied to it is the openapi.overlay.json beside it
      --timeout SECS    bound on the download (default 30)
  normalized-spec [FILE]
      print the spec as progenitor is fed it (default: the vendored spec), with the
      openapi.overlay.json beside it applied
  build-time [--dir DIR] [--top N] [--workspace DIR]
      package the crate, build a hello world on it and the same program on bare
      reqwest + tokio + serde, each clean in a fresh target dir, one after the other;
      print wall and CPU time of both, their ratio and the N slowest units (default 12)
      --dir DIR         the scratch directory (must not exist; removed at the end;
                        default: one in the system's temporary directory)
      --workspace DIR   package another checkout of the workspace (an older commit, to
                        compare; default: this one)";

/// `openapi.json` at the workspace root, wherever the command runs from.
pub fn default_spec() -> PathBuf {
    let xtask = Path::new(env!("CARGO_MANIFEST_DIR"));
    xtask.parent().unwrap_or(xtask).join("openapi.json")
}

/// Runs the command in `args` (without the program name), writing to `out`
/// and `err`; returns the exit code.
///
/// ```
/// let (mut out, mut err) = (Vec::new(), Vec::new());
/// let code = xtask::cli::run(&["--help".to_string()], &mut out, &mut err);
/// assert_eq!(code, xtask::cli::SUCCESS);
/// assert!(String::from_utf8(out)?.contains("update-spec"));
/// # Ok::<(), std::string::FromUtf8Error>(())
/// ```
pub fn run(args: &[String], out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let result = match args.first().map(String::as_str) {
        Some("update-spec") => parse_update(&args[1..])
            .map(|(update, md)| update_spec(&update, md.as_deref(), out, err)),
        Some("normalized-spec") => {
            parse_normalized(&args[1..]).map(|spec| print_normalized(&spec, out, err))
        }
        Some("build-time") => {
            parse_build_time(&args[1..]).map(|options| print_build_time(&options, out, err))
        }
        Some("help" | "--help" | "-h") => {
            let _ = writeln!(out, "{USAGE}");
            return SUCCESS;
        }
        Some(other) => Err(format!("unknown command `{other}`")),
        None => Err("no command".to_string()),
    };
    result.unwrap_or_else(|usage| {
        let _ = writeln!(err, "error: {usage}\n\n{USAGE}");
        FAILURE
    })
}

/// The options of `update-spec`; only `--check` takes no value.
const UPDATE_OPTIONS: [&str; 6] = ["url", "from", "check", "report-md", "spec", "timeout"];

/// Splits `--name=value` and `--name value` (positional arguments get the
/// name `""`); an option not in `UPDATE_OPTIONS` is an error.
fn flags(args: &[String]) -> Result<Vec<(String, Option<String>)>, String> {
    let mut parsed = Vec::new();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        let Some(flag) = arg.strip_prefix("--") else {
            parsed.push((String::new(), Some(arg.clone())));
            continue;
        };
        let (name, value) = match flag.split_once('=') {
            Some((name, value)) => (name, Some(value.to_string())),
            None if flag == "check" => (flag, None),
            None if UPDATE_OPTIONS.contains(&flag) => (
                flag,
                Some(
                    rest.next()
                        .cloned()
                        .ok_or_else(|| format!("--{flag} needs a value"))?,
                ),
            ),
            None => (flag, None),
        };
        if !UPDATE_OPTIONS.contains(&name) {
            return Err(format!("unknown option --{name}"));
        }
        parsed.push((name.to_string(), value));
    }
    Ok(parsed)
}

fn parse_update(args: &[String]) -> Result<(UpdateSpec, Option<PathBuf>), String> {
    let mut update = UpdateSpec::new(default_spec());
    let mut source = None;
    let mut report_md = None;
    for (name, value) in flags(args)? {
        let value = value.unwrap_or_default();
        match name.as_str() {
            "url" | "from" if source.is_some() => {
                return Err("give one of --url and --from".into());
            }
            "url" => source = Some(Source::Url(value)),
            "from" => source = Some(Source::File(value.into())),
            "check" => update.check = true,
            "report-md" => report_md = Some(PathBuf::from(value)),
            "spec" => update.spec = value.into(),
            "timeout" => {
                update.timeout = value
                    .parse::<f64>()
                    .ok()
                    .filter(|s| s.is_finite() && *s > 0.0)
                    .map(Duration::from_secs_f64)
                    .ok_or_else(|| {
                        format!("--timeout wants a positive number of seconds, not `{value}`")
                    })?;
            }
            _ => return Err(format!("unexpected argument `{value}`")),
        }
    }
    if let Some(source) = source {
        update.source = source;
    }
    Ok((update, report_md))
}

fn parse_normalized(args: &[String]) -> Result<PathBuf, String> {
    match args {
        [] => Ok(default_spec()),
        [file] if !file.starts_with("--") => Ok(file.into()),
        _ => Err(format!(
            "normalized-spec takes one FILE at most, not {args:?}"
        )),
    }
}

/// The options of `build-time`.
#[derive(Debug, PartialEq)]
struct BuildTimeOptions {
    /// The scratch directory.
    dir: PathBuf,
    /// How many of the slowest units to list.
    top: usize,
    /// The workspace to package.
    workspace: PathBuf,
}

fn parse_build_time(args: &[String]) -> Result<BuildTimeOptions, String> {
    let mut options = BuildTimeOptions {
        dir: std::env::temp_dir().join(format!("phala-cloud-build-time-{}", std::process::id())),
        top: 12,
        workspace: default_spec()
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf),
    };
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        let mut value = || rest.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--dir" => options.dir = value()?.into(),
            "--workspace" => options.workspace = value()?.into(),
            "--top" => {
                let n = value()?;
                options.top = n
                    .parse()
                    .map_err(|_| format!("--top wants a number of units, not `{n}`"))?;
            }
            other => return Err(format!("build-time: unexpected argument `{other}`")),
        }
    }
    Ok(options)
}

fn print_build_time(options: &BuildTimeOptions, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let result = Scratch::create(options.dir.clone())
        .and_then(|scratch| build_time(&options.workspace, scratch.path(), options.top));
    match result {
        Ok(report) => {
            let _ = write!(out, "{report}");
            SUCCESS
        }
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            FAILURE
        }
    }
}

fn print_normalized(spec: &Path, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    match normalized_spec(spec) {
        Ok(json) => match writeln!(out, "{json}") {
            // `| head` closing the pipe is not a failure.
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                let _ = writeln!(err, "error: cannot write to stdout: {e}");
                FAILURE
            }
            _ => SUCCESS,
        },
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            FAILURE
        }
    }
}

fn update_spec(
    update: &UpdateSpec,
    report_md: Option<&Path>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let (spec, source) = (update.spec.display().to_string(), update.source.to_string());
    let (code, md) = match update.run() {
        Ok(Outcome::Unchanged) => {
            let _ = writeln!(out, "{spec} is identical to {source}: no change.");
            (
                SUCCESS,
                format!("## API changes\n\nNone: `{spec}` is identical to `{source}`.\n"),
            )
        }
        Ok(Outcome::Differs {
            report,
            accepted,
            written,
        }) => {
            let _ = write!(out, "{}", text(&report, &spec, &source));
            let overlay = &accepted.overlay_unnecessary;
            let _ = write!(out, "{}", unnecessary_overlay_actions(overlay, false));
            let _ = write!(out, "{}", additions_report(&accepted.additions, false));
            let outcome = if written {
                format!("{spec} updated from {source}; {}.", generated(&accepted))
            } else {
                format!(
                    "{source} differs from {spec}; {}. Run `cargo xtask update-spec` to take it.",
                    generated(&accepted)
                )
            };
            let _ = writeln!(out, "\n{outcome}");
            let code = if written { SUCCESS } else { DIFFERS };
            (
                code,
                format!(
                    "{}{}{}\n{outcome}\n",
                    markdown(&report, &spec, &source),
                    unnecessary_overlay_actions(overlay, true),
                    additions_report(&accepted.additions, true)
                ),
            )
        }
        Err(e) => {
            let mut md = String::new();
            if let UpdateError::Refused {
                report: Some(report),
                ..
            } = &e
            {
                let _ = write!(out, "{}", text(report, &spec, &source));
                md = markdown(report, &spec, &source) + "\n";
            }
            let message = format!("{e}\n{spec} was not changed.");
            let _ = writeln!(err, "error: {message}");
            (FAILURE, format!("{md}**Error:** {message}\n"))
        }
    };
    if let Some(path) = report_md {
        if let Err(e) = std::fs::write(path, md) {
            let _ = writeln!(
                err,
                "error: cannot write the report to {}: {e}",
                path.display()
            );
            return FAILURE;
        }
    }
    code
}

fn generated(accepted: &Accepted) -> String {
    format!(
        "the build generates {} operations from it ({} of them typed beyond it, {} hand-written method(s) beside them), {} types, {} lines, pinning X-Phala-Version {}",
        accepted.operations, accepted.added, accepted.hand_written, accepted.types, accepted.lines, accepted.api_version
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_update_flags() {
        let (update, md) = parse_update(&args(&[
            "--from",
            "new.json",
            "--check",
            "--report-md=r.md",
            "--spec",
            "s.json",
            "--timeout",
            "0.5",
        ]))
        .unwrap();
        assert_eq!(update.source, Source::File("new.json".into()));
        assert!(update.check);
        assert_eq!(md, Some(PathBuf::from("r.md")));
        assert_eq!(update.spec, PathBuf::from("s.json"));
        assert_eq!(update.timeout, Duration::from_millis(500));
        let (update, md) = parse_update(&[]).unwrap();
        assert_eq!(update.source, Source::Url(crate::fetch::DEFAULT_URL.into()));
        assert_eq!(update.spec, default_spec());
        assert!(!update.check && md.is_none());
    }

    #[test]
    fn refuses_bad_usage() {
        for bad in [
            &["--url", "a", "--from", "b"][..],
            &["--url"],
            &["--timeout", "-1"],
            &["--force", "value"],
            &["stray"],
        ] {
            assert!(parse_update(&args(bad)).is_err(), "{bad:?}");
        }
        let (mut out, mut err) = (Vec::new(), Vec::new());
        assert_eq!(run(&args(&["frobnicate"]), &mut out, &mut err), FAILURE);
        assert!(String::from_utf8(err)
            .unwrap()
            .contains("unknown command `frobnicate`"));
    }

    #[test]
    fn parses_build_time_options() {
        let options = parse_build_time(&[]).unwrap();
        assert!(options.dir.starts_with(std::env::temp_dir()));
        assert_eq!(options.top, 12);
        assert_eq!(Some(options.workspace.as_path()), default_spec().parent());
        let options = parse_build_time(&args(&[
            "--top",
            "3",
            "--dir",
            "/x/y",
            "--workspace",
            "/old",
        ]))
        .unwrap();
        assert_eq!(
            options,
            BuildTimeOptions {
                dir: "/x/y".into(),
                top: 3,
                workspace: "/old".into()
            }
        );
        for bad in [
            &["--top"][..],
            &["--top", "many"],
            &["--dir"],
            &["--workspace"],
            &["stray"],
        ] {
            assert!(parse_build_time(&args(bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn build_time_refuses_an_existing_directory() {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let dir = std::env::temp_dir().to_string_lossy().into_owned();
        let code = run(&args(&["build-time", "--dir", &dir]), &mut out, &mut err);
        assert_eq!(code, FAILURE);
        assert!(String::from_utf8(err).unwrap().contains("cannot create"));
    }

    #[test]
    fn the_default_spec_is_the_workspace_one() {
        assert!(default_spec().ends_with("openapi.json"));
        assert!(default_spec().parent().unwrap().join("Cargo.toml").exists());
    }
}
