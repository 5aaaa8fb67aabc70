//! Migrations as a revision graph, Alembic-style: the pure part of the engine.
//!
//! - [`file`] parses one `migrations/*.sql` revision file (header directives, up and
//!   down bodies, checksum) and writes new ones;
//! - [`graph`] checks the revisions form a sound graph and answers questions about it
//!   (apply order, heads, ancestry, branch points, id prefixes);
//! - [`history`] draws the graph like `git log --graph`, newest first;
//! - [`author`] writes new revisions and merge revisions into the migrations folder;
//! - [`plan`] turns a target (`head`, `+2`, `base`, a revision) and the set of applied
//!   revisions into the list of revisions to apply, revert or stamp;
//! - [`split`] cuts a body into statements for revisions that run outside a
//!   transaction, and maps Postgres error positions back to file lines.
//!
//! Nothing here touches a database or the network, so every rule is unit-tested; the
//! code that talks to Postgres only executes what these modules decide.

pub mod author;
pub mod file;
pub mod graph;
pub mod history;
pub mod plan;
pub mod split;

pub use author::{AuthorError, load_graph, merge_heads, new_revision};
pub use file::{
    EmptyUp, FileError, Revision, file_name, is_valid_id, load_dir, load_dir_with, new_revision_id,
    parse_revision, parse_revision_with, render_revision,
};
pub use graph::{GraphError, MultipleHeads, RevisionGraph};
pub use history::{HistoryEntry, history_entries, render_history};
pub use plan::{
    PlanError, Target, current, plan_downgrade, plan_upgrade, stamp_set, unknown_applied,
};
pub use split::{
    Statement, char_position_to_offset, file_line_of_position, line_of_offset, split_statements,
};

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod testing;
