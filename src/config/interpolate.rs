//! Compose-style variable interpolation of string values.
//!
//! Supported forms: `$VAR`, `${VAR}`, `${VAR:-default}` (unset or empty), `${VAR-default}`
//! (unset), `${VAR:?message}` / `${VAR?message}` (required), `${VAR:+alt}` / `${VAR+alt}`
//! (replacement when set) and `$$` for a literal `$`. Defaults and replacements are themselves
//! interpolated, so `${A:-${B}}` works, and they are only evaluated when used.
//!
//! A `$` followed by anything else (`$1`, `$ `, a trailing `$`) is an error, as in docker compose:
//! silently keeping it would let `pa$word` mean one thing to devdb and another to compose. The
//! error says to write `$$`.

use std::collections::BTreeMap;

use super::yaml::{Node, Value};

/// Why a string could not be interpolated; the caller adds the file and line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum InterpolationError {
    /// `${VAR?message}` or `${VAR:?message}` with the variable missing.
    Required { variable: String, message: String },
    /// Malformed expression.
    Invalid(String),
}

/// Rewrites every string value in the tree (keys are left alone).
/// On error, returns the node whose text failed along with the reason.
pub(crate) fn interpolate_tree(
    node: &mut Node,
    vars: &BTreeMap<String, String>,
) -> Result<(), (Node, InterpolationError)> {
    match &mut node.value {
        Value::Str(text) => match interpolate(text, vars) {
            Ok(new) => {
                *text = new;
                Ok(())
            }
            Err(err) => Err((node.clone(), err)),
        },
        Value::Seq(items) => items
            .iter_mut()
            .try_for_each(|item| interpolate_tree(item, vars)),
        Value::Map(entries) => entries
            .iter_mut()
            .try_for_each(|(_, value)| interpolate_tree(value, vars)),
        Value::Null | Value::Bool(_) | Value::Int(_) | Value::Float(_) => Ok(()),
    }
}

/// Interpolates one string.
pub(crate) fn interpolate(
    text: &str,
    vars: &BTreeMap<String, String>,
) -> Result<String, InterpolationError> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(dollar) = rest.find('$') {
        out.push_str(&rest[..dollar]);
        let after = &rest[dollar + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(inner_and_tail) = after.strip_prefix('{') {
            let close = matching_brace(inner_and_tail).ok_or_else(|| {
                InterpolationError::Invalid("`${` without a matching `}`".to_owned())
            })?;
            out.push_str(&braced(&inner_and_tail[..close], vars)?);
            rest = &inner_and_tail[close + 1..];
        } else {
            let name_len = name_length(after);
            if name_len == 0 {
                return Err(InterpolationError::Invalid(
                    "`$` must start a variable like $VAR or ${VAR}; write `$$` for a literal `$`"
                        .to_owned(),
                ));
            }
            out.push_str(vars.get(&after[..name_len]).map_or("", String::as_str));
            rest = &after[name_len..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// Length of the variable name at the start of `s` (0 when there is none).
fn name_length(s: &str) -> usize {
    let bytes = s.as_bytes();
    if bytes
        .first()
        .is_none_or(|b| !(b.is_ascii_alphabetic() || *b == b'_'))
    {
        return 0;
    }
    bytes
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
        .count()
}

/// Index of the `}` closing a `${`, counting nested `${...}`; `$$` and `$}` do not nest.
fn matching_brace(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'$' if bytes.get(i + 1) == Some(&b'$') => i += 1,
            b'$' if bytes.get(i + 1) == Some(&b'{') => {
                depth += 1;
                i += 1;
            }
            b'}' if depth == 0 => return Some(i),
            b'}' => depth -= 1,
            _ => {}
        }
        i += 1;
    }
    None
}

/// Evaluates the inside of `${...}`.
fn braced(inner: &str, vars: &BTreeMap<String, String>) -> Result<String, InterpolationError> {
    let name_len = name_length(inner);
    if name_len == 0 {
        return Err(InterpolationError::Invalid(format!(
            "`${{{inner}}}` does not start with a variable name"
        )));
    }
    let name = &inner[..name_len];
    let operator = &inner[name_len..];
    let value = vars.get(name);
    let set_and_nonempty = value.is_some_and(|v| !v.is_empty());

    let (op, arg) = [":-", ":?", ":+", "-", "?", "+"]
        .iter()
        .find_map(|op| operator.strip_prefix(op).map(|arg| (*op, arg)))
        .unwrap_or(("", operator));
    match (op, arg) {
        ("", "") => Ok(value.cloned().unwrap_or_default()),
        (":-", default) if !set_and_nonempty => interpolate(default, vars),
        ("-", default) if value.is_none() => interpolate(default, vars),
        (":-" | "-", _) => Ok(value.cloned().unwrap_or_default()),
        (":?", message) if !set_and_nonempty => Err(required(name, message, vars)),
        ("?", message) if value.is_none() => Err(required(name, message, vars)),
        (":?" | "?", _) => Ok(value.cloned().unwrap_or_default()),
        (":+", alternative) if set_and_nonempty => interpolate(alternative, vars),
        ("+", alternative) if value.is_some() => interpolate(alternative, vars),
        (":+" | "+", _) => Ok(String::new()),
        _ => Err(InterpolationError::Invalid(format!(
            "unsupported expression `${{{inner}}}`; use ${{VAR}}, ${{VAR:-default}}, \
             ${{VAR-default}}, ${{VAR:?message}}, ${{VAR?message}} or ${{VAR:+alternative}}"
        ))),
    }
}

fn required(name: &str, message: &str, vars: &BTreeMap<String, String>) -> InterpolationError {
    InterpolationError::Required {
        variable: name.to_owned(),
        message: interpolate(message, vars).unwrap_or_else(|_| message.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> BTreeMap<String, String> {
        [
            ("USER", "alice"),
            ("EMPTY", ""),
            ("PORT", "5433"),
            ("B", "bee"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    fn run(text: &str) -> String {
        interpolate(text, &vars()).unwrap()
    }

    #[test]
    fn plain_and_braced_variables() {
        assert_eq!(run("$USER@host"), "alice@host");
        assert_eq!(run("${USER}x"), "alicex");
        assert_eq!(run("$USERx"), "");
        assert_eq!(run("a-$MISSING-b"), "a--b");
        assert_eq!(run("127.0.0.1:${PORT}:5432"), "127.0.0.1:5433:5432");
        assert_eq!(run("no variables"), "no variables");
    }

    #[test]
    fn defaults_distinguish_unset_from_empty() {
        assert_eq!(run("${MISSING:-d}"), "d");
        assert_eq!(run("${EMPTY:-d}"), "d");
        assert_eq!(run("${USER:-d}"), "alice");
        assert_eq!(run("${MISSING-d}"), "d");
        assert_eq!(run("${EMPTY-d}"), "");
        assert_eq!(run("${USER-d}"), "alice");
        assert_eq!(run("${MISSING:-}"), "");
    }

    #[test]
    fn alternatives_apply_only_when_set() {
        assert_eq!(run("${USER:+yes}"), "yes");
        assert_eq!(run("${EMPTY:+yes}"), "");
        assert_eq!(run("${EMPTY+yes}"), "yes");
        assert_eq!(run("${MISSING+yes}"), "");
        assert_eq!(run("${MISSING:+yes}"), "");
    }

    #[test]
    fn nested_defaults_are_interpolated_lazily() {
        assert_eq!(run("${MISSING:-${B}}"), "bee");
        assert_eq!(run("${MISSING:-${ALSO_MISSING:-deep}}"), "deep");
        assert_eq!(run("${MISSING:-x${B}y}z"), "xbeeyz");
        assert_eq!(run("${USER:-${NOPE:?never evaluated}}"), "alice");
        assert_eq!(run("${MISSING:-$$literal}"), "$literal");
    }

    #[test]
    fn double_dollar_is_a_literal_dollar() {
        assert_eq!(
            run("pg_isready -U $${POSTGRES_USER}"),
            "pg_isready -U ${POSTGRES_USER}"
        );
        assert_eq!(run("$$USER costs $$5"), "$USER costs $5");
    }

    #[test]
    fn required_variables_report_name_and_message() {
        assert_eq!(
            interpolate("${PASSWORD:?set it in .env}", &vars()),
            Err(InterpolationError::Required {
                variable: "PASSWORD".into(),
                message: "set it in .env".into()
            })
        );
        assert_eq!(
            interpolate("${EMPTY:?}", &vars()),
            Err(InterpolationError::Required {
                variable: "EMPTY".into(),
                message: String::new()
            })
        );
        assert_eq!(run("${EMPTY?must be set}"), "");
        assert_eq!(run("${USER:?x}"), "alice");
    }

    #[test]
    fn malformed_expressions_are_errors() {
        for text in [
            "cost $5",
            "trailing $",
            "${USER",
            "${}",
            "${USER:x}",
            "${1A}",
        ] {
            assert!(
                matches!(
                    interpolate(text, &vars()),
                    Err(InterpolationError::Invalid(_))
                ),
                "{text} should be rejected"
            );
        }
    }

    #[test]
    fn tree_interpolation_touches_values_not_keys() {
        let mut root =
            super::super::yaml::parse("$USER: \"${USER}\"\nlist: [a$B, 5]\n", "t".as_ref())
                .unwrap();
        interpolate_tree(&mut root, &vars()).unwrap();
        assert_eq!(root.get("$USER").unwrap().value, Value::Str("alice".into()));
        let Value::Seq(items) = &root.get("list").unwrap().value else {
            panic!()
        };
        assert_eq!(items[0].value, Value::Str("abee".into()));
        assert_eq!(items[1].value, Value::Int(5));
    }
}
