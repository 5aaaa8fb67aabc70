//! Certificates for tests, made with the openssl command line: a CA and certificates it
//! signs, valid for two days.

use std::path::Path;
use std::process::Command;

use super::stderr;

/// Runs `openssl args` in `dir`, failing the test unless it succeeds.
fn openssl(dir: &Path, args: &[&str]) {
    let output = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the openssl command line");
    assert!(
        output.status.success(),
        "openssl {args:?}: {}",
        stderr(&output)
    );
}

/// A self-signed CA in `dir`: its key `ca.key` and its certificate `cert`.
pub fn authority(dir: &Path, subject: &str, cert: &str) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            subject,
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
            "-keyout",
            "ca.key",
            "-out",
            cert,
        ],
    );
}

/// A new key `key` and a certificate `cert` for `subject` with the extensions in the file
/// `ext`, signed by the CA of [`authority`] (`ca.key`, its certificate `ca`), through the
/// request `csr`; all files in `dir`.
pub fn signed(dir: &Path, ca: &str, subject: &str, key: &str, csr: &str, ext: &str, cert: &str) {
    openssl(
        dir,
        &[
            "req", "-newkey", "rsa:2048", "-nodes", "-subj", subject, "-keyout", key, "-out", csr,
        ],
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            csr,
            "-CA",
            ca,
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            ext,
            "-out",
            cert,
        ],
    );
}
