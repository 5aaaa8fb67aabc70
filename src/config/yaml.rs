//! A YAML document as a generic tree that remembers where each value came from.
//!
//! The compose file is parsed into this tree first, so that interpolation can rewrite string
//! values before they are read into devdb's types, and errors can still point at a line.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{MessageFormatter, Spanned, UserMessageFormatter};

use super::error::{ConfigError, SourceLocation};

/// A value with the 1-based line and column it starts at (0 when unknown).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub value: Value,
    pub line: u64,
    pub column: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    /// Keys in document order; YAML keys that are numbers or booleans become their text.
    Map(Vec<(String, Node)>),
}

impl Value {
    /// How the value is named in an error message ("found a number").
    pub(super) fn kind(&self) -> &'static str {
        match self {
            Value::Null => "nothing (null)",
            Value::Bool(_) => "a boolean",
            Value::Int(_) | Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }
}

impl Node {
    pub(super) fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The value as text when it is a scalar; numbers and booleans are written as YAML shows them.
    pub(super) fn scalar_text(&self) -> Option<String> {
        match &self.value {
            Value::Str(s) => Some(s.clone()),
            Value::Int(i) => Some(i.to_string()),
            Value::Float(f) => Some(f.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Null | Value::Seq(_) | Value::Map(_) => None,
        }
    }
}

/// Parses `text` (the contents of `path`) into a tree.
pub(crate) fn parse(text: &str, path: &std::path::Path) -> Result<Node, ConfigError> {
    // YAML 1.2 booleans, as docker compose reads them: `ON: yes` is a string key and value.
    let options = serde_saphyr::options! { strict_booleans: true };
    serde_saphyr::from_str_with_options::<Node>(text, options).map_err(|err| {
        let location = err.location();
        let message = UserMessageFormatter
            .format_message(err.without_snippet())
            .into_owned();
        ConfigError::Syntax {
            at: SourceLocation {
                path: path.to_path_buf(),
                line: location.map(|l| l.line()).filter(|&l| l > 0),
                column: location.map(|l| l.column()).filter(|&c| c > 0),
            },
            message,
        }
    })
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<Value>::deserialize(deserializer)?;
        Ok(Node {
            value: spanned.value,
            line: spanned.referenced.line(),
            column: spanned.referenced.column(),
        })
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(i64::try_from(v).map_or(Value::Float(v as f64), Value::Int))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(Value::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        while let Some(Key(key)) = map.next_key::<Key>()? {
            entries.push((key, map.next_value::<Node>()?));
        }
        Ok(Value::Map(entries))
    }
}

/// A mapping key: compose keys are names, but YAML allows `5432:` or `true:` too.
struct Key(String);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a scalar mapping key")
            }
            fn visit_str<E>(self, v: &str) -> Result<Key, E> {
                Ok(Key(v.to_owned()))
            }
            fn visit_bool<E>(self, v: bool) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Key, E> {
                Err(E::custom("a mapping key must not be empty"))
            }
        }
        // As written: `1.0:` stays "1.0", `on:` stays "on".
        deserializer.deserialize_str(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn records_lines_and_columns_of_nested_values() {
        let text = "services:\n  db:\n    image: postgres:17\n    ports:\n      - 5432\n";
        let root = parse(text, Path::new("c.yaml")).unwrap();
        let db = root.get("services").unwrap().get("db").unwrap();
        let image = db.get("image").unwrap();
        assert_eq!(image.value, Value::Str("postgres:17".into()));
        assert_eq!((image.line, image.column), (3, 12));
        let ports = db.get("ports").unwrap();
        let Value::Seq(items) = &ports.value else {
            panic!("ports is {:?}", ports.value)
        };
        assert_eq!(items[0].value, Value::Int(5432));
        assert_eq!((items[0].line, items[0].column), (5, 9));
    }

    #[test]
    fn quoted_numbers_stay_strings_and_empty_values_are_null() {
        let root = parse(
            "a: \"5432\"\nb:\nc: true\nON: yes\n1.0: x\n",
            Path::new("c.yaml"),
        )
        .unwrap();
        assert_eq!(root.get("ON").unwrap().value, Value::Str("yes".into()));
        assert_eq!(root.get("1.0").unwrap().value, Value::Str("x".into()));
        assert_eq!(root.get("a").unwrap().value, Value::Str("5432".into()));
        assert_eq!(root.get("b").unwrap().value, Value::Null);
        assert_eq!(root.get("c").unwrap().value, Value::Bool(true));
    }

    #[test]
    fn syntax_error_names_file_line_and_column() {
        let text = "services:\n  db:\n    image: [postgres\n    ports: 1\n";
        let err = parse(text, Path::new("compose/compose.yaml")).unwrap_err();
        let ConfigError::Syntax { at, message } = &err else {
            panic!("unexpected error {err:?}")
        };
        assert_eq!(at.path, Path::new("compose/compose.yaml"));
        assert!(at.line.unwrap() >= 3, "{err}");
        assert!(!message.is_empty());
        assert!(
            err.to_string().starts_with("compose/compose.yaml:"),
            "{err}"
        );
    }

    #[test]
    fn duplicate_keys_are_rejected_with_their_line() {
        let err = parse("a: 1\nb: 2\na: 3\n", Path::new("x.yaml")).unwrap_err();
        assert!(err.to_string().starts_with("x.yaml:3:"), "{err}");
    }
}
