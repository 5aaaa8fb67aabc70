//! Postgres as devdb talks to it: where a server is ([`DatabaseUrl`]), how devdb connects
//! (with its own timeouts and settings, never the user's libpq environment), how names and
//! text are quoted into SQL, the advisory locks that serialise devdb's own work, the admin
//! statements on whole databases, and the one error type for all of it ([`PgError`]).
//!
//! Nothing here knows about projects, containers or revisions: the modules above decide
//! *what* to run; this one says *how* it reaches Postgres.

mod admin;
mod error;
mod lock;
mod quote;
mod tls;
mod url;

pub use admin::{
    BUSY_DEADLINE, allow_connections, create_database_sql, database_exists, drop_database, execute,
    execute_when_free, rename_database_sql, run, terminate_sessions,
};
pub use error::{NotAnswering, PgError, Step, sqlstate};
pub use lock::{lock_sql, pair_lock_held, try_pair_lock, unlock_sql, xact_lock};
pub use quote::{quote_ident, quote_literal};
pub use tls::{SslMode, Tls};
pub use url::{
    CONNECT_TIMEOUT, DatabaseUrl, POSTGRES_PORT, SqlAlchemyDriver, UrlForm, UrlParseError,
};
