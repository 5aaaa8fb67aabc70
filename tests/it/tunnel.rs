//! A database published on the loopback of an ssh engine's machine (the compose file's
//! default binding) is reached through ssh: devdb forwards its own connections with
//! `ssh ... -W`, and `devdb tunnel` forwards a port here for other programs until Ctrl-C or
//! SIGTERM. The test's sshd listens on a non-loopback address of this machine, so devdb
//! takes the engine for one on another machine.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::common::sshd::Sshd;
use crate::common::{TestProject, published_port, query, stderr, stdout};
use crate::remote::{devdb, devdb_command, non_loopback_address, ok, with_revision};

/// `devdb tunnel ARGS` running in the background, killed if the test fails first.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `devdb tunnel` and returns it with the first line it prints on stdout.
fn tunnel(project: &TestProject, env: &[(&str, String)], args: &[&str]) -> (Running, String) {
    let mut command = devdb_command(project, env, &[&["tunnel"], args].concat());
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("running devdb tunnel");
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    reader
        .read_line(&mut line)
        .expect("devdb tunnel's first line");
    (Running(child), line.trim().to_string())
}

/// Sends `signal` and waits (a few seconds at most) for devdb to exit.
fn stop(mut running: Running, signal: i32) -> std::process::ExitStatus {
    // SAFETY: kill(2) on the pid of a child this test started and has not reaped.
    assert_eq!(unsafe { libc::kill(running.0.id() as i32, signal) }, 0);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = running.0.try_wait().unwrap() {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "devdb tunnel did not end on signal {signal}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test]
async fn on_an_ssh_engine_elsewhere_the_loopback_port_is_reached_through_ssh_and_tunnelled() {
    let ip = non_loopback_address();
    let project = with_revision(TestProject::new());
    let sshd = Sshd::start_on(&project.path().join("ssh"), &ip);
    let env = sshd.env();

    // The compose file publishes on 127.0.0.1: the engine machine's loopback. `up` keeps it
    // there, waits for Postgres through a forward, migrates, and says what the URL is.
    let up = devdb(&project, &env, &["up"]);
    let up_err = stderr(&up);
    let url = ok(up, "up");
    let container = format!("{}-db-1", project.name);
    let published = published_port(&container);
    assert!(url.contains(&format!("@127.0.0.1:{published}/")), "{url}");
    assert!(up_err.contains("devdb tunnel"), "{up_err}");
    let bindings = stdout(&crate::common::docker(&["port", &container, "5432"]));
    assert_eq!(bindings, format!("127.0.0.1:{published}"));
    let forward = format!("-W 127.0.0.1:{published} ");
    assert!(sshd.log().contains(&forward), "{}", sshd.log());

    ok(devdb(&project, &env, &["migrate"]), "migrate");
    let current = ok(devdb(&project, &env, &["current"]), "current");
    assert!(current.contains("0001"), "{current}");

    // A command that fails after connecting leaves no ssh behind either.
    let forwards_before = sshd.log().matches(&forward).count();
    let refused = devdb(&project, &env, &["downgrade", "base"]);
    assert!(!refused.status.success(), "{}", stdout(&refused));
    assert!(
        sshd.log().matches(&forward).count() > forwards_before,
        "downgrade did not connect: {}",
        stderr(&refused)
    );
    assert_eq!(sshd.clients_left(), Vec::<String>::new());

    // `url` prints the engine-side URL, and says on stderr whose loopback it is.
    let printed = devdb(&project, &env, &["url"]);
    let note = stderr(&printed);
    let printed = ok(printed, "url");
    assert!(
        printed.contains(&format!("@127.0.0.1:{published}/")),
        "{printed}"
    );
    assert!(
        note.contains("loopback of the Docker engine's machine") && note.contains("devdb tunnel"),
        "{note}"
    );
    // `status` reads the revision through the forward and says the same of its URL.
    let status = ok(devdb(&project, &env, &["status", "--json"]), "status");
    let status: serde_json::Value = serde_json::from_str(&status).unwrap();
    assert_eq!(status["remote_loopback"], true, "{status}");
    assert_eq!(status["migrations"]["pending"], 0, "{status}");
    assert_eq!(sshd.clients_left(), Vec::<String>::new());

    // `devdb tunnel`: a local port that answers while it runs, until SIGINT.
    let (running, local) = tunnel(&project, &env, &[]);
    assert!(local.starts_with("postgresql://"), "{local}");
    assert!(!local.contains("app-secret"), "{local}");
    assert!(local.contains("@127.0.0.1:"), "{local}");
    assert!(!local.contains(&format!(":{published}/")), "{local}");
    let local = local.replace(":***@", ":app-secret@");
    assert_eq!(query(&local, "SELECT 1").await.unwrap(), ["1"]);
    assert_eq!(
        query(&local, "SELECT count(*) FROM items").await.unwrap(),
        ["0"]
    );
    let status = stop(running, libc::SIGINT);
    assert!(status.success(), "{status:?}");
    assert_eq!(sshd.clients_left(), Vec::<String>::new());
    assert!(query(&local, "SELECT 1").await.is_err(), "{local}");

    // A port of the user's choosing, --json, and SIGTERM.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (running, first) = tunnel(
        &project,
        &env,
        &["--port", &port.to_string(), "--json", "--show-password"],
    );
    assert_eq!(first, "{", "a pretty JSON document");
    let url = format!("postgresql://app:app-secret@127.0.0.1:{port}/appdb");
    assert_eq!(query(&url, "SELECT 1").await.unwrap(), ["1"]);
    let status = stop(running, libc::SIGTERM);
    assert!(status.success(), "{status:?}");
    assert_eq!(sshd.clients_left(), Vec::<String>::new());

    // An ephemeral database's URL is for programs that run after devdb has exited: no
    // forward serves it, so its loopback port is still refused there.
    let ephemerals = crate::ephemeral::Ephemerals::of(&project);
    let output = devdb(&project, &env, &["up", "--ephemeral"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stderr(&output).contains("runs on another machine"));
    assert_eq!(ephemerals.containers(), Vec::<String>::new());

    ok(
        devdb(&project, &env, &["down", "--volumes", "--yes"]),
        "down --volumes",
    );
    assert_eq!(project.leftovers(), Vec::<String>::new());
    assert_eq!(sshd.clients_left(), Vec::<String>::new());
}

#[tokio::test]
async fn an_sshd_that_forbids_forwarding_makes_up_fail_in_ssh_words_and_clean_up() {
    let ip = non_loopback_address();
    let project = with_revision(TestProject::new());
    let sshd = Sshd::start_with(&project.path().join("ssh"), &ip, "AllowTcpForwarding no\n");
    let env = sshd.env();

    let output = devdb(&project, &env, &["up", "--timeout", "5"]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(
        err.contains("the connections through ssh to port") && err.contains("prohibited"),
        "{err}"
    );
    assert!(err.contains("AllowTcpForwarding"), "{err}");
    assert_eq!(project.leftovers(), Vec::<String>::new());
    assert_eq!(sshd.clients_left(), Vec::<String>::new());
}
