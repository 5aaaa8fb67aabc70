//! `restore`: replaces the project's database with a verified backup.
//!
//! A [`VerifiedBackup`] comes only from [`verify_backup`], which checks every file against
//! the manifest; a damaged backup is refused before anything is touched, and so is a backup
//! of another database than the project's (`--create` would recreate that one). Then, from the
//! server's `template1` database:
//!
//! 1. the database stops taking connections, its sessions are ended, and it is renamed
//!    aside (`<db>__devdb_before_restore`), which keeps it whole;
//! 2. `pg_restore --create --exit-on-error` runs inside the container with the dump
//!    streamed into its stdin; `--create` recreates the database with the dumped
//!    encoding, locale, owner, settings and grants;
//! 3. on success the renamed database is dropped; on any failure (including the dump
//!    changing on disk after it was verified) the partial one is dropped and the renamed
//!    one is put back, so the database is as it was.

use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::time::Instant;

use futures_util::StreamExt;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::{Connection, PgConnection};
use tokio::io::{AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::backup::{client_spec, current_revisions};
use super::url::{ConnectError, DatabaseUrl, UrlError, database_url};
use crate::backup::{DUMP_FILE, Manifest, VerifyError, verify};
use crate::config::Project;
use crate::engine::{Engine, EngineError, Exec, ExecChunk, StderrTail};
use crate::migrate::store::{self, quote_ident};
use crate::progress::Progress;

/// A backup folder whose files all match its manifest.
#[derive(Debug, Clone)]
pub struct VerifiedBackup {
    path: PathBuf,
    manifest: Manifest,
}

impl VerifiedBackup {
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Refuses a backup of another database than the project's: `pg_restore --create`
    /// recreates the database under the name in the dump, so restoring it would build that
    /// database and then drop the project's. Checked before anything is changed.
    pub fn check_database(&self, project: &Project) -> Result<(), RestoreError> {
        let database = project.credentials().database;
        if self.manifest.database == database {
            Ok(())
        } else {
            Err(RestoreError::OtherDatabase {
                backup: self.manifest.database.clone(),
                database,
            })
        }
    }

    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }
}

/// What `restore` did.
#[derive(Debug, Clone, Serialize)]
pub struct RestoreReport {
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
pub enum RestoreError {
    #[error(transparent)]
    Verify(#[from] VerifyError),
    #[error(transparent)]
    Url(#[from] UrlError),
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error("{step} failed: {source}")]
    Database {
        step: String,
        #[source]
        source: sqlx::Error,
    },
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(
        "the backup is of database {backup}, and this project's database is {database}: \
         restoring it would create {backup} and drop {database}"
    )]
    OtherDatabase { backup: String, database: String },
    #[error(
        "database {old} exists: an earlier restore of {database} was interrupted, and {old} \
         holds the database as it was before it"
    )]
    Leftover { database: String, old: String },
    #[error("{command} failed with exit code {code}{}: {stderr}", rolled_back_note(*.rolled_back))]
    Command {
        command: String,
        code: i64,
        stderr: String,
        rolled_back: bool,
    },
    #[error(
        "{failure}; then putting the database back failed ({source}): the database as it \
         was before is kept as {aside}"
    )]
    PutBackFailed {
        failure: Box<RestoreError>,
        source: Box<RestoreError>,
        database: String,
        aside: String,
    },
    #[error("interrupted; the database was put back as it was")]
    Interrupted,
    #[error("{path} changed while it was being restored{}", rolled_back_note(*.rolled_back))]
    Changed { path: PathBuf, rolled_back: bool },
    #[error("reading {path} failed{}: {source}", rolled_back_note(*.rolled_back))]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
        rolled_back: bool,
    },
}

fn rolled_back_note(rolled_back: bool) -> &'static str {
    if rolled_back {
        " (the database was put back as it was)"
    } else {
        ""
    }
}

impl RestoreError {
    pub fn hint(&self) -> Option<String> {
        match self {
            RestoreError::Verify(_) => Some(
                "nothing was changed; pick another backup (`devdb backup list --verify` checks \
                 them all)"
                    .into(),
            ),
            RestoreError::Url(UrlError::Engine(e)) | RestoreError::Engine(e) => e.hint(),
            RestoreError::OtherDatabase { backup, database } => Some(format!(
                "nothing was changed; restore this backup into a project whose POSTGRES_DB is \
                 {backup}, or pick a backup of {database} (`devdb backup list`)"
            )),
            RestoreError::Leftover {
                database,
                old: aside,
            }
            | RestoreError::PutBackFailed {
                database, aside, ..
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
            RestoreError::Command { .. } => Some(
                "pg_restore's message says what it could not restore; a backup taken with \
                 another POSTGRES_USER needs that role to exist"
                    .into(),
            ),
            _ => None,
        }
    }
}

fn db(step: impl Into<String>) -> impl FnOnce(sqlx::Error) -> RestoreError {
    let step = step.into();
    move |source| RestoreError::Database { step, source }
}

/// Checks every file of the backup in `dir` against its manifest (on a blocking thread:
/// the dump can be large).
pub async fn verify_backup(dir: &Path) -> Result<VerifiedBackup, RestoreError> {
    let path = dir.to_path_buf();
    let manifest = tokio::task::spawn_blocking(move || verify(&path))
        .await
        .expect("the verification thread does not panic")?;
    Ok(VerifiedBackup {
        path: dir.to_path_buf(),
        manifest,
    })
}

/// The name the database is kept under during a restore (at most 63 bytes, Postgres's
/// limit, cut on a character boundary).
fn aside_name(database: &str) -> String {
    const SUFFIX: &str = "__devdb_before_restore";
    let mut keep = 63 - SUFFIX.len();
    while !database.is_char_boundary(keep.min(database.len())) {
        keep -= 1;
    }
    format!("{}{SUFFIX}", &database[..keep.min(database.len())])
}

async fn database_exists(conn: &mut PgConnection, name: &str) -> Result<bool, RestoreError> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
        .bind(name)
        .fetch_one(conn)
        .await
        .map_err(db("looking up the database"))
}

async fn run(conn: &mut PgConnection, sql: String) -> Result<(), RestoreError> {
    store::execute(conn, sql.clone()).await.map_err(db(sql))
}

/// Ends every session on `database` and renames it to `aside`. A session can connect
/// between the two steps, so it is tried a few times.
async fn set_aside(
    conn: &mut PgConnection,
    database: &str,
    aside: &str,
) -> Result<(), RestoreError> {
    run(
        conn,
        format!(
            "ALTER DATABASE {} WITH ALLOW_CONNECTIONS false",
            quote_ident(database)
        ),
    )
    .await?;
    let rename = format!(
        "ALTER DATABASE {} RENAME TO {}",
        quote_ident(database),
        quote_ident(aside)
    );
    let mut attempt = 0;
    loop {
        sqlx::query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = $1 AND pid <> pg_backend_pid()",
        )
        .bind(database)
        .execute(&mut *conn)
        .await
        .map_err(db("ending the sessions on the database"))?;
        match store::execute(conn, rename.clone()).await {
            Ok(()) => return Ok(()),
            // 55006: object_in_use, a session not gone yet.
            Err(sqlx::Error::Database(e))
                if e.code().as_deref() == Some("55006") && attempt < 50 =>
            {
                attempt += 1;
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            Err(source) => {
                let _ = allow_connections(conn, database).await;
                return Err(RestoreError::Database {
                    step: rename,
                    source,
                });
            }
        }
    }
}

async fn allow_connections(conn: &mut PgConnection, database: &str) -> Result<(), RestoreError> {
    run(
        conn,
        format!(
            "ALTER DATABASE {} WITH ALLOW_CONNECTIONS true",
            quote_ident(database)
        ),
    )
    .await
}

/// Drops whatever a failed `pg_restore` created and puts the renamed database back.
async fn put_back(
    conn: &mut PgConnection,
    database: &str,
    aside: Option<&str>,
) -> Result<(), RestoreError> {
    run(
        conn,
        format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            quote_ident(database)
        ),
    )
    .await?;
    if let Some(aside) = aside {
        run(
            conn,
            format!(
                "ALTER DATABASE {} RENAME TO {}",
                quote_ident(aside),
                quote_ident(database)
            ),
        )
        .await?;
        allow_connections(conn, database).await?;
    }
    Ok(())
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
    let (read, stderr) = tokio::join!(send, drain);
    progress.layers_end();
    let stderr = stderr?;
    let code = engine.exec_exit_code(&exec).await?;
    Ok(Streamed {
        code,
        stderr: stderr.text(),
        read,
    })
}

/// Replaces the project's database with the verified backup and reports the revision it
/// is at afterwards. `cancel` resolving (Ctrl-C) while the dump streams stops it and puts
/// the database back as it was.
pub async fn restore(
    engine: &Engine,
    project: &Project,
    backup: &VerifiedBackup,
    progress: &dyn Progress,
    cancel: impl Future<Output = ()>,
) -> Result<RestoreReport, RestoreError> {
    let started = Instant::now();
    backup.check_database(project)?;
    let url = database_url(engine, project).await?;
    let container = super::container_name(project, &project.settings.database);
    let credentials = project.credentials();
    let database = credentials.database.clone();
    let admin_url = DatabaseUrl {
        database: "template1".into(),
        ..url.clone()
    };
    let mut admin = admin_url.connect().await?;
    let aside = aside_name(&database);
    if database_exists(&mut admin, &aside).await? {
        return Err(RestoreError::Leftover {
            database,
            old: aside,
        });
    }
    let aside = if database_exists(&mut admin, &database).await? {
        set_aside(&mut admin, &database, &aside).await?;
        Some(aside)
    } else {
        None
    };

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
        let mut spec = client_spec(
            "pg_restore",
            &credentials,
            &["--create", "--exit-on-error", "--dbname", "template1"],
        );
        spec.stdin = true;
        spec
    };
    let streamed = tokio::select! {
        streamed = async {
            let exec = engine.exec(&container, &spec).await?;
            stream_into(engine, exec, &dump, expected.size, progress).await
        } => streamed,
        // Dropping the exec closes pg_restore's stdin; put_back ends its session.
        () = cancel => Err(RestoreError::Interrupted),
    };
    let failure = match streamed {
        Err(e) => Some(e),
        Ok(s) if s.code != 0 => Some(RestoreError::Command {
            command: format!("pg_restore in {container}"),
            code: s.code,
            stderr: s.stderr,
            rolled_back: true,
        }),
        Ok(Streamed {
            read: Err(source), ..
        }) => Some(RestoreError::Io {
            path: dump.clone(),
            source,
            rolled_back: true,
        }),
        Ok(Streamed { read: Ok(sha), .. }) if sha != expected.sha256 => {
            Some(RestoreError::Changed {
                path: dump.clone(),
                rolled_back: true,
            })
        }
        Ok(_) => None,
    };
    if let Some(failure) = failure {
        if let Err(e) = put_back(&mut admin, &database, aside.as_deref()).await {
            return Err(RestoreError::PutBackFailed {
                failure: Box::new(failure),
                source: Box::new(e),
                database,
                aside: aside.unwrap_or_default(),
            });
        }
        return Err(failure);
    }
    if let Some(aside) = &aside {
        run(
            &mut admin,
            format!("DROP DATABASE {} WITH (FORCE)", quote_ident(aside)),
        )
        .await?;
    }
    let _ = admin.close().await;

    let mut conn = url.connect().await?;
    let applied: Vec<String> = store::applied(&mut conn, &project.settings.version_schema)
        .await
        .map_err(db("reading the applied revisions"))?
        .into_keys()
        .collect();
    let _ = conn.close().await;
    Ok(RestoreReport {
        path: backup.path.clone(),
        database,
        manifest: backup.manifest.clone(),
        current: current_revisions(project, &applied),
        applied,
        bytes: expected.size,
        seconds: started.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_aside_name_fits_in_an_identifier() {
        assert_eq!(aside_name("app"), "app__devdb_before_restore");
        let long = "é".repeat(40);
        let aside = aside_name(&long);
        assert!(aside.len() <= 63, "{}", aside.len());
        assert!(aside.ends_with("__devdb_before_restore"));
    }
}
