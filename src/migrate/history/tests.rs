use std::collections::BTreeSet;

use super::*;
use crate::migrate::testing::graph;

fn none() -> BTreeSet<String> {
    BTreeSet::new()
}

fn drawn(spec: &[(&str, &[&str])], applied: &BTreeSet<String>) -> String {
    render_history(&graph(spec), applied).join("\n")
}

#[test]
fn linear_chain_is_one_column_newest_first() {
    let text = drawn(&[("a", &[]), ("b", &["a"]), ("c", &["b"])], &none());
    assert_eq!(
        text,
        "* c (head) add c\n\
         * b add b\n\
         * a (root) add a"
    );
}

#[test]
fn two_heads_show_two_columns_joining_at_the_branch_point() {
    let text = drawn(
        &[
            ("a", &[]),
            ("b", &["a"]),
            ("c", &["b"]),
            ("d", &["a"]),
            ("e", &["d"]),
        ],
        &none(),
    );
    assert_eq!(
        text,
        "* e (head) add e\n\
         * d add d\n\
         | * c (head) add c\n\
         | * b add b\n\
         |/\n\
         * a (branch point, root) add a"
    );
}

#[test]
fn merge_opens_a_column_for_its_second_parent() {
    let text = drawn(
        &[
            ("a", &[]),
            ("b", &["a"]),
            ("c", &["b"]),
            ("d", &["a"]),
            ("e", &["d"]),
            ("m", &["c", "e"]),
            ("n", &["m"]),
        ],
        &none(),
    );
    assert_eq!(
        text,
        "* n (head) add n\n\
         * m (merge) add m\n\
         |\\\n\
         | * e add e\n\
         | * d add d\n\
         * | c add c\n\
         * | b add b\n\
         |/\n\
         * a (branch point, root) add a"
    );
}

#[test]
fn diamond() {
    let text = drawn(
        &[("a", &[]), ("b", &["a"]), ("c", &["a"]), ("d", &["b", "c"])],
        &none(),
    );
    assert_eq!(
        text,
        "* d (head, merge) add d\n\
         |\\\n\
         | * c add c\n\
         * | b add b\n\
         |/\n\
         * a (branch point, root) add a"
    );
}

#[test]
fn two_roots_are_marked_where_each_history_starts() {
    let text = drawn(
        &[("a", &[]), ("b", &["a"]), ("x", &[]), ("y", &["x"])],
        &none(),
    );
    assert_eq!(
        text,
        "* y (head) add y\n\
         * x (root) add x\n\
         * b (head) add b\n\
         * a (root) add a"
    );
}

#[test]
fn merging_two_roots_closes_the_left_column_first() {
    let text = drawn(
        &[("a", &[]), ("b", &["a"]), ("x", &[]), ("m", &["x", "b"])],
        &none(),
    );
    assert_eq!(
        text,
        "* m (head, merge) add m\n\
         |\\\n\
         * | x (root) add x\n\
         \x20/\n\
         * b add b\n\
         * a (root) add a"
    );
}

#[test]
fn a_three_way_merge_and_a_three_way_branch() {
    let text = drawn(
        &[
            ("a", &[]),
            ("b", &["a"]),
            ("c", &["a"]),
            ("d", &["a"]),
            ("m", &["b", "c", "d"]),
        ],
        &none(),
    );
    assert_eq!(
        text,
        "* m (head, merge) add m\n\
         |\\\n\
         |\\ \\\n\
         | | * d add d\n\
         | * | c add c\n\
         * | | b add b\n\
         |/ /\n\
         |/\n\
         * a (branch point, root) add a"
    );
}

#[test]
fn a_head_beside_a_merge_keeps_its_column() {
    let text = drawn(
        &[
            ("k", &[]),
            ("b", &["k"]),
            ("c", &["k"]),
            ("a", &[]),
            ("p", &["b", "a"]),
        ],
        &none(),
    );
    assert_eq!(
        text,
        "* c (head) add c\n\
         | * p (head, merge) add p\n\
         | |\\\n\
         | * | b add b\n\
         |/ /\n\
         * | k (branch point, root) add k\n\
         \x20/\n\
         * a (root) add a"
    );
}

#[test]
fn a_folded_column_passes_under_the_columns_between() {
    assert_eq!(fold_line(&[0, 5, 0], 0, 2), "|_|/");
    assert_eq!(fold_line(&[0, 0, 5], 0, 1), "|/ /");
    assert_eq!(close_line(&[0, 5, 6], 1), "|  /");
    assert_eq!(open_line(&[0, 5, 6], 1), "| |\\ \\");
}

#[test]
fn applied_revisions_are_marked() {
    let applied: BTreeSet<String> = ["a", "b"].iter().map(|s| s.to_string()).collect();
    let text = drawn(&[("a", &[]), ("b", &["a"]), ("c", &["b"])], &applied);
    assert_eq!(
        text,
        "* c (head) add c\n\
         * b (applied) add b\n\
         * a (root, applied) add a"
    );
}

#[test]
fn no_revisions_draw_nothing() {
    assert!(render_history(&graph(&[]), &none()).is_empty());
}

#[test]
fn entries_list_parents_children_and_flags_newest_first() {
    let g = graph(&[("a", &[]), ("b", &["a"]), ("c", &["a"]), ("d", &["b", "c"])]);
    let applied: BTreeSet<String> = ["a".to_string()].into();
    let entries = history_entries(&g, &applied);
    let ids: Vec<&str> = entries.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, vec!["d", "c", "b", "a"]);
    assert_eq!(entries[0].parents, vec!["b", "c"]);
    assert!(entries[0].is_head && !entries[0].applied);
    assert_eq!(entries[3].children, vec!["b", "c"]);
    assert!(entries[3].applied && !entries[3].is_head);
    assert_eq!(entries[3].path, PathBuf::from("migrations/a.sql"));
    let json = serde_json::to_value(&entries[1]).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "id": "c", "message": "add c", "parents": ["a"], "children": ["d"],
            "is_head": false, "applied": false, "path": "migrations/c.sql"
        })
    );
}
