//! `backup`: a timestamped folder with a full dump, the schema as SQL, the migration files,
//! the revision history and a manifest of checksums (layout in [`crate::backup`]).
//!
//! `pg_dump` runs inside the database container, so client and server versions always
//! match; for a server named by URL, in a throwaway container of the project's image on the
//! host's network ([`super::client`]). Its output is streamed to disk through the engine's
//! exec API chunk by chunk: devdb's memory does not grow with the database. The folder is written under a hidden
//! `.partial-` name and renamed at the end, so a failed backup leaves nothing that looks
//! complete (and the partial folder is removed; the next backup removes the one a killed
//! backup left). Folders are `0700` and files `0600`: a dump is all the data.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};

use futures_util::StreamExt;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::{AssertSqlSafe, PgConnection, Row};
use tokio::io::AsyncWriteExt;

use super::client::{ClientError, DumpSite};
use super::url::{Server, ServerSource, UrlError, database_url};
use crate::backup::{
    CURRENT_FILE, DUMP_FILE, FORMAT, HISTORY_FILE, MANIFEST_FILE, MIGRATIONS_DIR, Manifest,
    ManifestFile, ManifestRevisions, PartialFolder, SCHEMA_FILE, backup_name, create_private_dir,
    create_private_file, file_entry, unique_folder,
};
use crate::config::{Credentials, Project};
use crate::engine::{Engine, EngineError, ExecChunk, ExecSpec, StderrTail};
use crate::error::{Exit, Failure};
use crate::migrate::{AppliedState, load_graph, store};
use crate::pg::{self, DatabaseUrl, PgError, Step};
use crate::progress::Progress;

/// How `backup` runs.
#[derive(Debug, Clone, Default)]
pub(crate) struct BackupOptions {
    /// The folder the backup folder is made in; default: the project's `backups` setting.
    pub folder: Option<PathBuf>,
}

/// What `backup` wrote.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct BackupReport {
    /// The backup folder.
    pub path: PathBuf,
    pub manifest: Manifest,
    pub seconds: f64,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum BackupError {
    #[error(transparent)]
    Url(#[from] UrlError),
    #[error(transparent)]
    Pg(#[from] PgError),
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error("interrupted; no backup was kept")]
    Interrupted,
    #[error("{command} failed with exit code {code}: {stderr}")]
    Command {
        command: String,
        code: i64,
        stderr: String,
    },
    #[error("{step} {path} failed: {source}")]
    Io {
        step: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl Failure for BackupError {
    fn exit(&self) -> Exit {
        match self {
            BackupError::Url(e) => e.exit(),
            BackupError::Pg(e) => e.exit(),
            BackupError::Engine(e) => e.exit(),
            BackupError::Client(e) => e.exit(),
            BackupError::Interrupted => Exit::Interrupted,
            _ => Exit::Failure,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            BackupError::Url(e) => e.hint(),
            BackupError::Pg(e) => e.hint(),
            BackupError::Engine(e) => e.hint(),
            BackupError::Client(e) => e.hint(),
            BackupError::Interrupted => None,
            BackupError::Io { .. } => Some(
                "check that the backups folder is writable and the disk has room; nothing was \
                 kept of this backup"
                    .into(),
            ),
            BackupError::Command { .. } => Some(
                "the database container's log (`devdb logs`) may say more; nothing was kept of \
                 this backup"
                    .into(),
            ),
        }
    }
}

fn io(step: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> BackupError {
    let path = path.to_path_buf();
    move |source| BackupError::Io { step, path, source }
}

/// One row of devdb's record table, as `history.json` keeps it.
#[derive(Debug, Clone, Serialize)]
struct HistoryRow {
    id: String,
    checksum: String,
    message: String,
    applied_at: String,
    duration_ms: f64,
    applied_by: String,
}

/// Backs up the project's running database into a new folder of `options.folder`.
pub(crate) async fn backup(
    engine: &Engine,
    project: &Project,
    options: &BackupOptions,
    progress: &dyn Progress,
) -> Result<BackupReport, BackupError> {
    let server = Server {
        url: database_url(engine, project).await?,
        source: ServerSource::Container(project.settings.database.clone()),
    };
    backup_on(
        engine,
        project,
        &server,
        options,
        progress,
        std::future::pending(),
    )
    .await
}

/// Backs up the database of `server` (the project's running one, or one named by URL)
/// into a new folder of `options.folder`. `cancel` resolving (Ctrl-C) stops it; nothing of
/// the backup is kept, and a client container is removed.
pub(crate) async fn backup_on(
    engine: &Engine,
    project: &Project,
    server: &Server,
    options: &BackupOptions,
    progress: &dyn Progress,
    cancel: impl Future<Output = ()>,
) -> Result<BackupReport, BackupError> {
    let site = DumpSite::for_server(engine, project, server, progress).await?;
    let result = tokio::select! {
        result = backup_with(engine, project, &server.url, &site, options, progress) => result,
        () = cancel => Err(BackupError::Interrupted),
    };
    site.remove(engine).await;
    result
}

async fn backup_with(
    engine: &Engine,
    project: &Project,
    url: &DatabaseUrl,
    site: &DumpSite,
    options: &BackupOptions,
    progress: &dyn Progress,
) -> Result<BackupReport, BackupError> {
    let started = Instant::now();
    let database = url.database.clone();
    let folder = options
        .folder
        .clone()
        .unwrap_or_else(|| project.settings.backups.clone());
    let (name, created_at) = backup_name(SystemTime::now());
    // Removed on drop: an error anywhere below leaves no partial folder behind, and the
    // next backup removes the one a killed backup left.
    let (partial, abandoned) =
        PartialFolder::create(&folder, &name).map_err(io("creating a folder in", &folder))?;
    for path in abandoned {
        progress.info(&format!(
            "removed {}, left by an interrupted backup",
            path.display()
        ));
    }
    let dir = partial.path();

    let mut conn = url.connect().await?;
    super::warn_restore_leftovers(&mut conn, progress).await;
    // The dump, the schema and the history are all read in this one snapshot.
    pg::execute(&mut conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .await
        .step("starting the snapshot transaction")?;
    let snapshot: String = sqlx::query_scalar("SELECT pg_export_snapshot()")
        .fetch_one(&mut conn)
        .await
        .step("exporting a snapshot")?;
    let (server_version, version_num): (String, String) = sqlx::query_as(
        "SELECT current_setting('server_version'), current_setting('server_version_num')",
    )
    .fetch_one(&mut conn)
    .await
    .step("reading the server version")?;
    let history = read_history(&mut conn, &project.settings.version_schema).await?;

    match site {
        DumpSite::Client(client) => {
            client
                .check_version(engine, "pg_dump", version_num.parse().unwrap_or(0))
                .await?;
            progress.info(&format!(
                "dumping database {database} at {} (pg_dump of {} in {})",
                url.render(false),
                client.image,
                client.name
            ));
        }
        DumpSite::Project { container, .. } => {
            progress.info(&format!("dumping database {database} of {container}"));
        }
    }
    let (size, sha256) = dump(
        engine,
        site,
        &database,
        &[&format!("--snapshot={snapshot}"), "-Fc"],
        &dir.join(DUMP_FILE),
        progress,
    )
    .await?;
    let mut files = vec![ManifestFile {
        path: DUMP_FILE.into(),
        size,
        sha256,
    }];
    let (size, sha256) = dump(
        engine,
        site,
        &database,
        &[&format!("--snapshot={snapshot}"), "--schema-only"],
        &dir.join(SCHEMA_FILE),
        progress,
    )
    .await?;
    files.push(ManifestFile {
        path: SCHEMA_FILE.into(),
        size,
        sha256,
    });
    pg::execute(&mut conn, "COMMIT")
        .await
        .step("ending the snapshot transaction")?;

    let applied: Vec<String> = history.iter().map(|r| r.id.clone()).collect();
    let recorded = history
        .iter()
        .map(|r| (r.id.clone(), r.checksum.clone()))
        .collect();
    let current = current_revisions(project, recorded, progress);
    let history_json = serde_json::to_string_pretty(&history).expect("plain data serializes");
    write(dir, HISTORY_FILE, &history_json)?;
    let current_text = if current.is_empty() {
        "base\n".to_string()
    } else {
        format!("{}\n", current.join("\n"))
    };
    write(dir, CURRENT_FILE, &current_text)?;
    let mut small = vec![HISTORY_FILE.to_string(), CURRENT_FILE.to_string()];
    small.extend(copy_migrations(&project.settings.migrations, dir)?);
    for relative in small {
        files.push(file_entry(dir, &relative).map_err(io("reading", &dir.join(&relative)))?);
    }

    let manifest = Manifest {
        format: FORMAT,
        created_at,
        devdb_version: env!("CARGO_PKG_VERSION").to_string(),
        project: project.name.clone(),
        database,
        server_version,
        revisions: ManifestRevisions { current, applied },
        files,
    };
    let manifest_json = serde_json::to_string_pretty(&manifest).expect("plain data serializes");
    write(dir, MANIFEST_FILE, &manifest_json)?;

    let path = unique_folder(&folder, &name);
    partial
        .finish(&path)
        .map_err(io("renaming the finished backup to", &path))?;
    Ok(BackupReport {
        path,
        manifest,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// The command line of a Postgres client tool inside the container, logged in as the
/// project's user over the container's local socket.
pub(crate) fn client_spec(tool: &str, credentials: &Credentials, args: &[&str]) -> ExecSpec {
    let mut cmd = vec![
        tool.to_string(),
        "--username".to_string(),
        credentials.user.clone(),
        "--no-password".to_string(),
    ];
    cmd.extend(args.iter().map(|a| a.to_string()));
    ExecSpec {
        cmd,
        // The socket may ask for a password (pg_hba is the image's choice); never on the
        // command line, where `ps` would show it.
        env: vec![format!("PGPASSWORD={}", credentials.password)],
        stdin: false,
    }
}

/// Runs `pg_dump ARGS` on `database` where `site` runs it and streams its output into
/// `path`. Returns the size and SHA-256 of what was written.
async fn dump(
    engine: &Engine,
    site: &DumpSite,
    database: &str,
    args: &[&str],
    path: &Path,
    progress: &dyn Progress,
) -> Result<(u64, String), BackupError> {
    let spec = site.spec("pg_dump", args, database);
    let container = site.container();
    let label = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let file = tokio::fs::File::from_std(create_private_file(path).map_err(io("creating", path))?);
    let mut out = tokio::io::BufWriter::with_capacity(1 << 20, file);
    let mut exec = engine.exec(container, &spec).await?;
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    let mut reported = 0u64;
    let mut stderr = StderrTail::new(16 * 1024);
    let bars = progress.layers();
    while let Some(chunk) = exec.output.next().await {
        match chunk? {
            ExecChunk::Stdout(bytes) => {
                hasher.update(&bytes);
                out.write_all(&bytes).await.map_err(io("writing", path))?;
                size += bytes.len() as u64;
                if size - reported >= 1 << 20 {
                    progress.layer(&label, "dumping", Some(size), None);
                    reported = size;
                }
            }
            ExecChunk::Stderr(bytes) => stderr.push(&bytes),
        }
    }
    out.flush().await.map_err(io("writing", path))?;
    out.into_inner()
        .sync_all()
        .await
        .map_err(io("writing", path))?;
    drop(bars);
    let code = engine.exec_exit_code(&exec).await?;
    if code != 0 {
        return Err(BackupError::Command {
            command: exec.label,
            code,
            stderr: stderr.text(),
        });
    }
    Ok((size, format!("{:x}", hasher.finalize())))
}

async fn read_history(
    conn: &mut PgConnection,
    schema: &str,
) -> Result<Vec<HistoryRow>, BackupError> {
    let step = "reading the applied revisions";
    if !store::table_exists(&mut *conn, schema).await.step(step)? {
        return Ok(Vec::new());
    }
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT id, checksum, message, applied_at::text, duration_ms, applied_by FROM {} \
         ORDER BY applied_at, id",
        store::Record::in_schema(schema).qualified()
    )))
    .fetch_all(conn)
    .await
    .step(step)?;
    rows.iter()
        .map(|row| {
            Ok(HistoryRow {
                id: row.try_get(0)?,
                checksum: row.try_get(1)?,
                message: row.try_get(2)?,
                applied_at: row.try_get(3)?,
                duration_ms: row.try_get(4)?,
                applied_by: row.try_get(5)?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .step(step)
        .map_err(BackupError::from)
}

/// Where a database whose record is `recorded` is, by the project's revision files (a
/// database past a squashed chain is at its baseline, as `devdb current` says); every
/// recorded revision when the files cannot be read as a graph. A database partly through a
/// squashed chain is reported as a warning: a backup or restore of it must still succeed.
pub(crate) fn current_revisions(
    project: &Project,
    recorded: BTreeMap<String, String>,
    progress: &dyn Progress,
) -> Vec<String> {
    let Ok(graph) = load_graph(&project.settings.migrations) else {
        return recorded.into_keys().collect();
    };
    let ids: BTreeSet<String> = recorded.keys().cloned().collect();
    match AppliedState::new(&graph, recorded) {
        Ok(state) => state.current(&graph),
        Err(e) => {
            progress.info(&format!("warning: {e}"));
            crate::migrate::current(&graph, &ids)
        }
    }
}

fn write(dir: &Path, name: &str, text: &str) -> Result<(), BackupError> {
    let path = dir.join(name);
    create_private_file(&path)
        .and_then(|mut file| file.write_all(text.as_bytes()))
        .map_err(io("writing", &path))
}

/// Copies the migrations folder (seeds and all) into `dir/migrations`; returns the copied
/// files relative to `dir`, `/`-separated.
fn copy_migrations(source: &Path, dir: &Path) -> Result<Vec<String>, BackupError> {
    let mut copied = Vec::new();
    if !source.is_dir() {
        return Ok(copied);
    }
    let mut pending = vec![(source.to_path_buf(), MIGRATIONS_DIR.to_string())];
    while let Some((from, relative)) = pending.pop() {
        let to = dir.join(&relative);
        create_private_dir(&to).map_err(io("creating", &to))?;
        let entries = std::fs::read_dir(&from).map_err(io("reading", &from))?;
        let mut entries: Vec<_> = entries
            .collect::<Result<_, _>>()
            .map_err(io("reading", &from))?;
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            let child = format!("{relative}/{name}");
            if path.is_dir() {
                pending.push((path, child));
            } else if path.is_file() {
                // Not fs::copy, which would copy the source's permissions too.
                std::fs::File::open(&path)
                    .and_then(|mut from| {
                        let mut to = create_private_file(&dir.join(&child))?;
                        std::io::copy(&mut from, &mut to)
                    })
                    .map_err(io("copying", &path))?;
                copied.push(child);
            }
        }
    }
    copied.sort();
    Ok(copied)
}
