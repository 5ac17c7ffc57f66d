//! Replacing a CVM's docker compose file or pre-launch script: the two
//! generated `multipart/form-data` uploads of a CVM
//! ([`Client::update_docker_compose`](crate::Client::update_docker_compose),
//! [`Client::update_pre_launch_script`](crate::Client::update_pre_launch_script)),
//! whose phase-2 headers serve the on-chain update flow (see
//! [`crate::onchain`]).
//!
//! The spec asks for a form with a `file` field; the official SDKs send the
//! text as the raw body instead (`text/yaml`, `text/plain`). This client
//! sends the form the spec describes. What this module adds is the file's
//! text as the file: `.content(text)` names it and types it as the server
//! expects.
//!
//! ```no_run
//! # async fn run(client: phala_cloud::Client) -> Result<(), phala_cloud::Error> {
//! let yaml = "services:\n  web:\n    image: nginx:1.27\n";
//! let accepted = client
//!     .update_docker_compose()
//!     .cvm_id("cvm_ykL5lbAn")
//!     .content(yaml)
//!     .send()
//!     .await?;
//! println!("follow it as {:?}", accepted.correlation_id);
//! client
//!     .update_pre_launch_script()
//!     .cvm_id("cvm_ykL5lbAn")
//!     .content("#!/bin/sh\necho ready\n")
//!     .send()
//!     .await?;
//! # Ok(())
//! # }
//! ```

use crate::builder::{UpdateDockerCompose, UpdatePreLaunchScript};

impl UpdateDockerCompose {
    /// The new docker compose file's text, sent as the `file` field
    /// (`docker-compose.yml`, `application/yaml`). An empty one fails at
    /// `send()`, before anything is sent.
    ///
    /// *Hand-written:* the file's text as the form's file part, named and
    /// typed as the server expects.
    pub fn content(self, text: impl Into<String>) -> Self {
        self.file(text.into(), "docker-compose.yml", "application/yaml")
    }
}

impl UpdatePreLaunchScript {
    /// The new pre-launch script's text, sent as the `file` field
    /// (`pre-launch.sh`, `text/x-shellscript`). An empty one fails at
    /// `send()`, before anything is sent.
    ///
    /// *Hand-written:* the file's text as the form's file part, named and
    /// typed as the server expects.
    pub fn content(self, text: impl Into<String>) -> Self {
        self.file(text.into(), "pre-launch.sh", "text/x-shellscript")
    }
}
