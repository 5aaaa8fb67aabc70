//! Splitting a revision body into single SQL statements, and mapping Postgres error
//! positions back to lines of the revision file.
//!
//! A body is normally sent whole, but a no-transaction revision must be sent one
//! statement at a time: Postgres runs a multi-statement simple query in one implicit
//! transaction, which `CREATE INDEX CONCURRENTLY` refuses. The splitter is a small lexer
//! that knows where a `;` does not end a statement: inside quotes, `E''` strings, quoted
//! identifiers, dollar-quoted bodies, comments, parentheses (`CREATE RULE ... DO (a; b)`)
//! and the `BEGIN ATOMIC ... END` body of a SQL-standard function. It follows psql's own
//! heuristics so that a file psql runs correctly is split the same way.

/// A Postgres error on a SQL file sent whole, with the line of the file it points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlFailure {
    pub line: Option<usize>,
    pub message: String,
    pub detail: Option<String>,
}

impl SqlFailure {
    /// The error Postgres gave for `text`; `None` when it is not a database error.
    pub fn of(text: &str, error: &sqlx::Error) -> Option<SqlFailure> {
        let pg = error
            .as_database_error()?
            .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()?;
        let line = match pg.position() {
            Some(sqlx::postgres::PgErrorPosition::Original(p)) => {
                Some(line_of_offset(text, char_position_to_offset(text, p)))
            }
            _ => None,
        };
        Some(SqlFailure {
            line,
            message: pg.message().to_string(),
            detail: pg.detail().map(str::to_string),
        })
    }

    /// `:12` after a file name, or nothing.
    pub fn at(&self) -> String {
        self.line.map(|l| format!(":{l}")).unwrap_or_default()
    }

    /// The message, with Postgres's detail on a line of its own.
    pub fn describe(&self) -> String {
        match &self.detail {
            Some(d) => format!("{}\nDETAIL: {d}", self.message),
            None => self.message.clone(),
        }
    }
}

/// One statement of a body: its text without the terminating `;` and without the
/// whitespace and comments before it, and where that text starts in the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Statement<'a> {
    pub text: &'a str,
    /// Byte offset of `text` in the input, so an error inside the statement can be
    /// mapped to a line of the file.
    pub offset: usize,
}

/// Splits `sql` into statements on `;`. Statements that are only whitespace and
/// comments are dropped; a last statement without a semicolon is kept.
pub fn split_statements(sql: &str) -> Vec<Statement<'_>> {
    Splitter::new(sql).run()
}

/// The 1-based line of `byte_offset` in `text`; offsets past the end count as the last line.
pub fn line_of_offset(text: &str, byte_offset: usize) -> usize {
    let end = byte_offset.min(text.len());
    1 + text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
}

/// The byte offset of a Postgres error position, which counts characters from 1, not
/// bytes: the two differ as soon as the SQL holds a non-ASCII character.
pub fn char_position_to_offset(text: &str, position: usize) -> usize {
    let index = position.saturating_sub(1);
    text.char_indices()
        .nth(index)
        .map_or(text.len(), |(offset, _)| offset)
}

/// The line of the revision file holding a Postgres error position.
///
/// `position` is the 1-based character position Postgres reports within the SQL it was
/// sent; `statement_offset` is where that SQL starts in `body` (0 when the body was sent
/// whole, [`Statement::offset`] when it was sent statement by statement); `up_line` is
/// the file line of the body's first line ([`super::Revision::up_line`] or `down_line`).
pub fn file_line_of_position(
    body: &str,
    statement_offset: usize,
    position: usize,
    up_line: usize,
) -> usize {
    let start = statement_offset.min(body.len());
    let sent = body.get(start..).unwrap_or("");
    let offset = start + char_position_to_offset(sent, position);
    up_line + line_of_offset(body, offset) - 1
}

struct Splitter<'a> {
    sql: &'a str,
    bytes: &'a [u8],
    pos: usize,
    statements: Vec<Statement<'a>>,
    /// Start of the current statement's first token, once one has been seen.
    start: Option<usize>,
    paren_depth: usize,
    begin_depth: usize,
    /// The first words of the current statement, lowercased, to recognise
    /// `CREATE [OR REPLACE] FUNCTION|PROCEDURE` as psql does.
    leading_words: Vec<String>,
}

impl<'a> Splitter<'a> {
    fn new(sql: &'a str) -> Self {
        Splitter {
            sql,
            bytes: sql.as_bytes(),
            pos: 0,
            statements: Vec::new(),
            start: None,
            paren_depth: 0,
            begin_depth: 0,
            leading_words: Vec::new(),
        }
    }

    fn run(mut self) -> Vec<Statement<'a>> {
        while self.pos < self.bytes.len() {
            let b = self.bytes[self.pos];
            match b {
                b'-' if self.peek(1) == Some(b'-') => self.skip_line_comment(),
                b'/' if self.peek(1) == Some(b'*') => self.skip_block_comment(),
                b';' if self.paren_depth == 0 && self.begin_depth == 0 => {
                    self.finish(self.pos);
                    self.pos += 1;
                }
                _ if b.is_ascii_whitespace() => self.pos += 1,
                _ => {
                    self.start.get_or_insert(self.pos);
                    self.token(b);
                }
            }
        }
        self.finish(self.bytes.len());
        self.statements
    }

    fn peek(&self, ahead: usize) -> Option<u8> {
        self.bytes.get(self.pos + ahead).copied()
    }

    fn finish(&mut self, end: usize) {
        if let Some(start) = self.start.take() {
            let text = self.sql[start..end].trim_end();
            self.statements.push(Statement {
                text,
                offset: start,
            });
        }
        self.paren_depth = 0;
        self.begin_depth = 0;
        self.leading_words.clear();
    }

    fn token(&mut self, b: u8) {
        match b {
            b'\'' => self.skip_quoted(b'\'', false),
            b'"' => self.skip_quoted(b'"', false),
            b'$' => self.dollar(),
            b'(' => {
                self.paren_depth += 1;
                self.pos += 1;
            }
            b')' => {
                self.paren_depth = self.paren_depth.saturating_sub(1);
                self.pos += 1;
            }
            _ if is_ident_start(b) => self.word(),
            b'0'..=b'9' => {
                // Numbers may carry identifier characters (`1e5`, `0x1F`); consuming them
                // here keeps `$` after a digit from being taken as a dollar quote.
                while self.pos < self.bytes.len() && is_ident_char(self.bytes[self.pos]) {
                    self.pos += 1;
                }
            }
            _ => self.pos += 1,
        }
    }

    fn skip_line_comment(&mut self) {
        while self.pos < self.bytes.len() && self.bytes[self.pos] != b'\n' {
            self.pos += 1;
        }
    }

    /// Postgres block comments nest, unlike C's.
    fn skip_block_comment(&mut self) {
        let mut depth = 0usize;
        while self.pos < self.bytes.len() {
            if self.bytes[self.pos] == b'/' && self.peek(1) == Some(b'*') {
                depth += 1;
                self.pos += 2;
            } else if self.bytes[self.pos] == b'*' && self.peek(1) == Some(b'/') {
                depth -= 1;
                self.pos += 2;
                if depth == 0 {
                    return;
                }
            } else {
                self.pos += 1;
            }
        }
    }

    /// Skips a quoted string or identifier starting at the opening quote. A doubled
    /// quote is an escaped quote; in `E''` strings a backslash escapes the next byte.
    fn skip_quoted(&mut self, quote: u8, backslash_escapes: bool) {
        self.pos += 1;
        while self.pos < self.bytes.len() {
            let b = self.bytes[self.pos];
            if backslash_escapes && b == b'\\' {
                self.pos += 2;
            } else if b == quote {
                if self.peek(1) == Some(quote) {
                    self.pos += 2;
                } else {
                    self.pos += 1;
                    return;
                }
            } else {
                self.pos += 1;
            }
        }
        self.pos = self.pos.min(self.bytes.len());
    }

    /// `$tag$ ... $tag$` or `$$ ... $$`; a `$` that does not open a tag (`$1`) is
    /// an ordinary character.
    fn dollar(&mut self) {
        let open_end = match self.dollar_tag_end(self.pos) {
            Some(end) => end,
            None => {
                self.pos += 1;
                return;
            }
        };
        let tag = &self.sql[self.pos..open_end];
        self.pos = match self.sql[open_end..].find(tag) {
            Some(found) => open_end + found + tag.len(),
            None => self.bytes.len(),
        };
    }

    /// The end (exclusive) of a dollar-quote delimiter starting at `at`, if there is one.
    fn dollar_tag_end(&self, at: usize) -> Option<usize> {
        let mut i = at + 1;
        if let Some(&first) = self.bytes.get(i)
            && first != b'$'
            && !is_ident_start(first)
        {
            return None;
        }
        while let Some(&b) = self.bytes.get(i) {
            if b == b'$' {
                return Some(i + 1);
            }
            if !is_ident_char(b) {
                return None;
            }
            i += 1;
        }
        None
    }

    fn word(&mut self) {
        let start = self.pos;
        while self.pos < self.bytes.len() && is_ident_char(self.bytes[self.pos]) {
            self.pos += 1;
        }
        let word = &self.sql[start..self.pos];
        // `E'...'` is a string with C-style escapes, where `\'` does not end it.
        if word.eq_ignore_ascii_case("e") && self.peek(0) == Some(b'\'') {
            self.skip_quoted(b'\'', true);
            return;
        }
        self.track_atomic_body(word);
    }

    /// psql's heuristic for `CREATE FUNCTION ... BEGIN ATOMIC ...; ...; END`: within a
    /// CREATE [OR REPLACE] FUNCTION|PROCEDURE statement, BEGIN opens a block, CASE
    /// nests inside one (it also closes with END) and END closes one.
    fn track_atomic_body(&mut self, word: &str) {
        if self.leading_words.len() < 4 {
            self.leading_words.push(word.to_ascii_lowercase());
        }
        let words: Vec<&str> = self.leading_words.iter().map(String::as_str).collect();
        let is_routine = matches!(
            words.as_slice(),
            ["create", "function" | "procedure", ..]
                | ["create", "or", "replace", "function" | "procedure", ..]
        );
        if !is_routine || self.paren_depth > 0 {
            return;
        }
        if word.eq_ignore_ascii_case("begin") {
            self.begin_depth += 1;
        } else if word.eq_ignore_ascii_case("case") {
            if self.begin_depth > 0 {
                self.begin_depth += 1;
            }
        } else if word.eq_ignore_ascii_case("end") {
            self.begin_depth = self.begin_depth.saturating_sub(1);
        }
    }
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

fn is_ident_char(b: u8) -> bool {
    is_ident_start(b) || b.is_ascii_digit() || b == b'$'
}

#[cfg(test)]
mod tests;
