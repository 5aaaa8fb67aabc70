//! An application that migrates its database at start-up with devdb's lean library
//! (`default-features = false, features = ["migrate"]`): its revisions are embedded in the
//! binary and recorded in the `app_meta` schema. `tests/it/lean.rs` builds and runs it.

use std::process::ExitCode;

static MIGRATIONS: devdb::EmbeddedMigrations = devdb::embed_migrations!("migrations");

// A runtime built by hand rather than with `#[tokio::main]`: the app then asks tokio for
// no feature devdb does not already use, so CI's build of the lean library is reused.
fn main() -> ExitCode {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(start())
}

async fn start() -> ExitCode {
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
