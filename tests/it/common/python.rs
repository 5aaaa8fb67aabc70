//! Python tools a test needs (SQLAlchemy, later Alembic), in a virtual environment the
//! tests make once under the target folder and share: made in a folder of its own, then
//! renamed into place, so parallel test processes never see half of one.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// The packages of the shared environment; its folder name carries their hash, so a
/// change makes a new one.
const PACKAGES: &[&str] = &[
    "SQLAlchemy==2.0.36",
    "psycopg[binary]==3.2.3",
    "psycopg2-binary==2.9.10",
];

/// The `python` of the shared environment, made when missing.
pub fn python() -> PathBuf {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON
        .get_or_init(|| {
            use std::hash::{Hash, Hasher};
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            PACKAGES.hash(&mut hasher);
            let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
            let venv = root.join(format!("venv-{:016x}", hasher.finish()));
            let python = venv.join("bin/python");
            if python.exists() {
                return python;
            }
            let partial = root.join(format!("venv-partial-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&partial);
            run(Command::new("python3").arg("-m").arg("venv").arg(&partial));
            run(Command::new(partial.join("bin/pip"))
                .args(["install", "--quiet", "--disable-pip-version-check"])
                .args(PACKAGES));
            // Its `python` finds the environment by the folder it sits in, so the move is
            // safe (the scripts in bin/ keep the old path: run tools as `python -m`).
            if std::fs::rename(&partial, &venv).is_err() {
                // Another process finished first.
                let _ = std::fs::remove_dir_all(&partial);
            }
            python
        })
        .clone()
}

fn run(command: &mut Command) {
    let output = command.output().expect("running python3");
    assert!(
        output.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}
