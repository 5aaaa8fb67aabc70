//! Schemas as real projects write them: each fixture in `tests/fixtures/schemas/` is one
//! shape (row-level security, domains, quoted names, ...) written as the SQL a migration
//! would hold, and must hold up in every command that reads or writes whole schemas:
//!
//! 1. autogenerate from an empty schema to the fixture: up, `check --schema` clean,
//!    `check` clean, down, `check` clean (the round trip of `autogen.rs`);
//! 2. `schema dump` of the fixture, loaded into a fresh database, gives the same
//!    `pg_dump --schema-only` as the migrated one;
//! 3. `check` after each hand change the fixture lists names what changed;
//! 4. `squash` of the fixture and one more revision gives a baseline from which a fresh
//!    database gets the same `pg_dump --schema-only` and the same rows.
//!
//! A fixture lists its needs and its hand changes in SQL comments, so that the file
//! stays plain SQL:
//!
//! ```text
//! -- roles: reader, writer            roles the fixture grants to (made by the test)
//! -- change: ALTER TABLE ...;         SQL run on the migrated database, on one line
//! -- expect: policy item.p            ... and a text `check` must print about it
//! ```

use crate::autogen::{DRIFT, clear_database, project, round_trip, start_from};
use crate::common::{TestProject, docker, query, repo_root, stderr, stdout};
use crate::squash::rows;

/// A fixture file and what its comments ask for.
pub(crate) struct Fixture {
    pub name: String,
    pub sql: String,
    pub roles: Vec<String>,
    /// `(SQL, text check must print)` pairs.
    pub changes: Vec<(String, String)>,
}

impl Fixture {
    pub(crate) fn load(name: &str) -> Fixture {
        let path = repo_root()
            .join("tests/fixtures/schemas")
            .join(format!("{name}.sql"));
        let sql =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut roles = Vec::new();
        let mut changes = Vec::new();
        let mut pending: Option<String> = None;
        for line in sql.lines() {
            if let Some(list) = line.strip_prefix("-- roles:") {
                roles.extend(list.split(',').map(|r| r.trim().to_string()));
            } else if let Some(change) = line.strip_prefix("-- change:") {
                assert!(pending.is_none(), "{name}: a change without its expect");
                pending = Some(change.trim().to_string());
            } else if let Some(expect) = line.strip_prefix("-- expect:") {
                let change = pending
                    .take()
                    .unwrap_or_else(|| panic!("{name}: an expect without its change"));
                changes.push((change, expect.trim().to_string()));
            }
        }
        assert!(pending.is_none(), "{name}: the last change has no expect");
        Fixture {
            name: name.to_string(),
            sql,
            roles,
            changes,
        }
    }
}

/// What a migration that must not matter holds: a round trip starts and ends there.
const NOTHING: &str = "SELECT 1;";

/// Runs the three checks of the module docs on fixture `name`.
pub(crate) async fn fixture_holds(name: &str) {
    let fixture = Fixture::load(name);
    let project = project();
    project.devdb_ok(&["up"]);
    let url = project.url();
    make_roles(&url, &fixture.roles).await;

    round_trip(&project, &url, &fixture.name, NOTHING, &fixture.sql).await;
    dump_reloads_to_the_same_schema(&project, &url, &fixture).await;
    squash_rebuilds_the_same_database(&project, &url, &fixture).await;
    for (change, expect) in &fixture.changes {
        start_from(&project, &url, &fixture.sql, NOTHING).await;
        query(&url, change)
            .await
            .unwrap_or_else(|e| panic!("{name}: the hand change {change}: {e}"));
        let output = project.devdb(&["check"]);
        assert_eq!(
            output.status.code(),
            Some(DRIFT),
            "{name}: check after `{change}` finds drift:\n{}\n{}",
            stdout(&output),
            stderr(&output)
        );
        assert!(
            stdout(&output).contains(expect.as_str()),
            "{name}: check after `{change}` names `{expect}`:\n{}",
            stdout(&output)
        );
    }
}

/// Makes each role unless the server has it (roles belong to the server, not to a database).
pub(crate) async fn make_roles(url: &str, roles: &[impl AsRef<str>]) {
    for role in roles {
        let role = role.as_ref();
        query(
            url,
            &format!(
                "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') \
                 THEN CREATE ROLE \"{role}\"; END IF; END $$;"
            ),
        )
        .await
        .unwrap();
    }
}

/// `schema dump` of the migrated fixture, run on a fresh database, builds what
/// `pg_dump --schema-only` sees as the same schema.
async fn dump_reloads_to_the_same_schema(project: &TestProject, url: &str, fixture: &Fixture) {
    let name = &fixture.name;
    start_from(project, url, &fixture.sql, NOTHING).await;
    project.devdb_ok(&["schema", "dump", "-o", "dumped.sql"]);
    let dumped = std::fs::read_to_string(project.path().join("dumped.sql")).unwrap();
    query(url, "DROP DATABASE IF EXISTS reload WITH (FORCE)")
        .await
        .unwrap();
    query(url, "CREATE DATABASE reload").await.unwrap();
    let (server, _) = url.rsplit_once('/').expect("a database url");
    let reload = format!("{server}/reload");
    query(&reload, &dumped)
        .await
        .unwrap_or_else(|e| panic!("{name}: the dump does not load: {e}\n{dumped}"));
    let migrated = pg_dump_schema(project, "appdb");
    let reloaded = pg_dump_schema(project, "reload");
    if migrated != reloaded {
        let diff = similar_lines(&migrated, &reloaded);
        panic!(
            "{name}: pg_dump of the migrated and the reloaded database differ:\n{diff}\n\nthe dump:\n{dumped}"
        );
    }
}

/// The fixture and one more revision squashed into a baseline; the database cleared and
/// migrated again from the baseline alone has the chain's schema and rows.
async fn squash_rebuilds_the_same_database(project: &TestProject, url: &str, fixture: &Fixture) {
    let name = &fixture.name;
    start_from(project, url, &fixture.sql, NOTHING).await;
    std::fs::write(
        project.path().join("migrations/0002_b.sql"),
        "-- devdb:revision 0002\n-- devdb:parents 0001\n-- devdb:message b\n\n-- devdb:up\nSELECT 2;\n",
    )
    .unwrap();
    project.devdb_ok(&["migrate"]);
    let schema = pg_dump_schema(project, "appdb");
    let chain_rows = rows(url).await;
    let output = project.devdb(&["squash", "-m", "baseline", "--yes"]);
    assert!(
        output.status.success(),
        "{name}: squash:\n{}\n{}",
        stdout(&output),
        stderr(&output)
    );
    clear_database(url).await;
    project.devdb_ok(&["migrate"]);
    let rebuilt = pg_dump_schema(project, "appdb");
    if rebuilt != schema {
        let diff = similar_lines(&schema, &rebuilt);
        panic!("{name}: the database built from the baseline differs from the chain's:\n{diff}");
    }
    assert_eq!(
        chain_rows,
        rows(url).await,
        "{name}: rows from the baseline"
    );
}

/// `pg_dump --schema-only` inside the project's container, devdb's record tables and
/// what differs between two databases of one schema (comments, settings) left out.
pub(crate) fn pg_dump_schema(project: &TestProject, database: &str) -> String {
    let container = project.container("db");
    let output = docker(&[
        "exec",
        &container,
        "pg_dump",
        "-U",
        "app",
        "--schema-only",
        "--exclude-table=public.devdb_revisions",
        "--exclude-table=public.devdb_seeds",
        "-d",
        database,
    ]);
    assert!(output.status.success(), "pg_dump: {}", stderr(&output));
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|line| {
            !line.is_empty()
                && !line.starts_with("--")
                && !line.starts_with("\\restrict")
                && !line.starts_with("\\unrestrict")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The lines only one side has, marked `-` (left) and `+` (right).
fn similar_lines(left: &str, right: &str) -> String {
    let right_lines: std::collections::BTreeSet<&str> = right.lines().collect();
    let left_lines: std::collections::BTreeSet<&str> = left.lines().collect();
    let mut out = Vec::new();
    out.extend(
        left.lines()
            .filter(|l| !right_lines.contains(l))
            .map(|l| format!("- {l}")),
    );
    out.extend(
        right
            .lines()
            .filter(|l| !left_lines.contains(l))
            .map(|l| format!("+ {l}")),
    );
    if out.is_empty() {
        "(the same lines in another order)".to_string()
    } else {
        out.join("\n")
    }
}

#[tokio::test]
async fn a_shop_with_schemas_views_and_grants() {
    fixture_holds("shop").await;
}

#[tokio::test]
async fn row_level_security_with_policies_for_several_roles() {
    fixture_holds("rls_policies").await;
}

#[tokio::test]
async fn rules_event_triggers_default_privileges_and_an_extension_comment() {
    fixture_holds("rules_events_defaults").await;
}

#[tokio::test]
async fn foreign_keys_on_columns_a_unique_index_covers() {
    fixture_holds("foreign_key_on_unique_index").await;
}

#[tokio::test]
async fn prisma_style_quoted_camel_case_names() {
    fixture_holds("prisma_quoted_names").await;
}

#[tokio::test]
async fn names_with_dots_in_them() {
    fixture_holds("dotted_names").await;
}

#[tokio::test]
async fn domains_and_composite_types_used_by_tables_and_functions() {
    fixture_holds("domains_and_composites").await;
}

#[tokio::test]
async fn extended_statistics_and_storage_settings() {
    fixture_holds("statistics_and_storage").await;
}
