//! Tables and columns: created (partitions `PARTITION OF` their parent), altered column
//! by column, moved between partitions, dropped, with a comment where a drop and an add
//! look like a rename.

use std::fmt::Write as _;

use super::{Gen, comment_value, table_name, type_change_risk};
use crate::catalog::{Catalog, Column, Table};
use crate::pg::quote_ident;

/// Whether a partition stays a partition of the same parent, whose column changes then
/// reach it without statements of its own.
pub(super) fn stays_attached(old: &Table, new: &Table) -> bool {
    old.partition_of.is_some() && old.partition_of == new.partition_of
}

/// The tables of `catalog`, each partitioned table before its partitions.
fn partition_order(catalog: &Catalog) -> Vec<&Table> {
    let depth = |t: &Table| {
        let mut depth = 0;
        let mut parent = t.partition_of.as_ref();
        while let Some(p) = parent.and_then(|p| catalog.tables.get(p)) {
            depth += 1;
            parent = p.partition_of.as_ref();
            if depth > catalog.tables.len() {
                break;
            }
        }
        depth
    };
    let mut tables: Vec<&Table> = catalog.tables.values().collect();
    tables.sort_by_key(|t| depth(t));
    tables
}

/// Whether `text` names `name` as a whole word (for expressions Postgres keeps no
/// column dependencies of in the catalog: constraint and index definitions).
pub(super) fn mentions(text: &str, name: &str) -> bool {
    let word = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(name).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + name.len()..].chars().next();
        !before.is_some_and(word) && !after.is_some_and(word)
    })
}

/// The generated columns of `t` over a column whose type changes: they block the ALTER
/// TYPE, so they are dropped before and added again after (their values are computed,
/// nothing is lost).
pub(super) fn regenerated_columns<'t>(old: &Table, t: &'t Table) -> Vec<&'t Column> {
    let retyped: Vec<&str> = t
        .columns
        .iter()
        .filter(|c| {
            old.column(&c.name)
                .is_some_and(|b| b.generated == c.generated && retyped(b, c))
        })
        .map(|c| c.name.as_str())
        .collect();
    t.columns
        .iter()
        .filter(|c| {
            c.generated.as_deref().is_some_and(|expression| {
                old.column(&c.name)
                    .is_some_and(|b| b.generated == c.generated)
                    && retyped
                        .iter()
                        .any(|r| *r != c.name && mentions(expression, r))
            })
        })
        .collect()
}

/// Whether a column changes type or collation (an ALTER COLUMN ... TYPE).
pub(super) fn retyped(before: &Column, after: &Column) -> bool {
    before.data_type != after.data_type || before.collation != after.collation
}

/// A column as `CREATE TABLE` and `ADD COLUMN` write it.
fn column_definition(c: &Column) -> String {
    let mut text = format!("{} {}", quote_ident(&c.name), c.data_type);
    if let Some(collation) = &c.collation {
        let _ = write!(text, " COLLATE {collation}");
    }
    if let Some(identity) = &c.identity {
        let _ = write!(text, " GENERATED {} AS IDENTITY", identity.to_uppercase());
    }
    if let Some(expression) = &c.generated {
        let _ = write!(text, " GENERATED ALWAYS AS ({expression}) STORED");
    }
    if let Some(default) = &c.default {
        let _ = write!(text, " DEFAULT {default}");
    }
    if c.not_null {
        text.push_str(" NOT NULL");
    }
    text
}

impl<'a> Gen<'a> {
    /// Whether `definition`, of a constraint or index on the table `key`, names a
    /// generated column that is dropped and added again ([`regenerated_columns`]): dropping
    /// the column took it, so it is created again.
    pub(super) fn on_regenerated(&self, key: &str, definition: &str) -> bool {
        let (Some(old), Some(new)) = (self.from.tables.get(key), self.to.tables.get(key)) else {
            return false;
        };
        regenerated_columns(old, new)
            .iter()
            .any(|c| mentions(definition, &c.name))
    }

    /// Columns of tables kept that are gone or change generation (a partition's follow
    /// its parent's), each after a possible rename comment.
    pub(super) fn drop_columns(&mut self) {
        let (from, to) = (self.from, self.to);
        for (key, t) in &from.tables {
            let Some(new) = to.tables.get(key) else {
                continue;
            };
            if stays_attached(t, new) {
                continue;
            }
            let dropped: Vec<&Column> = t
                .columns
                .iter()
                .filter(|c| match new.column(&c.name) {
                    None => true,
                    Some(n) => n.generated != c.generated,
                })
                .collect();
            let added: Vec<&Column> = new
                .columns
                .iter()
                .filter(|c| t.column(&c.name).is_none())
                .collect();
            for c in &dropped {
                // A nullable column cannot have become a NOT NULL one with a default: its
                // nulls would have been filled, which a rename does not do.
                if new.column(&c.name).is_none()
                    && let Some(a) = added.iter().find(|a| {
                        a.data_type == c.data_type
                            && !(a.not_null && a.default.is_some() && !c.not_null)
                    })
                {
                    self.out.push(format!(
                        "-- possible rename: {}.{} -> {}: to keep the data, replace the DROP and ADD by ALTER TABLE {} RENAME COLUMN {} TO {};",
                        t.name,
                        c.name,
                        a.name,
                        table_name(t),
                        quote_ident(&c.name),
                        quote_ident(&a.name)
                    ));
                }
                self.out.destroy(
                    format!("drop column {}.{}", t.name, c.name),
                    format!(
                        "ALTER TABLE {} DROP COLUMN IF EXISTS {};",
                        table_name(t),
                        quote_ident(&c.name)
                    ),
                );
            }
        }
    }

    /// Tables gone, each after a possible rename comment.
    pub(super) fn drop_tables(&mut self) {
        let (from, to) = (self.from, self.to);
        for (key, t) in &from.tables {
            if !to.tables.contains_key(key) {
                if let Some(new) = self.renamed_table(t) {
                    self.out.push(format!(
                        "-- possible rename: table {} -> {}: to keep the data, replace the DROP TABLE and CREATE TABLE by ALTER TABLE {} RENAME TO {};",
                        t.name,
                        new.name,
                        table_name(t),
                        quote_ident(&new.name)
                    ));
                }
                self.out.destroy(
                    format!("drop table {}", t.name),
                    format!("DROP TABLE IF EXISTS {};", table_name(t)),
                );
            }
        }
    }

    /// A table of `to` that is new, in the same schema as the dropped `t` and with the
    /// same column names and types: most likely `t` renamed.
    fn renamed_table(&self, t: &Table) -> Option<&'a Table> {
        let shape = |table: &Table| -> Vec<(String, String)> {
            table
                .columns
                .iter()
                .map(|c| (c.name.clone(), c.data_type.clone()))
                .collect()
        };
        self.to.tables.iter().find_map(|(key, new)| {
            (new.schema == t.schema
                && !self.from.tables.contains_key(key)
                && !t.columns.is_empty()
                && shape(new) == shape(t))
            .then_some(new)
        })
    }

    /// Every table of `to`, partitioned tables before their partitions: created or
    /// altered.
    pub(super) fn create_tables(&mut self) {
        let (from, to) = (self.from, self.to);
        for t in partition_order(to) {
            match from.tables.get(&format!("{}.{}", t.schema, t.name)) {
                None => self.create_table(t),
                Some(old) => self.alter_table(old, t),
            }
        }
    }

    fn create_table(&mut self, t: &Table) {
        let partition_by = t
            .partition_key
            .as_ref()
            .map(|key| format!(" PARTITION BY {key}"))
            .unwrap_or_default();
        let parent = t.partition_of.as_ref().and_then(|p| self.to.tables.get(p));
        if let (Some(parent), Some(bound)) = (parent, &t.partition_bound) {
            self.create_partition(t, parent, bound, &partition_by);
        } else {
            let columns: Vec<String> = t
                .columns
                .iter()
                .map(|c| format!("    {}", column_definition(c)))
                .collect();
            self.out.push(format!(
                "CREATE TABLE {} (\n{}\n){partition_by};",
                table_name(t),
                columns.join(",\n")
            ));
            for c in &t.columns {
                self.column_settings(t, None, c);
            }
        }
        self.storage_parameters(None, t);
        if t.comment.is_some() {
            self.out.push(format!(
                "COMMENT ON TABLE {} IS {};",
                table_name(t),
                comment_value(&t.comment)
            ));
        }
        for c in &t.columns {
            if c.comment.is_some() {
                self.column_comment(t, c);
            }
        }
    }

    /// A partition created `PARTITION OF` its parent: the columns come from the parent;
    /// only what differs from it is set here.
    fn create_partition(&mut self, t: &Table, parent: &Table, bound: &str, partition_by: &str) {
        self.out.push(format!(
            "CREATE TABLE {} PARTITION OF {} {bound}{partition_by};",
            table_name(t),
            table_name(parent)
        ));
        for c in &t.columns {
            let Some(p) = parent.column(&c.name) else {
                continue;
            };
            let (name, column) = (table_name(t), quote_ident(&c.name));
            if p.default != c.default {
                self.out.push(match &c.default {
                    Some(default) => {
                        format!("ALTER TABLE {name} ALTER COLUMN {column} SET DEFAULT {default};")
                    }
                    None => format!("ALTER TABLE {name} ALTER COLUMN {column} DROP DEFAULT;"),
                });
            }
            if c.not_null && !p.not_null {
                self.out.push(format!(
                    "ALTER TABLE {name} ALTER COLUMN {column} SET NOT NULL;"
                ));
            }
            self.column_settings(t, Some(p), c);
        }
    }

    fn column_comment(&mut self, t: &Table, c: &Column) {
        self.out.push(format!(
            "COMMENT ON COLUMN {}.{} IS {};",
            table_name(t),
            quote_ident(&c.name),
            comment_value(&c.comment)
        ));
    }

    fn alter_table(&mut self, old: &Table, t: &Table) {
        let name = table_name(t);
        if old.kind != t.kind || old.partition_key != t.partition_key {
            let change = |key: &Option<String>| key.clone().unwrap_or_else(|| "none".into());
            self.out.skipped.push(format!(
                "table {}: partition key {} -> {}; write it by hand: create the new table, copy the data over, drop the old one and rename",
                t.name,
                change(&old.partition_key),
                change(&t.partition_key)
            ));
        }
        let attached = stays_attached(old, t);
        if old.comment != t.comment {
            self.out.push(format!(
                "COMMENT ON TABLE {name} IS {};",
                comment_value(&t.comment)
            ));
        }
        self.storage_parameters(Some(old), t);
        let regenerated = regenerated_columns(old, t);
        if !attached {
            for c in &regenerated {
                self.out.push(format!(
                    "ALTER TABLE {name} DROP COLUMN {};",
                    quote_ident(&c.name)
                ));
            }
        }
        for c in &t.columns {
            if regenerated.iter().any(|r| r.name == c.name) {
                continue;
            }
            let before = old.column(&c.name).filter(|b| b.generated == c.generated);
            if attached && before.is_none_or(|b| retyped(b, c)) {
                // Added or retyped on the parent, which does it for its partitions.
                continue;
            }
            match before {
                None => self.add_column(t, c),
                Some(b) => self.alter_column(t, b, c),
            }
        }
        if !attached {
            for c in regenerated {
                self.add_column(t, c);
            }
        }
        self.move_partition(old, t);
    }

    /// ADD COLUMN; one NOT NULL with nothing to fill it (no default, identity or
    /// generation) fails on a table that holds rows, and is flagged unless the data says
    /// the table is empty.
    fn add_column(&mut self, t: &Table, c: &Column) {
        let sql = format!(
            "ALTER TABLE {} ADD COLUMN {};",
            table_name(t),
            column_definition(c)
        );
        let unfilled =
            c.not_null && c.default.is_none() && c.identity.is_none() && c.generated.is_none();
        let why = match self.data.rows.get(&format!("{}.{}", t.schema, t.name)) {
            _ if !unfilled => None,
            Some(false) => None,
            Some(true) => Some(format!(
                "{} holds rows, so the migration fails: give the column a default, or add it \
                 nullable, fill it, then SET NOT NULL",
                t.name
            )),
            None => Some(format!(
                "fails if {} holds rows (the data was not looked at)",
                t.name
            )),
        };
        match why {
            Some(why) => self.out.destroy(
                format!(
                    "add column {}.{}: NOT NULL without a default, and {why}",
                    t.name, c.name
                ),
                sql,
            ),
            None => self.out.push(sql),
        }
        self.column_settings(t, None, c);
        if c.comment.is_some() {
            self.column_comment(t, c);
        }
    }

    /// The column `b` of `t` made `c`: identity and default set aside, type, nullability,
    /// then default, identity and comment.
    fn alter_column(&mut self, t: &Table, b: &Column, c: &Column) {
        let name = table_name(t);
        let column = quote_ident(&c.name);
        if b.identity.is_some() && b.identity != c.identity {
            self.out.push(format!(
                "ALTER TABLE {name} ALTER COLUMN {column} DROP IDENTITY;"
            ));
        }
        if b.default != c.default && b.default.is_some() {
            self.out.push(format!(
                "ALTER TABLE {name} ALTER COLUMN {column} DROP DEFAULT;"
            ));
        }
        // A column of a recreated enum keeps its type's name: `recreate_enum` moved it.
        if retyped(b, c) {
            self.change_type(t, b, c);
        }
        if b.not_null != c.not_null {
            self.change_not_null(t, c);
        }
        if b.default != c.default
            && let Some(default) = &c.default
        {
            self.out.push(format!(
                "ALTER TABLE {name} ALTER COLUMN {column} SET DEFAULT {default};"
            ));
        }
        if b.identity != c.identity
            && let Some(identity) = &c.identity
        {
            // A changed kind was dropped above: it is added back with the new one.
            let kind = identity.to_uppercase();
            self.out.push(format!(
                "ALTER TABLE {name} ALTER COLUMN {column} ADD GENERATED {kind} AS IDENTITY;"
            ));
        }
        self.column_settings(t, Some(b), c);
        if b.comment != c.comment {
            self.column_comment(t, c);
        }
    }

    /// ALTER COLUMN ... TYPE, destructive when the change can narrow or fail.
    fn change_type(&mut self, t: &Table, b: &Column, c: &Column) {
        let (name, column) = (table_name(t), quote_ident(&c.name));
        let collate = c
            .collation
            .as_ref()
            .map(|x| format!(" COLLATE {x}"))
            .unwrap_or_default();
        let sql = format!(
            "ALTER TABLE {name} ALTER COLUMN {column} TYPE {}{collate} USING {column}::{};",
            c.data_type, c.data_type
        );
        match type_change_risk(&b.data_type, &c.data_type) {
            Some(risk) => self.out.destroy(
                format!(
                    "change type of {}.{}: {} -> {} ({risk})",
                    t.name, c.name, b.data_type, c.data_type
                ),
                sql,
            ),
            None => self.out.push(sql),
        }
    }

    /// SET or DROP NOT NULL; SET is destructive unless the data says the column holds
    /// no null.
    fn change_not_null(&mut self, t: &Table, c: &Column) {
        let (name, column) = (table_name(t), quote_ident(&c.name));
        if !c.not_null {
            self.out.push(format!(
                "ALTER TABLE {name} ALTER COLUMN {column} DROP NOT NULL;"
            ));
            return;
        }
        let sql = format!("ALTER TABLE {name} ALTER COLUMN {column} SET NOT NULL;");
        let key = format!("{}.{}.{}", t.schema, t.name, c.name);
        let why = match self.data.nulls.get(&key) {
            Some(false) => None,
            Some(true) => {
                Some("rows of the database hold null there: fill them first or the migration fails")
            }
            None => Some("fails if a row holds null (the data was not looked at)"),
        };
        match why {
            Some(why) => self
                .out
                .destroy(format!("set not null on {}.{}: {why}", t.name, c.name), sql),
            None => self.out.push(sql),
        }
    }

    /// A partition given another bound or parent (or none, or a table made a partition):
    /// detached from where it was, attached where it goes.
    fn move_partition(&mut self, old: &Table, t: &Table) {
        if old.partition_of == t.partition_of && old.partition_bound == t.partition_bound {
            return;
        }
        let name = table_name(t);
        let parent_name = |catalog: &Catalog, key: &Option<String>| {
            key.as_ref()
                .and_then(|k| catalog.tables.get(k))
                .map(table_name)
        };
        if let Some(parent) = parent_name(self.from, &old.partition_of) {
            self.out
                .push(format!("ALTER TABLE {parent} DETACH PARTITION {name};"));
        }
        if let (Some(parent), Some(bound)) =
            (parent_name(self.to, &t.partition_of), &t.partition_bound)
        {
            self.out.push(format!(
                "ALTER TABLE {parent} ATTACH PARTITION {name} {bound};"
            ));
        }
    }
}
