//! What a deploy or a compose update takes: a docker-compose file, or a
//! whole app compose.

use crate::types::{AppCompose, AppComposeStorageFs};
use crate::Error;

/// The app to deploy: a docker-compose file as text (everything else as the
/// server defaults it), or a whole [`AppCompose`] (pre-launch script,
/// gateway, public logs, …).
///
/// ```
/// use phala_cloud::deploy::Compose;
///
/// let compose = Compose::from("services:\n  web:\n    image: nginx:1.27\n");
/// assert!(matches!(compose, Compose::DockerCompose(_)));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Compose {
    /// A `docker-compose.yml`, as text.
    DockerCompose(String),
    /// An app compose, sent as it serializes (its `name` is the deploy's
    /// name when left empty).
    App(Box<AppCompose>),
}

impl From<&str> for Compose {
    fn from(docker_compose: &str) -> Self {
        Self::DockerCompose(docker_compose.to_string())
    }
}

impl From<String> for Compose {
    fn from(docker_compose: String) -> Self {
        Self::DockerCompose(docker_compose)
    }
}

impl From<&String> for Compose {
    fn from(docker_compose: &String) -> Self {
        Self::DockerCompose(docker_compose.clone())
    }
}

impl From<AppCompose> for Compose {
    fn from(compose: AppCompose) -> Self {
        Self::App(Box::new(compose))
    }
}

impl Compose {
    /// The app compose named `name` (unless it has a name of its own).
    pub(crate) fn into_app(self, name: &str) -> Result<AppCompose, Error> {
        let mut app = match self {
            Compose::App(app) => *app,
            Compose::DockerCompose(text) => AppCompose::builder()
                .name(name)
                .docker_compose_file(text)
                .try_into()
                .map_err(|e| Error::InvalidRequest(format!("the app compose: {e}")))?,
        };
        if app.name.is_empty() {
            app.name = name.to_string();
        }
        Ok(app)
    }

    /// The name the compose carries, if any.
    pub(crate) fn name(&self) -> Option<&str> {
        match self {
            Compose::App(app) if !app.name.is_empty() => Some(&app.name),
            _ => None,
        }
    }
}

/// `app` with the spec's default in every field it leaves unset that the
/// server would fill in (the nullable scripts, `salt` and the gateway
/// domain have none, and stay unset).
pub(crate) fn complete(mut app: AppCompose) -> AppCompose {
    app.manifest_version.get_or_insert(2);
    app.runner.get_or_insert_with(|| "docker-compose".into());
    app.features
        .get_or_insert_with(|| vec!["kms".into(), "tproxy-net".into()]);
    app.allowed_envs.get_or_insert_with(Vec::new);
    for (field, default) in [
        (&mut app.kms_enabled, true),
        (&mut app.gateway_enabled, true),
        (&mut app.tproxy_enabled, true),
        (&mut app.public_logs, true),
        (&mut app.public_sysinfo, true),
        (&mut app.public_tcbinfo, true),
        (&mut app.local_key_provider_enabled, false),
        (&mut app.no_instance_id, false),
        (&mut app.secure_time, false),
    ] {
        field.get_or_insert(default);
    }
    app.storage_fs.get_or_insert(AppComposeStorageFs::Zfs);
    app
}
