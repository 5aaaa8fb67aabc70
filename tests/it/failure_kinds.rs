//! One failure, one answer: for each kind of failure in `tests/corpus/failure_kinds.yaml`,
//! every command that can hit it exits with the kind's code and prints the same single
//! `hint:` line. Each command runs as a corpus case (`tests/it/corpus/`), so the corpus's
//! guarantees hold too: the project's files untouched, nothing left in the engine, with a
//! database its schema and rows unchanged.
//!
//! A kind:
//!
//! ```yaml
//! - kind: duplicate_revision_id           # unique in the file
//!   exit: 6
//!   hint: "give one of the files a new"   # optional: a fragment every hint must contain
//!   base: simple                          # as in the corpus (default simple)
//!   files: {...}                          # on top of the base's, as in the corpus
//!   env: {DOCKER_HOST: "tcp://127.0.0.1:1"}
//!   needs: nothing                        # the default of its commands
//!   setup: [[backup]]                     # run before each command, as in the corpus
//!   vary: ["`devdb * --yes`"]             # parts of the hint allowed to differ (`*`)
//!   pending: "why"                        # not held to it yet (run by `failure_kinds_pending`)
//!   commands:                             # each in a fresh copy of the project
//!     - [heads]
//!     - {args: [migrate], needs: database, setup: [...]}
//! ```
//!
//! Before hints are compared, the project's folder becomes `{{dir}}` and its name
//! `{{project}}`, and each `vary` pattern's matches become the pattern itself. Every kind
//! runs before the test fails with one table per kind that disagrees: a to-do list.
//! `DEVDB_CORPUS_SHOW=1` prints the tables of the kinds that agree as well.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use serde::Deserialize;

use crate::common::TestProject;
use crate::corpus::case::{self, Case, Files, Needs};
use crate::corpus::{self as corpus, Ran};

const FILE: &str = "failure_kinds.yaml";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Kind {
    kind: String,
    exit: i32,
    #[serde(default)]
    hint: Option<String>,
    #[serde(default = "default_base")]
    base: String,
    #[serde(default)]
    files: Files,
    #[serde(default)]
    env: BTreeMap<String, String>,
    #[serde(default = "default_needs")]
    needs: Needs,
    #[serde(default)]
    setup: Vec<Vec<String>>,
    #[serde(default)]
    may_change: Vec<String>,
    #[serde(default)]
    vary: Vec<String>,
    /// Why the kind is not held to its answer yet: the change it needs is still to come.
    /// Such kinds run only in the ignored `failure_kinds_pending`.
    #[serde(default)]
    pending: Option<String>,
    commands: Vec<Command>,
}

/// A command line, or one with its own needs and setup.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Command {
    Args(Vec<String>),
    Full(FullCommand),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FullCommand {
    args: Vec<String>,
    #[serde(default)]
    needs: Option<Needs>,
    #[serde(default)]
    setup: Option<Vec<Vec<String>>>,
}

fn default_base() -> String {
    "simple".to_string()
}

fn default_needs() -> Needs {
    Needs::Nothing
}

fn load_kinds() -> Vec<Kind> {
    let path = case::corpus_dir().join(FILE);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{FILE}: {e}"));
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("tests/corpus/{FILE}: {e}"))
}

/// The corpus case of one command of a kind. Every database command of a base shares one
/// brought-up project.
fn case_of(kind: &Kind, command: &Command) -> Case {
    let (args, needs, setup) = match command {
        Command::Args(args) => (args, kind.needs, &kind.setup),
        Command::Full(full) => (
            &full.args,
            full.needs.unwrap_or(kind.needs),
            full.setup.as_ref().unwrap_or(&kind.setup),
        ),
    };
    Case {
        name: format!("{}: devdb {}", kind.kind, args.join(" ")),
        base: kind.base.clone(),
        files: kind.files.clone(),
        env: kind.env.clone(),
        args: args.clone(),
        exit: kind.exit,
        stderr: Default::default(),
        stdout: Default::default(),
        not_stderr: Default::default(),
        needs,
        setup: setup.clone(),
        may_change: kind.may_change.clone(),
        group: "failure_kinds".to_string(),
        no_project_name: false,
        source: format!("tests/corpus/{FILE}"),
    }
}

/// What one command did, its text normalised.
struct Outcome {
    exit: Option<i32>,
    /// The text after `hint: ` of every hint line.
    hints: Vec<String>,
    /// The first `error:` line, for the report.
    error: Option<String>,
    panicked: bool,
    /// The corpus's guarantees it broke, or why it did not run.
    problems: Vec<String>,
}

#[test]
fn failure_kinds_file_parses_and_names_each_command_once() {
    let kinds = load_kinds();
    let bases = case::load_bases();
    let mut names = BTreeSet::new();
    for kind in &kinds {
        assert!(
            names.insert(kind.kind.clone()),
            "kind `{}` twice",
            kind.kind
        );
        assert!(
            kind.commands.len() >= 2,
            "kind `{}` has one command: nothing to agree with",
            kind.kind
        );
        let mut lines = BTreeSet::new();
        for command in &kind.commands {
            let case = case_of(kind, command);
            assert!(lines.insert(case.args.clone()), "{} twice", case.name);
            case::case_files(&bases, &case, "p");
        }
        for pattern in &kind.vary {
            assert_eq!(
                pattern.matches('*').count(),
                1,
                "kind `{}`: a vary pattern has one `*`: {pattern:?}",
                kind.kind
            );
        }
    }
    assert!(kinds.len() >= 20, "only {} kinds", kinds.len());
}

#[test]
fn failure_kinds_agree_on_exit_code_and_hint() {
    run_kinds(|kind| kind.pending.is_none());
}

/// The kinds whose answer is still to come (`pending:` says why).
#[test]
#[ignore]
fn failure_kinds_pending() {
    run_kinds(|kind| kind.pending.is_some());
}

fn run_kinds(keep: impl Fn(&Kind) -> bool) {
    let kinds: Vec<Kind> = load_kinds().into_iter().filter(|k| keep(k)).collect();
    let cases: Vec<(usize, Case)> = kinds
        .iter()
        .enumerate()
        .flat_map(|(i, kind)| kind.commands.iter().map(move |c| (i, case_of(kind, c))))
        .collect();
    let vary: BTreeMap<&str, &[String]> = cases
        .iter()
        .map(|(i, case)| (case.name.as_str(), &kinds[*i].vary[..]))
        .collect();
    let outcomes: Mutex<BTreeMap<String, Outcome>> = Mutex::new(BTreeMap::new());
    let refs: Vec<&Case> = cases.iter().map(|(_, case)| case).collect();
    let general = corpus::run_all("failure kinds", &refs, &|case, project, ran| {
        let outcome = outcome(ran, project, vary[case.name.as_str()]);
        outcomes.lock().unwrap().insert(case.name.clone(), outcome);
    });
    let outcomes = outcomes.into_inner().unwrap();
    let show = std::env::var_os("DEVDB_CORPUS_SHOW").is_some();
    let mut reports = Vec::new();
    for (i, kind) in kinds.iter().enumerate() {
        let of_kind: Vec<(&Case, &Outcome)> = cases
            .iter()
            .filter(|(k, _)| *k == i)
            .map(|(_, case)| (case, &outcomes[&case.name]))
            .collect();
        if let Some(report) = judge(kind, &of_kind, show) {
            reports.push(report);
        }
    }
    if show {
        let all: Vec<&str> = reports.iter().map(|(text, _)| text.as_str()).collect();
        eprintln!("{}", all.join("\n\n"));
    }
    let mut failing: Vec<String> = reports
        .into_iter()
        .filter(|(_, disagrees)| *disagrees)
        .map(|(text, _)| text)
        .collect();
    let count = failing.len();
    failing.extend(general);
    assert!(
        failing.is_empty(),
        "{count} of {} failure kind(s) disagree (each command: exit code, hint line):\n\n{}",
        kinds.len(),
        failing.join("\n\n")
    );
}

fn outcome(ran: Ran, project: &TestProject, vary: &[String]) -> Outcome {
    let Some(output) = ran.output else {
        return Outcome {
            exit: None,
            hints: Vec::new(),
            error: None,
            panicked: false,
            problems: ran.problems,
        };
    };
    let stderr = normalise(&String::from_utf8_lossy(&output.stderr), project);
    let hints = stderr
        .lines()
        .filter_map(|line| line.strip_prefix("hint:"))
        .map(|hint| apply_vary(hint.trim(), vary))
        .collect();
    let error = stderr
        .lines()
        .find(|line| line.starts_with("error:"))
        .map(|line| shorten(line, 200));
    Outcome {
        exit: output.status.code(),
        hints,
        error,
        panicked: stderr.contains("panicked at"),
        problems: ran.problems,
    }
}

/// The project's folder (as given and as resolved) and name, as placeholders.
fn normalise(text: &str, project: &TestProject) -> String {
    let mut text = text.to_string();
    let dir = project.path();
    let mut dirs = vec![dir.display().to_string()];
    if let Ok(resolved) = dir.canonicalize() {
        dirs.push(resolved.display().to_string());
    }
    dirs.sort_by_key(|d| std::cmp::Reverse(d.len()));
    for dir in dirs {
        text = text.replace(&dir, "{{dir}}");
    }
    text.replace(&project.name, "{{project}}")
}

/// Each match of a `vary` pattern (`prefix*suffix`, the shortest run between them)
/// replaced by the pattern itself.
fn apply_vary(hint: &str, vary: &[String]) -> String {
    let mut hint = hint.to_string();
    for pattern in vary {
        let (prefix, suffix) = pattern.split_once('*').unwrap();
        let mut out = String::new();
        let mut rest = hint.as_str();
        while let Some(start) = rest.find(prefix) {
            let after = &rest[start + prefix.len()..];
            let Some(end) = after.find(suffix) else {
                break;
            };
            out.push_str(&rest[..start]);
            out.push_str(pattern);
            rest = &after[end + suffix.len()..];
        }
        out.push_str(rest);
        hint = out;
    }
    hint
}

fn shorten(line: &str, max: usize) -> String {
    match line.char_indices().nth(max) {
        Some((at, _)) => format!("{}...", &line[..at]),
        None => line.to_string(),
    }
}

/// A kind's table, and whether it disagrees; `None` for a kind that agrees, unless `show`.
/// A row per command: `ok`/`BAD`, `db` when it ran against the database, the command
/// line, its exit code and hint line; under a BAD row, its `error:` line when the exit
/// code is off, and what else is wrong.
fn judge(kind: &Kind, outcomes: &[(&Case, &Outcome)], show: bool) -> Option<(String, bool)> {
    let mut rows = Vec::new();
    let mut disagrees = false;
    let mut by_hint: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let width = outcomes
        .iter()
        .map(|(case, _)| case.args.join(" ").len())
        .max()
        .unwrap_or(0);
    for (case, outcome) in outcomes {
        let line = case.args.join(" ");
        let mut wrong = Vec::new();
        if outcome.hints.len() > 1 {
            wrong.push(format!("{} hint lines", outcome.hints.len()));
        }
        if let Some(fragment) = &kind.hint
            && !outcome.hints.is_empty()
            && !outcome.hints.iter().all(|h| h.contains(fragment.as_str()))
        {
            wrong.push(format!("the hint lacks {fragment:?}"));
        }
        if outcome.panicked {
            wrong.push("panicked".to_string());
        }
        wrong.extend(outcome.problems.iter().map(|p| shorten(p, 400)));
        let exit_off = outcome.exit != Some(kind.exit);
        let bad = exit_off || outcome.hints.len() != 1 || !wrong.is_empty();
        disagrees |= bad;
        if let [hint] = &outcome.hints[..] {
            by_hint.entry(hint.as_str()).or_default().push(line.clone());
        }
        let hint = match &outcome.hints[..] {
            [] => "(no hint)".to_string(),
            hints => hints
                .iter()
                .map(|h| format!("hint: {h}"))
                .collect::<Vec<_>>()
                .join(" | "),
        };
        let mut row = format!(
            "  {} {:2} {line:width$}  exit {:<3} {hint}",
            if bad { "BAD" } else { "ok " },
            match case.needs {
                Needs::Database => "db",
                Needs::Engine => "en",
                Needs::Nothing => "",
            },
            code(outcome.exit),
        );
        if exit_off && let Some(error) = &outcome.error {
            row.push_str(&format!("\n           {error}"));
        }
        for problem in wrong {
            row.push_str(&format!("\n           - {problem}"));
        }
        rows.push(row);
    }
    if by_hint.len() > 1 {
        disagrees = true;
        rows.push(format!(
            "  - {} different hints:\n{}",
            by_hint.len(),
            by_hint
                .iter()
                .map(|(hint, commands)| format!(
                    "      {hint}\n        from: {}",
                    commands.join("; ")
                ))
                .collect::<Vec<_>>()
                .join("\n")
        ));
    }
    if !disagrees && !show {
        return None;
    }
    let wanted = match &kind.hint {
        Some(fragment) => format!("one hint containing {fragment:?}"),
        None => "one hint, the same for all".to_string(),
    };
    let text = format!(
        "kind `{}`{}: want exit {} and {wanted}\n{}",
        kind.kind,
        if disagrees { "" } else { " (agrees)" },
        kind.exit,
        rows.join("\n")
    );
    Some((text, disagrees))
}

fn code(exit: Option<i32>) -> String {
    exit.map_or("-".to_string(), |c| c.to_string())
}
