//! devdb's own settings: the `x-devdb:` block, the database service, the project name and the
//! `DEVDB_*` overrides.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::error::{ConfigError, SourceLocation};
use super::mounts::normalize;
use super::project::Service;
use super::reader::Reader;
use super::yaml::Node;
use crate::suggest::closest;

const KEYS: [&str; 6] = [
    "database",
    "migrations",
    "seeds",
    "schema",
    "record_schema",
    "backups",
];

/// The `x-devdb:` block as written.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct DevdbBlock {
    pub database: Option<String>,
    pub migrations: Option<String>,
    pub seeds: Option<String>,
    /// The declarative schema: one `.sql` file or a folder of them.
    pub schema: Option<String>,
    /// The schema holding devdb's record table.
    pub record_schema: Option<String>,
    pub backups: Option<String>,
}

pub(crate) fn read_devdb_block(
    reader: Reader<'_>,
    node: Option<&Node>,
) -> Result<DevdbBlock, ConfigError> {
    let mut block = DevdbBlock::default();
    let Some(node) = node else {
        return Ok(block);
    };
    for (key, value) in reader.optional_map(node, "x-devdb")? {
        let field = format!("x-devdb.{key}");
        let slot = match key.as_str() {
            "database" => &mut block.database,
            "migrations" => &mut block.migrations,
            "seeds" => &mut block.seeds,
            "schema" => &mut block.schema,
            "record_schema" => &mut block.record_schema,
            "backups" => &mut block.backups,
            _ => {
                return Err(ConfigError::UnknownSetting {
                    at: reader.at(value),
                    key: key.clone(),
                    suggestion: suggest(key),
                });
            }
        };
        *slot = Some(reader.string(value, &field)?);
    }
    Ok(block)
}

fn suggest(key: &str) -> String {
    match closest(key, KEYS, |_| 2) {
        Some(known) => format!("did you mean `{known}`?"),
        None => format!("known keys: {}", KEYS.join(", ")),
    }
}

/// The Postgres service: `x-devdb.database`, else the only service, else the one named `db`,
/// `postgres` or `database`, else the one whose image mentions postgres.
pub(crate) fn choose_database(
    explicit: Option<&str>,
    services: &BTreeMap<String, Service>,
    at: SourceLocation,
) -> Result<String, ConfigError> {
    let names = || services.keys().cloned().collect::<Vec<_>>();
    let error = |message: String| ConfigError::DatabaseService {
        at: at.clone(),
        message,
        services: names(),
    };
    if let Some(name) = explicit {
        return if services.contains_key(name) {
            Ok(name.to_owned())
        } else {
            Err(error(format!(
                "x-devdb.database names {name:?}, which is not a service"
            )))
        };
    }
    if services.is_empty() {
        return Err(error("the compose file has no services".to_owned()));
    }
    if services.len() == 1 {
        return Ok(names().remove(0));
    }
    let by_name: Vec<&String> = ["db", "postgres", "database"]
        .iter()
        .filter_map(|candidate| services.get_key_value(*candidate).map(|(k, _)| k))
        .collect();
    let by_image: Vec<&String> = services
        .values()
        .filter(|s| s.image.contains("postgres"))
        .map(|s| &s.name)
        .collect();
    match (by_name.as_slice(), by_image.as_slice()) {
        ([one], _) | ([], [one]) => Ok((*one).clone()),
        _ => Err(error(
            "cannot tell which service is the database; set `x-devdb: {database: <service>}`"
                .to_owned(),
        )),
    }
}

/// The project name as docker compose derives it from a folder name: lowercase, only
/// `a-z0-9_-`, leading `_`/`-` removed.
pub(crate) fn normalize_project_name(raw: &str) -> String {
    raw.to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == '-')
        .collect::<String>()
        .trim_start_matches(['_', '-'])
        .to_owned()
}

/// A name given explicitly (`-p`, `COMPOSE_PROJECT_NAME`, `name:`) must already be valid.
pub(crate) fn check_project_name(name: &str, origin: &str) -> Result<String, ConfigError> {
    let valid = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if valid {
        Ok(name.to_owned())
    } else {
        Err(ConfigError::InvalidProjectName {
            name: name.to_owned(),
            origin: origin.to_owned(),
        })
    }
}

/// The folder the project lives in: the parent of a `compose/` folder holding the compose file,
/// else the compose file's folder.
pub(crate) fn project_root(project_dir: &Path, has_compose_file: bool) -> PathBuf {
    match project_dir.parent() {
        Some(parent) if has_compose_file && project_dir.file_name() == Some("compose".as_ref()) => {
            parent.to_path_buf()
        }
        _ => project_dir.to_path_buf(),
    }
}

pub(crate) fn resolve_dir(
    project_dir: &Path,
    configured: Option<&str>,
    default: PathBuf,
) -> PathBuf {
    configured.map_or(default, |path| normalize(&project_dir.join(path)))
}

pub(crate) fn port_override(value: Option<&String>) -> Result<Option<u16>, ConfigError> {
    let Some(value) = value.filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    match value.parse::<u16>() {
        Ok(port) if port > 0 => Ok(Some(port)),
        _ => Err(ConfigError::InvalidOverride {
            variable: "DEVDB_PORT".to_owned(),
            value: value.clone(),
            reason: "expected a port number (1-65535)".to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::yaml::parse;

    fn service(name: &str, image: &str) -> (String, Service) {
        let service = Service {
            name: name.to_owned(),
            image: image.to_owned(),
            environment: BTreeMap::new(),
            ports: vec![],
            volumes: vec![],
            command: None,
            healthcheck: None,
            labels: BTreeMap::new(),
        };
        (name.to_owned(), service)
    }

    fn choose(explicit: Option<&str>, services: &[(&str, &str)]) -> Result<String, String> {
        let services = services.iter().map(|(n, i)| service(n, i)).collect();
        choose_database(explicit, &services, SourceLocation::file("c.yaml"))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn database_service_selection() {
        assert_eq!(choose(None, &[("app", "nginx")]), Ok("app".into()));
        assert_eq!(
            choose(None, &[("db", "mysql"), ("pg", "postgres:17")]),
            Ok("db".into())
        );
        assert_eq!(
            choose(None, &[("postgres", "x"), ("web", "y")]),
            Ok("postgres".into())
        );
        assert!(choose(None, &[("store", "postgis/postgis:16"), ("web", "y")]).is_err());
        assert_eq!(
            choose(None, &[("store", "postgres:16"), ("web", "y")]),
            Ok("store".into())
        );
        assert_eq!(
            choose(Some("web"), &[("db", "postgres"), ("web", "y")]),
            Ok("web".into())
        );
        assert_eq!(
            choose(None, &[("a", "postgres:16"), ("b", "postgres:17")]),
            Err(
                "c.yaml: cannot tell which service is the database; set `x-devdb: {database: \
                 <service>}`; services: a, b"
                    .into()
            )
        );
        assert_eq!(
            choose(None, &[("db", "x"), ("postgres", "y")]),
            Err(
                "c.yaml: cannot tell which service is the database; set `x-devdb: {database: \
                 <service>}`; services: db, postgres"
                    .into()
            )
        );
        assert_eq!(
            choose(Some("pg"), &[("db", "x")]),
            Err(
                "c.yaml: x-devdb.database names \"pg\", which is not a service; services: db"
                    .into()
            )
        );
        assert_eq!(
            choose(None, &[]),
            Err("c.yaml: the compose file has no services; services: ".into())
        );
    }

    #[test]
    fn project_name_normalisation_and_validation() {
        assert_eq!(normalize_project_name("My App.v2"), "myappv2");
        assert_eq!(normalize_project_name("__x-y_z"), "x-y_z");
        assert_eq!(normalize_project_name("Été"), "t");
        assert_eq!(check_project_name("my_app-2", "-p").unwrap(), "my_app-2");
        for bad in ["MyApp", "-app", "_app", "my app", ""] {
            let err = check_project_name(bad, "-p").unwrap_err().to_string();
            assert!(
                err.contains("may contain only lowercase letters, digits, dashes"),
                "{err}"
            );
        }
    }

    #[test]
    fn devdb_block_reads_keys_and_suggests_for_typos() {
        let file = Path::new("c.yaml");
        let root = parse(
            "x-devdb:\n  database: pg\n  schema: db/schema.sql\n  record_schema: devdb\n",
            file,
        )
        .unwrap();
        let block = read_devdb_block(Reader { file }, root.get("x-devdb")).unwrap();
        assert_eq!(block.database.as_deref(), Some("pg"));
        assert_eq!(block.schema.as_deref(), Some("db/schema.sql"));
        assert_eq!(block.record_schema.as_deref(), Some("devdb"));
        assert_eq!(block.migrations, None);

        let root = parse("x-devdb:\n  migration: ../m\n", file).unwrap();
        let err = read_devdb_block(Reader { file }, root.get("x-devdb")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "c.yaml:2:14: unknown x-devdb key `migration`; did you mean `migrations`?"
        );
        let root = parse("x-devdb:\n  flavour: x\n", file).unwrap();
        let err = read_devdb_block(Reader { file }, root.get("x-devdb")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "c.yaml:2:12: unknown x-devdb key `flavour`; known keys: database, migrations, seeds, schema, record_schema, backups"
        );
    }

    #[test]
    fn project_root_skips_a_compose_folder() {
        assert_eq!(project_root(Path::new("/p/compose"), true), Path::new("/p"));
        assert_eq!(
            project_root(Path::new("/p/compose"), false),
            Path::new("/p/compose")
        );
        assert_eq!(
            project_root(Path::new("/p/deploy"), true),
            Path::new("/p/deploy")
        );
    }

    #[test]
    fn port_override_parsing() {
        assert_eq!(port_override(None).unwrap(), None);
        assert_eq!(port_override(Some(&String::new())).unwrap(), None);
        assert_eq!(port_override(Some(&"6543".to_owned())).unwrap(), Some(6543));
        let err = port_override(Some(&"abc".to_owned())).unwrap_err();
        assert_eq!(
            err.to_string(),
            "DEVDB_PORT=\"abc\" is invalid: expected a port number (1-65535)"
        );
    }
}
