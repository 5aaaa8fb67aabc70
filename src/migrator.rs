//! [`Migrator`], the library's way to migrate a database at start-up: which revisions
//! (a folder, or files embedded with [`embed_migrations!`](crate::embed_migrations)),
//! where their record is, whether runs take the migration lock, and how far to go.
//!
//! It drives the same runner as `devdb migrate`, with the same record table and the same
//! advisory lock, so the command line and an application agree on what is applied and
//! their runs serialise with each other.

use std::path::{Path, PathBuf};

use crate::migrate::file::{EmptyUp, parse_files};
use crate::migrate::store;
use crate::migrate::{MigrateError, MigrateReport, RevisionGraph, Target, UpgradeOptions};
use crate::pg::{DatabaseUrl, Step};

/// Revision files compiled into the binary by [`embed_migrations!`](crate::embed_migrations):
/// each file's name and text, in file-name order, and the folder they came from (which
/// names them in messages, as a folder run would).
#[derive(Debug, Clone, Copy)]
pub struct EmbeddedMigrations {
    dir: &'static str,
    files: &'static [(&'static str, &'static str)],
}

impl EmbeddedMigrations {
    /// What `embed_migrations!` expands to; not for calling by hand.
    #[doc(hidden)]
    pub const fn __from_macro(
        dir: &'static str,
        files: &'static [(&'static str, &'static str)],
    ) -> EmbeddedMigrations {
        EmbeddedMigrations { dir, files }
    }

    /// The folder the files were embedded from, as written in the macro call.
    pub fn dir(&self) -> &'static str {
        self.dir
    }

    /// The embedded files: name and text, in file-name order.
    pub fn files(&self) -> &'static [(&'static str, &'static str)] {
        self.files
    }

    fn graph(&self) -> Result<RevisionGraph, MigrateError> {
        let files = self
            .files
            .iter()
            .map(|(name, text)| Ok((Path::new(self.dir).join(name), *text)));
        let revisions = parse_files(files, self.files.len(), EmptyUp::MergesOnly)?;
        Ok(RevisionGraph::new(revisions)?)
    }
}

#[derive(Debug, Clone)]
enum Source {
    Dir(PathBuf),
    Embedded(EmbeddedMigrations),
}

/// Migrates a database to a target (the single head unless told otherwise), applying
/// each revision once even when several processes run it at the same time.
///
/// ```no_run
/// # async fn start() -> Result<(), Box<dyn std::error::Error>> {
/// // Or Migrator::embedded(devdb::embed_migrations!("migrations")), the files compiled in.
/// let report = devdb::Migrator::from_dir("migrations")
///     .record_schema("app_meta")
///     .run_url(&std::env::var("DATABASE_URL")?)
///     .await?;
/// for revision in &report.applied {
///     println!("applied {} {}", revision.id, revision.message);
/// }
/// # Ok(())
/// # }
/// ```
///
/// A run refuses, applying nothing, when the record table is missing from the configured
/// schema but the database has devdb's record in another schema: a run with the wrong
/// `record_schema` would otherwise apply every revision again.
#[derive(Debug, Clone)]
pub struct Migrator {
    source: Source,
    schema: String,
    table: String,
    lock: bool,
    target: String,
}

impl Migrator {
    /// The revision files in `dir`, read when the migrator runs (relative paths are
    /// relative to the process's working directory).
    pub fn from_dir(dir: impl Into<PathBuf>) -> Migrator {
        Migrator::of(Source::Dir(dir.into()))
    }

    /// Revision files compiled into the binary with
    /// [`embed_migrations!`](crate::embed_migrations).
    pub fn embedded(migrations: EmbeddedMigrations) -> Migrator {
        Migrator::of(Source::Embedded(migrations))
    }

    fn of(source: Source) -> Migrator {
        Migrator {
            source,
            schema: "public".to_owned(),
            table: store::TABLE.to_owned(),
            lock: true,
            target: "head".to_owned(),
        }
    }

    /// The schema of the record table (default `public`); the command line's
    /// `x-devdb.record_schema`. Created when missing.
    pub fn record_schema(mut self, schema: impl Into<String>) -> Migrator {
        self.schema = schema.into();
        self
    }

    /// The name of the record table (default `devdb_revisions`, the only one the command
    /// line reads).
    pub fn record_table(mut self, table: impl Into<String>) -> Migrator {
        self.table = table.into();
        self
    }

    /// Whether a run holds the record table's session advisory lock (default on), so
    /// concurrent runs (replicas starting together, or `devdb migrate`) wait for each
    /// other and apply each revision once. Turn it off only when the caller serialises
    /// runs itself, or behind a pooler in transaction mode, where session locks do not hold.
    pub fn lock(mut self, lock: bool) -> Migrator {
        self.lock = lock;
        self
    }

    /// How far to migrate: `head` (the default: the single head), `heads`, `+N`, or a
    /// revision id or unique prefix of one.
    pub fn target(mut self, target: impl Into<String>) -> Migrator {
        self.target = target.into();
        self
    }

    /// Reads the revisions into their graph, checking it as a run does.
    pub fn graph(&self) -> Result<RevisionGraph, MigrateError> {
        match &self.source {
            Source::Dir(dir) => crate::migrate::load_graph(dir),
            Source::Embedded(embedded) => embedded.graph(),
        }
    }

    /// Migrates the database behind `pool`, on a connection taken out of it and closed
    /// afterwards (the pool opens another when it needs one): a run cancelled half-way
    /// must not hand the pool a session that still holds the migration lock.
    pub async fn run(&self, pool: &sqlx::PgPool) -> Result<MigrateReport, MigrateError> {
        let target = self.parsed_target()?;
        let graph = self.graph()?;
        let mut conn = pool.acquire().await.step("connecting")?.detach();
        let report = self.run_on(&mut conn, &graph, &target).await;
        let _ = sqlx::Connection::close(conn).await;
        report
    }

    /// Migrates the database at `url` (any form `devdb --database-url` takes), on a
    /// connection of its own that is closed afterwards. As with libpq, `PGPASSWORD` and
    /// `PGSSLMODE`, `PGSSLROOTCERT`, `PGSSLCERT`, `PGSSLKEY` fill in what the URL leaves
    /// out, so the password can stay out of the URL.
    pub async fn run_url(&self, url: &str) -> Result<MigrateReport, MigrateError> {
        let target = self.parsed_target()?;
        let graph = self.graph()?;
        let database = DatabaseUrl::parse(url)?
            .with_libpq_environment(url, |name| std::env::var(name).ok())?;
        let mut conn = database.connect().await?;
        let report = self.run_on(&mut conn, &graph, &target).await;
        let _ = sqlx::Connection::close(conn).await;
        report
    }

    fn parsed_target(&self) -> Result<Target, MigrateError> {
        let target: Target = self.target.parse()?;
        target.check_direction("migrate")?;
        Ok(target)
    }

    async fn run_on(
        &self,
        conn: &mut sqlx::PgConnection,
        graph: &RevisionGraph,
        target: &Target,
    ) -> Result<MigrateReport, MigrateError> {
        crate::migrate::Migrator {
            graph,
            schema: &self.schema,
            table: &self.table,
            lock: self.lock,
            progress: &crate::progress::Silent,
        }
        .upgrade(conn, target, &UpgradeOptions::default())
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Failure;
    use crate::migrate::file::FileError;

    /// The lean app's revisions, embedded and read from the folder.
    static LEAN: EmbeddedMigrations = crate::embed_migrations!("tests/lean-app/migrations");

    #[test]
    fn embedded_files_parse_as_the_folder_does() {
        let embedded = Migrator::embedded(LEAN).graph().unwrap();
        let folder = Migrator::from_dir("tests/lean-app/migrations")
            .graph()
            .unwrap();
        let summary = |graph: &RevisionGraph| {
            graph
                .revisions()
                .iter()
                .map(|r| (r.id.clone(), r.checksum.clone(), r.path.clone(), r.up_line))
                .collect::<Vec<_>>()
        };
        assert_eq!(summary(&embedded), summary(&folder));
        assert_eq!(embedded.revisions().len(), 2);
        assert_eq!(
            embedded.revisions()[0].path,
            Path::new("tests/lean-app/migrations/0001_authors.sql")
        );
        assert_eq!(LEAN.dir(), "tests/lean-app/migrations");
        assert_eq!(
            LEAN.files()
                .iter()
                .map(|(name, _)| *name)
                .collect::<Vec<_>>(),
            ["0001_authors.sql", "0002_books.sql"]
        );
    }

    #[test]
    fn embedded_files_give_the_folder_errors() {
        const TEXT: &str = "-- devdb:revision 0001\n-- devdb:message a\n\n-- devdb:up\nSELECT 1;\n";
        static TWICE: EmbeddedMigrations =
            EmbeddedMigrations::__from_macro("migrations", &[("a.sql", TEXT), ("b.sql", TEXT)]);
        let error = Migrator::embedded(TWICE).graph().unwrap_err();
        let MigrateError::Files(FileError::DuplicateRevision { id, first, second }) = &error else {
            panic!("{error:?}");
        };
        assert_eq!(id, "0001");
        assert_eq!(first, Path::new("migrations/a.sql"));
        assert_eq!(second, Path::new("migrations/b.sql"));
        assert!(error.hint().is_some());

        static BROKEN: EmbeddedMigrations =
            EmbeddedMigrations::__from_macro("migrations", &[("a.sql", "SELECT 1;\n")]);
        let error = Migrator::embedded(BROKEN).graph().unwrap_err();
        assert!(error.to_string().contains("migrations/a.sql"), "{error}");
    }

    #[test]
    fn the_builder_defaults_to_the_command_line_record_under_the_lock() {
        let migrator = Migrator::embedded(LEAN);
        assert_eq!(migrator.schema, "public");
        assert_eq!(migrator.table, "devdb_revisions");
        assert!(migrator.lock);
        assert_eq!(migrator.parsed_target().unwrap(), Target::Head);
        let migrator = migrator
            .record_schema("app_meta")
            .record_table("revisions")
            .lock(false)
            .target("0001");
        assert_eq!(
            (migrator.schema.as_str(), migrator.table.as_str()),
            ("app_meta", "revisions")
        );
        assert!(!migrator.lock);
        assert_eq!(
            migrator.parsed_target().unwrap(),
            Target::Revision("0001".into())
        );
        let error = Migrator::embedded(LEAN)
            .target("-1")
            .parsed_target()
            .unwrap_err();
        assert!(error.to_string().contains("-1"), "{error}");
    }
}
