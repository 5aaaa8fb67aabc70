use std::collections::HashMap;

use super::*;

/// A Docker config folder laid out as `docker context create` leaves it.
struct Store {
    dir: tempfile::TempDir,
}

impl Store {
    fn new() -> Store {
        Store {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn context(&self, name: &str, host: &str) -> &Store {
        let id = format!("{:x}", Sha256::digest(name.as_bytes()));
        let meta = self.path().join("contexts/meta").join(id);
        std::fs::create_dir_all(&meta).unwrap();
        let json = serde_json::json!({
            "Name": name,
            "Metadata": {},
            "Endpoints": {"docker": {"Host": host, "SkipTLSVerify": false}},
        });
        std::fs::write(meta.join("meta.json"), json.to_string()).unwrap();
        self
    }

    fn tls(&self, name: &str, files: &[&str]) -> PathBuf {
        let id = format!("{:x}", Sha256::digest(name.as_bytes()));
        let dir = self.path().join("contexts/tls").join(id).join("docker");
        std::fs::create_dir_all(&dir).unwrap();
        for file in files {
            std::fs::write(dir.join(file), "pem").unwrap();
        }
        dir
    }

    fn current(&self, name: &str) -> &Store {
        let json = serde_json::json!({"auths": {}, "currentContext": name});
        std::fs::write(self.path().join("config.json"), json.to_string()).unwrap();
        self
    }

    fn resolve(&self, vars: &[(&str, &str)]) -> Result<Endpoint, EndpointError> {
        let mut env: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        env.insert(
            "DOCKER_CONFIG".into(),
            self.path().to_string_lossy().into_owned(),
        );
        resolve(&|name| env.get(name).cloned())
    }
}

#[test]
fn the_context_folder_is_named_by_the_sha256_of_the_name_as_the_docker_cli_names_it() {
    // `docker context create dead ...` made contexts/meta/28a3a5e8.../meta.json.
    assert_eq!(
        format!("{:x}", Sha256::digest(b"dead")),
        "28a3a5e81d1e89f0efc70b63bf717b921373fc7fac70bc1b7e4d466799c0c6b0"
    );
}

#[test]
fn nothing_set_means_the_local_socket() {
    let store = Store::new();
    let endpoint = store.resolve(&[]).unwrap();
    assert_eq!(endpoint.host, DEFAULT_SOCKET);
    assert_eq!(endpoint.chosen_by, ChosenBy::Default);
    assert_eq!(endpoint.tls, None);
}

#[test]
fn docker_host_beats_docker_context_which_beats_the_current_context() {
    let store = Store::new();
    store
        .context("env", "unix:///from/env.sock")
        .context("cfg", "tcp://10.1.1.1:2375")
        .current("cfg");

    let all = store
        .resolve(&[
            ("DOCKER_HOST", "unix:///from/host.sock"),
            ("DOCKER_CONTEXT", "env"),
        ])
        .unwrap();
    assert_eq!(all.host, "unix:///from/host.sock");
    assert_eq!(all.chosen_by, ChosenBy::DockerHost);

    let context = store.resolve(&[("DOCKER_CONTEXT", "env")]).unwrap();
    assert_eq!(context.host, "unix:///from/env.sock");
    assert_eq!(context.chosen_by, ChosenBy::ContextVariable("env".into()));

    let config = store.resolve(&[]).unwrap();
    assert_eq!(config.host, "tcp://10.1.1.1:2375");
    assert_eq!(
        config.chosen_by,
        ChosenBy::CurrentContext {
            name: "cfg".into(),
            config: store.path().join("config.json"),
        }
    );
}

#[test]
fn empty_variables_count_as_unset_as_in_the_docker_cli() {
    let store = Store::new();
    store.context("env", "unix:///from/env.sock").current("env");
    let endpoint = store
        .resolve(&[("DOCKER_HOST", ""), ("DOCKER_CONTEXT", "")])
        .unwrap();
    assert_eq!(endpoint.host, "unix:///from/env.sock");
}

#[test]
fn the_default_context_is_the_local_socket_even_over_a_current_context() {
    let store = Store::new();
    store.context("cfg", "tcp://10.1.1.1:2375").current("cfg");
    let endpoint = store.resolve(&[("DOCKER_CONTEXT", "default")]).unwrap();
    assert_eq!(endpoint.host, DEFAULT_SOCKET);
    assert_eq!(endpoint.chosen_by.context(), Some("default"));
}

#[test]
fn home_dot_docker_is_the_config_folder_without_docker_config() {
    let home = tempfile::tempdir().unwrap();
    let store = Store {
        dir: tempfile::TempDir::new_in(home.path()).unwrap(),
    };
    store.context("cfg", "unix:///home.sock").current("cfg");
    std::fs::rename(store.path(), home.path().join(".docker")).unwrap();
    let home_text = home.path().to_string_lossy().into_owned();
    let endpoint = resolve(&|name| (name == "HOME").then(|| home_text.clone())).unwrap();
    assert_eq!(endpoint.host, "unix:///home.sock");
}

#[test]
fn a_missing_context_names_the_file_it_looked_for() {
    let store = Store::new();
    store.current("gone");
    let err = store.resolve(&[]).unwrap_err();
    assert!(matches!(err, EndpointError::NoContext { ref name, .. } if name == "gone"));
    let text = err.to_string();
    assert!(text.contains("283bb9deef02e6843abfb538efa1eca70801bd8a701c3f98191e123496339247"));
    assert!(text.contains("config.json"), "{text}");
    assert!(err.hint().unwrap().contains("docker context ls"));
}

#[test]
fn a_malformed_meta_json_or_config_is_reported_with_its_path() {
    let store = Store::new();
    store.context("broken", "unix:///x.sock");
    let id = format!("{:x}", Sha256::digest(b"broken"));
    let meta = store
        .path()
        .join("contexts/meta")
        .join(id)
        .join("meta.json");
    std::fs::write(&meta, "{not json").unwrap();
    let err = store.resolve(&[("DOCKER_CONTEXT", "broken")]).unwrap_err();
    assert!(matches!(err, EndpointError::BadContext { .. }), "{err}");
    assert!(err.to_string().contains(&meta.display().to_string()));

    std::fs::write(store.path().join("config.json"), "[").unwrap();
    let err = store.resolve(&[]).unwrap_err();
    assert!(matches!(err, EndpointError::BadConfig { .. }), "{err}");
}

#[test]
fn docker_tls_verify_takes_the_files_of_docker_cert_path() {
    let store = Store::new();
    let certs = tempfile::tempdir().unwrap();
    let certs_text = certs.path().to_string_lossy().into_owned();
    let vars = [
        ("DOCKER_HOST", "tcp://10.0.0.5"),
        ("DOCKER_TLS_VERIFY", "1"),
        ("DOCKER_CERT_PATH", certs_text.as_str()),
    ];
    let err = store.resolve(&vars).unwrap_err();
    assert!(
        matches!(err, EndpointError::MissingTls { ref path, .. } if path.ends_with("ca.pem")),
        "{err}"
    );
    for file in ["ca.pem", "cert.pem", "key.pem"] {
        std::fs::write(certs.path().join(file), "pem").unwrap();
    }
    let endpoint = store.resolve(&vars).unwrap();
    assert_eq!(endpoint.host, "tcp://10.0.0.5:2376");
    assert_eq!(endpoint.tls.unwrap().cert, certs.path().join("cert.pem"));

    let plain = store.resolve(&[("DOCKER_HOST", "tcp://10.0.0.5")]).unwrap();
    assert_eq!(plain.host, "tcp://10.0.0.5:2375");
    assert_eq!(plain.tls, None);
}

#[test]
fn a_context_with_tls_files_speaks_tls_and_one_without_does_not() {
    let store = Store::new();
    store
        .context("secure", "tcp://10.0.0.5:2376")
        .context("plain", "tcp://10.0.0.6:2375");
    let dir = store.tls("secure", &["ca.pem", "cert.pem", "key.pem"]);
    let secure = store.resolve(&[("DOCKER_CONTEXT", "secure")]).unwrap();
    assert_eq!(secure.tls.unwrap().ca, dir.join("ca.pem"));
    let plain = store.resolve(&[("DOCKER_CONTEXT", "plain")]).unwrap();
    assert_eq!(plain.tls, None);

    // As the docker CLI: a CA alone verifies the engine and sends no client certificate;
    // a certificate without its key, or no CA, is an error.
    store.context("server-only", "tcp://10.0.0.7:2376");
    store.tls("server-only", &["ca.pem"]);
    let server_only = store.resolve(&[("DOCKER_CONTEXT", "server-only")]);
    assert!(server_only.unwrap().tls.is_some());
    store.context("half", "tcp://10.0.0.7:2376");
    store.tls("half", &["ca.pem", "cert.pem"]);
    let err = store.resolve(&[("DOCKER_CONTEXT", "half")]).unwrap_err();
    assert!(
        matches!(err, EndpointError::MissingTls { ref path, .. } if path.ends_with("key.pem")),
        "{err}"
    );
    store.context("no-ca", "tcp://10.0.0.7:2376");
    store.tls("no-ca", &["cert.pem", "key.pem"]);
    let err = store.resolve(&[("DOCKER_CONTEXT", "no-ca")]).unwrap_err();
    assert!(matches!(err, EndpointError::MissingTls { .. }), "{err}");
}

#[test]
fn unsupported_addresses_say_what_is_supported() {
    let store = Store::new();
    for host in ["npipe:////./pipe/docker_engine", "fd://", "10.0.0.5:2375"] {
        let err = store.resolve(&[("DOCKER_HOST", host)]).unwrap_err();
        assert!(matches!(err, EndpointError::Unsupported { .. }), "{host}");
        assert!(err.hint().unwrap().contains("ssh://"));
    }
    let ssh = store
        .resolve(&[("DOCKER_HOST", "ssh://me@box:2222")])
        .unwrap();
    assert_eq!(ssh.host, "ssh://me@box:2222");
}

#[test]
fn remote_host_names_the_machine_of_tcp_and_ssh_engines() {
    assert_eq!(remote_host("unix:///var/run/docker.sock"), None);
    assert_eq!(
        remote_host("tcp://10.0.0.5:2375").as_deref(),
        Some("10.0.0.5")
    );
    assert_eq!(
        remote_host("tcp://dockerhost").as_deref(),
        Some("dockerhost")
    );
    assert_eq!(remote_host("ssh://me@box:2222").as_deref(), Some("box"));
    assert_eq!(remote_host("ssh://box").as_deref(), Some("box"));
    assert_eq!(remote_host("tcp://[::1]:2375").as_deref(), Some("::1"));
    assert!(is_loopback("127.0.0.1") && is_loopback("::1") && is_loopback("localhost"));
    assert!(!is_loopback("box"));
}
