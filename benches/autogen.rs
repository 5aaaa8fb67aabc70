//! Benchmark: `devdb new --autogenerate` on the realistic project of the snapshot test
//! (`tests/fixtures/autogen/realistic/`: head.sql as the one migration, declared.sql as the
//! declarative schema), against its floor measured in the same run on the same server: psql
//! inside the container creating two databases, loading head.sql into one and declared.sql
//! into the other, and dropping both. devdb does that work too (through the migration
//! runner), then reads both catalogs and writes the difference. The goal is a median under
//! 2 s.
//!
//! Run with `cargo bench --bench autogen`; `DEVDB_BENCH_ROUNDS` sets the rounds (default 7).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{devdb, env_number, image, median, run};

const GOAL: Duration = Duration::from_secs(2);

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/autogen/realistic")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn write_project(dir: &Path, image: &str) {
    let write = |relative: &str, text: &str| common::write_file(dir, relative, text);
    write(
        "compose/compose.yaml",
        &common::compose_file(image, "x-devdb:\n  schema: ../schema.sql\n"),
    );
    write(
        "migrations/0001_head.sql",
        &format!(
            "-- devdb:revision 0001\n-- devdb:message head\n\n-- devdb:up\n{}\n",
            fixture("head.sql")
        ),
    );
    write("schema.sql", &fixture("declared.sql"));
}

/// The floor's script: two databases, each schema loaded into one in one transaction
/// (as devdb does; psql would otherwise commit every statement), both dropped.
fn floor_script() -> String {
    format!(
        "CREATE DATABASE floor_head;\nCREATE DATABASE floor_declared;\n\
         \\c floor_head\nBEGIN;\n{}\nCOMMIT;\n\\c floor_declared\nBEGIN;\n{}\nCOMMIT;\n\\c postgres\n\
         DROP DATABASE floor_head;\nDROP DATABASE floor_declared;\n",
        fixture("head.sql"),
        fixture("declared.sql")
    )
}

/// psql inside the project's container, reading the script from its standard input.
fn floor(container: &str, script: &Path) -> Command {
    let mut command = Command::new("docker");
    command
        .args([
            "exec", "-i", container, "psql", "-U", "postgres", "-d", "postgres",
        ])
        .args(["-q", "-v", "ON_ERROR_STOP=1", "-f", "-"])
        .stdin(Stdio::from(
            std::fs::File::open(script).expect("the script"),
        ))
        .stdout(Stdio::null());
    command
}

fn main() {
    let rounds = env_number("DEVDB_BENCH_ROUNDS", 7);
    let dir = tempfile::tempdir().unwrap();
    write_project(dir.path(), &image());
    let project = format!("devdb-bench-autogen-{}", std::process::id());
    run(&mut devdb(dir.path(), &project, &["up", "--no-migrate"]));
    let container = format!("{project}-db-1");
    let script = dir.path().join("floor.sql");
    std::fs::write(&script, floor_script()).unwrap();
    let migrations = dir.path().join("migrations");

    let (mut ours, mut floors) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let started = Instant::now();
        run(&mut floor(&container, &script));
        floors.push(started.elapsed());

        let started = Instant::now();
        run(&mut devdb(
            dir.path(),
            &project,
            &["new", "--autogenerate", "-m", "realistic step"],
        ));
        ours.push(started.elapsed());
        // Back to the one migration, so every round generates the same revision.
        for entry in std::fs::read_dir(&migrations).unwrap() {
            let path = entry.unwrap().path();
            if !path.ends_with("0001_head.sql") {
                std::fs::remove_file(path).unwrap();
            }
        }
    }
    let (ours, floor) = (median(ours), median(floors));
    println!(
        "{rounds} rounds, medians: new --autogenerate {} ms   floor (2 databases loaded by psql) {} ms   ratio {:.2}   {} the {} s goal",
        ours.as_millis(),
        floor.as_millis(),
        ours.as_secs_f64() / floor.as_secs_f64(),
        if ours < GOAL { "under" } else { "NOT under" },
        GOAL.as_secs()
    );
    run(&mut devdb(
        dir.path(),
        &project,
        &["down", "--volumes", "--yes"],
    ));
}
