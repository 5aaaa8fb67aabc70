//! The catalog's user-defined value types (domains, composite and range types) and what tunes
//! how a table is stored and planned (extended statistics; the storage settings
//! themselves live on [`super::Table`] and [`super::Column`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A domain: a base type with a default, NOT NULL and checks of its own.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Domain {
    pub schema: String,
    pub name: String,
    /// As `format_type` prints it: `text`, `character varying(40)`, `book.short_text`.
    pub base_type: String,
    /// The default expression.
    pub default: Option<String>,
    pub not_null: bool,
    /// A collation other than the base type's, as SQL names it: `"C"`.
    pub collation: Option<String>,
    /// Its CHECK constraints, by name.
    pub constraints: BTreeMap<String, DomainConstraint>,
    pub comment: Option<String>,
    /// The user functions its default and checks call (`schema.name(args)`, from
    /// `pg_depend`), sorted: they must exist before it.
    #[serde(default)]
    pub depends_on: Vec<String>,
}

/// A CHECK constraint of a domain.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainConstraint {
    pub name: String,
    /// As `pg_get_constraintdef` prints it: `CHECK ((VALUE > 0))`.
    pub definition: String,
    pub comment: Option<String>,
}

/// A composite type (`CREATE TYPE ... AS (...)`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Composite {
    pub schema: String,
    pub name: String,
    /// In attribute order.
    pub attributes: Vec<Attribute>,
    pub comment: Option<String>,
}

impl Composite {
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }
}

/// An attribute of a composite type.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attribute {
    pub name: String,
    /// As `format_type` prints it.
    pub data_type: String,
    /// A collation other than the type's default, as SQL names it.
    pub collation: Option<String>,
    pub comment: Option<String>,
}

/// A range type (`CREATE TYPE ... AS RANGE (...)`), with the multirange type that comes
/// with it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Range {
    pub schema: String,
    pub name: String,
    /// As `format_type` prints it.
    pub subtype: String,
    /// The options of `AS RANGE (...)`, each that is set, in a fixed order: `SUBTYPE =
    /// double precision, SUBTYPE_DIFF = float8mi, MULTIRANGE_TYPE_NAME = public.r_multirange`.
    pub definition: String,
    /// Whether it has a canonical function, which must be created over a shell type
    /// first.
    pub canonical: bool,
    pub comment: Option<String>,
}

/// An extended statistics object (`CREATE STATISTICS`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statistics {
    pub schema: String,
    pub name: String,
    /// The schema and name of the table it is on.
    pub table_schema: String,
    pub table: String,
    /// As `pg_get_statisticsobjdef` prints it: `CREATE STATISTICS public.s (ndistinct)
    /// ON a, b FROM t`.
    pub definition: String,
    /// `ALTER STATISTICS ... SET STATISTICS n`; `None` for the default.
    pub target: Option<i32>,
    pub comment: Option<String>,
}
