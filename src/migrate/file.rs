//! The revision file format: parsing one `migrations/*.sql` file into a [`Revision`],
//! loading a migrations folder, and writing new revision files.
//!
//! The header (`-- devdb:` directives before `-- devdb:up`), not the file name, is the
//! truth. Parsing is strict because a typo in a header silently changes the graph: an
//! unknown directive, a repeated one or SQL before `-- devdb:up` is an error that names
//! the file and line. Once the up section starts, only the `-- devdb:up` and
//! `-- devdb:down` marker lines are special (the markers are matched by line, even
//! inside a dollar-quoted body); header directives there are reported as misplaced.
//!
//! A line that looks like a marker but is not one (`-- devdb:dwon`, `-- DEVDB:DOWN`,
//! `-- devdb down`) is an error wherever it stands: read as a comment, a misspelt down
//! marker would run the down SQL as part of up.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::split::split_statements;
use crate::error::{Exit, Failure};
use crate::sql_files::{MissingFolder, sql_files};
use crate::suggest::closest;

/// One revision as written in its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revision {
    pub id: String,
    /// Empty for a root, several for a merge.
    pub parents: Vec<String>,
    pub message: String,
    pub no_transaction: bool,
    /// The revisions a squashed baseline stands for.
    pub replaces: Vec<String>,
    /// The up body as written between the markers, trailing whitespace trimmed.
    pub up: String,
    /// `None` when the file has no down section: the revision cannot be reverted.
    /// `Some("")` is an explicit down section with nothing to run.
    pub down: Option<String>,
    pub path: PathBuf,
    /// 1-based file line of the first line of `up`, to map Postgres error positions.
    pub up_line: usize,
    /// 1-based file line of the first line of `down`.
    pub down_line: Option<usize>,
    /// Lowercase hex SHA-256 of `up` exactly as sent.
    pub checksum: String,
}

/// Why a revision file or folder could not be read. Line numbers are 1-based.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("cannot read {}: {source}", path.display())]
    Unreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{}:{line}: no `-- devdb:revision <id>` header; a revision file starts with \
         `-- devdb:revision`, optional `parents`/`message` lines, then `-- devdb:up`",
        path.display()
    )]
    MissingHeader { path: PathBuf, line: usize },
    #[error(
        "{}:{line}: malformed revision id `{id}` in `-- devdb:{directive}`; expected letters, \
         digits and `_`{}",
        path.display(),
        if directive == "revision" { " (exactly one id)" } else { "" }
    )]
    MalformedId {
        path: PathBuf,
        line: usize,
        directive: String,
        id: String,
    },
    #[error(
        "{}:{line}: unknown directive `-- devdb:{name}`{}; expected one of {}",
        path.display(),
        suggestion.as_ref().map(|s| format!(", did you mean `{s}`?")).unwrap_or_default(),
        DIRECTIVES.join(", ")
    )]
    UnknownDirective {
        path: PathBuf,
        line: usize,
        name: String,
        suggestion: Option<String>,
    },
    #[error(
        "{}:{line}: `-- devdb:{name}` appears twice (first on line {first_line}); \
         expected it at most once",
        path.display()
    )]
    DuplicateDirective {
        path: PathBuf,
        line: usize,
        name: String,
        first_line: usize,
    },
    #[error("{}:{line}: `-- devdb:{name}` takes no value, found `{value}`", path.display())]
    UnexpectedValue {
        path: PathBuf,
        line: usize,
        name: String,
        value: String,
    },
    #[error(
        "{}:{line}: SQL before `-- devdb:up`; expected only `-- devdb:` directives, comments \
         and blank lines in the header",
        path.display()
    )]
    SqlBeforeUp { path: PathBuf, line: usize },
    #[error(
        "{}:{line}: `-- devdb:down` before `-- devdb:up`; expected the up section first",
        path.display()
    )]
    DownBeforeUp { path: PathBuf, line: usize },
    #[error(
        "{}:{line}: no `-- devdb:up` section; expected a `-- devdb:up` line followed by the SQL",
        path.display()
    )]
    MissingUp { path: PathBuf, line: usize },
    #[error(
        "{}:{line}: the up section is empty (or still holds the placeholder of `devdb new`); \
         expected SQL after `-- devdb:up`, or a comment saying why there is none",
        path.display()
    )]
    EmptyUp { path: PathBuf, line: usize },
    #[error(
        "{}:{line}: `-- devdb:{name}` after `-- devdb:up`; header directives belong above \
         the up section",
        path.display()
    )]
    DirectiveAfterUp {
        path: PathBuf,
        line: usize,
        name: String,
    },
    #[error(
        "{}:{line}: a second `-- devdb:{name}` marker (first on line {first_line}); expected \
         one up and at most one down section",
        path.display()
    )]
    DuplicateMarker {
        path: PathBuf,
        line: usize,
        name: String,
        first_line: usize,
    },
    #[error(
        "{}:{line}: `{written}` looks like a devdb marker but is not one{}; markers are \
         written in lowercase as `-- devdb:up` and `-- devdb:down`, and a misspelt one would \
         run its SQL in the wrong section",
        path.display(),
        suggestion.as_ref().map(|s| format!(", did you mean `-- devdb:{s}`?")).unwrap_or_default()
    )]
    MisspeltMarker {
        path: PathBuf,
        line: usize,
        written: String,
        suggestion: Option<String>,
    },
    #[error(
        "{}:{line}: the file holds a NUL byte; a revision file is UTF-8 text (was it saved \
         as UTF-16?)",
        path.display()
    )]
    NulByte { path: PathBuf, line: usize },
    #[error(
        "revision {id} is defined twice, in {} and in {}; revision ids must be unique",
        first.display(),
        second.display()
    )]
    DuplicateRevision {
        id: String,
        first: PathBuf,
        second: PathBuf,
    },
}

/// What to do about two files with one revision id, whoever finds them.
pub(crate) const DUPLICATE_ID_HINT: &str = "give one of the files a new `-- devdb:revision` id \
     (and update the revisions that name it as a parent)";

/// A broken file is the user's to fix; the message names the file and line. Two files with
/// one id are a conflict in the graph, like the graph's own check finds.
impl Failure for FileError {
    fn exit(&self) -> Exit {
        match self {
            FileError::DuplicateRevision { .. } => Exit::GraphConflict,
            _ => Exit::Failure,
        }
    }

    fn hint(&self) -> Option<String> {
        Some(match self {
            FileError::Unreadable { .. } => return None,
            FileError::DuplicateRevision { .. } => DUPLICATE_ID_HINT.into(),
            FileError::MisspeltMarker { .. } => "correct the marker on that line; to keep the \
                 line as a plain comment, do not start it with `-- devdb`"
                .into(),
            FileError::NulByte { .. } => "save the file as UTF-8 text, without NUL bytes".into(),
            _ => "a revision file has `-- devdb:revision`, optional `-- devdb:parents` and \
                 `-- devdb:message` lines, then `-- devdb:up` and optionally `-- devdb:down`"
                .into(),
        })
    }
}

const DIRECTIVES: [&str; 7] = [
    "revision",
    "parents",
    "message",
    "no-transaction",
    "replaces",
    "up",
    "down",
];

/// Whether `id` is a valid revision id: non-empty ASCII letters, digits and `_`.
pub fn is_valid_id(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// What a line of a revision file is to the parser.
#[derive(Debug, PartialEq, Eq)]
enum Line<'a> {
    /// `-- devdb:<name> <value>`, split into its parts.
    Directive(&'a str, &'a str),
    /// A comment that looks like a marker without being one: `-- DEVDB:down`,
    /// `-- devdb down`. The suggestion is the directive it was probably meant to be.
    NearMiss(Option<String>),
    /// SQL, a comment or a blank line.
    Other,
}

fn classify(line: &str) -> Line<'_> {
    let Some(rest) = line.trim_start().strip_prefix("--") else {
        return Line::Other;
    };
    let rest = rest.trim_start();
    if let Some(rest) = rest.strip_prefix("devdb:") {
        let rest = rest.trim_start();
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        if end == 0 {
            return Line::NearMiss(None);
        }
        return Line::Directive(&rest[..end], rest[end..].trim());
    }
    let Some(after) = rest
        .get(..5)
        .filter(|prefix| prefix.eq_ignore_ascii_case("devdb"))
        .map(|_| &rest[5..])
    else {
        return Line::Other;
    };
    let Some(separator) = after.chars().next() else {
        return Line::Other;
    };
    if separator.is_alphanumeric() {
        return Line::Other;
    }
    let word: String = after
        .trim_start_matches(|c: char| !c.is_alphanumeric())
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    let suggestion = suggest(&word);
    // `-- DEVDB:anything` is always a mistake; `-- devdb note` is a comment unless its
    // first word is close to a directive.
    if separator == ':' || suggestion.is_some() {
        Line::NearMiss(suggestion)
    } else {
        Line::Other
    }
}

#[derive(Default)]
struct Header {
    revision: Option<String>,
    parents: Vec<String>,
    message: String,
    no_transaction: bool,
    replaces: Vec<String>,
    seen: HashMap<&'static str, usize>,
}

/// Where a body starts and ends in the text, and the line of its marker.
struct Section {
    marker_line: usize,
    start: usize,
    end: usize,
}

/// Which revisions may have an unwritten up section (blank, or `devdb new`'s placeholder).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmptyUp {
    /// Only merges: joining branches is their whole job. Everywhere a revision is
    /// about to be applied, so an unwritten one is caught before it is recorded.
    MergesOnly,
    /// Any revision: the file-side commands (`new`, `merge`, `heads`, `history`) must
    /// work while a revision made by `devdb new` still has only its placeholder.
    Allowed,
}

/// The up section of a new revision, to be replaced by its SQL.
pub(crate) const UP_PLACEHOLDER: &str = "-- The SQL that applies this revision.";

/// Whether an up section was never written: blank, or still `devdb new`'s placeholder. One
/// with only comments of its own is a revision with nothing to run, which is fine (a
/// data fix done by hand elsewhere, a revision kept for its place in the graph).
fn unwritten(up: &str) -> bool {
    let up = up.trim();
    up.is_empty() || (up == UP_PLACEHOLDER && split_statements(up).is_empty())
}

/// Parses one revision file. `path` is only recorded and used in messages. Only a merge
/// may have an up section without SQL (see [`EmptyUp`]).
pub fn parse_revision(path: &Path, text: &str) -> Result<Revision, FileError> {
    parse_revision_with(path, text, EmptyUp::MergesOnly)
}

/// [`parse_revision`], choosing which revisions may have an empty up section.
pub fn parse_revision_with(
    path: &Path,
    text: &str,
    empty_up: EmptyUp,
) -> Result<Revision, FileError> {
    let path_buf = || path.to_path_buf();
    // Editors on Windows may save UTF-8 with a byte order mark.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if let Some(at) = text.find('\0') {
        return Err(FileError::NulByte {
            path: path_buf(),
            line: text[..at].matches('\n').count() + 1,
        });
    }
    let mut header = Header::default();
    let mut up: Option<Section> = None;
    let mut down: Option<Section> = None;
    let mut offset = 0;
    let mut line_no = 0;
    for raw in text.split_inclusive('\n') {
        line_no += 1;
        let line_start = offset;
        offset += raw.len();
        if let Some(section) = down.as_mut().or(up.as_mut()) {
            section.end = offset;
        }
        let line = raw.trim_end();
        let (name, value) = match classify(line) {
            Line::Directive(name, value) => (name, value),
            Line::NearMiss(suggestion) => {
                return Err(FileError::MisspeltMarker {
                    path: path_buf(),
                    line: line_no,
                    written: line.trim().to_string(),
                    suggestion,
                });
            }
            Line::Other => {
                if up.is_none() && !line.is_empty() && !line.trim_start().starts_with("--") {
                    return Err(if header.revision.is_none() {
                        FileError::MissingHeader {
                            path: path_buf(),
                            line: 1,
                        }
                    } else {
                        FileError::SqlBeforeUp {
                            path: path_buf(),
                            line: line_no,
                        }
                    });
                }
                continue;
            }
        };
        if matches!(name, "up" | "down") && !value.is_empty() {
            // SQL written on the marker line would otherwise be dropped without a word.
            return Err(FileError::UnexpectedValue {
                path: path_buf(),
                line: line_no,
                name: name.to_string(),
                value: value.to_string(),
            });
        }
        let marker = Section {
            marker_line: line_no,
            start: offset,
            end: offset,
        };
        let duplicate_of = match (name, &up, &down) {
            ("up", None, _) => {
                up = Some(marker);
                continue;
            }
            ("down", None, _) => {
                return Err(FileError::DownBeforeUp {
                    path: path_buf(),
                    line: line_no,
                });
            }
            ("down", Some(_), None) => {
                // The down marker closes the up body: it belongs to neither.
                if let Some(section) = up.as_mut() {
                    section.end = line_start;
                }
                down = Some(marker);
                continue;
            }
            ("up", Some(first), _) | ("down", _, Some(first)) => first.marker_line,
            (_, Some(_), _) if DIRECTIVES.contains(&name) => {
                return Err(FileError::DirectiveAfterUp {
                    path: path_buf(),
                    line: line_no,
                    name: name.to_string(),
                });
            }
            (_, Some(_), _) => {
                return Err(FileError::MisspeltMarker {
                    path: path_buf(),
                    line: line_no,
                    written: line.trim().to_string(),
                    suggestion: suggest(name),
                });
            }
            (_, None, _) => {
                header.apply(path, line_no, name, value)?;
                continue;
            }
        };
        return Err(FileError::DuplicateMarker {
            path: path_buf(),
            line: line_no,
            name: name.to_string(),
            first_line: duplicate_of,
        });
    }
    let Some(revision) = header.revision else {
        return Err(FileError::MissingHeader {
            path: path_buf(),
            line: 1,
        });
    };
    let Some(up) = up else {
        return Err(FileError::MissingUp {
            path: path_buf(),
            line: line_no.max(1),
        });
    };
    let up_body = text[up.start..up.end].trim_end().to_string();
    let may_be_empty = empty_up == EmptyUp::Allowed || header.parents.len() > 1;
    if !may_be_empty && unwritten(&up_body) {
        return Err(FileError::EmptyUp {
            path: path_buf(),
            line: up.marker_line,
        });
    }
    let checksum = format!("{:x}", Sha256::digest(up_body.as_bytes()));
    Ok(Revision {
        id: revision,
        parents: header.parents,
        message: header.message,
        no_transaction: header.no_transaction,
        replaces: header.replaces,
        up: up_body,
        up_line: up.marker_line + 1,
        down_line: down.as_ref().map(|d| d.marker_line + 1),
        down: down.map(|d| text[d.start..d.end].trim_end().to_string()),
        path: path_buf(),
        checksum,
    })
}

impl Header {
    fn apply(
        &mut self,
        path: &Path,
        line: usize,
        name: &str,
        value: &str,
    ) -> Result<(), FileError> {
        let Some(known) = DIRECTIVES.iter().find(|d| **d == name) else {
            return Err(FileError::UnknownDirective {
                path: path.to_path_buf(),
                line,
                name: name.to_string(),
                suggestion: suggest(name),
            });
        };
        if let Some(&first_line) = self.seen.get(known) {
            return Err(FileError::DuplicateDirective {
                path: path.to_path_buf(),
                line,
                name: name.to_string(),
                first_line,
            });
        }
        self.seen.insert(*known, line);
        let ids = |directive: &str| -> Result<Vec<String>, FileError> {
            value
                .split_whitespace()
                .map(|id| {
                    if is_valid_id(id) {
                        Ok(id.to_string())
                    } else {
                        Err(FileError::MalformedId {
                            path: path.to_path_buf(),
                            line,
                            directive: directive.to_string(),
                            id: id.to_string(),
                        })
                    }
                })
                .collect()
        };
        match name {
            "revision" => {
                let mut found = ids("revision")?;
                if found.len() != 1 {
                    return Err(FileError::MalformedId {
                        path: path.to_path_buf(),
                        line,
                        directive: "revision".to_string(),
                        id: value.to_string(),
                    });
                }
                self.revision = found.pop();
            }
            "parents" => self.parents = ids("parents")?,
            "replaces" => self.replaces = ids("replaces")?,
            "message" => self.message = value.to_string(),
            _ => {
                if !value.is_empty() {
                    return Err(FileError::UnexpectedValue {
                        path: path.to_path_buf(),
                        line,
                        name: name.to_string(),
                        value: value.to_string(),
                    });
                }
                self.no_transaction = true;
            }
        }
        Ok(())
    }
}

/// The known directive closest to a misspelt one, if it is close enough to be a typo.
fn suggest(name: &str) -> Option<String> {
    let name = name.to_ascii_lowercase();
    closest(&name, DIRECTIVES.iter().copied(), |d| (d.len() / 3).max(1)).map(str::to_string)
}

/// Loads every `*.sql` file directly in `dir` (subfolders such as `seeds/` and other
/// files are ignored), in file-name order, and rejects two files with the same id.
pub fn load_dir(dir: &Path) -> Result<Vec<Revision>, FileError> {
    load_dir_with(dir, EmptyUp::MergesOnly)
}

/// [`load_dir`], choosing which revisions may have an empty up section.
pub fn load_dir_with(dir: &Path, empty_up: EmptyUp) -> Result<Vec<Revision>, FileError> {
    let unreadable = |path: &Path| {
        let path = path.to_path_buf();
        move |source| FileError::Unreadable { path, source }
    };
    let paths = sql_files(dir, MissingFolder::IsAnError).map_err(unreadable(dir))?;
    let count = paths.len();
    let files = paths.into_iter().map(|path| {
        let text = std::fs::read_to_string(&path).map_err(unreadable(&path))?;
        Ok((path, text))
    });
    parse_files(files, count, empty_up)
}

/// Parses revision files in the order given (file-name order), as [`load_dir_with`] does
/// with a folder's: the embedded files of `devdb::embed_migrations!` go through here too,
/// so they give the same revisions, checksums and errors.
pub(crate) fn parse_files<T: AsRef<str>>(
    files: impl IntoIterator<Item = Result<(PathBuf, T), FileError>>,
    count: usize,
    empty_up: EmptyUp,
) -> Result<Vec<Revision>, FileError> {
    let mut revisions: Vec<Revision> = Vec::with_capacity(count);
    let mut seen: HashMap<String, usize> = HashMap::new();
    for file in files {
        let (path, text) = file?;
        let revision = parse_revision_with(&path, text.as_ref(), empty_up)?;
        if let Some(&first) = seen.get(&revision.id) {
            return Err(FileError::DuplicateRevision {
                id: revision.id,
                first: revisions[first].path.clone(),
                second: path,
            });
        }
        seen.insert(revision.id.clone(), revisions.len());
        revisions.push(revision);
    }
    Ok(revisions)
}

/// The canonical text of a new revision file. A root's `parents` line is left out;
/// newlines in `message` become spaces because the header is line-based.
pub fn render_revision(
    id: &str,
    parents: &[String],
    message: &str,
    up: &str,
    down: Option<&str>,
) -> String {
    let message = message.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut text = format!("-- devdb:revision {id}\n");
    if !parents.is_empty() {
        let _ = writeln!(text, "-- devdb:parents  {}", parents.join(" "));
    }
    let _ = writeln!(text, "-- devdb:message  {message}");
    let _ = write!(text, "\n-- devdb:up\n{}\n", up.trim_end());
    if let Some(down) = down {
        let _ = write!(text, "\n-- devdb:down\n{}\n", down.trim_end());
    }
    text
}

/// A fresh revision id: 12 random lowercase hex digits, as Alembic does.
#[cfg(feature = "cli")]
pub fn new_revision_id() -> String {
    let bits: u64 = rand::random();
    format!("{:012x}", bits & 0xffff_ffff_ffff)
}

/// `<id>_<slug>.sql`, the slug being the message in lowercase ASCII letters, digits and
/// `_`, at most 50 characters; `<id>.sql` when nothing of the message is left.
pub fn file_name(id: &str, message: &str) -> String {
    let mut slug = String::new();
    for c in message.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('_') {
            slug.push('_');
        }
    }
    slug.truncate(50);
    let slug = slug.trim_end_matches('_');
    if slug.is_empty() {
        format!("{id}.sql")
    } else {
        format!("{id}_{slug}.sql")
    }
}

#[cfg(test)]
mod tests;
