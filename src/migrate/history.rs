//! The revision graph drawn for people, like `git log --graph --oneline`: newest first
//! (reverse apply order), one line per revision with its lane art, id, markers and
//! message, and connector lines where a merge opens lanes or a branch point closes them.
//!
//! Lanes: each column waits for the revision it leads to. A revision takes the leftmost
//! column waiting for it (a head, which nothing waits for, opens a new column on the
//! right); the other columns waiting for it are folded in first, one `/` line each. A
//! merge opens a column per extra parent with a `\` line. A root closes its column.
//!
//! Pure: the applied set comes from the caller (empty when the database is unknown).

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde::Serialize;

use super::graph::RevisionGraph;

/// One revision as `history --json` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryEntry {
    pub id: String,
    pub message: String,
    pub parents: Vec<String>,
    pub children: Vec<String>,
    pub is_head: bool,
    pub applied: bool,
    pub path: PathBuf,
}

/// Every revision, newest first, with its parents and children.
pub fn history_entries(graph: &RevisionGraph, applied: &BTreeSet<String>) -> Vec<HistoryEntry> {
    let revisions = graph.revisions();
    (0..revisions.len())
        .rev()
        .map(|i| {
            let rev = &revisions[i];
            let children: Vec<String> = graph
                .children_of(i)
                .iter()
                .map(|&c| revisions[c].id.clone())
                .collect();
            HistoryEntry {
                id: rev.id.clone(),
                message: rev.message.clone(),
                parents: parent_positions(graph, i)
                    .into_iter()
                    .map(|p| revisions[p].id.clone())
                    .collect(),
                is_head: children.is_empty(),
                children,
                applied: applied.contains(&rev.id),
                path: rev.path.clone(),
            }
        })
        .collect()
}

/// The graph as text lines, newest first, each `<lanes> <id> (<markers>) <message>`.
/// Markers: `head`, `merge` (several parents), `branch point` (several children),
/// `root` (no parent, so where one history starts), `applied`.
pub fn render_history(graph: &RevisionGraph, applied: &BTreeSet<String>) -> Vec<String> {
    let revisions = graph.revisions();
    let mut lines = Vec::new();
    // lanes[c]: the position of the revision column c leads to.
    let mut lanes: Vec<usize> = Vec::new();
    for i in (0..revisions.len()).rev() {
        let col = match lanes.iter().position(|&l| l == i) {
            Some(col) => col,
            None => {
                lanes.push(i);
                lanes.len() - 1
            }
        };
        while let Some(extra) = lanes.iter().skip(col + 1).position(|&l| l == i) {
            let extra = col + 1 + extra;
            lines.push(fold_line(&lanes, col, extra));
            lanes.remove(extra);
        }
        let rev = &revisions[i];
        let art: Vec<&str> = (0..lanes.len())
            .map(|c| if c == col { "*" } else { "|" })
            .collect();
        let parents = parent_positions(graph, i);
        let mut markers = Vec::new();
        if graph.children_of(i).is_empty() {
            markers.push("head");
        }
        if parents.len() > 1 {
            markers.push("merge");
        }
        if graph.children_of(i).len() > 1 {
            markers.push("branch point");
        }
        if parents.is_empty() {
            markers.push("root");
        }
        if applied.contains(&rev.id) {
            markers.push("applied");
        }
        let mut line = format!("{} {}", art.join(" "), rev.id);
        if !markers.is_empty() {
            line.push_str(&format!(" ({})", markers.join(", ")));
        }
        if !rev.message.is_empty() {
            line.push(' ');
            line.push_str(&rev.message);
        }
        lines.push(line);
        match parents.split_first() {
            None => {
                if col + 1 < lanes.len() {
                    lines.push(close_line(&lanes, col));
                }
                lanes.remove(col);
            }
            Some((&first, rest)) => {
                lanes[col] = first;
                // Opened right after `col`, last parent first, so they end up in order.
                for &parent in rest.iter().rev() {
                    lines.push(open_line(&lanes, col));
                    lanes.insert(col + 1, parent);
                }
            }
        }
    }
    lines
}

/// Parents as positions, each once, in the order the file names them.
fn parent_positions(graph: &RevisionGraph, i: usize) -> Vec<usize> {
    let mut positions = Vec::new();
    for id in &graph.revisions()[i].parents {
        if let Some(p) = graph.position(id)
            && !positions.contains(&p)
        {
            positions.push(p);
        }
    }
    positions
}

/// Column `extra` joins column `col` on its left, passing under the columns between
/// (`|_|/`); the columns to its right move one to the left.
fn fold_line(lanes: &[usize], col: usize, extra: usize) -> String {
    let mut chars = vec![' '; 2 * lanes.len()];
    for c in 0..lanes.len() {
        if c < extra {
            chars[2 * c] = '|';
        }
        if c > col && c < extra {
            chars[2 * c - 1] = '_';
        }
        if c >= extra {
            chars[2 * c - 1] = '/';
        }
    }
    finish(chars)
}

/// Column `col` ends (a root); the columns to its right move one to the left.
fn close_line(lanes: &[usize], col: usize) -> String {
    let mut chars = vec![' '; 2 * lanes.len()];
    for c in 0..lanes.len() {
        if c < col {
            chars[2 * c] = '|';
        }
        if c > col {
            chars[2 * c - 1] = '/';
        }
    }
    finish(chars)
}

/// A new column opens right of `col` (`|\`); the columns to its right move one right.
fn open_line(lanes: &[usize], col: usize) -> String {
    let mut chars = vec![' '; 2 * lanes.len() + 2];
    for c in 0..lanes.len() {
        if c <= col {
            chars[2 * c] = '|';
        }
        if c >= col {
            chars[2 * c + 1] = '\\';
        }
    }
    finish(chars)
}

fn finish(chars: Vec<char>) -> String {
    chars.into_iter().collect::<String>().trim_end().to_string()
}

#[cfg(test)]
mod tests;
