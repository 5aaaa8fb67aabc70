//! Tests of `load` as a whole, on throwaway project folders.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::project::VolumeDef;
use super::*;

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    /// A project folder named `My-Project` (to exercise name normalisation).
    fn new() -> Self {
        let dir = tempfile::Builder::new().prefix("tmp").tempdir().unwrap();
        let fixture = Fixture { dir };
        std::fs::create_dir(fixture.root()).unwrap();
        fixture
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("My-Project")
    }

    fn write(&self, path: &str, text: &str) -> &Self {
        let full = self.root().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, text).unwrap();
        self
    }

    fn options(&self) -> LoadOptions {
        LoadOptions {
            dir: self.root(),
            ..LoadOptions::default()
        }
    }

    fn load(&self) -> Result<Project, ConfigError> {
        load(&self.options())
    }
}

fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

const MINIMAL: &str = "services:\n  db:\n    image: postgres:16\n";

#[test]
fn embedded_default_in_an_empty_folder() {
    let fixture = Fixture::new();
    let project = fixture.load().unwrap();
    let root = fixture.root();
    assert_eq!(project.name, "my-project");
    assert_eq!(project.compose_file, None);
    assert_eq!(project.project_dir, root);
    assert_eq!(project.settings.database, "db");
    assert_eq!(project.settings.migrations, root.join("migrations"));
    assert_eq!(project.settings.seeds, root.join("migrations/seeds"));
    assert_eq!(project.settings.backups, root.join("backups"));
    assert_eq!(project.settings.version_schema, "public");
    let db = project.database_service();
    assert_eq!(db.image, "postgres:17");
    assert_eq!(
        db.ports,
        vec![PortSpec {
            host_ip: Some("127.0.0.1".into()),
            host_port: None,
            container_port: 5432,
            protocol: "tcp".into()
        }]
    );
    assert_eq!(
        db.volumes,
        vec![Mount::Volume {
            source: "pgdata".into(),
            target: "/var/lib/postgresql/data".into(),
            read_only: false
        }]
    );
    assert_eq!(project.volumes.keys().collect::<Vec<_>>(), vec!["pgdata"]);
    let health = db.healthcheck.clone().unwrap();
    assert_eq!(
        health.test,
        vec!["CMD-SHELL", "pg_isready -U ${POSTGRES_USER}"]
    );
    assert_eq!(health.interval, Some(Duration::from_secs(1)));
    assert_eq!(
        project.credentials(),
        Credentials {
            user: "postgres".into(),
            password: "postgres".into(),
            database: "app".into()
        }
    );
}

#[test]
fn embedded_default_takes_credentials_from_env_file_and_environment() {
    let fixture = Fixture::new();
    fixture.write(".env", "POSTGRES_USER=alice\nPOSTGRES_DB=from_file\n");
    let mut options = fixture.options();
    options.environment = env(&[("POSTGRES_DB", "from_env")]);
    let project = load(&options).unwrap();
    assert_eq!(
        project.credentials(),
        Credentials {
            user: "alice".into(),
            password: "postgres".into(),
            database: "from_env".into()
        }
    );
}

#[test]
fn env_file_option_replaces_dot_env() {
    let fixture = Fixture::new();
    fixture
        .write(".env", "POSTGRES_USER=from_dot_env\nPOSTGRES_DB=dot\n")
        .write("ci.env", "POSTGRES_USER=from_ci\n")
        .write(
            "more.env",
            "POSTGRES_USER=from_more\nPOSTGRES_PASSWORD=secret\n",
        );
    let mut options = fixture.options();
    options.env_files = vec!["ci.env".into()];
    let credentials = load(&options).unwrap().credentials();
    assert_eq!(credentials.user, "from_ci");
    assert_eq!(credentials.database, "app", ".env must not be read");

    options.env_files = vec!["ci.env".into(), "more.env".into()];
    let credentials = load(&options).unwrap().credentials();
    assert_eq!(credentials.user, "from_more");
    assert_eq!(credentials.password, "secret");

    options.env_files = vec!["absent.env".into()];
    let err = load(&options).unwrap_err().to_string();
    assert!(err.starts_with("cannot read absent.env:"), "{err}");
}

#[test]
fn malformed_dot_env_names_file_and_line() {
    let fixture = Fixture::new();
    fixture.write(".env", "A=1\nB C\n");
    let err = fixture.load().unwrap_err().to_string();
    assert!(err.starts_with(".env:2: cannot parse `B C`"), "{err}");
}

#[test]
fn compose_file_lookup_order() {
    let fixture = Fixture::new();
    let image_of = |fixture: &Fixture| fixture.load().unwrap().database_service().image.clone();
    fixture.write("docker-compose.yml", "services: {db: {image: dcyml}}\n");
    assert_eq!(image_of(&fixture), "dcyml");
    fixture.write("docker-compose.yaml", "services: {db: {image: dcyaml}}\n");
    assert_eq!(image_of(&fixture), "dcyaml");
    fixture.write("compose.yml", "services: {db: {image: cyml}}\n");
    assert_eq!(image_of(&fixture), "cyml");
    fixture.write("compose.yaml", "services: {db: {image: cyaml}}\n");
    assert_eq!(image_of(&fixture), "cyaml");
    fixture.write("compose/compose.yml", "services: {db: {image: sub-yml}}\n");
    assert_eq!(image_of(&fixture), "sub-yml");
    fixture.write(
        "compose/compose.yaml",
        "services: {db: {image: sub-yaml}}\n",
    );
    let project = fixture.load().unwrap();
    assert_eq!(project.database_service().image, "sub-yaml");
    assert_eq!(
        project.compose_file,
        Some(fixture.root().join("compose/compose.yaml"))
    );

    let mut options = fixture.options();
    options.file = Some("compose.yml".into());
    assert_eq!(load(&options).unwrap().database_service().image, "cyml");
    options.file = Some("nope.yaml".into());
    assert_eq!(
        load(&options).unwrap_err().to_string(),
        "compose file nope.yaml does not exist"
    );
}

#[test]
fn compose_folder_layout_resolves_paths_from_the_project_root() {
    let fixture = Fixture::new();
    fixture.write(
        "compose/compose.yaml",
        "services:\n  db:\n    image: postgres:17\n    volumes: [./init:/docker-entrypoint-initdb.d:ro]\n",
    );
    let project = fixture.load().unwrap();
    let root = fixture.root();
    assert_eq!(project.name, "my-project");
    assert_eq!(project.project_dir, root.join("compose"));
    assert_eq!(project.settings.migrations, root.join("migrations"));
    assert_eq!(project.settings.seeds, root.join("migrations/seeds"));
    assert_eq!(
        project.database_service().volumes,
        vec![Mount::Bind {
            source: root.join("compose/init"),
            target: "/docker-entrypoint-initdb.d".into(),
            read_only: true
        }]
    );

    fixture.write(
        "compose/compose.yaml",
        "services: {db: {image: x}}\nx-devdb: {migrations: ../db/revisions, seeds: ../db/seed, record_schema: devdb, schema: ../db/schema, backups: ../safe}\n",
    );
    let settings = fixture.load().unwrap().settings;
    assert_eq!(settings.backups, root.join("safe"));
    assert_eq!(settings.migrations, root.join("db/revisions"));
    assert_eq!(settings.seeds, root.join("db/seed"));
    assert_eq!(settings.version_schema, "devdb");
    assert_eq!(settings.declarative_schema, Some(root.join("db/schema")));
}

#[test]
fn project_name_precedence() {
    let fixture = Fixture::new();
    fixture.write("compose.yaml", &format!("name: from-file\n{MINIMAL}"));
    let mut options = fixture.options();
    assert_eq!(load(&options).unwrap().name, "from-file");
    options.environment = env(&[("COMPOSE_PROJECT_NAME", "from-env")]);
    assert_eq!(load(&options).unwrap().name, "from-env");
    options.project_name = Some("from-flag".into());
    assert_eq!(load(&options).unwrap().name, "from-flag");

    options.project_name = Some("Bad Name".into());
    let err = load(&options).unwrap_err().to_string();
    assert_eq!(
        err,
        "invalid project name \"Bad Name\" (from -p): a project name may contain only lowercase \
         letters, digits, dashes and underscores, and must start with a letter or digit"
    );

    fixture.write("compose.yaml", &format!("name: ${{APP:-Shop}}\n{MINIMAL}"));
    let err = fixture.load().unwrap_err().to_string();
    assert!(
        err.starts_with("invalid project name \"Shop\" (from `name:` in compose.yaml:1:7)"),
        "{err}"
    );

    fixture.write("compose.yaml", MINIMAL);
    assert_eq!(fixture.load().unwrap().name, "my-project");
}

#[test]
fn interpolation_uses_environment_over_dot_env() {
    let fixture = Fixture::new();
    fixture.write(".env", "TAG=16\nPORT=6000\n").write(
        "compose.yaml",
        concat!(
            "services:\n",
            "  db:\n",
            "    image: \"postgres:${TAG}\"\n",
            "    ports: [\"127.0.0.1:${PORT}:5432\"]\n",
            "    environment:\n",
            "      POSTGRES_PASSWORD: ${PW:-${FALLBACK:-pw}}\n",
            "      LITERAL: $$HOME\n",
        ),
    );
    let mut options = fixture.options();
    options.environment = env(&[("PORT", "7000")]);
    let project = load(&options).unwrap();
    let db = project.database_service();
    assert_eq!(db.image, "postgres:16");
    assert_eq!(db.ports[0].host_port, Some(7000));
    assert_eq!(db.environment["POSTGRES_PASSWORD"], "pw");
    assert_eq!(db.environment["LITERAL"], "$HOME");
}

#[test]
fn required_variable_error_names_file_and_variable() {
    let fixture = Fixture::new();
    fixture.write(
        "compose/compose.yaml",
        "services:\n  db:\n    image: postgres\n    environment:\n      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:?set it in .env}\n",
    );
    let err = fixture.load().unwrap_err().to_string();
    assert_eq!(
        err,
        "compose/compose.yaml:5:26: variable POSTGRES_PASSWORD is required: set it in .env"
    );
    fixture.write(
        "compose/compose.yaml",
        "services:\n  db:\n    image: post$1\n",
    );
    let err = fixture.load().unwrap_err().to_string();
    assert!(
        err.starts_with("compose/compose.yaml:3:12: invalid interpolation in \"post$1\": "),
        "{err}"
    );
}

#[test]
fn malformed_yaml_reports_line_and_column() {
    let fixture = Fixture::new();
    fixture.write(
        "compose.yaml",
        "services:\n  db:\n    image: postgres\n   ports: [\n",
    );
    let err = fixture.load().unwrap_err();
    let ConfigError::Syntax { at, .. } = &err else {
        panic!("expected a syntax error, got {err:?}")
    };
    assert_eq!(at.path, Path::new("compose.yaml"));
    assert!(matches!(at.line, Some(4 | 5)), "{err}");
    assert!(at.column.is_some(), "{err}");
}

#[test]
fn type_error_names_field_path_and_line() {
    let fixture = Fixture::new();
    fixture.write(
        "compose/compose.yaml",
        "services:\n  db:\n    image: postgres\n    ports: 5\n",
    );
    assert_eq!(
        fixture.load().unwrap_err().to_string(),
        "compose/compose.yaml:4:12: services.db.ports: expected a list of ports, found a number"
    );
}

#[test]
fn unknown_service_keys_are_ignored_and_devdb_keys_are_checked() {
    let fixture = Fixture::new();
    fixture.write(
        "compose.yaml",
        "services:\n  db:\n    image: postgres\n    restart: always\n    deploy: {replicas: 1}\nx-devdb:\n  databse: db\n",
    );
    assert_eq!(
        fixture.load().unwrap_err().to_string(),
        "compose.yaml:7:12: unknown x-devdb key `databse`; did you mean `database`?"
    );
}

#[test]
fn database_selection_through_load() {
    let fixture = Fixture::new();
    fixture.write(
        "compose.yaml",
        "services:\n  web: {image: nginx}\n  store: {image: \"postgres:17\", environment: [POSTGRES_USER=shop]}\n",
    );
    let project = fixture.load().unwrap();
    assert_eq!(project.settings.database, "store");
    assert_eq!(
        project.credentials(),
        Credentials {
            user: "shop".into(),
            password: String::new(),
            database: "shop".into()
        }
    );
    fixture.write(
        "compose.yaml",
        "services:\n  a: {image: postgres:16}\n  b: {image: postgres:17}\n",
    );
    let err = fixture.load().unwrap_err().to_string();
    assert!(err.ends_with("services: a, b"), "{err}");
}

#[test]
fn devdb_overrides_come_from_variables() {
    let fixture = Fixture::new();
    fixture.write(".env", "DEVDB_IMAGE=local/pg:17\nDEVDB_PORT=6000\n");
    let mut options = fixture.options();
    options.environment = env(&[("DEVDB_PORT", "6001")]);
    let settings = load(&options).unwrap().settings;
    assert_eq!(settings.image_override.as_deref(), Some("local/pg:17"));
    assert_eq!(settings.port_override, Some(6001));
    options.environment = env(&[("DEVDB_PORT", "nope")]);
    assert!(load(&options).is_err());
}

#[test]
fn named_volume_options_reach_the_project() {
    let fixture = Fixture::new();
    fixture.write(
        "compose.yaml",
        "services:\n  db: {image: postgres, volumes: [\"data:/var/lib/postgresql/data\"]}\nvolumes:\n  data: {name: shared-pg, external: true}\n",
    );
    let project = fixture.load().unwrap();
    assert_eq!(
        project.volumes["data"],
        VolumeDef {
            name: Some("shared-pg".into()),
            external: true,
            labels: BTreeMap::new()
        }
    );
}

#[test]
fn database_url_is_kept_with_where_it_came_from() {
    let fixture = Fixture::new();
    assert_eq!(fixture.load().unwrap().database_url, None);
    fixture
        .write(".env", "DATABASE_URL=postgresql://a@file/db\n")
        .write("ci.env", "DATABASE_URL=postgresql://a@ci/db\n")
        .write("empty.env", "DATABASE_URL=\n");
    let from_file = fixture.load().unwrap().database_url.unwrap();
    assert_eq!(from_file.text, "postgresql://a@file/db");
    assert_eq!(from_file.env_file, Some(PathBuf::from(".env")));
    let mut options = fixture.options();
    options.env_files = vec!["empty.env".into(), "ci.env".into()];
    let last_file = load(&options).unwrap().database_url.unwrap();
    assert_eq!(last_file.env_file, Some(PathBuf::from("ci.env")));
    options.environment = env(&[("DATABASE_URL", "postgresql://a@env/db")]);
    let from_env = load(&options).unwrap().database_url.unwrap();
    assert_eq!(
        (from_env.text.as_str(), from_env.env_file),
        ("postgresql://a@env/db", None)
    );
    // Set empty in the environment, it overrides the files as every variable does.
    options.environment = env(&[("DATABASE_URL", "")]);
    assert_eq!(load(&options).unwrap().database_url, None);
}
