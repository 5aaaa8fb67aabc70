//! A database schema as plain data, read from `pg_catalog`, and the differences between
//! two of them.
//!
//! - [`read`] snapshots one database into a [`Catalog`]: schemas, extensions, enums,
//!   sequences, tables with their columns, constraints and triggers, indexes, views and
//!   materialized views, functions and procedures, domains, composite and range types and
//!   extended statistics, with their comments and grants; row-level security policies,
//!   rules, event triggers and default privileges ([`security`]);
//! - [`diff`] compares two catalogs object by object and names every [`Difference`].
//!
//! Two databases built from the same SQL on the same server must give equal catalogs, so
//! the snapshot holds only what the SQL decides: names, definitions as Postgres deparses
//! them (`pg_get_indexdef`, `pg_get_viewdef`, ...), no oids, no database name, no data.
//! Left out: system schemas, objects that belong to an extension (their extension is in
//! the catalog instead) and devdb's own record table. Objects of kinds the catalog
//! cannot represent (foreign tables, publications, operators, ...) are only named, in
//! [`NotCompared`], so that commands say what they did not look at.
//!
//! Objects are keyed by their schema-qualified name (`public.item`, functions with their
//! argument types: `public.f(integer)`); objects that live on a table (columns,
//! constraints, triggers) are kept inside their [`Table`]. Maps are ordered so that
//! comparisons and JSON output are deterministic. A key is for looking an object up and
//! for naming it in messages, never to be split: a schema, table or column name may
//! hold a dot (`"order.items"`), so where a part of a name is needed on its own the
//! catalog holds it apart ([`QualifiedName`], [`ColumnName`]).

pub(crate) mod diff;
pub(crate) mod read;
mod types;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub(crate) use diff::{Difference, Sides, diff};
pub(crate) use read::NotCompared;
pub use read::{ReadOptions, read_catalog};
pub(crate) use types::{Attribute, Composite, Domain, DomainConstraint, Range, Statistics};

/// A snapshot of one database's schema.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Catalog {
    pub schemas: BTreeMap<String, Schema>,
    pub extensions: BTreeMap<String, Extension>,
    pub enums: BTreeMap<String, Enum>,
    pub sequences: BTreeMap<String, Sequence>,
    pub tables: BTreeMap<String, Table>,
    pub indexes: BTreeMap<String, Index>,
    pub views: BTreeMap<String, View>,
    pub functions: BTreeMap<String, Function>,
    /// By `schema.table.name`.
    #[serde(default)]
    pub policies: BTreeMap<String, Policy>,
    /// By `schema.relation.name`.
    #[serde(default)]
    pub rules: BTreeMap<String, Rule>,
    /// By name.
    #[serde(default)]
    pub event_triggers: BTreeMap<String, EventTrigger>,
    /// By [`DefaultPrivileges::key`].
    #[serde(default)]
    pub default_privileges: BTreeMap<String, DefaultPrivileges>,
    /// Domains.
    #[serde(default)]
    pub domains: BTreeMap<String, Domain>,
    /// Composite types.
    #[serde(default)]
    pub composites: BTreeMap<String, Composite>,
    /// Range types.
    #[serde(default)]
    pub ranges: BTreeMap<String, Range>,
    /// Extended statistics.
    #[serde(default)]
    pub statistics: BTreeMap<String, Statistics>,
    /// `server_version_num` of the server it was read from: what a new object's default
    /// privileges are depends on it (MAINTAIN came with 17). Not compared.
    #[serde(default)]
    pub server_version: u32,
    /// Objects of kinds the catalog cannot represent (foreign tables, publications,
    /// operators, ...), named so that what a comparison or a dump leaves out is said.
    #[serde(default, skip_serializing_if = "NotCompared::is_empty")]
    pub not_compared: NotCompared,
}

/// A schema (namespace).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schema {
    pub name: String,
    pub comment: Option<String>,
    /// `grantee=privileges/grantor` items, sorted; the owner's defaults when none were granted.
    pub grants: Vec<String>,
}

/// An installed extension.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extension {
    pub name: String,
    pub schema: String,
    pub version: String,
    /// Its comment: the one its control file gives, unless changed.
    #[serde(default)]
    pub comment: Option<String>,
}

/// An enum type, its labels in order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enum {
    pub schema: String,
    pub name: String,
    pub labels: Vec<String>,
    pub comment: Option<String>,
}

/// A sequence's parameters (not its current value, which is data).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sequence {
    pub schema: String,
    pub name: String,
    pub data_type: String,
    pub start: i64,
    pub increment: i64,
    pub min: i64,
    pub max: i64,
    pub cache: i64,
    pub cycle: bool,
    /// The serial or identity column that owns it.
    pub owned_by: Option<ColumnName>,
    pub grants: Vec<String>,
}

/// An object's name with its schema, kept apart: either may hold a dot (`"order.items"`),
/// so a name is never joined into one string to be split again.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct QualifiedName {
    pub schema: String,
    pub name: String,
}

impl QualifiedName {
    /// The key the catalog holds the object under (`public.item`): for looking up, never
    /// for parsing.
    pub fn key(&self) -> String {
        format!("{}.{}", self.schema, self.name)
    }
}

/// A table's column by schema, table and column name, kept apart like [`QualifiedName`].
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ColumnName {
    pub schema: String,
    pub table: String,
    pub column: String,
}

/// Defines a kind of catalog object: its variants, the words the catalog (and its JSON)
/// names them by, and `Display` with the same words.
macro_rules! catalog_kind {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            #[default]
            $(#[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

mod security;

pub(crate) use security::{
    DefaultObjects, DefaultPrivileges, EventTrigger, Policy, PolicyCommand, Rule,
};

catalog_kind!(
    /// An ordinary or a partitioned table.
    TableKind {
        Table => "table",
        Partitioned => "partitioned table",
    }
);

catalog_kind!(
    /// What a constraint is.
    ConstraintKind {
        PrimaryKey => "primary key",
        Unique => "unique",
        ForeignKey => "foreign key",
        Check => "check",
        Exclusion => "exclusion",
        NotNull => "not null",
        Trigger => "trigger",
        Other => "constraint",
    }
);

impl ConstraintKind {
    /// A constraint written in a table's definition (not a column's `NOT NULL`, nor a
    /// constraint trigger).
    pub fn is_table_constraint(self) -> bool {
        !matches!(self, ConstraintKind::NotNull | ConstraintKind::Trigger)
    }
}

catalog_kind!(
    /// What kind of routine a function is.
    RoutineKind {
        Function => "function",
        Procedure => "procedure",
        Aggregate => "aggregate",
        Window => "window",
    }
);

/// A table (ordinary or partitioned) with what lives on it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Table {
    pub schema: String,
    pub name: String,
    pub kind: TableKind,
    /// In column order.
    pub columns: Vec<Column>,
    /// By constraint name.
    pub constraints: BTreeMap<String, Constraint>,
    /// By trigger name.
    pub triggers: BTreeMap<String, Trigger>,
    /// `PARTITION BY` clause of a partitioned table.
    pub partition_key: Option<String>,
    /// `FOR VALUES ...` (or `DEFAULT`) of a partition.
    pub partition_bound: Option<String>,
    /// The partitioned table a partition belongs to, schema-qualified.
    #[serde(default)]
    pub partition_of: Option<String>,
    pub row_security: bool,
    /// FORCE ROW LEVEL SECURITY: the owner is held to the policies too.
    #[serde(default)]
    pub force_row_security: bool,
    pub comment: Option<String>,
    pub grants: Vec<String>,
    /// Storage parameters as `reloptions` writes them (`fillfactor=70`), its TOAST
    /// table's after them with `toast.` in front; in the order Postgres keeps them, which
    /// pg_dump repeats, but compared as a set.
    #[serde(default)]
    pub storage_parameters: Vec<String>,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// A table column.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    /// As `format_type` prints it: `integer`, `character varying(20)`, `public.mood[]`.
    pub data_type: String,
    pub not_null: bool,
    /// The default expression; `None` for identity and generated columns.
    pub default: Option<String>,
    /// `always` or `by default` for an identity column.
    pub identity: Option<String>,
    /// The expression of a `GENERATED ALWAYS AS (...) STORED` column.
    pub generated: Option<String>,
    /// A collation other than the type's default, as SQL names it: `"C"`,
    /// `"en_US.utf8"`, `app."german"`.
    pub collation: Option<String>,
    pub comment: Option<String>,
    /// Column-level grants, sorted.
    pub grants: Vec<String>,
    /// `SET STATISTICS n`; `None` for the default.
    #[serde(default)]
    pub statistics_target: Option<i32>,
    /// `SET STORAGE` other than the type's: `plain`, `external`, `extended` or `main`.
    #[serde(default)]
    pub storage: Option<String>,
    /// `SET COMPRESSION`: `pglz` or `lz4`; `None` for the server's default.
    #[serde(default)]
    pub compression: Option<String>,
}

/// A table constraint: primary key, unique, foreign key, check, exclusion.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Constraint {
    pub name: String,
    pub kind: ConstraintKind,
    /// As `pg_get_constraintdef` prints it: `FOREIGN KEY (a) REFERENCES b(id)`; with the
    /// `WITH (...)` storage parameters of a primary key's or unique constraint's index,
    /// which it leaves out.
    pub definition: String,
    pub comment: Option<String>,
    /// Made by Postgres on a partition from its parent's constraint (or inherited from a
    /// parent table): it comes and goes with the parent's.
    #[serde(default)]
    pub inherited: bool,
    /// For a foreign key, the unique index of the referenced table it leans on
    /// (`pg_constraint.conindid`, the dependency `pg_depend` records): a standalone
    /// unique index, or the one of a primary key or unique constraint. It must exist
    /// before the key and outlive it. Not compared: the definition says the same.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<QualifiedName>,
}

/// A trigger on a table or view.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trigger {
    pub name: String,
    /// As `pg_get_triggerdef` prints it.
    pub definition: String,
    /// `O` (origin, the default), `D` (disabled), `R` (replica) or `A` (always).
    pub enabled: String,
    pub comment: Option<String>,
}

/// An index not backing a constraint (those come with their constraint).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Index {
    pub schema: String,
    pub name: String,
    /// The table or materialized view, schema-qualified.
    pub table: String,
    /// As `pg_get_indexdef` prints it.
    pub definition: String,
    pub comment: Option<String>,
    /// Made by Postgres on a partition from an index of its parent: it comes and goes
    /// with the parent's.
    #[serde(default)]
    pub inherited: bool,
}

/// A view or materialized view.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct View {
    pub schema: String,
    pub name: String,
    pub materialized: bool,
    /// Whether a materialized view holds data (`WITH NO DATA` or never refreshed: false).
    pub populated: bool,
    /// The query, as `pg_get_viewdef` prints it.
    pub definition: String,
    /// Triggers on the view (`INSTEAD OF`), by name.
    pub triggers: BTreeMap<String, Trigger>,
    pub comment: Option<String>,
    pub grants: Vec<String>,
    /// What its query uses, from `pg_depend`, sorted: relations (`schema.name`), their
    /// columns (`schema.name.column`), enum types (`schema.name`) and functions
    /// (`schema.name(args)`).
    #[serde(default)]
    pub depends_on: Vec<String>,
}

/// A function, procedure, aggregate or window function.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Function {
    pub schema: String,
    pub name: String,
    /// The identity arguments: `integer, text`.
    pub arguments: String,
    pub kind: RoutineKind,
    /// `pg_get_function_result`: `integer`, `TABLE(a integer)`, `trigger`; `None` for a
    /// procedure.
    pub result: Option<String>,
    pub language: String,
    /// The body as written (`prosrc`); empty for SQL-standard bodies, which only the
    /// definition shows.
    pub body: String,
    /// The whole `CREATE OR REPLACE` statement: as `pg_get_functiondef` prints it
    /// (volatility, strictness, security, settings), or for an aggregate as read from
    /// `pg_aggregate` (transition, final, combine and moving-aggregate functions, initial
    /// conditions, sort operator, parallel safety).
    pub definition: Option<String>,
    pub comment: Option<String>,
    pub grants: Vec<String>,
    /// What it depends on, from `pg_depend`, sorted: the relations (`schema.name`) whose
    /// row type its arguments or result use, enum types (`schema.name`), and the
    /// relations, columns (`schema.name.column`) and functions a SQL-standard body or an
    /// aggregate uses. Empty for a body in quotes, which Postgres does not track.
    #[serde(default)]
    pub depends_on: Vec<String>,
}

impl Catalog {
    /// Every role named in a grant (as grantee or grantor), a policy or default privileges,
    /// PUBLIC left out. Roles belong to the server, not to the database, so a schema that
    /// grants to them needs them.
    pub fn granted_roles(&self) -> std::collections::BTreeSet<String> {
        let mut items: Vec<&String> = Vec::new();
        items.extend(self.schemas.values().flat_map(|s| &s.grants));
        items.extend(self.sequences.values().flat_map(|s| &s.grants));
        for table in self.tables.values() {
            items.extend(&table.grants);
            items.extend(table.columns.iter().flat_map(|c| &c.grants));
        }
        items.extend(self.views.values().flat_map(|v| &v.grants));
        items.extend(self.functions.values().flat_map(|f| &f.grants));
        items.extend(self.default_privileges.values().flat_map(|d| &d.grants));
        let policy_roles = self
            .policies
            .values()
            .flat_map(|p| p.roles.iter().filter(|r| *r != "public").cloned());
        let creating_roles = self
            .default_privileges
            .values()
            .filter_map(|d| d.role.clone());
        items
            .into_iter()
            .flat_map(|item| acl_roles(item))
            .chain(policy_roles)
            .chain(creating_roles)
            .filter(|role| !role.is_empty())
            .collect()
    }

    /// How many objects it holds, counting columns, constraints, triggers, domain
    /// constraints, composite types' attributes, policies, rules, event triggers and
    /// default privileges.
    pub fn object_count(&self) -> usize {
        let on_tables: usize = self
            .tables
            .values()
            .map(|t| 1 + t.columns.len() + t.constraints.len() + t.triggers.len())
            .sum();
        let on_views: usize = self.views.values().map(|v| 1 + v.triggers.len()).sum();
        let domains: usize = self.domains.values().map(|d| 1 + d.constraints.len()).sum();
        let composites: usize = self
            .composites
            .values()
            .map(|c| 1 + c.attributes.len())
            .sum();
        self.schemas.len()
            + self.extensions.len()
            + self.enums.len()
            + self.sequences.len()
            + on_tables
            + self.indexes.len()
            + on_views
            + self.functions.len()
            + self.policies.len()
            + self.rules.len()
            + self.event_triggers.len()
            + self.default_privileges.len()
            + domains
            + composites
            + self.ranges.len()
            + self.statistics.len()
    }
}

/// One `aclitem`: who holds which privileges (with or without grant option), and from whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AclItem {
    /// Empty for PUBLIC.
    pub grantee: String,
    /// Privilege letters (`r`, `a`, `X`, ...), each with whether it carries the grant
    /// option (`*`).
    pub privileges: Vec<(char, bool)>,
    pub grantor: String,
}

/// A role name as `aclitem` text writes it: bare, or in double quotes with `""` inside.
fn read_name(chars: &mut std::iter::Peekable<std::str::Chars>, end: char) -> String {
    let mut name = String::new();
    while let Some(&c) = chars.peek() {
        if c == end {
            break;
        }
        chars.next();
        if c != '"' {
            name.push(c);
            continue;
        }
        while let Some(q) = chars.next() {
            if q != '"' {
                name.push(q);
            } else if chars.peek() == Some(&'"') {
                chars.next();
                name.push('"');
            } else {
                break;
            }
        }
    }
    chars.next();
    name
}

impl AclItem {
    /// Parses `aclitem` text: `grantee=privileges/grantor`.
    pub(crate) fn parse(text: &str) -> AclItem {
        let mut chars = text.chars().peekable();
        let grantee = read_name(&mut chars, '=');
        let mut privileges: Vec<(char, bool)> = Vec::new();
        for c in chars.by_ref() {
            if c == '/' {
                break;
            }
            if c == '*' {
                if let Some(last) = privileges.last_mut() {
                    last.1 = true;
                }
            } else {
                privileges.push((c, false));
            }
        }
        let grantor = read_name(&mut chars, '\0');
        AclItem {
            grantee,
            privileges,
            grantor,
        }
    }
}

/// The grantee and grantor of an `aclitem` as text; an empty grantee is PUBLIC.
fn acl_roles(item: &str) -> Vec<String> {
    let item = AclItem::parse(item);
    vec![item.grantee, item.grantor]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_read_from_grants_quoted_or_not() {
        assert_eq!(acl_roles("app=arwdDxtm/app"), ["app", "app"]);
        assert_eq!(acl_roles("=U/app"), ["", "app"]);
        assert_eq!(
            acl_roles("\"odd=\"\"role\"=r/\"my/owner\""),
            ["odd=\"role", "my/owner"]
        );
        let mut catalog = Catalog::default();
        catalog.schemas.insert(
            "public".into(),
            Schema {
                name: "public".into(),
                comment: None,
                grants: vec!["=U/app".into(), "reader=U/app".into()],
            },
        );
        assert_eq!(
            catalog.granted_roles().into_iter().collect::<Vec<_>>(),
            ["app", "reader"]
        );
        catalog.policies.insert(
            "public.item.p".into(),
            Policy {
                roles: vec!["public".into(), "writer".into()],
                ..Policy::default()
            },
        );
        let defaults = DefaultPrivileges {
            role: Some("ops".into()),
            grants: vec!["auditor=r/ops".into()],
            ..DefaultPrivileges::default()
        };
        catalog.default_privileges.insert(defaults.key(), defaults);
        assert_eq!(
            catalog.granted_roles().into_iter().collect::<Vec<_>>(),
            ["app", "auditor", "ops", "reader", "writer"]
        );
        assert_eq!(catalog.object_count(), 3);
    }
}
