//! `clone`: databases copied from the migrated, seeded template; the template rebuilt when
//! the files change; concurrent clones; `clone --drop` and `clone --prune`.

use serde_json::Value;

use crate::common::{TestProject, query, stderr, stdout};
use crate::ephemeral::migrated_project;

fn clone(project: &TestProject, extra: &[&str]) -> Value {
    let mut args = vec!["clone", "--json", "--show-password"];
    args.extend(extra);
    let text = project.devdb_ok(&args);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn url(report: &Value) -> &str {
    report["database_url"].as_str().unwrap()
}

async fn database_exists(server_url: &str, name: &str) -> bool {
    let count = query(
        server_url,
        &format!("SELECT count(*)::int FROM pg_database WHERE datname = '{name}'"),
    )
    .await
    .unwrap();
    count == ["1"]
}

#[tokio::test]
async fn a_clone_is_migrated_and_seeded_and_independent_of_its_siblings() {
    let project = migrated_project();
    project.devdb_ok(&["up"]);
    let server = project.url();
    let a = clone(&project, &[]);
    let b = clone(&project, &["--name", "mine"]);
    assert_eq!(b["name"], "mine");
    assert!(url(&b).ends_with("/mine") && url(&b).contains(":app-secret@"));
    assert_eq!(a["template_built"], true);
    assert_eq!(b["template_built"], false);
    assert_eq!(a["template"], b["template"]);
    for db in [&a, &b] {
        assert_eq!(
            query(url(db), "SELECT name FROM items ORDER BY name")
                .await
                .unwrap(),
            ["apple", "pear"]
        );
        assert_eq!(
            query(url(db), "SELECT id FROM devdb_revisions")
                .await
                .unwrap(),
            ["0001"]
        );
    }
    query(url(&a), "INSERT INTO items VALUES ('plum')")
        .await
        .unwrap();
    query(url(&b), "DROP TABLE items").await.unwrap();
    assert_eq!(
        query(url(&a), "SELECT count(*)::int FROM items")
            .await
            .unwrap(),
        ["3"]
    );
    let again = clone(&project, &[]);
    assert_eq!(
        query(url(&again), "SELECT count(*)::int FROM items")
            .await
            .unwrap(),
        ["2"],
        "the template is untouched by its clones"
    );

    let output = project.devdb(&["clone", "--name", "mine"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("already exists"),
        "{}",
        stderr(&output)
    );

    project.devdb_ok(&["clone", "--drop", "mine"]);
    assert!(!database_exists(&server, "mine").await);
    let output = project.devdb(&["clone", "--drop", "appdb"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("not a clone made by devdb"),
        "{}",
        stderr(&output)
    );
    assert!(database_exists(&server, "appdb").await);

    let pruned: Value =
        serde_json::from_str(&project.devdb_ok(&["clone", "--prune", "--json"])).unwrap();
    let mut dropped: Vec<&str> = pruned["dropped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    dropped.sort();
    let mut expected = vec![a["name"].as_str().unwrap(), again["name"].as_str().unwrap()];
    expected.sort();
    assert_eq!(dropped, expected);
    assert!(database_exists(&server, a["template"].as_str().unwrap()).await);
}

#[tokio::test]
async fn twenty_concurrent_clones_all_succeed() {
    let project = migrated_project();
    project.devdb_ok(&["up"]);
    let outputs: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..20)
            .map(|_| {
                let mut command = project.command(&["clone", "--json", "--show-password"]);
                scope.spawn(move || command.output().unwrap())
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut names = Vec::new();
    let mut built = 0;
    for output in &outputs {
        assert!(output.status.success(), "{}", stderr(output));
        let report: Value = serde_json::from_str(&stdout(output)).unwrap();
        if report["template_built"] == true {
            built += 1;
        }
        assert_eq!(
            query(url(&report), "SELECT count(*)::int FROM items")
                .await
                .unwrap(),
            ["2"]
        );
        names.push(report["name"].as_str().unwrap().to_string());
    }
    assert_eq!(built, 1, "one template build for twenty clones");
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 20);
}

#[tokio::test]
async fn the_template_is_rebuilt_when_a_migration_changes_and_reused_otherwise() {
    let project = migrated_project();
    project.devdb_ok(&["up"]);
    let server = project.url();
    let first = clone(&project, &[]);
    let second = clone(&project, &[]);
    assert_eq!(first["template_built"], true);
    assert_eq!(second["template_built"], false, "no file changed");
    assert_eq!(first["template"], second["template"]);

    let project = project.file(
        "migrations/0002_prices.sql",
        "-- devdb:revision 0002\n-- devdb:parents 0001\n-- devdb:message prices\n\n-- devdb:up\nCREATE TABLE prices (cents int);\n",
    );
    let third = clone(&project, &[]);
    assert_eq!(third["template_built"], true, "a new migration file");
    assert_ne!(third["template"], first["template"]);
    assert!(query(url(&third), "SELECT * FROM prices").await.is_ok());
    assert!(query(url(&first), "SELECT * FROM prices").await.is_err());
    assert!(
        !database_exists(&server, first["template"].as_str().unwrap()).await,
        "the old template is dropped"
    );
    let fourth = clone(&project, &[]);
    assert_eq!(fourth["template_built"], false);

    let project = project.file(
        "migrations/seeds/02_more.sql",
        "INSERT INTO items VALUES ('fig');\n",
    );
    let fifth = clone(&project, &[]);
    assert_eq!(fifth["template_built"], true, "a new seed file");
    assert_eq!(
        query(url(&fifth), "SELECT count(*)::int FROM items")
            .await
            .unwrap(),
        ["3"]
    );
}
