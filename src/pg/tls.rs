//! TLS to a Postgres server, as libpq's `sslmode`, `sslrootcert`, `sslcert` and `sslkey`
//! say it. devdb's own containers speak plain TCP on the loopback; a server named by URL
//! gets what its URL (or the libpq variables) ask for, through rustls, so nothing of
//! OpenSSL's has to be installed.

use std::path::PathBuf;

use sqlx::postgres::{PgConnectOptions, PgSslMode};

/// libpq's `sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SslMode {
    /// Plain TCP only: devdb's own servers.
    #[default]
    Disable,
    /// Plain first, TLS when the server insists.
    Allow,
    /// TLS when the server offers it, else plain: libpq's default for a URL.
    Prefer,
    /// TLS, the server's certificate not checked.
    Require,
    /// TLS, the certificate signed by a trusted authority.
    VerifyCa,
    /// TLS, the certificate signed by a trusted authority and made out to the host.
    VerifyFull,
}

impl SslMode {
    /// The modes as libpq spells them, in the order of the enum.
    pub const NAMES: [&'static str; 6] = [
        "disable",
        "allow",
        "prefer",
        "require",
        "verify-ca",
        "verify-full",
    ];

    pub fn parse(text: &str) -> Option<SslMode> {
        Some(match text {
            "disable" => SslMode::Disable,
            "allow" => SslMode::Allow,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        SslMode::NAMES[self as usize]
    }
}

/// How a connection is secured.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Tls {
    pub mode: SslMode,
    /// The authorities trusted to sign the server's certificate (PEM); without it,
    /// verification trusts the usual public ones.
    pub root_cert: Option<PathBuf>,
    /// A client certificate (PEM) and its key, for servers that ask for one.
    pub client_cert: Option<PathBuf>,
    pub client_key: Option<PathBuf>,
}

impl Tls {
    /// The URL query parameters that say it, in libpq's names.
    pub fn query_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        if !matches!(self.mode, SslMode::Disable | SslMode::Prefer) {
            pairs.push(("sslmode", self.mode.as_str().to_string()));
        }
        let paths = [
            ("sslrootcert", &self.root_cert),
            ("sslcert", &self.client_cert),
            ("sslkey", &self.client_key),
        ];
        for (name, path) in paths {
            if let Some(path) = path {
                pairs.push((name, path.display().to_string()));
            }
        }
        pairs
    }

    pub(super) fn apply(&self, options: PgConnectOptions) -> PgConnectOptions {
        let mode = match self.mode {
            SslMode::Disable => PgSslMode::Disable,
            SslMode::Allow => PgSslMode::Allow,
            SslMode::Prefer => PgSslMode::Prefer,
            SslMode::Require => PgSslMode::Require,
            SslMode::VerifyCa => PgSslMode::VerifyCa,
            SslMode::VerifyFull => PgSslMode::VerifyFull,
        };
        let mut options = options.ssl_mode(mode);
        if let Some(path) = &self.root_cert {
            options = options.ssl_root_cert(path);
        }
        if let Some(path) = &self.client_cert {
            options = options.ssl_client_cert(path);
        }
        if let Some(path) = &self.client_key {
            options = options.ssl_client_key(path);
        }
        options
    }
}
