//! `manifest.json`: what a backup holds and the size and SHA-256 of each file, and the check
//! a restore runs before it changes anything.

use crate::error::Failure;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub(crate) const MANIFEST_FILE: &str = "manifest.json";
pub(crate) const DUMP_FILE: &str = "database.dump";
pub(crate) const SCHEMA_FILE: &str = "schema.sql";
pub(crate) const HISTORY_FILE: &str = "history.json";
pub(crate) const CURRENT_FILE: &str = "current.txt";
pub(crate) const MIGRATIONS_DIR: &str = "migrations";
/// The manifest layout this devdb writes and reads.
pub(crate) const FORMAT: u32 = 1;

/// The contents of `manifest.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Manifest {
    pub format: u32,
    /// When the backup was taken, RFC 3339 in UTC.
    pub created_at: String,
    pub devdb_version: String,
    pub project: String,
    pub database: String,
    /// `SHOW server_version` of the server the dump came from.
    pub server_version: String,
    pub revisions: ManifestRevisions,
    pub files: Vec<ManifestFile>,
}

/// Where the database was when the backup was taken.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub(crate) struct ManifestRevisions {
    /// The applied revisions no applied revision descends from; empty at base.
    pub current: Vec<String>,
    /// Every applied revision recorded in the database.
    pub applied: Vec<String>,
}

/// One file of the backup, relative to its folder with `/` separators.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ManifestFile {
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

impl Manifest {
    /// The sum of the files' sizes.
    pub(crate) fn total_size(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }
}

/// A backup that cannot be trusted, found before anything was changed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum VerifyError {
    #[error("{dir} is not a devdb backup: it has no {MANIFEST_FILE}")]
    NoManifest { dir: PathBuf },
    #[error("{path} is not a valid manifest: {reason}")]
    BadManifest { path: PathBuf, reason: String },
    #[error(
        "backup {dir} is damaged: {}",
        crate::listing::few_with(problems, "; ", None)
    )]
    Damaged { dir: PathBuf, problems: Vec<String> },
}

impl Failure for VerifyError {
    fn hint(&self) -> Option<String> {
        Some(super::dump::RESTORE_NOTHING_CHANGED.into())
    }
}

/// Size and lowercase hex SHA-256 of a file, read in 1 MiB pieces.
pub(crate) fn hash_file(path: &Path) -> std::io::Result<(u64, String)> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        size += n as u64;
    }
    Ok((size, format!("{:x}", hasher.finalize())))
}

/// The manifest entry of `relative` inside `dir`.
pub(crate) fn file_entry(dir: &Path, relative: &str) -> std::io::Result<ManifestFile> {
    let (size, sha256) = hash_file(&dir.join(relative))?;
    Ok(ManifestFile {
        path: relative.to_string(),
        size,
        sha256,
    })
}

/// Reads and parses `dir/manifest.json`, without checking the files.
pub(crate) fn read_manifest(dir: &Path) -> Result<Manifest, VerifyError> {
    let path = dir.join(MANIFEST_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(VerifyError::NoManifest {
                dir: dir.to_path_buf(),
            });
        }
        Err(e) => {
            return Err(VerifyError::BadManifest {
                path,
                reason: e.to_string(),
            });
        }
    };
    let manifest: Manifest = serde_json::from_str(&text).map_err(|e| VerifyError::BadManifest {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    if manifest.format != FORMAT {
        return Err(VerifyError::BadManifest {
            path,
            reason: format!(
                "format {} is not one this devdb reads ({FORMAT}); use the devdb that wrote it",
                manifest.format
            ),
        });
    }
    Ok(manifest)
}

/// Checks every file the manifest lists (size, then SHA-256) and that the dump is among
/// them. Reports every problem at once.
pub(crate) fn verify(dir: &Path) -> Result<Manifest, VerifyError> {
    check(dir, true)
}

/// [`verify`], with the SHA-256 of each file only when `checksums` (sizes are always
/// checked: quick enough for `backup list`).
pub(crate) fn check(dir: &Path, checksums: bool) -> Result<Manifest, VerifyError> {
    let manifest = read_manifest(dir)?;
    let mut problems = Vec::new();
    if !manifest.files.iter().any(|f| f.path == DUMP_FILE) {
        problems.push(format!("the manifest lists no {DUMP_FILE}"));
    }
    for entry in &manifest.files {
        if !is_inside(&entry.path) {
            problems.push(format!("{}: a path outside the backup folder", entry.path));
            continue;
        }
        let path = dir.join(&entry.path);
        match std::fs::metadata(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                problems.push(format!("{}: missing", entry.path));
                continue;
            }
            Err(e) => {
                problems.push(format!("{}: {e}", entry.path));
                continue;
            }
            Ok(meta) if meta.len() != entry.size => {
                problems.push(format!(
                    "{}: {} bytes, the manifest says {}",
                    entry.path,
                    meta.len(),
                    entry.size
                ));
                continue;
            }
            Ok(_) if !checksums => continue,
            Ok(_) => {}
        }
        match hash_file(&path) {
            Ok((_, sha256)) if sha256 == entry.sha256 => {}
            Ok(_) => problems.push(format!(
                "{}: checksum differs from the manifest",
                entry.path
            )),
            Err(e) => problems.push(format!("{}: {e}", entry.path)),
        }
    }
    if problems.is_empty() {
        Ok(manifest)
    } else {
        Err(VerifyError::Damaged {
            dir: dir.to_path_buf(),
            problems,
        })
    }
}

/// A relative path that stays inside the folder: a tampered manifest must not make a
/// restore read elsewhere.
fn is_inside(relative: &str) -> bool {
    let path = Path::new(relative);
    !relative.is_empty()
        && path
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(dir: &Path) -> Manifest {
        std::fs::write(dir.join(DUMP_FILE), b"PGDMP fake dump").unwrap();
        std::fs::create_dir(dir.join(MIGRATIONS_DIR)).unwrap();
        std::fs::write(dir.join("migrations/0001_a.sql"), b"-- devdb:revision 0001").unwrap();
        let manifest = Manifest {
            format: FORMAT,
            created_at: "2025-01-02T03:04:05Z".into(),
            devdb_version: "0.1.0".into(),
            project: "demo".into(),
            database: "app".into(),
            server_version: "17.2".into(),
            revisions: ManifestRevisions {
                current: vec!["0001".into()],
                applied: vec!["0001".into()],
            },
            files: vec![
                file_entry(dir, DUMP_FILE).unwrap(),
                file_entry(dir, "migrations/0001_a.sql").unwrap(),
            ],
        };
        std::fs::write(
            dir.join(MANIFEST_FILE),
            serde_json::to_string_pretty(&manifest).unwrap(),
        )
        .unwrap();
        manifest
    }

    #[test]
    fn an_intact_backup_verifies() {
        let dir = tempfile::tempdir().unwrap();
        let manifest = sample(dir.path());
        assert_eq!(verify(dir.path()).unwrap(), manifest);
        assert_eq!(manifest.total_size(), 15 + 22);
        assert_eq!(
            manifest.files[0].sha256,
            format!("{:x}", Sha256::digest(b"PGDMP fake dump"))
        );
    }

    #[test]
    fn every_damage_is_named() {
        let dir = tempfile::tempdir().unwrap();
        sample(dir.path());
        std::fs::write(dir.path().join(DUMP_FILE), b"PGDMP fake dumq").unwrap();
        std::fs::remove_file(dir.path().join("migrations/0001_a.sql")).unwrap();
        let err = verify(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("database.dump: checksum differs from the manifest"),
            "{err}"
        );
        assert!(err.contains("migrations/0001_a.sql: missing"), "{err}");

        std::fs::write(dir.path().join(DUMP_FILE), b"PGDMP").unwrap();
        let err = verify(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("database.dump: 5 bytes, the manifest says 15"),
            "{err}"
        );
    }

    #[test]
    fn a_missing_or_broken_manifest_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            verify(dir.path()),
            Err(VerifyError::NoManifest { .. })
        ));
        std::fs::write(dir.path().join(MANIFEST_FILE), "{\"format\": 1").unwrap();
        assert!(matches!(
            verify(dir.path()),
            Err(VerifyError::BadManifest { .. })
        ));
    }

    #[test]
    fn manifest_paths_stay_inside_the_folder() {
        assert!(is_inside("database.dump"));
        assert!(is_inside("migrations/0001_a.sql"));
        assert!(!is_inside("../secrets"));
        assert!(!is_inside("/etc/passwd"));
        assert!(!is_inside(""));
    }
}
