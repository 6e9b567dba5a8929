//! "did you mean" hints for misspelt names in error messages.

/// The registry name closest to `input` (case-insensitive), if it is close enough to be a typo.
pub(crate) fn closest<'a>(
    input: &str,
    names: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    // Names are short; a long input is no typo, and skipping it keeps hostile input linear.
    if input.len() > 40 {
        return None;
    }
    let input = input.to_ascii_lowercase();
    // Allow roughly one edit per four characters, at least one, at most three.
    let budget = (input.chars().count() / 4).clamp(1, 3);
    names
        .into_iter()
        // The length difference bounds the distance from below: skip hopeless names cheaply.
        .filter(|name| name.len().abs_diff(input.len()) <= budget)
        .map(|name| (distance(&input, &name.to_ascii_lowercase()), name))
        .filter(|(d, _)| *d <= budget)
        .min_by_key(|(d, _)| *d)
        .map(|(_, name)| name)
}

/// Formats the hint suffix for an error message: `` (did you mean `x`?)`` or nothing.
pub(crate) fn hint<'a>(input: &str, names: impl IntoIterator<Item = &'a str>) -> String {
    match closest(input, names) {
        Some(name) => format!(" (did you mean `{name}`?)"),
        None => String::new(),
    }
}

/// Edit distance over chars where swapping two neighbours counts as one edit (optimal string
/// alignment), so `mgs` is one edit from `msg`.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let width = b.len() + 1;
    // d[i * width + j] = distance between a[..i] and b[..j].
    let mut d = vec![0usize; (a.len() + 1) * width];
    let at = |i: usize, j: usize| i * width + j;
    for i in 0..=a.len() {
        if let Some(cell) = d.get_mut(at(i, 0)) {
            *cell = i;
        }
    }
    for j in 0..=b.len() {
        if let Some(cell) = d.get_mut(at(0, j)) {
            *cell = j;
        }
    }
    for (i, ca) in a.iter().enumerate() {
        for (j, cb) in b.iter().enumerate() {
            let get = |i: usize, j: usize| d.get(at(i, j)).copied().unwrap_or(usize::MAX);
            let mut best = get(i, j)
                .saturating_add(usize::from(ca != cb))
                .min(get(i, j + 1).saturating_add(1))
                .min(get(i + 1, j).saturating_add(1));
            let swapped = i > 0 && j > 0 && a.get(i - 1) == Some(cb) && b.get(j - 1) == Some(ca);
            if swapped {
                best = best.min(get(i - 1, j - 1).saturating_add(1));
            }
            if let Some(cell) = d.get_mut(at(i + 1, j + 1)) {
                *cell = best;
            }
        }
    }
    d.last().copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_close_names_only() {
        let names = ["SecRule", "SecRuleEngine", "SecMarker"];
        assert_eq!(closest("SecRul", names), Some("SecRule"));
        assert_eq!(closest("secruleengin", names), Some("SecRuleEngine"));
        assert_eq!(closest("Frobnicate", names), None);
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("mgs", "msg"), 1);
        assert_eq!(distance("", "ab"), 2);
    }
}
