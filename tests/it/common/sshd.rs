//! A Docker engine reached over SSH, for tests: an sshd of the test's own (on 127.0.0.1, or
//! on an address that makes it another machine to devdb) with
//! its own host key, taking one key of the test's, whose sessions reach the local engine
//! through `docker system dial-stdio`. The client side is confined to a folder of the test:
//! an `ssh` on devdb's PATH that reads only the test's ssh config (identity, known hosts),
//! so nothing of the real `~/.ssh` is read or written, and that logs its arguments.

use std::fs::File;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::stderr;

const SSHD: &str = "/usr/sbin/sshd";
/// A `Host` of the test's ssh config for this sshd: `ssh://ALIAS` reaches it.
pub const ALIAS: &str = "devdb-test-engine";

/// `/usr/sbin/sshd`, installed from the distribution's `openssh-server` package when it is
/// missing: once, under a lock, for all test processes.
fn sshd_binary() -> PathBuf {
    if Path::new(SSHD).exists() {
        return SSHD.into();
    }
    let lock = File::create(std::env::temp_dir().join("devdb-test-openssh-server.lock"))
        .expect("the lock file for installing openssh-server");
    // SAFETY: flock on a descriptor this function owns.
    assert_eq!(unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) }, 0);
    if !Path::new(SSHD).exists() {
        let install = |args: &[&str]| {
            Command::new("apt-get")
                .args(args)
                .env("DEBIAN_FRONTEND", "noninteractive")
                .output()
        };
        let mut result = install(&["install", "-y", "--no-install-recommends", "openssh-server"]);
        if !result.as_ref().is_ok_and(|o| o.status.success()) {
            let _ = install(&["update"]);
            result = install(&["install", "-y", "--no-install-recommends", "openssh-server"]);
        }
        match result {
            Ok(output) if output.status.success() && Path::new(SSHD).exists() => {}
            Ok(output) => panic!(
                "the ssh tests need {SSHD}; `apt-get install openssh-server` failed (install it by hand):\n{}",
                stderr(&output)
            ),
            Err(e) => panic!(
                "the ssh tests need {SSHD}, and apt-get could not be run to install openssh-server ({e}): install it by hand"
            ),
        }
    }
    SSHD.into()
}

fn run(program: &str, args: &[&str]) {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(
        output.status.success(),
        "{program} {args:?}: {}",
        stderr(&output)
    );
}

/// The sshd, killed when dropped, and the client folder that reaches it.
pub struct Sshd {
    child: Child,
    pub port: u16,
    /// The address it listens on.
    pub ip: String,
    /// A folder holding the `ssh` for devdb's PATH, its config, the key and known hosts.
    client: PathBuf,
}

impl Sshd {
    /// Starts an sshd on 127.0.0.1 with its files under `dir`.
    pub fn start(dir: &Path) -> Sshd {
        Sshd::start_on(dir, "127.0.0.1")
    }

    /// Starts an sshd on `ip` (an IPv4 address of this machine) with its files under `dir`.
    pub fn start_on(dir: &Path, ip: &str) -> Sshd {
        Sshd::start_with(dir, ip, "")
    }

    /// Starts an sshd on `ip` whose config ends with `extra` lines.
    pub fn start_with(dir: &Path, ip: &str, extra: &str) -> Sshd {
        let sshd = sshd_binary();
        let server = dir.join("server");
        let client = dir.join("client");
        std::fs::create_dir_all(&server).unwrap();
        std::fs::create_dir_all(&client).unwrap();
        let host_key = server.join("host_key");
        let identity = client.join("id_ed25519");
        for key in [&host_key, &identity] {
            let key = key.to_str().unwrap();
            run("ssh-keygen", &["-q", "-t", "ed25519", "-N", "", "-f", key]);
        }
        let public = std::fs::read_to_string(identity.with_extension("pub")).unwrap();
        // Root's key only: another user is refused as at any sshd.
        std::fs::write(server.join("authorized_keys.root"), public).unwrap();
        let authorized = server.join("authorized_keys.%u");
        // Privilege separation wants this folder; the package's service would make it.
        std::fs::create_dir_all("/run/sshd").unwrap();

        let port = free_port();
        let config = server.join("sshd_config");
        std::fs::write(
            &config,
            format!(
                "Port {port}\nListenAddress {ip}\nHostKey {}\nAuthorizedKeysFile {}\nPidFile {}\nStrictModes no\nPermitRootLogin prohibit-password\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nLogLevel ERROR\n{extra}",
                host_key.display(),
                authorized.display(),
                server.join("sshd.pid").display(),
            ),
        )
        .unwrap();
        let child = Command::new(sshd)
            .args(["-D", "-e", "-f"])
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting sshd");

        let host_public = std::fs::read_to_string(host_key.with_extension("pub")).unwrap();
        let host_public: Vec<&str> = host_public.split_whitespace().take(2).collect();
        std::fs::write(
            client.join("known_hosts"),
            format!("[{ip}]:{port} {}\n", host_public.join(" ")),
        )
        .unwrap();
        let ssh_config = client.join("ssh_config");
        std::fs::write(
            &ssh_config,
            format!(
                "Host {ALIAS}\n  HostName {ip}\n  Port {port}\n  User root\n\nHost *\n  IdentityFile {}\n  IdentitiesOnly yes\n  UserKnownHostsFile {}\n  GlobalKnownHostsFile /dev/null\n  StrictHostKeyChecking yes\n",
                identity.display(),
                client.join("known_hosts").display(),
            ),
        )
        .unwrap();
        let bin = client.join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        let wrapper = bin.join("ssh");
        std::fs::write(
            &wrapper,
            format!(
                "#!/bin/sh\necho \"$*\" >> '{}'\nexec /usr/bin/ssh -F '{}' \"$@\"\n",
                client.join("ssh.log").display(),
                ssh_config.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();

        let sshd = Sshd {
            child,
            port,
            ip: ip.to_string(),
            client,
        };
        sshd.wait_listening();
        sshd
    }

    fn wait_listening(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect((self.ip.as_str(), self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "sshd did not listen on {}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `ssh://root@<ip>:<port>`.
    pub fn host(&self) -> String {
        format!("ssh://root@{}:{}", self.ip, self.port)
    }

    /// The argument lines of every `ssh` devdb ran, one a line.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.client.join("ssh.log")).unwrap_or_default()
    }

    /// What devdb needs to use this engine: DOCKER_HOST, the confined `ssh` first on PATH,
    /// and a HOME and XDG_STATE_HOME (where the ssh control sockets go) of the test's.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        let path = format!(
            "{}:{}",
            self.client.join("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        vec![
            ("DOCKER_HOST", self.host()),
            ("PATH", path),
            ("HOME", self.client.display().to_string()),
            (
                "XDG_STATE_HOME",
                self.client.join("state").display().to_string(),
            ),
        ]
    }

    /// The `ssh ... docker system dial-stdio` and `ssh ... -W` processes to this sshd still
    /// running, after
    /// giving those of a command that just ended a few seconds to go.
    pub fn clients_left(&self) -> Vec<String> {
        let needle = format!("-p {}", self.port);
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let listing = Command::new("ps")
                .args(["-eo", "pid,args"])
                .output()
                .expect("ps");
            let left: Vec<String> = String::from_utf8_lossy(&listing.stdout)
                .lines()
                .filter(|l| (l.contains("dial-stdio") || l.contains(" -W ")) && l.contains(&needle))
                .map(str::to_string)
                .collect();
            if left.is_empty() || Instant::now() > deadline {
                return left;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
