//! The SQL-only commands against a server devdb did not start, named by `--database-url` or
//! by `DATABASE_URL` (the environment, then `.env`): a Postgres container of the test's own
//! (plain `docker run`, no devdb labels but the clean-up one), reached with the Docker engine
//! out of the way. The precedence: the flag, then the project's running container, then
//! `DATABASE_URL`.

use std::process::Output;

use crate::common::{
    TestProject, ok_without, plain_postgres, query, simple_compose, stderr, stdout,
};

pub(crate) const PASSWORD: &str = "by-url-s3cret";
pub(crate) const DEAD_ENGINE: &str = "unix:///nonexistent/devdb-by-url.sock";

pub(crate) fn revisions(project: TestProject) -> TestProject {
    project
        .file(
            "migrations/0001_items.sql",
            "-- devdb:revision 0001\n-- devdb:parents\n-- devdb:message items\n\n-- devdb:up\nCREATE TABLE items (id int PRIMARY KEY);\n\n-- devdb:down\nDROP TABLE items;\n",
        )
        .file(
            "migrations/0002_name.sql",
            "-- devdb:revision 0002\n-- devdb:parents 0001\n-- devdb:message name\n\n-- devdb:up\nALTER TABLE items ADD COLUMN name text;\n\n-- devdb:down\nALTER TABLE items DROP COLUMN name;\n",
        )
        .file(
            "migrations/seeds/01_items.sql",
            "INSERT INTO items (id, name) VALUES (1, 'one') ON CONFLICT DO NOTHING;\n",
        )
}

/// Starts a Postgres of the test's own and returns its host port once it answers.
pub(crate) async fn foreign_server(project: &TestProject) -> String {
    foreign_server_container(project).await.1
}

/// [`foreign_server`], also returning the container's id.
pub(crate) async fn foreign_server_container(project: &TestProject) -> (String, String) {
    plain_postgres(project, PASSWORD, "extdb").await
}

/// Fails the test unless the command succeeded; also checks the password stayed out.
pub(crate) fn ok(output: Output, what: &str) -> String {
    ok_without(output, what, PASSWORD)
}

async fn columns(url: &str) -> Vec<String> {
    query(
        url,
        "SELECT column_name::text FROM information_schema.columns WHERE table_name = 'items' ORDER BY ordinal_position",
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn sql_commands_run_against_a_server_named_by_url_with_no_engine() {
    let project = revisions(TestProject::new());
    let port = foreign_server(&project).await;
    let url = format!("postgresql://postgres:{PASSWORD}@127.0.0.1:{port}/extdb");
    // Every run here has a dead engine: the URL alone must do.
    let by_flag = |args: &[&str]| {
        let mut command = project.command(args);
        command
            .args(["--database-url", &url])
            .env("DOCKER_HOST", DEAD_ENGINE);
        command.output().expect("running devdb")
    };

    let out = ok(by_flag(&["migrate", "0001"]), "migrate 0001");
    assert_eq!(out, "");
    assert_eq!(columns(&url).await, ["id"]);
    let out = ok(by_flag(&["current"]), "current");
    assert_eq!(out, "0001 items");
    let out = ok(by_flag(&["history"]), "history");
    assert!(out.contains("0001 (root, applied) items"), "{out}");
    assert!(out.contains("0002 (head) name"), "{out}");
    ok(by_flag(&["migrate"]), "migrate");
    assert_eq!(columns(&url).await, ["id", "name"]);
    assert_eq!(ok(by_flag(&["current"]), "current"), "0002 name (head)");

    ok(by_flag(&["seed"]), "seed");
    assert_eq!(
        query(&url, "SELECT name FROM items").await.unwrap(),
        ["one"]
    );

    // stamp records, runs nothing.
    ok(by_flag(&["stamp", "0001"]), "stamp 0001");
    assert_eq!(ok(by_flag(&["current"]), "current"), "0001 items");
    assert_eq!(columns(&url).await, ["id", "name"]);
    ok(by_flag(&["stamp", "head"]), "stamp head");
    ok(by_flag(&["downgrade", "0001", "--yes"]), "downgrade 0001");
    assert_eq!(columns(&url).await, ["id"]);
    ok(by_flag(&["migrate"]), "migrate again");

    ok(by_flag(&["check"]), "check on a clean database");
    query(&url, "ALTER TABLE items ADD COLUMN by_hand int")
        .await
        .unwrap();
    let drift = by_flag(&["check"]);
    assert_eq!(drift.status.code(), Some(7), "{}", stderr(&drift));
    assert!(stdout(&drift).contains("by_hand"), "{}", stdout(&drift));
    assert!(!stdout(&drift).contains(PASSWORD) && !stderr(&drift).contains(PASSWORD));
    query(&url, "ALTER TABLE items DROP COLUMN by_hand")
        .await
        .unwrap();
    // The shadow database check built on the server is gone.
    let shadows = query(
        &url,
        "SELECT datname::text FROM pg_database WHERE datname LIKE 'devdb_shadow_%'",
    )
    .await
    .unwrap();
    assert!(shadows.is_empty(), "{shadows:?}");

    // DATABASE_URL from the environment, the password from PGPASSWORD (so that it stays out
    // of the process list).
    let bare = format!("postgresql://postgres@127.0.0.1:{port}/extdb");
    let from_env = |args: &[&str]| {
        let mut command = project.command(args);
        command
            .env("DATABASE_URL", &bare)
            .env("PGPASSWORD", PASSWORD)
            .env("DOCKER_HOST", DEAD_ENGINE);
        command.output().expect("running devdb")
    };
    ok(
        from_env(&["downgrade", "0001", "--yes"]),
        "downgrade by DATABASE_URL",
    );
    assert_eq!(ok(from_env(&["current"]), "current"), "0001 items");
    let out = from_env(&["migrate"]);
    assert!(
        stderr(&out).contains("DATABASE_URL from the environment"),
        "{}",
        stderr(&out)
    );
    ok(out, "migrate by DATABASE_URL");
    ok(from_env(&["check"]), "check by DATABASE_URL");
    ok(from_env(&["stamp", "head"]), "stamp by DATABASE_URL");
    ok(from_env(&["seed"]), "seed by DATABASE_URL");

    // DATABASE_URL from .env, with and without an engine (the project runs no container).
    let project = project.file(".env", &format!("DATABASE_URL={url}\n"));
    let from_file = |args: &[&str], dead: bool| {
        let mut command = project.command(args);
        if dead {
            command.env("DOCKER_HOST", DEAD_ENGINE);
        }
        command.output().expect("running devdb")
    };
    ok(
        from_file(&["downgrade", "0001", "--yes"], true),
        "downgrade by .env",
    );
    let out = from_file(&["migrate"], false);
    assert!(
        stderr(&out).contains(
            "DATABASE_URL from .env, as the project's database container is not running: `devdb up` starts it"
        ),
        "{}",
        stderr(&out)
    );
    ok(out, "migrate by .env");
    assert_eq!(
        ok(from_file(&["current"], false), "current"),
        "0002 name (head)"
    );
    ok(from_file(&["check"], true), "check by .env");
    let out = ok(from_file(&["history"], true), "history by .env");
    assert!(out.contains("0002 (head, applied) name"), "{out}");
    let status = ok(from_file(&["status", "--json"], false), "status --json");
    let status: serde_json::Value = serde_json::from_str(&status).unwrap();
    assert_eq!(status["server"]["source"], "DATABASE_URL from .env");
    assert_eq!(
        status["server"]["url"],
        format!("postgresql://postgres:***@127.0.0.1:{port}/extdb")
    );
    let status = ok(from_file(&["status"], false), "status");
    assert!(status.contains("DATABASE_URL from .env"), "{status}");
    // The environment wins over .env.
    let mut command = project.command(&["current"]);
    command
        .env("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
        .env("DOCKER_HOST", DEAD_ENGINE);
    let out = command.output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out)
            .contains("cannot connect to the database at postgresql://nobody@127.0.0.1:1/none"),
        "{}",
        stderr(&out)
    );

    // A password the server refuses: the connect error, the URL masked.
    let wrong = format!("postgresql://postgres:wrong-pass@127.0.0.1:{port}/extdb");
    let out = project
        .command(&["current", "--database-url", &wrong])
        .env("DOCKER_HOST", DEAD_ENGINE)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!(
            "cannot connect to the database at postgresql://postgres:***@127.0.0.1:{port}/extdb"
        )),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("wrong-pass"), "{}", stderr(&out));

    // TLS modes apply, from the URL and from PGSSLMODE: this server speaks plain TCP only.
    let out = project
        .command(&[
            "current",
            "--database-url",
            &format!("{url}?sslmode=require"),
        ])
        .env("DOCKER_HOST", DEAD_ENGINE)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!(
            "cannot connect to the database at postgresql://postgres:***@127.0.0.1:{port}/extdb?sslmode=require"
        )),
        "{}",
        stderr(&out)
    );
    let out = project
        .command(&["current"])
        .env("DATABASE_URL", &bare)
        .env("PGPASSWORD", PASSWORD)
        .env("PGSSLMODE", "require")
        .env("DOCKER_HOST", DEAD_ENGINE)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "PGSSLMODE=require: {}",
        stderr(&out)
    );
}

#[tokio::test]
async fn urls_that_cannot_be_used_are_refused_with_a_hint() {
    let project = revisions(TestProject::new());
    let dead = |args: &[&str]| {
        project
            .command(args)
            .env("DOCKER_HOST", DEAD_ENGINE)
            .output()
            .unwrap()
    };
    let out = dead(&["migrate", "--database-url", "mysql://app:pw-secret@h/db"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("is not a database URL"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("hint: "), "{}", stderr(&out));
    assert!(!stderr(&out).contains("pw-secret"), "{}", stderr(&out));
    let out = project
        .command(&["current"])
        .env("DATABASE_URL", "postgresql://app@h/db?sslmode=sometimes")
        .env("DOCKER_HOST", DEAD_ENGINE)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("DATABASE_URL"), "{}", stderr(&out));
}

#[tokio::test]
async fn the_projects_running_container_wins_over_database_url() {
    let project = revisions(TestProject::new())
        .compose(&simple_compose())
        .file(
            ".env",
            "DATABASE_URL=postgresql://nobody:x-secret@127.0.0.1:1/none\n",
        );
    project.devdb_ok(&["up"]);
    let current = project.command(&["current"]).output().unwrap();
    assert_eq!(ok(current, "current"), "0002 name (head)");
    let out = project
        .command(&["current"])
        .env(
            "DATABASE_URL",
            "postgresql://nobody:x-secret@127.0.0.1:1/none",
        )
        .output()
        .unwrap();
    assert_eq!(ok(out, "current"), "0002 name (head)");
    let status = project.devdb_ok(&["status", "--json"]);
    let status: serde_json::Value = serde_json::from_str(&status).unwrap();
    assert_eq!(status["server"]["source"], "the project's container db");
    assert!(
        status["server"]["url"]
            .as_str()
            .unwrap()
            .starts_with("postgresql://app:***@127.0.0.1:"),
        "{status}"
    );
    let text = project.devdb_ok(&["status"]);
    assert!(text.contains("the project's container db"), "{text}");
    // The flag wins over the container.
    let out = project.devdb(&[
        "current",
        "--database-url",
        "postgresql://nobody:x-secret@127.0.0.1:1/none",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out)
            .contains("cannot connect to the database at postgresql://nobody:***@127.0.0.1:1/none"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("x-secret"));
    // Stopped, the container no longer decides: DATABASE_URL does.
    project.devdb_ok(&["down"]);
    let out = project.devdb(&["current"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("DATABASE_URL from .env"),
        "{}",
        stderr(&out)
    );
}

/// Runs a script with psql inside `container` (the user's way of applying `--sql` output),
/// stopping at the first error.
pub(crate) fn psql_script(container: &str, database: &str, script: &str) -> Output {
    use std::io::Write as _;
    let mut child = std::process::Command::new("docker")
        .args([
            "exec",
            "-i",
            container,
            "psql",
            "-U",
            "postgres",
            "-d",
            database,
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("docker exec psql");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[tokio::test]
async fn stamp_sql_records_a_stamp_with_psql_and_status_names_the_url() {
    let project = revisions(TestProject::new());
    let (container, port) = foreign_server_container(&project).await;
    let admin = format!("postgresql://postgres:{PASSWORD}@127.0.0.1:{port}/extdb");
    query(&admin, "CREATE DATABASE stamped").await.unwrap();
    let url = format!("postgresql://postgres:{PASSWORD}@127.0.0.1:{port}/stamped");
    // No engine and no server: the SQL comes from the files alone.
    let offline = |args: &[&str]| {
        project
            .command(args)
            .env("DOCKER_HOST", DEAD_ENGINE)
            .env("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
            .output()
            .unwrap()
    };
    let script = ok(offline(&["stamp", "0001", "--sql"]), "stamp 0001 --sql");
    assert!(script.contains("INSERT INTO"), "{script}");
    assert!(!script.contains("CREATE TABLE items"), "{script}");
    let applied = psql_script(&container, "stamped", &script);
    assert!(applied.status.success(), "psql: {}", stderr(&applied));
    let current = |url: &str| {
        ok(
            project
                .command(&["current", "--database-url", url])
                .env("DOCKER_HOST", DEAD_ENGINE)
                .output()
                .unwrap(),
            "current",
        )
    };
    assert_eq!(current(&url), "0001 items");
    // Nothing ran: the revision's table is not there.
    assert!(columns(&url).await.is_empty());
    // Applied twice, or over a longer record, the script leaves exactly the stamped set.
    let head = ok(offline(&["stamp", "head", "--sql"]), "stamp head --sql");
    for _ in 0..2 {
        let applied = psql_script(&container, "stamped", &head);
        assert!(applied.status.success(), "psql: {}", stderr(&applied));
    }
    assert_eq!(current(&url), "0002 name (head)");
    let back = ok(
        offline(&["stamp", "-1", "--sql", "--from", "head"]),
        "stamp -1 --sql --from head",
    );
    let applied = psql_script(&container, "stamped", &back);
    assert!(applied.status.success(), "psql: {}", stderr(&applied));
    assert_eq!(current(&url), "0001 items");
    let base = ok(offline(&["stamp", "base", "--sql"]), "stamp base --sql");
    let applied = psql_script(&container, "stamped", &base);
    assert!(applied.status.success(), "psql: {}", stderr(&applied));
    assert_eq!(current(&url), "base");

    // status names the server --database-url gives, over DATABASE_URL, password masked.
    let status = ok(
        project
            .command(&["status", "--json", "--database-url", &url])
            .env("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
            .output()
            .unwrap(),
        "status --json --database-url",
    );
    let status: serde_json::Value = serde_json::from_str(&status).unwrap();
    assert_eq!(status["server"]["source"], "--database-url");
    assert_eq!(
        status["server"]["url"],
        format!("postgresql://postgres:***@127.0.0.1:{port}/stamped")
    );
    let text = ok(
        project
            .command(&["status", "--database-url", &url])
            .output()
            .unwrap(),
        "status --database-url",
    );
    assert!(
        text.contains(&format!(
            "server: postgresql://postgres:***@127.0.0.1:{port}/stamped (--database-url)"
        )),
        "{text}"
    );
}
