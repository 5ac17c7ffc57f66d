//! `multipart/form-data` bodies (RFC 7578), built in memory.
//!
//! Not reqwest's `multipart::Form`: it sends a streamed body, which reqwest
//! cannot clone, so the retry policy could not repeat the request. The parts
//! here are a few kilobytes of YAML, script or quote.

use bytes::{BufMut, Bytes, BytesMut};

/// One form field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Part {
    /// The field name (ASCII, no quotes).
    pub name: &'static str,
    /// The file name and media type of a file field.
    pub file: Option<(&'static str, &'static str)>,
    /// The field's bytes.
    pub body: Bytes,
}

/// A complete form: the `Content-Type` header value and the body.
#[derive(Debug, Clone)]
pub(crate) struct Form {
    pub content_type: String,
    pub body: Bytes,
}

impl Form {
    pub(crate) fn new(parts: &[Part]) -> Self {
        let mut attempt = 0u32;
        let boundary = loop {
            attempt += 1;
            // The attempt number keeps candidates distinct even if the OS
            // generator were unavailable, so the loop always ends.
            let candidate = format!("phala-cloud-{attempt}-{}", random_token(32));
            // A boundary must not occur in the content; with 190 random bits it
            // practically never does, but checking costs one pass.
            let delimiter = format!("--{candidate}");
            if !parts
                .iter()
                .any(|p| contains(&p.body, delimiter.as_bytes()))
            {
                break candidate;
            }
        };
        let mut body = BytesMut::new();
        for part in parts {
            body.put_slice(format!("--{boundary}\r\n").as_bytes());
            match part.file {
                Some((filename, media_type)) => body.put_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{}\"; filename=\"{filename}\"\r\n\
                         Content-Type: {media_type}\r\n\r\n",
                        part.name
                    )
                    .as_bytes(),
                ),
                None => body.put_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{}\"\r\n\r\n",
                        part.name
                    )
                    .as_bytes(),
                ),
            }
            body.put_slice(&part.body);
            body.put_slice(b"\r\n");
        }
        body.put_slice(format!("--{boundary}--\r\n").as_bytes());
        Self {
            content_type: format!("multipart/form-data; boundary={boundary}"),
            body: body.freeze(),
        }
    }
}

fn random_token(len: usize) -> String {
    const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut random = vec![0u8; len];
    // Without the OS generator the token is constant; the caller's attempt
    // number still makes each candidate new.
    let _ = getrandom::fill(&mut random);
    random
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_and_a_plain_field_are_framed_exactly() {
        let form = Form::new(&[
            Part {
                name: "file",
                file: Some(("quote.bin", "application/octet-stream")),
                body: Bytes::from_static(b"\x00\x01\r\n--x"),
            },
            Part {
                name: "hex",
                file: None,
                body: Bytes::from_static(b"abcd"),
            },
        ]);
        let boundary = form
            .content_type
            .strip_prefix("multipart/form-data; boundary=")
            .unwrap();
        assert!(boundary.len() <= 70, "RFC 2046 limit");
        let expected = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"quote.bin\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n\x00\x01\r\n--x\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"hex\"\r\n\r\nabcd\r\n\
             --{boundary}--\r\n"
        );
        assert_eq!(form.body, Bytes::from(expected));
    }

    #[test]
    fn boundaries_differ_between_forms() {
        let a = Form::new(&[]);
        let b = Form::new(&[]);
        assert_ne!(a.content_type, b.content_type);
    }
}
