//! A dead or missing Docker engine.

use crate::common::{TestProject, stderr};

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
