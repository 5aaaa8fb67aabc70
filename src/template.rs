//! Template databases and their clones: a fresh, migrated and seeded database in the time
//! Postgres takes to copy one (`CREATE DATABASE ... TEMPLATE`), instead of replaying every
//! migration for every test.
//!
//! The template is named after a hash of the migration and seed files
//! (`devdb_tpl_<hash>`), so new files mean a new template and unchanged files reuse the old
//! one. It is built under another name and renamed when complete, under an advisory lock, so
//! a template that exists is always whole and concurrent builders build it once. Finished
//! templates refuse connections: Postgres cannot copy a database someone is connected to
//! (SQLSTATE 55006), and with connections refused nobody, autovacuum included, can be.
//! A copy that still meets a connection is retried, never reported.
//!
//! Clones carry a comment naming their template; that comment is what `clone --drop` and
//! `clone --prune` check before they drop anything.
//!
//! A new template replaces the templates of other file sets. On a server devdb does not run
//! (a shared server for CI, named by URL), those may belong to another branch's jobs running
//! right now: there a template is dropped only once it is a day old (its comment says when it
//! was built), and one that cannot be dropped is left for later, never a failure.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rand::Rng;
use sha2::{Digest, Sha256};
use sqlx::{Connection, PgConnection};

use crate::config::Project;
use crate::error::{Exit, Failure};
use crate::migrate::{MigrateError, Migrator, Target, UpgradeOptions, load_graph};
use crate::pg::{self, BUSY_DEADLINE, DatabaseUrl, PgError, Step, quote_ident, quote_literal};
use crate::progress::Progress;
use crate::seed::{SeedError, run_seeds, seed_files};
use crate::sql_files::MissingFolder;

pub(crate) mod properties;

/// Every template's name starts with this.
pub(crate) const TEMPLATE_PREFIX: &str = "devdb_tpl_";
/// Every clone's comment starts with this, followed by its template's name.
const CLONE_COMMENT: &str = "devdb clone of ";
/// Every template's comment starts with this, followed by its build time in seconds since
/// the Unix epoch.
const TEMPLATE_COMMENT: &str = "devdb template built ";
/// On a shared server, how old another file set's template must be before a build drops it.
const SHARED_STALE_AFTER: Duration = Duration::from_secs(24 * 3600);
/// The advisory lock (on the `postgres` database) that serialises template builds.
const BUILD_LOCK: i64 = 0x6465_7664_6274_706c; // "devdbtpl"
/// What a template keeps for its copies (its migrations' comment, after its build time, on
/// a line of its own). Part of the name's hash, so a template built before is built again.
const TEMPLATE_FORMAT: &str = "comment-kept-1";

#[derive(Debug, thiserror::Error)]
pub enum CloneError {
    #[error("cannot read {}: {source}", path.display())]
    Unreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Pg(#[from] PgError),
    #[error("building the template database failed: {0}")]
    Migrate(#[from] MigrateError),
    #[error("seeding the template database failed: {0}")]
    Seed(#[from] SeedError),
    #[error(
        "{name:?} is not a valid clone name: use 1 to 63 lowercase letters, digits and _, starting with a letter"
    )]
    InvalidName { name: String },
    #[error("database {name} already exists")]
    Exists { name: String },
    #[error("there is no database {name}")]
    NotFound { name: String },
    #[error("database {name} is not a clone made by devdb; devdb leaves it alone")]
    NotAClone { name: String },
    #[error("the user {user} may not create databases on {server}: {source}")]
    NoCreateDb {
        user: String,
        /// The server, password masked.
        server: String,
        #[source]
        source: sqlx::Error,
    },
}

/// A template whose migrations or seeds fail is a failed migration (exit 5).
impl Failure for CloneError {
    fn exit(&self) -> Exit {
        match self {
            CloneError::Pg(e) => e.exit(),
            CloneError::Migrate(e) => e.exit(),
            CloneError::Seed(e) => e.exit(),
            _ => Exit::Failure,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            CloneError::Pg(e) => e.hint().or_else(|| connect_hint(e)),
            CloneError::Seed(e) => e.hint(),
            CloneError::NoCreateDb { user, .. } => Some(format!(
                "templates and clones are made with CREATE DATABASE: grant it with `ALTER ROLE \"{user}\" CREATEDB` as a superuser, or use a user that has it"
            )),
            CloneError::Exists { .. } => {
                Some("pick another --name, or drop it with `devdb clone --drop NAME`".into())
            }
            CloneError::NotFound { .. } | CloneError::NotAClone { .. } => {
                Some("`devdb clone --prune` drops every clone devdb made".into())
            }
            CloneError::Migrate(e) => e.hint(),
            _ => None,
        }
    }
}

/// What a server that does not answer, or refuses the connection, needs.
fn connect_hint(error: &PgError) -> Option<String> {
    match error {
        PgError::Connect { .. } => Some(
            "check that the server is running and reachable and that the URL's host, port, user and password are right (`--server URL`, DATABASE_URL or DEVDB_SERVER name it)"
                .into(),
        ),
        PgError::Statement { .. } => None,
    }
}

/// What a template is built from: the project's revision files, seeds and record schema;
/// and how long other file sets' templates are kept on its server.
#[derive(Debug, Clone)]
pub struct TemplateSource {
    pub migrations: PathBuf,
    pub seeds: PathBuf,
    pub schema: String,
    /// How old another file set's template must be before a build here drops it.
    pub stale_after: Duration,
}

impl TemplateSource {
    pub fn of(project: &Project) -> TemplateSource {
        TemplateSource {
            migrations: project.settings.migrations.clone(),
            seeds: project.settings.seeds.clone(),
            schema: project.settings.version_schema.clone(),
            stale_after: Duration::ZERO,
        }
    }

    /// For a server other jobs share: their templates are kept for a day.
    pub fn on_shared_server(self) -> TemplateSource {
        TemplateSource {
            stale_after: SHARED_STALE_AFTER,
            ..self
        }
    }

    /// The template's name: a hash of every file that goes into it, of the record schema and
    /// of devdb's version (which decides the record table's shape).
    pub fn template_name(&self) -> Result<String, CloneError> {
        let mut hash = Sha256::new();
        hash.update(env!("CARGO_PKG_VERSION"));
        hash.update([0]);
        hash.update(&self.schema);
        hash.update([0]);
        hash.update(TEMPLATE_FORMAT);
        let mut files = sql_files(&self.migrations)?;
        files.push(PathBuf::from("--seeds--"));
        files.extend(seed_files(&self.seeds)?);
        for path in files {
            hash.update([0]);
            let Some(name) = path.file_name() else {
                continue;
            };
            hash.update(name.as_encoded_bytes());
            hash.update([0]);
            if path.is_file() {
                let bytes = std::fs::read(&path)
                    .map_err(|source| CloneError::Unreadable { path, source })?;
                hash.update(bytes);
            }
        }
        let digest = hash.finalize();
        let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        Ok(format!("{TEMPLATE_PREFIX}{hex}"))
    }
}

/// The `*.sql` files directly in `dir`, by name; none when it does not exist.
fn sql_files(dir: &Path) -> Result<Vec<PathBuf>, CloneError> {
    crate::sql_files::sql_files(dir, MissingFolder::IsEmpty).map_err(|source| {
        CloneError::Unreadable {
            path: dir.to_path_buf(),
            source,
        }
    })
}

/// A template ready to be copied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pub name: String,
    /// True when this call built it; false when it was there already.
    pub built: bool,
}

/// Makes sure the template for `source` exists on the server `admin` is connected to,
/// building it when it does not. `server` says how to reach that server (its `database`
/// is replaced). `admin` must not be connected to a template.
pub async fn ensure_template(
    admin: &mut PgConnection,
    server: &DatabaseUrl,
    source: &TemplateSource,
    progress: &dyn Progress,
) -> Result<Template, CloneError> {
    let name = source.template_name()?;
    if pg::database_exists(admin, &name).await? {
        return Ok(Template { name, built: false });
    }
    let mut lock_conn = lock_connection(server).await;
    let waiting = progress.wait("waiting for another devdb building the template");
    let locked = match lock_conn.as_mut() {
        Some(conn) => pg::execute(conn, pg::lock_sql(BUILD_LOCK)).await,
        None => pg::execute(admin, pg::lock_sql(BUILD_LOCK)).await,
    };
    drop(waiting);
    locked.step("taking the template lock")?;
    let result = build_locked(admin, server, source, &name, progress).await;
    let unlocked = match lock_conn.as_mut() {
        Some(conn) => pg::execute(conn, pg::unlock_sql(BUILD_LOCK)).await,
        None => pg::execute(admin, pg::unlock_sql(BUILD_LOCK)).await,
    };
    if let Some(conn) = lock_conn {
        let _ = conn.close().await;
    }
    let built = result?;
    unlocked.step("releasing the template lock")?;
    Ok(Template { name, built })
}

/// Where the build lock is taken. Advisory locks belong to one database, and jobs sharing a
/// server may name different ones in their URLs: so the lock lives on `postgres`, which
/// every server has, on a connection of its own (`None`: on the admin connection, which is
/// on `postgres` already, or when `postgres` takes no connection from this user). Never
/// `template1`: a session there makes every `CREATE DATABASE` from it fail.
async fn lock_connection(server: &DatabaseUrl) -> Option<PgConnection> {
    if server.database == "postgres" {
        return None;
    }
    let url = DatabaseUrl {
        database: "postgres".into(),
        ..server.clone()
    };
    url.connect().await.ok()
}

async fn build_locked(
    admin: &mut PgConnection,
    server: &DatabaseUrl,
    source: &TemplateSource,
    name: &str,
    progress: &dyn Progress,
) -> Result<bool, CloneError> {
    if pg::database_exists(admin, name).await? {
        return Ok(false);
    }
    progress.info(&format!("building template database {name}"));
    let building = format!("{name}_building");
    // What a builder that died left behind.
    drop_database(admin, &building).await?;
    pg::execute(admin, pg::create_database_sql(&building, None))
        .await
        .map_err(|source| creating_failed(server, format!("creating {building}"), source))?;
    if let Err(error) = fill(server, source, &building, progress).await {
        let _ = drop_database(admin, &building).await;
        return Err(error);
    }
    // The filling connection is closed, but its backend may take a moment to go.
    let rename = pg::rename_database_sql(&building, name);
    pg::execute_when_free(admin, &rename, BUSY_DEADLINE)
        .await
        .step(format!("renaming {building} to {name}"))?;
    pg::execute(
        admin,
        format!(
            "ALTER DATABASE {} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false",
            quote_ident(name)
        ),
    )
    .await
    .step(format!("marking {name} as a template"))?;
    // The comment the migrations gave it, which its copies get back.
    let kept = database_comment(admin, name).await?;
    let mut comment = format!("{TEMPLATE_COMMENT}{}", unix_now());
    if let Some(kept) = kept {
        comment = format!("{comment}\n{kept}");
    }
    pg::execute(
        admin,
        format!(
            "COMMENT ON DATABASE {} IS {}",
            quote_ident(name),
            quote_literal(&comment)
        ),
    )
    .await
    .step(format!("noting when {name} was built"))?;
    drop_stale_templates(admin, name, source.stale_after, progress).await;
    Ok(true)
}

/// Migrates and seeds the new database, then closes the connection so it can be copied.
async fn fill(
    server: &DatabaseUrl,
    source: &TemplateSource,
    database: &str,
    progress: &dyn Progress,
) -> Result<(), CloneError> {
    let mut url = server.clone();
    url.database = database.to_string();
    let mut conn = url.connect().await?;
    if source.migrations.is_dir() {
        let graph = load_graph(&source.migrations)?;
        Migrator {
            graph: &graph,
            schema: &source.schema,
            table: crate::migrate::store::TABLE,
            lock: true,
            progress,
        }
        .upgrade(&mut conn, &Target::Head, &UpgradeOptions::default())
        .await?;
    }
    run_seeds(&mut conn, &source.seeds, &source.schema).await?;
    conn.close()
        .await
        .step(format!("closing the connection to {database}"))?;
    Ok(())
}

/// Seconds since the Unix epoch.
fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A failed `CREATE DATABASE`: a user without CREATEDB is told so.
fn creating_failed(server: &DatabaseUrl, step: String, source: sqlx::Error) -> CloneError {
    if pg::sqlstate(&source).as_deref() == Some("42501") {
        return CloneError::NoCreateDb {
            user: server.user.clone(),
            server: server.render(false),
            source,
        };
    }
    CloneError::Pg(PgError::Statement { step, source })
}

/// Templates of other file sets at least `stale_after` old (by their comment; one without
/// it is old): these files will not use them again. Best effort: a template somebody else
/// owns, or one being copied right now, is left for a later build.
async fn drop_stale_templates(
    admin: &mut PgConnection,
    keep: &str,
    stale_after: Duration,
    progress: &dyn Progress,
) {
    let listed: Result<Vec<(String, Option<String>)>, sqlx::Error> = sqlx::query_as(
        "SELECT datname::text, shobj_description(oid, 'pg_database') FROM pg_database \
         WHERE starts_with(datname, $1) AND datname <> $2 \
         AND ($3 OR datname NOT LIKE '%\\_building')",
    )
    .bind(TEMPLATE_PREFIX)
    .bind(keep)
    // Half-built templates are somebody's build in progress on a shared server.
    .bind(stale_after.is_zero())
    .fetch_all(&mut *admin)
    .await;
    let Ok(templates) = listed else {
        return;
    };
    let now = unix_now();
    for (name, comment) in templates {
        let built = comment
            .as_deref()
            .and_then(|c| c.strip_prefix(TEMPLATE_COMMENT))
            .and_then(|t| t.split('\n').next())
            .and_then(|t| t.parse::<u64>().ok())
            .unwrap_or(0);
        if now.saturating_sub(built) < stale_after.as_secs() {
            continue;
        }
        if let Err(error) = drop_database(admin, &name).await {
            progress.info(&format!("left the old template {name} in place: {error}"));
        }
    }
}

/// Drops a database if it exists, template or not, whoever is connected.
async fn drop_database(admin: &mut PgConnection, name: &str) -> Result<(), CloneError> {
    let quoted = quote_ident(name);
    // A template cannot be dropped; this fails harmlessly when the database does not exist.
    let _ = pg::execute(
        admin,
        format!("ALTER DATABASE {quoted} WITH IS_TEMPLATE false"),
    )
    .await;
    Ok(pg::drop_database(admin, name).await?)
}

/// A new clone name: `devdb_clone_` and 8 random hex digits.
pub(crate) fn new_clone_name() -> String {
    let suffix: u32 = rand::rng().random();
    format!("devdb_clone_{suffix:08x}")
}

/// A name Postgres keeps as written and no shell or URL needs to escape.
pub(crate) fn check_clone_name(name: &str) -> Result<(), CloneError> {
    let valid = (1..=63).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if valid {
        Ok(())
    } else {
        Err(CloneError::InvalidName {
            name: name.to_string(),
        })
    }
}

/// Copies `template` into a new database `name` and marks it as a devdb clone (its comment
/// names the template, then, on the next line, the comment the migrations gave it); `server`
/// is the server `admin` is connected to (for messages). The clone gets the template's
/// settings, owner and grants (see [`properties`]).
pub async fn clone_database(
    admin: &mut PgConnection,
    server: &DatabaseUrl,
    template: &Template,
    name: &str,
) -> Result<(), CloneError> {
    check_clone_name(name)?;
    let marker = format!("{CLONE_COMMENT}{}", template.name);
    copy_template(admin, server, template, name, Some(&marker)).await
}

/// Copies `template` into a new database `name` and replays what Postgres does not copy:
/// settings, owner, grants, connection limit and the migrations' comment (after `marker`
/// and a line break when there is a marker).
pub(crate) async fn copy_template(
    admin: &mut PgConnection,
    server: &DatabaseUrl,
    template: &Template,
    name: &str,
    marker: Option<&str>,
) -> Result<(), CloneError> {
    // Read first: a template dropped meanwhile makes the copy fail as a missing database,
    // which callers build again.
    let read = properties::read(admin, &template.name).await?;
    let create = pg::create_database_sql(name, Some(&template.name));
    pg::execute_when_free(admin, &create, BUSY_DEADLINE)
        .await
        .map_err(|source| match pg::sqlstate(&source).as_deref() {
            Some("42P04") => CloneError::Exists {
                name: name.to_string(),
            },
            _ => creating_failed(
                server,
                format!("copying {} to {name}", template.name),
                source,
            ),
        })?;
    let Some((source, user)) = read else {
        return Err(CloneError::Pg(PgError::Statement {
            step: format!("reading the properties of {}", template.name),
            source: sqlx::Error::RowNotFound,
        }));
    };
    let kept = source
        .comment
        .as_deref()
        .and_then(|c| c.strip_prefix(TEMPLATE_COMMENT))
        .and_then(|c| c.split_once('\n'))
        .map(|(_, kept)| kept.to_string());
    let comment = match (marker, kept) {
        (Some(marker), Some(kept)) => Some(format!("{marker}\n{kept}")),
        (Some(marker), None) => Some(marker.to_string()),
        (None, kept) => kept,
    };
    for statement in source.statements(name, &user) {
        pg::run(admin, statement).await?;
    }
    let quoted = quote_ident(name);
    let comment = comment.map_or("NULL".into(), |c| quote_literal(&c));
    pg::execute(admin, format!("COMMENT ON DATABASE {quoted} IS {comment}"))
        .await
        .step(format!("commenting on {name}"))?;
    Ok(())
}

/// The comment on `database`, if any.
async fn database_comment(
    admin: &mut PgConnection,
    database: &str,
) -> Result<Option<String>, PgError> {
    let comment: Option<Option<String>> = sqlx::query_scalar(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1",
    )
    .bind(database)
    .fetch_optional(&mut *admin)
    .await
    .step(format!("reading the comment on {database}"))?;
    Ok(comment.flatten())
}

/// Whether a failed copy failed because its template was dropped meanwhile (another devdb
/// with other files replaced it): building it again is the fix.
pub(crate) fn template_vanished(error: &CloneError) -> bool {
    matches!(error, CloneError::Pg(e) if e.sqlstate().as_deref() == Some("3D000"))
}

/// Drops the clone `name`, refusing databases devdb did not clone.
pub(crate) async fn drop_clone(admin: &mut PgConnection, name: &str) -> Result<(), CloneError> {
    let comment: Option<Option<String>> = sqlx::query_scalar(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1",
    )
    .bind(name)
    .fetch_optional(&mut *admin)
    .await
    .step(format!("looking up {name}"))?;
    match comment {
        None => Err(CloneError::NotFound {
            name: name.to_string(),
        }),
        Some(Some(comment)) if comment.starts_with(CLONE_COMMENT) => {
            drop_database(admin, name).await
        }
        Some(_) => Err(CloneError::NotAClone {
            name: name.to_string(),
        }),
    }
}

/// Drops every clone devdb made on this server; returns their names.
pub(crate) async fn prune_clones(admin: &mut PgConnection) -> Result<Vec<String>, CloneError> {
    let clones: Vec<String> = sqlx::query_scalar(
        "SELECT datname::text FROM pg_database \
         WHERE starts_with(shobj_description(oid, 'pg_database'), $1) ORDER BY datname",
    )
    .bind(CLONE_COMMENT)
    .fetch_all(&mut *admin)
    .await
    .step("listing clones")?;
    for name in &clones {
        drop_database(admin, name).await?;
    }
    Ok(clones)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_name_follows_the_files() {
        let dir = tempfile::tempdir().unwrap();
        let source = TemplateSource {
            migrations: dir.path().join("migrations"),
            seeds: dir.path().join("migrations/seeds"),
            schema: "public".into(),
            stale_after: Duration::ZERO,
        };
        let empty = source.template_name().unwrap();
        assert!(empty.starts_with(TEMPLATE_PREFIX) && empty.len() < 63);
        std::fs::create_dir_all(&source.seeds).unwrap();
        std::fs::write(source.migrations.join("a.sql"), "x").unwrap();
        let one = source.template_name().unwrap();
        assert_ne!(one, empty);
        assert_eq!(source.template_name().unwrap(), one, "stable");
        std::fs::write(source.migrations.join("a.sql"), "y").unwrap();
        let edited = source.template_name().unwrap();
        assert_ne!(edited, one);
        std::fs::write(source.seeds.join("a.sql"), "y").unwrap();
        let seeded = source.template_name().unwrap();
        assert_ne!(seeded, edited, "seeds count");
        std::fs::write(source.migrations.join("notes.txt"), "y").unwrap();
        assert_eq!(
            source.template_name().unwrap(),
            seeded,
            "other files do not"
        );
    }

    #[test]
    fn clone_names_are_plain_identifiers() {
        assert!(check_clone_name(&new_clone_name()).is_ok());
        assert!(check_clone_name("it_1").is_ok());
        for bad in ["", "1x", "Upper", "with-dash", "a\"b", &"x".repeat(64)] {
            assert!(check_clone_name(bad).is_err(), "{bad}");
        }
    }
}
