//! What a database has applied, with squashed baselines accounted for: worked out once per
//! run, by [`AppliedState::new`], and used by every consumer (the runner and its dry run,
//! `current`, `status`, `history`, `check`, backup's `current.txt`), so that they agree, and
//! a database partly through a squashed chain is the same error everywhere.

use std::collections::{BTreeMap, BTreeSet};

use sqlx::PgConnection;

use super::error::MigrateError;
use super::graph::RevisionGraph;
use super::plan::{PlanError, current, reached_baselines, unknown_applied};
use super::store;
use crate::pg::Step;

/// The revisions a database has, as its record says and as the squashed baselines of the
/// revision files count them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedState {
    /// The record: each applied revision's id and checksum.
    pub recorded: BTreeMap<String, String>,
    /// Squashed baselines the record lacks although it has every revision they replace: the
    /// database is past the squashed chain, so they count as applied, and `migrate` records
    /// them without running them.
    pub reached: Vec<String>,
    ids: BTreeSet<String>,
}

impl AppliedState {
    /// The state of a database whose record is `recorded`. A database that applied some but
    /// not all of a baseline's revisions is [`PlanError::PartlySquashed`]: it can neither be
    /// recorded at the baseline nor apply it.
    pub fn new(
        graph: &RevisionGraph,
        recorded: BTreeMap<String, String>,
    ) -> Result<AppliedState, PlanError> {
        let mut ids: BTreeSet<String> = recorded.keys().cloned().collect();
        let reached: Vec<String> = reached_baselines(graph, &ids)?
            .into_iter()
            .map(|baseline| baseline.id.clone())
            .collect();
        ids.extend(reached.iter().cloned());
        Ok(AppliedState {
            recorded,
            reached,
            ids,
        })
    }

    /// Reads the record of the database behind `conn` (without taking the migration lock or
    /// creating anything: a database never migrated has applied nothing).
    pub async fn read(
        conn: &mut PgConnection,
        graph: &RevisionGraph,
        schema: &str,
    ) -> Result<AppliedState, MigrateError> {
        let recorded = store::applied(conn, schema)
            .await
            .step("reading the applied revisions")?;
        Ok(AppliedState::new(graph, recorded)?)
    }

    /// Every revision that counts as applied: the record and the reached baselines.
    pub fn ids(&self) -> &BTreeSet<String> {
        &self.ids
    }

    /// Where the database is: the applied revisions no applied revision descends from.
    pub fn current(&self, graph: &RevisionGraph) -> Vec<String> {
        current(graph, &self.ids)
    }

    /// Recorded revisions that no file defines (and no baseline replaces).
    pub fn unknown(&self, graph: &RevisionGraph) -> Vec<String> {
        unknown_applied(graph, &self.ids)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::migrate::file::parse_revision;

    /// a <- b <- c squashed into the baseline s (replaces a b c), and d on top of s.
    fn squashed() -> RevisionGraph {
        let file = |id: &str, header: &str| {
            parse_revision(
                Path::new("x.sql"),
                &format!("-- devdb:revision {id}\n{header}-- devdb:up\nSELECT 1;\n"),
            )
            .unwrap()
        };
        RevisionGraph::new(vec![
            file("s", "-- devdb:replaces a b c\n"),
            file("d", "-- devdb:parents s\n"),
        ])
        .unwrap()
    }

    fn recorded(ids: &[&str]) -> BTreeMap<String, String> {
        ids.iter()
            .map(|id| (id.to_string(), String::new()))
            .collect()
    }

    #[test]
    fn a_database_past_the_squashed_chain_is_at_its_baseline() {
        let graph = squashed();
        let state = AppliedState::new(&graph, recorded(&["a", "b", "c"])).unwrap();
        assert_eq!(state.reached, ["s"]);
        assert_eq!(state.current(&graph), ["s"]);
        assert!(state.ids().contains("s") && state.ids().contains("a"));
        assert_eq!(state.unknown(&graph), Vec::<String>::new());
    }

    #[test]
    fn a_recorded_baseline_is_not_reached_again_and_unknown_ids_are_named() {
        let graph = squashed();
        let state = AppliedState::new(&graph, recorded(&["s", "d", "zz"])).unwrap();
        assert_eq!(state.reached, Vec::<String>::new());
        assert_eq!(state.current(&graph), ["d"]);
        assert_eq!(state.unknown(&graph), ["zz"]);
        let empty = AppliedState::new(&graph, BTreeMap::new()).unwrap();
        assert_eq!(empty.current(&graph), Vec::<String>::new());
    }

    /// s squashed again with d and e on it: t replaces a b c s d e (what s replaced comes
    /// before s), and f builds on t.
    fn squashed_twice() -> RevisionGraph {
        let file = |id: &str, header: &str| {
            parse_revision(
                Path::new("x.sql"),
                &format!("-- devdb:revision {id}\n{header}-- devdb:up\nSELECT 1;\n"),
            )
            .unwrap()
        };
        RevisionGraph::new(vec![
            file("t", "-- devdb:replaces a b c s d e\n"),
            file("f", "-- devdb:parents t\n"),
        ])
        .unwrap()
    }

    #[test]
    fn every_database_past_both_chains_is_at_the_second_baseline() {
        let graph = squashed_twice();
        for record in [
            // Migrated through the first chain, then recorded at s.
            &["a", "b", "c", "s", "d", "e"][..],
            // Built from s.
            &["s", "d", "e"],
            // Migrated through the first chain and on, never recorded at s.
            &["a", "b", "c", "d", "e"],
        ] {
            let state = AppliedState::new(&graph, recorded(record)).unwrap();
            assert_eq!(state.reached, ["t"], "{record:?}");
            assert_eq!(state.current(&graph), ["t"], "{record:?}");
            assert_eq!(state.unknown(&graph), Vec::<String>::new(), "{record:?}");
        }
    }

    #[test]
    fn a_database_at_the_first_baseline_is_partly_through_the_second() {
        for record in [&["s"][..], &["a", "b", "c", "s", "d"], &["a", "b", "c"]] {
            let error = AppliedState::new(&squashed_twice(), recorded(record)).unwrap_err();
            assert!(
                matches!(&error, PlanError::PartlySquashed { baseline, missing }
                    if baseline == "t" && missing.last().map(String::as_str) == Some("e")),
                "{record:?}: {error:?}"
            );
        }
        let error = AppliedState::new(&squashed_twice(), recorded(&["s"])).unwrap_err();
        assert!(
            matches!(&error, PlanError::PartlySquashed { missing, .. } if missing == &["d", "e"]),
            "{error:?}"
        );
    }

    #[test]
    fn a_database_partly_through_the_chain_is_one_error() {
        let error = AppliedState::new(&squashed(), recorded(&["a", "b"])).unwrap_err();
        assert!(
            matches!(error, PlanError::PartlySquashed { ref baseline, ref missing }
                if baseline == "s" && missing == &["c"]),
            "{error:?}"
        );
    }
}
