//! `new --autogenerate` round trips (up, then down) for the kinds that describe values
//! and how they are stored: domains, composite types, range types, extended statistics,
//! table storage parameters and column storage settings. Each pair is (name, A, B) as in `autogen.rs`.

use crate::autogen::{project, round_trip};

const TYPE_PAIRS: &[(&str, &str, &str)] = &[
    (
        "create_domain_with_checks",
        "CREATE TABLE keep (id int);",
        "CREATE TABLE keep (id int); \
         CREATE DOMAIN email AS text NOT NULL DEFAULT 'x@y' \
           CONSTRAINT email_at CHECK (VALUE LIKE '%@%') CONSTRAINT email_len CHECK (length(VALUE) < 100);",
    ),
    (
        "domain_used_by_a_new_table_and_a_function",
        "CREATE TABLE keep (id int);",
        "CREATE TABLE keep (id int); CREATE DOMAIN positive AS integer CHECK (VALUE > 0); \
         CREATE TABLE stock (id int, qty positive NOT NULL, history positive[]); \
         CREATE FUNCTION twice(p positive) RETURNS positive LANGUAGE sql AS $$ SELECT (p * 2)::positive $$;",
    ),
    (
        "domain_column_added_to_a_kept_table",
        "CREATE TABLE item (id int);",
        "CREATE DOMAIN code AS varchar(8) COLLATE \"C\"; CREATE TABLE item (id int, code code);",
    ),
    (
        "domain_constraint_added_and_dropped",
        "CREATE DOMAIN code AS text CONSTRAINT code_upper CHECK (VALUE = upper(VALUE)); CREATE TABLE item (c code);",
        "CREATE DOMAIN code AS text CONSTRAINT code_len CHECK (length(VALUE) <= 8); CREATE TABLE item (c code);",
    ),
    (
        "domain_constraint_changed",
        "CREATE DOMAIN code AS text CONSTRAINT code_len CHECK (length(VALUE) <= 8);",
        "CREATE DOMAIN code AS text CONSTRAINT code_len CHECK (length(VALUE) <= 16);",
    ),
    (
        "domain_default_and_not_null",
        "CREATE DOMAIN qty AS integer; CREATE TABLE item (q qty);",
        "CREATE DOMAIN qty AS integer NOT NULL DEFAULT 1; CREATE TABLE item (q qty);",
    ),
    (
        "domain_over_a_domain_and_an_enum",
        "CREATE TABLE keep (id int);",
        "CREATE TABLE keep (id int); CREATE TYPE mood AS ENUM ('ok', 'sad'); \
         CREATE DOMAIN known_mood AS mood NOT NULL; CREATE DOMAIN short AS varchar(10); \
         CREATE DOMAIN tiny AS short CHECK (length(VALUE) < 3); CREATE TABLE t (m known_mood, s tiny);",
    ),
    (
        "domain_comments",
        "CREATE DOMAIN code AS text CONSTRAINT code_len CHECK (length(VALUE) <= 8);",
        "CREATE DOMAIN code AS text CONSTRAINT code_len CHECK (length(VALUE) <= 8); \
         COMMENT ON DOMAIN code IS 'a short code'; COMMENT ON CONSTRAINT code_len ON DOMAIN code IS 'eight at most';",
    ),
    (
        "create_composite_used_by_a_table_and_a_function",
        "CREATE TABLE keep (id int);",
        "CREATE TABLE keep (id int); CREATE TYPE pair AS (a int, b text COLLATE \"C\"); \
         CREATE TABLE holder (id int, p pair, ps pair[]); \
         CREATE FUNCTION make_pair(x int) RETURNS pair LANGUAGE sql AS $$ SELECT ROW(x, 'b')::pair $$;",
    ),
    (
        "composite_attribute_added_to_a_used_type",
        "CREATE TYPE pair AS (a int, b text); CREATE TABLE holder (id int, p pair);",
        "CREATE TYPE pair AS (a int, b text, c numeric(10,2)); CREATE TABLE holder (id int, p pair);",
    ),
    (
        "composite_attribute_retyped",
        "CREATE TYPE pair AS (a int, b text);",
        "CREATE TYPE pair AS (a bigint, b text COLLATE \"C\");",
    ),
    (
        "composite_of_a_composite_and_a_domain",
        "CREATE TABLE keep (id int);",
        "CREATE TABLE keep (id int); CREATE DOMAIN zip AS text CHECK (VALUE ~ '^[0-9]+$'); \
         CREATE TYPE place AS (city text, zip zip); CREATE TYPE stop AS (at timestamptz, place place); \
         CREATE TABLE route (id int, stops stop[]);",
    ),
    (
        "composite_comments",
        "CREATE TYPE pair AS (a int, b text);",
        "CREATE TYPE pair AS (a int, b text); COMMENT ON TYPE pair IS 'two values'; \
         COMMENT ON COLUMN pair.b IS 'the second';",
    ),
    (
        "composite_in_another_schema_used_by_a_function",
        "CREATE SCHEMA geo;",
        "CREATE SCHEMA geo; CREATE TYPE geo.point2 AS (x float8, y float8); \
         CREATE FUNCTION geo.origin() RETURNS geo.point2 LANGUAGE sql AS $$ SELECT ROW(0, 0)::geo.point2 $$;",
    ),
    (
        "domain_check_calling_a_function",
        "CREATE TABLE keep (id int);",
        "CREATE TABLE keep (id int); \
         CREATE FUNCTION is_code(t text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT t ~ '^[A-Z]+$' $$; \
         CREATE DOMAIN code AS text CHECK (is_code(VALUE)); CREATE TABLE item (c code);",
    ),
    (
        "create_range_types_used_by_a_table_and_a_function",
        "CREATE TABLE keep (id int);",
        "CREATE TABLE keep (id int); \
         CREATE TYPE floatrange AS RANGE (subtype = float8, subtype_diff = float8mi); \
         CREATE TYPE textrange AS RANGE (subtype = text, collation = \"C\", multirange_type_name = text_ranges); \
         COMMENT ON TYPE floatrange IS 'from and to'; \
         CREATE TABLE span (id int, r floatrange, names textrange[]); \
         CREATE FUNCTION widest(a floatrange) RETURNS floatrange LANGUAGE sql AS $$ SELECT a $$;",
    ),
];

const STORAGE_PAIRS: &[(&str, &str, &str)] = &[
    (
        "create_statistics_of_each_kind",
        "CREATE TABLE t (a int, b int, c text);",
        "CREATE TABLE t (a int, b int, c text); \
         CREATE STATISTICS t_ab (ndistinct, dependencies) ON a, b FROM t; \
         CREATE STATISTICS t_abc (mcv) ON a, b, c FROM t; CREATE STATISTICS t_lower ON (lower(c)) FROM t; \
         CREATE STATISTICS t_all ON a, (b + 1) FROM t;",
    ),
    (
        "statistics_with_a_new_table",
        "CREATE TABLE keep (id int);",
        "CREATE TABLE keep (id int); CREATE TABLE t (a int, b int); \
         CREATE STATISTICS t_ab ON a, b FROM t; ALTER STATISTICS t_ab SET STATISTICS 300; \
         COMMENT ON STATISTICS t_ab IS 'a and b go together';",
    ),
    (
        "statistics_changed_kind_and_target",
        "CREATE TABLE t (a int, b int); CREATE STATISTICS t_ab (ndistinct) ON a, b FROM t;",
        "CREATE TABLE t (a int, b int); CREATE STATISTICS t_ab (mcv) ON a, b FROM t; \
         ALTER STATISTICS t_ab SET STATISTICS 50;",
    ),
    (
        "statistics_on_a_dropped_column",
        "CREATE TABLE t (a int, b int, c int); CREATE STATISTICS t_bc ON b, c FROM t;",
        "CREATE TABLE t (a int, b int); CREATE STATISTICS t_ab ON a, b FROM t;",
    ),
    (
        "table_storage_parameters",
        "CREATE TABLE t (id int, body text) WITH (fillfactor = 90);",
        "CREATE TABLE t (id int, body text) WITH (fillfactor = 50, autovacuum_enabled = false, \
           autovacuum_vacuum_scale_factor = 0.01, toast.autovacuum_enabled = false);",
    ),
    (
        "storage_parameters_of_a_new_table",
        "CREATE TABLE keep (id int);",
        "CREATE TABLE keep (id int); CREATE TABLE t (id int, body text) \
           WITH (fillfactor = 70, toast.autovacuum_vacuum_threshold = 100);",
    ),
    (
        "column_statistics_target_storage_and_compression",
        "CREATE TABLE t (id int, body text, doc jsonb);",
        "CREATE TABLE t (id int, body text, doc jsonb); \
         ALTER TABLE t ALTER COLUMN id SET STATISTICS 500, ALTER COLUMN body SET STORAGE EXTERNAL, \
           ALTER COLUMN doc SET STORAGE MAIN, ALTER COLUMN body SET COMPRESSION pglz;",
    ),
    (
        "column_settings_of_new_tables_and_columns",
        "CREATE TABLE t (id int);",
        "CREATE TABLE t (id int, note text); ALTER TABLE t ALTER COLUMN note SET STORAGE EXTERNAL; \
         CREATE TABLE u (id int, body text); ALTER TABLE u ALTER COLUMN body SET STATISTICS 10, \
           ALTER COLUMN body SET STORAGE MAIN;",
    ),
    (
        "storage_parameters_of_constraint_indexes",
        "CREATE TABLE t (id int PRIMARY KEY, code text UNIQUE);",
        "CREATE TABLE t (id int PRIMARY KEY WITH (fillfactor = 60), \
           code text CONSTRAINT t_code_key UNIQUE WITH (fillfactor = 80) DEFERRABLE INITIALLY DEFERRED);",
    ),
    (
        "retyped_column_keeps_its_storage",
        "CREATE TABLE t (id int, note varchar(20)); ALTER TABLE t ALTER COLUMN note SET STORAGE EXTERNAL;",
        "CREATE TABLE t (id int, note text); ALTER TABLE t ALTER COLUMN note SET STORAGE EXTERNAL;",
    ),
];

#[tokio::test]
async fn domain_and_composite_migrations_round_trip() {
    let project = project();
    project.devdb_ok(&["up"]);
    let url = project.url();
    for (name, a, b) in TYPE_PAIRS {
        round_trip(&project, &url, name, a, b).await;
    }
}

#[tokio::test]
async fn statistics_and_storage_migrations_round_trip() {
    let project = project();
    project.devdb_ok(&["up"]);
    let url = project.url();
    for (name, a, b) in STORAGE_PAIRS {
        round_trip(&project, &url, name, a, b).await;
    }
}
