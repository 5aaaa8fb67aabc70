//! Which engine devdb talks to, chosen exactly as the docker CLI chooses it: a non-empty
//! `DOCKER_HOST` (with `DOCKER_TLS_VERIFY` and `DOCKER_CERT_PATH`), else the context named
//! by a non-empty `DOCKER_CONTEXT`, else the `currentContext` of `$DOCKER_CONFIG/config.json`
//! (`~/.docker` by default), else the local socket. A context's endpoint is read from
//! `contexts/meta/<sha256 of its name>/meta.json` and its TLS files from
//! `contexts/tls/<sha256 of its name>/docker/`, where `docker context create` puts them.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{Exit, Failure};

/// The engine of the `default` context when `DOCKER_HOST` is not set.
pub(crate) const DEFAULT_SOCKET: &str = "unix:///var/run/docker.sock";
/// The context the docker CLI means when none is chosen: `DOCKER_HOST` or the local socket.
const DEFAULT_CONTEXT: &str = "default";

/// Where the engine is and how to talk to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Endpoint {
    /// `unix:///...`, `tcp://host:port` (a port is always given) or `ssh://[user@]host[:port]`.
    pub(crate) host: String,
    /// Set for a tcp engine spoken to over TLS.
    pub(crate) tls: Option<TlsFiles>,
    pub(crate) chosen_by: ChosenBy,
}

/// The CA that signed the engine's certificate, and the client's certificate and key (both
/// absent when the engine asks for no client certificate: bollard then sends none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TlsFiles {
    pub(crate) ca: PathBuf,
    pub(crate) cert: PathBuf,
    pub(crate) key: PathBuf,
}

/// What decided the engine, for `status` and for hints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ChosenBy {
    DockerHost,
    /// `DOCKER_CONTEXT=<name>`.
    ContextVariable(String),
    /// `currentContext` in the Docker config file.
    CurrentContext {
        name: String,
        config: PathBuf,
    },
    /// Nothing chose: the local socket.
    Default,
}

impl ChosenBy {
    /// A short tag for `--json`: `DOCKER_HOST`, `DOCKER_CONTEXT`, `config` or `default`.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            ChosenBy::DockerHost => "DOCKER_HOST",
            ChosenBy::ContextVariable(_) => "DOCKER_CONTEXT",
            ChosenBy::CurrentContext { .. } => "config",
            ChosenBy::Default => "default",
        }
    }

    /// The context's name, when a context chose the engine.
    pub(crate) fn context(&self) -> Option<&str> {
        match self {
            ChosenBy::ContextVariable(name) | ChosenBy::CurrentContext { name, .. } => Some(name),
            ChosenBy::DockerHost | ChosenBy::Default => None,
        }
    }
}

impl std::fmt::Display for ChosenBy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChosenBy::DockerHost => f.write_str("DOCKER_HOST"),
            ChosenBy::ContextVariable(name) => write!(f, "DOCKER_CONTEXT={name}"),
            ChosenBy::CurrentContext { name, config } => {
                write!(
                    f,
                    "context {name}, the current context in {}",
                    config.display()
                )
            }
            ChosenBy::Default => f.write_str("default"),
        }
    }
}

/// Why the engine's address could not be worked out.
#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    #[error("Docker context {name:?} (chosen by {chosen_by}) does not exist: there is no {}", meta.display())]
    NoContext {
        name: String,
        chosen_by: String,
        meta: PathBuf,
    },
    #[error("cannot read Docker context {name:?} from {}: {reason}", path.display())]
    BadContext {
        name: String,
        path: PathBuf,
        reason: String,
    },
    #[error("cannot read the Docker config file {}: {reason}", path.display())]
    BadConfig { path: PathBuf, reason: String },
    #[error("the TLS file {} for the Docker engine {host} is missing", path.display())]
    MissingTls {
        host: String,
        path: PathBuf,
        /// `DOCKER_CERT_PATH`, or the context whose TLS files these are.
        from: String,
    },
    #[error("the Docker engine address {host} (from {chosen_by}) is not supported: {reason}")]
    Unsupported {
        host: String,
        chosen_by: String,
        reason: String,
    },
}

/// Exit 3, as for an engine that does not answer: either way devdb cannot reach one.
impl Failure for EndpointError {
    fn exit(&self) -> Exit {
        Exit::EngineUnreachable
    }

    fn hint(&self) -> Option<String> {
        Some(match self {
            EndpointError::NoContext { .. } => "`docker context ls` lists the contexts there are; pick one with DOCKER_CONTEXT=<name> or `docker context use <name>`, or set DOCKER_HOST".to_string(),
            EndpointError::BadContext { name, .. } => format!(
                "recreate it with `docker context rm {name}` and `docker context create {name} --docker host=...`, or choose another with DOCKER_CONTEXT"
            ),
            EndpointError::BadConfig { .. } => {
                "fix the file's JSON, or point DOCKER_CONFIG at another folder".to_string()
            }
            EndpointError::MissingTls { from, .. } => format!(
                "{from} must hold ca.pem (the CA of the engine's certificate), and cert.pem with key.pem when the engine asks for a client certificate"
            ),
            EndpointError::Unsupported { .. } => "devdb speaks to unix://, tcp:// (plain, or TLS with DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH) and ssh://[user@]host[:port] engines".to_string(),
        })
    }
}

/// Picks the engine from the environment as the docker CLI does; `env` reads a variable.
pub(crate) fn resolve(env: &dyn Fn(&str) -> Option<String>) -> Result<Endpoint, EndpointError> {
    let var = |name: &str| env(name).filter(|v| !v.is_empty());
    let config_dir = match var("DOCKER_CONFIG") {
        Some(dir) => PathBuf::from(dir),
        None => var("HOME")
            .map(|home| Path::new(&home).join(".docker"))
            .unwrap_or_else(|| PathBuf::from(".docker")),
    };
    if let Some(host) = var("DOCKER_HOST") {
        let tls = match var("DOCKER_TLS_VERIFY") {
            None => None,
            Some(_) => {
                let dir = var("DOCKER_CERT_PATH")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| config_dir.clone());
                let from = format!("DOCKER_CERT_PATH ({})", dir.display());
                Some(tls_files(&host, &dir, &from)?)
            }
        };
        return endpoint(host, tls, ChosenBy::DockerHost);
    }
    let chosen_by = match var("DOCKER_CONTEXT") {
        Some(name) => ChosenBy::ContextVariable(name),
        None => {
            let path = config_dir.join("config.json");
            match current_context(&path)? {
                Some(name) => ChosenBy::CurrentContext { name, config: path },
                None => ChosenBy::Default,
            }
        }
    };
    match chosen_by.context() {
        None | Some(DEFAULT_CONTEXT) => endpoint(DEFAULT_SOCKET.to_string(), None, chosen_by),
        Some(name) => {
            let name = name.to_string();
            from_context(&config_dir, &name, chosen_by)
        }
    }
}

/// The `currentContext` of a Docker config file; none when the file does not exist.
fn current_context(path: &Path) -> Result<Option<String>, EndpointError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(EndpointError::BadConfig {
                path: path.to_path_buf(),
                reason: e.to_string(),
            });
        }
    };
    #[derive(serde::Deserialize)]
    struct Config {
        #[serde(rename = "currentContext", default)]
        current_context: Option<String>,
    }
    let config: Config = serde_json::from_str(&text).map_err(|e| EndpointError::BadConfig {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    Ok(config.current_context.filter(|c| !c.is_empty()))
}

/// The docker endpoint of a context in the context store under `config_dir`.
fn from_context(
    config_dir: &Path,
    name: &str,
    chosen_by: ChosenBy,
) -> Result<Endpoint, EndpointError> {
    let id = format!("{:x}", Sha256::digest(name.as_bytes()));
    let contexts = config_dir.join("contexts");
    let meta_path = contexts.join("meta").join(&id).join("meta.json");
    let bad = |reason: String| EndpointError::BadContext {
        name: name.to_string(),
        path: meta_path.clone(),
        reason,
    };
    let text = match std::fs::read_to_string(&meta_path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(EndpointError::NoContext {
                name: name.to_string(),
                chosen_by: chosen_by.to_string(),
                meta: meta_path,
            });
        }
        Err(e) => return Err(bad(e.to_string())),
    };
    #[derive(serde::Deserialize)]
    struct Meta {
        #[serde(rename = "Endpoints", default)]
        endpoints: std::collections::BTreeMap<String, DockerEndpoint>,
    }
    #[derive(serde::Deserialize)]
    struct DockerEndpoint {
        #[serde(rename = "Host", default)]
        host: Option<String>,
        #[serde(rename = "SkipTLSVerify", default)]
        skip_tls_verify: bool,
    }
    let meta: Meta = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
    let docker = meta
        .endpoints
        .get("docker")
        .ok_or_else(|| bad("it has no docker endpoint".to_string()))?;
    let host = docker
        .host
        .clone()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| bad("its docker endpoint names no host".to_string()))?;
    let tls_dir = contexts.join("tls").join(&id).join("docker");
    if docker.skip_tls_verify {
        return Err(EndpointError::Unsupported {
            host,
            chosen_by: chosen_by.to_string(),
            reason: "the context skips verifying the engine's certificate (skip-tls-verify), which devdb does not do; give the context the engine's CA with `docker context update --docker ca=...`".to_string(),
        });
    }
    // As the docker CLI: TLS exactly when the context holds TLS files.
    let tls = if tls_dir.join("ca.pem").exists()
        || tls_dir.join("cert.pem").exists()
        || tls_dir.join("key.pem").exists()
    {
        let from = format!("the TLS folder of context {name} ({})", tls_dir.display());
        Some(tls_files(&host, &tls_dir, &from)?)
    } else {
        None
    };
    endpoint(host, tls, chosen_by)
}

/// The TLS files in `dir`, as the docker CLI takes them: `ca.pem` is needed; `cert.pem` and
/// `key.pem` go together, and without both no client certificate is sent (an engine that
/// asks for none).
fn tls_files(host: &str, dir: &Path, from: &str) -> Result<TlsFiles, EndpointError> {
    let missing = |path: PathBuf| EndpointError::MissingTls {
        host: host.to_string(),
        path,
        from: from.to_string(),
    };
    let [ca, cert, key] = ["ca.pem", "cert.pem", "key.pem"].map(|name| dir.join(name));
    if !ca.is_file() {
        return Err(missing(ca));
    }
    match (cert.is_file(), key.is_file()) {
        (true, false) => return Err(missing(key)),
        (false, true) => return Err(missing(cert)),
        _ => {}
    }
    Ok(TlsFiles { ca, cert, key })
}

/// Checks the scheme and gives a tcp address its default port (2376 with TLS, else 2375),
/// as the docker CLI does.
fn endpoint(
    host: String,
    tls: Option<TlsFiles>,
    chosen_by: ChosenBy,
) -> Result<Endpoint, EndpointError> {
    let unsupported = |reason: &str| EndpointError::Unsupported {
        host: host.clone(),
        chosen_by: chosen_by.to_string(),
        reason: reason.to_string(),
    };
    let (scheme, rest) = host
        .split_once("://")
        .ok_or_else(|| unsupported("it has no scheme such as unix:// or tcp://"))?;
    let host = match scheme {
        // A socket that is not there is the engine's failure to answer, said by `connect`.
        "unix" => host.clone(),
        "tcp" | "http" => {
            let authority = rest.trim_end_matches('/');
            if authority.is_empty() || authority.contains('/') {
                return Err(unsupported("a tcp address is tcp://host[:port]"));
            }
            if has_port(authority) {
                format!("tcp://{authority}")
            } else {
                let port = if tls.is_some() { 2376 } else { 2375 };
                format!("tcp://{authority}:{port}")
            }
        }
        "ssh" => {
            if super::ssh::SshTarget::parse(&host).is_none() {
                return Err(unsupported(
                    "an ssh address is ssh://[user@]host[:port], without a path",
                ));
            }
            host.trim_end_matches('/').to_string()
        }
        "npipe" => return Err(unsupported("named pipes exist on Windows only")),
        _ => return Err(unsupported("unknown scheme")),
    };
    Ok(Endpoint {
        host,
        tls,
        chosen_by,
    })
}

/// Whether `host:port` (or `[v6]:port`) gives a port.
fn has_port(authority: &str) -> bool {
    let after_host = match authority.rfind(']') {
        Some(end) => &authority[end + 1..],
        None => authority,
    };
    after_host
        .rsplit_once(':')
        .is_some_and(|(_, port)| !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()))
}

/// The host name in an engine address (`tcp://h:p`, `ssh://user@h:p`), or none for a socket.
pub(crate) fn remote_host(host: &str) -> Option<String> {
    let rest = host
        .strip_prefix("tcp://")
        .or_else(|| host.strip_prefix("http://"))
        .or_else(|| host.strip_prefix("ssh://"))?;
    let rest = rest.split('/').next().unwrap_or(rest);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
    let name = if let Some(v6) = rest.strip_prefix('[') {
        v6.split(']').next().unwrap_or(v6)
    } else {
        rest.split(':').next().unwrap_or(rest)
    };
    (!name.is_empty()).then(|| name.to_string())
}

/// Whether a host name is this machine's loopback.
pub(crate) fn is_loopback(name: &str) -> bool {
    name == "localhost"
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
#[path = "host_tests.rs"]
mod tests;
