//! What every benchmark needs: the image to run, the devdb and docker commands, and medians.
//! Each benchmark uses a part of it.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

/// Runs a command to success and returns its trimmed standard output.
pub fn run(command: &mut Command) -> String {
    let output = command.output().expect("a command");
    assert!(
        output.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// The devdb binary for one project in `dir`, on [`image`].
pub fn devdb(dir: &Path, project: &str, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_devdb"));
    command
        .current_dir(dir)
        .args(["-p", project])
        .args(args)
        .env("DEVDB_IMAGE", image());
    command
}

pub fn docker(args: &[&str]) -> Command {
    let mut command = Command::new("docker");
    command.args(args);
    command
}

/// `DEVDB_IMAGE`, else `postgres:17` when the engine has it, else `devdb/postgres:17`;
/// looked up once per process (`docker image inspect` is not for a timed region).
pub fn image() -> String {
    static IMAGE: OnceLock<String> = OnceLock::new();
    IMAGE
        .get_or_init(|| {
            std::env::var("DEVDB_IMAGE").unwrap_or_else(|_| {
                if docker(&["image", "inspect", "postgres:17"])
                    .output()
                    .is_ok_and(|o| o.status.success())
                {
                    "postgres:17".into()
                } else {
                    "devdb/postgres:17".into()
                }
            })
        })
        .clone()
}

/// A number from the environment (rounds, clones), or `default`.
pub fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

pub fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// Writes `text` to `relative` under `dir`, creating its folders.
pub fn write_file(dir: &Path, relative: &str, text: &str) {
    let path = dir.join(relative);
    std::fs::create_dir_all(path.parent().expect("a parent folder")).expect("the folders");
    std::fs::write(path, text).expect("the file");
}

/// A compose file with one Postgres service `db` on `image`, its data on a named volume,
/// and `extra` appended (an `x-devdb:` block).
pub fn compose_file(image: &str, extra: &str) -> String {
    format!(
        "services:\n  db:\n    image: {image}\n    environment:\n      POSTGRES_PASSWORD: bench\n    ports:\n      - \"127.0.0.1::5432\"\n    volumes:\n      - pgdata:/var/lib/postgresql/data\nvolumes:\n  pgdata:\n{extra}"
    )
}
