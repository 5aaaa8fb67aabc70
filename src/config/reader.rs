//! Reading typed values out of the YAML tree, with errors that name the file, line and field.

use std::path::Path;

use super::error::{ConfigError, SourceLocation};
use super::yaml::{Node, Value};

/// The file being read, for error messages.
#[derive(Clone, Copy)]
pub(crate) struct Reader<'a> {
    pub file: &'a Path,
}

pub(crate) type Entries = [(String, Node)];

impl Reader<'_> {
    pub(super) fn at(&self, node: &Node) -> SourceLocation {
        SourceLocation {
            path: self.file.to_path_buf(),
            line: (node.line > 0).then_some(node.line),
            column: (node.column > 0).then_some(node.column),
        }
    }

    pub(super) fn invalid(
        &self,
        node: &Node,
        field: &str,
        message: impl Into<String>,
    ) -> ConfigError {
        ConfigError::Invalid {
            at: self.at(node),
            field: field.to_owned(),
            message: message.into(),
        }
    }

    /// "expected {what}, found a number".
    pub(super) fn expected(&self, node: &Node, field: &str, what: &str) -> ConfigError {
        self.invalid(
            node,
            field,
            format!("expected {what}, found {}", node.value.kind()),
        )
    }

    pub(super) fn map<'n>(&self, node: &'n Node, field: &str) -> Result<&'n Entries, ConfigError> {
        match &node.value {
            Value::Map(entries) => Ok(entries),
            _ => Err(self.expected(node, field, "a mapping")),
        }
    }

    /// A mapping, or nothing for `key:` with no value.
    pub(super) fn optional_map<'n>(
        &self,
        node: &'n Node,
        field: &str,
    ) -> Result<&'n Entries, ConfigError> {
        match &node.value {
            Value::Null => Ok(&[]),
            _ => self.map(node, field),
        }
    }

    pub(super) fn seq<'n>(
        &self,
        node: &'n Node,
        field: &str,
        what: &str,
    ) -> Result<&'n [Node], ConfigError> {
        match &node.value {
            Value::Seq(items) => Ok(items),
            _ => Err(self.expected(node, field, what)),
        }
    }

    pub(super) fn string(&self, node: &Node, field: &str) -> Result<String, ConfigError> {
        match &node.value {
            Value::Str(s) => Ok(s.clone()),
            _ => Err(self.expected(node, field, "a string")),
        }
    }

    /// A string, number or boolean, as text (compose accepts `POSTGRES_PORT: 5432`).
    pub(super) fn scalar(&self, node: &Node, field: &str) -> Result<String, ConfigError> {
        node.scalar_text()
            .ok_or_else(|| self.expected(node, field, "a string or number"))
    }

    pub(super) fn boolean(&self, node: &Node, field: &str) -> Result<bool, ConfigError> {
        match &node.value {
            Value::Bool(b) => Ok(*b),
            // Interpolated values arrive as strings.
            Value::Str(s) if s == "true" => Ok(true),
            Value::Str(s) if s == "false" => Ok(false),
            _ => Err(self.expected(node, field, "true or false")),
        }
    }

    pub(super) fn number<T: TryFrom<i64>>(
        &self,
        node: &Node,
        field: &str,
        what: &str,
    ) -> Result<T, ConfigError> {
        let number = match &node.value {
            Value::Int(i) => Some(*i),
            Value::Str(s) => s.trim().parse::<i64>().ok(),
            _ => None,
        };
        number
            .and_then(|n| T::try_from(n).ok())
            .ok_or_else(|| match &node.value {
                Value::Int(_) | Value::Str(_) => self.invalid(
                    node,
                    field,
                    format!(
                        "expected {what}, found {:?}",
                        node.scalar_text().unwrap_or_default()
                    ),
                ),
                _ => self.expected(node, field, what),
            })
    }

    /// `KEY: value` mapping or `["KEY=value", "KEY"]` list; `lookup` decides what a bare `KEY`
    /// (or `KEY:` with no value) becomes, `None` drops it.
    pub(super) fn key_values(
        &self,
        node: &Node,
        field: &str,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Vec<(String, String)>, ConfigError> {
        let mut out = Vec::new();
        match &node.value {
            Value::Null => {}
            Value::Map(entries) => {
                for (key, value) in entries {
                    let field = format!("{field}.{key}");
                    match &value.value {
                        Value::Null => out.extend(lookup(key).map(|v| (key.clone(), v))),
                        _ => out.push((key.clone(), self.scalar(value, &field)?)),
                    }
                }
            }
            Value::Seq(items) => {
                for (i, item) in items.iter().enumerate() {
                    let entry = self.scalar(item, &format!("{field}[{i}]"))?;
                    match entry.split_once('=') {
                        Some((key, value)) => out.push((key.to_owned(), value.to_owned())),
                        None => out.extend(lookup(&entry).map(|v| (entry.clone(), v))),
                    }
                }
            }
            _ => return Err(self.expected(node, field, "a mapping or a list of KEY=value")),
        }
        Ok(out)
    }
}
