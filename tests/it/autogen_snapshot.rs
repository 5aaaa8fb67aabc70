//! `new --autogenerate` on a realistic project, kept as a snapshot.
//!
//! `tests/fixtures/autogen/realistic/head.sql` is what the migrations build (three schemas,
//! 40 tables, a few hundred objects); `declared.sql` is the declarative schema after one
//! development step. The generated revision, its id masked, must equal the snapshot
//! `tests/fixtures/autogen/realistic/generated.snap`, and it must apply and revert cleanly.
//!
//! When the generator changes on purpose, the test fails and shows the difference. Review
//! it, then rewrite the snapshot with
//!
//! ```text
//! INSTA_UPDATE=always cargo test --test it realistic
//! ```
//!
//! and read `git diff tests/fixtures/autogen/realistic/generated.snap` before committing:
//! the snapshot is only worth something if a person has read the SQL. Without
//! `INSTA_UPDATE`, a mismatch fails the test (outside CI insta also leaves a
//! `generated.snap.new` next to the snapshot, which is not committed; with `CI` set it
//! writes nothing).

use std::path::PathBuf;

use crate::common::{TestProject, compose_with, repo_root, stderr, stdout};

fn fixture(name: &str) -> String {
    let path = fixtures().join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn fixtures() -> PathBuf {
    repo_root().join("tests/fixtures/autogen/realistic")
}

/// The revision file with its random id replaced, so that it is the same on every run.
fn stable(revision: &str) -> String {
    revision
        .lines()
        .map(|line| {
            if line.starts_with("-- devdb:revision ") {
                "-- devdb:revision <id>"
            } else {
                line
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// How many objects (columns, constraints and triggers included) a database holds.
async fn object_count(url: &str) -> usize {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    devdb::internal::read_catalog(&mut conn, &devdb::internal::ReadOptions::default())
        .await
        .unwrap()
        .object_count()
}

fn ok(project: &TestProject, args: &[&str], context: &str) {
    let output = project.devdb(args);
    assert!(
        output.status.success(),
        "devdb {args:?} failed{context}:\n{}\n{}",
        stdout(&output),
        stderr(&output)
    );
}

#[tokio::test]
async fn realistic_autogenerate_matches_its_snapshot_and_round_trips() {
    let compose = compose_with(
        "      POSTGRES_USER: app\n      POSTGRES_PASSWORD: app-secret\n      POSTGRES_DB: appdb",
        "",
    ) + "x-devdb:\n  schema: ../schema.sql\n";
    let project = TestProject::new()
        .compose(&compose)
        .file(
            "migrations/0001_head.sql",
            &format!(
                "-- devdb:revision 0001\n-- devdb:message head\n\n-- devdb:up\n{}\n",
                fixture("head.sql")
            ),
        )
        .file("schema.sql", &fixture("declared.sql"));
    project.devdb_ok(&["up"]);
    let url = project.url();
    let objects = object_count(&url).await;
    assert!(
        (300..1000).contains(&objects),
        "head.sql should build a few hundred objects, not {objects}"
    );

    let output = project.devdb(&["new", "--autogenerate", "-m", "realistic step"]);
    assert!(
        output.status.success(),
        "autogenerate failed:\n{}",
        stderr(&output)
    );
    let mut files: Vec<_> = std::fs::read_dir(project.path().join("migrations"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.ends_with("0001_head.sql"))
        .collect();
    assert_eq!(files.len(), 1, "one revision written: {files:?}");
    let generated = std::fs::read_to_string(files.pop().unwrap()).unwrap();

    insta::with_settings!({
        snapshot_path => fixtures(),
        prepend_module_to_snapshot => false,
        omit_expression => true,
        description => "new --autogenerate from head.sql to declared.sql",
    }, {
        insta::assert_snapshot!("generated", stable(&generated));
    });

    let context = format!(" with the generated revision:\n{generated}\n");
    ok(&project, &["migrate"], &context);
    ok(&project, &["check", "--schema"], " after up");
    ok(&project, &["check"], " after up");
    ok(&project, &["downgrade", "-1", "--yes"], &context);
    // Only head is recorded now: check compares the database with it object by object.
    ok(
        &project,
        &["check"],
        " after down (the database is not head)",
    );
    assert_eq!(object_count(&url).await, objects, "down brought head back");
}
