//! Autogenerate: the DDL that turns one [`Catalog`] into another.
//!
//! [`generate`] compares `from` (what the migrations build) with `to` (the declarative
//! schema) and writes the statements in an order that applies on a real database: drops
//! first, in reverse dependency order (triggers, views, functions, indexes, foreign keys,
//! other constraints, columns, tables, sequences, enums, extensions, schemas), then creates
//! and alterations in dependency order (schemas, extensions, enums, sequences, tables
//! with partitioned tables before their partitions, columns, constraints with foreign keys
//! last, indexes, functions then the aggregates built on them, views, triggers, comments,
//! and last the grants). The down section of a revision is the same generator with the
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
//! says the column holds no null. A column dropped and another of the same type added in
//! the same table, or a table dropped and one of the same columns added, get a
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
//! copy of the data.

use std::cell::OnceCell;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use crate::catalog::{
    Catalog, Column, Constraint, Enum, Function, Index, Sequence, Table, Trigger, View,
};
use crate::migrate::store::{quote_ident, quote_literal};
use grants::AclKind;

mod grants;

mod types;

pub use types::type_change_risk;

/// What is known of the data a revision will run on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DataFacts {
    /// Whether a column (`schema.table.column`) holds nulls now; a column that is not
    /// here was not looked at.
    pub nulls: BTreeMap<String, bool>,
}

/// A column that `generate(from, to)` sets NOT NULL: the ones whose data decides whether
/// that loses anything. `(schema, table, column)`.
pub fn set_not_null_columns(from: &Catalog, to: &Catalog) -> Vec<(String, String, String)> {
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
pub struct Script {
    /// Statements (and `--` comments) in the order they must run.
    pub statements: Vec<String>,
    /// One line per statement that can lose data.
    pub destructive: Vec<String>,
    /// Differences no statement was written for, to be handled by hand.
    pub skipped: Vec<String>,
}

impl Script {
    pub fn is_empty(&self) -> bool {
        self.statements.is_empty() && self.skipped.is_empty()
    }

    /// The SQL text: a comment block naming the destructive statements and what was not
    /// generated, then the statements.
    pub fn render(&self) -> String {
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
pub fn generate(from: &Catalog, to: &Catalog) -> Script {
    generate_for(from, to, &DataFacts::default())
}

/// The statements that turn `from` into `to` on a database whose data is described by
/// `data`.
pub fn generate_for(from: &Catalog, to: &Catalog, data: &DataFacts) -> Script {
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

/// Constraints that are written as constraints (not-null ones live on their column).
fn is_table_constraint(kind: &str) -> bool {
    !matches!(kind, "not null" | "trigger")
}

fn function_signature(f: &Function) -> String {
    format!("{}({})", qualified(&f.schema, &f.name), f.arguments)
}

fn function_keyword(f: &Function) -> &'static str {
    match f.kind.as_str() {
        "procedure" => "PROCEDURE",
        "aggregate" => "AGGREGATE",
        _ => "FUNCTION",
    }
}

fn view_keyword(v: &View) -> &'static str {
    if v.materialized {
        "MATERIALIZED VIEW"
    } else {
        "VIEW"
    }
}

/// Whether a sequence is made by an identity column (it comes and goes with it).
fn identity_sequence(catalog: &Catalog, s: &Sequence) -> bool {
    let Some(owner) = &s.owned_by else {
        return false;
    };
    catalog.tables.values().any(|t| {
        t.columns.iter().any(|c| {
            c.identity.is_some() && *owner == format!("{}.{}.{}", t.schema, t.name, c.name)
        })
    })
}

/// Whether a partition stays a partition of the same parent, whose column changes then
/// reach it without statements of its own.
fn stays_attached(old: &Table, new: &Table) -> bool {
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

/// Whether `to`'s labels are `from`'s with labels inserted (what `ADD VALUE` can do).
fn labels_only_added(from: &[String], to: &[String]) -> bool {
    let mut rest = to.iter();
    from.iter().all(|label| rest.any(|l| l == label))
}

/// Whether `text` names `name` as a whole word (for expressions Postgres keeps no
/// column dependencies of in the catalog: constraint and index definitions).
fn mentions(text: &str, name: &str) -> bool {
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
fn regenerated_columns<'t>(old: &Table, t: &'t Table) -> Vec<&'t Column> {
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
fn retyped(before: &Column, after: &Column) -> bool {
    before.data_type != after.data_type || before.collation != after.collation
}

/// Whether a column's type is the enum `e` or an array of it.
fn of_enum(c: &Column, e: &Enum) -> bool {
    let base = c.data_type.trim_end_matches("[]");
    base == e.name
        || base == format!("{}.{}", e.schema, e.name)
        || base == qualified(&e.schema, &e.name)
}

fn view_key(v: &View) -> String {
    format!("{}.{}", v.schema, v.name)
}

fn function_key(f: &Function) -> String {
    format!("{}.{}({})", f.schema, f.name, f.arguments)
}

/// Views in an order where each comes after the views it depends on (`pg_depend`).
fn view_order<'a>(views: &[&'a View]) -> Vec<&'a View> {
    let mut ordered: Vec<&View> = Vec::new();
    let mut pending: Vec<&View> = views.to_vec();
    while !pending.is_empty() {
        let keys: BTreeSet<String> = pending.iter().map(|v| view_key(v)).collect();
        let (ready, waiting): (Vec<&View>, Vec<&View>) = pending
            .iter()
            .partition(|v| !v.depends_on.iter().any(|d| keys.contains(d)));
        if ready.is_empty() {
            // Views cannot depend on each other in a cycle; keep the order if they seem to.
            ordered.extend(waiting);
            break;
        }
        ordered.extend(ready);
        pending = waiting;
    }
    ordered
}

/// Where a function is created: before the tables when nothing in it depends on one (a
/// column default or check can then call it), after the tables when its row types or
/// SQL-standard body name tables, after the views when they name a view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum FunctionTier {
    BeforeTables,
    AfterTables,
    AfterViews,
}

fn function_tier(catalog: &Catalog, f: &Function) -> FunctionTier {
    tier_within(catalog, f, catalog.functions.len())
}

/// The tier of `f`: the latest of what it depends on, the functions it calls (an
/// aggregate's support functions) included; `depth` guards against a cycle.
fn tier_within(catalog: &Catalog, f: &Function, depth: usize) -> FunctionTier {
    if f.definition.is_none() {
        return FunctionTier::AfterViews;
    }
    let mut tier = FunctionTier::BeforeTables;
    for d in &f.depends_on {
        let here = if catalog.views.contains_key(d) {
            FunctionTier::AfterViews
        } else if catalog.tables.contains_key(d) {
            FunctionTier::AfterTables
        } else {
            match catalog.functions.get(d) {
                Some(g) if depth > 0 && g.name != f.name => tier_within(catalog, g, depth - 1),
                _ => FunctionTier::BeforeTables,
            }
        };
        tier = tier.max(here);
    }
    tier
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

impl<'a> Gen<'a> {
    /// Enums whose labels changed in a way `ADD VALUE` cannot do: recreated.
    ///
    /// Also those whose added labels the new schema uses (in a default, check, index,
    /// view or function): Postgres refuses a label added by `ADD VALUE` until its
    /// transaction commits, and a revision is one transaction. Recreating loses nothing
    /// then, since every old label is kept.
    fn recreated_enums(&self) -> BTreeSet<&'a String> {
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

    /// Views dropped: gone, changed in any way but their comment, or depending on
    /// something that changes under them (a table whose columns are dropped or retyped, a
    /// function dropped, a view dropped); the ones still wanted are created again.
    fn views_to_drop(&self) -> Vec<&'a View> {
        self.dropped().0
    }

    /// The views and functions dropped, found together since each can hold on to the
    /// other: first what changes by itself (a view's query, a function's result or
    /// kind, a function over a recreated enum), then, until nothing more is found,
    /// everything depending on something dropped, retyped or recreated (a table, a
    /// column, an enum, a view, a function). Functions come in the order they are found,
    /// so the ones found later depend on earlier ones.
    fn dropped(&self) -> (Vec<&'a View>, Vec<&'a Function>) {
        self.dropped.get_or_init(|| self.find_dropped()).clone()
    }

    fn find_dropped(&self) -> (Vec<&'a View>, Vec<&'a Function>) {
        let (from, to) = (self.from, self.to);
        // Tables dropped, columns dropped or retyped, enums recreated.
        let mut changing: BTreeSet<String> = BTreeSet::new();
        for (key, t) in &from.tables {
            let Some(new) = to.tables.get(key) else {
                changing.insert(key.clone());
                continue;
            };
            for c in &t.columns {
                let altered = new
                    .column(&c.name)
                    .is_none_or(|n| n.generated != c.generated || retyped(c, n));
                if altered {
                    changing.insert(format!("{key}.{}", c.name));
                }
            }
            for c in regenerated_columns(t, new) {
                changing.insert(format!("{key}.{}", c.name));
            }
        }
        changing.extend(self.enum_dependents());
        let mut functions: Vec<&'a Function> = from
            .functions
            .iter()
            .filter(|(key, f)| match to.functions.get(*key) {
                None => true,
                Some(new) => new.result != f.result || new.kind != f.kind,
            })
            .map(|(_, f)| f)
            .collect();
        changing.extend(functions.iter().map(|f| function_key(f)));
        let mut views: Vec<&'a View> = Vec::new();
        loop {
            let more_views: Vec<&'a View> = from
                .views
                .iter()
                .filter(|(key, _)| !changing.contains(*key))
                .filter(|(key, v)| match to.views.get(*key) {
                    None => true,
                    Some(new) => {
                        new.definition != v.definition
                            || new.materialized != v.materialized
                            || new.populated != v.populated
                            || v.depends_on.iter().any(|d| changing.contains(d))
                    }
                })
                .map(|(_, v)| v)
                .collect();
            let more_functions: Vec<&'a Function> = from
                .functions
                .iter()
                .filter(|(key, f)| {
                    !changing.contains(*key) && f.depends_on.iter().any(|d| changing.contains(d))
                })
                .map(|(_, f)| f)
                .collect();
            if more_views.is_empty() && more_functions.is_empty() {
                return (views, functions);
            }
            for v in more_views {
                changing.insert(view_key(v));
                views.push(v);
            }
            for f in more_functions {
                changing.insert(function_key(f));
                functions.push(f);
            }
        }
    }

    /// Whether `definition`, of a constraint or index on the table `key`, names a
    /// generated column that is dropped and added again ([`regenerated_columns`]): dropping
    /// the column took it, so it is created again.
    fn on_regenerated(&self, key: &str, definition: &str) -> bool {
        let (Some(old), Some(new)) = (self.from.tables.get(key), self.to.tables.get(key)) else {
            return false;
        };
        regenerated_columns(old, new)
            .iter()
            .any(|c| mentions(definition, &c.name))
    }

    /// What a recreated enum pulls from under the objects that use it: the enum itself
    /// (`schema.name`) and every kept column of its type (`schema.table.column`).
    fn enum_dependents(&self) -> BTreeSet<String> {
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

    /// Functions dropped ([`Self::dropped`]), in the order they can be: the ones found
    /// later, which depend on earlier ones, first; aggregates before the functions they
    /// are built on.
    fn functions_to_drop(&self) -> Vec<&'a Function> {
        let mut functions = self.dropped().1;
        functions.reverse();
        functions.sort_by_key(|f| f.kind != "aggregate");
        functions
    }

    fn drops(&mut self) {
        let (from, to) = (self.from, self.to);
        // Triggers on tables and views kept (a dropped one takes its own).
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
        // Functions whose types or bodies name a view, before their views.
        self.drop_functions(|tier, _| tier == FunctionTier::AfterViews);
        let views = self.views_to_drop();
        for v in view_order(&views).into_iter().rev() {
            self.out.push(format!(
                "DROP {} IF EXISTS {};",
                view_keyword(v),
                qualified(&v.schema, &v.name)
            ));
        }
        // Functions that name tables, before the tables; functions created again under
        // the same name, before they are.
        self.drop_functions(|tier, again| {
            tier == FunctionTier::AfterTables || (again && tier != FunctionTier::AfterViews)
        });
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
        // Constraints of tables kept: foreign keys first, they hold on to the others.
        for foreign in [true, false] {
            for (key, t) in &from.tables {
                let Some(new) = to.tables.get(key) else {
                    continue;
                };
                for (name, c) in &t.constraints {
                    if !is_table_constraint(&c.kind)
                        || (c.kind == "foreign key") != foreign
                        || c.inherited
                    {
                        continue;
                    }
                    if new
                        .constraints
                        .get(name)
                        .is_none_or(|n| n.definition != c.definition)
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
        // Columns of tables kept (a partition's follow its parent's).
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
                if new.column(&c.name).is_none()
                    && let Some(a) = added.iter().find(|a| a.data_type == c.data_type)
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

    /// Drops the functions of `functions_to_drop` that `which(tier, created again)` picks.
    fn drop_functions(&mut self, which: impl Fn(FunctionTier, bool) -> bool) {
        for f in self.functions_to_drop() {
            let again = self.to.functions.contains_key(&function_key(f));
            if which(function_tier(self.from, f), again) {
                self.out.push(format!(
                    "DROP {} IF EXISTS {};",
                    function_keyword(f),
                    function_signature(f)
                ));
            }
        }
    }

    /// Drops that must wait for the creates: a function, a sequence or a type can still be
    /// a kept column's default or type until `alter_table` has changed it.
    fn late_drops(&mut self) {
        let (from, to) = (self.from, self.to);
        self.drop_functions(|tier, again| tier == FunctionTier::BeforeTables && !again);
        for (key, e) in &from.enums {
            if !to.enums.contains_key(key) {
                self.out.push(format!(
                    "DROP TYPE IF EXISTS {};",
                    qualified(&e.schema, &e.name)
                ));
            }
        }
        for (key, s) in &from.sequences {
            if !to.sequences.contains_key(key) && !identity_sequence(from, s) {
                self.out.push(format!(
                    "DROP SEQUENCE IF EXISTS {};",
                    qualified(&s.schema, &s.name)
                ));
            }
        }
        for (key, x) in &from.extensions {
            if !to.extensions.contains_key(key) {
                self.out.push(format!(
                    "DROP EXTENSION IF EXISTS {};",
                    quote_ident(&x.name)
                ));
            }
        }
        // Schemas last: a sequence dropped above may be in one.
        for key in from.schemas.keys() {
            if !to.schemas.contains_key(key) {
                self.out
                    .push(format!("DROP SCHEMA IF EXISTS {};", quote_ident(key)));
            }
        }
    }

    fn creates(&mut self) {
        let (from, to) = (self.from, self.to);
        for (key, s) in &to.schemas {
            if !from.schemas.contains_key(key) {
                self.out
                    .push(format!("CREATE SCHEMA {};", quote_ident(&s.name)));
            }
            if from.schemas.get(key).map(|o| &o.comment) != Some(&s.comment)
                && (s.comment.is_some() || from.schemas.contains_key(key))
            {
                self.out.push(format!(
                    "COMMENT ON SCHEMA {} IS {};",
                    quote_ident(&s.name),
                    comment_value(&s.comment)
                ));
            }
        }
        for (key, x) in &to.extensions {
            match from.extensions.get(key) {
                None => self.out.push(format!(
                    "CREATE EXTENSION IF NOT EXISTS {} WITH SCHEMA {} VERSION {};",
                    quote_ident(&x.name),
                    quote_ident(&x.schema),
                    quote_literal(&x.version)
                )),
                Some(old) => {
                    if old.version != x.version {
                        self.out.push(format!(
                            "ALTER EXTENSION {} UPDATE TO {};",
                            quote_ident(&x.name),
                            quote_literal(&x.version)
                        ));
                    }
                    if old.schema != x.schema {
                        self.out.push(format!(
                            "ALTER EXTENSION {} SET SCHEMA {};",
                            quote_ident(&x.name),
                            quote_ident(&x.schema)
                        ));
                    }
                }
            }
        }
        let recreated = self.recreated_enums();
        for (key, e) in &to.enums {
            match from.enums.get(key) {
                None => self.create_enum(e),
                Some(old) if recreated.contains(key) => self.recreate_enum(old, e),
                Some(old) => {
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
        for (key, s) in &to.sequences {
            if identity_sequence(to, s) {
                continue;
            }
            let name = qualified(&s.schema, &s.name);
            let params = format!(
                "AS {} INCREMENT BY {} MINVALUE {} MAXVALUE {} START WITH {} CACHE {} {}",
                s.data_type,
                s.increment,
                s.min,
                s.max,
                s.start,
                s.cache,
                if s.cycle { "CYCLE" } else { "NO CYCLE" }
            );
            match from.sequences.get(key) {
                None => self.out.push(format!("CREATE SEQUENCE {name} {params};")),
                Some(old) => {
                    let mut same = old.clone();
                    same.owned_by = s.owned_by.clone();
                    same.grants = s.grants.clone();
                    if &same != s {
                        self.out.push(format!("ALTER SEQUENCE {name} {params};"));
                    }
                }
            }
        }
        self.create_functions(FunctionTier::BeforeTables);
        for t in partition_order(to) {
            match from.tables.get(&format!("{}.{}", t.schema, t.name)) {
                None => self.create_table(t),
                Some(old) => self.alter_table(old, t),
            }
        }
        // Sequences owned by a column, now that the columns exist.
        for (key, s) in &to.sequences {
            if identity_sequence(to, s) {
                continue;
            }
            let old = from.sequences.get(key).and_then(|o| o.owned_by.clone());
            if old != s.owned_by {
                let owner = match &s.owned_by {
                    Some(owner) => {
                        let parts: Vec<&str> = owner.splitn(3, '.').collect();
                        parts
                            .iter()
                            .map(|p| quote_ident(p))
                            .collect::<Vec<_>>()
                            .join(".")
                    }
                    None => "NONE".to_string(),
                };
                self.out.push(format!(
                    "ALTER SEQUENCE {} OWNED BY {owner};",
                    qualified(&s.schema, &s.name)
                ));
            }
        }
        for foreign in [false, true] {
            for (key, t) in &to.tables {
                let old = from.tables.get(key);
                for (name, c) in &t.constraints {
                    if !is_table_constraint(&c.kind)
                        || (c.kind == "foreign key") != foreign
                        || c.inherited
                    {
                        continue;
                    }
                    // Kept as it is; otherwise (new, changed, or taken by a regenerated
                    // column) added, and its comment with it.
                    let existing = old.and_then(|o| o.constraints.get(name)).filter(|e| {
                        e.definition == c.definition && !self.on_regenerated(key, &e.definition)
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
        self.create_indexes(false, &BTreeSet::new());
        self.create_functions(FunctionTier::AfterTables);
        let dropped: BTreeSet<String> = self
            .views_to_drop()
            .iter()
            .map(|v| format!("{}.{}", v.schema, v.name))
            .collect();
        let created: Vec<&View> = to
            .views
            .iter()
            .filter(|(key, _)| !from.views.contains_key(*key) || dropped.contains(*key))
            .map(|(_, v)| v)
            .collect();
        for v in view_order(&created) {
            let query = v.definition.trim_end().trim_end_matches(';');
            let data = match (v.materialized, v.populated) {
                (true, true) => "\n  WITH DATA",
                (true, false) => "\n  WITH NO DATA",
                _ => "",
            };
            self.out.push(format!(
                "CREATE {} {} AS\n{query}{data};",
                view_keyword(v),
                qualified(&v.schema, &v.name)
            ));
        }
        // Indexes on materialized views, now that the views exist.
        self.create_indexes(true, &dropped);
        self.create_functions(FunctionTier::AfterViews);
        for (key, v) in &to.views {
            let old = from.views.get(key).filter(|_| !dropped.contains(key));
            if old.and_then(|o| o.comment.clone()) != v.comment
                && (v.comment.is_some() || old.is_some())
            {
                self.out.push(format!(
                    "COMMENT ON {} {} IS {};",
                    view_keyword(v),
                    qualified(&v.schema, &v.name),
                    comment_value(&v.comment)
                ));
            }
            self.create_triggers(
                &qualified(&v.schema, &v.name),
                old.map(|o| &o.triggers),
                &v.triggers,
            );
        }
        for (key, t) in &to.tables {
            let old = from.tables.get(key);
            self.create_triggers(&table_name(t), old.map(|o| &o.triggers), &t.triggers);
        }
        self.grants();
    }

    /// Keys (`schema.name(arguments)`) of the functions [`Self::functions_to_drop`] drops.
    fn dropped_function_keys(&self) -> BTreeSet<String> {
        self.functions_to_drop()
            .iter()
            .map(|f| format!("{}.{}({})", f.schema, f.name, f.arguments))
            .collect()
    }

    /// GRANT and REVOKE for every object of `to` whose grants differ from what it has
    /// when the statements before have run: its grants in `from` if it was kept, the
    /// grants Postgres gives a new object otherwise (dropped objects need no revokes).
    fn grants(&mut self) {
        let (from, to) = (self.from, self.to);
        // Whoever owns the objects of `to`, for objects whose grants do not say.
        let fallback_owner = to
            .tables
            .values()
            .map(|t| &t.grants)
            .chain(to.functions.values().map(|f| &f.grants))
            .chain(to.sequences.values().map(|s| &s.grants))
            .find_map(|g| grants::owner_of(g));
        // With no owner to be found there is nothing to compare with: no statements.
        let baseline = |kind: AclKind, kept: Option<&Vec<String>>, now: &[String]| {
            kept.cloned().unwrap_or_else(|| {
                match grants::owner_of(now).or_else(|| fallback_owner.clone()) {
                    Some(owner) => grants::default_grants(kind, &owner, to.server_version),
                    None => now.to_vec(),
                }
            })
        };
        let mut statements: Vec<String> = Vec::new();
        for (key, s) in &to.schemas {
            let before = baseline(
                AclKind::Schema,
                from.schemas.get(key).map(|o| &o.grants),
                &s.grants,
            );
            let target = format!("SCHEMA {}", quote_ident(&s.name));
            statements.extend(grants::statements(&target, None, &before, &s.grants));
        }
        for (key, s) in &to.sequences {
            let before = baseline(
                AclKind::Sequence,
                from.sequences.get(key).map(|o| &o.grants),
                &s.grants,
            );
            let target = format!("SEQUENCE {}", qualified(&s.schema, &s.name));
            statements.extend(grants::statements(&target, None, &before, &s.grants));
        }
        for (key, t) in &to.tables {
            let old = from.tables.get(key);
            let before = baseline(AclKind::Relation, old.map(|o| &o.grants), &t.grants);
            let target = format!("TABLE {}", table_name(t));
            statements.extend(grants::statements(&target, None, &before, &t.grants));
            for c in &t.columns {
                // A column dropped and added again (a changed generation, or a generated
                // column over a retyped one) starts bare.
                let regenerated =
                    old.is_some_and(|o| regenerated_columns(o, t).iter().any(|r| r.name == c.name));
                let kept = old
                    .and_then(|o| o.column(&c.name))
                    .filter(|b| b.generated == c.generated && !regenerated);
                let before = kept.map(|b| b.grants.clone()).unwrap_or_default();
                statements.extend(grants::statements(
                    &target,
                    Some(&c.name),
                    &before,
                    &c.grants,
                ));
            }
        }
        let dropped_views: BTreeSet<String> = self
            .views_to_drop()
            .iter()
            .map(|v| format!("{}.{}", v.schema, v.name))
            .collect();
        for (key, v) in &to.views {
            let kept = from.views.get(key).filter(|_| !dropped_views.contains(key));
            let before = baseline(AclKind::Relation, kept.map(|o| &o.grants), &v.grants);
            let target = format!("TABLE {}", qualified(&v.schema, &v.name));
            statements.extend(grants::statements(&target, None, &before, &v.grants));
        }
        let dropped_functions = self.dropped_function_keys();
        for (key, f) in &to.functions {
            let kept = from
                .functions
                .get(key)
                .filter(|_| !dropped_functions.contains(key));
            let before = baseline(AclKind::Routine, kept.map(|o| &o.grants), &f.grants);
            // GRANT has no AGGREGATE: an aggregate is granted on as a function.
            let keyword = if f.kind == "procedure" {
                "PROCEDURE"
            } else {
                "FUNCTION"
            };
            let target = format!("{keyword} {}", function_signature(f));
            statements.extend(grants::statements(&target, None, &before, &f.grants));
        }
        for statement in statements {
            self.out.push(statement);
        }
    }

    /// Creates or replaces the functions of `to` in `tier` that are new or changed.
    fn create_functions(&mut self, tier: FunctionTier) {
        let (from, to) = (self.from, self.to);
        let dropped_functions = self.dropped_function_keys();
        let mut functions: Vec<(&String, &Function)> = to.functions.iter().collect();
        // Aggregates after the functions they are built on.
        functions.sort_by_key(|(_, f)| f.kind == "aggregate");
        for (key, f) in functions {
            if function_tier(to, f) != tier {
                continue;
            }
            let old = from
                .functions
                .get(key)
                .filter(|_| !dropped_functions.contains(key));
            let Some(definition) = &f.definition else {
                if old.is_none_or(|o| o != f) {
                    self.out.skipped.push(format!(
                        "{} {}: not a plain function or procedure",
                        f.kind,
                        function_signature(f)
                    ));
                }
                continue;
            };
            let mut same = old.cloned();
            if let Some(same) = &mut same {
                same.comment = f.comment.clone();
                same.grants = f.grants.clone();
            }
            if same.as_ref() != Some(f) {
                self.sql_bodies |= f.language == "sql" && !f.body.trim().is_empty();
                self.out
                    .push(format!("{};", definition.trim_end().trim_end_matches(';')));
            }
            if old.and_then(|o| o.comment.clone()) != f.comment {
                self.out.push(format!(
                    "COMMENT ON {} {} IS {};",
                    function_keyword(f),
                    function_signature(f),
                    comment_value(&f.comment)
                ));
            }
        }
    }

    /// Creates the indexes of `to` on tables, or on materialized views (those on a view
    /// in `recreated` too: dropping the view took them).
    fn create_indexes(&mut self, on_views: bool, recreated: &BTreeSet<String>) {
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

    fn create_index(&mut self, index: &Index) {
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

    fn index_comment(&mut self, index: &Index) {
        self.out.push(format!(
            "COMMENT ON INDEX {} IS {};",
            qualified(&index.schema, &index.name),
            comment_value(&index.comment)
        ));
    }

    fn add_constraint(&mut self, t: &Table, name: &str, c: &Constraint) {
        self.out.push(format!(
            "ALTER TABLE {} ADD CONSTRAINT {} {};",
            table_name(t),
            quote_ident(name),
            c.definition
        ));
    }

    fn constraint_comment(&mut self, t: &Table, name: &str, c: &Constraint) {
        self.out.push(format!(
            "COMMENT ON CONSTRAINT {} ON {} IS {};",
            quote_ident(name),
            table_name(t),
            comment_value(&c.comment)
        ));
    }

    /// Creates the triggers of `new` on `relation` that are new or changed (the changed
    /// ones were dropped), with their comments and enabled state.
    fn create_triggers(
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
        let removed: Vec<String> = old
            .labels
            .iter()
            .filter(|l| !e.labels.contains(l))
            .map(|l| quote_literal(l))
            .collect();
        self.out.push(format!(
            "ALTER TYPE {} RENAME TO {};",
            qualified(&old.schema, &old.name),
            quote_ident(&aside)
        ));
        self.create_enum(e);
        for t in self.from.tables.values() {
            let key = format!("{}.{}", t.schema, t.name);
            // A partition's columns follow its parent's.
            let Some(new) = self.to.tables.get(&key).filter(|n| !stays_attached(t, n)) else {
                continue;
            };
            let columns: Vec<&Column> = t.columns.iter().filter(|c| of_enum(c, e)).collect();
            // Checks and indexes that compare the column with a label would be rebuilt
            // against the old type: set the unchanged ones aside (changed ones are dropped
            // and created by the steps for constraints and indexes).
            let uses = |definition: &str| columns.iter().any(|c| mentions(definition, &c.name));
            let checks: Vec<(&String, &crate::catalog::Constraint)> = t
                .constraints
                .iter()
                .filter(|(name, c)| {
                    c.kind == "check"
                        && !c.inherited
                        && uses(&c.definition)
                        && new.constraints.get(*name) == Some(*c)
                })
                .collect();
            let indexes: Vec<&crate::catalog::Index> = self
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
        self.out
            .push(format!("DROP TYPE {};", qualified(&old.schema, &aside)));
    }

    fn create_table(&mut self, t: &Table) {
        let partition_by = t
            .partition_key
            .as_ref()
            .map(|key| format!(" PARTITION BY {key}"))
            .unwrap_or_default();
        let parent = t.partition_of.as_ref().and_then(|p| self.to.tables.get(p));
        if let (Some(parent), Some(bound)) = (parent, &t.partition_bound) {
            // The columns come from the parent; only what differs from it is set here.
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
                        Some(default) => format!(
                            "ALTER TABLE {name} ALTER COLUMN {column} SET DEFAULT {default};"
                        ),
                        None => format!("ALTER TABLE {name} ALTER COLUMN {column} DROP DEFAULT;"),
                    });
                }
                if c.not_null && !p.not_null {
                    self.out.push(format!(
                        "ALTER TABLE {name} ALTER COLUMN {column} SET NOT NULL;"
                    ));
                }
            }
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
        }
        if t.row_security {
            self.out.push(format!(
                "ALTER TABLE {} ENABLE ROW LEVEL SECURITY;",
                table_name(t)
            ));
        }
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
        if old.row_security != t.row_security {
            self.out.push(format!(
                "ALTER TABLE {name} {} ROW LEVEL SECURITY;",
                if t.row_security { "ENABLE" } else { "DISABLE" }
            ));
        }
        if old.comment != t.comment {
            self.out.push(format!(
                "COMMENT ON TABLE {name} IS {};",
                comment_value(&t.comment)
            ));
        }
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
            let Some(b) = before else {
                self.out.push(format!(
                    "ALTER TABLE {name} ADD COLUMN {};",
                    column_definition(c)
                ));
                if c.comment.is_some() {
                    self.column_comment(t, c);
                }
                continue;
            };
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
            if b.not_null != c.not_null {
                if c.not_null {
                    let sql = format!("ALTER TABLE {name} ALTER COLUMN {column} SET NOT NULL;");
                    let key = format!("{}.{}.{}", t.schema, t.name, c.name);
                    let why = match self.data.nulls.get(&key) {
                        Some(false) => None,
                        Some(true) => Some(
                            "rows of the database hold null there: fill them first or the migration fails",
                        ),
                        None => Some("fails if a row holds null (the data was not looked at)"),
                    };
                    match why {
                        Some(why) => self
                            .out
                            .destroy(format!("set not null on {}.{}: {why}", t.name, c.name), sql),
                        None => self.out.push(sql),
                    }
                } else {
                    self.out.push(format!(
                        "ALTER TABLE {name} ALTER COLUMN {column} DROP NOT NULL;"
                    ));
                }
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
            if b.comment != c.comment {
                self.column_comment(t, c);
            }
        }
        if !attached {
            for c in regenerated {
                self.out.push(format!(
                    "ALTER TABLE {name} ADD COLUMN {};",
                    column_definition(c)
                ));
                if c.comment.is_some() {
                    self.column_comment(t, c);
                }
            }
        }
        self.move_partition(old, t);
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

#[cfg(test)]
mod tests;
