//! Migrations as a revision graph: parsing revision files, ordering and planning.
pub mod split;
