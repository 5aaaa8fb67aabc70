//! Offline SQL (`migrate --sql`, `downgrade --sql`): the statements a live run would send,
//! in the order it would send them, for a DBA to review or run with psql.
//!
//! The live runner builds its statements with the same functions ([`revision_steps`]), so
//! the two cannot drift apart.

use std::collections::BTreeSet;

use super::file::Revision;
use super::graph::RevisionGraph;
use super::plan::{PlanError, Target, plan_downgrade, plan_upgrade};
use super::split::split_statements;
use super::store;

/// Which way a revision runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Up,
    Down,
}

/// What is sent for one revision, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevisionSteps<'r> {
    /// False for `-- devdb:no-transaction` revisions.
    pub transaction: bool,
    /// The SQL of the revision: the whole body in a transaction, or each statement with
    /// its byte offset in the body outside one. Empty bodies send nothing.
    pub chunks: Vec<(usize, &'r str)>,
    /// The body the chunks come from, and the file line of its first line.
    pub body: &'r str,
    pub body_line: usize,
    /// Records the revision as applied (up) or forgets it (down).
    pub record: String,
}

/// The steps for running `revision` in `direction`, recording it in `record`.
pub fn revision_steps<'r>(
    revision: &'r Revision,
    direction: Direction,
    record: store::Record<'_>,
) -> RevisionSteps<'r> {
    let (body, body_line, record) = match direction {
        Direction::Up => (
            revision.up.as_str(),
            revision.up_line,
            record.insert_sql(&revision.id, &revision.checksum, &revision.message),
        ),
        Direction::Down => (
            revision.down.as_deref().unwrap_or(""),
            revision.down_line.unwrap_or(revision.up_line),
            record.delete_sql(&revision.id),
        ),
    };
    let chunks = if revision.no_transaction {
        split_statements(body)
            .into_iter()
            .map(|s| (s.offset, s.text))
            .collect()
    } else if split_statements(body).is_empty() {
        Vec::new()
    } else {
        vec![(0, body)]
    };
    RevisionSteps {
        transaction: !revision.no_transaction,
        chunks,
        body,
        body_line,
        record,
    }
}

/// `sql` ended by a semicolon that no trailing line comment can swallow.
pub fn terminated(sql: &str) -> String {
    let sql = sql.trim_end();
    if sql.ends_with(';') {
        return sql.to_string();
    }
    let last_line = sql.rsplit('\n').next().unwrap_or("");
    if last_line.contains("--") {
        format!("{sql}\n;")
    } else {
        format!("{sql};")
    }
}

/// The script that takes a database with `from` applied to `target`.
pub fn render_upgrade_sql(
    graph: &RevisionGraph,
    from: &BTreeSet<String>,
    target: &Target,
    schema: &str,
) -> Result<String, PlanError> {
    let plan = plan_upgrade(graph, from, target)?;
    Ok(render(
        &plan,
        Direction::Up,
        schema,
        &format!("upgrade to {target}"),
    ))
}

/// The script that reverts a database with `from` applied to `target`.
pub fn render_downgrade_sql(
    graph: &RevisionGraph,
    from: &BTreeSet<String>,
    target: &Target,
    schema: &str,
) -> Result<String, PlanError> {
    let plan = plan_downgrade(graph, from, target)?;
    Ok(render(
        &plan,
        Direction::Down,
        schema,
        &format!("downgrade to {target}"),
    ))
}

fn render(plan: &[&Revision], direction: Direction, schema: &str, title: &str) -> String {
    let record = store::Record::in_schema(schema);
    let mut out = format!("-- devdb: {title}, {} revision(s)\n", plan.len());
    out.push_str(&record.lock_sql());
    out.push('\n');
    out.push_str(&record.create_table_sql());
    out.push_str("\n\n");
    for revision in plan {
        let steps = revision_steps(revision, direction, record);
        let verb = match direction {
            Direction::Up => "apply",
            Direction::Down => "revert",
        };
        out.push_str(&format!(
            "-- {verb} {} {} ({}){}\n",
            revision.id,
            revision.message,
            // The file name only: the script reads the same on every machine.
            revision.path.file_name().map_or_else(
                || revision.path.display(),
                |n| std::path::Path::new(n).display()
            ),
            if steps.transaction {
                ""
            } else {
                ", outside a transaction"
            }
        ));
        if steps.transaction {
            out.push_str("BEGIN;\n");
        }
        for (_, chunk) in &steps.chunks {
            out.push_str(&terminated(chunk));
            out.push('\n');
        }
        out.push_str(&steps.record);
        out.push('\n');
        if steps.transaction {
            out.push_str("COMMIT;\n");
        }
        out.push('\n');
    }
    out.push_str(&record.unlock_sql());
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migrate::file::parse_revision;
    use std::path::Path;

    fn revision(text: &str) -> Revision {
        parse_revision(Path::new("migrations/x.sql"), text).unwrap()
    }

    fn graph() -> RevisionGraph {
        RevisionGraph::new(vec![
            revision(
                "-- devdb:revision 0001\n-- devdb:parents\n-- devdb:message create authors\n\n-- devdb:up\nCREATE TABLE authors (id int);\nINSERT INTO authors VALUES (1) -- one\n\n-- devdb:down\nDROP TABLE authors;\n",
            ),
            revision(
                "-- devdb:revision 0002\n-- devdb:parents 0001\n-- devdb:message index authors\n-- devdb:no-transaction\n\n-- devdb:up\nCREATE INDEX CONCURRENTLY a1 ON authors (id);\nCREATE INDEX CONCURRENTLY a2 ON authors (id)\n\n-- devdb:down\nDROP INDEX CONCURRENTLY a2;\nDROP INDEX CONCURRENTLY a1;\n",
            ),
        ])
        .unwrap()
    }

    #[test]
    fn statements_are_terminated_safely() {
        assert_eq!(terminated("SELECT 1"), "SELECT 1;");
        assert_eq!(terminated("SELECT 1;\n  "), "SELECT 1;");
        assert_eq!(terminated("SELECT 1 -- note"), "SELECT 1 -- note\n;");
    }

    #[test]
    fn upgrade_sql_wraps_transactional_revisions_and_splits_the_others() {
        let g = graph();
        let sql = render_upgrade_sql(&g, &BTreeSet::new(), &Target::Head, "public").unwrap();
        let key = store::Record::in_schema("public").lock_key();
        let expected = format!(
            "-- devdb: upgrade to head, 2 revision(s)
SELECT pg_advisory_lock({key});
{create}

-- apply 0001 create authors (x.sql)
BEGIN;
CREATE TABLE authors (id int);
INSERT INTO authors VALUES (1) -- one
;
{insert1}
COMMIT;

-- apply 0002 index authors (x.sql), outside a transaction
CREATE INDEX CONCURRENTLY a1 ON authors (id);
CREATE INDEX CONCURRENTLY a2 ON authors (id);
{insert2}

SELECT pg_advisory_unlock({key});
",
            create = store::Record::in_schema("public").create_table_sql(),
            insert1 = store::Record::in_schema("public").insert_sql(
                "0001",
                &g.revisions()[0].checksum,
                "create authors"
            ),
            insert2 = store::Record::in_schema("public").insert_sql(
                "0002",
                &g.revisions()[1].checksum,
                "index authors"
            ),
        );
        assert_eq!(sql, expected);
    }

    #[test]
    fn upgrade_sql_starts_from_the_given_revisions() {
        let g = graph();
        let from = BTreeSet::from(["0001".to_string()]);
        let sql = render_upgrade_sql(&g, &from, &Target::Head, "public").unwrap();
        assert!(!sql.contains("CREATE TABLE authors"));
        assert!(sql.contains("CREATE INDEX CONCURRENTLY a2 ON authors (id);"));
    }

    #[test]
    fn downgrade_sql_reverts_newest_first_and_deletes_records() {
        let g = graph();
        let from = BTreeSet::from(["0001".to_string(), "0002".to_string()]);
        let sql = render_downgrade_sql(&g, &from, &Target::Base, "app").unwrap();
        let a2 = sql.find("DROP INDEX CONCURRENTLY a2;").unwrap();
        let del2 = sql
            .find("DELETE FROM \"app\".\"devdb_revisions\" WHERE id = '0002';")
            .unwrap();
        let drop = sql
            .find("BEGIN;\nDROP TABLE authors;\nDELETE FROM")
            .unwrap();
        assert!(a2 < del2 && del2 < drop, "{sql}");
        assert!(sql.contains("CREATE SCHEMA IF NOT EXISTS \"app\";"));
    }
}
