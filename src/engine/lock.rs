//! A lock that serialises `up` of one project on one engine, so that several at once (CI
//! jobs sharing a machine, a test suite, a developer's two terminals) make one container,
//! one volume and one network, and the runs that wait reuse them.
//!
//! The engine offers no lock of its own that survives a killed devdb: a lock container
//! (whose create is atomic) stays behind when its holder dies, and every waiter would then
//! have to guess when it is stale. An advisory lock (`flock`) on a file of this host is
//! released by the kernel when its holder exits, however it exits. It serialises the devdbs
//! of one user on one machine against one engine, which is where concurrent `up`s of one
//! project come from. It does not reach other users or machines sharing an engine; there
//! only the engine's own checks are left (Docker 25 and later refuse a duplicate network,
//! and a container name is always taken once).

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{Engine, EngineError};
use crate::progress::Progress;

/// How often a waiting `up` tries the lock again.
const POLL: Duration = Duration::from_millis(100);

/// Held while one `up` of a project runs; dropping it lets the next one in.
#[derive(Debug)]
pub struct ProjectLock {
    _file: File,
}

impl Engine {
    /// Waits until no other devdb of this user brings `project` up on this engine, then
    /// holds it off until the returned lock is dropped. Cancelling the future stops the wait.
    pub async fn lock_project(
        &self,
        project: &str,
        progress: &dyn Progress,
    ) -> Result<ProjectLock, EngineError> {
        let (path, file) = open_lock_file(&self.endpoint.host, project)?;
        let mut waiting = None;
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(TryLockError::WouldBlock) => {}
                Err(TryLockError::Error(e)) => {
                    return Err(EngineError::Lock {
                        path: path.display().to_string(),
                        reason: e.to_string(),
                    });
                }
            }
            if waiting.is_none() {
                waiting = Some(progress.wait(&format!(
                    "waiting for another devdb bringing project {project} up"
                )));
            }
            tokio::time::sleep(POLL).await;
        }
        drop(waiting);
        Ok(ProjectLock { _file: file })
    }
}

/// Opens (creating it) the lock file of `project` on the engine at `host`, in the first of
/// the user's runtime dir, cache dir, `~/.cache` and the temporary dir where that works (a
/// CI job may have a read-only home).
fn open_lock_file(host: &str, project: &str) -> Result<(PathBuf, File), EngineError> {
    let env_dir = |key: &str| {
        std::env::var_os(key)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let bases = [
        env_dir("XDG_RUNTIME_DIR"),
        env_dir("XDG_CACHE_HOME"),
        env_dir("HOME").map(|home| home.join(".cache")),
        Some(std::env::temp_dir()),
    ];
    let mut last_error = None;
    for base in bases.into_iter().flatten() {
        let path = lock_path(&base, host, project);
        let opened = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| {
                OpenOptions::new()
                    .create(true)
                    .truncate(false)
                    .write(true)
                    .open(&path)
            });
        match opened {
            Ok(file) => return Ok((path, file)),
            Err(e) => last_error = Some((path, e)),
        }
    }
    let (path, reason) = last_error.expect("the temporary dir is always a candidate");
    Err(EngineError::Lock {
        path: path.display().to_string(),
        reason: reason.to_string(),
    })
}

/// `<base>/devdb/locks/<digest of engine and project>.lock`: one file per project and
/// engine (a project name may hold characters a file name cannot).
fn lock_path(base: &Path, host: &str, project: &str) -> PathBuf {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!("{host}\n{project}"));
    let key: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    base.join("devdb").join("locks").join(format!("{key}.lock"))
}

#[cfg(test)]
mod tests {
    use super::lock_path;
    use std::path::Path;

    #[test]
    fn one_file_per_engine_and_project() {
        let base = Path::new("/run/user/1000");
        let a = lock_path(base, "unix:///var/run/docker.sock", "shop");
        assert_eq!(a, lock_path(base, "unix:///var/run/docker.sock", "shop"));
        assert_ne!(a, lock_path(base, "unix:///var/run/docker.sock", "shop2"));
        assert_ne!(a, lock_path(base, "tcp://10.0.0.5:2375", "shop"));
        assert!(a.starts_with("/run/user/1000/devdb/locks"));
        assert!(a.to_string_lossy().ends_with(".lock"));
    }
}
