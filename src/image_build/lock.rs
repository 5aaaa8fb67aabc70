//! A cross-process lock per image tag, so that of many devdb processes (parallel tests,
//! several terminals) that find an image missing, only one builds it.

use std::fs::{File, OpenOptions, TryLockError};
use std::io;
use std::path::PathBuf;

use super::ImageBuildError;
use crate::progress::Progress;

/// Held while building one tag; the lock is released when this is dropped (or the process
/// dies: the operating system releases it).
#[derive(Debug)]
pub(crate) struct BuildLock {
    _file: File,
}

impl BuildLock {
    /// Takes the lock for `tag`, waiting (with a progress message) while another process
    /// holds it.
    pub(crate) async fn acquire(
        tag: &str,
        progress: &dyn Progress,
    ) -> Result<Self, ImageBuildError> {
        let path = lock_path(tag);
        let lock_error = |source| ImageBuildError::Lock {
            path: path.clone(),
            source,
        };
        let file = open(&path).map_err(lock_error)?;
        match file.try_lock() {
            Ok(()) => return Ok(BuildLock { _file: file }),
            Err(TryLockError::WouldBlock) => {}
            Err(TryLockError::Error(source)) => return Err(lock_error(source)),
        }
        let waiting = progress.wait(&format!("waiting for another devdb process to build {tag}"));
        let locked = tokio::task::spawn_blocking(move || file.lock().map(|()| file))
            .await
            .unwrap_or_else(|join_error| Err(io::Error::other(join_error)));
        drop(waiting);
        locked
            .map(|file| BuildLock { _file: file })
            .map_err(lock_error)
    }
}

/// The lock file is never removed: removing it would let a newcomer lock a fresh file while
/// an older process still holds the old one.
fn lock_path(tag: &str) -> PathBuf {
    let name: String = tag
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    std::env::temp_dir().join(format!("devdb-image-build-{name}.lock"))
}

/// Locking needs only a readable file; fall back to reading when another user created it.
fn open(path: &PathBuf) -> io::Result<File> {
    match OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
    {
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => File::open(path),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::Silent;

    #[test]
    fn the_lock_file_is_named_after_the_tag() {
        let path = lock_path("devdb/postgres:17");
        assert_eq!(
            path.file_name().unwrap(),
            "devdb-image-build-devdb_postgres_17.lock"
        );
    }

    #[tokio::test]
    async fn a_held_lock_excludes_other_holders_until_dropped() {
        let tag = format!("devdb-lock-test/{}:x", std::process::id());
        let held = BuildLock::acquire(&tag, &Silent).await.unwrap();
        let other = open(&lock_path(&tag)).unwrap();
        assert!(matches!(other.try_lock(), Err(TryLockError::WouldBlock)));
        drop(held);
        assert!(other.try_lock().is_ok());
        drop(other);
        let _ = std::fs::remove_file(lock_path(&tag));
    }
}
