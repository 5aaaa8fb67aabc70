//! The library's test helper, `devdb::testing::TestDatabase`: a clone per test on the
//! project's running database or on a shared ephemeral server; dropped after a passing test,
//! kept after a failing one. With `DEVDB_SERVER` on any Postgres, and with `DATABASE_URL` and
//! `DEVDB_EPHEMERAL_ID` on the CI job's ephemeral server: the environment is the process's,
//! so those tests run a child test of this binary with the environment set.

use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use devdb::testing::TestDatabase;

use crate::by_url::{DEAD_ENGINE, PASSWORD, foreign_server};
use crate::common::{TestProject, image, query, stderr, stdout};
use crate::ephemeral::{Ephemerals, migrated_project};

fn builder(project: &TestProject) -> devdb::testing::TestDatabaseBuilder {
    TestDatabase::builder()
        .project_dir(project.path())
        .project_name(&project.name)
}

async fn exists(server_url: &str, name: &str) -> bool {
    query(
        server_url,
        &format!("SELECT count(*)::int FROM pg_database WHERE datname = '{name}'"),
    )
    .await
    .unwrap()
        == ["1"]
}

#[tokio::test]
async fn a_test_database_is_migrated_seeded_private_and_dropped_after_the_test() {
    let project = migrated_project();
    project.devdb_ok(&["up"]);
    let server = project.url();

    let one = builder(&project).build().await.unwrap();
    let two = builder(&project).build().await.unwrap();
    assert_ne!(one.name(), two.name());
    let count: i32 = sqlx::query_scalar("SELECT count(*)::int FROM items")
        .fetch_one(one.pool())
        .await
        .unwrap();
    assert_eq!(count, 2, "migrated and seeded");
    sqlx::query("DELETE FROM items")
        .execute(one.pool())
        .await
        .unwrap();
    assert_eq!(
        query(&two.url(), "SELECT count(*)::int FROM items")
            .await
            .unwrap(),
        ["2"],
        "each test has its own"
    );

    let (first, second) = (one.name().to_string(), two.name().to_string());
    assert!(exists(&server, &first).await);
    drop(one);
    drop(two);
    assert!(!exists(&server, &first).await, "dropped with the value");
    assert!(!exists(&server, &second).await);
}

#[tokio::test]
async fn a_failing_test_keeps_its_database() {
    let project = migrated_project();
    project.devdb_ok(&["up"]);
    let server = project.url();

    let name = Arc::new(Mutex::new(String::new()));
    let seen = name.clone();
    let dir = project.path().to_path_buf();
    let project_name = project.name.clone();
    // A test of its own that fails: a thread with its own runtime, as #[tokio::test] makes.
    let failed = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let db = TestDatabase::builder()
                .project_dir(dir)
                .project_name(project_name)
                .build()
                .await
                .unwrap();
            *seen.lock().unwrap() = db.name().to_string();
            panic!("a deliberate failure, to see the database kept");
        })
    })
    .join();
    assert!(failed.is_err());
    let name = name.lock().unwrap().clone();
    assert!(exists(&server, &name).await, "kept for inspection");
    project.devdb_ok(&["clone", "--drop", &name]);
    assert!(!exists(&server, &name).await);
}

#[tokio::test]
async fn without_a_running_database_the_tests_share_one_ephemeral_server() {
    image();
    let project = migrated_project();
    let guard = Ephemerals::of(&project);
    let (one, two) = tokio::join!(builder(&project).build(), builder(&project).build());
    let (one, two) = (one.unwrap(), two.unwrap());
    let server = |url: &str| url.rsplit_once('/').unwrap().0.to_string();
    assert_eq!(server(&one.url()), server(&two.url()), "one shared server");
    assert_eq!(guard.containers().len(), 1);
    let count: i32 = sqlx::query_scalar("SELECT count(*)::int FROM items")
        .fetch_one(two.pool())
        .await
        .unwrap();
    assert_eq!(count, 2);
    let name = one.name().to_string();
    drop(one);
    assert!(!exists(&two.url(), &name).await);
}

/// What the child test does: two test databases of the project the parent names, checked
/// and printed (`devdb-child NAME URL`); with `DEVDB_IT_PANIC` the second one's test fails.
#[tokio::test]
#[ignore = "a child process of the tests below, run by them with the environment they set"]
async fn child_makes_two_test_databases() {
    let dir = std::env::var("DEVDB_IT_DIR").expect("run by its parent test");
    let name = std::env::var("DEVDB_IT_NAME").expect("run by its parent test");
    let build = || {
        TestDatabase::builder()
            .project_dir(&dir)
            .project_name(&name)
            .build()
    };
    let (one, two) = tokio::join!(build(), build());
    let (one, two) = (one.unwrap(), two.unwrap());
    for db in [&one, &two] {
        let count: i32 = sqlx::query_scalar("SELECT count(*)::int FROM items")
            .fetch_one(db.pool())
            .await
            .unwrap();
        assert_eq!(count, 2, "migrated and seeded");
        println!("devdb-child {} {}", db.name(), db.url());
    }
    drop(one);
    if std::env::var_os("DEVDB_IT_PANIC").is_some() {
        panic!("a deliberate failure, to see the database kept");
    }
}

/// Runs the child test for `project` with `env` (and none of the server variables of this
/// process); its output and the databases it printed.
fn child(project: &TestProject, env: &[(&str, &str)]) -> (Output, Vec<(String, String)>) {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([
            "testing::child_makes_two_test_databases",
            "--exact",
            "--include-ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env_remove("DEVDB_SERVER")
        .env_remove("DATABASE_URL")
        .env_remove("DEVDB_EPHEMERAL_ID")
        .env_remove("DEVDB_IT_PANIC")
        .env("DEVDB_IMAGE", image())
        .env("DEVDB_IT_DIR", project.path())
        .env("DEVDB_IT_NAME", &project.name);
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().unwrap();
    let databases = stdout(&output)
        .lines()
        // libtest's `test NAME ... ` may share the first line.
        .filter_map(|line| line.split_once("devdb-child ").map(|(_, rest)| rest))
        .map(|rest| {
            let (name, url) = rest.split_once(' ').unwrap();
            (name.to_string(), url.to_string())
        })
        .collect();
    (output, databases)
}

fn assert_success(output: &Output) {
    assert!(
        output.status.success(),
        "the child test failed:\n{}\n{}",
        stdout(output),
        stderr(output)
    );
}

#[tokio::test]
async fn devdb_server_gives_each_test_a_clone_on_any_postgres_without_docker() {
    image();
    let project = migrated_project();
    let ephemerals = Ephemerals::of(&project);
    let port = foreign_server(&project).await;
    let server = format!("postgresql://postgres:{PASSWORD}@127.0.0.1:{port}/extdb");
    let env = [
        ("DEVDB_SERVER", server.as_str()),
        ("DOCKER_HOST", DEAD_ENGINE),
    ];

    let (output, databases) = child(&project, &env);
    assert_success(&output);
    assert_eq!(databases.len(), 2, "{}", stdout(&output));
    for (name, url) in &databases {
        assert!(url.contains(&format!("@127.0.0.1:{port}/{name}")), "{url}");
        assert!(!exists(&server, name).await, "dropped after the test");
    }
    let templates = "SELECT count(*)::int FROM pg_database WHERE datname LIKE 'devdb\\_tpl\\_%'";
    assert_eq!(query(&server, templates).await.unwrap(), ["1"]);
    assert!(ephemerals.containers().is_empty(), "no server started");

    // A failing test keeps its database, and says how to remove it from that server.
    let (output, databases) = child(&project, &[&env[..], &[("DEVDB_IT_PANIC", "1")]].concat());
    assert!(!output.status.success());
    let err = stderr(&output);
    let (passed, failed) = (&databases[0].0, &databases[1].0);
    assert!(
        err.contains(&format!("kept its database {failed}")),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "`devdb clone --server postgresql://postgres:***@127.0.0.1:{port}/extdb --drop {failed}`"
        )),
        "{err}"
    );
    assert!(!exists(&server, passed).await);
    assert!(exists(&server, failed).await, "kept for inspection");
    let dropped = project
        .command(&["clone", "--server", &server, "--drop", failed])
        .env("DOCKER_HOST", DEAD_ENGINE)
        .output()
        .unwrap();
    assert!(dropped.status.success(), "{}", stderr(&dropped));
    assert!(!exists(&server, failed).await);
    assert_eq!(
        query(&server, templates).await.unwrap(),
        ["1"],
        "the template is built once per file set"
    );
}

#[tokio::test]
async fn the_ci_jobs_ephemeral_database_serves_the_tests_and_no_second_server_starts() {
    image();
    let project = migrated_project();
    let ephemerals = Ephemerals::of(&project);
    let env_file = project.path().join("ci.env");
    project.devdb_ok(&[
        "up",
        "--ephemeral",
        "--env-file",
        env_file.to_str().unwrap(),
    ]);
    let exported = std::fs::read_to_string(&env_file).unwrap();
    let value = |key: &str| {
        exported
            .lines()
            .find_map(|line| line.strip_prefix(&format!("{key}=")))
            .unwrap_or_else(|| panic!("no {key} in {exported}"))
            .to_string()
    };
    let (url, id) = (value("DATABASE_URL"), value("DEVDB_EPHEMERAL_ID"));
    assert_eq!(ephemerals.containers().len(), 1);

    let (output, databases) = child(
        &project,
        &[("DATABASE_URL", &url), ("DEVDB_EPHEMERAL_ID", &id)],
    );
    assert_success(&output);
    assert_eq!(ephemerals.containers().len(), 1, "no second server");
    let server = url.rsplit_once('/').unwrap().0;
    assert_eq!(databases.len(), 2);
    for (name, clone_url) in &databases {
        assert_eq!(
            clone_url,
            &format!("{server}/{name}"),
            "on the job's server"
        );
        assert!(!exists(&url, name).await, "dropped after the test");
    }
}
