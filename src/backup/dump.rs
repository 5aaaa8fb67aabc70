//! What a `pg_dump -Fc` archive says about the database it holds, read from the archive's
//! own header and table of contents (the layout of `pg_backup_archiver.c`): its name, the
//! `CREATE DATABASE` statement with its encoding and locale, and the database-level
//! properties (settings, comment, grants) that `pg_restore --create` would apply.
//!
//! A restore trusts this rather than the manifest's `database` field, which is plain text
//! anyone can edit; the dump itself is covered by the manifest's checksum.

use crate::error::Failure;
use std::io::{BufReader, Read};
use std::path::Path;

/// The database-level part of a custom-format archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DumpDatabase {
    /// The name of the database that was dumped.
    pub name: String,
    /// The `CREATE DATABASE` statement of the archive, naming [`Self::name`].
    pub create: Option<String>,
    /// Statements about the database itself (`ALTER DATABASE ... SET`, `COMMENT ON
    /// DATABASE`, grants), in archive order, naming [`Self::name`].
    pub properties: Vec<String>,
}

impl DumpDatabase {
    /// The `CREATE DATABASE` statement with the database renamed to `quoted` (an already
    /// quoted identifier); `None` when the archive has none or it does not start as
    /// `pg_dump` writes it.
    pub(crate) fn create_as(&self, quoted: &str) -> Option<String> {
        let create = self.create.as_deref()?;
        let rest = create.strip_prefix("CREATE DATABASE ")?;
        let rest = [fmt_id(&self.name), quote(&self.name)]
            .iter()
            .find_map(|name| rest.strip_prefix(name.as_str()))?;
        (rest.is_empty() || rest.starts_with(' ') || rest.starts_with(';'))
            .then(|| format!("CREATE DATABASE {quoted}{rest}"))
    }
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum DumpError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a pg_dump custom-format archive: {reason}")]
    Format { path: String, reason: String },
}

impl Failure for DumpError {
    fn hint(&self) -> Option<String> {
        Some(RESTORE_NOTHING_CHANGED.into())
    }
}

/// What to do about a backup that cannot be restored, found before anything changed.
pub(crate) const RESTORE_NOTHING_CHANGED: &str = "nothing was changed; pick another backup \
     (`devdb backup list --verify` checks them all)";

/// Reads the header and table of contents of the archive at `path` (only the start of the
/// file: the data that follows is not read).
pub(crate) fn read_dump_database(path: &Path) -> Result<DumpDatabase, DumpError> {
    let shown = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|source| DumpError::Io {
        path: shown.clone(),
        source,
    })?;
    let mut reader = Archive::new(BufReader::new(file));
    parse(&mut reader).map_err(|e| match e {
        ParseError::Io(source) if source.kind() != std::io::ErrorKind::UnexpectedEof => {
            DumpError::Io {
                path: shown,
                source,
            }
        }
        ParseError::Io(_) => DumpError::Format {
            path: shown,
            reason: "it ends inside its table of contents".into(),
        },
        ParseError::Format(reason) => DumpError::Format {
            path: shown,
            reason,
        },
    })
}

enum ParseError {
    Io(std::io::Error),
    Format(String),
}

impl From<std::io::Error> for ParseError {
    fn from(e: std::io::Error) -> Self {
        ParseError::Io(e)
    }
}

fn bad(reason: impl Into<String>) -> ParseError {
    ParseError::Format(reason.into())
}

/// `MAKE_ARCHIVE_VERSION` of pg_dump.
const fn version(major: u8, minor: u8) -> u32 {
    (major as u32) << 16 | (minor as u32) << 8
}

/// The archive versions this reader knows (1.12, pg_dump of Postgres 9.0, to 1.16, which
/// pg_dump of Postgres 17 to 19 writes).
const OLDEST: u32 = version(1, 12);
const NEWEST: u32 = version(1, 16);
/// `archCustom` in pg_dump's format enum.
const CUSTOM_FORMAT: u8 = 1;
/// Sanity bounds for a hostile or damaged file.
const MAX_STRING: i64 = 64 << 20;
const MAX_ENTRIES: i64 = 10_000_000;

struct Archive<R> {
    reader: R,
    int_size: u8,
    version: u32,
}

impl<R: Read> Archive<R> {
    fn new(reader: R) -> Self {
        Archive {
            reader,
            int_size: 4,
            version: NEWEST,
        }
    }

    fn byte(&mut self) -> Result<u8, ParseError> {
        let mut b = [0u8; 1];
        self.reader.read_exact(&mut b)?;
        Ok(b[0])
    }

    /// `ReadInt`: a sign byte, then `int_size` bytes, least significant first.
    fn int(&mut self) -> Result<i64, ParseError> {
        let negative = self.byte()? != 0;
        let mut value: i64 = 0;
        for shift in 0..self.int_size {
            let b = self.byte()? as i64;
            if shift < 8 {
                value |= b << (8 * shift as u32);
            }
        }
        if negative {
            value
                .checked_neg()
                .ok_or_else(|| bad(format!("an integer out of range ({value})")))
        } else {
            Ok(value)
        }
    }

    /// `ReadStr`: a length (-1 for NULL), then that many bytes.
    fn string(&mut self) -> Result<Option<String>, ParseError> {
        let len = self.int()?;
        if len < 0 {
            return Ok(None);
        }
        if len > MAX_STRING {
            return Err(bad(format!("a string of {len} bytes")));
        }
        let mut bytes = vec![0u8; len as usize];
        self.reader.read_exact(&mut bytes)?;
        Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
    }

    fn skip(&mut self, n: usize) -> Result<(), ParseError> {
        for _ in 0..n {
            self.byte()?;
        }
        Ok(())
    }
}

fn parse<R: Read>(a: &mut Archive<R>) -> Result<DumpDatabase, ParseError> {
    let mut magic = [0u8; 5];
    a.reader.read_exact(&mut magic)?;
    if &magic != b"PGDMP" {
        return Err(bad("it does not start with PGDMP"));
    }
    let (major, minor, revision) = (a.byte()?, a.byte()?, a.byte()?);
    a.version = version(major, minor) | revision as u32;
    if !(OLDEST..=NEWEST + 0xff).contains(&a.version) {
        return Err(bad(format!(
            "archive version {major}.{minor} is not one devdb reads (1.12 to 1.16)"
        )));
    }
    a.int_size = a.byte()?;
    if !(1..=8).contains(&a.int_size) {
        return Err(bad(format!("an integer size of {}", a.int_size)));
    }
    let offset_size = a.byte()? as usize;
    if a.byte()? != CUSTOM_FORMAT {
        return Err(bad("it is not in the custom format (-Fc)"));
    }
    if a.version >= version(1, 15) {
        a.byte()?; // compression algorithm
    } else {
        a.int()?; // compression level
    }
    for _ in 0..7 {
        a.int()?; // creation date, struct tm
    }
    let header_name = a.string()?;
    a.string()?; // server version
    a.string()?; // pg_dump version

    let count = a.int()?;
    if !(0..=MAX_ENTRIES).contains(&count) {
        return Err(bad(format!("{count} table of contents entries")));
    }
    let mut database = DumpDatabase {
        name: header_name.clone().unwrap_or_default(),
        create: None,
        properties: Vec::new(),
    };
    let mut entry_name = None;
    for _ in 0..count {
        let entry = entry(a, offset_size)?;
        let defn = entry.defn.unwrap_or_default();
        match entry.desc.as_str() {
            "DATABASE" => {
                entry_name = Some(entry.tag);
                database.create = Some(defn);
            }
            "DATABASE PROPERTIES" => database.properties.push(defn),
            "COMMENT" | "SECURITY LABEL" | "ACL" if entry.tag.starts_with("DATABASE ") => {
                database.properties.push(defn)
            }
            _ => {}
        }
    }
    // pg_restore --create acts on the DATABASE entry; the header's name must agree.
    match (header_name, entry_name) {
        (_, Some(entry)) if entry != database.name => Err(bad(format!(
            "its header names database {} and its table of contents {entry}",
            database.name
        ))),
        (None, None) => Err(bad("it names no database")),
        _ => Ok(database),
    }
}

struct Entry {
    tag: String,
    desc: String,
    defn: Option<String>,
}

/// One entry of the table of contents, as `ReadToc` reads it.
fn entry<R: Read>(a: &mut Archive<R>, offset_size: usize) -> Result<Entry, ParseError> {
    a.int()?; // dump id
    a.int()?; // had a data dumper
    a.string()?; // table oid
    a.string()?; // oid
    let tag = a.string()?.unwrap_or_default();
    let desc = a.string()?.unwrap_or_default();
    a.int()?; // section
    let defn = a.string()?;
    a.string()?; // drop statement
    a.string()?; // copy statement
    a.string()?; // namespace
    a.string()?; // tablespace
    if a.version >= version(1, 14) {
        a.string()?; // table access method
    }
    if a.version >= version(1, 16) {
        a.int()?; // relkind
    }
    a.string()?; // owner
    a.string()?; // with oids
    while a.string()?.is_some() {} // dependencies, up to a NULL
    a.skip(1 + offset_size)?; // the custom format's data state and offset
    Ok(Entry { tag, desc, defn })
}

/// `"name"`, quotes doubled.
fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The identifier as pg_dump's `fmtId` writes it when it needs no quotes (lowercase
/// letters, digits, `_`, not starting with a digit); quoted otherwise. A keyword is always
/// quoted by pg_dump; [`DumpDatabase::create_as`] tries both forms.
fn fmt_id(name: &str) -> String {
    let simple = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if simple {
        name.to_string()
    } else {
        quote(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `pg_dump -Fc` of Postgres 17 of a database `appdb` with a comment and a setting.
    const FIXTURE: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/dumps/appdb.dump"
    );

    #[test]
    fn a_real_dump_names_its_database_and_properties() {
        let database = read_dump_database(Path::new(FIXTURE)).unwrap();
        assert_eq!(database.name, "appdb");
        assert_eq!(
            database.create.as_deref(),
            Some(
                "CREATE DATABASE appdb WITH TEMPLATE = template0 ENCODING = 'UTF8' \
                 LOCALE_PROVIDER = libc LOCALE = 'C.UTF-8';\n"
            )
        );
        assert_eq!(
            database.properties,
            [
                "COMMENT ON DATABASE appdb IS 'the app''s data';\n",
                "ALTER DATABASE appdb SET work_mem TO '8MB';\n"
            ]
        );
        assert_eq!(
            database.create_as("\"appdb__x\"").unwrap(),
            "CREATE DATABASE \"appdb__x\" WITH TEMPLATE = template0 ENCODING = 'UTF8' \
             LOCALE_PROVIDER = libc LOCALE = 'C.UTF-8';\n"
        );
    }

    #[test]
    fn a_truncated_or_foreign_file_is_refused() {
        let bytes = std::fs::read(FIXTURE).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let short = dir.path().join("short.dump");
        std::fs::write(&short, &bytes[..200]).unwrap();
        let err = read_dump_database(&short).unwrap_err().to_string();
        assert!(err.contains("ends inside its table of contents"), "{err}");
        let text = dir.path().join("text.dump");
        std::fs::write(&text, "-- PostgreSQL database dump\n").unwrap();
        let err = read_dump_database(&text).unwrap_err().to_string();
        assert!(err.contains("does not start with PGDMP"), "{err}");
    }

    #[test]
    fn create_as_renames_quoted_and_unquoted_names() {
        let database = |name: &str, create: &str| DumpDatabase {
            name: name.into(),
            create: Some(create.into()),
            properties: Vec::new(),
        };
        let quoted = database("My Db", "CREATE DATABASE \"My Db\" WITH ENCODING = 'UTF8';");
        assert_eq!(
            quoted.create_as("\"t\"").unwrap(),
            "CREATE DATABASE \"t\" WITH ENCODING = 'UTF8';"
        );
        let keyword = database("user", "CREATE DATABASE \"user\" WITH ENCODING = 'UTF8';");
        assert!(keyword.create_as("\"t\"").is_some());
        let prefix = database("app", "CREATE DATABASE appdb WITH ENCODING = 'UTF8';");
        assert_eq!(prefix.create_as("\"t\""), None);
    }
}
