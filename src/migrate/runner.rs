//! The migration runner: upgrade, downgrade and stamp on one Postgres connection.
//!
//! A run is a fixed sequence: take a session advisory lock (so concurrent runs apply each
//! revision once), ensure the record table, read and validate the applied revisions,
//! plan, then run each revision in its own transaction together with its record, so a
//! failure leaves the database at the last good revision. Revisions marked
//! `no-transaction` are sent statement by statement; a failure there cannot be undone.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Instant;

use serde::Serialize;
use sqlx::{AssertSqlSafe, Connection, PgConnection};

use super::applied::AppliedState;
use super::error::failure;
pub use super::error::{MigrateError, RevisionFailure};
use super::file::Revision;
use super::graph::RevisionGraph;
use super::plan::{Target, current, plan_downgrade, plan_upgrade, stamp_set};
use super::render::{Direction, RevisionSteps, revision_steps};
use super::store;
use crate::pg::{self, Step};
use crate::progress::Progress;

/// One revision a run applied, reverted or would run.
#[derive(Debug, Clone, Serialize)]
pub struct RevisionRun {
    pub id: String,
    pub message: String,
    pub path: PathBuf,
    /// Zero for a dry run.
    pub duration_ms: u64,
}

impl RevisionRun {
    fn of(revision: &Revision, duration_ms: u64) -> RevisionRun {
        RevisionRun {
            id: revision.id.clone(),
            message: revision.message.clone(),
            path: revision.path.clone(),
            duration_ms,
        }
    }
}

/// What a run did (or, with `dry_run`, would do).
#[derive(Debug, Clone, Default, Serialize)]
pub struct MigrateReport {
    pub dry_run: bool,
    /// Revisions applied (or planned to be, in a dry run), in order.
    pub applied: Vec<RevisionRun>,
    /// Revisions reverted (or planned to be), newest first.
    pub reverted: Vec<RevisionRun>,
    /// Revisions whose edited files were accepted with `--accept-changed`.
    pub accepted: Vec<String>,
    /// Squashed baselines recorded as applied without running them (or that would be, in
    /// a dry run), because the database had every revision they replace.
    pub baselines: Vec<String>,
    /// Where the database is after the run.
    pub current: Vec<String>,
    /// Seed files run after the migration, because the database was still due for them.
    pub seeded: Vec<String>,
}

/// Options of a downgrade.
#[derive(Debug, Clone, Default)]
pub struct DowngradeOptions {
    /// Plan against the live database but change nothing.
    pub dry_run: bool,
    /// The revisions the user agreed to revert, newest first: the run refuses, reverting
    /// nothing, when the plan under the migration lock is another one.
    pub approved: Option<Vec<String>>,
}

/// Options of an upgrade.
#[derive(Debug, Clone, Default)]
pub struct UpgradeOptions {
    /// Plan against the live database but change nothing.
    pub dry_run: bool,
    /// Revision ids (or prefixes) whose edited files are accepted as applied.
    pub accept_changed: Vec<String>,
}

/// Refuses applied revisions the files do not know, and applied revisions whose file
/// changed since. Revisions replaced by a squashed baseline count as known.
pub fn validate(
    graph: &RevisionGraph,
    applied: &BTreeMap<String, String>,
) -> Result<(), MigrateError> {
    let replaced: BTreeSet<&str> = graph
        .revisions()
        .iter()
        .flat_map(|r| r.replaces.iter().map(String::as_str))
        .collect();
    let unknown: Vec<String> = applied
        .keys()
        .filter(|id| graph.get(id).is_none() && !replaced.contains(id.as_str()))
        .cloned()
        .collect();
    if !unknown.is_empty() {
        return Err(MigrateError::UnknownApplied { ids: unknown });
    }
    let changed: Vec<(String, PathBuf)> = applied
        .iter()
        .filter_map(|(id, checksum)| graph.get(id).filter(|r| &r.checksum != checksum))
        .map(|r| (r.id.clone(), r.path.clone()))
        .collect();
    if changed.is_empty() {
        Ok(())
    } else {
        Err(MigrateError::Changed { revisions: changed })
    }
}

/// Runs revisions of one graph against databases, recording them in one schema.
pub struct Migrator<'a> {
    pub graph: &'a RevisionGraph,
    pub schema: &'a str,
    /// The record table in `schema`: [`store::TABLE`] unless configured otherwise.
    pub table: &'a str,
    /// Whether runs take the session advisory lock of the record table (off only for a
    /// caller that serialises its runs itself).
    pub lock: bool,
    pub progress: &'a dyn Progress,
}

impl Migrator<'_> {
    /// Where this migrator keeps its record.
    fn record(&self) -> store::Record<'_> {
        store::Record {
            schema: self.schema,
            table: self.table,
        }
    }

    /// Applies the revisions up to `target`. Refuses, running nothing, when the record
    /// table is missing but the database has devdb's record in another schema: a run
    /// configured with the wrong record schema would apply every revision again.
    pub async fn upgrade(
        &self,
        conn: &mut PgConnection,
        target: &Target,
        options: &UpgradeOptions,
    ) -> Result<MigrateReport, MigrateError> {
        self.refuse_record_elsewhere(conn).await?;
        if options.dry_run {
            let mut applied = self
                .record()
                .applied(conn)
                .await
                .step("reading the applied revisions")?;
            let accepted = self.accept(&mut applied, &options.accept_changed)?;
            validate(self.graph, &applied)?;
            let state = AppliedState::new(self.graph, applied)?;
            let plan = plan_upgrade(self.graph, state.ids(), target)?;
            return Ok(MigrateReport {
                dry_run: true,
                applied: plan.iter().map(|r| RevisionRun::of(r, 0)).collect(),
                accepted: accepted.into_iter().map(|(id, _)| id).collect(),
                current: state.current(self.graph),
                baselines: state.reached,
                ..MigrateReport::default()
            });
        }
        self.locked(conn, async |this, conn| {
            let mut applied = this.prepare(conn).await?;
            let accepted = this.accept(&mut applied, &options.accept_changed)?;
            for (id, checksum) in &accepted {
                pg::execute(conn, this.record().update_checksum_sql(id, checksum))
                    .await
                    .step("accepting a changed revision")?;
                this.progress
                    .info(&format!("accepted the edited file of {id}"));
            }
            validate(this.graph, &applied)?;
            let state = AppliedState::new(this.graph, applied)?;
            this.record_baselines(conn, &state.reached).await?;
            let mut ids = state.ids().clone();
            let baselines = state.reached;
            let plan = plan_upgrade(this.graph, &ids, target)?;
            let mut report = MigrateReport {
                accepted: accepted.into_iter().map(|(id, _)| id).collect(),
                baselines,
                ..MigrateReport::default()
            };
            for revision in plan {
                let done: Vec<String> = report.applied.iter().map(|r| r.id.clone()).collect();
                let ms = this.run(conn, revision, Direction::Up, &ids, done).await?;
                ids.insert(revision.id.clone());
                report.applied.push(RevisionRun::of(revision, ms));
            }
            report.current = current(this.graph, &ids);
            Ok(report)
        })
        .await
    }

    /// Reverts revisions, newest first, down to `target`.
    pub async fn downgrade(
        &self,
        conn: &mut PgConnection,
        target: &Target,
        options: &DowngradeOptions,
    ) -> Result<MigrateReport, MigrateError> {
        if options.dry_run {
            let applied = self
                .record()
                .applied(conn)
                .await
                .step("reading the applied revisions")?;
            validate(self.graph, &applied)?;
            let ids: BTreeSet<String> = applied.into_keys().collect();
            let plan = plan_downgrade(self.graph, &ids, target)?;
            return Ok(MigrateReport {
                dry_run: true,
                reverted: plan.iter().map(|r| RevisionRun::of(r, 0)).collect(),
                current: current(self.graph, &ids),
                ..MigrateReport::default()
            });
        }
        self.locked(conn, async |this, conn| {
            let applied = this.prepare(conn).await?;
            validate(this.graph, &applied)?;
            let mut ids: BTreeSet<String> = applied.into_keys().collect();
            let plan = plan_downgrade(this.graph, &ids, target)?;
            if let Some(approved) = &options.approved {
                let planned: Vec<String> = plan.iter().map(|r| r.id.clone()).collect();
                if &planned != approved {
                    return Err(MigrateError::PlanChanged {
                        approved: approved.clone(),
                        planned,
                    });
                }
            }
            let mut report = MigrateReport::default();
            for revision in plan {
                let done: Vec<String> = report.reverted.iter().map(|r| r.id.clone()).collect();
                let ms = this
                    .run(conn, revision, Direction::Down, &ids, done)
                    .await?;
                ids.remove(&revision.id);
                report.reverted.push(RevisionRun::of(revision, ms));
            }
            report.current = current(this.graph, &ids);
            Ok(report)
        })
        .await
    }

    /// Replaces the record by `target` and its ancestors without running any SQL
    /// (`base`: clears it). Reports the revisions recorded and forgotten.
    pub async fn stamp(
        &self,
        conn: &mut PgConnection,
        target: &Target,
    ) -> Result<MigrateReport, MigrateError> {
        self.locked(conn, async |this, conn| {
            let applied = this.prepare(conn).await?;
            let before: BTreeSet<String> = applied.keys().cloned().collect();
            let after = stamp_set(this.graph, &before, target)?;
            let mut tx = conn.begin().await.step("stamping")?;
            let mut report = MigrateReport::default();
            for id in before.difference(&after) {
                pg::execute(&mut tx, this.record().delete_sql(id))
                    .await
                    .step("stamping")?;
                let revision = this.graph.get(id);
                report.reverted.push(RevisionRun {
                    id: id.clone(),
                    message: revision.map(|r| r.message.clone()).unwrap_or_default(),
                    path: revision.map(|r| r.path.clone()).unwrap_or_default(),
                    duration_ms: 0,
                });
            }
            for revision in this.graph.revisions() {
                let recorded = applied.get(&revision.id);
                if after.contains(&revision.id) && recorded != Some(&revision.checksum) {
                    if recorded.is_some() {
                        pg::execute(&mut tx, this.record().delete_sql(&revision.id))
                            .await
                            .step("stamping")?;
                    }
                    let sql = this.record().insert_sql(
                        &revision.id,
                        &revision.checksum,
                        &revision.message,
                    );
                    pg::execute(&mut tx, sql).await.step("stamping")?;
                    report.applied.push(RevisionRun::of(revision, 0));
                }
            }
            tx.commit().await.step("stamping")?;
            report.current = current(this.graph, &after);
            Ok(report)
        })
        .await
    }

    /// [`MigrateError::RecordElsewhere`] when this record table does not exist but one of
    /// the same name and shape does in other schemas.
    async fn refuse_record_elsewhere(&self, conn: &mut PgConnection) -> Result<(), MigrateError> {
        let record = self.record();
        let step = "looking for the record table";
        if record.exists(&mut *conn).await.step(step)? {
            return Ok(());
        }
        let found = record.elsewhere(&mut *conn).await.step(step)?;
        if found.is_empty() {
            return Ok(());
        }
        Err(MigrateError::RecordElsewhere {
            schema: self.schema.to_owned(),
            table: self.table.to_owned(),
            found,
        })
    }

    /// Runs `work` holding the advisory lock, and releases it whatever happened.
    async fn locked<T>(
        &self,
        conn: &mut PgConnection,
        work: impl AsyncFnOnce(&Self, &mut PgConnection) -> Result<T, MigrateError>,
    ) -> Result<T, MigrateError> {
        if !self.lock {
            return work(self, conn).await;
        }
        let waiting = self
            .progress
            .wait("waiting for other migration runs on this database");
        let locked = pg::execute(conn, self.record().lock_sql()).await;
        drop(waiting);
        locked.step("taking the migration lock")?;
        let result = work(self, conn).await;
        let unlocked = pg::execute(conn, self.record().unlock_sql()).await;
        let value = result?;
        unlocked.step("releasing the migration lock")?;
        Ok(value)
    }

    /// Records the squashed baselines the database reached as applied, without running
    /// them: it already has everything they create.
    async fn record_baselines(
        &self,
        conn: &mut PgConnection,
        reached: &[String],
    ) -> Result<(), MigrateError> {
        for baseline in reached.iter().filter_map(|id| self.graph.get(id)) {
            let sql = self
                .record()
                .insert_sql(&baseline.id, &baseline.checksum, &baseline.message);
            pg::execute(conn, sql)
                .await
                .step("recording a squashed baseline")?;
            self.progress.info(&format!(
                "recorded {} {} as applied without running it: the database is past the {} revisions it replaces",
                baseline.id,
                baseline.message,
                baseline.replaces.len()
            ));
        }
        Ok(())
    }

    /// Ensures the record table and reads it.
    async fn prepare(
        &self,
        conn: &mut PgConnection,
    ) -> Result<BTreeMap<String, String>, MigrateError> {
        pg::execute(conn, self.record().create_table_sql())
            .await
            .step("creating the record table")?;
        Ok(self
            .record()
            .applied(conn)
            .await
            .step("reading the applied revisions")?)
    }

    /// Takes the checksums of the revisions in `ids` from their files, returning them.
    fn accept(
        &self,
        applied: &mut BTreeMap<String, String>,
        ids: &[String],
    ) -> Result<Vec<(String, String)>, MigrateError> {
        let mut accepted = Vec::new();
        for prefix in ids {
            let revision = self.graph.resolve(prefix)?;
            let Some(recorded) = applied.get_mut(&revision.id) else {
                return Err(MigrateError::AcceptNotApplied {
                    id: revision.id.clone(),
                });
            };
            recorded.clone_from(&revision.checksum);
            accepted.push((revision.id.clone(), revision.checksum.clone()));
        }
        Ok(accepted)
    }

    /// Runs one revision with its record change; returns its duration in milliseconds.
    async fn run(
        &self,
        conn: &mut PgConnection,
        revision: &Revision,
        direction: Direction,
        applied: &BTreeSet<String>,
        done: Vec<String>,
    ) -> Result<u64, MigrateError> {
        let (verb, action) = match direction {
            Direction::Up => ("applied", "applying"),
            Direction::Down => ("reverted", "reverting"),
        };
        let steps = revision_steps(revision, direction, self.record());
        let running = self
            .progress
            .wait(&format!("{action} {} {}", revision.id, revision.message));
        let started = Instant::now();
        let result = if steps.transaction {
            self.run_in_transaction(conn, &steps).await
        } else {
            self.run_outside_transaction(conn, &steps).await
        };
        drop(running);
        if let Err((index, error)) = result {
            return Err(failure(
                revision,
                &steps,
                index,
                error,
                action,
                done,
                current(self.graph, applied),
            ));
        }
        let ms = started.elapsed().as_millis() as u64;
        self.progress.info(&format!(
            "{verb} {} {} ({ms} ms)",
            revision.id, revision.message
        ));
        Ok(ms)
    }

    async fn run_in_transaction(
        &self,
        conn: &mut PgConnection,
        steps: &RevisionSteps<'_>,
    ) -> Result<(), (Option<usize>, sqlx::Error)> {
        let mut tx = conn.begin().await.map_err(|e| (None, e))?;
        for (index, (_, chunk)) in steps.chunks.iter().enumerate() {
            let sent = sqlx::raw_sql(AssertSqlSafe(chunk.to_string()))
                .execute(&mut *tx)
                .await;
            if let Err(error) = sent {
                let _ = tx.rollback().await;
                return Err((Some(index), error));
            }
        }
        pg::execute(&mut tx, steps.record.clone())
            .await
            .map_err(|e| (None, e))?;
        tx.commit().await.map_err(|e| (None, e))
    }

    async fn run_outside_transaction(
        &self,
        conn: &mut PgConnection,
        steps: &RevisionSteps<'_>,
    ) -> Result<(), (Option<usize>, sqlx::Error)> {
        for (index, (_, chunk)) in steps.chunks.iter().enumerate() {
            sqlx::raw_sql(AssertSqlSafe(chunk.to_string()))
                .execute(&mut *conn)
                .await
                .map_err(|e| (Some(index), e))?;
        }
        pg::execute(conn, steps.record.clone())
            .await
            .map_err(|e| (None, e))
    }
}

/// Reads the migration files of `dir` into a graph.
pub fn load_graph(dir: &std::path::Path) -> Result<RevisionGraph, MigrateError> {
    if !dir.is_dir() {
        return Err(MigrateError::NoMigrations {
            path: dir.to_path_buf(),
        });
    }
    let revisions = super::file::load_dir(dir)?;
    Ok(RevisionGraph::new(revisions)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Failure;
    use crate::migrate::file::parse_revision;
    use std::path::Path;

    fn graph() -> RevisionGraph {
        let r = |id: &str, parents: &str| {
            parse_revision(
                Path::new(&format!("migrations/{id}.sql")),
                &format!(
                    "-- devdb:revision {id}\n-- devdb:parents {parents}\n-- devdb:message m\n\n-- devdb:up\nSELECT 1;\n"
                ),
            )
            .unwrap()
        };
        RevisionGraph::new(vec![r("0001", ""), r("0002", "0001")]).unwrap()
    }

    #[test]
    fn validation_refuses_unknown_and_edited_revisions() {
        let g = graph();
        let sum = g.revisions()[0].checksum.clone();
        let ok = BTreeMap::from([("0001".to_string(), sum.clone())]);
        assert!(validate(&g, &ok).is_ok());

        let unknown = BTreeMap::from([("0001".to_string(), sum), ("0009".into(), "x".into())]);
        let error = validate(&g, &unknown).unwrap_err();
        assert_eq!(
            error.to_string(),
            "the database has revision 0009 that the migration files do not know (code older than the database?)"
        );

        let edited = BTreeMap::from([("0002".to_string(), "old".to_string())]);
        let error = validate(&g, &edited).unwrap_err();
        assert!(
            error.to_string().contains("0002 (migrations/0002.sql)"),
            "{error}"
        );
        assert!(error.hint().unwrap().contains("--accept-changed 0002"));
    }
}
