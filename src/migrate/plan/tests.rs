use super::*;
use crate::migrate::testing::{graph, ids, rev};

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

fn target(text: &str) -> Target {
    text.parse().unwrap()
}

/// a <- b <- c
fn chain() -> RevisionGraph {
    graph(&[("a", &[]), ("b", &["a"]), ("c", &["b"])])
}

/// a <- b <- c and a <- d <- e: two heads, c and e.
fn branches() -> RevisionGraph {
    graph(&[
        ("a", &[]),
        ("b", &["a"]),
        ("c", &["b"]),
        ("d", &["a"]),
        ("e", &["d"]),
    ])
}

/// `branches` joined by merge m.
fn merged() -> RevisionGraph {
    graph(&[
        ("a", &[]),
        ("b", &["a"]),
        ("c", &["b"]),
        ("d", &["a"]),
        ("e", &["d"]),
        ("m", &["c", "e"]),
    ])
}

#[test]
fn parses_every_target_form() {
    assert_eq!(target("head"), Target::Head);
    assert_eq!(target("heads"), Target::Heads);
    assert_eq!(target("base"), Target::Base);
    assert_eq!(target("+2"), Target::Relative(2));
    assert_eq!(target("-1"), Target::Relative(-1));
    assert_eq!(target("3f2a"), Target::Revision("3f2a".to_string()));
    assert_eq!(target("001"), Target::Revision("001".to_string()));
    for bad in [
        "",
        "+",
        "-",
        "+0",
        "-0",
        "+x",
        "+1.5",
        "a-b",
        "HEAD~1",
        "+99999999999999999999",
    ] {
        let err = bad.parse::<Target>().unwrap_err();
        assert!(
            matches!(err, PlanError::InvalidTarget { ref text } if text == bad),
            "{bad}: {err:?}"
        );
    }
    assert_eq!(
        "a-b".parse::<Target>().unwrap_err().to_string(),
        "`a-b` is not a migration target; expected head, heads, base, +N, -N or a revision id"
    );
}

#[test]
fn targets_display_as_typed() {
    for text in ["head", "heads", "base", "+2", "-1", "3f2a"] {
        assert_eq!(target(text).to_string(), text);
    }
}

#[test]
fn upgrade_from_empty_to_head() {
    let g = chain();
    let plan = plan_upgrade(&g, &set(&[]), &Target::Head).unwrap();
    assert_eq!(ids(&plan), vec!["a", "b", "c"]);
}

#[test]
fn upgrade_from_partial_applies_only_the_rest() {
    let g = merged();
    let plan = plan_upgrade(&g, &set(&["a", "b", "c"]), &Target::Head).unwrap();
    assert_eq!(ids(&plan), vec!["d", "e", "m"]);
    assert!(
        plan_upgrade(&g, &set(&["a", "b", "c", "d", "e", "m"]), &Target::Head)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn upgrade_to_head_refuses_multiple_heads() {
    let g = branches();
    let err = plan_upgrade(&g, &set(&["a"]), &Target::Head).unwrap_err();
    match &err {
        PlanError::MultipleHeads(heads) => {
            assert_eq!(heads.heads.len(), 2);
            assert_eq!(heads.branch_point.as_ref().map(|b| b.0.as_str()), Some("a"));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(
        err.to_string(),
        "the migrations have two heads, c (add c) and e (add e), which branch at a"
    );
}

#[test]
fn upgrade_to_heads_applies_every_branch() {
    let g = branches();
    let plan = plan_upgrade(&g, &set(&["a", "d"]), &Target::Heads).unwrap();
    assert_eq!(ids(&plan), vec!["b", "c", "e"]);
}

#[test]
fn upgrade_to_a_revision_applies_its_missing_ancestors() {
    let g = merged();
    let plan = plan_upgrade(&g, &set(&["a", "b"]), &target("e")).unwrap();
    assert_eq!(ids(&plan), vec!["d", "e"]);
    // Already past the target: nothing to do.
    assert!(
        plan_upgrade(&g, &set(&["a", "b"]), &target("a"))
            .unwrap()
            .is_empty()
    );
    let err = plan_upgrade(&g, &set(&[]), &target("zz")).unwrap_err();
    assert!(
        matches!(err, PlanError::Graph(GraphError::UnknownRevision { ref id }) if id == "zz"),
        "{err:?}"
    );
}

#[test]
fn upgrade_to_a_prefix() {
    let g = graph(&[("3f2a9c1d0b7e", &[]), ("3f2b00000000", &["3f2a9c1d0b7e"])]);
    let plan = plan_upgrade(&g, &set(&[]), &target("3f2b")).unwrap();
    assert_eq!(ids(&plan), vec!["3f2a9c1d0b7e", "3f2b00000000"]);
    let err = plan_upgrade(&g, &set(&[]), &target("3f2")).unwrap_err();
    assert!(
        matches!(err, PlanError::Graph(GraphError::AmbiguousRevision { .. })),
        "{err:?}"
    );
}

#[test]
fn upgrade_relative_steps_along_apply_order() {
    let g = chain();
    assert_eq!(
        ids(&plan_upgrade(&g, &set(&[]), &target("+2")).unwrap()),
        vec!["a", "b"]
    );
    assert_eq!(
        ids(&plan_upgrade(&g, &set(&["a"]), &target("+1")).unwrap()),
        vec!["b"]
    );
    let err = plan_upgrade(&g, &set(&["a"]), &target("+3")).unwrap_err();
    assert!(
        matches!(
            err,
            PlanError::NotEnoughPending {
                requested: 3,
                available: 2
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "cannot apply 3 revisions: only 2 are pending"
    );
}

#[test]
fn upgrade_relative_works_with_several_heads() {
    let g = branches();
    let plan = plan_upgrade(&g, &set(&["a", "b"]), &target("+2")).unwrap();
    assert_eq!(ids(&plan), vec!["c", "d"]);
}

#[test]
fn upgrade_refuses_downgrade_targets() {
    let g = chain();
    for text in ["base", "-1"] {
        let err = plan_upgrade(&g, &set(&["a"]), &target(text)).unwrap_err();
        assert!(
            matches!(
                err,
                PlanError::WrongDirection {
                    command: "downgrade",
                    ..
                }
            ),
            "{err:?}"
        );
    }
    let err = plan_upgrade(&g, &set(&["a"]), &Target::Base).unwrap_err();
    assert_eq!(err.to_string(), "`base` is a downgrade target");
}

#[test]
fn downgrade_to_base_reverts_everything_newest_first() {
    let g = merged();
    let applied = set(&["a", "b", "c", "d", "e", "m"]);
    let plan = plan_downgrade(&g, &applied, &Target::Base).unwrap();
    assert_eq!(ids(&plan), vec!["m", "e", "d", "c", "b", "a"]);
}

#[test]
fn downgrade_relative() {
    let g = chain();
    let applied = set(&["a", "b", "c"]);
    assert_eq!(
        ids(&plan_downgrade(&g, &applied, &target("-1")).unwrap()),
        vec!["c"]
    );
    assert_eq!(
        ids(&plan_downgrade(&g, &applied, &target("-2")).unwrap()),
        vec!["c", "b"]
    );
    let err = plan_downgrade(&g, &set(&["a"]), &target("-2")).unwrap_err();
    assert!(
        matches!(
            err,
            PlanError::NotEnoughApplied {
                requested: 2,
                available: 1
            }
        ),
        "{err:?}"
    );
}

#[test]
fn downgrade_to_a_revision_reverts_only_its_descendants() {
    let g = merged();
    let applied = set(&["a", "b", "c", "d", "e", "m"]);
    let plan = plan_downgrade(&g, &applied, &target("d")).unwrap();
    assert_eq!(ids(&plan), vec!["m", "e"]);
    // Two applied heads: downgrading to b leaves the other branch alone.
    let g = branches();
    let plan = plan_downgrade(&g, &set(&["a", "b", "c", "d", "e"]), &target("b")).unwrap();
    assert_eq!(ids(&plan), vec!["c"]);
}

#[test]
fn downgrade_to_an_unapplied_revision_is_refused() {
    let g = chain();
    let err = plan_downgrade(&g, &set(&["a"]), &target("c")).unwrap_err();
    assert!(
        matches!(err, PlanError::NotApplied { ref id } if id == "c"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "cannot downgrade to c: it is not applied to this database"
    );
}

#[test]
fn downgrade_refuses_upgrade_targets() {
    let g = chain();
    for text in ["head", "heads", "+1"] {
        let err = plan_downgrade(&g, &set(&["a"]), &target(text)).unwrap_err();
        assert!(
            matches!(
                err,
                PlanError::WrongDirection {
                    command: "migrate",
                    ..
                }
            ),
            "{text}: {err:?}"
        );
    }
    let err = plan_downgrade(&g, &set(&["a"]), &target("+1")).unwrap_err();
    assert_eq!(err.to_string(), "`+1` is an upgrade target");
}

#[test]
fn irreversible_revisions_are_all_named_before_anything_runs() {
    let mut revs = vec![
        rev("a", &[]),
        rev("b", &["a"]),
        rev("c", &["b"]),
        rev("d", &["c"]),
    ];
    revs[1].down = None;
    revs[2].down = None;
    let g = RevisionGraph::new(revs).unwrap();
    let applied = set(&["a", "b", "c", "d"]);
    let err = plan_downgrade(&g, &applied, &Target::Base).unwrap_err();
    match &err {
        PlanError::Irreversible { ids } => assert_eq!(
            ids,
            &[
                ("c".to_string(), PathBuf::from("migrations/c.sql")),
                ("b".to_string(), PathBuf::from("migrations/b.sql")),
            ]
        ),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(
        err.to_string(),
        "cannot downgrade: these revisions have no `-- devdb:down` section, so nothing was \
         reverted: c (migrations/c.sql), b (migrations/b.sql)"
    );
    // Reverting only d is fine.
    assert_eq!(
        ids(&plan_downgrade(&g, &applied, &target("-1")).unwrap()),
        vec!["d"]
    );
}

#[test]
fn current_is_the_applied_revisions_without_applied_descendants() {
    let g = merged();
    assert!(current(&g, &set(&[])).is_empty());
    assert_eq!(current(&g, &set(&["a", "b"])), vec!["b"]);
    assert_eq!(current(&g, &set(&["a", "b", "c", "d"])), vec!["c", "d"]);
    assert_eq!(
        current(&g, &set(&["a", "b", "c", "d", "e", "m"])),
        vec!["m"]
    );
    // A stamped, gappy set still reports the tips, not the revisions below them.
    assert_eq!(current(&g, &set(&["a", "m", "ghost"])), vec!["m"]);
}

#[test]
fn unknown_applied_lists_ids_without_files() {
    let g = chain();
    assert_eq!(
        unknown_applied(&g, &set(&["a", "zz", "old"])),
        vec!["old", "zz"]
    );
    assert!(unknown_applied(&g, &set(&["a", "b"])).is_empty());
    // Unknown ids do not disturb planning.
    let plan = plan_upgrade(&g, &set(&["a", "zz"]), &Target::Head).unwrap();
    assert_eq!(ids(&plan), vec!["b", "c"]);
}

#[test]
fn stamp_sets() {
    let g = branches();
    let applied = set(&["a", "b", "zz"]);
    assert_eq!(
        stamp_set(&g, &applied, &target("e")).unwrap(),
        set(&["a", "d", "e"])
    );
    assert_eq!(
        stamp_set(&g, &applied, &Target::Heads).unwrap(),
        set(&["a", "b", "c", "d", "e"])
    );
    assert_eq!(stamp_set(&g, &applied, &Target::Base).unwrap(), set(&[]));
    assert_eq!(
        stamp_set(&g, &applied, &target("+1")).unwrap(),
        set(&["a", "b", "c", "zz"])
    );
    assert_eq!(
        stamp_set(&g, &applied, &target("-1")).unwrap(),
        set(&["a", "zz"])
    );
    assert!(matches!(
        stamp_set(&g, &applied, &Target::Head),
        Err(PlanError::MultipleHeads(_))
    ));
    let chain = chain();
    assert_eq!(
        stamp_set(&chain, &set(&[]), &Target::Head).unwrap(),
        set(&["a", "b", "c"])
    );
}

#[test]
fn stamping_back_needs_no_down_sections() {
    let mut revs = vec![rev("a", &[]), rev("b", &["a"])];
    revs[1].down = None;
    let g = RevisionGraph::new(revs).unwrap();
    assert_eq!(
        stamp_set(&g, &set(&["a", "b"]), &target("-1")).unwrap(),
        set(&["a"])
    );
}

#[test]
fn empty_graph_plans_nothing() {
    let g = RevisionGraph::new(Vec::new()).unwrap();
    assert!(
        plan_upgrade(&g, &set(&[]), &Target::Head)
            .unwrap()
            .is_empty()
    );
    assert!(
        plan_downgrade(&g, &set(&[]), &Target::Base)
            .unwrap()
            .is_empty()
    );
    assert!(stamp_set(&g, &set(&[]), &Target::Head).unwrap().is_empty());
}

/// base replaces a <- b <- c; d builds on base.
fn squashed() -> RevisionGraph {
    let mut base = rev("base", &[]);
    base.replaces = vec!["a".into(), "b".into(), "c".into()];
    RevisionGraph::new(vec![base, rev("d", &["base"])]).expect("a sound graph")
}

#[test]
fn a_database_past_the_squashed_chain_reaches_its_baseline_without_running_it() {
    let g = squashed();
    let old = set(&["a", "b", "c"]);
    assert_eq!(ids(&reached_baselines(&g, &old).unwrap()), ["base"]);
    // What crate::migrate::AppliedState counts as applied.
    let effective = set(&["a", "b", "c", "base"]);
    assert_eq!(
        ids(&plan_upgrade(&g, &effective, &Target::Head).unwrap()),
        ["d"]
    );
    assert_eq!(current(&g, &effective), ["base"]);
    // Replaced revisions are known, not stray records.
    assert!(unknown_applied(&g, &old).is_empty());
    assert_eq!(unknown_applied(&g, &set(&["a", "zz"])), ["zz"]);
}

#[test]
fn a_new_database_applies_the_baseline_and_a_recorded_one_is_not_reached_again() {
    let g = squashed();
    assert!(reached_baselines(&g, &set(&[])).unwrap().is_empty());
    assert_eq!(
        ids(&plan_upgrade(&g, &set(&[]), &Target::Head).unwrap()),
        ["base", "d"]
    );
    assert!(
        reached_baselines(&g, &set(&["a", "b", "c", "base"]))
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_database_partway_through_the_squashed_chain_is_refused() {
    let g = squashed();
    let error = reached_baselines(&g, &set(&["a", "b"])).unwrap_err();
    assert_eq!(
        error.to_string(),
        "the database applied only part of the revisions that baseline base replaces (it lacks c), so it can neither be recorded at base nor apply it"
    );
    assert!(reached_baselines(&g, &set(&["a"])).is_err());
}
