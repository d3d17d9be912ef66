//! The pairs of close names, found without comparing every old name with
//! every new one.
//!
//! Two names are close when their normalised Levenshtein similarity reaches
//! the threshold. Comparing all pairs made a page on which thousands of
//! names changed at once take minutes, so candidates come from an index of
//! character bigrams instead, with the prefix filter of similarity joins
//! (Chaudhuri et al. 2006; Bayardo et al. 2007): it finds exactly the pairs
//! that the full comparison would, and compares few others.
//!
//! Why it is exact: `d` edits destroy at most `2d` of a name's bigrams, so
//! names of at most `m` characters within distance `d` share at least
//! `m - 1 - 2d` bigrams (Ukkonen's q-gram lemma). With `d ≤ (1 - t)·m` that
//! is at least `(1 - 2(1 - t))·m - 1`, and at least as many when `m` is
//! taken as either name's own length. Two sets that must share `τ` elements
//! share one among the first `|set| - τ + 1` of each, in any fixed order;
//! ordering bigrams rarest first keeps those prefixes' index lists short.

use std::collections::HashMap;

/// The pairs `(score, i, j)` whose normalised Levenshtein similarity
/// `score` reaches `threshold`, best first (then in page order), or `None` when finding
/// them could cost more than `budget` steps (the character pairs of the
/// edit distances to compute).
pub(super) fn close_pairs(
    olds: &[&str],
    news: &[&str],
    threshold: f64,
    budget: usize,
) -> Option<Vec<(f64, usize, usize)>> {
    let olds: Vec<Vec<char>> = olds.iter().map(|s| s.chars().collect()).collect();
    let news: Vec<Vec<char>> = news.iter().map(|s| s.chars().collect()).collect();
    let mut grams = Grams::default();
    let old_sets: Vec<Vec<u32>> = olds.iter().map(|s| grams.of(s)).collect();
    let new_sets: Vec<Vec<u32>> = news.iter().map(|s| grams.of(s)).collect();
    let rank = grams.rarest_first();
    let prefix = |set: &[u32], len: usize| -> Vec<u32> {
        let mut ranked: Vec<u32> = set.iter().map(|&g| rank[g as usize]).collect();
        ranked.sort_unstable();
        ranked.truncate(prefix_len(set.len(), len, threshold));
        ranked
    };

    // Each indexed bigram's names, and their total length.
    let mut index: HashMap<u32, (Vec<usize>, usize)> = HashMap::new();
    for (j, set) in new_sets.iter().enumerate() {
        for g in prefix(set, news[j].len()) {
            let (names, length) = index.entry(g).or_default();
            names.push(j);
            *length += news[j].len();
        }
    }
    // Names too short for the lemma to promise a shared bigram are compared
    // with each other directly.
    let short_news: Vec<usize> = (0..news.len())
        .filter(|&j| shared_at_least(news[j].len(), threshold) < 1)
        .collect();
    let short_length: usize = short_news.iter().map(|&j| news[j].len()).sum();
    let old_prefixes: Vec<Vec<u32>> = old_sets
        .iter()
        .zip(&olds)
        .map(|(set, name)| prefix(set, name.len()))
        .collect();

    // What the comparisons would cost at most, known before any is made:
    // names that all look alike give up at once, not after the budget.
    let mut work = 0usize;
    for (i, grams) in old_prefixes.iter().enumerate() {
        let mut length: usize = grams.iter().filter_map(|g| index.get(g)).map(|e| e.1).sum();
        if shared_at_least(olds[i].len(), threshold) < 1 {
            length += short_length;
        }
        work = work.saturating_add(olds[i].len().saturating_mul(length));
    }
    if work > budget {
        return None;
    }

    let mut pairs = Vec::new();
    let mut last_seen = vec![usize::MAX; news.len()];
    for (i, grams) in old_prefixes.iter().enumerate() {
        let short = shared_at_least(olds[i].len(), threshold) < 1;
        let indexed = grams.iter().filter_map(|g| index.get(g)).flat_map(|e| &e.0);
        let direct = short_news.iter().filter(|_| short);
        for &j in indexed.chain(direct) {
            if last_seen[j] == i {
                continue;
            }
            last_seen[j] = i;
            let (a, b) = (&olds[i], &news[j]);
            let longest = a.len().max(b.len());
            // The distance is at least the difference in length.
            if similarity(a.len().abs_diff(b.len()), longest) < threshold {
                continue;
            }
            let score = similarity(strsim::generic_levenshtein(a, b), longest);
            if score >= threshold {
                pairs.push((score, i, j));
            }
        }
    }
    pairs.sort_by(|x, y| y.0.total_cmp(&x.0).then((x.1, x.2).cmp(&(y.1, y.2))));
    Some(pairs)
}

/// Normalised Levenshtein similarity, computed as `strsim` does.
fn similarity(distance: usize, longest: usize) -> f64 {
    if longest == 0 {
        return 1.0;
    }
    1.0 - distance as f64 / longest as f64
}

/// How many bigrams a name of `chars` characters shares with any name
/// close enough to it, by the lemma above.
fn shared_at_least(chars: usize, threshold: f64) -> i64 {
    // Rounded down a hair, so that floating point never raises the bound.
    ((1.0 - 2.0 * (1.0 - threshold)) * chars as f64 - 1.0 - 1e-6).ceil() as i64
}

/// How many of a name's bigrams, rarest first, must be indexed so that any
/// name close enough shares one of them with it: all of them where the
/// lemma promises none.
fn prefix_len(bigrams: usize, chars: usize, threshold: f64) -> usize {
    match usize::try_from(shared_at_least(chars, threshold)) {
        Ok(shared) if shared >= 1 => (bigrams + 1).saturating_sub(shared).min(bigrams),
        _ => bigrams,
    }
}

/// The bigrams seen so far, each occurrence of a repeated bigram counted as
/// a bigram of its own ("a-a" twice in "banana" is two), so that shared sets
/// count shared occurrences.
#[derive(Default)]
struct Grams {
    ids: HashMap<(char, char, u32), u32>,
    counts: Vec<u32>,
}

impl Grams {
    /// A name's bigrams, as ids, counting each one's names.
    fn of(&mut self, name: &[char]) -> Vec<u32> {
        let mut seen: HashMap<(char, char), u32> = HashMap::new();
        name.windows(2)
            .map(|w| {
                let nth = seen.entry((w[0], w[1])).or_default();
                *nth += 1;
                let next = self.ids.len() as u32;
                let id = *self.ids.entry((w[0], w[1], *nth)).or_insert(next);
                if id == next {
                    self.counts.push(0);
                }
                self.counts[id as usize] += 1;
                id
            })
            .collect()
    }

    /// Each bigram's rank when the rarest come first.
    fn rarest_first(&self) -> Vec<u32> {
        let mut order: Vec<u32> = (0..self.counts.len() as u32).collect();
        order.sort_by_key(|&g| (self.counts[g as usize], g));
        let mut rank = vec![0; order.len()];
        for (r, g) in order.into_iter().enumerate() {
            rank[g as usize] = r as u32;
        }
        rank
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every pair at or above the threshold, by comparing all of them.
    fn all_pairs(olds: &[&str], news: &[&str], threshold: f64) -> Vec<(f64, usize, usize)> {
        let mut pairs = Vec::new();
        for (i, o) in olds.iter().enumerate() {
            for (j, n) in news.iter().enumerate() {
                let score = strsim::normalized_levenshtein(o, n);
                if score >= threshold {
                    pairs.push((score, i, j));
                }
            }
        }
        pairs.sort_by(|x, y| y.0.total_cmp(&x.0).then((x.1, x.2).cmp(&(y.1, y.2))));
        pairs
    }

    #[test]
    fn finds_exactly_the_pairs_of_a_full_comparison() {
        let olds = [
            "microsoft flow",
            "azure active directory",
            "microsoft cloud app security",
            "office 365 customer lockbox",
            "dynamics 365 customer service",
            "intune",
            "banana banana",
            "aaaaaaa",
            "power bi embedded",
            "azure sql database",
        ];
        let news = [
            "microsoft flows",
            "azure active directory b2c",
            "microsoft defender for cloud apps",
            "office 365 customer lock box",
            "dynamics 365 customer services",
            "intunes",
            "bananas banana",
            "aaaaaab",
            "power bi embeded",
            "azure sql databases",
            "azure sql edge",
        ];
        for threshold in [0.5, 0.7, 0.8, 0.9] {
            assert_eq!(
                close_pairs(&olds, &news, threshold, usize::MAX),
                Some(all_pairs(&olds, &news, threshold)),
                "threshold {threshold}"
            );
        }
    }

    proptest::proptest! {
        /// Names from a few letters, so that many are close to each other.
        #[test]
        fn agrees_with_a_full_comparison(
            olds in proptest::collection::vec("[abc ]{0,12}", 0..30),
            news in proptest::collection::vec("[abc é]{0,12}", 0..30),
            threshold in 0.3f64..1.0,
        ) {
            let olds: Vec<&str> = olds.iter().map(String::as_str).collect();
            let news: Vec<&str> = news.iter().map(String::as_str).collect();
            proptest::prop_assert_eq!(
                close_pairs(&olds, &news, threshold, usize::MAX),
                Some(all_pairs(&olds, &news, threshold))
            );
        }
    }

    #[test]
    fn counts_its_work_and_gives_up_past_the_budget() {
        // Names that all look alike leave the index nothing rare to go by.
        let names: Vec<String> = (0..200).map(|i| format!("{:b}", 1024 + i)).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        assert_eq!(close_pairs(&names, &names, 0.8, 10_000), None);
        assert!(close_pairs(&names, &names, 0.8, usize::MAX).is_some());
    }
}
