//! Service `volumes:` (short `source:target[:mode]` and long `{type, source, target,
//! read_only}` syntax) and the top-level `volumes:` they refer to.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use super::error::ConfigError;
use super::project::{Mount, VolumeDef};
use super::reader::Reader;
use super::yaml::{Node, Value};

/// What service mounts need to know to resolve their sources.
pub(crate) struct MountContext<'a> {
    pub project_dir: &'a Path,
    pub volumes: &'a BTreeMap<String, VolumeDef>,
    /// For `~/...` bind sources.
    pub home: Option<&'a str>,
}

pub(crate) fn read_mounts(
    reader: Reader<'_>,
    node: &Node,
    field: &str,
    ctx: &MountContext<'_>,
) -> Result<Vec<Mount>, ConfigError> {
    if node.value == Value::Null {
        return Ok(Vec::new());
    }
    let mut mounts = Vec::new();
    for (i, item) in reader
        .seq(node, field, "a list of volumes")?
        .iter()
        .enumerate()
    {
        let field = format!("{field}[{i}]");
        let mount = match &item.value {
            Value::Str(text) => parse_short(text, ctx),
            Value::Map(_) => read_long(reader, item, &field, ctx)?,
            _ => return Err(reader.expected(item, &field, "a volume like \"pgdata:/data\"")),
        };
        mounts.push(mount.map_err(|message| reader.invalid(item, &field, message))?);
    }
    Ok(mounts)
}

fn parse_short(text: &str, ctx: &MountContext<'_>) -> Result<Mount, String> {
    let parts: Vec<&str> = text.split(':').collect();
    let (source, target, mode) = match parts.as_slice() {
        [target] => return anonymous(target),
        [source, target] => (*source, *target, ""),
        [source, target, mode] => (*source, *target, *mode),
        _ => {
            return Err(format!(
                "invalid volume {text:?}: expected source:target[:mode]"
            ));
        }
    };
    let read_only = mode.split(',').any(|option| option == "ro");
    source_mount(source, target, read_only, ctx)
}

fn anonymous(target: &str) -> Result<Mount, String> {
    check_target(target)?;
    Ok(Mount::Anonymous {
        target: target.to_owned(),
    })
}

fn check_target(target: &str) -> Result<(), String> {
    if target.starts_with('/') {
        Ok(())
    } else {
        Err(format!("the container path {target:?} must be absolute"))
    }
}

/// A path-like source is a bind mount, anything else names a top-level volume.
fn source_mount(
    source: &str,
    target: &str,
    read_only: bool,
    ctx: &MountContext<'_>,
) -> Result<Mount, String> {
    check_target(target)?;
    let target = target.to_owned();
    if source.starts_with(['.', '/', '~']) {
        Ok(Mount::Bind {
            source: bind_source(source, ctx)?,
            target,
            read_only,
        })
    } else if ctx.volumes.contains_key(source) {
        Ok(Mount::Volume {
            source: source.to_owned(),
            target,
            read_only,
        })
    } else {
        Err(format!(
            "volume {source:?} is not declared in the top-level `volumes:` section"
        ))
    }
}

fn bind_source(source: &str, ctx: &MountContext<'_>) -> Result<PathBuf, String> {
    let path = if let Some(rest) = source.strip_prefix('~') {
        let home = ctx
            .home
            .ok_or_else(|| format!("cannot resolve {source:?}: HOME is not set"))?;
        Path::new(home).join(rest.trim_start_matches('/'))
    } else {
        ctx.project_dir.join(source)
    };
    Ok(normalize(&path))
}

fn read_long(
    reader: Reader<'_>,
    node: &Node,
    field: &str,
    ctx: &MountContext<'_>,
) -> Result<Result<Mount, String>, ConfigError> {
    let mut kind = None;
    let mut source = None;
    let mut target = None;
    let mut read_only = false;
    for (key, value) in reader.map(node, field)? {
        let field = format!("{field}.{key}");
        match key.as_str() {
            "type" => kind = Some(reader.string(value, &field)?),
            "source" => source = Some(reader.string(value, &field)?),
            "target" => target = Some(reader.string(value, &field)?),
            "read_only" => read_only = reader.boolean(value, &field)?,
            _ => {}
        }
    }
    let Some(target) = target else {
        return Ok(Err("a volume needs a `target`".to_owned()));
    };
    Ok(match (kind.as_deref(), source) {
        (Some("volume") | None, None) => anonymous(&target),
        (Some("volume") | None, Some(source)) if !source.starts_with(['.', '/', '~']) => {
            source_mount(&source, &target, read_only, ctx)
        }
        (Some("volume"), Some(source)) => Err(format!(
            "{source:?} is a path: use `type: bind` for a host folder"
        )),
        (Some("bind") | None, Some(source)) => check_target(&target).and_then(|()| {
            Ok(Mount::Bind {
                source: bind_source(&source, ctx)?,
                target,
                read_only,
            })
        }),
        (Some("bind"), None) => Err("a bind mount needs a `source`".to_owned()),
        (Some("tmpfs"), _) => check_target(&target).map(|()| Mount::Tmpfs { target }),
        (Some(other), _) => Err(format!(
            "volume type {other:?} is not supported: use volume, bind or tmpfs"
        )),
    })
}

/// Removes `.` and resolves `..` without touching the file system (the folder may not exist yet).
pub(crate) fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// The top-level `volumes:` mapping.
pub(crate) fn read_volume_defs(
    reader: Reader<'_>,
    node: &Node,
) -> Result<BTreeMap<String, VolumeDef>, ConfigError> {
    let mut defs = BTreeMap::new();
    for (key, value) in reader.optional_map(node, "volumes")? {
        let field = format!("volumes.{key}");
        let mut def = VolumeDef::default();
        for (attr, attr_value) in reader.optional_map(value, &field)? {
            let field = format!("{field}.{attr}");
            match attr.as_str() {
                "name" => def.name = Some(reader.string(attr_value, &field)?),
                "external" => match &attr_value.value {
                    // The legacy form `external: {name: x}`.
                    Value::Map(_) => {
                        def.external = true;
                        if let Some(name) = attr_value.get("name") {
                            def.name = Some(reader.string(name, &format!("{field}.name"))?);
                        }
                    }
                    _ => def.external = reader.boolean(attr_value, &field)?,
                },
                "labels" => {
                    def.labels = reader
                        .key_values(attr_value, &field, |_| Some(String::new()))?
                        .into_iter()
                        .collect();
                }
                _ => {}
            }
        }
        defs.insert(key.clone(), def);
    }
    Ok(defs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::yaml::parse;

    fn mounts(yaml: &str) -> Result<Vec<Mount>, ConfigError> {
        let file = Path::new("c.yaml");
        let reader = Reader { file };
        let root = parse(yaml, file).unwrap();
        let volumes = read_volume_defs(reader, root.get("volumes").unwrap())?;
        let ctx = MountContext {
            project_dir: Path::new("/proj/compose"),
            volumes: &volumes,
            home: Some("/home/me"),
        };
        read_mounts(
            reader,
            root.get("mounts").unwrap(),
            "services.db.volumes",
            &ctx,
        )
    }

    fn bind(source: &str, target: &str, read_only: bool) -> Mount {
        Mount::Bind {
            source: source.into(),
            target: target.into(),
            read_only,
        }
    }

    #[test]
    fn short_syntax() {
        let found = mounts(concat!(
            "volumes: {pgdata: }\n",
            "mounts:\n",
            "  - pgdata:/var/lib/postgresql/data\n",
            "  - ./init:/docker-entrypoint-initdb.d:ro\n",
            "  - ../seed:/seed:rw,z\n",
            "  - /abs:/x\n",
            "  - ~/dumps:/dumps:ro\n",
            "  - /scratch\n",
        ))
        .unwrap();
        assert_eq!(
            found,
            vec![
                Mount::Volume {
                    source: "pgdata".into(),
                    target: "/var/lib/postgresql/data".into(),
                    read_only: false
                },
                bind("/proj/compose/init", "/docker-entrypoint-initdb.d", true),
                bind("/proj/seed", "/seed", false),
                bind("/abs", "/x", false),
                bind("/home/me/dumps", "/dumps", true),
                Mount::Anonymous {
                    target: "/scratch".into()
                },
            ]
        );
    }

    #[test]
    fn long_syntax() {
        let found = mounts(concat!(
            "volumes: {pgdata: }\n",
            "mounts:\n",
            "  - {type: volume, source: pgdata, target: /data, read_only: true}\n",
            "  - {type: bind, source: ./init, target: /init}\n",
            "  - {type: tmpfs, target: /tmp}\n",
            "  - {type: volume, target: /anon}\n",
        ))
        .unwrap();
        assert_eq!(
            found,
            vec![
                Mount::Volume {
                    source: "pgdata".into(),
                    target: "/data".into(),
                    read_only: true
                },
                bind("/proj/compose/init", "/init", false),
                Mount::Tmpfs {
                    target: "/tmp".into()
                },
                Mount::Anonymous {
                    target: "/anon".into()
                },
            ]
        );
    }

    #[test]
    fn undeclared_named_volume_is_an_error() {
        let err = mounts("volumes:\nmounts:\n  - data:/var/lib/postgresql/data\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "c.yaml:3:5: services.db.volumes[0]: volume \"data\" is not declared in the \
             top-level `volumes:` section"
        );
    }

    #[test]
    fn relative_container_path_and_unknown_type_are_errors() {
        let err = mounts("volumes:\nmounts: [\"./x:data\"]\n").unwrap_err();
        assert!(
            err.to_string()
                .contains("the container path \"data\" must be absolute"),
            "{err}"
        );
        let err = mounts("volumes:\nmounts: [{type: npipe, source: x, target: /x}]\n").unwrap_err();
        assert!(
            err.to_string()
                .contains("volume type \"npipe\" is not supported"),
            "{err}"
        );
    }

    #[test]
    fn top_level_volume_definitions() {
        let file = Path::new("c.yaml");
        let root = parse(
            concat!(
                "volumes:\n",
                "  plain:\n",
                "  named: {name: my-data, labels: {team: db}}\n",
                "  ext: {external: true}\n",
                "  legacy: {external: {name: old-data}}\n",
            ),
            file,
        )
        .unwrap();
        let defs = read_volume_defs(Reader { file }, root.get("volumes").unwrap()).unwrap();
        assert_eq!(defs["plain"], VolumeDef::default());
        assert_eq!(defs["named"].name.as_deref(), Some("my-data"));
        assert_eq!(defs["named"].labels["team"], "db");
        assert!(!defs["named"].external);
        assert!(defs["ext"].external);
        assert_eq!(defs["ext"].name, None);
        assert!(defs["legacy"].external);
        assert_eq!(defs["legacy"].name.as_deref(), Some("old-data"));
    }
}
