//! `status` and `url`: where the project's database is, around [`crate::ops::status`] and
//! [`crate::ops::published_url`].

use clap::{Args, ValueEnum};
use serde::Serialize;

use super::Context;
use super::args::{OutputArgs, PasswordArgs, ServerArgs};
use super::output;
use crate::engine::Engine;
use crate::error::UsageError;
use crate::ops;
use crate::pg::{SqlAlchemyDriver, UrlForm};

#[derive(Debug, Clone, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub password: PasswordArgs,
    #[command(flatten)]
    pub server: ServerArgs,
}

#[derive(Debug, Clone, Args)]
pub struct UrlArgs {
    /// The form to print: url (postgresql://...), sqlalchemy (postgresql+DRIVER://...),
    /// jdbc (jdbc:postgresql://...?user=...), env (PGHOST=... lines, shell-quoted), json
    #[arg(long, value_enum, default_value_t = UrlFormat::Url)]
    pub format: UrlFormat,
    /// The Python driver of --format sqlalchemy
    #[arg(long, value_enum)]
    pub driver: Option<Driver>,
    /// Print one JSON document (the same as --format json)
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum UrlFormat {
    Url,
    Sqlalchemy,
    Jdbc,
    Env,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Driver {
    Psycopg,
    Psycopg2,
    Asyncpg,
    Pg8000,
}

impl From<Driver> for SqlAlchemyDriver {
    fn from(driver: Driver) -> SqlAlchemyDriver {
        match driver {
            Driver::Psycopg => SqlAlchemyDriver::Psycopg,
            Driver::Psycopg2 => SqlAlchemyDriver::Psycopg2,
            Driver::Asyncpg => SqlAlchemyDriver::Asyncpg,
            Driver::Pg8000 => SqlAlchemyDriver::Pg8000,
        }
    }
}

/// `url --format json`: every part, and the URL in each form.
#[derive(Serialize)]
struct UrlReport {
    url: String,
    host: String,
    port: u16,
    user: String,
    password: String,
    database: String,
    sqlalchemy: String,
    jdbc: String,
    /// The host is the engine machine's loopback: `devdb tunnel` forwards it here.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    remote_loopback: bool,
}

pub(super) async fn url(context: &Context, args: &UrlArgs) -> anyhow::Result<()> {
    let format = if args.json {
        UrlFormat::Json
    } else {
        args.format
    };
    if args.driver.is_some() && format != UrlFormat::Sqlalchemy {
        return Err(UsageError {
            message: "--driver names the Python driver of a SQLAlchemy URL; it goes with --format sqlalchemy only".into(),
            hint: "run `devdb url --format sqlalchemy --driver asyncpg`, or leave --driver out".into(),
        }
        .into());
    }
    let engine = Engine::connect().await?;
    let url = ops::published_url(&engine, &context.project).await?;
    let remote_loopback = engine.forwards(&url.host);
    if remote_loopback {
        eprintln!("{}", super::tunnel::REMOTE_LOOPBACK_NOTE);
    }
    let driver = args.driver.map(SqlAlchemyDriver::from).unwrap_or_default();
    let form = match format {
        UrlFormat::Url => UrlForm::Url,
        UrlFormat::Sqlalchemy => UrlForm::SqlAlchemy(driver),
        UrlFormat::Jdbc => UrlForm::Jdbc,
        UrlFormat::Env => UrlForm::Env,
        UrlFormat::Json => {
            return output::json(&UrlReport {
                url: url.render_as(UrlForm::Url),
                host: url.host.clone(),
                port: url.port,
                user: url.user.clone(),
                password: url.password.clone(),
                database: url.database.clone(),
                sqlalchemy: url.render_as(UrlForm::SqlAlchemy(driver)),
                jdbc: url.render_as(UrlForm::Jdbc),
                remote_loopback,
            });
        }
    };
    output::line(&url.render_as(form))
}

pub(super) async fn run(context: &Context, args: &StatusArgs) -> anyhow::Result<()> {
    // A URL given is only read here (no connection): status says which server the other
    // commands would use with it.
    let explicit = match &args.server.database_url {
        Some(text) => Some(ops::resolve(&context.project, Some(text)).await?),
        None => None,
    };
    let engine = Engine::connect().await?;
    let report = ops::status(
        &engine,
        &context.project,
        explicit,
        args.password.show_password,
    )
    .await?;
    if args.output.json {
        return output::json(&report);
    }
    if let Some(name) = &report.not_ours {
        output::line(&format!(
            "container {name} has this project's database name but is not devdb's (it lacks the label com.docker.compose.project={}); devdb leaves it alone: remove it with `docker rm -f {name}`, or give this project another name with -p NAME or COMPOSE_PROJECT_NAME",
            report.project
        ))?;
    }
    if report.services.is_empty() {
        output::line(&format!(
            "project {} is not running; start it with `devdb up`",
            report.project
        ))?;
        print_server(&report)?;
        for warning in &report.warnings {
            output::line(&format!("warning: {warning}"))?;
        }
        return Ok(());
    }
    let mut rows = vec![[
        "SERVICE".to_string(),
        "CONTAINER".into(),
        "STATE".into(),
        "HEALTH".into(),
        "PORTS".into(),
        "IMAGE".into(),
    ]];
    for s in &report.services {
        rows.push([
            s.service.clone(),
            s.container.clone(),
            s.state.clone(),
            s.health.clone().unwrap_or_else(|| "-".into()),
            s.ports.join(", "),
            s.image.clone(),
        ]);
    }
    let widths: Vec<usize> = (0..6)
        .map(|i| rows.iter().map(|r| r[i].len()).max().unwrap_or(0))
        .collect();
    for row in &rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        output::line(cells.join("  ").trim_end())?;
    }
    if let Some(url) = &report.database_url {
        output::line(&format!("\ndatabase: {url}"))?;
        if report.remote_loopback {
            eprintln!("{}", super::tunnel::REMOTE_LOOPBACK_NOTE);
        }
    }
    print_server(&report)?;
    if let Some(migrations) = &report.migrations {
        let at = match migrations.current.as_slice() {
            [] => "base".to_string(),
            current => current
                .iter()
                .map(|r| r.id.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        };
        let heads = migrations.heads.join(", ");
        output::line(&format!(
            "revision: {at} (heads: {heads}; {} pending)",
            migrations.pending
        ))?;
        if !migrations.unknown.is_empty() {
            output::line(&format!(
                "unknown to the files: {}",
                crate::listing::few(&migrations.unknown, crate::listing::CURRENT_LISTS_THEM)
            ))?;
        }
    }
    for warning in &report.warnings {
        output::line(&format!("warning: {warning}"))?;
    }
    Ok(())
}

/// `server: URL (DATABASE_URL from .env)`: where `migrate`, `current`, `check`... would go.
fn print_server(report: &ops::StatusReport) -> anyhow::Result<()> {
    output::line(&format!("engine: {}", report.engine))?;
    match &report.server {
        Some(server) if server.source == ops::ServerSource::Flag => {
            output::line(&format!("server: {} ({})", server.url, server.source))
        }
        Some(server) => output::line(&format!(
            "server: {} ({}; --database-url names another)",
            server.url, server.source
        )),
        None => Ok(()),
    }
}
