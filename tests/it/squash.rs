//! `squash` over a chain that leaves rows in its tables (`tests/fixtures/squash/reference_rows`):
//! a database built from the baseline has the chain's schema and rows, a second squash
//! folds the first baseline in, and every database the chain or a baseline built keeps
//! migrating. A baseline that does not reproduce the rows is refused, with nothing written.

use std::collections::BTreeMap;
use std::path::Path;

use crate::common::{TestProject, query, repo_root, simple_compose, stderr};

/// A project whose migrations are the fixture's revision files.
fn reference_rows() -> TestProject {
    let fixture = repo_root().join("tests/fixtures/squash/reference_rows");
    let mut project = TestProject::new().compose(&simple_compose());
    for name in sql_files(&fixture) {
        let text = std::fs::read_to_string(fixture.join(&name)).unwrap();
        project = project.file(&format!("migrations/{name}"), &text);
    }
    project
}

/// The names of the `.sql` files directly in `dir`, sorted.
fn sql_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".sql"))
        .collect();
    names.sort();
    names
}

/// Replaces the revision files of `to` by those of `from` (the archive stays behind).
fn copy_migrations(from: &TestProject, to: &TestProject) {
    let (from, to) = (from.path().join("migrations"), to.path().join("migrations"));
    for name in sql_files(&to) {
        std::fs::remove_file(to.join(name)).unwrap();
    }
    for name in sql_files(&from) {
        std::fs::copy(from.join(&name), to.join(&name)).unwrap();
    }
}

/// What the database behind `url` holds, table by table (`schema.table` to its row count
/// and an md5 of its rows' text, sorted) and sequence by sequence (its last value), devdb's
/// own record tables left out.
pub(crate) async fn rows(url: &str) -> BTreeMap<String, String> {
    let tables = query(
        url,
        "SELECT format('%I.%I', schemaname, tablename) FROM pg_catalog.pg_tables \
         WHERE schemaname NOT IN ('pg_catalog', 'information_schema') \
         AND tablename NOT IN ('devdb_revisions', 'devdb_seeds') ORDER BY 1",
    )
    .await
    .unwrap();
    let mut found = BTreeMap::new();
    for table in tables {
        let facts = query(
            url,
            &format!(
                "SELECT count(*) || ' rows, md5 ' || coalesce(md5(string_agg(r, E'\\n' ORDER BY r COLLATE \"C\")), '') \
                 FROM (SELECT ROW(t.*)::text AS r FROM {table} AS t) AS x"
            ),
        )
        .await
        .unwrap();
        found.insert(table, facts.concat());
    }
    let sequences = query(
        url,
        "SELECT format('%I.%I at %s', schemaname, sequencename, coalesce(last_value::text, 'start')) \
         FROM pg_catalog.pg_sequences ORDER BY 1",
    )
    .await
    .unwrap();
    for sequence in sequences {
        let (name, at) = sequence.split_once(" at ").unwrap();
        found.insert(format!("sequence {name}"), at.to_string());
    }
    found
}

/// The revisions the database behind `url` records, sorted.
async fn records(url: &str) -> Vec<String> {
    query(url, "SELECT id FROM public.devdb_revisions ORDER BY id")
        .await
        .unwrap()
}

fn sorted(ids: &[&str]) -> Vec<String> {
    let mut ids: Vec<String> = ids.iter().map(|id| id.to_string()).collect();
    ids.sort();
    ids
}

/// Runs `squash` with `args` and returns its JSON report and its progress lines.
fn squash(project: &TestProject, args: &[&str]) -> (serde_json::Value, String) {
    let mut all = vec!["squash", "--yes", "--json"];
    all.extend_from_slice(args);
    let output = project.devdb(&all);
    let err = stderr(&output);
    assert!(output.status.success(), "devdb {all:?}: {err}");
    (serde_json::from_slice(&output.stdout).unwrap(), err)
}

/// New rows get ids after the chain's: the baseline set the sequences where the chain
/// left them.
async fn new_rows_fit(url: &str) {
    let role = query(
        url,
        "INSERT INTO role (name) VALUES ('auditor') RETURNING id",
    )
    .await
    .unwrap();
    assert_eq!(role, ["5"]);
    let account = query(
        url,
        "INSERT INTO account (email, role_id) VALUES ('audit@example.com', 5) RETURNING id::int",
    )
    .await
    .unwrap();
    assert_eq!(account, ["3"]);
}

#[tokio::test]
async fn squashing_twice_keeps_the_chains_rows_and_every_database_migrates_past_both() {
    // The old database: built by the chain itself.
    let old = reference_rows();
    old.devdb_ok(&["up"]);
    let old_url = old.url();
    let chain = rows(&old_url).await;
    assert_eq!(
        chain["public.account_audit"].split(',').next(),
        Some("3 rows"),
        "{chain:?}"
    );

    let (first, progress) = squash(&old, &["-m", "first", "--to", "0003"]);
    let first_id = first["baseline"].as_str().unwrap().to_string();
    assert_eq!(
        first["replaces"],
        serde_json::json!(["0001", "0002", "0003"])
    );
    let text = std::fs::read_to_string(first["path"].as_str().unwrap()).unwrap();
    assert!(
        !text.contains("COPY "),
        "the runner cannot send COPY data:\n{text}"
    );
    old.devdb_ok(&["migrate"]);

    // A database built from the first baseline has what the chain left, and new rows fit.
    let fresh = TestProject::new().compose(&simple_compose());
    std::fs::create_dir_all(fresh.path().join("migrations")).unwrap();
    copy_migrations(&old, &fresh);
    fresh.devdb_ok(&["up"]);
    let fresh_url = fresh.url();
    assert_eq!(rows(&fresh_url).await, chain);
    assert_eq!(
        records(&fresh_url).await,
        sorted(&[&first_id, "0004", "0005"])
    );
    fresh.devdb_ok(&["check"]);
    // Squash said so: rows were compared as well as objects.
    assert!(
        progress.contains("objects and 12 rows in 5 tables"),
        "{progress}"
    );
    assert_eq!(first["rows"], 12, "{first}");
    assert_eq!(first["tables"], 5, "{first}");

    // The second squash folds the first baseline in and replaces what it replaced too.
    let (second, _) = squash(&old, &["-m", "second"]);
    let second_id = second["baseline"].as_str().unwrap().to_string();
    assert_eq!(
        second["replaces"],
        serde_json::json!(["0001", "0002", "0003", first_id, "0004", "0005"])
    );
    let next = format!(
        "-- devdb:revision 0006\n-- devdb:parents {second_id}\n-- devdb:message Italian\n\n\
         -- devdb:up\nINSERT INTO language (code, name) VALUES ('it', 'Italian');\n"
    );
    let old = old.file("migrations/0006_italian.sql", &next);
    copy_migrations(&old, &fresh);

    // The old database (it recorded 0001 to 0005 and the first baseline) and the one built
    // from the first baseline both migrate past the second.
    for (project, url) in [(&old, &old_url), (&fresh, &fresh_url)] {
        let migrated: serde_json::Value =
            serde_json::from_str(&project.devdb_ok(&["migrate", "--json"])).unwrap();
        assert_eq!(migrated["baselines"], serde_json::json!([second_id]));
        assert_eq!(migrated["applied"][0]["id"], "0006", "{migrated}");
        project.devdb_ok(&["check"]);
        assert_eq!(project.devdb_ok(&["current"]), "0006 Italian (head)");
        assert!(records(url).await.contains(&second_id));
    }
    let after = rows(&old_url).await;
    assert_eq!(rows(&fresh_url).await, after);

    // A database built from the second baseline has the same rows as both.
    old.devdb_ok(&["reset", "--yes"]);
    let new_url = old.url();
    assert_eq!(records(&new_url).await, sorted(&[&second_id, "0006"]));
    assert_eq!(rows(&new_url).await, after);
    old.devdb_ok(&["check"]);
    new_rows_fit(&new_url).await;
    new_rows_fit(&fresh_url).await;
}

#[tokio::test]
async fn a_baseline_that_does_not_reproduce_the_rows_is_refused_and_nothing_is_written() {
    // The label is computed by a function that reads another table although it says it
    // is IMMUTABLE: the chain renames the language after the row was written, a baseline
    // computes the label again when it loads the row, so the row comes out different.
    let project = reference_rows().file(
        "migrations/0006_greeting.sql",
        "-- devdb:revision 0006\n-- devdb:parents 0005\n-- devdb:message greetings\n\n-- devdb:up\n\
         CREATE FUNCTION language_name(wanted text) RETURNS text LANGUAGE plpgsql IMMUTABLE\n\
             AS $$ BEGIN RETURN (SELECT name FROM public.language WHERE code = wanted); END $$;\n\
         CREATE TABLE greeting (code text PRIMARY KEY, label text GENERATED ALWAYS AS (public.language_name(code)) STORED);\n\
         INSERT INTO greeting (code) VALUES ('de');\n\
         UPDATE language SET name = 'Deutsch' WHERE code = 'de';\n",
    );
    project.devdb_ok(&["up"]);
    let migrations = project.path().join("migrations");
    let before = sql_files(&migrations);

    let output = project.devdb(&["squash", "-m", "baseline", "--yes"]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(
        err.contains("does not reproduce the rows") && err.contains("public.greeting"),
        "{err}"
    );
    assert!(err.contains("1 row"), "{err}");
    assert!(!err.contains("verified"), "{err}");
    assert_eq!(sql_files(&migrations), before);
    assert!(!migrations.join("archive").exists());
    assert!(!project.path().join("backups").exists());
}
