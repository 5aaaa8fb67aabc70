//! Property tests: the parser and the splitter take whatever is in a user's folder, so
//! no input may make them panic, and what they return must point back into the input.

use std::path::Path;

use proptest::prelude::*;

use super::file::parse_revision;
use super::split::{file_line_of_position, line_of_offset, split_statements};

/// Text built from the pieces that steer the parser and the lexer, so that random
/// inputs reach their interesting states far more often than arbitrary strings do.
fn fragments() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("-- devdb:revision a1\n".to_string()),
        Just("-- devdb:parents a1 b2\n".to_string()),
        Just("-- devdb:message m\n".to_string()),
        Just("-- devdb:no-transaction\n".to_string()),
        Just("-- devdb:up\n".to_string()),
        Just("-- devdb:down\n".to_string()),
        Just("-- devdb:".to_string()),
        Just("$$".to_string()),
        Just("$t$".to_string()),
        Just("'".to_string()),
        Just("''".to_string()),
        Just("E'\\".to_string()),
        Just("\"".to_string()),
        Just("/*".to_string()),
        Just("*/".to_string()),
        Just("--".to_string()),
        Just(";".to_string()),
        Just("(".to_string()),
        Just(")".to_string()),
        Just("\n".to_string()),
        Just("\r\n".to_string()),
        Just("CREATE FUNCTION f() BEGIN ATOMIC ".to_string()),
        Just("END".to_string()),
        Just("é".to_string()),
        Just("SELECT 1".to_string()),
        "[a-z $;'\"]{0,6}",
    ];
    prop::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
}

fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), fragments()]
}

proptest! {
    #[test]
    fn parse_revision_never_panics(text in any_text()) {
        if let Ok(rev) = parse_revision(Path::new("x.sql"), &text) {
            prop_assert!(!rev.up.trim().is_empty());
            prop_assert!(text.contains(&rev.up));
            prop_assert!(rev.up_line >= 1 && rev.up_line <= text.lines().count().max(1) + 1);
        }
    }

    #[test]
    fn split_statements_never_panics_and_points_into_the_input(sql in any_text()) {
        for statement in split_statements(&sql) {
            prop_assert!(!statement.text.is_empty());
            prop_assert_eq!(
                &sql[statement.offset..statement.offset + statement.text.len()],
                statement.text
            );
            let line = line_of_offset(&sql, statement.offset);
            prop_assert!(line >= 1);
            prop_assert!(file_line_of_position(&sql, statement.offset, 1, 1) == line);
        }
    }

    #[test]
    fn error_positions_never_panic(sql in any_text(), offset in 0usize..200, position in 0usize..400) {
        let line = file_line_of_position(&sql, offset, position, 3);
        prop_assert!(line >= 3 && line <= 3 + sql.matches('\n').count());
    }
}
