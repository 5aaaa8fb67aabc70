//! Reading row-level security policies, rules, event triggers and default privileges.
//!
//! Policies name their roles by name (`public` for PUBLIC), and default privileges of the
//! reading role leave it unnamed ([`DefaultPrivileges::role`]): two databases built by
//! the same SQL read the same whoever ran it.

use sqlx::{PgConnection, Row};

use super::{ReadOptions, qualified, rows};
use crate::catalog::{
    Catalog, DefaultObjects, DefaultPrivileges, EventTrigger, Policy, PolicyCommand, Rule,
};

const POLICIES: &str = concat!(
    "SELECT n.nspname AS schema, c.relname AS table, pol.polname AS name, \
     pol.polpermissive AS permissive, pol.polcmd::text AS command, \
     (SELECT coalesce(array_agg(x.name ORDER BY x.name), '{}') FROM ( \
        SELECT CASE WHEN r = 0 THEN 'public' ELSE pg_get_userbyid(r)::text END AS name \
        FROM unnest(pol.polroles) r) x) AS roles, \
     pg_get_expr(pol.polqual, pol.polrelid) AS using, \
     pg_get_expr(pol.polwithcheck, pol.polrelid) AS with_check, \
     obj_description(pol.oid, 'pg_policy') AS comment, ",
    depends_on!("pg_policy", "pol.oid"),
    " AS depends_on FROM pg_policy pol JOIN pg_class c ON c.oid = pol.polrelid \
     JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ",
    user_namespace!(),
    " AND ",
    not_in_extension!("pg_class", "c.oid"),
    " AND ",
    not_history_table!("c")
);

const RULES: &str = concat!(
    "SELECT n.nspname AS schema, c.relname AS relation, r.rulename AS name, \
     pg_get_ruledef(r.oid) AS definition, r.ev_enabled::text AS enabled, \
     obj_description(r.oid, 'pg_rewrite') AS comment, ",
    depends_on!("pg_rewrite", "r.oid"),
    " AS depends_on FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class \
     JOIN pg_namespace n ON n.oid = c.relnamespace WHERE r.rulename <> '_RETURN' AND ",
    user_namespace!(),
    " AND ",
    not_in_extension!("pg_class", "c.oid"),
    " AND ",
    not_history_table!("c")
);

const EVENT_TRIGGERS: &str = concat!(
    "SELECT et.evtname AS name, et.evtevent AS event, \
     coalesce(et.evttags, '{}') AS tags, \
     fn.nspname AS function_schema, fp.proname AS function_name, \
     et.evtenabled::text AS enabled, obj_description(et.oid, 'pg_event_trigger') AS comment \
     FROM pg_event_trigger et JOIN pg_proc fp ON fp.oid = et.evtfoid \
     JOIN pg_namespace fn ON fn.oid = fp.pronamespace WHERE ",
    not_in_extension!("pg_event_trigger", "et.oid"),
);

const DEFAULT_PRIVILEGES: &str = "SELECT CASE WHEN d.defaclrole <> \
       (SELECT oid FROM pg_roles WHERE rolname = current_user) \
       THEN pg_get_userbyid(d.defaclrole)::text END AS role, \
     n.nspname AS schema, d.defaclobjtype::text AS objects, \
     (SELECT coalesce(array_agg(a::text ORDER BY a::text), '{}') FROM unnest(d.defaclacl) a) \
       AS grants \
     FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace";

/// Reads the policies, rules, event triggers and default privileges into `catalog`.
pub(super) async fn read_security(
    conn: &mut PgConnection,
    options: &ReadOptions,
    catalog: &mut Catalog,
) -> Result<(), sqlx::Error> {
    for row in rows(conn, POLICIES, options).await? {
        let command: String = row.try_get("command")?;
        let p = Policy {
            schema: row.try_get("schema")?,
            table: row.try_get("table")?,
            name: row.try_get("name")?,
            permissive: row.try_get("permissive")?,
            command: policy_command(&command),
            roles: row.try_get("roles")?,
            using: row.try_get("using")?,
            with_check: row.try_get("with_check")?,
            comment: row.try_get("comment")?,
            depends_on: row.try_get("depends_on")?,
        };
        let key = format!("{}.{}", qualified(&p.schema, &p.table), p.name);
        catalog.policies.insert(key, p);
    }
    for row in rows(conn, RULES, options).await? {
        let r = Rule {
            schema: row.try_get("schema")?,
            relation: row.try_get("relation")?,
            name: row.try_get("name")?,
            definition: row.try_get("definition")?,
            enabled: row.try_get("enabled")?,
            comment: row.try_get("comment")?,
            depends_on: row.try_get("depends_on")?,
        };
        let key = format!("{}.{}", qualified(&r.schema, &r.relation), r.name);
        catalog.rules.insert(key, r);
    }
    for row in rows(conn, EVENT_TRIGGERS, options).await? {
        let e = EventTrigger {
            name: row.try_get("name")?,
            event: row.try_get("event")?,
            tags: row.try_get("tags")?,
            function_schema: row.try_get("function_schema")?,
            function_name: row.try_get("function_name")?,
            enabled: row.try_get("enabled")?,
            comment: row.try_get("comment")?,
        };
        catalog.event_triggers.insert(e.name.clone(), e);
    }
    for row in rows(conn, DEFAULT_PRIVILEGES, options).await? {
        let objects: String = row.try_get("objects")?;
        let d = DefaultPrivileges {
            role: row.try_get("role")?,
            schema: row.try_get("schema")?,
            objects: default_objects(&objects),
            grants: row.try_get("grants")?,
        };
        catalog.default_privileges.insert(d.key(), d);
    }
    Ok(())
}

/// `pg_policy.polcmd`.
fn policy_command(code: &str) -> PolicyCommand {
    match code {
        "r" => PolicyCommand::Select,
        "a" => PolicyCommand::Insert,
        "w" => PolicyCommand::Update,
        "d" => PolicyCommand::Delete,
        _ => PolicyCommand::All,
    }
}

/// `pg_default_acl.defaclobjtype`.
fn default_objects(code: &str) -> DefaultObjects {
    match code {
        "S" => DefaultObjects::Sequences,
        "f" => DefaultObjects::Functions,
        "T" => DefaultObjects::Types,
        "n" => DefaultObjects::Schemas,
        _ => DefaultObjects::Tables,
    }
}
