//! `restore`: replaces the project's database with a verified backup, so that a restore
//! killed at any moment leaves the project's database as it was, under its own name.
//!
//! A [`VerifiedBackup`] comes only from [`verify_backup`], which checks every file against
//! the manifest and reads which database the dump holds from the dump's own table of
//! contents. A damaged backup, a backup of another database, and (unless asked for) a
//! backup of another project are refused before anything is touched. Then, from the
//! server's `template1` database, holding the restore lock (see [`swap`]):
//!
//! 1. leftovers of an interrupted restore are dropped;
//! 2. a new database `<db>__devdb_restoring` is created as the dump's `CREATE DATABASE`
//!    says (encoding, locale), and `pg_restore --exit-on-error` fills it inside the
//!    container (for a server named by URL, a client container of the project's image:
//!    [`super::client`]), with the dump streamed into its stdin;
//! 3. in one transaction the project's database is renamed `<db>__devdb_replaced`, the
//!    restored one takes its name, and the dump's database settings, comment and grants
//!    are applied; then the replaced one is dropped.
//!
//! Any failure before the swap (including the dump changing on disk after it was
//! verified, or Ctrl-C) drops the new database: the project's was never touched.

use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::time::Instant;

use futures_util::StreamExt;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::{Connection, PgConnection};
use tokio::io::{AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::backup::current_revisions;
use super::client::{ClientError, DumpSite};
use super::url::{Server, UrlError};
use crate::backup::{
    DUMP_FILE, DumpDatabase, DumpError, Manifest, VerifyError, read_dump_database, verify,
};
use crate::config::Project;
use crate::engine::{Engine, EngineError, Exec, ExecChunk, StderrTail};
use crate::error::{Exit, Failure};
use crate::migrate::store;
use crate::pg::{self, DatabaseUrl, PgError, Step, quote_ident};
use crate::progress::Progress;

mod swap;

use swap::{clean, replaced_name, restoring_name, try_lock};
pub(crate) use swap::{restore_leftovers, warn_restore_leftovers};

/// A backup folder whose files all match its manifest, with what its dump says about the
/// database it holds.
#[derive(Debug, Clone)]
pub(crate) struct VerifiedBackup {
    path: PathBuf,
    manifest: Manifest,
    dump: DumpDatabase,
}

impl VerifiedBackup {
    /// Refuses a backup of another database than `database` (the one to replace; by the
    /// dump, not by the manifest's editable field), and a backup of another project unless
    /// `from_project` names that project. Checked before anything is asked or changed.
    pub(crate) fn check_for(
        &self,
        project: &Project,
        database: &str,
        from_project: Option<&str>,
    ) -> Result<(), RestoreError> {
        let database = database.to_string();
        if self.dump.name != database {
            return Err(RestoreError::OtherDatabase {
                backup: self.dump.name.clone(),
                manifest: self.manifest.database.clone(),
                database,
            });
        }
        if self.manifest.database != database {
            return Err(RestoreError::ManifestDisagrees {
                manifest: self.manifest.database.clone(),
                dump: self.dump.name.clone(),
            });
        }
        let backup_project = &self.manifest.project;
        if *backup_project != project.name && from_project != Some(backup_project.as_str()) {
            return Err(RestoreError::OtherProject {
                backup: backup_project.clone(),
                project: project.name.clone(),
                given: from_project.map(str::to_string),
            });
        }
        Ok(())
    }

    pub(crate) fn manifest(&self) -> &Manifest {
        &self.manifest
    }
}

/// How `restore` runs.
#[derive(Debug, Clone, Default)]
pub(crate) struct RestoreOptions {
    /// Restore a backup that another project (this name) took.
    pub from_project: Option<String>,
}

/// What `restore` did.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct RestoreReport {
    pub path: PathBuf,
    pub database: String,
    /// The backup's manifest.
    pub manifest: Manifest,
    /// The revision(s) the restored database is at; empty at base.
    pub current: Vec<String>,
    pub applied: Vec<String>,
    pub bytes: u64,
    pub seconds: f64,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum RestoreError {
    #[error(transparent)]
    Verify(#[from] VerifyError),
    #[error(transparent)]
    Dump(#[from] DumpError),
    #[error(transparent)]
    Url(#[from] UrlError),
    #[error(transparent)]
    Pg(#[from] PgError),
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error(
        "the backup's dump is of database {backup}{}, and this project's database is \
         {database}",
        if manifest == backup { String::new() } else { format!(" (its manifest says {manifest})") }
    )]
    OtherDatabase {
        backup: String,
        manifest: String,
        database: String,
    },
    #[error(
        "the backup's manifest says database {manifest}, and its dump is of database {dump}: \
         the manifest was edited"
    )]
    ManifestDisagrees { manifest: String, dump: String },
    #[error("the backup was taken by project {backup}, and this project is {project}{}",
        match given { Some(given) => format!(" (--from-project names {given})"), None => String::new() })]
    OtherProject {
        backup: String,
        project: String,
        given: Option<String>,
    },
    #[error("another restore of database {database} is running on this server")]
    Busy { database: String },
    #[error(
        "database {old} exists: an earlier restore of {database} was interrupted, and {old} \
         holds the database as it was before it"
    )]
    Leftover { database: String, old: String },
    #[error("{command} failed with exit code {code}{}: {stderr}", unchanged_note(*.dropped))]
    Command {
        command: String,
        code: i64,
        stderr: String,
        dropped: bool,
    },
    #[error("interrupted; the database was not changed")]
    Interrupted,
    #[error("{path} changed while it was being restored{}", unchanged_note(*.dropped))]
    Changed { path: PathBuf, dropped: bool },
    #[error("reading {path} failed{}: {source}", unchanged_note(*.dropped))]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
        dropped: bool,
    },
    #[error(
        "giving the restored database the name {database} failed (the database was not changed): {source}"
    )]
    Swap {
        database: String,
        #[source]
        source: Box<RestoreError>,
    },
    #[error("{failure}; then dropping the partial database {partial} failed: {source}")]
    DropFailed {
        failure: Box<RestoreError>,
        source: Box<RestoreError>,
        partial: String,
    },
}

fn unchanged_note(dropped: bool) -> &'static str {
    if dropped {
        " (the database was not changed)"
    } else {
        ""
    }
}

impl Failure for RestoreError {
    fn exit(&self) -> Exit {
        match self {
            RestoreError::Url(e) => e.exit(),
            RestoreError::Pg(e) => e.exit(),
            RestoreError::Engine(e) => e.exit(),
            RestoreError::Client(e) => e.exit(),
            RestoreError::Interrupted => Exit::Interrupted,
            RestoreError::Swap { source, .. } => source.exit(),
            RestoreError::DropFailed { failure, .. } => failure.exit(),
            _ => Exit::Failure,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            RestoreError::Verify(e) => e.hint(),
            RestoreError::Dump(e) => e.hint(),
            RestoreError::Url(e) => e.hint(),
            RestoreError::Pg(e) => e.hint(),
            RestoreError::Engine(e) => e.hint(),
            RestoreError::Client(e) => e.hint(),
            RestoreError::OtherDatabase {
                backup, database, ..
            } => Some(format!(
                "nothing was changed; restore this backup into a project whose POSTGRES_DB is \
                 {backup}, or pick a backup of {database} (`devdb backup list`)"
            )),
            RestoreError::ManifestDisagrees { .. } => Some(
                "nothing was changed; this backup cannot be trusted, pick another one \
                 (`devdb backup list`)"
                    .into(),
            ),
            RestoreError::OtherProject { backup, .. } => Some(format!(
                "nothing was changed; if this project's database should become project \
                 {backup}'s, run the restore again with `--from-project {backup}`"
            )),
            RestoreError::Busy { .. } => Some(
                "nothing was changed; wait for it to finish (`devdb status` shows the database)"
                    .into(),
            ),
            RestoreError::Leftover {
                database,
                old: aside,
            } => Some(format!(
                "{aside} takes no connections; in `devdb psql -- -d template1`, either drop it \
                 (`DROP DATABASE \"{aside}\";`) or put it back in place of {database} \
                 (`DROP DATABASE IF EXISTS \"{database}\";` then \
                 `ALTER DATABASE \"{aside}\" RENAME TO \"{database}\";` then \
                 `ALTER DATABASE \"{database}\" WITH ALLOW_CONNECTIONS true;`), and restore \
                 again; to look at it first, run \
                 `ALTER DATABASE \"{aside}\" WITH ALLOW_CONNECTIONS true;` and then \
                 `devdb psql -- -d {aside}`"
            )),
            RestoreError::DropFailed { .. } => Some(
                "the project's database was not changed; `devdb restore --clean` drops the \
                 partial one"
                    .into(),
            ),
            RestoreError::Command { .. } => Some(
                "pg_restore's message says what it could not restore; a backup taken with \
                 another POSTGRES_USER needs that role to exist"
                    .into(),
            ),
            _ => None,
        }
    }
}

/// Checks every file of the backup in `dir` against its manifest and reads the dump's
/// table of contents (on a blocking thread: the dump can be large).
pub(crate) async fn verify_backup(dir: &Path) -> Result<VerifiedBackup, RestoreError> {
    let path = dir.to_path_buf();
    let (manifest, dump) = tokio::task::spawn_blocking(move || {
        let manifest = verify(&path)?;
        let dump = read_dump_database(&path.join(DUMP_FILE))?;
        Ok::<_, RestoreError>((manifest, dump))
    })
    .await
    .map_err(|e| RestoreError::Io {
        path: dir.join(DUMP_FILE),
        source: std::io::Error::other(format!("verifying the backup stopped: {e}")),
        dropped: false,
    })??;
    Ok(VerifiedBackup {
        path: dir.to_path_buf(),
        manifest,
        dump,
    })
}

/// How streaming the dump into `pg_restore` ended.
struct Streamed {
    code: i64,
    stderr: String,
    /// The SHA-256 of what was sent, or the error reading the file.
    read: Result<String, std::io::Error>,
}

/// Sends the file at `path` into `input` in 256 KiB pieces; returns its SHA-256.
async fn send_file(
    input: &mut Pin<Box<dyn AsyncWrite + Send>>,
    path: &Path,
    total: u64,
    progress: &dyn Progress,
) -> std::io::Result<String> {
    let mut file = tokio::fs::File::open(path).await?;
    let mut buffer = vec![0u8; 256 * 1024];
    let mut hasher = Sha256::new();
    let (mut sent, mut reported) = (0u64, 0u64);
    loop {
        let n = file.read(&mut buffer).await?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        input.write_all(&buffer[..n]).await?;
        sent += n as u64;
        if sent - reported >= 1 << 20 {
            progress.layer(DUMP_FILE, "restoring", Some(sent), Some(total));
            reported = sent;
        }
    }
    Ok(format!("{:x}", hasher.finalize()))
}

/// Sends the file at `path` into the exec's stdin while draining its output, then waits
/// for its exit code.
async fn stream_into(
    engine: &Engine,
    mut exec: Exec,
    path: &Path,
    total: u64,
    progress: &dyn Progress,
) -> Result<Streamed, RestoreError> {
    let Exec { input, output, .. } = &mut exec;
    let drain = async {
        let mut stderr = StderrTail::new(16 * 1024);
        while let Some(chunk) = output.next().await {
            match chunk? {
                ExecChunk::Stderr(bytes) | ExecChunk::Stdout(bytes) => stderr.push(&bytes),
            }
        }
        Ok::<_, EngineError>(stderr)
    };
    let send = async {
        let result = send_file(input, path, total, progress).await;
        // End of input, also after an error: pg_restore then stops on a short archive
        // instead of waiting for more.
        let _ = input.shutdown().await;
        result
    };
    let bars = progress.layers();
    let (read, stderr) = tokio::join!(send, drain);
    drop(bars);
    let stderr = stderr?;
    let code = engine.exec_exit_code(&exec).await?;
    Ok(Streamed {
        code,
        stderr: stderr.text(),
        read,
    })
}

/// The server's maintenance database, from where databases are created, renamed and dropped.
async fn connect_admin(url: &DatabaseUrl) -> Result<PgConnection, RestoreError> {
    Ok(url.maintenance().connect().await?)
}

/// Takes the restore lock and removes what an interrupted restore left; returns what it
/// did, one line each.
async fn lock_and_clean(
    admin: &mut PgConnection,
    database: &str,
) -> Result<Vec<String>, RestoreError> {
    if !try_lock(admin, database).await? {
        return Err(RestoreError::Busy {
            database: database.to_string(),
        });
    }
    clean(admin, database).await
}

/// `restore --clean`: drops what interrupted restores of `url`'s database left on its
/// server (see [`Leftover`]); returns what it did, one line each.
pub(crate) async fn clean_restore_leftovers(
    url: &DatabaseUrl,
) -> Result<Vec<String>, RestoreError> {
    let mut admin = connect_admin(url).await?;
    let done = lock_and_clean(&mut admin, &url.database).await?;
    let _ = admin.close().await;
    Ok(done)
}

/// Replaces the database of `server` (the project's running one, or one named by URL)
/// with the verified backup and reports the revision it is at afterwards. `cancel`
/// resolving (Ctrl-C) while the dump streams stops it and drops the partial database; the
/// one replaced is not touched until the final swap. A client container is removed after.
pub(crate) async fn restore(
    engine: &Engine,
    project: &Project,
    server: &Server,
    backup: &VerifiedBackup,
    options: &RestoreOptions,
    progress: &dyn Progress,
    cancel: impl Future<Output = ()>,
) -> Result<RestoreReport, RestoreError> {
    backup.check_for(
        project,
        &server.url.database,
        options.from_project.as_deref(),
    )?;
    let site = DumpSite::for_server(engine, project, server, progress).await?;
    let result = restore_with(
        engine,
        project,
        &server.url,
        &site,
        backup,
        progress,
        cancel,
    )
    .await;
    site.remove(engine).await;
    result
}

async fn restore_with(
    engine: &Engine,
    project: &Project,
    url: &DatabaseUrl,
    site: &DumpSite,
    backup: &VerifiedBackup,
    progress: &dyn Progress,
    cancel: impl Future<Output = ()>,
) -> Result<RestoreReport, RestoreError> {
    let started = Instant::now();
    let container = site.container();
    let database = url.database.clone();
    let mut admin = connect_admin(url).await?;
    if let DumpSite::Client(client) = site {
        let version: String = sqlx::query_scalar("SELECT current_setting('server_version_num')")
            .fetch_one(&mut admin)
            .await
            .step("reading the server version")?;
        client
            .check_version(engine, "pg_restore", version.parse().unwrap_or(0))
            .await?;
    }
    for line in lock_and_clean(&mut admin, &database).await? {
        progress.info(&line);
    }

    let partial = restoring_name(&database);
    let create = backup
        .dump
        .create_as(&quote_ident(&partial))
        .unwrap_or_else(|| {
            format!(
                "CREATE DATABASE {} TEMPLATE template0",
                quote_ident(&partial)
            )
        });
    pg::run(&mut admin, create).await?;

    progress.info(&format!(
        "restoring database {database} in {container} from {}",
        backup.path.display()
    ));
    let dump = backup.path.join(DUMP_FILE);
    let expected = backup
        .manifest
        .files
        .iter()
        .find(|f| f.path == DUMP_FILE)
        .expect("a verified manifest lists the dump");
    let spec = {
        let mut spec = site.spec("pg_restore", &["--exit-on-error"], &partial);
        spec.stdin = true;
        spec
    };
    let streamed = tokio::select! {
        streamed = async {
            let exec = engine.exec(container, &spec).await?;
            stream_into(engine, exec, &dump, expected.size, progress).await
        } => streamed,
        // Dropping the exec closes pg_restore's stdin; the drop below ends its session.
        () = cancel => Err(RestoreError::Interrupted),
    };
    let failure = match streamed {
        Err(e) => Some(e),
        Ok(s) if s.code != 0 => Some(RestoreError::Command {
            command: format!("pg_restore in {container}"),
            code: s.code,
            stderr: s.stderr,
            dropped: true,
        }),
        Ok(Streamed {
            read: Err(source), ..
        }) => Some(RestoreError::Io {
            path: dump.clone(),
            source,
            dropped: true,
        }),
        Ok(Streamed { read: Ok(sha), .. }) if sha != expected.sha256 => {
            Some(RestoreError::Changed {
                path: dump.clone(),
                dropped: true,
            })
        }
        Ok(_) => None,
    };
    if let Some(failure) = failure {
        if let Err(e) = pg::drop_database(&mut admin, &partial).await {
            return Err(RestoreError::DropFailed {
                failure: Box::new(failure),
                source: Box::new(e.into()),
                partial,
            });
        }
        return Err(failure);
    }

    let replaced = replaced_name(&database);
    let exists = pg::database_exists(&mut admin, &database).await?;
    if let Err(failure) = swap::swap(
        &mut admin,
        &database,
        exists,
        &partial,
        &replaced,
        &backup.dump.properties,
    )
    .await
    {
        let failure = RestoreError::Swap {
            database: database.clone(),
            source: Box::new(failure),
        };
        return Err(match pg::drop_database(&mut admin, &partial).await {
            Ok(()) => failure,
            Err(e) => RestoreError::DropFailed {
                failure: Box::new(failure),
                source: Box::new(e.into()),
                partial,
            },
        });
    }
    if exists && let Err(e) = pg::drop_database(&mut admin, &replaced).await {
        progress.info(&format!(
            "restored, but dropping the database as it was before failed ({e}); \
             `devdb restore --clean` drops {replaced}"
        ));
    }
    let _ = admin.close().await;

    let mut conn = url.connect().await?;
    let recorded = store::applied(&mut conn, &project.settings.version_schema)
        .await
        .step("reading the applied revisions")?;
    let _ = conn.close().await;
    let applied: Vec<String> = recorded.keys().cloned().collect();
    Ok(RestoreReport {
        path: backup.path.clone(),
        database,
        manifest: backup.manifest.clone(),
        current: current_revisions(project, recorded, progress),
        applied,
        bytes: expected.size,
        seconds: started.elapsed().as_secs_f64(),
    })
}
