//! `up --ephemeral` and `down --ephemeral`: throwaway databases for CI, several at once,
//! each removed by its own `down`, and expiry that removes only the expired ones.

use std::time::Duration;

use serde_json::Value;

use crate::common::{TestProject, docker, query, simple_compose, stderr, stdout};

/// One revision and one seed: an ephemeral database must come up with both.
pub fn migrated_project() -> TestProject {
    TestProject::new()
        .compose(&simple_compose())
        .file(
            "migrations/0001_items.sql",
            "-- devdb:revision 0001\n-- devdb:message items\n\n-- devdb:up\nCREATE TABLE items (name text NOT NULL);\n\n-- devdb:down\nDROP TABLE items;\n",
        )
        .file(
            "migrations/seeds/01_items.sql",
            "INSERT INTO items VALUES ('apple'), ('pear');\n",
        )
}

/// Removes whatever ephemeral databases a test started for `of`, even after a failure; it
/// touches only resources carrying devdb's ephemeral label for that project.
pub struct Ephemerals {
    of: String,
}

impl Ephemerals {
    pub fn of(project: &TestProject) -> Ephemerals {
        Ephemerals {
            of: project.name.clone(),
        }
    }

    /// The containers still there.
    pub fn containers(&self) -> Vec<String> {
        let filter = format!("label=dev.devdb.ephemeral.of={}", self.of);
        stdout(&docker(&["ps", "-aq", "--filter", &filter]))
            .lines()
            .map(str::to_string)
            .collect()
    }
}

impl Drop for Ephemerals {
    fn drop(&mut self) {
        let filter = format!("label=dev.devdb.ephemeral.of={}", self.of);
        for id in self.containers() {
            docker(&["rm", "-f", "-v", &id]);
        }
        let networks = stdout(&docker(&["network", "ls", "-q", "--filter", &filter]));
        for network in networks.lines() {
            docker(&["network", "rm", network]);
        }
    }
}

/// What the engine still has of the project `id`.
fn resources_of(id: &str) -> String {
    let filter = format!("label=com.docker.compose.project={id}");
    let mut found = stdout(&docker(&["ps", "-aq", "--filter", &filter]));
    found.push_str(&stdout(&docker(&[
        "network", "ls", "-q", "--filter", &filter,
    ])));
    found.push_str(&stdout(&docker(&[
        "volume", "ls", "-q", "--filter", &filter,
    ])));
    found
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

#[tokio::test]
async fn four_ephemeral_databases_start_at_once_each_migrated_and_each_gone_after_its_down() {
    let project = migrated_project();
    let guard = Ephemerals::of(&project);
    let env_file = project.path().join("github_env");
    std::fs::write(&env_file, "EXISTING=1\n").unwrap();
    let env_arg = env_file.display().to_string();

    let outputs: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|i| {
                let mut args = vec!["up", "--ephemeral", "--json"];
                if i == 0 {
                    args.extend(["--env-file", env_arg.as_str()]);
                }
                let mut command = project.command(&args);
                scope.spawn(move || command.output().unwrap())
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let reports: Vec<Value> = outputs
        .iter()
        .map(|output| {
            assert!(output.status.success(), "{}", stderr(output));
            json(&stdout(output))
        })
        .collect();

    let ids: Vec<&str> = reports.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let urls: Vec<&str> = reports
        .iter()
        .map(|r| r["database_url"].as_str().unwrap())
        .collect();
    for list in [&ids, &urls] {
        let mut unique = list.to_vec();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 4, "distinct: {list:?}");
    }
    for (report, url) in reports.iter().zip(&urls) {
        assert!(!url.contains("app-secret"), "a password of its own: {url}");
        assert_eq!(report["of"], project.name.as_str());
        assert_eq!(report["applied"], serde_json::json!(["0001"]));
        assert_eq!(
            query(url, "SELECT name FROM items ORDER BY name")
                .await
                .unwrap(),
            ["apple", "pear"],
            "migrated and seeded"
        );
        assert_eq!(query(url, "SHOW fsync").await.unwrap(), ["off"]);
        assert_eq!(query(url, "SHOW full_page_writes").await.unwrap(), ["off"]);
        let id = report["id"].as_str().unwrap();
        let mounts = stdout(&docker(&[
            "inspect",
            "--format",
            "{{range .Mounts}}{{.Type}} {{end}}",
            &format!("{id}-db-1"),
        ]));
        assert_eq!(mounts.trim(), "tmpfs", "data in memory, no volume");
        let expires = report["expires_at"].as_u64().unwrap();
        let created = report["created_at"].as_u64().unwrap();
        assert_eq!(expires - created, 2 * 3600, "default ttl");
    }

    let written = std::fs::read_to_string(&env_file).unwrap();
    assert_eq!(
        written,
        format!(
            "EXISTING=1\nDATABASE_URL={}\nDEVDB_EPHEMERAL_ID={}\n",
            urls[0], ids[0]
        )
    );

    for (i, id) in ids.iter().enumerate() {
        let output = project.devdb(&["down", "--ephemeral", id, "--json"]);
        assert!(output.status.success(), "{}", stderr(&output));
        assert_eq!(json(&stdout(&output))["removed"][0]["id"], *id);
        assert_eq!(resources_of(id), "", "{id} is gone");
        for url in &urls[i + 1..] {
            assert!(query(url, "SELECT 1").await.is_ok(), "the others stay");
        }
    }
    assert!(guard.containers().is_empty());

    let output = project.devdb(&["down", "--ephemeral", ids[0]]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains(&format!("no ephemeral database {}", ids[0])),
        "{}",
        stderr(&output)
    );
    let output = project.devdb(&["down", "--ephemeral"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
}

#[tokio::test]
async fn expiry_removes_only_the_expired_ephemeral_databases() {
    let project = migrated_project();
    let guard = Ephemerals::of(&project);
    let short =
        json(&project.devdb_ok(&["up", "--ephemeral", "--ttl", "1s", "--json", "--no-migrate"]));
    let long =
        json(&project.devdb_ok(&["up", "--ephemeral", "--ttl", "1h", "--json", "--no-migrate"]));
    let (short_id, long_id) = (short["id"].as_str().unwrap(), long["id"].as_str().unwrap());

    let expires = short["expires_at"].as_u64().unwrap();
    while devdb::internal::unix_now() < expires {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Only this project's: other tests' and other people's ephemerals are not this test's.
    let report = json(&project.devdb_ok(&["down", "--ephemeral", "--expired", "--json"]));
    let removed: Vec<&str> = report["removed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(removed, [short_id]);
    assert_eq!(resources_of(short_id), "");
    assert_ne!(resources_of(long_id), "");
    let url = long["database_url"].as_str().unwrap();
    assert_eq!(query(url, "SELECT 1").await.unwrap(), ["1"]);

    let report = json(&project.devdb_ok(&["down", "--ephemeral", "--expired", "--json"]));
    assert_eq!(report["removed"], serde_json::json!([]));
    project.devdb_ok(&["down", "--ephemeral", long_id]);
    assert!(guard.containers().is_empty());
}

#[test]
fn a_zero_ttl_and_a_ttl_without_ephemeral_are_usage_errors() {
    let project = TestProject::new();
    for args in [
        &["up", "--ephemeral", "--ttl", "0s"][..],
        &["up", "--ttl", "1h"],
        &["down", "--expired"],
    ] {
        let output = project.offline_command(args).output().unwrap();
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
    }
}

#[test]
fn a_ttl_past_thirty_days_is_refused_before_anything_is_made() {
    let project = TestProject::new();
    let guard = Ephemerals::of(&project);
    for ttl in ["99999999999999h", "721h", "31d"] {
        let output = project
            .command(&["up", "--ephemeral", "--ttl", ttl, "--no-migrate"])
            .output()
            .unwrap();
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{ttl}: {err}");
        assert!(!err.contains("panicked"), "{ttl}: {err}");
        assert!(
            err.contains("30 days") || err.contains("invalid duration"),
            "{ttl}: {err}"
        );
        assert!(guard.containers().is_empty(), "{ttl}");
    }
    project.devdb_ok(&["up", "--ephemeral", "--ttl", "720h", "--no-migrate"]);
    assert_eq!(guard.containers().len(), 1);
}

/// Expiry labels nobody can read (hand-made, or from a devdb that wrote what it could not
/// read back) are reported and skipped: never a panic, never a removal.
#[test]
fn the_sweep_survives_expiry_labels_it_cannot_read() {
    let project = TestProject::new();
    let guard = Ephemerals::of(&project);
    let image = crate::common::image();
    let mut made = Vec::new();
    for (i, expiry) in [
        "garbage",
        "999999999999999",
        "99999999999999999999999",
        "-5",
        "",
    ]
    .iter()
    .enumerate()
    {
        let id = format!("{}-eph-bad{i}", project.name);
        let labels = [
            format!("com.docker.compose.project={id}"),
            "dev.devdb.ephemeral=true".to_string(),
            format!("dev.devdb.ephemeral.of={}", project.name),
            "dev.devdb.ephemeral.purpose=ci".to_string(),
            "dev.devdb.created=0".to_string(),
            format!("dev.devdb.expires={expiry}"),
        ];
        let mut args = vec!["create".to_string(), "--name".into(), format!("{id}-db-1")];
        for label in &labels {
            args.extend(["--label".to_string(), label.clone()]);
        }
        args.push(image.to_string());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let created = docker(&args);
        assert!(created.status.success(), "{}", stderr(&created));
        made.push(id);
    }
    // Only this project's: `--all-projects` would sweep other people's too.
    for _ in 0..2 {
        let args = ["down", "--ephemeral", "--expired"];
        let output = project.devdb(&args);
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(0), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
        assert!(
            err.contains(&format!("{}-eph-bad0", project.name)) && err.contains("garbage"),
            "the unreadable label is reported: {err}"
        );
    }
    // The far-future one is simply not expired; none was removed.
    assert_eq!(guard.containers().len(), made.len());
    for id in &made {
        project.devdb_ok(&["down", "--ephemeral", id]);
    }
    assert!(guard.containers().is_empty());
}
