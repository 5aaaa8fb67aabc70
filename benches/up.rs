//! Benchmark: cold `devdb up` (no container, no volume) and warm `devdb up` (a stopped
//! container) against their floors measured in the same run: `docker network create`,
//! `docker volume create` and `docker run` (or `docker start`) of the same image, plus a SQL
//! poll every 10 ms. Prints medians and ratios.
//!
//! Run with `cargo bench --bench up`; `DEVDB_BENCH_ROUNDS` sets the rounds (default 5).

use std::time::{Duration, Instant};

use sqlx::Connection;

mod common;
use common::{env_number, image, median, run};

fn docker(args: &[&str]) -> String {
    run(&mut common::docker(args))
}

fn devdb(dir: &std::path::Path, project: &str, args: &[&str]) -> String {
    run(&mut common::devdb(dir, project, args))
}

/// Polls `SELECT 1` every 10 ms until it answers.
async fn poll(url: &str) {
    loop {
        if let Ok(mut conn) = sqlx::PgConnection::connect(url).await
            && sqlx::query("SELECT 1").execute(&mut conn).await.is_ok()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The floor does what `devdb up` does for a new project, by hand: a network, a named data
/// volume, and a container on both.
async fn floor_cold(image: &str, name: &str) -> Duration {
    let started = Instant::now();
    docker(&["network", "create", "--label", "dev.devdb.bench=1", name]);
    docker(&["volume", "create", "--label", "dev.devdb.bench=1", name]);
    let volume = format!("{name}:/var/lib/postgresql/data");
    docker(&[
        "run",
        "-d",
        "--name",
        name,
        "--network",
        name,
        "-v",
        &volume,
        "--label",
        "dev.devdb.bench=1",
        "-e",
        "POSTGRES_PASSWORD=bench",
        "-p",
        "127.0.0.1::5432",
        image,
    ]);
    let port = docker(&["port", name, "5432"]);
    poll(&format!("postgres://postgres:bench@{port}/postgres")).await;
    started.elapsed()
}

async fn floor_warm(name: &str) -> Duration {
    docker(&["stop", name]);
    let started = Instant::now();
    docker(&["start", name]);
    let port = docker(&["port", name, "5432"]);
    poll(&format!("postgres://postgres:bench@{port}/postgres")).await;
    started.elapsed()
}

#[tokio::main]
async fn main() {
    let rounds = env_number("DEVDB_BENCH_ROUNDS", 5);
    let image = image();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("compose")).unwrap();
    std::fs::write(
        dir.path().join("compose/compose.yaml"),
        format!(
            "services:\n  db:\n    image: {image}\n    environment:\n      POSTGRES_PASSWORD: bench\n    ports:\n      - \"127.0.0.1::5432\"\n    volumes:\n      - pgdata:/var/lib/postgresql/data\nvolumes:\n  pgdata:\n"
        ),
    )
    .unwrap();
    let (mut cold, mut cold_floor, mut warm, mut warm_floor) = (vec![], vec![], vec![], vec![]);
    for round in 0..rounds {
        let floor_name = format!("devdb-bench-floor-{}-{round}", std::process::id());
        cold_floor.push(floor_cold(&image, &floor_name).await);
        warm_floor.push(floor_warm(&floor_name).await);
        docker(&["rm", "-f", &floor_name]);
        docker(&["volume", "rm", &floor_name]);
        docker(&["network", "rm", &floor_name]);

        let project = format!("devdb-bench-{}-{round}", std::process::id());
        let started = Instant::now();
        devdb(dir.path(), &project, &["up"]);
        cold.push(started.elapsed());
        docker(&["stop", &format!("{project}-db-1")]);
        let started = Instant::now();
        devdb(dir.path(), &project, &["up"]);
        warm.push(started.elapsed());
        devdb(dir.path(), &project, &["down", "--volumes", "--yes"]);
    }
    let report = |name: &str, ours: Vec<Duration>, floor: Vec<Duration>| {
        let (ours, floor) = (median(ours), median(floor));
        println!(
            "{name:<10} devdb {:>6} ms   floor {:>6} ms   ratio {:.2}",
            ours.as_millis(),
            floor.as_millis(),
            ours.as_secs_f64() / floor.as_secs_f64()
        );
    };
    println!("image {image}, {rounds} rounds, medians");
    report("cold up", cold, cold_floor);
    report("warm up", warm, warm_floor);
}
