//! `reset`: from the template when the project's database runs (settings, comment, owner
//! and grants as a database built from scratch has them), the full path with `--rebuild`;
//! a killed reset leaves a usable project; other sessions are ended only with `--yes`.
//! And `clone`, which gets the template's database-level properties as well.

use std::time::Duration;

use rand::Rng;
use serde_json::Value;

use crate::common::{TestProject, query, simple_compose, stderr, stdout};

/// A migration that sets what a template does not copy: database settings (for everyone and
/// for one role), a comment and a grant.
const MIGRATION: &str = "-- devdb:revision 0001\n-- devdb:message props\n\n-- devdb:up\n\
CREATE TABLE items (name text NOT NULL);\n\
DO $$\n\
BEGIN\n\
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'reader') THEN\n\
    CREATE ROLE reader;\n\
  END IF;\n\
  EXECUTE format('ALTER DATABASE %I SET work_mem TO %L', current_database(), '3MB');\n\
  EXECUTE format('ALTER DATABASE %I SET search_path TO app, public', current_database());\n\
  EXECUTE format('ALTER DATABASE %I SET app.flag TO %L', current_database(), 'on');\n\
  EXECUTE format('ALTER ROLE reader IN DATABASE %I SET statement_timeout TO %L', current_database(), '5s');\n\
  EXECUTE format('COMMENT ON DATABASE %I IS %L', current_database(), 'the app''s data');\n\
  EXECUTE format('GRANT CONNECT ON DATABASE %I TO reader', current_database());\n\
END\n\
$$;\n\n-- devdb:down\nDROP TABLE items;\n";

fn project() -> TestProject {
    TestProject::new()
        .compose(&simple_compose())
        .file("migrations/0001_props.sql", MIGRATION)
        .file(
            "migrations/seeds/01_items.sql",
            "INSERT INTO public.items VALUES ('apple'), ('pear');\n",
        )
}

/// The database-level settings, comment, grants and owner of the database `url` names.
async fn properties(url: &str) -> Vec<String> {
    query(
        url,
        "SELECT concat_ws(' | ', \
           (SELECT string_agg(s.setrole::regrole::text || ':' || s.setconfig::text, ';' \
              ORDER BY s.setrole::regrole::text) \
            FROM pg_db_role_setting s WHERE s.setdatabase = d.oid), \
           shobj_description(d.oid, 'pg_database'), d.datacl::text, \
           pg_get_userbyid(d.datdba)::text, d.datconnlimit::text) \
         FROM pg_database d WHERE d.datname = current_database()",
    )
    .await
    .unwrap()
}

/// The tables and the rows of `items`.
async fn contents(url: &str) -> (Vec<String>, Vec<String>) {
    let tables = query(
        url,
        "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
    )
    .await
    .unwrap();
    let rows = query(url, "SELECT name FROM public.items ORDER BY name")
        .await
        .unwrap();
    (tables, rows)
}

/// Changes by hand what a reset must undo.
async fn scribble(url: &str) {
    query(
        url,
        "INSERT INTO public.items VALUES ('plum'); CREATE TABLE public.junk (x int); \
         DO $$ BEGIN \
           EXECUTE format('ALTER DATABASE %I SET work_mem TO %L', current_database(), '9MB'); \
           EXECUTE format('ALTER DATABASE %I SET lock_timeout TO %L', current_database(), '1s'); \
           EXECUTE format('COMMENT ON DATABASE %I IS %L', current_database(), 'changed'); \
           EXECUTE format('REVOKE CONNECT ON DATABASE %I FROM reader', current_database()); \
         END $$",
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn reset_copies_the_template_and_replays_what_a_template_does_not_copy() {
    let project = project();
    project.devdb_ok(&["up"]);
    let url = project.url();
    let scratch = properties(&url).await;
    assert!(
        scratch[0].contains("work_mem=3MB")
            && scratch[0].contains("app.flag=on")
            && scratch[0].contains("reader=c/"),
        "{scratch:?}"
    );
    let built = contents(&url).await;
    assert_eq!(built.1, ["apple", "pear"]);

    scribble(&url).await;
    assert_ne!(properties(&url).await, scratch);
    let output = project.devdb(&["reset", "--yes"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("reset from template devdb_tpl_"),
        "{}",
        stderr(&output)
    );
    assert!(url.starts_with(stdout(&output).trim().split(":***@").next().unwrap()));
    assert_eq!(properties(&url).await, scratch);
    assert_eq!(contents(&url).await, built);
    project.devdb_ok(&["check"]);

    // Once more with the template there, as JSON.
    scribble(&url).await;
    let text = project.devdb_ok(&["reset", "--yes", "--json"]);
    let report: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(report["reset"]["kind"], "template", "{report}");
    assert_eq!(report["reset"]["template_built"], false, "{report}");
    assert_eq!(properties(&url).await, scratch);
    assert_eq!(contents(&url).await, built);

    // The full path builds the same.
    scribble(&url).await;
    let output = project.devdb(&["reset", "--rebuild", "--yes"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("full reset (volumes wiped)"),
        "{}",
        stderr(&output)
    );
    let url = project.url();
    assert_eq!(properties(&url).await, scratch);
    assert_eq!(contents(&url).await, built);
    let leftovers = query(
        &url,
        "SELECT datname::text FROM pg_database WHERE datname LIKE '%\\_\\_devdb\\_reset%'",
    )
    .await
    .unwrap();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[tokio::test]
async fn reset_without_a_running_server_says_it_took_the_full_path() {
    let project = project();
    let output = project.devdb(&["reset", "--yes"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("full reset (volumes wiped)")
            && stderr(&output).contains("not running"),
        "{}",
        stderr(&output)
    );
    assert_eq!(contents(&project.url()).await.1, ["apple", "pear"]);
}

#[tokio::test]
async fn a_clone_gets_the_settings_comment_and_grants_of_a_database_built_from_scratch() {
    let project = project();
    project.devdb_ok(&["up"]);
    let url = project.url();
    let scratch = properties(&url).await;
    let text = project.devdb_ok(&["clone", "--json", "--show-password"]);
    let report: Value = serde_json::from_str(&text).unwrap();
    let clone_url = report["database_url"].as_str().unwrap();
    let cloned = properties(clone_url).await;
    let template = report["template"].as_str().unwrap();
    // The comment names the template (what `clone --drop` checks), then the migrations' own.
    let expected = scratch[0].replace(
        "the app's data",
        &format!("devdb clone of {template}\nthe app's data"),
    );
    assert_eq!(cloned, [expected]);
    assert_eq!(contents(clone_url).await.1, ["apple", "pear"]);
    let name = report["name"].as_str().unwrap();
    project.devdb_ok(&["clone", "--drop", name]);
}

#[tokio::test]
async fn another_session_is_ended_only_with_yes() {
    use sqlx::Connection;
    let project = project();
    project.devdb_ok(&["up"]);
    let url = project.url();
    query(&url, "INSERT INTO public.items VALUES ('plum')")
        .await
        .unwrap();
    let mut held = sqlx::PgConnection::connect(&url).await.unwrap();

    let output = project.devdb(&["reset"]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("refusing without confirmation"),
        "{}",
        stderr(&output)
    );
    sqlx::query("SELECT 1").execute(&mut held).await.unwrap();
    assert_eq!(contents(&url).await.1, ["apple", "pear", "plum"]);

    let output = project.devdb(&["reset", "--yes"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stderr(&output).contains("reset from template"));
    assert!(sqlx::query("SELECT 1").execute(&mut held).await.is_err());
    assert_eq!(contents(&url).await.1, ["apple", "pear"]);
}

#[tokio::test]
async fn a_killed_reset_leaves_a_usable_project() {
    let project = project();
    project.devdb_ok(&["up"]);
    let url = project.url();
    // The first reset builds the template; how long one takes with it there bounds the
    // moments to kill the next ones at.
    project.devdb_ok(&["reset", "--yes"]);
    let started = std::time::Instant::now();
    project.devdb_ok(&["reset", "--yes"]);
    let whole = started.elapsed().as_millis() as u64;
    for round in 0..6 {
        let delay = rand::rng().random_range(0..=whole);
        let log = project.path().join(format!("reset-{round}.log"));
        let mut child = project
            .command(&["reset", "--yes"])
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        tokio::time::sleep(Duration::from_millis(delay)).await;
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let current = project.devdb(&["current"]);
        assert!(
            current.status.success(),
            "round {round}, killed after {delay} ms: {}\nthe reset said: {}",
            stderr(&current),
            std::fs::read_to_string(&log).unwrap()
        );
        project.devdb_ok(&["migrate"]);
        assert_eq!(
            query(&url, "SELECT count(*)::int FROM public.items")
                .await
                .unwrap()
                .len(),
            1
        );
    }
    let output = project.devdb(&["reset", "--yes"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stderr(&output).contains("reset from template"));
    assert_eq!(contents(&url).await.1, ["apple", "pear"]);
    let leftovers = query(
        &url,
        "SELECT datname::text FROM pg_database WHERE datname LIKE '%\\_\\_devdb\\_reset%' \
         OR datname LIKE '%\\_building'",
    )
    .await
    .unwrap();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
