//! Backup folders on disk: their names (a UTC timestamp, never reused), the hidden
//! folder a backup is written in and the clean-up of those a killed backup left, the
//! listing of `backup list`, and finding the folder `restore DIR|latest` means.
//!
//! A dump is all the data: folders are made `0700` and files `0600`.

use crate::error::Failure;
use std::fs::{DirBuilder, File, OpenOptions};
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::Serialize;

use super::manifest::{Manifest, check};

/// Folders being written start with this (hidden, and never taken for a backup).
pub(crate) const PARTIAL_PREFIX: &str = ".partial-";

/// `YYYYMMDD_HHMMSS` and RFC 3339 (`YYYY-MM-DDTHH:MM:SSZ`) of `time`, in UTC.
pub(crate) fn backup_name(time: SystemTime) -> (String, String) {
    let rfc3339 = humantime::format_rfc3339_seconds(time).to_string();
    let digits: String = rfc3339.chars().filter(char::is_ascii_digit).collect();
    (format!("{}_{}", &digits[..8], &digits[8..14]), rfc3339)
}

/// `parent/name`, or `parent/name_2`, `_3`... when taken: a backup never replaces another.
pub(crate) fn unique_folder(parent: &Path, name: &str) -> PathBuf {
    let first = parent.join(name);
    if !first.exists() {
        return first;
    }
    (2..)
        .map(|n| parent.join(format!("{name}_{n}")))
        .find(|p| !p.exists())
        .expect("some suffix is free")
}

/// Creates `path` and its missing parents, each only its owner can enter.
pub(crate) fn create_private_dir(path: &Path) -> std::io::Result<()> {
    DirBuilder::new().recursive(true).mode(0o700).create(path)
}

/// Creates (or truncates) the file at `path`, readable by its owner only.
pub(crate) fn create_private_file(path: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
}

/// Serializes starting backups in one backups folder with the clean-up of partial folders,
/// so a partial folder is never seen before its backup holds its lock.
const FOLDER_LOCK: &str = ".devdb-lock";

/// The hidden folder a backup is written in. It stays locked (an exclusive `flock` on the
/// folder itself) while its backup runs, so another backup can tell it from one a killed
/// backup left; it is removed when dropped unless [`PartialFolder::finish`] renamed it.
pub(crate) struct PartialFolder {
    dir: Option<tempfile::TempDir>,
    _lock: File,
}

impl PartialFolder {
    /// Creates `folder/.partial-<name>-<random>` (and `folder` if missing), after removing
    /// the partial folders of backups that are no longer running. Returns it and the
    /// folders it removed.
    pub(crate) fn create(
        folder: &Path,
        name: &str,
    ) -> std::io::Result<(PartialFolder, Vec<PathBuf>)> {
        create_private_dir(folder)?;
        let guard = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(folder.join(FOLDER_LOCK))?;
        guard.lock()?;
        let removed = remove_abandoned(folder)?;
        let dir = tempfile::Builder::new()
            .prefix(&format!("{PARTIAL_PREFIX}{name}-"))
            .tempdir_in(folder)?;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))?;
        let lock = File::open(dir.path())?;
        lock.lock()?;
        drop(guard);
        Ok((
            PartialFolder {
                dir: Some(dir),
                _lock: lock,
            },
            removed,
        ))
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.as_ref().expect("not finished yet").path()
    }

    /// Renames the finished folder to `to`; on failure the folder is removed.
    pub(crate) fn finish(mut self, to: &Path) -> std::io::Result<()> {
        let kept = self.dir.take().expect("not finished yet").keep();
        std::fs::rename(&kept, to).inspect_err(|_| {
            let _ = std::fs::remove_dir_all(&kept);
        })
    }
}

/// Removes the partial folders in `folder` whose backup is gone (nobody holds their lock).
/// Best effort: one that cannot be removed (another user's, say) is left for `backup` to
/// name, and never stops a new backup.
fn remove_abandoned(folder: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut removed = Vec::new();
    for entry in std::fs::read_dir(folder)? {
        let entry = entry?;
        let path = entry.path();
        if !entry
            .file_name()
            .to_string_lossy()
            .starts_with(PARTIAL_PREFIX)
            || !path.is_dir()
        {
            continue;
        }
        let Ok(dir) = File::open(&path) else { continue };
        if dir.try_lock().is_ok() && std::fs::remove_dir_all(&path).is_ok() {
            removed.push(path);
        }
    }
    removed.sort();
    Ok(removed)
}

/// One backup as `backup list` shows it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct BackupSummary {
    pub name: String,
    pub path: PathBuf,
    /// From the manifest; `None` when it has none or cannot be read.
    pub created_at: Option<String>,
    pub size: u64,
    pub server_version: Option<String>,
    pub current: Vec<String>,
    /// `ok`, or what is wrong with it.
    pub status: String,
    pub ok: bool,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum FolderError {
    #[error("cannot read the backups folder {path}: {source}")]
    Unreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the backups folder {folder} does not exist")]
    NoFolder { folder: PathBuf },
    #[error("there are no backups in {folder}")]
    NoBackups { folder: PathBuf },
    #[error("no backup {spec}: neither {} nor {} is a folder", .looked[0].display(), .looked[1].display())]
    NotFound { spec: String, looked: [PathBuf; 2] },
}

impl Failure for FolderError {
    fn hint(&self) -> Option<String> {
        match self {
            FolderError::NoBackups { .. } | FolderError::NotFound { .. } => {
                Some("`devdb backup` makes one; `devdb backup list` shows them".into())
            }
            FolderError::NoFolder { .. } => Some(
                "check the --dir path; `devdb backup --dir FOLDER` makes a backup there".into(),
            ),
            FolderError::Unreadable { .. } => None,
        }
    }
}

/// The backups in `folder`, oldest first; sizes are always checked, checksums when
/// `checksums`. A folder that does not exist holds no backups.
pub(crate) fn list_backups(
    folder: &Path,
    checksums: bool,
) -> Result<Vec<BackupSummary>, FolderError> {
    let unreadable = |source| FolderError::Unreadable {
        path: folder.to_path_buf(),
        source,
    };
    let entries = match std::fs::read_dir(folder) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(unreadable(e)),
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(unreadable)?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with('.') && entry.path().is_dir() {
            names.push(name);
        }
    }
    names.sort();
    Ok(names
        .into_iter()
        .map(|name| summarize(folder.join(&name), name, checksums))
        .collect())
}

fn summarize(path: PathBuf, name: String, checksums: bool) -> BackupSummary {
    let (manifest, status): (Option<Manifest>, String) = match check(&path, checksums) {
        Ok(manifest) => (Some(manifest), "ok".into()),
        Err(e) => (super::read_manifest(&path).ok(), e.to_string()),
    };
    BackupSummary {
        ok: status == "ok",
        created_at: manifest.as_ref().map(|m| m.created_at.clone()),
        size: manifest.as_ref().map_or(0, Manifest::total_size),
        server_version: manifest.as_ref().map(|m| m.server_version.clone()),
        current: manifest.map(|m| m.revisions.current).unwrap_or_default(),
        status,
        name,
        path,
    }
}

/// The folder `restore` means by `spec`: `latest` (the newest backup in `folder` with a
/// readable manifest), a path, or the name of a backup in `folder`.
pub(crate) fn resolve_backup(folder: &Path, spec: &str) -> Result<PathBuf, FolderError> {
    if spec == "latest" {
        return list_backups(folder, false)?
            .into_iter()
            .rev()
            .find(|b| b.created_at.is_some())
            .map(|b| b.path)
            .ok_or_else(|| FolderError::NoBackups {
                folder: folder.to_path_buf(),
            });
    }
    let direct = PathBuf::from(spec);
    if direct.is_dir() {
        return Ok(direct);
    }
    let named = folder.join(spec);
    if named.is_dir() {
        return Ok(named);
    }
    Err(FolderError::NotFound {
        spec: spec.to_string(),
        looked: [direct, named],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn names_are_utc_timestamps() {
        assert_eq!(
            backup_name(UNIX_EPOCH),
            ("19700101_000000".into(), "1970-01-01T00:00:00Z".into())
        );
        // 2024-02-29 23:59:59 UTC, a leap day.
        let leap = UNIX_EPOCH + Duration::from_secs(1_709_251_199);
        assert_eq!(backup_name(leap).0, "20240229_235959");
        let later = UNIX_EPOCH + Duration::from_secs(1_767_323_045);
        assert_eq!(backup_name(later).1, "2026-01-02T03:04:05Z");
    }

    #[test]
    fn taken_names_get_a_suffix() {
        let dir = tempfile::tempdir().unwrap();
        let first = unique_folder(dir.path(), "20250101_000000");
        assert_eq!(first, dir.path().join("20250101_000000"));
        std::fs::create_dir(&first).unwrap();
        let second = unique_folder(dir.path(), "20250101_000000");
        assert_eq!(second, dir.path().join("20250101_000000_2"));
    }

    #[test]
    fn latest_skips_partial_folders_and_folders_without_a_manifest() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            resolve_backup(dir.path(), "latest"),
            Err(FolderError::NoBackups { .. })
        ));
        let make = |name: &str, created: Option<&str>| {
            let path = dir.path().join(name);
            std::fs::create_dir(&path).unwrap();
            if let Some(created) = created {
                let manifest = serde_json::json!({
                    "format": 1, "created_at": created, "devdb_version": "0.1.0",
                    "project": "p", "database": "d", "server_version": "17",
                    "revisions": {"current": [], "applied": []}, "files": []
                });
                std::fs::write(path.join("manifest.json"), manifest.to_string()).unwrap();
            }
        };
        make("20250101_000000", Some("2025-01-01T00:00:00Z"));
        make("20250102_000000", Some("2025-01-02T00:00:00Z"));
        make("20250103_000000", None);
        make(".partial-20250104_000000", Some("2025-01-04T00:00:00Z"));
        let latest = resolve_backup(dir.path(), "latest").unwrap();
        assert_eq!(latest, dir.path().join("20250102_000000"));
        let listed = list_backups(dir.path(), false).unwrap();
        assert_eq!(listed.len(), 3);
        // A manifest without the dump is not a usable backup.
        assert!(!listed[0].ok, "{}", listed[0].status);
        assert!(
            listed[2].status.contains("no manifest.json"),
            "{}",
            listed[2].status
        );
        assert_eq!(
            resolve_backup(dir.path(), "20250101_000000").unwrap(),
            dir.path().join("20250101_000000")
        );
        assert!(resolve_backup(dir.path(), "nope").is_err());
    }

    #[test]
    fn partial_folders_of_running_backups_are_kept_and_abandoned_ones_removed() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("backups");
        let (running, removed) = PartialFolder::create(&folder, "20250101_000000").unwrap();
        assert!(removed.is_empty());
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&folder), 0o700);
        assert_eq!(mode(running.path()), 0o700);
        // What a killed backup leaves: a partial folder nobody holds.
        let abandoned = folder.join(".partial-20240101_000000-abc");
        std::fs::create_dir(&abandoned).unwrap();
        std::fs::write(abandoned.join("database.dump"), "PGDMP").unwrap();

        let (second, removed) = PartialFolder::create(&folder, "20250101_000001").unwrap();
        assert_eq!(removed, [abandoned]);
        assert!(running.path().is_dir(), "a running backup's folder is kept");
        let finished = folder.join("20250101_000001");
        second.finish(&finished).unwrap();
        assert!(finished.is_dir());
        let path = running.path().to_path_buf();
        drop(running);
        assert!(!path.exists());
    }
}
