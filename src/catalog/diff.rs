//! Comparing two catalogs object by object.
//!
//! The comparison is neutral about what the two sides are: `expected` is the schema that
//! should be (what the migrations build, or a declarative schema), `actual` the one that
//! is (a live database). Each [`Difference`] names the object by kind and key (the key
//! under which both catalogs hold it) and says whether it is missing from `actual`,
//! unexpected in it, or changed in one aspect, with both values. That is enough for
//! `check` to report drift and for a generator to look both objects up and write the DDL
//! that turns one into the other.
//!
//! An object that is missing or unexpected as a whole is one difference: the columns,
//! constraints and triggers of a missing table are not listed again.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use super::{Catalog, Column, Constraint, Function, RoutineKind, Table, TableKind, Trigger, View};

/// What kind of object a difference is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ObjectKind {
    Schema,
    Extension,
    Enum,
    Domain,
    DomainConstraint,
    CompositeType,
    Attribute,
    RangeType,
    Sequence,
    Table,
    Column,
    Constraint,
    Trigger,
    Index,
    Statistics,
    View,
    MaterializedView,
    Function,
    Procedure,
    Policy,
    Rule,
    EventTrigger,
    DefaultPrivileges,
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ObjectKind::Schema => "schema",
            ObjectKind::Extension => "extension",
            ObjectKind::Enum => "enum",
            ObjectKind::Domain => "domain",
            ObjectKind::DomainConstraint => "domain constraint",
            ObjectKind::CompositeType => "composite type",
            ObjectKind::Attribute => "attribute",
            ObjectKind::RangeType => "range type",
            ObjectKind::Sequence => "sequence",
            ObjectKind::Table => "table",
            ObjectKind::Column => "column",
            ObjectKind::Constraint => "constraint",
            ObjectKind::Trigger => "trigger",
            ObjectKind::Index => "index",
            ObjectKind::Statistics => "statistics",
            ObjectKind::View => "view",
            ObjectKind::MaterializedView => "materialized view",
            ObjectKind::Function => "function",
            ObjectKind::Procedure => "procedure",
            ObjectKind::Policy => "policy",
            ObjectKind::Rule => "rule",
            ObjectKind::EventTrigger => "event trigger",
            ObjectKind::DefaultPrivileges => "default privileges",
        })
    }
}

/// How an object differs between the expected and the actual catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub(crate) enum Change {
    /// Expected, but the actual catalog does not have it.
    Missing,
    /// In the actual catalog, but not expected.
    Unexpected,
    /// In both, with a different value of `aspect` (`type`, `default`, `body`, ...).
    Changed {
        aspect: String,
        expected: String,
        actual: String,
    },
}

/// One difference between two catalogs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Difference {
    pub kind: ObjectKind,
    /// The key of the object in both catalogs: `public.item` for a table (in
    /// [`Catalog::tables`]), `public.item.sneaky` for a column of it, `public.f(integer)`
    /// for a function.
    pub key: String,
    #[serde(flatten)]
    pub change: Change,
}

/// What the two sides of a comparison are called in messages.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sides<'a> {
    pub expected: &'a str,
    pub actual: &'a str,
}

/// Values longer than this are not quoted in a one-line description.
const SHORT_VALUE: usize = 60;

impl Difference {
    /// The object as people name it: its key without the `public.` schema.
    pub(crate) fn name(&self) -> &str {
        self.key.strip_prefix("public.").unwrap_or(&self.key)
    }

    /// One line: `column item.sneaky: present in the database, not in the migrations`.
    pub(crate) fn describe(&self, sides: Sides<'_>) -> String {
        let subject = format!("{} {}", self.kind, self.name());
        match &self.change {
            Change::Missing => format!("{subject}: in {}, not in {}", sides.expected, sides.actual),
            Change::Unexpected => format!(
                "{subject}: present in {}, not in {}",
                sides.actual, sides.expected
            ),
            Change::Changed {
                aspect,
                expected,
                actual,
            } => {
                let (expected, actual) = (expected.trim(), actual.trim());
                let short = |v: &str| v.len() <= SHORT_VALUE && !v.contains('\n');
                if short(expected) && short(actual) {
                    format!(
                        "{subject}: {aspect} differs: {actual} in {}, {expected} in {}",
                        sides.actual, sides.expected
                    )
                } else {
                    format!("{subject}: {aspect} differs")
                }
            }
        }
    }
}

/// Every difference between `expected` and `actual`, by object kind, then key.
pub(crate) fn diff(expected: &Catalog, actual: &Catalog) -> Vec<Difference> {
    let mut out = Differences::default();
    out.maps(
        &expected.schemas,
        &actual.schemas,
        |_| ObjectKind::Schema,
        |a, e, b| {
            a.field("comment", &e.comment, &b.comment);
            a.field("grants", &e.grants, &b.grants);
        },
    );
    out.maps(
        &expected.extensions,
        &actual.extensions,
        |_| ObjectKind::Extension,
        |a, e, b| {
            a.field("schema", &e.schema, &b.schema);
            a.field("version", &e.version, &b.version);
            a.field("comment", &e.comment, &b.comment);
        },
    );
    out.maps(
        &expected.enums,
        &actual.enums,
        |_| ObjectKind::Enum,
        |a, e, b| {
            a.field("labels", &e.labels, &b.labels);
            a.field("comment", &e.comment, &b.comment);
        },
    );
    out.user_types(expected, actual);
    out.maps(
        &expected.sequences,
        &actual.sequences,
        |_| ObjectKind::Sequence,
        |a, e, b| {
            a.field("type", &e.data_type, &b.data_type);
            a.field("start", &e.start, &b.start);
            a.field("increment", &e.increment, &b.increment);
            a.field("minimum", &e.min, &b.min);
            a.field("maximum", &e.max, &b.max);
            a.field("cache", &e.cache, &b.cache);
            a.field("cycle", &e.cycle, &b.cycle);
            a.field("owner column", &e.owned_by, &b.owned_by);
            a.field("grants", &e.grants, &b.grants);
        },
    );
    out.maps(
        &expected.tables,
        &actual.tables,
        |_| ObjectKind::Table,
        table_aspects,
    );
    for (key, e) in &expected.tables {
        if let Some(b) = actual.tables.get(key) {
            out.table_members(key, e, b);
        }
    }
    out.maps(
        &expected.indexes,
        &actual.indexes,
        |_| ObjectKind::Index,
        |a, e, b| {
            a.field("definition", &e.definition, &b.definition);
            a.field("comment", &e.comment, &b.comment);
        },
    );
    out.statistics(expected, actual);
    out.maps(&expected.views, &actual.views, view_kind, view_aspects);
    for (key, e) in &expected.views {
        if let Some(b) = actual.views.get(key) {
            out.maps_under(key, &e.triggers, &b.triggers, ObjectKind::Trigger, trigger);
        }
    }
    out.maps(
        &expected.functions,
        &actual.functions,
        function_kind,
        function_aspects,
    );
    out.security(expected, actual);
    out.0
}

fn view_kind(view: &View) -> ObjectKind {
    if view.materialized {
        ObjectKind::MaterializedView
    } else {
        ObjectKind::View
    }
}

fn function_kind(function: &Function) -> ObjectKind {
    if function.kind == RoutineKind::Procedure {
        ObjectKind::Procedure
    } else {
        ObjectKind::Function
    }
}

fn table_aspects(a: &mut Aspects, e: &Table, b: &Table) {
    a.field("kind", &e.kind, &b.kind);
    a.field("partition key", &e.partition_key, &b.partition_key);
    a.field("partition bound", &e.partition_bound, &b.partition_bound);
    a.field("partition of", &e.partition_of, &b.partition_of);
    a.field("row level security", &e.row_security, &b.row_security);
    a.field(
        "force row level security",
        &e.force_row_security,
        &b.force_row_security,
    );
    let sorted = |parameters: &[String]| {
        let mut sorted = parameters.to_vec();
        sorted.sort();
        sorted
    };
    a.field(
        "storage parameters",
        &sorted(&e.storage_parameters),
        &sorted(&b.storage_parameters),
    );
    a.field("comment", &e.comment, &b.comment);
    a.field("grants", &e.grants, &b.grants);
}

fn column(a: &mut Aspects, e: &Column, b: &Column) {
    a.field("type", &e.data_type, &b.data_type);
    a.field("not null", &e.not_null, &b.not_null);
    a.field("default", &e.default, &b.default);
    a.field("identity", &e.identity, &b.identity);
    a.field("generated expression", &e.generated, &b.generated);
    a.field("collation", &e.collation, &b.collation);
    a.field(
        "statistics target",
        &e.statistics_target,
        &b.statistics_target,
    );
    a.field("storage", &e.storage, &b.storage);
    a.field("compression", &e.compression, &b.compression);
    a.field("comment", &e.comment, &b.comment);
    a.field("grants", &e.grants, &b.grants);
}

fn constraint(a: &mut Aspects, e: &Constraint, b: &Constraint) {
    a.field("definition", &e.definition, &b.definition);
    a.field("comment", &e.comment, &b.comment);
}

fn trigger(a: &mut Aspects, e: &Trigger, b: &Trigger) {
    a.field("definition", &e.definition, &b.definition);
    a.field("enabled", &e.enabled, &b.enabled);
    a.field("comment", &e.comment, &b.comment);
}

fn view_aspects(a: &mut Aspects, e: &View, b: &View) {
    a.field("materialized", &e.materialized, &b.materialized);
    a.field("populated", &e.populated, &b.populated);
    a.field("definition", &e.definition, &b.definition);
    a.field("comment", &e.comment, &b.comment);
    a.field("grants", &e.grants, &b.grants);
}

fn function_aspects(a: &mut Aspects, e: &Function, b: &Function) {
    a.field("kind", &e.kind, &b.kind);
    a.field("result", &e.result, &b.result);
    a.field("language", &e.language, &b.language);
    let body_differs = e.body != b.body;
    a.field("body", &e.body, &b.body);
    // The definition repeats the body: only its other clauses are news.
    if !body_differs {
        a.field("definition", &e.definition, &b.definition);
    }
    a.field("comment", &e.comment, &b.comment);
    a.field("grants", &e.grants, &b.grants);
}

/// The differing aspects of one object found in both catalogs.
#[derive(Default)]
struct Aspects(Vec<(String, String, String)>);

impl Aspects {
    fn field<T: AsText + PartialEq + ?Sized>(&mut self, aspect: &str, expected: &T, actual: &T) {
        if expected != actual {
            self.0
                .push((aspect.to_string(), expected.as_text(), actual.as_text()));
        }
    }
}

/// A field's value as a difference shows it.
trait AsText {
    fn as_text(&self) -> String;
}

impl AsText for String {
    fn as_text(&self) -> String {
        self.clone()
    }
}

impl AsText for Option<String> {
    fn as_text(&self) -> String {
        self.clone().unwrap_or_else(|| "none".to_string())
    }
}

impl AsText for Option<super::ColumnName> {
    fn as_text(&self) -> String {
        self.as_ref().map_or_else(
            || "none".to_string(),
            |c| format!("{}.{}.{}", c.schema, c.table, c.column),
        )
    }
}

impl AsText for Vec<String> {
    fn as_text(&self) -> String {
        format!("[{}]", self.join(", "))
    }
}

impl AsText for TableKind {
    fn as_text(&self) -> String {
        self.to_string()
    }
}

impl AsText for RoutineKind {
    fn as_text(&self) -> String {
        self.to_string()
    }
}

impl AsText for bool {
    fn as_text(&self) -> String {
        self.to_string()
    }
}

impl AsText for Option<i32> {
    fn as_text(&self) -> String {
        self.map_or_else(|| "default".to_string(), |v| v.to_string())
    }
}

impl AsText for i64 {
    fn as_text(&self) -> String {
        self.to_string()
    }
}

#[derive(Default)]
struct Differences(Vec<Difference>);

impl Differences {
    /// Objects of one map: missing, unexpected, and changed aspects of those in both.
    fn maps<T>(
        &mut self,
        expected: &BTreeMap<String, T>,
        actual: &BTreeMap<String, T>,
        kind: impl Fn(&T) -> ObjectKind,
        aspects: impl Fn(&mut Aspects, &T, &T),
    ) {
        self.keyed(expected, actual, |_, key| key.to_string(), kind, aspects);
    }

    /// Objects that live on the relation `parent`, keyed `parent.name`.
    fn maps_under<T>(
        &mut self,
        parent: &str,
        expected: &BTreeMap<String, T>,
        actual: &BTreeMap<String, T>,
        kind: ObjectKind,
        aspects: impl Fn(&mut Aspects, &T, &T),
    ) {
        self.keyed(
            expected,
            actual,
            |_, name| format!("{parent}.{name}"),
            |_| kind,
            aspects,
        );
    }

    fn keyed<T>(
        &mut self,
        expected: &BTreeMap<String, T>,
        actual: &BTreeMap<String, T>,
        key: impl Fn(&T, &str) -> String,
        kind: impl Fn(&T) -> ObjectKind,
        aspects: impl Fn(&mut Aspects, &T, &T),
    ) {
        let mut names: Vec<&String> = expected.keys().chain(actual.keys()).collect();
        names.sort();
        names.dedup();
        for name in names {
            let change = |object: &T, change: Change| Difference {
                kind: kind(object),
                key: key(object, name),
                change,
            };
            match (expected.get(name), actual.get(name)) {
                (Some(e), None) => self.0.push(change(e, Change::Missing)),
                (None, Some(b)) => self.0.push(change(b, Change::Unexpected)),
                (Some(e), Some(b)) => {
                    let mut found = Aspects::default();
                    aspects(&mut found, e, b);
                    for (aspect, expected, actual) in found.0 {
                        self.0.push(change(
                            e,
                            Change::Changed {
                                aspect,
                                expected,
                                actual,
                            },
                        ));
                    }
                }
                (None, None) => {}
            }
        }
    }

    /// Columns, constraints and triggers of a table both catalogs have.
    fn table_members(&mut self, key: &str, expected: &Table, actual: &Table) {
        let by_name = |columns: &[Column]| -> BTreeMap<String, Column> {
            columns
                .iter()
                .map(|c| (c.name.clone(), c.clone()))
                .collect()
        };
        self.maps_under(
            key,
            &by_name(&expected.columns),
            &by_name(&actual.columns),
            ObjectKind::Column,
            column,
        );
        self.maps_under(
            key,
            &expected.constraints,
            &actual.constraints,
            ObjectKind::Constraint,
            constraint,
        );
        self.maps_under(
            key,
            &expected.triggers,
            &actual.triggers,
            ObjectKind::Trigger,
            trigger,
        );
    }
}

mod security;
#[cfg(test)]
mod tests;
mod types;
