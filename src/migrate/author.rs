//! Writing new revisions: `devdb new` (a revision on the single head, or on chosen
//! parents) and `devdb merge` (a revision whose parents are heads to join).
//!
//! The folder is read with [`EmptyUp::Allowed`] so that a revision just made by `new`,
//! still holding only its placeholder comment, does not block the next `new`; `migrate`
//! reads it strictly and refuses to record an unwritten revision. A merge's up section
//! holds only a comment: joining branches runs nothing, and the parser accepts an empty
//! up section for a revision with several parents (never a no-op statement that would
//! look like SQL someone forgot to replace). New files are created, never overwritten.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::file::{
    EmptyUp, FileError, UP_PLACEHOLDER, file_name, load_dir_with, new_revision_id, render_revision,
};
use super::graph::{GraphError, MultipleHeads, RevisionGraph};
use crate::error::{Exit, Failure};

/// The down section of a new revision: delete it to make the revision irreversible.
const DOWN_PLACEHOLDER: &str =
    "-- The SQL that reverts it; delete this section if it cannot be reverted.";
/// The up section of a merge revision.
const MERGE_UP: &str = "-- A merge point: nothing to run.";

/// Why a revision could not be written.
#[derive(Debug, thiserror::Error)]
pub enum AuthorError {
    #[error(transparent)]
    File(#[from] FileError),
    #[error(transparent)]
    Graph(#[from] GraphError),
    #[error("cannot choose a parent for the new revision (`--parent REV` names one): {0}")]
    MultipleHeads(MultipleHeads),
    #[error("nothing to merge: the migrations have {}", if *heads == 0 { "no revisions" } else { "one head" })]
    NothingToMerge { heads: usize },
    #[error("a merge needs at least two revisions, got {}", given.join(", "))]
    MergeNeedsTwo { given: Vec<String> },
    #[error("cannot merge {ancestor} into {descendant}: it is already an ancestor of it")]
    AlreadyAncestor {
        ancestor: String,
        descendant: String,
    },
    #[error("cannot create {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl Failure for AuthorError {
    fn exit(&self) -> Exit {
        match self {
            AuthorError::File(e) => e.exit(),
            AuthorError::Graph(e) => e.exit(),
            AuthorError::MultipleHeads(e) => e.exit(),
            _ => Exit::Failure,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            AuthorError::File(e) => e.hint(),
            AuthorError::Graph(e) => e.hint(),
            AuthorError::MultipleHeads(e) => e.hint(),
            AuthorError::NothingToMerge { .. } => {
                Some("`devdb new -m MSG` adds a revision on the head".to_string())
            }
            AuthorError::MergeNeedsTwo { .. } => {
                Some("name two heads or more, or none to merge all of them".to_string())
            }
            _ => None,
        }
    }
}

/// Writes a new revision into `dir` (created if needed) and returns its path. With no
/// `parents`, the parent is the single head, or none when there are no revisions yet;
/// `parents` may name revisions by id prefix.
pub fn new_revision(
    dir: &Path,
    message: &str,
    parents: Option<Vec<String>>,
) -> Result<PathBuf, AuthorError> {
    new_revision_with_sql(dir, message, parents, UP_PLACEHOLDER, DOWN_PLACEHOLDER)
}

/// Like [`new_revision`], with the given up and down sections (`new --autogenerate`).
pub fn new_revision_with_sql(
    dir: &Path,
    message: &str,
    parents: Option<Vec<String>>,
    up: &str,
    down: &str,
) -> Result<PathBuf, AuthorError> {
    let graph = load_graph(dir)?;
    let parents = match parents {
        Some(given) => resolve_all(&graph, &given)?,
        None => {
            if let Some(heads) = graph.multiple_heads() {
                return Err(AuthorError::MultipleHeads(heads));
            }
            graph.heads().iter().map(|r| r.id.clone()).collect()
        }
    };
    write_revision(dir, &parents, message, up, Some(down))
}

/// Writes a merge revision whose parents are `revs` (by id or prefix), or every head
/// when `revs` is empty, and returns its path.
pub fn merge_heads(dir: &Path, message: &str, revs: Vec<String>) -> Result<PathBuf, AuthorError> {
    let graph = load_graph(dir)?;
    let parents = if revs.is_empty() {
        let heads: Vec<String> = graph.heads().iter().map(|r| r.id.clone()).collect();
        if heads.len() < 2 {
            return Err(AuthorError::NothingToMerge { heads: heads.len() });
        }
        heads
    } else {
        let parents = resolve_all(&graph, &revs)?;
        if parents.len() < 2 {
            return Err(AuthorError::MergeNeedsTwo { given: parents });
        }
        for a in &parents {
            if let Some(b) = parents.iter().find(|b| graph.is_ancestor(a, b)) {
                return Err(AuthorError::AlreadyAncestor {
                    ancestor: a.clone(),
                    descendant: b.clone(),
                });
            }
        }
        parents
    };
    // Reverting a merge runs nothing either: its parents' own downs do the work.
    write_revision(dir, &parents, message, MERGE_UP, Some(""))
}

/// The graph of `dir` as the file-side commands read it (unwritten revisions allowed);
/// an empty one when the folder does not exist yet.
pub fn load_graph(dir: &Path) -> Result<RevisionGraph, AuthorError> {
    let revisions = if dir.exists() {
        load_dir_with(dir, EmptyUp::Allowed)?
    } else {
        Vec::new()
    };
    Ok(RevisionGraph::new(revisions)?)
}

/// Full ids of `given`, each once, in the order given.
fn resolve_all(graph: &RevisionGraph, given: &[String]) -> Result<Vec<String>, AuthorError> {
    let mut ids: Vec<String> = Vec::with_capacity(given.len());
    for prefix in given {
        let id = graph.resolve(prefix)?.id.clone();
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(ids)
}

fn write_revision(
    dir: &Path,
    parents: &[String],
    message: &str,
    up: &str,
    down: Option<&str>,
) -> Result<PathBuf, AuthorError> {
    let id = new_revision_id();
    let path = dir.join(file_name(&id, message));
    let failed = |source| AuthorError::Write {
        path: path.clone(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(failed)?;
    let text = render_revision(&id, parents, message, up, down);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(failed)?;
    file.write_all(text.as_bytes()).map_err(failed)?;
    Ok(path)
}

#[cfg(test)]
mod tests;
