//! A lock that serialises `up` of one project on one engine, so that several at once (CI
//! jobs sharing a machine, a test suite, a developer's two terminals) make one container,
//! one volume and one network, and the runs that wait reuse them.
//!
//! The engine offers no lock of its own that survives a killed devdb: a lock container
//! (whose create is atomic) stays behind when its holder dies, and every waiter would then
//! have to guess when it is stale. An advisory lock (`flock`) on a file of this host is
//! released by the kernel when its holder exits, however it exits. It serialises the devdbs
//! of one user on one machine against one engine, which is where concurrent `up`s of one
//! project come from; the engine operations stay tolerant of a race anyway (a network is
//! found by name before it is made, a 409 on create means someone else made it).

use std::fs::{File, OpenOptions, TryLockError};
use std::path::PathBuf;
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
        let path = lock_path(&self.host, project);
        let failed = |reason: std::io::Error| EngineError::Lock {
            path: path.display().to_string(),
            reason: reason.to_string(),
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(failed)?;
        }
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(failed)?;
        let mut waiting = false;
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(TryLockError::WouldBlock) => {}
                Err(TryLockError::Error(e)) => return Err(failed(e)),
            }
            if !waiting {
                waiting = true;
                progress.wait_start(&format!(
                    "waiting for another devdb bringing project {project} up"
                ));
            }
            tokio::time::sleep(POLL).await;
        }
        if waiting {
            progress.wait_end();
        }
        Ok(ProjectLock { _file: file })
    }
}

/// `<runtime or cache dir>/devdb/locks/<digest of engine and project>.lock`: private to
/// the user, and one file per project and engine (a project name may hold any character a
/// file name cannot).
fn lock_path(host: &str, project: &str) -> PathBuf {
    use sha2::Digest;
    let env_dir = |key: &str| {
        std::env::var_os(key)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let base = env_dir("XDG_RUNTIME_DIR")
        .or_else(|| env_dir("XDG_CACHE_HOME"))
        .or_else(|| env_dir("HOME").map(|home| home.join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    let digest = sha2::Sha256::digest(format!("{host}\n{project}"));
    let key: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    base.join("devdb").join("locks").join(format!("{key}.lock"))
}

#[cfg(test)]
mod tests {
    use super::lock_path;

    #[test]
    fn one_file_per_engine_and_project() {
        let a = lock_path("unix:///var/run/docker.sock", "shop");
        assert_eq!(a, lock_path("unix:///var/run/docker.sock", "shop"));
        assert_ne!(a, lock_path("unix:///var/run/docker.sock", "shop2"));
        assert_ne!(a, lock_path("tcp://10.0.0.5:2375", "shop"));
        assert!(a.to_string_lossy().ends_with(".lock"));
    }
}
