//! Benchmark: `devdb backup` and `devdb restore` against running `pg_dump -Fc` and
//! `pg_restore` directly in the container with the docker command line, measured in the
//! same run on the same database.
//!
//! The floors: `docker exec C pg_dump -Fc > file`, and dropping the database then
//! `docker exec -i C pg_restore --create < file`. devdb does more (a schema-only dump, the
//! history, a copy of the migrations, SHA-256 of every file, a verification pass over the
//! backup before a restore, and keeping the old database until the new one is complete);
//! the ratio says what that costs.
//!
//! Run with `cargo bench --bench backup`. `DEVDB_BENCH_ROUNDS` sets the rounds (default 3),
//! `DEVDB_BENCH_ROWS` the rows of ~300 bytes of hex text (default 400,000, about 150 MB in
//! the server). `DEVDB_IMAGE` picks the image (default `postgres:17` when the engine has it, else
//! `devdb/postgres:17`).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sqlx::Connection;

mod common;
use common::{devdb, docker, env_number, median, run};

fn timed(command: &mut Command) -> Duration {
    let started = Instant::now();
    run(command);
    started.elapsed()
}

#[tokio::main]
async fn main() {
    let rounds = env_number("DEVDB_BENCH_ROUNDS", 3);
    let rows = env_number("DEVDB_BENCH_ROWS", 400_000);
    let dir = tempfile::tempdir().unwrap();
    let project = format!("devdb-bench-backup-{}", std::process::id());
    run(&mut devdb(dir.path(), &project, &["up"]));
    let url = run(&mut devdb(dir.path(), &project, &["url"]));
    let container = format!("{project}-db-1");

    let mut conn = sqlx::PgConnection::connect(&url)
        .await
        .expect("the database");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "CREATE TABLE big AS SELECT g AS id, \
         md5(g::text) || md5((g * 2)::text) || md5((g * 3)::text) || md5((g * 5)::text) || \
         md5((g * 7)::text) || md5((g * 11)::text) || md5((g * 13)::text) || md5((g * 17)::text) || \
         md5((g * 19)::text) AS payload FROM generate_series(1, {rows}) g; \
         CREATE INDEX big_payload ON big (payload);"
    )))
    .execute(&mut conn)
    .await
    .expect("the data");
    let size: i64 = sqlx::query_scalar("SELECT pg_database_size(current_database())")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();

    let floor_file = dir.path().join("floor.dump");
    let backups = dir.path().join("backups");
    let (mut ours_backup, mut floor_backup) = (Vec::new(), Vec::new());
    let (mut ours_restore, mut floor_restore) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let started = Instant::now();
        run(docker(&[
            "exec", &container, "pg_dump", "-U", "postgres", "-d", "app", "-Fc",
        ])
        .stdout(Stdio::from(std::fs::File::create(&floor_file).unwrap())));
        floor_backup.push(started.elapsed());

        let _ = std::fs::remove_dir_all(&backups);
        ours_backup.push(timed(&mut devdb(
            dir.path(),
            &project,
            &["backup", "--dir", backups.to_str().unwrap()],
        )));

        let started = Instant::now();
        run(&mut docker(&[
            "exec",
            &container,
            "psql",
            "-U",
            "postgres",
            "-d",
            "template1",
            "-q",
            "-c",
            "DROP DATABASE app WITH (FORCE)",
        ]));
        run(docker(&[
            "exec",
            "-i",
            &container,
            "pg_restore",
            "-U",
            "postgres",
            "--create",
            "--exit-on-error",
            "-d",
            "template1",
        ])
        .stdin(Stdio::from(std::fs::File::open(&floor_file).unwrap())));
        floor_restore.push(started.elapsed());

        ours_restore.push(timed(&mut devdb(
            dir.path(),
            &project,
            &[
                "restore",
                "latest",
                "--yes",
                "--dir",
                backups.to_str().unwrap(),
            ],
        )));
        eprintln!(
            "round {}: backup {:?} / {:?}, restore {:?} / {:?}",
            round + 1,
            ours_backup[round],
            floor_backup[round],
            ours_restore[round],
            floor_restore[round]
        );
    }
    let dump = std::fs::metadata(&floor_file).unwrap().len();
    println!(
        "database {} MiB, dump {} MiB, {rounds} rounds, medians",
        size >> 20,
        dump >> 20
    );
    for (name, ours, floor) in [
        ("backup", median(ours_backup), median(floor_backup)),
        ("restore", median(ours_restore), median(floor_restore)),
    ] {
        println!(
            "{name:<8} devdb {:>6} ms ({:>6.1} MiB/s of dump)   docker exec {:>6} ms   ratio {:.2}",
            ours.as_millis(),
            dump as f64 / 1048576.0 / ours.as_secs_f64(),
            floor.as_millis(),
            ours.as_secs_f64() / floor.as_secs_f64()
        );
    }
    run(&mut devdb(
        dir.path(),
        &project,
        &["down", "--volumes", "--yes"],
    ));
}
