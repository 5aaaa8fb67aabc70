//! `new --autogenerate` and `check --schema` against a real server: for each pair of
//! schemas (A as the migrations, B as the declarative schema) the generated up takes the
//! database to B and its down takes it back to A.

use crate::common::{TestProject, compose_with, query, stderr, stdout};

/// The drift exit code (README, "Exit codes").
const DRIFT: i32 = 7;

fn project() -> TestProject {
    let compose = compose_with(
        "      POSTGRES_USER: app\n      POSTGRES_PASSWORD: app-secret\n      POSTGRES_DB: appdb",
        "",
    ) + "x-devdb:\n  schema: ../schema.sql\n";
    TestProject::new().compose(&compose)
}

fn revision_files(project: &TestProject) -> Vec<std::path::PathBuf> {
    let dir = project.path().join("migrations");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

/// Starts over: an empty `public` schema, and `a` as the only migration, applied.
async fn start_from(project: &TestProject, url: &str, a: &str, b: &str) {
    // Back to a fresh database's `public`: same owner, comment and grants.
    query(
        url,
        "DROP SCHEMA IF EXISTS billing CASCADE; DROP SCHEMA public CASCADE; \
         CREATE SCHEMA public AUTHORIZATION pg_database_owner; \
         COMMENT ON SCHEMA public IS 'standard public schema'; \
         GRANT USAGE ON SCHEMA public TO PUBLIC;",
    )
    .await
    .unwrap();
    let dir = project.path().join("migrations");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("0001_a.sql"),
        format!("-- devdb:revision 0001\n-- devdb:message a\n\n-- devdb:up\n{a}\n"),
    )
    .unwrap();
    std::fs::write(project.path().join("schema.sql"), b).unwrap();
    project.devdb_ok(&["migrate"]);
}

/// Loads `a`, autogenerates towards `b`, applies it, checks, reverts it, checks again.
async fn round_trip(project: &TestProject, url: &str, name: &str, a: &str, b: &str) {
    start_from(project, url, a, b).await;
    let output = project.devdb(&["new", "--autogenerate", "-m", name]);
    assert!(
        output.status.success(),
        "{name}: autogenerate failed:\n{}",
        stderr(&output)
    );
    let files = revision_files(project);
    assert_eq!(files.len(), 2, "{name}: one revision written");
    let generated = std::fs::read_to_string(&files[1]).unwrap();
    let context = format!("{name}: generated revision:\n{generated}");

    let output = project.devdb(&["migrate"]);
    assert!(
        output.status.success(),
        "{context}\nmigrate: {}",
        stderr(&output)
    );
    let output = project.devdb(&["check", "--schema"]);
    assert!(
        output.status.success(),
        "{context}\ncheck --schema after up:\n{}\n{}",
        stdout(&output),
        stderr(&output)
    );
    let output = project.devdb(&["check"]);
    assert!(
        output.status.success(),
        "{context}\ncheck after up:\n{}",
        stdout(&output)
    );

    let output = project.devdb(&["downgrade", "-1"]);
    assert!(
        output.status.success(),
        "{context}\ndowngrade: {}",
        stderr(&output)
    );
    // The database now records only A: check compares it with A object by object.
    let output = project.devdb(&["check"]);
    assert!(
        output.status.success(),
        "{context}\ncheck after down (the database is not A):\n{}",
        stdout(&output)
    );
}

const PAIRS: &[(&str, &str, &str)] = &[
    (
        "create_table",
        "CREATE TABLE keep (id int);",
        "CREATE TABLE keep (id int); CREATE TABLE item (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL, price numeric(10,2) DEFAULT 0);",
    ),
    (
        "drop_table",
        "CREATE TABLE a (id int PRIMARY KEY); CREATE TABLE b (id serial PRIMARY KEY, note text);",
        "CREATE TABLE a (id int PRIMARY KEY);",
    ),
    (
        "add_and_drop_columns",
        "CREATE TABLE item (id int PRIMARY KEY, title text, qty int);",
        "CREATE TABLE item (id int PRIMARY KEY, qty int, name text, created timestamptz DEFAULT now() NOT NULL);",
    ),
    (
        "column_type_default_not_null",
        "CREATE TABLE item (id int PRIMARY KEY, qty int, note varchar(20) NOT NULL DEFAULT 'x');",
        "CREATE TABLE item (id int PRIMARY KEY, qty bigint NOT NULL DEFAULT 1, note text);",
    ),
    (
        "indexes_incl_partial_and_expression",
        "CREATE TABLE item (id int PRIMARY KEY, name text, deleted boolean); CREATE INDEX item_name ON item (name);",
        "CREATE TABLE item (id int PRIMARY KEY, name text, deleted boolean); \
         CREATE INDEX item_name ON item (lower(name)); \
         CREATE UNIQUE INDEX item_live ON item (name) WHERE NOT deleted;",
    ),
    (
        "foreign_key_and_check",
        "CREATE TABLE owner (id int PRIMARY KEY); CREATE TABLE item (id int PRIMARY KEY, owner_id int);",
        "CREATE TABLE owner (id int PRIMARY KEY); \
         CREATE TABLE item (id int PRIMARY KEY, owner_id int REFERENCES owner (id) ON DELETE CASCADE, qty int CHECK (qty > 0), UNIQUE (owner_id, qty));",
    ),
    (
        "enum_add_value",
        "CREATE TYPE mood AS ENUM ('sad', 'happy'); CREATE TABLE item (id int PRIMARY KEY, mood mood);",
        "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy', 'ecstatic'); CREATE TABLE item (id int PRIMARY KEY, mood mood);",
    ),
    (
        "views",
        "CREATE TABLE item (id int PRIMARY KEY, price int); CREATE VIEW cheap AS SELECT id FROM item WHERE price < 10;",
        "CREATE TABLE item (id int PRIMARY KEY, price int); \
         CREATE VIEW cheap AS SELECT id, price FROM item WHERE price < 5; \
         CREATE VIEW cheapest AS SELECT id FROM cheap WHERE price < 2; \
         CREATE MATERIALIZED VIEW total AS SELECT sum(price) AS s FROM item; \
         COMMENT ON VIEW cheap IS 'under five';",
    ),
    (
        "functions_and_triggers",
        "CREATE TABLE item (id int PRIMARY KEY, updated timestamptz); \
         CREATE FUNCTION double_it(x int) RETURNS int LANGUAGE sql AS $$ SELECT x * 2 $$;",
        "CREATE TABLE item (id int PRIMARY KEY, updated timestamptz); \
         CREATE FUNCTION double_it(x int) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT x * 3 $$; \
         CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.updated := now(); RETURN NEW; END $$; \
         CREATE TRIGGER item_touch BEFORE UPDATE ON item FOR EACH ROW EXECUTE FUNCTION touch();",
    ),
    (
        "schemas_sequences_comments",
        "CREATE TABLE item (id int PRIMARY KEY);",
        "CREATE SCHEMA billing; CREATE SEQUENCE billing.invoice_no START 1000 INCREMENT 5; \
         CREATE TABLE billing.invoice (no bigint PRIMARY KEY DEFAULT nextval('billing.invoice_no')); \
         CREATE TABLE item (id int PRIMARY KEY); COMMENT ON TABLE item IS 'things'; COMMENT ON COLUMN item.id IS 'key';",
    ),
    (
        "enum_recreated_when_a_label_goes",
        "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy'); CREATE TABLE item (id int PRIMARY KEY, mood mood, moods mood[]);",
        "CREATE TYPE mood AS ENUM ('sad', 'happy'); CREATE TABLE item (id int PRIMARY KEY, mood mood, moods mood[]);",
    ),
    (
        "new_enum_and_column_using_it",
        "CREATE TABLE item (id int PRIMARY KEY);",
        "CREATE TYPE state AS ENUM ('new', 'done'); CREATE TABLE item (id int PRIMARY KEY, state state NOT NULL DEFAULT 'new');",
    ),
    (
        "identity_and_generated_columns",
        "CREATE TABLE item (id int PRIMARY KEY, price int, qty int);",
        "CREATE TABLE item (id int GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, price int, qty int, \
         total int GENERATED ALWAYS AS (price * qty) STORED);",
    ),
    (
        "drop_view_and_function",
        "CREATE TABLE item (id int PRIMARY KEY); CREATE VIEW v AS SELECT id FROM item; \
         CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$; \
         CREATE PROCEDURE p(x int) LANGUAGE sql AS $$ SELECT x $$;",
        "CREATE TABLE item (id int PRIMARY KEY);",
    ),
    (
        "function_result_changes",
        "CREATE FUNCTION f(x int) RETURNS int LANGUAGE sql AS $$ SELECT x $$;",
        "CREATE FUNCTION f(x int) RETURNS bigint LANGUAGE sql AS $$ SELECT x::bigint $$;",
    ),
    (
        "primary_key_changes",
        "CREATE TABLE item (id int PRIMARY KEY, code text NOT NULL);",
        "CREATE TABLE item (id int NOT NULL, code text PRIMARY KEY);",
    ),
    (
        "views_over_retyped_columns_and_changed_functions",
        "CREATE TABLE item (id int PRIMARY KEY, qty int); \
         CREATE FUNCTION twice(x int) RETURNS int LANGUAGE sql AS $$ SELECT x * 2 $$; \
         CREATE VIEW item_qty AS SELECT id, twice(qty) AS q FROM item; \
         CREATE VIEW item_qty_big AS SELECT id FROM item_qty WHERE q > 10;",
        "CREATE TABLE item (id int PRIMARY KEY, qty bigint); \
         CREATE FUNCTION twice(x int) RETURNS bigint LANGUAGE sql AS $$ SELECT x::bigint * 2 $$; \
         CREATE VIEW item_qty AS SELECT id, twice(qty::int) AS q FROM item; \
         CREATE VIEW item_qty_big AS SELECT id FROM item_qty WHERE q > 10;",
    ),
    (
        "extension",
        "CREATE TABLE item (id int PRIMARY KEY);",
        "CREATE EXTENSION IF NOT EXISTS pgcrypto; CREATE TABLE item (id int PRIMARY KEY, token text DEFAULT encode(gen_random_bytes(8), 'hex'));",
    ),
];

#[tokio::test]
async fn generated_migrations_round_trip_and_check_schema_agrees() {
    let project = project();
    project.devdb_ok(&["up"]);
    let url = project.url();
    for (name, a, b) in PAIRS {
        round_trip(&project, &url, name, a, b).await;
    }
}

#[tokio::test]
async fn no_difference_writes_nothing_and_destructive_changes_can_be_refused() {
    let project = project();
    project.devdb_ok(&["up"]);
    let url = project.url();
    let schema = "CREATE TABLE item (id int PRIMARY KEY, note text);";
    start_from(&project, &url, schema, schema).await;

    let output = project.devdb(&["new", "--autogenerate", "-m", "nothing"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("no changes"),
        "{}",
        stderr(&output)
    );
    assert_eq!(revision_files(&project).len(), 1, "nothing written");
    project.devdb_ok(&["check", "--schema"]);

    std::fs::write(
        project.path().join("schema.sql"),
        "CREATE TABLE item (id int PRIMARY KEY);",
    )
    .unwrap();
    let output = project.devdb(&["check", "--schema"]);
    assert_eq!(output.status.code(), Some(DRIFT), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("column item.note"),
        "{}",
        stdout(&output)
    );

    let output = project.devdb(&[
        "new",
        "--autogenerate",
        "--fail-on-destructive",
        "-m",
        "drop",
    ]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("drop column item.note"),
        "{}",
        stderr(&output)
    );
    assert_eq!(revision_files(&project).len(), 1, "nothing written");

    let output = project.devdb(&["new", "--autogenerate", "-m", "drop"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("destructive: drop column item.note"),
        "{}",
        stderr(&output)
    );
    let files = revision_files(&project);
    let text = std::fs::read_to_string(&files[1]).unwrap();
    assert!(text.contains("-- DESTRUCTIVE"), "{text}");
}

#[test]
fn a_missing_schema_setting_is_explained() {
    let project = TestProject::new().compose(&crate::common::simple_compose());
    let output = project.devdb(&["new", "--autogenerate", "-m", "x"]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("x-devdb.schema is not set"),
        "{}",
        stderr(&output)
    );
}

#[tokio::test]
async fn schema_dump_gives_a_declarative_schema_that_matches_head() {
    let project = project();
    project.devdb_ok(&["up"]);
    let url = project.url();
    start_from(
        &project,
        &url,
        "CREATE TYPE mood AS ENUM ('sad', 'happy'); \
         CREATE TABLE owner (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL); \
         CREATE TABLE item (id serial PRIMARY KEY, owner_id int REFERENCES owner (id), mood mood, price numeric(10,2) DEFAULT 0 CHECK (price >= 0)); \
         CREATE INDEX item_cheap ON item (price) WHERE price < 10; \
         CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$; \
         CREATE TRIGGER item_touch BEFORE UPDATE ON item FOR EACH ROW EXECUTE FUNCTION touch(); \
         CREATE VIEW cheap AS SELECT id, price FROM item WHERE price < 10; \
         COMMENT ON TABLE item IS 'things';",
        "",
    )
    .await;
    let dump = project.devdb_ok(&["schema", "dump", "-o", "schema.sql"]);
    assert!(dump.is_empty(), "written to the file, not stdout: {dump}");
    let text = std::fs::read_to_string(project.path().join("schema.sql")).unwrap();
    assert!(text.contains("CREATE TABLE"), "{text}");
    let output = project.devdb(&["check", "--schema"]);
    assert!(
        output.status.success(),
        "check --schema against the dump:\n{text}\n{}\n{}",
        stdout(&output),
        stderr(&output)
    );
    let output = project.devdb(&["new", "--autogenerate", "-m", "nothing"]);
    assert!(
        stderr(&output).contains("no changes"),
        "{}",
        stderr(&output)
    );
}
