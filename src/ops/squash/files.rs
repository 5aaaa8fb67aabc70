//! The last step of `squash`, the only one that changes files: write the baseline, move
//! the chain's files to the archive, and point the tip's children at the baseline. A
//! failure at any point undoes everything done before it, so the migrations folder is
//! either squashed or as it was.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::{ARCHIVE_FOLDER, SquashError, SquashPlan, reparent};
use crate::backup::{backup_name, unique_folder};
use crate::migrate::{RevisionGraph, file_name};

pub(super) struct Written {
    pub path: PathBuf,
    pub archive: PathBuf,
    pub reparented: Vec<PathBuf>,
}

/// What has been changed so far, to be put back on a failure.
#[derive(Default)]
struct Undo {
    /// The folders created for the archive, innermost last.
    folders: Vec<PathBuf>,
    /// `(where the file was, where it is now)`.
    moved: Vec<(PathBuf, PathBuf)>,
    baseline: Option<PathBuf>,
    /// `(file, its text before)`.
    rewritten: Vec<(PathBuf, String)>,
}

impl Undo {
    /// Best effort, newest change first: the error that got us here is the one to report.
    fn roll_back(self) {
        for (path, text) in self.rewritten.iter().rev() {
            let _ = std::fs::write(path, text);
        }
        if let Some(baseline) = &self.baseline {
            let _ = std::fs::remove_file(baseline);
        }
        for (from, to) in self.moved.iter().rev() {
            let _ = std::fs::rename(to, from);
        }
        for folder in self.folders.iter().rev() {
            let _ = std::fs::remove_dir(folder);
        }
    }
}

/// Writes the baseline `text` as revision `id`, archives the chain's files and reparents
/// the tip's children; on a failure, puts back everything it changed.
pub(super) fn write_files(
    graph: &RevisionGraph,
    plan: &SquashPlan,
    migrations: &Path,
    id: &str,
    message: &str,
    text: &str,
) -> Result<Written, SquashError> {
    let mut undo = Undo::default();
    match write_all(graph, plan, migrations, id, message, text, &mut undo) {
        Ok(written) => Ok(written),
        Err(e) => {
            undo.roll_back();
            Err(e)
        }
    }
}

fn write_all(
    graph: &RevisionGraph,
    plan: &SquashPlan,
    migrations: &Path,
    id: &str,
    message: &str,
    text: &str,
    undo: &mut Undo,
) -> Result<Written, SquashError> {
    let io = |step: &'static str, path: &Path| {
        let path = path.to_path_buf();
        move |source| SquashError::Io { step, path, source }
    };
    let (stamp, _) = backup_name(SystemTime::now());
    let archives = migrations.join(ARCHIVE_FOLDER);
    let archive = unique_folder(&archives, &stamp);
    if !archives.exists() {
        undo.folders.push(archives.clone());
    }
    std::fs::create_dir_all(&archive).map_err(io("creating", &archive))?;
    undo.folders.push(archive.clone());

    for revision in plan.chain.iter().filter_map(|id| graph.get(id)) {
        let name = revision.path.file_name().unwrap_or_default();
        let to = archive.join(name);
        std::fs::rename(&revision.path, &to).map_err(io("archiving", &revision.path))?;
        undo.moved.push((revision.path.clone(), to));
    }
    let path = migrations.join(file_name(id, message));
    std::fs::write(&path, text).map_err(io("writing", &path))?;
    undo.baseline = Some(path.clone());

    let mut reparented = Vec::new();
    for child in plan.reparented.iter().filter_map(|id| graph.get(id)) {
        let old = std::fs::read_to_string(&child.path).map_err(io("reading", &child.path))?;
        if let Some(new) = reparent(&old, &plan.tip, id) {
            // Recorded first: a write that fails halfway may have truncated the file.
            undo.rewritten.push((child.path.clone(), old));
            std::fs::write(&child.path, new).map_err(io("writing", &child.path))?;
            reparented.push(child.path.clone());
        }
    }
    Ok(Written {
        path,
        archive,
        reparented,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migrate::parse_revision;

    fn revision_text(id: &str, parents: &str) -> String {
        format!("-- devdb:revision {id}\n-- devdb:parents {parents}\n-- devdb:up\nSELECT 1;\n")
    }

    /// Every file under `dir` with its text (folders as `<dir>`), sorted.
    fn tree(dir: &Path) -> Vec<(PathBuf, String)> {
        let mut found = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                found.push((path.clone(), "<dir>".to_string()));
                found.extend(tree(&path));
            } else {
                let text = std::fs::read_to_string(&path).unwrap();
                found.push((path, text));
            }
        }
        found.sort();
        found
    }

    /// a <- b, and two children of b: c (a file) and d, whose file became a folder after
    /// the plan was made. Reparenting c works, d fails: everything is put back.
    #[test]
    fn a_failure_while_reparenting_puts_back_every_file() {
        let dir = tempfile::tempdir().unwrap();
        let migrations = dir.path();
        let files = [
            ("a", "", "0001_a.sql"),
            ("b", "a", "0002_b.sql"),
            ("c", "b", "0003_c.sql"),
            ("d", "b", "0004_d.sql"),
        ];
        let mut revisions = Vec::new();
        for (id, parents, name) in files {
            let path = migrations.join(name);
            let text = revision_text(id, parents);
            revisions.push(parse_revision(&path, &text).unwrap());
            if id == "d" {
                std::fs::create_dir(&path).unwrap();
            } else {
                std::fs::write(&path, &text).unwrap();
            }
        }
        let graph = RevisionGraph::new(revisions).unwrap();
        let plan = SquashPlan {
            tip: "b".into(),
            chain: vec!["a".into(), "b".into()],
            replaces: vec!["a".into(), "b".into()],
            reparented: vec!["c".into(), "d".into()],
        };
        let before = tree(migrations);

        let error = write_files(&graph, &plan, migrations, "base", "baseline", "SELECT 1;")
            .err()
            .expect("d cannot be reparented");
        assert!(
            matches!(&error, SquashError::Io { step: "reading", path, .. } if path.ends_with("0004_d.sql")),
            "{error}"
        );
        assert_eq!(tree(migrations), before);

        // With d a file again the same squash goes through.
        std::fs::remove_dir(migrations.join("0004_d.sql")).unwrap();
        std::fs::write(migrations.join("0004_d.sql"), revision_text("d", "b")).unwrap();
        let written =
            write_files(&graph, &plan, migrations, "base", "baseline", "SELECT 1;").unwrap();
        assert_eq!(written.reparented.len(), 2);
        assert!(
            std::fs::read_to_string(migrations.join("0003_c.sql"))
                .unwrap()
                .contains("-- devdb:parents  base\n")
        );
        assert!(written.archive.join("0001_a.sql").is_file());
    }
}
