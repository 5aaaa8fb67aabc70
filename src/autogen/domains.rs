//! Domains, composite and range types: created before the tables and functions that use
//! them (each after the types it is built on), altered in place (default, NOT NULL and
//! checks of a domain; attributes of a composite type; a range type's comment), dropped
//! after their users.
//!
//! What cannot be altered in place is left to be written by hand ([`super::Script::skipped`]):
//! a domain's base type or collation, a composite type whose attributes change order,
//! an attribute retyped while a table column stores the type, a range type's options,
//! and a range type with a canonical function (which needs a shell type first).
//!
//! A domain whose default or checks call a user function ([`calls_functions`]) comes
//! after the functions that name no table, and goes before them.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::{Gen, comment_value, qualified};
use crate::catalog::{Attribute, Catalog, Composite, Domain, Range};
use crate::pg::quote_ident;

/// Whether the type text `text` (as `format_type` prints it, maybe an array) names the
/// type `schema.name`.
fn names_type(text: &str, schema: &str, name: &str) -> bool {
    let base = text.trim_end_matches("[]");
    base == name || base == format!("{schema}.{name}") || base == qualified(schema, name)
}

/// Whether the domain `d` of `catalog` calls one of its functions (in its default or a
/// check): it is then created after them and dropped before them.
fn calls_functions(catalog: &Catalog, d: &Domain) -> bool {
    d.depends_on
        .iter()
        .any(|f| catalog.functions.contains_key(f))
}

/// A domain, a composite or a range type, with the type texts it is built on.
#[derive(Clone, Copy)]
enum UserType<'a> {
    Domain(&'a Domain),
    Composite(&'a Composite),
    Range(&'a Range),
}

impl<'a> UserType<'a> {
    fn schema_and_name(self) -> (&'a str, &'a str) {
        match self {
            UserType::Domain(d) => (&d.schema, &d.name),
            UserType::Composite(c) => (&c.schema, &c.name),
            UserType::Range(r) => (&r.schema, &r.name),
        }
    }

    fn built_on(self) -> Vec<&'a str> {
        match self {
            UserType::Domain(d) => vec![d.base_type.as_str()],
            UserType::Composite(c) => c.attributes.iter().map(|a| a.data_type.as_str()).collect(),
            UserType::Range(r) => vec![r.subtype.as_str()],
        }
    }
}

/// The domains, composite and range types of `catalog`, each after the ones it is built
/// on.
fn type_order(catalog: &Catalog) -> Vec<UserType<'_>> {
    let mut pending: Vec<UserType> = catalog
        .domains
        .values()
        .map(UserType::Domain)
        .chain(catalog.composites.values().map(UserType::Composite))
        .chain(catalog.ranges.values().map(UserType::Range))
        .collect();
    let mut ordered = Vec::new();
    while !pending.is_empty() {
        let waits_for = |t: &UserType, others: &[UserType]| {
            t.built_on().iter().any(|text| {
                others.iter().any(|o| {
                    let (schema, name) = o.schema_and_name();
                    o.schema_and_name() != t.schema_and_name() && names_type(text, schema, name)
                })
            })
        };
        let (ready, waiting): (Vec<UserType>, Vec<UserType>) =
            pending.iter().partition(|t| !waits_for(t, &pending));
        if ready.is_empty() {
            // Types cannot be built on each other in a cycle; keep the order if they seem to.
            ordered.extend(waiting);
            break;
        }
        ordered.extend(ready);
        pending = waiting;
    }
    ordered
}

fn collate(collation: &Option<String>) -> String {
    collation
        .as_ref()
        .map(|c| format!(" COLLATE {c}"))
        .unwrap_or_default()
}

fn attribute_definition(a: &Attribute) -> String {
    format!(
        "{} {}{}",
        quote_ident(&a.name),
        a.data_type,
        collate(&a.collation)
    )
}

impl Gen<'_> {
    /// Every domain, composite and range type of `to`, created or altered, with its
    /// comments: those calling functions ([`calls_functions`]) when `over_functions`,
    /// the others when not.
    pub(super) fn create_user_types(&mut self, over_functions: bool) {
        let (from, to) = (self.from, self.to);
        for t in type_order(to) {
            let calls = matches!(t, UserType::Domain(d) if calls_functions(to, d));
            if calls != over_functions {
                continue;
            }
            match t {
                UserType::Domain(d) => {
                    let key = format!("{}.{}", d.schema, d.name);
                    match from.domains.get(&key) {
                        None => self.create_domain(d),
                        Some(old) => self.alter_domain(old, d),
                    }
                }
                UserType::Composite(c) => {
                    let key = format!("{}.{}", c.schema, c.name);
                    match from.composites.get(&key) {
                        None => self.create_composite(c),
                        Some(old) => self.alter_composite(old, c),
                    }
                }
                UserType::Range(r) => {
                    let key = format!("{}.{}", r.schema, r.name);
                    self.create_or_alter_range(from.ranges.get(&key), r);
                }
            }
        }
    }

    /// Domains, composite and range types gone, after the columns and functions that
    /// used them, each before the ones it is built on: those calling functions
    /// ([`calls_functions`]) when `over_functions`, the others when not.
    pub(super) fn drop_user_types(&mut self, over_functions: bool) {
        let (from, to) = (self.from, self.to);
        for t in type_order(from).into_iter().rev() {
            let calls = matches!(t, UserType::Domain(d) if calls_functions(from, d));
            if calls != over_functions {
                continue;
            }
            let (schema, name) = t.schema_and_name();
            let key = format!("{schema}.{name}");
            let (gone, keyword) = match t {
                UserType::Domain(_) => (!to.domains.contains_key(&key), "DOMAIN"),
                UserType::Composite(_) => (!to.composites.contains_key(&key), "TYPE"),
                UserType::Range(_) => (!to.ranges.contains_key(&key), "TYPE"),
            };
            if gone {
                self.out.push(format!(
                    "DROP {keyword} IF EXISTS {};",
                    qualified(schema, name)
                ));
            }
        }
    }

    /// A range type created, or its comment changed; other changes are left by hand.
    fn create_or_alter_range(&mut self, old: Option<&Range>, r: &Range) {
        let name = qualified(&r.schema, &r.name);
        let by_hand = match old {
            None if r.canonical => Some(
                "it has a canonical function: create a shell type, the function, then the range type",
            ),
            None => {
                self.out
                    .push(format!("CREATE TYPE {name} AS RANGE ({});", r.definition));
                None
            }
            Some(o) if o.definition != r.definition => {
                Some("create the new type, move its users over, drop the old one")
            }
            Some(_) => None,
        };
        if let Some(how) = by_hand {
            self.out.skipped.push(format!(
                "range type {}: {}; write it by hand: {how}",
                r.name, r.definition
            ));
            return;
        }
        if old.and_then(|o| o.comment.clone()) != r.comment {
            self.out.push(format!(
                "COMMENT ON TYPE {name} IS {};",
                comment_value(&r.comment)
            ));
        }
    }

    fn create_domain(&mut self, d: &Domain) {
        let name = qualified(&d.schema, &d.name);
        let mut sql = format!(
            "CREATE DOMAIN {name} AS {}{}",
            d.base_type,
            collate(&d.collation)
        );
        if let Some(default) = &d.default {
            let _ = write!(sql, " DEFAULT {default}");
        }
        if d.not_null {
            sql.push_str(" NOT NULL");
        }
        for k in d.constraints.values() {
            let _ = write!(
                sql,
                "\n    CONSTRAINT {} {}",
                quote_ident(&k.name),
                k.definition
            );
        }
        self.out.push(format!("{sql};"));
        if d.comment.is_some() {
            self.domain_comment(d);
        }
        for k in d.constraints.values().filter(|k| k.comment.is_some()) {
            self.domain_constraint_comment(d, &k.name, &k.comment);
        }
    }

    fn alter_domain(&mut self, old: &Domain, d: &Domain) {
        let name = qualified(&d.schema, &d.name);
        if old.base_type != d.base_type || old.collation != d.collation {
            let shown = |x: &Domain| format!("{}{}", x.base_type, collate(&x.collation));
            self.out.skipped.push(format!(
                "domain {}: {} -> {}; write it by hand: create the new domain, move the columns and functions over, drop the old one",
                d.name,
                shown(old),
                shown(d)
            ));
        }
        if old.default != d.default {
            self.out.push(match &d.default {
                Some(default) => format!("ALTER DOMAIN {name} SET DEFAULT {default};"),
                None => format!("ALTER DOMAIN {name} DROP DEFAULT;"),
            });
        }
        if old.not_null != d.not_null {
            let sql = format!(
                "ALTER DOMAIN {name} {} NOT NULL;",
                if d.not_null { "SET" } else { "DROP" }
            );
            if d.not_null {
                self.out.destroy(
                    format!(
                        "set not null on domain {}: fails if a column of it holds null",
                        d.name
                    ),
                    sql,
                );
            } else {
                self.out.push(sql);
            }
        }
        for (k, c) in &old.constraints {
            if d.constraints
                .get(k)
                .is_none_or(|n| n.definition != c.definition)
            {
                self.out.push(format!(
                    "ALTER DOMAIN {name} DROP CONSTRAINT IF EXISTS {};",
                    quote_ident(k)
                ));
            }
        }
        for (k, c) in &d.constraints {
            let kept = old
                .constraints
                .get(k)
                .filter(|o| o.definition == c.definition);
            if kept.is_none() {
                self.out.push(format!(
                    "ALTER DOMAIN {name} ADD CONSTRAINT {} {};",
                    quote_ident(k),
                    c.definition
                ));
            }
            if kept.and_then(|o| o.comment.clone()) != c.comment {
                self.domain_constraint_comment(d, k, &c.comment);
            }
        }
        if old.comment != d.comment {
            self.domain_comment(d);
        }
    }

    fn domain_comment(&mut self, d: &Domain) {
        self.out.push(format!(
            "COMMENT ON DOMAIN {} IS {};",
            qualified(&d.schema, &d.name),
            comment_value(&d.comment)
        ));
    }

    fn domain_constraint_comment(&mut self, d: &Domain, name: &str, comment: &Option<String>) {
        self.out.push(format!(
            "COMMENT ON CONSTRAINT {} ON DOMAIN {} IS {};",
            quote_ident(name),
            qualified(&d.schema, &d.name),
            comment_value(comment)
        ));
    }

    fn create_composite(&mut self, c: &Composite) {
        let attributes: Vec<String> = c
            .attributes
            .iter()
            .map(|a| format!("    {}", attribute_definition(a)))
            .collect();
        self.out.push(format!(
            "CREATE TYPE {} AS (\n{}\n);",
            qualified(&c.schema, &c.name),
            attributes.join(",\n")
        ));
        if c.comment.is_some() {
            self.composite_comment(c);
        }
        for a in c.attributes.iter().filter(|a| a.comment.is_some()) {
            self.attribute_comment(c, a);
        }
    }

    /// Attributes dropped, retyped and added (at the end, where ADD ATTRIBUTE puts them).
    fn alter_composite(&mut self, old: &Composite, c: &Composite) {
        let name = qualified(&c.schema, &c.name);
        let kept: Vec<&str> = old
            .attributes
            .iter()
            .filter(|a| c.attribute(&a.name).is_some())
            .map(|a| a.name.as_str())
            .collect();
        let in_place = c
            .attributes
            .iter()
            .take(kept.len())
            .map(|a| a.name.as_str())
            .eq(kept.iter().copied());
        if !in_place {
            self.out.skipped.push(format!(
                "composite type {}: its attributes change order; write it by hand: create the new type, move its users over, drop the old one",
                c.name
            ));
            return;
        }
        for a in &old.attributes {
            if c.attribute(&a.name).is_none() {
                self.out.destroy(
                    format!("drop attribute {}.{}", c.name, a.name),
                    format!(
                        "ALTER TYPE {name} DROP ATTRIBUTE IF EXISTS {};",
                        quote_ident(&a.name)
                    ),
                );
            }
        }
        let stored = self.stored_in_columns(old);
        for a in &c.attributes {
            match old.attribute(&a.name) {
                None => self.out.push(format!(
                    "ALTER TYPE {name} ADD ATTRIBUTE {};",
                    attribute_definition(a)
                )),
                Some(b) if b.data_type != a.data_type || b.collation != a.collation => {
                    if stored {
                        self.out.skipped.push(format!(
                            "composite type {}: attribute {} {} -> {} while a table column stores the type; write it by hand",
                            c.name, a.name, b.data_type, a.data_type
                        ));
                    } else {
                        self.out.push(format!(
                            "ALTER TYPE {name} ALTER ATTRIBUTE {} TYPE {}{};",
                            quote_ident(&a.name),
                            a.data_type,
                            collate(&a.collation)
                        ));
                    }
                }
                Some(_) => {}
            }
            let was = old.attribute(&a.name).and_then(|b| b.comment.clone());
            if was != a.comment {
                self.attribute_comment(c, a);
            }
        }
        if old.comment != c.comment {
            self.composite_comment(c);
        }
    }

    /// Whether a table column of `from` stores the composite type `c` (directly, in an
    /// array, or inside another composite type): Postgres then refuses to retype an
    /// attribute.
    fn stored_in_columns(&self, c: &Composite) -> bool {
        let from = self.from;
        let mut holders: BTreeSet<(&str, &str)> = BTreeSet::from([(&*c.schema, &*c.name)]);
        // Composite types holding one that holds `c`, to a fixed point.
        loop {
            let more: Vec<(&str, &str)> = from
                .composites
                .values()
                .filter(|o| !holders.contains(&(&*o.schema, &*o.name)))
                .filter(|o| {
                    o.attributes
                        .iter()
                        .any(|a| holders.iter().any(|(s, n)| names_type(&a.data_type, s, n)))
                })
                .map(|o| (&*o.schema, &*o.name))
                .collect();
            if more.is_empty() {
                break;
            }
            holders.extend(more);
        }
        from.tables.values().any(|t| {
            t.columns.iter().any(|col| {
                holders
                    .iter()
                    .any(|(s, n)| names_type(&col.data_type, s, n))
            })
        })
    }

    fn composite_comment(&mut self, c: &Composite) {
        self.out.push(format!(
            "COMMENT ON TYPE {} IS {};",
            qualified(&c.schema, &c.name),
            comment_value(&c.comment)
        ));
    }

    fn attribute_comment(&mut self, c: &Composite, a: &Attribute) {
        self.out.push(format!(
            "COMMENT ON COLUMN {}.{} IS {};",
            qualified(&c.schema, &c.name),
            quote_ident(&a.name),
            comment_value(&a.comment)
        ));
    }
}
