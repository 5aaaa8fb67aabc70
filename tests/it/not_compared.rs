//! Kinds of objects devdb's catalog cannot represent are named, not skipped in silence:
//! `check`, `check --schema` and `schema dump` warn about them, in text and in JSON.

use crate::autogen::{project, start_from};
use crate::common::{stderr, stdout};

/// One object of each of several kinds devdb does not compare, beside a table it does.
const UNSUPPORTED: &str = "\
CREATE TABLE item (id int PRIMARY KEY, label text);
CREATE FOREIGN DATA WRAPPER quiet_fdw;
CREATE SERVER far_away FOREIGN DATA WRAPPER quiet_fdw;
CREATE FOREIGN TABLE remote_a (id int) SERVER far_away;
CREATE FOREIGN TABLE remote_b (id int) SERVER far_away;
CREATE PUBLICATION everything FOR TABLE item;
CREATE COLLATION loose (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
CREATE TEXT SEARCH CONFIGURATION plain_words (COPY = pg_catalog.simple);
CREATE TYPE float_range AS RANGE (subtype = float8);
CREATE FUNCTION same_label(a text, b text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT lower(a) = lower(b) $$;
CREATE OPERATOR === (LEFTARG = text, RIGHTARG = text, FUNCTION = same_label);
CREATE TYPE label_box AS (v text);
CREATE FUNCTION box_it(text) RETURNS label_box LANGUAGE sql IMMUTABLE AS $$ SELECT ROW($1)::label_box $$;
CREATE CAST (text AS label_box) WITH FUNCTION box_it(text);
CREATE TABLE parent_log (at timestamptz);
CREATE TABLE child_log (note text) INHERITS (parent_log);
";

#[tokio::test]
async fn kinds_devdb_cannot_compare_are_named_by_check_and_schema_dump() {
    let project = project();
    project.devdb_ok(&["up"]);
    let url = project.url();
    start_from(&project, &url, UNSUPPORTED, UNSUPPORTED).await;

    let output = project.devdb(&["check"]);
    let err = stderr(&output);
    assert!(output.status.success(), "{}\n{err}", stdout(&output));
    for named in [
        "not compared",
        "2 foreign tables (public.remote_a, public.remote_b)",
        "1 foreign server (far_away)",
        "1 foreign-data wrapper (quiet_fdw)",
        "1 publication (everything)",
        "1 collation (public.loose)",
        "1 text search configuration (public.plain_words)",
        "1 operator (public.===(text, text))",
        "1 table inheriting from another (public.child_log)",
        "1 cast (text AS label_box)",
    ] {
        assert!(err.contains(named), "check names {named}:\n{err}");
    }
    assert!(!err.contains("public.item"), "{err}");
    assert!(
        !err.contains("float_range"),
        "range types are compared now: {err}"
    );

    let json: serde_json::Value =
        serde_json::from_str(&project.devdb_ok(&["check", "--json"])).unwrap();
    assert_eq!(
        json["not_compared"]["foreign table"],
        serde_json::json!(["public.remote_a", "public.remote_b"]),
        "{json}"
    );

    let output = project.devdb(&["check", "--schema"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("1 publication (everything)"),
        "{}",
        stderr(&output)
    );
    let json: serde_json::Value =
        serde_json::from_str(&project.devdb_ok(&["check", "--schema", "--json"])).unwrap();
    assert_eq!(
        json["not_compared"]["publication"],
        serde_json::json!(["everything"]),
        "{json}"
    );

    let output = project.devdb(&["schema", "dump", "-o", "dumped.sql"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("2 foreign tables"),
        "{}",
        stderr(&output)
    );
    let dumped = std::fs::read_to_string(project.path().join("dumped.sql")).unwrap();
    assert!(
        dumped.contains("-- NOT WRITTEN") && dumped.contains("public.remote_a"),
        "{dumped}"
    );
}

#[tokio::test]
async fn a_schema_devdb_represents_whole_gives_no_warning() {
    let project = project();
    project.devdb_ok(&["up"]);
    let url = project.url();
    let schema = "CREATE TABLE item (id int PRIMARY KEY);";
    start_from(&project, &url, schema, schema).await;
    let output = project.devdb(&["check"]);
    assert!(output.status.success());
    assert!(
        !stderr(&output).contains("not compared"),
        "{}",
        stderr(&output)
    );
    let json = project.devdb_ok(&["check", "--json"]);
    assert!(!json.contains("not_compared\": {\""), "{json}");
}
