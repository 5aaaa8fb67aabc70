//! Engines other than the local socket: tcp with TLS (a proxy of the test's own in front of
//! the local engine, demanding a client certificate), ssh (an sshd of the test's own on
//! 127.0.0.1 whose sessions reach the local engine), Docker contexts chosen as the docker
//! CLI chooses them, and a context whose socket is dead failing as `docker` fails.

use std::path::Path;
use std::process::{Command, Output};

use crate::common::sshd::Sshd;
use crate::common::tls_proxy::{TlsEngine, copy_cert_path, make_ca, make_ca_for, tls_env};
use crate::common::{TestProject, compose_with, query, simple_compose, stderr, stdout};

pub(crate) fn with_revision(project: TestProject) -> TestProject {
    project.compose(&simple_compose()).file(
        "migrations/0001_items.sql",
        "-- devdb:revision 0001\n-- devdb:parents\n-- devdb:message items\n\n-- devdb:up\nCREATE TABLE items (id int PRIMARY KEY);\n\n-- devdb:down\nDROP TABLE items;\n",
    )
}

/// The devdb command for `project` with the engine chosen by `env` alone: no engine
/// variable of the test's own environment leaks in.
pub(crate) fn devdb_command(
    project: &TestProject,
    env: &[(&str, String)],
    args: &[&str],
) -> Command {
    let mut command = project.command(args);
    for name in [
        "DOCKER_HOST",
        "DOCKER_CONTEXT",
        "DOCKER_TLS_VERIFY",
        "DOCKER_CERT_PATH",
    ] {
        command.env_remove(name);
    }
    command.envs(env.iter().map(|(k, v)| (k, v)));
    command
}

/// Runs devdb for `project` with the engine chosen by `env` alone, as [`devdb_command`].
pub(crate) fn devdb(project: &TestProject, env: &[(&str, String)], args: &[&str]) -> Output {
    devdb_command(project, env, args)
        .output()
        .expect("running devdb")
}

pub(crate) fn ok(output: Output, what: &str) -> String {
    assert!(
        output.status.success(),
        "{what} failed ({:?}):\n{}\n{}",
        output.status.code(),
        stdout(&output),
        stderr(&output)
    );
    stdout(&output)
}

/// `up`, `migrate`, `url` (and the URL answers), `down --volumes` through the engine `env`
/// names.
async fn full_cycle(project: &TestProject, env: &[(&str, String)]) {
    ok(devdb(project, env, &["up"]), "up");
    let migrated = devdb(project, env, &["migrate"]);
    ok(migrated, "migrate");
    let url = ok(devdb(project, env, &["url"]), "url");
    let rows = query(&url, "SELECT count(*) FROM items").await.unwrap();
    assert_eq!(rows, ["0"], "{url}");
    assert_eq!(query(&url, "SELECT 1").await.unwrap(), ["1"]);
    ok(
        devdb(project, env, &["down", "--volumes", "--yes"]),
        "down --volumes",
    );
    assert_eq!(project.leftovers(), Vec::<String>::new());
}

#[tokio::test]
async fn a_tcp_engine_with_tls_and_a_client_certificate_runs_the_whole_cycle() {
    let project = with_revision(TestProject::new());
    let certs = project.path().join("certs");
    make_ca(&certs, "devdb test engine CA");
    let engine = TlsEngine::start(&certs);
    let env = tls_env(&engine, &certs);

    full_cycle(&project, &env).await;
    assert!(
        engine.connections() > 0,
        "nothing went through the TLS engine"
    );

    let status = ok(devdb(&project, &env, &["status"]), "status");
    assert!(
        status.contains(&format!("engine: {} (DOCKER_HOST)", engine.host())),
        "{status}"
    );
}

#[tokio::test]
async fn a_tls_engine_refuses_a_wrong_ca_a_foreign_or_missing_client_and_plain_http_clearly() {
    let project = with_revision(TestProject::new());
    let certs = project.path().join("certs");
    make_ca(&certs, "devdb test engine CA");
    let other = project.path().join("other");
    make_ca(&other, "some other CA");
    let engine = TlsEngine::start(&certs);

    // The engine's certificate is not signed by the CA devdb is given.
    let wrong_ca = copy_cert_path(&certs, &project.path().join("wrong-ca"));
    std::fs::copy(other.join("ca.pem"), wrong_ca.join("ca.pem")).unwrap();
    // devdb's client certificate is not signed by the CA the engine trusts.
    let foreign = copy_cert_path(&certs, &project.path().join("foreign"));
    std::fs::copy(other.join("cert.pem"), foreign.join("cert.pem")).unwrap();
    std::fs::copy(other.join("key.pem"), foreign.join("key.pem")).unwrap();

    // No client certificate at all: the CA alone, which the docker CLI takes too.
    let no_client = project.path().join("no-client");
    std::fs::create_dir_all(&no_client).unwrap();
    std::fs::copy(certs.join("ca.pem"), no_client.join("ca.pem")).unwrap();

    for (what, dir) in [
        ("wrong CA", &wrong_ca),
        ("foreign client", &foreign),
        ("no client certificate", &no_client),
    ] {
        let output = devdb(&project, &tls_env(&engine, dir), &["up"]);
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(3), "{what}: {err}");
        assert!(
            err.starts_with(&format!(
                "error: cannot reach the Docker engine at {}",
                engine.host()
            )),
            "{what}: {err}"
        );
        assert!(err.contains("hint: the TLS connection"), "{what}: {err}");
        assert!(err.contains(&dir.display().to_string()), "{what}: {err}");
        eprintln!("{what}: {err}");
    }

    // Plain HTTP to a TLS port.
    let plain = devdb(&project, &[("DOCKER_HOST", engine.host())], &["up"]);
    assert_eq!(plain.status.code(), Some(3), "{}", stderr(&plain));

    // A DOCKER_CERT_PATH without the client's key is named before anything is sent.
    let no_key = copy_cert_path(&certs, &project.path().join("no-key"));
    std::fs::remove_file(no_key.join("key.pem")).unwrap();
    let output = devdb(&project, &tls_env(&engine, &no_key), &["up"]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(3), "{err}");
    assert!(
        err.contains(&no_key.join("key.pem").display().to_string()),
        "{err}"
    );
    assert!(err.contains("DOCKER_CERT_PATH"), "{err}");
    assert_eq!(project.leftovers(), Vec::<String>::new());
}

/// The docker command line with its own config folder, and nothing of the test's engine
/// variables.
fn docker_cli(config: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut command = Command::new("docker");
    command
        .args(args)
        .env("DOCKER_CONFIG", config)
        .env_remove("DOCKER_HOST")
        .env_remove("DOCKER_CONTEXT")
        .env_remove("DOCKER_TLS_VERIFY")
        .env_remove("DOCKER_CERT_PATH");
    command.envs(env.iter().copied());
    command.output().expect("the docker command line")
}

#[tokio::test]
async fn a_context_at_a_dead_socket_fails_devdb_as_it_fails_docker_and_one_at_the_socket_works() {
    let project = with_revision(TestProject::new());
    let config = project.path().join("docker-config");
    let socket = format!("unix://{}", project.path().join("nothing.sock").display());
    let made = docker_cli(
        &config,
        &[],
        &[
            "context",
            "create",
            "dead",
            "--docker",
            &format!("host={socket}"),
        ],
    );
    ok(made, "docker context create");

    // By DOCKER_CONTEXT, then as the current context of the config file.
    let by_variable = [("DOCKER_CONTEXT", "dead")];
    ok(
        docker_cli(&config, &[], &["context", "use", "dead"]),
        "docker context use",
    );
    for env in [&by_variable[..], &[]] {
        let docker = docker_cli(&config, env, &["ps"]);
        assert!(!docker.status.success());
        assert!(stderr(&docker).contains(&socket), "{}", stderr(&docker));

        let mut devdb_env = vec![("DOCKER_CONFIG", config.display().to_string())];
        devdb_env.extend(env.iter().map(|(k, v)| (*k, v.to_string())));
        for command in ["status", "up"] {
            let output = devdb(&project, &devdb_env, &[command]);
            let err = stderr(&output);
            assert_eq!(output.status.code(), Some(3), "{command} {env:?}: {err}");
            assert!(
                err.starts_with(&format!(
                    "error: cannot reach the Docker engine at {socket}"
                )),
                "{command} {env:?}: {err}"
            );
            assert!(err.contains("context"), "{err}");
        }
    }
    assert_eq!(project.leftovers(), Vec::<String>::new());

    // A context at the real socket: DOCKER_CONTEXT beats the dead current context, and
    // once it is the current context itself, the config file's choice is used.
    let live = "host=unix:///var/run/docker.sock";
    ok(
        docker_cli(
            &config,
            &[],
            &["context", "create", "live", "--docker", live],
        ),
        "docker context create",
    );
    let config_env = ("DOCKER_CONFIG", config.display().to_string());
    let by_variable = [config_env.clone(), ("DOCKER_CONTEXT", "live".to_string())];
    let status = ok(devdb(&project, &by_variable, &["status"]), "status");
    assert!(
        status.contains("engine: unix:///var/run/docker.sock (DOCKER_CONTEXT=live)"),
        "{status}"
    );
    ok(
        docker_cli(&config, &[], &["context", "use", "live"]),
        "docker context use",
    );
    let status = ok(
        devdb(&project, &[config_env], &["status", "--json"]),
        "status",
    );
    let json: serde_json::Value = serde_json::from_str(&status).unwrap();
    assert_eq!(json["engine"]["chosen_by"], "config", "{status}");
    assert_eq!(json["engine"]["context"], "live", "{status}");
}

#[tokio::test]
async fn docker_context_picks_a_tls_context_over_the_current_one() {
    let project = with_revision(TestProject::new());
    let certs = project.path().join("certs");
    make_ca(&certs, "devdb test engine CA");
    let engine = TlsEngine::start(&certs);
    let config = project.path().join("docker-config");
    let dead = format!("unix://{}", project.path().join("nothing.sock").display());
    let docker_endpoint = format!(
        "host={},ca={},cert={},key={}",
        engine.host(),
        certs.join("ca.pem").display(),
        certs.join("cert.pem").display(),
        certs.join("key.pem").display()
    );
    for (name, endpoint) in [("dead", format!("host={dead}")), ("tls", docker_endpoint)] {
        let made = docker_cli(
            &config,
            &[],
            &["context", "create", name, "--docker", &endpoint],
        );
        ok(made, "docker context create");
    }
    ok(
        docker_cli(&config, &[], &["context", "use", "dead"]),
        "docker context use",
    );

    let env = [
        ("DOCKER_CONFIG", config.display().to_string()),
        ("DOCKER_CONTEXT", "tls".to_string()),
    ];
    full_cycle(&project, &env).await;
    assert!(engine.connections() > 0, "the tls context was not used");
    let status = ok(devdb(&project, &env, &["status", "--json"]), "status");
    let json: serde_json::Value = serde_json::from_str(&status).unwrap();
    assert_eq!(json["engine"]["host"], engine.host());
    assert_eq!(json["engine"]["chosen_by"], "DOCKER_CONTEXT");
    assert_eq!(json["engine"]["context"], "tls");
}

#[tokio::test]
async fn an_ssh_engine_runs_the_whole_cycle_and_leaves_no_ssh_behind() {
    let project = with_revision(TestProject::new());
    let sshd = Sshd::start(&project.path().join("ssh"));
    let env = sshd.env();

    full_cycle(&project, &env).await;

    // Through a Host alias of the ssh config, the engine's machine is the one ssh logs in
    // to (127.0.0.1 here, so the loopback binding is fine), not the alias.
    let mut by_alias = env.clone();
    by_alias.retain(|(k, _)| *k != "DOCKER_HOST");
    by_alias.push((
        "DOCKER_HOST",
        format!("ssh://{}", crate::common::sshd::ALIAS),
    ));
    ok(devdb(&project, &by_alias, &["up"]), "up");
    let url = ok(devdb(&project, &by_alias, &["url"]), "url");
    assert!(url.contains("@127.0.0.1:"), "{url}");
    assert_eq!(query(&url, "SELECT 1").await.unwrap(), ["1"]);
    // This machine's loopback needs no tunnel, and `tunnel` says so.
    let output = devdb(&project, &by_alias, &["tunnel"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("without a tunnel"),
        "{}",
        stderr(&output)
    );
    ok(
        devdb(&project, &by_alias, &["down", "--volumes", "--yes"]),
        "down",
    );

    let status = ok(devdb(&project, &env, &["status"]), "status");
    assert!(
        status.contains(&format!("engine: {} (DOCKER_HOST)", sshd.host())),
        "{status}"
    );
    // The ssh processes end with devdb, also when it exits with an error.
    assert_eq!(sshd.clients_left(), Vec::<String>::new());
    let failed = devdb(&project, &env, &["url"]);
    assert!(!failed.status.success(), "{}", stdout(&failed));
    assert_eq!(sshd.clients_left(), Vec::<String>::new());

    // A user the sshd does not take: the engine is unreachable, in ssh's words, and the hint
    // says how to check.
    let mut wrong = env.clone();
    wrong.retain(|(k, _)| *k != "DOCKER_HOST");
    wrong.push((
        "DOCKER_HOST",
        format!("ssh://nobody@127.0.0.1:{}", sshd.port),
    ));
    let output = devdb(&project, &wrong, &["status"]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(3), "{err}");
    let check = format!(
        "hint: check that `ssh -p {} nobody@127.0.0.1 docker version`",
        sshd.port
    );
    assert!(err.contains(&check), "{err}");
    assert!(
        err.contains("ssh: ") && err.contains("Permission denied"),
        "{err}"
    );
    eprintln!("{err}");
}

/// An address of this machine that is not its loopback (the first IPv4 `hostname -I`
/// gives). An engine reached there counts as one on another machine.
pub(crate) fn non_loopback_address() -> String {
    let listed = Command::new("hostname")
        .arg("-I")
        .output()
        .expect("hostname -I");
    stdout(&listed)
        .split_whitespace()
        .find(|a| {
            a.parse::<std::net::Ipv4Addr>()
                .is_ok_and(|ip| !ip.is_loopback())
        })
        .expect("a non-loopback IPv4 address of this machine")
        .to_string()
}

#[tokio::test]
async fn on_an_engine_elsewhere_urls_name_its_host_and_loopback_ports_are_refused() {
    let ip = non_loopback_address();
    let project = with_revision(TestProject::new());
    let certs = project.path().join("certs");
    make_ca_for(&certs, "devdb test engine CA", &ip);
    let engine = TlsEngine::start_on(&certs, &ip);
    let env = tls_env(&engine, &certs);

    // The compose file publishes on 127.0.0.1: the engine's loopback, not ours.
    let output = devdb(&project, &env, &["up"]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(err.contains("runs on another machine"), "{err}");
    assert!(err.contains("0.0.0.0::5432"), "{err}");
    assert_eq!(project.leftovers(), Vec::<String>::new());
    // The same for an ephemeral database, whose port devdb picks on the loopback.
    let ephemerals = crate::ephemeral::Ephemerals::of(&project);
    let output = devdb(&project, &env, &["up", "--ephemeral"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stderr(&output).contains("runs on another machine"));
    assert_eq!(ephemerals.containers(), Vec::<String>::new());

    // Published on all addresses: the URL names the engine's host, and it answers.
    let env_lines =
        "      POSTGRES_USER: app\n      POSTGRES_PASSWORD: app-secret\n      POSTGRES_DB: appdb";
    let open = compose_with(env_lines, "").replace("127.0.0.1::5432", "0.0.0.0::5432");
    let project = with_revision(TestProject::new()).compose(&open);
    ok(devdb(&project, &env, &["up"]), "up");
    let url = ok(devdb(&project, &env, &["url"]), "url");
    assert!(url.contains(&format!("@{ip}:")), "{url}");
    assert_eq!(query(&url, "SELECT 1").await.unwrap(), ["1"]);
    ok(
        devdb(&project, &env, &["down", "--volumes", "--yes"]),
        "down",
    );
    let ephemerals = crate::ephemeral::Ephemerals::of(&project);
    let report = ok(
        devdb(&project, &env, &["up", "--ephemeral", "--json"]),
        "up --ephemeral",
    );
    let report: serde_json::Value = serde_json::from_str(&report).unwrap();
    let url = report["database_url"].as_str().unwrap();
    assert!(url.contains(&format!("@{ip}:")), "{url}");
    assert_eq!(query(url, "SELECT 1").await.unwrap(), ["1"]);
    let id = report["id"].as_str().unwrap();
    ok(
        devdb(&project, &env, &["down", "--ephemeral", id]),
        "down --ephemeral",
    );
    assert_eq!(ephemerals.containers(), Vec::<String>::new());

    // A port taken there is reported by the engine, in devdb's words.
    let taken = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let fixed = open.replace("0.0.0.0::5432", &format!("0.0.0.0:{port}:5432"));
    let project = with_revision(TestProject::new()).compose(&fixed);
    let output = devdb(&project, &env, &["up"]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!("host port {port} is already in use")),
        "{err}"
    );
    assert_eq!(project.leftovers(), Vec::<String>::new());
}
