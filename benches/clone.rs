//! Benchmark: a database cloned from devdb's template against its floor, a bare
//! `CREATE DATABASE ... TEMPLATE` on the same server in the same run; `devdb clone --server
//! URL` (the whole command) on a plain Postgres devdb did not start, against the bare
//! statement on that server; and `up --ephemeral` against a normal cold `up` of the same
//! project (both migrate and seed). Prints medians, p95 and ratios.
//!
//! Run with `cargo bench --bench clone`; `DEVDB_BENCH_CLONES` sets the clones per kind
//! (default 50), `DEVDB_BENCH_SERVER_CLONES` the `clone --server` runs (default 20),
//! `DEVDB_BENCH_ROUNDS` the rounds of `up` (default 3).

use std::path::Path;
use std::time::{Duration, Instant};

use devdb::internal::{TemplateSource, clone_database, ensure_template};
use devdb::pg::DatabaseUrl;
use devdb::progress::Silent;
use sqlx::Connection;

mod common;
use common::{env_number, image};

/// Runs devdb for `project` to success; its standard output.
fn devdb(dir: &Path, project: &str, args: &[&str]) -> String {
    common::run(&mut common::devdb(dir, project, args))
}

/// A project with a few tables, indexes and seed rows, as a small application has.
fn write_project(dir: &Path, image: &str) {
    let write = |relative: &str, text: &str| common::write_file(dir, relative, text);
    write("compose/compose.yaml", &common::compose_file(image, ""));
    let tables = ["authors", "books", "orders", "customers", "reviews"];
    let mut parent = String::new();
    for (i, table) in tables.iter().enumerate() {
        let id = format!("{:04}", i + 1);
        write(
            &format!("migrations/{id}_{table}.sql"),
            &format!(
                "-- devdb:revision {id}\n-- devdb:parents {parent}\n-- devdb:message {table}\n\n-- devdb:up\nCREATE TABLE {table} (id bigserial PRIMARY KEY, name text NOT NULL, created timestamptz NOT NULL DEFAULT now());\nCREATE INDEX ON {table} (name);\n"
            ),
        );
        parent = id;
    }
    write(
        "migrations/seeds/01.sql",
        "INSERT INTO authors (name) SELECT 'author ' || g FROM generate_series(1, 1000) g;\n",
    );
}

fn stats(mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort();
    let p95 = samples[(samples.len() * 95).div_ceil(100) - 1];
    (samples[samples.len() / 2], p95)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A plain Postgres container of the benchmark's own, removed when dropped.
struct PlainServer {
    container: String,
    url: DatabaseUrl,
}

impl PlainServer {
    async fn start(label: &str, image: &str) -> PlainServer {
        let label = format!("com.docker.compose.project={label}");
        let container = common::run(&mut common::docker(&[
            "run",
            "-d",
            "--label",
            &label,
            "-p",
            "127.0.0.1::5432",
            "-e",
            "POSTGRES_PASSWORD=bench",
            image,
        ]));
        let mut server = PlainServer {
            url: DatabaseUrl::parse("postgresql://postgres:bench@127.0.0.1:1/postgres").unwrap(),
            container,
        };
        let port = common::run(&mut common::docker(&["port", &server.container, "5432"]));
        let port = port.lines().next().unwrap().rsplit(':').next().unwrap();
        server.url.port = port.parse().unwrap();
        // The image's entrypoint restarts the server after initdb: wait for the real one.
        let deadline = Instant::now() + Duration::from_secs(90);
        let mut answered = 0;
        while answered < 3 {
            assert!(Instant::now() < deadline, "the plain server never answered");
            answered = match server.url.connect().await {
                Ok(conn) => {
                    conn.close().await.unwrap();
                    answered + 1
                }
                Err(_) => 0,
            };
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        server
    }
}

impl Drop for PlainServer {
    fn drop(&mut self) {
        let _ = common::docker(&["rm", "-f", "-v", &self.container]).output();
    }
}

/// A bare `CREATE DATABASE name TEMPLATE template` on `conn`.
async fn create_from_template(conn: &mut sqlx::PgConnection, name: &str, template: &str) {
    let sql = format!("CREATE DATABASE {name} TEMPLATE {template}");
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(conn)
        .await
        .unwrap();
}

/// `devdb clone --server URL` runs against a bare `CREATE DATABASE ... TEMPLATE` (on an open
/// connection, and with a connection of its own) on a plain server, interleaved.
async fn server_clones(
    dir: &Path,
    project: &str,
    server: &DatabaseUrl,
    runs: usize,
) -> [Vec<Duration>; 3] {
    let url = server.render(true);
    let clone = |name: &str| {
        common::devdb(
            dir,
            project,
            &["clone", "--json", "--server", &url, "--name", name],
        )
    };
    // The first clone builds the template: not timed.
    let first = common::run(&mut clone("first"));
    let first: serde_json::Value = serde_json::from_str(&first).unwrap();
    let template = first["template"].as_str().unwrap().to_string();
    let mut admin = server.connect().await.unwrap();
    let (mut bare, mut bare_connecting, mut command) = (vec![], vec![], vec![]);
    for i in 0..runs {
        let started = Instant::now();
        create_from_template(&mut admin, &format!("srv_bare_{i}"), &template).await;
        bare.push(started.elapsed());

        let started = Instant::now();
        let mut conn = server.connect().await.unwrap();
        create_from_template(&mut conn, &format!("srv_conn_{i}"), &template).await;
        conn.close().await.unwrap();
        bare_connecting.push(started.elapsed());

        let started = Instant::now();
        common::run(&mut clone(&format!("srv_cmd_{i}")));
        command.push(started.elapsed());
    }
    admin.close().await.unwrap();
    [bare, bare_connecting, command]
}

#[tokio::main]
async fn main() {
    let clones = env_number("DEVDB_BENCH_CLONES", 50);
    let rounds = env_number("DEVDB_BENCH_ROUNDS", 3);
    let image = image();
    let dir = tempfile::tempdir().unwrap();
    write_project(dir.path(), &image);
    let project = format!("devdb-bench-clone-{}", std::process::id());

    // Ephemeral up against a normal cold up, interleaved.
    let (mut ephemeral, mut cold) = (vec![], vec![]);
    let mut kept = None;
    for round in 0..rounds {
        let cold_project = format!("{project}-cold{round}");
        let started = Instant::now();
        devdb(dir.path(), &cold_project, &["up"]);
        cold.push(started.elapsed());
        devdb(dir.path(), &cold_project, &["down", "--volumes", "--yes"]);

        let started = Instant::now();
        let report = devdb(dir.path(), &project, &["up", "--ephemeral", "--json"]);
        ephemeral.push(started.elapsed());
        let report: serde_json::Value = serde_json::from_str(&report).unwrap();
        let id = report["id"].as_str().unwrap().to_string();
        if let Some((previous, _)) = kept.replace((id, report)) {
            devdb(dir.path(), &project, &["down", "--ephemeral", &previous]);
        }
    }
    let (id, report) = kept.expect("at least one round");

    // Clones on the last ephemeral server: devdb's against the bare statement, interleaved.
    let mut server = DatabaseUrl::parse(report["database_url"].as_str().unwrap()).unwrap();
    server.tls = Default::default();
    let loaded = devdb::internal::load(&devdb::internal::LoadOptions {
        dir: dir.path().to_path_buf(),
        project_name: Some(project.clone()),
        ..Default::default()
    })
    .unwrap();
    let source = TemplateSource::of(&loaded);
    let mut admin = server.connect().await.unwrap();
    let built = Instant::now();
    let tpl = ensure_template(&mut admin, &server, &source, &Silent)
        .await
        .unwrap();
    let build_time = built.elapsed();
    let (mut ours, mut ours_connecting, mut bare) = (vec![], vec![], vec![]);
    for i in 0..clones {
        let started = Instant::now();
        create_from_template(&mut admin, &format!("bare_{i}"), &tpl.name).await;
        bare.push(started.elapsed());

        let started = Instant::now();
        clone_database(&mut admin, &server, &tpl, &format!("ours_{i}"))
            .await
            .unwrap();
        ours.push(started.elapsed());

        // What a test pays with TestDatabase: its own admin connection, the clone, close.
        let started = Instant::now();
        let mut conn = server.connect().await.unwrap();
        clone_database(&mut conn, &server, &tpl, &format!("conn_{i}"))
            .await
            .unwrap();
        conn.close().await.unwrap();
        ours_connecting.push(started.elapsed());
    }
    admin.close().await.unwrap();
    devdb(dir.path(), &project, &["down", "--ephemeral", &id]);

    let server_runs = env_number("DEVDB_BENCH_SERVER_CLONES", 20);
    let plain = PlainServer::start(&format!("{project}-plain"), &image).await;
    let [srv_bare, srv_bare_connecting, srv_command] =
        server_clones(dir.path(), &project, &plain.url, server_runs).await;
    drop(plain);

    println!("image {image}; template built in {:.0} ms", ms(build_time));
    let (bare_median, bare_p95) = stats(bare);
    println!(
        "{:<28} median {:>7.1} ms   p95 {:>7.1} ms",
        format!("bare CREATE DATABASE x{clones}"),
        ms(bare_median),
        ms(bare_p95)
    );
    for (name, samples) in [
        ("devdb clone", ours),
        ("devdb clone + connect", ours_connecting),
    ] {
        let (median, p95) = stats(samples);
        println!(
            "{:<28} median {:>7.1} ms   p95 {:>7.1} ms   ratio {:.2} (median) {:.2} (p95)",
            format!("{name} x{clones}"),
            ms(median),
            ms(p95),
            median.as_secs_f64() / bare_median.as_secs_f64(),
            p95.as_secs_f64() / bare_p95.as_secs_f64()
        );
    }
    let (srv_bare_median, srv_bare_p95) = stats(srv_bare);
    println!(
        "{:<28} median {:>7.1} ms   p95 {:>7.1} ms   (a plain server, fsync on)",
        format!("bare CREATE DATABASE x{server_runs}"),
        ms(srv_bare_median),
        ms(srv_bare_p95)
    );
    let (connecting_median, connecting_p95) = stats(srv_bare_connecting);
    println!(
        "{:<28} median {:>7.1} ms   p95 {:>7.1} ms",
        format!("  + its own connection x{server_runs}"),
        ms(connecting_median),
        ms(connecting_p95)
    );
    let (command_median, command_p95) = stats(srv_command);
    println!(
        "{:<28} median {:>7.1} ms   p95 {:>7.1} ms   ratio {:.2} (median, goal <= 1.2) {:.2} (p95); {:.2} against the statement with its own connection",
        format!("devdb clone --server x{server_runs}"),
        ms(command_median),
        ms(command_p95),
        command_median.as_secs_f64() / srv_bare_median.as_secs_f64(),
        command_p95.as_secs_f64() / srv_bare_p95.as_secs_f64(),
        command_median.as_secs_f64() / connecting_median.as_secs_f64()
    );
    let (cold_median, _) = stats(cold);
    let (ephemeral_median, _) = stats(ephemeral);
    println!(
        "{:<28} median {:>7.0} ms   cold up {:>7.0} ms   ratio {:.2} ({rounds} rounds, both migrate and seed)",
        "ephemeral up",
        ms(ephemeral_median),
        ms(cold_median),
        ephemeral_median.as_secs_f64() / cold_median.as_secs_f64()
    );
}
