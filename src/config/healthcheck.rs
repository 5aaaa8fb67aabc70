//! `healthcheck:` and compose durations (`10s`, `1m30s`, `500ms`, `1.5h`).

use std::time::Duration;

use super::error::ConfigError;
use super::project::Healthcheck;
use super::reader::Reader;
use super::yaml::{Node, Value};

pub(crate) fn read_healthcheck(
    reader: Reader<'_>,
    node: &Node,
    field: &str,
) -> Result<Option<Healthcheck>, ConfigError> {
    let entries = match &node.value {
        Value::Null => return Ok(None),
        _ => reader.map(node, field)?,
    };
    let mut check = Healthcheck {
        test: Vec::new(),
        interval: None,
        timeout: None,
        retries: None,
        start_period: None,
        disable: false,
    };
    for (key, value) in entries {
        let field = format!("{field}.{key}");
        let duration = || {
            let text = reader.scalar(value, &field)?;
            parse_duration(&text)
                .map(Some)
                .map_err(|m| reader.invalid(value, &field, m))
        };
        match key.as_str() {
            "test" => {
                check.test = match &value.value {
                    Value::Str(command) => vec!["CMD-SHELL".to_owned(), command.clone()],
                    Value::Seq(items) => items
                        .iter()
                        .enumerate()
                        .map(|(i, item)| reader.scalar(item, &format!("{field}[{i}]")))
                        .collect::<Result<_, _>>()?,
                    _ => return Err(reader.expected(value, &field, "a command string or list")),
                }
            }
            "interval" => check.interval = duration()?,
            "timeout" => check.timeout = duration()?,
            "start_period" => check.start_period = duration()?,
            "retries" => {
                check.retries = Some(reader.number(value, &field, "a number of retries")?)
            }
            "disable" => check.disable = reader.boolean(value, &field)?,
            _ => {}
        }
    }
    if check.test.first().is_some_and(|kind| kind == "NONE") {
        check.disable = true;
    }
    Ok(Some(check))
}

/// Parses a Go-style duration as compose writes them: one or more `<number><unit>` with units
/// `ns`, `us`, `ms`, `s`, `m`, `h`; the number may have a fraction.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let invalid = || format!("invalid duration {text:?}: write it like 10s, 1m30s or 500ms");
    if text.is_empty() {
        return Err(invalid());
    }
    let mut total = 0f64;
    let mut rest = text;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(invalid)?;
        let number: f64 = rest[..number_len].parse().map_err(|_| invalid())?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let seconds_per_unit = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(invalid()),
        };
        rest = &rest[unit_len..];
        total += number * seconds_per_unit;
    }
    Duration::try_from_secs_f64(total).map_err(|_| invalid())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::yaml::parse;
    use std::path::Path;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2h3m4s"), Ok(Duration::from_secs(7384)));
        for bad in ["", "10", "s", "5 s", "10x", "1..2s"] {
            assert!(parse_duration(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    fn check(yaml: &str) -> Result<Option<Healthcheck>, ConfigError> {
        let file = Path::new("c.yaml");
        let root = parse(yaml, file).unwrap();
        read_healthcheck(
            Reader { file },
            root.get("healthcheck").unwrap(),
            "services.db.healthcheck",
        )
    }

    #[test]
    fn full_healthcheck() {
        let found = check(concat!(
            "healthcheck:\n",
            "  test: [\"CMD\", \"pg_isready\", \"-U\", \"postgres\"]\n",
            "  interval: 2s\n",
            "  timeout: 1m30s\n",
            "  retries: 5\n",
            "  start_period: 500ms\n",
        ))
        .unwrap()
        .unwrap();
        assert_eq!(
            found,
            Healthcheck {
                test: vec![
                    "CMD".into(),
                    "pg_isready".into(),
                    "-U".into(),
                    "postgres".into()
                ],
                interval: Some(Duration::from_secs(2)),
                timeout: Some(Duration::from_secs(90)),
                retries: Some(5),
                start_period: Some(Duration::from_millis(500)),
                disable: false,
            }
        );
    }

    #[test]
    fn string_test_is_cmd_shell_and_none_disables() {
        let found = check("healthcheck: {test: pg_isready -q}\n")
            .unwrap()
            .unwrap();
        assert_eq!(
            found.test,
            vec!["CMD-SHELL".to_owned(), "pg_isready -q".to_owned()]
        );
        assert!(!found.disable);
        assert!(
            check("healthcheck: {test: [NONE]}\n")
                .unwrap()
                .unwrap()
                .disable
        );
        assert!(
            check("healthcheck: {disable: true}\n")
                .unwrap()
                .unwrap()
                .disable
        );
        assert_eq!(check("healthcheck:\n").unwrap(), None);
    }

    #[test]
    fn bad_duration_names_the_field() {
        let err = check("healthcheck:\n  interval: 10\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "c.yaml:2:13: services.db.healthcheck.interval: invalid duration \"10\": \
             write it like 10s, 1m30s or 500ms"
        );
    }
}
