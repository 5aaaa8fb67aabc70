//! How the library reports long-running work without printing anything itself.
//!
//! Operations take a `&dyn Progress`; the command line implements it with indicatif
//! (bars and spinners on a terminal, plain lines or silence elsewhere) and tests use
//! [`Silent`]. A wait or a set of layer bars lasts as long as the [`Shown`] guard that
//! started it, so an early return or a cancelled future cannot leave a spinner running.

/// Receives progress events from library operations.
pub trait Progress: Send + Sync {
    /// A one-line statement of a step that is starting or has finished
    /// ("building image devdb/postgres:17", "created volume demo_pgdata").
    fn info(&self, message: &str);
    /// A remark for a person watching a terminal, left out of logs (CI): how a command
    /// goes about its work rather than what it changed.
    fn note(&self, _message: &str) {}
    /// A wait of unknown length, shown (as a spinner on a terminal) until the returned
    /// guard drops, whether the wait succeeded or not.
    #[must_use = "the wait ends when the guard drops"]
    fn wait(&self, message: &str) -> Shown<'_>;
    /// Bars for the layers [`Progress::layer`] reports, cleared when the returned guard
    /// drops.
    #[must_use = "the bars are cleared when the guard drops"]
    fn layers(&self) -> Shown<'_>;
    /// Progress of one layer (of an image pull, a dump, ...); `current`/`total` in bytes
    /// when known.
    fn layer(&self, id: &str, status: &str, current: Option<u64>, total: Option<u64>);
}

/// Something shown while it lives: a [`Progress::wait`] or [`Progress::layers`] ends when
/// this drops.
#[must_use = "what it shows ends when it drops"]
pub struct Shown<'a>(Option<Box<dyn FnOnce() + Send + 'a>>);

impl<'a> Shown<'a> {
    /// Runs `end` when the guard drops.
    pub fn until_dropped(end: impl FnOnce() + Send + 'a) -> Self {
        Shown(Some(Box::new(end)))
    }

    /// Shows nothing and ends nothing.
    pub fn nothing() -> Self {
        Shown(None)
    }
}

impl Drop for Shown<'_> {
    fn drop(&mut self) {
        if let Some(end) = self.0.take() {
            end();
        }
    }
}

/// Reports nothing. For tests and library callers that do not want progress.
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl Progress for Silent {
    fn info(&self, _message: &str) {}
    fn wait(&self, _message: &str) -> Shown<'_> {
        Shown::nothing()
    }
    fn layers(&self) -> Shown<'_> {
        Shown::nothing()
    }
    fn layer(&self, _id: &str, _status: &str, _current: Option<u64>, _total: Option<u64>) {}
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
    fn wait(&self, message: &str) -> Shown<'_> {
        self.0.wait(message)
    }
    fn layers(&self) -> Shown<'_> {
        self.0.layers()
    }
    fn layer(&self, id: &str, status: &str, current: Option<u64>, total: Option<u64>) {
        self.0.layer(id, status, current, total);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// Counts the waits started and ended.
    #[derive(Default)]
    struct Counting {
        started: AtomicUsize,
        ended: AtomicUsize,
    }

    impl Progress for Counting {
        fn info(&self, _message: &str) {}
        fn wait(&self, _message: &str) -> Shown<'_> {
            self.started.fetch_add(1, Ordering::Relaxed);
            Shown::until_dropped(|| {
                self.ended.fetch_add(1, Ordering::Relaxed);
            })
        }
        fn layers(&self) -> Shown<'_> {
            Shown::nothing()
        }
        fn layer(&self, _id: &str, _status: &str, _current: Option<u64>, _total: Option<u64>) {}
    }

    fn fails_while_waiting(progress: &dyn Progress) -> Result<(), &'static str> {
        let _waiting = progress.wait("waiting");
        Err("failed")?;
        Ok(())
    }

    #[test]
    fn a_wait_ends_when_the_work_returns_early() {
        let progress = Counting::default();
        assert!(fails_while_waiting(&progress).is_err());
        assert_eq!(progress.started.load(Ordering::Relaxed), 1);
        assert_eq!(progress.ended.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn a_wait_passed_through_as_notes_ends_with_its_guard() {
        let progress = Counting::default();
        drop(AsNotes(&progress).wait("waiting"));
        assert_eq!(progress.ended.load(Ordering::Relaxed), 1);
    }
}
