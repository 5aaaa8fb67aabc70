//! Comparing policies, rules, event triggers and default privileges.

use super::{AsText, Aspects, Differences, ObjectKind};
use crate::catalog::{Catalog, EventTrigger, Policy, PolicyCommand, Rule};

impl AsText for PolicyCommand {
    fn as_text(&self) -> String {
        self.to_string()
    }
}

impl Differences {
    pub(super) fn security(&mut self, expected: &Catalog, actual: &Catalog) {
        self.maps(
            &expected.policies,
            &actual.policies,
            |_| ObjectKind::Policy,
            policy,
        );
        self.maps(&expected.rules, &actual.rules, |_| ObjectKind::Rule, rule);
        self.maps(
            &expected.event_triggers,
            &actual.event_triggers,
            |_| ObjectKind::EventTrigger,
            event_trigger,
        );
        self.maps(
            &expected.default_privileges,
            &actual.default_privileges,
            |_| ObjectKind::DefaultPrivileges,
            |a, e, b| a.field("grants", &e.grants, &b.grants),
        );
    }
}

fn policy(a: &mut Aspects, e: &Policy, b: &Policy) {
    let kind = |p: &Policy| {
        if p.permissive {
            "permissive"
        } else {
            "restrictive"
        }
        .to_string()
    };
    a.field("kind", &kind(e), &kind(b));
    a.field("command", &e.command, &b.command);
    a.field("roles", &e.roles, &b.roles);
    a.field("using", &e.using, &b.using);
    a.field("with check", &e.with_check, &b.with_check);
    a.field("comment", &e.comment, &b.comment);
}

fn rule(a: &mut Aspects, e: &Rule, b: &Rule) {
    a.field("definition", &e.definition, &b.definition);
    a.field("enabled", &e.enabled, &b.enabled);
    a.field("comment", &e.comment, &b.comment);
}

fn event_trigger(a: &mut Aspects, e: &EventTrigger, b: &EventTrigger) {
    let function = |t: &EventTrigger| format!("{}.{}()", t.function_schema, t.function_name);
    a.field("event", &e.event, &b.event);
    a.field("tags", &e.tags, &b.tags);
    a.field("function", &function(e), &function(b));
    a.field("enabled", &e.enabled, &b.enabled);
    a.field("comment", &e.comment, &b.comment);
}

#[cfg(test)]
mod tests {
    use super::super::{Sides, diff};
    use crate::catalog::{Catalog, DefaultObjects, DefaultPrivileges, Extension, Policy};

    const SIDES: Sides<'static> = Sides {
        expected: "the migrations",
        actual: "the database",
    };

    fn described(expected: &Catalog, actual: &Catalog) -> Vec<String> {
        diff(expected, actual)
            .iter()
            .map(|d| d.describe(SIDES))
            .collect()
    }

    #[test]
    fn policies_default_privileges_and_extension_comments_are_named_like_the_rest() {
        let mut expected = Catalog::default();
        let policy = Policy {
            schema: "public".into(),
            table: "item".into(),
            name: "p".into(),
            roles: vec!["reader".into()],
            using: Some("true".into()),
            ..Policy::default()
        };
        expected
            .policies
            .insert("public.item.p".into(), policy.clone());
        expected.extensions.insert(
            "citext".into(),
            Extension {
                name: "citext".into(),
                comment: Some("for emails".into()),
                ..Extension::default()
            },
        );
        let mut actual = expected.clone();
        actual.policies.get_mut("public.item.p").unwrap().roles = vec!["public".into()];
        actual.policies.insert(
            "app.item.anyone".into(),
            Policy {
                schema: "app".into(),
                name: "anyone".into(),
                ..policy
            },
        );
        actual.extensions.get_mut("citext").unwrap().comment = None;
        let d = DefaultPrivileges {
            role: None,
            schema: Some("app".into()),
            objects: DefaultObjects::Tables,
            grants: vec!["reader=r/app".into()],
        };
        actual.default_privileges.insert(d.key(), d);
        assert_eq!(
            described(&expected, &actual),
            [
                "extension citext: comment differs: none in the database, for emails in the migrations",
                "policy app.item.anyone: present in the database, not in the migrations",
                "policy item.p: roles differs: [public] in the database, [reader] in the migrations",
                "default privileges in schema app on tables: present in the database, not in the migrations",
            ]
        );
    }
}
