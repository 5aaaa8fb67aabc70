//! devdb: a reproducible PostgreSQL database for development and CI in one command.

pub mod image_build;
pub mod progress;
