//! Whether a column type change can lose data.
//!
//! `ALTER COLUMN ... TYPE new USING col::new` keeps every value when the new type holds
//! all values of the old one (`integer` to `bigint`, `varchar(50)` to `varchar(200)` or
//! `text`, `numeric(10,2)` to `numeric(12,2)`). Any other change can fail on a row or, worse,
//! change it silently: an explicit cast to `varchar(20)` truncates, one to `numeric(10,0)`
//! rounds. Types are compared as `format_type` prints them.

/// Why changing a column from `from` to `to` can lose data; `None` when every value of
/// `from` fits `to` unchanged.
pub(crate) fn type_change_risk(from: &str, to: &str) -> Option<&'static str> {
    if from == to || widens(from, to) {
        return None;
    }
    let (from_base, _) = split_modifier(from);
    let (to_base, to_mod) = split_modifier(to);
    if from_base == to_base && to_mod.is_some() {
        return Some(match from_base {
            "character varying" | "character" | "bit varying" | "bit" => {
                "narrowing: longer values are cut to the new length"
            }
            "numeric" => "narrowing: values are rounded or out of range",
            _ => "narrowing: values lose precision",
        });
    }
    if rank(from_base)
        .zip(rank(to_base))
        .is_some_and(|(f, t)| t < f)
    {
        return Some("narrowing: values out of the new range make the migration fail");
    }
    Some("the cast can fail on a row or change its value")
}

/// Whether every value of `from` is a value of `to`.
fn widens(from: &str, to: &str) -> bool {
    if let (Some(f), Some(t)) = (from.strip_suffix("[]"), to.strip_suffix("[]")) {
        return widens(f, t) || f == t;
    }
    let (from_base, from_mod) = split_modifier(from);
    let (to_base, to_mod) = split_modifier(to);
    match (from_base, to_base) {
        ("smallint" | "integer" | "bigint", "numeric") => to_mod.is_none(),
        ("smallint" | "integer", "double precision") | ("smallint", "real") => true,
        ("real", "double precision") => true,
        ("numeric", "numeric") => match (numeric_modifier(from_mod), numeric_modifier(to_mod)) {
            (_, None) => to_mod.is_none(),
            (Some((p, s)), Some((q, t))) => t >= s && q - t >= p - s,
            (None, Some(_)) => false,
        },
        ("character varying", "character varying") => length(from_mod) <= length(to_mod),
        ("bit varying", "bit varying") => length(from_mod) <= length(to_mod),
        (
            "timestamp without time zone"
            | "timestamp with time zone"
            | "time without time zone"
            | "time with time zone"
            | "interval",
            _,
        ) if same_family(from, to) => precision(from_mod) <= precision(to_mod),
        _ => rank(from_base)
            .zip(rank(to_base))
            .is_some_and(|(f, t)| f < t && from_mod.is_none() && to_mod.is_none()),
    }
}

/// Integer types by range.
fn rank(base: &str) -> Option<u8> {
    match base {
        "smallint" => Some(0),
        "integer" => Some(1),
        "bigint" => Some(2),
        _ => None,
    }
}

/// `character varying(20)` -> (`character varying`, Some(`20`)); a time type's modifier
/// sits inside its name: `timestamp(3) with time zone`. `text` is an unbounded
/// `character varying` here: both hold the same values.
fn split_modifier(t: &str) -> (&str, Option<&str>) {
    if t == "text" {
        return ("character varying", None);
    }
    let Some(open) = t.find('(') else {
        return (t, None);
    };
    let Some(close) = t[open..].find(')').map(|c| open + c) else {
        return (t, None);
    };
    let inner = &t[open + 1..close];
    let rest = t[close + 1..].trim();
    let base = t[..open].trim_end();
    if rest.is_empty() {
        (base, Some(inner))
    } else {
        // Only the time types put words after the modifier; keep their full name.
        let full = match (base, rest) {
            ("timestamp", "with time zone") => "timestamp with time zone",
            ("timestamp", "without time zone") => "timestamp without time zone",
            ("time", "with time zone") => "time with time zone",
            ("time", "without time zone") => "time without time zone",
            _ => return (t, None),
        };
        (full, Some(inner))
    }
}

fn same_family(from: &str, to: &str) -> bool {
    split_modifier(from).0 == split_modifier(to).0
}

fn numeric_modifier(modifier: Option<&str>) -> Option<(i64, i64)> {
    let (p, s) = modifier?.split_once(',')?;
    Some((p.trim().parse().ok()?, s.trim().parse().ok()?))
}

/// A length modifier; none means unbounded.
fn length(modifier: Option<&str>) -> u64 {
    modifier.and_then(|m| m.parse().ok()).unwrap_or(u64::MAX)
}

/// A fractional-seconds precision; none means the default, 6.
fn precision(modifier: Option<&str>) -> u64 {
    modifier.and_then(|m| m.parse().ok()).unwrap_or(6)
}

#[cfg(test)]
mod tests {
    use super::type_change_risk;

    #[test]
    fn widening_changes_are_safe() {
        for (from, to) in [
            ("integer", "bigint"),
            ("smallint", "integer"),
            ("integer", "numeric"),
            ("bigint", "numeric"),
            ("integer", "double precision"),
            ("real", "double precision"),
            ("character varying(50)", "character varying(200)"),
            ("character varying(50)", "text"),
            ("character varying(50)", "character varying"),
            ("text", "character varying"),
            ("numeric(10,2)", "numeric(12,2)"),
            ("numeric(10,2)", "numeric(12,4)"),
            ("numeric(10,2)", "numeric"),
            ("integer[]", "bigint[]"),
            (
                "timestamp(3) without time zone",
                "timestamp without time zone",
            ),
            ("timestamp(0) with time zone", "timestamp(3) with time zone"),
        ] {
            assert_eq!(type_change_risk(from, to), None, "{from} -> {to}");
        }
    }

    #[test]
    fn narrowing_and_other_casts_are_flagged() {
        for (from, to, why) in [
            ("bigint", "integer", "out of the new range"),
            ("integer", "smallint", "out of the new range"),
            ("character varying(200)", "character varying(50)", "cut"),
            ("numeric(12,2)", "numeric(10,2)", "rounded"),
            ("numeric(10,2)", "numeric(10,4)", "rounded"),
            ("numeric", "numeric(10,2)", "rounded"),
            ("text", "character varying(20)", "cut"),
            ("character varying", "character varying(20)", "cut"),
            ("text", "integer", "can fail"),
            ("bigint", "double precision", "can fail"),
            (
                "timestamp with time zone",
                "timestamp(0) with time zone",
                "precision",
            ),
            (
                "timestamp without time zone",
                "timestamp with time zone",
                "can fail",
            ),
        ] {
            let risk = type_change_risk(from, to);
            assert!(
                risk.is_some_and(|r| r.contains(why)),
                "{from} -> {to}: {risk:?}"
            );
        }
    }
}
