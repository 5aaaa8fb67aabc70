//! The example project at the repository's root, which the README's first command brings
//! up: migrated, seeded, and reported by `status` and `history`.

use crate::common::{TestProject, query, repo_root};

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[tokio::test]
async fn the_example_project_comes_up_migrated_and_seeded() {
    let project = TestProject::new();
    for folder in ["compose", "migrations"] {
        copy_dir(&repo_root().join(folder), &project.path().join(folder));
    }
    let free_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let port = free_port.to_string();
    let devdb = |args: &[&str]| {
        let output = project
            .command(args)
            .env("BOOKSHOP_DB_PORT", &port)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    };

    let up: serde_json::Value = serde_json::from_str(&devdb(&["up", "--json"])).unwrap();
    assert_eq!(up["action"], "created");
    assert_eq!(up["applied"].as_array().unwrap().len(), 3, "{up}");
    assert_eq!(up["seeded"].as_array().unwrap().len(), 1, "{up}");
    let url = devdb(&["url"]);
    assert!(url.contains(&format!("127.0.0.1:{port}/bookshop")), "{url}");
    let counts = "SELECT name || '=' || books FROM author_book_counts ORDER BY name";
    assert_eq!(
        query(&url, counts).await.unwrap(),
        ["Terry Pratchett=1", "Ursula K. Le Guin=1"]
    );

    let status: serde_json::Value = serde_json::from_str(&devdb(&["status", "--json"])).unwrap();
    assert_eq!(status["migrations"]["pending"], 0, "{status}");
    assert_eq!(status["migrations"]["current"][0]["id"], "c3d4e5f6a7b8");
    let history = devdb(&["history"]);
    assert!(
        history.starts_with("* c3d4e5f6a7b8 (head, applied)"),
        "{history}"
    );

    devdb(&["downgrade", "-1", "--yes"]);
    let status: serde_json::Value = serde_json::from_str(&devdb(&["status", "--json"])).unwrap();
    assert_eq!(status["migrations"]["pending"], 1, "{status}");
    assert!(devdb(&["history"]).starts_with("* c3d4e5f6a7b8 (head) "));

    // A second `up` migrates again but does not seed an existing database twice.
    let up: serde_json::Value = serde_json::from_str(&devdb(&["up", "--json"])).unwrap();
    assert_eq!(up["action"], "kept");
    assert_eq!(up["applied"].as_array().unwrap().len(), 1, "{up}");
    assert_eq!(up["seeded"].as_array().unwrap().len(), 0, "{up}");
    assert_eq!(
        query(&url, "SELECT count(*)::int FROM book").await.unwrap(),
        ["2"]
    );
}
