//! The one cancel future of the commands that clean up after themselves: it resolves on
//! Ctrl-C (SIGINT) and on SIGTERM and SIGHUP, which CI runners (after SIGINT), `timeout`,
//! `docker stop`, Kubernetes and a closed terminal send. Which signal it was decides the
//! exit code: 128 plus its number, as a shell reports a process the signal killed.

use std::sync::atomic::{AtomicI32, Ordering};

use crate::error::Exit;

/// The number of the signal that cancelled the command; 0 while none has.
static RECEIVED: AtomicI32 = AtomicI32::new(0);

const SIGHUP: i32 = 1;
const SIGINT: i32 = 2;
const SIGTERM: i32 = 15;

/// Resolves on the first SIGINT, SIGTERM or SIGHUP. The handlers are installed at once, when
/// this is called (not when the future is first polled), so a signal that comes while the
/// operation is still creating what it will clean up is caught rather than killing devdb with
/// it left behind; where they cannot be installed, it never resolves, so nothing is cancelled.
pub(super) fn cancelled() -> impl Future<Output = ()> + Send + 'static {
    let received = received();
    async move {
        let number = received.await;
        // The first signal decides the exit code; a second one during the clean-up does not.
        let _ = RECEIVED.compare_exchange(0, number, Ordering::SeqCst, Ordering::SeqCst);
    }
}

#[cfg(unix)]
fn received() -> impl Future<Output = i32> + Send + 'static {
    use tokio::signal::unix::{SignalKind, signal};
    let signals = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
    );
    async move {
        let (Ok(mut int), Ok(mut term), Ok(mut hup)) = signals else {
            return std::future::pending().await;
        };
        tokio::select! {
            _ = int.recv() => SIGINT,
            _ = term.recv() => SIGTERM,
            _ = hup.recv() => SIGHUP,
        }
    }
}

#[cfg(not(unix))]
fn received() -> impl Future<Output = i32> + Send + 'static {
    async {
        if tokio::signal::ctrl_c().await.is_err() {
            return std::future::pending().await;
        }
        SIGINT
    }
}

/// The exit code of a command that was interrupted: 130 for SIGINT (and when no signal was
/// seen), 143 for SIGTERM, 129 for SIGHUP.
pub(super) fn interrupted_exit_code() -> i32 {
    match RECEIVED.load(Ordering::SeqCst) {
        0 => Exit::Interrupted.code(),
        number => 128 + number,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_codes_are_the_shells() {
        assert_eq!(Exit::Interrupted.code(), 128 + SIGINT);
        assert_eq!(128 + SIGTERM, 143);
        assert_eq!(128 + SIGHUP, 129);
    }
}
