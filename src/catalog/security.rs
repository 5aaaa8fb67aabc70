//! What decides who sees and does what beyond grants, and what acts on its own: row-level
//! security policies, rules, event triggers and default privileges.
//!
//! Policies and rules live on a relation but are held at the catalog's top level, keyed
//! `schema.relation.name`, since what they use (functions, other tables, views) decides
//! when they can be created and dropped. Event triggers belong to the database and are
//! keyed by name; default privileges by what they apply to ([`DefaultPrivileges::key`]).

use serde::{Deserialize, Serialize};

catalog_kind!(
    /// The command a policy applies to.
    PolicyCommand {
        All => "ALL",
        Select => "SELECT",
        Insert => "INSERT",
        Update => "UPDATE",
        Delete => "DELETE",
    }
);

catalog_kind!(
    /// The kind of object default privileges apply to, as `ALTER DEFAULT PRIVILEGES`
    /// names it.
    DefaultObjects {
        Tables => "TABLES",
        Sequences => "SEQUENCES",
        Functions => "FUNCTIONS",
        Types => "TYPES",
        Schemas => "SCHEMAS",
    }
);

/// A row-level security policy (`CREATE POLICY`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    pub schema: String,
    pub table: String,
    pub name: String,
    /// PERMISSIVE (true) or RESTRICTIVE.
    pub permissive: bool,
    pub command: PolicyCommand,
    /// The roles it applies to, sorted; `public` for PUBLIC (no role can be named so).
    pub roles: Vec<String>,
    /// The `USING` expression, as `pg_get_expr` prints it.
    pub using: Option<String>,
    /// The `WITH CHECK` expression.
    pub with_check: Option<String>,
    pub comment: Option<String>,
    /// What its expressions use, from `pg_depend`, in the keys of
    /// [`super::View::depends_on`]: its own table, columns, other relations, functions.
    pub depends_on: Vec<String>,
}

/// A rule on a table or view (`CREATE RULE`), not the `_RETURN` rule that makes a view.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    pub schema: String,
    /// The table or view it is on.
    pub relation: String,
    pub name: String,
    /// As `pg_get_ruledef` prints it: `CREATE RULE ... AS ON ... DO ...;`.
    pub definition: String,
    /// `O` (origin, the default), `D` (disabled), `R` (replica) or `A` (always).
    pub enabled: String,
    pub comment: Option<String>,
    /// What its actions and condition use, from `pg_depend` (as for a view).
    pub depends_on: Vec<String>,
}

/// An event trigger (`CREATE EVENT TRIGGER`): database-wide, no schema.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventTrigger {
    pub name: String,
    /// `ddl_command_start`, `ddl_command_end`, `sql_drop`, `table_rewrite`, `login`.
    pub event: String,
    /// The `WHEN TAG IN (...)` filter, in the order written; empty for every command.
    pub tags: Vec<String>,
    pub function_schema: String,
    /// The function it executes, which takes no arguments.
    pub function_name: String,
    /// `O` (origin, the default), `D` (disabled), `R` (replica) or `A` (always).
    pub enabled: String,
    pub comment: Option<String>,
}

/// The privileges objects of one kind get when a role creates them
/// (`ALTER DEFAULT PRIVILEGES`), as `pg_default_acl` holds them: without a schema, what
/// replaces the built-in privileges; in a schema, what is added to them there.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DefaultPrivileges {
    /// The creating role (`FOR ROLE`); `None` for the role that read the catalog, which
    /// is the one the migrations and the declarative schema run as, so that neither the
    /// comparison nor the generated SQL names it.
    pub role: Option<String>,
    /// `IN SCHEMA`.
    pub schema: Option<String>,
    pub objects: DefaultObjects,
    /// `aclitem` text, sorted; the grantor is the creating role.
    pub grants: Vec<String>,
}

impl DefaultPrivileges {
    /// The key in [`super::Catalog::default_privileges`], as a difference names it:
    /// `on tables`, `for role ops in schema report on sequences`.
    pub fn key(&self) -> String {
        let mut key = String::new();
        if let Some(role) = &self.role {
            key.push_str(&format!("for role {role} "));
        }
        if let Some(schema) = &self.schema {
            key.push_str(&format!("in schema {schema} "));
        }
        key.push_str(&format!("on {}", self.objects.as_str().to_lowercase()));
        key
    }
}
