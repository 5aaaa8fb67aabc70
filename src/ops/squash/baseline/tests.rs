use super::*;
use crate::migrate::file::parse_revision;
use crate::migrate::testing::graph;

#[test]
fn the_chain_is_the_tip_and_its_ancestors_and_children_of_the_tip_are_reparented() {
    let g = graph(&[("a", &[][..]), ("b", &["a"]), ("c", &["b"]), ("d", &["c"])]);
    let plan = plan_squash(&g, Some("c")).unwrap();
    assert_eq!(plan.tip, "c");
    assert_eq!(plan.chain, ["a", "b", "c"]);
    assert_eq!(plan.reparented, ["d"]);
    let whole = plan_squash(&g, None).unwrap();
    assert_eq!(whole.chain, ["a", "b", "c", "d"]);
    assert!(whole.reparented.is_empty());
}

#[test]
fn refuses_branches_off_the_middle_several_heads_and_single_revisions() {
    let g = graph(&[("a", &[][..]), ("b", &["a"]), ("c", &["b"]), ("x", &["a"])]);
    let error = plan_squash(&g, Some("c")).unwrap_err();
    assert!(
        matches!(&error, SquashError::BranchInsideChain { id, parent, tip } if id == "x" && parent == "a" && tip == "c"),
        "{error}"
    );
    assert!(matches!(
        plan_squash(&g, None).unwrap_err(),
        SquashError::Plan(PlanError::MultipleHeads(_))
    ));
    let single = graph(&[("a", &[])]);
    assert!(matches!(
        plan_squash(&single, None).unwrap_err(),
        SquashError::NothingToSquash { count: 1 }
    ));
}

const DUMP: &str = "--\n-- PostgreSQL database dump\n--\n\n\\restrict abc123\n\n\
SET statement_timeout = 0;\nSET client_encoding = 'UTF8';\n\
SELECT pg_catalog.set_config('search_path', '', false);\n\
SET check_function_bodies = false;\n\n\
CREATE SCHEMA versions;\n\n\
CREATE FUNCTION public.f() RETURNS integer\n    LANGUAGE plpgsql\n    AS $$\nBEGIN\nSET x = 1;\nRETURN 1;\nEND\n$$;\n\n\
SET default_tablespace = '';\n\n\
CREATE TABLE public.item (\n    id integer NOT NULL\n);\n\n\
\\unrestrict abc123\n";

#[test]
fn the_dump_is_made_safe_to_run_in_a_transaction() {
    let body = baseline_body(DUMP, "versions");
    assert!(
        !body.contains("\\restrict") && !body.contains("\\unrestrict"),
        "{body}"
    );
    assert!(body.contains("SET LOCAL statement_timeout = 0;"), "{body}");
    assert!(
        body.contains("SET LOCAL check_function_bodies = false;"),
        "{body}"
    );
    assert!(
        body.contains("SET LOCAL default_tablespace = '';"),
        "{body}"
    );
    assert!(
        body.contains("SELECT pg_catalog.set_config('search_path', '', true);"),
        "{body}"
    );
    assert!(
        body.contains("CREATE SCHEMA IF NOT EXISTS versions;"),
        "{body}"
    );
    // Inside a function body nothing changes.
    assert!(body.contains("BEGIN\nSET x = 1;\nRETURN 1;"), "{body}");
    // With the record table in public, a schema named like that is the user's own.
    assert!(baseline_body(DUMP, "public").contains("CREATE SCHEMA versions;"));
}

#[test]
fn the_baseline_file_parses_with_its_replaced_revisions_and_no_down() {
    let text = baseline_file(
        "b453",
        "squash",
        &["a".to_string(), "b".to_string()],
        "CREATE TABLE t (id int);",
    );
    let revision = parse_revision(std::path::Path::new("b453_squash.sql"), &text).unwrap();
    assert_eq!(revision.id, "b453");
    assert!(revision.parents.is_empty());
    assert_eq!(revision.replaces, ["a", "b"]);
    assert_eq!(revision.down, None);
    assert_eq!(revision.up, "CREATE TABLE t (id int);");
}

#[test]
fn reparenting_rewrites_only_the_parents_line() {
    let text = "-- devdb:revision d\n-- devdb:parents c x\n-- devdb:message m\n\n-- devdb:up\n-- devdb:parents c\nSELECT 'c';\n";
    let out = reparent(text, "c", "base").unwrap();
    assert_eq!(
        out,
        "-- devdb:revision d\n-- devdb:parents  base x\n-- devdb:message m\n\n-- devdb:up\n-- devdb:parents c\nSELECT 'c';\n"
    );
    assert_eq!(reparent(text, "zz", "base"), None);
}

#[test]
fn roles_the_grants_need_are_created_only_where_missing() {
    assert_eq!(roles_sql(&[]), "");
    let sql = roles_sql(&[("reader".into(), false), ("it's".into(), true)]);
    assert!(
        sql.contains("WHERE rolname = 'reader') THEN\n    CREATE ROLE \"reader\" NOLOGIN;"),
        "{sql}"
    );
    assert!(
        sql.contains("WHERE rolname = 'it''s') THEN\n    CREATE ROLE \"it's\" LOGIN;"),
        "{sql}"
    );
    assert_eq!(split_statements(&sql).len(), 2);
}

#[test]
fn a_squash_over_an_earlier_baseline_replaces_what_that_one_replaced_too() {
    let mut g = graph(&[("s", &[][..]), ("d", &["s"]), ("e", &["d"])]);
    let mut revisions = g.revisions().to_vec();
    revisions[0].replaces = vec!["a".into(), "b".into(), "c".into()];
    g = RevisionGraph::new(revisions).unwrap();
    let plan = plan_squash(&g, None).unwrap();
    assert_eq!(plan.chain, ["s", "d", "e"]);
    assert_eq!(plan.replaces, ["a", "b", "c", "s", "d", "e"]);
    let plain = plan_squash(&graph(&[("a", &[][..]), ("b", &["a"])]), None).unwrap();
    assert_eq!(plain.replaces, plain.chain);
}
