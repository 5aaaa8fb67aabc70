//! The cases that need a database: one project brought up per group, and a fingerprint
//! of the database (schema, rows, databases) taken before and after each case.

use std::collections::BTreeMap;

use super::case::{self, Base, Case};
use super::{Each, Ran};
use crate::common::{TestProject, query};

/// Brings up `base` once and runs `cases` against it, one after the other, handing each
/// case's run to `each`.
pub fn run_group(bases: &BTreeMap<String, Base>, base: &str, cases: &[&Case], each: &Each) {
    let project = TestProject::new();
    let base_files = case::base_files(bases, base);
    case::lay_out(project.path(), &base_files).expect("the base's files");
    let up = project.devdb(&["up"]);
    if !up.status.success() {
        for case in cases {
            let problem = format!(
                "bringing up base `{base}` failed: {}",
                String::from_utf8_lossy(&up.stderr)
            );
            each(
                case,
                &project,
                Ran {
                    output: None,
                    problems: vec![problem],
                },
            );
        }
        return;
    }
    let url = project.url();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for case in cases {
        let mut problems = super::prepare(bases, case, &project);
        let mut output = None;
        if problems.is_empty() {
            let files_before = case::snapshot(project.path());
            let before = runtime.block_on(fingerprint(&url));
            output = Some(super::run(&project, case, &case.args, false));
            problems.extend(super::project_files_problem(
                case,
                project.path(),
                &files_before,
            ));
            let after = runtime.block_on(fingerprint(&url));
            let databases = match &after {
                Ok(_) => String::new(),
                Err(_) => runtime.block_on(databases_on_server(&url)),
            };
            problems.extend(database_problem(&before, &after, &databases));
        }
        each(case, &project, Ran { output, problems });
    }
}

fn database_problem(
    before: &Result<BTreeMap<String, String>, String>,
    after: &Result<BTreeMap<String, String>, String>,
    databases: &str,
) -> Option<String> {
    match (before, after) {
        (Err(e), _) => Some(format!("cannot fingerprint the database before: {e}")),
        (_, Err(e)) => Some(format!(
            "cannot fingerprint the database after: {e}; the server has the databases {}",
            databases
        )),
        (Ok(before), Ok(after)) => {
            let keys: std::collections::BTreeSet<&String> =
                before.keys().chain(after.keys()).collect();
            let changed: Vec<String> = keys
                .into_iter()
                .filter(|k| before.get(*k) != after.get(*k))
                .map(|k| {
                    format!(
                        "{k}: {} -> {}",
                        before.get(k).map_or("(none)", String::as_str),
                        after.get(k).map_or("(none)", String::as_str)
                    )
                })
                .collect();
            (!changed.is_empty()).then(|| format!("changed the database: {}", changed.join("; ")))
        }
    }
}

/// The server's databases, through its `postgres` database: for a report when the
/// project's own database is gone.
async fn databases_on_server(url: &str) -> String {
    let (server, _) = url.rsplit_once('/').unwrap();
    let sql = "SELECT string_agg(datname, ', ' ORDER BY datname) FROM pg_database";
    match query(&format!("{server}/postgres"), sql).await {
        Ok(rows) => rows.join(""),
        Err(e) => format!("(unknown: {e})"),
    }
}

const NOT_SYSTEM: &str = "NOT IN ('pg_catalog', 'information_schema', 'pg_toast')";

/// The schema (tables, columns, constraints, indexes, functions, sequences), every table's
/// row count and the md5 of its rows in order, and the server's databases and roles.
async fn fingerprint(url: &str) -> Result<BTreeMap<String, String>, String> {
    let one = |sql: String| async move {
        query(url, &sql)
            .await
            .map(|rows| rows.join("\n"))
            .map_err(|e| format!("{e}: {sql}"))
    };
    let mut found = BTreeMap::new();
    found.insert(
        "databases".to_string(),
        one("SELECT string_agg(datname, ',' ORDER BY datname) FROM pg_database".into()).await?,
    );
    found.insert(
        "roles".to_string(),
        one("SELECT string_agg(rolname, ',' ORDER BY rolname) FROM pg_roles".into()).await?,
    );
    let schema = format!(
        "SELECT md5(coalesce(string_agg(x, E'\\n' ORDER BY x), '')) FROM (
           SELECT format('column %s.%s.%s %s %s %s', table_schema, table_name, column_name,
                         data_type, is_nullable, column_default) AS x
             FROM information_schema.columns WHERE table_schema {NOT_SYSTEM}
           UNION ALL
           SELECT format('constraint %s %s %s', conrelid::regclass, conname,
                         pg_get_constraintdef(c.oid))
             FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
            WHERE n.nspname {NOT_SYSTEM}
           UNION ALL
           SELECT format('index %s.%s %s', schemaname, indexname, indexdef)
             FROM pg_indexes WHERE schemaname {NOT_SYSTEM}
           UNION ALL
           SELECT format('function %s.%s %s', n.nspname, p.proname, md5(p.prosrc))
             FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname {NOT_SYSTEM}
           UNION ALL
           SELECT format('relation %s.%s %s', n.nspname, c.relname, c.relkind)
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname {NOT_SYSTEM}
           UNION ALL
           SELECT format('schema %s', nspname) FROM pg_namespace WHERE nspname {NOT_SYSTEM}
         ) s"
    );
    found.insert("schema".to_string(), one(schema).await?);
    let tables = one(format!(
        "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables
          WHERE schemaname {NOT_SYSTEM} ORDER BY 1"
    ))
    .await?;
    for table in tables.lines().filter(|t| !t.is_empty()) {
        let rows = one(format!(
            "SELECT count(*)::text || ' rows, md5 ' ||
                    coalesce(md5(string_agg(t::text, E'\\n' ORDER BY t::text)), '-')
               FROM {table} t"
        ))
        .await?;
        found.insert(format!("rows of {table}"), rows);
    }
    Ok(found)
}
