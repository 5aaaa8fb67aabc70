//! The rows a database holds, as `squash` compares them between the chain's shadow and
//! the baseline's: per table a row count and an md5 of the rows' text in a fixed order,
//! each sequence's position, and the number of large objects. devdb's record tables are
//! left out, as the dump leaves them out.

use std::collections::{BTreeMap, BTreeSet};

use sqlx::PgConnection;

use super::SquashError;
use crate::migrate::{MigrateError, store};
use crate::pg::{Step, quote_ident};

/// What a database holds besides its schema.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Rows {
    /// `schema.table` to its row count and the md5 of its rows (empty when it has none).
    pub tables: BTreeMap<String, (i64, String)>,
    /// `schema.sequence` to its last value (`None`: never used).
    pub sequences: BTreeMap<String, Option<i64>>,
    pub large_objects: i64,
}

impl Rows {
    /// Rows in all tables.
    pub(crate) fn count(&self) -> u64 {
        self.tables.values().map(|(n, _)| *n as u64).sum()
    }
}

/// The rows of the database behind `conn`. `history_schema` holds devdb's record tables.
pub(crate) async fn read_rows(
    conn: &mut PgConnection,
    history_schema: &str,
) -> Result<Rows, SquashError> {
    let failed = |e: crate::pg::PgError| SquashError::from(MigrateError::from(e));
    // Plain tables and partitions hold the rows; a partitioned table would count its
    // partitions' rows again.
    let tables: Vec<(String, String)> = sqlx::query_as(
        "SELECT n.nspname::text, c.relname::text FROM pg_catalog.pg_class c \
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relkind = 'r' AND n.nspname <> 'information_schema' \
         AND n.nspname NOT LIKE 'pg\\_%' \
         AND NOT (n.nspname = $1 AND c.relname = ANY($2)) \
         ORDER BY 1, 2",
    )
    .bind(history_schema)
    .bind(&[store::TABLE, crate::seed::TABLE][..])
    .fetch_all(&mut *conn)
    .await
    .step("listing the tables")
    .map_err(failed)?;
    let mut rows = Rows::default();
    for (schema, table) in tables {
        let name = format!("{}.{}", quote_ident(&schema), quote_ident(&table));
        // The subquery names the row text, so a column called like the alias cannot
        // stand in for the whole row; "C" sorts the same on every server.
        let sql = format!(
            "SELECT count(*), coalesce(md5(string_agg(r, E'\\n' ORDER BY r COLLATE \"C\")), '') \
             FROM (SELECT ROW(t.*)::text AS r FROM {name} AS t) AS x"
        );
        let facts: (i64, String) = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_one(&mut *conn)
            .await
            .step(format!("reading the rows of {schema}.{table}"))
            .map_err(failed)?;
        rows.tables.insert(format!("{schema}.{table}"), facts);
    }
    let sequences: Vec<(String, Option<i64>)> = sqlx::query_as(
        "SELECT schemaname || '.' || sequencename, last_value FROM pg_catalog.pg_sequences \
         ORDER BY 1",
    )
    .fetch_all(&mut *conn)
    .await
    .step("reading the sequences")
    .map_err(failed)?;
    rows.sequences = sequences.into_iter().collect();
    rows.large_objects =
        sqlx::query_scalar("SELECT count(*) FROM pg_catalog.pg_largeobject_metadata")
            .fetch_one(&mut *conn)
            .await
            .step("counting the large objects")
            .map_err(failed)?;
    Ok(rows)
}

/// How `actual` differs from `expected`, one line per table or sequence, in the words of
/// `squash`'s refusal.
pub(crate) fn row_differences(expected: &Rows, actual: &Rows) -> Vec<String> {
    let mut out = Vec::new();
    let rows = |n: i64| format!("{n} row{}", if n == 1 { "" } else { "s" });
    for (table, (n, md5)) in &expected.tables {
        match actual.tables.get(table) {
            None => out.push(format!(
                "{table}: {} in the chain, no such table in the baseline",
                rows(*n)
            )),
            Some((m, _)) if m != n => out.push(format!(
                "{table}: {} in the chain, {} in the baseline",
                rows(*n),
                rows(*m)
            )),
            Some((_, other)) if other != md5 => out.push(format!(
                "{table}: {} in the chain and in the baseline, with other contents",
                rows(*n)
            )),
            Some(_) => {}
        }
    }
    for (table, (m, _)) in &actual.tables {
        if !expected.tables.contains_key(table) {
            out.push(format!(
                "{table}: no such table in the chain, {} in the baseline",
                rows(*m)
            ));
        }
    }
    let at = |value: Option<&Option<i64>>| match value {
        None => "missing".to_string(),
        Some(None) => "never used".to_string(),
        Some(Some(n)) => format!("at {n}"),
    };
    let sequences: BTreeSet<&String> = expected
        .sequences
        .keys()
        .chain(actual.sequences.keys())
        .collect();
    for name in sequences {
        let (e, a) = (expected.sequences.get(name), actual.sequences.get(name));
        if e != a {
            out.push(format!(
                "sequence {name}: {} in the chain, {} in the baseline",
                at(e),
                at(a)
            ));
        }
    }
    if expected.large_objects != actual.large_objects {
        out.push(format!(
            "large objects: {} in the chain, {} in the baseline (a baseline carries none)",
            expected.large_objects, actual.large_objects
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(tables: &[(&str, i64, &str)], sequences: &[(&str, Option<i64>)]) -> Rows {
        Rows {
            tables: tables
                .iter()
                .map(|(t, n, md5)| (t.to_string(), (*n, md5.to_string())))
                .collect(),
            sequences: sequences.iter().map(|(s, v)| (s.to_string(), *v)).collect(),
            large_objects: 0,
        }
    }

    #[test]
    fn equal_rows_have_no_differences_and_are_counted() {
        let chain = rows(
            &[
                ("public.language", 4, "aa"),
                ("public.role", 3, "bb"),
                ("public.empty", 0, ""),
            ],
            &[("public.role_id_seq", Some(3)), ("public.unused_seq", None)],
        );
        assert!(row_differences(&chain, &chain.clone()).is_empty());
        assert_eq!(chain.count(), 7);
    }

    #[test]
    fn each_difference_names_the_table_and_both_counts() {
        let chain = rows(
            &[
                ("public.language", 4, "aa"),
                ("public.role", 3, "bb"),
                ("public.gone", 1, "cc"),
            ],
            &[("public.role_id_seq", Some(3)), ("public.unused_seq", None)],
        );
        let mut baseline = rows(
            &[
                ("public.language", 0, ""),
                ("public.role", 3, "xx"),
                ("public.new", 2, "dd"),
            ],
            &[("public.role_id_seq", None)],
        );
        baseline.large_objects = 1;
        assert_eq!(
            row_differences(&chain, &baseline),
            [
                "public.gone: 1 row in the chain, no such table in the baseline",
                "public.language: 4 rows in the chain, 0 rows in the baseline",
                "public.role: 3 rows in the chain and in the baseline, with other contents",
                "public.new: no such table in the chain, 2 rows in the baseline",
                "sequence public.role_id_seq: at 3 in the chain, never used in the baseline",
                "sequence public.unused_seq: never used in the chain, missing in the baseline",
                "large objects: 0 in the chain, 1 in the baseline (a baseline carries none)",
            ]
        );
    }
}
