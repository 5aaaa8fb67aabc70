//! devdb: a reproducible PostgreSQL database for development and CI in one command.

pub mod migrate;
pub mod progress;
