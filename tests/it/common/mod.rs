//! Test support: a Postgres image for this machine, throwaway projects that run the real
//! `devdb` binary, and clean-up of everything a test's project made, even after a panic.

pub mod certs;
pub mod python;
pub mod sshd;
pub mod tls_proxy;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use rand::Rng;

/// The image tests run: `DEVDB_TEST_IMAGE`, else `postgres:17` when the engine has it, else
/// `devdb/postgres:17` built from Debian packages once for all test processes.
pub fn image() -> &'static str {
    static IMAGE: OnceLock<String> = OnceLock::new();
    IMAGE.get_or_init(|| {
        if let Ok(image) = std::env::var("DEVDB_TEST_IMAGE") {
            return image;
        }
        if docker(&["image", "inspect", "postgres:17"])
            .status
            .success()
        {
            return "postgres:17".to_string();
        }
        // Tests are async: build on a thread of its own, outside their runtime.
        std::thread::spawn(|| {
            let runtime = tokio::runtime::Runtime::new().expect("a runtime");
            runtime.block_on(async {
                let engine = devdb::internal::Engine::connect()
                    .await
                    .expect("a Docker engine");
                let options = devdb::internal::BuildOptions::for_major(17);
                devdb::internal::ensure_built(engine.docker(), &options, &devdb::progress::Silent)
                    .await
                    .expect("building devdb/postgres:17");
                options.tag
            })
        })
        .join()
        .expect("the image build thread")
    })
}

/// Runs the docker command line (test-side inspection and clean-up only).
pub fn docker(args: &[&str]) -> Output {
    Command::new("docker")
        .args(args)
        .output()
        .expect("the docker command line")
}

/// The host port a container publishes its Postgres port 5432 on.
pub fn published_port(container: &str) -> String {
    let printed = stdout(&docker(&["port", container, "5432"]));
    let first = printed.lines().next().unwrap_or_default();
    let port = first.rsplit(':').next().unwrap_or_default();
    assert!(!port.is_empty(), "{container} publishes no port for 5432");
    port.to_string()
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).to_string()
}

/// A throwaway project folder with a unique project name; everything carrying that
/// project's label is removed when it is dropped.
pub struct TestProject {
    dir: tempfile::TempDir,
    pub name: String,
}

impl TestProject {
    pub fn new() -> TestProject {
        let suffix: u32 = rand::rng().random();
        TestProject {
            dir: tempfile::tempdir().expect("a temp dir"),
            name: format!("devdbtest-{suffix:08x}"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file (folders created as needed).
    pub fn file(self, relative: &str, contents: &str) -> TestProject {
        let path = self.dir.path().join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
        self
    }

    pub fn compose(self, yaml: &str) -> TestProject {
        self.file("compose/compose.yaml", yaml)
    }

    /// The devdb command for this project: its folder, its name, the test image.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_devdb"));
        command
            .current_dir(self.dir.path())
            .args(["-p", &self.name])
            .args(args)
            .env("DEVDB_IMAGE", image())
            .env_remove("DEVDB_PORT")
            .env_remove("DATABASE_URL");
        command
    }

    /// The devdb command for this project without a test image, for the commands that
    /// only read and write files: no image is looked up or built.
    pub fn offline_command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_devdb"));
        command
            .current_dir(self.dir.path())
            .args(["-p", &self.name])
            .args(args)
            .env_remove("DEVDB_IMAGE")
            .env_remove("DEVDB_PORT")
            .env_remove("DATABASE_URL");
        command
    }

    pub fn devdb(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("running devdb")
    }

    /// Runs devdb and fails the test with its output unless it succeeded.
    pub fn devdb_ok(&self, args: &[&str]) -> String {
        let output = self.devdb(args);
        assert!(
            output.status.success(),
            "devdb {args:?} failed ({:?}):\n{}\n{}",
            output.status.code(),
            stdout(&output),
            stderr(&output)
        );
        stdout(&output)
    }

    pub fn url(&self) -> String {
        self.devdb_ok(&["url"])
    }

    /// Names of this project's containers, volumes and networks still in the engine.
    pub fn leftovers(&self) -> Vec<String> {
        let filter = format!("label=com.docker.compose.project={}", self.name);
        let mut found = Vec::new();
        for kind in [&["ps", "-a"][..], &["volume", "ls"], &["network", "ls"]] {
            let mut args = kind.to_vec();
            args.extend(["-q", "--filter", &filter]);
            found.extend(stdout(&docker(&args)).lines().map(str::to_string));
        }
        found
    }

    pub fn container(&self, service: &str) -> String {
        format!("{}-{service}-1", self.name)
    }
}

impl Drop for TestProject {
    fn drop(&mut self) {
        let filter = format!("label=com.docker.compose.project={}", self.name);
        let ids = stdout(&docker(&["ps", "-aq", "--filter", &filter]));
        for id in ids.lines() {
            docker(&["rm", "-f", "-v", id]);
        }
        let volumes = stdout(&docker(&["volume", "ls", "-q", "--filter", &filter]));
        for volume in volumes.lines() {
            docker(&["volume", "rm", "-f", volume]);
        }
        let networks = stdout(&docker(&["network", "ls", "-q", "--filter", &filter]));
        for network in networks.lines() {
            docker(&["network", "rm", network]);
        }
    }
}

/// Runs one SQL statement against `url` and returns the first column of each row as text.
pub async fn query(url: &str, sql: &str) -> Result<Vec<String>, sqlx::Error> {
    use sqlx::{Connection, Row};
    let mut conn = sqlx::PgConnection::connect(url).await?;
    let rows = sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_all(&mut conn)
        .await?;
    Ok(rows
        .iter()
        .map(|row| {
            row.try_get::<String, _>(0)
                .or_else(|_| row.try_get::<i32, _>(0).map(|v| v.to_string()))
                .or_else(|_| row.try_get::<i64, _>(0).map(|v| v.to_string()))
                .unwrap_or_default()
        })
        .collect())
}

/// Fails the test unless the command succeeded and returns its stdout; also checks that
/// `secret` shows in neither stdout nor stderr.
pub fn ok_without(output: Output, what: &str, secret: &str) -> String {
    let (out, err) = (stdout(&output), stderr(&output));
    assert!(
        output.status.success(),
        "{what} failed ({:?}):\n{out}\n{err}",
        output.status.code()
    );
    assert!(
        !out.contains(secret) && !err.contains(secret),
        "{what}: the password leaked:\n{out}\n{err}"
    );
    out
}

/// Starts `command` with no input and its output piped.
pub fn spawn_piped(mut command: Command) -> Child {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting devdb")
}

/// Waits for `child` at most `limit`, killing it after that; the output and how long it took.
pub fn finish_within(mut child: Child, limit: Duration) -> (Output, Duration) {
    let started = Instant::now();
    while child.try_wait().expect("polling devdb").is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    (
        child.wait_with_output().expect("devdb's output"),
        started.elapsed(),
    )
}

/// Starts a plain Postgres container of the test's own (`docker run`, labelled so that it is
/// removed with `project`), its superuser's password `password` and a database `db`, and
/// returns its id and host port once the server answers.
pub async fn plain_postgres(project: &TestProject, password: &str, db: &str) -> (String, String) {
    let label = format!("com.docker.compose.project={}", project.name);
    let password_env = format!("POSTGRES_PASSWORD={password}");
    let db_env = format!("POSTGRES_DB={db}");
    let output = docker(&[
        "run",
        "-d",
        "--label",
        &label,
        "-p",
        "127.0.0.1::5432",
        "-e",
        &password_env,
        "-e",
        &db_env,
        image(),
    ]);
    assert!(output.status.success(), "docker run: {}", stderr(&output));
    let container = stdout(&output);
    let port = published_port(&container);
    let url = format!("postgresql://postgres:{password}@127.0.0.1:{port}/{db}");
    let started = Instant::now();
    // The image's entrypoint restarts the server after initdb: wait for the real one.
    let mut answered = 0;
    while answered < 3 {
        match query(&url, "SELECT 1").await {
            Ok(_) => answered += 1,
            Err(e) => {
                answered = 0;
                assert!(
                    started.elapsed() < Duration::from_secs(90),
                    "the server never answered: {e}\n{}",
                    stdout(&docker(&["logs", &container]))
                );
            }
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    (container, port)
}

/// A compose file for tests: one Postgres service with a named volume.
pub fn compose_with(env: &str, extra_service_lines: &str) -> String {
    format!(
        r#"services:
  db:
    image: postgres:17
    environment:
{env}
    ports:
      - "127.0.0.1::5432"
    volumes:
      - pgdata:/var/lib/postgresql/data
{extra_service_lines}
volumes:
  pgdata:
"#
    )
}

pub fn simple_compose() -> String {
    compose_with(
        "      POSTGRES_USER: app\n      POSTGRES_PASSWORD: app-secret\n      POSTGRES_DB: appdb",
        "",
    )
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}
