use super::*;
use crate::catalog::{ConstraintKind, Index, Schema};

const SIDES: Sides<'static> = Sides {
    expected: "the migrations",
    actual: "the database",
};

fn column(name: &str, data_type: &str) -> Column {
    Column {
        name: name.to_string(),
        data_type: data_type.to_string(),
        ..Column::default()
    }
}

fn item() -> Table {
    Table {
        schema: "public".into(),
        name: "item".into(),
        kind: TableKind::Table,
        columns: vec![column("id", "integer"), column("name", "text")],
        constraints: BTreeMap::from([(
            "item_pkey".to_string(),
            Constraint {
                name: "item_pkey".into(),
                kind: ConstraintKind::PrimaryKey,
                definition: "PRIMARY KEY (id)".into(),
                comment: None,
                inherited: false,
                index: None,
            },
        )]),
        ..Table::default()
    }
}

fn function(body: &str) -> Function {
    Function {
        schema: "public".into(),
        name: "f".into(),
        arguments: "integer".into(),
        kind: RoutineKind::Function,
        result: Some("integer".into()),
        language: "sql".into(),
        body: body.into(),
        definition: Some(format!(
            "CREATE OR REPLACE FUNCTION public.f(integer)\n RETURNS integer\n LANGUAGE sql\nAS $function${body}$function$\n"
        )),
        ..Function::default()
    }
}

fn catalog() -> Catalog {
    let mut catalog = Catalog::default();
    catalog.schemas.insert(
        "public".into(),
        Schema {
            name: "public".into(),
            ..Schema::default()
        },
    );
    catalog.tables.insert("public.item".into(), item());
    catalog.indexes.insert(
        "public.item_name_idx".into(),
        Index {
            schema: "public".into(),
            name: "item_name_idx".into(),
            table: "public.item".into(),
            definition: "CREATE INDEX item_name_idx ON public.item USING btree (name)".into(),
            comment: None,
            inherited: false,
        },
    );
    catalog
        .functions
        .insert("public.f(integer)".into(), function("SELECT $1 + 1"));
    catalog
}

fn described(expected: &Catalog, actual: &Catalog) -> Vec<String> {
    diff(expected, actual)
        .iter()
        .map(|d| d.describe(SIDES))
        .collect()
}

#[test]
fn equal_catalogs_have_no_difference() {
    assert_eq!(diff(&catalog(), &catalog()), Vec::new());
    assert_eq!(diff(&Catalog::default(), &Catalog::default()), Vec::new());
}

#[test]
fn names_an_added_column_a_dropped_index_and_a_changed_body() {
    let expected = catalog();
    let mut actual = catalog();
    let table = actual.tables.get_mut("public.item").unwrap();
    table.columns.push(column("sneaky", "text"));
    actual.indexes.remove("public.item_name_idx");
    actual
        .functions
        .insert("public.f(integer)".into(), function("SELECT $1 + 2"));
    assert_eq!(
        described(&expected, &actual),
        [
            "column item.sneaky: present in the database, not in the migrations",
            "index item_name_idx: in the migrations, not in the database",
            "function f(integer): body differs: SELECT $1 + 2 in the database, SELECT $1 + 1 in the migrations",
        ]
    );
    let differences = diff(&expected, &actual);
    assert_eq!(differences[0].key, "public.item.sneaky");
    assert_eq!(differences[0].kind, ObjectKind::Column);
    assert_eq!(differences[2].key, "public.f(integer)");
}

#[test]
fn a_changed_column_names_each_aspect_with_both_values() {
    let expected = catalog();
    let mut actual = catalog();
    let id = &mut actual.tables.get_mut("public.item").unwrap().columns[0];
    id.data_type = "bigint".into();
    id.not_null = true;
    id.default = Some("42".into());
    assert_eq!(
        described(&expected, &actual),
        [
            "column item.id: type differs: bigint in the database, integer in the migrations",
            "column item.id: not null differs: true in the database, false in the migrations",
            "column item.id: default differs: 42 in the database, none in the migrations",
        ]
    );
}

#[test]
fn a_missing_table_is_one_difference_not_one_per_column() {
    let expected = catalog();
    let mut actual = catalog();
    actual.tables.clear();
    assert_eq!(
        described(&expected, &actual),
        ["table item: in the migrations, not in the database"]
    );
}

#[test]
fn long_values_are_not_quoted_but_kept_in_the_difference() {
    let expected = catalog();
    let mut actual = catalog();
    let long = "SELECT ".to_string() + &"x + ".repeat(30) + "1";
    actual
        .functions
        .insert("public.f(integer)".into(), function(&long));
    let differences = diff(&expected, &actual);
    assert_eq!(
        differences[0].describe(SIDES),
        "function f(integer): body differs"
    );
    assert_eq!(
        differences[0].change,
        Change::Changed {
            aspect: "body".into(),
            expected: "SELECT $1 + 1".into(),
            actual: long,
        }
    );
}

#[test]
fn other_schemas_keep_their_name_and_json_is_flat() {
    let mut expected = catalog();
    let mut table = item();
    table.schema = "audit".into();
    expected.tables.insert("audit.item".into(), table);
    let differences = diff(&expected, &catalog());
    assert_eq!(
        differences[0].describe(SIDES),
        "table audit.item: in the migrations, not in the database"
    );
    let json = serde_json::to_value(&differences[0]).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"kind": "table", "key": "audit.item", "change": "missing"})
    );
}

#[test]
fn triggers_constraints_and_view_kinds_are_compared() {
    let mut expected = catalog();
    let trigger = Trigger {
        name: "touch".into(),
        definition: "CREATE TRIGGER touch BEFORE UPDATE ON public.item FOR EACH ROW EXECUTE FUNCTION touch()".into(),
        enabled: "O".into(),
        comment: None,
    };
    expected
        .tables
        .get_mut("public.item")
        .unwrap()
        .triggers
        .insert("touch".into(), trigger.clone());
    expected.views.insert(
        "public.totals".into(),
        View {
            schema: "public".into(),
            name: "totals".into(),
            materialized: true,
            definition: " SELECT count(*) AS count\n   FROM item;".into(),
            ..View::default()
        },
    );
    let mut actual = catalog();
    let table = actual.tables.get_mut("public.item").unwrap();
    let mut disabled = trigger;
    disabled.enabled = "D".into();
    table.triggers.insert("touch".into(), disabled);
    table.constraints.clear();
    assert_eq!(
        described(&expected, &actual),
        [
            "constraint item.item_pkey: in the migrations, not in the database",
            "trigger item.touch: enabled differs: D in the database, O in the migrations",
            "materialized view totals: in the migrations, not in the database",
        ]
    );
}

#[test]
fn domains_composite_types_and_statistics_are_named_with_their_members() {
    use crate::catalog::{Attribute, Composite, Domain, DomainConstraint, Statistics};
    let mut expected = catalog();
    let check = DomainConstraint {
        name: "email_at".into(),
        definition: "CHECK ((VALUE ~~ '%@%'::text))".into(),
        comment: None,
    };
    expected.domains.insert(
        "public.email".into(),
        Domain {
            schema: "public".into(),
            name: "email".into(),
            base_type: "text".into(),
            constraints: BTreeMap::from([("email_at".to_string(), check.clone())]),
            ..Domain::default()
        },
    );
    let attribute = |name: &str, data_type: &str| Attribute {
        name: name.into(),
        data_type: data_type.into(),
        ..Attribute::default()
    };
    expected.composites.insert(
        "public.pair".into(),
        Composite {
            schema: "public".into(),
            name: "pair".into(),
            attributes: vec![attribute("a", "integer"), attribute("b", "text")],
            comment: None,
        },
    );
    expected.statistics.insert(
        "public.item_stats".into(),
        Statistics {
            schema: "public".into(),
            name: "item_stats".into(),
            table_schema: "public".into(),
            table: "item".into(),
            definition: "CREATE STATISTICS public.item_stats ON id, name FROM item".into(),
            target: None,
            comment: None,
        },
    );
    // A domain and its check, a type and its two attributes, the statistics.
    assert_eq!(expected.object_count(), catalog().object_count() + 6);
    let mut actual = expected.clone();
    let email = actual.domains.get_mut("public.email").unwrap();
    email.not_null = true;
    email.constraints.clear();
    email.constraints.insert(
        "email_short".into(),
        DomainConstraint {
            name: "email_short".into(),
            ..check
        },
    );
    let pair = actual.composites.get_mut("public.pair").unwrap();
    pair.attributes.reverse();
    pair.attributes.push(attribute("c", "bigint"));
    actual
        .statistics
        .get_mut("public.item_stats")
        .unwrap()
        .target = Some(500);
    assert_eq!(
        described(&expected, &actual),
        [
            "domain email: not null differs: true in the database, false in the migrations",
            "domain constraint email.email_at: in the migrations, not in the database",
            "domain constraint email.email_short: present in the database, not in the migrations",
            "attribute pair.c: present in the database, not in the migrations",
            "statistics item_stats: statistics target differs: 500 in the database, default in the migrations",
        ]
    );
    // Only the order of the same attributes is an aspect of the type.
    actual
        .composites
        .get_mut("public.pair")
        .unwrap()
        .attributes
        .pop();
    assert_eq!(
        described(&expected, &actual)[3],
        "composite type pair: attribute order differs: [b, a] in the database, [a, b] in the migrations"
    );
}

#[test]
fn storage_settings_of_tables_and_columns_are_compared() {
    let expected = catalog();
    let mut actual = catalog();
    let table = actual.tables.get_mut("public.item").unwrap();
    table.storage_parameters = vec!["fillfactor=50".into()];
    table.columns[1].storage = Some("external".into());
    table.columns[1].statistics_target = Some(500);
    table.columns[1].compression = Some("pglz".into());
    assert_eq!(
        described(&expected, &actual),
        [
            "table item: storage parameters differs: [fillfactor=50] in the database, [] in the migrations",
            "column item.name: statistics target differs: 500 in the database, default in the migrations",
            "column item.name: storage differs: external in the database, none in the migrations",
            "column item.name: compression differs: pglz in the database, none in the migrations",
        ]
    );
}
