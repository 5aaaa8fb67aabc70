//! Migration targets and plans: which revisions to apply, revert or stamp to reach a
//! target, as pure functions of the graph and the set of applied revision ids.
//!
//! Everything that can make a run fail for reasons known in advance (several heads, an
//! unknown or ambiguous target, a revision that cannot be reverted) is found here,
//! before any SQL runs, so a refused command changes nothing.

use std::collections::BTreeSet;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use super::file::{Revision, is_valid_id};
use super::graph::{GraphError, HISTORY_HINT, MultipleHeads, RevisionGraph};
use crate::error::{Exit, Failure};

/// Where `migrate`, `downgrade` or `stamp` should take the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The single head; refused when there are several.
    Head,
    /// Every head.
    Heads,
    /// Nothing applied.
    Base,
    /// A revision id or a unique prefix of one.
    Revision(String),
    /// `+N` revisions forward or `-N` back from where the database is.
    Relative(i64),
}

impl Target {
    /// Refuses a target of the other direction before anything else is looked at: `migrate
    /// -1` is a usage error whether or not the database is up.
    pub fn check_direction(&self, command: &'static str) -> Result<(), PlanError> {
        let upgrade = match self {
            Target::Head | Target::Heads => true,
            Target::Base => false,
            Target::Relative(n) => *n > 0,
            Target::Revision(_) => return Ok(()),
        };
        if upgrade == (command == "migrate") {
            return Ok(());
        }
        Err(PlanError::WrongDirection {
            target: self.to_string(),
            command: if upgrade { "migrate" } else { "downgrade" },
        })
    }
}

impl FromStr for Target {
    type Err = PlanError;

    /// `head`, `heads`, `base`, `+N`, `-N` (N > 0), or else a revision id or prefix.
    fn from_str(text: &str) -> Result<Self, PlanError> {
        let invalid = || PlanError::InvalidTarget {
            text: text.to_string(),
        };
        match text {
            "head" => return Ok(Target::Head),
            "heads" => return Ok(Target::Heads),
            "base" => return Ok(Target::Base),
            _ => {}
        }
        if let Some(sign) = text.chars().next().filter(|c| matches!(c, '+' | '-')) {
            let digits = &text[1..];
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid());
            }
            let n: i64 = digits.parse().map_err(|_| invalid())?;
            if n == 0 {
                return Err(invalid());
            }
            return Ok(Target::Relative(if sign == '-' { -n } else { n }));
        }
        if is_valid_id(text) {
            Ok(Target::Revision(text.to_string()))
        } else {
            Err(invalid())
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Head => f.write_str("head"),
            Target::Heads => f.write_str("heads"),
            Target::Base => f.write_str("base"),
            Target::Revision(id) => f.write_str(id),
            Target::Relative(n) => write!(f, "{n:+}"),
        }
    }
}

/// Why no plan could be made; nothing has run when one of these is returned.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error(transparent)]
    Graph(#[from] GraphError),
    #[error(transparent)]
    MultipleHeads(#[from] MultipleHeads),
    #[error(
        "`{text}` is not a migration target; expected head, heads, base, +N, -N or a revision id"
    )]
    InvalidTarget { text: String },
    #[error("`{target}` is a{} target", if *command == "migrate" { "n upgrade" } else { " downgrade" })]
    WrongDirection {
        target: String,
        /// The command that takes this target: `migrate` or `downgrade`.
        command: &'static str,
    },
    #[error("cannot apply {requested} revisions: only {available} are pending")]
    NotEnoughPending { requested: u64, available: usize },
    #[error("cannot revert {requested} revisions: only {available} are applied")]
    NotEnoughApplied { requested: u64, available: usize },
    #[error("cannot downgrade to {id}: it is not applied to this database")]
    NotApplied { id: String },
    #[error(
        "the database applied only part of the revisions that baseline {baseline} replaces \
         (it lacks {}), so it can neither be recorded at {baseline} nor apply it",
        crate::listing::few(missing, crate::listing::HISTORY_LISTS_THEM)
    )]
    PartlySquashed {
        baseline: String,
        missing: Vec<String>,
    },
    #[error(
        "cannot downgrade: {} no `-- devdb:down` section, so nothing was reverted: {}",
        if ids.len() == 1 { "this revision has" } else { "these revisions have" },
        crate::listing::few(&ids.iter().map(|(id, path)| format!("{id} ({})", path.display())).collect::<Vec<_>>(), crate::listing::HISTORY_LISTS_THEM)
    )]
    Irreversible { ids: Vec<(String, PathBuf)> },
}

impl Failure for PlanError {
    fn exit(&self) -> Exit {
        match self {
            PlanError::Graph(e) => e.exit(),
            PlanError::MultipleHeads(e) => e.exit(),
            PlanError::InvalidTarget { .. } | PlanError::WrongDirection { .. } => Exit::Usage,
            // The database's state forbids the run, like a revision edited after it ran.
            PlanError::PartlySquashed { .. } => Exit::MigrationFailed,
            _ => Exit::Failure,
        }
    }

    fn hint(&self) -> Option<String> {
        Some(match self {
            PlanError::Graph(e) => return e.hint(),
            PlanError::MultipleHeads(e) => return e.hint(),
            PlanError::InvalidTarget { .. } => {
                format!("for example `devdb migrate +1` or `devdb downgrade -1`; {HISTORY_HINT}")
            }
            PlanError::WrongDirection { target, command } => {
                format!("run `devdb {command} {target}` instead")
            }
            PlanError::NotEnoughPending { .. } | PlanError::NotEnoughApplied { .. } => {
                "`devdb history` shows which revisions are applied and which are pending".into()
            }
            PlanError::NotApplied { .. } => "`devdb current` shows where the database is, and \
                 `devdb history` which revisions are applied"
                .into(),
            PlanError::PartlySquashed { baseline, .. } => format!(
                "migrate this database with the archived files of the squashed chain (the \
                 migrations/archive/ folder) until it has all the revisions {baseline} replaces, \
                 or rebuild it with `devdb reset`"
            ),
            PlanError::Irreversible { .. } => "write the `-- devdb:down` section of each, or go \
                 back another way: restore a backup (`devdb backup list`) or rebuild the \
                 database with `devdb reset`"
                .into(),
        })
    }
}

/// The applied revisions that no applied revision descends from, in apply order:
/// where the database is. Applied ids unknown to the files are ignored.
pub fn current(graph: &RevisionGraph, applied: &BTreeSet<String>) -> Vec<String> {
    let applied = applied_mask(graph, applied);
    // Walking backwards, a revision's children are settled before the revision itself.
    let mut covered = vec![false; graph.len()];
    for i in (0..graph.len()).rev() {
        covered[i] = applied[i] || graph.children_of(i).iter().any(|&c| covered[c]);
    }
    (0..graph.len())
        .filter(|&i| applied[i] && !graph.children_of(i).iter().any(|&c| covered[c]))
        .map(|i| graph.revisions()[i].id.clone())
        .collect()
}

/// Applied ids that no revision file defines (sorted): files deleted or renamed after
/// being applied, or a database migrated from another branch. Revisions a squashed
/// baseline replaces are known.
pub fn unknown_applied(graph: &RevisionGraph, applied: &BTreeSet<String>) -> Vec<String> {
    let replaced: BTreeSet<&str> = graph
        .revisions()
        .iter()
        .flat_map(|r| r.replaces.iter().map(String::as_str))
        .collect();
    applied
        .iter()
        .filter(|id| graph.get(id).is_none() && !replaced.contains(id.as_str()))
        .cloned()
        .collect()
}

/// The squashed baselines (`-- devdb:replaces`) a database reached without running them:
/// not applied, but past the squashed chain, so the baseline is recorded, never run. A
/// database that applied part of a baseline's revisions is refused: the baseline would
/// recreate what it has.
///
/// Past the chain means every revision it replaces is applied, or the last one is (the
/// chain's tip: squash lists them in apply order, and devdb applies a revision only after
/// its parents). The second form is how a baseline that folds in an earlier one is
/// reached: its list holds the earlier baseline and the revisions that one replaced, and a
/// database has one or the other (built from the earlier baseline, it has none of the
/// revisions before it; migrated through them, it may not have recorded that baseline).
pub fn reached_baselines<'g>(
    graph: &'g RevisionGraph,
    applied: &BTreeSet<String>,
) -> Result<Vec<&'g Revision>, PlanError> {
    let mut reached = Vec::new();
    for baseline in graph.revisions() {
        if baseline.replaces.is_empty() || applied.contains(&baseline.id) {
            continue;
        }
        let replaced = &baseline.replaces;
        let Some(last_applied) = replaced.iter().rposition(|id| applied.contains(id)) else {
            continue;
        };
        if last_applied + 1 == replaced.len() {
            reached.push(baseline);
            continue;
        }
        let missing: Vec<String> = replaced[last_applied + 1..].to_vec();
        return Err(PlanError::PartlySquashed {
            baseline: baseline.id.clone(),
            missing,
        });
    }
    Ok(reached)
}

/// The revisions to apply, in order, to reach `target`.
pub fn plan_upgrade<'g>(
    graph: &'g RevisionGraph,
    applied: &BTreeSet<String>,
    target: &Target,
) -> Result<Vec<&'g Revision>, PlanError> {
    let positions = upgrade_positions(graph, &applied_mask(graph, applied), target)?;
    Ok(positions
        .into_iter()
        .map(|i| &graph.revisions()[i])
        .collect())
}

/// The revisions to revert, newest first, to reach `target`. Refuses the whole plan
/// when any revision in it has no down section, naming all of them.
pub fn plan_downgrade<'g>(
    graph: &'g RevisionGraph,
    applied: &BTreeSet<String>,
    target: &Target,
) -> Result<Vec<&'g Revision>, PlanError> {
    let positions = downgrade_positions(graph, &applied_mask(graph, applied), target)?;
    let plan: Vec<&Revision> = positions
        .into_iter()
        .map(|i| &graph.revisions()[i])
        .collect();
    let irreversible: Vec<(String, PathBuf)> = plan
        .iter()
        .filter(|r| r.down.is_none())
        .map(|r| (r.id.clone(), r.path.clone()))
        .collect();
    if irreversible.is_empty() {
        Ok(plan)
    } else {
        Err(PlanError::Irreversible { ids: irreversible })
    }
}

/// The applied set after `stamp target`: the target and all its ancestors (every
/// revision for `heads`, none for `base`); relative targets move from `applied` as
/// upgrade and downgrade would, but without needing down sections since nothing runs.
pub fn stamp_set(
    graph: &RevisionGraph,
    applied: &BTreeSet<String>,
    target: &Target,
) -> Result<BTreeSet<String>, PlanError> {
    let mask = applied_mask(graph, applied);
    let id = |i: usize| graph.revisions()[i].id.clone();
    let upto = |positions: &[usize]| {
        let reach = graph.ancestor_mask(positions, true);
        (0..graph.len()).filter(|&i| reach[i]).map(id).collect()
    };
    Ok(match target {
        Target::Base => BTreeSet::new(),
        Target::Heads => (0..graph.len()).map(id).collect(),
        Target::Head => upto(&single_head(graph)?.into_iter().collect::<Vec<_>>()),
        Target::Revision(prefix) => upto(&[position_of(graph, prefix)?]),
        Target::Relative(n) if *n >= 0 => {
            let mut set = applied.clone();
            set.extend(upgrade_positions(graph, &mask, target)?.into_iter().map(id));
            set
        }
        Target::Relative(_) => {
            let mut set = applied.clone();
            for i in downgrade_positions(graph, &mask, target)? {
                set.remove(&graph.revisions()[i].id);
            }
            set
        }
    })
}

fn applied_mask(graph: &RevisionGraph, applied: &BTreeSet<String>) -> Vec<bool> {
    let mut mask = vec![false; graph.len()];
    for i in applied.iter().filter_map(|id| graph.position(id)) {
        mask[i] = true;
    }
    mask
}

fn position_of(graph: &RevisionGraph, prefix: &str) -> Result<usize, PlanError> {
    let rev = graph.resolve(prefix)?;
    Ok(graph
        .position(&rev.id)
        .expect("a resolved revision is in the graph"))
}

/// The position of the only head; `None` for an empty graph.
fn single_head(graph: &RevisionGraph) -> Result<Option<usize>, PlanError> {
    if let Some(err) = graph.multiple_heads() {
        return Err(err.into());
    }
    Ok(graph.heads().first().and_then(|h| graph.position(&h.id)))
}

fn upgrade_positions(
    graph: &RevisionGraph,
    applied: &[bool],
    target: &Target,
) -> Result<Vec<usize>, PlanError> {
    let pending = |upto: Vec<bool>| -> Vec<usize> {
        (0..graph.len())
            .filter(|&i| upto[i] && !applied[i])
            .collect()
    };
    match target {
        Target::Head => Ok(match single_head(graph)? {
            Some(head) => pending(graph.ancestor_mask(&[head], true)),
            None => Vec::new(),
        }),
        Target::Heads => Ok(pending(vec![true; graph.len()])),
        Target::Revision(prefix) => {
            let at = position_of(graph, prefix)?;
            Ok(pending(graph.ancestor_mask(&[at], true)))
        }
        Target::Relative(n) if *n >= 0 => {
            // Apply order puts every parent first, so the first N pending revisions
            // only depend on applied revisions and on each other, even across heads.
            let all = pending(vec![true; graph.len()]);
            let requested = n.unsigned_abs();
            if (all.len() as u64) < requested {
                return Err(PlanError::NotEnoughPending {
                    requested,
                    available: all.len(),
                });
            }
            Ok(all.into_iter().take(requested as usize).collect())
        }
        Target::Base | Target::Relative(_) => Err(PlanError::WrongDirection {
            target: target.to_string(),
            command: "downgrade",
        }),
    }
}

/// Positions to revert, newest first.
fn downgrade_positions(
    graph: &RevisionGraph,
    applied: &[bool],
    target: &Target,
) -> Result<Vec<usize>, PlanError> {
    let newest_first = |keep: &dyn Fn(usize) -> bool| -> Vec<usize> {
        (0..graph.len())
            .rev()
            .filter(|&i| applied[i] && keep(i))
            .collect()
    };
    match target {
        Target::Base => Ok(newest_first(&|_| true)),
        Target::Revision(prefix) => {
            let at = position_of(graph, prefix)?;
            if !applied[at] {
                return Err(PlanError::NotApplied {
                    id: graph.revisions()[at].id.clone(),
                });
            }
            let below = graph.descendant_mask(at, false);
            Ok(newest_first(&|i| below[i]))
        }
        Target::Relative(n) if *n <= 0 => {
            let all = newest_first(&|_| true);
            let requested = n.unsigned_abs();
            if (all.len() as u64) < requested {
                return Err(PlanError::NotEnoughApplied {
                    requested,
                    available: all.len(),
                });
            }
            Ok(all.into_iter().take(requested as usize).collect())
        }
        Target::Head | Target::Heads | Target::Relative(_) => Err(PlanError::WrongDirection {
            target: target.to_string(),
            command: "migrate",
        }),
    }
}

#[cfg(test)]
mod tests;
