//! Where a Postgres server is and how devdb connects to it.

use std::time::Duration;

use serde::Serialize;
use sqlx::postgres::PgConnectOptions;

use super::PgError;
use super::tls::{SslMode, Tls};
use crate::error::{Exit, Failure};

/// Where the database listens and how to log in.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct DatabaseUrl {
    pub host: String,
    pub port: u16,
    pub user: String,
    #[serde(skip)]
    pub password: String,
    pub database: String,
    /// Plain TCP for devdb's own servers; what the URL says for another.
    #[serde(skip)]
    pub tls: Tls,
}

/// A database URL devdb cannot use.
#[derive(Debug, thiserror::Error)]
pub enum UrlParseError {
    #[error("{url} is not a database URL: {reason}")]
    Invalid { url: String, reason: String },
    #[error("{url}: unknown parameter {name}")]
    UnknownParameter { url: String, name: String },
    #[error("{url}: sslmode={value} is not a mode libpq knows")]
    SslMode { url: String, value: String },
}

impl Failure for UrlParseError {
    fn exit(&self) -> Exit {
        Exit::Usage
    }

    fn hint(&self) -> Option<String> {
        Some(match self {
            UrlParseError::Invalid { .. } => {
                "write it as postgresql://USER:PASSWORD@HOST:PORT/DATABASE, with special characters in the password percent-encoded (@ as %40)".to_string()
            }
            UrlParseError::UnknownParameter { .. } => {
                format!("devdb reads {} from a URL's parameters", PARAMETERS.join(", "))
            }
            UrlParseError::SslMode { .. } => {
                format!("sslmode is one of {}", SslMode::NAMES.join(", "))
            }
        })
    }
}

/// The URL parameters devdb reads (libpq's names).
const PARAMETERS: [&str; 5] = [
    "sslmode",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "application_name",
];

/// The port Postgres listens on inside its container.
pub const POSTGRES_PORT: u16 = 5432;

/// How long a connection may take to be answered. A paused container accepts the TCP
/// connection and then says nothing: without this, every command would wait for ever.
/// Statements, once connected, are never cut short.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

impl DatabaseUrl {
    /// Reads a `postgresql://` (or `postgres://`) URL as libpq does: the user, password and
    /// database percent-decoded, port 5432 and database = user when left out, and TLS
    /// from `sslmode`, `sslrootcert`, `sslcert`, `sslkey` (`prefer` when not given, like
    /// libpq). The password is masked in every error.
    pub fn parse(text: &str) -> Result<DatabaseUrl, UrlParseError> {
        let masked = crate::redact::redact(text);
        let invalid = |reason: &str| UrlParseError::Invalid {
            url: masked.clone(),
            reason: reason.to_string(),
        };
        let url = url::Url::parse(text).map_err(|e| invalid(&e.to_string()))?;
        if !matches!(url.scheme(), "postgresql" | "postgres") {
            return Err(invalid(&format!(
                "the scheme is {}:// where postgresql:// belongs",
                url.scheme()
            )));
        }
        let decode = |part: &str| {
            percent_encoding::percent_decode_str(part)
                .decode_utf8()
                .map(|text| text.into_owned())
                .map_err(|_| invalid("a percent-escape that is not UTF-8"))
        };
        let host = match url.host() {
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            Some(host) => host.to_string(),
            None => return Err(invalid("it names no host")),
        };
        let user = decode(url.username())?;
        if user.is_empty() {
            return Err(invalid("it names no user"));
        }
        let database = decode(url.path().trim_start_matches('/'))?;
        let mut tls = Tls {
            mode: SslMode::Prefer,
            ..Tls::default()
        };
        for (name, value) in url.query_pairs() {
            match name.as_ref() {
                "sslmode" => {
                    tls.mode = SslMode::parse(&value).ok_or_else(|| UrlParseError::SslMode {
                        url: masked.clone(),
                        value: value.to_string(),
                    })?;
                }
                "sslrootcert" => tls.root_cert = Some(value.as_ref().into()),
                "sslcert" => tls.client_cert = Some(value.as_ref().into()),
                "sslkey" => tls.client_key = Some(value.as_ref().into()),
                "application_name" => {}
                other => {
                    return Err(UrlParseError::UnknownParameter {
                        url: masked.clone(),
                        name: other.to_string(),
                    });
                }
            }
        }
        Ok(DatabaseUrl {
            host,
            port: url.port().unwrap_or(POSTGRES_PORT),
            database: if database.is_empty() {
                user.clone()
            } else {
                database
            },
            password: decode(url.password().unwrap_or(""))?,
            user,
            tls,
        })
    }

    /// Fills in what the URL left out from the libpq variables, as libpq does:
    /// `PGPASSWORD`, `PGSSLMODE`, `PGSSLROOTCERT`, `PGSSLCERT`, `PGSSLKEY` (`env` looks a
    /// variable up). What the URL says wins.
    pub fn with_libpq_environment(
        mut self,
        text: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<DatabaseUrl, UrlParseError> {
        let given = url::Url::parse(text)
            .map(|url| {
                url.query_pairs()
                    .map(|(name, _)| name.into_owned())
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        let missing = |name: &str| !given.iter().any(|g| g == name);
        let env = |name: &str| env(name).filter(|value| !value.is_empty());
        if self.password.is_empty()
            && let Some(password) = env("PGPASSWORD")
        {
            self.password = password;
        }
        if missing("sslmode")
            && let Some(value) = env("PGSSLMODE")
        {
            self.tls.mode = SslMode::parse(&value).ok_or_else(|| UrlParseError::SslMode {
                url: "PGSSLMODE".to_string(),
                value,
            })?;
        }
        let paths = [
            ("sslrootcert", "PGSSLROOTCERT", &mut self.tls.root_cert),
            ("sslcert", "PGSSLCERT", &mut self.tls.client_cert),
            ("sslkey", "PGSSLKEY", &mut self.tls.client_key),
        ];
        for (parameter, variable, slot) in paths {
            if missing(parameter)
                && let Some(value) = env(variable)
            {
                *slot = Some(value.into());
            }
        }
        Ok(self)
    }

    /// `postgresql://user:password@host:port/db`, or with the password masked as `***`.
    /// `postgresql://` rather than `postgres://`: libpq takes both, SQLAlchemy only this.
    pub fn render(&self, show_password: bool) -> String {
        self.render_with_scheme("postgresql", show_password)
    }

    /// The URL in one of the forms apps paste (`devdb url --format`), password shown.
    pub fn render_as(&self, form: UrlForm) -> String {
        match form {
            UrlForm::Url => self.render(true),
            UrlForm::SqlAlchemy(driver) => {
                self.render_with_scheme(&format!("postgresql+{}", driver.as_str()), true)
            }
            UrlForm::Jdbc => {
                let mut url =
                    url::Url::parse("jdbc-postgresql://localhost/").expect("a fixed valid URL");
                let _ = url.set_host(Some(&self.url_host()));
                let _ = url.set_port(Some(self.port));
                url.set_path(&escape_userinfo(&self.database));
                {
                    let mut query = url.query_pairs_mut();
                    query.append_pair("user", &self.user);
                    if !self.password.is_empty() {
                        query.append_pair("password", &self.password);
                    }
                }
                format!(
                    "jdbc:postgresql{}",
                    &url.as_str()["jdbc-postgresql".len()..]
                )
            }
            UrlForm::Env => {
                let mut lines = vec![
                    ("PGHOST", self.host.clone()),
                    ("PGPORT", self.port.to_string()),
                    ("PGUSER", self.user.clone()),
                ];
                if !self.password.is_empty() {
                    lines.push(("PGPASSWORD", self.password.clone()));
                }
                lines.push(("PGDATABASE", self.database.clone()));
                lines
                    .into_iter()
                    .map(|(name, value)| format!("{name}={}", shell_word(&value)))
                    .collect::<Vec<_>>()
                    .join("\n")
            }
        }
    }

    /// The host as a URL writes it: an IPv6 address in brackets.
    fn url_host(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        }
    }

    fn render_with_scheme(&self, scheme: &str, show_password: bool) -> String {
        let mut url =
            url::Url::parse(&format!("{scheme}://localhost/")).expect("a fixed valid URL");
        // Setting these on a URL with a host cannot fail. The url crate
        // leaves `%` alone in user info (it takes it for an escape), so every character
        // but the unreserved ones is escaped here first: `pa%ss` must reach libpq intact.
        let _ = url.set_host(Some(&self.url_host()));
        let _ = url.set_port(Some(self.port));
        let _ = url.set_username(&escape_userinfo(&self.user));
        if !self.password.is_empty() {
            let shown = if show_password {
                escape_userinfo(&self.password)
            } else {
                "***".to_string()
            };
            let _ = url.set_password(Some(&shown));
        }
        url.set_path(&escape_userinfo(&self.database));
        let tls = self.tls.query_pairs();
        if !tls.is_empty() {
            url.query_pairs_mut().extend_pairs(tls);
        }
        url.to_string()
    }

    /// The same server's maintenance database, for work on other databases: `postgres`, or
    /// `template1` when the project's database is `postgres` itself. Never `template1`
    /// otherwise: a session there makes every `CREATE DATABASE` from it fail.
    pub fn maintenance(&self) -> DatabaseUrl {
        let database = if self.database == "postgres" {
            "template1"
        } else {
            "postgres"
        };
        DatabaseUrl {
            database: database.into(),
            ..self.clone()
        }
    }

    /// Opens one connection, giving up when the server does not answer within
    /// [`CONNECT_TIMEOUT`].
    pub async fn connect(&self) -> Result<sqlx::PgConnection, PgError> {
        use sqlx::Connection;
        let options = self.connect_options();
        let attempt = sqlx::PgConnection::connect_with(&options);
        let result = match tokio::time::timeout(CONNECT_TIMEOUT, attempt).await {
            Ok(result) => result,
            Err(_) => Err(sqlx::Error::Io(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!(
                    "the server took the connection but did not answer within {} s",
                    CONNECT_TIMEOUT.as_secs()
                ),
            ))),
        };
        result.map_err(|source| PgError::Connect {
            url: self.render(false),
            source,
        })
    }

    /// The options of a connection to a server devdb runs. Everything that matters is set
    /// here rather than taken from the libpq variables of the user's shell (`PGSSLMODE`,
    /// `PGAPPNAME`), which are meant for the user's own servers; `PGOPTIONS`, which sqlx
    /// offers no way to override, is taken out of the environment when devdb starts
    /// (`isolate_from_libpq_environment` in the command line).
    pub fn connect_options(&self) -> PgConnectOptions {
        let options = PgConnectOptions::new_without_pgpass()
            .host(&self.host)
            .port(self.port)
            .username(&self.user)
            .password(&self.password)
            .database(&self.database)
            .application_name("devdb");
        self.tls.apply(options)
    }
}

/// The forms of a database URL apps paste.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlForm {
    /// `postgresql://user:password@host:port/db`: libpq, psql, most drivers.
    Url,
    /// `postgresql+DRIVER://...`: SQLAlchemy's form, naming the Python driver.
    SqlAlchemy(SqlAlchemyDriver),
    /// `jdbc:postgresql://host:port/db?user=...&password=...`: Java.
    Jdbc,
    /// `PGHOST=...` lines, one per libpq variable, quoted for a POSIX shell where needed.
    Env,
}

/// The Python drivers SQLAlchemy knows for Postgres.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SqlAlchemyDriver {
    /// psycopg 3, SQLAlchemy 2's choice.
    #[default]
    Psycopg,
    Psycopg2,
    Asyncpg,
    Pg8000,
}

impl SqlAlchemyDriver {
    pub fn as_str(self) -> &'static str {
        match self {
            SqlAlchemyDriver::Psycopg => "psycopg",
            SqlAlchemyDriver::Psycopg2 => "psycopg2",
            SqlAlchemyDriver::Asyncpg => "asyncpg",
            SqlAlchemyDriver::Pg8000 => "pg8000",
        }
    }
}

/// `text` as one word of a POSIX shell (and of a `.env` file): bare when it is safe,
/// else in single quotes.
fn shell_word(text: &str) -> String {
    let safe = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._/:@%+,".contains(c));
    if safe {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

/// Percent-escapes everything but RFC 3986's unreserved characters.
fn escape_userinfo(text: &str) -> String {
    const UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(text, UNRESERVED).to_string()
}

impl std::fmt::Display for DatabaseUrl {
    /// Always masked: a URL that reaches a log by accident keeps its secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render(false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(password: &str) -> DatabaseUrl {
        DatabaseUrl {
            host: "127.0.0.1".into(),
            port: 5433,
            user: "app".into(),
            password: password.into(),
            database: "app_db".into(),
            tls: Tls::default(),
        }
    }

    #[test]
    fn urls_mask_the_password_unless_asked() {
        let url = sample("s3cret");
        assert_eq!(
            url.render(true),
            "postgresql://app:s3cret@127.0.0.1:5433/app_db"
        );
        assert_eq!(
            url.render(false),
            "postgresql://app:***@127.0.0.1:5433/app_db"
        );
        assert_eq!(
            url.to_string(),
            "postgresql://app:***@127.0.0.1:5433/app_db"
        );
    }

    #[test]
    fn special_characters_are_encoded() {
        let url = sample("p@ss:w/rd");
        assert_eq!(
            url.render(true),
            "postgresql://app:p%40ss%3Aw%2Frd@127.0.0.1:5433/app_db"
        );
        assert_eq!(
            sample("").render(true),
            "postgresql://app@127.0.0.1:5433/app_db"
        );
        // The url crate alone leaves `%` as it is, and `%41` would then mean `A`.
        assert_eq!(
            sample("100%41 sure").render(true),
            "postgresql://app:100%2541%20sure@127.0.0.1:5433/app_db"
        );
        let parsed = url::Url::parse(&sample("p%ss@:/ é").render(true)).unwrap();
        assert_eq!(parsed.scheme(), "postgresql");
        let decoded = percent_encoding::percent_decode_str(parsed.password().unwrap())
            .decode_utf8()
            .unwrap();
        assert_eq!(decoded, "p%ss@:/ é");
    }

    #[test]
    fn every_form_apps_paste() {
        let url = sample("p@ss w'rd");
        assert_eq!(
            url.render_as(UrlForm::SqlAlchemy(SqlAlchemyDriver::Asyncpg)),
            "postgresql+asyncpg://app:p%40ss%20w%27rd@127.0.0.1:5433/app_db"
        );
        assert_eq!(
            url.render_as(UrlForm::Jdbc),
            "jdbc:postgresql://127.0.0.1:5433/app_db?user=app&password=p%40ss+w%27rd"
        );
        assert_eq!(
            url.render_as(UrlForm::Env),
            "PGHOST=127.0.0.1\nPGPORT=5433\nPGUSER=app\nPGPASSWORD='p@ss w'\\''rd'\nPGDATABASE=app_db"
        );
        assert_eq!(
            sample("").render_as(UrlForm::Jdbc),
            "jdbc:postgresql://127.0.0.1:5433/app_db?user=app"
        );
        assert_eq!(shell_word(""), "''");
    }

    #[test]
    fn urls_devdb_cannot_use_say_why() {
        for (url, says) in [
            ("mysql://app@h/db", "the scheme is mysql://"),
            (
                "postgresql://app:pw@h/db?sslmode=verify",
                "sslmode=verify is not a mode",
            ),
            (
                "postgresql://app:pw@h/db?target_session_attrs=any",
                "unknown parameter target_session_attrs",
            ),
            ("postgresql:///db", "names no host"),
        ] {
            let error = DatabaseUrl::parse(url).unwrap_err().to_string();
            assert!(error.contains(says), "{url}: {error}");
            assert!(
                !error.contains(":pw@"),
                "{url}: the password is masked: {error}"
            );
        }
    }

    #[test]
    fn urls_are_read_as_libpq_reads_them() {
        let url = DatabaseUrl::parse("postgres://app:p%40ss@db.example.com/appdb").unwrap();
        assert_eq!(
            (url.host.as_str(), url.port, url.password.as_str()),
            ("db.example.com", 5432, "p@ss")
        );
        assert_eq!(url.tls.mode, SslMode::Prefer);
        let url = DatabaseUrl::parse(
            "postgresql://app@[::1]:6000?sslmode=verify-full&sslrootcert=/ca.pem",
        )
        .unwrap();
        assert_eq!(
            (url.host.as_str(), url.port, url.database.as_str()),
            ("::1", 6000, "app")
        );
        assert_eq!(url.tls.mode, SslMode::VerifyFull);
        assert_eq!(
            url.render(false),
            "postgresql://app@[::1]:6000/app?sslmode=verify-full&sslrootcert=%2Fca.pem"
        );
        let url = url
            .with_libpq_environment("postgresql://app@h", |name| {
                (name == "PGPASSWORD").then(|| "from-env".to_string())
            })
            .unwrap();
        assert_eq!(url.password, "from-env");
    }
}
