//! Requests to any path of the API: the way to reach an endpoint the
//! vendored spec lacks, with everything a generated call has.

use std::fmt;

use bytes::Bytes;
use progenitor_client::ResponseValue;
use reqwest::header::{HeaderName, HeaderValue};
use reqwest::{Method, RequestBuilder};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::{Client, Error};

/// The operation name raw requests carry in the tracing span and that the
/// retry policy sees: not a lifecycle operation, so retried by method.
const OPERATION: &str = "raw_request";

impl Client {
    /// A request to `path`, relative to the API's `/api/v1` (`/auth/me`
    /// is `GET {base}/api/v1/auth/me`; a path already starting with
    /// `/api/v1/` is taken as it is), for endpoints the spec this crate is
    /// generated from does not have.
    ///
    /// It goes out as a generated call does: the credentials, workspace,
    /// `X-Phala-Version` and default headers, the retry policy (by method:
    /// a GET is retried on 503, a POST is not), the deadlines, the body
    /// limits, the `phala_cloud.request` span, and [`Error`] for every
    /// failure, an error status included. A path that does not start with
    /// `/`, or holds a `?`, a `#`, `.`/`..` segments or an empty segment, is
    /// refused at `send` with [`Error::InvalidRequest`], and nothing is sent.
    ///
    /// ```no_run
    /// use phala_cloud::reqwest::Method;
    /// use serde::Deserialize;
    ///
    /// #[derive(Deserialize)]
    /// struct Me {
    ///     username: String,
    /// }
    ///
    /// # async fn run(client: phala_cloud::Client) -> Result<(), phala_cloud::Error> {
    /// let me = client.request(Method::GET, "/auth/me").send::<Me>().await?;
    /// println!("{}", me.username);
    /// let nodes = client
    ///     .get("/kms/phala/nodes")
    ///     .query(&[("page", 1)])
    ///     .send::<serde_json::Value>()
    ///     .await?
    ///     .into_inner();
    /// # Ok(())
    /// # }
    /// ```
    pub fn request(&self, method: Method, path: &str) -> RawRequest {
        let builder = api_path(path).map(|path| self.http_request(method, &path));
        RawRequest {
            client: self.clone(),
            builder,
        }
    }

    /// A `GET` of `path`; see [`Client::request`].
    pub fn get(&self, path: &str) -> RawRequest {
        self.request(Method::GET, path)
    }

    /// A `POST` to `path`; see [`Client::request`].
    pub fn post(&self, path: &str) -> RawRequest {
        self.request(Method::POST, path)
    }

    /// A `PUT` to `path`; see [`Client::request`].
    pub fn put(&self, path: &str) -> RawRequest {
        self.request(Method::PUT, path)
    }

    /// A `PATCH` of `path`; see [`Client::request`].
    pub fn patch(&self, path: &str) -> RawRequest {
        self.request(Method::PATCH, path)
    }

    /// A `DELETE` of `path`; see [`Client::request`].
    pub fn delete(&self, path: &str) -> RawRequest {
        self.request(Method::DELETE, path)
    }
}

/// A request to a path of the API's choosing; see [`Client::request`].
#[must_use]
pub struct RawRequest {
    client: Client,
    /// Or why the path is refused.
    builder: Result<RequestBuilder, String>,
}

crate::options::with_options!(RawRequest);

impl fmt::Debug for RawRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawRequest")
            .field("client", &self.client)
            .field("request", &self.builder)
            .finish()
    }
}

impl RawRequest {
    fn map(mut self, f: impl FnOnce(RequestBuilder) -> RequestBuilder) -> Self {
        self.builder = self.builder.map(f);
        self
    }

    /// Adds `query` (anything serde serializes as a map or a sequence of
    /// pairs) to the URL's query string.
    pub fn query<T: Serialize + ?Sized>(self, query: &T) -> Self {
        self.map(|b| b.query(query))
    }

    /// A header of this request. The client's own (credentials,
    /// `X-Phala-Version`, `User-Agent`) take precedence; see
    /// [`RequestOptions`](crate::RequestOptions) to change the version.
    pub fn header<K, V>(self, name: K, value: V) -> Self
    where
        HeaderName: TryFrom<K>,
        <HeaderName as TryFrom<K>>::Error: Into<http::Error>,
        HeaderValue: TryFrom<V>,
        <HeaderValue as TryFrom<V>>::Error: Into<http::Error>,
    {
        self.map(|b| b.header(name, value))
    }

    /// `body` as JSON, with `Content-Type: application/json`.
    pub fn json<T: Serialize + ?Sized>(self, body: &T) -> Self {
        self.map(|b| b.json(body))
    }

    /// `body` as it is (set `Content-Type` with [`RawRequest::header`]).
    pub fn body(self, body: impl Into<Bytes>) -> Self {
        let body = body.into();
        self.map(|b| b.body(body))
    }

    /// The request, JSON accepted unless the caller says otherwise.
    fn build(self) -> Result<(Client, reqwest::Request), Error> {
        let builder = self.builder.map_err(Error::InvalidRequest)?;
        let mut request = crate::transport::send::build(builder)?;
        request
            .headers_mut()
            .entry(reqwest::header::ACCEPT)
            .or_insert(HeaderValue::from_static("application/json"));
        Ok((self.client, request))
    }

    /// Sends the request and decodes the JSON answer as `T` (a
    /// [`serde_json::Value`] takes anything), within
    /// [`max_response_size`](crate::ClientBuilder::max_response_size); an
    /// answer that does not decode is [`Error::Decode`], saying where.
    pub async fn send<T: DeserializeOwned>(self) -> Result<ResponseValue<T>, Error> {
        let (client, request) = self.build()?;
        let limit = client.inner.response_limit();
        let response = client.send_checked(request, OPERATION, limit).await?;
        crate::error::from_generated(ResponseValue::from_response(response).await).await
    }

    /// Sends the request and gives the answer's status, headers and body
    /// bytes as they came (read within
    /// [`max_response_size`](crate::ClientBuilder::max_response_size)). An
    /// error status is an [`Error`] still, whose
    /// [`api_error`](Error::api_error) holds its status, headers and body.
    pub async fn send_raw(self) -> Result<ResponseValue<Bytes>, Error> {
        let (client, request) = self.build()?;
        let limit = client.inner.response_limit();
        let response = client.send_checked(request, OPERATION, limit).await?;
        let (status, headers) = (response.status(), response.headers().clone());
        let body = response.bytes().await.map_err(Error::from_reqwest)?;
        Ok(ResponseValue::new(body, status, headers))
    }
}

/// `path` under `/api/v1`, or why it cannot be sent.
fn api_path(path: &str) -> Result<String, String> {
    let refuse = |why: &str| Err(format!("path {path:?}: {why}"));
    let Some(relative) = path.strip_prefix('/') else {
        return refuse("must start with `/`");
    };
    if path.contains(['?', '#']) {
        return refuse("a query or fragment belongs in `query`, not the path");
    }
    if relative
        .split('/')
        .any(|segment| segment.is_empty() || segment == "." || segment == "..")
    {
        return refuse("empty, `.` and `..` segments are not allowed");
    }
    if path.chars().any(|c| c.is_control() || c == ' ') {
        return refuse("spaces and control characters must be percent-encoded");
    }
    Ok(if path.starts_with("/api/v1/") {
        path.to_string()
    } else {
        format!("/api/v1{path}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_go_under_api_v1_and_bad_ones_are_refused() {
        assert_eq!(api_path("/auth/me").unwrap(), "/api/v1/auth/me");
        assert_eq!(api_path("/api/v1/kms").unwrap(), "/api/v1/kms");
        for bad in [
            "auth/me",
            "/auth/me?x=1",
            "/a#b",
            "/a/../../admin",
            "/a/./b",
            "//evil.example/x",
            "/a/",
            "/a b",
            "",
        ] {
            assert!(api_path(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_refused_path_is_an_invalid_request() {
        let client = Client::builder().api_key("phak_k").build().unwrap();
        let err = client.get("/x/../y").build().unwrap_err();
        assert!(
            matches!(err, Error::InvalidRequest(ref m) if m.contains("segments")),
            "{err}"
        );
    }
}
