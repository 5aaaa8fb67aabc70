//! Benchmark: `devdb migrate` against psql applying the same SQL (`devdb migrate --sql`) in
//! one session with one transaction per revision, measured in the same run on the same
//! database. Two sets: 1,000 small revisions, and 300 realistic ones (tables, views,
//! functions, triggers, DO blocks, extensions, dollar quoting).
//!
//! Run with `cargo bench --bench migrate`; `DEVDB_BENCH_ROUNDS` sets the rounds (default 3).
//! psql is the host's when it has one, else the one inside the container.

use std::process::{Command, Stdio};
use std::time::Instant;

use sqlx::Connection;

mod common;
use common::{devdb, env_number, median, run};

fn revision(id: usize, up: &str, down: &str) -> String {
    let parents = if id == 1 {
        String::new()
    } else {
        format!("r{:04}", id - 1)
    };
    format!(
        "-- devdb:revision r{id:04}\n-- devdb:parents {parents}\n-- devdb:message revision {id}\n\n-- devdb:up\n{up}\n\n-- devdb:down\n{down}\n"
    )
}

fn small(i: usize) -> (String, String) {
    (
        format!("CREATE TABLE s{i} (id int);"),
        format!("DROP TABLE s{i};"),
    )
}

fn realistic(i: usize) -> (String, String) {
    const EXTENSIONS: [&str; 4] = ["citext", "pgcrypto", "hstore", "pg_trgm"];
    if i % 75 == 1 {
        let ext = EXTENSIONS[(i / 75) % EXTENSIONS.len()];
        return (
            format!("CREATE EXTENSION IF NOT EXISTS {ext};"),
            format!("DROP EXTENSION IF EXISTS {ext};"),
        );
    }
    match i % 5 {
        0 => (
            format!(
                "CREATE TABLE t{i} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL, v numeric(10,2) DEFAULT 0);\nCREATE INDEX t{i}_name ON t{i} (lower(name)) WHERE v > 0;\nCREATE VIEW t{i}_v AS SELECT id, upper(name) AS name FROM t{i} WHERE name <> ';';"
            ),
            format!("DROP VIEW t{i}_v;\nDROP TABLE t{i};"),
        ),
        1 => (
            format!(
                "CREATE FUNCTION f{i}(x int) RETURNS text LANGUAGE plpgsql AS $body$\nBEGIN\n  IF x < 0 THEN\n    RAISE EXCEPTION 'negative: %', x;\n  END IF;\n  RETURN 'it''s; ' || x::text || $$;$$;\nEND\n$body$;"
            ),
            format!("DROP FUNCTION f{i}(int);"),
        ),
        2 => (
            format!(
                "CREATE TABLE t{i} (id int PRIMARY KEY, touched timestamptz);\nCREATE FUNCTION trg{i}() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN NEW.touched := now(); RETURN NEW; END;\n$$;\nCREATE TRIGGER trg{i} BEFORE INSERT OR UPDATE ON t{i} FOR EACH ROW EXECUTE FUNCTION trg{i}();"
            ),
            format!("DROP TABLE t{i};\nDROP FUNCTION trg{i}();"),
        ),
        3 => (
            format!(
                "DO $do$\nBEGIN\n  EXECUTE 'CREATE TABLE t{i} (id int, payload jsonb)';\n  RAISE NOTICE 'made %', 't{i};';\nEND\n$do$;\n/* a comment; with a semicolon */\nINSERT INTO t{i} SELECT g, jsonb_build_object('n', g) FROM generate_series(1, 50) g"
            ),
            format!("DROP TABLE t{i}"),
        ),
        _ => (
            format!(
                "CREATE TABLE t{i} (id int, parent int REFERENCES t{}(id) ON DELETE CASCADE);\nCOMMENT ON TABLE t{i} IS E'semi;colon \\' quote';",
                i - 2
            ),
            format!("DROP TABLE t{i};"),
        ),
    }
}

async fn reset_schema(url: &str) {
    let mut conn = sqlx::PgConnection::connect(url)
        .await
        .expect("the database");
    sqlx::raw_sql(
        "DROP SCHEMA public CASCADE; CREATE SCHEMA public; \
         DROP EXTENSION IF EXISTS citext; DROP EXTENSION IF EXISTS pgcrypto; \
         DROP EXTENSION IF EXISTS hstore; DROP EXTENSION IF EXISTS pg_trgm;",
    )
    .execute(&mut conn)
    .await
    .expect("a reset");
}

fn psql(url: &str, container: &str, script: &str) -> Command {
    let has_host_psql = Command::new("psql").arg("--version").output().is_ok();
    let mut command = if has_host_psql {
        let mut command = Command::new("psql");
        command.arg(url);
        command
    } else {
        let mut command = Command::new("docker");
        command.args([
            "exec", "-i", container, "psql", "-U", "postgres", "-d", "postgres",
        ]);
        command
    };
    command
        .args(["-q", "-v", "ON_ERROR_STOP=1", "-f", "-"])
        .stdin(Stdio::from(
            std::fs::File::open(script).expect("the script"),
        ))
        .stdout(Stdio::null());
    command
}

#[tokio::main]
async fn main() {
    let rounds = env_number("DEVDB_BENCH_ROUNDS", 3);
    let dir = tempfile::tempdir().unwrap();
    let project = format!("devdb-bench-migrate-{}", std::process::id());
    std::fs::create_dir_all(dir.path().join("migrations")).unwrap();
    run(&mut devdb(dir.path(), &project, &["up", "--no-migrate"]));
    let url = run(&mut devdb(dir.path(), &project, &["url"]));
    let container = format!("{project}-db-1");
    println!("{rounds} rounds, medians");

    type Generator = fn(usize) -> (String, String);
    let sets: [(&str, usize, Generator); 2] =
        [("small", 1000, small), ("realistic", 300, realistic)];
    for (name, count, generate) in sets {
        let migrations = dir.path().join("migrations");
        std::fs::remove_dir_all(&migrations).unwrap();
        std::fs::create_dir_all(&migrations).unwrap();
        for i in 1..=count {
            let (up, down) = generate(i);
            std::fs::write(
                migrations.join(format!("r{i:04}.sql")),
                revision(i, &up, &down),
            )
            .unwrap();
        }
        let script = dir.path().join(format!("{name}.sql"));
        std::fs::write(
            &script,
            run(&mut devdb(dir.path(), &project, &["migrate", "--sql"])),
        )
        .unwrap();

        let (mut ours, mut floor) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            reset_schema(&url).await;
            let started = Instant::now();
            run(&mut psql(&url, &container, script.to_str().unwrap()));
            floor.push(started.elapsed());

            reset_schema(&url).await;
            let started = Instant::now();
            run(&mut devdb(dir.path(), &project, &["migrate"]));
            ours.push(started.elapsed());
        }
        let (ours, floor) = (median(ours), median(floor));
        println!(
            "{name:<10} {count:>5} revisions   devdb {:>6} ms   psql {:>6} ms   ratio {:.2}",
            ours.as_millis(),
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
