use super::*;
use crate::error::Failure;
use crate::migrate::file::{is_valid_id, load_dir, parse_revision, parse_revision_with};

/// A revision just written, read as the file-side commands read it.
fn read(path: &Path) -> crate::migrate::Revision {
    let text = std::fs::read_to_string(path).unwrap();
    parse_revision_with(path, &text, EmptyUp::Allowed).unwrap()
}

#[test]
fn first_revision_is_a_root_in_a_new_folder_and_the_next_sits_on_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("migrations");
    let first = new_revision(&dir, "Create users!", None).unwrap();
    let root = read(&first);
    assert_eq!(root.id.len(), 12);
    assert!(is_valid_id(&root.id));
    assert!(root.parents.is_empty());
    assert_eq!(root.message, "Create users!");
    assert_eq!(
        first.file_name().unwrap().to_str().unwrap(),
        format!("{}_create_users.sql", root.id)
    );
    assert_eq!(root.up, UP_PLACEHOLDER);
    assert_eq!(root.down.as_deref(), Some(DOWN_PLACEHOLDER));
    // An unwritten revision cannot be applied.
    assert!(matches!(load_dir(&dir), Err(FileError::EmptyUp { .. })));
    let second = read(&new_revision(&dir, "add email", None).unwrap());
    assert_eq!(second.parents, vec![root.id.clone()]);
}

#[test]
fn several_heads_need_a_parent_or_a_merge() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let root = read(&new_revision(dir, "root", None).unwrap()).id;
    let left = read(&new_revision(dir, "left", None).unwrap()).id;
    let right = read(&new_revision(dir, "right", Some(vec![root[..6].to_string()])).unwrap());
    assert_eq!(right.parents, vec![root.clone()]);
    let err = new_revision(dir, "more", None).unwrap_err();
    assert!(matches!(err, AuthorError::MultipleHeads(_)), "{err:?}");
    let text = err.to_string();
    assert!(text.contains(&format!("{left} (left)")), "{text}");
    assert!(text.contains(&format!("{} (right)", right.id)), "{text}");
    assert!(err.hint().unwrap().contains("devdb merge"));

    let merge_path = merge_heads(dir, "merge heads", Vec::new()).unwrap();
    let merge = read(&merge_path);
    let mut parents = merge.parents.clone();
    parents.sort();
    let mut expected = vec![left.clone(), right.id.clone()];
    expected.sort();
    assert_eq!(parents, expected);
    // A merge is valid as written, even for `migrate`'s strict reading.
    let text = std::fs::read_to_string(&merge_path).unwrap();
    assert_eq!(
        parse_revision(&merge_path, &text).unwrap().down.as_deref(),
        Some("")
    );
    let after = read(&new_revision(dir, "after", None).unwrap());
    assert_eq!(after.parents, vec![merge.id]);
}

#[test]
fn merging_needs_two_heads_that_are_not_related() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let err = merge_heads(dir, "m", Vec::new()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "nothing to merge: the migrations have no revisions"
    );
    let root = read(&new_revision(dir, "root", None).unwrap()).id;
    let err = merge_heads(dir, "m", Vec::new()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "nothing to merge: the migrations have one head"
    );
    let child = read(&new_revision(dir, "child", None).unwrap()).id;
    let err = merge_heads(dir, "m", vec![root.clone(), child.clone()]).unwrap_err();
    assert!(
        matches!(err, AuthorError::AlreadyAncestor { .. }),
        "{err:?}"
    );
    let err = merge_heads(dir, "m", vec![child.clone(), child.clone()]).unwrap_err();
    assert!(matches!(err, AuthorError::MergeNeedsTwo { .. }), "{err:?}");
    let err = merge_heads(dir, "m", vec!["zzz".into(), child]).unwrap_err();
    assert!(
        matches!(err, AuthorError::Graph(GraphError::UnknownRevision { .. })),
        "{err:?}"
    );
}

#[test]
fn a_broken_file_stops_authoring() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("a.sql"),
        "-- devdb:revision a\n-- devdb:parnets b\n-- devdb:up\nSELECT 1;\n",
    )
    .unwrap();
    let err = new_revision(tmp.path(), "x", None).unwrap_err();
    assert!(
        matches!(
            err,
            AuthorError::File(FileError::UnknownDirective { line: 2, .. })
        ),
        "{err:?}"
    );
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1);
}
