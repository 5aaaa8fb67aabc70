//! `check` and `squash` against real databases: drift named object by object, and a
//! squashed baseline that old and new databases both accept.

use crate::common::{TestProject, query, simple_compose, stderr, stdout};

/// The drift exit code (README, "Exit codes").
const DRIFT: i32 = 7;

/// The text of a revision file.
fn rev(id: &str, parents: &str, message: &str, up: &str) -> String {
    format!(
        "-- devdb:revision {id}\n-- devdb:parents {parents}\n-- devdb:message {message}\n\n-- devdb:up\n{up}\n"
    )
}

/// A chain with a table, an index, a function, a trigger, a view and a grant. Roles belong
/// to the server, which the shadow databases share, so the role is created only if missing.
fn chain(project: TestProject) -> TestProject {
    project
        .file(
            "migrations/0001_item.sql",
            &rev(
                "0001",
                "",
                "item",
                "CREATE TABLE item (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL, price numeric(10,2) DEFAULT 0);\n\
                 CREATE INDEX item_name_idx ON item (name);",
            ),
        )
        .file(
            "migrations/0002_functions.sql",
            &rev(
                "0002",
                "0001",
                "functions and triggers",
                "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');\n\
                 ALTER TABLE item ADD COLUMN mood mood, ADD COLUMN updated_at timestamptz;\n\
                 CREATE FUNCTION double_it(x integer) RETURNS integer LANGUAGE sql AS $$ SELECT x * 2 $$;\n\
                 CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$\n\
                 BEGIN\n  NEW.updated_at := now();\n  RETURN NEW;\nEND\n$$;\n\
                 CREATE TRIGGER item_touch BEFORE UPDATE ON item FOR EACH ROW EXECUTE FUNCTION touch();",
            ),
        )
        .file(
            "migrations/0003_view.sql",
            &rev(
                "0003",
                "0002",
                "view and grants",
                "CREATE VIEW cheap_items AS SELECT id, name FROM item WHERE price < 10;\n\
                 COMMENT ON VIEW cheap_items IS 'under ten';\n\
                 CREATE MATERIALIZED VIEW item_count AS SELECT count(*) AS n FROM item;\n\
                 DO $$ BEGIN CREATE ROLE reader NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;\n\
                 GRANT SELECT ON cheap_items TO reader;",
            ),
        )
}

fn project() -> TestProject {
    chain(TestProject::new().compose(&simple_compose()))
}

async fn shadow_databases(url: &str) -> Vec<String> {
    query(
        url,
        "SELECT datname::text FROM pg_database WHERE datname LIKE 'devdb\\_shadow\\_%'",
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn check_is_clean_on_a_migrated_database_and_names_each_drift() {
    let project = project();
    project.devdb_ok(&["up"]);
    let url = project.url();

    let output = project.devdb(&["check"]);
    assert!(
        output.status.success(),
        "{}\n{}",
        stdout(&output),
        stderr(&output)
    );
    assert!(stderr(&output).contains("no drift"), "{}", stderr(&output));
    assert_eq!(shadow_databases(&url).await, Vec::<String>::new());

    query(
        &url,
        "ALTER TABLE item ADD COLUMN sneaky text; DROP INDEX item_name_idx; \
         CREATE OR REPLACE FUNCTION double_it(x integer) RETURNS integer LANGUAGE sql AS $$ SELECT x * 3 $$",
    )
    .await
    .unwrap();
    let output = project.devdb(&["check"]);
    let out = stdout(&output);
    assert_eq!(
        output.status.code(),
        Some(DRIFT),
        "{out}\n{}",
        stderr(&output)
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines,
        [
            "column item.sneaky: present in the database, not in the migrations",
            "index item_name_idx: in the migrations, not in the database",
            "function double_it(x integer): body differs: SELECT x * 3 in the database, SELECT x * 2 in the migrations",
        ],
        "{}",
        stderr(&output)
    );

    let output = project.devdb(&["check", "--json"]);
    assert_eq!(output.status.code(), Some(DRIFT));
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(report["clean"], false);
    assert_eq!(report["differences"].as_array().unwrap().len(), 3);
    assert_eq!(report["differences"][0]["kind"], "column");
    assert_eq!(report["differences"][0]["key"], "public.item.sneaky");
    assert_eq!(report["differences"][0]["change"], "unexpected");
    assert_eq!(report["differences"][2]["aspect"], "body");
    assert_eq!(shadow_databases(&url).await, Vec::<String>::new());
}

#[tokio::test]
async fn check_reports_every_problem_with_the_files_at_once() {
    let project = project();
    project.devdb_ok(&["up"]);
    // An applied file edited, a file that does not parse, and a parent nobody defines.
    let path = project.path().join("migrations/0001_item.sql");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("DEFAULT 0", "DEFAULT 1")).unwrap();
    let project = project
        .file(
            "migrations/0004_broken.sql",
            "-- devdb:revision 0004\n-- devdb:parnets 0003\n",
        )
        .file(
            "migrations/0005_orphan.sql",
            &rev("0005", "0042", "orphan", "SELECT 1;"),
        );
    let output = project.devdb(&["check"]);
    let out = stdout(&output);
    assert_eq!(
        output.status.code(),
        Some(DRIFT),
        "{out}\n{}",
        stderr(&output)
    );
    assert!(
        out.contains("0004_broken.sql:2: unknown directive `-- devdb:parnets`"),
        "{out}"
    );
    assert!(
        out.contains("revision 0005") && out.contains("names parent 0042"),
        "{out}"
    );
    assert!(
        out.contains("revision 0001") && out.contains("edited after it was applied"),
        "{out}"
    );
    assert!(
        stderr(&output).contains("not compared"),
        "{}",
        stderr(&output)
    );
}

async fn records(url: &str) -> Vec<String> {
    query(
        url,
        "SELECT id FROM public.devdb_revisions ORDER BY applied_at, id",
    )
    .await
    .unwrap()
}

fn sql_files(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".sql"))
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn a_squashed_chain_keeps_old_databases_working_and_builds_new_ones() {
    let project = project();
    project.devdb_ok(&["up"]);
    let url = project.url();
    query(&url, "INSERT INTO item (name, price) VALUES ('pen', 2)")
        .await
        .unwrap();

    let output = project.devdb(&["squash", "-m", "baseline"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("--yes"), "{}", stderr(&output));

    let json = project.devdb_ok(&["squash", "-m", "baseline", "--yes", "--json"]);
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    let baseline = report["baseline"].as_str().unwrap().to_string();
    assert_eq!(
        report["replaces"],
        serde_json::json!(["0001", "0002", "0003"])
    );
    let migrations = project.path().join("migrations");
    assert_eq!(sql_files(&migrations), [format!("{baseline}_baseline.sql")]);
    let archive = std::path::PathBuf::from(report["archive"].as_str().unwrap());
    assert!(
        archive.starts_with(migrations.join("archive")),
        "{archive:?}"
    );
    assert_eq!(
        sql_files(&archive),
        ["0001_item.sql", "0002_functions.sql", "0003_view.sql"]
    );
    let backup = std::path::PathBuf::from(report["backup"].as_str().unwrap());
    assert!(backup.join("manifest.json").is_file(), "{backup:?}");
    let text =
        std::fs::read_to_string(migrations.join(format!("{baseline}_baseline.sql"))).unwrap();
    assert!(text.contains("-- devdb:replaces 0001 0002 0003"), "{text}");
    for object in [
        "cheap_items",
        "double_it",
        "item_touch",
        "item_name_idx",
        "GRANT SELECT",
    ] {
        assert!(
            text.contains(object),
            "{object} missing from the baseline:\n{text}"
        );
    }
    assert!(!text.contains("devdb_revisions"), "{text}");
    assert_eq!(shadow_databases(&url).await, Vec::<String>::new());

    // Work goes on after the baseline.
    let project = project.file(
        "migrations/0004_note.sql",
        &rev(
            "0004",
            &baseline,
            "note",
            "ALTER TABLE item ADD COLUMN note text;",
        ),
    );

    // The old database is recorded at the baseline without running it, keeps its data,
    // and matches its migrations.
    let json = project.devdb_ok(&["migrate", "--json"]);
    let migrated: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(migrated["baselines"], serde_json::json!([baseline]));
    assert_eq!(migrated["applied"][0]["id"], "0004");
    assert_eq!(migrated["applied"].as_array().unwrap().len(), 1);
    assert_eq!(query(&url, "SELECT name FROM item").await.unwrap(), ["pen"]);
    let output = project.devdb(&["check"]);
    assert!(
        output.status.success(),
        "{}\n{}",
        stdout(&output),
        stderr(&output)
    );
    assert_eq!(project.devdb_ok(&["current"]), "0004 note (head)");

    // A new database applies the baseline and matches too.
    project.devdb_ok(&["reset", "--yes"]);
    let url = project.url();
    assert_eq!(records(&url).await, [baseline.as_str(), "0004"]);
    // Filled, as the chain left it, not `WITH NO DATA` as a schema dump creates it.
    assert_eq!(
        query(&url, "SELECT n FROM item_count").await.unwrap(),
        ["0"]
    );
    let output = project.devdb(&["check"]);
    assert!(
        output.status.success(),
        "{}\n{}",
        stdout(&output),
        stderr(&output)
    );
}

#[tokio::test]
async fn squash_refuses_a_database_partway_through_the_chain() {
    let project = project();
    project.devdb_ok(&["up", "--no-migrate"]);
    project.devdb_ok(&["migrate", "0002"]);
    let output = project.devdb(&["squash", "-m", "baseline", "--yes"]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(
        err.contains("partway through the chain") && err.contains("0003"),
        "{err}"
    );
    assert_eq!(
        sql_files(&project.path().join("migrations")),
        ["0001_item.sql", "0002_functions.sql", "0003_view.sql"]
    );
    assert!(!project.path().join("migrations/archive").exists());
}

/// A database partly through a squashed chain (it has 0001 and 0002; the baseline replaces
/// 0001 to 0003): every command that works out where it is says so in the same words.
#[tokio::test]
async fn a_database_partly_through_a_squashed_chain_is_one_error_everywhere() {
    let project = project();
    project.devdb_ok(&["up", "--no-migrate"]);
    project.devdb_ok(&["migrate", "0002"]);
    let migrations = project.path().join("migrations");
    for name in sql_files(&migrations) {
        std::fs::remove_file(migrations.join(name)).unwrap();
    }
    let project = project.file(
        "migrations/b0_baseline.sql",
        "-- devdb:revision b0\n-- devdb:replaces 0001 0002 0003\n-- devdb:up\nSELECT 1;\n",
    );
    let words =
        "the database applied only part of the revisions that baseline b0 replaces (it lacks 0003)";
    for (args, code) in [
        (&["migrate"][..], 5),
        (&["migrate", "--dry-run"], 5),
        (&["current"], 5),
        (&["check"], 7),
    ] {
        let output = project.devdb(args);
        let all = format!("{}{}", stdout(&output), stderr(&output));
        assert_eq!(output.status.code(), Some(code), "devdb {args:?}: {all}");
        assert!(all.contains(words), "devdb {args:?}: {all}");
    }
    // Reports and backups still work, and say it.
    for args in [&["status"][..], &["history"], &["backup"]] {
        let output = project.devdb(args);
        let all = format!("{}{}", stdout(&output), stderr(&output));
        assert!(output.status.success(), "devdb {args:?}: {all}");
        assert!(all.contains(words), "devdb {args:?}: {all}");
    }
}

#[tokio::test]
async fn squash_to_a_revision_keeps_the_later_ones_on_the_baseline() {
    let project = project();
    project.devdb_ok(&["up"]);

    let json = project.devdb_ok(&[
        "squash", "-m", "baseline", "--to", "0002", "--yes", "--json",
    ]);
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    let baseline = report["baseline"].as_str().unwrap().to_string();
    assert_eq!(report["replaces"], serde_json::json!(["0001", "0002"]));
    let migrations = project.path().join("migrations");
    assert_eq!(
        sql_files(&migrations),
        [
            "0003_view.sql".to_string(),
            format!("{baseline}_baseline.sql")
        ]
    );
    let later = std::fs::read_to_string(migrations.join("0003_view.sql")).unwrap();
    let parents: Vec<&str> = later
        .lines()
        .find_map(|line| line.strip_prefix("-- devdb:parents"))
        .map(|rest| rest.split_whitespace().collect())
        .unwrap_or_default();
    assert_eq!(parents, [baseline.as_str()], "{later}");
    let text =
        std::fs::read_to_string(migrations.join(format!("{baseline}_baseline.sql"))).unwrap();
    assert!(
        !text.contains("cheap_items"),
        "0003 is not squashed:\n{text}"
    );

    // The old database, at 0003, is recorded at the baseline and runs nothing.
    let json = project.devdb_ok(&["migrate", "--json"]);
    let migrated: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(migrated["baselines"], serde_json::json!([baseline]));
    assert_eq!(migrated["applied"], serde_json::json!([]));
    let output = project.devdb(&["check"]);
    assert!(output.status.success(), "{}", stdout(&output));

    // A new database applies the baseline, then 0003 on it.
    project.devdb_ok(&["reset", "--yes"]);
    let url_after = project.url();
    assert_eq!(records(&url_after).await, [baseline.as_str(), "0003"]);
    let output = project.devdb(&["check"]);
    assert!(output.status.success(), "{}", stdout(&output));
    assert_eq!(shadow_databases(&url_after).await, Vec::<String>::new());
}

/// The names of the shadow databases on the server of `url`.
async fn shadows(url: &str) -> Vec<String> {
    query(
        url,
        "SELECT datname::text FROM pg_database WHERE datname LIKE 'devdb\\_shadow\\_%' ORDER BY 1",
    )
    .await
    .unwrap()
}

/// Waits until the shadows on the server satisfy `done`; panics if `child` ends first.
async fn wait_for_shadows(
    child: &mut std::process::Child,
    url: &str,
    done: impl Fn(&[String]) -> bool,
) -> Vec<String> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let found = shadows(url).await;
        if done(&found) {
            return found;
        }
        assert!(child.try_wait().unwrap().is_none(), "check ended first");
        assert!(std::time::Instant::now() < deadline, "no shadow: {found:?}");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_killed_check_leaves_a_shadow_the_next_check_drops_and_running_checks_keep_theirs() {
    let project = TestProject::new().compose(&simple_compose()).file(
        "migrations/0001_slow.sql",
        &rev(
            "0001",
            "",
            "slow",
            "CREATE TABLE item (id int);\nSELECT pg_sleep(4);",
        ),
    );
    project.devdb_ok(&["up"]);
    let url = project.url();
    let spawn = || {
        project
            .command(&["check"])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };

    let mut killed = spawn();
    let left = wait_for_shadows(&mut killed, &url, |found| !found.is_empty()).await;
    killed.kill().unwrap();
    killed.wait().unwrap();
    assert_eq!(
        shadows(&url).await,
        left,
        "a killed check cannot drop its shadow"
    );

    // The next check drops it; while it builds its own, another check runs to its end
    // and leaves that one alone.
    let mut running = spawn();
    wait_for_shadows(&mut running, &url, |found| {
        !found.is_empty() && !found.contains(&left[0])
    })
    .await;
    let output = project.devdb(&["check"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let status = running.wait().unwrap();
    assert!(
        status.success(),
        "the running check's shadow was kept: {status}"
    );
    assert_eq!(shadows(&url).await, Vec::<String>::new());
}
