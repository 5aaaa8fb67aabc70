//! Backup folders: what one holds, its manifest of checksums, how folders are named and
//! found again. The pure part of `backup`, `backup list` and `restore`: nothing here talks
//! to Docker or Postgres (that is [`crate::ops::backup`] and [`crate::ops::restore`]).
//!
//! A backup is a folder `<backups>/<YYYYMMDD_HHMMSS>/` (UTC) holding:
//!
//! - `database.dump`: `pg_dump -Fc` of the whole database, taken inside the container;
//! - `schema.sql`: `pg_dump --schema-only`, to read and diff;
//! - `migrations/`: a copy of the revision files as they were;
//! - `history.json`: the rows of devdb's record table (applied revisions);
//! - `current.txt`: the revision(s) the database was at, one a line (`base` when none);
//! - `manifest.json`: every other file's size and SHA-256, the Postgres version and the
//!   revisions. A restore checks every file against it before it changes anything, and
//!   takes which database the backup holds from the dump's own table of contents.
//!
//! The dump, the schema and the history are read in one snapshot, so they agree.

mod dump;
mod folder;
mod manifest;

pub(crate) use dump::{DumpDatabase, DumpError, read_dump_database};

pub(crate) use folder::{
    FolderError, PartialFolder, backup_name, create_private_dir, create_private_file, list_backups,
    resolve_backup, unique_folder,
};
pub(crate) use manifest::{
    CURRENT_FILE, DUMP_FILE, FORMAT, HISTORY_FILE, MANIFEST_FILE, MIGRATIONS_DIR, Manifest,
    ManifestFile, ManifestRevisions, SCHEMA_FILE, VerifyError, file_entry, read_manifest, verify,
};
