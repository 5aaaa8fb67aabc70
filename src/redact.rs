//! Passwords never reach output by accident: every error message goes through [`redact`].

/// Replaces the password of every `scheme://user:password@host` in `text` with `***`.
pub(crate) fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("://") {
        let (before, after) = rest.split_at(start + 3);
        out.push_str(before);
        let authority_end = after
            .find(|c: char| c == '/' || c.is_whitespace())
            .unwrap_or(after.len());
        let authority = &after[..authority_end];
        match (authority.rfind('@'), authority.find(':')) {
            (Some(at), Some(colon)) if colon < at => {
                out.push_str(&authority[..=colon]);
                out.push_str("***");
                out.push_str(&authority[at..]);
            }
            _ => out.push_str(authority),
        }
        rest = &after[authority_end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_in_urls_are_masked() {
        assert_eq!(
            redact("cannot reach postgres://app:s3cret@127.0.0.1:5432/db now"),
            "cannot reach postgres://app:***@127.0.0.1:5432/db now"
        );
        assert_eq!(
            redact("a postgres://u:p@h/d and b postgresql://x:y@z:1"),
            "a postgres://u:***@h/d and b postgresql://x:***@z:1"
        );
        assert_eq!(
            redact("no password postgres://u@h:1/d"),
            "no password postgres://u@h:1/d"
        );
        assert_eq!(redact("plain text"), "plain text");
        assert_eq!(redact("http://h:80/x"), "http://h:80/x");
    }
}
