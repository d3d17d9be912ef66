//! A service's spelling on translated pages, shown beside its English name.

use std::collections::BTreeMap;

use crate::canon::l10n::language;
use crate::canon::{AliasTable, ServiceKey};

/// Whether `name`, as a page in `locale` lists it, is a translation: an
/// English name written otherwise, not an English name itself.
pub(super) fn translates(aliases: &AliasTable, locale: &str, name: &str) -> bool {
    language(locale) != "en" && aliases.english_of(&ServiceKey::of(name)).is_some()
}

/// The spelling with the highest count in each locale, from counts of
/// (locale, spelling); the first in order on a tie.
pub(super) fn most_used_per_locale(
    counts: impl IntoIterator<Item = ((String, String), usize)>,
) -> BTreeMap<String, String> {
    let mut best: BTreeMap<String, (usize, String)> = BTreeMap::new();
    for ((locale, spelling), count) in counts {
        if best.get(&locale).is_none_or(|(most, _)| count > *most) {
            best.insert(locale, (count, spelling));
        }
    }
    best.into_iter().map(|(l, (_, s))| (l, s)).collect()
}
