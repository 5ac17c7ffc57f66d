//! A strict `multipart/form-data` parser, to read the uploads the client
//! sends back as a server would.

/// One part of a `multipart/form-data` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormPart {
    /// The `name` of its `Content-Disposition`.
    pub name: String,
    /// The `filename` of its `Content-Disposition`, if any.
    pub filename: Option<String>,
    /// Its `Content-Type`, if any.
    pub content_type: Option<String>,
    /// Its bytes.
    pub body: Vec<u8>,
}

/// Parses a `multipart/form-data` body as a server would, strictly: CRLF
/// framing, the boundary from `content_type`, the closing delimiter last.
pub fn parse_multipart(content_type: &str, body: &[u8]) -> Vec<FormPart> {
    let (media, boundary) = content_type.split_once(';').expect("a boundary parameter");
    assert_eq!(media.trim(), "multipart/form-data");
    let boundary = boundary
        .trim()
        .strip_prefix("boundary=")
        .expect("boundary=")
        .trim_matches('"');
    let open = format!("--{boundary}\r\n");
    let close = format!("\r\n--{boundary}--\r\n");
    assert!(
        body.starts_with(open.as_bytes()),
        "opens with the delimiter"
    );
    assert!(
        body.ends_with(close.as_bytes()),
        "ends with the closing delimiter"
    );
    let inner = &body[open.len()..body.len() - close.len()];
    let separator = format!("\r\n--{boundary}\r\n");
    split(inner, separator.as_bytes())
        .into_iter()
        .map(|part| {
            let head_end = find(part, b"\r\n\r\n").expect("part headers end");
            let head = std::str::from_utf8(&part[..head_end]).expect("ASCII part headers");
            let mut parsed = FormPart {
                name: String::new(),
                filename: None,
                content_type: None,
                body: part[head_end + 4..].to_vec(),
            };
            for line in head.split("\r\n") {
                let (name, value) = line.split_once(':').expect("a header");
                match name.trim().to_ascii_lowercase().as_str() {
                    "content-disposition" => {
                        let mut params = value.split(';').map(str::trim);
                        assert_eq!(params.next(), Some("form-data"));
                        for param in params {
                            let (key, value) = param.split_once('=').expect("key=value");
                            let value = value.trim_matches('"').to_string();
                            match key {
                                "name" => parsed.name = value,
                                "filename" => parsed.filename = Some(value),
                                other => panic!("unexpected parameter {other}"),
                            }
                        }
                    }
                    "content-type" => parsed.content_type = Some(value.trim().to_string()),
                    other => panic!("unexpected part header {other}"),
                }
            }
            parsed
        })
        .collect()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn split<'a>(mut bytes: &'a [u8], separator: &[u8]) -> Vec<&'a [u8]> {
    let mut parts = Vec::new();
    while let Some(at) = find(bytes, separator) {
        parts.push(&bytes[..at]);
        bytes = &bytes[at + separator.len()..];
    }
    parts.push(bytes);
    parts
}
