//! Row-level security and policies, rules, event triggers, extension comments and
//! default privileges.
//!
//! Policies and rules use columns, functions, other tables and views (`pg_depend`): they
//! are dropped first, before anything they use, and created after the views and
//! functions. One is dropped and created again when something it uses changes under it
//! (as a view is), and when it changes in a way that cannot be altered: a policy's
//! command or kind, or an expression it loses; other policy changes are an ALTER POLICY,
//! a rule's a CREATE RULE after its drop. Event triggers are dropped before the functions
//! and created after them. Default privileges are changed last, after the grants: the
//! objects the script creates get the privileges the grants step gives them, not the
//! new defaults.

use std::collections::BTreeSet;

use super::grants::{AclKind, default_grants, owner_of, quote_role, statements};
use super::{Gen, comment_value, qualified};
use crate::catalog::{Catalog, DefaultObjects, DefaultPrivileges, EventTrigger, Policy, Rule};
use crate::pg::{quote_ident, quote_literal};

/// `ENABLE`, `DISABLE`, ... for a trigger's or rule's `enabled` code.
fn enabled_state(code: &str) -> &'static str {
    match code {
        "D" => "DISABLE",
        "R" => "ENABLE REPLICA",
        "A" => "ENABLE ALWAYS",
        _ => "ENABLE",
    }
}

fn policy_table(p: &Policy) -> String {
    qualified(&p.schema, &p.table)
}

/// Whether ALTER POLICY takes `old` to `new`: it changes roles and expressions, but
/// cannot change the command or the kind, nor take an expression away.
fn alterable(old: &Policy, new: &Policy) -> bool {
    old.permissive == new.permissive
        && old.command == new.command
        && !(old.using.is_some() && new.using.is_none())
        && !(old.with_check.is_some() && new.with_check.is_none())
}

fn role_list(roles: &[String]) -> String {
    roles
        .iter()
        .map(|r| {
            if r == "public" {
                "PUBLIC".to_string()
            } else {
                quote_ident(r)
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn create_policy(p: &Policy) -> String {
    let mut sql = format!(
        "CREATE POLICY {} ON {} AS {} FOR {}",
        quote_ident(&p.name),
        policy_table(p),
        if p.permissive {
            "PERMISSIVE"
        } else {
            "RESTRICTIVE"
        },
        p.command
    );
    if !p.roles.is_empty() {
        sql.push_str(&format!(" TO {}", role_list(&p.roles)));
    }
    if let Some(using) = &p.using {
        sql.push_str(&format!(" USING ({using})"));
    }
    if let Some(check) = &p.with_check {
        sql.push_str(&format!(" WITH CHECK ({check})"));
    }
    sql.push(';');
    sql
}

/// The ALTER POLICY taking `old` to `new` ([`alterable`]), if anything but the comment
/// changes.
pub(super) fn alter_policy(old: &Policy, new: &Policy) -> Option<String> {
    let mut changes = String::new();
    if old.roles != new.roles && !new.roles.is_empty() {
        changes.push_str(&format!(" TO {}", role_list(&new.roles)));
    }
    if old.using != new.using
        && let Some(using) = &new.using
    {
        changes.push_str(&format!(" USING ({using})"));
    }
    if old.with_check != new.with_check
        && let Some(check) = &new.with_check
    {
        changes.push_str(&format!(" WITH CHECK ({check})"));
    }
    (!changes.is_empty()).then(|| {
        format!(
            "ALTER POLICY {} ON {}{changes};",
            quote_ident(&new.name),
            policy_table(new)
        )
    })
}

fn event_trigger_function(e: &EventTrigger) -> String {
    format!("{}.{}()", e.function_schema, e.function_name)
}

fn create_event_trigger(e: &EventTrigger) -> String {
    let tags = if e.tags.is_empty() {
        String::new()
    } else {
        let tags: Vec<String> = e.tags.iter().map(|t| quote_literal(t)).collect();
        format!(" WHEN TAG IN ({})", tags.join(", "))
    };
    format!(
        "CREATE EVENT TRIGGER {} ON {}{tags} EXECUTE FUNCTION {}();",
        quote_ident(&e.name),
        quote_ident(&e.event),
        qualified(&e.function_schema, &e.function_name)
    )
}

/// The privileges a new object of `objects` owned by `owner` gets with no default
/// privileges set, as `aclitem` text.
pub(super) fn built_in_privileges(
    objects: DefaultObjects,
    owner: &str,
    server_version: u32,
) -> Vec<String> {
    let kind = match objects {
        DefaultObjects::Tables => AclKind::Relation,
        DefaultObjects::Sequences => AclKind::Sequence,
        DefaultObjects::Functions => AclKind::Routine,
        DefaultObjects::Schemas => AclKind::Schema,
        DefaultObjects::Types => {
            let owner = quote_role(owner);
            return vec![format!("{owner}=U/{owner}"), format!("=U/{owner}")];
        }
    };
    default_grants(kind, owner, server_version)
}

/// The grants a new object of `kind` in `schema` (none for a schema) owned by `owner`
/// gets when the role running the script creates it under the default privileges of
/// `catalog`: the role's own for the whole database (or the built-in ones), and those for
/// the schema on top.
pub(super) fn created_grants(
    catalog: &Catalog,
    kind: AclKind,
    schema: Option<&str>,
    owner: &str,
    server_version: u32,
) -> Vec<String> {
    let objects = match kind {
        AclKind::Schema => DefaultObjects::Schemas,
        AclKind::Relation => DefaultObjects::Tables,
        AclKind::Sequence => DefaultObjects::Sequences,
        AclKind::Routine => DefaultObjects::Functions,
    };
    let own: Vec<&DefaultPrivileges> = catalog
        .default_privileges
        .values()
        .filter(|d| d.role.is_none() && d.objects == objects)
        .collect();
    let mut grants = own.iter().find(|d| d.schema.is_none()).map_or_else(
        || default_grants(kind, owner, server_version),
        |d| d.grants.clone(),
    );
    if let Some(schema) = schema {
        for d in own.iter().filter(|d| d.schema.as_deref() == Some(schema)) {
            grants.extend(d.grants.iter().cloned());
        }
    }
    grants
}

/// Whoever owns the objects of `catalog`, as their grants' grantor.
fn some_owner(catalog: &Catalog) -> Option<String> {
    catalog
        .tables
        .values()
        .map(|t| &t.grants)
        .chain(catalog.functions.values().map(|f| &f.grants))
        .chain(catalog.sequences.values().map(|s| &s.grants))
        .find_map(|g| owner_of(g))
}

/// The `ALTER DEFAULT PRIVILEGES` statements taking the entry `old` to `new` (one of them
/// is there): `before` and `after` are their grants, an absent entry holding the
/// built-in privileges (without a schema) or nothing (in a schema).
pub(super) fn default_privilege_statements(
    old: Option<&DefaultPrivileges>,
    new: Option<&DefaultPrivileges>,
    fallback_owner: Option<String>,
    server_version: u32,
) -> Vec<String> {
    let Some(d) = new.or(old) else {
        return Vec::new();
    };
    let absent = if d.schema.is_some() {
        Vec::new()
    } else {
        let owner = d
            .role
            .clone()
            .or_else(|| old.and_then(|o| owner_of(&o.grants)))
            .or_else(|| new.and_then(|n| owner_of(&n.grants)))
            .or(fallback_owner);
        let Some(owner) = owner else {
            return Vec::new();
        };
        built_in_privileges(d.objects, &owner, server_version)
    };
    let before = old.map_or_else(|| absent.clone(), |o| o.grants.clone());
    let after = new.map_or(absent, |n| n.grants.clone());
    let mut prefix = "ALTER DEFAULT PRIVILEGES".to_string();
    if let Some(role) = &d.role {
        prefix.push_str(&format!(" FOR ROLE {}", quote_ident(role)));
    }
    if let Some(schema) = &d.schema {
        prefix.push_str(&format!(" IN SCHEMA {}", quote_ident(schema)));
    }
    statements(d.objects.as_str(), None, &before, &after)
        .into_iter()
        .map(|statement| format!("{prefix} {statement}"))
        .collect()
}

impl<'a> Gen<'a> {
    /// What changes under the policies and rules that use it, in `pg_depend`'s keys: as
    /// for views, and the views and functions dropped.
    fn changing_under_policies_and_rules(&self) -> BTreeSet<String> {
        let mut changing = self.changing_under_views_and_functions();
        changing.extend(self.dropped_view_keys());
        changing.extend(self.dropped_function_keys());
        changing
    }

    /// Whether a policy or rule on `relation` that uses `depends_on` must be dropped
    /// first because of what changes under it. One on a relation that goes goes with it,
    /// unless it also uses something else that goes first.
    fn uses_changing(
        &self,
        changing: &BTreeSet<String>,
        relation: &str,
        depends_on: &[String],
    ) -> bool {
        let kept = self.to.tables.contains_key(relation) || self.to.views.contains_key(relation);
        depends_on
            .iter()
            .any(|d| changing.contains(d) && (kept || d != relation))
    }

    fn policies_to_drop(&self) -> Vec<&'a Policy> {
        let changing = self.changing_under_policies_and_rules();
        let (from, to) = (self.from, self.to);
        from.policies
            .iter()
            .filter(|(key, p)| {
                let table = format!("{}.{}", p.schema, p.table);
                if self.uses_changing(&changing, &table, &p.depends_on) {
                    return true;
                }
                to.tables.contains_key(&table)
                    && to.policies.get(*key).is_none_or(|new| !alterable(p, new))
            })
            .map(|(_, p)| p)
            .collect()
    }

    fn rules_to_drop(&self) -> Vec<&'a Rule> {
        let changing = self.changing_under_policies_and_rules();
        let (from, to) = (self.from, self.to);
        from.rules
            .iter()
            .filter(|(key, r)| {
                let relation = format!("{}.{}", r.schema, r.relation);
                if self.uses_changing(&changing, &relation, &r.depends_on) {
                    return true;
                }
                let kept = to.tables.contains_key(&relation) || to.views.contains_key(&relation);
                kept && to
                    .rules
                    .get(*key)
                    .is_none_or(|new| new.definition != r.definition)
            })
            .map(|(_, r)| r)
            .collect()
    }

    fn event_triggers_to_drop(&self) -> Vec<&'a EventTrigger> {
        let dropped_functions = self.dropped_function_keys();
        let (from, to) = (self.from, self.to);
        from.event_triggers
            .iter()
            .filter(|(key, e)| {
                dropped_functions.contains(&event_trigger_function(e))
                    || to.event_triggers.get(*key).is_none_or(|new| {
                        new.event != e.event
                            || new.tags != e.tags
                            || event_trigger_function(new) != event_trigger_function(e)
                    })
            })
            .map(|(_, e)| e)
            .collect()
    }

    /// Event triggers, policies and rules that go or are created again, before anything
    /// they use is dropped.
    pub(super) fn drop_event_triggers_policies_and_rules(&mut self) {
        for e in self.event_triggers_to_drop() {
            self.out.push(format!(
                "DROP EVENT TRIGGER IF EXISTS {};",
                quote_ident(&e.name)
            ));
        }
        for p in self.policies_to_drop() {
            self.out.push(format!(
                "DROP POLICY IF EXISTS {} ON {};",
                quote_ident(&p.name),
                policy_table(p)
            ));
        }
        for r in self.rules_to_drop() {
            self.out.push(format!(
                "DROP RULE IF EXISTS {} ON {};",
                quote_ident(&r.name),
                qualified(&r.schema, &r.relation)
            ));
        }
    }

    /// A changed comment of an extension; a new extension's always, since it comes with
    /// the one of its control file.
    pub(super) fn comment_extensions(&mut self) {
        let (from, to) = (self.from, self.to);
        for (key, x) in &to.extensions {
            if from
                .extensions
                .get(key)
                .is_none_or(|o| o.comment != x.comment)
            {
                self.out.push(format!(
                    "COMMENT ON EXTENSION {} IS {};",
                    quote_ident(&x.name),
                    comment_value(&x.comment)
                ));
            }
        }
    }

    /// Row-level security turned on or off, forced or not, then the policies created or
    /// altered, with their comments.
    pub(super) fn secure_tables(&mut self) {
        let (from, to) = (self.from, self.to);
        for (key, t) in &to.tables {
            let old = from.tables.get(key);
            let name = qualified(&t.schema, &t.name);
            if old.is_some_and(|o| o.row_security) != t.row_security {
                let state = if t.row_security { "ENABLE" } else { "DISABLE" };
                self.out
                    .push(format!("ALTER TABLE {name} {state} ROW LEVEL SECURITY;"));
            }
            if old.is_some_and(|o| o.force_row_security) != t.force_row_security {
                let state = if t.force_row_security {
                    "FORCE"
                } else {
                    "NO FORCE"
                };
                self.out
                    .push(format!("ALTER TABLE {name} {state} ROW LEVEL SECURITY;"));
            }
        }
        let dropped: BTreeSet<String> = self
            .policies_to_drop()
            .iter()
            .map(|p| format!("{}.{}.{}", p.schema, p.table, p.name))
            .collect();
        for (key, p) in &to.policies {
            let old = from.policies.get(key).filter(|_| !dropped.contains(key));
            match old {
                None => self.out.push(create_policy(p)),
                Some(o) => {
                    if let Some(sql) = alter_policy(o, p) {
                        self.out.push(sql);
                    }
                }
            }
            if old.and_then(|o| o.comment.clone()) != p.comment {
                self.out.push(format!(
                    "COMMENT ON POLICY {} ON {} IS {};",
                    quote_ident(&p.name),
                    policy_table(p),
                    comment_value(&p.comment)
                ));
            }
        }
    }

    /// Rules new or created again, with their comments and enabled state.
    pub(super) fn create_rules(&mut self) {
        let (from, to) = (self.from, self.to);
        let dropped: BTreeSet<String> = self
            .rules_to_drop()
            .iter()
            .map(|r| format!("{}.{}.{}", r.schema, r.relation, r.name))
            .collect();
        for (key, r) in &to.rules {
            let old = from.rules.get(key).filter(|_| !dropped.contains(key));
            let relation = qualified(&r.schema, &r.relation);
            if old.is_none() {
                let definition = r.definition.trim_end().trim_end_matches(';');
                self.out.push(format!("{definition};"));
            }
            if old.and_then(|o| o.comment.clone()) != r.comment {
                self.out.push(format!(
                    "COMMENT ON RULE {} ON {relation} IS {};",
                    quote_ident(&r.name),
                    comment_value(&r.comment)
                ));
            }
            if old.map_or("O", |o| o.enabled.as_str()) != r.enabled {
                self.out.push(format!(
                    "ALTER TABLE {relation} {} RULE {};",
                    enabled_state(&r.enabled),
                    quote_ident(&r.name)
                ));
            }
        }
    }

    /// Event triggers new or created again, with their comments and enabled state.
    pub(super) fn create_event_triggers(&mut self) {
        let (from, to) = (self.from, self.to);
        let dropped: BTreeSet<String> = self
            .event_triggers_to_drop()
            .iter()
            .map(|e| e.name.clone())
            .collect();
        for (key, e) in &to.event_triggers {
            let old = from
                .event_triggers
                .get(key)
                .filter(|_| !dropped.contains(key));
            if old.is_none() {
                self.out.push(create_event_trigger(e));
            }
            if old.and_then(|o| o.comment.clone()) != e.comment {
                self.out.push(format!(
                    "COMMENT ON EVENT TRIGGER {} IS {};",
                    quote_ident(&e.name),
                    comment_value(&e.comment)
                ));
            }
            if old.map_or("O", |o| o.enabled.as_str()) != e.enabled {
                self.out.push(format!(
                    "ALTER EVENT TRIGGER {} {};",
                    quote_ident(&e.name),
                    enabled_state(&e.enabled)
                ));
            }
        }
    }

    /// Default privileges granted and revoked, last in the script.
    pub(super) fn default_privileges(&mut self) {
        let (from, to) = (self.from, self.to);
        let keys: BTreeSet<&String> = from
            .default_privileges
            .keys()
            .chain(to.default_privileges.keys())
            .collect();
        let fallback_owner = some_owner(to).or_else(|| some_owner(from));
        for key in keys {
            let (old, new) = (
                from.default_privileges.get(key),
                to.default_privileges.get(key),
            );
            if old.map(|o| &o.grants) == new.map(|n| &n.grants) {
                continue;
            }
            let version = to.server_version.max(from.server_version);
            for sql in default_privilege_statements(old, new, fallback_owner.clone(), version) {
                self.out.push(sql);
            }
        }
    }
}

#[cfg(test)]
mod tests;
