//! Generated migrations a real database accepts, and the judgement around them: an enum
//! in quotes that loses a label, columns added NOT NULL to tables that hold rows, drops
//! and adds that are or are not renames; revisions with nothing but comments; messages
//! that would list hundreds of revisions.

use crate::autogen::{project, revision_files, round_trip, start_from};
use crate::common::{query, stderr, stdout};

/// Enums losing a label, their columns (plain, array, with a default) converted.
const ENUM_PAIRS: &[(&str, &str, &str)] = &[
    (
        "quoted_enum_loses_a_label",
        "CREATE TYPE \"DocumentStatus\" AS ENUM ('DRAFT', 'PUBLISHED', 'ARCHIVED'); \
         CREATE TABLE \"Document\" (\"id\" int PRIMARY KEY, \
           \"status\" \"DocumentStatus\" NOT NULL DEFAULT 'DRAFT', \"history\" \"DocumentStatus\"[]);",
        "CREATE TYPE \"DocumentStatus\" AS ENUM ('DRAFT', 'PUBLISHED'); \
         CREATE TABLE \"Document\" (\"id\" int PRIMARY KEY, \
           \"status\" \"DocumentStatus\" NOT NULL DEFAULT 'DRAFT', \"history\" \"DocumentStatus\"[]);",
    ),
    (
        "quoted_enum_in_a_quoted_schema_loses_a_label",
        "CREATE SCHEMA \"App\"; CREATE TYPE \"App\".\"Kind\" AS ENUM ('A', 'B', 'C'); \
         CREATE TABLE \"App\".\"Thing\" (\"id\" int PRIMARY KEY, \"kind\" \"App\".\"Kind\" DEFAULT 'A');",
        "CREATE SCHEMA \"App\"; CREATE TYPE \"App\".\"Kind\" AS ENUM ('A', 'C'); \
         CREATE TABLE \"App\".\"Thing\" (\"id\" int PRIMARY KEY, \"kind\" \"App\".\"Kind\" DEFAULT 'A');",
    ),
];

#[tokio::test]
async fn a_quoted_enum_that_loses_a_label_converts_its_columns() {
    let project = project();
    project.devdb_ok(&["up"]);
    let url = project.url();
    for (name, a, b) in ENUM_PAIRS {
        round_trip(&project, &url, name, a, b).await;
    }
}

/// `new --autogenerate --fail-on-destructive` towards `b` from `a` holding `rows`: its
/// standard error.
async fn refused(a: &str, rows: &str, b: &str) -> (bool, String, String) {
    let project = project();
    project.devdb_ok(&["up"]);
    let url = project.url();
    start_from(&project, &url, a, b).await;
    if !rows.is_empty() {
        query(&url, rows).await.unwrap();
    }
    let output = project.devdb(&["new", "--autogenerate", "--fail-on-destructive", "-m", "x"]);
    let text = revision_files(&project)
        .get(1)
        .map(|f| std::fs::read_to_string(f).unwrap())
        .unwrap_or_default();
    (!output.status.success(), stderr(&output), text)
}

#[tokio::test]
async fn a_not_null_column_without_default_on_a_table_with_rows_is_flagged() {
    let a = "CREATE TABLE item (id int PRIMARY KEY);";
    let b = "CREATE TABLE item (id int PRIMARY KEY, code text NOT NULL, kept text NOT NULL DEFAULT 'k');";
    let (failed, err, _) = refused(a, "INSERT INTO item VALUES (1)", b).await;
    assert!(failed, "flagged: {err}");
    assert!(
        err.contains("add column item.code: NOT NULL without a default, and item holds rows"),
        "{err}"
    );
    assert!(!err.contains("item.kept"), "a default fills it: {err}");

    let (failed, err, text) = refused(a, "", b).await;
    assert!(!failed, "an empty table takes it: {err}");
    let up = &text[..text.find("-- devdb:down").unwrap()];
    assert!(!up.contains("-- DESTRUCTIVE"), "{text}");
}

#[tokio::test]
async fn a_drop_and_an_add_that_cannot_be_a_rename_is_not_called_one() {
    let a = "CREATE TABLE item (id int PRIMARY KEY, note text);";
    let b = "CREATE TABLE item (id int PRIMARY KEY, status text NOT NULL DEFAULT 'new');";
    let project = project();
    project.devdb_ok(&["up"]);
    let url = project.url();
    start_from(&project, &url, a, b).await;
    project.devdb_ok(&["new", "--autogenerate", "-m", "x"]);
    let text = std::fs::read_to_string(&revision_files(&project)[1]).unwrap();
    let up = &text[..text.find("-- devdb:down").unwrap()];
    assert!(!up.contains("possible rename"), "{text}");
}

fn write_revision(project: &crate::common::TestProject, id: &str, parent: &str, body: &str) {
    let dir = project.path().join("migrations");
    std::fs::create_dir_all(&dir).unwrap();
    let parents = if parent.is_empty() {
        String::new()
    } else {
        format!("-- devdb:parents {parent}\n")
    };
    std::fs::write(
        dir.join(format!("{id}_r.sql")),
        format!("-- devdb:revision {id}\n{parents}-- devdb:message r {id}\n\n{body}"),
    )
    .unwrap();
}

#[tokio::test]
async fn a_revision_of_comments_only_applies_and_is_recorded() {
    let project = crate::common::TestProject::new().compose(&crate::common::simple_compose());
    write_revision(
        &project,
        "0001",
        "",
        "-- devdb:up\nCREATE TABLE t (id int);\n",
    );
    write_revision(
        &project,
        "0002",
        "0001",
        "-- devdb:up\n-- nothing to do here: the data moved in 0001\n\n  \n-- devdb:down\n-- nor here\n",
    );
    project.devdb_ok(&["up"]);
    let url = project.url();
    let ids = query(&url, "SELECT id FROM devdb_revisions ORDER BY id")
        .await
        .unwrap();
    assert_eq!(ids, ["0001", "0002"]);
    let output = project.devdb(&["downgrade", "-1", "--yes"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let ids = query(&url, "SELECT id FROM devdb_revisions ORDER BY id")
        .await
        .unwrap();
    assert_eq!(ids, ["0001"]);
    project.devdb_ok(&["migrate"]);
}

#[tokio::test]
async fn hundreds_of_unknown_revisions_are_cut_to_a_few() {
    let project = crate::common::TestProject::new().compose(&crate::common::simple_compose());
    write_revision(
        &project,
        "0001",
        "",
        "-- devdb:up\nCREATE TABLE t (id int);\n",
    );
    project.devdb_ok(&["up"]);
    let url = project.url();
    query(
        &url,
        "INSERT INTO devdb_revisions (id, checksum, message, duration_ms) \
         SELECT 'gone' || lpad(n::text, 3, '0'), 'x', 'gone', 0 FROM generate_series(1, 300) n",
    )
    .await
    .unwrap();
    let output = project.devdb(&["migrate"]);
    assert!(!output.status.success());
    let err = stderr(&output);
    assert!(err.contains("gone001, gone002"), "{err}");
    assert!(!err.contains("gone300"), "{err}");
    assert!(err.contains("and 295 more"), "{err}");
    assert!(err.contains("lists them all"), "{err}");
    let status = project.devdb(&["status"]);
    assert!(!stdout(&status).contains("gone300"), "{}", stdout(&status));
}
