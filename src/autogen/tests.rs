use super::enums::labels_only_added;
use super::*;
use crate::catalog::{
    Column, ConstraintKind, Function, Index, RoutineKind, Table, TableKind, View,
};

fn table(name: &str, columns: &[(&str, &str)]) -> Table {
    Table {
        schema: "public".into(),
        name: name.into(),
        kind: TableKind::Table,
        columns: columns
            .iter()
            .map(|(n, t)| Column {
                name: (*n).into(),
                data_type: (*t).into(),
                ..Column::default()
            })
            .collect(),
        ..Table::default()
    }
}

fn catalog(tables: Vec<Table>) -> Catalog {
    let mut c = Catalog::default();
    for t in tables {
        c.tables.insert(format!("public.{}", t.name), t);
    }
    c
}

#[test]
fn equal_catalogs_give_nothing() {
    let a = catalog(vec![table("item", &[("id", "integer")])]);
    assert!(generate(&a, &a).is_empty());
}

#[test]
fn a_new_table_is_created_and_its_reverse_drops_it_as_destructive() {
    let a = catalog(vec![]);
    let b = catalog(vec![table("item", &[("id", "integer"), ("name", "text")])]);
    let up = generate(&a, &b);
    assert_eq!(
        up.statements,
        ["CREATE TABLE \"public\".\"item\" (\n    \"id\" integer,\n    \"name\" text\n);"]
    );
    assert!(up.destructive.is_empty());
    let down = generate(&b, &a);
    assert_eq!(
        down.statements,
        ["DROP TABLE IF EXISTS \"public\".\"item\";"]
    );
    assert_eq!(down.destructive, ["drop table item"]);
    assert!(down.render().starts_with("-- DESTRUCTIVE"));
}

#[test]
fn a_drop_and_an_add_of_the_same_type_are_marked_as_a_possible_rename() {
    let a = catalog(vec![table("item", &[("id", "integer"), ("title", "text")])]);
    let b = catalog(vec![table("item", &[("id", "integer"), ("name", "text")])]);
    let up = generate(&a, &b);
    assert!(up.statements[0].starts_with("-- possible rename: item.title -> name"));
    assert_eq!(
        up.statements[1],
        "ALTER TABLE \"public\".\"item\" DROP COLUMN IF EXISTS \"title\";"
    );
    assert_eq!(
        up.statements[2],
        "ALTER TABLE \"public\".\"item\" ADD COLUMN \"name\" text;"
    );
}

#[test]
fn a_widening_type_change_casts_and_a_narrowing_one_is_destructive() {
    let a = catalog(vec![table("item", &[("n", "integer")])]);
    let b = catalog(vec![table("item", &[("n", "bigint")])]);
    let up = generate(&a, &b);
    assert_eq!(
        up.statements,
        ["ALTER TABLE \"public\".\"item\" ALTER COLUMN \"n\" TYPE bigint USING \"n\"::bigint;"]
    );
    assert!(up.destructive.is_empty(), "{:?}", up.destructive);
    let down = generate(&b, &a);
    assert_eq!(
        down.destructive,
        [
            "change type of item.n: bigint -> integer (narrowing: values out of the new range make the migration fail)"
        ]
    );
}

#[test]
fn set_not_null_is_destructive_unless_the_data_has_no_null() {
    let a = catalog(vec![table("item", &[("note", "text")])]);
    let mut b = a.clone();
    b.tables.get_mut("public.item").unwrap().columns[0].not_null = true;
    assert_eq!(
        set_not_null_columns(&a, &b),
        [("public".to_string(), "item".to_string(), "note".to_string())]
    );
    let unknown = generate(&a, &b);
    assert_eq!(
        unknown.destructive,
        ["set not null on item.note: fails if a row holds null (the data was not looked at)"]
    );
    let mut data = DataFacts::default();
    data.nulls.insert("public.item.note".into(), true);
    let nulls = generate_for(&a, &b, &data);
    assert!(nulls.destructive[0].contains("hold null there"));
    data.nulls.insert("public.item.note".into(), false);
    let clean = generate_for(&a, &b, &data);
    assert!(clean.destructive.is_empty());
    assert_eq!(
        clean.statements,
        ["ALTER TABLE \"public\".\"item\" ALTER COLUMN \"note\" SET NOT NULL;"]
    );
    assert!(
        generate(&b, &a).destructive.is_empty(),
        "DROP NOT NULL loses nothing"
    );
}

fn view(name: &str, depends_on: &[&str]) -> View {
    View {
        schema: "public".into(),
        name: name.into(),
        definition: format!(" SELECT 1 AS {name};"),
        depends_on: depends_on.iter().map(|d| d.to_string()).collect(),
        ..View::default()
    }
}

#[test]
fn views_follow_the_views_they_depend_on_whatever_their_names() {
    let mut b = Catalog::default();
    // "a" sorts first but depends on "m", which depends on "z_base".
    for v in [
        view("a", &["public.m"]),
        view("m", &["public.z_base"]),
        view("z_base", &[]),
    ] {
        b.views.insert(format!("public.{}", v.name), v);
    }
    let up = generate(&Catalog::default(), &b);
    let order: Vec<&str> = up
        .statements
        .iter()
        .filter_map(|s| s.strip_prefix("CREATE VIEW \"public\".\""))
        .map(|s| &s[..s.find('"').unwrap()])
        .collect();
    assert_eq!(order, ["z_base", "m", "a"]);
    let down = generate(&b, &Catalog::default());
    let order: Vec<&str> = down
        .statements
        .iter()
        .filter_map(|s| s.strip_prefix("DROP VIEW IF EXISTS \"public\".\""))
        .map(|s| &s[..s.find('"').unwrap()])
        .collect();
    assert_eq!(order, ["a", "m", "z_base"]);
}

fn function(name: &str, language: &str, depends_on: &[&str]) -> Function {
    Function {
        schema: "public".into(),
        name: name.into(),
        kind: RoutineKind::Function,
        result: Some("text".into()),
        language: language.into(),
        body: "SELECT 'x'".into(),
        definition: Some(format!(
            "CREATE OR REPLACE FUNCTION public.{name}()\n RETURNS text\n LANGUAGE {language}\nAS $function$SELECT 'x'$function$\n"
        )),
        depends_on: depends_on.iter().map(|d| d.to_string()).collect(),
        ..Function::default()
    }
}

#[test]
fn functions_come_before_the_tables_unless_they_name_one() {
    let mut b = catalog(vec![table("item", &[("code", "text")])]);
    b.tables.get_mut("public.item").unwrap().columns[0].default = Some("new_code()".into());
    for f in [
        function("new_code", "sql", &[]),
        function("items", "sql", &["public.item"]),
    ] {
        b.functions.insert(format!("public.{}()", f.name), f);
    }
    let up = generate(&Catalog::default(), &b);
    let at = |prefix: &str| {
        up.statements
            .iter()
            .position(|s| s.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix} in {:#?}", up.statements))
    };
    assert_eq!(at("SET LOCAL check_function_bodies = off;"), 0);
    assert!(at("CREATE OR REPLACE FUNCTION public.new_code()") < at("CREATE TABLE"));
    assert!(at("CREATE TABLE") < at("CREATE OR REPLACE FUNCTION public.items()"));
    // Dropped: the function a default uses only after the table is gone.
    let down = generate(&b, &Catalog::default());
    let at = |prefix: &str| {
        down.statements
            .iter()
            .position(|s| s.starts_with(prefix))
            .unwrap()
    };
    assert!(at("DROP FUNCTION IF EXISTS \"public\".\"items\"") < at("DROP TABLE"));
    assert!(at("DROP TABLE") < at("DROP FUNCTION IF EXISTS \"public\".\"new_code\""));
    assert!(!down.statements[0].starts_with("SET LOCAL"));
}

#[test]
fn indexes_of_a_recreated_materialized_view_are_created_again() {
    let mut a = Catalog::default();
    let mut m = view("totals", &[]);
    m.materialized = true;
    m.populated = true;
    a.views.insert("public.totals".into(), m.clone());
    a.indexes.insert(
        "public.totals_idx".into(),
        Index {
            schema: "public".into(),
            name: "totals_idx".into(),
            table: "public.totals".into(),
            definition: "CREATE INDEX totals_idx ON public.totals USING btree (totals)".into(),
            comment: Some("lookups".into()),
            inherited: false,
        },
    );
    let mut b = a.clone();
    b.views.get_mut("public.totals").unwrap().definition = " SELECT 2 AS totals;".into();
    let up = generate(&a, &b);
    let create_view = up
        .statements
        .iter()
        .position(|s| s.starts_with("CREATE MATERIALIZED VIEW"))
        .expect("the view is recreated");
    let create_index = up
        .statements
        .iter()
        .position(|s| s.starts_with("CREATE INDEX totals_idx"))
        .expect("its unchanged index is created again");
    assert!(create_view < create_index);
    assert!(
        up.statements
            .iter()
            .any(|s| s.starts_with("COMMENT ON INDEX \"public\".\"totals_idx\" IS 'lookups'"))
    );
}

#[test]
fn enum_labels_added_in_place_or_recreated() {
    assert!(labels_only_added(
        &["a".into(), "c".into()],
        &["a".into(), "b".into(), "c".into()]
    ));
    assert!(!labels_only_added(
        &["a".into(), "c".into()],
        &["c".into(), "a".into()]
    ));
    assert!(!labels_only_added(&["a".into(), "b".into()], &["a".into()]));
}

fn partitioned(name: &str, key: &str) -> Table {
    Table {
        kind: TableKind::Partitioned,
        partition_key: Some(key.into()),
        ..table(name, &[("id", "integer"), ("at", "date")])
    }
}

fn partition(name: &str, parent: &str, bound: &str) -> Table {
    Table {
        partition_of: Some(format!("public.{parent}")),
        partition_bound: Some(bound.into()),
        ..table(name, &[("id", "integer"), ("at", "date")])
    }
}

#[test]
fn a_partitioned_table_comes_before_its_partitions_which_do_not_repeat_its_columns() {
    let a = catalog(vec![]);
    // "a_event" sorts before its parent "event": the order must come from the parent.
    let b = catalog(vec![
        partitioned("event", "RANGE (at)"),
        partition("a_event", "event", "DEFAULT"),
    ]);
    let up = generate(&a, &b);
    assert_eq!(
        up.statements,
        [
            "CREATE TABLE \"public\".\"event\" (\n    \"id\" integer,\n    \"at\" date\n) PARTITION BY RANGE (at);",
            "CREATE TABLE \"public\".\"a_event\" PARTITION OF \"public\".\"event\" DEFAULT;",
        ]
    );
    assert!(up.skipped.is_empty());
}

#[test]
fn a_changed_bound_detaches_and_attaches_and_a_changed_key_is_left_by_hand() {
    let old = catalog(vec![
        partitioned("event", "RANGE (at)"),
        partition(
            "event_x",
            "event",
            "FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')",
        ),
    ]);
    let new = catalog(vec![
        partitioned("event", "RANGE (at)"),
        partition(
            "event_x",
            "event",
            "FOR VALUES FROM ('2024-01-01') TO ('2026-01-01')",
        ),
    ]);
    assert_eq!(
        generate(&old, &new).statements,
        [
            "ALTER TABLE \"public\".\"event\" DETACH PARTITION \"public\".\"event_x\";",
            "ALTER TABLE \"public\".\"event\" ATTACH PARTITION \"public\".\"event_x\" FOR VALUES FROM ('2024-01-01') TO ('2026-01-01');",
        ]
    );
    let rekeyed = catalog(vec![partitioned("event", "LIST (id)")]);
    let up = generate(&catalog(vec![partitioned("event", "RANGE (at)")]), &rekeyed);
    assert!(up.statements.is_empty());
    assert_eq!(up.skipped.len(), 1);
    assert!(
        up.skipped[0].contains("RANGE (at) -> LIST (id)"),
        "{:?}",
        up.skipped
    );
    assert!(up.skipped[0].contains("by hand"));
    let turned = generate(
        &catalog(vec![table("event", &[("id", "integer")])]),
        &rekeyed,
    );
    assert!(turned.skipped[0].contains("none -> LIST (id)"));
}

#[test]
fn copies_made_on_partitions_are_left_to_the_parent() {
    use crate::catalog::{Constraint, Index};
    let mut b = catalog(vec![
        partitioned("event", "RANGE (at)"),
        partition("event_x", "event", "DEFAULT"),
    ]);
    let pkey = |name: &str, inherited| Constraint {
        name: name.into(),
        kind: ConstraintKind::PrimaryKey,
        definition: "PRIMARY KEY (id, at)".into(),
        comment: None,
        inherited,
        index: None,
    };
    let event = b.tables.get_mut("public.event").unwrap();
    event
        .constraints
        .insert("event_pkey".into(), pkey("event_pkey", false));
    let event_x = b.tables.get_mut("public.event_x").unwrap();
    event_x
        .constraints
        .insert("event_x_pkey".into(), pkey("event_x_pkey", true));
    let index = |name: &str, table: &str, only: &str, inherited| Index {
        schema: "public".into(),
        name: name.into(),
        table: format!("public.{table}"),
        definition: format!("CREATE INDEX {name} ON {only}public.{table} USING btree (id)"),
        comment: None,
        inherited,
    };
    b.indexes.insert(
        "public.event_id".into(),
        index("event_id", "event", "ONLY ", false),
    );
    b.indexes.insert(
        "public.event_x_id".into(),
        index("event_x_id", "event_x", "", true),
    );
    let up = generate(&catalog(vec![]), &b);
    let created: Vec<&String> = up
        .statements
        .iter()
        .filter(|s| s.contains("PRIMARY KEY") || s.contains("INDEX"))
        .collect();
    assert_eq!(
        created,
        [
            "ALTER TABLE \"public\".\"event\" ADD CONSTRAINT \"event_pkey\" PRIMARY KEY (id, at);",
            "CREATE INDEX event_id ON public.event USING btree (id);",
        ]
    );
    let down = generate(&b, &catalog(vec![]));
    assert!(!down.statements.iter().any(|s| s.contains("event_x_id")));
}

fn routine(name: &str, kind: RoutineKind, definition: &str, grants: &[&str]) -> Function {
    Function {
        schema: "public".into(),
        name: name.into(),
        arguments: "integer".into(),
        kind,
        result: Some("bigint".into()),
        language: "sql".into(),
        definition: Some(definition.into()),
        grants: grants.iter().map(|g| g.to_string()).collect(),
        ..Function::default()
    }
}

fn with_functions(functions: Vec<Function>) -> Catalog {
    let mut c = Catalog::default();
    for f in functions {
        c.functions
            .insert(format!("public.{}({})", f.name, f.arguments), f);
    }
    c
}

#[test]
fn aggregates_come_after_their_functions_and_go_before_them() {
    let public = ["app=X/app", "=X/app"];
    let mut b = with_functions(vec![
        routine(
            "add_sq",
            RoutineKind::Function,
            "CREATE OR REPLACE FUNCTION public.add_sq(integer) RETURNS bigint ...",
            &public,
        ),
        routine(
            "a_sum",
            RoutineKind::Aggregate,
            "CREATE OR REPLACE AGGREGATE public.a_sum(integer) (\n    SFUNC = public.add_sq,\n    STYPE = bigint\n)",
            &["app=X/app"],
        ),
    ]);
    // pg_depend ties the aggregate to its state function.
    b.functions
        .get_mut("public.a_sum(integer)")
        .unwrap()
        .depends_on = vec!["public.add_sq(integer)".into()];
    let up = generate(&Catalog::default(), &b);
    assert_eq!(up.statements.len(), 3, "{:#?}", up.statements);
    assert!(up.statements[0].starts_with("CREATE OR REPLACE FUNCTION public.add_sq"));
    assert!(up.statements[1].starts_with("CREATE OR REPLACE AGGREGATE public.a_sum"));
    assert_eq!(
        up.statements[2],
        "REVOKE EXECUTE ON FUNCTION \"public\".\"a_sum\"(integer) FROM PUBLIC;"
    );
    let down = generate(&b, &Catalog::default());
    assert_eq!(
        down.statements,
        [
            "DROP AGGREGATE IF EXISTS \"public\".\"a_sum\"(integer);",
            "DROP FUNCTION IF EXISTS \"public\".\"add_sq\"(integer);",
        ]
    );
}

#[test]
fn a_grants_only_change_writes_grants_and_revokes() {
    let mut a = catalog(vec![table("item", &[("id", "integer")])]);
    let mut b = a.clone();
    a.tables.get_mut("public.item").unwrap().grants =
        vec!["app=arwdDxtm/app".into(), "reader=r/app".into()];
    b.tables.get_mut("public.item").unwrap().grants =
        vec!["app=arwdDxtm/app".into(), "writer=aw*/app".into()];
    b.tables.get_mut("public.item").unwrap().columns[0].grants = vec!["reader=r/app".into()];
    let up = generate(&a, &b);
    assert!(up.skipped.is_empty());
    assert_eq!(
        up.statements,
        [
            "REVOKE SELECT ON TABLE \"public\".\"item\" FROM \"reader\";",
            "GRANT INSERT ON TABLE \"public\".\"item\" TO \"writer\";",
            "GRANT UPDATE ON TABLE \"public\".\"item\" TO \"writer\" WITH GRANT OPTION;",
            "GRANT SELECT (\"id\") ON TABLE \"public\".\"item\" TO \"reader\";",
        ]
    );
    // A new table with only its owner's grants needs none.
    let mut fresh = catalog(vec![table("fresh", &[("id", "integer")])]);
    fresh.tables.get_mut("public.fresh").unwrap().grants = vec!["app=arwdDxtm/app".into()];
    assert_eq!(generate(&Catalog::default(), &fresh).statements.len(), 1);
}

#[test]
fn a_view_is_recreated_only_when_a_column_it_uses_changes() {
    let mut a = catalog(vec![table(
        "item",
        &[("id", "integer"), ("note", "text"), ("qty", "integer")],
    )]);
    a.views.insert(
        "public.ids".into(),
        view("ids", &["public.item", "public.item.id"]),
    );
    let mut b = a.clone();
    b.tables.get_mut("public.item").unwrap().columns.remove(1);
    let up = generate(&a, &b);
    assert!(
        !up.statements.iter().any(|s| s.contains("VIEW")),
        "dropping an unused column leaves the view: {:#?}",
        up.statements
    );
    b.tables.get_mut("public.item").unwrap().columns[0].data_type = "bigint".into();
    let up = generate(&a, &b);
    assert!(up.statements[0].starts_with("DROP VIEW IF EXISTS \"public\".\"ids\""));
    assert!(
        up.statements
            .last()
            .unwrap()
            .starts_with("CREATE VIEW \"public\".\"ids\"")
    );
}

#[test]
fn a_table_dropped_and_one_of_the_same_columns_added_is_a_possible_rename() {
    let a = catalog(vec![table(
        "old_item",
        &[("id", "integer"), ("name", "text")],
    )]);
    let b = catalog(vec![table("item", &[("id", "integer"), ("name", "text")])]);
    let up = generate(&a, &b);
    assert!(
        up.statements[0].starts_with("-- possible rename: table old_item -> item"),
        "{:#?}",
        up.statements
    );
    assert!(up.statements[0].ends_with("RENAME TO \"item\";"));
    let c = catalog(vec![table("item", &[("id", "integer"), ("title", "text")])]);
    assert!(!generate(&a, &c).statements[0].starts_with("-- possible rename"));
}

#[test]
fn a_foreign_key_goes_before_the_unique_index_it_leans_on_and_comes_back_after() {
    use crate::catalog::{Constraint, QualifiedName};
    let with_index = |definition: &str| {
        let mut c = catalog(vec![
            table("team", &[("id", "integer"), ("code", "text")]),
            table("member", &[("code", "text")]),
        ]);
        c.indexes.insert(
            "public.team_code".into(),
            Index {
                schema: "public".into(),
                name: "team_code".into(),
                table: "public.team".into(),
                definition: definition.into(),
                ..Index::default()
            },
        );
        c.tables
            .get_mut("public.member")
            .unwrap()
            .constraints
            .insert(
                "member_code".into(),
                Constraint {
                    name: "member_code".into(),
                    kind: ConstraintKind::ForeignKey,
                    definition: "FOREIGN KEY (code) REFERENCES team(code)".into(),
                    index: Some(QualifiedName {
                        schema: "public".into(),
                        name: "team_code".into(),
                    }),
                    ..Constraint::default()
                },
            );
        c
    };
    let a = with_index("CREATE UNIQUE INDEX team_code ON public.team USING btree (code)");
    let b = with_index(
        "CREATE UNIQUE INDEX team_code ON public.team USING btree (code) NULLS NOT DISTINCT",
    );
    let up = generate(&a, &b).statements;
    let at = |needle: &str| {
        up.iter()
            .position(|s| s.contains(needle))
            .unwrap_or_else(|| panic!("{needle} in {up:#?}"))
    };
    assert!(at("DROP CONSTRAINT IF EXISTS \"member_code\"") < at("DROP INDEX"));
    assert!(at("DROP INDEX") < at("NULLS NOT DISTINCT"));
    assert!(at("NULLS NOT DISTINCT") < at("ADD CONSTRAINT \"member_code\""));
    let empty = Catalog::default();
    let built = generate(&empty, &a).statements;
    let index = built.iter().position(|s| s.contains("CREATE UNIQUE INDEX"));
    let key = built.iter().position(|s| s.contains("ADD CONSTRAINT"));
    assert!(index < key, "{built:#?}");
}

#[test]
fn a_not_null_column_with_nothing_to_fill_it_fails_on_a_table_with_rows() {
    let a = catalog(vec![table("item", &[("id", "integer")])]);
    let mut b = catalog(vec![table(
        "item",
        &[("id", "integer"), ("code", "text"), ("kept", "text")],
    )]);
    let item = b.tables.get_mut("public.item").unwrap();
    item.columns[1].not_null = true;
    item.columns[2].not_null = true;
    item.columns[2].default = Some("'k'::text".into());
    assert_eq!(
        tables_getting_unfilled_columns(&a, &b),
        [("public".to_string(), "item".to_string())]
    );
    assert_eq!(
        generate(&a, &b).destructive,
        [
            "add column item.code: NOT NULL without a default, and fails if item holds rows (the data was not looked at)"
        ]
    );
    let mut data = DataFacts::default();
    data.rows.insert("public.item".into(), true);
    assert!(
        generate_for(&a, &b, &data).destructive[0]
            .contains("item holds rows, so the migration fails")
    );
    data.rows.insert("public.item".into(), false);
    assert!(generate_for(&a, &b, &data).destructive.is_empty());
}

#[test]
fn a_nullable_column_is_not_a_rename_of_a_not_null_one_with_a_default() {
    let a = catalog(vec![table("item", &[("id", "integer"), ("note", "text")])]);
    let mut b = catalog(vec![table(
        "item",
        &[("id", "integer"), ("status", "text")],
    )]);
    let status = &mut b.tables.get_mut("public.item").unwrap().columns[1];
    status.not_null = true;
    status.default = Some("'new'::text".into());
    assert!(
        !generate(&a, &b)
            .statements
            .iter()
            .any(|s| s.contains("possible rename"))
    );
}

#[test]
fn a_quoted_enum_losing_a_label_converts_its_columns_however_format_type_spells_it() {
    use crate::catalog::Enum;
    for spelling in [
        "\"DocumentStatus\"",
        "public.\"DocumentStatus\"",
        "\"public\".\"DocumentStatus\"[]",
    ] {
        let with_labels = |labels: &[&str]| {
            let mut c = catalog(vec![table("doc", &[("status", spelling)])]);
            c.enums.insert(
                "public.DocumentStatus".into(),
                Enum {
                    schema: "public".into(),
                    name: "DocumentStatus".into(),
                    labels: labels.iter().map(|l| l.to_string()).collect(),
                    comment: None,
                },
            );
            c
        };
        let a = with_labels(&["DRAFT", "PUBLISHED", "ARCHIVED"]);
        let b = with_labels(&["DRAFT", "PUBLISHED"]);
        let up = generate(&a, &b).statements;
        assert!(
            up.iter()
                .any(|s| s.contains("ALTER COLUMN \"status\" TYPE \"public\".\"DocumentStatus\"")),
            "{spelling}: {up:#?}"
        );
    }
}

mod types;
