//! HTTP/1.1 as the test servers speak it: the request they received, and
//! answers written out byte for byte (so that a test can also write a
//! wrong one).

use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

/// One request as the server received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// `GET`, `POST`, …
    pub method: String,
    /// The request target: the path and the query.
    pub path: String,
    /// The headers, in order, as sent.
    pub headers: Vec<(String, String)>,
    /// The body (as many bytes as `Content-Length` said).
    pub body: Vec<u8>,
}

impl Recorded {
    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The query parameters, decoded, in order.
    pub fn query(&self) -> Vec<(String, String)> {
        phala_cloud::reqwest::Url::parse(&format!("http://h{}", self.path))
            .map(|url| url.query_pairs().into_owned().collect())
            .unwrap_or_default()
    }

    /// The first value of query parameter `name`.
    pub fn param(&self, name: &str) -> Option<String> {
        self.query()
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }
}

/// A status line and `headers`, up to the blank line that ends a head.
pub fn head(status: u16, headers: &[(&str, &str)]) -> String {
    let mut out = format!("HTTP/1.1 {status} Test\r\n");
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    out
}

/// A response: status line, headers and body; the connection closes after it.
pub fn response(status: u16, headers: &[(&str, &str)], body: &str) -> String {
    response_on(status, headers, body, "close")
}

/// A JSON [`response`].
pub fn json(status: u16, body: &str) -> String {
    response(status, &[("content-type", "application/json")], body)
}

/// A response with a `Content-Length` body and `Connection: <connection>`.
pub(crate) fn response_on(
    status: u16,
    headers: &[(&str, &str)],
    body: &str,
    connection: &str,
) -> String {
    let length = body.len().to_string();
    let mut all = vec![
        ("content-length", length.as_str()),
        ("connection", connection),
    ];
    all.extend_from_slice(headers);
    head(status, &all) + body
}

/// Reads one request, its body as long as `Content-Length` says; `None` if
/// the client closed the connection first.
pub(crate) async fn read_request(stream: &mut TcpStream) -> Option<Recorded> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let (method, path) = (first.next()?.to_string(), first.next()?.to_string());
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(Recorded {
        method,
        path,
        headers,
        body,
    })
}
