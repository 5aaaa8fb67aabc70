//! `new --autogenerate` and `check --schema` against a real server: for each pair of
//! schemas (A as the migrations, B as the declarative schema) the generated up takes the
//! database to B and its down takes it back to A.

use crate::common::{TestProject, compose_with, query, stderr, stdout};

/// The drift exit code (README, "Exit codes").
pub(crate) const DRIFT: i32 = 7;

pub(crate) fn project() -> TestProject {
    let compose = compose_with(
        "      POSTGRES_USER: app\n      POSTGRES_PASSWORD: app-secret\n      POSTGRES_DB: appdb",
        "",
    ) + "x-devdb:\n  schema: ../schema.sql\n";
    TestProject::new().compose(&compose)
}

pub(crate) fn revision_files(project: &TestProject) -> Vec<std::path::PathBuf> {
    let dir = project.path().join("migrations");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

/// Back to a fresh database: every schema, event trigger and default privilege gone, and
/// `public` as a new database has it (same owner, comment and grants). devdb's record
/// tables go with it.
pub(crate) async fn clear_database(url: &str) {
    // Default privileges belong to the database, not to a schema: each is revoked from
    // every grantee, then the built-in ones are granted back, which removes the entry.
    query(
        url,
        "DO $$ DECLARE r record; BEGIN \
           FOR r IN SELECT d.defaclrole::regrole::text AS role, d.defaclnamespace = 0 AS global, \
               CASE WHEN d.defaclnamespace <> 0 THEN format('IN SCHEMA %I', n.nspname) ELSE '' END AS place, \
               CASE d.defaclobjtype WHEN 'r' THEN 'TABLES' WHEN 'S' THEN 'SEQUENCES' \
                 WHEN 'f' THEN 'FUNCTIONS' WHEN 'T' THEN 'TYPES' ELSE 'SCHEMAS' END AS kind, \
               ARRAY(SELECT DISTINCT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END \
                 FROM aclexplode(d.defaclacl) a) AS grantees \
             FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace LOOP \
             IF cardinality(r.grantees) > 0 THEN \
               EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %s %s REVOKE ALL ON %s FROM %s', \
                 r.role, r.place, r.kind, array_to_string(r.grantees, ', ')); END IF; \
             IF r.global THEN \
               EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %s GRANT ALL ON %s TO %s', r.role, r.kind, r.role); \
               IF r.kind IN ('FUNCTIONS', 'TYPES') THEN \
                 EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %s GRANT ALL ON %s TO PUBLIC', r.role, r.kind); \
               END IF; END IF; END LOOP; END $$;",
    )
    .await
    .unwrap();
    query(
        url,
        "DO $$ DECLARE r record; BEGIN \
           FOR r IN SELECT evtname FROM pg_event_trigger LOOP \
             EXECUTE format('DROP EVENT TRIGGER %I', r.evtname); END LOOP; \
           FOR r IN SELECT nspname FROM pg_namespace WHERE nspname NOT IN \
             ('pg_catalog', 'information_schema', 'public') AND nspname NOT LIKE 'pg\\_%' LOOP \
             EXECUTE format('DROP SCHEMA %I CASCADE', r.nspname); END LOOP; \
         END $$; DROP SCHEMA public CASCADE; \
         CREATE SCHEMA public AUTHORIZATION pg_database_owner; \
         COMMENT ON SCHEMA public IS 'standard public schema'; \
         GRANT USAGE ON SCHEMA public TO PUBLIC;",
    )
    .await
    .unwrap();
}

/// Starts over: [`clear_database`], and `a` as the only migration, applied.
pub(crate) async fn start_from(project: &TestProject, url: &str, a: &str, b: &str) {
    clear_database(url).await;
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
pub(crate) async fn round_trip(project: &TestProject, url: &str, name: &str, a: &str, b: &str) {
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

    let output = project.devdb(&["downgrade", "-1", "--yes"]);
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

/// More pairs, run by a second test (its own project) so the two halves run in parallel.
const MORE_PAIRS: &[(&str, &str, &str)] = &[
    (
        "column_rename_as_drop_and_add",
        "CREATE TABLE item (id int PRIMARY KEY, title text);",
        "CREATE TABLE item (id int PRIMARY KEY, name text);",
    ),
    (
        "table_rename_as_drop_and_add",
        "CREATE TABLE old_item (id int PRIMARY KEY, name text);",
        "CREATE TABLE item (id int PRIMARY KEY, name text);",
    ),
    (
        "function_used_by_a_view_changes_body",
        "CREATE TABLE item (id int PRIMARY KEY); \
         CREATE FUNCTION bump(x int) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT x + 1 $$; \
         CREATE VIEW bumped AS SELECT id, bump(id) AS b FROM item;",
        "CREATE TABLE item (id int PRIMARY KEY); \
         CREATE FUNCTION bump(x int) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT x + 2 $$; \
         CREATE VIEW bumped AS SELECT id, bump(id) AS b FROM item;",
    ),
    (
        "new_view_depending_on_a_new_function",
        "CREATE TABLE item (id int PRIMARY KEY, price int);",
        "CREATE TABLE item (id int PRIMARY KEY, price int); \
         CREATE FUNCTION with_tax(p int) RETURNS numeric LANGUAGE sql IMMUTABLE AS $$ SELECT p * 1.2 $$; \
         CREATE VIEW priced AS SELECT id, with_tax(price) AS gross FROM item;",
    ),
    (
        "function_over_a_table_row_type",
        "CREATE TABLE item (id int PRIMARY KEY, qty int);",
        "CREATE TABLE item (id int PRIMARY KEY, qty int); \
         CREATE FUNCTION item_qty(i item) RETURNS int LANGUAGE sql STABLE AS $$ SELECT i.qty $$;",
    ),
    (
        "trigger_function_body_changes",
        "CREATE TABLE item (id int PRIMARY KEY, updated timestamptz); \
         CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.updated := now(); RETURN NEW; END $$; \
         CREATE TRIGGER item_touch BEFORE UPDATE ON item FOR EACH ROW EXECUTE FUNCTION touch();",
        "CREATE TABLE item (id int PRIMARY KEY, updated timestamptz); \
         CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.updated := clock_timestamp(); RETURN NEW; END $$; \
         CREATE TRIGGER item_touch BEFORE UPDATE ON item FOR EACH ROW EXECUTE FUNCTION touch();",
    ),
    (
        "trigger_gets_a_when_clause",
        "CREATE TABLE item (id int PRIMARY KEY, updated timestamptz); \
         CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.updated := now(); RETURN NEW; END $$; \
         CREATE TRIGGER item_touch BEFORE UPDATE ON item FOR EACH ROW EXECUTE FUNCTION touch();",
        "CREATE TABLE item (id int PRIMARY KEY, updated timestamptz); \
         CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.updated := now(); RETURN NEW; END $$; \
         CREATE TRIGGER item_touch BEFORE UPDATE ON item FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION touch();",
    ),
    (
        "check_constraint_changes",
        "CREATE TABLE item (id int PRIMARY KEY, qty int, CONSTRAINT qty_ok CHECK (qty > 0));",
        "CREATE TABLE item (id int PRIMARY KEY, qty int, CONSTRAINT qty_ok CHECK (qty >= 0));",
    ),
    (
        "multi_column_check_constraint",
        "CREATE TABLE span (id int PRIMARY KEY, lo int, hi int);",
        "CREATE TABLE span (id int PRIMARY KEY, lo int, hi int, CONSTRAINT span_order CHECK (lo <= hi AND lo >= 0));",
    ),
    (
        "unique_constraint_gains_a_column",
        "CREATE TABLE item (id int PRIMARY KEY, a int, b int, c int, CONSTRAINT item_abc UNIQUE (a, b));",
        "CREATE TABLE item (id int PRIMARY KEY, a int, b int, c int, CONSTRAINT item_abc UNIQUE (a, b, c));",
    ),
    (
        "foreign_key_on_delete_changes",
        "CREATE TABLE owner (id int PRIMARY KEY); \
         CREATE TABLE item (id int PRIMARY KEY, owner_id int, CONSTRAINT item_owner FOREIGN KEY (owner_id) REFERENCES owner (id) ON DELETE CASCADE);",
        "CREATE TABLE owner (id int PRIMARY KEY); \
         CREATE TABLE item (id int PRIMARY KEY, owner_id int, CONSTRAINT item_owner FOREIGN KEY (owner_id) REFERENCES owner (id) ON DELETE SET NULL);",
    ),
    (
        "deferrable_constraints",
        "CREATE TABLE owner (id int PRIMARY KEY); \
         CREATE TABLE item (id int PRIMARY KEY, owner_id int REFERENCES owner (id), code text UNIQUE);",
        "CREATE TABLE owner (id int PRIMARY KEY); \
         CREATE TABLE item (id int PRIMARY KEY, owner_id int REFERENCES owner (id) DEFERRABLE INITIALLY DEFERRED, code text UNIQUE DEFERRABLE);",
    ),
    (
        "partial_unique_index_predicate_changes",
        "CREATE TABLE item (id int PRIMARY KEY, email text, deleted boolean, deleted_at timestamptz); \
         CREATE UNIQUE INDEX item_email_live ON item (email) WHERE NOT deleted;",
        "CREATE TABLE item (id int PRIMARY KEY, email text, deleted boolean, deleted_at timestamptz); \
         CREATE UNIQUE INDEX item_email_live ON item (lower(email)) WHERE deleted_at IS NULL;",
    ),
    (
        "expression_index_with_include",
        "CREATE TABLE item (id int PRIMARY KEY, name text, price int);",
        "CREATE TABLE item (id int PRIMARY KEY, name text, price int); \
         CREATE INDEX item_lname ON item (lower(name)) INCLUDE (price);",
    ),
    (
        "index_method_btree_to_hash",
        "CREATE TABLE item (id int PRIMARY KEY, code text); CREATE INDEX item_code ON item (code);",
        "CREATE TABLE item (id int PRIMARY KEY, code text); CREATE INDEX item_code ON item USING hash (code);",
    ),
    (
        "sequence_options_change",
        "CREATE SEQUENCE ticket START 1 INCREMENT 1;",
        "CREATE SEQUENCE ticket START 1 INCREMENT 10 MAXVALUE 1000000 CYCLE;",
    ),
    (
        "enum_array_column_added",
        "CREATE TYPE mood AS ENUM ('sad', 'happy'); CREATE TABLE item (id int PRIMARY KEY);",
        "CREATE TYPE mood AS ENUM ('sad', 'happy'); CREATE TABLE item (id int PRIMARY KEY, moods mood[] NOT NULL DEFAULT '{sad}');",
    ),
    (
        "new_schema_with_a_cross_schema_foreign_key",
        "CREATE TABLE item (id int PRIMARY KEY);",
        "CREATE TABLE item (id int PRIMARY KEY); CREATE SCHEMA billing; \
         CREATE TABLE billing.line (id int PRIMARY KEY, item_id int NOT NULL REFERENCES public.item (id));",
    ),
    (
        "comments_on_columns_and_functions",
        "CREATE TABLE item (id int PRIMARY KEY, qty int); COMMENT ON COLUMN item.qty IS 'old'; \
         CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;",
        "CREATE TABLE item (id int PRIMARY KEY, qty int); COMMENT ON COLUMN item.id IS 'key'; \
         CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$; COMMENT ON FUNCTION f() IS 'one';",
    ),
    (
        "numeric_precision_changes",
        "CREATE TABLE item (id int PRIMARY KEY, price numeric(10,2));",
        "CREATE TABLE item (id int PRIMARY KEY, price numeric(12,4));",
    ),
    (
        "varchar_widened",
        "CREATE TABLE item (id int PRIMARY KEY, code varchar(20));",
        "CREATE TABLE item (id int PRIMARY KEY, code varchar(100));",
    ),
    (
        "text_to_integer_with_using",
        "CREATE TABLE item (id int PRIMARY KEY, qty text);",
        "CREATE TABLE item (id int PRIMARY KEY, qty integer);",
    ),
    (
        "not_null_dropped",
        "CREATE TABLE item (id int PRIMARY KEY, name text NOT NULL);",
        "CREATE TABLE item (id int PRIMARY KEY, name text);",
    ),
    (
        "generated_column_expression_changes",
        "CREATE TABLE item (id int PRIMARY KEY, price int, qty int, total int GENERATED ALWAYS AS (price * qty) STORED);",
        "CREATE TABLE item (id int PRIMARY KEY, price int, qty int, total int GENERATED ALWAYS AS (price * qty + 1) STORED);",
    ),
    (
        "procedure_added_and_changed",
        "CREATE TABLE item (id int PRIMARY KEY); \
         CREATE PROCEDURE add_item(x int) LANGUAGE sql AS $$ INSERT INTO item VALUES (x) $$;",
        "CREATE TABLE item (id int PRIMARY KEY); \
         CREATE PROCEDURE add_item(x int) LANGUAGE sql AS $$ INSERT INTO item VALUES (x + 1) $$; \
         CREATE PROCEDURE clear_items() LANGUAGE plpgsql AS $$ BEGIN DELETE FROM item; END $$;",
    ),
    (
        "view_gains_a_column",
        "CREATE TABLE item (id int PRIMARY KEY, name text); CREATE VIEW names AS SELECT id FROM item;",
        "CREATE TABLE item (id int PRIMARY KEY, name text); CREATE VIEW names AS SELECT id, name FROM item;",
    ),
    (
        "column_default_from_a_sequence",
        "CREATE TABLE item (id int PRIMARY KEY, no bigint);",
        "CREATE SEQUENCE item_no_seq START 100; \
         CREATE TABLE item (id int PRIMARY KEY, no bigint NOT NULL DEFAULT nextval('item_no_seq'));",
    ),
    (
        "enum_value_added_first_with_an_array_column",
        "CREATE TYPE mood AS ENUM ('ok', 'happy'); CREATE TABLE item (id int PRIMARY KEY, moods mood[] DEFAULT '{}');",
        "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy'); CREATE TABLE item (id int PRIMARY KEY, moods mood[] DEFAULT '{}');",
    ),
    (
        "materialized_view_with_an_index",
        "CREATE TABLE item (id int PRIMARY KEY, price int);",
        "CREATE TABLE item (id int PRIMARY KEY, price int); \
         CREATE MATERIALIZED VIEW price_by_id AS SELECT id, price FROM item; \
         CREATE UNIQUE INDEX price_by_id_id ON price_by_id (id);",
    ),
];

/// Pairs whose order only `pg_depend` gets right: functions that defaults, checks and
/// views use, views named against their dependency order, SQL bodies naming later objects.
const DEPENDENCY_PAIRS: &[(&str, &str, &str)] = &[
    (
        "function_used_by_a_default_and_a_check",
        "CREATE TABLE keep (id int);",
        "CREATE TABLE keep (id int); \
         CREATE FUNCTION new_code() RETURNS text LANGUAGE sql AS $$ SELECT md5(random()::text) $$; \
         CREATE FUNCTION is_code(t text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT length(t) = 32 $$; \
         CREATE TABLE item (id int PRIMARY KEY, code text DEFAULT new_code() CHECK (is_code(code)));",
    ),
    (
        "default_moves_to_another_function",
        "CREATE FUNCTION old_code() RETURNS text LANGUAGE sql AS $$ SELECT 'old' $$; \
         CREATE TABLE item (id int PRIMARY KEY, code text DEFAULT old_code());",
        "CREATE FUNCTION new_code() RETURNS text LANGUAGE sql AS $$ SELECT 'new' $$; \
         CREATE TABLE item (id int PRIMARY KEY, code text DEFAULT new_code());",
    ),
    (
        "views_named_against_their_order",
        "CREATE TABLE item (id int PRIMARY KEY, price int);",
        "CREATE TABLE item (id int PRIMARY KEY, price int); \
         CREATE VIEW zz_base AS SELECT id, price FROM item WHERE price > 0; \
         CREATE VIEW mm_mid AS SELECT id, price * 2 AS doubled FROM zz_base; \
         CREATE VIEW aa_top AS SELECT count(*) AS n FROM mm_mid;",
    ),
    (
        "base_view_changes_under_dependents",
        "CREATE TABLE item (id int PRIMARY KEY, price int); \
         CREATE VIEW zz_base AS SELECT id, price FROM item; \
         CREATE VIEW aa_top AS SELECT count(*) AS n FROM zz_base;",
        "CREATE TABLE item (id int PRIMARY KEY, price int); \
         CREATE VIEW zz_base AS SELECT id, price FROM item WHERE price > 0; \
         CREATE VIEW aa_top AS SELECT count(*) AS n FROM zz_base;",
    ),
    (
        "function_returning_a_view_row_type",
        "CREATE TABLE item (id int PRIMARY KEY, price int);",
        "CREATE TABLE item (id int PRIMARY KEY, price int); \
         CREATE VIEW cheap AS SELECT id, price FROM item WHERE price < 10; \
         CREATE FUNCTION cheapest() RETURNS SETOF cheap LANGUAGE sql STABLE AS $$ SELECT * FROM cheap ORDER BY price LIMIT 1 $$;",
    ),
    (
        "sql_function_body_naming_a_table",
        "CREATE TABLE keep (id int);",
        "CREATE TABLE keep (id int); \
         CREATE FUNCTION item_count() RETURNS bigint LANGUAGE sql STABLE AS $$ SELECT count(*) FROM item $$; \
         CREATE TABLE item (id int PRIMARY KEY, n bigint DEFAULT 0);",
    ),
    (
        "sql_standard_body_naming_a_table",
        "CREATE TABLE item (id int PRIMARY KEY);",
        "CREATE TABLE item (id int PRIMARY KEY); \
         CREATE FUNCTION item_total() RETURNS bigint LANGUAGE sql STABLE BEGIN ATOMIC SELECT count(*) FROM item; END;",
    ),
    (
        "materialized_view_recreated_keeps_its_indexes",
        "CREATE TABLE item (id int PRIMARY KEY, kind text); \
         CREATE MATERIALIZED VIEW kinds AS SELECT kind, count(*) AS n FROM item GROUP BY kind; \
         CREATE UNIQUE INDEX kinds_kind ON kinds (kind); COMMENT ON INDEX kinds_kind IS 'for refresh concurrently';",
        "CREATE TABLE item (id int PRIMARY KEY, kind text); \
         CREATE MATERIALIZED VIEW kinds AS SELECT kind, count(*) AS n, max(id) AS last FROM item GROUP BY kind; \
         CREATE UNIQUE INDEX kinds_kind ON kinds (kind); COMMENT ON INDEX kinds_kind IS 'for refresh concurrently';",
    ),
    (
        "enum_dropped_with_the_function_using_it",
        "CREATE TYPE mood AS ENUM ('ok', 'bad'); \
         CREATE FUNCTION cheer(m mood) RETURNS text LANGUAGE sql AS $$ SELECT m::text $$; \
         CREATE TABLE item (id int PRIMARY KEY);",
        "CREATE TABLE item (id int PRIMARY KEY);",
    ),
    (
        "enum_recreated_under_a_view_a_check_an_index_and_a_function",
        "CREATE TYPE status AS ENUM ('new', 'paid', 'void'); \
         CREATE TABLE orders (id int PRIMARY KEY, status status NOT NULL DEFAULT 'new', \
           CONSTRAINT orders_paid_check CHECK (status <> 'void' OR id > 0)); \
         CREATE INDEX orders_open ON orders (id) WHERE status = 'new'; \
         COMMENT ON INDEX orders_open IS 'open orders'; \
         CREATE VIEW paid AS SELECT id FROM orders WHERE status = 'paid'; \
         CREATE FUNCTION label(s status) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT s::text $$;",
        "CREATE TYPE status AS ENUM ('new', 'paid'); \
         CREATE TABLE orders (id int PRIMARY KEY, status status NOT NULL DEFAULT 'new', \
           CONSTRAINT orders_paid_check CHECK (status <> 'paid' OR id > 0)); \
         CREATE INDEX orders_open ON orders (id) WHERE status = 'new'; \
         COMMENT ON INDEX orders_open IS 'open orders'; \
         CREATE VIEW paid AS SELECT id FROM orders WHERE status = 'paid'; \
         CREATE FUNCTION label(s status) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT s::text $$;",
    ),
    (
        "column_retyped_under_a_generated_column",
        "CREATE TABLE line (id int PRIMARY KEY, qty int, price numeric(10,2), \
           total numeric GENERATED ALWAYS AS (qty * price) STORED CONSTRAINT line_total_positive CHECK (total >= 0)); \
         COMMENT ON COLUMN line.total IS 'computed'; \
         CREATE INDEX line_big ON line (total) WHERE total > 100; COMMENT ON INDEX line_big IS 'big lines';",
        "CREATE TABLE line (id int PRIMARY KEY, qty bigint, price numeric(12,2), \
           total numeric GENERATED ALWAYS AS (qty * price) STORED CONSTRAINT line_total_positive CHECK (total >= 0)); \
         COMMENT ON COLUMN line.total IS 'computed'; \
         CREATE INDEX line_big ON line (total) WHERE total > 100; COMMENT ON INDEX line_big IS 'big lines';",
    ),
    (
        "row_trigger_on_a_partitioned_table",
        "CREATE TABLE event (id int, at date NOT NULL) PARTITION BY RANGE (at); \
         CREATE TABLE event_2026 PARTITION OF event FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');",
        "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$; \
         CREATE TABLE event (id int, at date NOT NULL) PARTITION BY RANGE (at); \
         CREATE TABLE event_2026 PARTITION OF event FOR VALUES FROM ('2026-01-01') TO ('2027-01-01'); \
         CREATE TRIGGER event_touch BEFORE INSERT ON event FOR EACH ROW EXECUTE FUNCTION touch();",
    ),
    (
        "view_changes_under_a_function_over_its_row_type",
        "CREATE TABLE item (id int PRIMARY KEY, price int); \
         CREATE VIEW cheap AS SELECT id, price FROM item WHERE price < 10; \
         CREATE FUNCTION cheapest() RETURNS SETOF cheap LANGUAGE sql STABLE AS $$ SELECT * FROM cheap ORDER BY price LIMIT 1 $$;",
        "CREATE TABLE item (id int PRIMARY KEY, price int); \
         CREATE VIEW cheap AS SELECT id, price FROM item WHERE price < 20; \
         CREATE FUNCTION cheapest() RETURNS SETOF cheap LANGUAGE sql STABLE AS $$ SELECT * FROM cheap ORDER BY price LIMIT 1 $$;",
    ),
    (
        "collations_quoted",
        "CREATE TABLE item (id int PRIMARY KEY, code text);",
        "CREATE TABLE item (id int PRIMARY KEY, code text COLLATE \"C\", name varchar(20) COLLATE \"POSIX\");",
    ),
    (
        "changed_objects_keep_their_comments",
        "CREATE TYPE mood AS ENUM ('ok', 'bad'); COMMENT ON TYPE mood IS 'how it went'; \
         CREATE TABLE item (id int PRIMARY KEY, qty int, m mood, CONSTRAINT qty_positive CHECK (qty > 0)); \
         COMMENT ON CONSTRAINT qty_positive ON item IS 'no empty lines'; \
         CREATE INDEX item_qty ON item (qty); COMMENT ON INDEX item_qty IS 'by quantity'; \
         CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$; \
         CREATE TRIGGER item_touch BEFORE INSERT ON item FOR EACH ROW EXECUTE FUNCTION touch(); \
         COMMENT ON TRIGGER item_touch ON item IS 'keeps it fresh';",
        "CREATE TYPE mood AS ENUM ('bad', 'ok'); COMMENT ON TYPE mood IS 'how it went'; \
         CREATE TABLE item (id int PRIMARY KEY, qty int, m mood, CONSTRAINT qty_positive CHECK (qty >= 1)); \
         COMMENT ON CONSTRAINT qty_positive ON item IS 'no empty lines'; \
         CREATE INDEX item_qty ON item (qty DESC); COMMENT ON INDEX item_qty IS 'by quantity'; \
         CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$; \
         CREATE TRIGGER item_touch BEFORE INSERT OR UPDATE ON item FOR EACH ROW EXECUTE FUNCTION touch(); \
         COMMENT ON TRIGGER item_touch ON item IS 'keeps it fresh';",
    ),
    (
        "trigger_disabled_and_view_trigger_changed",
        "CREATE TABLE item (id int PRIMARY KEY); \
         CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$; \
         CREATE TRIGGER item_touch BEFORE INSERT ON item FOR EACH ROW EXECUTE FUNCTION touch(); \
         CREATE VIEW items AS SELECT id FROM item; \
         CREATE TRIGGER items_insert INSTEAD OF INSERT ON items FOR EACH ROW EXECUTE FUNCTION touch();",
        "CREATE TABLE item (id int PRIMARY KEY); \
         CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$; \
         CREATE TRIGGER item_touch BEFORE INSERT ON item FOR EACH ROW EXECUTE FUNCTION touch(); \
         ALTER TABLE item DISABLE TRIGGER item_touch; \
         CREATE VIEW items AS SELECT id FROM item; \
         CREATE TRIGGER items_insert INSTEAD OF INSERT OR UPDATE ON items FOR EACH ROW EXECUTE FUNCTION touch();",
    ),
    (
        "text_column_becomes_a_recreated_enum",
        "CREATE TYPE mood AS ENUM ('ok', 'bad', 'meh'); CREATE TABLE item (id int PRIMARY KEY, m mood, label text);",
        "CREATE TYPE mood AS ENUM ('ok', 'bad'); CREATE TABLE item (id int PRIMARY KEY, m mood, label mood);",
    ),
    (
        "column_widened_under_a_view",
        "CREATE TABLE item (id int PRIMARY KEY, qty int, note varchar(20)); \
         CREATE VIEW big AS SELECT id, qty, note FROM item WHERE qty > 10;",
        "CREATE TABLE item (id int PRIMARY KEY, qty bigint, note varchar(200)); \
         CREATE VIEW big AS SELECT id, qty, note FROM item WHERE qty > 10;",
    ),
];

/// Grants, aggregates and partitioning. The roles granted to are made by the test: roles
/// belong to the server, not to the schema.
const KIND_PAIRS: &[(&str, &str, &str)] = &[
    (
        "grants_only_on_a_table_added_revoked_and_with_grant_option",
        "CREATE TABLE item (id int PRIMARY KEY); GRANT SELECT, INSERT ON item TO reader; \
         GRANT SELECT ON item TO writer WITH GRANT OPTION;",
        "CREATE TABLE item (id int PRIMARY KEY); GRANT SELECT, UPDATE ON item TO reader; \
         GRANT SELECT ON item TO writer; GRANT DELETE ON item TO writer WITH GRANT OPTION;",
    ),
    (
        "grants_on_a_new_table_and_its_columns",
        "CREATE TABLE keep (id int);",
        "CREATE TABLE keep (id int); CREATE TABLE item (id int PRIMARY KEY, name text, secret text); \
         GRANT SELECT ON item TO writer; GRANT SELECT (id, name), UPDATE (name) ON item TO reader;",
    ),
    (
        "column_grants_changed_on_a_kept_table",
        "CREATE TABLE item (id int PRIMARY KEY, name text, note text); \
         GRANT SELECT (id, name) ON item TO reader;",
        "CREATE TABLE item (id int PRIMARY KEY, name text, note text); \
         GRANT SELECT (id), UPDATE (note) ON item TO reader;",
    ),
    (
        "grants_on_sequences_and_schemas",
        "CREATE SEQUENCE ticket; CREATE SCHEMA billing;",
        "CREATE SEQUENCE ticket; CREATE SCHEMA billing; CREATE SEQUENCE billing.invoice_no; \
         GRANT USAGE, SELECT ON SEQUENCE ticket TO reader; GRANT USAGE ON SEQUENCE billing.invoice_no TO writer; \
         GRANT USAGE, CREATE ON SCHEMA billing TO writer; REVOKE USAGE ON SCHEMA public FROM PUBLIC;",
    ),
    (
        "grants_on_views",
        "CREATE TABLE item (id int PRIMARY KEY, name text); CREATE VIEW names AS SELECT id FROM item; \
         GRANT SELECT ON names TO writer;",
        "CREATE TABLE item (id int PRIMARY KEY, name text); CREATE VIEW names AS SELECT id, name FROM item; \
         CREATE VIEW ids AS SELECT id FROM item; GRANT SELECT ON names, ids TO reader;",
    ),
    (
        "function_revoked_from_public_and_granted",
        "CREATE FUNCTION old_one() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$; \
         REVOKE EXECUTE ON FUNCTION old_one() FROM PUBLIC;",
        "CREATE FUNCTION old_one() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$; \
         CREATE FUNCTION secret() RETURNS int LANGUAGE sql AS $$ SELECT 42 $$; \
         REVOKE EXECUTE ON FUNCTION secret() FROM PUBLIC; GRANT EXECUTE ON FUNCTION secret() TO writer; \
         CREATE PROCEDURE tidy() LANGUAGE sql AS $$ SELECT 1 $$; REVOKE ALL ON PROCEDURE tidy() FROM PUBLIC; \
         GRANT EXECUTE ON FUNCTION old_one() TO reader WITH GRANT OPTION;",
    ),
    (
        "aggregate_created_with_its_functions",
        "CREATE TABLE item (id int PRIMARY KEY, qty int);",
        "CREATE TABLE item (id int PRIMARY KEY, qty int); \
         CREATE FUNCTION add_square(acc bigint, x int) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$ SELECT acc + x * x $$; \
         CREATE FUNCTION root(acc bigint) RETURNS double precision LANGUAGE sql IMMUTABLE AS $$ SELECT sqrt(acc) $$; \
         CREATE AGGREGATE norm(int) (SFUNC = add_square, STYPE = bigint, FINALFUNC = root, INITCOND = '0', \
           COMBINEFUNC = int8pl, PARALLEL = SAFE); \
         REVOKE EXECUTE ON FUNCTION norm(int) FROM PUBLIC; GRANT EXECUTE ON FUNCTION norm(int) TO reader;",
    ),
    (
        "aggregate_changed",
        "CREATE FUNCTION add_square(acc bigint, x int) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$ SELECT acc + x * x $$; \
         CREATE AGGREGATE sum_squares(int) (SFUNC = add_square, STYPE = bigint, INITCOND = '0');",
        "CREATE FUNCTION add_square(acc bigint, x int) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$ SELECT acc + x * x $$; \
         CREATE FUNCTION halve(acc bigint) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$ SELECT acc / 2 $$; \
         CREATE AGGREGATE sum_squares(int) (SFUNC = add_square, STYPE = bigint, FINALFUNC = halve, INITCOND = '10');",
    ),
    (
        "aggregate_dropped_with_its_state_function",
        "CREATE TABLE item (id int PRIMARY KEY); \
         CREATE FUNCTION add_square(acc bigint, x int) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$ SELECT acc + x * x $$; \
         CREATE AGGREGATE sum_squares(int) (SFUNC = add_square, STYPE = bigint, INITCOND = '0');",
        "CREATE TABLE item (id int PRIMARY KEY);",
    ),
    (
        "partitioned_tables_with_range_list_and_default_partitions",
        "CREATE TABLE keep (id int);",
        "CREATE TABLE keep (id int); \
         CREATE TABLE event (id bigint NOT NULL, at date NOT NULL, kind text DEFAULT 'x') PARTITION BY RANGE (at); \
         CREATE TABLE event_2024 PARTITION OF event FOR VALUES FROM ('2024-01-01') TO ('2025-01-01'); \
         CREATE TABLE event_2025 PARTITION OF event (kind DEFAULT 'y') FOR VALUES FROM ('2025-01-01') TO ('2026-01-01'); \
         CREATE TABLE event_rest PARTITION OF event DEFAULT; \
         CREATE TABLE a_tag (name text, kind text) PARTITION BY LIST (kind); \
         CREATE TABLE a_tag_ab PARTITION OF a_tag FOR VALUES IN ('a', 'b'); \
         CREATE TABLE tag_c PARTITION OF a_tag FOR VALUES IN ('c'); COMMENT ON TABLE tag_c IS 'just c';",
    ),
    (
        "partition_added_and_another_dropped",
        "CREATE TABLE event (id int, at date NOT NULL) PARTITION BY RANGE (at); \
         CREATE TABLE event_2023 PARTITION OF event FOR VALUES FROM ('2023-01-01') TO ('2024-01-01'); \
         CREATE TABLE event_2024 PARTITION OF event FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');",
        "CREATE TABLE event (id int, at date NOT NULL) PARTITION BY RANGE (at); \
         CREATE TABLE event_2024 PARTITION OF event FOR VALUES FROM ('2024-01-01') TO ('2025-01-01'); \
         CREATE TABLE event_2025 PARTITION OF event FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');",
    ),
    (
        "partition_bound_changed",
        "CREATE TABLE tag (name text, kind text) PARTITION BY LIST (kind); \
         CREATE TABLE tag_ab PARTITION OF tag FOR VALUES IN ('a', 'b');",
        "CREATE TABLE tag (name text, kind text) PARTITION BY LIST (kind); \
         CREATE TABLE tag_ab PARTITION OF tag FOR VALUES IN ('a', 'b', 'c');",
    ),
    (
        "keys_and_indexes_on_a_partitioned_table",
        "CREATE TABLE owner (id int PRIMARY KEY); \
         CREATE TABLE event (id int NOT NULL, owner_id int, at date NOT NULL, kind text) PARTITION BY RANGE (at); \
         CREATE TABLE event_2024 PARTITION OF event FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');",
        "CREATE TABLE owner (id int PRIMARY KEY); \
         CREATE TABLE event (id int NOT NULL, owner_id int REFERENCES owner (id), at date NOT NULL, kind text CHECK (kind <> ''), \
           PRIMARY KEY (id, at)) PARTITION BY RANGE (at); \
         CREATE TABLE event_2024 PARTITION OF event FOR VALUES FROM ('2024-01-01') TO ('2025-01-01'); \
         CREATE TABLE event_2025 PARTITION OF event FOR VALUES FROM ('2025-01-01') TO ('2026-01-01'); \
         CREATE INDEX event_kind ON event (kind); CREATE INDEX event_2024_own ON event_2024 (owner_id);",
    ),
    (
        "column_added_to_a_partitioned_table",
        "CREATE TABLE event (id int, at date NOT NULL) PARTITION BY RANGE (at); \
         CREATE TABLE event_2024 PARTITION OF event FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');",
        "CREATE TABLE event (id int, at date NOT NULL, note text DEFAULT 'n', qty bigint) PARTITION BY RANGE (at); \
         CREATE TABLE event_2024 PARTITION OF event FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');",
    ),
];

#[tokio::test]
async fn grants_aggregates_and_partitions_round_trip() {
    let project = project();
    project.devdb_ok(&["up"]);
    let url = project.url();
    crate::schemas::make_roles(&url, &["reader", "writer"]).await;
    for (name, a, b) in KIND_PAIRS {
        round_trip(&project, &url, name, a, b).await;
    }
}

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
async fn more_generated_migrations_round_trip() {
    let project = project();
    project.devdb_ok(&["up"]);
    let url = project.url();
    for (name, a, b) in MORE_PAIRS {
        round_trip(&project, &url, name, a, b).await;
    }
}

#[tokio::test]
async fn generated_migrations_follow_dependencies() {
    let project = project();
    project.devdb_ok(&["up"]);
    let url = project.url();
    for (name, a, b) in DEPENDENCY_PAIRS {
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

/// SET NOT NULL is flagged only when the project's database holds nulls in the column;
/// a widening type change is not flagged, a narrowing one is.
#[tokio::test]
async fn destructive_flags_look_at_the_data_and_the_kind_of_type_change() {
    let project = project();
    project.devdb_ok(&["up"]);
    let url = project.url();
    let a = "CREATE TABLE item (id int PRIMARY KEY, note text, qty int, code varchar(20));";
    let b =
        "CREATE TABLE item (id int PRIMARY KEY, note text NOT NULL, qty bigint, code varchar(20));";
    start_from(&project, &url, a, b).await;
    query(
        &url,
        "INSERT INTO item VALUES (1, 'a', 1, 'x'), (2, NULL, 2, 'y')",
    )
    .await
    .unwrap();

    let refuse = [
        "new",
        "--autogenerate",
        "--fail-on-destructive",
        "-m",
        "tighten",
    ];
    let output = project.devdb(&refuse);
    assert!(!output.status.success(), "the null in row 2 is flagged");
    let err = stderr(&output);
    assert!(
        err.contains("set not null on item.note: rows of the database hold null there"),
        "{err}"
    );
    assert!(!err.contains("item.qty"), "int -> bigint widens: {err}");
    assert_eq!(revision_files(&project).len(), 1, "nothing written");

    query(&url, "UPDATE item SET note = '' WHERE note IS NULL")
        .await
        .unwrap();
    let output = project.devdb(&refuse);
    assert!(output.status.success(), "no null left: {}", stderr(&output));
    let files = revision_files(&project);
    let text = std::fs::read_to_string(&files[1]).unwrap();
    let up = &text[..text.find("-- devdb:down").unwrap()];
    assert!(!up.contains("-- DESTRUCTIVE"), "{text}");
    assert!(up.contains("SET NOT NULL"), "{text}");
    project.devdb_ok(&["migrate"]);
    let down = &text[text.find("-- devdb:down").unwrap()..];
    assert!(
        down.contains("change type of item.qty: bigint -> integer (narrowing"),
        "the way back narrows: {text}"
    );

    std::fs::write(
        project.path().join("schema.sql"),
        "CREATE TABLE item (id int PRIMARY KEY, note text NOT NULL, qty bigint, code varchar(5));",
    )
    .unwrap();
    let output = project.devdb(&refuse);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains(
            "change type of item.code: character varying(20) -> character varying(5) (narrowing"
        ),
        "{}",
        stderr(&output)
    );
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
