use super::*;
use crate::autogen::generate;
use crate::catalog::{Function, PolicyCommand, RoutineKind, Table};

fn catalog_with(policies: &[Policy]) -> Catalog {
    let mut c = Catalog::default();
    c.tables.insert(
        "public.item".into(),
        Table {
            schema: "public".into(),
            name: "item".into(),
            row_security: true,
            ..Table::default()
        },
    );
    for p in policies {
        c.policies
            .insert(format!("{}.{}.{}", p.schema, p.table, p.name), p.clone());
    }
    c
}

fn policy(roles: &[&str], using: Option<&str>, check: Option<&str>) -> Policy {
    Policy {
        schema: "public".into(),
        table: "item".into(),
        name: "p".into(),
        permissive: true,
        command: PolicyCommand::All,
        roles: roles.iter().map(|r| r.to_string()).collect(),
        using: using.map(str::to_string),
        with_check: check.map(str::to_string),
        depends_on: vec!["public.item".into()],
        ..Policy::default()
    }
}

#[test]
fn a_policy_is_created_with_every_clause_and_public_unquoted() {
    let p = Policy {
        permissive: false,
        command: PolicyCommand::Update,
        ..policy(&["public", "Odd"], Some("(id > 0)"), Some("true"))
    };
    assert_eq!(
        create_policy(&p),
        "CREATE POLICY \"p\" ON \"public\".\"item\" AS RESTRICTIVE FOR UPDATE TO PUBLIC, \"Odd\" USING ((id > 0)) WITH CHECK (true);"
    );
}

#[test]
fn roles_and_expressions_are_altered_in_place() {
    let from = catalog_with(&[policy(&["reader"], Some("(id > 0)"), None)]);
    let to = catalog_with(&[policy(&["reader", "writer"], Some("true"), Some("true"))]);
    assert_eq!(
        generate(&from, &to).statements,
        [
            "ALTER POLICY \"p\" ON \"public\".\"item\" TO \"reader\", \"writer\" USING (true) WITH CHECK (true);"
        ]
    );
}

#[test]
fn a_lost_expression_or_another_command_drops_and_creates_again() {
    let from = catalog_with(&[policy(&["public"], Some("true"), Some("true"))]);
    let to = catalog_with(&[policy(&["public"], Some("true"), None)]);
    assert_eq!(
        generate(&from, &to).statements,
        [
            "DROP POLICY IF EXISTS \"p\" ON \"public\".\"item\";",
            "CREATE POLICY \"p\" ON \"public\".\"item\" AS PERMISSIVE FOR ALL TO PUBLIC USING (true);",
        ]
    );
    let to = catalog_with(&[Policy {
        command: PolicyCommand::Select,
        ..policy(&["public"], Some("true"), Some("true"))
    }]);
    assert_eq!(generate(&from, &to).statements.len(), 2);
}

#[test]
fn a_policy_over_a_function_created_again_is_dropped_before_it() {
    let function = |result: &str| Function {
        schema: "public".into(),
        name: "tenant".into(),
        kind: RoutineKind::Function,
        result: Some(result.into()),
        language: "sql".into(),
        definition: Some(format!(
            "CREATE OR REPLACE FUNCTION public.tenant() RETURNS {result} LANGUAGE sql AS $$ SELECT 1 $$"
        )),
        ..Function::default()
    };
    let mut p = policy(&["public"], Some("(tenant() = 1)"), None);
    p.depends_on.push("public.tenant()".into());
    let mut from = catalog_with(std::slice::from_ref(&p));
    from.functions
        .insert("public.tenant()".into(), function("integer"));
    let mut to = catalog_with(&[p]);
    to.functions
        .insert("public.tenant()".into(), function("bigint"));
    let statements = generate(&from, &to).statements;
    let at = |prefix: &str| statements.iter().position(|s| s.starts_with(prefix));
    assert!(at("DROP POLICY") < at("DROP FUNCTION"), "{statements:#?}");
    assert!(
        at("CREATE OR REPLACE FUNCTION") < at("CREATE POLICY"),
        "{statements:#?}"
    );
}

#[test]
fn force_is_set_apart_from_enable() {
    let from = catalog_with(&[]);
    let mut to = from.clone();
    to.tables.get_mut("public.item").unwrap().force_row_security = true;
    assert_eq!(
        generate(&from, &to).statements,
        ["ALTER TABLE \"public\".\"item\" FORCE ROW LEVEL SECURITY;"]
    );
    assert_eq!(
        generate(&to, &from).statements,
        ["ALTER TABLE \"public\".\"item\" NO FORCE ROW LEVEL SECURITY;"]
    );
}

fn defaults(role: Option<&str>, schema: Option<&str>, grants: &[&str]) -> DefaultPrivileges {
    DefaultPrivileges {
        role: role.map(str::to_string),
        schema: schema.map(str::to_string),
        objects: DefaultObjects::Tables,
        grants: grants.iter().map(|g| g.to_string()).collect(),
    }
}

#[test]
fn default_privileges_compare_with_the_built_in_ones_or_nothing_in_a_schema() {
    let global = defaults(None, None, &["app=arwdDxtm/app", "reader=r/app"]);
    assert_eq!(
        default_privilege_statements(None, Some(&global), None, 170000),
        ["ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO \"reader\";"]
    );
    assert_eq!(
        default_privilege_statements(Some(&global), None, None, 170000),
        ["ALTER DEFAULT PRIVILEGES REVOKE SELECT ON TABLES FROM \"reader\";"]
    );
    let in_schema = defaults(Some("ops"), Some("app"), &["reader=r*/ops"]);
    assert_eq!(
        default_privilege_statements(None, Some(&in_schema), None, 170000),
        [
            "ALTER DEFAULT PRIVILEGES FOR ROLE \"ops\" IN SCHEMA \"app\" GRANT SELECT ON TABLES TO \"reader\" WITH GRANT OPTION;"
        ]
    );
    let types = DefaultPrivileges {
        objects: DefaultObjects::Types,
        ..defaults(None, None, &["app=U/app"])
    };
    assert_eq!(
        default_privilege_statements(None, Some(&types), None, 170000),
        ["ALTER DEFAULT PRIVILEGES REVOKE USAGE ON TYPES FROM PUBLIC;"]
    );
}

#[test]
fn a_new_table_starts_with_the_default_privileges_already_set() {
    let mut from = Catalog::default();
    from.default_privileges.insert(
        "on tables".into(),
        defaults(None, None, &["app=arwdDxtm/app", "reader=r/app"]),
    );
    from.default_privileges.insert(
        "in schema app on tables".into(),
        defaults(None, Some("app"), &["writer=a/app"]),
    );
    assert_eq!(
        created_grants(&from, AclKind::Relation, Some("app"), "app", 170000),
        ["app=arwdDxtm/app", "reader=r/app", "writer=a/app"]
    );
    assert_eq!(
        created_grants(&from, AclKind::Routine, Some("app"), "app", 170000),
        ["app=X/app", "=X/app"]
    );
}

#[test]
fn event_triggers_come_after_their_function_and_go_before_it() {
    let mut to = Catalog::default();
    to.functions.insert(
        "public.note()".into(),
        Function {
            schema: "public".into(),
            name: "note".into(),
            kind: RoutineKind::Function,
            result: Some("event_trigger".into()),
            language: "plpgsql".into(),
            definition: Some("CREATE OR REPLACE FUNCTION public.note() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN END $$".into()),
            ..Function::default()
        },
    );
    to.event_triggers.insert(
        "e".into(),
        EventTrigger {
            name: "e".into(),
            event: "ddl_command_end".into(),
            tags: vec!["CREATE TABLE".into()],
            function_schema: "public".into(),
            function_name: "note".into(),
            enabled: "D".into(),
            comment: None,
        },
    );
    let up = generate(&Catalog::default(), &to).statements;
    assert_eq!(
        up[1..],
        [
            "CREATE EVENT TRIGGER \"e\" ON \"ddl_command_end\" WHEN TAG IN ('CREATE TABLE') EXECUTE FUNCTION \"public\".\"note\"();",
            "ALTER EVENT TRIGGER \"e\" DISABLE;",
        ]
    );
    let down = generate(&to, &Catalog::default()).statements;
    assert_eq!(down[0], "DROP EVENT TRIGGER IF EXISTS \"e\";");
    assert!(down[1].starts_with("DROP FUNCTION"), "{down:#?}");
}
