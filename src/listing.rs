//! Lists of names in messages, cut to a few: a message naming 312 revisions is read by
//! nobody, and hides what it says after the list. The few are followed by how many more
//! there are and which command lists them all.

use std::fmt::Display;

/// How many names a message lists before it counts the rest.
pub(crate) const FEW: usize = 5;

/// The first [`FEW`] of `items`, comma-separated; past those `… and N more; {all}`,
/// where `all` names the command that lists them all (`` `devdb history` lists them
/// all``).
pub(crate) fn few<T: Display>(items: &[T], all: &str) -> String {
    few_with(items, ", ", Some(all))
}

/// [`few`] with another separator, and `all` left out where no command lists them.
pub(crate) fn few_with<T: Display>(items: &[T], separator: &str, all: Option<&str>) -> String {
    let shown: Vec<String> = items.iter().take(FEW).map(ToString::to_string).collect();
    let mut text = shown.join(separator);
    if items.len() > FEW {
        text.push_str(&format!(" … and {} more", items.len() - FEW));
        if let Some(all) = all {
            text.push_str(&format!("; {all}"));
        }
    }
    text
}

/// What [`few`] says about revisions the database records.
pub(crate) const CURRENT_LISTS_THEM: &str = "`devdb current` lists them all";
/// What [`few`] says about revisions of the migration files.
pub(crate) const HISTORY_LISTS_THEM: &str = "`devdb history` lists them all";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_list_is_cut_to_a_few_and_counted() {
        assert_eq!(few(&["a", "b"], HISTORY_LISTS_THEM), "a, b");
        let many: Vec<String> = (1..=300).map(|n| format!("r{n}")).collect();
        assert_eq!(
            few(&many, HISTORY_LISTS_THEM),
            "r1, r2, r3, r4, r5 … and 295 more; `devdb history` lists them all"
        );
        assert_eq!(few(&many[..5], "x"), "r1, r2, r3, r4, r5");
        assert_eq!(
            few_with(&many[..6], "; ", None),
            "r1; r2; r3; r4; r5 … and 1 more"
        );
    }
}
