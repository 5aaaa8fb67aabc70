//! Ports an ssh engine publishes on its machine's loopback, reached from this machine: devdb
//! listens on 127.0.0.1 and carries each connection it accepts through its own
//! `ssh ... -W 127.0.0.1:PORT host`, a stdio forward that needs nothing on the engine's
//! machine but its sshd. The binding stays on that loopback; nothing is opened wider there.
//!
//! A forward lives as long as its [`Tunnel`]; each connection's ssh is a child that ends with
//! the connection (or with devdb: its stdin closes, and it is killed when dropped).

use std::io;
use std::process::Stdio;
use std::sync::{Arc, OnceLock};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::process::Command;
use tokio::sync::Mutex;
use tokio::task::{JoinHandle, JoinSet};

use super::ssh::SshTarget;

/// A local port forwarded to a port of the engine machine's loopback, until dropped.
#[derive(Debug)]
pub(crate) struct Tunnel {
    /// The local port connections are accepted on (on 127.0.0.1).
    pub(crate) port: u16,
    task: JoinHandle<()>,
}

impl Drop for Tunnel {
    fn drop(&mut self) {
        // The task owns the connections' tasks, and they own their ssh children.
        self.task.abort();
    }
}

/// Where a forward goes: an address of the engine's machine (its loopback) and a port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Remote {
    pub(super) ip: String,
    pub(super) port: u16,
}

/// Listens on 127.0.0.1:`local` (a free port for `None`) and forwards each connection to
/// `remote` on the machine of `target`.
/// It runs on the runtime of the caller, whose end ends it.
pub(super) async fn open(
    target: &SshTarget,
    remote: Remote,
    local: Option<u16>,
) -> io::Result<Tunnel> {
    let (port, serving) = listen(target, remote, local).await?;
    let task = tokio::spawn(serving);
    Ok(Tunnel { port, task })
}

async fn listen(
    target: &SshTarget,
    remote: Remote,
    local: Option<u16>,
) -> io::Result<(u16, impl Future<Output = ()> + use<>)> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", local.unwrap_or(0)))?;
    listener.set_nonblocking(true)?;
    let port = listener.local_addr()?.port();
    let args = Arc::new(target.forward_args(&remote.ip, remote.port));
    Ok((port, async move {
        // Registered with the reactor of the runtime that runs it.
        if let Ok(listener) = TcpListener::from_std(listener) {
            serve(listener, args).await;
        }
    }))
}

/// The runtime of the shared forwards: its own thread, so that a forward outlives the
/// runtime that opened it (the library's `TestDatabase` is used from one runtime per test)
/// and serves connections of any of them. It ends with the process; the connections' ssh
/// children end then as their stdin closes.
fn background() -> io::Result<&'static tokio::runtime::Handle> {
    static RUNTIME: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    let runtime = RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("devdb-forward")
            .enable_all()
            .build()
            .map_err(|e| e.to_string())
    });
    match runtime {
        Ok(runtime) => Ok(runtime.handle()),
        Err(e) => Err(io::Error::other(format!(
            "cannot start the forwards' runtime: {e}"
        ))),
    }
}

/// The forwards devdb's own connections use: one per engine and remote port, open until devdb
/// exits.
static SHARED: Mutex<Vec<(String, Remote, Tunnel)>> = Mutex::const_new(Vec::new());

/// The local port forwarded to `remote` on the machine of `target`, opened at the first call
/// for it.
pub(super) async fn shared(target: &SshTarget, remote: Remote) -> io::Result<u16> {
    let address = target.address();
    let mut open_ones = SHARED.lock().await;
    if let Some((_, _, tunnel)) = open_ones
        .iter()
        .find(|(a, r, _)| *a == address && *r == remote)
    {
        return Ok(tunnel.port);
    }
    let (port, serving) = listen(target, remote.clone(), None).await?;
    let task = background()?.spawn(serving);
    let tunnel = Tunnel { port, task };
    open_ones.push((address, remote, tunnel));
    Ok(port)
}

async fn serve(listener: TcpListener, args: Arc<Vec<String>>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((socket, _)) => {
                    connections.spawn(carry(socket, args.clone()));
                }
                // Out of descriptors, or a connection reset before it was taken: a moment
                // later the next one may do.
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

/// One connection: its bytes through an `ssh -W` child, both ways, until both ends close.
async fn carry(socket: TcpStream, args: Arc<Vec<String>>) {
    let _ = socket.set_nodelay(true);
    // What ssh says when it fails is kept for the error of a command that then gets no
    // answer ([`last_said`]), not printed: while Postgres starts, each attempt says so.
    let Ok(mut child) = Command::new("ssh")
        .args(args.iter())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
    else {
        return;
    };
    let (Some(mut stdin), Some(mut stdout), Some(mut stderr)) =
        (child.stdin.take(), child.stdout.take(), child.stderr.take())
    else {
        return;
    };
    let said = tokio::spawn(async move {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text).await;
        text
    });
    let (mut from_client, mut to_client) = socket.into_split();
    let up = async {
        let _ = tokio::io::copy(&mut from_client, &mut stdin).await;
        // End of input: ssh passes the end on, and the server closes its side.
        drop(stdin);
    };
    let answered = std::sync::atomic::AtomicBool::new(false);
    let down = async {
        let copied = tokio::io::copy(&mut stdout, &mut to_client).await;
        answered.store(
            matches!(copied, Ok(n) if n > 0),
            std::sync::atomic::Ordering::Relaxed,
        );
        let _ = to_client.shutdown().await;
    };
    let (up, down) = (std::pin::pin!(up), std::pin::pin!(down));
    // The other way gets a moment to finish once one way is done: a client that never
    // closes, or a server that does not, does not keep the ssh.
    let linger = std::time::Duration::from_secs(5);
    match futures_util::future::select(up, down).await {
        futures_util::future::Either::Left(((), down)) => {
            let _ = tokio::time::timeout(linger, down).await;
        }
        futures_util::future::Either::Right(((), up)) => {
            let _ = tokio::time::timeout(linger, up).await;
        }
    }
    // An ssh that ended by itself with an error (not one killed here) says why; one that
    // carried an answer clears what an earlier one said.
    if answered.load(std::sync::atomic::Ordering::Relaxed)
        && let Ok(mut last) = LAST_SAID.lock()
    {
        *last = None;
    }
    let ended = std::time::Duration::from_secs(1);
    if let Ok(Ok(status)) = tokio::time::timeout(ended, child.wait()).await
        && !status.success()
        && status.code().is_some()
        && let Ok(text) = said.await
        && let Ok(mut last) = LAST_SAID.lock()
    {
        // `channel 0: open failed: administratively prohibited: open failed`, then `stdio
        // forwarding failed`: the last few lines together.
        let lines: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        if !lines.is_empty() {
            let few = &lines[lines.len().saturating_sub(3)..];
            *last = Some(format!("ssh: {}", few.join("; ")));
        }
    }
    let _ = child.kill().await;
}

/// The last words of the last `ssh -W` that failed.
static LAST_SAID: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

/// What the last `ssh -W` that failed wrote last on stderr (`channel 0: open failed:
/// administratively prohibited: open failed`), if one did.
pub(super) fn last_said() -> Option<String> {
    LAST_SAID.lock().ok()?.clone()
}
