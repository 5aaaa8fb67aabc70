//! `.env` files: read into a map with dotenvy, never into the process environment.
//!
//! dotenvy expands `$VAR` inside a `.env` value from earlier lines of the same file and from the
//! real process environment (not from `LoadOptions::environment`); that is its behaviour, kept.

use std::collections::BTreeMap;
use std::path::Path;

use super::error::{ConfigError, SourceLocation};

/// Reads `path`; later lines override earlier ones. `shown` is the path used in messages.
pub(crate) fn read_env_file(
    path: &Path,
    shown: &Path,
) -> Result<BTreeMap<String, String>, ConfigError> {
    let read_error = |source| ConfigError::ReadFile {
        path: shown.to_path_buf(),
        source,
    };
    let text = std::fs::read_to_string(path).map_err(read_error)?;
    // Editors on Windows may save UTF-8 with a byte order mark.
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    if let Some(at) = text.find('\0') {
        return Err(ConfigError::EnvFile {
            at: SourceLocation {
                path: shown.to_path_buf(),
                line: Some(text[..at].matches('\n').count() as u64 + 1),
                column: None,
            },
            message: "the line holds a NUL byte; a .env file is UTF-8 text (was it saved as \
                      UTF-16?)"
                .into(),
        });
    }
    let iter = dotenvy::from_read_iter(text.as_bytes());
    let mut values = BTreeMap::new();
    for item in iter {
        let (key, value) = item.map_err(|err| match err {
            dotenvy::Error::Io(source) => read_error(source),
            other => env_error(shown, text, other),
        })?;
        values.insert(key, value);
    }
    Ok(values)
}

fn env_error(shown: &Path, text: &str, err: dotenvy::Error) -> ConfigError {
    match err {
        dotenvy::Error::LineParse(line, index) => {
            // dotenvy reports the offending (possibly multi-line) entry, not its line number:
            // find the entry in the file to give one.
            let start = text.find(line.trim_end()).unwrap_or(0);
            let before = text[..start].matches('\n').count() as u64;
            // An error at the very end of the entry is a quote that never closes: the entry
            // starts the trouble, not the end of the file.
            let within = if index >= line.trim_end().len() {
                0
            } else {
                line.get(..index)
                    .map_or(0, |prefix| prefix.matches('\n').count() as u64)
            };
            ConfigError::EnvFile {
                at: SourceLocation {
                    path: shown.to_path_buf(),
                    line: Some(before + within + 1),
                    column: None,
                },
                message: format!(
                    "cannot parse `{}` (expected NAME=value)",
                    line.lines().next().unwrap_or_default()
                ),
            }
        }
        other => ConfigError::EnvFile {
            at: SourceLocation::file(shown),
            message: other.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_values_with_quotes_comments_and_later_lines_winning() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".env");
        std::fs::write(
            &path,
            "# comment\nA=1\nB=\"two words\"\nexport C='x y'\nA=3\nEMPTY=\n",
        )
        .unwrap();
        let values = read_env_file(&path, Path::new(".env")).unwrap();
        assert_eq!(values["A"], "3");
        assert_eq!(values["B"], "two words");
        assert_eq!(values["C"], "x y");
        assert_eq!(values["EMPTY"], "");
        assert_eq!(values.len(), 4);
    }

    #[test]
    fn malformed_line_is_reported_with_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".env");
        std::fs::write(&path, "A=1\n\nnot a valid line\nB=2\n").unwrap();
        let err = read_env_file(&path, Path::new(".env")).unwrap_err();
        assert!(
            err.to_string()
                .starts_with(".env:3: cannot parse `not a valid line`"),
            "{err}"
        );
    }

    #[test]
    fn a_byte_order_mark_is_accepted_and_a_nul_byte_is_refused_at_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".env");
        std::fs::write(&path, "\u{feff}A=1\nB=2\n").unwrap();
        let values = read_env_file(&path, Path::new(".env")).unwrap();
        assert_eq!(values.get("A").map(String::as_str), Some("1"));
        std::fs::write(&path, "A=1\nB=2\0\n").unwrap();
        let err = read_env_file(&path, Path::new(".env")).unwrap_err();
        assert!(err.to_string().contains(".env:2"), "{err}");
        assert!(err.to_string().contains("NUL byte"), "{err}");
    }

    #[test]
    fn an_unterminated_quote_is_reported_at_the_line_it_opens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".env");
        for (text, line) in [
            ("A=\"open\nB=2\n", ".env:1"),
            ("A=1\r\nB=\"x\r\n", ".env:2"),
        ] {
            std::fs::write(&path, text).unwrap();
            let err = read_env_file(&path, Path::new(".env")).unwrap_err();
            assert!(err.to_string().contains(line), "{text:?}: {err}");
        }
    }

    #[test]
    fn missing_file_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let err = read_env_file(&dir.path().join("nope.env"), Path::new("nope.env")).unwrap_err();
        assert!(
            err.to_string().starts_with("cannot read nope.env: "),
            "{err}"
        );
    }
}
