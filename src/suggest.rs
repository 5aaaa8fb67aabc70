//! Suggesting the known word a misspelt one was meant to be (a directive of a revision
//! file, a key of the `x-devdb` block): the closest candidate by edit distance, if it is
//! close enough to be a typo.

/// The candidate closest to `word`, among those at most `max_distance(candidate)` edits
/// away; of two equally close, the first in string order.
pub(crate) fn closest<'c>(
    word: &str,
    candidates: impl IntoIterator<Item = &'c str>,
    max_distance: impl Fn(&str) -> usize,
) -> Option<&'c str> {
    candidates
        .into_iter()
        .map(|candidate| (edit_distance(word, candidate), candidate))
        .filter(|(distance, candidate)| *distance <= max_distance(candidate))
        .min()
        .map(|(_, candidate)| candidate)
}

/// Levenshtein distance counting an adjacent transposition as one edit, so that
/// `parnets` is one step from `parents`.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut rows: Vec<Vec<usize>> = (0..=a.len())
        .map(|i| (0..=b.len()).map(|j| if i == 0 { j } else { i }).collect())
        .collect();
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_transpositions_once() {
        assert_eq!(edit_distance("parnets", "parents"), 1);
        assert_eq!(edit_distance("up", "up"), 0);
        assert_eq!(edit_distance("", "down"), 4);
        assert_eq!(edit_distance("migration", "migrations"), 1);
    }

    #[test]
    fn the_closest_candidate_within_reach_wins_and_ties_go_by_name() {
        let words = ["seeds", "schema", "backups"];
        assert_eq!(closest("shema", words, |_| 2), Some("schema"));
        assert_eq!(closest("flavour", words, |_| 2), None);
        assert_eq!(closest("ab", ["ac", "aa"], |_| 1), Some("aa"));
        assert_eq!(closest("seedz", words, |c| c.len() / 3), Some("seeds"));
        assert_eq!(closest("seedz", words, |_| 0), None);
    }
}
