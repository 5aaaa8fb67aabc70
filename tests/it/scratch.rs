//! `new --autogenerate`, `check --schema` and `schema dump` for a project whose database is
//! not running: the shadows are built in a scratch server, which is removed afterwards,
//! also after a failure or Ctrl-C.

use std::time::{Duration, Instant};

use crate::common::{TestProject, compose_with, docker, stderr, stdout};
use crate::ephemeral::Ephemerals;

/// The drift exit code (README, "Exit codes").
const DRIFT: i32 = 7;

const HEAD: &str = "CREATE TABLE items (id bigint PRIMARY KEY, name text NOT NULL);";

/// Never `up`: migrations with one table, a declarative schema with one more column.
fn project(schema: &str) -> TestProject {
    let compose = compose_with(
        "      POSTGRES_USER: app\n      POSTGRES_PASSWORD: app-secret\n      POSTGRES_DB: appdb",
        "",
    ) + "x-devdb:\n  schema: ../schema.sql\n";
    TestProject::new()
        .compose(&compose)
        .file(
            "migrations/0001_items.sql",
            &format!("-- devdb:revision 0001\n-- devdb:message items\n\n-- devdb:up\n{HEAD}\n"),
        )
        .file("schema.sql", schema)
}

/// Everything of the project's in the engine: its own containers, volumes and networks,
/// and any ephemeral (scratch) server started for it, found by label and by name.
fn everything_left(project: &TestProject) -> Vec<String> {
    let mut found = project.leftovers();
    let filter = format!("label=dev.devdb.ephemeral.of={}", project.name);
    for kind in [&["ps", "-a"][..], &["network", "ls"]] {
        let mut args = kind.to_vec();
        args.extend(["-q", "--filter", &filter]);
        found.extend(stdout(&docker(&args)).lines().map(str::to_string));
    }
    for kind in [&["ps", "-a"][..], &["volume", "ls"], &["network", "ls"]] {
        let mut args = kind.to_vec();
        args.extend(["--format", "{{.Names}}"]);
        if kind[0] != "ps" {
            args.pop();
            args.push("{{.Name}}");
        }
        found.extend(
            stdout(&docker(&args))
                .lines()
                .filter(|name| name.contains(&project.name))
                .map(str::to_string),
        );
    }
    found
}

fn revision_files(project: &TestProject) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(project.path().join("migrations"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn autogenerate_check_and_dump_work_without_a_running_database() {
    let project =
        project("CREATE TABLE items (id bigint PRIMARY KEY, name text NOT NULL, price numeric);\n");
    let _ephemerals = Ephemerals::of(&project);

    let output = project.devdb(&["check", "--schema"]);
    assert_eq!(
        output.status.code(),
        Some(DRIFT),
        "check --schema before the revision:\n{}\n{}",
        stdout(&output),
        stderr(&output)
    );
    assert!(stdout(&output).contains("price"), "{}", stdout(&output));
    // Not a terminal: the scratch server's steps stay out of the log.
    assert!(
        !stderr(&output).contains("scratch") && !stderr(&output).contains("starting"),
        "{}",
        stderr(&output)
    );

    let output = project.devdb(&["new", "--autogenerate", "-m", "price"]);
    assert!(
        output.status.success(),
        "new --autogenerate:\n{}",
        stderr(&output)
    );
    let files = revision_files(&project);
    assert_eq!(files.len(), 2, "one revision written: {files:?}");
    let generated = std::fs::read_to_string(&files[1]).unwrap();
    assert!(
        generated.contains(r#"ADD COLUMN "price" numeric"#),
        "{generated}"
    );

    let output = project.devdb(&["check", "--schema"]);
    assert!(
        output.status.success(),
        "check --schema after the revision:\n{generated}\n{}\n{}",
        stdout(&output),
        stderr(&output)
    );

    let dump = project.devdb_ok(&["schema", "dump"]);
    assert!(
        dump.contains("CREATE TABLE") && dump.contains(r#""price" numeric"#),
        "{dump}"
    );

    // `check` compares the live database: that one still needs the server.
    let output = project.devdb(&["check"]);
    assert!(!output.status.success());
    assert!(stderr(&output).contains("devdb up"), "{}", stderr(&output));

    assert_eq!(everything_left(&project), Vec::<String>::new());
}

#[test]
fn a_broken_declarative_schema_without_a_running_database_is_explained_and_leaves_nothing() {
    let project = project("CREATE TABLE items (id bigint PRIMARY KEY, name text NOT NUL);\n");
    let _ephemerals = Ephemerals::of(&project);

    for args in [
        &["check", "--schema"][..],
        &["new", "--autogenerate", "-m", "x"],
    ] {
        let output = project.devdb(args);
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains("loading the declarative schema") && err.contains("schema.sql"),
            "{args:?}: {err}"
        );
        assert!(err.contains("syntax error"), "{args:?}: {err}");
        assert!(
            !err.contains("app-secret"),
            "{args:?}: password shown: {err}"
        );
        assert_eq!(everything_left(&project), Vec::<String>::new(), "{args:?}");
    }
    assert_eq!(revision_files(&project).len(), 1, "nothing written");
}

#[test]
fn ctrl_c_removes_the_scratch_server() {
    // Enough migrations that building them takes a moment after the server answers.
    let mut project = project("CREATE TABLE items (id bigint PRIMARY KEY);\n");
    for n in 2..40 {
        project = project.file(
            &format!("migrations/{n:04}_t{n}.sql"),
            &format!(
                "-- devdb:revision {n:04}\n-- devdb:parents {:04}\n-- devdb:message t{n}\n\n-- devdb:up\nCREATE TABLE t{n} (id bigint PRIMARY KEY, v text);\nSELECT pg_sleep(0.05);\n",
                n - 1
            ),
        );
    }
    let _ephemerals = Ephemerals::of(&project);
    let mut child = project
        .command(&["check", "--schema"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("devdb");
    let filter = format!("label=dev.devdb.ephemeral.of={}", project.name);
    let deadline = Instant::now() + Duration::from_secs(60);
    // Interrupt once the scratch server runs (its start is interruptible too, but this is
    // the case a user most often meets: Ctrl-C while the shadows are built).
    while stdout(&docker(&["ps", "-q", "--filter", &filter])).is_empty() {
        assert!(
            Instant::now() < deadline,
            "no scratch server appeared; devdb exited: {:?}",
            child.try_wait()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    let pid = child.id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let output = child.wait_with_output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(130),
        "{}\n{}",
        stdout(&output),
        stderr(&output)
    );
    assert!(
        stderr(&output).contains("interrupted"),
        "{}",
        stderr(&output)
    );
    assert_eq!(everything_left(&project), Vec::<String>::new());
}
