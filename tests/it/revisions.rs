//! `new`, `merge`, `heads` and `history`: the file-side migration commands, run as the
//! real binary. None of them needs Docker.

use std::path::Path;
use std::process::Output;

use crate::common::{TestProject, stderr, stdout};

fn run(project: &TestProject, args: &[&str]) -> Output {
    project
        .offline_command(args)
        .output()
        .expect("running devdb")
}

fn ok(project: &TestProject, args: &[&str]) -> String {
    let output = run(project, args);
    assert!(
        output.status.success(),
        "devdb {args:?} failed ({:?}):\n{}\n{}",
        output.status.code(),
        stdout(&output),
        stderr(&output)
    );
    stdout(&output)
}

/// The id of a revision file printed by `new` or `merge`: the part before the first `_`.
fn id_of(path: &str) -> String {
    let name = Path::new(path).file_name().unwrap().to_str().unwrap();
    name.split(['_', '.']).next().unwrap().to_string()
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}

#[test]
fn new_makes_a_root_then_a_revision_on_it() {
    let project = TestProject::new();
    let first = ok(&project, &["new", "-m", "Create users"]);
    let root = id_of(&first);
    assert_eq!(root.len(), 12, "{first}");
    assert!(root.bytes().all(|b| b.is_ascii_hexdigit()), "{first}");
    assert_eq!(first, format!("migrations/{root}_create_users.sql"));
    let text = std::fs::read_to_string(project.path().join(&first)).unwrap();
    assert!(text.starts_with(&format!(
        "-- devdb:revision {root}\n-- devdb:message  Create users\n"
    )));
    assert!(text.contains("-- devdb:up\n") && text.contains("-- devdb:down\n"));

    let second = ok(&project, &["new", "-m", "add email"]);
    let text = std::fs::read_to_string(project.path().join(&second)).unwrap();
    assert!(
        text.contains(&format!("-- devdb:parents  {root}\n")),
        "{text}"
    );
    assert_eq!(
        ok(&project, &["heads"]),
        format!("{} add email", id_of(&second))
    );
}

#[test]
fn two_branches_block_new_until_merged() {
    let project = TestProject::new();
    let root = id_of(&ok(&project, &["new", "-m", "root"]));
    let left = id_of(&ok(&project, &["new", "-m", "left"]));
    let right = id_of(&ok(
        &project,
        &["new", "-m", "right", "--parent", &root[..6]],
    ));

    let refused = run(&project, &["new", "-m", "more"]);
    assert_eq!(refused.status.code(), Some(6), "{}", stderr(&refused));
    let err = stderr(&refused);
    assert!(err.contains(&format!("{left} (left)")), "{err}");
    assert!(err.contains(&format!("{right} (right)")), "{err}");
    assert!(err.contains(&format!("which branch at {root}")), "{err}");
    assert!(
        err.contains("--parent") && err.contains("devdb merge"),
        "{err}"
    );

    let heads = run(&project, &["heads"]);
    let mut listed: Vec<String> = stdout(&heads).lines().map(str::to_string).collect();
    listed.sort();
    let mut expected = vec![format!("{left} left"), format!("{right} right")];
    expected.sort();
    assert_eq!(listed, expected);
    assert!(
        stderr(&heads).contains(&format!("the heads branch at {root} root")),
        "{}",
        stderr(&heads)
    );

    let merge = id_of(&ok(&project, &["merge", "-m", "merge heads"]));
    assert_eq!(ok(&project, &["heads"]), format!("{merge} merge heads"));

    // The merge's parents are the heads in apply order, which takes the branch with the
    // smaller id first: that one keeps the merge's column and is drawn lower.
    let (first, second) = if left < right {
        (format!("{left} left"), format!("{right} right"))
    } else {
        (format!("{right} right"), format!("{left} left"))
    };
    assert_eq!(
        ok(&project, &["history"]),
        format!(
            "* {merge} (head, merge) merge heads\n\
             |\\\n\
             | * {second}\n\
             * | {first}\n\
             |/\n\
             * {root} (branch point, root) root"
        )
    );

    let after = ok(&project, &["new", "-m", "after"]);
    let text = std::fs::read_to_string(project.path().join(&after)).unwrap();
    assert!(
        text.contains(&format!("-- devdb:parents  {merge}\n")),
        "{text}"
    );

    let nothing = run(&project, &["merge", "-m", "again"]);
    assert_eq!(nothing.status.code(), Some(1));
    assert!(
        stderr(&nothing).contains("nothing to merge: the migrations have one head"),
        "{}",
        stderr(&nothing)
    );
}

#[test]
fn json_forms_parse() {
    let project = TestProject::new();
    let root = json(&ok(&project, &["new", "-m", "root", "--json"]));
    let root_id = root["id"].as_str().unwrap().to_string();
    assert_eq!(root["parents"], serde_json::json!([]));
    assert_eq!(root["message"], "root");
    assert!(root["path"].as_str().unwrap().ends_with("_root.sql"));
    let a = json(&ok(&project, &["new", "-m", "a", "--json"]));
    assert_eq!(a["parents"], serde_json::json!([root_id]));
    let b = json(&ok(
        &project,
        &["new", "-m", "b", "--parent", &root_id, "--json"],
    ));

    let heads = json(&ok(&project, &["heads", "--json"]));
    assert_eq!(heads["heads"].as_array().unwrap().len(), 2);
    assert_eq!(heads["branch_point"]["id"], root_id.as_str());

    let a_id = a["id"].as_str().unwrap();
    let b_id = b["id"].as_str().unwrap();
    let merge = json(&ok(
        &project,
        &["merge", "-m", "join", b_id, &a_id[..8], "--json"],
    ));
    assert_eq!(merge["parents"], serde_json::json!([b_id, a_id]));

    let history = json(&ok(&project, &["history", "--json"]));
    let entries = history.as_array().unwrap();
    assert_eq!(entries.len(), 4);
    assert_eq!(entries[0]["id"], merge["id"]);
    assert_eq!(entries[0]["is_head"], true);
    assert_eq!(entries[0]["applied"], false);
    assert_eq!(entries[3]["id"], root_id.as_str());
    assert_eq!(entries[3]["children"].as_array().unwrap().len(), 2);
    assert!(entries[3]["path"].as_str().unwrap().ends_with("_root.sql"));
}

#[test]
fn a_broken_file_fails_every_command_naming_file_and_line() {
    let project = TestProject::new().file(
        "migrations/001_users.sql",
        "-- devdb:revision 001\n-- devdb:parnets 000\n-- devdb:up\nCREATE TABLE users (id int);\n",
    );
    for args in [
        &["new", "-m", "x"][..],
        &["merge", "-m", "x"],
        &["heads"],
        &["history"],
        &["history", "--json"],
    ] {
        let output = run(&project, args);
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains("001_users.sql:2:"), "{args:?}: {err}");
        assert!(err.contains("did you mean `parents`?"), "{args:?}: {err}");
        assert!(stdout(&output).is_empty(), "{args:?}");
    }
    let files = std::fs::read_dir(project.path().join("migrations")).unwrap();
    assert_eq!(files.count(), 1, "nothing was written");
}

#[test]
fn empty_project_has_no_heads_and_no_history() {
    let project = TestProject::new();
    assert_eq!(ok(&project, &["heads"]), "");
    assert_eq!(ok(&project, &["history"]), "");
    assert_eq!(
        json(&ok(&project, &["history", "--json"])),
        serde_json::json!([])
    );
}
