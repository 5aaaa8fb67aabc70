//! Listing the `*.sql` files of a folder, in name order: revisions, seeds, checks and
//! the declarative schema are all folders of them. Callers map the I/O error into their
//! own and decide what a missing folder means.

use std::io;
use std::path::{Path, PathBuf};

/// What listing a folder that does not exist gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MissingFolder {
    /// No files: the folder is optional.
    IsEmpty,
    /// The error from reading it.
    IsAnError,
}

/// The `*.sql` files directly in `dir` (not in its subfolders), by file name.
pub(crate) fn sql_files(dir: &Path, missing: MissingFolder) -> io::Result<Vec<PathBuf>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound && missing == MissingFolder::IsEmpty => {
            return Ok(Vec::new());
        }
        Err(e) => return Err(e),
    };
    let mut files = Vec::new();
    for entry in entries {
        let path = entry?.path();
        if is_sql(&path) && path.is_file() {
            files.push(path);
        }
    }
    files.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    Ok(files)
}

/// A folder [`sql_files_under`] could not read, and why.
#[cfg(feature = "cli")]
#[derive(Debug)]
pub(crate) struct UnreadableFolder {
    pub path: PathBuf,
    pub source: io::Error,
}

/// The `*.sql` files in `dir` and its subfolders, by path.
#[cfg(feature = "cli")]
pub(crate) fn sql_files_under(dir: &Path) -> Result<Vec<PathBuf>, UnreadableFolder> {
    let mut files = Vec::new();
    collect_under(dir, &mut files)?;
    files.sort();
    Ok(files)
}

#[cfg(feature = "cli")]
fn collect_under(dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), UnreadableFolder> {
    let unreadable = |source| UnreadableFolder {
        path: dir.to_path_buf(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(unreadable)? {
        let path = entry.map_err(unreadable)?.path();
        if path.is_dir() {
            collect_under(&path, files)?;
        } else if is_sql(&path) {
            files.push(path);
        }
    }
    Ok(())
}

fn is_sql(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "sql")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for name in ["b.sql", "a.sql", "notes.txt"] {
            std::fs::write(dir.path().join(name), "").unwrap();
        }
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub").join("0.sql"), "").unwrap();
        dir
    }

    fn names(files: &[PathBuf], base: &Path) -> Vec<String> {
        files
            .iter()
            .map(|f| f.strip_prefix(base).unwrap().display().to_string())
            .collect()
    }

    #[test]
    fn lists_the_sql_files_directly_in_a_folder_by_name() {
        let dir = folder();
        let files = sql_files(dir.path(), MissingFolder::IsAnError).unwrap();
        assert_eq!(names(&files, dir.path()), ["a.sql", "b.sql"]);
    }

    #[cfg(feature = "cli")]
    #[test]
    fn lists_the_sql_files_of_subfolders_too_by_path() {
        let dir = folder();
        let files = sql_files_under(dir.path()).unwrap();
        assert_eq!(names(&files, dir.path()), ["a.sql", "b.sql", "sub/0.sql"]);
    }

    #[test]
    fn a_missing_folder_is_empty_or_an_error_as_asked() {
        let dir = folder();
        let missing = dir.path().join("nothing");
        assert!(
            sql_files(&missing, MissingFolder::IsEmpty)
                .unwrap()
                .is_empty()
        );
        let err = sql_files(&missing, MissingFolder::IsAnError).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        #[cfg(feature = "cli")]
        assert_eq!(sql_files_under(&missing).unwrap_err().path, missing);
    }
}
