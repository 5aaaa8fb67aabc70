//! devdb: a reproducible PostgreSQL database for development and CI in one command.

pub mod engine;
pub mod health;
pub mod progress;
