//! TLS to a server devdb did not start: a Postgres container of the test's own (plain
//! `docker run`, no devdb labels but the clean-up one) that refuses plain connections and
//! presents a certificate signed by a CA the test makes, and takes one role by client
//! certificate. Each `sslmode` behaves as libpq's does, from the URL or the libpq variables.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use devdb::pg::DatabaseUrl;

use crate::common::{TestProject, certs, docker, image, published_port, stderr, stdout};

/// A CA, a server certificate for `localhost` and 127.0.0.1, and a client certificate for
/// `certuser`, all signed by the CA.
pub(crate) fn make_certificates(dir: &Path) {
    certs::authority(dir, "/CN=devdb test CA", "ca.crt");
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    std::fs::write(dir.join("client.ext"), "basicConstraints=CA:FALSE\n").unwrap();
    for (name, subject) in [("server", "/CN=localhost"), ("client", "/CN=certuser")] {
        certs::signed(
            dir,
            "ca.crt",
            subject,
            &format!("{name}.key"),
            &format!("{name}.csr"),
            &format!("{name}.ext"),
            &format!("{name}.crt"),
        );
    }
}

/// The server's set-up: the key readable by postgres alone, and an hba that refuses
/// plain TCP, takes `certuser` by certificate and everyone else by password over TLS.
pub(crate) const SERVER: &str = "cp /certs/server.crt /certs/server.key /certs/ca.crt /tmp/ \
    && chown postgres /tmp/server.key && chmod 600 /tmp/server.key \
    && printf 'local all all trust\\nhostssl all certuser all cert\\nhostssl all all all scram-sha-256\\nhostnossl all all all reject\\n' > /tmp/hba \
    && chown postgres /tmp/hba \
    && exec docker-entrypoint.sh postgres -c ssl=on -c ssl_cert_file=/tmp/server.crt \
       -c ssl_key_file=/tmp/server.key -c ssl_ca_file=/tmp/ca.crt -c hba_file=/tmp/hba";

/// Makes certificates in `project`'s `certs` folder and starts a container of the test's own
/// (removed with `project`) running [`SERVER`] with them: user `app`, password `tls-secret`,
/// database `appdb`. Returns its id, host port and the certificates' folder, without waiting
/// for it to answer.
pub(crate) fn tls_server(project: &TestProject) -> (String, String, PathBuf) {
    let certs = project.path().join("certs");
    std::fs::create_dir_all(&certs).unwrap();
    make_certificates(&certs);
    let label = format!("com.docker.compose.project={}", project.name);
    let mount = format!("{}:/certs:ro", certs.display());
    let output = docker(&[
        "run",
        "-d",
        "--label",
        &label,
        "-e",
        "POSTGRES_USER=app",
        "-e",
        "POSTGRES_PASSWORD=tls-secret",
        "-e",
        "POSTGRES_DB=appdb",
        "-p",
        "127.0.0.1::5432",
        "-v",
        &mount,
        image(),
        "sh",
        "-c",
        SERVER,
    ]);
    assert!(output.status.success(), "docker run: {}", stderr(&output));
    let container = stdout(&output);
    let port = published_port(&container);
    (container, port, certs)
}

async fn connects(url: &str) -> Result<bool, String> {
    let url = DatabaseUrl::parse(url).map_err(|e| e.to_string())?;
    let mut conn = url.connect().await.map_err(|e| e.to_string())?;
    let ssl: bool = sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .fetch_one(&mut conn)
        .await
        .map_err(|e| e.to_string())?;
    Ok(ssl)
}

#[tokio::test]
async fn every_sslmode_against_a_server_that_requires_tls() {
    // The project only names the container for clean-up: everything with its label goes.
    let project = TestProject::new();
    let (container, port, certs) = tls_server(&project);

    let ca = certs.join("ca.crt").display().to_string();
    let base = format!("postgresql://app:tls-secret@localhost:{port}/appdb");
    let full = format!("{base}?sslmode=verify-full&sslrootcert={ca}");
    let started = Instant::now();
    while let Err(e) = connects(&full).await {
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "the TLS server never answered: {e}\n{}",
            stdout(&docker(&["logs", &container]))
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    assert_eq!(connects(&full).await, Ok(true), "verify-full with the CA");
    let ip = format!(
        "postgresql://app:tls-secret@127.0.0.1:{port}/appdb?sslmode=verify-full&sslrootcert={ca}"
    );
    assert_eq!(connects(&ip).await, Ok(true), "verify-full by IP address");
    let unknown_ca = connects(&format!("{base}?sslmode=verify-full")).await;
    assert!(
        unknown_ca.is_err(),
        "verify-full without the CA: {unknown_ca:?}"
    );
    let unknown_ca = connects(&format!("{base}?sslmode=verify-ca")).await;
    assert!(
        unknown_ca.is_err(),
        "verify-ca without the CA: {unknown_ca:?}"
    );
    assert_eq!(connects(&format!("{base}?sslmode=require")).await, Ok(true));
    assert_eq!(
        connects(&base).await,
        Ok(true),
        "prefer, libpq's default, takes TLS"
    );
    let plain = connects(&format!("{base}?sslmode=disable"))
        .await
        .unwrap_err();
    assert!(
        plain.contains("pg_hba.conf"),
        "the server refuses plain: {plain}"
    );
    assert!(
        !plain.contains("tls-secret"),
        "the password is masked: {plain}"
    );

    // The libpq variables fill in what the URL leaves out; the URL wins.
    let from_env = |vars: &'static [(&'static str, &'static str)], url: &str| {
        let ca = ca.clone();
        DatabaseUrl::parse(url)
            .unwrap()
            .with_libpq_environment(url, move |name| {
                if name == "PGSSLROOTCERT" {
                    return Some(ca.clone());
                }
                vars.iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            })
            .unwrap()
    };
    let url = from_env(&[("PGSSLMODE", "verify-full")], &base);
    assert!(
        url.connect().await.is_ok(),
        "PGSSLMODE=verify-full with PGSSLROOTCERT"
    );
    let url = from_env(
        &[("PGSSLMODE", "disable")],
        &format!("{base}?sslmode=require"),
    );
    assert!(
        url.connect().await.is_ok(),
        "the URL's sslmode wins over PGSSLMODE"
    );
    let url = from_env(&[("PGSSLMODE", "disable")], &base);
    assert!(url.connect().await.is_err(), "PGSSLMODE=disable is refused");

    // A client certificate.
    let admin = DatabaseUrl::parse(&full).unwrap();
    let mut conn = admin.connect().await.unwrap();
    sqlx::raw_sql("CREATE ROLE certuser LOGIN")
        .execute(&mut conn)
        .await
        .unwrap();
    let (cert, key) = (certs.join("client.crt"), certs.join("client.key"));
    let by_cert = format!(
        "postgresql://certuser@localhost:{port}/appdb?sslmode=verify-full&sslrootcert={ca}&sslcert={}&sslkey={}",
        cert.display(),
        key.display()
    );
    assert_eq!(
        connects(&by_cert).await,
        Ok(true),
        "certuser by its certificate"
    );
    let no_cert = format!(
        "postgresql://certuser@localhost:{port}/appdb?sslmode=verify-full&sslrootcert={ca}"
    );
    assert!(
        connects(&no_cert).await.is_err(),
        "certuser without a certificate"
    );
}
