//! JSON pointer (RFC 6901) building.

/// Escapes one reference token: `~` → `~0`, `/` → `~1`.
pub fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Joins a pointer and one more token.
pub fn join(base: &str, token: &str) -> String {
    format!("{base}/{}", escape(token))
}

/// The pointer of an operation: `/paths/<path>/<method>`.
pub fn operation(path: &str, method: &str) -> String {
    join(&join("/paths", path), method)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_slash_and_tilde() {
        assert_eq!(operation("/api/v1/kms", "get"), "/paths/~1api~1v1~1kms/get");
        assert_eq!(join("", "a~b"), "/a~0b");
    }
}
