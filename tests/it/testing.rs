//! The library's test helper, `devdb::testing::TestDatabase`: a clone per test on the
//! project's running database or on a shared ephemeral server; dropped after a passing test,
//! kept after a failing one.

use std::sync::{Arc, Mutex};

use devdb::testing::TestDatabase;

use crate::common::{TestProject, image, query};
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
