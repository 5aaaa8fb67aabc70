//! `backup`, `restore` and `check --schema` of a server devdb did not start, named by
//! `--database-url`: pg_dump and pg_restore run in a throwaway container of the project's
//! image on the host's network, the password handed over by environment only, and the
//! container gone afterwards; shadow databases go to that server, or to a scratch server
//! when its user may not create databases.

use std::time::Duration;

use crate::by_url::{DEAD_ENGINE, PASSWORD, foreign_server_container, ok, revisions};
use crate::common::{TestProject, compose_with, docker, query, stderr, stdout};
use crate::ephemeral::Ephemerals;
use crate::tls::tls_server;

/// The client containers of `project` that exist now.
fn client_containers(project: &TestProject) -> Vec<String> {
    let filter = format!("label=com.docker.compose.project={}", project.name);
    stdout(&docker(&[
        "ps",
        "-aq",
        "--filter",
        &filter,
        "--filter",
        "label=com.docker.compose.service=devdb-client",
    ]))
    .lines()
    .map(str::to_string)
    .collect()
}

/// Runs `command` to its end, looking at every client container while it runs: none may
/// show the password in its configuration (`docker inspect`: Cmd, Entrypoint, Env) or in
/// its processes' command lines. Returns the output and what `docker inspect` said of each
/// one seen.
async fn watched(
    project: &TestProject,
    mut command: std::process::Command,
) -> (std::process::Output, Vec<String>) {
    let child = command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("running devdb");
    let waiter = std::thread::spawn(move || child.wait_with_output().unwrap());
    let mut seen = Vec::new();
    while !waiter.is_finished() {
        for id in client_containers(project) {
            let inspect = stdout(&docker(&["inspect", &id]));
            if inspect.is_empty() || inspect == "[]" {
                continue;
            }
            assert!(
                !inspect.contains(PASSWORD),
                "docker inspect shows the password: {inspect}"
            );
            let top = stdout(&docker(&["top", &id, "-eo", "args"]));
            assert!(
                !top.contains(PASSWORD),
                "the process list shows the password: {top}"
            );
            assert!(inspect.contains("\"NetworkMode\": \"host\""), "{inspect}");
            seen.push(inspect);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    (waiter.join().unwrap(), seen)
}

#[tokio::test]
async fn backup_and_restore_a_server_named_by_url_with_the_projects_image() {
    let project = revisions(TestProject::new());
    let (_server, port) = foreign_server_container(&project).await;
    let url = format!("postgresql://postgres:{PASSWORD}@127.0.0.1:{port}/extdb");
    let by_url = |args: &[&str]| {
        let mut command = project.command(args);
        command.args(["--database-url", &url]);
        command
    };
    ok(by_url(&["migrate"]).output().unwrap(), "migrate");
    // Enough rows for pg_dump to take a moment, so that the watch below sees its container.
    query(
        &url,
        "INSERT INTO items SELECT g, 'row ' || g FROM generate_series(2, 200000) g",
    )
    .await
    .unwrap();

    let (out, seen) = watched(&project, by_url(&["backup", "--json"])).await;
    let err = stderr(&out);
    let report: serde_json::Value = serde_json::from_str(&ok(out, "backup")).unwrap();
    assert!(
        !seen.is_empty(),
        "no client container was seen while the backup ran:\n{err}"
    );
    assert!(err.contains("pg_dump of"), "{err}");
    assert_eq!(report["manifest"]["database"], "extdb");
    assert_eq!(report["manifest"]["revisions"]["current"][0], "0002");
    let path = report["path"].as_str().unwrap().to_string();
    assert!(
        client_containers(&project).is_empty(),
        "a client container was left"
    );

    // What the restore must bring back.
    query(&url, "DELETE FROM items WHERE id > 10")
        .await
        .unwrap();
    query(&url, "ALTER TABLE items DROP COLUMN name")
        .await
        .unwrap();

    // A database devdb did not create: asked about, named with its server.
    let out = by_url(&["restore", &path]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!(
            "replace database extdb at postgresql://postgres:***@127.0.0.1:{port}/extdb (--database-url), which devdb did not create, with the backup"
        )),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains(PASSWORD));
    assert_eq!(
        query(&url, "SELECT count(*)::int FROM items")
            .await
            .unwrap(),
        ["10"]
    );

    // The password by PGPASSWORD this time: the URL given carries none.
    let bare = format!("postgresql://postgres@127.0.0.1:{port}/extdb");
    let mut restore =
        project.command(&["restore", &path, "--yes", "--json", "--database-url", &bare]);
    restore.env("PGPASSWORD", PASSWORD);
    let (out, seen) = watched(&project, restore).await;
    let report: serde_json::Value = serde_json::from_str(&ok(out, "restore")).unwrap();
    assert!(
        !seen.is_empty(),
        "no client container was seen while the restore ran"
    );
    assert_eq!(report["current"][0], "0002");
    assert_eq!(
        query(&url, "SELECT count(*)::int FROM items")
            .await
            .unwrap(),
        ["200000"]
    );
    assert_eq!(
        query(&url, "SELECT name FROM items WHERE id = 7")
            .await
            .unwrap(),
        ["row 7"]
    );
    assert!(
        client_containers(&project).is_empty(),
        "a client container was left"
    );
    let leftovers = query(
        &url,
        "SELECT datname::text FROM pg_database WHERE datname LIKE 'extdb__devdb_%'",
    )
    .await
    .unwrap();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let out = ok(by_url(&["current"]).output().unwrap(), "current");
    assert_eq!(out, "0002 name (head)");
    // restore --clean works on that server too (nothing is left to clean).
    let out = by_url(&["restore", "--clean"]).output().unwrap();
    assert!(
        stderr(&out).contains("no leftovers of interrupted restores"),
        "{}",
        stderr(&out)
    );
    ok(out, "restore --clean");
}

/// The drift exit code (README, "Exit codes").
const DRIFT: i32 = 7;

#[tokio::test]
async fn check_schema_builds_its_shadows_on_the_url_or_in_a_scratch_server() {
    let compose = compose_with(
        "      POSTGRES_USER: app\n      POSTGRES_PASSWORD: app-secret\n      POSTGRES_DB: appdb",
        "",
    ) + "x-devdb:\n  schema: ../schema.sql\n";
    let project = revisions(TestProject::new()).compose(&compose).file(
        "schema.sql",
        "CREATE TABLE items (id int PRIMARY KEY, name text, price numeric);\n",
    );
    let _ephemerals = Ephemerals::of(&project);
    let (_server, port) = foreign_server_container(&project).await;
    let url = format!("postgresql://postgres:{PASSWORD}@127.0.0.1:{port}/extdb");
    let shadows = async || {
        query(
            &url,
            "SELECT datname::text FROM pg_database WHERE datname LIKE 'devdb_shadow_%'",
        )
        .await
        .unwrap()
    };

    // A user who may create databases: the shadows go to that server; no engine needed.
    let out = project
        .command(&["check", "--schema", "--json", "--database-url", &url])
        .env("DOCKER_HOST", DEAD_ENGINE)
        .output()
        .unwrap();
    let (text, err) = (stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(DRIFT), "{text}\n{err}");
    assert!(!text.contains(PASSWORD) && !err.contains(PASSWORD));
    let report: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(text.contains("price"), "{text}");
    assert_eq!(report["shadows"]["on"], "server", "{text}");
    assert_eq!(
        report["shadows"]["server"],
        format!("postgresql://postgres:***@127.0.0.1:{port}/extdb")
    );
    assert!(
        err.contains(&format!(
            "shadow databases on postgresql://postgres:***@127.0.0.1:{port}/extdb"
        )),
        "{err}"
    );
    assert!(shadows().await.is_empty(), "{:?}", shadows().await);

    // The same by DATABASE_URL, the project's database not running.
    let out = project
        .command(&["check", "--schema"])
        .env("DATABASE_URL", &url)
        .env("DOCKER_HOST", DEAD_ENGINE)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(DRIFT), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("shadow databases on"),
        "{}",
        stderr(&out)
    );

    // A user without CREATEDB: a scratch server of the project's image, removed after.
    query(
        &url,
        "CREATE ROLE limited LOGIN PASSWORD 'limited-pw' NOCREATEDB",
    )
    .await
    .unwrap();
    let limited = format!("postgresql://limited:limited-pw@127.0.0.1:{port}/extdb");
    let out = project
        .command(&["check", "--schema", "--json", "--database-url", &limited])
        .output()
        .unwrap();
    let (text, err) = (stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(DRIFT), "{text}\n{err}");
    assert!(!text.contains("limited-pw") && !err.contains("limited-pw"));
    let report: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(report["shadows"]["on"], "scratch", "{text}");
    assert!(
        report["shadows"]["why"]
            .as_str()
            .unwrap()
            .contains("user limited may not create databases there"),
        "{text}"
    );
    assert_eq!(
        err.matches("shadow databases in a scratch server").count(),
        1,
        "{err}"
    );
    let filter = format!("label=dev.devdb.ephemeral.of={}", project.name);
    let left = stdout(&docker(&["ps", "-aq", "--filter", &filter]));
    assert!(left.is_empty(), "the scratch server was left: {left}");
    assert!(shadows().await.is_empty());
}

#[tokio::test]
async fn backup_and_restore_over_tls_mount_the_authority_read_only() {
    let project = revisions(TestProject::new());
    let (container, port, certs) = tls_server(&project);
    let ca = certs.join("ca.crt").display().to_string();
    // The server refuses plain TCP: only a client that verifies it gets in.
    let url = format!(
        "postgresql://app:tls-secret@localhost:{port}/appdb?sslmode=verify-full&sslrootcert={ca}"
    );
    let started = std::time::Instant::now();
    let mut answered = 0;
    while answered < 3 {
        let up = project
            .command(&["migrate", "--database-url", &url])
            .env("DOCKER_HOST", DEAD_ENGINE)
            .output()
            .unwrap();
        answered = if up.status.success() { answered + 1 } else { 0 };
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "the TLS server never answered: {}",
            stderr(&up)
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let by_url = |args: &[&str]| {
        let out = project
            .command(args)
            .args(["--database-url", &url])
            .output()
            .unwrap();
        let (text, err) = (stdout(&out), stderr(&out));
        assert!(out.status.success(), "{args:?}: {text}\n{err}");
        assert!(!text.contains("tls-secret") && !err.contains("tls-secret"));
        text
    };
    // Rows enough for the dump to take a moment, so that its container is seen.
    let insert = docker(&[
        "exec",
        &container,
        "psql",
        "-U",
        "app",
        "-d",
        "appdb",
        "-c",
        "INSERT INTO items SELECT g, 'row ' || g FROM generate_series(2, 200000) g",
    ]);
    assert!(insert.status.success(), "{}", stderr(&insert));
    let backup = project.command(&["backup", "--json", "--database-url", &url]);
    let (out, seen) = watched(&project, backup).await;
    let report: serde_json::Value = serde_json::from_str(&ok_tls(out)).unwrap();
    let path = report["path"].as_str().unwrap().to_string();
    // The authority went in read-only, named to pg_dump by PGSSLROOTCERT.
    let inspect = seen.first().expect("the client container was seen");
    assert!(
        inspect.contains("\"Destination\": \"/run/devdb-tls/root.crt\"")
            && inspect.contains("\"RW\": false"),
        "{inspect}"
    );
    by_url(&["seed"]);
    by_url(&["downgrade", "base", "--yes"]);
    by_url(&["restore", &path, "--yes"]);
    assert_eq!(by_url(&["current"]), "0002 name (head)");
    assert!(
        client_containers(&project).is_empty(),
        "a client container was left"
    );
}

fn ok_tls(out: std::process::Output) -> String {
    let (text, err) = (stdout(&out), stderr(&out));
    assert!(out.status.success(), "{text}\n{err}");
    assert!(!text.contains("tls-secret") && !err.contains("tls-secret"));
    text
}

#[tokio::test]
async fn ctrl_c_during_a_backup_by_url_removes_the_client_container() {
    let project = revisions(TestProject::new());
    let (_server, port) = foreign_server_container(&project).await;
    let url = format!("postgresql://postgres:{PASSWORD}@127.0.0.1:{port}/extdb");
    ok(
        project
            .command(&["migrate", "--database-url", &url])
            .output()
            .unwrap(),
        "migrate",
    );
    // A dump that takes long enough to be interrupted.
    query(
        &url,
        "INSERT INTO items SELECT g, repeat('x', 200) FROM generate_series(2, 1500000) g",
    )
    .await
    .unwrap();
    let mut child = project
        .command(&["backup", "--database-url", &url])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while client_containers(&project).is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no client container started"
        );
        assert!(child.try_wait().unwrap().is_none(), "backup ended early");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // At once: the signal may come while devdb is still setting the container up, before it
    // waits on the dump, and must be caught there too.
    let pid = child.id().to_string();
    let kill = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no backup was kept"),
        "{}",
        stderr(&out)
    );
    assert!(
        client_containers(&project).is_empty(),
        "a client container was left"
    );
    let backups = project.path().join("backups");
    let kept: Vec<_> = std::fs::read_dir(&backups)
        .map(|entries| {
            entries
                .map(|e| e.unwrap().file_name())
                // The folder's lock file, not a backup.
                .filter(|name| name != ".devdb-lock")
                .collect()
        })
        .unwrap_or_default();
    assert!(kept.is_empty(), "{kept:?}");
}
