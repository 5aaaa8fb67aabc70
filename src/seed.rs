//! Seed data: the `*.sql` files of the seeds folder, run in file-name order, all in one
//! transaction, so a failing seed leaves no partial data behind.

use std::path::{Path, PathBuf};

use sqlx::{AssertSqlSafe, Connection, PgConnection};

use crate::migrate::split::SqlFailure;

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("cannot read seed {}: {source}", path.display())]
    Unreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "seed {}{} failed: {}; no seed data was kept",
        path.display(),
        failure.at(),
        failure.describe()
    )]
    Failed { path: PathBuf, failure: SqlFailure },
    #[error("database error while running seeds: {0}")]
    Database(#[from] sqlx::Error),
}

/// The seed files of `dir` in name order; none when the folder does not exist.
pub fn seed_files(dir: &Path) -> Result<Vec<PathBuf>, SeedError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(SeedError::Unreadable {
                path: dir.to_path_buf(),
                source,
            });
        }
    };
    let mut files = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|source| SeedError::Unreadable {
                path: dir.to_path_buf(),
                source,
            })?
            .path();
        if path.extension().is_some_and(|e| e == "sql") && path.is_file() {
            files.push(path);
        }
    }
    files.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    Ok(files)
}

/// Runs the seed files of `dir` in one transaction and returns them in the order run.
pub async fn run_seeds(conn: &mut PgConnection, dir: &Path) -> Result<Vec<PathBuf>, SeedError> {
    let files = seed_files(dir)?;
    if files.is_empty() {
        return Ok(files);
    }
    let mut tx = conn.begin().await?;
    for path in &files {
        let text = std::fs::read_to_string(path).map_err(|source| SeedError::Unreadable {
            path: path.clone(),
            source,
        })?;
        if let Err(error) = sqlx::raw_sql(AssertSqlSafe(text.clone()))
            .execute(&mut *tx)
            .await
        {
            let _ = tx.rollback().await;
            return Err(failed(path, &text, error));
        }
    }
    tx.commit().await?;
    Ok(files)
}

fn failed(path: &Path, text: &str, error: sqlx::Error) -> SeedError {
    let Some(failure) = SqlFailure::of(text, &error) else {
        return SeedError::Database(error);
    };
    SeedError::Failed {
        path: path.to_path_buf(),
        failure,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_files_are_sql_files_in_name_order_and_a_missing_folder_has_none() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["02_b.sql", "01_a.sql", "notes.txt", "10_c.sql"] {
            std::fs::write(dir.path().join(name), "SELECT 1").unwrap();
        }
        let names: Vec<String> = seed_files(dir.path())
            .unwrap()
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["01_a.sql", "02_b.sql", "10_c.sql"]);
        assert!(seed_files(&dir.path().join("absent")).unwrap().is_empty());
    }
}
