//! GRANT and REVOKE statements for the difference between two access lists.
//!
//! The catalog holds an object's grants as `aclitem` text (`grantee=privileges/grantor`,
//! an empty grantee for PUBLIC, `*` after a privilege letter for its grant option). A new
//! object starts with what Postgres gives every object of its kind (its owner holds every
//! privilege; functions and procedures can also be executed by PUBLIC), so that is what
//! its declared grants are compared with.
//!
//! [`Gen::grants`] writes the statements for every object of the new catalog, last in
//! the script, once every object they name exists.

use std::collections::BTreeMap;

use super::security::created_grants;
use super::tables::regenerated_columns;
use super::views::function_signature;
use super::{Gen, qualified, table_name};
use crate::catalog::{AclItem, Catalog, RoutineKind};
use crate::pg::quote_ident;

/// Privilege letters in the order Postgres prints them, with their SQL names.
const PRIVILEGES: &[(char, &str)] = &[
    ('a', "INSERT"),
    ('r', "SELECT"),
    ('w', "UPDATE"),
    ('d', "DELETE"),
    ('D', "TRUNCATE"),
    ('x', "REFERENCES"),
    ('t', "TRIGGER"),
    ('m', "MAINTAIN"),
    ('X', "EXECUTE"),
    ('U', "USAGE"),
    ('C', "CREATE"),
    ('T', "TEMPORARY"),
    ('c', "CONNECT"),
];

/// What an object is, for the privileges a new one starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum AclKind {
    Schema,
    /// Tables, views and materialized views.
    Relation,
    Sequence,
    /// Functions, procedures and aggregates.
    Routine,
}

/// The owner of an object, as the grantor of its grants (Postgres records the owner as
/// the grantor of what the owner or a superuser grants).
pub(super) fn owner_of(grants: &[String]) -> Option<String> {
    grants.first().map(|item| AclItem::parse(item).grantor)
}

/// The grants a new object of `kind` owned by `owner` starts with, as `aclitem` text.
/// `server_version` is `server_version_num` (0 when unknown: the newest is assumed).
pub(super) fn default_grants(kind: AclKind, owner: &str, server_version: u32) -> Vec<String> {
    let owner_privileges = match kind {
        AclKind::Schema => "UC",
        // MAINTAIN (`m`) exists from Postgres 17.
        AclKind::Relation if (1..170000).contains(&server_version) => "arwdDxt",
        AclKind::Relation => "arwdDxtm",
        AclKind::Sequence => "rwU",
        AclKind::Routine => "X",
    };
    let quoted = quote_role(owner);
    let mut items = vec![format!("{quoted}={owner_privileges}/{quoted}")];
    if kind == AclKind::Routine {
        items.push(format!("=X/{quoted}"));
    }
    items
}

/// A role name as `aclitem` text writes it.
pub(super) fn quote_role(name: &str) -> String {
    let plain = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '$');
    if plain {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// Per grantee, each privilege and whether it comes with grant option (held from any
/// grantor: `GRANT` can only record the current user, so grantors are not compared).
fn held(grants: &[String]) -> BTreeMap<String, BTreeMap<char, bool>> {
    let mut held: BTreeMap<String, BTreeMap<char, bool>> = BTreeMap::new();
    for item in grants.iter().map(|g| AclItem::parse(g)) {
        let privileges = held.entry(item.grantee).or_default();
        for (letter, option) in item.privileges {
            let entry = privileges.entry(letter).or_insert(false);
            *entry |= option;
        }
    }
    held
}

fn grantee_sql(grantee: &str) -> String {
    if grantee.is_empty() {
        "PUBLIC".to_string()
    } else {
        quote_ident(grantee)
    }
}

/// `SELECT, UPDATE` (or `SELECT ("c")` for a column) for the letters given, in the order
/// Postgres prints them.
fn privilege_list(letters: &[char], column: Option<&str>) -> String {
    let suffix = column.map_or_else(String::new, |c| format!(" ({})", quote_ident(c)));
    PRIVILEGES
        .iter()
        .filter(|(letter, _)| letters.contains(letter))
        .map(|(_, name)| format!("{name}{suffix}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The statements that take `target` (`TABLE "public"."item"`, `SCHEMA "app"`, ...; for a
/// column its table, with `column` set) from the grants `from` to the grants `to`:
/// revokes first, then grants.
pub(super) fn statements(
    target: &str,
    column: Option<&str>,
    from: &[String],
    to: &[String],
) -> Vec<String> {
    let (before, after) = (held(from), held(to));
    let none = BTreeMap::new();
    let grantees: std::collections::BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    let mut revokes = Vec::new();
    let mut grants = Vec::new();
    for grantee in grantees {
        let was = before.get(grantee).unwrap_or(&none);
        let now = after.get(grantee).unwrap_or(&none);
        let who = grantee_sql(grantee);
        let pick = |test: &dyn Fn(Option<&bool>, Option<&bool>) -> bool| -> Vec<char> {
            PRIVILEGES
                .iter()
                .map(|(letter, _)| *letter)
                .filter(|letter| test(was.get(letter), now.get(letter)))
                .collect()
        };
        // Revoking what was held with grant option also takes what was granted on from it.
        let cascade = |letters: &[char]| {
            if letters.iter().any(|l| was.get(l) == Some(&true)) {
                " CASCADE"
            } else {
                ""
            }
        };
        let gone = pick(&|w, n| w.is_some() && n.is_none());
        if !gone.is_empty() {
            revokes.push(format!(
                "REVOKE {} ON {target} FROM {who}{};",
                privilege_list(&gone, column),
                cascade(&gone)
            ));
        }
        let option_gone = pick(&|w, n| w == Some(&true) && n == Some(&false));
        if !option_gone.is_empty() {
            revokes.push(format!(
                "REVOKE GRANT OPTION FOR {} ON {target} FROM {who} CASCADE;",
                privilege_list(&option_gone, column)
            ));
        }
        let plain = pick(&|w, n| w.is_none() && n == Some(&false));
        if !plain.is_empty() {
            grants.push(format!(
                "GRANT {} ON {target} TO {who};",
                privilege_list(&plain, column)
            ));
        }
        let with_option = pick(&|w, n| w != Some(&true) && n == Some(&true));
        if !with_option.is_empty() {
            grants.push(format!(
                "GRANT {} ON {target} TO {who} WITH GRANT OPTION;",
                privilege_list(&with_option, column)
            ));
        }
    }
    revokes.append(&mut grants);
    revokes
}

/// What an object of `to` holds when the statements before the grants have run, to be
/// compared with its declared grants: its grants in `from` if it was kept, the grants
/// Postgres gives a new object otherwise (under the default privileges of `from`, which
/// the script changes only after the grants).
struct Baseline<'c> {
    /// Whoever owns the objects of `to`, for objects whose grants do not say.
    fallback_owner: Option<String>,
    server_version: u32,
    from: &'c Catalog,
}

impl<'c> Baseline<'c> {
    fn of(from: &'c Catalog, to: &Catalog) -> Baseline<'c> {
        let fallback_owner = to
            .tables
            .values()
            .map(|t| &t.grants)
            .chain(to.functions.values().map(|f| &f.grants))
            .chain(to.sequences.values().map(|s| &s.grants))
            .find_map(|g| owner_of(g));
        Baseline {
            fallback_owner,
            server_version: to.server_version,
            from,
        }
    }

    /// With no owner to be found there is nothing to compare with: no statements.
    /// `schema` is the object's (none for a schema).
    fn before(
        &self,
        kind: AclKind,
        schema: Option<&str>,
        kept: Option<&Vec<String>>,
        now: &[String],
    ) -> Vec<String> {
        kept.cloned().unwrap_or_else(|| {
            match owner_of(now).or_else(|| self.fallback_owner.clone()) {
                Some(owner) => created_grants(self.from, kind, schema, &owner, self.server_version),
                None => now.to_vec(),
            }
        })
    }
}

impl Gen<'_> {
    /// GRANT and REVOKE for every object of `to` whose grants differ from what it has
    /// when the statements before have run (dropped objects need no revokes).
    pub(super) fn grants(&mut self) {
        let baseline = Baseline::of(self.from, self.to);
        self.schema_and_sequence_grants(&baseline);
        self.table_grants(&baseline);
        self.view_and_function_grants(&baseline);
    }

    fn schema_and_sequence_grants(&mut self, baseline: &Baseline<'_>) {
        let (from, to) = (self.from, self.to);
        for (key, s) in &to.schemas {
            let kept = from.schemas.get(key).map(|o| &o.grants);
            let before = baseline.before(AclKind::Schema, None, kept, &s.grants);
            let target = format!("SCHEMA {}", quote_ident(&s.name));
            self.push_all(statements(&target, None, &before, &s.grants));
        }
        for (key, s) in &to.sequences {
            let kept = from.sequences.get(key).map(|o| &o.grants);
            let before = baseline.before(AclKind::Sequence, Some(&s.schema), kept, &s.grants);
            let target = format!("SEQUENCE {}", qualified(&s.schema, &s.name));
            self.push_all(statements(&target, None, &before, &s.grants));
        }
    }

    /// Each table's grants, then its columns'.
    fn table_grants(&mut self, baseline: &Baseline<'_>) {
        let (from, to) = (self.from, self.to);
        for (key, t) in &to.tables {
            let old = from.tables.get(key);
            let before = baseline.before(
                AclKind::Relation,
                Some(&t.schema),
                old.map(|o| &o.grants),
                &t.grants,
            );
            let target = format!("TABLE {}", table_name(t));
            self.push_all(statements(&target, None, &before, &t.grants));
            for c in &t.columns {
                // A column dropped and added again (a changed generation, or a generated
                // column over a retyped one) starts bare.
                let regenerated =
                    old.is_some_and(|o| regenerated_columns(o, t).iter().any(|r| r.name == c.name));
                let kept = old
                    .and_then(|o| o.column(&c.name))
                    .filter(|b| b.generated == c.generated && !regenerated);
                let before = kept.map(|b| b.grants.clone()).unwrap_or_default();
                self.push_all(statements(&target, Some(&c.name), &before, &c.grants));
            }
        }
    }

    /// Views' and functions' grants; one dropped and created again starts as a new one.
    fn view_and_function_grants(&mut self, baseline: &Baseline<'_>) {
        let (from, to) = (self.from, self.to);
        let dropped_views = self.dropped_view_keys();
        for (key, v) in &to.views {
            let kept = from.views.get(key).filter(|_| !dropped_views.contains(key));
            let before = baseline.before(
                AclKind::Relation,
                Some(&v.schema),
                kept.map(|o| &o.grants),
                &v.grants,
            );
            let target = format!("TABLE {}", qualified(&v.schema, &v.name));
            self.push_all(statements(&target, None, &before, &v.grants));
        }
        let dropped_functions = self.dropped_function_keys();
        for (key, f) in &to.functions {
            let kept = from
                .functions
                .get(key)
                .filter(|_| !dropped_functions.contains(key));
            let before = baseline.before(
                AclKind::Routine,
                Some(&f.schema),
                kept.map(|o| &o.grants),
                &f.grants,
            );
            // GRANT has no AGGREGATE: an aggregate is granted on as a function.
            let keyword = if f.kind == RoutineKind::Procedure {
                "PROCEDURE"
            } else {
                "FUNCTION"
            };
            let target = format!("{keyword} {}", function_signature(f));
            self.push_all(statements(&target, None, &before, &f.grants));
        }
    }

    fn push_all(&mut self, statements: Vec<String>) {
        for statement in statements {
            self.out.push(statement);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn items_are_parsed_with_quotes_public_and_grant_options() {
        assert_eq!(
            AclItem::parse("\"odd=\"\"role\"=r*w/\"my/owner\""),
            AclItem {
                grantee: "odd=\"role".into(),
                privileges: vec![('r', true), ('w', false)],
                grantor: "my/owner".into(),
            }
        );
        assert_eq!(AclItem::parse("=X/app").grantee, "");
        assert_eq!(owner_of(&v(&["app=arwdDxtm/app"])).as_deref(), Some("app"));
    }

    #[test]
    fn a_new_object_with_the_default_grants_needs_nothing() {
        let table = default_grants(AclKind::Relation, "app", 170004);
        assert_eq!(table, ["app=arwdDxtm/app"]);
        assert!(statements("TABLE t", None, &table, &table).is_empty());
        assert_eq!(
            default_grants(AclKind::Relation, "app", 160004),
            ["app=arwdDxt/app"],
            "no MAINTAIN before 17"
        );
        let function = default_grants(AclKind::Routine, "Odd One", 0);
        assert_eq!(function, ["\"Odd One\"=X/\"Odd One\"", "=X/\"Odd One\""]);
    }

    #[test]
    fn added_removed_and_optioned_privileges_give_grants_and_revokes() {
        let from = v(&["=X/app", "app=X/app", "old=X*/app"]);
        let to = v(&["app=X/app", "old=X/app", "reader=X*/app", "writer=X/app"]);
        assert_eq!(
            statements("FUNCTION f()", None, &from, &to),
            [
                "REVOKE EXECUTE ON FUNCTION f() FROM PUBLIC;",
                "REVOKE GRANT OPTION FOR EXECUTE ON FUNCTION f() FROM \"old\" CASCADE;",
                "GRANT EXECUTE ON FUNCTION f() TO \"reader\" WITH GRANT OPTION;",
                "GRANT EXECUTE ON FUNCTION f() TO \"writer\";",
            ]
        );
    }

    #[test]
    fn column_privileges_name_their_column() {
        let to = v(&["reader=rw/app"]);
        assert_eq!(
            statements("TABLE t", Some("c"), &[], &to),
            ["GRANT SELECT (\"c\"), UPDATE (\"c\") ON TABLE t TO \"reader\";"]
        );
        assert_eq!(
            statements("TABLE t", Some("c"), &to, &[]),
            ["REVOKE SELECT (\"c\"), UPDATE (\"c\") ON TABLE t FROM \"reader\";"]
        );
    }
}
