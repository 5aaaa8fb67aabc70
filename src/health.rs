//! Waiting until Postgres really answers: a SQL query through the published port with the
//! configured credentials, polled with a short capped backoff under one deadline.
//!
//! Neither a log line nor `pg_isready` is enough: the official image runs a temporary server
//! during its first initialisation and restarts it, and a Podman healthcheck may never run.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use backon::{ExponentialBuilder, Retryable};
use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection};

use crate::engine::{Engine, EngineError};
use crate::error::{Exit, Failure};
use crate::progress::Progress;

/// How many lines of the container's log an error report carries.
pub(crate) const LOG_LINES: usize = 30;

/// One connection attempt may hang when a proxy accepts and then stalls.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(2);

/// How often a failed probe also asks the engine whether the container still runs. Asking
/// on every probe (every few milliseconds) keeps the engine busy while Postgres initialises
/// on the same cores; an exit is still noticed within this interval.
const INSPECT_EVERY: Duration = Duration::from_millis(250);

/// Why the database did not become ready.
#[derive(Debug, thiserror::Error)]
pub enum HealthError {
    #[error("container {container} exited with code {code} before Postgres was ready")]
    Exited {
        container: String,
        code: i64,
        logs: String,
    },
    #[error("Postgres in {container} did not answer within {after:?} (last error: {last_error})")]
    Timeout {
        container: String,
        after: Duration,
        last_error: String,
        logs: String,
    },
    #[error("Postgres in {container} refused the configured credentials: {detail}")]
    Refused {
        container: String,
        detail: String,
        logs: String,
    },
    #[error(transparent)]
    Engine(#[from] EngineError),
}

impl Failure for HealthError {
    fn exit(&self) -> Exit {
        match self {
            HealthError::Engine(e) => e.exit(),
            _ => Exit::NotHealthy,
        }
    }

    fn logs(&self) -> Option<&str> {
        match self {
            HealthError::Exited { logs, .. }
            | HealthError::Timeout { logs, .. }
            | HealthError::Refused { logs, .. } => Some(logs),
            HealthError::Engine(_) => None,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            HealthError::Exited { .. } => {
                Some("read the log lines above; a broken setting in the compose file (environment, command) is the usual cause".into())
            }
            HealthError::Timeout { .. } => {
                Some("give it longer with `--timeout 120`, or read the log lines above".into())
            }
            HealthError::Refused { .. } => Some(
                "the data volume was probably initialised with other credentials: run `devdb reset` to start from an empty volume, or restore the old POSTGRES_* values".into(),
            ),
            HealthError::Engine(e) => e.hint(),
        }
    }
}

enum Attempt {
    /// Worth trying again: not listening yet, starting up, restarting.
    NotYet(String),
    /// Trying again cannot help.
    Fatal(HealthError),
}

/// Polls until `SELECT 1` succeeds through `options`, the container stops running, the
/// credentials are refused, or `timeout` passes. Returns how long it took.
pub(crate) async fn wait_until_ready(
    engine: &Engine,
    container: &str,
    options: &PgConnectOptions,
    timeout: Duration,
    progress: &dyn Progress,
) -> Result<Duration, HealthError> {
    let started = Instant::now();
    let waiting = progress.wait(&format!("waiting for Postgres in {container} to answer"));
    let mut last_error = String::from("no attempt finished");
    // Milliseconds after `started` of the last look at the container (a probe future must
    // stay Send, hence an atomic rather than a Cell).
    let inspected_at = AtomicU64::new(0);
    let attempt = || async {
        let now = started.elapsed().as_millis() as u64;
        let inspect = now.saturating_sub(inspected_at.load(Ordering::Relaxed))
            >= INSPECT_EVERY.as_millis() as u64;
        if inspect {
            inspected_at.store(now, Ordering::Relaxed);
        }
        probe(engine, container, options, inspect).await
    };
    let backoff = ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(2))
        .with_max_delay(Duration::from_millis(10))
        .with_factor(1.5)
        .without_max_times();
    let outcome = tokio::time::timeout(
        timeout,
        attempt
            .retry(backoff)
            .when(|e| matches!(e, Attempt::NotYet(_)))
            .notify(|e, _| {
                if let Attempt::NotYet(reason) = e {
                    last_error.clone_from(reason);
                }
            }),
    )
    .await;
    drop(waiting);
    match outcome {
        Ok(Ok(())) => Ok(started.elapsed()),
        Ok(Err(Attempt::Fatal(error))) => Err(error),
        Ok(Err(Attempt::NotYet(reason))) => Err(HealthError::Timeout {
            container: container.to_string(),
            after: timeout,
            last_error: reason,
            logs: engine.tail_logs(container, LOG_LINES).await,
        }),
        Err(_) => Err(HealthError::Timeout {
            container: container.to_string(),
            after: timeout,
            last_error,
            logs: engine.tail_logs(container, LOG_LINES).await,
        }),
    }
}

async fn probe(
    engine: &Engine,
    container: &str,
    options: &PgConnectOptions,
    inspect: bool,
) -> Result<(), Attempt> {
    let error = match query_once(options).await {
        Ok(()) => return Ok(()),
        Err(error) => error,
    };
    if let ProbeError::Refused(detail) = error {
        return Err(Attempt::Fatal(HealthError::Refused {
            container: container.to_string(),
            detail,
            logs: engine.tail_logs(container, LOG_LINES).await,
        }));
    }
    if !inspect {
        return Err(Attempt::NotYet(error.to_string()));
    }
    match engine.inspect_container(container).await {
        Err(e) => Err(Attempt::Fatal(e.into())),
        Ok(Some(info)) if info.running => Err(Attempt::NotYet(error.to_string())),
        Ok(info) => Err(Attempt::Fatal(HealthError::Exited {
            container: container.to_string(),
            code: info.and_then(|i| i.exit_code).unwrap_or(-1),
            logs: engine.tail_logs(container, LOG_LINES).await,
        })),
    }
}

#[derive(Debug)]
enum ProbeError {
    Transient(String),
    Refused(String),
}

impl std::fmt::Display for ProbeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProbeError::Transient(s) | ProbeError::Refused(s) => f.write_str(s),
        }
    }
}

async fn query_once(options: &PgConnectOptions) -> Result<(), ProbeError> {
    let attempt = async {
        let mut conn = PgConnection::connect_with(options).await?;
        sqlx::query("SELECT 1").execute(&mut conn).await?;
        conn.close().await
    };
    match tokio::time::timeout(ATTEMPT_TIMEOUT, attempt).await {
        Err(_) => Err(ProbeError::Transient("connection attempt timed out".into())),
        Ok(Ok(())) => Ok(()),
        Ok(Err(sqlx::Error::Database(db))) => {
            // 28P01 wrong password, 28000 no such role / not allowed, 3D000 no such database:
            // a volume initialised with other settings; waiting will not fix it.
            let code = db.code().unwrap_or_default();
            if matches!(code.as_ref(), "28P01" | "28000" | "3D000") {
                Err(ProbeError::Refused(db.message().to_string()))
            } else {
                Err(ProbeError::Transient(db.message().to_string()))
            }
        }
        Ok(Err(e)) => Err(ProbeError::Transient(e.to_string())),
    }
}
