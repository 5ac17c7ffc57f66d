//! The compose hash: SHA-256 of an app compose as compact JSON, the value
//! the server returns, the CVM measures into RTMR3 (its `compose-hash`
//! event), an app's on-chain allow-list holds and the `X-Compose-Hash`
//! header carries.
//!
//! **The form.** dstack measures the SHA-256 of the bytes of the CVM's
//! `app-compose.json`, and Phala Cloud writes that file as compact JSON:
//!
//! 1. object keys sorted recursively (by code point; array order is kept);
//! 2. no whitespace: `,` and `:` as separators;
//! 3. non-ASCII characters written as UTF-8, not `\u` escapes; `"`, `\`
//!    and control characters escaped as JSON requires (`\n`, `\u0001`);
//! 4. numbers as Python writes them (`1.0`, `1e+16`, `1e-05`);
//! 5. nothing dropped or filled in: every key present is hashed, whatever
//!    the runner, `null`s included.
//!
//! That is dstack-sdk's `get_compose_hash(compose, normalize=False)` (which
//! `@phala/cloud` exports as `getComposeHash`); the tests check this crate
//! against vectors computed with it (`tests/fixtures/compose_hash/`). The
//! server answers it as `compose_hash` to `POST /cvms/provision` and to an
//! update's provision, and the deploy flows check that answer against
//! their own hash ([`crate::deploy`]). Two other forms exist and give other
//! hashes: the official JS SDK's legacy helper (indented by four spaces,
//! runner-specific keys dropped), which no server or CVM reports, and
//! dstack-sdk's `normalize=True`; this crate implements neither.
//!
//! Where dstack-sdk's Python helper differs from the JSON it is given: it
//! reads the compose through a class that leaves out top-level fields that
//! are `null` or whose key starts with `_`, and that needs a `runner`. This
//! crate hashes the JSON as given; a compose the deploy flows build has none
//! of those.
//!
//! ```
//! use phala_cloud::compose_hash::{compact_json, ComposeHash};
//!
//! let compose = serde_json::json!({
//!     "runner": "docker-compose",
//!     "name": "café",
//!     "docker_compose_file": "services: {}",
//!     "bash_script": "kept, whatever the runner",
//! });
//! assert_eq!(
//!     compact_json(&compose),
//!     r#"{"bash_script":"kept, whatever the runner","docker_compose_file":"services: {}","name":"café","runner":"docker-compose"}"#
//! );
//! let hash = ComposeHash::of_json(&compose);
//! assert_eq!(hash.to_string().len(), 64);
//! let bytes32 = hash.to_bytes()?; // what `addComposeHash(bytes32)` takes on chain
//! # assert_eq!(phala_cloud::ids::ComposeHash::from(bytes32), hash);
//! # Ok::<(), phala_cloud::ids::ParseIdError>(())
//! ```
//!
//! A compose built as a [`types::AppCompose`](crate::types::AppCompose)
//! is sent as it serializes — the fields set, the keys of its `extra` map,
//! nothing filled in — so the hash of what the client sends for it is
//! `ComposeHash::of_json(&serde_json::to_value(&compose)?)`. There is no
//! typed `compose_hash()` method: a compose decoded from the server's JSON
//! does not re-encode an optional field the server wrote as `null` (an unset
//! `Option` is left out), and the `null` is part of the hash. Hash the JSON
//! as it came, or the file's bytes with [`ComposeHash::of_file`].
//!
//! ```
//! use phala_cloud::compose_hash::ComposeHash;
//! use phala_cloud::types::AppCompose;
//!
//! let compose = AppCompose::builder()
//!     .name("demo")
//!     .docker_compose_file("services: {}")
//!     .allowed_envs(Vec::<String>::new());
//! let compose = AppCompose::try_from(compose).map_err(|e| e.to_string())?;
//! let sent = serde_json::to_value(&compose)?;
//! assert_eq!(
//!     sent,
//!     serde_json::json!({"name": "demo", "docker_compose_file": "services: {}", "allowed_envs": []})
//! );
//! let hash = ComposeHash::of_json(&sent);
//! # assert_eq!(hash.to_string().len(), 64);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::io;

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use serde_json::ser::Formatter;
use serde_json::Value;
use sha2::{Digest, Sha256};

pub use crate::ids::ComposeHash;

impl ComposeHash {
    /// The compose hash of an app compose given as JSON: SHA-256 of its
    /// [`compact_json`].
    ///
    /// Use this for a compose as the server or a file holds it: every key
    /// present is hashed, including ones this crate's types do not know.
    pub fn of_json(app_compose: &Value) -> Self {
        Self::of_file(compact_json(app_compose).as_bytes())
    }

    /// The compose hash of an `app-compose.json` as bytes, what dstack
    /// measures: SHA-256 of the bytes as they are, not re-encoded. Use it
    /// for the file itself (the `app_compose` text a CVM's `/info`
    /// reports); it equals [`of_json`](Self::of_json) of the parsed file
    /// when the file is in the compact form, as the files Phala Cloud
    /// writes are.
    ///
    /// ```
    /// use phala_cloud::compose_hash::ComposeHash;
    ///
    /// let file = r#"{"name":"demo","runner":"docker-compose"}"#;
    /// let parsed: serde_json::Value = serde_json::from_str(file)?;
    /// assert_eq!(ComposeHash::of_file(file.as_bytes()), ComposeHash::of_json(&parsed));
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn of_file(app_compose_json: &[u8]) -> Self {
        let digest: [u8; 32] = Sha256::digest(app_compose_json).into();
        Self::from(digest)
    }
}

/// The compact JSON text of an app compose that its hash is taken of:
/// keys sorted recursively, no whitespace, UTF-8, numbers as Python writes
/// them (see the [module docs](self)).
///
/// ```
/// let compose = serde_json::json!({"name": "é", "features": ["kms"], "salt": null,
///     "runner": "bash", "docker_compose_file": "kept", "ratio": 1.0});
/// assert_eq!(
///     phala_cloud::compose_hash::compact_json(&compose),
///     r#"{"docker_compose_file":"kept","features":["kms"],"name":"é","ratio":1.0,"runner":"bash","salt":null}"#
/// );
/// ```
pub fn compact_json(app_compose: &Value) -> String {
    let mut out = Vec::new();
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, PythonNumbers);
    // A `Value` always serializes: its keys are strings and its numbers finite.
    Sorted(app_compose)
        .serialize(&mut serializer)
        .expect("a serde_json::Value serializes into a Vec");
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

/// Serializes a value with every object's keys in sorted order, whatever
/// order the map keeps (`serde_json`'s `preserve_order` may be on).
struct Sorted<'a>(&'a Value);

impl Serialize for Sorted<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Object(map) => {
                let mut entries: Vec<_> = map.iter().collect();
                entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
                let mut out = serializer.serialize_map(Some(entries.len()))?;
                for (key, value) in entries {
                    out.serialize_entry(key, &Sorted(value))?;
                }
                out.end()
            }
            Value::Array(items) => serializer.collect_seq(items.iter().map(Sorted)),
            scalar => scalar.serialize(serializer),
        }
    }
}

/// `serde_json`'s compact output, with floating-point numbers written as
/// Python's `repr` writes them, which dstack-sdk's hash uses: the same
/// shortest digits, but fixed notation only for decimal exponents -4 to 15,
/// a two-digit signed exponent otherwise, and `.0` on whole numbers.
struct PythonNumbers;

impl Formatter for PythonNumbers {
    fn write_f64<W: ?Sized + io::Write>(&mut self, writer: &mut W, value: f64) -> io::Result<()> {
        writer.write_all(python_float(value).as_bytes())
    }
}

/// Python's `repr` of a finite float; `null` for the others, as dstack-sdk
/// writes them (a `serde_json::Value` never holds one).
fn python_float(value: f64) -> String {
    if !value.is_finite() {
        return "null".into();
    }
    // `{:e}` gives the shortest digits that read back as `value`, as
    // Python's `repr` chooses them: `-1.25e-7`, `0e0`.
    let scientific = format!("{value:e}");
    let (mantissa, exponent) = scientific
        .split_once('e')
        .expect("`{:e}` always writes an exponent");
    let exponent: i32 = exponent.parse().expect("`{:e}` writes a decimal exponent");
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(unsigned) => ("-", unsigned),
        None => ("", mantissa),
    };
    if !(-4..16).contains(&exponent) {
        let exponent_sign = if exponent < 0 { '-' } else { '+' };
        return format!("{sign}{mantissa}e{exponent_sign}{:02}", exponent.abs());
    }
    let digits = mantissa.replace('.', "");
    // Where the decimal point goes, counted in digits from the left.
    let point = exponent + 1;
    let fixed = match usize::try_from(point) {
        Err(_) | Ok(0) => format!("0.{}{digits}", "0".repeat(point.unsigned_abs() as usize)),
        Ok(point) if point >= digits.len() => {
            format!("{digits}{}.0", "0".repeat(point - digits.len()))
        }
        Ok(point) => format!("{}.{}", &digits[..point], &digits[point..]),
    };
    format!("{sign}{fixed}")
}

#[cfg(test)]
mod tests {
    use super::python_float;

    #[test]
    fn floats_are_written_as_python_writes_them() {
        for (value, python) in [
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.0, "1.0"),
            (-2.5, "-2.5"),
            (0.1, "0.1"),
            (0.0001, "0.0001"),
            (0.00012, "0.00012"),
            (1e-5, "1e-05"),
            (-2.5e-7, "-2.5e-07"),
            (123.456, "123.456"),
            (1e15, "1000000000000000.0"),
            (1e16, "1e+16"),
            (1.5e16, "1.5e+16"),
            (1e300, "1e+300"),
            (5e-324, "5e-324"),
            (f64::NAN, "null"),
            (f64::INFINITY, "null"),
        ] {
            assert_eq!(python_float(value), python, "{value:e}");
        }
    }
}
