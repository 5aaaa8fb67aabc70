//! Engines at `ssh://[user@]host[:port]`, reached as the docker CLI reaches them: every
//! connection is the system's `ssh` running `docker system dial-stdio` on the engine's
//! machine, so the user's ssh config, agent and known hosts apply as they do for `docker`.
//!
//! bollard's own ssh transport drops the port of the address and leaves ssh master
//! processes running (ControlPersist) when the program exits without dropping its client;
//! here each ssh is a child that ends with its connection, or with devdb (its stdin closes).

use std::io;
use std::pin::Pin;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bollard::{BollardRequest, Docker};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

/// How long ssh may take to reach the engine's machine.
pub(super) const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// Where to log in: the parts of `ssh://[user@]host[:port]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SshTarget {
    pub(crate) user: Option<String>,
    pub(crate) host: String,
    pub(crate) port: Option<u16>,
}

impl SshTarget {
    /// Reads `ssh://[user@]host[:port]` (`[v6]` in brackets); `None` when it is not one.
    pub(crate) fn parse(address: &str) -> Option<SshTarget> {
        let rest = address.strip_prefix("ssh://")?.trim_end_matches('/');
        let (user, rest) = match rest.rsplit_once('@') {
            Some((user, rest)) => (Some(user.to_string()), rest),
            None => (None, rest),
        };
        let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
            let (host, after) = v6.split_once(']')?;
            let port = match after.strip_prefix(':') {
                Some(port) => Some(port.parse().ok()?),
                None if after.is_empty() => None,
                None => return None,
            };
            (host.to_string(), port)
        } else {
            match rest.split_once(':') {
                Some((host, port)) => (host.to_string(), Some(port.parse().ok()?)),
                None => (rest.to_string(), None),
            }
        };
        if host.is_empty() || user.as_deref() == Some("") {
            return None;
        }
        Some(SshTarget { user, host, port })
    }

    /// `ssh [-p PORT] [user@]host docker version`: what a user runs to check the login.
    pub(crate) fn command_line(&self) -> String {
        let port = self.port.map(|p| format!("-p {p} ")).unwrap_or_default();
        let user = self
            .user
            .as_deref()
            .map(|u| format!("{u}@"))
            .unwrap_or_default();
        format!("ssh {port}{user}{} docker version", self.host)
    }

    /// The address as `ssh://` gives it, which names this engine among others.
    pub(super) fn address(&self) -> String {
        let user = self
            .user
            .as_deref()
            .map(|u| format!("{u}@"))
            .unwrap_or_default();
        let port = self.port.map(|p| format!(":{p}")).unwrap_or_default();
        format!("ssh://{user}{}{port}", self.host)
    }

    /// The `ssh` arguments that run `docker system dial-stdio` there, as the docker CLI
    /// gives them, without password prompts (devdb's stdin is not ssh's).
    fn args(&self) -> Vec<String> {
        let mut args = self.options();
        args.extend(["--".into(), self.host.clone()]);
        args.extend(["docker", "system", "dial-stdio"].map(String::from));
        args
    }

    /// The `ssh` arguments that carry stdin and stdout to `ip:port` of the engine's machine
    /// (`-W`: nothing but the sshd is needed there).
    pub(super) fn forward_args(&self, ip: &str, port: u16) -> Vec<String> {
        let mut args = self.options();
        let ip = if ip.contains(':') && !ip.starts_with('[') {
            format!("[{ip}]")
        } else {
            ip.to_string()
        };
        args.extend(["-W".into(), format!("{ip}:{port}")]);
        args.extend(["--".into(), self.host.clone()]);
        args
    }

    /// The options of every ssh devdb runs to this engine.
    fn options(&self) -> Vec<String> {
        let mut args: Vec<String> = vec![
            "-o".into(),
            "BatchMode=yes".into(),
            "-o".into(),
            format!("ConnectTimeout={}", CONNECT_TIMEOUT.as_secs()),
            "-T".into(),
        ];
        if let Some(user) = &self.user {
            args.extend(["-l".into(), user.clone()]);
        }
        if let Some(port) = self.port {
            args.extend(["-p".into(), port.to_string()]);
        }
        args
    }
}

/// The machine ssh logs in to: the `hostname` of `ssh -G`, which follows the user's ssh
/// config (a `Host` alias with its `HostName`); the address's host when ssh cannot say.
pub(super) async fn machine(target: &SshTarget) -> String {
    let mut args = vec!["-G".to_string()];
    if let Some(user) = &target.user {
        args.extend(["-l".into(), user.clone()]);
    }
    if let Some(port) = target.port {
        args.extend(["-p".into(), port.to_string()]);
    }
    args.extend(["--".into(), target.host.clone()]);
    let printed = Command::new("ssh")
        .args(&args)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .output();
    match tokio::time::timeout(Duration::from_secs(5), printed).await {
        Ok(Ok(output)) if output.status.success() => String::from_utf8_lossy(&output.stdout)
            .lines()
            .find_map(|line| line.strip_prefix("hostname "))
            .map(|name| name.trim().to_string())
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| target.host.clone()),
        _ => target.host.clone(),
    }
}

/// A client whose connections are `ssh ... docker system dial-stdio` children.
pub(super) fn client(target: SshTarget, timeout: u64) -> Result<Docker, bollard::errors::Error> {
    let connector = Connector {
        target: Arc::new(target),
        stderr: Arc::new(Mutex::new(None)),
    };
    let stderr = connector.stderr.clone();
    let client = Client::builder(TokioExecutor::new()).build(connector);
    let transport = move |request: BollardRequest| {
        let client = client.clone();
        let stderr = stderr.clone();
        async move {
            match client.request(request).await {
                Ok(response) => Ok(response),
                Err(e) => Err(bollard::errors::Error::from(io::Error::other(
                    ssh_said(&stderr).await.unwrap_or_else(|| e.to_string()),
                ))),
            }
        }
    };
    // The address is a placeholder: the connector knows where to go.
    Docker::connect_with_custom_transport(
        transport,
        Some("http://docker.ssh"),
        timeout,
        bollard::API_DEFAULT_VERSION,
    )
}

/// What the last ssh that failed wrote to stderr (`Permission denied (publickey)`, `docker:
/// command not found`), waiting a moment for it to end.
async fn ssh_said(stderr: &Mutex<Option<String>>) -> Option<String> {
    for _ in 0..50 {
        if let Some(text) = stderr.lock().ok()?.take() {
            let text = text.trim();
            if !text.is_empty() {
                return Some(format!("ssh: {}", text.lines().last().unwrap_or(text)));
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    None
}

#[derive(Clone)]
struct Connector {
    target: Arc<SshTarget>,
    /// The stderr of the last ssh that ended with an error.
    stderr: Arc<Mutex<Option<String>>>,
}

impl tower_service::Service<hyper::Uri> for Connector {
    type Response = TokioIo<SshStream>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<TokioIo<SshStream>>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: hyper::Uri) -> Self::Future {
        let target = self.target.clone();
        let last = self.stderr.clone();
        Box::pin(async move {
            let mut child = Command::new("ssh")
                .args(target.args())
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .kill_on_drop(true)
                .spawn()
                .map_err(|e| io::Error::new(e.kind(), format!("cannot run ssh: {e}")))?;
            let (Some(stdin), Some(stdout), Some(mut stderr)) =
                (child.stdin.take(), child.stdout.take(), child.stderr.take())
            else {
                return Err(io::Error::other("ssh gave no pipes"));
            };
            tokio::spawn(async move {
                let mut text = String::new();
                let _ = stderr.read_to_string(&mut text).await;
                if !text.trim().is_empty()
                    && let Ok(mut last) = last.lock()
                {
                    *last = Some(text);
                }
            });
            Ok(TokioIo::new(SshStream {
                _child: child,
                stdin,
                stdout,
            }))
        })
    }
}

/// One connection: the ssh child's stdout to read, its stdin to write.
struct SshStream {
    _child: Child,
    stdin: ChildStdin,
    stdout: ChildStdout,
}

impl Connection for SshStream {
    fn connected(&self) -> Connected {
        Connected::new()
    }
}

impl AsyncRead for SshStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stdout).poll_read(cx, buf)
    }
}

impl AsyncWrite for SshStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stdin).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stdin).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stdin).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssh_addresses_give_user_host_and_port() {
        let full = SshTarget::parse("ssh://me@box:2222").unwrap();
        assert_eq!(
            full,
            SshTarget {
                user: Some("me".into()),
                host: "box".into(),
                port: Some(2222)
            }
        );
        assert_eq!(
            full.args()[5..],
            [
                "-l",
                "me",
                "-p",
                "2222",
                "--",
                "box",
                "docker",
                "system",
                "dial-stdio"
            ]
        );
        assert_eq!(
            full.forward_args("127.0.0.1", 5433)[5..],
            [
                "-l",
                "me",
                "-p",
                "2222",
                "-W",
                "127.0.0.1:5433",
                "--",
                "box"
            ]
        );
        assert_eq!(full.address(), "ssh://me@box:2222");
        let bare = SshTarget::parse("ssh://box").unwrap();
        assert_eq!((bare.user, bare.port), (None, None));
        let v6 = SshTarget::parse("ssh://[::1]:22").unwrap();
        assert_eq!((v6.host.as_str(), v6.port), ("::1", Some(22)));
        for bad in ["ssh://", "ssh://@box", "ssh://box:port", "tcp://box"] {
            assert_eq!(SshTarget::parse(bad), None, "{bad}");
        }
    }
}
