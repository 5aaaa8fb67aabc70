//! `stamp --sql`: the SQL that records a stamp, for a database devdb cannot reach. Like
//! `migrate --sql`, it needs no database: it is built from the revision files alone, with
//! the record table's own statements ([`store`]), so running it with psql leaves the record
//! exactly as `devdb stamp` would.
//!
//! As the database is not read, the script does not assume what it has recorded: it creates
//! the record table when missing, forgets every row outside the stamped set, replaces the
//! rows of the set whose checksum differs from the file's, and adds the missing ones.

use std::collections::BTreeSet;

use crate::config::Project;
use crate::migrate::{MigrateError, RevisionGraph, Target, load_graph, stamp_set, store};
use crate::pg::quote_literal;

/// The script `stamp TARGET` amounts to on a database at `from` (default: base; only
/// relative targets depend on it).
pub(crate) fn stamp_sql(
    project: &Project,
    target: &Target,
    from: Option<&str>,
) -> Result<String, MigrateError> {
    let graph = load_graph(&project.settings.migrations)?;
    let from = match from {
        Some(text) => stamp_set(&graph, &BTreeSet::new(), &text.parse::<Target>()?)?,
        None => BTreeSet::new(),
    };
    let after = stamp_set(&graph, &from, target)?;
    Ok(render_stamp(
        &graph,
        &after,
        target,
        &project.settings.version_schema,
    ))
}

/// The script that leaves exactly `after` recorded in `schema`'s record table.
fn render_stamp(
    graph: &RevisionGraph,
    after: &BTreeSet<String>,
    target: &Target,
    schema: &str,
) -> String {
    let record = store::Record::in_schema(schema);
    let table = record.qualified();
    let mut out = format!(
        "-- devdb: stamp {target}, {} revision(s) recorded, none run\n",
        after.len()
    );
    out.push_str(&record.lock_sql());
    out.push('\n');
    out.push_str(&record.create_table_sql());
    out.push_str("\n\nBEGIN;\n");
    if after.is_empty() {
        out.push_str(&format!("DELETE FROM {table};\n"));
    } else {
        let ids: Vec<String> = after.iter().map(|id| quote_literal(id)).collect();
        out.push_str(&format!(
            "DELETE FROM {table} WHERE id NOT IN ({});\n",
            ids.join(", ")
        ));
    }
    // In graph order, as `devdb stamp` records them.
    for revision in graph.revisions().iter().filter(|r| after.contains(&r.id)) {
        out.push_str(&format!("-- record {} {}\n", revision.id, revision.message));
        out.push_str(&format!(
            "DELETE FROM {table} WHERE id = {} AND checksum <> {};\n",
            quote_literal(&revision.id),
            quote_literal(&revision.checksum)
        ));
        let insert = record.insert_sql(&revision.id, &revision.checksum, &revision.message);
        out.push_str(insert.trim_end_matches(';'));
        out.push_str(" ON CONFLICT (id) DO NOTHING;\n");
    }
    out.push_str("COMMIT;\n");
    out.push_str(&record.unlock_sql());
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migrate::file::parse_revision;
    use std::path::Path;

    fn graph() -> RevisionGraph {
        let revision = |text: &str| parse_revision(Path::new("migrations/x.sql"), text).unwrap();
        RevisionGraph::new(vec![
            revision(
                "-- devdb:revision 0001\n-- devdb:parents\n-- devdb:message one\n\n-- devdb:up\nCREATE TABLE a (id int);\n",
            ),
            revision(
                "-- devdb:revision 0002\n-- devdb:parents 0001\n-- devdb:message it's two\n\n-- devdb:up\nCREATE TABLE b (id int);\n",
            ),
        ])
        .unwrap()
    }

    #[test]
    fn a_stamp_records_the_set_and_runs_no_revision() {
        let g = graph();
        let after = stamp_set(&g, &BTreeSet::new(), &Target::Revision("0001".into())).unwrap();
        let sql = render_stamp(&g, &after, &Target::Revision("0001".into()), "app");
        assert!(
            sql.contains("CREATE SCHEMA IF NOT EXISTS \"app\";"),
            "{sql}"
        );
        assert!(
            sql.contains("DELETE FROM \"app\".\"devdb_revisions\" WHERE id NOT IN ('0001');"),
            "{sql}"
        );
        assert!(sql.contains("VALUES ('0001', "), "{sql}");
        assert!(!sql.contains("'0002'"), "{sql}");
        assert!(!sql.contains("CREATE TABLE a"), "{sql}");
        assert!(sql.starts_with("-- devdb: stamp 0001, 1 revision(s) recorded"));
        let lock = sql.find("pg_advisory_lock").unwrap();
        let commit = sql.find("COMMIT;").unwrap();
        let unlock = sql.find("pg_advisory_unlock").unwrap();
        assert!(lock < commit && commit < unlock, "{sql}");
    }

    #[test]
    fn stamping_base_clears_the_record_and_messages_are_quoted() {
        let g = graph();
        let sql = render_stamp(&g, &BTreeSet::new(), &Target::Base, "public");
        assert!(
            sql.contains("DELETE FROM \"public\".\"devdb_revisions\";\n"),
            "{sql}"
        );
        assert!(!sql.contains("INSERT"), "{sql}");
        let all = stamp_set(&g, &BTreeSet::new(), &Target::Heads).unwrap();
        let sql = render_stamp(&g, &all, &Target::Heads, "public");
        assert!(sql.contains("'it''s two'"), "{sql}");
        assert!(sql.find("'0001'").unwrap() < sql.find("VALUES ('0002'").unwrap());
    }
}
