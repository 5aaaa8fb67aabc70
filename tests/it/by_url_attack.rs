//! A server named by URL attacked the way the real world does: four replicas migrating it at
//! once at start-up, and a server that takes connections and answers none.

use std::process::Child;
use std::time::Duration;

use crate::by_url::{DEAD_ENGINE, PASSWORD, foreign_server_container, revisions};
use crate::common::{TestProject, docker, finish_within, query, spawn_piped, stderr};

fn spawn_by_url(project: &TestProject, url: &str, args: &[&str]) -> Child {
    let mut command = project.command(args);
    command
        .args(["--database-url", url])
        .env("DOCKER_HOST", DEAD_ENGINE);
    spawn_piped(command)
}

/// Removes the test's container even when the test fails (after resuming it, or `rm -f`
/// would wait on a stopped process).
struct Container(String);

impl Drop for Container {
    fn drop(&mut self) {
        docker(&["kill", "--signal", "CONT", &self.0]);
        docker(&["rm", "-f", "-v", &self.0]);
    }
}

#[tokio::test]
async fn four_replicas_migrating_one_url_at_once_apply_each_revision_once() {
    let project = revisions(TestProject::new());
    let (container, port) = foreign_server_container(&project).await;
    let _container = Container(container);
    let url = format!("postgresql://postgres:{PASSWORD}@127.0.0.1:{port}/extdb");
    // A revision that fails when run twice: a second application would not go unnoticed.
    let children: Vec<Child> = (0..4)
        .map(|_| spawn_by_url(&project, &url, &["migrate"]))
        .collect();
    for child in children {
        let (output, _) = finish_within(child, Duration::from_secs(90));
        assert!(
            output.status.success(),
            "a concurrent migrate failed ({:?}): {}",
            output.status.code(),
            stderr(&output)
        );
    }
    assert_eq!(
        query(
            &url,
            "SELECT id || ':' || count(*) FROM devdb_revisions GROUP BY id ORDER BY id"
        )
        .await
        .unwrap(),
        ["0001:1", "0002:1"]
    );
    assert_eq!(
        query(
            &url,
            "SELECT count(*)::text FROM information_schema.columns WHERE table_name = 'items'"
        )
        .await
        .unwrap(),
        ["2"]
    );
}

#[tokio::test]
async fn a_server_by_url_that_answers_nothing_is_exit_4_within_seconds_not_a_hang() {
    let project = revisions(TestProject::new());
    let (container, port) = foreign_server_container(&project).await;
    let _container = Container(container.clone());
    let url = format!("postgresql://postgres:{PASSWORD}@127.0.0.1:{port}/extdb");
    // The postmaster stopped, the port still published: the kernel takes connections and
    // nothing answers them. devdb does not know it is a container; it has only the URL.
    assert!(
        docker(&["kill", "--signal", "STOP", &container])
            .status
            .success()
    );
    for args in [&["migrate"][..], &["current"], &["check"]] {
        let (output, took) =
            finish_within(spawn_by_url(&project, &url, args), Duration::from_secs(60));
        let message = stderr(&output);
        assert_eq!(output.status.code(), Some(4), "devdb {args:?}: {message}");
        assert!(
            message.contains("did not answer within"),
            "devdb {args:?}: {message}"
        );
        assert!(!message.contains(PASSWORD), "devdb {args:?}: {message}");
        assert!(
            took < Duration::from_secs(40),
            "devdb {args:?} took {took:?}"
        );
    }
}
