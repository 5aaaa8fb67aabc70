//! Objects of kinds the [`Catalog`](super::Catalog) cannot represent, found so that a
//! comparison or a dump that leaves them out says so: one query per kind, extension
//! members and system schemas left out, as the rest of the reader does.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use sqlx::PgConnection;

/// The first oid of objects made after `initdb` (`FirstNormalObjectId`): casts,
/// transforms, access methods and languages have no schema to tell a user's from the
/// system's.
macro_rules! user_oid {
    ($oid:literal) => {
        concat!(" ", $oid, " >= 16384 ")
    };
}

/// A kind: its name in one and in several, and the query giving the names of its objects.
struct Kind {
    one: &'static str,
    many: &'static str,
    query: &'static str,
}

const KINDS: &[Kind] = &[
    Kind {
        one: "foreign table",
        many: "foreign tables",
        query: concat!(
            "SELECT n.nspname || '.' || c.relname FROM pg_class c \
             JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'f' AND ",
            user_namespace!(),
            " AND ",
            not_in_extension!("pg_class", "c.oid")
        ),
    },
    Kind {
        one: "table inheriting from another",
        many: "tables inheriting from others",
        query: concat!(
            "SELECT DISTINCT n.nspname || '.' || c.relname FROM pg_inherits h \
             JOIN pg_class c ON c.oid = h.inhrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE NOT c.relispartition AND c.relkind IN ('r', 'p', 'f') AND ",
            user_namespace!(),
            " AND ",
            not_in_extension!("pg_class", "c.oid")
        ),
    },
    Kind {
        one: "foreign-data wrapper",
        many: "foreign-data wrappers",
        query: concat!(
            "SELECT w.fdwname FROM pg_foreign_data_wrapper w WHERE ",
            not_in_extension!("pg_foreign_data_wrapper", "w.oid")
        ),
    },
    Kind {
        one: "foreign server",
        many: "foreign servers",
        query: concat!(
            "SELECT s.srvname FROM pg_foreign_server s WHERE ",
            not_in_extension!("pg_foreign_server", "s.oid")
        ),
    },
    Kind {
        one: "publication",
        many: "publications",
        query: "SELECT p.pubname FROM pg_publication p",
    },
    Kind {
        one: "subscription",
        many: "subscriptions",
        query: "SELECT s.subname FROM pg_subscription s \
                JOIN pg_database d ON d.oid = s.subdbid WHERE d.datname = current_database()",
    },
    Kind {
        one: "base type",
        many: "base types",
        query: concat!(
            "SELECT n.nspname || '.' || t.typname FROM pg_type t \
             JOIN pg_namespace n ON n.oid = t.typnamespace \
             WHERE t.typtype = 'b' AND t.typcategory <> 'A' AND ",
            user_namespace!(),
            " AND ",
            not_in_extension!("pg_type", "t.oid")
        ),
    },
    Kind {
        one: "operator",
        many: "operators",
        query: concat!(
            "SELECT n.nspname || '.' || o.oprname || '(' \
               || coalesce(format_type(o.oprleft, NULL), 'NONE') || ', ' \
               || coalesce(format_type(o.oprright, NULL), 'NONE') || ')' \
             FROM pg_operator o JOIN pg_namespace n ON n.oid = o.oprnamespace WHERE ",
            user_namespace!(),
            " AND ",
            not_in_extension!("pg_operator", "o.oid")
        ),
    },
    Kind {
        one: "operator class",
        many: "operator classes",
        query: concat!(
            "SELECT n.nspname || '.' || c.opcname FROM pg_opclass c \
             JOIN pg_namespace n ON n.oid = c.opcnamespace WHERE ",
            user_namespace!(),
            " AND ",
            not_in_extension!("pg_opclass", "c.oid")
        ),
    },
    Kind {
        one: "operator family",
        many: "operator families",
        query: concat!(
            "SELECT n.nspname || '.' || f.opfname FROM pg_opfamily f \
             JOIN pg_namespace n ON n.oid = f.opfnamespace WHERE ",
            user_namespace!(),
            " AND ",
            not_in_extension!("pg_opfamily", "f.oid"),
            // CREATE OPERATOR CLASS makes the family of the same name with it.
            " AND NOT EXISTS (SELECT 1 FROM pg_opclass c WHERE c.opcfamily = f.oid \
               AND c.opcname = f.opfname AND c.opcnamespace = f.opfnamespace)"
        ),
    },
    Kind {
        one: "cast",
        many: "casts",
        query: concat!(
            "SELECT format_type(c.castsource, NULL) || ' AS ' || format_type(c.casttarget, NULL) \
             FROM pg_cast c WHERE ",
            user_oid!("c.oid"),
            " AND ",
            not_in_extension!("pg_cast", "c.oid"),
            // Not the cast a range type makes to its multirange: it comes with the type.
            " AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_cast'::regclass \
             AND d.objid = c.oid AND d.deptype = 'i')"
        ),
    },
    Kind {
        one: "collation",
        many: "collations",
        query: concat!(
            "SELECT n.nspname || '.' || c.collname FROM pg_collation c \
             JOIN pg_namespace n ON n.oid = c.collnamespace WHERE ",
            user_namespace!(),
            " AND ",
            not_in_extension!("pg_collation", "c.oid")
        ),
    },
    Kind {
        one: "conversion",
        many: "conversions",
        query: concat!(
            "SELECT n.nspname || '.' || c.conname FROM pg_conversion c \
             JOIN pg_namespace n ON n.oid = c.connamespace WHERE ",
            user_namespace!(),
            " AND ",
            not_in_extension!("pg_conversion", "c.oid")
        ),
    },
    Kind {
        one: "text search configuration",
        many: "text search configurations",
        query: concat!(
            "SELECT n.nspname || '.' || c.cfgname FROM pg_ts_config c \
             JOIN pg_namespace n ON n.oid = c.cfgnamespace WHERE ",
            user_namespace!(),
            " AND ",
            not_in_extension!("pg_ts_config", "c.oid")
        ),
    },
    Kind {
        one: "text search dictionary",
        many: "text search dictionaries",
        query: concat!(
            "SELECT n.nspname || '.' || d.dictname FROM pg_ts_dict d \
             JOIN pg_namespace n ON n.oid = d.dictnamespace WHERE ",
            user_namespace!(),
            " AND ",
            not_in_extension!("pg_ts_dict", "d.oid")
        ),
    },
    Kind {
        one: "text search parser",
        many: "text search parsers",
        query: concat!(
            "SELECT n.nspname || '.' || p.prsname FROM pg_ts_parser p \
             JOIN pg_namespace n ON n.oid = p.prsnamespace WHERE ",
            user_namespace!(),
            " AND ",
            not_in_extension!("pg_ts_parser", "p.oid")
        ),
    },
    Kind {
        one: "text search template",
        many: "text search templates",
        query: concat!(
            "SELECT n.nspname || '.' || t.tmplname FROM pg_ts_template t \
             JOIN pg_namespace n ON n.oid = t.tmplnamespace WHERE ",
            user_namespace!(),
            " AND ",
            not_in_extension!("pg_ts_template", "t.oid")
        ),
    },
    Kind {
        one: "transform",
        many: "transforms",
        query: concat!(
            "SELECT format_type(t.trftype, NULL) || ' FOR LANGUAGE ' || l.lanname \
             FROM pg_transform t JOIN pg_language l ON l.oid = t.trflang WHERE ",
            user_oid!("t.oid"),
            " AND ",
            not_in_extension!("pg_transform", "t.oid")
        ),
    },
    Kind {
        one: "access method",
        many: "access methods",
        query: concat!(
            "SELECT a.amname FROM pg_am a WHERE ",
            user_oid!("a.oid"),
            " AND ",
            not_in_extension!("pg_am", "a.oid")
        ),
    },
    Kind {
        one: "procedural language",
        many: "procedural languages",
        query: concat!(
            "SELECT l.lanname FROM pg_language l WHERE ",
            user_oid!("l.oid"),
            " AND ",
            not_in_extension!("pg_language", "l.oid")
        ),
    },
    Kind {
        one: "large object",
        many: "large objects",
        query: "SELECT m.oid::text FROM pg_largeobject_metadata m",
    },
];

/// Objects no comparison or dump looks at, by kind (its name in one, as [`KINDS`] has
/// it), each with its names (`schema.name` where it has a schema, for people to read).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotCompared(pub BTreeMap<String, BTreeSet<String>>);

/// How many names a warning gives for each kind.
const NAMED: usize = 3;

impl NotCompared {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Both sets of objects together: what either side of a comparison holds.
    pub fn merged(&self, other: &NotCompared) -> NotCompared {
        let mut all = self.clone();
        for (kind, names) in &other.0 {
            all.0
                .entry(kind.clone())
                .or_default()
                .extend(names.iter().cloned());
        }
        all
    }

    /// `2 foreign tables (public.remote_a, public.remote_b), 1 publication (everything)`,
    /// a few names for each kind; `None` when there is nothing.
    pub fn describe(&self) -> Option<String> {
        if self.is_empty() {
            return None;
        }
        let parts: Vec<String> = KINDS
            .iter()
            .filter_map(|kind| {
                let names = self.0.get(kind.one)?;
                let word = if names.len() == 1 {
                    kind.one
                } else {
                    kind.many
                };
                let mut shown: Vec<&str> = names.iter().take(NAMED).map(String::as_str).collect();
                let more = names.len().saturating_sub(NAMED);
                let more = format!("{more} more");
                if names.len() > NAMED {
                    shown.push(&more);
                }
                Some(format!("{} {word} ({})", names.len(), shown.join(", ")))
            })
            .collect();
        Some(parts.join(", "))
    }
}

/// Finds the objects of every kind in [`KINDS`]. A kind whose catalog the role may not
/// read (`pg_subscription` before Postgres 15 needs a superuser) is named as unreadable
/// rather than left out.
pub(super) async fn not_compared(conn: &mut PgConnection) -> Result<NotCompared, sqlx::Error> {
    let mut found = NotCompared::default();
    for kind in KINDS {
        // A savepoint would be needed inside a transaction; the reader runs outside one.
        match sqlx::query_scalar::<_, String>(kind.query)
            .fetch_all(&mut *conn)
            .await
        {
            Ok(names) if names.is_empty() => {}
            Ok(names) => {
                found
                    .0
                    .insert(kind.one.to_string(), names.into_iter().collect());
            }
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42501") => {
                found.0.insert(
                    kind.one.to_string(),
                    BTreeSet::from(["(not readable by this role)".to_string()]),
                );
            }
            Err(e) => return Err(e),
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_few_names_of_each_kind_are_given_in_the_order_of_the_kinds() {
        let mut n = NotCompared::default();
        n.0.insert(
            "publication".into(),
            BTreeSet::from(["everything".to_string()]),
        );
        n.0.insert(
            "foreign table".into(),
            ["public.a", "public.b", "public.c", "public.d"]
                .map(String::from)
                .into(),
        );
        assert_eq!(
            n.describe().unwrap(),
            "4 foreign tables (public.a, public.b, public.c, 1 more), 1 publication (everything)"
        );
        assert_eq!(NotCompared::default().describe(), None);
        let both = n.merged(&NotCompared(BTreeMap::from([(
            "publication".to_string(),
            BTreeSet::from(["other".to_string()]),
        )])));
        assert_eq!(both.0["publication"].len(), 2);
    }
}
