//! The engine: a dead or missing one, resources devdb did not make under the names it
//! would use, and several `up`s of one project at once.

use std::time::{Duration, Instant};

use crate::common::{TestProject, docker, query, stderr, stdout};

#[test]
fn an_unreachable_engine_is_one_clear_sentence_and_its_own_exit_code() {
    let project = TestProject::new();
    for host in ["unix:///tmp/devdb-no-such.sock", "tcp://127.0.0.1:1"] {
        let started = std::time::Instant::now();
        let output = project
            .command(&["up"])
            .env("DOCKER_HOST", host)
            .output()
            .unwrap();
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(3), "{err}");
        assert!(
            err.starts_with(&format!("error: cannot reach the Docker engine at {host}")),
            "{err}"
        );
        assert!(err.contains("hint:"), "{err}");
        eprintln!("{host}: failed in {:?}", started.elapsed());
    }
}

/// A container, volume or network made by hand (no labels) under a name devdb would use;
/// the test removes it again, also after a panic.
struct HandMade {
    kind: &'static str,
    name: String,
}

impl Drop for HandMade {
    fn drop(&mut self) {
        match self.kind {
            "container" => docker(&["rm", "-f", "-v", &self.name]),
            "volume" => docker(&["volume", "rm", "-f", &self.name]),
            _ => docker(&["network", "rm", &self.name]),
        };
    }
}

/// Polls until the Postgres in `container` answers over TCP (not the init-time socket).
fn wait_for_sql(container: &str) {
    let deadline = Instant::now() + Duration::from_secs(90);
    while !docker(&[
        "exec",
        container,
        "psql",
        "-U",
        "postgres",
        "-h",
        "127.0.0.1",
        "-d",
        "app",
        "-tAc",
        "SELECT 1",
    ])
    .status
    .success()
    {
        assert!(Instant::now() < deadline, "{container} never answered");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The tables and databases of the hand-made server: what must not change.
fn contents(container: &str) -> String {
    stdout(&docker(&[
        "exec",
        container,
        "psql",
        "-U",
        "postgres",
        "-h",
        "127.0.0.1",
        "-d",
        "app",
        "-tAc",
        "SELECT string_agg(datname, ',' ORDER BY datname) FROM pg_database \
         UNION ALL SELECT coalesce(string_agg(tablename, ',' ORDER BY tablename), '') \
         FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')",
    ]))
}

fn with_one_revision(project: TestProject) -> TestProject {
    project.file(
        "migrations/0001_items.sql",
        "-- devdb:revision 0001\n-- devdb:message items\n\n-- devdb:up\nCREATE TABLE items (name text);\n\n-- devdb:down\nDROP TABLE items;\n",
    )
}

#[test]
fn a_hand_made_container_with_the_database_name_is_refused_by_every_command() {
    let project = with_one_revision(TestProject::new());
    // A real backup of this project, for `restore` to have something to refuse.
    project.devdb_ok(&["up"]);
    project.devdb_ok(&["backup"]);
    project.devdb_ok(&["down", "--volumes", "--yes"]);

    let name = project.container("db");
    let _guard = HandMade {
        kind: "container",
        name: name.clone(),
    };
    let run = docker(&[
        "run",
        "-d",
        "--name",
        &name,
        "-p",
        "127.0.0.1::5432",
        "-e",
        "POSTGRES_PASSWORD=postgres",
        "-e",
        "POSTGRES_DB=app",
        crate::common::image(),
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    wait_for_sql(&name);
    let before = contents(&name);

    // `downgrade` asks for confirmation once it can: give `--yes` when it takes one.
    let help = project
        .offline_command(&["downgrade", "--help"])
        .output()
        .unwrap();
    let downgrade: &[&str] = if stdout(&help).contains("--yes") {
        &["downgrade", "base", "--yes"]
    } else {
        &["downgrade", "base"]
    };
    for args in [
        &["migrate"][..],
        downgrade,
        &["backup"],
        &["restore", "latest", "--yes"],
        &["clone"],
        &["url"],
        &["logs"],
        &["up"],
    ] {
        let output = project.devdb(args);
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains(&format!(
                "container {name} exists but does not belong to project"
            )),
            "{args:?}: {err}"
        );
        assert!(
            err.contains(&format!("docker rm -f {name}")) && err.contains("COMPOSE_PROJECT_NAME"),
            "{args:?}: {err}"
        );
    }
    let status = project.devdb_ok(&["status"]);
    assert!(
        status.contains(&name) && status.contains("not devdb's"),
        "{status}"
    );
    assert_eq!(contents(&name), before, "nothing changed in {name}");
    assert!(
        stdout(&docker(&[
            "inspect",
            "--format",
            "{{.State.Running}}",
            &name
        ]))
        .contains("true")
    );
}

#[test]
fn a_hand_made_volume_or_network_with_the_project_name_makes_up_refuse() {
    let project = TestProject::new();
    let volume = format!("{}_pgdata", project.name);
    let _volume = HandMade {
        kind: "volume",
        name: volume.clone(),
    };
    assert!(docker(&["volume", "create", &volume]).status.success());
    let output = project.devdb(&["up"]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!(
            "volume {volume} exists but does not belong to project"
        )),
        "{err}"
    );
    assert!(err.contains(&format!("docker volume rm {volume}")), "{err}");
    assert_eq!(project.leftovers(), Vec::<String>::new());
    drop(_volume);

    let network = format!("{}_default", project.name);
    let _network = HandMade {
        kind: "network",
        name: network.clone(),
    };
    assert!(docker(&["network", "create", &network]).status.success());
    let output = project.devdb(&["up"]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!(
            "network {network} exists but does not belong to project"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!("docker network rm {network}")),
        "{err}"
    );
    assert_eq!(project.leftovers(), Vec::<String>::new());
}

/// A volume the compose file now asks for, under a name someone else's volume has: `reset`
/// must refuse before it removes the data it has, and `down --volumes` says what it left.
#[tokio::test]
async fn reset_refuses_before_removing_anything_when_a_volume_name_is_taken() {
    let project = TestProject::new().compose(&crate::common::simple_compose());
    project.devdb_ok(&["up"]);
    query(
        &project.url(),
        "CREATE TABLE kept (v int); INSERT INTO kept VALUES (1)",
    )
    .await
    .unwrap();
    let extra = format!("{}_extra", project.name);
    let _extra = HandMade {
        kind: "volume",
        name: extra.clone(),
    };
    assert!(docker(&["volume", "create", &extra]).status.success());
    let project = project.compose(&crate::common::compose_with(
        "      POSTGRES_USER: app\n      POSTGRES_PASSWORD: app-secret\n      POSTGRES_DB: appdb",
        "      - extra:/extra\n",
    ).replace("volumes:\n  pgdata:\n", "volumes:\n  pgdata:\n  extra:\n"));

    let output = project.devdb(&["reset", "--yes"]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!(
            "volume {extra} exists but does not belong to project"
        )),
        "{err}"
    );
    assert_eq!(
        query(&project.url(), "SELECT v FROM kept").await.unwrap(),
        ["1"],
        "the data is still there"
    );

    let output = project.devdb(&["down", "--volumes", "--yes"]);
    let err = stderr(&output);
    assert!(output.status.success(), "{err}");
    assert!(
        err.contains(&format!("left volume {extra} alone"))
            && err.contains(&format!("docker volume rm {extra}")),
        "{err}"
    );
    assert!(docker(&["volume", "inspect", &extra]).status.success());
    assert_eq!(project.leftovers(), Vec::<String>::new());
}

/// Four `up`s of one new project at once, ten times over (and now and then four more of it
/// stopped): one creates, the others wait and reuse it; one network, a labelled volume, a
/// database migrated and seeded once.
#[tokio::test]
async fn four_concurrent_ups_of_a_new_project_make_one_of_everything() {
    for round in 0..10 {
        let project = with_one_revision(TestProject::new()).file(
            "migrations/seeds/01_items.sql",
            "INSERT INTO items VALUES ('apple');\n",
        );
        let four_ups = |what: &str| {
            let children: Vec<_> = (0..4)
                .map(|_| {
                    project
                        .command(&["up"])
                        .stdout(std::process::Stdio::piped())
                        .stderr(std::process::Stdio::piped())
                        .spawn()
                        .unwrap()
                })
                .collect();
            for child in children {
                let output = child.wait_with_output().unwrap();
                assert!(
                    output.status.success(),
                    "round {round}, {what}: {}",
                    stderr(&output)
                );
            }
        };
        four_ups("new");
        if round % 3 == 2 {
            // An existing, stopped project: one starts it, the others find it running.
            docker(&["stop", &project.container("db")]);
            four_ups("stopped");
        }
        let network = format!("{}_default", project.name);
        let networks = stdout(&docker(&[
            "network",
            "ls",
            "-q",
            "--filter",
            &format!("name=^{network}$"),
        ]));
        assert_eq!(networks.lines().count(), 1, "round {round}: {networks}");
        let volume = format!("{}_pgdata", project.name);
        let labels = stdout(&docker(&[
            "volume",
            "inspect",
            "--format",
            "{{json .Labels}}",
            &volume,
        ]));
        assert!(
            labels.contains(&format!(
                "\"com.docker.compose.project\":\"{}\"",
                project.name
            )),
            "round {round}: {labels}"
        );
        assert_eq!(
            query(&project.url(), "SELECT name FROM items")
                .await
                .unwrap(),
            ["apple"],
            "round {round}"
        );
        project.devdb_ok(&["down", "--volumes", "--yes"]);
        assert_eq!(project.leftovers(), Vec::<String>::new(), "round {round}");
        assert_eq!(
            stdout(&docker(&[
                "volume",
                "ls",
                "-q",
                "--filter",
                &format!("name=^{volume}$")
            ])),
            "",
            "round {round}"
        );
    }
}
