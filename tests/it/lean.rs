//! The lean library: an application (`tests/lean-app`) that depends on devdb with
//! `default-features = false, features = ["migrate"]`, embeds its revisions and records
//! them in `app_meta`, migrating `DATABASE_URL` at start-up. It is built once per test run
//! (into a folder of the test's target directory, so later runs reuse it) and run against
//! a Postgres container of the test's own, started with plain `docker run`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use devdb::error::{Exit, Failure};

use crate::common::{
    TestProject, ok_without, plain_postgres, query, repo_root, simple_compose, stderr, stdout,
};

const PASSWORD: &str = "lean-s3cret";

/// The packages the lean library must not pull in: the command line's.
const CLI_ONLY: [&str; 6] = [
    "bollard",
    "clap",
    "indicatif",
    "tar",
    "serde-saphyr",
    "tempfile",
];

/// Cargo, in the environment of a shell rather than the one `cargo test` gives a test (its
/// `CARGO_*` variables and library path would change the fingerprints, and the lean app
/// would not reuse what CI built for it).
fn cargo() -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.current_dir(repo_root());
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if (name.starts_with("CARGO_") && name != "CARGO_HOME") || name == "LD_LIBRARY_PATH" {
            command.env_remove(&*name);
        }
    }
    command
}

/// Where the lean app is built: beside this test binary's target directory, so a second
/// run reuses the build (the lean feature set compiles sqlx once more).
fn lean_target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    // target/<profile>/deps/it-<hash>
    let target = exe
        .ancestors()
        .nth(3)
        .expect("the test binary is in target/<profile>/deps");
    target.join("lean-app")
}

/// Builds the lean app once per test run and returns its binary.
fn lean_app() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        let target = lean_target_dir();
        let output = cargo()
            .args(["build", "--locked", "--offline", "-p", "devdb-lean-app"])
            .env("CARGO_TARGET_DIR", &target)
            .output()
            .expect("running cargo build");
        assert!(
            output.status.success(),
            "building the lean app failed:\n{}",
            stderr(&output)
        );
        target.join("debug").join("devdb-lean-app")
    })
}

/// Runs the lean app against `url`, the password passed by PGPASSWORD.
fn run_app(url: &str) -> Output {
    Command::new(lean_app())
        .env("DATABASE_URL", url)
        .env("PGPASSWORD", PASSWORD)
        .output()
        .expect("running the lean app")
}

fn ok(output: Output, what: &str) -> String {
    ok_without(output, what, PASSWORD)
}

fn applied_lines(out: &str) -> Vec<&str> {
    out.lines().filter(|l| l.starts_with("applied ")).collect()
}

/// Starts a Postgres of the test's own (removed with `project`) and returns the URL of its
/// `leandb` database without the password, once the server answers.
async fn server(project: &TestProject) -> (String, String) {
    let (_container, port) = plain_postgres(project, PASSWORD, "leandb").await;
    (
        format!("postgresql://postgres@127.0.0.1:{port}/leandb"),
        format!("postgresql://postgres:{PASSWORD}@127.0.0.1:{port}/leandb"),
    )
}

async fn records(admin: &str, table: &str) -> Vec<String> {
    query(admin, &format!("SELECT id FROM {table} ORDER BY id"))
        .await
        .unwrap()
}

#[test]
fn the_lean_library_depends_on_nothing_of_the_command_line() {
    let output = cargo()
        .args([
            "tree",
            "--locked",
            "--offline",
            "-p",
            "devdb-lean-app",
            "-e",
            "normal",
            "--prefix",
            "none",
        ])
        .output()
        .expect("running cargo tree");
    let tree = stdout(&output);
    assert!(output.status.success(), "cargo tree: {}", stderr(&output));
    let packages: Vec<&str> = tree
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .collect();
    assert!(packages.contains(&"devdb"), "{tree}");
    assert!(packages.contains(&"sqlx"), "{tree}");
    for cli_only in CLI_ONLY {
        assert!(
            !packages.contains(&cli_only),
            "the lean app depends on {cli_only}:\n{tree}"
        );
    }
}

#[tokio::test]
async fn an_app_migrates_at_start_up_with_embedded_revisions_in_its_own_record_schema() {
    let project = TestProject::new();
    let (url, admin) = server(&project).await;

    // The first start applies both embedded revisions, recorded in app_meta only.
    let out = ok(run_app(&url), "the first start");
    assert_eq!(
        applied_lines(&out),
        ["applied 0001 authors", "applied 0002 books"],
        "{out}"
    );
    assert!(out.ends_with("at 0002"), "{out}");
    assert_eq!(
        records(&admin, "app_meta.devdb_revisions").await,
        ["0001", "0002"]
    );
    let tables = query(
        &admin,
        "SELECT (to_regclass('public.authors') IS NOT NULL AND to_regclass('public.books') IS NOT NULL \
         AND to_regclass('public.devdb_revisions') IS NULL)::text",
    )
    .await
    .unwrap();
    assert_eq!(tables, ["true"]);

    // A second start applies nothing.
    let out = ok(run_app(&url), "the second start");
    assert!(applied_lines(&out).is_empty(), "{out}");
    assert_eq!(
        records(&admin, "app_meta.devdb_revisions").await,
        ["0001", "0002"]
    );

    // The command line, configured with the same record schema and the same files, reads
    // the same record: at head, nothing to apply.
    let mut cli = project.compose(&format!(
        "{}x-devdb:\n  record_schema: app_meta\n",
        simple_compose()
    ));
    for (name, text) in devdb_lean_files() {
        cli = cli.file(&format!("migrations/{name}"), &text);
    }
    let with_url = |args: &[&str]| {
        let mut command = cli.command(args);
        command
            .args(["--database-url", &url])
            .env("PGPASSWORD", PASSWORD);
        command.output().expect("running devdb")
    };
    assert_eq!(
        ok(with_url(&["current"]), "devdb current"),
        "0002 books (head)"
    );
    ok(with_url(&["migrate"]), "devdb migrate");
    assert_eq!(
        records(&admin, "app_meta.devdb_revisions").await,
        ["0001", "0002"]
    );

    // The library with the default record schema refuses instead of applying everything
    // again into public.
    let pool = sqlx::PgPool::connect(&admin).await.unwrap();
    let error = devdb::migrate_to_head(&pool, repo_root().join("tests/lean-app/migrations"))
        .await
        .expect_err("migrating with the wrong record schema");
    assert!(
        matches!(error, devdb::MigrateError::RecordElsewhere { .. }),
        "{error:?}"
    );
    assert_eq!(error.exit(), Exit::MigrationFailed);
    assert!(error.to_string().contains("app_meta"), "{error}");
    let hint = error.hint().unwrap();
    assert!(hint.contains(".record_schema(\"app_meta\")"), "{hint}");
    assert!(hint.contains("x-devdb.record_schema: app_meta"), "{hint}");
    let public = query(
        &admin,
        "SELECT (to_regclass('public.devdb_revisions') IS NULL)::text",
    )
    .await
    .unwrap();
    assert_eq!(
        public,
        ["true"],
        "the refused run created a record in public"
    );
    // So does the builder, configured with a schema the database has no record in.
    let error = devdb::Migrator::from_dir(repo_root().join("tests/lean-app/migrations"))
        .record_schema("elsewhere")
        .run(&pool)
        .await
        .expect_err("migrating with the wrong record schema");
    assert!(
        matches!(error, devdb::MigrateError::RecordElsewhere { .. }),
        "{error:?}"
    );
    pool.close().await;
    // And the command line, configured with the default record schema.
    let mut public = TestProject::new().compose(&simple_compose());
    for (name, text) in devdb_lean_files() {
        public = public.file(&format!("migrations/{name}"), &text);
    }
    let refused = public
        .command(&["migrate", "--database-url", &url])
        .env("PGPASSWORD", PASSWORD)
        .output()
        .expect("running devdb");
    assert_eq!(refused.status.code(), Some(5), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("x-devdb.record_schema: app_meta"),
        "{}",
        stderr(&refused)
    );
    assert_eq!(
        records(&admin, "app_meta.devdb_revisions").await,
        ["0001", "0002"]
    );

    // Four replicas starting at once on a fresh database: all succeed, and each revision
    // is applied once, under the migration lock.
    query(&admin, "CREATE DATABASE fresh").await.unwrap();
    let fresh = url.replace("/leandb", "/fresh");
    let replicas: Vec<_> = (0..4)
        .map(|_| {
            let fresh = fresh.clone();
            std::thread::spawn(move || run_app(&fresh))
        })
        .collect();
    let mut applied = Vec::new();
    for replica in replicas {
        let out = ok(replica.join().unwrap(), "a concurrent start");
        applied.extend(applied_lines(&out).into_iter().map(str::to_string));
    }
    applied.sort();
    assert_eq!(applied, ["applied 0001 authors", "applied 0002 books"]);
    let fresh_admin = admin.replace("/leandb", "/fresh");
    assert_eq!(
        records(&fresh_admin, "app_meta.devdb_revisions").await,
        ["0001", "0002"]
    );
}

/// The lean app's revision files, name and text.
fn devdb_lean_files() -> Vec<(String, String)> {
    let dir = repo_root().join("tests/lean-app/migrations");
    let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| {
            let path = entry.unwrap().path();
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&path).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}
