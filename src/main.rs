use clap::Parser;

use devdb::internal::{self as cli, Cli};

fn main() {
    // SAFETY: no other thread exists yet; the runtime starts below.
    unsafe { cli::isolate_from_libpq_environment() };
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    if let Err(error) = runtime.block_on(cli::run(cli)) {
        let diagnosis = cli::diagnose(&error);
        cli::report(&error, &diagnosis);
        std::process::exit(diagnosis.code);
    }
}
