//! How the library reports long-running work without printing anything itself.
//!
//! Operations take a `&dyn Progress`; the command line implements it with indicatif
//! (bars and spinners on a terminal, plain lines or silence elsewhere) and tests use
//! [`Silent`].

/// Receives progress events from library operations.
pub trait Progress: Send + Sync {
    /// A one-line statement of a step that is starting or has finished
    /// ("building image devdb/postgres:17", "created volume demo_pgdata").
    fn info(&self, message: &str);
    /// A remark for a person watching a terminal, left out of logs (CI): how a command
    /// goes about its work rather than what it changed.
    fn note(&self, _message: &str) {}
    /// A wait of unknown length begins; shown as a spinner on a terminal.
    fn wait_start(&self, message: &str);
    /// The current wait ended (successfully or not).
    fn wait_end(&self);
    /// Progress of one layer of an image pull; `current`/`total` in bytes when known.
    fn layer(&self, id: &str, status: &str, current: Option<u64>, total: Option<u64>);
    /// All layers are done; bars can be cleared.
    fn layers_end(&self);
}

/// Reports nothing. For tests and library callers that do not want progress.
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl Progress for Silent {
    fn info(&self, _message: &str) {}
    fn wait_start(&self, _message: &str) {}
    fn wait_end(&self) {}
    fn layer(&self, _id: &str, _status: &str, _current: Option<u64>, _total: Option<u64>) {}
    fn layers_end(&self) {}
}

/// Passes `inner`'s waits and layers through and turns its step lines into notes: the steps
/// of work done on the side (a scratch server's start and removal), shown on a terminal and
/// left out of logs.
pub struct AsNotes<'a>(pub &'a dyn Progress);

impl Progress for AsNotes<'_> {
    fn info(&self, message: &str) {
        self.0.note(message);
    }
    fn note(&self, message: &str) {
        self.0.note(message);
    }
    fn wait_start(&self, message: &str) {
        self.0.wait_start(message);
    }
    fn wait_end(&self) {
        self.0.wait_end();
    }
    fn layer(&self, id: &str, status: &str, current: Option<u64>, total: Option<u64>) {
        self.0.layer(id, status, current, total);
    }
    fn layers_end(&self) {
        self.0.layers_end();
    }
}
