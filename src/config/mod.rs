//! The project's configuration: compose file, `.env`, interpolation and devdb's own settings.
//!
//! [`load`] finds the compose file (or falls back to an embedded default), reads the `.env`
//! variables, parses the YAML into a tree that keeps line numbers, interpolates every string
//! value with Compose's rules, and reads the subset of Compose that devdb runs into a
//! [`Project`] with all defaults resolved. Nothing here touches the process environment.

mod env;
mod error;
mod healthcheck;
mod interpolate;
mod mounts;
mod ports;
mod project;
mod reader;
mod service;
mod settings;
#[cfg(test)]
mod tests;
mod yaml;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub(crate) use error::{ConfigError, SourceLocation};
pub(crate) use healthcheck::parse_duration;
pub(crate) use project::{ConfiguredUrl, Credentials, Mount, PortSpec, Project, Service, Settings};

use interpolate::{InterpolationError, interpolate_tree};
use mounts::{MountContext, read_volume_defs};
use reader::Reader;
use service::{ServiceContext, read_service};
use yaml::Value;

/// The compose file used when the project has none.
pub(crate) const DEFAULT_COMPOSE: &str = include_str!("default.yaml");

/// How the embedded default is named in error messages.
const DEFAULT_COMPOSE_NAME: &str = "<devdb default compose file>";

/// Compose file names tried in order, relative to the working directory.
const COMPOSE_CANDIDATES: [&str; 6] = [
    "compose/compose.yaml",
    "compose/compose.yml",
    "compose.yaml",
    "compose.yml",
    "docker-compose.yaml",
    "docker-compose.yml",
];

/// What `load` needs from the command line and the environment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LoadOptions {
    /// The working directory.
    pub dir: PathBuf,
    /// `-f FILE`, relative to `dir`.
    pub file: Option<PathBuf>,
    /// `-p NAME`.
    pub project_name: Option<String>,
    /// `--env-file`, relative to `dir`; when empty, `dir/.env` is read if it exists.
    pub env_files: Vec<PathBuf>,
    /// A snapshot of the process environment; it wins over `.env` values.
    pub environment: BTreeMap<String, String>,
}

/// Reads the project's configuration.
pub fn load(opts: &LoadOptions) -> Result<Project, ConfigError> {
    let dir = std::path::absolute(&opts.dir).map_err(|source| ConfigError::ReadFile {
        path: opts.dir.clone(),
        source,
    })?;
    let (vars, database_url) = variables(&dir, opts)?;

    let compose_file = find_compose_file(&dir, opts.file.as_deref())?;
    let (text, shown, project_dir) = match &compose_file {
        Some(path) => {
            let shown = shown_path(&dir, path);
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::ReadFile {
                path: shown.clone(),
                source,
            })?;
            let project_dir = path.parent().map_or_else(|| dir.clone(), Path::to_path_buf);
            (text, shown, project_dir)
        }
        None => (
            DEFAULT_COMPOSE.to_owned(),
            PathBuf::from(DEFAULT_COMPOSE_NAME),
            dir.clone(),
        ),
    };
    let reader = Reader { file: &shown };

    let mut root = yaml::parse(&text, &shown)?;
    interpolate_tree(&mut root, &vars).map_err(|(node, err)| match err {
        InterpolationError::Required { variable, message } => ConfigError::MissingVariable {
            at: reader.at(&node),
            variable,
            message,
        },
        InterpolationError::Invalid(reason) => ConfigError::Interpolation {
            at: reader.at(&node),
            text: node.scalar_text().unwrap_or_default(),
            reason,
        },
    })?;
    if !matches!(root.value, Value::Map(_)) {
        return Err(reader.expected(&root, "(top level)", "a mapping with `services:`"));
    }

    let volumes = match root.get("volumes") {
        Some(node) => read_volume_defs(reader, node)?,
        None => BTreeMap::new(),
    };
    let ctx = ServiceContext {
        mounts: MountContext {
            project_dir: &project_dir,
            volumes: &volumes,
            home: vars.get("HOME").map(String::as_str),
        },
        vars: &vars,
        dir: &dir,
    };
    let mut services = BTreeMap::new();
    if let Some(node) = root.get("services") {
        for (name, service) in reader.optional_map(node, "services")? {
            services.insert(name.clone(), read_service(reader, name, service, &ctx)?);
        }
    }

    let block = settings::read_devdb_block(reader, root.get("x-devdb"))?;
    let root_dir = settings::project_root(&project_dir, compose_file.is_some());
    let name = project_name(opts, &vars, &root, reader, &root_dir)?;
    let database = settings::choose_database(
        block.database.as_deref(),
        &services,
        SourceLocation::file(&shown),
    )?;
    let migrations = settings::resolve_dir(
        &project_dir,
        block.migrations.as_deref(),
        root_dir.join("migrations"),
    );
    let settings = Settings {
        database,
        seeds: settings::resolve_dir(
            &project_dir,
            block.seeds.as_deref(),
            migrations.join("seeds"),
        ),
        migrations,
        backups: settings::resolve_dir(
            &project_dir,
            block.backups.as_deref(),
            root_dir.join("backups"),
        ),
        declarative_schema: block
            .schema
            .as_deref()
            .map(|path| settings::resolve_dir(&project_dir, Some(path), PathBuf::new())),
        version_schema: block.record_schema.unwrap_or_else(|| "public".to_owned()),
        image_override: vars.get("DEVDB_IMAGE").filter(|v| !v.is_empty()).cloned(),
        port_override: settings::port_override(vars.get("DEVDB_PORT"))?,
    };
    Ok(Project {
        name,
        compose_file,
        project_dir,
        services,
        volumes,
        settings,
        database_url,
    })
}

/// `.env` (or the `--env-file`s, in order) with the process environment over them, and
/// where `DATABASE_URL` among them came from.
fn variables(
    dir: &Path,
    opts: &LoadOptions,
) -> Result<(BTreeMap<String, String>, Option<ConfiguredUrl>), ConfigError> {
    let files: Vec<PathBuf> = if opts.env_files.is_empty() {
        Some(dir.join(".env"))
            .filter(|p| p.is_file())
            .into_iter()
            .collect()
    } else {
        opts.env_files.iter().map(|f| dir.join(f)).collect()
    };
    let mut vars = BTreeMap::new();
    let mut database_url = None;
    for file in files {
        let shown = shown_path(dir, &file);
        let values = env::read_env_file(&file, &shown)?;
        if let Some(text) = values.get(DATABASE_URL).filter(|t| !t.is_empty()) {
            database_url = Some(ConfiguredUrl {
                text: text.clone(),
                env_file: Some(shown),
            });
        }
        vars.extend(values);
    }
    // Set in the environment, even empty, it overrides the files, as every variable does.
    if let Some(text) = opts.environment.get(DATABASE_URL) {
        database_url = (!text.is_empty()).then(|| ConfiguredUrl {
            text: text.clone(),
            env_file: None,
        });
    }
    vars.extend(opts.environment.iter().map(|(k, v)| (k.clone(), v.clone())));
    Ok((vars, database_url))
}

/// The variable that names a server by URL, as apps and devdb's own `url` use it.
const DATABASE_URL: &str = "DATABASE_URL";

fn find_compose_file(dir: &Path, file: Option<&Path>) -> Result<Option<PathBuf>, ConfigError> {
    if let Some(file) = file {
        let path = mounts::normalize(&dir.join(file));
        return if path.is_file() {
            Ok(Some(path))
        } else {
            Err(ConfigError::ComposeFileMissing {
                path: file.to_path_buf(),
            })
        };
    }
    // A folder where the compose file belongs is a mistake to name, not a file to skip.
    match COMPOSE_CANDIDATES
        .iter()
        .map(|candidate| dir.join(candidate))
        .find(|path| path.exists())
    {
        Some(path) if !path.is_file() => Err(ConfigError::ReadFile {
            path: shown_path(dir, &path),
            source: std::io::Error::other("it is a folder, not a file"),
        }),
        found => Ok(found),
    }
}

/// `-p`, then `COMPOSE_PROJECT_NAME`, then `name:`, then the project folder's name.
fn project_name(
    opts: &LoadOptions,
    vars: &BTreeMap<String, String>,
    root: &yaml::Node,
    reader: Reader<'_>,
    root_dir: &Path,
) -> Result<String, ConfigError> {
    if let Some(name) = &opts.project_name {
        return settings::check_project_name(name, "-p");
    }
    if let Some(name) = vars.get("COMPOSE_PROJECT_NAME").filter(|n| !n.is_empty()) {
        return settings::check_project_name(name, "COMPOSE_PROJECT_NAME");
    }
    if let Some(node) = root.get("name") {
        let name = reader.string(node, "name")?;
        return settings::check_project_name(&name, &format!("`name:` in {}", reader.at(node)));
    }
    let folder = root_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = settings::normalize_project_name(&folder);
    if name.is_empty() {
        return Err(ConfigError::InvalidProjectName {
            name: folder,
            origin: "the folder name; set `name:` or use -p".to_owned(),
        });
    }
    Ok(name)
}

/// `path` relative to the working directory when it is inside it, for messages.
pub(crate) fn shown_path(dir: &Path, path: &Path) -> PathBuf {
    path.strip_prefix(dir).unwrap_or(path).to_path_buf()
}
