//! `clone`: databases copied from the migrated, seeded template; the template rebuilt when
//! the files change; concurrent clones; `clone --drop` and `clone --prune`; all of it on a
//! server devdb did not start (`--server`, `--database-url`, `DATABASE_URL`).

use std::process::Output;

use serde_json::Value;

use crate::by_url::{DEAD_ENGINE, PASSWORD, foreign_server};
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

/// `clone` on a server of the test's own, with the Docker engine out of the way.
fn clone_on(project: &TestProject, extra: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = project.command(&["clone"]);
    command.args(extra).env("DOCKER_HOST", DEAD_ENGINE);
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("running devdb")
}

fn report_of(output: &Output) -> Value {
    let (out, err) = (stdout(output), stderr(output));
    assert!(output.status.success(), "clone failed:\n{out}\n{err}");
    assert!(!err.contains(PASSWORD), "the password leaked: {err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

#[tokio::test]
async fn clones_on_a_server_named_by_url_build_one_template_and_drop_only_devdbs_clones() {
    let project = migrated_project();
    let port = foreign_server(&project).await;
    let server = format!("postgresql://postgres:{PASSWORD}@127.0.0.1:{port}/extdb");
    let json = ["--json", "--show-password"];

    // Four CI jobs at once on a fresh server, two of them naming another of its databases
    // (advisory locks are per database): one template build, four clones.
    let on_postgres = format!("postgresql://postgres:{PASSWORD}@127.0.0.1:{port}/postgres");
    let outputs: Vec<Output> = std::thread::scope(|scope| {
        let handles: Vec<_> = [&server, &on_postgres, &server, &on_postgres]
            .into_iter()
            .map(|url| {
                let args = [&json[..], &["--server", url]].concat();
                let project = &project;
                scope.spawn(move || clone_on(project, &args, &[]))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let reports: Vec<Value> = outputs.iter().map(report_of).collect();
    let built = reports
        .iter()
        .filter(|r| r["template_built"] == true)
        .count();
    assert_eq!(built, 1, "one template build for four clones: {reports:?}");
    for report in &reports {
        assert!(
            url(report).contains(&format!("@127.0.0.1:{port}/")),
            "{report}"
        );
        assert_eq!(
            query(url(report), "SELECT name FROM items ORDER BY name")
                .await
                .unwrap(),
            ["apple", "pear"],
            "migrated and seeded"
        );
    }
    let template = reports[0]["template"].as_str().unwrap().to_string();

    // The same flag under its other name, and DATABASE_URL when no container runs.
    let by_flag = report_of(&clone_on(
        &project,
        &[&json[..], &["--database-url", &server, "--name", "by_flag"]].concat(),
        &[],
    ));
    assert_eq!(by_flag["template_built"], false);
    let from_env = clone_on(&project, &json, &[("DATABASE_URL", &server)]);
    assert!(
        stderr(&from_env).contains("DATABASE_URL from the environment"),
        "{}",
        stderr(&from_env)
    );
    let from_env = report_of(&from_env);
    assert_eq!(
        query(url(&from_env), "SELECT count(*)::int FROM items")
            .await
            .unwrap(),
        ["2"]
    );

    // --drop and --prune touch devdb's clones only.
    query(&server, "CREATE DATABASE keepme").await.unwrap();
    let refused = clone_on(&project, &["--drop", "keepme", "--server", &server], &[]);
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    assert!(stderr(&refused).contains("not a clone made by devdb"));
    let dropped = clone_on(&project, &["--drop", "by_flag", "--server", &server], &[]);
    assert!(dropped.status.success(), "{}", stderr(&dropped));
    assert!(!database_exists(&server, "by_flag").await);
    let pruned = report_of(&clone_on(
        &project,
        &["--prune", "--json", "--server", &server],
        &[],
    ));
    let mut names: Vec<&str> = pruned["dropped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    names.sort();
    let mut expected: Vec<&str> = reports
        .iter()
        .chain([&from_env])
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    expected.sort();
    assert_eq!(names, expected);
    for kept in ["keepme", "extdb", template.as_str()] {
        assert!(database_exists(&server, kept).await, "{kept} was kept");
    }

    // New files on a shared server: a new template, and the other one kept, since another
    // branch's jobs may be cloning it right now.
    let project = project.file(
        "migrations/0002_prices.sql",
        "-- devdb:revision 0002\n-- devdb:parents 0001\n-- devdb:message prices\n\n-- devdb:up\nCREATE TABLE prices (cents int);\n",
    );
    let changed = report_of(&clone_on(
        &project,
        &[&json[..], &["--server", &server]].concat(),
        &[],
    ));
    assert_eq!(changed["template_built"], true);
    assert_ne!(changed["template"], template.as_str());
    assert!(query(url(&changed), "SELECT * FROM prices").await.is_ok());
    assert!(
        database_exists(&server, &template).await,
        "the old template is kept"
    );

    // A user without CREATEDB is told what to grant.
    query(&server, "CREATE ROLE plain LOGIN PASSWORD 'plain-pw'")
        .await
        .unwrap();
    let plain = format!("postgresql://plain:plain-pw@127.0.0.1:{port}/extdb");
    let refused = clone_on(&project, &["--server", &plain], &[]);
    let err = stderr(&refused);
    assert_eq!(refused.status.code(), Some(1), "{err}");
    assert!(
        err.contains("the user plain may not create databases"),
        "{err}"
    );
    assert!(err.contains("hint: ") && err.contains("CREATEDB"), "{err}");
    assert!(!err.contains("plain-pw"), "{err}");
}

#[tokio::test]
async fn a_server_that_refuses_the_connection_is_named_with_a_hint() {
    let project = migrated_project();
    let output = clone_on(
        &project,
        &["--server", "postgresql://app:pw-secret@127.0.0.1:1/db"],
        &[],
    );
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(
        err.contains("cannot connect to the database at postgresql://app:***@127.0.0.1:1/db"),
        "{err}"
    );
    assert!(
        err.contains("hint: check that the server is running"),
        "{err}"
    );
    assert!(!err.contains("pw-secret"), "{err}");
}
