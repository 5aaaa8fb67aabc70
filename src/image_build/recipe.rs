//! What goes into a devdb Postgres image, as plain data: the Debian suite for a major
//! version, the mmdebstrap command line, the instructions applied when the root filesystem
//! is imported, and the check that the engine really applied them.
//!
//! Nothing here talks to Docker or runs a process, so all of it is unit-tested.

use std::ffi::OsString;
use std::path::Path;

use bollard::models::ImageConfig;

use super::ImageBuildError;

/// Postgres major versions devdb can build, each with the Debian suite that ships it.
const SUITES: &[(u32, &str)] = &[(15, "bookworm"), (17, "trixie")];

/// Where the image's data directory lives (and its volume), as in the official image for
/// Postgres 17 and below.
pub(crate) const PGDATA: &str = "/var/lib/postgresql/data";

/// Where the entrypoint goes inside the image; ENTRYPOINT finds it on PATH.
const ENTRYPOINT_PATH: &str = "/usr/local/bin/docker-entrypoint.sh";

/// The uid and gid of the postgres user, as in the official image, so a data directory
/// made by one image can be used by the other.
const POSTGRES_UID: u32 = 999;

/// Documentation, manual pages and message translations are not needed in a container.
/// Copyright files stay: the image is redistributed.
const DPKG_PATH_FILTERS: &[&str] = &[
    "path-exclude=/usr/share/doc/*",
    "path-include=/usr/share/doc/*/copyright",
    "path-exclude=/usr/share/man/*",
    "path-exclude=/usr/share/info/*",
    "path-exclude=/usr/share/locale/*",
];

/// The recipe for one Postgres major version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Recipe {
    pub(crate) major: u32,
    pub(crate) suite: &'static str,
}

impl Recipe {
    pub(crate) fn for_major(major: u32) -> Result<Self, ImageBuildError> {
        SUITES
            .iter()
            .find(|(m, _)| *m == major)
            .map(|&(major, suite)| Recipe { major, suite })
            .ok_or_else(|| ImageBuildError::UnsupportedMajor {
                major,
                supported: SUITES
                    .iter()
                    .map(|(m, suite)| format!("{m} (Debian {suite})"))
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    fn bin_dir(&self) -> String {
        format!("/usr/lib/postgresql/{}/bin", self.major)
    }

    /// Debian packages installed on top of minbase. bash, setpriv (util-linux), gzip and
    /// find are essential already; xz-utils is not (for *.sql.xz init files); tzdata gives
    /// Postgres its time zones (Debian builds it with the system's zoneinfo).
    fn packages(&self) -> Vec<String> {
        vec![
            format!("postgresql-{}", self.major),
            format!("postgresql-client-{}", self.major),
            "tzdata".to_owned(),
            "xz-utils".to_owned(),
        ]
    }

    /// The mmdebstrap arguments that write the image's root filesystem to `tarball`.
    pub(crate) fn mmdebstrap_args(
        &self,
        entrypoint: &Path,
        tarball: &Path,
        mirror: &str,
    ) -> Vec<OsString> {
        let mut args: Vec<OsString> = vec![
            "--variant=minbase".into(),
            format!("--include={}", self.packages().join(",")).into(),
        ];
        args.extend(
            DPKG_PATH_FILTERS
                .iter()
                .map(|f| format!("--dpkgopt={f}").into()),
        );
        args.extend(
            [
                format!("--setup-hook={}", no_main_cluster_hook()),
                format!("--essential-hook={}", postgres_user_hook()),
                format!("--customize-hook={}", install_entrypoint_hook(entrypoint)),
                format!("--customize-hook={}", directories_hook()),
                format!("--customize-hook={}", cleanup_hook()),
                // The engine gives every container its own /dev.
                "--skip=output/dev".to_owned(),
                // mmdebstrap would empty /run after our hooks, taking the socket folder
                // with it; cleanup_hook empties the rest.
                "--skip=cleanup/run".to_owned(),
                self.suite.to_owned(),
            ]
            .map(OsString::from),
        );
        args.push(tarball.into());
        args.push(mirror.into());
        args
    }

    /// Dockerfile instructions applied as the root filesystem is imported. STOPSIGNAL is
    /// not among them: Docker 20.10 refuses it as an import change ("stopsignal is not a
    /// valid change command"), so [`Recipe::finishing_dockerfile`] sets it.
    pub(crate) fn import_changes(&self) -> Vec<String> {
        let mut changes = vec![
            format!(
                "ENV PATH={}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                self.bin_dir()
            ),
            format!("ENV PGDATA={PGDATA}"),
            "ENV LANG=C.UTF-8".to_owned(),
            format!("ENV PG_MAJOR={}", self.major),
            format!("VOLUME {PGDATA}"),
            "EXPOSE 5432".to_owned(),
            r#"ENTRYPOINT ["docker-entrypoint.sh"]"#.to_owned(),
            r#"CMD ["postgres"]"#.to_owned(),
        ];
        changes.extend(
            self.labels()
                .into_iter()
                .map(|(key, value)| format!("LABEL {key}=\"{value}\"")),
        );
        changes
    }

    fn labels(&self) -> Vec<(&'static str, String)> {
        vec![
            (
                "org.opencontainers.image.title",
                "devdb postgres".to_owned(),
            ),
            ("dev.devdb.image-build", "1".to_owned()),
            ("dev.devdb.postgres-major", self.major.to_string()),
            ("dev.devdb.debian-suite", self.suite.to_owned()),
        ]
    }

    /// The one-step build on top of the imported image that sets what import cannot.
    pub(crate) fn finishing_dockerfile(imported_id: &str) -> String {
        format!("FROM {imported_id}\nSTOPSIGNAL SIGINT\n")
    }

    /// Checks that the built image's configuration carries what the recipe asked for, so an
    /// engine that silently drops import changes is caught at build time, not at `up`.
    pub(crate) fn check_config(&self, config: Option<&ImageConfig>) -> Result<(), String> {
        let config = config.ok_or("it has no configuration")?;
        let env = config.env.as_deref().unwrap_or_default();
        let has_env = |want: &str| env.iter().any(|e| e == want);
        for want in [
            format!("PGDATA={PGDATA}"),
            format!("PG_MAJOR={}", self.major),
            "LANG=C.UTF-8".to_owned(),
        ] {
            if !has_env(&want) {
                return Err(format!("environment lacks {want}"));
            }
        }
        if !env
            .iter()
            .any(|e| e.starts_with(&format!("PATH={}:", self.bin_dir())))
        {
            return Err(format!("PATH does not start with {}", self.bin_dir()));
        }
        if config.stop_signal.as_deref() != Some("SIGINT") {
            return Err("stop signal is not SIGINT".to_owned());
        }
        if config.entrypoint.as_deref() != Some(&["docker-entrypoint.sh".to_owned()][..]) {
            return Err("entrypoint is not docker-entrypoint.sh".to_owned());
        }
        if config.cmd.as_deref() != Some(&["postgres".to_owned()][..]) {
            return Err("command is not postgres".to_owned());
        }
        if !contains(&config.volumes, PGDATA) {
            return Err(format!("{PGDATA} is not a volume"));
        }
        if !contains(&config.exposed_ports, "5432/tcp") {
            return Err("port 5432 is not exposed".to_owned());
        }
        let labels = config.labels.clone().unwrap_or_default();
        for (key, value) in self.labels() {
            if labels.get(key) != Some(&value) {
                return Err(format!("label {key} is not {value:?}"));
            }
        }
        Ok(())
    }
}

fn contains(list: &Option<Vec<String>>, want: &str) -> bool {
    list.as_deref()
        .unwrap_or_default()
        .iter()
        .any(|x| x == want)
}

/// Installing postgresql-N would create and start a cluster in /var/lib/postgresql/N/main;
/// the image makes its cluster at first start instead, in PGDATA.
fn no_main_cluster_hook() -> String {
    r#"mkdir -p "$1/etc/postgresql-common/createcluster.d" && printf 'create_main_cluster = false\n' > "$1/etc/postgresql-common/createcluster.d/devdb.conf""#.to_owned()
}

/// Creates the postgres user before postgresql-common does, to give it the official
/// image's uid and gid. Runs after the essential packages (base-passwd) are installed.
fn postgres_user_hook() -> String {
    let id = POSTGRES_UID;
    format!(
        r#"echo 'postgres:*:{id}:{id}:PostgreSQL administrator:/var/lib/postgresql:/bin/bash' >> "$1/etc/passwd" && echo 'postgres:x:{id}:' >> "$1/etc/group""#
    )
}

fn install_entrypoint_hook(entrypoint: &Path) -> String {
    format!(
        r#"install -D -m 0755 {} "$1{ENTRYPOINT_PATH}""#,
        shell_quote(&entrypoint.to_string_lossy())
    )
}

/// PGDATA and the socket folder exist in the image, owned by postgres, as in the official
/// image; the entrypoint fixes them up again for fresh volumes and bind mounts.
fn directories_hook() -> String {
    let id = POSTGRES_UID;
    format!(
        r#"install -d -o {id} -g {id} -m 1777 "$1{PGDATA}" && install -d -o {id} -g {id} -m 3777 "$1/run/postgresql""#
    )
}

/// Package lists, caches and logs of the build are dead weight. /run keeps only what
/// Debian policy and the socket folder need.
fn cleanup_hook() -> String {
    concat!(
        r#"rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/* "$1"/var/cache/debconf/*-old "#,
        r#""$1"/var/log/apt/* "$1"/var/log/dpkg.log && "#,
        r#"find "$1/run" -mindepth 1 -maxdepth 1 ! -name lock ! -name postgresql "#,
        r#"-exec rm -rf --one-file-system {} +"#
    )
    .to_owned()
}

/// Quotes `s` as one word for sh.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn supported_majors_map_to_their_debian_suite() {
        assert_eq!(Recipe::for_major(17).unwrap().suite, "trixie");
        assert_eq!(Recipe::for_major(15).unwrap().suite, "bookworm");
    }

    #[test]
    fn an_unsupported_major_lists_the_supported_ones() {
        let err = Recipe::for_major(16).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("Postgres 16"), "{message}");
        assert!(
            message.contains("15 (Debian bookworm), 17 (Debian trixie)"),
            "{message}"
        );
    }

    #[test]
    fn mmdebstrap_installs_the_server_and_client_of_the_major() {
        let args = Recipe::for_major(15).unwrap().mmdebstrap_args(
            Path::new("/tmp/x/entry'point.sh"),
            Path::new("/tmp/x/rootfs.tar"),
            "http://deb.debian.org/debian",
        );
        let args: Vec<String> = args.into_iter().map(|a| a.into_string().unwrap()).collect();
        assert!(
            args.contains(
                &"--include=postgresql-15,postgresql-client-15,tzdata,xz-utils".to_owned()
            )
        );
        assert!(args.contains(&"--dpkgopt=path-exclude=/usr/share/doc/*".to_owned()));
        assert!(
            args.iter()
                .any(|a| a.contains("create_main_cluster = false"))
        );
        assert!(args.iter().any(|a| a.contains(
            r#"install -D -m 0755 '/tmp/x/entry'\''point.sh' "$1/usr/local/bin/docker-entrypoint.sh""#
        )));
        assert_eq!(
            &args[args.len() - 3..],
            [
                "bookworm",
                "/tmp/x/rootfs.tar",
                "http://deb.debian.org/debian"
            ]
        );
    }

    #[test]
    fn import_changes_set_the_official_interface_except_the_stop_signal() {
        let changes = Recipe::for_major(17).unwrap().import_changes();
        for want in [
            "ENV PATH=/usr/lib/postgresql/17/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "ENV PGDATA=/var/lib/postgresql/data",
            "ENV LANG=C.UTF-8",
            "ENV PG_MAJOR=17",
            "VOLUME /var/lib/postgresql/data",
            "EXPOSE 5432",
            r#"ENTRYPOINT ["docker-entrypoint.sh"]"#,
            r#"CMD ["postgres"]"#,
            r#"LABEL org.opencontainers.image.title="devdb postgres""#,
            r#"LABEL dev.devdb.image-build="1""#,
        ] {
            assert!(changes.iter().any(|c| c == want), "missing {want}");
        }
        assert!(!changes.iter().any(|c| c.starts_with("STOPSIGNAL")));
        assert_eq!(
            Recipe::finishing_dockerfile("sha256:abc"),
            "FROM sha256:abc\nSTOPSIGNAL SIGINT\n"
        );
    }

    fn good_config() -> ImageConfig {
        let recipe = Recipe::for_major(17).unwrap();
        ImageConfig {
            env: Some(vec![
                "PATH=/usr/lib/postgresql/17/bin:/usr/local/sbin:/usr/bin".to_owned(),
                "PGDATA=/var/lib/postgresql/data".to_owned(),
                "LANG=C.UTF-8".to_owned(),
                "PG_MAJOR=17".to_owned(),
            ]),
            stop_signal: Some("SIGINT".to_owned()),
            entrypoint: Some(vec!["docker-entrypoint.sh".to_owned()]),
            cmd: Some(vec!["postgres".to_owned()]),
            volumes: Some(vec![PGDATA.to_owned()]),
            exposed_ports: Some(vec!["5432/tcp".to_owned()]),
            labels: Some(
                recipe
                    .labels()
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v))
                    .collect::<HashMap<_, _>>(),
            ),
            ..Default::default()
        }
    }

    #[test]
    fn check_config_accepts_a_complete_configuration() {
        let recipe = Recipe::for_major(17).unwrap();
        assert_eq!(recipe.check_config(Some(&good_config())), Ok(()));
    }

    #[test]
    fn check_config_names_what_is_missing() {
        let recipe = Recipe::for_major(17).unwrap();
        let mut config = good_config();
        config.stop_signal = None;
        assert_eq!(
            recipe.check_config(Some(&config)),
            Err("stop signal is not SIGINT".to_owned())
        );
        let mut config = good_config();
        config.labels = None;
        assert!(
            recipe
                .check_config(Some(&config))
                .unwrap_err()
                .contains("label")
        );
        assert!(recipe.check_config(None).is_err());
    }
}
