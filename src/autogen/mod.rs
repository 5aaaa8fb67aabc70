//! Autogenerate: the DDL that turns one [`Catalog`] into another.
//!
//! [`generate`] compares `from` (what the migrations build) with `to` (the declarative
//! schema) and writes the statements in an order that applies on a real database: drops
//! first, in reverse dependency order (event triggers, policies, rules, triggers, views,
//! functions, foreign keys (a dropped table's too), indexes, extended statistics, other
//! constraints, columns, tables, domains and composite types, sequences, enums,
//! extensions, schemas), then creates and alterations in dependency order (schemas,
//! extensions, enums, domains and composite types, sequences, tables with partitioned
//! tables before their partitions, columns, constraints, indexes, then the foreign keys,
//! which may lean on a unique index, functions then the aggregates built on them, views,
//! extended statistics, triggers, comments, row-level security and policies, rules, event
//! triggers, the grants, and last default privileges). A foreign key whose unique index is
//! made again is dropped before it and added after it. The down section of a revision is
//! the same generator with the
//! sides swapped.
//!
//! Dependencies come from `pg_depend`, as the catalog records them: a view is dropped and
//! created again only when a column, function, enum or view it uses changes; a function
//! that names no table is created before the tables (a default or check may call it) and
//! dropped after them, one over a table's row type after the tables, one over a view's
//! after the views. A revision creating a SQL function with a body in quotes turns
//! `check_function_bodies` off for its transaction, as pg_dump does, since the body may
//! name what is created further down.
//!
//! Drops use `IF EXISTS`, because dropping a table or a column already takes the
//! constraints, indexes and triggers that live on it. Every statement that can lose data
//! is flagged ([`Script::destructive`]): drops, type changes that narrow or may fail
//! ([`type_change_risk`]), enums that lose a label, SET NOT NULL unless [`DataFacts`]
//! says the column holds no null; so is an ADD COLUMN NOT NULL without a default unless
//! the table holds no row, since it fails on one that does. A column dropped and another
//! of the same type added in the same table (unless a nullable one would have become
//! NOT NULL with a default), or a table dropped and one of the same columns added, get a
//! `-- possible rename:` comment, since the catalogs cannot tell a rename from a drop and
//! an add.
//!
//! Partitions are created `PARTITION OF` their parent, which gives them the parent's
//! columns, indexes and constraints: those are left to the parent (the catalog marks the
//! copies as inherited). A partition moved to another bound or parent is detached and
//! attached again. Grants are compared privilege by privilege, a new object's with the
//! grants Postgres gives it when it is created ([`grants`]).
//!
//! Not generated (listed in [`Script::skipped`], to be written by hand): a changed
//! partition key and a table turned partitioned or back, which need a new table and a
//! copy of the data; a domain's new base type or collation, a composite type's attributes
//! in a new order, or one retyped while a column stores the type, a range type's options
//! or canonical function (see `domains`).
//!
//! Where each decision lives:
//!
//! - `order`: the order of the statements, drops, creates and the drops that must wait
//!   for the creates, as a list of named steps;
//! - `schemas`: schemas, extensions and sequences;
//! - `enums`: enums, which are altered, recreated (and what that pulls along) or dropped;
//! - `domains`: domains, composite and range types, after the enums and before the
//!   tables and functions that use them, altered in place or left to be written by hand;
//! - `tables`: tables and columns, partitions, possible renames;
//! - `constraints`: constraints, indexes and triggers, the things that live on a table;
//! - `views`: views and functions, which hold on to each other: what is dropped and
//!   created again, and where in the order a function goes;
//! - `tuning`: extended statistics, storage parameters of tables, statistics targets,
//!   storage and compression of columns;
//! - `grants`: GRANT and REVOKE from access lists;
//! - `security`: row-level security and policies, rules, event triggers, extension
//!   comments and default privileges;
//! - `types`: whether a column type change can lose data ([`type_change_risk`]).

use std::cell::OnceCell;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use crate::catalog::{Catalog, Function, Table, View};
use crate::pg::{quote_ident, quote_literal};

mod constraints;
mod domains;
mod enums;
mod grants;
mod order;
mod schemas;
mod security;
mod tables;
mod tuning;
mod types;
mod views;

pub(crate) use types::type_change_risk;

/// What is known of the data a revision will run on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct DataFacts {
    /// Whether a column (`schema.table.column`) holds nulls now; a column that is not
    /// here was not looked at.
    pub nulls: BTreeMap<String, bool>,
    /// Whether a table (`schema.table`) holds rows now; a table that is not here was not
    /// looked at.
    pub rows: BTreeMap<String, bool>,
}

/// A table that `generate(from, to)` adds a NOT NULL column to with nothing to fill it
/// (no default, identity or generation): whether it holds rows decides whether the
/// migration fails. `(schema, table)`.
pub(crate) fn tables_getting_unfilled_columns(
    from: &Catalog,
    to: &Catalog,
) -> Vec<(String, String)> {
    to.tables
        .iter()
        .filter(|(key, t)| {
            from.tables.get(*key).is_some_and(|old| {
                t.columns.iter().any(|c| {
                    c.not_null
                        && c.default.is_none()
                        && c.identity.is_none()
                        && c.generated.is_none()
                        && old.column(&c.name).is_none()
                })
            })
        })
        .map(|(_, t)| (t.schema.clone(), t.name.clone()))
        .collect()
}

/// A column that `generate(from, to)` sets NOT NULL: the ones whose data decides whether
/// that loses anything. `(schema, table, column)`.
pub(crate) fn set_not_null_columns(from: &Catalog, to: &Catalog) -> Vec<(String, String, String)> {
    let mut columns = Vec::new();
    for (key, t) in &to.tables {
        let Some(old) = from.tables.get(key) else {
            continue;
        };
        for c in &t.columns {
            if c.not_null
                && old
                    .column(&c.name)
                    .is_some_and(|b| !b.not_null && b.generated == c.generated)
            {
                columns.push((t.schema.clone(), t.name.clone(), c.name.clone()));
            }
        }
    }
    columns
}

/// The statements that turn one catalog into another.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Script {
    /// Statements (and `--` comments) in the order they must run.
    pub statements: Vec<String>,
    /// One line per statement that can lose data.
    pub destructive: Vec<String>,
    /// Differences no statement was written for, to be handled by hand.
    pub skipped: Vec<String>,
}

impl Script {
    pub(crate) fn is_empty(&self) -> bool {
        self.statements.is_empty() && self.skipped.is_empty()
    }

    /// The SQL text: a comment block naming the destructive statements and what was not
    /// generated, then the statements.
    pub(crate) fn render(&self) -> String {
        let mut text = String::new();
        if !self.destructive.is_empty() {
            text.push_str("-- DESTRUCTIVE: these statements can lose data; review them:\n");
            for line in &self.destructive {
                let _ = writeln!(text, "--   {line}");
            }
            text.push('\n');
        }
        if !self.skipped.is_empty() {
            text.push_str("-- NOT GENERATED: write these by hand:\n");
            for line in &self.skipped {
                let _ = writeln!(text, "--   {line}");
            }
            text.push('\n');
        }
        for statement in &self.statements {
            text.push_str(statement);
            text.push('\n');
        }
        text
    }

    fn push(&mut self, sql: String) {
        self.statements.push(sql);
    }

    fn destroy(&mut self, what: String, sql: String) {
        self.destructive.push(what);
        self.statements.push(sql);
    }
}

/// The statements that turn `from` into `to`, knowing nothing of the data: every
/// `SET NOT NULL` is flagged.
pub(crate) fn generate(from: &Catalog, to: &Catalog) -> Script {
    generate_for(from, to, &DataFacts::default())
}

/// The statements that turn `from` into `to` on a database whose data is described by
/// `data`.
pub(crate) fn generate_for(from: &Catalog, to: &Catalog, data: &DataFacts) -> Script {
    let mut g = Gen {
        from,
        to,
        data,
        sql_bodies: false,
        out: Script::default(),
        recreated: OnceCell::new(),
        dropped: OnceCell::new(),
    };
    g.drops();
    g.creates();
    g.late_drops();
    if g.sql_bodies {
        // pg_dump does the same: a body in quotes may name a table or view created
        // further down. The declarative schema has already run them all.
        g.out.statements.insert(
            0,
            "SET LOCAL check_function_bodies = off; -- SQL function bodies are checked when they run"
                .to_string(),
        );
    }
    g.out
}

fn qualified(schema: &str, name: &str) -> String {
    format!("{}.{}", quote_ident(schema), quote_ident(name))
}

fn table_name(t: &Table) -> String {
    qualified(&t.schema, &t.name)
}

fn comment_value(comment: &Option<String>) -> String {
    comment
        .as_deref()
        .map_or_else(|| "NULL".to_string(), quote_literal)
}

struct Gen<'a> {
    from: &'a Catalog,
    to: &'a Catalog,
    data: &'a DataFacts,
    /// Whether a SQL function with a body in quotes is created.
    sql_bodies: bool,
    out: Script,
    /// [`Gen::recreated_enums`] and [`Gen::dropped`], worked out once: every step asks.
    recreated: OnceCell<BTreeSet<&'a String>>,
    dropped: OnceCell<(Vec<&'a View>, Vec<&'a Function>)>,
}

#[cfg(test)]
mod tests;
