//! `clone`: a fresh database copied from the project's template on a server (the project's
//! running container or any Postgres named by URL), and the removal of clones. The template
//! work itself lives in [`crate::template`].

use serde::Serialize;
use sqlx::Connection;

use crate::error::{Exit, Failure};
use crate::pg::DatabaseUrl;
use crate::progress::Progress;
use crate::template::{
    self, CloneError, Template, TemplateSource, clone_database, ensure_template, new_clone_name,
};

/// How many fresh names a clone tries before it gives up: a random name taken by another
/// job's clone on a shared server is rare, twice in a row rarer still.
const NAME_TRIES: usize = 3;

#[derive(Debug, thiserror::Error)]
pub(crate) enum CloneOpError {
    #[error(transparent)]
    Clone(#[from] CloneError),
}

impl Failure for CloneOpError {
    fn exit(&self) -> Exit {
        match self {
            CloneOpError::Clone(e) => e.exit(),
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            CloneOpError::Clone(e) => e.hint(),
        }
    }
}

/// A new clone.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct CloneReport {
    pub name: String,
    pub template: String,
    /// True when this run built the template (the files changed, or there was none).
    pub template_built: bool,
    pub duration_ms: u128,
    #[serde(skip)]
    pub url: DatabaseUrl,
}

/// Clones removed by `clone --drop` or `clone --prune`.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct CloneDropReport {
    pub dropped: Vec<String>,
}

/// Copies the template of `source` (built first when the files changed) into a new
/// database `name` (default: a fresh `devdb_clone_*` name) on `server`.
pub(crate) async fn clone(
    server: &DatabaseUrl,
    source: &TemplateSource,
    name: Option<&str>,
    progress: &dyn Progress,
) -> Result<CloneReport, CloneOpError> {
    let started = std::time::Instant::now();
    if let Some(name) = name {
        template::check_clone_name(name)?;
    }
    let mut admin = server.connect().await.map_err(CloneError::from)?;
    let result = clone_named(&mut admin, server, source, name, progress).await;
    let _ = admin.close().await;
    let (name, template) = result?;
    let mut url = server.clone();
    url.database = name.clone();
    Ok(CloneReport {
        name,
        template: template.name,
        template_built: template.built,
        duration_ms: started.elapsed().as_millis(),
        url,
    })
}

/// The clone under `name`, or under a fresh name, another one when a clone of somebody
/// else's took it meanwhile.
async fn clone_named(
    admin: &mut sqlx::PgConnection,
    server: &DatabaseUrl,
    source: &TemplateSource,
    name: Option<&str>,
    progress: &dyn Progress,
) -> Result<(String, Template), CloneError> {
    if let Some(name) = name {
        let template = clone_on(admin, server, source, name, progress).await?;
        return Ok((name.to_string(), template));
    }
    let mut tries = 0;
    loop {
        let name = new_clone_name();
        tries += 1;
        match clone_on(admin, server, source, &name, progress).await {
            Err(CloneError::Exists { .. }) if tries < NAME_TRIES => continue,
            other => return other.map(|template| (name, template)),
        }
    }
}

/// Ensures the template and copies it; builds it again when another devdb (with other
/// files) dropped it between the two.
pub(crate) async fn clone_on(
    admin: &mut sqlx::PgConnection,
    server: &DatabaseUrl,
    source: &TemplateSource,
    name: &str,
    progress: &dyn Progress,
) -> Result<Template, CloneError> {
    let mut template = ensure_template(admin, server, source, progress).await?;
    match clone_database(admin, server, &template, name).await {
        Err(e) if template::template_vanished(&e) => {
            let rebuilt = ensure_template(admin, server, source, progress).await?;
            clone_database(admin, server, &rebuilt, name).await?;
            template = Template {
                built: template.built || rebuilt.built,
                name: rebuilt.name,
            };
        }
        other => other?,
    }
    Ok(template)
}

/// Drops the clone `name` from `server`.
pub(crate) async fn drop_clone(
    server: &DatabaseUrl,
    name: &str,
) -> Result<CloneDropReport, CloneOpError> {
    let mut admin = server.connect().await.map_err(CloneError::from)?;
    let result = template::drop_clone(&mut admin, name).await;
    let _ = admin.close().await;
    result?;
    Ok(CloneDropReport {
        dropped: vec![name.to_string()],
    })
}

/// Drops every clone devdb made on `server`.
pub(crate) async fn prune_clones(server: &DatabaseUrl) -> Result<CloneDropReport, CloneOpError> {
    let mut admin = server.connect().await.map_err(CloneError::from)?;
    let result = template::prune_clones(&mut admin).await;
    let _ = admin.close().await;
    Ok(CloneDropReport { dropped: result? })
}
