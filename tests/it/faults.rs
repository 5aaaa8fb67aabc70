//! kill -9 of devdb at several points of `up` and `migrate`: the next ordinary command
//! recovers, and nothing is lost or done twice.

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::common::{TestProject, compose_with, docker, query, simple_compose, stderr, stdout};

/// A project whose one revision takes a few seconds, so that a kill can land inside it,
/// whose seed makes a second seeding visible, and whose init script makes a new database
/// hold a table before devdb migrates it (so that it does not look empty).
fn slow_project() -> TestProject {
    TestProject::new()
        .compose(&compose_with(
            "      POSTGRES_USER: app\n      POSTGRES_PASSWORD: app-secret\n      POSTGRES_DB: appdb",
            "      - ./init:/docker-entrypoint-initdb.d\n",
        ))
        .file("compose/init/01_audit.sql", "CREATE TABLE audit (id int);\n")
        .file(
            "migrations/0001_items.sql",
            "-- devdb:revision 0001\n-- devdb:up\nCREATE TABLE items (id int PRIMARY KEY);\nSELECT pg_sleep(3);\n-- devdb:down\nDROP TABLE items;\n",
        )
        .file("migrations/seeds/01_items.sql", "INSERT INTO items VALUES (1);")
}

fn spawn(project: &TestProject, args: &[&str]) -> Child {
    project
        .command(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting devdb")
}

/// Polls `reached` until it holds (at most 60 s), then kills `child` with SIGKILL.
fn kill_when(mut child: Child, what: &str, mut reached: impl FnMut() -> bool) {
    let started = Instant::now();
    while !reached() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("devdb ended ({status}) before {what}");
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "never reached {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().expect("SIGKILL");
    child.wait().unwrap();
}

/// Whether a statement with `pg_sleep(seconds)` runs in the project's database, asked with
/// psql inside the container (the tests' own connections must not wait on devdb's).
fn sleeping(project: &TestProject, seconds: u32) -> bool {
    let sql = format!(
        "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep({seconds})%' AND pid <> pg_backend_pid()"
    );
    let container = project.container("db");
    stdout(&docker(&[
        "exec", &container, "psql", "-U", "app", "-d", "appdb", "-tAc", &sql,
    ])) == "1"
}

fn exists(args: &[&str]) -> bool {
    !stdout(&docker(args)).is_empty()
}

/// What must hold after any interrupted `up` followed by a good one.
async fn assert_migrated_and_seeded_once(project: &TestProject) {
    let url = project.url();
    assert_eq!(
        query(&url, "SELECT count(*) FROM items").await.unwrap(),
        ["1"],
        "seeded exactly once"
    );
    assert_eq!(
        query(&url, "SELECT id FROM devdb_revisions").await.unwrap(),
        ["0001"]
    );
    let label = format!("label=com.docker.compose.project={}", project.name);
    let networks = stdout(&docker(&["network", "ls", "-q", "--filter", &label]));
    assert_eq!(networks.lines().count(), 1, "one network: {networks}");
    let volumes = stdout(&docker(&["volume", "ls", "-q", "--filter", &label]));
    assert_eq!(volumes.lines().count(), 1, "one labelled volume: {volumes}");
}

/// Whether a run of devdb got as far as a point worth killing it at.
type Reached = fn(&TestProject) -> bool;

#[tokio::test]
async fn up_killed_at_each_step_is_recovered_by_the_next_up() {
    let points: [(&str, Reached); 3] = [
        ("the volume exists", |p| {
            exists(&[
                "volume",
                "ls",
                "-q",
                "--filter",
                &format!("name={}_pgdata", p.name),
            ])
        }),
        ("the container exists", |p| {
            exists(&[
                "ps",
                "-aq",
                "--filter",
                &format!("name={}", p.container("db")),
            ])
        }),
        ("the revision is running", |p| sleeping(p, 3)),
    ];
    for (what, reached) in points {
        let project = slow_project();
        kill_when(spawn(&project, &["up"]), what, || reached(&project));
        let output = project.devdb(&["up"]);
        assert!(
            output.status.success(),
            "up after a kill when {what}: {}",
            stderr(&output)
        );
        assert_migrated_and_seeded_once(&project).await;
    }
}

#[tokio::test]
async fn migrate_killed_inside_a_revision_is_recovered_by_the_next_migrate() {
    let project = TestProject::new()
        .compose(&simple_compose())
        .file(
            "migrations/0001_t.sql",
            "-- devdb:revision 0001\n-- devdb:up\nCREATE TABLE t (id int);\nINSERT INTO t SELECT generate_series(1, 1000);\n",
        );
    project.devdb_ok(&["up"]);
    let url = project.url();

    // In a transaction: nothing of the revision is kept, the next migrate applies it.
    let project = project.file(
        "migrations/0002_u.sql",
        "-- devdb:revision 0002\n-- devdb:parents 0001\n-- devdb:up\nCREATE TABLE u (id int);\nSELECT pg_sleep(4);\n",
    );
    kill_when(spawn(&project, &["migrate"]), "revision 0002 runs", || {
        sleeping(&project, 4)
    });
    project.devdb_ok(&["migrate"]);
    assert_eq!(
        query(&url, "SELECT id FROM devdb_revisions ORDER BY id")
            .await
            .unwrap(),
        ["0001", "0002"]
    );

    // Outside a transaction, written to be run again: the next migrate finishes it.
    let project = project.file(
        "migrations/0003_index.sql",
        "-- devdb:revision 0003\n-- devdb:parents 0002\n-- devdb:no-transaction\n-- devdb:up\nCREATE TABLE IF NOT EXISTS v (id int);\nSELECT pg_sleep(5);\nCREATE INDEX CONCURRENTLY IF NOT EXISTS t_id ON t (id);\n",
    );
    kill_when(spawn(&project, &["migrate"]), "revision 0003 runs", || {
        sleeping(&project, 5)
    });
    project.devdb_ok(&["migrate"]);
    assert_eq!(
        query(&url, "SELECT id FROM devdb_revisions ORDER BY id")
            .await
            .unwrap(),
        ["0001", "0002", "0003"]
    );
    assert_eq!(
        query(&url, "SELECT count(*) FROM t").await.unwrap(),
        ["1000"],
        "no row lost"
    );
    assert_eq!(
        query(
            &url,
            "SELECT indexname FROM pg_indexes WHERE tablename = 't'"
        )
        .await
        .unwrap(),
        ["t_id"]
    );
}

/// Every file under `dir` with its contents, to show that nothing was rewritten.
fn files_under(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                found.push((path.display().to_string(), std::fs::read(&path).unwrap()));
            }
        }
    }
    found.sort();
    found
}

fn psql(project: &TestProject, sql: &str) -> String {
    let container = project.container("db");
    stdout(&docker(&[
        "exec", &container, "psql", "-U", "app", "-d", "appdb", "-tAc", sql,
    ]))
}

#[tokio::test]
async fn squash_killed_while_it_builds_or_backs_up_changes_no_file_and_the_next_squash_cleans_up() {
    let mut project = TestProject::new().compose(&simple_compose());
    for (i, parent) in [(1, ""), (2, "0001"), (3, "0002")] {
        project = project.file(
            &format!("migrations/000{i}_t{i}.sql"),
            &format!(
                "-- devdb:revision 000{i}\n-- devdb:parents {parent}\n-- devdb:up\nCREATE TABLE t{i} (id int);\nINSERT INTO t{i} SELECT generate_series(1, 50000);\n-- devdb:down\nDROP TABLE t{i};\n"
            ),
        );
    }
    project.devdb_ok(&["up"]);
    let migrations = project.path().join("migrations");
    let backups = project.path().join("backups");
    let before = files_under(&migrations);
    let shadows = "SELECT count(*) FROM pg_database WHERE datname LIKE 'devdb\\_shadow\\_%'";

    let kill_squash_when = |what: &str, reached: &dyn Fn() -> bool| {
        kill_when(
            spawn(&project, &["squash", "-m", "baseline", "--yes"]),
            what,
            reached,
        );
        assert_eq!(files_under(&migrations), before, "killed when {what}");
        assert_eq!(
            psql(
                &project,
                "SELECT string_agg(id, ' ' ORDER BY id) FROM devdb_revisions"
            ),
            "0001 0002 0003"
        );
    };
    kill_squash_when("a shadow database exists", &|| {
        psql(&project, shadows) != "0"
    });
    kill_squash_when("the backup is being written", &|| {
        std::fs::read_dir(&backups).is_ok_and(|entries| {
            entries
                .flatten()
                .any(|e| e.file_name().to_string_lossy().starts_with(".partial-"))
        })
    });
    let report: serde_json::Value =
        serde_json::from_str(&project.devdb_ok(&["squash", "-m", "baseline", "--yes", "--json"]))
            .unwrap();
    assert_eq!(
        report["replaces"],
        serde_json::json!(["0001", "0002", "0003"])
    );
    assert_eq!(
        psql(&project, shadows),
        "0",
        "the next squash drops the shadows left"
    );
    let partial = std::fs::read_dir(&backups)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".partial-"))
        .count();
    assert_eq!(
        partial, 0,
        "the next backup removes the killed one's folder"
    );
    assert_eq!(psql(&project, "SELECT count(*) FROM t3"), "50000");
}
