use super::*;

fn parse(text: &str) -> Result<Revision, FileError> {
    parse_revision(Path::new("migrations/x.sql"), text)
}

fn parse_err(text: &str) -> FileError {
    parse(text).expect_err("the file should be rejected")
}

const FULL: &str = "\
-- devdb:revision 3f2a9c1d0b7e
-- devdb:parents  1a2b3c4d5e6f 0000aaaa1111
-- devdb:message  add status column
-- devdb:no-transaction
-- devdb:replaces a b c

-- devdb:up
CREATE INDEX CONCURRENTLY i ON t (status);
CREATE INDEX CONCURRENTLY j ON t (id);

-- devdb:down
DROP INDEX i;
DROP INDEX j;
";

#[test]
fn parses_every_directive_and_both_bodies() {
    let rev = parse(FULL).unwrap();
    assert_eq!(rev.id, "3f2a9c1d0b7e");
    assert_eq!(rev.parents, vec!["1a2b3c4d5e6f", "0000aaaa1111"]);
    assert_eq!(rev.message, "add status column");
    assert!(rev.no_transaction);
    assert_eq!(rev.replaces, vec!["a", "b", "c"]);
    assert_eq!(
        rev.up,
        "CREATE INDEX CONCURRENTLY i ON t (status);\nCREATE INDEX CONCURRENTLY j ON t (id);"
    );
    assert_eq!(rev.down.as_deref(), Some("DROP INDEX i;\nDROP INDEX j;"));
    assert_eq!(rev.up_line, 8);
    assert_eq!(rev.down_line, Some(12));
    assert_eq!(rev.path, PathBuf::from("migrations/x.sql"));
    assert_eq!(
        FULL.lines().nth(rev.up_line - 1).unwrap(),
        rev.up.lines().next().unwrap()
    );
}

#[test]
fn checksum_is_sha256_of_the_up_body() {
    let rev = parse("-- devdb:revision a\n-- devdb:up\nSELECT 1;\n\n").unwrap();
    assert_eq!(rev.up, "SELECT 1;");
    // sha256("SELECT 1;")
    assert_eq!(
        rev.checksum,
        "17db4fd369edb9244b9f91d9aeed145c3d04ad8ba6e95d06247f07a63527d11a"
    );
    assert_eq!(rev.checksum.len(), 64);
    assert_eq!(rev.checksum, format!("{:x}", Sha256::digest(b"SELECT 1;")));
    let edited = parse("-- devdb:revision a\n-- devdb:up\nSELECT 2;\n").unwrap();
    assert_ne!(edited.checksum, rev.checksum);
}

#[test]
fn root_without_parents_and_without_down() {
    let rev =
        parse("-- devdb:revision 001\n-- devdb:message first\n-- devdb:up\nCREATE TABLE t ();\n")
            .unwrap();
    assert!(rev.parents.is_empty());
    assert_eq!(rev.down, None);
    assert_eq!(rev.down_line, None);
    assert!(!rev.no_transaction);
    assert!(rev.replaces.is_empty());
    assert_eq!(rev.up_line, 4);
}

#[test]
fn empty_parents_line_is_a_root() {
    let rev = parse("-- devdb:revision a\n-- devdb:parents\n-- devdb:up\nSELECT 1\n").unwrap();
    assert!(rev.parents.is_empty());
}

#[test]
fn dollar_quoted_bodies_are_kept_verbatim() {
    let body = "CREATE FUNCTION f() RETURNS trigger AS $fn$\nBEGIN\n  -- devdb:message not a directive here\n  NEW.x := 'a;b';\n  RETURN NEW;\nEND\n$fn$ LANGUAGE plpgsql;\nDO $$ BEGIN PERFORM 1; END $$";
    let text = format!("-- devdb:revision a\n\n-- devdb:up\n{body}\n   \n");
    let err = parse_err(&text);
    // Header directives inside a body are reported, even inside dollar quotes.
    assert!(
        matches!(err, FileError::DirectiveAfterUp { line: 6, ref name, .. } if name == "message"),
        "{err:?}"
    );
    let body = body.replace("-- devdb:message", "-- not a directive");
    let text = format!("-- devdb:revision a\n\n-- devdb:up\n{body}\n   \n");
    let rev = parse(&text).unwrap();
    assert_eq!(rev.up, body);
    assert_eq!(rev.up_line, 4);
}

#[test]
fn a_misspelt_marker_in_a_body_is_an_error_with_a_suggestion() {
    // Read as a comment, each of these would run the down SQL as part of up.
    for (written, expected) in [
        ("-- devdb:dwon", Some("down")),
        ("-- devdb:Down", Some("down")),
        ("-- DEVDB:DOWN", Some("down")),
        ("-- Devdb:down", Some("down")),
        ("--devdb:downn", Some("down")),
        ("-- devdb down", Some("down")),
        ("-- devdb-down", Some("down")),
        ("-- devdb:", None),
        ("-- devdb:note keep me", None),
    ] {
        let text = format!(
            "-- devdb:revision a\n-- devdb:up\nCREATE TABLE t ();\n{written}\nDROP TABLE t;\n"
        );
        let err = parse_err(&text);
        assert!(
            matches!(err, FileError::MisspeltMarker { line: 4, ref suggestion, .. }
                if suggestion.as_deref() == expected),
            "{written}: {err:?}"
        );
        let message = err.to_string();
        assert!(message.starts_with("migrations/x.sql:4: "), "{message}");
        assert!(message.contains(written.trim()), "{message}");
        if let Some(s) = expected {
            assert!(
                message.contains(&format!("did you mean `-- devdb:{s}`?")),
                "{message}"
            );
        }
    }
}

#[test]
fn a_misspelt_marker_in_the_header_or_the_down_section_is_an_error_too() {
    let err = parse_err("-- devdb:revision a\n-- DEVDB:parents b\n-- devdb:up\nSELECT 1;\n");
    assert!(
        matches!(err, FileError::MisspeltMarker { line: 2, suggestion: Some(ref s), .. } if s == "parents"),
        "{err:?}"
    );
    let err = parse_err(
        "-- devdb:revision a\n-- devdb:up\nSELECT 1;\n-- devdb:down\nSELECT 2;\n-- devdb:Up\n",
    );
    assert!(
        matches!(err, FileError::MisspeltMarker { line: 6, suggestion: Some(ref s), .. } if s == "up"),
        "{err:?}"
    );
}

#[test]
fn comments_that_only_mention_devdb_stay_comments() {
    let rev = parse(
        "-- devdb:revision a\n-- devdb:up\n-- devdb note: keep me\n-- devdbish\n-- see devdb:down\nSELECT 1;\n",
    )
    .unwrap();
    assert_eq!(
        rev.up,
        "-- devdb note: keep me\n-- devdbish\n-- see devdb:down\nSELECT 1;"
    );
}

#[test]
fn sql_on_a_marker_line_is_an_error_not_dropped() {
    let err = parse_err("-- devdb:revision a\n-- devdb:up CREATE TABLE t ();\nSELECT 1;\n");
    assert!(
        matches!(err, FileError::UnexpectedValue { line: 2, ref name, .. } if name == "up"),
        "{err:?}"
    );
    let err =
        parse_err("-- devdb:revision a\n-- devdb:up\nSELECT 1;\n-- devdb:down DROP TABLE t;\n");
    assert!(
        matches!(err, FileError::UnexpectedValue { line: 4, ref name, .. } if name == "down"),
        "{err:?}"
    );
}

#[test]
fn a_byte_order_mark_is_accepted_and_a_nul_byte_is_an_error() {
    let rev = parse("\u{feff}-- devdb:revision a\n-- devdb:up\nSELECT 1;\n").unwrap();
    assert_eq!(rev.id, "a");
    assert_eq!(rev.up_line, 3);
    let err = parse_err("-- devdb:revision a\n-- devdb:up\nSELECT 1;\0\n");
    assert!(matches!(err, FileError::NulByte { line: 3, .. }), "{err:?}");
    assert!(err.to_string().contains("NUL byte"), "{err}");
}

#[test]
fn crlf_files_parse() {
    let rev = parse("-- devdb:revision a\r\n-- devdb:parents b\r\n-- devdb:up\r\nSELECT 1;\r\n-- devdb:down\r\nSELECT 2;\r\n")
        .unwrap();
    assert_eq!(rev.parents, vec!["b"]);
    assert_eq!(rev.up, "SELECT 1;");
    assert_eq!(rev.down.as_deref(), Some("SELECT 2;"));
    assert_eq!(rev.down_line, Some(6));
}

#[test]
fn empty_down_section_is_reversible_with_nothing_to_run() {
    let rev = parse("-- devdb:revision a\n-- devdb:up\nSELECT 1;\n-- devdb:down\n\n").unwrap();
    assert_eq!(rev.down.as_deref(), Some(""));
    assert_eq!(rev.down_line, Some(5));
}

#[test]
fn missing_header() {
    let err = parse_err("CREATE TABLE t ();\n");
    assert!(
        matches!(err, FileError::MissingHeader { line: 1, .. }),
        "{err:?}"
    );
    let err = parse_err("-- devdb:message x\n-- devdb:up\nSELECT 1;\n");
    assert!(
        matches!(err, FileError::MissingHeader { line: 1, .. }),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with("migrations/x.sql:1: no `-- devdb:revision <id>` header")
    );
    let err = parse_err("");
    assert!(matches!(err, FileError::MissingHeader { .. }), "{err:?}");
}

#[test]
fn malformed_ids() {
    let err = parse_err("-- devdb:revision abc-def\n-- devdb:up\nSELECT 1;\n");
    assert!(
        matches!(err, FileError::MalformedId { line: 1, ref id, .. } if id == "abc-def"),
        "{err:?}"
    );
    assert!(err.to_string().contains("expected letters, digits and `_`"));
    let err = parse_err("-- devdb:revision a b\n-- devdb:up\nSELECT 1;\n");
    assert!(
        matches!(err, FileError::MalformedId { line: 1, ref id, .. } if id == "a b"),
        "{err:?}"
    );
    let err = parse_err("-- devdb:revision\n-- devdb:up\nSELECT 1;\n");
    assert!(
        matches!(err, FileError::MalformedId { line: 1, .. }),
        "{err:?}"
    );
    let err = parse_err("-- devdb:revision a\n-- devdb:parents b, c\n-- devdb:up\nSELECT 1;\n");
    assert!(
        matches!(err, FileError::MalformedId { line: 2, ref id, ref directive, .. } if id == "b," && directive == "parents"),
        "{err:?}"
    );
    let err = parse_err("-- devdb:revision a\n\n-- devdb:replaces x.y\n-- devdb:up\nSELECT 1;\n");
    assert!(
        matches!(err, FileError::MalformedId { line: 3, .. }),
        "{err:?}"
    );
}

#[test]
fn unknown_directive_suggests_the_near_miss() {
    let err = parse_err("-- devdb:revision a\n-- devdb:parnets b\n-- devdb:up\nSELECT 1;\n");
    assert!(
        matches!(err, FileError::UnknownDirective { line: 2, ref name, suggestion: Some(ref s), .. }
            if name == "parnets" && s == "parents"),
        "{err:?}"
    );
    assert!(err.to_string().contains("did you mean `parents`?"), "{err}");
    let err = parse_err("-- devdb:revison a\n-- devdb:up\nSELECT 1;\n");
    assert!(
        matches!(err, FileError::UnknownDirective { line: 1, suggestion: Some(ref s), .. } if s == "revision"),
        "{err:?}"
    );
    let err = parse_err("-- devdb:revision a\n-- devdb:no_transaction\n-- devdb:up\nSELECT 1;\n");
    assert!(
        matches!(err, FileError::UnknownDirective { suggestion: Some(ref s), .. } if s == "no-transaction"),
        "{err:?}"
    );
    let err = parse_err("-- devdb:revision a\n-- devdb:author me\n-- devdb:up\nSELECT 1;\n");
    assert!(
        matches!(
            err,
            FileError::UnknownDirective {
                line: 2,
                suggestion: None,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!err.to_string().contains("did you mean"));
}

#[test]
fn duplicate_directive() {
    let err = parse_err(
        "-- devdb:revision a\n-- devdb:message x\n-- devdb:message y\n-- devdb:up\nSELECT 1;\n",
    );
    assert!(
        matches!(err, FileError::DuplicateDirective { line: 3, first_line: 2, ref name, .. } if name == "message"),
        "{err:?}"
    );
}

#[test]
fn no_transaction_takes_no_value() {
    let err =
        parse_err("-- devdb:revision a\n-- devdb:no-transaction false\n-- devdb:up\nSELECT 1;\n");
    assert!(
        matches!(err, FileError::UnexpectedValue { line: 2, ref value, .. } if value == "false"),
        "{err:?}"
    );
}

#[test]
fn sql_before_up_is_an_error() {
    let err = parse_err("-- devdb:revision a\nCREATE TABLE t ();\n-- devdb:up\nSELECT 1;\n");
    assert!(
        matches!(err, FileError::SqlBeforeUp { line: 2, .. }),
        "{err:?}"
    );
}

#[test]
fn missing_up_section() {
    let err = parse_err("-- devdb:revision a\n-- devdb:message x\n\n");
    assert!(
        matches!(err, FileError::MissingUp { line: 3, .. }),
        "{err:?}"
    );
    let err = parse_err("-- devdb:revision a\n-- devdb:down\nSELECT 1;\n");
    assert!(
        matches!(err, FileError::DownBeforeUp { line: 2, .. }),
        "{err:?}"
    );
}

#[test]
fn empty_up_section() {
    let err = parse_err(
        "-- devdb:revision a\n\n-- devdb:up\n\n-- The SQL that applies this revision.\n-- devdb:down\nSELECT 1;\n",
    );
    assert!(matches!(err, FileError::EmptyUp { line: 3, .. }), "{err:?}");
    let err = parse_err("-- devdb:revision a\n-- devdb:up\n  \n\n-- devdb:down\n");
    assert!(matches!(err, FileError::EmptyUp { line: 2, .. }), "{err:?}");
    let err = parse_err("-- devdb:revision a\n-- devdb:up");
    assert!(matches!(err, FileError::EmptyUp { line: 2, .. }), "{err:?}");
}

#[test]
fn an_up_section_of_comments_only_is_a_revision_with_nothing_to_run() {
    let text = "-- devdb:revision a\n-- devdb:up\n-- nothing: the data was fixed by hand\n\n-- devdb:down\n-- nor here\n";
    let rev = parse_revision(Path::new("a.sql"), text).unwrap();
    assert_eq!(rev.up, "-- nothing: the data was fixed by hand");
    assert_eq!(rev.down.as_deref(), Some("-- nor here"));
}

#[test]
fn empty_up_section_is_fine_for_a_merge_or_when_allowed() {
    let merge = "-- devdb:revision m\n-- devdb:parents a b\n-- devdb:up\n-- merge point\n";
    let rev = parse_revision(Path::new("m.sql"), merge).unwrap();
    assert_eq!(rev.up, "-- merge point");
    let draft = "-- devdb:revision a\n-- devdb:up\n-- The SQL that applies this revision.\n";
    assert!(parse_revision(Path::new("a.sql"), draft).is_err());
    let rev = parse_revision_with(Path::new("a.sql"), draft, EmptyUp::Allowed).unwrap();
    assert_eq!(rev.up, "-- The SQL that applies this revision.");
}

#[test]
fn directive_after_up() {
    let err = parse_err("-- devdb:revision a\n-- devdb:up\nSELECT 1;\n-- devdb:parents b\n");
    assert!(
        matches!(err, FileError::DirectiveAfterUp { line: 4, ref name, .. } if name == "parents"),
        "{err:?}"
    );
    let err = parse_err(
        "-- devdb:revision a\n-- devdb:up\nSELECT 1;\n-- devdb:down\n-- devdb:no-transaction\n",
    );
    assert!(
        matches!(err, FileError::DirectiveAfterUp { line: 5, .. }),
        "{err:?}"
    );
}

#[test]
fn second_up_or_down_marker() {
    let err = parse_err("-- devdb:revision a\n-- devdb:up\nSELECT 1;\n-- devdb:up\nSELECT 2;\n");
    assert!(
        matches!(err, FileError::DuplicateMarker { line: 4, first_line: 2, ref name, .. } if name == "up"),
        "{err:?}"
    );
    let err = parse_err(
        "-- devdb:revision a\n-- devdb:up\nSELECT 1;\n-- devdb:down\nSELECT 2;\n-- devdb:down\n",
    );
    assert!(
        matches!(err, FileError::DuplicateMarker { line: 6, first_line: 4, ref name, .. } if name == "down"),
        "{err:?}"
    );
    let err =
        parse_err("-- devdb:revision a\n-- devdb:up\nSELECT 1;\n-- devdb:down\n-- devdb:up\n");
    assert!(
        matches!(
            err,
            FileError::DuplicateMarker {
                line: 5,
                first_line: 2,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn render_round_trips_through_the_parser() {
    let parents = vec!["p1".to_string(), "p2".to_string()];
    let text = render_revision(
        "abc123",
        &parents,
        "merge\nheads",
        "SELECT 1;\n\n",
        Some("SELECT 2;"),
    );
    assert_eq!(
        text,
        "-- devdb:revision abc123\n-- devdb:parents  p1 p2\n-- devdb:message  merge heads\n\n\
         -- devdb:up\nSELECT 1;\n\n-- devdb:down\nSELECT 2;\n"
    );
    let rev = parse(&text).unwrap();
    assert_eq!(rev.id, "abc123");
    assert_eq!(rev.parents, parents);
    assert_eq!(rev.message, "merge heads");
    assert_eq!(rev.up, "SELECT 1;");
    assert_eq!(rev.down.as_deref(), Some("SELECT 2;"));

    let root = render_revision("r", &[], "first", "SELECT 1;", None);
    assert!(!root.contains("parents"));
    assert_eq!(parse(&root).unwrap().down, None);
}

#[cfg(feature = "cli")]
#[test]
fn new_ids_are_twelve_hex_digits() {
    let a = new_revision_id();
    let b = new_revision_id();
    assert_eq!(a.len(), 12);
    assert!(
        a.bytes()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    );
    assert!(is_valid_id(&a));
    assert_ne!(a, b);
}

#[test]
fn file_names_slug_the_message() {
    assert_eq!(
        file_name("3f2a", "Add status column to data_products!"),
        "3f2a_add_status_column_to_data_products.sql"
    );
    assert_eq!(
        file_name("3f2a", "  Überprüfung -- 2 "),
        "3f2a_berpr_fung_2.sql"
    );
    assert_eq!(file_name("3f2a", "!!!"), "3f2a.sql");
    let long = file_name("id", &"word ".repeat(30));
    let slug = long
        .strip_prefix("id_")
        .unwrap()
        .strip_suffix(".sql")
        .unwrap();
    assert!(slug.len() <= 50 && !slug.ends_with('_'), "{slug}");
}

#[test]
fn a_misspelt_directive_suggests_the_closest_one() {
    assert_eq!(suggest("parnets").as_deref(), Some("parents"));
    assert_eq!(suggest("dwon").as_deref(), Some("down"));
    assert_eq!(suggest("xyz"), None);
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

#[test]
fn load_dir_reads_sql_files_in_name_order() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "b_second.sql",
        "-- devdb:revision b\n-- devdb:parents a\n-- devdb:up\nSELECT 2;\n",
    );
    write(
        dir.path(),
        "a_first.sql",
        "-- devdb:revision a\n-- devdb:up\nSELECT 1;\n",
    );
    write(dir.path(), "README.md", "not sql");
    std::fs::create_dir(dir.path().join("seeds")).unwrap();
    write(
        &dir.path().join("seeds"),
        "seed.sql",
        "INSERT INTO t VALUES (1);",
    );
    let revs = load_dir(dir.path()).unwrap();
    let ids: Vec<&str> = revs.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, vec!["a", "b"]);
    assert_eq!(revs[1].path, dir.path().join("b_second.sql"));
}

#[test]
fn load_dir_rejects_duplicate_ids_naming_both_files() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "1_one.sql",
        "-- devdb:revision same\n-- devdb:up\nSELECT 1;\n",
    );
    write(
        dir.path(),
        "2_two.sql",
        "-- devdb:revision same\n-- devdb:up\nSELECT 2;\n",
    );
    let err = load_dir(dir.path()).unwrap_err();
    match &err {
        FileError::DuplicateRevision { id, first, second } => {
            assert_eq!(id, "same");
            assert_eq!(first, &dir.path().join("1_one.sql"));
            assert_eq!(second, &dir.path().join("2_two.sql"));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(err.to_string().contains("1_one.sql"));
    assert!(err.to_string().contains("2_two.sql"));
}

#[test]
fn load_dir_reports_the_bad_file_and_unreadable_folders() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "bad.sql",
        "-- devdb:revision a\n-- devdb:parnets b\n-- devdb:up\nSELECT 1;\n",
    );
    let err = load_dir(dir.path()).unwrap_err();
    assert!(
        err.to_string().starts_with(&format!(
            "{}:2: unknown directive",
            dir.path().join("bad.sql").display()
        )),
        "{err}"
    );
    let missing = dir.path().join("nope");
    let err = load_dir(&missing).unwrap_err();
    assert!(
        matches!(err, FileError::Unreadable { ref path, .. } if path == &missing),
        "{err:?}"
    );
}

#[test]
fn non_utf8_file_is_unreadable() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bin.sql"), [0xff, 0xfe, 0x00]).unwrap();
    let err = load_dir(dir.path()).unwrap_err();
    assert!(
        matches!(err, FileError::Unreadable { ref path, .. } if path.ends_with("bin.sql")),
        "{err:?}"
    );
}
