//! An application that migrates its database at start-up with devdb's lean library
//! (`default-features = false, features = ["migrate"]`): its revisions are embedded in the
//! binary and recorded in the `app_meta` schema. `tests/it/lean.rs` builds and runs it.

use std::process::ExitCode;

static MIGRATIONS: devdb::EmbeddedMigrations = devdb::embed_migrations!("migrations");

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let Ok(url) = std::env::var("DATABASE_URL") else {
        eprintln!("error: DATABASE_URL is not set");
        return ExitCode::FAILURE;
    };
    let migrator = devdb::Migrator::embedded(MIGRATIONS).record_schema("app_meta");
    match migrator.run_url(&url).await {
        Ok(report) => {
            for revision in &report.applied {
                println!("applied {} {}", revision.id, revision.message);
            }
            println!("at {}", report.current.join(" "));
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            if let Some(hint) = devdb::error::Failure::hint(&error) {
                eprintln!("hint: {hint}");
            }
            ExitCode::FAILURE
        }
    }
}
