//! A Docker engine reached over TCP with TLS, for tests: a proxy on 127.0.0.1 that demands a
//! client certificate signed by the test's CA and passes the bytes on to the local engine
//! socket. The engine's own configuration is never touched.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::net::{TcpListener, UnixStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::server::WebPkiClientVerifier;
use tokio_rustls::rustls::{RootCertStore, ServerConfig};

use super::certs;

const ENGINE_SOCKET: &str = "/var/run/docker.sock";

/// A CA in `dir` (`ca.pem`, `ca.key`) with a server certificate for 127.0.0.1 and localhost
/// (`server.pem`, `server.key`) and a client certificate (`cert.pem`, `key.pem`): the layout
/// of a `DOCKER_CERT_PATH`.
pub fn make_ca(dir: &Path, name: &str) {
    make_ca_for(dir, name, "127.0.0.1");
}

/// As [`make_ca`], with the server certificate also valid for `ip`.
pub fn make_ca_for(dir: &Path, name: &str, ip: &str) {
    std::fs::create_dir_all(dir).unwrap();
    certs::authority(dir, &format!("/CN={name}"), "ca.pem");
    std::fs::write(
        dir.join("server.ext"),
        format!("subjectAltName=DNS:localhost,IP:127.0.0.1,IP:{ip}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"),
    )
    .unwrap();
    std::fs::write(
        dir.join("client.ext"),
        "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n",
    )
    .unwrap();
    for (cert, key, ext, subject) in [
        ("server.pem", "server.key", "server.ext", "/CN=localhost"),
        ("cert.pem", "key.pem", "client.ext", "/CN=devdb test client"),
    ] {
        certs::signed(dir, "ca.pem", subject, key, "req.csr", ext, cert);
    }
}

/// The proxy; it stops when dropped.
pub struct TlsEngine {
    pub ip: String,
    pub port: u16,
    connections: Arc<AtomicUsize>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl TlsEngine {
    /// Listens on 127.0.0.1 with the server certificate in `dir` and takes clients whose
    /// certificate `dir`'s CA signed.
    pub fn start(dir: &Path) -> TlsEngine {
        TlsEngine::start_on(dir, "127.0.0.1")
    }

    /// As [`TlsEngine::start`], listening on `ip`, one of this machine's addresses.
    pub fn start_on(dir: &Path, ip: &str) -> TlsEngine {
        let certs = |file: &str| -> Vec<CertificateDer<'static>> {
            CertificateDer::pem_file_iter(dir.join(file))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
        };
        let mut roots = RootCertStore::empty();
        for cert in certs("ca.pem") {
            roots.add(cert).unwrap();
        }
        let verifier = WebPkiClientVerifier::builder(Arc::new(roots))
            .build()
            .unwrap();
        let key = PrivateKeyDer::from_pem_file(dir.join("server.key")).unwrap();
        let config = ServerConfig::builder()
            .with_client_cert_verifier(verifier)
            .with_single_cert(certs("server.pem"), key)
            .unwrap();
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        // Bound here, outside any runtime: tests call this from async code.
        let listener = std::net::TcpListener::bind((ip, 0)).expect("a port for the TLS engine");
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = Arc::new(AtomicUsize::new(0));
        let counted = connections.clone();
        runtime.spawn(async move {
            let listener = TcpListener::from_std(listener).unwrap();
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                let counted = counted.clone();
                tokio::spawn(async move {
                    // A client the CA did not sign fails here, as at a real engine.
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    counted.fetch_add(1, Ordering::SeqCst);
                    let Ok(mut engine) = UnixStream::connect(ENGINE_SOCKET).await else {
                        return;
                    };
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut engine).await;
                });
            }
        });
        TlsEngine {
            ip: ip.to_string(),
            port,
            connections,
            runtime: Some(runtime),
        }
    }

    pub fn host(&self) -> String {
        format!("tcp://{}:{}", self.ip, self.port)
    }

    /// How many clients completed the TLS handshake.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

impl Drop for TlsEngine {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// The environment that points devdb (or docker) at the proxy with the files in `certs`.
pub fn tls_env(engine: &TlsEngine, certs: &Path) -> Vec<(&'static str, String)> {
    vec![
        ("DOCKER_HOST", engine.host()),
        ("DOCKER_TLS_VERIFY", "1".to_string()),
        ("DOCKER_CERT_PATH", certs.display().to_string()),
    ]
}

/// A copy of `from`'s `DOCKER_CERT_PATH` files in a new folder `to`, for tests that swap one.
pub fn copy_cert_path(from: &Path, to: &Path) -> PathBuf {
    std::fs::create_dir_all(to).unwrap();
    for file in ["ca.pem", "cert.pem", "key.pem"] {
        std::fs::copy(from.join(file), to.join(file)).unwrap();
    }
    to.to_path_buf()
}
