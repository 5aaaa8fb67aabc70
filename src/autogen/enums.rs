//! Enums: created, given labels with `ADD VALUE`, recreated when that cannot do (and
//! the columns, checks and indexes over them moved to the new type), dropped.

use std::collections::BTreeSet;

use super::tables::{mentions, stays_attached};
use super::{Gen, comment_value, qualified, table_name};
use crate::catalog::{Column, Constraint, ConstraintKind, Enum, Index, Table};
use crate::pg::{quote_ident, quote_literal};

/// Whether `to`'s labels are `from`'s with labels inserted (what `ADD VALUE` can do).
pub(super) fn labels_only_added(from: &[String], to: &[String]) -> bool {
    let mut rest = to.iter();
    from.iter().all(|label| rest.any(|l| l == label))
}

/// Whether a column's type is the enum `e` or an array of it.
fn of_enum(c: &Column, e: &Enum) -> bool {
    let base = c.data_type.trim_end_matches("[]");
    // `format_type` quotes a name only when it must (`"DocumentStatus"`, `"user"`) and
    // leaves out a schema on the search path: every spelling it may choose.
    let spellings = |name: &str| {
        let mut all = vec![quote_ident(name)];
        if is_plain_identifier(name) {
            all.push(name.to_string());
        }
        all
    };
    let names = spellings(&e.name);
    let schemas = spellings(&e.schema);
    names
        .iter()
        .any(|n| base == n.as_str() || schemas.iter().any(|s| base == format!("{s}.{n}")))
}

/// A name Postgres can print without quotes: lower case letters, digits, `_` and `$`,
/// not starting with a digit or `$` (a keyword is quoted too, so the quoted spelling is
/// tried as well).
fn is_plain_identifier(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '$')
}

impl<'a> Gen<'a> {
    /// Enums whose labels changed in a way `ADD VALUE` cannot do: recreated.
    ///
    /// Also those whose added labels the new schema uses (in a default, check, index,
    /// view or function): Postgres refuses a label added by `ADD VALUE` until its
    /// transaction commits, and a revision is one transaction. Recreating loses nothing
    /// then, since every old label is kept.
    pub(super) fn recreated_enums(&self) -> BTreeSet<&'a String> {
        self.recreated
            .get_or_init(|| self.find_recreated_enums())
            .clone()
    }

    fn find_recreated_enums(&self) -> BTreeSet<&'a String> {
        let (from, to) = (self.from, self.to);
        to.enums
            .iter()
            .filter(|(key, e)| {
                from.enums.get(*key).is_some_and(|old| {
                    !labels_only_added(&old.labels, &e.labels) || self.new_label_used(old, e)
                })
            })
            .map(|(key, _)| key)
            .collect()
    }

    /// Whether a label of `e` that `old` lacks appears as a literal of the enum in `to`.
    fn new_label_used(&self, old: &Enum, e: &Enum) -> bool {
        let to = self.to;
        let literals: Vec<String> = e
            .labels
            .iter()
            .filter(|l| !old.labels.contains(l))
            .flat_map(|l| {
                let label = quote_literal(l);
                [
                    format!("{label}::{}", e.name),
                    format!("{label}::{}.{}", e.schema, e.name),
                    format!("{label}::{}", qualified(&e.schema, &e.name)),
                ]
            })
            .collect();
        if literals.is_empty() {
            return false;
        }
        let mut texts: Vec<&str> = Vec::new();
        for t in to.tables.values() {
            texts.extend(t.constraints.values().map(|c| c.definition.as_str()));
            texts.extend(t.columns.iter().filter_map(|c| c.default.as_deref()));
            texts.extend(t.columns.iter().filter_map(|c| c.generated.as_deref()));
            texts.extend(t.triggers.values().map(|t| t.definition.as_str()));
        }
        texts.extend(to.indexes.values().map(|i| i.definition.as_str()));
        texts.extend(to.views.values().map(|v| v.definition.as_str()));
        texts.extend(
            to.functions
                .values()
                .filter_map(|f| f.definition.as_deref()),
        );
        texts
            .iter()
            .any(|text| literals.iter().any(|l| text.contains(l.as_str())))
    }

    /// What a recreated enum pulls from under the objects that use it: the enum itself
    /// (`schema.name`) and every kept column of its type (`schema.table.column`).
    pub(super) fn enum_dependents(&self) -> BTreeSet<String> {
        let mut keys = BTreeSet::new();
        for key in self.recreated_enums() {
            let e = &self.to.enums[key];
            keys.insert(key.clone());
            for (table, t) in &self.from.tables {
                for c in t.columns.iter().filter(|c| of_enum(c, e)) {
                    keys.insert(format!("{table}.{}", c.name));
                }
            }
        }
        keys
    }

    /// Every enum of `to`: created, recreated or given its new labels, and its comment.
    pub(super) fn create_enums(&mut self) {
        let (from, to) = (self.from, self.to);
        let recreated = self.recreated_enums();
        for (key, e) in &to.enums {
            match from.enums.get(key) {
                None => self.create_enum(e),
                Some(old) if recreated.contains(key) => self.recreate_enum(old, e),
                Some(old) => self.add_labels(old, e),
            }
            // A recreated type starts without a comment.
            let old_comment = from
                .enums
                .get(key)
                .filter(|_| !recreated.contains(key))
                .and_then(|o| o.comment.clone());
            if old_comment != e.comment {
                self.out.push(format!(
                    "COMMENT ON TYPE {} IS {};",
                    qualified(&e.schema, &e.name),
                    comment_value(&e.comment)
                ));
            }
        }
    }

    /// `ADD VALUE` for each label of `e` that `old` lacks, in its place.
    fn add_labels(&mut self, old: &Enum, e: &Enum) {
        for (i, label) in e.labels.iter().enumerate() {
            if old.labels.contains(label) {
                continue;
            }
            let place = match i.checked_sub(1) {
                Some(p) => format!(" AFTER {}", quote_literal(&e.labels[p])),
                None => match e.labels.get(1) {
                    Some(next) => format!(" BEFORE {}", quote_literal(next)),
                    None => String::new(),
                },
            };
            self.out.push(format!(
                "ALTER TYPE {} ADD VALUE {}{place};",
                qualified(&e.schema, &e.name),
                quote_literal(label)
            ));
        }
    }

    fn create_enum(&mut self, e: &Enum) {
        let labels: Vec<String> = e.labels.iter().map(|l| quote_literal(l)).collect();
        self.out.push(format!(
            "CREATE TYPE {} AS ENUM ({});",
            qualified(&e.schema, &e.name),
            labels.join(", ")
        ));
    }

    /// Renames the old type away, creates the new one, moves the columns over with a cast
    /// through text (a row holding a removed label fails) and drops the old type.
    fn recreate_enum(&mut self, old: &Enum, e: &Enum) {
        let aside = format!("{}__devdb_old", e.name);
        self.out.push(format!(
            "ALTER TYPE {} RENAME TO {};",
            qualified(&old.schema, &old.name),
            quote_ident(&aside)
        ));
        self.create_enum(e);
        let from = self.from;
        for t in from.tables.values() {
            let key = format!("{}.{}", t.schema, t.name);
            // A partition's columns follow its parent's.
            let Some(new) = self.to.tables.get(&key).filter(|n| !stays_attached(t, n)) else {
                continue;
            };
            self.move_enum_columns(t, new, old, e);
        }
        self.out
            .push(format!("DROP TYPE {};", qualified(&old.schema, &aside)));
    }

    /// Moves the columns of `t` typed `e` to the new type, with the checks and indexes
    /// over them set aside meanwhile.
    fn move_enum_columns(&mut self, t: &'a Table, new: &Table, old: &Enum, e: &Enum) {
        let key = format!("{}.{}", t.schema, t.name);
        let columns: Vec<&Column> = t.columns.iter().filter(|c| of_enum(c, e)).collect();
        // Checks and indexes that compare the column with a label would be rebuilt
        // against the old type: set the unchanged ones aside (changed ones are dropped
        // and created by the steps for constraints and indexes).
        let uses = |definition: &str| columns.iter().any(|c| mentions(definition, &c.name));
        let checks: Vec<(&String, &Constraint)> = t
            .constraints
            .iter()
            .filter(|(name, c)| {
                c.kind == ConstraintKind::Check
                    && !c.inherited
                    && uses(&c.definition)
                    && new.constraints.get(*name) == Some(*c)
            })
            .collect();
        let indexes: Vec<&Index> = self
            .from
            .indexes
            .iter()
            .filter(|(name, i)| {
                i.table == key
                    && !i.inherited
                    && uses(&i.definition)
                    && self.to.indexes.get(*name) == Some(*i)
            })
            .map(|(_, i)| i)
            .collect();
        for (name, _) in &checks {
            self.out.push(format!(
                "ALTER TABLE {} DROP CONSTRAINT {};",
                table_name(t),
                quote_ident(name)
            ));
        }
        for i in &indexes {
            self.out
                .push(format!("DROP INDEX {};", qualified(&i.schema, &i.name)));
        }
        for c in &columns {
            self.retype_enum_column(t, c, old, e);
        }
        for (name, c) in &checks {
            self.add_constraint(t, name, c);
            if c.comment.is_some() {
                self.constraint_comment(t, name, c);
            }
        }
        for i in &indexes {
            self.create_index(i);
            if i.comment.is_some() {
                self.index_comment(i);
            }
        }
    }

    /// The column `c` of `t` moved from `old` to `e` with a cast through text, its
    /// default set aside meanwhile; destructive when `e` loses a label.
    fn retype_enum_column(&mut self, t: &Table, c: &Column, old: &Enum, e: &Enum) {
        let base = c.data_type.trim_end_matches("[]");
        let array = &c.data_type[base.len()..];
        if c.default.is_some() {
            self.out.push(format!(
                "ALTER TABLE {} ALTER COLUMN {} DROP DEFAULT;",
                table_name(t),
                quote_ident(&c.name)
            ));
        }
        let sql = format!(
            "ALTER TABLE {} ALTER COLUMN {} TYPE {}{array} USING {}::text{array}::{}{array};",
            table_name(t),
            quote_ident(&c.name),
            qualified(&e.schema, &e.name),
            quote_ident(&c.name),
            qualified(&e.schema, &e.name),
        );
        if labels_only_added(&old.labels, &e.labels) {
            self.out.push(sql);
        } else {
            let removed: Vec<String> = old
                .labels
                .iter()
                .filter(|l| !e.labels.contains(l))
                .map(|l| quote_literal(l))
                .collect();
            self.out.destroy(
                format!(
                    "recreate enum {} without label(s) {} (column {}.{}: a row holding one fails)",
                    e.name,
                    removed.join(", "),
                    t.name,
                    c.name
                ),
                sql,
            );
        }
        if let Some(default) = &c.default {
            self.out.push(format!(
                "ALTER TABLE {} ALTER COLUMN {} SET DEFAULT {default};",
                table_name(t),
                quote_ident(&c.name)
            ));
        }
    }

    pub(super) fn drop_enums(&mut self) {
        let (from, to) = (self.from, self.to);
        for (key, e) in &from.enums {
            if !to.enums.contains_key(key) {
                self.out.push(format!(
                    "DROP TYPE IF EXISTS {};",
                    qualified(&e.schema, &e.name)
                ));
            }
        }
    }
}
