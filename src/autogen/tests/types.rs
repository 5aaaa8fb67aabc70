//! Domains, composite types, extended statistics and storage settings.

use super::{catalog, table};
use crate::autogen::generate;
use crate::catalog::{Attribute, Catalog, Composite, Domain, DomainConstraint, Statistics};

fn domain(name: &str, base_type: &str) -> Domain {
    Domain {
        schema: "public".into(),
        name: name.into(),
        base_type: base_type.into(),
        ..Domain::default()
    }
}

fn composite(name: &str, attributes: &[(&str, &str)]) -> Composite {
    Composite {
        schema: "public".into(),
        name: name.into(),
        attributes: attributes
            .iter()
            .map(|(n, t)| Attribute {
                name: (*n).into(),
                data_type: (*t).into(),
                ..Attribute::default()
            })
            .collect(),
        comment: None,
    }
}

fn with_types(mut c: Catalog, domains: Vec<Domain>, composites: Vec<Composite>) -> Catalog {
    for d in domains {
        c.domains.insert(format!("public.{}", d.name), d);
    }
    for t in composites {
        c.composites.insert(format!("public.{}", t.name), t);
    }
    c
}

fn position(statements: &[String], start: &str) -> usize {
    statements
        .iter()
        .position(|s| s.starts_with(start))
        .unwrap_or_else(|| panic!("no statement starting {start:?} in {statements:#?}"))
}

#[test]
fn types_come_before_the_tables_using_them_each_after_what_it_is_built_on() {
    let mut zip = domain("zip", "short");
    zip.not_null = true;
    zip.default = Some("'00000'::text".into());
    zip.constraints.insert(
        "zip_digits".into(),
        DomainConstraint {
            name: "zip_digits".into(),
            definition: "CHECK ((VALUE ~ '^[0-9]+$'::text))".into(),
            comment: Some("digits only".into()),
        },
    );
    let to = with_types(
        catalog(vec![table("home", &[("id", "integer"), ("at", "place")])]),
        vec![zip, domain("short", "character varying(10)")],
        vec![composite("place", &[("city", "text"), ("zip", "zip")])],
    );
    let up = generate(&Catalog::default(), &to);
    let s = &up.statements;
    assert!(
        position(s, "CREATE DOMAIN \"public\".\"short\"")
            < position(s, "CREATE DOMAIN \"public\".\"zip\"")
    );
    assert!(
        position(s, "CREATE DOMAIN \"public\".\"zip\"")
            < position(s, "CREATE TYPE \"public\".\"place\"")
    );
    assert!(position(s, "CREATE TYPE \"public\".\"place\"") < position(s, "CREATE TABLE"));
    assert!(s.contains(
        &"CREATE DOMAIN \"public\".\"zip\" AS short DEFAULT '00000'::text NOT NULL\n    CONSTRAINT \"zip_digits\" CHECK ((VALUE ~ '^[0-9]+$'::text));"
            .to_string()
    ));
    assert!(
        s.contains(
            &"COMMENT ON CONSTRAINT \"zip_digits\" ON DOMAIN \"public\".\"zip\" IS 'digits only';"
                .to_string()
        )
    );
    let down = generate(&to, &Catalog::default());
    let s = &down.statements;
    assert!(position(s, "DROP TABLE") < position(s, "DROP TYPE IF EXISTS \"public\".\"place\""));
    assert!(
        position(s, "DROP TYPE IF EXISTS \"public\".\"place\"")
            < position(s, "DROP DOMAIN IF EXISTS \"public\".\"zip\"")
    );
    assert!(
        position(s, "DROP DOMAIN IF EXISTS \"public\".\"zip\"")
            < position(s, "DROP DOMAIN IF EXISTS \"public\".\"short\"")
    );
}

#[test]
fn a_domain_is_altered_in_place_and_a_new_base_type_is_left_by_hand() {
    let mut old = domain("qty", "integer");
    old.constraints.insert(
        "qty_positive".into(),
        DomainConstraint {
            name: "qty_positive".into(),
            definition: "CHECK ((VALUE > 0))".into(),
            comment: None,
        },
    );
    let mut new = old.clone();
    new.not_null = true;
    new.default = Some("1".into());
    new.constraints.get_mut("qty_positive").unwrap().definition = "CHECK ((VALUE > 1))".into();
    let from = with_types(Catalog::default(), vec![old], vec![]);
    let to = with_types(Catalog::default(), vec![new.clone()], vec![]);
    let up = generate(&from, &to);
    assert_eq!(
        up.statements,
        [
            "ALTER DOMAIN \"public\".\"qty\" SET DEFAULT 1;",
            "ALTER DOMAIN \"public\".\"qty\" SET NOT NULL;",
            "ALTER DOMAIN \"public\".\"qty\" DROP CONSTRAINT IF EXISTS \"qty_positive\";",
            "ALTER DOMAIN \"public\".\"qty\" ADD CONSTRAINT \"qty_positive\" CHECK ((VALUE > 1));",
        ]
    );
    assert_eq!(
        up.destructive,
        ["set not null on domain qty: fails if a column of it holds null"]
    );
    new.base_type = "bigint".into();
    let to = with_types(Catalog::default(), vec![new], vec![]);
    assert!(generate(&from, &to).skipped[0].starts_with("domain qty: integer -> bigint"));
}

#[test]
fn composite_attributes_are_added_at_the_end_retyped_unless_stored_and_dropped() {
    let from = with_types(
        Catalog::default(),
        vec![],
        vec![composite("pair", &[("a", "integer"), ("b", "text")])],
    );
    let to = with_types(
        Catalog::default(),
        vec![],
        vec![composite("pair", &[("a", "bigint"), ("c", "text")])],
    );
    let up = generate(&from, &to);
    assert_eq!(
        up.statements,
        [
            "ALTER TYPE \"public\".\"pair\" DROP ATTRIBUTE IF EXISTS \"b\";",
            "ALTER TYPE \"public\".\"pair\" ALTER ATTRIBUTE \"a\" TYPE bigint;",
            "ALTER TYPE \"public\".\"pair\" ADD ATTRIBUTE \"c\" text;",
        ]
    );
    assert_eq!(up.destructive, ["drop attribute pair.b"]);
    // Stored in a column, the attribute cannot be retyped; in a new order, neither.
    let stored = |c: Catalog| {
        let mut c = c;
        let t = table("holder", &[("p", "pair")]);
        c.tables.insert("public.holder".into(), t);
        c
    };
    let up = generate(&stored(from.clone()), &stored(to));
    assert!(
        up.skipped[0]
            .contains("attribute a integer -> bigint while a table column stores the type")
    );
    let reordered = with_types(
        Catalog::default(),
        vec![],
        vec![composite("pair", &[("b", "text"), ("a", "integer")])],
    );
    let up = generate(&from, &reordered);
    assert!(up.statements.is_empty());
    assert!(up.skipped[0].contains("change order"));
}

#[test]
fn statistics_and_storage_settings_are_set_and_reset() {
    let mut old = table("item", &[("id", "integer"), ("body", "text")]);
    old.storage_parameters = vec!["autovacuum_enabled=false".into(), "fillfactor=90".into()];
    old.columns[1].storage = Some("external".into());
    let mut new = old.clone();
    new.storage_parameters = vec![
        "fillfactor=50".into(),
        "toast.autovacuum_enabled=false".into(),
    ];
    new.columns[0].statistics_target = Some(500);
    new.columns[1].storage = None;
    new.columns[1].compression = Some("pglz".into());
    let mut from = catalog(vec![old]);
    let stats = Statistics {
        schema: "public".into(),
        name: "item_stats".into(),
        table_schema: "public".into(),
        table: "item".into(),
        definition: "CREATE STATISTICS public.item_stats (ndistinct) ON id, body FROM item".into(),
        target: None,
        comment: None,
    };
    from.statistics
        .insert("public.item_stats".into(), stats.clone());
    let mut to = catalog(vec![new]);
    let mut changed = stats;
    changed.definition = changed.definition.replace("ndistinct", "mcv");
    changed.target = Some(200);
    to.statistics.insert("public.item_stats".into(), changed);
    let up = generate(&from, &to);
    assert_eq!(
        up.statements,
        [
            "DROP STATISTICS IF EXISTS \"public\".\"item_stats\";",
            "ALTER TABLE \"public\".\"item\" RESET (autovacuum_enabled);",
            "ALTER TABLE \"public\".\"item\" SET (fillfactor = '50', toast.autovacuum_enabled = 'false');",
            "ALTER TABLE \"public\".\"item\" ALTER COLUMN \"id\" SET STATISTICS 500;",
            "ALTER TABLE \"public\".\"item\" ALTER COLUMN \"body\" SET STORAGE DEFAULT;",
            "ALTER TABLE \"public\".\"item\" ALTER COLUMN \"body\" SET COMPRESSION pglz;",
            "CREATE STATISTICS public.item_stats (mcv) ON id, body FROM item;",
            "ALTER STATISTICS \"public\".\"item_stats\" SET STATISTICS 200;",
        ]
    );
    let down = generate(&to, &from);
    assert!(down.statements.contains(
        &"ALTER TABLE \"public\".\"item\" ALTER COLUMN \"id\" SET STATISTICS -1;".to_string()
    ));
    assert!(down.statements.contains(
        &"ALTER TABLE \"public\".\"item\" ALTER COLUMN \"body\" SET STORAGE EXTERNAL;".to_string()
    ));
}

#[test]
fn a_range_type_is_created_before_its_users_and_changed_by_hand() {
    use crate::catalog::Range;
    let range = Range {
        schema: "public".into(),
        name: "floatrange".into(),
        subtype: "double precision".into(),
        definition: "SUBTYPE = double precision, SUBTYPE_DIFF = float8mi, MULTIRANGE_TYPE_NAME = public.floatmultirange".into(),
        canonical: false,
        comment: None,
    };
    let mut to = catalog(vec![table("span", &[("r", "floatrange")])]);
    to.ranges.insert("public.floatrange".into(), range.clone());
    let up = generate(&Catalog::default(), &to);
    assert!(
        position(
            &up.statements,
            "CREATE TYPE \"public\".\"floatrange\" AS RANGE (SUBTYPE = double precision, SUBTYPE_DIFF"
        ) < position(&up.statements, "CREATE TABLE")
    );
    let down = generate(&to, &Catalog::default());
    assert!(
        position(&down.statements, "DROP TABLE")
            < position(
                &down.statements,
                "DROP TYPE IF EXISTS \"public\".\"floatrange\""
            )
    );
    let mut changed = to.clone();
    changed
        .ranges
        .get_mut("public.floatrange")
        .unwrap()
        .definition = range.definition.replace(", SUBTYPE_DIFF = float8mi", "");
    let up = generate(&to, &changed);
    assert!(up.statements.is_empty());
    assert!(up.skipped[0].starts_with("range type floatrange:"));
}

#[test]
fn a_domain_calling_a_function_comes_after_it_and_goes_before_it() {
    let mut code = domain("code", "text");
    code.depends_on = vec!["public.is_code(t text)".into()];
    let mut to = with_types(
        catalog(vec![table("item", &[("c", "code")])]),
        vec![code],
        vec![],
    );
    let f = crate::catalog::Function {
        schema: "public".into(),
        name: "is_code".into(),
        arguments: "t text".into(),
        definition: Some("CREATE OR REPLACE FUNCTION public.is_code(t text) ...".into()),
        ..crate::catalog::Function::default()
    };
    to.functions.insert("public.is_code(t text)".into(), f);
    let up = generate(&Catalog::default(), &to);
    let s = &up.statements;
    assert!(
        position(s, "CREATE OR REPLACE FUNCTION public.is_code") < position(s, "CREATE DOMAIN")
    );
    assert!(position(s, "CREATE DOMAIN") < position(s, "CREATE TABLE"));
    let down = generate(&to, &Catalog::default());
    let s = &down.statements;
    assert!(position(s, "DROP TABLE") < position(s, "DROP DOMAIN"));
    assert!(position(s, "DROP DOMAIN") < position(s, "DROP FUNCTION"));
}
