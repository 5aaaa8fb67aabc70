//! `tunnel`: the project's database, published on the loopback of an ssh engine's machine,
//! forwarded to a port of this machine's loopback until Ctrl-C or SIGTERM.

use clap::Args;
use serde::Serialize;

use super::Context;
use super::args::{OutputArgs, PasswordArgs};
use super::output;
use crate::engine::Engine;
use crate::error::UsageError;
use crate::ops;
use crate::pg::DatabaseUrl;

/// What `url`, `status` and `up` add when the URL they print is the engine machine's loopback.
pub(super) const REMOTE_LOOPBACK_NOTE: &str = "note: 127.0.0.1 in this URL is the loopback of the Docker engine's machine, not of this one (devdb reaches it through ssh); `devdb tunnel` forwards it to a port here";

#[derive(Debug, Clone, Args)]
pub struct TunnelArgs {
    /// The port of this machine's loopback to listen on; a free one when left out
    #[arg(long)]
    pub port: Option<u16>,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub password: PasswordArgs,
}

/// `tunnel --json`: the local URL and what it forwards to.
#[derive(Serialize)]
struct TunnelReport {
    database_url: String,
    local_port: u16,
    /// The engine's machine, and the port on its loopback.
    machine: String,
    remote_port: u16,
}

pub(super) async fn run(context: &Context, args: &TunnelArgs) -> anyhow::Result<()> {
    let engine = Engine::connect().await?;
    let published = ops::published_url(&engine, &context.project).await?;
    let Some(tunnel) = engine
        .tunnel(&published.host, published.port, args.port)
        .await?
    else {
        return Err(UsageError {
            message: format!(
                "the database is published at {}:{}, which this machine reaches without a tunnel",
                published.host, published.port
            ),
            hint: "use the URL `devdb url` prints; `devdb tunnel` is for a database on the loopback of an ssh engine's machine".into(),
        }
        .into());
    };
    let local = DatabaseUrl {
        host: "127.0.0.1".into(),
        port: tunnel.port,
        ..published.clone()
    };
    let url = local.render(args.password.show_password);
    if args.output.json {
        output::json(&TunnelReport {
            database_url: url,
            local_port: tunnel.port,
            machine: engine.published_host(),
            remote_port: published.port,
        })?;
    } else {
        output::line(&url)?;
    }
    eprintln!(
        "forwarding 127.0.0.1:{} to port {} of the loopback of {} through ssh; Ctrl-C ends it",
        tunnel.port,
        published.port,
        engine.published_host()
    );
    super::signals::cancelled().await;
    // The connections' ssh children go with the tunnel.
    drop(tunnel);
    Ok(())
}
