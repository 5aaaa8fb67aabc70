//! What devdb must never expose or depend on: the password in a process list or a URL that
//! changes it, the user's libpq settings on devdb's own connections, and a server that takes
//! connections and answers none.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::{
    TestProject, compose_with, docker, finish_within, query, spawn_piped, stderr, stdout,
};

/// A password with every character a URL or a shell treats specially, `%41` included
/// (which a URL that does not escape `%` turns into `A`).
const ODD_PASSWORD: &str = "pa%41ss w@rd:/?#x";

fn odd_password_project() -> TestProject {
    TestProject::new().compose(&compose_with(
        &format!(
            "      POSTGRES_USER: app\n      POSTGRES_PASSWORD: '{ODD_PASSWORD}'\n      POSTGRES_DB: appdb"
        ),
        "",
    ))
}

fn one_revision_project() -> TestProject {
    TestProject::new()
        .compose(&crate::common::simple_compose())
        .file(
            "migrations/0001_t.sql",
            "-- devdb:revision 0001\n-- devdb:up\nCREATE TABLE t (id int);\n-- devdb:down\nDROP TABLE t;\n",
        )
}

#[tokio::test]
async fn a_password_with_percent_signs_gives_a_url_that_logs_in_and_never_shows_in_ps() {
    let project = odd_password_project();
    project.devdb_ok(&["up"]);
    let url = project.url();
    assert_eq!(query(&url, "SELECT 'in'").await.unwrap(), ["in"]);

    // The docker command line that runs psql carries no password in its arguments.
    let child = spawn_piped(project.command(&["psql", "--", "-c", "SELECT pg_sleep(3)"]));
    let mut saw_psql = false;
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(3) {
        let listing = stdout(
            &Command::new("ps")
                .args(["-eo", "args"])
                .output()
                .expect("ps"),
        );
        assert!(
            !listing.contains(ODD_PASSWORD),
            "the password shows in the process list:\n{listing}"
        );
        saw_psql |= listing.contains("pg_sleep(3)");
        std::thread::sleep(Duration::from_millis(100));
    }
    let (output, _) = finish_within(child, Duration::from_secs(30));
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        saw_psql,
        "the psql command was never seen in the process list"
    );
}

#[tokio::test]
async fn the_shells_libpq_settings_do_not_reach_devdbs_own_connections() {
    let project = one_revision_project();
    let with_libpq_env = |args: &[&str]| {
        let mut command = project.command(args);
        command
            .env("PGSSLMODE", "require")
            .env("PGOPTIONS", "-c default_transaction_read_only=on")
            .env("PGAPPNAME", "not-devdb")
            .env("PGSSLROOTCERT", "/nonexistent/root.crt");
        command.output().expect("running devdb")
    };
    for args in [
        &["up"][..],
        &["current"],
        &["downgrade", "base", "--yes"],
        &["migrate"],
        &["status"],
    ] {
        let output = with_libpq_env(args);
        assert!(
            output.status.success(),
            "devdb {args:?} with the shell's PGSSLMODE/PGOPTIONS: {}",
            stderr(&output)
        );
    }
    assert_eq!(
        query(&project.url(), "SELECT count(*) FROM t")
            .await
            .unwrap(),
        ["0"]
    );
}

/// Runs a docker command when dropped: resumes the container's Postgres even when the
/// test fails.
struct OnDrop(Vec<String>);

impl Drop for OnDrop {
    fn drop(&mut self) {
        docker(&self.0.iter().map(String::as_str).collect::<Vec<_>>());
    }
}

fn on_drop(args: &[&str]) -> OnDrop {
    OnDrop(args.iter().map(|a| a.to_string()).collect())
}

#[tokio::test]
async fn a_paused_or_hung_server_is_an_error_with_exit_4_not_a_hang() {
    let project = one_revision_project();
    project.devdb_ok(&["up"]);
    let container = project.container("db");

    // Paused: the engine says so; every command answers at once.
    // The engine may refuse a pause while it runs the container's healthcheck: try again.
    let mut paused = docker(&["pause", &container]);
    for _ in 0..20 {
        if paused.status.success() {
            break;
        }
        std::thread::sleep(Duration::from_millis(250));
        paused = docker(&["pause", &container]);
    }
    assert!(paused.status.success(), "{}", stderr(&paused));
    let resume = on_drop(&["unpause", &container]);
    for args in [
        &["up"][..],
        &["migrate"],
        &["current"],
        &["backup"],
        &["clone"],
        &["downgrade", "base", "--yes"],
    ] {
        let (output, took) =
            finish_within(spawn_piped(project.command(args)), Duration::from_secs(30));
        let message = stderr(&output);
        assert_eq!(output.status.code(), Some(4), "devdb {args:?}: {message}");
        assert!(
            message.contains(&format!("{container} is paused"))
                && message.contains("docker unpause"),
            "devdb {args:?}: {message}"
        );
        assert!(
            took < Duration::from_secs(20),
            "devdb {args:?} took {took:?}"
        );
    }
    let (output, took) = finish_within(
        spawn_piped(project.command(&["status", "--json"])),
        Duration::from_secs(30),
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("\"paused\""),
        "{}",
        stdout(&output)
    );
    assert!(took < Duration::from_secs(20), "status took {took:?}");
    drop(resume);

    // Hung: the postmaster is stopped, the container runs, connections are taken by the
    // kernel and never answered.
    assert!(
        docker(&["kill", "--signal", "STOP", &container])
            .status
            .success()
    );
    let _resume = on_drop(&["kill", "--signal", "CONT", &container]);
    let (output, took) = finish_within(
        spawn_piped(project.command(&["current"])),
        Duration::from_secs(60),
    );
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(4), "{message}");
    assert!(message.contains("did not answer within"), "{message}");
    assert!(took < Duration::from_secs(40), "current took {took:?}");
}

#[tokio::test]
async fn a_database_closed_to_connections_names_the_command_that_opens_it() {
    let project = one_revision_project();
    project.devdb_ok(&["up"]);
    let container = project.container("db");
    let close = "ALTER DATABASE appdb WITH ALLOW_CONNECTIONS false";
    let closed = docker(&[
        "exec", &container, "psql", "-U", "app", "-d", "postgres", "-c", close,
    ]);
    assert!(closed.status.success(), "{}", stderr(&closed));
    for args in [&["migrate"][..], &["backup"], &["current"]] {
        let output = project.devdb(args);
        let message = stderr(&output);
        assert_eq!(output.status.code(), Some(1), "devdb {args:?}: {message}");
        assert!(
            message.contains("`devdb restore --clean` opens it again"),
            "devdb {args:?}: {message}"
        );
    }
    project.devdb_ok(&["restore", "--clean"]);
    project.devdb_ok(&["migrate"]);
}
