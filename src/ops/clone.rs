//! `clone`: a fresh database copied from the project's template on its running server, and
//! the removal of clones. The template work itself lives in [`crate::template`].

use serde::Serialize;
use sqlx::Connection;

use super::url::{UrlError, database_url};
use crate::config::Project;
use crate::engine::Engine;
use crate::error::{Exit, Failure};
use crate::pg::DatabaseUrl;
use crate::progress::Progress;
use crate::template::{
    self, CloneError, Template, TemplateSource, clone_database, ensure_template, new_clone_name,
};

#[derive(Debug, thiserror::Error)]
pub(crate) enum CloneOpError {
    #[error(transparent)]
    Url(#[from] UrlError),
    #[error(transparent)]
    Clone(#[from] CloneError),
}

impl Failure for CloneOpError {
    fn exit(&self) -> Exit {
        match self {
            CloneOpError::Url(e) => e.exit(),
            CloneOpError::Clone(e) => e.exit(),
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            CloneOpError::Url(e) => e.hint(),
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

/// Copies the project's template (built first when the files changed) into a new database
/// `name` (default: a fresh `devdb_clone_*` name) on the project's running server.
pub(crate) async fn clone(
    engine: &Engine,
    project: &Project,
    name: Option<&str>,
    progress: &dyn Progress,
) -> Result<CloneReport, CloneOpError> {
    let started = std::time::Instant::now();
    let server = database_url(engine, project).await?;
    let name = name.map_or_else(new_clone_name, str::to_string);
    template::check_clone_name(&name)?;
    let mut admin = server.connect().await.map_err(CloneError::from)?;
    let source = TemplateSource::of(project);
    let result = clone_on(&mut admin, &server, &source, &name, progress).await;
    let _ = admin.close().await;
    let template = result?;
    let mut url = server;
    url.database = name.clone();
    Ok(CloneReport {
        name,
        template: template.name,
        template_built: template.built,
        duration_ms: started.elapsed().as_millis(),
        url,
    })
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
    match clone_database(admin, &template, name).await {
        Err(e) if template::template_vanished(&e) => {
            let rebuilt = ensure_template(admin, server, source, progress).await?;
            clone_database(admin, &rebuilt, name).await?;
            template = Template {
                built: template.built || rebuilt.built,
                name: rebuilt.name,
            };
        }
        other => other?,
    }
    Ok(template)
}

/// Drops the clone `name` from the project's server.
pub(crate) async fn drop_clone(
    engine: &Engine,
    project: &Project,
    name: &str,
) -> Result<CloneDropReport, CloneOpError> {
    let server = database_url(engine, project).await?;
    let mut admin = server.connect().await.map_err(CloneError::from)?;
    let result = template::drop_clone(&mut admin, name).await;
    let _ = admin.close().await;
    result?;
    Ok(CloneDropReport {
        dropped: vec![name.to_string()],
    })
}

/// Drops every clone devdb made on the project's server.
pub(crate) async fn prune_clones(
    engine: &Engine,
    project: &Project,
) -> Result<CloneDropReport, CloneOpError> {
    let server = database_url(engine, project).await?;
    let mut admin = server.connect().await.map_err(CloneError::from)?;
    let result = template::prune_clones(&mut admin).await;
    let _ = admin.close().await;
    Ok(CloneDropReport { dropped: result? })
}
