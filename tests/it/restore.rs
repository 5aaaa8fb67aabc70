//! `restore` trusts nothing it has not checked and leaves the project's database whole
//! whatever happens to it: a backup of another database or project is refused before
//! anything changes, and a restore killed with SIGKILL at any point leaves every old row
//! in place under the database's own name, with the leftover named by the next commands
//! and cleaned by the next restore.

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::backup::{backup, databases, items, project, template1};
use crate::common::{TestProject, docker, query, stderr};

const STANDARD: [&str; 4] = ["appdb", "postgres", "template0", "template1"];

/// The URL of another database on the same server.
fn database(url: &str, name: &str) -> String {
    format!("{}/{name}", url.rsplit_once('/').unwrap().0)
}

fn edit_manifest(dir: &std::path::Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let path = dir.join("manifest.json");
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    edit(&mut json);
    std::fs::write(&path, serde_json::to_string_pretty(&json).unwrap()).unwrap();
}

#[tokio::test]
async fn a_backup_of_another_database_with_an_edited_manifest_is_refused() {
    let project = project();
    project.devdb_ok(&["up"]);
    let url = project.url();
    let (dir, _) = backup(&project);

    // A dump of another database, which is then gone from this server...
    let admin = template1(&url);
    query(&admin, "CREATE DATABASE otherdb").await.unwrap();
    query(
        &database(&url, "otherdb"),
        "CREATE TABLE other (id int); INSERT INTO other VALUES (1)",
    )
    .await
    .unwrap();
    let container = project.container("db");
    let dump = docker(&[
        "exec", &container, "pg_dump", "-U", "app", "-Fc", "-d", "otherdb",
    ]);
    assert!(dump.status.success(), "{}", stderr(&dump));
    query(&admin, "DROP DATABASE otherdb").await.unwrap();

    // ...put in the backup with the manifest's checksum made to match: the manifest still
    // says appdb, as an edited one would.
    std::fs::write(dir.join("database.dump"), &dump.stdout).unwrap();
    let sha = format!("{:x}", Sha256::digest(&dump.stdout));
    edit_manifest(&dir, |json| {
        assert_eq!(json["database"], "appdb");
        for file in json["files"].as_array_mut().unwrap() {
            if file["path"] == "database.dump" {
                file["size"] = dump.stdout.len().into();
                file["sha256"] = sha.clone().into();
            }
        }
    });
    query(&url, "INSERT INTO item VALUES (1000, 'after the backup')")
        .await
        .unwrap();
    let after = items(&url).await;

    let output = project.devdb(&["restore", dir.to_str().unwrap(), "--yes"]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(
        err.contains(
            "the backup's dump is of database otherdb (its manifest says appdb), and this \
             project's database is appdb"
        ),
        "{err}"
    );
    assert!(err.contains("nothing was changed"), "{err}");
    assert_eq!(items(&url).await, after);
    assert_eq!(databases(&url).await, STANDARD);

    // A manifest edited the other way (the dump is of appdb) is not trusted either.
    let (dir, _) = backup(&project);
    edit_manifest(&dir, |json| json["database"] = "otherdb".into());
    let output = project.devdb(&["restore", dir.to_str().unwrap(), "--yes"]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(
        err.contains(
            "the backup's manifest says database otherdb, and its dump is of database appdb"
        ),
        "{err}"
    );
    assert_eq!(items(&url).await, after);
}

#[tokio::test]
async fn a_backup_of_another_project_is_named_before_anything_is_asked_or_changed() {
    let project = project();
    project.devdb_ok(&["up"]);
    let url = project.url();
    let (dir, _) = backup(&project);
    // The same database name, another project: as if copied from a colleague's checkout.
    edit_manifest(&dir, |json| json["project"] = "someone-else".into());
    query(&url, "INSERT INTO item VALUES (1000, 'after the backup')")
        .await
        .unwrap();
    let after = items(&url).await;

    // Without --yes too: refused before the question.
    for args in [&["restore", "latest"][..], &["restore", "latest", "--yes"]] {
        let output = project.devdb(args);
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains(&format!(
                "the backup was taken by project someone-else, and this project is {}",
                project.name
            )),
            "{err}"
        );
        assert!(err.contains("--from-project someone-else"), "{err}");
        assert!(err.contains("nothing was changed"), "{err}");
    }
    let output = project.devdb(&["restore", "latest", "--yes", "--from-project", "another"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(items(&url).await, after);

    project.devdb_ok(&[
        "restore",
        "latest",
        "--yes",
        "--from-project",
        "someone-else",
    ]);
    assert!(items(&url).await.starts_with("500:"));
}

/// Polls `sql` (a count) on `url` until it is positive; panics if `child` ends first.
async fn wait_until(child: &mut Child, url: &str, sql: &str, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Ok(rows) = query(url, sql).await
            && rows.first().is_some_and(|n| n != "0")
        {
            return;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the command ended ({status}) before {what}");
        }
        assert!(Instant::now() < deadline, "{what} never happened");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Waits until the killed devdb's sessions are gone (they hold the restore lock).
async fn wait_for_sessions_to_end(admin: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while query(
        admin,
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'",
    )
    .await
    .unwrap()
        != ["0"]
    {
        assert!(
            Instant::now() < deadline,
            "the killed restore's lock stayed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn spawn(project: &TestProject, args: &[&str]) -> Child {
    project
        .command(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn kill(mut child: Child) {
    // SIGKILL: no destructor, no signal handler runs.
    child.kill().unwrap();
    child.wait().unwrap();
}

async fn state(url: &str) -> (String, Vec<String>) {
    (
        items(url).await,
        query(
            url,
            "SELECT count(*)::text || ':' || sum(hashtext(payload)::bigint)::text FROM big",
        )
        .await
        .unwrap(),
    )
}

#[tokio::test]
async fn a_restore_killed_at_any_point_leaves_the_database_as_it_was() {
    let project = project();
    project.devdb_ok(&["up"]);
    let url = project.url();
    let admin = template1(&url);
    // Large enough for pg_restore to take a while.
    query(
        &url,
        "CREATE TABLE big AS SELECT g AS id, md5(g::text) || md5((g * 7)::text) AS payload \
         FROM generate_series(1, 200000) g; ALTER TABLE big ADD PRIMARY KEY (id)",
    )
    .await
    .unwrap();
    let (_, report) = backup(&project);
    assert!(report["manifest"]["files"][0]["size"].as_u64().unwrap() > 1 << 20);
    query(
        &url,
        "INSERT INTO item VALUES (1000, 'after the backup'); DELETE FROM big WHERE id > 150000",
    )
    .await
    .unwrap();
    let before = state(&url).await;

    let points = [
        (
            "the restore made a database of its own",
            "SELECT count(*) FROM pg_database WHERE datname LIKE 'appdb\\_\\_devdb\\_%'",
        ),
        (
            "pg_restore is writing",
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pg_restore' \
             AND state = 'active'",
        ),
    ];
    for (what, sql) in points {
        let mut child = spawn(&project, &["restore", "latest", "--yes"]);
        wait_until(&mut child, &admin, sql, what).await;
        kill(child);
        wait_for_sessions_to_end(&admin).await;

        // Every old row, under the database's own name, which takes connections.
        assert_eq!(state(&url).await, before, "killed when {what}");
        let status = project.devdb_ok(&["status"]);
        assert!(
            status.contains(
                "warning: database appdb__devdb_restoring is the partial copy of an \
                 interrupted restore (appdb itself is as it was); `devdb restore --clean` drops it"
            ),
            "killed when {what}: {status}"
        );
        let output = project.devdb(&["migrate"]);
        assert!(output.status.success(), "{}", stderr(&output));
        assert!(
            stderr(&output).contains("appdb__devdb_restoring is the partial copy"),
            "{}",
            stderr(&output)
        );
        let output = project.devdb(&["restore", "--clean"]);
        assert!(output.status.success(), "{}", stderr(&output));
        assert!(
            stderr(&output).contains(
                "dropped database appdb__devdb_restoring, left by an interrupted restore"
            ),
            "{}",
            stderr(&output)
        );
        assert_eq!(databases(&url).await, STANDARD);
    }

    // Killed once more; the next restore cleans up after it by itself and finishes.
    let mut child = spawn(&project, &["restore", "latest", "--yes"]);
    wait_until(&mut child, &admin, points[1].1, points[1].0).await;
    kill(child);
    wait_for_sessions_to_end(&admin).await;
    assert_eq!(state(&url).await, before);
    let output = project.devdb(&["restore", "latest", "--yes"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("dropped database appdb__devdb_restoring"),
        "{}",
        stderr(&output)
    );
    let restored = state(&url).await;
    assert!(restored.0.starts_with("500:"), "{restored:?}");
    assert!(restored.1[0].starts_with("200000:"), "{restored:?}");
    assert_eq!(databases(&url).await, STANDARD);

    // What a restore killed between its swap and the drop of the old database leaves.
    query(&admin, "CREATE DATABASE appdb__devdb_replaced")
        .await
        .unwrap();
    let status = project.devdb_ok(&["status"]);
    assert!(
        status.contains("warning: database appdb__devdb_replaced holds appdb as it was before"),
        "{status}"
    );
    let output = project.devdb(&["backup"]);
    assert!(
        stderr(&output).contains("appdb__devdb_replaced"),
        "{}",
        stderr(&output)
    );
    project.devdb_ok(&["restore", "--clean"]);
    assert_eq!(databases(&url).await, STANDARD);
    assert!(!project.devdb_ok(&["status"]).contains("warning"));

    // What a restore killed inside its swap may leave when sessions kept coming back: the
    // database whole, under its name, closed to new sessions.
    query(&admin, "ALTER DATABASE appdb WITH ALLOW_CONNECTIONS false")
        .await
        .unwrap();
    let status = project.devdb_ok(&["status"]);
    assert!(
        status.contains(
            "warning: database appdb takes no connections: a restore was interrupted as it \
             swapped databases (the database is whole); `devdb restore --clean` opens it again"
        ),
        "{status}"
    );
    let output = project.devdb(&["restore", "--clean"]);
    assert!(
        stderr(&output).contains("database appdb takes connections again"),
        "{}",
        stderr(&output)
    );
    assert_eq!(state(&url).await, restored);
    let json: serde_json::Value =
        serde_json::from_str(&project.devdb_ok(&["restore", "--clean", "--json"])).unwrap();
    assert_eq!(json, serde_json::json!({ "cleaned": [] }));
}
