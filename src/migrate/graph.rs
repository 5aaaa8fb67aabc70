//! The revision graph: which revision follows which, in what order they apply, where
//! the heads are and where branches split.
//!
//! Pure data built once from the parsed files; it never talks to a database. Building
//! it checks the graph is sound (unique ids, known parents, no cycle) so that every
//! later question (heads, ancestry, order, prefix lookup) has one answer.
//!
//! Apply order rule: parents always come before children; among revisions that are
//! ready at the same time, the one most recently made ready goes first (a stack rather
//! than a queue), so a branch is applied to its end before the next branch starts;
//! revisions made ready together are taken in id order. The order depends only on the
//! ids and parents, never on file names or the order files were read in.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;

use super::file::{DUPLICATE_ID_HINT, Revision};
use crate::error::{Exit, Failure};

/// Why the revisions do not form a usable graph, or a revision could not be found.
#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    #[error(
        "revision {id} is defined twice, in {} and in {}; revision ids must be unique",
        first.display(),
        second.display()
    )]
    DuplicateRevision {
        id: String,
        first: PathBuf,
        second: PathBuf,
    },
    #[error(
        "revision {id} ({}) names parent {parent}, but no migration file defines {parent}",
        path.display()
    )]
    UnknownParent {
        id: String,
        path: PathBuf,
        parent: String,
    },
    #[error(
        "the migrations form a cycle: {}; a revision cannot be its own ancestor",
        cycle_text(ids)
    )]
    Cycle {
        /// The revisions of the cycle, each a parent of the next, the last a parent of
        /// the first.
        ids: Vec<String>,
    },
    #[error("no revision matches `{id}` in the migration files")]
    UnknownRevision { id: String },
    #[error(
        "revision `{prefix}` is ambiguous: it is a prefix of {}; give more characters",
        crate::listing::few(candidates, crate::listing::HISTORY_LISTS_THEM)
    )]
    AmbiguousRevision {
        prefix: String,
        candidates: Vec<String>,
    },
}

fn cycle_text(ids: &[String]) -> String {
    let mut text = ids.join(" -> ");
    if let Some(first) = ids.first() {
        text.push_str(" -> ");
        text.push_str(first);
    }
    text
}

/// The migrations have more than one head, so "head" means nothing until they are merged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MultipleHeads {
    /// `(id, message)` of each head, in apply order.
    pub heads: Vec<(String, String)>,
    /// `(id, message)` of the nearest common ancestor of the heads, if they have one.
    pub branch_point: Option<(String, String)>,
}

impl Failure for MultipleHeads {
    fn exit(&self) -> Exit {
        Exit::GraphConflict
    }

    fn hint(&self) -> Option<String> {
        let which = if self.heads.len() == 2 {
            "both"
        } else {
            "all of them"
        };
        Some(format!(
            "run `devdb merge -m \"merge heads\"` to join them, or `devdb migrate heads` to apply {which}"
        ))
    }
}

/// An unsound graph is a conflict (exit 6); a revision that is not found is a plain failure.
impl Failure for GraphError {
    fn exit(&self) -> Exit {
        match self {
            GraphError::UnknownRevision { .. } | GraphError::AmbiguousRevision { .. } => {
                Exit::Failure
            }
            _ => Exit::GraphConflict,
        }
    }

    fn hint(&self) -> Option<String> {
        Some(match self {
            GraphError::DuplicateRevision { .. } => DUPLICATE_ID_HINT.into(),
            GraphError::UnknownParent { .. } => "restore the parent's file, or fix the \
                 `-- devdb:parents` line; `devdb history` shows the revisions there are"
                .into(),
            GraphError::Cycle { .. } => {
                "one of the `-- devdb:parents` lines names a descendant; fix it".into()
            }
            GraphError::UnknownRevision { .. } | GraphError::AmbiguousRevision { .. } => {
                HISTORY_HINT.into()
            }
        })
    }
}

/// Where to look up a revision's id.
pub(crate) const HISTORY_HINT: &str = "`devdb history` lists the revisions and their ids";

impl fmt::Display for MultipleHeads {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<String> = self
            .heads
            .iter()
            .map(|(id, message)| describe(id, message))
            .collect();
        let list = match names.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
            _ => names.join(""),
        };
        write!(
            f,
            "the migrations have {} heads, {list}",
            count_word(names.len())
        )?;
        match &self.branch_point {
            Some((id, _)) => write!(f, ", which branch at {id}"),
            None => write!(f, ", which share no ancestor"),
        }
    }
}

impl std::error::Error for MultipleHeads {}

fn describe(id: &str, message: &str) -> String {
    if message.is_empty() {
        id.to_string()
    } else {
        format!("{id} ({message})")
    }
}

fn count_word(n: usize) -> String {
    const WORDS: [&str; 11] = [
        "no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    ];
    WORDS
        .get(n)
        .map_or_else(|| n.to_string(), |w| w.to_string())
}

/// The revisions as a graph, held in apply order.
#[derive(Debug, Clone)]
pub struct RevisionGraph {
    revisions: Vec<Revision>,
    index: HashMap<String, usize>,
    parents: Vec<Vec<usize>>,
    children: Vec<Vec<usize>>,
}

impl RevisionGraph {
    /// Checks the revisions form a sound graph and orders them for applying.
    pub fn new(revisions: Vec<Revision>) -> Result<Self, GraphError> {
        let mut index: HashMap<String, usize> = HashMap::with_capacity(revisions.len());
        for (i, rev) in revisions.iter().enumerate() {
            if let Some(&first) = index.get(&rev.id) {
                return Err(GraphError::DuplicateRevision {
                    id: rev.id.clone(),
                    first: revisions[first].path.clone(),
                    second: rev.path.clone(),
                });
            }
            index.insert(rev.id.clone(), i);
        }
        let mut parents: Vec<Vec<usize>> = Vec::with_capacity(revisions.len());
        for rev in &revisions {
            let mut ids = Vec::with_capacity(rev.parents.len());
            for parent in &rev.parents {
                let Some(&p) = index.get(parent) else {
                    return Err(GraphError::UnknownParent {
                        id: rev.id.clone(),
                        path: rev.path.clone(),
                        parent: parent.clone(),
                    });
                };
                if !ids.contains(&p) {
                    ids.push(p);
                }
            }
            parents.push(ids);
        }
        let order = apply_order(&revisions, &parents)?;
        let mut position = vec![0; revisions.len()];
        for (pos, &i) in order.iter().enumerate() {
            position[i] = pos;
        }
        let parents: Vec<Vec<usize>> = order
            .iter()
            .map(|&i| parents[i].iter().map(|&p| position[p]).collect())
            .collect();
        let mut slots: Vec<Option<Revision>> = revisions.into_iter().map(Some).collect();
        let revisions: Vec<Revision> = order.iter().filter_map(|&i| slots[i].take()).collect();
        let mut children = vec![Vec::new(); revisions.len()];
        for (child, ps) in parents.iter().enumerate() {
            for &p in ps {
                children[p].push(child);
            }
        }
        let index = revisions
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id.clone(), i))
            .collect();
        Ok(RevisionGraph {
            revisions,
            index,
            parents,
            children,
        })
    }

    /// All revisions, in apply order.
    pub fn revisions(&self) -> &[Revision] {
        &self.revisions
    }

    pub fn len(&self) -> usize {
        self.revisions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.revisions.is_empty()
    }

    /// The revision with exactly this id.
    pub fn get(&self, id: &str) -> Option<&Revision> {
        self.index.get(id).map(|&i| &self.revisions[i])
    }

    /// Revisions that no revision names as a parent, in apply order.
    pub fn heads(&self) -> Vec<&Revision> {
        self.select(|i| self.children[i].is_empty())
    }

    /// Revisions without parents, in apply order.
    pub fn roots(&self) -> Vec<&Revision> {
        self.select(|i| self.parents[i].is_empty())
    }

    /// The strict ancestors of `id` (not `id` itself), in apply order; empty for an
    /// unknown id.
    pub fn ancestors(&self, id: &str) -> Vec<&Revision> {
        self.related(id, |i| self.ancestor_mask(&[i], false))
    }

    /// The strict descendants of `id` (not `id` itself), in apply order; empty for an
    /// unknown id.
    pub fn descendants(&self, id: &str) -> Vec<&Revision> {
        self.related(id, |i| self.descendant_mask(i, false))
    }

    /// Whether `a` is a strict ancestor of `b` (false when they are the same revision).
    pub fn is_ancestor(&self, a: &str, b: &str) -> bool {
        match (self.position(a), self.position(b)) {
            (Some(a), Some(b)) => a != b && self.ancestor_mask(&[b], false)[a],
            _ => false,
        }
    }

    /// The nearest common ancestors of `ids`, in apply order: the revisions that are
    /// ancestors of (or equal to) every one of them and have no descendant that also is.
    /// Usually one; several after criss-cross merges; none when the revisions share no
    /// ancestor (two roots) or an id is unknown.
    pub fn branch_point<S: AsRef<str>>(&self, ids: &[S]) -> Vec<&Revision> {
        let Some(positions) = ids
            .iter()
            .map(|id| self.position(id.as_ref()))
            .collect::<Option<Vec<usize>>>()
        else {
            return Vec::new();
        };
        let mut common = vec![!positions.is_empty(); self.len()];
        for &p in &positions {
            let mine = self.ancestor_mask(&[p], true);
            for (c, m) in common.iter_mut().zip(mine) {
                *c &= m;
            }
        }
        // Common ancestors are closed under "parent of", so a common ancestor is
        // nearest exactly when none of its children is common too.
        self.select(|i| common[i] && !self.children[i].iter().any(|&c| common[c]))
    }

    /// The revision named by a full id or by a prefix that matches exactly one id.
    pub fn resolve(&self, prefix: &str) -> Result<&Revision, GraphError> {
        if let Some(rev) = self.get(prefix) {
            return Ok(rev);
        }
        let matches = if prefix.is_empty() {
            Vec::new()
        } else {
            self.select(|i| self.revisions[i].id.starts_with(prefix))
        };
        match matches.as_slice() {
            [] => Err(GraphError::UnknownRevision {
                id: prefix.to_string(),
            }),
            [one] => Ok(one),
            many => {
                let mut candidates: Vec<String> = many.iter().map(|r| r.id.clone()).collect();
                candidates.sort();
                Err(GraphError::AmbiguousRevision {
                    prefix: prefix.to_string(),
                    candidates,
                })
            }
        }
    }

    /// `Some` when the graph has more than one head, describing them and their branch point.
    pub fn multiple_heads(&self) -> Option<MultipleHeads> {
        let heads = self.heads();
        if heads.len() < 2 {
            return None;
        }
        let ids: Vec<&str> = heads.iter().map(|r| r.id.as_str()).collect();
        let branch_point = self
            .branch_point(&ids)
            .last()
            .map(|r| (r.id.clone(), r.message.clone()));
        Some(MultipleHeads {
            heads: heads
                .iter()
                .map(|r| (r.id.clone(), r.message.clone()))
                .collect(),
            branch_point,
        })
    }

    /// Position of `id` in apply order.
    pub(crate) fn position(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }

    pub(crate) fn children_of(&self, position: usize) -> &[usize] {
        &self.children[position]
    }

    /// Marks every ancestor of the `from` positions, and the positions themselves when
    /// `inclusive`.
    pub(crate) fn ancestor_mask(&self, from: &[usize], inclusive: bool) -> Vec<bool> {
        self.reach(from, inclusive, &self.parents)
    }

    /// Marks every descendant of `from`, and `from` itself when `inclusive`.
    pub(crate) fn descendant_mask(&self, from: usize, inclusive: bool) -> Vec<bool> {
        self.reach(&[from], inclusive, &self.children)
    }

    fn reach(&self, from: &[usize], inclusive: bool, edges: &[Vec<usize>]) -> Vec<bool> {
        let mut seen = vec![false; self.len()];
        let mut stack: Vec<usize> = from.iter().flat_map(|&f| edges[f].clone()).collect();
        while let Some(i) = stack.pop() {
            if !seen[i] {
                seen[i] = true;
                stack.extend(&edges[i]);
            }
        }
        if inclusive {
            for &f in from {
                seen[f] = true;
            }
        }
        seen
    }

    fn select(&self, keep: impl Fn(usize) -> bool) -> Vec<&Revision> {
        (0..self.len())
            .filter(|&i| keep(i))
            .map(|i| &self.revisions[i])
            .collect()
    }

    fn related(&self, id: &str, mask: impl Fn(usize) -> Vec<bool>) -> Vec<&Revision> {
        match self.position(id) {
            Some(i) => {
                let mask = mask(i);
                self.select(|j| mask[j])
            }
            None => Vec::new(),
        }
    }
}

/// Kahn's algorithm with a stack (see the module docs for why), over input positions.
fn apply_order(revisions: &[Revision], parents: &[Vec<usize>]) -> Result<Vec<usize>, GraphError> {
    let n = revisions.len();
    let mut children = vec![Vec::new(); n];
    let mut waiting: Vec<usize> = parents.iter().map(Vec::len).collect();
    for (child, ps) in parents.iter().enumerate() {
        for &p in ps {
            children[p].push(child);
        }
    }
    // Pushed in descending id order so that the smallest id is popped first.
    let by_id_desc = |a: &usize, b: &usize| revisions[*b].id.cmp(&revisions[*a].id);
    let mut ready: Vec<usize> = (0..n).filter(|&i| waiting[i] == 0).collect();
    ready.sort_by(by_id_desc);
    let mut order = Vec::with_capacity(n);
    while let Some(i) = ready.pop() {
        order.push(i);
        let mut now_ready: Vec<usize> = Vec::new();
        for &c in &children[i] {
            waiting[c] -= 1;
            if waiting[c] == 0 {
                now_ready.push(c);
            }
        }
        now_ready.sort_by(by_id_desc);
        ready.extend(now_ready);
    }
    if order.len() == n {
        return Ok(order);
    }
    Err(GraphError::Cycle {
        ids: find_cycle(revisions, parents, &waiting),
    })
}

/// A cycle among the revisions Kahn's algorithm could not order. Each of them still
/// waits on a parent that is also unordered, so following such parents must loop.
fn find_cycle(revisions: &[Revision], parents: &[Vec<usize>], waiting: &[usize]) -> Vec<String> {
    let stuck = |i: usize| waiting[i] > 0;
    let smallest = |candidates: &mut dyn Iterator<Item = usize>| {
        candidates.min_by(|a, b| revisions[*a].id.cmp(&revisions[*b].id))
    };
    let Some(mut at) = smallest(&mut (0..revisions.len()).filter(|&i| stuck(i))) else {
        return Vec::new();
    };
    let mut path: Vec<usize> = Vec::new();
    while !path.contains(&at) {
        path.push(at);
        match smallest(&mut parents[at].iter().copied().filter(|&p| stuck(p))) {
            Some(next) => at = next,
            None => break,
        }
    }
    let start = path.iter().position(|&p| p == at).unwrap_or(0);
    // The walk went child to parent; report parent to child, starting at the smallest id.
    let mut cycle: Vec<usize> = path[start..].iter().rev().copied().collect();
    if let Some(first) =
        (0..cycle.len()).min_by(|&a, &b| revisions[cycle[a]].id.cmp(&revisions[cycle[b]].id))
    {
        cycle.rotate_left(first);
    }
    cycle.into_iter().map(|i| revisions[i].id.clone()).collect()
}

#[cfg(test)]
mod tests;
