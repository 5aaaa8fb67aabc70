//! `up`, `down`, `reset`, `status`, `url`, `logs` on real projects.

use crate::common::{TestProject, compose_with, docker, query, simple_compose, stderr, stdout};

#[tokio::test]
async fn empty_folder_up_answers_and_down_removes_it() {
    let project = TestProject::new();
    let printed = project.devdb_ok(&["up"]);
    assert!(
        printed.starts_with("postgresql://postgres:***@127.0.0.1:"),
        "{printed}"
    );

    let url = project.url();
    assert!(url.contains(":postgres@127.0.0.1:"), "{url}");
    assert_eq!(query(&url, "SELECT 40 + 2").await.unwrap(), ["42"]);

    project.devdb_ok(&["down"]);
    let containers = stdout(&docker(&[
        "ps",
        "-aq",
        "--filter",
        &format!("label=com.docker.compose.project={}", project.name),
    ]));
    assert_eq!(containers, "", "down leaves no container");
    project.devdb_ok(&["down", "--volumes", "--yes"]);
    assert_eq!(project.leftovers(), Vec::<String>::new());
}

#[tokio::test]
async fn data_survives_down_and_up_and_goes_with_the_volumes() {
    let project = TestProject::new().compose(&simple_compose());
    project.devdb_ok(&["up"]);
    let url = project.url();
    query(
        &url,
        "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here')",
    )
    .await
    .unwrap();

    project.devdb_ok(&["down"]);
    project.devdb_ok(&["up"]);
    let url = project.url();
    assert_eq!(
        query(&url, "SELECT v FROM kept").await.unwrap(),
        ["still here"]
    );

    project.devdb_ok(&["down", "--volumes", "--yes"]);
    assert_eq!(
        project.leftovers(),
        Vec::<String>::new(),
        "no container, volume or network"
    );
    project.devdb_ok(&["up"]);
    let url = project.url();
    let error = query(&url, "SELECT v FROM kept").await.unwrap_err();
    assert!(error.to_string().contains("does not exist"), "{error}");
}

#[tokio::test]
async fn destroying_data_needs_yes_off_a_terminal() {
    let project = TestProject::new().compose(&simple_compose());
    project.devdb_ok(&["up"]);
    let url = project.url();
    query(&url, "CREATE TABLE precious (v int)").await.unwrap();

    for args in [&["down", "--volumes"][..], &["reset"]] {
        let output = project.devdb(args);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(stderr(&output).contains("--yes"), "{}", stderr(&output));
    }
    assert_eq!(
        query(&url, "SELECT count(*)::int FROM precious")
            .await
            .unwrap(),
        ["0"]
    );

    project.devdb_ok(&["reset", "--yes"]);
    let url = project.url();
    assert!(
        query(&url, "SELECT 1 FROM precious").await.is_err(),
        "reset empties the database"
    );
}

#[tokio::test]
async fn variables_come_from_the_environment_and_dot_env() {
    let compose = compose_with(
        "      POSTGRES_USER: ${DB_USER:-fallback_user}\n      POSTGRES_PASSWORD: ${DB_PASSWORD?set DB_PASSWORD in .env}\n      POSTGRES_DB: ${DB_NAME}\n      DOLLAR: \"cost $$5\"",
        "",
    );
    let project = TestProject::new()
        .compose(&compose)
        .file(".env", "DB_PASSWORD=from-dot-env\nDB_NAME=envdb\n");
    let output = project
        .command(&["up"])
        .env("DB_NAME", "from_process")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let url = project
        .command(&["url"])
        .env("DB_NAME", "from_process")
        .output()
        .unwrap();
    let url = stdout(&url);
    assert!(
        url.ends_with("/from_process") && url.contains("fallback_user:from-dot-env@"),
        "{url}"
    );
    assert_eq!(
        query(&url, "SELECT current_database()::text")
            .await
            .unwrap(),
        ["from_process"]
    );
    let env = stdout(&docker(&[
        "inspect",
        "--format",
        "{{range .Config.Env}}{{println .}}{{end}}",
        &project.container("db"),
    ]));
    assert!(env.lines().any(|l| l == "DOLLAR=cost $5"), "{env}");

    let missing = TestProject::new().compose(&compose);
    let output = missing.devdb(&["up"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("set DB_PASSWORD in .env"),
        "{}",
        stderr(&output)
    );
    assert_eq!(missing.leftovers(), Vec::<String>::new());
}

#[tokio::test]
async fn a_taken_port_is_named_and_nothing_is_left_behind() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let compose = simple_compose().replace("127.0.0.1::5432", &format!("127.0.0.1:{port}:5432"));
    let project = TestProject::new().compose(&compose);
    let output = project.devdb(&["up"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains(&format!("port {port} is already in use")),
        "{}",
        stderr(&output)
    );
    assert_eq!(project.leftovers(), Vec::<String>::new());
}

#[tokio::test]
async fn a_database_that_never_answers_fails_with_its_logs() {
    // Postgres refuses an unknown setting and exits.
    let compose = simple_compose().replace(
        "volumes:\n      - pgdata",
        "command: [\"postgres\", \"-c\", \"no_such_setting=1\"]\n    volumes:\n      - pgdata",
    );
    let project = TestProject::new().compose(&compose);
    let output = project.devdb(&["up", "--timeout", "60"]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(4), "{err}");
    assert!(err.contains("exited"), "{err}");
    assert!(
        err.contains("no_such_setting"),
        "the container's log lines are shown: {err}"
    );
    assert_eq!(project.leftovers(), Vec::<String>::new());

    // A container that runs but never serves Postgres hits the deadline.
    let compose = simple_compose().replace(
        "volumes:\n      - pgdata",
        "command: [\"bash\", \"-c\", \"echo not today; sleep 300\"]\n    volumes:\n      - pgdata",
    );
    let project = TestProject::new().compose(&compose);
    let output = project.devdb(&["up", "--timeout", "2"]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(4), "{err}");
    assert!(err.contains("did not answer within 2s"), "{err}");
    assert!(err.contains("not today"), "{err}");
    assert_eq!(project.leftovers(), Vec::<String>::new());
}

#[tokio::test]
async fn up_reuses_starts_or_recreates_the_container() {
    let project = TestProject::new().compose(&simple_compose());
    let action = |args: &[&str]| -> String {
        let mut all = vec!["up", "--json"];
        all.extend(args);
        let json: serde_json::Value = serde_json::from_str(&project.devdb_ok(&all)).unwrap();
        json["action"].as_str().unwrap().to_string()
    };
    assert_eq!(action(&[]), "created");
    let url = project.url();
    query(&url, "CREATE TABLE t (v int); INSERT INTO t VALUES (7)")
        .await
        .unwrap();
    let id = |p: &TestProject| {
        stdout(&docker(&[
            "inspect",
            "--format",
            "{{.Id}}",
            &p.container("db"),
        ]))
    };
    let first = id(&project);

    assert_eq!(action(&[]), "kept");
    assert_eq!(id(&project), first);

    docker(&["stop", &project.container("db")]);
    assert_eq!(action(&[]), "started");
    assert_eq!(id(&project), first);

    // A changed configuration: a new container on the same data.
    let changed =
        simple_compose().replace("POSTGRES_DB: appdb", "POSTGRES_DB: appdb\n      TZ: UTC");
    std::fs::write(project.path().join("compose/compose.yaml"), changed).unwrap();
    assert_eq!(action(&[]), "recreated");
    assert_ne!(id(&project), first);
    let url = project.url();
    assert_eq!(query(&url, "SELECT v FROM t").await.unwrap(), ["7"]);
}

#[tokio::test]
async fn containers_volumes_and_networks_carry_compose_names_and_labels() {
    let project = TestProject::new().compose(&simple_compose());
    project.devdb_ok(&["up"]);
    let name = &project.name;
    let label = |kind: &str, object: &str, key: &str| {
        stdout(&docker(&[
            kind,
            "inspect",
            "--format",
            &format!("{{{{index .Labels \"{key}\"}}}}"),
            object,
        ]))
    };
    let container = format!("{name}-db-1");
    let labels = stdout(&docker(&[
        "inspect",
        "--format",
        "{{json .Config.Labels}}",
        &container,
    ]));
    let labels: serde_json::Value = serde_json::from_str(&labels).unwrap();
    assert_eq!(labels["com.docker.compose.project"], name.as_str());
    assert_eq!(labels["com.docker.compose.service"], "db");
    assert_eq!(labels["com.docker.compose.container-number"], "1");
    assert_eq!(labels["com.docker.compose.oneoff"], "False");
    assert!(labels["dev.devdb.version"].is_string());
    assert_eq!(
        label(
            "volume",
            &format!("{name}_pgdata"),
            "com.docker.compose.volume"
        ),
        "pgdata"
    );
    assert_eq!(
        label(
            "network",
            &format!("{name}_default"),
            "com.docker.compose.network"
        ),
        "default"
    );
    // Bound to loopback unless the file says otherwise.
    let ports = stdout(&docker(&["port", &container, "5432"]));
    assert!(ports.starts_with("127.0.0.1:"), "{ports}");
}

#[tokio::test]
async fn docker_compose_down_removes_what_devdb_made() {
    let compose_cli: Vec<&str> = if docker(&["compose", "version"]).status.success() {
        vec!["docker", "compose"]
    } else if std::process::Command::new("docker-compose")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        vec!["docker-compose"]
    } else {
        eprintln!("skipped: no docker compose on this machine");
        return;
    };
    let project = TestProject::new().compose(&simple_compose());
    project.devdb_ok(&["up"]);
    let output = std::process::Command::new(compose_cli[0])
        .args(&compose_cli[1..])
        .args([
            "-p",
            &project.name,
            "-f",
            "compose/compose.yaml",
            "down",
            "-v",
        ])
        .current_dir(project.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(project.leftovers(), Vec::<String>::new());
}

#[tokio::test]
async fn status_url_and_logs_report_the_running_database() {
    let project = TestProject::new().compose(&simple_compose());
    let output = project.devdb(&["status"]);
    assert!(
        stdout(&output).contains("not running"),
        "{}",
        stdout(&output)
    );
    project.devdb_ok(&["up"]);

    let status: serde_json::Value =
        serde_json::from_str(&project.devdb_ok(&["status", "--json"])).unwrap();
    assert_eq!(status["project"], project.name.as_str());
    let service = &status["services"][0];
    assert_eq!(service["service"], "db");
    assert_eq!(service["state"], "running");
    assert!(
        service["ports"][0]
            .as_str()
            .unwrap()
            .ends_with("->5432/tcp")
    );
    let masked = status["database_url"].as_str().unwrap();
    assert!(
        masked.starts_with("postgresql://app:***@127.0.0.1:"),
        "{masked}"
    );
    assert!(!project.devdb_ok(&["status"]).contains("app-secret"));

    let shown: serde_json::Value =
        serde_json::from_str(&project.devdb_ok(&["status", "--json", "--show-password"])).unwrap();
    assert_eq!(shown["database_url"].as_str().unwrap(), project.url());
    assert!(project.url().contains("app:app-secret@"));

    let logs = project.devdb_ok(&["logs", "db", "--tail", "5"]);
    let all = project.devdb(&["logs"]);
    let all = format!("{}{}", stdout(&all), stderr(&all));
    assert!(
        all.contains("database system is ready to accept connections"),
        "{all}"
    );
    assert!(logs.lines().count() <= 5, "{logs}");
    let unknown = project.devdb(&["logs", "nope"]);
    assert!(
        stderr(&unknown).contains("no service nope"),
        "{}",
        stderr(&unknown)
    );
}

#[tokio::test]
async fn a_malformed_compose_file_is_reported_with_its_line() {
    let project = TestProject::new()
        .compose("services:\n  db:\n    image: postgres:17\n    ports: [unclosed\n");
    let output = project.devdb(&["up"]);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(err.contains("compose.yaml:4"), "{err}");
    assert_eq!(project.leftovers(), Vec::<String>::new());
}

/// Ctrl-C, and the signals CI runners, `timeout`, `docker stop` and Kubernetes send, during
/// `up` of a new project: what it made is removed, and the exit code names the signal.
#[tokio::test]
async fn a_signal_during_up_removes_what_it_made() {
    let compose = simple_compose().replace(
        "volumes:\n      - pgdata",
        "command: [\"bash\", \"-c\", \"sleep 300\"]\n    volumes:\n      - pgdata",
    );
    for (signal, code) in [("INT", 130), ("TERM", 143), ("HUP", 129)] {
        let project = TestProject::new().compose(&compose);
        let mut child = project
            .command(&["up", "--timeout", "120"])
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let container = project.container("db");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while !stdout(&docker(&[
            "inspect",
            "--format",
            "{{.State.Running}}",
            &container,
        ]))
        .contains("true")
        {
            assert!(
                std::time::Instant::now() < deadline,
                "the container never started"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        std::process::Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .unwrap();
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(code), "SIG{signal}");
        assert_eq!(project.leftovers(), Vec::<String>::new(), "SIG{signal}");
    }
}

/// Which addresses the engine listens on for the database's port.
fn listening_addresses(container: &str) -> (Vec<String>, Vec<String>) {
    let ips = |template: &str| -> Vec<String> {
        let json: serde_json::Value = serde_json::from_str(&stdout(&docker(&[
            "inspect", "--format", template, container,
        ])))
        .unwrap();
        let mut ips: Vec<String> = json["5432/tcp"]
            .as_array()
            .unwrap_or(&Vec::new())
            .iter()
            .map(|b| b["HostIp"].as_str().unwrap_or("").to_string())
            .collect();
        ips.sort();
        ips
    };
    (
        ips("{{json .HostConfig.PortBindings}}"),
        ips("{{json .NetworkSettings.Ports}}"),
    )
}

#[test]
fn ports_bind_where_the_compose_file_says_and_a_host_that_is_no_ip_is_refused() {
    let with_port = |port: &str| simple_compose().replace("\"127.0.0.1::5432\"", port);
    for (port, bound) in [
        ("\"5432\"", &["127.0.0.1"][..]),
        ("5432", &["127.0.0.1"]),
        ("\"127.0.0.1::5432\"", &["127.0.0.1"]),
        ("\"::5432\"", &["127.0.0.1"]),
        ("{target: 5432, host_ip: 127.0.0.1}", &["127.0.0.1"]),
        ("\"0.0.0.0::5432\"", &["0.0.0.0"]),
    ] {
        let project = TestProject::new().compose(&with_port(port));
        project.devdb_ok(&["up", "--no-migrate"]);
        let (configured, listening) = listening_addresses(&project.container("db"));
        assert_eq!(configured, bound, "{port}: configured");
        // Docker 20.10 reports an all-interfaces binding once per address family.
        let listening: Vec<String> = listening.into_iter().filter(|ip| ip != "::").collect();
        assert_eq!(listening, bound, "{port}: listening");
        project.devdb_ok(&["down", "--volumes", "--yes"]);
    }
    for port in [
        "\"localhost::5432\"",
        "\"999.1.1.1::5432\"",
        "\"127.0.0.1.5::5432\"",
        "\"[localhost]::5432\"",
        "{target: 5432, host_ip: localhost}",
    ] {
        let project = TestProject::new().compose(&with_port(port));
        let output = project.devdb(&["up", "--no-migrate"]);
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(1), "{port}: {err}");
        assert!(
            err.contains("is not an IP address")
                && err.contains("127.0.0.1")
                && err.contains("0.0.0.0"),
            "{port}: {err}"
        );
        assert!(err.contains("compose.yaml:"), "{port}: {err}");
        assert_eq!(project.leftovers(), Vec::<String>::new(), "{port}");
    }
}

#[tokio::test]
async fn init_scripts_from_a_bind_mount_run_once_on_a_new_volume() {
    let project = TestProject::new()
        .compose(&compose_with(
            "      POSTGRES_USER: app\n      POSTGRES_PASSWORD: app-secret\n      POSTGRES_DB: appdb",
            "      - ../initdb:/docker-entrypoint-initdb.d:ro",
        ))
        .file(
            "initdb/01_schema.sql",
            "CREATE TABLE greeting (v text); INSERT INTO greeting VALUES ('from initdb');",
        )
        .file(
            "initdb/02_more.sh",
            "#!/bin/bash\nset -e\npsql -v ON_ERROR_STOP=1 --username \"$POSTGRES_USER\" --dbname \"$POSTGRES_DB\" -c \"INSERT INTO greeting VALUES ('from a script')\"\n",
        );
    project.devdb_ok(&["up"]);
    let url = project.url();
    assert!(url.starts_with("postgresql://app:app-secret@"), "{url}");
    assert!(url.ends_with("/appdb"), "{url}");
    assert_eq!(
        query(&url, "SELECT v FROM greeting ORDER BY v")
            .await
            .unwrap(),
        ["from a script", "from initdb"]
    );

    // The scripts belong to the first start of a new volume only.
    project.devdb_ok(&["down"]);
    project.devdb_ok(&["up"]);
    assert_eq!(
        query(&project.url(), "SELECT count(*)::int FROM greeting")
            .await
            .unwrap(),
        ["2"]
    );
    project.devdb_ok(&["down", "--volumes", "--yes"]);
    assert_eq!(project.leftovers(), Vec::<String>::new());
}

/// `url --format`: each form works in the tool it is for: psql takes the URL and the
/// libpq variables, SQLAlchemy the plain URL (its default driver) and the psycopg one;
/// JSON and JDBC carry the same parts. The password needs escaping in every form.
#[tokio::test]
async fn every_url_form_works_in_the_tool_it_is_for() {
    let password = "p@ss w'rd:/%";
    let project = TestProject::new().compose(&compose_with(
        &format!(
            "      POSTGRES_USER: app\n      POSTGRES_PASSWORD: \"{password}\"\n      POSTGRES_DB: appdb"
        ),
        "",
    ));
    project.devdb_ok(&["up"]);
    let url = project.devdb_ok(&["url"]);
    assert!(url.starts_with("postgresql://app:"), "{url}");

    let psql = |env: &[(&str, &str)], script: &str| {
        let label = format!("com.docker.compose.project={}", project.name);
        let mut args = vec!["run", "--rm", "--network", "host", "--label", &label];
        let pairs: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
        for pair in &pairs {
            args.extend(["-e", pair]);
        }
        args.extend([crate::common::image(), "sh", "-c", script]);
        let output = docker(&args);
        assert!(output.status.success(), "{script}: {}", stderr(&output));
        stdout(&output)
    };
    let who = "SELECT current_user || '@' || current_database()";
    assert_eq!(
        psql(&[("URL", &url)], &format!("psql \"$URL\" -tAc \"{who}\"")),
        "app@appdb"
    );
    let env = project.devdb_ok(&["url", "--format", "env"]);
    assert!(env.contains("PGPORT="), "{env}");
    assert_eq!(
        psql(
            &[("ENVTEXT", &env)],
            &format!(
                "eval \"$ENVTEXT\"; export PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE; psql -tAc \"{who}\""
            )
        ),
        "app@appdb"
    );

    let python = crate::common::python::python();
    let sqlalchemy = |url: &str| {
        let output = std::process::Command::new(&python)
            .args([
                "-c",
                "import sys, sqlalchemy\n\
                 with sqlalchemy.create_engine(sys.argv[1]).connect() as c:\n\
                 \x20   print(c.exec_driver_sql(sys.argv[2]).scalar())",
                url,
                who,
            ])
            .output()
            .unwrap();
        assert!(output.status.success(), "{url}: {}", stderr(&output));
        stdout(&output)
    };
    assert_eq!(sqlalchemy(&url), "app@appdb");
    let psycopg = project.devdb_ok(&["url", "--format", "sqlalchemy"]);
    assert!(psycopg.starts_with("postgresql+psycopg://"), "{psycopg}");
    assert_eq!(sqlalchemy(&psycopg), "app@appdb");
    let asyncpg = project.devdb_ok(&["url", "--format", "sqlalchemy", "--driver", "asyncpg"]);
    assert!(asyncpg.starts_with("postgresql+asyncpg://"), "{asyncpg}");

    let json: serde_json::Value =
        serde_json::from_str(&project.devdb_ok(&["url", "--json"])).unwrap();
    assert_eq!(json["url"], url.as_str());
    assert_eq!(json["password"], password);
    assert_eq!(json["user"], "app");
    assert_eq!(json["database"], "appdb");
    let port = json["port"].as_u64().unwrap();
    let jdbc = project.devdb_ok(&["url", "--format", "jdbc"]);
    assert!(
        jdbc.starts_with(&format!(
            "jdbc:postgresql://127.0.0.1:{port}/appdb?user=app&password="
        )),
        "{jdbc}"
    );
    assert_eq!(json["jdbc"], jdbc.as_str());

    let output = project.devdb(&["url", "--driver", "asyncpg"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("--format sqlalchemy"),
        "{}",
        stderr(&output)
    );
}
