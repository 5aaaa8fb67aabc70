//! A fresh, migrated and seeded database for each test, in one line:
//!
//! ```no_run
//! # async fn a_test() -> Result<(), Box<dyn std::error::Error>> {
//! let db = devdb::testing::TestDatabase::new().await?;
//! sqlx::query("SELECT 1").execute(db.pool()).await?;
//! println!("{}", db.url());
//! # Ok(())
//! # }
//! ```
//!
//! Each database is a clone of the project's template (see [`crate::template`]), so it costs
//! one `CREATE DATABASE ... TEMPLATE`, not a replay of the migrations. It is dropped when the
//! test ends, and kept, its name printed to stderr, when the test panicked.
//!
//! The server, first match wins:
//!
//! 1. `DEVDB_SERVER=URL`: any Postgres whose user has `CREATEDB`, such as one server shared
//!    by CI runners without Docker. The template is built there once per set of migration
//!    and seed files, under an advisory lock, and each test gets a clone over SQL. No Docker
//!    engine is needed.
//! 2. `DATABASE_URL` together with `DEVDB_EPHEMERAL_ID`: the CI job's own ephemeral database
//!    (`devdb up --ephemeral --env-file "$GITHUB_ENV"` sets both), so the tests use its server
//!    instead of starting a second one.
//! 3. The project's running devdb database (`devdb up`).
//! 4. An ephemeral server (`up --ephemeral`, purpose `test`) started once and shared by every
//!    test of the process. A later run reuses it while it has time to live left, so runs do
//!    not pile servers up; an expired one is removed by the next run or
//!    `devdb down --ephemeral --expired`.
//!
//! A `DATABASE_URL` alone does not decide: it usually names the application's database.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use sqlx::Connection;
use sqlx::postgres::{PgPool, PgPoolOptions};
use tokio::sync::OnceCell;

use crate::config::{self, ConfigError, LoadOptions, Project};
use crate::engine::{Engine, EngineError};
use crate::error::{Exit, Failure};
use crate::ops::{self, EphemeralOptions, UpError, UrlError};
use crate::pg::{DatabaseUrl, UrlParseError};
use crate::progress::Silent;
use crate::template::{self, CloneError, Template, TemplateSource};

/// How long an ephemeral test server lives.
const TEST_SERVER_TTL: Duration = Duration::from_secs(3600);
/// A server with less time than this left is not reused: a run must not outlive it.
const REUSE_MARGIN: u64 = 15 * 60;
/// Names a server of any kind for the tests' clones.
const SERVER_VARIABLE: &str = "DEVDB_SERVER";
/// Set with `DATABASE_URL` by `up --ephemeral --env-file`: the job's own ephemeral server.
const EPHEMERAL_VARIABLE: &str = "DEVDB_EPHEMERAL_ID";

#[derive(Debug, thiserror::Error)]
pub enum TestingError {
    #[error("cannot read the current directory: {0}")]
    CurrentDir(#[source] std::io::Error),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Url(#[from] UrlError),
    #[error("starting an ephemeral test server failed: {0}")]
    Up(#[from] UpError),
    #[error(transparent)]
    Ephemeral(#[from] ops::EphemeralError),
    #[error(transparent)]
    Clone(#[from] CloneError),
    #[error("cannot open a connection pool to {url}: {source}")]
    Pool {
        url: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("{variable}: {error}")]
    ServerUrl {
        variable: &'static str,
        #[source]
        error: UrlParseError,
    },
}

impl Failure for TestingError {
    fn exit(&self) -> Exit {
        match self {
            TestingError::CurrentDir(_) | TestingError::Pool { .. } => Exit::Failure,
            TestingError::Config(e) => e.exit(),
            TestingError::Engine(e) => e.exit(),
            TestingError::Url(e) => e.exit(),
            TestingError::Up(e) => e.exit(),
            TestingError::Ephemeral(e) => e.exit(),
            TestingError::Clone(e) => e.exit(),
            TestingError::ServerUrl { error, .. } => error.exit(),
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            TestingError::CurrentDir(_) | TestingError::Pool { .. } => None,
            TestingError::Config(e) => e.hint(),
            TestingError::Engine(e) => e.hint(),
            TestingError::Url(e) => e.hint(),
            TestingError::Up(e) => e.hint(),
            TestingError::Ephemeral(e) => e.hint(),
            TestingError::Clone(e) => e.hint(),
            TestingError::ServerUrl { error, .. } => error.hint(),
        }
    }
}

/// Where clones are made, and from which template.
#[derive(Debug, Clone)]
struct Server {
    admin: DatabaseUrl,
    source: TemplateSource,
    template: Template,
    /// Named by `DEVDB_SERVER`: `devdb clone` needs `--server` to find a kept database.
    named: bool,
}

type ServerCell = Arc<OnceCell<Server>>;
/// A project: its folder and the name it was given, if any.
type ProjectKey = (PathBuf, Option<String>);

/// One server per project per process, found or started by the first test that asks.
static SERVERS: LazyLock<Mutex<HashMap<ProjectKey, ServerCell>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// Which project a [`TestDatabase`] is cloned for.
#[derive(Debug, Clone, Default)]
pub struct TestDatabaseBuilder {
    dir: Option<PathBuf>,
    project_name: Option<String>,
}

impl TestDatabaseBuilder {
    /// The project's folder (default: the current directory, which `cargo test` sets to
    /// the package's root).
    pub fn project_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.dir = Some(dir.into());
        self
    }

    /// The project name, as `-p` gives it.
    pub fn project_name(mut self, name: impl Into<String>) -> Self {
        self.project_name = Some(name.into());
        self
    }

    pub async fn build(self) -> Result<TestDatabase, TestingError> {
        let dir = match self.dir {
            Some(dir) => dir,
            None => std::env::current_dir().map_err(TestingError::CurrentDir)?,
        };
        let cell = {
            let mut servers = SERVERS.lock().unwrap_or_else(|e| e.into_inner());
            servers
                .entry((dir.clone(), self.project_name.clone()))
                .or_default()
                .clone()
        };
        let server = cell
            .get_or_try_init(|| async {
                let project = config::load(&LoadOptions {
                    dir,
                    project_name: self.project_name,
                    environment: std::env::vars().collect(),
                    ..Default::default()
                })?;
                discover(&project).await
            })
            .await?;
        TestDatabase::clone_from(server).await
    }
}

/// A database of one test's own: migrated, seeded, and gone when the test passes.
#[derive(Debug)]
pub struct TestDatabase {
    name: String,
    url: DatabaseUrl,
    admin: DatabaseUrl,
    named: bool,
    pool: PgPool,
}

impl TestDatabase {
    /// A fresh database for the project in the current directory.
    pub async fn new() -> Result<TestDatabase, TestingError> {
        TestDatabase::builder().build().await
    }

    pub fn builder() -> TestDatabaseBuilder {
        TestDatabaseBuilder::default()
    }

    /// The database's name on its server.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `postgresql://user:password@host:port/name`.
    pub fn url(&self) -> String {
        self.url.render(true)
    }

    /// A pool connected to the database.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    async fn clone_from(server: &Server) -> Result<TestDatabase, TestingError> {
        let mut admin = server.admin.connect().await.map_err(CloneError::from)?;
        let cloned = clone_fresh(&mut admin, server).await;
        let _ = admin.close().await;
        let name = cloned?;
        let mut url = server.admin.clone();
        url.database = name.clone();
        let pool = PgPoolOptions::new()
            .max_connections(5)
            .connect_with(url.connect_options())
            .await
            .map_err(|source| TestingError::Pool {
                url: url.render(false),
                source,
            })?;
        Ok(TestDatabase {
            name,
            url,
            admin: server.admin.clone(),
            named: server.named,
            pool,
        })
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let server = if self.named {
                format!(" --server {}", self.admin)
            } else {
                String::new()
            };
            eprintln!(
                "devdb: the test failed; kept its database {} for inspection ({}); `devdb clone{server} --drop {}` removes it",
                self.name, self.url, self.name
            );
            return;
        }
        // Drop cannot await, and the test's runtime may have a single thread that is
        // blocked here: drop the database from a thread and runtime of its own.
        let admin = self.admin.clone();
        let name = self.name.clone();
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let mut conn = admin.connect().await.ok()?;
                let dropped = template::drop_clone(&mut conn, &name).await;
                let _ = conn.close().await;
                dropped.ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(()))) {
            eprintln!(
                "devdb: could not drop test database {}; `devdb clone --prune` removes it",
                self.name
            );
        }
    }
}

/// A clone under a fresh name (another one when a clone of another job on a shared server
/// took it meanwhile); its name.
async fn clone_fresh(
    admin: &mut sqlx::PgConnection,
    server: &Server,
) -> Result<String, CloneError> {
    let mut tries = 0;
    loop {
        tries += 1;
        let name = template::new_clone_name();
        let cloned =
            match template::clone_database(admin, &server.admin, &server.template, &name).await {
                // The files changed and someone else rebuilt the template under us.
                Err(e) if template::template_vanished(&e) => {
                    ops::clone_on(admin, &server.admin, &server.source, &name, &Silent)
                        .await
                        .map(|_| ())
                }
                other => other,
            };
        match cloned {
            Err(CloneError::Exists { .. }) if tries < 3 => continue,
            other => return other.map(|()| name),
        }
    }
}

/// The server by the precedence of the module's documentation; and the template on it.
async fn discover(project: &Project) -> Result<Server, TestingError> {
    let variable = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let mut source = TemplateSource::of(project);
    let mut named = false;
    let admin = if let Some(text) = variable(SERVER_VARIABLE) {
        named = true;
        // Other jobs share it: their templates are theirs.
        source = source.on_shared_server();
        server_url(&text).map_err(|error| TestingError::ServerUrl {
            variable: SERVER_VARIABLE,
            error,
        })?
    } else if let (Some(text), Some(_)) = (variable("DATABASE_URL"), variable(EPHEMERAL_VARIABLE)) {
        server_url(&text).map_err(|error| TestingError::ServerUrl {
            variable: "DATABASE_URL",
            error,
        })?
    } else {
        let engine = Engine::connect().await?;
        match ops::database_url(&engine, project).await {
            Ok(url) => url,
            Err(UrlError::NotRunning { .. } | UrlError::Stopped { .. }) => {
                test_server(&engine, project).await?
            }
            Err(e) => return Err(e.into()),
        }
    };
    let mut conn = admin.connect().await.map_err(CloneError::from)?;
    let template = template::ensure_template(&mut conn, &admin, &source, &Silent).await;
    let _ = conn.close().await;
    Ok(Server {
        admin,
        source,
        template: template?,
        named,
    })
}

/// A server URL from the environment, read as libpq reads it.
fn server_url(text: &str) -> Result<DatabaseUrl, UrlParseError> {
    DatabaseUrl::parse(text)
        .and_then(|url| url.with_libpq_environment(text, |name| std::env::var(name).ok()))
}

/// A running ephemeral test server of this project with time to spare, else a new one.
async fn test_server(engine: &Engine, project: &Project) -> Result<DatabaseUrl, TestingError> {
    let now = ops::unix_now();
    let servers = ops::list_ephemerals(engine, Some(&project.name)).await?;
    let reusable = servers.into_iter().find(|s| {
        s.purpose == "test" && s.running && s.expires_at > now + REUSE_MARGIN && s.url.is_some()
    });
    if let Some(url) = reusable.and_then(|s| s.url)
        && url.connect().await.is_ok()
    {
        return Ok(url);
    }
    ops::down_expired(engine, Some(&project.name), now, &Silent).await?;
    let options = EphemeralOptions {
        ttl: TEST_SERVER_TTL,
        // Tests use clones of the template; the server's own database stays empty.
        migrate: false,
        purpose: "test".to_string(),
        ..Default::default()
    };
    let report = ops::up_ephemeral(
        engine,
        project,
        &options,
        &Silent,
        std::future::pending::<()>(),
    )
    .await?;
    Ok(report.url)
}
