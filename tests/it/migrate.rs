//! `migrate`, `downgrade`, `stamp`, `current`, `seed`, the migration step of `up`, and the
//! library's `migrate_to_head`, against real databases.

use std::process::Stdio;

use crate::common::{TestProject, query, simple_compose, stderr, stdout};

/// The text of a revision file.
fn rev(id: &str, parents: &str, message: &str, up: &str, down: Option<&str>) -> String {
    let mut text = format!(
        "-- devdb:revision {id}\n-- devdb:parents {parents}\n-- devdb:message {message}\n\n-- devdb:up\n{up}\n"
    );
    if let Some(down) = down {
        text.push_str(&format!("\n-- devdb:down\n{down}\n"));
    }
    text
}

fn project() -> TestProject {
    TestProject::new().compose(&simple_compose())
}

async fn records(url: &str) -> Vec<String> {
    query(url, "SELECT id FROM public.devdb_revisions ORDER BY id")
        .await
        .unwrap()
}

async fn table_exists(url: &str, name: &str) -> bool {
    query(url, &format!("SELECT to_regclass('public.{name}')::text"))
        .await
        .unwrap()
        .first()
        .is_some_and(|t| !t.is_empty())
}

/// The URL of another database on the same server.
fn with_database(url: &str, database: &str) -> String {
    let (server, _) = url.rsplit_once('/').unwrap();
    format!("{server}/{database}")
}

#[tokio::test]
async fn two_heads_are_refused_until_a_merge_revision_joins_them() {
    let project = project()
        .file(
            "migrations/0001_root.sql",
            &rev("0001", "", "root", "CREATE TABLE root (id int);", None),
        )
        .file(
            "migrations/0002_a.sql",
            &rev(
                "0002a",
                "0001",
                "branch a",
                "CREATE TABLE a (id int);",
                None,
            ),
        )
        .file(
            "migrations/0002_b.sql",
            &rev(
                "0002b",
                "0001",
                "branch b",
                "CREATE TABLE b (id int);",
                None,
            ),
        );
    project.devdb_ok(&["up", "--no-migrate"]);
    let url = project.url();

    let output = project.devdb(&["migrate"]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(6), "{err}");
    assert!(err.contains("0002a (branch a)"), "{err}");
    assert!(err.contains("0002b (branch b)"), "{err}");
    assert!(err.contains("branch at 0001"), "{err}");
    assert!(err.contains("devdb merge"), "{err}");
    assert_eq!(records(&url).await, Vec::<String>::new());
    assert!(!table_exists(&url, "root").await);

    let project = project.file(
        "migrations/0003_merge.sql",
        &rev("0003", "0002a 0002b", "merge heads", "SELECT 1;", None),
    );
    project.devdb_ok(&["migrate"]);
    assert_eq!(records(&url).await, ["0001", "0002a", "0002b", "0003"]);
    assert!(table_exists(&url, "a").await && table_exists(&url, "b").await);
    assert_eq!(project.devdb_ok(&["current"]), "0003 merge heads (head)");
}

fn linear(project: TestProject, n: usize) -> TestProject {
    (1..=n).fold(project, |p, i| {
        let parent = if i == 1 {
            String::new()
        } else {
            format!("{:04}", i - 1)
        };
        p.file(
            &format!("migrations/{i:04}_t{i}.sql"),
            &rev(
                &format!("{i:04}"),
                &parent,
                &format!("create t{i}"),
                &format!("CREATE TABLE t{i} (id int);"),
                Some(&format!("DROP TABLE t{i};")),
            ),
        )
    })
}

#[tokio::test]
async fn up_migrates_and_downgrade_goes_back_one_step_then_to_base() {
    let project = linear(project(), 3);
    let json = project.devdb_ok(&["up", "--json"]);
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        value["applied"],
        serde_json::json!(["0001", "0002", "0003"])
    );
    let url = project.url();
    assert_eq!(records(&url).await, ["0001", "0002", "0003"]);

    project.devdb_ok(&["downgrade", "-1", "--yes"]);
    assert_eq!(records(&url).await, ["0001", "0002"]);
    assert!(!table_exists(&url, "t3").await);
    assert!(table_exists(&url, "t2").await);

    let dry = project.devdb_ok(&["downgrade", "base", "--dry-run"]);
    assert!(dry.contains("would revert 0002") && dry.contains("would revert 0001"));
    assert_eq!(
        records(&url).await,
        ["0001", "0002"],
        "a dry run changes nothing"
    );

    // Reverting drops data: not on a terminal, it needs --yes, and without it nothing changes.
    let refused = project.devdb(&["downgrade", "base"]);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    let message = stderr(&refused);
    assert!(
        message.contains("revert 2 revisions of database appdb (0002 create t2, 0001 create t1)")
            && message.contains("devdb downgrade base --yes"),
        "{message}"
    );
    assert_eq!(records(&url).await, ["0001", "0002"]);
    assert!(
        project
            .devdb_ok(&["downgrade", "base", "--sql"])
            .contains("DROP TABLE t1;")
    );

    project.devdb_ok(&["downgrade", "base", "--yes"]);
    assert_eq!(records(&url).await, Vec::<String>::new());
    assert!(!table_exists(&url, "t1").await);
    let nothing = project.devdb(&["downgrade", "base"]);
    assert!(
        nothing.status.success(),
        "nothing to revert needs no confirmation: {}",
        stderr(&nothing)
    );
    assert_eq!(project.devdb_ok(&["current"]), "base");

    project.devdb_ok(&["upgrade", "+2"]);
    assert_eq!(records(&url).await, ["0001", "0002"]);
}

#[tokio::test]
async fn stamp_records_revisions_without_running_them() {
    let project = linear(project(), 2);
    project.devdb_ok(&["up", "--no-migrate"]);
    let url = project.url();

    project.devdb_ok(&["stamp", "head"]);
    assert_eq!(records(&url).await, ["0001", "0002"]);
    assert!(!table_exists(&url, "t1").await, "stamp runs no SQL");

    project.devdb_ok(&["stamp", "base"]);
    assert_eq!(records(&url).await, Vec::<String>::new());

    project.devdb_ok(&["stamp", "0001"]);
    assert_eq!(records(&url).await, ["0001"]);
    project.devdb_ok(&["migrate"]);
    assert!(table_exists(&url, "t2").await && !table_exists(&url, "t1").await);
}

#[tokio::test]
async fn a_failing_revision_leaves_no_trace_and_names_file_line_detail_and_hint() {
    let project = project().file(
        "migrations/0001_authors.sql",
        &rev(
            "0001",
            "",
            "authors",
            "CREATE TABLE authors (id int PRIMARY KEY, name text);\nINSERT INTO authors VALUES (1, 'Ann');",
            None,
        ),
    );
    // Line 6 is the first line of the up body: the broken statement is on line 8.
    let project = project.file(
        "migrations/0002_books.sql",
        &rev(
            "0002",
            "0001",
            "books",
            "CREATE TABLE books (id int);\n\nSELECT nmae FROM authors;",
            None,
        ),
    );
    project.devdb_ok(&["up", "--no-migrate"]);
    let url = project.url();

    let output = project.devdb(&["migrate"]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(5), "{err}");
    assert!(err.contains("applied 0001 authors ("), "{err}");
    assert!(err.contains("0002_books.sql:8"), "{err}");
    assert!(err.contains("column \"nmae\" does not exist"), "{err}");
    assert!(err.contains("HINT: Perhaps you meant"), "{err}");
    assert!(err.contains("the database is at 0001"), "{err}");
    assert!(
        !table_exists(&url, "books").await,
        "its first statement is rolled back"
    );
    assert_eq!(records(&url).await, ["0001"]);

    let project = project.file(
        "migrations/0002_books.sql",
        &rev(
            "0002",
            "0001",
            "books",
            "CREATE TABLE books (id int);\nINSERT INTO authors VALUES (1, 'again');",
            None,
        ),
    );
    let output = project.devdb(&["migrate"]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(5), "{err}");
    assert!(
        err.contains("DETAIL: Key (id)=(1) already exists."),
        "{err}"
    );
    assert!(!table_exists(&url, "books").await);
    assert_eq!(records(&url).await, ["0001"]);

    // In `up`, the container stays and the exit code is still 5.
    let output = project.devdb(&["up"]);
    assert_eq!(output.status.code(), Some(5), "{}", stderr(&output));
    assert_eq!(query(&url, "SELECT 1").await.unwrap(), ["1"]);
}

#[tokio::test]
async fn an_edited_applied_revision_is_reported_until_accepted() {
    let body = "CREATE TABLE authors (id int);";
    let project = project().file(
        "migrations/0001_authors.sql",
        &rev("0001", "", "authors", body, None),
    );
    project.devdb_ok(&["up"]);
    let url = project.url();
    assert_eq!(records(&url).await, ["0001"]);

    let project = project.file(
        "migrations/0001_authors.sql",
        &rev(
            "0001",
            "",
            "authors",
            "CREATE TABLE authors (id bigint);",
            None,
        ),
    );
    let output = project.devdb(&["migrate"]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(5), "{err}");
    assert!(err.contains("0001 ("), "{err}");
    assert!(err.contains("0001_authors.sql"), "{err}");
    assert!(err.contains("--accept-changed 0001"), "{err}");

    project.devdb_ok(&["migrate", "--accept-changed", "0001"]);
    project.devdb_ok(&["migrate"]);
    assert_eq!(
        query(
            &url,
            "SELECT data_type FROM information_schema.columns WHERE table_name = 'authors'"
        )
        .await
        .unwrap(),
        ["integer"],
        "an accepted edit is not re-run"
    );
}

#[tokio::test]
async fn concurrent_migrate_runs_apply_each_revision_once() {
    let project =
        linear(project(), 6).file("migrations/seeds/01_one.sql", "INSERT INTO t1 VALUES (1);");
    project.devdb_ok(&["up", "--no-migrate"]);
    let url = project.url();
    let children: Vec<_> = (0..8)
        .map(|_| {
            project
                .command(&["migrate"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "{}", stderr(&output));
    }
    assert_eq!(
        records(&url).await,
        ["0001", "0002", "0003", "0004", "0005", "0006"]
    );
    assert_eq!(
        query(&url, "SELECT count(*) FROM t1").await.unwrap(),
        ["1"],
        "seeded once"
    );
}

#[tokio::test]
async fn create_index_concurrently_runs_outside_a_transaction() {
    let project = project()
        .file(
            "migrations/0001_authors.sql",
            &rev(
                "0001",
                "",
                "authors",
                "CREATE TABLE authors (id int, name text);",
                Some("DROP TABLE authors;"),
            ),
        )
        .file(
            "migrations/0002_index.sql",
            "-- devdb:revision 0002\n-- devdb:parents 0001\n-- devdb:message index authors\n-- devdb:no-transaction\n\n-- devdb:up\nCREATE INDEX CONCURRENTLY authors_id ON authors (id);\nCREATE INDEX CONCURRENTLY authors_name ON authors (name);\n\n-- devdb:down\nDROP INDEX CONCURRENTLY authors_name;\nDROP INDEX CONCURRENTLY authors_id;\n",
        );
    project.devdb_ok(&["up"]);
    let url = project.url();
    let indexes = "SELECT indexname FROM pg_indexes WHERE tablename = 'authors' ORDER BY 1";
    assert_eq!(
        query(&url, indexes).await.unwrap(),
        ["authors_id", "authors_name"]
    );
    assert_eq!(records(&url).await, ["0001", "0002"]);
    project.devdb_ok(&["downgrade", "0001", "-y"]);
    assert_eq!(query(&url, indexes).await.unwrap(), Vec::<String>::new());
    assert_eq!(records(&url).await, ["0001"]);
}

#[tokio::test]
async fn a_no_transaction_failure_names_the_statement_that_ran() {
    let project = project().file(
        "migrations/0001_index.sql",
        "-- devdb:revision 0001\n-- devdb:parents\n-- devdb:message index\n-- devdb:no-transaction\n\n-- devdb:up\nCREATE TABLE authors (id int);\nCREATE INDEX CONCURRENTLY missing_idx ON missing (id);\n",
    );
    project.devdb_ok(&["up", "--no-migrate"]);
    let url = project.url();
    let output = project.devdb(&["migrate"]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(5), "{err}");
    assert!(err.contains("0001_index.sql:8 (statement 2 of 2)"), "{err}");
    assert!(err.contains("nothing of it was rolled back"), "{err}");
    assert!(
        err.contains("the statement before the failing one is kept"),
        "{err}"
    );
    assert!(table_exists(&url, "authors").await);
    assert_eq!(records(&url).await, Vec::<String>::new());
}

/// Each failure below keeps something, or is not the file's fault: the hint must say so
/// instead of "nothing of it was kept; fix the file".
#[tokio::test]
async fn hints_after_a_failure_say_what_may_have_been_kept() {
    let project = project().file(
        "migrations/0001_items.sql",
        &rev(
            "0001",
            "",
            "items",
            "CREATE TABLE items (code text);\nINSERT INTO items VALUES ('a'), ('a');",
            None,
        ),
    );
    project.devdb_ok(&["up"]);
    let url = project.url();

    // A failing first statement outside a transaction leaves an INVALID index behind.
    let project = project.file(
        "migrations/0002_unique.sql",
        "-- devdb:revision 0002\n-- devdb:parents 0001\n-- devdb:no-transaction\n-- devdb:up\nCREATE UNIQUE INDEX CONCURRENTLY items_code ON items (code);\n",
    );
    let output = project.devdb(&["migrate"]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(5), "{err}");
    assert!(!err.contains("nothing of 0002 was kept"), "{err}");
    assert!(
        err.contains("nothing of it was rolled back") && err.contains("INVALID index"),
        "{err}"
    );
    let invalid = "SELECT count(*) FROM pg_index WHERE NOT indisvalid";
    assert_eq!(
        query(&url, invalid).await.unwrap(),
        ["1"],
        "the hint is true"
    );
    std::fs::remove_file(project.path().join("migrations/0002_unique.sql")).unwrap();

    // A failure before the COMMIT of a revision keeps nothing, and says so.
    let project = project.file(
        "migrations/0002_commit.sql",
        &rev(
            "0002",
            "0001",
            "commits",
            "CREATE TABLE early (id int);\nSELECT 'x'::int;\nCOMMIT;",
            None,
        ),
    );
    let output = project.devdb(&["migrate"]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(5), "{err}");
    assert!(err.contains("nothing of 0002 was kept"), "{err}");
    assert!(!table_exists(&url, "early").await, "the hint is true");

    // A COMMIT inside a revision commits what came before it.
    let project = project.file(
        "migrations/0002_commit.sql",
        &rev(
            "0002",
            "0001",
            "commits",
            "CREATE TABLE kept (id int);\nCOMMIT;\nSELECT * FROM missing;",
            None,
        ),
    );
    let output = project.devdb(&["migrate"]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(5), "{err}");
    assert!(!err.contains("nothing of 0002 was kept"), "{err}");
    assert!(
        err.contains("0002 ends its transaction itself") && err.contains("0002_commit.sql:7"),
        "{err}"
    );
    assert!(table_exists(&url, "kept").await, "the hint is true");
    assert_eq!(records(&url).await, ["0001"]);

    // A server stopped under the run: the file is fine.
    let project = project.file(
        "migrations/0002_commit.sql",
        &rev("0002", "0001", "slow", "SELECT pg_sleep(20);", None),
    );
    let child = project
        .command(&["migrate"])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let sleeping = "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(20)%' AND pid <> pg_backend_pid()";
    let started = std::time::Instant::now();
    while query(&url, sleeping).await.unwrap() != ["1"] {
        assert!(
            started.elapsed().as_secs() < 30,
            "the revision never started"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let stopped = crate::common::docker(&["stop", "-t", "5", &project.container("db")]);
    assert!(stopped.status.success());
    let output = child.wait_with_output().unwrap();
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(5), "{err}");
    assert!(
        err.contains("the connection to the database was lost while applying revision 0002")
            && err.contains("is not to blame"),
        "{err}"
    );
    assert!(!err.contains("nothing of 0002 was kept"), "{err}");
    project.devdb_ok(&["up"]);
    assert_eq!(records(&project.url()).await, ["0001", "0002"]);
}

async fn schema_and_records(url: &str) -> Vec<String> {
    let mut all = query(
        url,
        "SELECT table_name || '.' || column_name || ':' || data_type FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1",
    )
    .await
    .unwrap();
    all.extend(
        query(
            url,
            "SELECT id || ' ' || checksum || ' ' || message FROM devdb_revisions ORDER BY id",
        )
        .await
        .unwrap(),
    );
    all
}

#[tokio::test]
async fn offline_sql_gives_the_same_database_as_a_live_run() {
    let project = linear(project(), 3).file(
        "migrations/0004_fn.sql",
        &rev(
            "0004",
            "0003",
            "a function",
            "CREATE FUNCTION twice(x int) RETURNS int AS $$ SELECT x * 2 $$ LANGUAGE sql;\nALTER TABLE t1 ADD COLUMN note text -- no semicolon",
            Some("DROP FUNCTION twice(int);\nALTER TABLE t1 DROP COLUMN note;"),
        ),
    );
    // No engine needed: point Docker somewhere that does not answer.
    let output = project
        .command(&["migrate", "--sql"])
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let script = String::from_utf8(output.stdout).unwrap();
    assert!(
        script.contains("BEGIN;\nCREATE TABLE t1 (id int);\nINSERT INTO"),
        "{script}"
    );

    project.devdb_ok(&["up", "--no-migrate"]);
    let url = project.url();
    query(&url, "CREATE DATABASE offline").await.unwrap();
    let offline = with_database(&url, "offline");
    query(&offline, &script).await.unwrap();
    project.devdb_ok(&["migrate"]);
    let live = schema_and_records(&url).await;
    assert!(live.contains(&"t1.note:text".to_string()), "{live:?}");
    assert_eq!(schema_and_records(&offline).await, live);

    let down = project.devdb_ok(&["downgrade", "0002", "--sql"]);
    query(&offline, &down).await.unwrap();
    project.devdb_ok(&["downgrade", "0002", "--yes"]);
    assert_eq!(
        schema_and_records(&offline).await,
        schema_and_records(&url).await
    );
    assert_eq!(records(&offline).await, ["0001", "0002"]);
}

#[tokio::test]
async fn seeds_run_once_on_a_new_database() {
    let project = project()
        .file(
            "migrations/0001_authors.sql",
            &rev(
                "0001",
                "",
                "authors",
                "CREATE TABLE authors (name text);",
                None,
            ),
        )
        .file(
            "migrations/seeds/02_bob.sql",
            "INSERT INTO authors VALUES ('Bob');",
        )
        .file(
            "migrations/seeds/01_ann.sql",
            "INSERT INTO authors VALUES ('Ann');",
        );
    let json = project.devdb_ok(&["up", "--json"]);
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    let seeded = value["seeded"].as_array().unwrap();
    assert_eq!(seeded.len(), 2);
    assert!(seeded[0].as_str().unwrap().ends_with("01_ann.sql"));
    let url = project.url();
    let names = "SELECT name FROM authors ORDER BY name";
    assert_eq!(query(&url, names).await.unwrap(), ["Ann", "Bob"]);

    project.devdb_ok(&["down"]);
    let json = project.devdb_ok(&["up", "--json"]);
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["seeded"], serde_json::json!([]));
    let url = project.url();
    assert_eq!(query(&url, names).await.unwrap(), ["Ann", "Bob"]);
}

#[tokio::test]
async fn a_database_whose_first_migrate_failed_is_seeded_by_the_next_successful_one() {
    let broken = rev(
        "0001",
        "",
        "authors",
        "CREATE TABLE authors (name text;",
        None,
    );
    let fixed = rev(
        "0001",
        "",
        "authors",
        "CREATE TABLE authors (name text);",
        None,
    );
    let project = project().file("migrations/0001_authors.sql", &broken).file(
        "migrations/seeds/01_ann.sql",
        "INSERT INTO authors VALUES ('Ann');",
    );
    let failed = project.devdb(&["up"]);
    assert_eq!(failed.status.code(), Some(5), "{}", stderr(&failed));
    let url = project.url();

    // `migrate` (not only `up`) catches up on the seeds, and says why.
    let project = project.file("migrations/0001_authors.sql", &fixed);
    let output = project.devdb(&["migrate", "--json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("the database had not been seeded yet"),
        "{}",
        stderr(&output)
    );
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert!(
        report["seeded"][0]
            .as_str()
            .unwrap()
            .ends_with("01_ann.sql"),
        "{report}"
    );
    let names = "SELECT name FROM authors ORDER BY name";
    assert_eq!(query(&url, names).await.unwrap(), ["Ann"]);

    // Seeded once: neither `migrate` nor `up` runs them again.
    project.devdb_ok(&["migrate"]);
    let up: serde_json::Value = serde_json::from_str(&project.devdb_ok(&["up", "--json"])).unwrap();
    assert_eq!(up["seeded"], serde_json::json!([]));
    assert_eq!(query(&url, names).await.unwrap(), ["Ann"]);
    // The record is devdb's own: `check` sees no drift in it.
    project.devdb_ok(&["check"]);
}

#[tokio::test]
async fn an_up_killed_before_its_migration_leaves_a_database_the_next_up_seeds() {
    let project =
        linear(project(), 1).file("migrations/seeds/01_one.sql", "INSERT INTO t1 VALUES (1);");
    // `--no-migrate` stops where a kill after the container started would: a new database,
    // nothing migrated and nothing recorded.
    project.devdb_ok(&["up", "--no-migrate"]);
    let up: serde_json::Value = serde_json::from_str(&project.devdb_ok(&["up", "--json"])).unwrap();
    assert!(
        up["seeded"][0].as_str().unwrap().ends_with("01_one.sql"),
        "{up}"
    );
    assert_eq!(
        query(&project.url(), "SELECT count(*) FROM t1")
            .await
            .unwrap(),
        ["1"]
    );
}

/// Revision `i` of a long history exercising what the splitter and Postgres must agree on.
fn generated(i: usize) -> (String, String) {
    match i % 5 {
        0 => (
            format!(
                "CREATE TABLE g{i} (id int, v text);\nCREATE VIEW g{i}_v AS SELECT id FROM g{i} WHERE v <> ';'"
            ),
            format!("DROP VIEW g{i}_v;\nDROP TABLE g{i};"),
        ),
        1 => (
            format!(
                "CREATE FUNCTION f{i}(x int) RETURNS text LANGUAGE plpgsql AS $body$\nBEGIN\n  RETURN 'it''s; ' || x::text || $$;$$;\nEND\n$body$;"
            ),
            format!("DROP FUNCTION f{i}(int);"),
        ),
        2 => (
            format!(
                "CREATE TABLE g{i} (id int, touched timestamptz);\nCREATE FUNCTION trg{i}() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN NEW.touched := now(); RETURN NEW; END;\n$$;\nCREATE TRIGGER trg{i} BEFORE INSERT ON g{i} FOR EACH ROW EXECUTE FUNCTION trg{i}();"
            ),
            format!("DROP TABLE g{i};\nDROP FUNCTION trg{i}();"),
        ),
        3 => (
            format!(
                "DO $do$\nBEGIN\n  EXECUTE 'CREATE TABLE g{i} (id int)';\n  RAISE NOTICE 'made %', 'g{i};';\nEND\n$do$;\n/* a comment; with a semicolon */\nINSERT INTO g{i} VALUES (1)"
            ),
            format!("DROP TABLE g{i}"),
        ),
        _ => (
            format!(
                "CREATE TABLE g{i} (id int);\nCOMMENT ON TABLE g{i} IS E'semi;colon \\' quote';\n-- trailing comment"
            ),
            format!("DROP TABLE g{i};"),
        ),
    }
}

#[tokio::test]
async fn two_hundred_generated_revisions_apply_and_downgrade_to_base() {
    let mut project = project();
    for i in 1..=200 {
        let parent = if i == 1 {
            String::new()
        } else {
            format!("r{:03}", i - 1)
        };
        let (up, down) = generated(i);
        project = project.file(
            &format!("migrations/r{i:03}.sql"),
            &rev(
                &format!("r{i:03}"),
                &parent,
                &format!("rev {i}"),
                &up,
                Some(&down),
            ),
        );
    }
    project.devdb_ok(&["up"]);
    let url = project.url();
    assert_eq!(records(&url).await.len(), 200);
    assert_eq!(query(&url, "SELECT f1(3)").await.unwrap(), ["it's; 3;"]);
    assert_eq!(query(&url, "SELECT count(*) FROM g3").await.unwrap(), ["1"]);

    project.devdb_ok(&["downgrade", "base", "--yes"]);
    assert_eq!(records(&url).await, Vec::<String>::new());
    assert_eq!(
        query(
            &url,
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relname <> 'devdb_revisions' AND c.relname <> 'devdb_revisions_pkey'"
        )
        .await
        .unwrap(),
        ["0"]
    );
    assert_eq!(
        query(
            &url,
            "SELECT count(*) FROM pg_proc WHERE pronamespace = 'public'::regnamespace"
        )
        .await
        .unwrap(),
        ["0"]
    );
}

#[tokio::test]
async fn the_library_migrates_a_pool_to_head() {
    let project = linear(project(), 2);
    project.devdb_ok(&["up", "--no-migrate"]);
    let url = project.url();
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    let dir = project.path().join("migrations");

    let report = devdb::migrate_to_head(&pool, &dir).await.unwrap();
    let ids: Vec<&str> = report.applied.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["0001", "0002"]);
    assert_eq!(report.current, ["0002"]);
    let again = devdb::migrate_to_head(&pool, &dir).await.unwrap();
    assert!(again.applied.is_empty());
    assert_eq!(records(&url).await, ["0001", "0002"]);
    assert!(table_exists(&url, "t2").await);
    pool.close().await;
}

#[tokio::test]
async fn a_misspelt_down_marker_stops_migrate_before_its_down_sql_runs_as_up() {
    let project = linear(project(), 1);
    project.devdb_ok(&["up"]);
    let url = project.url();
    // Read as a comment, the marker would put `DROP TABLE t1` into the up section.
    let project = project.file(
        "migrations/0002_t2.sql",
        &rev(
            "0002",
            "0001",
            "create t2",
            "CREATE TABLE t2 (id int);\n\n-- devdb:dwon\nDROP TABLE t2;\nDROP TABLE t1;",
            None,
        ),
    );
    let output = project.devdb(&["migrate"]);
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{message}");
    assert!(
        message.contains("0002_t2.sql:8: `-- devdb:dwon` looks like a devdb marker")
            && message.contains("did you mean `-- devdb:down`?"),
        "{message}"
    );
    assert_eq!(records(&url).await, ["0001"]);
    assert!(table_exists(&url, "t1").await);
    assert!(!table_exists(&url, "t2").await);

    let check = project.devdb(&["check"]);
    assert_eq!(check.status.code(), Some(7), "{}", stderr(&check));
    assert!(
        stderr(&check).contains("-- devdb:dwon") || stdout(&check).contains("-- devdb:dwon"),
        "{}",
        stderr(&check)
    );
}

#[tokio::test]
async fn a_downgrade_reverts_only_the_plan_that_was_agreed_to() {
    let project = linear(project(), 3);
    project.devdb_ok(&["up"]);
    let url = project.url();
    let loaded = devdb::internal::load(&devdb::internal::LoadOptions {
        dir: project.path().to_path_buf(),
        file: None,
        project_name: Some(project.name.clone()),
        env_files: Vec::new(),
        environment: std::env::vars().collect(),
    })
    .unwrap();
    let server = devdb::pg::DatabaseUrl::parse(&url).unwrap();
    // The user agreed to revert 0003 alone; meanwhile the target became base.
    let options = devdb::migrate::DowngradeOptions {
        dry_run: false,
        approved: Some(vec!["0003".into()]),
    };
    let target: devdb::migrate::Target = "base".parse().unwrap();
    let error = devdb::internal::downgrade(
        &server,
        &loaded,
        &target,
        &options,
        &devdb::progress::Silent,
    )
    .await
    .unwrap_err();
    assert!(
        error.to_string().contains(
            "the answer was about 0003, and now it would be 0003, 0002, 0001; nothing was reverted"
        ),
        "{error}"
    );
    assert_eq!(records(&url).await, ["0001", "0002", "0003"]);
}
