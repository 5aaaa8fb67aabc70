use super::*;
use crate::catalog::{Column, Function, Index, Table, View};

fn table(name: &str, columns: &[(&str, &str)]) -> Table {
    Table {
        schema: "public".into(),
        name: name.into(),
        kind: "table".into(),
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
        kind: "function".into(),
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
