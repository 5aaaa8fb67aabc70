//! The bad-input corpus: small projects as data (`tests/corpus/*.yaml`), each run through
//! the real binary, checked for its exit code and message, and for what it must not have
//! touched: the project's files, the database's schema and rows, the engine's resources.
//!
//! Cases that need no engine run with `DOCKER_HOST` pointing nowhere, several at a time.
//! Cases that need a database share one brought-up project per group (corpus file and
//! base), the groups in parallel. Every case runs before the test fails with the list.

pub(crate) mod case;
mod database;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::Mutex;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use case::{Base, Case, Needs};

use crate::common::{TestProject, image};

/// The corpus files the runner loads. `pending.yaml` holds the cases of behaviour being
/// changed elsewhere; it is loaded only by the ignored `corpus_pending`.
const FILES: [&str; 8] = [
    "migration_files.yaml",
    "targets.yaml",
    "compose.yaml",
    "dotenv.yaml",
    "restore_folders.yaml",
    "engine_unreachable.yaml",
    "commands.yaml",
    "attacks.yaml",
];

/// Where offline cases point the engine: a socket that does not exist.
const NO_ENGINE: &str = "unix:///nonexistent/devdb-corpus.sock";

/// A command that runs longer than this is a hang, and a failure of its case.
const CASE_TIMEOUT: Duration = Duration::from_secs(90);

fn load(files: &[&str]) -> Vec<Case> {
    files.iter().flat_map(|f| case::load_cases(f)).collect()
}

#[test]
fn corpus_files_parse_and_name_their_cases_once() {
    let bases = case::load_bases();
    let mut all = load(&FILES);
    all.extend(case::load_cases("pending.yaml"));
    let mut seen = BTreeMap::new();
    for case in &all {
        if let Some(first) = seen.insert(case.name.clone(), case.source.clone()) {
            panic!(
                "case `{}` is named twice ({first} and {})",
                case.name, case.source
            );
        }
        case::case_files(&bases, case, "p");
    }
    let loaded = load(&FILES).len();
    assert!(loaded >= 130, "only {loaded} cases in the corpus");
}

/// The escapes cases use for special bytes are YAML's own, and the YAML reader keeps them.
#[test]
fn corpus_yaml_escapes_give_the_bytes_they_name() {
    let text: String = serde_saphyr::from_str(r#""a\0b\uFEFFc\x01""#).unwrap();
    assert_eq!(text, "a\u{0}b\u{feff}c\u{1}");
}

#[test]
fn corpus_offline() {
    run_cases(load(&FILES), |c| c.needs != Needs::Database);
}

#[test]
fn corpus_database() {
    run_cases(load(&FILES), |c| c.needs == Needs::Database);
}

/// The cases of behaviour being changed in other branches, for whoever merges them:
/// `cargo test --test it corpus_pending -- --ignored`.
#[test]
#[ignore]
fn corpus_pending() {
    run_cases(case::load_cases("pending.yaml"), |_| true);
}

fn run_cases(cases: Vec<Case>, select: impl Fn(&Case) -> bool) {
    let cases: Vec<&Case> = cases.iter().filter(|c| select(c)).collect();
    let failures = Mutex::new(Vec::new());
    let general = run_all("corpus", &cases, &|case, _, ran| {
        let mut problems = match &ran.output {
            Some(output) => check_output(case, output),
            None => Vec::new(),
        };
        problems.extend(ran.problems);
        record(&failures, case, problems);
    });
    let mut failures = failures.into_inner().unwrap();
    failures.extend(general);
    assert!(
        failures.is_empty(),
        "{} of {} corpus case(s) failed:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

/// What running one case gave: the command's output (none when the case's files could
/// not be laid out, a setup command failed or its database did not come up), and what it
/// broke of what every case must leave alone, or why it could not run.
pub(crate) struct Ran {
    pub output: Option<Output>,
    pub problems: Vec<String>,
}

/// Receives each case's run, with the project it ran in, from the worker threads.
pub(crate) type Each<'a> = dyn Fn(&Case, &TestProject, Ran) + Sync + 'a;

/// Runs `cases`: the offline ones four at a time, the database ones of a group (corpus
/// file, base and `group`) one after the other in their group's brought-up project, the
/// groups in parallel; hands each case's run to `each`. Returns the problems of no one case
/// (engine resources a shared project left behind). `label` names the run in its summary.
pub(crate) fn run_all(label: &str, cases: &[&Case], each: &Each) -> Vec<String> {
    let bases = case::load_bases();
    let started = Instant::now();
    let general = Mutex::new(Vec::new());
    let (offline, database): (Vec<&Case>, Vec<&Case>) =
        cases.iter().partition(|c| c.needs != Needs::Database);
    let mut groups: BTreeMap<(String, String, String), Vec<&Case>> = BTreeMap::new();
    for case in database {
        groups
            .entry((case.source.clone(), case.base.clone(), case.group.clone()))
            .or_default()
            .push(case);
    }
    let next = Mutex::new(offline.into_iter());
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| offline_worker(&bases, &next, each, &general));
        }
        for ((_, base, _), cases) in &groups {
            let bases = &bases;
            scope.spawn(move || database::run_group(bases, base, cases, each));
        }
    });
    eprintln!(
        "{label}: {} case(s), {} database group(s), {:.1} s",
        cases.len(),
        groups.len(),
        started.elapsed().as_secs_f64()
    );
    general.into_inner().unwrap()
}

/// Lays out the case's files in `project` and runs its setup commands; what went wrong.
fn prepare(bases: &BTreeMap<String, Base>, case: &Case, project: &TestProject) -> Vec<String> {
    let files = case::case_files(bases, case, &project.name);
    if let Err(problem) = case::lay_out(project.path(), &files) {
        return vec![problem];
    }
    let mut problems = Vec::new();
    for args in &case.setup {
        let output = run(project, case, args, true);
        if !output.status.success() {
            problems.push(format!("setup {args:?} failed: {}", describe(&output)));
        }
    }
    problems
}

/// Runs offline cases in one project folder reused case after case; a case that needs the
/// engine gets a project of its own, checked for leftovers right after.
fn offline_worker(
    bases: &BTreeMap<String, Base>,
    next: &Mutex<std::vec::IntoIter<&Case>>,
    each: &Each,
    general: &Mutex<Vec<String>>,
) {
    let shared = TestProject::new();
    loop {
        let Some(case) = next.lock().unwrap().next() else {
            break;
        };
        let own;
        let project = if case.needs == Needs::Engine {
            own = TestProject::new();
            &own
        } else {
            &shared
        };
        let mut problems = prepare(bases, case, project);
        let mut output = None;
        if problems.is_empty() {
            let before = case::snapshot(project.path());
            output = Some(run(project, case, &case.args, false));
            let after = case::snapshot(project.path());
            problems.extend(files_problem(case, &before, &after));
        }
        if case.needs == Needs::Engine {
            let left = project.leftovers();
            if !left.is_empty() {
                problems.push(format!("left engine resources behind: {left:?}"));
            }
        }
        each(case, project, Ran { output, problems });
    }
    let left = shared.leftovers();
    if !left.is_empty() {
        general.lock().unwrap().push(format!(
            "offline cases left engine resources of project {}: {left:?}",
            shared.name
        ));
    }
}

/// With `DEVDB_CORPUS_SHOW` set, every case is reported with its output, passing or not:
/// a way to read today's messages when writing fragments.
fn record(failures: &Mutex<Vec<String>>, case: &Case, problems: Vec<String>) {
    if !problems.is_empty() {
        failures.lock().unwrap().push(format!(
            "case `{}` ({}), devdb {}:\n  - {}",
            case.name,
            case.source,
            case.args.join(" "),
            problems.join("\n  - ")
        ));
    }
}

/// The devdb command of a case in `project`: offline cases see no engine, the others the
/// test image; the case's variables on top. Setup commands get no case variables.
pub(crate) fn run(project: &TestProject, case: &Case, args: &[String], setup: bool) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_devdb"));
    command.current_dir(project.path());
    if !case.no_project_name {
        command.args(["-p", &project.name]);
    }
    command
        .args(args)
        .env_remove("DEVDB_PORT")
        .env_remove("DATABASE_URL")
        .env_remove("DOCKER_CONTEXT")
        .env_remove("DEVDB_EPHEMERAL_ID")
        .stdin(Stdio::null());
    if case.needs == Needs::Nothing {
        command
            .env("DOCKER_HOST", NO_ENGINE)
            .env_remove("DEVDB_IMAGE");
    } else {
        command.env("DEVDB_IMAGE", image());
    }
    if !setup {
        for (key, value) in &case.env {
            command.env(
                key,
                value.replace("{{dir}}", &project.path().display().to_string()),
            );
        }
    }
    output_within(command, CASE_TIMEOUT)
}

/// Runs `command`, killing it when it outlives `timeout` (its output then says so).
fn output_within(mut command: Command, timeout: Duration) -> Output {
    let child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running devdb");
    let pid = child.id() as i32;
    let (done, waited) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(child.wait_with_output());
    });
    match waited.recv_timeout(timeout) {
        Ok(output) => output.expect("waiting for devdb"),
        Err(_) => {
            // SAFETY: kill(2) on the pid of a child this function spawned and has not reaped.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            let mut output = waited.recv().unwrap().expect("waiting for devdb");
            output
                .stderr
                .extend_from_slice(format!("\n[killed after {timeout:?}: a hang]").as_bytes());
            output
        }
    }
}

fn describe(output: &Output) -> String {
    format!(
        "exit {:?}\n    stdout: {}\n    stderr: {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).trim(),
        String::from_utf8_lossy(&output.stderr)
            .trim()
            .replace('\n', "\n            ")
    )
}

/// The exit code and the fragments of a case's output.
fn check_output(case: &Case, output: &Output) -> Vec<String> {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let mut problems = Vec::new();
    if output.status.code() != Some(case.exit) {
        problems.push(format!("expected exit {}", case.exit));
    }
    for fragment in case.stderr.list() {
        if !stderr.contains(&fragment) {
            problems.push(format!("stderr lacks {fragment:?}"));
        }
    }
    for fragment in case.stdout.list() {
        if !stdout.contains(&fragment) {
            problems.push(format!("stdout lacks {fragment:?}"));
        }
    }
    let mut forbidden = case.not_stderr.list();
    forbidden.push("panicked at".to_string());
    for fragment in forbidden {
        if stderr.contains(&fragment) {
            problems.push(format!("stderr has {fragment:?}"));
        }
    }
    if !problems.is_empty() || std::env::var_os("DEVDB_CORPUS_SHOW").is_some() {
        problems.push(describe(output));
    }
    problems
}

fn files_problem(
    case: &Case,
    before: &BTreeMap<String, String>,
    after: &BTreeMap<String, String>,
) -> Option<String> {
    let changed = case::changed_files(before, after, &case.may_change);
    (!changed.is_empty()).then(|| format!("changed files it should not have: {changed:?}"))
}

pub(crate) fn project_files_problem(
    case: &Case,
    dir: &Path,
    before: &BTreeMap<String, String>,
) -> Option<String> {
    files_problem(case, before, &case::snapshot(dir))
}
