//! Migrations as a revision graph: parsing revision files, ordering and planning.
pub mod file;
pub mod graph;
pub mod plan;
pub mod split;

#[cfg(test)]
mod testing;
