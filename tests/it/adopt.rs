//! Adopting an existing database: its `pg_dump --schema-only` (or the `schema.sql` of a
//! `devdb backup`) is a valid declarative schema, and `check --schema` against the
//! migrations that built the database finds nothing.

use crate::autogen::{project, start_from};
use crate::common::{TestProject, docker, stderr, stdout};

/// What a team's migrations hold: schemas, quoted names, foreign keys (one on a unique
/// index), defaults calling functions and sequences, a view, an enum, comments.
const MIGRATED: &str = "\
CREATE SCHEMA shop;
CREATE TYPE shop.mood AS ENUM ('sad', 'happy');
CREATE FUNCTION shop.slug(t text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT lower(t) $$;
CREATE TABLE shop.owner (id serial PRIMARY KEY, name text NOT NULL, code text NOT NULL);
CREATE UNIQUE INDEX owner_code ON shop.owner (code);
CREATE TABLE \"Item\" (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    owner_id int REFERENCES shop.owner (id) ON DELETE CASCADE,
    owner_code text REFERENCES shop.owner (code),
    mood shop.mood DEFAULT 'happy',
    slug text DEFAULT shop.slug('X'),
    at timestamptz NOT NULL DEFAULT now(),
    CHECK (slug <> '')
);
CREATE VIEW shop.items AS SELECT i.id, o.name FROM \"Item\" i JOIN shop.owner o ON o.id = i.owner_id;
COMMENT ON TABLE shop.owner IS 'who owns items';
";

fn pg_dump(project: &TestProject) -> String {
    let container = project.container("db");
    let output = docker(&[
        "exec",
        &container,
        "pg_dump",
        "-U",
        "app",
        "-d",
        "appdb",
        "--schema-only",
        "--exclude-table=public.devdb_revisions",
        "--exclude-table=public.devdb_seeds",
    ]);
    assert!(output.status.success(), "pg_dump: {}", stderr(&output));
    String::from_utf8(output.stdout).unwrap()
}

fn check_schema_is_clean(project: &TestProject, schema: &str, what: &str) {
    std::fs::write(project.path().join("schema.sql"), schema).unwrap();
    let output = project.devdb(&["check", "--schema"]);
    assert!(
        output.status.success(),
        "check --schema against {what}:\n{}\n{}\n\nthe schema:\n{schema}",
        stdout(&output),
        stderr(&output)
    );
}

#[tokio::test]
async fn a_pg_dump_of_the_database_is_its_declarative_schema() {
    let project = project();
    project.devdb_ok(&["up"]);
    let url = project.url();
    start_from(&project, &url, MIGRATED, "").await;
    let dump = pg_dump(&project);
    assert!(
        dump.contains("set_config('search_path', '', false)"),
        "{dump}"
    );
    check_schema_is_clean(&project, &dump, "the pg_dump");

    // pg_dump 17.6 and later fence the script with psql meta lines.
    let fenced = format!("\\restrict AbC123xyz\n{dump}\n\\unrestrict AbC123xyz\n");
    check_schema_is_clean(&project, &fenced, "the pg_dump with \\restrict lines");

    // A dump that names the public schema: its comment and CREATE SCHEMA.
    let public = format!(
        "CREATE SCHEMA public;\nCOMMENT ON SCHEMA public IS 'standard public schema';\n{dump}"
    );
    check_schema_is_clean(&project, &public, "a dump that creates public");

    let output = project.devdb(&["new", "--autogenerate", "-m", "nothing"]);
    assert!(
        stderr(&output).contains("no changes"),
        "{}",
        stderr(&output)
    );
}

#[tokio::test]
async fn the_schema_of_a_backup_is_a_declarative_schema() {
    let project = project();
    project.devdb_ok(&["up"]);
    let url = project.url();
    start_from(&project, &url, MIGRATED, "").await;
    let (dir, _) = crate::backup::backup(&project);
    let schema = std::fs::read_to_string(dir.join("schema.sql")).unwrap();
    check_schema_is_clean(&project, &schema, "the backup's schema.sql");
}
