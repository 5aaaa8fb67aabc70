//! `ports:` in the compose short syntax (`"127.0.0.1:5433:5432/tcp"`, `"5432"`, `5432`,
//! `"127.0.0.1::5432"` for an engine-chosen host port) and long syntax (`target`, `published`,
//! `host_ip`, `protocol`). Port ranges are not supported.
//!
//! A host IP must be an IP address: the engine takes a name such as `localhost`, or an
//! address that is not one, as no address at all and listens on every interface.

use super::project::PortSpec;
use super::reader::Reader;
use super::yaml::{Node, Value};
use crate::config::ConfigError;

pub(crate) fn read_ports(
    reader: Reader<'_>,
    node: &Node,
    field: &str,
) -> Result<Vec<PortSpec>, ConfigError> {
    if node.value == Value::Null {
        return Ok(Vec::new());
    }
    reader
        .seq(node, field, "a list of ports")?
        .iter()
        .enumerate()
        .map(|(i, item)| read_port(reader, item, &format!("{field}[{i}]")))
        .collect()
}

fn read_port(reader: Reader<'_>, node: &Node, field: &str) -> Result<PortSpec, ConfigError> {
    match &node.value {
        Value::Int(_) => Ok(PortSpec {
            host_ip: None,
            host_port: None,
            container_port: reader.number(node, field, "a port number (1-65535)")?,
            protocol: "tcp".to_owned(),
        }),
        Value::Str(text) => {
            parse_short(text).map_err(|message| reader.invalid(node, field, message))
        }
        Value::Map(entries) => {
            let mut spec = PortSpec {
                host_ip: None,
                host_port: None,
                container_port: 0,
                protocol: "tcp".to_owned(),
            };
            let mut has_target = false;
            for (key, value) in entries {
                let field = format!("{field}.{key}");
                match key.as_str() {
                    "target" => {
                        spec.container_port = port_value(reader, value, &field)?
                            .ok_or_else(|| reader.invalid(value, &field, "must not be empty"))?;
                        has_target = true;
                    }
                    "published" => spec.host_port = port_value(reader, value, &field)?,
                    "host_ip" => {
                        let text = reader.string(value, &field)?;
                        let unbracketed = text
                            .strip_prefix('[')
                            .and_then(|t| t.strip_suffix(']'))
                            .unwrap_or(&text);
                        spec.host_ip = host_ip(unbracketed, IpKind::Any)
                            .map_err(|m| reader.invalid(value, &field, m))?;
                    }
                    "protocol" => {
                        spec.protocol = protocol(&reader.string(value, &field)?)
                            .map_err(|m| reader.invalid(value, &field, m))?
                    }
                    _ => {}
                }
            }
            if !has_target {
                return Err(reader.invalid(node, field, "a port needs a `target`"));
            }
            Ok(spec)
        }
        _ => Err(reader.expected(node, field, "a port like \"5433:5432\"")),
    }
}

/// A port number given as number or string in the long syntax; empty or 0 means "any".
fn port_value(reader: Reader<'_>, node: &Node, field: &str) -> Result<Option<u16>, ConfigError> {
    let text = reader.scalar(node, field)?;
    parse_port(&text).map_err(|m| reader.invalid(node, field, m))
}

/// `[[host_ip:]host_port:]container_port[/protocol]`; an IPv6 host ip goes in brackets.
pub(crate) fn parse_short(text: &str) -> Result<PortSpec, String> {
    let (addresses, protocol) = match text.split_once('/') {
        Some((addresses, protocol)) => (addresses, self::protocol(protocol)?),
        None => (text, "tcp".to_owned()),
    };
    let (host_ip, ports) = if let Some(bracketed) = addresses.strip_prefix('[') {
        let (ip, rest) = bracketed
            .split_once(']')
            .ok_or_else(|| format!("invalid port {text:?}: `[` without `]`"))?;
        let rest = rest
            .strip_prefix(':')
            .ok_or_else(|| format!("invalid port {text:?}: expected `:` after `]`"))?;
        (
            host_ip(ip, IpKind::V6).map_err(|m| format!("invalid port {text:?}: {m}"))?,
            rest,
        )
    } else {
        match addresses.matches(':').count() {
            0 | 1 => (None, addresses),
            2 => {
                let (ip, rest) = addresses.split_once(':').unwrap_or_default();
                let ip =
                    host_ip(ip, IpKind::V4).map_err(|m| format!("invalid port {text:?}: {m}"))?;
                (ip, rest)
            }
            _ => {
                return Err(format!(
                    "invalid port {text:?}: write an IPv6 address in brackets, as in \"[::1]:5433:5432\""
                ));
            }
        }
    };
    let (host_port, container_port) = match ports.split_once(':') {
        Some((host, container)) => (parse_port(host)?, parse_port(container)?),
        None => (None, parse_port(ports)?),
    };
    let container_port = container_port
        .ok_or_else(|| format!("invalid port {text:?}: the container port is missing"))?;
    Ok(PortSpec {
        host_ip,
        host_port,
        container_port,
        protocol,
    })
}

/// Which addresses a place in the syntax can hold: outside brackets in the short syntax
/// only IPv4 (an IPv6 address has colons of its own).
#[derive(Clone, Copy, PartialEq, Eq)]
enum IpKind {
    V4,
    V6,
    Any,
}

/// A host IP, checked; empty means "not given" (devdb's default, 127.0.0.1).
fn host_ip(text: &str, kind: IpKind) -> Result<Option<String>, String> {
    use std::net::IpAddr;
    if text.is_empty() {
        return Ok(None);
    }
    match (text.parse::<IpAddr>(), kind) {
        (Ok(IpAddr::V4(_)), IpKind::V4 | IpKind::Any)
        | (Ok(IpAddr::V6(_)), IpKind::V6 | IpKind::Any) => Ok(Some(text.to_owned())),
        (Ok(IpAddr::V4(_)), IpKind::V6) => Err(format!(
            "{text:?} in brackets is not an IPv6 address: write an IPv4 address without brackets, as in \"{text}:5433:5432\""
        )),
        _ => Err(format!(
            "the host IP {text:?} is not an IP address: write 127.0.0.1 to listen on this machine only, or 0.0.0.0 to listen on every interface (as in \"127.0.0.1:5433:5432\")"
        )),
    }
}

/// Empty and `0` mean "let the engine choose".
fn parse_port(text: &str) -> Result<Option<u16>, String> {
    if text.contains('-') {
        return Err(format!("port ranges like {text:?} are not supported"));
    }
    if text.is_empty() {
        return Ok(None);
    }
    match text.parse::<u16>() {
        Ok(0) => Ok(None),
        Ok(port) => Ok(Some(port)),
        Err(_) => Err(format!("{text:?} is not a port number (1-65535)")),
    }
}

fn protocol(text: &str) -> Result<String, String> {
    match text {
        "tcp" | "udp" | "sctp" => Ok(text.to_owned()),
        _ => Err(format!("unknown protocol {text:?}: use tcp, udp or sctp")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::yaml::parse;
    use std::path::Path;

    fn spec(ip: Option<&str>, host: Option<u16>, container: u16, protocol: &str) -> PortSpec {
        PortSpec {
            host_ip: ip.map(str::to_owned),
            host_port: host,
            container_port: container,
            protocol: protocol.to_owned(),
        }
    }

    fn ports(yaml: &str) -> Result<Vec<PortSpec>, ConfigError> {
        let root = parse(yaml, Path::new("c.yaml")).unwrap();
        let reader = Reader {
            file: Path::new("c.yaml"),
        };
        read_ports(reader, root.get("ports").unwrap(), "services.db.ports")
    }

    #[test]
    fn short_syntax_in_every_form() {
        let found = ports(concat!(
            "ports:\n",
            "  - \"5432\"\n",
            "  - 5432\n",
            "  - \"5433:5432\"\n",
            "  - \"127.0.0.1:5433:5432\"\n",
            "  - \"0.0.0.0:5433:5432/tcp\"\n",
            "  - \"127.0.0.1::5432\"\n",
            "  - \":5432\"\n",
            "  - \"[::1]:6000:5432/udp\"\n",
            "  - \"0:5432\"\n",
        ))
        .unwrap();
        assert_eq!(
            found,
            vec![
                spec(None, None, 5432, "tcp"),
                spec(None, None, 5432, "tcp"),
                spec(None, Some(5433), 5432, "tcp"),
                spec(Some("127.0.0.1"), Some(5433), 5432, "tcp"),
                spec(Some("0.0.0.0"), Some(5433), 5432, "tcp"),
                spec(Some("127.0.0.1"), None, 5432, "tcp"),
                spec(None, None, 5432, "tcp"),
                spec(Some("::1"), Some(6000), 5432, "udp"),
                spec(None, None, 5432, "tcp"),
            ]
        );
    }

    #[test]
    fn long_syntax() {
        let found = ports(concat!(
            "ports:\n",
            "  - target: 5432\n",
            "    published: \"5433\"\n",
            "    host_ip: 127.0.0.1\n",
            "    protocol: tcp\n",
            "  - target: 5432\n",
            "  - target: 5432\n",
            "    host_ip: \"::1\"\n",
        ))
        .unwrap();
        assert_eq!(
            found,
            vec![
                spec(Some("127.0.0.1"), Some(5433), 5432, "tcp"),
                spec(None, None, 5432, "tcp"),
                spec(Some("::1"), None, 5432, "tcp"),
            ]
        );
    }

    #[test]
    fn not_a_list_names_field_and_line() {
        let err = ports("x: 1\nports: 5\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "c.yaml:2:8: services.db.ports: expected a list of ports, found a number"
        );
    }

    #[test]
    fn invalid_entries_are_rejected_with_a_reason() {
        let cases = [
            (
                "ports: [\"5432-5440:5432\"]",
                "port ranges like \"5432-5440\" are not supported",
            ),
            (
                "ports: [\"70000\"]",
                "\"70000\" is not a port number (1-65535)",
            ),
            (
                "ports: [\"5432/http\"]",
                "unknown protocol \"http\": use tcp, udp or sctp",
            ),
            ("ports: [\"5433:\"]", "the container port is missing"),
            ("ports: [{published: 5433}]", "a port needs a `target`"),
            (
                "ports: [\"localhost::5432\"]",
                "the host IP \"localhost\" is not an IP address: write 127.0.0.1",
            ),
            (
                "ports: [\"999.1.1.1::5432\"]",
                "\"999.1.1.1\" is not an IP address",
            ),
            (
                "ports: [\"127.0.0.1.5:5433:5432\"]",
                "\"127.0.0.1.5\" is not an IP address",
            ),
            ("ports: [\"[localhost]::5432\"]", "is not an IP address"),
            ("ports: [\"[127.0.0.1]::5432\"]", "is not an IPv6 address"),
            (
                "ports: [{target: 5432, host_ip: localhost}]",
                "\"localhost\" is not an IP address",
            ),
            (
                "ports: [[1]]",
                "expected a port like \"5433:5432\", found a list",
            ),
        ];
        for (yaml, expected) in cases {
            let err = ports(yaml).unwrap_err().to_string();
            assert!(
                err.contains("services.db.ports[0]") && err.contains(expected),
                "{yaml}: {err}"
            );
        }
    }
}
