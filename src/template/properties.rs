//! What `CREATE DATABASE ... TEMPLATE` does not copy: the database-level settings
//! (`ALTER DATABASE ... SET`, `ALTER ROLE ... IN DATABASE ... SET`), the comment, the owner,
//! the grants and the connection limit. Read from a template and replayed on its copies, so
//! a copy equals the database its migrations built.

use sqlx::PgConnection;

use crate::pg::{PgError, Step, quote_ident, quote_literal};

/// Settings whose value is a list that Postgres stores with each element quoted (as
/// `pg_dump` treats them): each element becomes a literal of its own.
const LIST_SETTINGS: &[&str] = &[
    "local_preload_libraries",
    "search_path",
    "session_preload_libraries",
    "shared_preload_libraries",
    "temp_tablespaces",
    "unix_socket_directories",
];

/// One database's properties, as read by [`read`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DatabaseProperties {
    pub owner: String,
    /// Whether the session reading them may give a database to `owner` (is a member of
    /// it, or a superuser): on a shared server, a clone by another user stays its own.
    pub may_own: bool,
    pub connection_limit: i32,
    pub comment: Option<String>,
    /// `None`: the default privileges (`datacl` is null). Otherwise each entry in order:
    /// grantee (`None`: PUBLIC), privilege, with grant option.
    pub grants: Option<Vec<(Option<String>, String, bool)>>,
    /// Per role (`None`: every role), the `name=value` settings.
    pub settings: Vec<(Option<String>, Vec<String>)>,
}

/// A row of [`read`]'s query: owner, may own, connection limit, default privileges, comment, the
/// session's user, grantees (`''`: PUBLIC), privileges, grant options, setting roles
/// (`''`: every role), settings.
type Row = (
    String,
    bool,
    i32,
    bool,
    Option<String>,
    String,
    Vec<String>,
    Vec<String>,
    Vec<bool>,
    Vec<String>,
    Vec<String>,
);

/// The properties of `database` on the server `conn` is connected to, and the user of the
/// session (who owns the databases it creates), in one round trip; `None` when there is no
/// such database.
pub(crate) async fn read(
    conn: &mut PgConnection,
    database: &str,
) -> Result<Option<(DatabaseProperties, String)>, PgError> {
    let row: Option<Row> = sqlx::query_as(
        "SELECT pg_get_userbyid(d.datdba)::text, pg_has_role(d.datdba, 'MEMBER'), d.datconnlimit, d.datacl IS NULL, \
           shobj_description(d.oid, 'pg_database'), current_user::text, \
           ARRAY(SELECT CASE WHEN a.grantee = 0 THEN '' ELSE pg_get_userbyid(a.grantee)::text END \
             FROM aclexplode(d.datacl) WITH ORDINALITY a ORDER BY a.ordinality), \
           ARRAY(SELECT a.privilege_type::text \
             FROM aclexplode(d.datacl) WITH ORDINALITY a ORDER BY a.ordinality), \
           ARRAY(SELECT a.is_grantable \
             FROM aclexplode(d.datacl) WITH ORDINALITY a ORDER BY a.ordinality), \
           ARRAY(SELECT CASE WHEN s.setrole = 0 THEN '' ELSE pg_get_userbyid(s.setrole)::text END \
             FROM pg_db_role_setting s, unnest(s.setconfig) WITH ORDINALITY c(v, n) \
             WHERE s.setdatabase = d.oid ORDER BY s.setrole, c.n), \
           ARRAY(SELECT c.v \
             FROM pg_db_role_setting s, unnest(s.setconfig) WITH ORDINALITY c(v, n) \
             WHERE s.setdatabase = d.oid ORDER BY s.setrole, c.n) \
         FROM pg_database d WHERE d.datname = $1",
    )
    .bind(database)
    .fetch_optional(&mut *conn)
    .await
    .step(format!("reading the properties of database {database}"))?;
    let Some((
        owner,
        may_own,
        connection_limit,
        default_acl,
        comment,
        user,
        grantees,
        privileges,
        options,
        roles,
        values,
    )) = row
    else {
        return Ok(None);
    };
    let named = |name: String| (!name.is_empty()).then_some(name);
    let grants = (!default_acl).then(|| {
        grantees
            .into_iter()
            .zip(privileges)
            .zip(options)
            .map(|((grantee, privilege), option)| (named(grantee), privilege, option))
            .collect()
    });
    let mut settings: Vec<(Option<String>, Vec<String>)> = Vec::new();
    for (role, value) in roles.into_iter().zip(values) {
        let role = named(role);
        match settings.last_mut() {
            Some((last, values)) if *last == role => values.push(value),
            _ => settings.push((role, vec![value])),
        }
    }
    let properties = DatabaseProperties {
        owner,
        may_own,
        connection_limit,
        comment,
        grants,
        settings,
    };
    Ok(Some((properties, user)))
}

impl DatabaseProperties {
    /// The statements that give `target` (a fresh copy, owned by `target_owner`, default
    /// privileges, no settings) these properties, comment excepted. When the owner cannot
    /// be given ([`DatabaseProperties::may_own`]), `target_owner` keeps it and takes the
    /// owner's grants.
    pub(crate) fn statements(&self, target: &str, target_owner: &str) -> Vec<String> {
        let db = quote_ident(target);
        let mut sql = Vec::new();
        let owner = if self.may_own {
            self.owner.as_str()
        } else {
            target_owner
        };
        if owner != target_owner {
            sql.push(format!(
                "ALTER DATABASE {db} OWNER TO {}",
                quote_ident(owner)
            ));
        }
        if self.connection_limit != -1 {
            sql.push(format!(
                "ALTER DATABASE {db} WITH CONNECTION LIMIT {}",
                self.connection_limit
            ));
        }
        if let Some(grants) = &self.grants {
            sql.push(format!("REVOKE ALL ON DATABASE {db} FROM PUBLIC"));
            sql.push(format!(
                "REVOKE ALL ON DATABASE {db} FROM {}",
                quote_ident(owner)
            ));
            for (grantee, privilege, grantable) in grants {
                let grantee = match grantee.as_deref() {
                    Some(role) if role == self.owner => Some(owner),
                    other => other,
                };
                let to = grantee.map_or("PUBLIC".into(), quote_ident);
                let option = if *grantable { " WITH GRANT OPTION" } else { "" };
                sql.push(format!(
                    "GRANT {privilege} ON DATABASE {db} TO {to}{option}"
                ));
            }
        }
        for (role, settings) in &self.settings {
            let alter = match role {
                None => format!("ALTER DATABASE {db}"),
                Some(role) => format!("ALTER ROLE {} IN DATABASE {db}", quote_ident(role)),
            };
            for setting in settings {
                let Some((name, value)) = setting.split_once('=') else {
                    continue;
                };
                sql.push(format!(
                    "{alter} SET {} TO {}",
                    quote_ident(name),
                    setting_value(name, value)
                ));
            }
        }
        sql
    }
}

/// `value` as a literal (a list setting: a literal per element, as Postgres stores each
/// element quoted when it needs to be).
fn setting_value(name: &str, value: &str) -> String {
    if !LIST_SETTINGS.contains(&name.to_ascii_lowercase().as_str()) {
        return quote_literal(value);
    }
    split_list(value)
        .iter()
        .map(|element| quote_literal(element))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The elements of a list setting: separated by commas, each bare or in double quotes
/// (`""` inside standing for one).
fn split_list(value: &str) -> Vec<String> {
    let mut elements = Vec::new();
    let mut chars = value.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut element = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                if c == '"' {
                    if chars.peek() == Some(&'"') {
                        chars.next();
                        element.push('"');
                    } else {
                        break;
                    }
                } else {
                    element.push(c);
                }
            }
            while chars.peek().is_some_and(|c| *c != ',') {
                chars.next();
            }
        } else {
            while let Some(c) = chars.peek().copied() {
                if c == ',' {
                    break;
                }
                element.push(c);
                chars.next();
            }
            element = element.trim_end().to_string();
        }
        elements.push(element);
        if chars.next().is_none() {
            break;
        }
    }
    elements
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_settings_keep_their_elements() {
        assert_eq!(split_list("app, public"), ["app", "public"]);
        assert_eq!(split_list("\"$user\", \"a,b\"\"c\""), ["$user", "a,b\"c"]);
        assert_eq!(
            setting_value("search_path", "app, public"),
            "'app', 'public'"
        );
        assert_eq!(setting_value("work_mem", "64MB"), "'64MB'");
    }

    #[test]
    fn statements_replay_owner_grants_and_settings() {
        let mut properties = DatabaseProperties {
            owner: "app".into(),
            may_own: true,
            connection_limit: -1,
            comment: None,
            grants: Some(vec![
                (None, "CONNECT".into(), false),
                (Some("reader".into()), "CONNECT".into(), true),
            ]),
            settings: vec![
                (None, vec!["search_path=app, public".into()]),
                (Some("reader".into()), vec!["statement_timeout=5s".into()]),
            ],
        };
        assert_eq!(
            properties.statements("copy", "app"),
            [
                r#"REVOKE ALL ON DATABASE "copy" FROM PUBLIC"#,
                r#"REVOKE ALL ON DATABASE "copy" FROM "app""#,
                r#"GRANT CONNECT ON DATABASE "copy" TO PUBLIC"#,
                r#"GRANT CONNECT ON DATABASE "copy" TO "reader" WITH GRANT OPTION"#,
                r#"ALTER DATABASE "copy" SET "search_path" TO 'app', 'public'"#,
                r#"ALTER ROLE "reader" IN DATABASE "copy" SET "statement_timeout" TO '5s'"#,
            ]
        );
        let owned = properties.statements("copy", "other");
        assert_eq!(owned[0], r#"ALTER DATABASE "copy" OWNER TO "app""#);
        properties.may_own = false;
        properties.grants = Some(vec![(Some("app".into()), "CONNECT".into(), false)]);
        assert_eq!(
            properties.statements("copy", "other")[..3],
            [
                r#"REVOKE ALL ON DATABASE "copy" FROM PUBLIC"#,
                r#"REVOKE ALL ON DATABASE "copy" FROM "other""#,
                r#"GRANT CONNECT ON DATABASE "copy" TO "other""#,
            ]
        );
    }
}
