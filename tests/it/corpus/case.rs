//! The corpus's data format: YAML files of cases under `tests/corpus/`, the named base
//! projects of `tests/corpus/bases.yaml`, and the laying out of one case's project folder.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest, Sha256};

/// The folder of the corpus files.
pub fn corpus_dir() -> PathBuf {
    crate::common::repo_root().join("tests/corpus")
}

/// A file's contents in a case: text (YAML double-quoted strings take `\0`, `\uFEFF`, ...),
/// or bytes in hex for anything else.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Contents {
    Text(String),
    Hex { hex: String },
}

impl Contents {
    fn bytes(&self) -> Vec<u8> {
        match self {
            Contents::Text(text) => text.as_bytes().to_vec(),
            Contents::Hex { hex } => {
                let digits: Vec<u8> = hex.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
                digits
                    .chunks(2)
                    .map(|pair| {
                        u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16)
                            .unwrap_or_else(|_| panic!("bad hex digits {pair:?}"))
                    })
                    .collect()
            }
        }
    }
}

/// Files by path relative to the project; `~` (null) removes a file of the base.
pub type Files = BTreeMap<String, Option<Contents>>;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Base {
    /// Another base this one extends.
    #[serde(default)]
    pub base: Option<String>,
    pub files: Files,
}

/// One or several fragments.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(untagged)]
pub enum Fragments {
    #[default]
    None,
    One(String),
    Many(Vec<String>),
}

impl Fragments {
    pub fn list(&self) -> Vec<String> {
        match self {
            Fragments::None => Vec::new(),
            Fragments::One(one) => vec![one.clone()],
            Fragments::Many(many) => many.clone(),
        }
    }
}

/// What a case needs besides its files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Needs {
    /// Nothing: the command runs with `DOCKER_HOST` pointing nowhere.
    Nothing,
    /// The real engine (the test image is set), no database brought up first.
    Engine,
    /// The base project's database up and migrated, shared by the cases of a group.
    Database,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub name: String,
    /// The base project (`tests/corpus/bases.yaml`); `empty` for none.
    #[serde(default = "default_base")]
    pub base: String,
    #[serde(default)]
    pub files: Files,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    pub args: Vec<String>,
    pub exit: i32,
    #[serde(default)]
    pub stderr: Fragments,
    #[serde(default)]
    pub stdout: Fragments,
    /// Fragments that must not appear on stderr.
    #[serde(default)]
    pub not_stderr: Fragments,
    #[serde(default = "default_needs")]
    pub needs: Needs,
    /// devdb command lines run (and required to succeed) before the case's command.
    #[serde(default)]
    pub setup: Vec<Vec<String>>,
    /// Paths (or folder prefixes) the command may create, change or remove.
    #[serde(default)]
    pub may_change: Vec<String>,
    /// With `needs: database`: cases of one corpus file, base and group share a database.
    /// A case that may damage it (a pending one) gets a group of its own.
    #[serde(default)]
    pub group: String,
    /// Run without `-p <test project>` (for cases about the project name itself).
    #[serde(default)]
    pub no_project_name: bool,
    /// Where the case was read from, for messages.
    #[serde(skip)]
    pub source: String,
}

fn default_base() -> String {
    "simple".to_string()
}

fn default_needs() -> Needs {
    Needs::Nothing
}

/// Every base project by name.
pub fn load_bases() -> BTreeMap<String, Base> {
    let path = corpus_dir().join("bases.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The cases of one corpus file.
pub fn load_cases(file: &str) -> Vec<Case> {
    let path = corpus_dir().join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
    let mut cases: Vec<Case> =
        serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("tests/corpus/{file}: {e}"));
    for case in &mut cases {
        case.source = format!("tests/corpus/{file}");
    }
    cases
}

/// The files of a base, its own base's first.
pub fn base_files(bases: &BTreeMap<String, Base>, name: &str) -> BTreeMap<String, Vec<u8>> {
    if name == "empty" {
        return BTreeMap::new();
    }
    let base = bases
        .get(name)
        .unwrap_or_else(|| panic!("no base project `{name}` in tests/corpus/bases.yaml"));
    let mut files = match &base.base {
        Some(parent) => base_files(bases, parent),
        None => BTreeMap::new(),
    };
    overlay(&mut files, &base.files);
    files
}

fn overlay(files: &mut BTreeMap<String, Vec<u8>>, changes: &Files) {
    for (path, contents) in changes {
        match contents {
            Some(contents) => files.insert(path.clone(), contents.bytes()),
            None => files.remove(path),
        };
    }
}

/// The case's files: its base's with its own on top, placeholders filled in.
pub fn case_files(
    bases: &BTreeMap<String, Base>,
    case: &Case,
    project: &str,
) -> BTreeMap<String, Vec<u8>> {
    let mut files = base_files(bases, &case.base);
    overlay(&mut files, &case.files);
    fill_placeholders(&mut files, project);
    files
}

/// `{{project}}`, `{{sha256 PATH}}` and `{{size PATH}}` (of another file of the case as
/// written), so a hand-made backup manifest can name its files' true checksums.
fn fill_placeholders(files: &mut BTreeMap<String, Vec<u8>>, project: &str) {
    let snapshot = files.clone();
    for bytes in files.values_mut() {
        let Ok(text) = std::str::from_utf8(bytes) else {
            continue;
        };
        if !text.contains("{{") {
            continue;
        }
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("{{") {
            out.push_str(&rest[..start]);
            let end = rest[start..].find("}}").expect("an unclosed {{") + start;
            let inner = rest[start + 2..end].trim();
            let of = |path: &str| {
                snapshot
                    .get(path)
                    .unwrap_or_else(|| panic!("{{{{{inner}}}}} names no file of the case"))
            };
            out.push_str(&match inner.split_once(' ') {
                None if inner == "project" => project.to_string(),
                Some(("sha256", path)) => format!("{:x}", Sha256::digest(of(path))),
                Some(("size", path)) => of(path).len().to_string(),
                _ => panic!("unknown placeholder {{{{{inner}}}}}"),
            });
            rest = &rest[end + 2..];
        }
        out.push_str(rest);
        *bytes = out.into_bytes();
    }
}

/// Removes everything inside `dir` and writes `files` there; a case whose files cannot
/// be written (a file and a folder of one name) is the case's failure, not the runner's.
pub fn lay_out(dir: &Path, files: &BTreeMap<String, Vec<u8>>) -> Result<(), String> {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            std::fs::remove_dir_all(&path).unwrap();
        } else {
            std::fs::remove_file(&path).unwrap();
        }
    }
    for (relative, bytes) in files {
        let path = dir.join(relative);
        std::fs::create_dir_all(path.parent().unwrap())
            .and_then(|()| std::fs::write(&path, bytes))
            .map_err(|e| format!("cannot lay out {relative}: {e}"))?;
    }
    Ok(())
}

/// Every file (by SHA-256) and folder under `dir`, by relative path.
pub fn snapshot(dir: &Path) -> BTreeMap<String, String> {
    let mut found = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            let relative = path.strip_prefix(dir).unwrap().display().to_string();
            if path.is_dir() {
                found.insert(format!("{relative}/"), "folder".to_string());
                pending.push(path);
            } else {
                let bytes = std::fs::read(&path).unwrap_or_default();
                found.insert(relative, format!("{:x}", Sha256::digest(bytes)));
            }
        }
    }
    found
}

/// The paths that differ between two snapshots, except those the case may change.
pub fn changed_files(
    before: &BTreeMap<String, String>,
    after: &BTreeMap<String, String>,
    may_change: &[String],
) -> Vec<String> {
    let allowed = |path: &str| may_change.iter().any(|p| path.starts_with(p.as_str()));
    let mut changed: Vec<String> = before
        .keys()
        .chain(after.keys())
        .filter(|path| before.get(*path) != after.get(*path))
        .filter(|path| !allowed(path))
        .cloned()
        .collect();
    changed.sort();
    changed.dedup();
    changed
}
