//! `backup`, `backup list` and `restore` against real databases: data comes back, damaged
//! backups are refused before anything is dropped, and a database of a few hundred MB goes
//! through with devdb's memory staying flat.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use crate::common::{TestProject, query, simple_compose, stderr};

pub(crate) const SCHEMA: &str = "-- devdb:revision 0001
-- devdb:parents
-- devdb:message items, a view and a function

-- devdb:up
CREATE TABLE item (id int PRIMARY KEY, name text NOT NULL);
CREATE VIEW item_names AS SELECT upper(name) AS name FROM item;
CREATE FUNCTION item_count() RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) FROM item $$;
INSERT INTO item SELECT g, 'item ' || g FROM generate_series(1, 500) g;
";

pub(crate) fn project() -> TestProject {
    TestProject::new()
        .compose(&simple_compose())
        .file("migrations/0001_items.sql", SCHEMA)
}

/// A summary of every row of `item`, to compare before and after.
pub(crate) async fn items(url: &str) -> String {
    query(
        url,
        "SELECT count(*)::text || ':' || coalesce(sum(hashtext(id::text || name)::bigint), 0)::text FROM item",
    )
    .await
    .unwrap()
    .remove(0)
}

pub(crate) async fn databases(url: &str) -> Vec<String> {
    query(url, "SELECT datname::text FROM pg_database ORDER BY 1")
        .await
        .unwrap()
}

pub(crate) fn backup(project: &TestProject) -> (PathBuf, serde_json::Value) {
    let json = project.devdb_ok(&["backup", "--json"]);
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    (PathBuf::from(report["path"].as_str().unwrap()), report)
}

#[tokio::test]
async fn backup_then_change_then_restore_brings_every_row_back() {
    let project = project();
    project.devdb_ok(&["up"]);
    let url = project.url();
    let before = items(&url).await;
    assert!(before.starts_with("500:"), "{before}");
    // Database-level properties, which live outside the database's own catalogs.
    query(
        &url,
        "ALTER DATABASE appdb SET work_mem TO '8MB'; COMMENT ON DATABASE appdb IS 'the app''s'",
    )
    .await
    .unwrap();

    let (dir, report) = backup(&project);
    assert!(dir.starts_with(project.path().join("backups")), "{dir:?}");
    let name = dir.file_name().unwrap().to_str().unwrap().to_string();
    assert_eq!(name.len(), "YYYYMMDD_HHMMSS".len(), "{name}");
    for file in [
        "database.dump",
        "schema.sql",
        "history.json",
        "current.txt",
        "manifest.json",
        "migrations/0001_items.sql",
    ] {
        assert!(dir.join(file).is_file(), "{file} missing in {dir:?}");
    }
    let schema = std::fs::read_to_string(dir.join("schema.sql")).unwrap();
    assert!(schema.contains("CREATE VIEW public.item_names"), "{schema}");
    assert_eq!(
        std::fs::read_to_string(dir.join("current.txt")).unwrap(),
        "0001\n"
    );
    assert_eq!(
        report["manifest"]["revisions"]["current"],
        serde_json::json!(["0001"])
    );
    assert!(
        report["manifest"]["server_version"]
            .as_str()
            .unwrap()
            .starts_with("17"),
        "{report}"
    );
    let history: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("history.json")).unwrap()).unwrap();
    assert_eq!(history[0]["id"], "0001");
    // Never the password, anywhere in the backup's text files.
    for file in ["manifest.json", "history.json", "schema.sql"] {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        assert!(!text.contains("app-secret"), "{file}");
    }

    // A second backup in the same second gets a folder of its own.
    let (second, _) = backup(&project);
    assert_ne!(second, dir);
    std::fs::remove_dir_all(&second).unwrap();

    let list = project.devdb_ok(&["backup", "list", "--json"]);
    let list: serde_json::Value = serde_json::from_str(&list).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["name"], name.as_str());
    assert_eq!(list[0]["ok"], true, "{list}");
    assert_eq!(list[0]["current"], serde_json::json!(["0001"]));
    let text = project.devdb_ok(&["backup", "list", "--verify"]);
    assert!(text.contains(&name) && text.contains("ok"), "{text}");

    query(
        &url,
        "DELETE FROM item WHERE id % 3 = 0; UPDATE item SET name = 'changed' WHERE id < 50; \
         DROP VIEW item_names; CREATE TABLE extra (id int); ALTER DATABASE appdb RESET work_mem; \
         COMMENT ON DATABASE appdb IS NULL",
    )
    .await
    .unwrap();
    assert_ne!(items(&url).await, before);

    // Not a terminal and no --yes: refused, nothing changed.
    let output = project.devdb(&["restore", "latest"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("--yes"), "{}", stderr(&output));

    // An open session on the database does not stop the restore.
    let mut session = {
        use sqlx::Connection;
        sqlx::PgConnection::connect(&url).await.unwrap()
    };
    let json = project.devdb_ok(&["restore", &name, "--yes", "--json"]);
    let restored: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(restored["current"], serde_json::json!(["0001"]), "{json}");
    assert!(
        sqlx::query("SELECT 1").execute(&mut session).await.is_err(),
        "the old session was ended"
    );

    assert_eq!(items(&url).await, before);
    assert_eq!(query(&url, "SHOW work_mem").await.unwrap(), ["8MB"]);
    assert_eq!(
        query(
            &url,
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = 'appdb'"
        )
        .await
        .unwrap(),
        ["the app's"]
    );
    let view = query(&url, "SELECT count(*) FROM item_names")
        .await
        .unwrap();
    assert_eq!(view, ["500"]);
    let function = query(&url, "SELECT item_count()").await.unwrap();
    assert_eq!(function, ["500"]);
    assert_eq!(
        query(&url, "SELECT to_regclass('public.extra')::text")
            .await
            .unwrap(),
        [""]
    );
    assert_eq!(
        project.devdb_ok(&["current"]),
        "0001 items, a view and a function (head)"
    );
    assert_eq!(
        databases(&url).await,
        ["appdb", "postgres", "template0", "template1"]
    );
}

/// Flips one byte in the middle of a file.
fn flip_byte(path: &Path) {
    let mut bytes = std::fs::read(path).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(path, bytes).unwrap();
}

#[tokio::test]
async fn damaged_backups_are_refused_with_nothing_dropped() {
    let project = project();
    project.devdb_ok(&["up"]);
    let url = project.url();
    let (dir, _) = backup(&project);
    query(
        &url,
        "INSERT INTO item VALUES (1000, 'added after the backup')",
    )
    .await
    .unwrap();
    let after = items(&url).await;

    let refused = |expected: &str| {
        let output = project.devdb(&["restore", dir.to_str().unwrap(), "--yes"]);
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(1), "{err}");
        assert!(err.contains(expected), "expected {expected:?} in: {err}");
        assert!(err.contains("nothing was changed"), "{err}");
    };

    let dump = dir.join("database.dump");
    let original = std::fs::read(&dump).unwrap();
    flip_byte(&dump);
    refused("database.dump: checksum differs from the manifest");
    assert_eq!(items(&url).await, after);

    std::fs::write(&dump, &original[..original.len() - 100]).unwrap();
    refused(&format!(
        "database.dump: {} bytes, the manifest says {}",
        original.len() - 100,
        original.len()
    ));
    std::fs::write(&dump, &original).unwrap();

    std::fs::remove_file(dir.join("migrations/0001_items.sql")).unwrap();
    refused("migrations/0001_items.sql: missing");
    std::fs::write(dir.join("migrations/0001_items.sql"), SCHEMA).unwrap();

    let manifest = dir.join("manifest.json");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, &text[..text.len() / 2]).unwrap();
    refused("is not a valid manifest");
    std::fs::remove_file(&manifest).unwrap();
    refused("has no manifest.json");

    let list = project.devdb_ok(&["backup", "list"]);
    assert!(list.contains("no manifest.json"), "{list}");
    assert_eq!(items(&url).await, after);
    assert_eq!(
        databases(&url).await,
        ["appdb", "postgres", "template0", "template1"]
    );

    // Put back whole, the same backup restores.
    std::fs::write(&manifest, &text).unwrap();
    project.devdb_ok(&["restore", dir.to_str().unwrap(), "--yes"]);
    assert!(items(&url).await.starts_with("500:"));
}

/// Runs the command to its end and returns its peak resident memory in bytes, read from
/// the kernel's accounting of exactly this child (`wait4`).
// wait4 reaps the child, which std's `wait` cannot do while also returning its rusage.
#[allow(clippy::zombie_processes)]
/// The peak resident memory of one devdb process, in bytes. Read from `VmHWM` in
/// /proc while it runs: wait4's `ru_maxrss` would count the memory of this test process
/// too, which a forked child inherits until its exec (and which grows with the tests that
/// run beside this one). The high-water mark only grows, so frequent reads miss little.
fn peak_rss(mut command: std::process::Command, log: &Path) -> u64 {
    let log = std::fs::File::create(log).unwrap();
    let mut child = command
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log))
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak_kib = 0;
    let status = loop {
        if let Some(kib) = std::fs::read_to_string(&status_file).ok().and_then(|text| {
            text.lines()
                .find_map(|line| line.strip_prefix("VmHWM:"))
                .and_then(|rest| {
                    rest.trim()
                        .trim_end_matches("kB")
                        .trim()
                        .parse::<u64>()
                        .ok()
                })
        }) {
            peak_kib = peak_kib.max(kib);
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    assert!(status.success(), "{command:?} failed ({status})");
    peak_kib * 1024
}

#[tokio::test]
async fn a_large_database_is_backed_up_and_restored_in_flat_memory() {
    let project = project();
    project.devdb_ok(&["up"]);
    let url = project.url();
    // Hex text only compresses to about half, so the dump stays large.
    query(
        &url,
        "CREATE TABLE big AS SELECT g AS id, \
         md5(g::text) || md5((g * 2)::text) || md5((g * 3)::text) || md5((g * 5)::text) || \
         md5((g * 7)::text) || md5((g * 11)::text) || md5((g * 13)::text) || md5((g * 17)::text) \
         AS payload FROM generate_series(1, 800000) g",
    )
    .await
    .unwrap();
    let summary = "SELECT count(*)::text || ':' || sum(hashtext(payload)::bigint)::text FROM big";
    let before = query(&url, summary).await.unwrap();
    let size: i64 = query(&url, "SELECT pg_database_size(current_database())")
        .await
        .unwrap()[0]
        .parse()
        .unwrap();
    assert!(size > 200 << 20, "database of {size} bytes");

    let logs = project.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let backup_rss = peak_rss(project.command(&["backup"]), &logs.join("backup.log"));
    let dir = crate::common::stdout(
        &project
            .command(&["backup", "list", "--json"])
            .output()
            .unwrap(),
    );
    let list: serde_json::Value = serde_json::from_str(&dir).unwrap();
    let name = list[0]["name"].as_str().unwrap().to_string();
    let dump = std::fs::metadata(
        project
            .path()
            .join("backups")
            .join(&name)
            .join("database.dump"),
    )
    .unwrap()
    .len();
    assert!(
        dump > 100 << 20,
        "a dump of {dump} bytes is too small to tell"
    );

    query(&url, "TRUNCATE big").await.unwrap();
    let restore_rss = peak_rss(
        project.command(&["restore", "latest", "--yes"]),
        &logs.join("restore.log"),
    );
    assert_eq!(query(&url, summary).await.unwrap(), before);

    eprintln!(
        "database {} MiB, dump {} MiB, peak RSS: backup {} MiB, restore {} MiB",
        size >> 20,
        dump >> 20,
        backup_rss >> 20,
        restore_rss >> 20
    );
    for (what, rss) in [("backup", backup_rss), ("restore", restore_rss)] {
        assert!(
            rss < 100 << 20 && rss < dump / 2,
            "{what} peaked at {} MiB for a {} MiB dump",
            rss >> 20,
            dump >> 20
        );
    }
}

/// The URL of the same server's `template1` database.
pub(crate) fn template1(url: &str) -> String {
    let (server, _) = url.rsplit_once('/').unwrap();
    format!("{server}/template1")
}

#[tokio::test]
async fn the_hint_about_a_database_left_aside_puts_it_back() {
    let project = project();
    project.devdb_ok(&["up"]);
    let url = project.url();
    backup(&project);
    query(
        &url,
        "INSERT INTO item VALUES (1000, 'added after the backup')",
    )
    .await
    .unwrap();
    let after = items(&url).await;

    // What a restore killed after setting the database aside leaves.
    let admin = template1(&url);
    let aside = "appdb__devdb_before_restore";
    query(&admin, "ALTER DATABASE appdb WITH ALLOW_CONNECTIONS false")
        .await
        .unwrap();
    query(
        &admin,
        &format!("ALTER DATABASE appdb RENAME TO \"{aside}\""),
    )
    .await
    .unwrap();

    let output = project.devdb(&["restore", "latest", "--yes"]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(err.contains(&format!("database {aside} exists")), "{err}");
    let err = err.split_whitespace().collect::<Vec<_>>().join(" ");

    // Looking at it as the hint says works.
    let look = format!("ALTER DATABASE \"{aside}\" WITH ALLOW_CONNECTIONS true;");
    assert!(err.contains(&look), "{err}");
    query(&admin, &look).await.unwrap();
    assert!(err.contains(&format!("devdb psql -- -d {aside}")), "{err}");
    let aside_url = format!("{}/{aside}", url.rsplit_once('/').unwrap().0);
    assert_eq!(items(&aside_url).await, after);

    // Putting it back as the hint says leaves a database that takes connections.
    for statement in [
        "DROP DATABASE IF EXISTS \"appdb\";".to_string(),
        format!("ALTER DATABASE \"{aside}\" RENAME TO \"appdb\";"),
        "ALTER DATABASE \"appdb\" WITH ALLOW_CONNECTIONS true;".to_string(),
    ] {
        assert!(err.contains(&statement), "{statement} not in: {err}");
        query(&admin, &statement).await.unwrap();
    }
    assert_eq!(items(&url).await, after);
    project.devdb_ok(&["restore", "latest", "--yes"]);
    assert!(items(&url).await.starts_with("500:"));
}

#[tokio::test]
async fn a_database_past_a_squashed_chain_is_recorded_at_its_baseline() {
    let revision = |id: &str, parents: &str, sql: &str| {
        format!(
            "-- devdb:revision {id}\n-- devdb:parents {parents}\n-- devdb:message {id}\n\n-- devdb:up\n{sql}\n"
        )
    };
    let project = TestProject::new()
        .compose(&simple_compose())
        .file(
            "migrations/0001_a.sql",
            &revision("0001", "", "CREATE TABLE a (id int);"),
        )
        .file(
            "migrations/0002_b.sql",
            &revision("0002", "0001", "CREATE TABLE b (id int);"),
        )
        .file(
            "migrations/0003_c.sql",
            &revision("0003", "0002", "CREATE TABLE c (id int);"),
        );
    project.devdb_ok(&["up"]);
    assert!(project.devdb_ok(&["current"]).starts_with("0003"));

    // The chain squashed into a baseline, which the database has not recorded yet.
    for file in ["0001_a.sql", "0002_b.sql", "0003_c.sql"] {
        std::fs::remove_file(project.path().join("migrations").join(file)).unwrap();
    }
    let baseline = revision(
        "0100",
        "",
        "CREATE TABLE a (id int);\nCREATE TABLE b (id int);\nCREATE TABLE c (id int);",
    )
    .replacen(
        "-- devdb:message",
        "-- devdb:replaces 0001 0002 0003\n-- devdb:message",
        1,
    );
    std::fs::write(project.path().join("migrations/0100_base.sql"), baseline).unwrap();
    assert!(project.devdb_ok(&["current"]).starts_with("0100"));

    let (dir, report) = backup(&project);
    assert_eq!(
        report["manifest"]["revisions"]["current"],
        serde_json::json!(["0100"]),
        "{report}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("current.txt")).unwrap(),
        "0100\n"
    );
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Every folder and file under `dir`, `dir` included.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut found = vec![dir.to_path_buf()];
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(walk(&path));
        } else {
            found.push(path);
        }
    }
    found
}

#[tokio::test]
async fn backups_and_the_env_file_are_readable_by_their_owner_only() {
    let project = project().file("migrations/seeds/01_more.sql", "SELECT 1;");
    let env_file = project.path().join("ci.env");
    project.devdb_ok(&["up", "--env-file", env_file.to_str().unwrap()]);
    assert_eq!(mode(&env_file), 0o600, "the file with DATABASE_URL");

    let (dir, _) = backup(&project);
    assert_eq!(mode(&project.path().join("backups")), 0o700);
    let found = walk(&dir);
    assert!(found.len() >= 9, "{found:?}");
    for path in found {
        let expected = if path.is_dir() { 0o700 } else { 0o600 };
        assert_eq!(mode(&path), expected, "{}", path.display());
    }
}

/// The hidden folders of unfinished backups in the project's backups folder.
fn partial_folders(project: &TestProject) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(project.path().join("backups")) else {
        return Vec::new();
    };
    entries
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(".partial-")
        })
        .collect()
}

#[tokio::test]
async fn a_killed_backup_leaves_the_database_alone_and_the_next_backup_removes_its_folder() {
    let project = project();
    project.devdb_ok(&["up"]);
    let url = project.url();
    query(
        &url,
        "CREATE TABLE big AS SELECT g AS id, md5(g::text) || md5((g * 7)::text) AS payload \
         FROM generate_series(1, 400000) g",
    )
    .await
    .unwrap();
    let before = items(&url).await;

    let mut child = project
        .command(&["backup"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    // Mid-dump: the dump file has started to grow.
    while !partial_folders(&project)
        .iter()
        .any(|p| std::fs::metadata(p.join("database.dump")).is_ok_and(|m| m.len() > 0))
    {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the backup ended first"
        );
        assert!(std::time::Instant::now() < deadline, "no dump was written");
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let left = partial_folders(&project);
    assert_eq!(left.len(), 1, "{left:?}");

    assert_eq!(items(&url).await, before);
    project.devdb_ok(&["status"]);
    project.devdb_ok(&["migrate"]);
    let list = project.devdb_ok(&["backup", "list", "--json"]);
    assert_eq!(list, "[]", "a partial folder is not a backup");

    let output = project.devdb(&["backup"]);
    let err = stderr(&output);
    assert!(output.status.success(), "{err}");
    assert!(
        err.contains(&format!(
            "removed {}, left by an interrupted backup",
            left[0].display()
        )),
        "{err}"
    );
    assert_eq!(partial_folders(&project), Vec::<PathBuf>::new());
    let list: serde_json::Value =
        serde_json::from_str(&project.devdb_ok(&["backup", "list", "--json"])).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["ok"], true, "{list}");
}
