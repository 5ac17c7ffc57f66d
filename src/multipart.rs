//! `multipart/form-data` bodies (RFC 7578), built in memory, for the
//! generated multipart operations.
//!
//! Not reqwest's `multipart::Form`: it sends a streamed body, which reqwest
//! cannot clone, so the retry policy could not repeat the request. A form
//! here is one `Bytes` body, so every attempt sends the same bytes. The
//! parts are a few kilobytes of YAML, script or quote.
//!
//! The generator (`codegen`'s multipart pass) gives each form body type an
//! implementation of the crate's `FormFields`, listing its fields in the
//! spec's order, and sends it in place of a JSON body. A file field takes a
//! [`File`].

use std::borrow::Cow;

use bytes::{BufMut, Bytes, BytesMut};
use serde::{Deserialize, Serialize};

/// A file to send in a form field: its bytes, file name and content type.
///
/// The generated setter of a file field takes the three
/// (`.file(bytes, "quote.bin", "application/octet-stream")`). Its JSON form
/// (`{"content", "file_name", "content_type"}`, the content as text) is for
/// tests that build a request from JSON; a form is always sent as bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct File {
    #[serde(with = "text_bytes")]
    content: Bytes,
    file_name: String,
    content_type: String,
}

impl File {
    /// A file part, or why it cannot be sent: it is empty (no operation of
    /// the API takes an empty file, so an empty one is refused before
    /// anything is sent), or its name or content type cannot be sent in a
    /// part's headers (a quote, a line break or another control character).
    pub fn new(
        content: impl Into<Bytes>,
        file_name: impl Into<String>,
        content_type: impl Into<String>,
    ) -> Result<Self, String> {
        let (content, file_name, content_type) =
            (content.into(), file_name.into(), content_type.into());
        if content.is_empty() {
            return Err("the file is empty".into());
        }
        for (what, value) in [("file name", &file_name), ("content type", &content_type)] {
            if let Some(c) = value.chars().find(|c| c.is_control() || *c == '"') {
                return Err(format!(
                    "the {what} {value:?} has {c:?}, which a form part's header cannot carry"
                ));
            }
        }
        if content_type.is_empty() {
            return Err("the content type is empty".into());
        }
        Ok(Self {
            content,
            file_name,
            content_type,
        })
    }

    /// The file's bytes.
    pub fn content(&self) -> &Bytes {
        &self.content
    }

    /// The file name sent with it.
    pub fn file_name(&self) -> &str {
        &self.file_name
    }

    /// The content type sent with it.
    pub fn content_type(&self) -> &str {
        &self.content_type
    }
}

/// The file's bytes as JSON text (lossy for bytes that are not UTF-8).
mod text_bytes {
    use bytes::Bytes;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &Bytes, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&String::from_utf8_lossy(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Bytes, D::Error> {
        String::deserialize(d).map(Bytes::from)
    }
}

/// A form body: its fields as parts, in the order they are sent.
pub(crate) trait FormFields {
    /// The parts, in the spec's order; unset optional fields send none.
    fn parts(&self) -> Vec<Part>;
}

/// `builder` with `body` as its `multipart/form-data` body (in place of
/// progenitor's `.json(&body)`).
pub(crate) fn attach(
    builder: reqwest::RequestBuilder,
    body: &impl FormFields,
) -> reqwest::RequestBuilder {
    let form = Form::new(&body.parts());
    builder
        .header(reqwest::header::CONTENT_TYPE, form.content_type)
        .body(form.body)
}

/// The part of a file field.
pub(crate) fn file_part(name: &'static str, file: &File) -> Part {
    Part {
        name,
        file: Some((
            Cow::Owned(file.file_name.clone()),
            Cow::Owned(file.content_type.clone()),
        )),
        body: file.content.clone(),
    }
}

/// The parts of a text field: a string as it is, a number or a boolean as
/// JSON writes it, nothing for `null` (an unset optional field), one part
/// per element of an array, and any other value as its JSON.
pub(crate) fn text_parts(parts: &mut Vec<Part>, name: &'static str, value: &impl Serialize) {
    fn push(parts: &mut Vec<Part>, name: &'static str, value: serde_json::Value) {
        let text = match value {
            serde_json::Value::Null => return,
            serde_json::Value::String(s) => s,
            serde_json::Value::Array(items) => {
                for item in items {
                    push(parts, name, item);
                }
                return;
            }
            other => other.to_string(),
        };
        parts.push(Part {
            name,
            file: None,
            body: Bytes::from(text),
        });
    }
    // A generated field type always serializes; `null` (nothing sent) if
    // one ever did not.
    push(parts, name, serde_json::to_value(value).unwrap_or_default());
}

/// One form field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Part {
    /// The field name (ASCII, no quotes).
    pub name: &'static str,
    /// The file name and media type of a file field.
    pub file: Option<(Cow<'static, str>, Cow<'static, str>)>,
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
            match &part.file {
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
                file: Some(("quote.bin".into(), "application/octet-stream".into())),
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
