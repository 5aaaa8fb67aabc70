//! Small builders for the unit tests of the graph and the planner.

use std::path::PathBuf;

use super::file::Revision;
use super::graph::RevisionGraph;

/// A revision with a down section, an up body naming it, and a file named after it.
pub(crate) fn rev(id: &str, parents: &[&str]) -> Revision {
    let up = format!("SELECT '{id}';");
    Revision {
        id: id.to_string(),
        parents: parents.iter().map(|p| p.to_string()).collect(),
        message: format!("add {id}"),
        no_transaction: false,
        replaces: Vec::new(),
        checksum: format!("checksum of {up}"),
        up,
        down: Some(format!("SELECT 'undo {id}';")),
        path: PathBuf::from(format!("migrations/{id}.sql")),
        up_line: 5,
        down_line: Some(7),
    }
}

/// A graph from `(id, parents)` pairs; panics if the graph is unsound.
pub(crate) fn graph(spec: &[(&str, &[&str])]) -> RevisionGraph {
    RevisionGraph::new(spec.iter().map(|(id, parents)| rev(id, parents)).collect())
        .expect("a sound test graph")
}

/// The ids of some revisions, in the order given.
pub(crate) fn ids(revisions: &[&Revision]) -> Vec<String> {
    revisions.iter().map(|r| r.id.clone()).collect()
}
