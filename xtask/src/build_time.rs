//! `cargo xtask build-time`: what the crate costs a dependent's clean build,
//! next to the same program written on the bare stack (reqwest with rustls
//! and ring, tokio, serde).
//!
//! The crate is packaged as a dependent gets it (`cargo package`, so no
//! `tests/` and no conformance driver), a hello world that builds a client
//! and calls one operation is built on it, then the bare program, one after
//! the other, each in a fresh target directory with `--timings`. Both use
//! the workspace's `Cargo.lock`, so the shared crates are the same versions.
//! Everything lives in one scratch directory, removed when the command ends,
//! whether it succeeded or not.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

/// The hello world on the SDK: a client and one operation.
const HELLO_MAIN: &str = r#"#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client = phala_cloud::Client::builder().api_key("hello").build()?;
    let kms = client.list_kms().send().await?;
    println!("{:?}", kms.into_inner());
    Ok(())
}
"#;

/// The same program on the bare stack: the SDK's TLS (rustls with ring).
const BARE_MAIN: &str = r#"#[derive(Debug, serde::Deserialize)]
struct Kms {
    id: String,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder().build()?;
    let kms: Vec<Kms> = client
        .get("https://cloud-api.phala.com/api/v1/kms")
        .header("X-API-Key", "hello")
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    println!("{kms:?}");
    Ok(())
}
"#;

/// The bare program's dependencies: the SDK's reqwest features with its
/// default TLS.
const BARE_DEPENDENCIES: &str = r#"reqwest = { version = "0.13", default-features = false, features = ["json", "stream", "query", "http2", "rustls-no-provider"] }
rustls = { version = "0.23", default-features = false, features = ["ring", "std", "tls12"] }
serde = { version = "1", features = ["derive"] }
serde_json = "1"
tokio = { version = "1", features = ["macros", "rt-multi-thread"] }
"#;

/// The crates `cargo package` packs: the SDK and its build dependency.
const PACKAGES: [&str; 2] = ["phala-cloud", "phala-cloud-codegen"];

/// One compilation unit of a `cargo build --timings` report.
#[derive(Debug, Clone, PartialEq)]
pub struct Unit {
    /// The package, e.g. `phala-cloud`.
    pub name: String,
    /// What was built of it (empty for a library; `build script`, `bin`, …).
    pub target: String,
    /// Seconds from the build's start to the unit's.
    pub start: f64,
    /// Seconds the unit took.
    pub duration: f64,
    /// Seconds of type checking and everything before code generation,
    /// when rustc reported it.
    pub frontend: Option<f64>,
}

impl Unit {
    /// `name target`, e.g. `phala-cloud build script (run)`.
    pub fn label(&self) -> String {
        if self.target.is_empty() {
            self.name.clone()
        } else {
            format!("{} {}", self.name, self.target)
        }
    }
}

/// The units of a `cargo-timing.html` report (its `UNIT_DATA` array).
pub fn parse_timings(html: &str) -> Result<Vec<Unit>, String> {
    let start = html
        .find("const UNIT_DATA = ")
        .map(|i| i + "const UNIT_DATA = ".len())
        .ok_or("no UNIT_DATA in the timings report")?;
    let mut data = serde_json::Deserializer::from_str(&html[start..]).into_iter::<Value>();
    let units = match data.next() {
        Some(Ok(Value::Array(units))) => units,
        Some(Err(e)) => return Err(format!("UNIT_DATA is not JSON: {e}")),
        _ => return Err("UNIT_DATA is not an array".to_string()),
    };
    units.iter().map(unit).collect()
}

fn unit(value: &Value) -> Result<Unit, String> {
    let text = |key: &str| value.get(key).and_then(Value::as_str);
    let number = |key: &str| {
        value
            .get(key)
            .and_then(Value::as_f64)
            .ok_or_else(|| format!("a unit without `{key}`: {value}"))
    };
    let frontend = value
        .get("sections")
        .and_then(Value::as_array)
        .and_then(|sections| {
            sections
                .iter()
                .find_map(|section| match section.as_array()?.as_slice() {
                    [name, span] if name == "frontend" => {
                        Some(span.get("end")?.as_f64()? - span.get("start")?.as_f64()?)
                    }
                    _ => None,
                })
        });
    Ok(Unit {
        name: text("name")
            .ok_or_else(|| format!("a unit without `name`: {value}"))?
            .to_string(),
        target: text("target").unwrap_or_default().trim().replace('"', ""),
        start: number("start")?,
        duration: number("duration")?,
        frontend,
    })
}

/// One clean build: its wall and CPU time and its units.
#[derive(Debug, Clone, PartialEq)]
pub struct Measured {
    /// Wall-clock time of `cargo build`.
    pub wall: Duration,
    /// User plus system time of `cargo build` and everything it ran.
    pub cpu: Duration,
    /// The units, slowest first.
    pub units: Vec<Unit>,
}

/// The report of the two builds, with the `top` slowest units of each.
pub fn report(sdk: &Measured, bare: &Measured, top: usize) -> String {
    let secs = |d: Duration| d.as_secs_f64();
    let ratio = |a: Duration, b: Duration| {
        if b.is_zero() {
            f64::NAN
        } else {
            secs(a) / secs(b)
        }
    };
    let mut out = String::new();
    let _ = writeln!(out, "clean debug build, default features");
    let _ = writeln!(out, "{:<22}{:>9}{:>9}", "", "wall", "cpu");
    for (name, m) in [("hello world (SDK)", sdk), ("bare reqwest stack", bare)] {
        let _ = writeln!(out, "{name:<22}{:>8.1}s{:>8.1}s", secs(m.wall), secs(m.cpu));
    }
    let _ = writeln!(
        out,
        "{:<22}{:>8.2}x{:>8.2}x",
        "ratio",
        ratio(sdk.wall, bare.wall),
        ratio(sdk.cpu, bare.cpu)
    );
    if let Some(crate_unit) = sdk
        .units
        .iter()
        .find(|u| u.name == PACKAGES[0] && u.target.is_empty())
    {
        let _ = write!(
            out,
            "\n{}: {:.1}s from {:.1}s",
            PACKAGES[0], crate_unit.duration, crate_unit.start
        );
        if let Some(frontend) = crate_unit.frontend {
            let _ = write!(out, " (frontend {frontend:.1}s)");
        }
        out.push('\n');
    }
    for (name, m) in [("hello world", sdk), ("bare stack", bare)] {
        let _ = writeln!(out, "\nslowest units of the {name}:");
        for u in m.units.iter().take(top) {
            let _ = writeln!(
                out,
                "{:>7.1}s  from {:>5.1}s  {}",
                u.duration,
                u.start,
                u.label()
            );
        }
    }
    out
}

/// A scratch directory, removed when dropped.
#[derive(Debug)]
pub struct Scratch(PathBuf);

impl Scratch {
    /// Creates `path` (it must not exist: a leftover is never reused).
    pub fn create(path: PathBuf) -> Result<Self, String> {
        std::fs::create_dir_all(path.parent().unwrap_or(Path::new(".")))
            .and_then(|()| std::fs::create_dir(&path))
            .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        Ok(Self(path))
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `cargo`, as the command runs under it.
fn cargo() -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    // A dependent's build: no incremental state (cargo uses none for a
    // registry crate), the default profile, and our own target directory.
    command
        .env("CARGO_INCREMENTAL", "0")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET_DIR");
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("CARGO_PROFILE_") {
            command.env_remove(key);
        }
    }
    command
}

fn run(command: &mut Command) -> Result<(), String> {
    let output = command
        .output()
        .map_err(|e| format!("cannot run {command:?}: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{command:?} failed ({}):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// CPU time (user plus system) of this process's finished children.
fn children_cpu() -> Duration {
    #[cfg(unix)]
    {
        // SAFETY: `getrusage` only writes the struct it is given.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        if unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) } != 0 {
            return Duration::ZERO;
        }
        let time = |t: libc::timeval| {
            Duration::from_secs(u64::try_from(t.tv_sec).unwrap_or(0))
                + Duration::from_micros(u64::try_from(t.tv_usec).unwrap_or(0))
        };
        time(usage.ru_utime) + time(usage.ru_stime)
    }
    #[cfg(not(unix))]
    {
        Duration::ZERO
    }
}

/// Builds the package in `project` with `--timings` into the fresh target
/// directory `target` and measures it.
pub fn measure_build(project: &Path, target: &Path) -> Result<Measured, String> {
    let cpu_before = children_cpu();
    let started = Instant::now();
    run(cargo()
        .args(["build", "--timings", "--quiet", "--target-dir"])
        .arg(target)
        .current_dir(project))?;
    let wall = started.elapsed();
    let cpu = children_cpu().saturating_sub(cpu_before);
    let html = target.join("cargo-timings").join("cargo-timing.html");
    let html = std::fs::read_to_string(&html)
        .map_err(|e| format!("cannot read {}: {e}", html.display()))?;
    let mut units = parse_timings(&html)?;
    units.sort_by(|a, b| b.duration.total_cmp(&a.duration));
    Ok(Measured { wall, cpu, units })
}

/// Writes a binary package `name` with `dependencies` and `main`, pinned by
/// `lock` (the workspace's `Cargo.lock`) when given.
pub fn write_project(
    dir: &Path,
    name: &str,
    dependencies: &str,
    main: &str,
    lock: Option<&Path>,
) -> Result<(), String> {
    let write = |path: PathBuf, text: &str| {
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
    };
    std::fs::create_dir_all(dir.join("src"))
        .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    write(
        dir.join("Cargo.toml"),
        &format!(
            "[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\
             publish = false\n\n[workspace]\n\n[dependencies]\n{dependencies}"
        ),
    )?;
    write(dir.join("src/main.rs"), main)?;
    if let Some(lock) = lock {
        std::fs::copy(lock, dir.join("Cargo.lock"))
            .map_err(|e| format!("cannot copy {}: {e}", lock.display()))?;
    }
    Ok(())
}

/// Packages the workspace's crates into `scratch` and unpacks them there;
/// gives the directory of each, in [`PACKAGES`]' order.
fn package(workspace: &Path, scratch: &Path) -> Result<Vec<PathBuf>, String> {
    let target = scratch.join("package-target");
    let mut command = cargo();
    command
        .args(["package", "--no-verify", "--allow-dirty", "--quiet"])
        .args(PACKAGES.iter().flat_map(|p| ["-p", p]))
        .arg("--target-dir")
        .arg(&target)
        .current_dir(workspace);
    run(&mut command)?;
    let mut dirs = Vec::new();
    for name in PACKAGES {
        let crate_file = std::fs::read_dir(target.join("package"))
            .map_err(|e| format!("cannot list the packages: {e}"))?
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .find(|path| {
                path.file_name()
                    .and_then(|f| f.to_str())
                    .and_then(|f| {
                        f.strip_prefix(name)?
                            .strip_prefix('-')?
                            .strip_suffix(".crate")
                    })
                    .is_some_and(|version| version.starts_with(|c: char| c.is_ascii_digit()))
            })
            .ok_or_else(|| format!("cargo package made no {name}-*.crate"))?;
        run(Command::new("tar")
            .arg("xzf")
            .arg(&crate_file)
            .arg("-C")
            .arg(scratch))?;
        let stem = crate_file
            .file_stem()
            .ok_or("a package without a name")?
            .to_owned();
        dirs.push(scratch.join(stem));
    }
    Ok(dirs)
}

/// Runs the whole measurement with `scratch` as the work directory;
/// gives the report.
pub fn build_time(workspace: &Path, scratch: &Path, top: usize) -> Result<String, String> {
    let dirs = package(workspace, scratch)?;
    let (sdk, codegen) = (&dirs[0], &dirs[1]);
    let lock = workspace.join("Cargo.lock");
    let hello = scratch.join("hello");
    write_project(
        &hello,
        "hello",
        &format!(
            "phala-cloud = {{ path = {sdk:?} }}\n\
             tokio = {{ version = \"1\", features = [\"macros\", \"rt-multi-thread\"] }}\n\n\
             [patch.crates-io]\nphala-cloud-codegen = {{ path = {codegen:?} }}\n"
        ),
        HELLO_MAIN,
        Some(&lock),
    )?;
    let bare = scratch.join("bare");
    write_project(&bare, "bare", BARE_DEPENDENCIES, BARE_MAIN, Some(&lock))?;
    let sdk_build = measure_build(&hello, &scratch.join("hello-target"))?;
    // The first target directory goes before the second build starts: the
    // two never hold the disk at once.
    let _ = std::fs::remove_dir_all(scratch.join("hello-target"));
    let bare_build = measure_build(&bare, &scratch.join("bare-target"))?;
    Ok(report(&sdk_build, &bare_build, top))
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = r#"<script>
DURATION = 3;
const UNIT_DATA = [
  {"i": 0, "name": "syn", "version": "2.0.0", "mode": "todo", "target": "",
   "start": 0.5, "duration": 2.5, "sections": [["frontend", {"start": 0.0, "end": 1.5}],
   ["codegen", {"start": 1.5, "end": 2.5}]]},
  {"i": 1, "name": "hello", "version": "0.0.0", "mode": "todo",
   "target": " hello \"bin\"", "start": 3.0, "duration": 0.25, "sections": null}
];
const CONCURRENCY_DATA = [];
</script>"#;

    #[test]
    fn parses_the_units_of_a_timings_report() {
        let units = parse_timings(REPORT).unwrap();
        assert_eq!(
            units,
            [
                Unit {
                    name: "syn".into(),
                    target: String::new(),
                    start: 0.5,
                    duration: 2.5,
                    frontend: Some(1.5),
                },
                Unit {
                    name: "hello".into(),
                    target: "hello bin".into(),
                    start: 3.0,
                    duration: 0.25,
                    frontend: None,
                },
            ]
        );
        assert_eq!(units[1].label(), "hello hello bin");
        assert_eq!(units[0].label(), "syn");
    }

    #[test]
    fn a_report_without_units_is_an_error() {
        assert!(parse_timings("<html></html>").is_err());
        assert!(parse_timings("const UNIT_DATA = {};").is_err());
        assert!(parse_timings("const UNIT_DATA = [ nope").is_err());
        assert!(parse_timings(r#"const UNIT_DATA = [{"name": "a", "start": 1}];"#).is_err());
        assert!(parse_timings(r#"const UNIT_DATA = [{"start": 1, "duration": 1}];"#).is_err());
    }

    fn measured(wall: u64, cpu: u64, units: Vec<Unit>) -> Measured {
        Measured {
            wall: Duration::from_secs(wall),
            cpu: Duration::from_secs(cpu),
            units,
        }
    }

    fn unit(name: &str, target: &str, start: f64, duration: f64) -> Unit {
        Unit {
            name: name.into(),
            target: target.into(),
            start,
            duration,
            frontend: Some(duration / 2.0),
        }
    }

    #[test]
    fn the_report_gives_both_builds_their_ratio_and_the_slowest_units() {
        let sdk = measured(
            60,
            120,
            vec![
                unit("phala-cloud", "", 48.0, 12.0),
                unit("phala-cloud", "build script (run)", 46.0, 2.0),
                unit("itoa", "", 1.0, 0.5),
            ],
        );
        let bare = measured(30, 40, vec![unit("reqwest", "", 10.0, 8.0)]);
        let text = report(&sdk, &bare, 2);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[2], "hello world (SDK)         60.0s   120.0s");
        assert_eq!(lines[3], "bare reqwest stack        30.0s    40.0s");
        assert_eq!(lines[4], "ratio                     2.00x    3.00x");
        assert!(text.contains("phala-cloud: 12.0s from 48.0s (frontend 6.0s)"));
        assert!(text.contains("   12.0s  from  48.0s  phala-cloud\n"));
        assert!(text.contains("    2.0s  from  46.0s  phala-cloud build script (run)\n"));
        assert!(!text.contains("itoa"), "only the top 2: {text}");
        assert!(text.contains("slowest units of the bare stack:\n    8.0s  from  10.0s  reqwest"));
    }

    #[test]
    fn measures_a_tiny_build_and_leaves_nothing_behind() {
        let root = std::env::temp_dir().join(format!("xtask-build-time-{}", std::process::id()));
        let scratch = Scratch::create(root.clone()).unwrap();
        assert!(
            Scratch::create(root.clone()).is_err(),
            "a leftover is never reused"
        );
        let project = scratch.path().join("tiny");
        write_project(&project, "tiny", "", "fn main() {}\n", None).unwrap();
        let measured = measure_build(&project, &scratch.path().join("target")).unwrap();
        assert_eq!(measured.units.len(), 1);
        assert_eq!(measured.units[0].label(), "tiny tiny bin");
        assert!(measured.wall > Duration::ZERO);
        assert!(measured.cpu > Duration::ZERO);
        drop(scratch);
        assert!(!root.exists());
    }
}
