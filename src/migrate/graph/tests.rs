use super::*;
use crate::error::Failure;
use crate::migrate::testing::{graph, ids, rev};

fn order(g: &RevisionGraph) -> Vec<String> {
    g.revisions().iter().map(|r| r.id.clone()).collect()
}

/// a <- b <- c
fn chain() -> RevisionGraph {
    graph(&[("c", &["b"]), ("a", &[]), ("b", &["a"])])
}

/// a <- b <- c (left) and a <- d <- e (right), both heads.
fn branches() -> RevisionGraph {
    graph(&[
        ("a", &[]),
        ("e", &["d"]),
        ("b", &["a"]),
        ("d", &["a"]),
        ("c", &["b"]),
    ])
}

/// `branches` joined by merge m, then n on top.
fn merged() -> RevisionGraph {
    graph(&[
        ("a", &[]),
        ("b", &["a"]),
        ("c", &["b"]),
        ("d", &["a"]),
        ("e", &["d"]),
        ("m", &["c", "e"]),
        ("n", &["m"]),
    ])
}

#[test]
fn linear_chain_orders_parents_first_whatever_the_input_order() {
    let g = chain();
    assert_eq!(order(&g), vec!["a", "b", "c"]);
    assert_eq!(ids(&g.heads()), vec!["c"]);
    assert_eq!(ids(&g.roots()), vec!["a"]);
    assert_eq!(g.len(), 3);
    assert!(!g.is_empty());
    assert_eq!(g.get("b").unwrap().parents, vec!["a"]);
    assert!(g.get("z").is_none());
    assert!(g.multiple_heads().is_none());
}

#[test]
fn branches_are_applied_one_after_the_other() {
    let g = branches();
    assert_eq!(order(&g), vec!["a", "b", "c", "d", "e"]);
    assert_eq!(ids(&g.heads()), vec!["c", "e"]);
    assert_eq!(ids(&g.branch_point(&["c", "e"])), vec!["a"]);
}

#[test]
fn merge_comes_after_both_branches() {
    let g = merged();
    assert_eq!(order(&g), vec!["a", "b", "c", "d", "e", "m", "n"]);
    assert_eq!(ids(&g.heads()), vec!["n"]);
    assert_eq!(ids(&g.ancestors("m")), vec!["a", "b", "c", "d", "e"]);
    assert_eq!(ids(&g.descendants("d")), vec!["e", "m", "n"]);
    assert_eq!(ids(&g.descendants("n")), Vec::<String>::new());
    assert!(g.ancestors("zzz").is_empty());
}

#[test]
fn diamond() {
    let g = graph(&[("a", &[]), ("b", &["a"]), ("c", &["a"]), ("d", &["b", "c"])]);
    assert_eq!(order(&g), vec!["a", "b", "c", "d"]);
    assert!(g.is_ancestor("a", "d"));
    assert!(g.is_ancestor("c", "d"));
    assert!(!g.is_ancestor("b", "c"));
    assert!(!g.is_ancestor("d", "a"));
    assert!(!g.is_ancestor("d", "d"));
    assert!(!g.is_ancestor("nope", "d"));
    assert_eq!(ids(&g.branch_point(&["b", "c"])), vec!["a"]);
    // A revision is its own branch point with its descendants.
    assert_eq!(ids(&g.branch_point(&["b", "d"])), vec!["b"]);
}

#[test]
fn criss_cross_merges_have_two_branch_points() {
    let g = graph(&[
        ("a", &[]),
        ("b", &["a"]),
        ("c", &["a"]),
        ("x", &["b", "c"]),
        ("y", &["b", "c"]),
    ]);
    assert_eq!(ids(&g.branch_point(&["x", "y"])), vec!["b", "c"]);
    let heads = g.multiple_heads().unwrap();
    assert_eq!(
        heads.branch_point,
        Some(("c".to_string(), "add c".to_string()))
    );
}

#[test]
fn several_roots_share_no_ancestor() {
    let g = graph(&[("r2", &[]), ("r1", &[]), ("x", &["r2"])]);
    assert_eq!(order(&g), vec!["r1", "r2", "x"]);
    assert_eq!(ids(&g.roots()), vec!["r1", "r2"]);
    assert_eq!(ids(&g.heads()), vec!["r1", "x"]);
    assert!(g.branch_point(&["r1", "x"]).is_empty());
    assert!(g.branch_point(&["r1", "unknown"]).is_empty());
    let err = g.multiple_heads().unwrap();
    assert_eq!(err.branch_point, None);
    assert_eq!(
        err.to_string(),
        "the migrations have two heads, r1 (add r1) and x (add x), which share no ancestor"
    );
}

#[test]
fn apply_order_does_not_depend_on_input_order() {
    let a = branches();
    let mut revs: Vec<Revision> = a.revisions().to_vec();
    revs.reverse();
    let b = RevisionGraph::new(revs).unwrap();
    assert_eq!(order(&a), order(&b));
}

#[test]
fn new_child_of_a_branch_is_applied_with_that_branch() {
    let g = graph(&[
        ("a", &[]),
        ("b", &["a"]),
        ("c", &["b"]),
        ("d", &["a"]),
        ("f", &["b"]),
    ]);
    // b's children c and f come right after b, before the other branch d.
    assert_eq!(order(&g), vec!["a", "b", "c", "f", "d"]);
}

#[test]
fn multiple_heads_message_and_hint() {
    let err = branches().multiple_heads().unwrap();
    assert_eq!(
        err.heads,
        vec![
            ("c".to_string(), "add c".to_string()),
            ("e".to_string(), "add e".to_string())
        ]
    );
    assert_eq!(
        err.to_string(),
        "the migrations have two heads, c (add c) and e (add e), which branch at a"
    );
    assert_eq!(
        err.hint(),
        Some(
            "run `devdb merge -m \"merge heads\"` to join them, or `devdb migrate heads` to \
             apply both"
                .to_string()
        )
    );
}

#[test]
fn three_heads_are_counted_in_words() {
    let mut revs = vec![rev("a", &[]), rev("b", &["a"]), rev("c", &["a"])];
    let mut d = rev("d", &["a"]);
    d.message.clear();
    revs.push(d);
    let g = RevisionGraph::new(revs).unwrap();
    let err = g.multiple_heads().unwrap();
    assert_eq!(
        err.to_string(),
        "the migrations have three heads, b (add b), c (add c) and d, which branch at a"
    );
    assert!(err.hint().unwrap().ends_with("to apply all of them"));
    assert_eq!(count_word(12), "12");
}

#[test]
fn unknown_parent_names_revision_file_and_parent() {
    let err = RevisionGraph::new(vec![rev("a", &[]), rev("b", &["zz"])]).unwrap_err();
    match &err {
        GraphError::UnknownParent { id, path, parent } => {
            assert_eq!(id, "b");
            assert_eq!(path, &PathBuf::from("migrations/b.sql"));
            assert_eq!(parent, "zz");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(
        err.to_string(),
        "revision b (migrations/b.sql) names parent zz, but no migration file defines zz"
    );
}

#[test]
fn cycle_names_its_revisions_in_order() {
    // root <- x, and a -> b -> c -> a, with d hanging off the cycle.
    let err = RevisionGraph::new(vec![
        rev("root", &[]),
        rev("d", &["c"]),
        rev("b", &["a"]),
        rev("c", &["b"]),
        rev("a", &["c", "root"]),
    ])
    .unwrap_err();
    match &err {
        GraphError::Cycle { ids } => assert_eq!(ids, &["a", "b", "c"]),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(
        err.to_string(),
        "the migrations form a cycle: a -> b -> c -> a; a revision cannot be its own ancestor"
    );
}

#[test]
fn self_parent_is_a_cycle() {
    let err = RevisionGraph::new(vec![rev("a", &["a"])]).unwrap_err();
    assert!(
        matches!(err, GraphError::Cycle { ref ids } if ids == &["a"]),
        "{err:?}"
    );
}

#[test]
fn duplicate_ids_are_rejected() {
    let mut second = rev("a", &[]);
    second.path = PathBuf::from("migrations/other.sql");
    let err = RevisionGraph::new(vec![rev("a", &[]), second]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "revision a is defined twice, in migrations/a.sql and in migrations/other.sql; \
         revision ids must be unique"
    );
}

#[test]
fn repeated_parent_counts_once() {
    let g = graph(&[("a", &[]), ("b", &["a", "a"])]);
    assert_eq!(order(&g), vec!["a", "b"]);
    assert_eq!(g.children_of(0), &[1]);
}

#[test]
fn resolve_exact_and_unique_prefix() {
    let g = graph(&[
        ("3f2a9c1d0b7e", &[]),
        ("3f2b00000000", &["3f2a9c1d0b7e"]),
        ("001", &["3f2b00000000"]),
        ("0011", &["001"]),
    ]);
    assert_eq!(g.resolve("3f2a").unwrap().id, "3f2a9c1d0b7e");
    assert_eq!(g.resolve("3f2b00000000").unwrap().id, "3f2b00000000");
    // An exact id wins over being a prefix of a longer one.
    assert_eq!(g.resolve("001").unwrap().id, "001");
    let err = g.resolve("3f2").unwrap_err();
    match &err {
        GraphError::AmbiguousRevision { prefix, candidates } => {
            assert_eq!(prefix, "3f2");
            assert_eq!(candidates, &["3f2a9c1d0b7e", "3f2b00000000"]);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(
        err.to_string(),
        "revision `3f2` is ambiguous: it is a prefix of 3f2a9c1d0b7e, 3f2b00000000; give more characters"
    );
    let err = g.resolve("beef").unwrap_err();
    assert!(
        matches!(err, GraphError::UnknownRevision { ref id } if id == "beef"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "no revision matches `beef` in the migration files"
    );
    assert!(matches!(
        g.resolve(""),
        Err(GraphError::UnknownRevision { .. })
    ));
}

#[test]
fn empty_graph() {
    let g = RevisionGraph::new(Vec::new()).unwrap();
    assert!(g.is_empty());
    assert!(g.heads().is_empty());
    assert!(g.multiple_heads().is_none());
    assert!(g.branch_point::<&str>(&[]).is_empty());
}
