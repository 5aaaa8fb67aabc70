//! Schemas, extensions and sequences: the objects with no dependencies of their own,
//! created before everything and dropped after everything.

use super::{Gen, comment_value, qualified};
use crate::catalog::{Catalog, Sequence};
use crate::pg::{quote_ident, quote_literal};

/// Whether a sequence is made by an identity column (it comes and goes with it).
fn identity_sequence(catalog: &Catalog, s: &Sequence) -> bool {
    let Some(owner) = &s.owned_by else {
        return false;
    };
    catalog.tables.values().any(|t| {
        t.columns.iter().any(|c| {
            c.identity.is_some()
                && owner.schema == t.schema
                && owner.table == t.name
                && owner.column == c.name
        })
    })
}

/// The parameters `CREATE SEQUENCE` and `ALTER SEQUENCE` write.
fn sequence_parameters(s: &Sequence) -> String {
    format!(
        "AS {} INCREMENT BY {} MINVALUE {} MAXVALUE {} START WITH {} CACHE {} {}",
        s.data_type,
        s.increment,
        s.min,
        s.max,
        s.start,
        s.cache,
        if s.cycle { "CYCLE" } else { "NO CYCLE" }
    )
}

impl Gen<'_> {
    pub(super) fn create_schemas(&mut self) {
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
    }

    pub(super) fn create_extensions(&mut self) {
        let (from, to) = (self.from, self.to);
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
    }

    /// Sequences created or altered (not their owner: the column may not exist yet).
    pub(super) fn create_sequences(&mut self) {
        let (from, to) = (self.from, self.to);
        for (key, s) in &to.sequences {
            if identity_sequence(to, s) {
                continue;
            }
            let name = qualified(&s.schema, &s.name);
            let params = sequence_parameters(s);
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
    }

    /// The columns owning sequences, once the columns exist.
    pub(super) fn own_sequences(&mut self) {
        let (from, to) = (self.from, self.to);
        for (key, s) in &to.sequences {
            if identity_sequence(to, s) {
                continue;
            }
            let old = from.sequences.get(key).and_then(|o| o.owned_by.clone());
            if old != s.owned_by {
                let owner = match &s.owned_by {
                    Some(owner) => format!(
                        "{}.{}",
                        qualified(&owner.schema, &owner.table),
                        quote_ident(&owner.column)
                    ),
                    None => "NONE".to_string(),
                };
                self.out.push(format!(
                    "ALTER SEQUENCE {} OWNED BY {owner};",
                    qualified(&s.schema, &s.name)
                ));
            }
        }
    }

    pub(super) fn drop_sequences(&mut self) {
        let (from, to) = (self.from, self.to);
        for (key, s) in &from.sequences {
            if !to.sequences.contains_key(key) && !identity_sequence(from, s) {
                self.out.push(format!(
                    "DROP SEQUENCE IF EXISTS {};",
                    qualified(&s.schema, &s.name)
                ));
            }
        }
    }

    pub(super) fn drop_extensions(&mut self) {
        let (from, to) = (self.from, self.to);
        for (key, x) in &from.extensions {
            if !to.extensions.contains_key(key) {
                self.out.push(format!(
                    "DROP EXTENSION IF EXISTS {};",
                    quote_ident(&x.name)
                ));
            }
        }
    }

    pub(super) fn drop_schemas(&mut self) {
        let (from, to) = (self.from, self.to);
        for key in from.schemas.keys() {
            if !to.schemas.contains_key(key) {
                self.out
                    .push(format!("DROP SCHEMA IF EXISTS {};", quote_ident(key)));
            }
        }
    }
}
