//! The pure half of `squash`: which revisions a squash replaces, the baseline file's text
//! made from a dump, and the rewriting of the `parents` lines that named the chain's
//! tip.

use std::collections::BTreeSet;

use super::SquashError;
use crate::migrate::split::split_statements;
use crate::migrate::{PlanError, RevisionGraph, render_revision};
use crate::pg::{quote_ident, quote_literal};

/// What a squash replaces, decided from the files alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SquashPlan {
    /// The last revision of the chain (`--to`, or the single head).
    pub tip: String,
    /// The tip and all its ancestors, in apply order.
    pub chain: Vec<String>,
    /// What the baseline replaces: the chain, each baseline in it preceded by the
    /// revisions that baseline replaced, so a database that has either (it was migrated
    /// through the earlier chain, or built from the earlier baseline) is past this one.
    pub replaces: Vec<String>,
    /// Revisions outside the chain that name the tip as a parent: their `parents` line
    /// will name the baseline instead.
    pub reparented: Vec<String>,
}

/// The chain up to `to` (default: the single head). Refuses when a revision outside the
/// chain builds on a revision inside it other than the tip: that branch would lose its
/// parent.
pub(crate) fn plan_squash(
    graph: &RevisionGraph,
    to: Option<&str>,
) -> Result<SquashPlan, SquashError> {
    let tip = match to {
        Some(prefix) => graph.resolve(prefix).map_err(PlanError::from)?.id.clone(),
        None => {
            if let Some(heads) = graph.multiple_heads() {
                return Err(PlanError::from(heads).into());
            }
            match graph.heads().first() {
                Some(head) => head.id.clone(),
                None => return Err(SquashError::NothingToSquash { count: 0 }),
            }
        }
    };
    let mut chain: Vec<String> = graph.ancestors(&tip).iter().map(|r| r.id.clone()).collect();
    chain.push(tip.clone());
    if chain.len() < 2 {
        return Err(SquashError::NothingToSquash { count: chain.len() });
    }
    let inside: BTreeSet<&str> = chain.iter().map(String::as_str).collect();
    let mut reparented = Vec::new();
    for revision in graph.revisions() {
        if inside.contains(revision.id.as_str()) {
            continue;
        }
        for parent in &revision.parents {
            if parent == &tip {
                reparented.push(revision.id.clone());
            } else if inside.contains(parent.as_str()) {
                return Err(SquashError::BranchInsideChain {
                    id: revision.id.clone(),
                    parent: parent.clone(),
                    tip: tip.clone(),
                });
            }
        }
    }
    reparented.dedup();
    let replaces = replaced_ids(graph, &chain);
    Ok(SquashPlan {
        tip,
        chain,
        replaces,
        reparented,
    })
}

/// `chain` with the revisions each baseline in it replaces put before that baseline, each
/// id once, in apply order: the tip stays last.
fn replaced_ids(graph: &RevisionGraph, chain: &[String]) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for id in chain {
        let earlier = graph
            .get(id)
            .map(|r| r.replaces.as_slice())
            .unwrap_or_default();
        for replaced in earlier.iter().chain(std::iter::once(id)) {
            if !ids.contains(replaced) {
                ids.push(replaced.clone());
            }
        }
    }
    ids
}

/// The up body of a baseline from `pg_dump` output (a plain-text dump of schema and rows).
///
/// The dump is made for psql in a session of its own; a baseline runs in a transaction on a
/// connection that goes on to apply later revisions. So psql's meta-commands (`\restrict`)
/// go, pg_dump's session settings become `SET LOCAL` and its empty `search_path` becomes
/// transaction-local, and the schema of devdb's record table, which the runner creates
/// before any revision, is created only if missing.
pub(crate) fn baseline_body(dump: &str, history_schema: &str) -> String {
    let text: String = dump
        .split_inclusive('\n')
        .filter(|line| !(line.starts_with("\\restrict") || line.starts_with("\\unrestrict")))
        .collect();
    let schema_statements = [
        format!("CREATE SCHEMA {history_schema}"),
        format!("CREATE SCHEMA {}", quote_ident(history_schema)),
    ];
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    for statement in split_statements(&text) {
        let (start, body) = (statement.offset, statement.text);
        if let Some(rest) = body.strip_prefix("SET ")
            && !rest.starts_with("LOCAL ")
        {
            edits.push((start, start + 4, "SET LOCAL ".to_string()));
        } else if body.starts_with("SELECT pg_catalog.set_config(") && body.ends_with(", false)") {
            let at = start + body.len() - ", false)".len();
            edits.push((at, at + ", false)".len(), ", true)".to_string()));
        } else if history_schema != "public" && schema_statements.iter().any(|s| s == body) {
            edits.push((
                start,
                start + "CREATE SCHEMA".len(),
                "CREATE SCHEMA IF NOT EXISTS".into(),
            ));
        }
    }
    let mut out = text;
    for (start, end, replacement) in edits.into_iter().rev() {
        out.replace_range(start..end, &replacement);
    }
    out.trim().to_string()
}

/// Statements creating the roles a schema's grants name, where missing: roles belong to
/// the server, so `pg_dump` of a database leaves them out, and a new server would refuse
/// the grants. `roles` are `(name, can_login)`; passwords and other attributes are not
/// copied.
pub(crate) fn roles_sql(roles: &[(String, bool)]) -> String {
    if roles.is_empty() {
        return String::new();
    }
    let mut sql = String::from(
        "-- Roles the grants below need, created where missing (devdb squash copies no passwords).\n",
    );
    for (name, can_login) in roles {
        sql.push_str(&format!(
            "DO $devdb$ BEGIN\n  IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = {}) THEN\n    CREATE ROLE {} {};\n  END IF;\nEND $devdb$;\n",
            quote_literal(name),
            quote_ident(name),
            if *can_login { "LOGIN" } else { "NOLOGIN" }
        ));
    }
    sql
}

/// The whole baseline file: no parents, the replaced revisions, and no down section (a
/// baseline cannot be reverted: there is nothing before it to go back to).
pub(crate) fn baseline_file(id: &str, message: &str, replaces: &[String], body: &str) -> String {
    let text = render_revision(id, &[], message, body, None);
    let (first, rest) = text.split_once('\n').unwrap_or((&text, ""));
    format!("{first}\n-- devdb:replaces {}\n{rest}", replaces.join(" "))
}

/// `text` with `old` replaced by `new` in its `-- devdb:parents` line; `None` when that
/// line does not name `old`.
pub(crate) fn reparent(text: &str, old: &str, new: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut changed = false;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let is_parents = trimmed
            .strip_prefix("--")
            .map(str::trim_start)
            .and_then(|r| r.strip_prefix("devdb:parents"))
            .is_some_and(|r| r.is_empty() || r.starts_with(char::is_whitespace));
        if is_parents && !changed {
            let (content, ending) = match line.strip_suffix('\n') {
                Some(c) => (c, "\n"),
                None => (line, ""),
            };
            let (head, ids) = content
                .split_at(content.find("devdb:parents").unwrap_or(0) + "devdb:parents".len());
            if ids.split_whitespace().any(|id| id == old) {
                let ids: Vec<&str> = ids
                    .split_whitespace()
                    .map(|id| if id == old { new } else { id })
                    .collect();
                out.push_str(&format!("{head}  {}{ending}", ids.join(" ")));
                changed = true;
                continue;
            }
        }
        out.push_str(line);
    }
    changed.then_some(out)
}

#[cfg(test)]
mod tests;
