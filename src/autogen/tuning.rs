//! What tunes how a table is stored and planned: extended statistics (dropped before
//! the columns they cover, created once every relation exists, with their target and
//! comment), a table's storage parameters (`SET (...)` and `RESET (...)`), and a
//! column's statistics target, storage and compression.
//!
//! A column retyped is back at its new type's storage and at the default compression
//! (Postgres resets both), so those are set again; a reset to the type's storage is
//! `SET STORAGE DEFAULT` (Postgres 16 and later).

use std::collections::BTreeSet;

use super::tables::retyped;
use super::{Gen, comment_value, qualified, table_name};
use crate::catalog::{Column, Statistics, Table};
use crate::pg::{quote_ident, quote_literal};

/// `fillfactor=70` -> (`fillfactor`, `70`), in the order of `list`.
fn parameters(list: &[String]) -> Vec<(&str, &str)> {
    list.iter()
        .map(|p| p.split_once('=').unwrap_or((p.as_str(), "")))
        .collect()
}

fn statistics_key(s: &Statistics) -> String {
    format!("{}.{}", s.table_schema, s.table)
}

impl Gen<'_> {
    /// Statistics gone or defined otherwise (a dropped table or column takes its own,
    /// hence `IF EXISTS`).
    pub(super) fn drop_statistics(&mut self) {
        let (from, to) = (self.from, self.to);
        for (key, s) in &from.statistics {
            if to
                .statistics
                .get(key)
                .is_none_or(|n| n.definition != s.definition)
            {
                self.out.push(format!(
                    "DROP STATISTICS IF EXISTS {};",
                    qualified(&s.schema, &s.name)
                ));
            }
        }
    }

    /// Statistics new or defined otherwise, or on a materialized view in `recreated`
    /// (dropping the view took them); their targets and comments.
    pub(super) fn create_statistics(&mut self, recreated: &BTreeSet<String>) {
        let (from, to) = (self.from, self.to);
        for (key, s) in &to.statistics {
            let name = qualified(&s.schema, &s.name);
            let old = from.statistics.get(key).filter(|o| {
                o.definition == s.definition && !recreated.contains(&statistics_key(s))
            });
            if old.is_none() {
                self.out.push(format!("{};", s.definition));
            }
            if old.and_then(|o| o.target) != s.target {
                self.out.push(format!(
                    "ALTER STATISTICS {name} SET STATISTICS {};",
                    s.target.unwrap_or(-1)
                ));
            }
            if old.and_then(|o| o.comment.clone()) != s.comment {
                self.out.push(format!(
                    "COMMENT ON STATISTICS {name} IS {};",
                    comment_value(&s.comment)
                ));
            }
        }
    }

    /// `SET (...)` for the storage parameters `t` has and `old` (none for a new table)
    /// has otherwise, `RESET (...)` for those it lost.
    pub(super) fn storage_parameters(&mut self, old: Option<&Table>, t: &Table) {
        let before: Vec<(&str, &str)> =
            old.map_or(Vec::new(), |o| parameters(&o.storage_parameters));
        let after = parameters(&t.storage_parameters);
        let reset: Vec<&str> = before
            .iter()
            .filter(|(k, _)| !after.iter().any(|(a, _)| a == k))
            .map(|(k, _)| *k)
            .collect();
        // In the order `t` has them, so that a new table gets the same `reloptions`.
        let set: Vec<String> = after
            .iter()
            .filter(|p| !before.contains(p))
            .map(|(k, v)| format!("{k} = {}", quote_literal(v)))
            .collect();
        if !reset.is_empty() {
            self.out.push(format!(
                "ALTER TABLE {} RESET ({});",
                table_name(t),
                reset.join(", ")
            ));
        }
        if !set.is_empty() {
            self.out.push(format!(
                "ALTER TABLE {} SET ({});",
                table_name(t),
                set.join(", ")
            ));
        }
    }

    /// The statistics target, storage and compression of column `c` of `t`, where it
    /// was `before` (none for a new column, or the parent's column for a partition).
    pub(super) fn column_settings(&mut self, t: &Table, before: Option<&Column>, c: &Column) {
        let (name, column) = (table_name(t), quote_ident(&c.name));
        // A new type comes with its own storage and the default compression.
        let kept = before.filter(|b| !retyped(b, c));
        let target = before.and_then(|b| b.statistics_target);
        if target != c.statistics_target {
            self.out.push(format!(
                "ALTER TABLE {name} ALTER COLUMN {column} SET STATISTICS {};",
                c.statistics_target.unwrap_or(-1)
            ));
        }
        if kept.and_then(|b| b.storage.clone()) != c.storage {
            let storage = c.storage.as_deref().unwrap_or("default").to_uppercase();
            self.out.push(format!(
                "ALTER TABLE {name} ALTER COLUMN {column} SET STORAGE {storage};"
            ));
        }
        if kept.and_then(|b| b.compression.clone()) != c.compression {
            let compression = c.compression.as_deref().unwrap_or("default");
            self.out.push(format!(
                "ALTER TABLE {name} ALTER COLUMN {column} SET COMPRESSION {compression};"
            ));
        }
    }
}
