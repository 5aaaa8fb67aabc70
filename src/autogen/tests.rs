use super::*;
use crate::catalog::{Column, Table};

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
fn a_type_change_casts_and_is_destructive() {
    let a = catalog(vec![table("item", &[("n", "integer")])]);
    let b = catalog(vec![table("item", &[("n", "bigint")])]);
    let up = generate(&a, &b);
    assert_eq!(
        up.statements,
        ["ALTER TABLE \"public\".\"item\" ALTER COLUMN \"n\" TYPE bigint USING \"n\"::bigint;"]
    );
    assert_eq!(up.destructive.len(), 1);
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

#[test]
fn names_are_found_as_whole_words() {
    assert!(mentions("SELECT id FROM item WHERE x", "item"));
    assert!(!mentions("SELECT id FROM items", "item"));
    assert!(!mentions("SELECT my_item.id", "item"));
    assert!(mentions("public.item.id", "item"));
}
