//! One entry of `services:`: image, environment (with `env_file:`), ports, volumes, command,
//! healthcheck and labels. Other compose keys are ignored: devdb reads only what it runs.

use std::collections::BTreeMap;
use std::path::Path;

use super::env::read_env_file;
use super::error::ConfigError;
use super::healthcheck::read_healthcheck;
use super::mounts::{MountContext, normalize, read_mounts};
use super::ports::read_ports;
use super::project::Service;
use super::reader::Reader;
use super::shown_path;
use super::yaml::{Node, Value};

pub(crate) struct ServiceContext<'a> {
    pub mounts: MountContext<'a>,
    /// Interpolation variables: what a bare `KEY` in `environment:` takes its value from.
    pub vars: &'a BTreeMap<String, String>,
    /// The working directory, for showing `env_file` paths.
    pub dir: &'a Path,
}

pub(crate) fn read_service(
    reader: Reader<'_>,
    name: &str,
    node: &Node,
    ctx: &ServiceContext<'_>,
) -> Result<Service, ConfigError> {
    let base = format!("services.{name}");
    let entries = reader.map(node, &base)?;
    let mut service = Service {
        name: name.to_owned(),
        image: String::new(),
        environment: BTreeMap::new(),
        ports: Vec::new(),
        volumes: Vec::new(),
        command: None,
        healthcheck: None,
        labels: BTreeMap::new(),
    };
    let mut env_files = BTreeMap::new();
    let mut environment = Vec::new();
    let lookup = |key: &str| ctx.vars.get(key).cloned();
    for (key, value) in entries {
        let field = format!("{base}.{key}");
        match key.as_str() {
            "image" => service.image = reader.string(value, &field)?,
            "environment" => environment = reader.key_values(value, &field, lookup)?,
            "env_file" => env_files = read_env_files(reader, value, &field, ctx)?,
            "ports" => service.ports = read_ports(reader, value, &field)?,
            "volumes" => service.volumes = read_mounts(reader, value, &field, &ctx.mounts)?,
            "command" => service.command = read_command(reader, value, &field)?,
            "healthcheck" => service.healthcheck = read_healthcheck(reader, value, &field)?,
            "labels" => {
                service.labels = reader
                    .key_values(value, &field, |_| Some(String::new()))?
                    .into_iter()
                    .collect();
            }
            _ => {}
        }
    }
    if service.image.is_empty() {
        return Err(reader.invalid(
            node,
            &base,
            "no `image:`; devdb runs images and does not build them",
        ));
    }
    service.environment = env_files;
    service.environment.extend(environment);
    Ok(service)
}

/// `env_file:` as a string, a list of strings, or a list of `{path, required}`.
fn read_env_files(
    reader: Reader<'_>,
    node: &Node,
    field: &str,
    ctx: &ServiceContext<'_>,
) -> Result<BTreeMap<String, String>, ConfigError> {
    let items: Vec<(&Node, String)> = match &node.value {
        Value::Null => Vec::new(),
        Value::Str(_) => vec![(node, field.to_owned())],
        Value::Seq(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| (item, format!("{field}[{i}]")))
            .collect(),
        _ => return Err(reader.expected(node, field, "a file name or a list of them")),
    };
    let mut values = BTreeMap::new();
    for (item, field) in items {
        let (path, required) = match &item.value {
            Value::Map(_) => {
                let path = item.get("path").ok_or_else(|| {
                    reader.invalid(item, &field, "an env_file entry needs a `path`")
                })?;
                let required = match item.get("required") {
                    Some(flag) => reader.boolean(flag, &format!("{field}.required"))?,
                    None => true,
                };
                (reader.string(path, &format!("{field}.path"))?, required)
            }
            _ => (reader.string(item, &field)?, true),
        };
        let full = normalize(&ctx.mounts.project_dir.join(&path));
        if !required && !full.exists() {
            continue;
        }
        values.extend(read_env_file(&full, &shown_path(ctx.dir, &full))?);
    }
    Ok(values)
}

fn read_command(
    reader: Reader<'_>,
    node: &Node,
    field: &str,
) -> Result<Option<Vec<String>>, ConfigError> {
    match &node.value {
        Value::Null => Ok(None),
        Value::Str(text) => split_shell_words(text)
            .map(Some)
            .map_err(|m| reader.invalid(node, field, m)),
        Value::Seq(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| reader.scalar(item, &format!("{field}[{i}]")))
            .collect::<Result<_, _>>()
            .map(Some),
        _ => Err(reader.expected(node, field, "a command string or list")),
    }
}

/// Splits a command line as a POSIX shell would split words: whitespace separates, single
/// quotes are literal, double quotes allow `\"`, `\\`, `\$` and `` \` ``, a backslash outside
/// quotes escapes the next character. No expansion of any kind.
pub(crate) fn split_shell_words(text: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => words.extend(word.take()),
            '\'' => {
                let current = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => current.push(c),
                        None => return Err(format!("unclosed ' in command {text:?}")),
                    }
                }
            }
            '"' => {
                let current = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => current.push(c),
                            Some(c) => {
                                current.push('\\');
                                current.push(c);
                            }
                            None => return Err(format!("unclosed \" in command {text:?}")),
                        },
                        Some(c) => current.push(c),
                        None => return Err(format!("unclosed \" in command {text:?}")),
                    }
                }
            }
            '\\' => {
                let current = word.get_or_insert_with(String::new);
                match chars.next() {
                    Some(c) => current.push(c),
                    None => return Err(format!("trailing \\ in command {text:?}")),
                }
            }
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::yaml::parse;

    fn strings(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| (*w).to_owned()).collect()
    }

    #[test]
    fn shell_word_splitting() {
        assert_eq!(
            split_shell_words("postgres -c 'shared_buffers=256MB'  -c \"log_statement=all\""),
            Ok(strings(&[
                "postgres",
                "-c",
                "shared_buffers=256MB",
                "-c",
                "log_statement=all"
            ]))
        );
        assert_eq!(
            split_shell_words(r#"echo "a \"b\" \n" it\'s '' x"#),
            Ok(strings(&["echo", "a \"b\" \\n", "it's", "", "x"]))
        );
        assert_eq!(split_shell_words("   "), Ok(vec![]));
        assert!(split_shell_words("echo 'oops").is_err());
        assert!(split_shell_words("echo \"oops").is_err());
    }

    fn service(yaml: &str, vars: &[(&str, &str)], dir: &Path) -> Result<Service, ConfigError> {
        let file = Path::new("c.yaml");
        let root = parse(yaml, file).unwrap();
        let vars: BTreeMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let volumes = BTreeMap::new();
        let ctx = ServiceContext {
            mounts: MountContext {
                project_dir: dir,
                volumes: &volumes,
                home: None,
            },
            vars: &vars,
            dir,
        };
        read_service(Reader { file }, "db", root.get("db").unwrap(), &ctx)
    }

    #[test]
    fn environment_in_map_and_list_form_over_env_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("a.env"),
            "FROM_FILE=a\nOVERRIDDEN=file\nBOTH=a\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("b.env"), "BOTH=b\n").unwrap();
        let found = service(
            concat!(
                "db:\n",
                "  image: postgres:17\n",
                "  env_file: [a.env, {path: b.env}, {path: missing.env, required: false}]\n",
                "  environment:\n",
                "    - OVERRIDDEN=yaml\n",
                "    - FROM_SHELL\n",
                "    - NOT_ANYWHERE\n",
                "    - WITH_EQUALS=a=b\n",
            ),
            &[("FROM_SHELL", "shell")],
            dir.path(),
        )
        .unwrap();
        let expected: BTreeMap<String, String> = [
            ("FROM_FILE", "a"),
            ("OVERRIDDEN", "yaml"),
            ("BOTH", "b"),
            ("FROM_SHELL", "shell"),
            ("WITH_EQUALS", "a=b"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        assert_eq!(found.environment, expected);

        let found = service(
            "db:\n  image: x\n  environment:\n    PORT: 5432\n    ON: true\n    BARE:\n",
            &[("BARE", "from-env")],
            dir.path(),
        )
        .unwrap();
        assert_eq!(found.environment["PORT"], "5432");
        assert_eq!(found.environment["ON"], "true");
        assert_eq!(found.environment["BARE"], "from-env");
    }

    #[test]
    fn env_file_as_string_and_missing_required_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("db.env"), "X=1\n").unwrap();
        let found = service("db:\n  image: x\n  env_file: db.env\n", &[], dir.path()).unwrap();
        assert_eq!(found.environment["X"], "1");
        let err = service("db:\n  image: x\n  env_file: nope.env\n", &[], dir.path()).unwrap_err();
        assert!(
            err.to_string().starts_with("cannot read nope.env:"),
            "{err}"
        );
    }

    #[test]
    fn command_and_labels_in_both_forms() {
        let dir = tempfile::tempdir().unwrap();
        let found = service(
            "db:\n  image: x\n  command: postgres -c 'fsync=off'\n  labels: [a=1, b]\n",
            &[],
            dir.path(),
        )
        .unwrap();
        assert_eq!(
            found.command,
            Some(strings(&["postgres", "-c", "fsync=off"]))
        );
        assert_eq!(found.labels["a"], "1");
        assert_eq!(found.labels["b"], "");
        let found = service(
            "db:\n  image: x\n  command: [postgres, -p, 5433]\n  labels: {team: data}\n",
            &[],
            dir.path(),
        )
        .unwrap();
        assert_eq!(found.command, Some(strings(&["postgres", "-p", "5433"])));
        assert_eq!(found.labels["team"], "data");
        assert_eq!(found.command.as_ref().map(Vec::len), Some(3));
    }

    #[test]
    fn missing_image_and_wrong_types_name_the_field() {
        let dir = tempfile::tempdir().unwrap();
        let err = service("db:\n  build: .\n", &[], dir.path()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "c.yaml:2:3: services.db: no `image:`; devdb runs images and does not build them"
        );
        let err = service("db:\n  image: x\n  environment: 5\n", &[], dir.path()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "c.yaml:3:16: services.db.environment: expected a mapping or a list of KEY=value, \
             found a number"
        );
    }
}
