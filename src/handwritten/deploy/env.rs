//! The env vars of a deploy or an update: given one by one or read from a
//! dotenv file, checked against the compose's `allowed_envs`.

use std::io;
use std::path::Path;

use super::DeployError;
use crate::env_encryption::EnvVar;

/// Env vars as a builder collects them: a later value replaces an earlier
/// one of the same key. A file that could not be read is kept as the error
/// the flow reports before sending anything.
#[derive(Debug, Clone, Default)]
pub(crate) struct EnvSet {
    vars: Vec<EnvVar>,
    /// `(source, message)` of the first file that failed.
    failed: Option<(String, String)>,
}

impl EnvSet {
    pub(crate) fn set(&mut self, var: EnvVar) {
        match self.vars.iter_mut().find(|v| v.key() == var.key()) {
            Some(existing) => *existing = var,
            None => self.vars.push(var),
        }
    }

    pub(crate) fn read_file(&mut self, path: &Path) {
        let source = path.display().to_string();
        let parsed = std::fs::File::open(path)
            .map_err(|e| (source.clone(), e.to_string()))
            .and_then(|file| parse(file, &source));
        match parsed {
            Ok(vars) => vars.into_iter().for_each(|var| self.set(var)),
            Err(failed) => {
                self.failed.get_or_insert(failed);
            }
        }
    }

    /// The variables, or why a file could not be read.
    pub(crate) fn into_vars(self) -> Result<Vec<EnvVar>, DeployError> {
        match self.failed {
            Some((source_name, message)) => Err(DeployError::EnvFile {
                source_name,
                message,
            }),
            None => Ok(self.vars),
        }
    }
}

/// Env vars from dotenv text, as `docker compose` reads an `.env` file:
/// `KEY=value` lines, `export` prefixes, `#` comments, single- and
/// double-quoted values (escapes and several lines in double quotes), and
/// `${OTHER}` substituted from earlier lines or the process environment.
///
/// A line that does not parse is a [`DeployError::EnvFile`] naming where
/// in the line, never its text: it may hold a secret.
///
/// ```
/// use phala_cloud::deploy::parse_dotenv;
///
/// let vars = parse_dotenv("# the app's secrets\nAPI_TOKEN=s3cr3t\nexport GREETING=\"hello\\nworld\"\n")?;
/// let keys: Vec<_> = vars.iter().map(|v| v.key()).collect();
/// assert_eq!(keys, ["API_TOKEN", "GREETING"]);
/// assert_eq!(vars[1].value(), "hello\nworld");
/// # Ok::<(), phala_cloud::deploy::DeployError>(())
/// ```
pub fn parse_dotenv(text: &str) -> Result<Vec<EnvVar>, DeployError> {
    parse(text.as_bytes(), "dotenv text").map_err(|(source_name, message)| DeployError::EnvFile {
        source_name,
        message,
    })
}

fn parse(reader: impl io::Read, source: &str) -> Result<Vec<EnvVar>, (String, String)> {
    dotenvy::from_read_iter(reader)
        .map(|item| {
            item.map(|(key, value)| EnvVar::new(key, value))
                .map_err(|e| (source.to_string(), describe(&e)))
        })
        .collect()
}

/// The parser's error without the line's text.
fn describe(error: &dotenvy::Error) -> String {
    match error {
        dotenvy::Error::LineParse(line, at) => {
            let key = line
                .split_once('=')
                .map(|(key, _)| key.trim().trim_start_matches("export ").trim())
                .filter(|key| key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
            match key {
                Some(key) if !key.is_empty() => {
                    format!("the line of {key} does not parse at character {at}")
                }
                _ => format!(
                    "a line does not parse at character {at} (not shown: it may hold a secret)"
                ),
            }
        }
        other => other.to_string(),
    }
}

/// Refuses env vars the compose does not allow.
pub(crate) fn check_allowed(vars: &[EnvVar], allowed: &[String]) -> Result<(), DeployError> {
    let keys: Vec<String> = vars
        .iter()
        .map(|v| v.key().to_string())
        .filter(|key| !allowed.contains(key))
        .collect();
    if keys.is_empty() {
        return Ok(());
    }
    Err(DeployError::EnvNotAllowed {
        keys,
        allowed: allowed.to_vec(),
    })
}

/// The keys, in order.
pub(crate) fn keys(vars: &[EnvVar]) -> Vec<String> {
    vars.iter().map(|v| v.key().to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_later_value_replaces_an_earlier_one() {
        let mut set = EnvSet::default();
        set.set(EnvVar::new("A", "1"));
        set.set(EnvVar::new("B", "2"));
        set.set(EnvVar::new("A", "3"));
        let vars = set.into_vars().unwrap();
        assert_eq!(keys(&vars), ["A", "B"]);
        assert_eq!(vars[0].value(), "3");
    }

    #[test]
    fn a_bad_line_is_named_without_its_secret() {
        let err = parse_dotenv("GOOD=1\nTOKEN='unterminated s3cr3t\n").unwrap_err();
        let message = err.to_string();
        assert!(message.contains("TOKEN"), "{message}");
        assert!(!message.contains("s3cr3t"), "{message}");
    }

    #[test]
    fn a_missing_file_is_reported_when_the_vars_are_read() {
        let mut set = EnvSet::default();
        set.read_file(Path::new("/nonexistent/.env"));
        let err = set.into_vars().unwrap_err();
        assert!(
            matches!(err, DeployError::EnvFile { ref source_name, .. } if source_name == "/nonexistent/.env")
        );
    }

    #[test]
    fn only_allowed_keys_pass() {
        let vars = [EnvVar::new("A", "1"), EnvVar::new("B", "2")];
        assert!(check_allowed(&vars, &["A".into(), "B".into()]).is_ok());
        let err = check_allowed(&vars, &["A".into()]).unwrap_err();
        assert!(matches!(err, DeployError::EnvNotAllowed { ref keys, .. } if keys == &["B"]));
    }
}
