//! What lives on a table: constraints (foreign keys dropped first and added last),
//! indexes (on tables, and on materialized views once those exist) and triggers (on
//! tables and views), each with its comment.

use std::collections::{BTreeMap, BTreeSet};

use super::views::view_key;
use super::{Gen, comment_value, qualified, table_name};
use crate::catalog::{Constraint, ConstraintKind, Index, Table, Trigger};
use crate::pg::quote_ident;

/// Constraints that are written as constraints (not-null ones live on their column).
/// Whether `c` is one of the constraints a pass over foreign keys (or over the others)
/// handles: a table constraint of its own, not a partition's copy of its parent's.
fn in_pass(c: &Constraint, foreign: bool) -> bool {
    c.kind.is_table_constraint()
        && (c.kind == ConstraintKind::ForeignKey) == foreign
        && !c.inherited
}

impl Gen<'_> {
    /// Triggers on tables and views kept (a dropped one takes its own) that change or go.
    pub(super) fn drop_triggers_of_kept(&mut self) {
        let (from, to) = (self.from, self.to);
        for (key, t) in &from.tables {
            if let Some(new) = to.tables.get(key) {
                self.drop_triggers(&table_name(t), &t.triggers, &new.triggers);
            }
        }
        let dropped_views: BTreeSet<String> =
            self.views_to_drop().iter().map(|v| view_key(v)).collect();
        for (key, v) in &from.views {
            if let Some(new) = to.views.get(key).filter(|_| !dropped_views.contains(key)) {
                self.drop_triggers(&qualified(&v.schema, &v.name), &v.triggers, &new.triggers);
            }
        }
    }

    /// Indexes gone or changed.
    pub(super) fn drop_indexes(&mut self) {
        let (from, to) = (self.from, self.to);
        for (key, index) in &from.indexes {
            // A partition's copy of its parent's index goes with the parent's.
            if !index.inherited
                && to
                    .indexes
                    .get(key)
                    .is_none_or(|n| n.definition != index.definition)
            {
                self.out.push(format!(
                    "DROP INDEX IF EXISTS {};",
                    qualified(&index.schema, &index.name)
                ));
            }
        }
    }

    /// Constraints of tables kept that go or change, the foreign keys (which hold on to
    /// the others and to unique indexes) or the others; a foreign key whose index goes
    /// or changes goes too, and comes back after it.
    ///
    /// The foreign keys of a table dropped go first too: then neither the tables nor the
    /// indexes they lean on depend on the order they are dropped in.
    pub(super) fn drop_constraints(&mut self, foreign: bool) {
        let (from, to) = (self.from, self.to);
        for (key, t) in &from.tables {
            let new = to.tables.get(key);
            if new.is_none() && !foreign {
                continue;
            }
            for (name, c) in &t.constraints {
                if !in_pass(c, foreign) {
                    continue;
                }
                if new
                    .and_then(|n| n.constraints.get(name))
                    .is_none_or(|n| n.definition != c.definition)
                    || self.leans_on_changed_index(c)
                {
                    self.out.push(format!(
                        "ALTER TABLE {} DROP CONSTRAINT IF EXISTS {};",
                        table_name(t),
                        quote_ident(name)
                    ));
                }
            }
        }
    }

    /// Whether the unique index a foreign key `c` of `from` leans on (a standalone one, or
    /// a primary key's or unique constraint's) is dropped or made again.
    fn leans_on_changed_index(&self, c: &Constraint) -> bool {
        let Some(index) = &c.index else {
            return false;
        };
        let key = index.key();
        if let Some(old) = self.from.indexes.get(&key) {
            return self
                .to
                .indexes
                .get(&key)
                .is_none_or(|n| n.definition != old.definition)
                || self.on_regenerated(&old.table, &old.definition);
        }
        // A constraint's index has the constraint's name.
        self.from
            .tables
            .iter()
            .filter(|(_, t)| t.schema == index.schema)
            .find_map(|(table, t)| Some((table, t.constraints.get(&index.name)?)))
            .is_some_and(|(table, old)| {
                self.to
                    .tables
                    .get(table)
                    .and_then(|t| t.constraints.get(&index.name))
                    .is_none_or(|n| n.definition != old.definition)
                    || self.on_regenerated(table, &old.definition)
            })
    }

    /// Constraints new, changed or taken by a regenerated column, and their comments:
    /// the foreign keys (once what they point at exists, unique indexes included) or the
    /// others.
    pub(super) fn create_constraints(&mut self, foreign: bool) {
        let (from, to) = (self.from, self.to);
        for (key, t) in &to.tables {
            let old = from.tables.get(key);
            for (name, c) in &t.constraints {
                if !in_pass(c, foreign) {
                    continue;
                }
                // Kept as it is; otherwise (new, changed, taken by a regenerated column
                // or with its index) added, and its comment with it.
                let existing = old.and_then(|o| o.constraints.get(name)).filter(|e| {
                    e.definition == c.definition
                        && !self.on_regenerated(key, &e.definition)
                        && !self.leans_on_changed_index(e)
                });
                if existing.is_none() {
                    self.add_constraint(t, name, c);
                }
                if existing.and_then(|e| e.comment.clone()) != c.comment {
                    self.constraint_comment(t, name, c);
                }
            }
        }
    }

    pub(super) fn add_constraint(&mut self, t: &Table, name: &str, c: &Constraint) {
        self.out.push(format!(
            "ALTER TABLE {} ADD CONSTRAINT {} {};",
            table_name(t),
            quote_ident(name),
            c.definition
        ));
    }

    pub(super) fn constraint_comment(&mut self, t: &Table, name: &str, c: &Constraint) {
        self.out.push(format!(
            "COMMENT ON CONSTRAINT {} ON {} IS {};",
            quote_ident(name),
            table_name(t),
            comment_value(&c.comment)
        ));
    }

    /// Creates the indexes of `to` on tables, or on materialized views (those on a view
    /// in `recreated` too: dropping the view took them).
    pub(super) fn create_indexes(&mut self, on_views: bool, recreated: &BTreeSet<String>) {
        for (key, index) in &self.to.indexes {
            if self.to.views.contains_key(&index.table) != on_views || index.inherited {
                continue;
            }
            // Kept as it is; otherwise created, and its comment with it.
            let old = self.from.indexes.get(key).filter(|o| {
                o.definition == index.definition
                    && !recreated.contains(&index.table)
                    && !self.on_regenerated(&index.table, &o.definition)
            });
            if old.is_none() {
                self.create_index(index);
            }
            if old.and_then(|o| o.comment.clone()) != index.comment {
                self.index_comment(index);
            }
        }
    }

    pub(super) fn create_index(&mut self, index: &Index) {
        // `pg_get_indexdef` writes `ON ONLY` for a partitioned table's index, which would
        // leave it without its partitions' indexes: those are wanted.
        let partitioned = self
            .to
            .tables
            .get(&index.table)
            .is_some_and(|t| t.partition_key.is_some());
        let definition = if partitioned {
            index.definition.replacen(" ON ONLY ", " ON ", 1)
        } else {
            index.definition.clone()
        };
        self.out.push(format!("{definition};"));
    }

    pub(super) fn index_comment(&mut self, index: &Index) {
        self.out.push(format!(
            "COMMENT ON INDEX {} IS {};",
            qualified(&index.schema, &index.name),
            comment_value(&index.comment)
        ));
    }

    /// The triggers of every table of `to` that are new or changed.
    pub(super) fn create_table_triggers(&mut self) {
        let (from, to) = (self.from, self.to);
        for (key, t) in &to.tables {
            let old = from.tables.get(key);
            self.create_triggers(&table_name(t), old.map(|o| &o.triggers), &t.triggers);
        }
    }

    /// Creates the triggers of `new` on `relation` that are new or changed (the changed
    /// ones were dropped), with their comments and enabled state.
    pub(super) fn create_triggers(
        &mut self,
        relation: &str,
        old: Option<&BTreeMap<String, Trigger>>,
        new: &BTreeMap<String, Trigger>,
    ) {
        for (name, trigger) in new {
            let before = old
                .and_then(|o| o.get(name))
                .filter(|b| b.definition == trigger.definition);
            if before.is_none() {
                self.out.push(format!("{};", trigger.definition));
            }
            if before.and_then(|b| b.comment.clone()) != trigger.comment {
                self.out.push(format!(
                    "COMMENT ON TRIGGER {} ON {relation} IS {};",
                    quote_ident(name),
                    comment_value(&trigger.comment)
                ));
            }
            let was = before.map_or("O", |b| b.enabled.as_str());
            if was != trigger.enabled {
                let state = match trigger.enabled.as_str() {
                    "D" => "DISABLE",
                    "R" => "ENABLE REPLICA",
                    "A" => "ENABLE ALWAYS",
                    _ => "ENABLE",
                };
                self.out.push(format!(
                    "ALTER TABLE {relation} {state} TRIGGER {};",
                    quote_ident(name)
                ));
            }
        }
    }

    /// Drops the triggers of `old` on `relation` that `new` changes or does not have.
    fn drop_triggers(
        &mut self,
        relation: &str,
        old: &BTreeMap<String, Trigger>,
        new: &BTreeMap<String, Trigger>,
    ) {
        for (name, trigger) in old {
            if new
                .get(name)
                .is_none_or(|k| k.definition != trigger.definition)
            {
                self.out.push(format!(
                    "DROP TRIGGER IF EXISTS {} ON {relation};",
                    quote_ident(name)
                ));
            }
        }
    }
}
