use super::*;

fn texts(sql: &str) -> Vec<&str> {
    split_statements(sql).into_iter().map(|s| s.text).collect()
}

#[test]
fn splits_on_semicolons_and_records_offsets() {
    let sql = "CREATE TABLE a (id int);\n  INSERT INTO a VALUES (1);\n";
    let statements = split_statements(sql);
    assert_eq!(
        statements,
        vec![
            Statement {
                text: "CREATE TABLE a (id int)",
                offset: 0
            },
            Statement {
                text: "INSERT INTO a VALUES (1)",
                offset: 27
            },
        ]
    );
    assert_eq!(&sql[27..31], "INSE");
}

#[test]
fn keeps_last_statement_without_semicolon() {
    assert_eq!(
        texts("SELECT 1;\nSELECT 2\n\n"),
        vec!["SELECT 1", "SELECT 2"]
    );
}

#[test]
fn drops_empty_and_comment_only_statements() {
    let sql = ";;\n-- only a comment\n;\n/* block */ ;\nSELECT 1;\n-- trailing comment\n";
    assert_eq!(texts(sql), vec!["SELECT 1"]);
    assert!(split_statements("  \n-- nothing\n/* at all */").is_empty());
}

#[test]
fn leading_comments_are_not_part_of_the_statement() {
    let sql = "-- add a table\n/* why */ CREATE TABLE t ();";
    let statements = split_statements(sql);
    assert_eq!(statements.len(), 1);
    assert_eq!(statements[0].text, "CREATE TABLE t ()");
    assert_eq!(statements[0].offset, sql.find("CREATE").unwrap());
}

#[test]
fn semicolons_in_single_quotes_with_doubled_quotes() {
    let sql = "INSERT INTO t VALUES ('a;b', 'it''s; fine');SELECT 2";
    assert_eq!(
        texts(sql),
        vec!["INSERT INTO t VALUES ('a;b', 'it''s; fine')", "SELECT 2"]
    );
}

#[test]
fn backslash_is_not_an_escape_in_standard_strings() {
    // With standard_conforming_strings, 'C:\' is a complete string.
    assert_eq!(
        texts(r"SELECT 'C:\'; SELECT 2;"),
        vec![r"SELECT 'C:\'", "SELECT 2"]
    );
}

#[test]
fn escape_strings_honour_backslashes() {
    let sql = r"SELECT E'it\'s; still a string', e'\\'; SELECT 2;";
    assert_eq!(
        texts(sql),
        vec![r"SELECT E'it\'s; still a string', e'\\'", "SELECT 2"]
    );
}

#[test]
fn identifier_ending_in_e_is_not_an_escape_string() {
    // `type` is a word, so the following string is an ordinary one.
    assert_eq!(
        texts(r"SELECT type'\'; SELECT 2"),
        vec![r"SELECT type'\'", "SELECT 2"]
    );
}

#[test]
fn semicolons_in_quoted_identifiers() {
    let sql = r#"CREATE TABLE "odd;name" ("col""; x" int); SELECT 1"#;
    assert_eq!(
        texts(sql),
        vec![r#"CREATE TABLE "odd;name" ("col""; x" int)"#, "SELECT 1"]
    );
}

#[test]
fn dollar_quoted_function_bodies() {
    let sql = "CREATE FUNCTION f() RETURNS int AS $$\n  SELECT 1; SELECT 2;\n$$ LANGUAGE sql;\n\
               CREATE FUNCTION g() RETURNS int AS $body$ BEGIN RETURN 1; END; $body$ LANGUAGE plpgsql;";
    let statements = texts(sql);
    assert_eq!(statements.len(), 2);
    assert!(statements[0].ends_with("$$ LANGUAGE sql"), "{statements:?}");
    assert!(
        statements[1].ends_with("$body$ LANGUAGE plpgsql"),
        "{statements:?}"
    );
}

#[test]
fn dollar_tags_must_match_exactly() {
    let sql = "SELECT $a$ x $b$ ; $ $a$; SELECT 2";
    assert_eq!(texts(sql), vec!["SELECT $a$ x $b$ ; $ $a$", "SELECT 2"]);
}

#[test]
fn positional_parameters_and_identifier_dollars_are_not_quotes() {
    let sql = "PREPARE p AS SELECT $1; SELECT a$b$c FROM t; SELECT 1$$";
    assert_eq!(
        texts(sql),
        vec![
            "PREPARE p AS SELECT $1",
            "SELECT a$b$c FROM t",
            "SELECT 1$$"
        ]
    );
}

#[test]
fn do_blocks_stay_whole() {
    let sql = "DO $$\nBEGIN\n  RAISE NOTICE 'x;';\n  PERFORM 1;\nEND\n$$;\nSELECT 1;";
    let statements = split_statements(sql);
    assert_eq!(statements.len(), 2);
    assert!(statements[0].text.starts_with("DO $$"));
    assert!(statements[0].text.ends_with("END\n$$"));
    assert_eq!(statements[1].text, "SELECT 1");
    assert_eq!(line_of_offset(sql, statements[1].offset), 7);
}

#[test]
fn line_comments_hide_semicolons_and_quotes() {
    let sql = "SELECT 1 -- don't; split here\n+ 1;\nSELECT 2;";
    assert_eq!(
        texts(sql),
        vec!["SELECT 1 -- don't; split here\n+ 1", "SELECT 2"]
    );
}

#[test]
fn block_comments_nest() {
    let sql = "SELECT /* outer /* inner; */ still comment; */ 1; SELECT 2";
    assert_eq!(
        texts(sql),
        vec![
            "SELECT /* outer /* inner; */ still comment; */ 1",
            "SELECT 2"
        ]
    );
}

#[test]
fn parentheses_hold_rule_actions_together() {
    let sql = "CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); INSERT INTO b VALUES (2)); SELECT 1";
    assert_eq!(texts(sql).len(), 2);
    assert!(texts(sql)[0].ends_with("VALUES (2))"));
}

#[test]
fn sql_standard_function_bodies_stay_whole() {
    let sql = "CREATE OR REPLACE FUNCTION f(x int) RETURNS int LANGUAGE sql\n\
               BEGIN ATOMIC\n  SELECT CASE WHEN x > 0 THEN 1 ELSE 0 END;\n  SELECT 2;\nEND;\n\
               BEGIN;\nSELECT 3;\nCOMMIT;";
    let statements = texts(sql);
    assert_eq!(statements.len(), 4, "{statements:?}");
    assert!(statements[0].ends_with("SELECT 2;\nEND"));
    assert_eq!(&statements[1..], &["BEGIN", "SELECT 3", "COMMIT"]);
}

#[test]
fn unterminated_quotes_swallow_the_rest() {
    assert_eq!(
        texts("SELECT 'abc; SELECT 2"),
        vec!["SELECT 'abc; SELECT 2"]
    );
    assert_eq!(
        texts("SELECT $$abc; SELECT 2"),
        vec!["SELECT $$abc; SELECT 2"]
    );
    assert_eq!(texts("SELECT 1 /* open; "), vec!["SELECT 1 /* open;"]);
}

#[test]
fn non_ascii_text_is_split_on_char_boundaries() {
    let sql = "INSERT INTO t VALUES ('é;ü'); SELECT 'ñ'";
    assert_eq!(
        texts(sql),
        vec!["INSERT INTO t VALUES ('é;ü')", "SELECT 'ñ'"]
    );
}

#[test]
fn line_of_offset_counts_from_one() {
    let text = "a\nbb\nccc";
    assert_eq!(line_of_offset(text, 0), 1);
    assert_eq!(line_of_offset(text, 1), 1);
    assert_eq!(line_of_offset(text, 2), 2);
    assert_eq!(line_of_offset(text, 5), 3);
    assert_eq!(line_of_offset(text, 1000), 3);
}

#[test]
fn char_positions_are_not_byte_offsets() {
    let text = "éé\nx";
    // Character 4 is `x`: two 2-byte characters and a newline before it.
    assert_eq!(char_position_to_offset(text, 4), 5);
    assert_eq!(char_position_to_offset(text, 1), 0);
    assert_eq!(char_position_to_offset(text, 0), 0);
    assert_eq!(char_position_to_offset(text, 99), text.len());
}

#[test]
fn error_position_maps_to_file_line() {
    // The body starts on line 7 of the file.
    let body = "CREATE TABLE ü (id int);\nSELECT nope;\n";
    let position = body[..body.find("nope").unwrap()].chars().count() + 1;
    assert_eq!(file_line_of_position(body, 0, position, 7), 8);
    assert_eq!(file_line_of_position(body, 0, 1, 7), 7);
}

#[test]
fn error_position_within_one_statement_maps_to_file_line() {
    let body = "SELECT 1;\n\nSELECT\n  nope;\n";
    let statements = split_statements(body);
    let second = statements[1];
    let position = second.text.find("nope").unwrap() + 1;
    assert_eq!(file_line_of_position(body, second.offset, position, 10), 13);
}
