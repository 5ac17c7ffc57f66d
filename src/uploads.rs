//! Replacing a CVM's docker compose file or pre-launch script: the two
//! `multipart/form-data` uploads of a CVM, with the phase-2 headers of the
//! on-chain update flow (see [`crate::onchain`]).
//!
//! The spec asks for a form with a `file` field; the official SDKs send the
//! text as the raw body instead (`text/yaml`, `text/plain`). This client
//! sends the form the spec describes.

use bytes::Bytes;
use progenitor_client::ResponseValue;
use reqwest::header::{HeaderValue, CONTENT_TYPE};
use reqwest::Method;

use crate::ids::CvmRef;
use crate::multipart::{Form, Part};
use crate::send::build;
use crate::{Client, Error};

const COMPOSE_HASH_HEADER: &str = "x-compose-hash";
const TRANSACTION_HASH_HEADER: &str = "x-transaction-hash";

/// Which file of a CVM an upload replaces.
#[derive(Debug)]
struct CvmFile {
    /// The retry policy's and the span's operation name.
    operation: &'static str,
    /// The path after `/api/v1/cvms/{cvm_id}/`.
    path: &'static str,
    /// What the file is, for messages.
    what: &'static str,
    filename: &'static str,
    media_type: &'static str,
}

const DOCKER_COMPOSE: CvmFile = CvmFile {
    operation: "update_docker_compose",
    path: "docker-compose",
    what: "docker compose file",
    filename: "docker-compose.yml",
    media_type: "application/yaml",
};

const PRE_LAUNCH_SCRIPT: CvmFile = CvmFile {
    operation: "update_pre_launch_script",
    path: "pre-launch-script",
    what: "pre-launch script",
    filename: "pre-launch.sh",
    media_type: "text/x-shellscript",
};

impl Client {
    /// Replaces a CVM's docker compose file and restarts the CVM
    /// (`PATCH /api/v1/cvms/{cvm_id}/docker-compose`, a `multipart/form-data`
    /// upload).
    ///
    /// `send()` answers the 202 body (`correlation_id`). For a CVM whose KMS
    /// is on chain, use [`crate::onchain::ProposeUpdate::propose`] instead,
    /// which turns the HTTP 465 into the hash to register.
    ///
    /// ```no_run
    /// # async fn run(client: phala_cloud::Client) -> Result<(), phala_cloud::Error> {
    /// let yaml = "services:\n  web:\n    image: nginx:1.27\n";
    /// let accepted = client
    ///     .update_docker_compose()
    ///     .cvm_id("cvm_ykL5lbAn")
    ///     .content(yaml)
    ///     .send()
    ///     .await?;
    /// println!("{}", accepted["correlation_id"]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn update_docker_compose(&self) -> UpdateCvmFile {
        UpdateCvmFile::new(self, &DOCKER_COMPOSE)
    }

    /// Replaces a CVM's pre-launch script (the shell script run before its
    /// containers start) and restarts the CVM
    /// (`PATCH /api/v1/cvms/{cvm_id}/pre-launch-script`, a
    /// `multipart/form-data` upload).
    ///
    /// ```no_run
    /// # async fn run(client: phala_cloud::Client) -> Result<(), phala_cloud::Error> {
    /// client
    ///     .update_pre_launch_script()
    ///     .cvm_id("cvm_ykL5lbAn")
    ///     .content("#!/bin/sh\necho ready\n")
    ///     .send()
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn update_pre_launch_script(&self) -> UpdateCvmFile {
        UpdateCvmFile::new(self, &PRE_LAUNCH_SCRIPT)
    }
}

/// A request replacing a CVM's docker compose file or pre-launch script;
/// see [`Client::update_docker_compose`] and
/// [`Client::update_pre_launch_script`].
#[derive(Debug, Clone)]
#[must_use]
pub struct UpdateCvmFile {
    client: Client,
    file: &'static CvmFile,
    cvm_id: Option<Result<CvmRef, String>>,
    content: Option<Bytes>,
    compose_hash: Option<String>,
    transaction_hash: Option<String>,
}

crate::options::with_options!(UpdateCvmFile);

impl UpdateCvmFile {
    fn new(client: &Client, file: &'static CvmFile) -> Self {
        Self {
            client: client.clone(),
            file,
            cvm_id: None,
            content: None,
            compose_hash: None,
            transaction_hash: None,
        }
    }

    /// The CVM: a [`CvmRef`] or a string that parses as one (its id, UUID,
    /// app id, legacy number or name); an invalid one fails at `send` and
    /// sends nothing.
    pub fn cvm_id<V>(mut self, value: V) -> Self
    where
        V: TryInto<CvmRef>,
        V::Error: std::fmt::Display,
    {
        self.cvm_id = Some(crate::ids::param("cvm_id", value));
        self
    }

    /// The new file's text.
    pub fn content(mut self, text: impl Into<String>) -> Self {
        self.content = Some(Bytes::from(text.into()));
        self
    }

    /// `X-Compose-Hash`: the compose hash of phase 1 (phase 2 only).
    pub fn x_compose_hash(mut self, hash: impl Into<String>) -> Self {
        self.compose_hash = Some(hash.into());
        self
    }

    /// `X-Transaction-Hash`: the transaction that registered the compose
    /// hash (phase 2 only).
    pub fn x_transaction_hash(mut self, hash: impl Into<String>) -> Self {
        self.transaction_hash = Some(hash.into());
        self
    }

    /// Sends the upload. The answer is the 202 body:
    /// `{status, message, correlation_id}`.
    ///
    /// Nothing is sent, and [`Error::InvalidRequest`] says why, when the CVM
    /// or the content is missing or empty, or a hash is not a valid header
    /// value.
    pub async fn send(self) -> Result<ResponseValue<serde_json::Value>, Error> {
        let request = self.build()?;
        self.client.send_json(request, self.file.operation).await
    }

    fn build(&self) -> Result<reqwest::Request, Error> {
        let file = self.file;
        let cvm_id = self
            .cvm_id
            .clone()
            .ok_or_else(|| Error::InvalidRequest("cvm_id was not set".into()))?
            .map_err(Error::InvalidRequest)?;
        let content = self
            .content
            .clone()
            .filter(|c| !c.is_empty())
            .ok_or_else(|| {
                Error::InvalidRequest(format!("no {}: set a non-empty content", file.what))
            })?;
        let form = Form::new(&[Part {
            name: "file",
            file: Some((file.filename, file.media_type)),
            body: content,
        }]);
        let path = format!(
            "/api/v1/cvms/{}/{}",
            progenitor_client::encode_path(cvm_id.as_ref()),
            file.path
        );
        let mut builder = self
            .client
            .http_request(Method::PATCH, &path)
            .header(reqwest::header::ACCEPT, "application/json")
            .header(CONTENT_TYPE, form.content_type)
            .body(form.body);
        for (name, value) in [
            (COMPOSE_HASH_HEADER, &self.compose_hash),
            (TRANSACTION_HASH_HEADER, &self.transaction_hash),
        ] {
            if let Some(value) = value {
                builder = builder.header(name, header_value(name, value)?);
            }
        }
        build(builder)
    }
}

/// `value` as the value of the header `name`, or why it cannot be one.
fn header_value(name: &str, value: &str) -> Result<HeaderValue, Error> {
    HeaderValue::from_str(value).map_err(|_| {
        Error::InvalidRequest(format!("{name}: {value:?} is not a valid header value"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> Client {
        Client::builder().api_key("phak_test").build().unwrap()
    }

    #[test]
    fn missing_or_empty_input_is_refused_before_sending() {
        let client = client();
        let err = client
            .update_docker_compose()
            .content("x: 1")
            .build()
            .unwrap_err();
        assert_eq!(err.to_string(), "invalid request: cvm_id was not set");
        let err = client
            .update_pre_launch_script()
            .cvm_id("cvm_1")
            .content("")
            .build()
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid request: no pre-launch script: set a non-empty content"
        );
        let err = client
            .update_docker_compose()
            .cvm_id("cvm_1")
            .content("x: 1")
            .x_transaction_hash("0xab\n")
            .build()
            .unwrap_err();
        assert!(
            matches!(err, Error::InvalidRequest(ref m) if m.starts_with("x-transaction-hash")),
            "{err}"
        );
    }

    #[test]
    fn the_path_is_encoded_and_the_body_can_be_replayed() {
        let request = client()
            .update_docker_compose()
            .cvm_id("3B2F4C6A-8E1D-4F5A-9C7B-2D6E8F0A1B3C")
            .content("x: 1")
            .build()
            .unwrap();
        assert_eq!(
            request.url().as_str(),
            "https://cloud-api.phala.com/api/v1/cvms/3b2f4c6a8e1d4f5a9c7b2d6e8f0a1b3c/docker-compose"
        );
        let err = client()
            .update_docker_compose()
            .cvm_id("my app/../kms")
            .content("x: 1")
            .build()
            .unwrap_err();
        assert!(
            matches!(err, Error::InvalidRequest(ref m) if m.starts_with("cvm_id: invalid CVM reference")),
            "{err}"
        );
        assert!(
            request.try_clone().is_some(),
            "the retry policy can send it again"
        );
    }
}
