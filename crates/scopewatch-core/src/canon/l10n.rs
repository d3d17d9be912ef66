//! One identity across languages: the English name each localized service
//! name and environment label stands for, learned from aligned pages.
//!
//! A translated offering page keeps the structure of the English page it was
//! translated from: the same sections, the same lists and table rows, in the
//! same order. [`align`] pairs the two positions by position wherever the
//! structure matches exactly, so the German "Microsoft Defender für
//! Endpunkt" at the place of "Microsoft Defender for Endpoint" is learned as
//! that service, in any language, with no word list. A [`Learner`] adds up
//! what many page pairs say and keeps only names they agree on;
//! [`LocalizedNames`] is the result, with its evidence, as the identity
//! function ([`super::AliasTable`]) consults it.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Range;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use super::ServiceKey;
use crate::AliasError;
use crate::model::{Scope, ScopeItem, Snapshot};

/// The names learned from the shared corpus of translated pages, shipped
/// with scopewatch (made by `cargo run -p scopewatch-core --example
/// l10n-table`). Tab-separated rather than TOML: every command reads it at
/// start, and TOML took 16 M instructions to read it, most of a one-page
/// `parse`.
pub const BUILTIN_LOCALIZED: &str = include_str!("../../../../config/l10n-names.tsv");

/// What a localized name names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A service of an in-scope list or table cell.
    Service = 0,
    /// The label of an applicability-table row.
    Environment,
    /// A whole item that names its services otherwise than the English
    /// item: the English name is the English item's services, joined by
    /// [`ITEM_SEPARATOR`] (none for an item that names no service).
    Item,
}

/// Joins the English services of a [`Kind::Item`]: the splitter never leaves
/// a ';' in a name.
pub const ITEM_SEPARATOR: &str = "; ";

impl Kind {
    /// The kind's name in storage and output.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Service => "service",
            Kind::Environment => "environment",
            Kind::Item => "item",
        }
    }
}

/// One localized name at the place of an English one in two aligned pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aligned {
    /// Service or environment label.
    pub kind: Kind,
    /// The name as the translated page writes it.
    pub localized: String,
    /// The name the English page writes at the same place.
    pub english: String,
}

/// Where a name was learned: the page, and the two versions aligned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    /// The page (source id or slug).
    pub source: String,
    /// The localized version's date (YYYY-MM-DD).
    pub date: String,
    /// The English version it was aligned with (a commit or a date).
    pub english_ref: String,
    /// The localized version (a commit or a date).
    pub localized_ref: String,
}

/// A localized name with the English name it stands for and its evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LearnedName {
    /// The locale of the page it was learned from ("de-de").
    pub locale: String,
    /// Service or environment label.
    pub kind: Kind,
    /// The name as translated pages write it.
    pub localized: String,
    /// The English name it stands for.
    pub english: String,
    /// How many aligned page pairs put this English name at its place.
    pub pairs: u32,
    /// The first pair that did.
    #[serde(flatten)]
    pub first: Provenance,
}

/// The scopes of two pages that stand at the same place: all of them in
/// order when both pages have as many, else those under the same anchor
/// where each anchor holds as many on both sides.
fn paired_scopes<'a>(
    english: &'a Snapshot,
    localized: &'a Snapshot,
) -> Vec<(&'a Scope, &'a Scope)> {
    if english.scopes.len() == localized.scopes.len() {
        return english.scopes.iter().zip(&localized.scopes).collect();
    }
    let by_anchor = |s: &'a Snapshot| {
        let mut groups: HashMap<&'a str, Vec<&'a Scope>> = HashMap::new();
        for scope in &s.scopes {
            if let Some(anchor) = scope.anchor.as_deref() {
                groups.entry(anchor).or_default().push(scope);
            }
        }
        groups
    };
    let localized_groups = by_anchor(localized);
    let mut english_groups = by_anchor(english);
    let mut pairs = Vec::new();
    for scope in &english.scopes {
        let Some(ours) = scope
            .anchor
            .as_deref()
            .and_then(|anchor| english_groups.remove_entry(anchor))
        else {
            continue;
        };
        let (anchor, ours) = ours;
        if let Some(theirs) = localized_groups.get(anchor)
            && theirs.len() == ours.len()
        {
            pairs.extend(ours.into_iter().zip(theirs.iter().copied()));
        }
    }
    pairs
}

/// True when a list's items are not in the English order: a localized item
/// names a service the English list has at another position.
fn reordered(english: &Scope, localized: &Scope) -> bool {
    let mut positions: HashMap<ServiceKey, Vec<usize>> = HashMap::new();
    for (i, item) in english.items.iter().enumerate() {
        for s in &item.services {
            positions.entry(ServiceKey::from(s)).or_default().push(i);
        }
    }
    localized.items.iter().enumerate().any(|(i, item)| {
        item.services.iter().any(|s| {
            positions
                .get(&ServiceKey::from(s))
                .is_some_and(|at| !at.contains(&i))
        })
    })
}

/// A service name of a list, its identity and the item it stands in.
type Named<'a> = (&'a str, ServiceKey, &'a ScopeItem);

fn named(items: &[ScopeItem]) -> Vec<Named<'_>> {
    items
        .iter()
        .flat_map(|i| {
            i.services
                .iter()
                .map(move |s| (s.name(), ServiceKey::from(s), i))
        })
        .collect()
}

/// The stretches between the names two lists write alike (their longest
/// common run), as index ranges on each side, the stretch after the last
/// shared name included.
fn gaps(en: &[Named<'_>], lo: &[Named<'_>]) -> Vec<(Range<usize>, Range<usize>)> {
    let (n, m) = (en.len(), lo.len());
    // Longest common subsequence of the keys, by dynamic programming.
    let mut run = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            run[i][j] = if en[i].1 == lo[j].1 {
                run[i + 1][j + 1] + 1
            } else {
                run[i + 1][j].max(run[i][j + 1])
            };
        }
    }
    let mut out = Vec::new();
    let (mut i, mut j, mut gap) = (0, 0, (0, 0));
    while i < n && j < m {
        if en[i].1 == lo[j].1 {
            out.push((gap.0..i, gap.1..j));
            i += 1;
            j += 1;
            gap = (i, j);
        } else if run[i + 1][j] >= run[i][j + 1] {
            i += 1;
        } else {
            j += 1;
        }
    }
    out.push((gap.0..n, gap.1..m));
    out
}

/// Whether one localized name stands for several English names by writing
/// one of them whole: a lost comma ("Office 365 客户门户OfficeOnline").
fn merges(localized: &Named<'_>, english: &[Named<'_>]) -> bool {
    english.len() >= 2
        && english
            .iter()
            .any(|e| localized.1.as_str().contains(e.1.as_str()))
}

/// The services of two lists that stand between the same shared names: the
/// names both lists write alike are found in order, and each stretch
/// between two of them that holds as many names on both sides is paired by
/// position. A list the translation sorted anew, or from which it left a
/// name out, still teaches its other stretches.
fn between_shared<'a>(
    english: &'a [ScopeItem],
    localized: &'a [ScopeItem],
) -> Vec<(Kind, &'a str, String)> {
    let (en, lo) = (named(english), named(localized));
    let mut pairs = Vec::new();
    for (e, l) in gaps(&en, &lo) {
        if e.len() == l.len() {
            pairs.extend(
                e.zip(l)
                    .map(|(a, b)| (Kind::Service, lo[b].0, en[a].0.to_string())),
            );
        } else if l.len() == 1
            && lo[l.start].2.services.len() == 1
            && merges(&lo[l.start], &en[e.clone()])
        {
            // Several English names where the translation's item has one:
            // that item is learned whole.
            let names: Vec<&str> = en[e].iter().map(|n| n.0).collect();
            pairs.push((
                Kind::Item,
                lo[l.start].2.text.as_str(),
                names.join(ITEM_SEPARATOR),
            ));
        }
    }
    // A name moved elsewhere by the new sort: one name left over on each
    // side once the rest is paired is still a pair.
    let left = |side: &[Named<'a>], other: &[Named<'a>], taken: &HashSet<&str>| {
        let keys: HashSet<&ServiceKey> = other.iter().map(|(_, k, _)| k).collect();
        let mut rest = side
            .iter()
            .filter(|(name, key, _)| !keys.contains(key) && !taken.contains(name));
        match (rest.next(), rest.next()) {
            (Some((one, _, _)), None) => Some(*one),
            _ => None,
        }
    };
    let taken_en: HashSet<&str> = pairs
        .iter()
        .filter(|p| p.0 == Kind::Service)
        .map(|(_, _, e)| e.as_str())
        .collect();
    let taken_lo: HashSet<&str> = pairs.iter().map(|(_, l, _)| *l).collect();
    if pairs.iter().all(|p| p.0 == Kind::Service)
        && let (Some(e), Some(l)) = (left(&en, &lo, &taken_en), left(&lo, &en, &taken_lo))
    {
        pairs.push((Kind::Service, l, e.to_string()));
    }
    pairs
}

/// Whether a translated item names every name of its English item: each
/// stretch between the names they share holds the English names in order,
/// one localized name for one English name or for several it merges.
fn names_all_of(english: &ScopeItem, localized: &ScopeItem) -> bool {
    let (en, lo) = (
        named(std::slice::from_ref(english)),
        named(std::slice::from_ref(localized)),
    );
    gaps(&en, &lo)
        .into_iter()
        .all(|(e, l)| covers(&en[e], &lo[l]))
}

/// Whether the localized names stand for the English ones in order, each
/// for one name or for a run of names it merges or reads as several
/// ("Office 365 GCC高和 DoD"). Worked forward over the English positions
/// each prefix of the translation can reach, so a long item costs
/// polynomial time, never a search of every split.
fn covers(en: &[Named<'_>], lo: &[Named<'_>]) -> bool {
    let mut reach = vec![false; en.len() + 1];
    reach[0] = true;
    for name in lo {
        let several = super::split::reads_as_several(name.0);
        let mut next = vec![false; en.len() + 1];
        for i in (0..en.len()).filter(|&i| reach[i]) {
            next[i + 1] = true;
            for k in 2..=en.len() - i {
                if several || merges(name, &en[i..i + k]) {
                    next[i + k] = true;
                }
            }
        }
        reach = next;
    }
    reach[en.len()]
}

/// The localized names of a translated page at the places of the English
/// page's names. Only lists and rows of the same shape are read (as many
/// items, each naming as many services, in the same order), and a name that
/// the English page itself uses is never taken for another: what does not
/// align yields nothing rather than a guess.
pub fn align(english: &Snapshot, localized: &Snapshot) -> Vec<Aligned> {
    let english_keys: HashSet<ServiceKey> = english
        .entries()
        .map(|e| ServiceKey::from(e.service))
        .collect();
    let mut out = Vec::new();
    let mut push = |kind, localized: &str, english: &str| {
        let key = ServiceKey::of(localized);
        if key != ServiceKey::of(english)
            && (kind == Kind::Environment || !english_keys.contains(&key))
        {
            out.push(Aligned {
                kind,
                localized: localized.to_string(),
                english: english.to_string(),
            });
        }
    };
    for (e, l) in paired_scopes(english, localized) {
        if let (Some(el), Some(ll)) = (&e.environment, &l.environment) {
            push(Kind::Environment, ll, el);
        }
        if e.items.len() != l.items.len() || reordered(e, l) {
            for (kind, lo, en) in between_shared(&e.items, &l.items) {
                push(kind, lo, &en);
            }
            continue;
        }
        for (ei, li) in e.items.iter().zip(&l.items) {
            // A translation that splits into several names, but fewer than
            // the English item and not by merging some, has left a name out
            // (or not yet added it): its other names still pair, but the
            // item is not learned whole, which would lend it the missing name.
            let (en_count, lo_count) = (ei.services.len(), li.services.len());
            if (2..en_count).contains(&lo_count) && !names_all_of(ei, li) {
                for (kind, lo, en) in
                    between_shared(std::slice::from_ref(ei), std::slice::from_ref(li))
                {
                    push(kind, lo, &en);
                }
                continue;
            }
            // A translated name the English page uses for another service
            // cannot stand for this one by itself: its item text can.
            let taken = ei.services.iter().zip(&li.services).any(|(en, lo)| {
                let key = ServiceKey::from(lo);
                key != ServiceKey::from(en) && english_keys.contains(&key)
            });
            if en_count != lo_count || taken {
                let english: Vec<&str> = ei.services.iter().map(|s| s.name()).collect();
                push(Kind::Item, &li.text, &english.join(ITEM_SEPARATOR));
                continue;
            }
            for (en, lo) in [(&ei.services, &li.services), (&ei.formerly, &li.formerly)] {
                if en.len() == lo.len() {
                    for (en, lo) in en.iter().zip(lo) {
                        push(Kind::Service, lo.name(), en.name());
                    }
                }
            }
        }
    }
    out
}

/// English spellings at least this similar (normalised Levenshtein on their
/// keys) are taken for one name when votes are counted: a letter in twenty.
const NEAR_IDENTICAL: f64 = 0.95;

/// The votes for one localized name.
#[derive(Debug)]
struct Tally {
    localized: String,
    /// English identity → (its spelling, votes, first evidence).
    votes: BTreeMap<ServiceKey, (String, u32, Provenance)>,
}

/// Adds up what many aligned page pairs say each localized name stands for.
#[derive(Debug, Default)]
pub struct Learner {
    tallies: BTreeMap<(String, Kind, ServiceKey), Tally>,
    /// Every name English pages use, per kind: never learned as a
    /// translation of another.
    english: HashSet<(Kind, ServiceKey)>,
}

impl Learner {
    /// Aligns one translated page with the English page it was translated
    /// from and records what it says.
    pub fn add(
        &mut self,
        locale: &str,
        english: &Snapshot,
        localized: &Snapshot,
        seen: &Provenance,
    ) {
        for entry in english.entries() {
            self.english
                .insert((Kind::Service, ServiceKey::from(entry.service)));
            if let Some(env) = entry.environment {
                self.english
                    .insert((Kind::Environment, ServiceKey::of(env)));
            }
        }
        for a in align(english, localized) {
            let tally = self
                .tallies
                .entry((locale.to_lowercase(), a.kind, ServiceKey::of(&a.localized)))
                .or_insert_with(|| Tally {
                    localized: a.localized.clone(),
                    votes: BTreeMap::new(),
                });
            let vote = tally
                .votes
                .entry(ServiceKey::of(&a.english))
                .or_insert_with(|| (a.english.clone(), 0, seen.clone()));
            vote.1 += 1;
        }
    }

    /// The names learned: each localized name for which at least two thirds
    /// of the pairs agree on one English name, and which no English page
    /// uses for a service of its own.
    pub fn finish(self) -> Vec<LearnedName> {
        let english = self.english;
        self.tallies
            .into_iter()
            .filter(|((_, kind, key), _)| !english.contains(&(*kind, key.clone())))
            .filter_map(|((locale, kind, _), tally)| {
                let total: u32 = tally.votes.values().map(|v| v.1).sum();
                let votes: Vec<(ServiceKey, (String, u32, Provenance))> =
                    tally.votes.into_iter().collect();
                // English pages spell one name a little differently over
                // the years ("Office Service(s) Infrastructure"): votes for
                // near-identical spellings count for the most voted one.
                let (best_key, (name, _, first)) = votes.iter().max_by_key(|(_, v)| v.1)?.clone();
                let pairs: u32 = votes
                    .iter()
                    .filter(|(key, _)| {
                        strsim::normalized_levenshtein(key.as_str(), best_key.as_str())
                            >= NEAR_IDENTICAL
                    })
                    .map(|(_, v)| v.1)
                    .sum();
                (pairs * 3 >= total * 2).then_some(LearnedName {
                    locale,
                    kind,
                    localized: tally.localized,
                    english: name,
                    pairs,
                    first,
                })
            })
            .collect()
    }
}

/// One line of the tab-separated table: a [`LearnedName`] with its
/// evidence in columns of their own.
#[derive(Debug, Serialize, Deserialize)]
struct Row {
    locale: String,
    kind: Kind,
    localized: String,
    english: String,
    pairs: u32,
    source: String,
    date: String,
    english_ref: String,
    localized_ref: String,
}

/// Localized names and row labels with the English name each stands for.
#[derive(Debug, Clone, Default)]
pub struct LocalizedNames {
    names: Vec<LearnedName>,
    /// Where each name is, by locale, kind and spelling.
    at: HashMap<(String, Kind, ServiceKey), usize>,
    /// Per kind (as its index), each spelling's name. A spelling two
    /// languages give two English names is in none: it cannot tell two
    /// services apart.
    lookup: [HashMap<ServiceKey, usize>; 3],
}

impl LocalizedNames {
    /// The names learned from the shared corpus, shipped with scopewatch.
    pub fn builtin() -> Self {
        // Read once: every alias table starts from it.
        static BUILTIN: LazyLock<LocalizedNames> = LazyLock::new(|| {
            LocalizedNames::from_tsv(BUILTIN_LOCALIZED)
                .expect("the shipped table of localized names is valid")
        });
        BUILTIN.clone()
    }

    /// Reads a table as [`Self::to_tsv`] writes it.
    pub fn from_tsv(text: &str) -> Result<Self, AliasError> {
        let rows = csv::ReaderBuilder::new()
            .delimiter(b'\t')
            .from_reader(text.as_bytes())
            .into_deserialize::<Row>()
            .map(|row| {
                let row = row?;
                Ok(LearnedName {
                    locale: row.locale,
                    kind: row.kind,
                    localized: row.localized,
                    english: row.english,
                    pairs: row.pairs,
                    first: Provenance {
                        source: row.source,
                        date: row.date,
                        english_ref: row.english_ref,
                        localized_ref: row.localized_ref,
                    },
                })
            })
            .collect::<Result<Vec<_>, AliasError>>()?;
        let mut names = LocalizedNames::default();
        names.extend(rows);
        Ok(names)
    }

    /// Adds names; a later name for the same localized spelling in the same
    /// locale replaces an earlier one.
    pub fn extend(&mut self, learned: impl IntoIterator<Item = LearnedName>) {
        let mut learned = learned.into_iter().peekable();
        // Nothing learned (pages in English only): every command starts by
        // extending the built-in table, and the lookup stays as it is.
        if learned.peek().is_none() {
            return;
        }
        for name in learned {
            let id = (
                name.locale.clone(),
                name.kind,
                ServiceKey::of(&name.localized),
            );
            match self.at.get(&id) {
                Some(&i) => self.names[i] = name,
                None => {
                    self.at.insert(id, self.names.len());
                    self.names.push(name);
                }
            }
        }
        let mut ambiguous: HashSet<(Kind, ServiceKey)> = HashSet::new();
        self.lookup = Default::default();
        for ((_, kind, key), &i) in &self.at {
            let lookup = &mut self.lookup[*kind as usize];
            if ambiguous.contains(&(*kind, key.clone())) {
                continue;
            }
            match lookup.get(key) {
                Some(&j)
                    if ServiceKey::of(&self.names[j].english)
                        != ServiceKey::of(&self.names[i].english) =>
                {
                    lookup.remove(key);
                    ambiguous.insert((*kind, key.clone()));
                }
                // Of two languages that agree, the first learned speaks.
                Some(&j) if j < i => {}
                _ => {
                    lookup.insert(key.clone(), i);
                }
            }
        }
    }

    /// The English name a localized name stands for, if one is known.
    pub fn english(&self, kind: Kind, key: &ServiceKey) -> Option<&str> {
        self.lookup[kind as usize]
            .get(key)
            .map(|&i| self.names[i].english.as_str())
    }

    /// Every localized service name known for the English name `english`.
    pub fn localized_of<'a>(&'a self, english: &ServiceKey) -> impl Iterator<Item = &'a str> + 'a {
        let english = english.clone();
        self.names
            .iter()
            .filter(move |n| n.kind == Kind::Service && ServiceKey::of(&n.english) == english)
            .map(|n| n.localized.as_str())
    }

    /// The names, in the order learned.
    pub fn names(&self) -> &[LearnedName] {
        &self.names
    }

    /// The table as tab-separated lines under a header, one name a line,
    /// sorted by locale, kind and name, so that a table made again from the
    /// same pages is the same file.
    pub fn to_tsv(names: &[LearnedName]) -> String {
        let mut sorted: Vec<&LearnedName> = names.iter().collect();
        sorted.sort_by(|a, b| {
            (&a.locale, a.kind, &a.localized).cmp(&(&b.locale, b.kind, &b.localized))
        });
        let mut out = csv::WriterBuilder::new()
            .delimiter(b'\t')
            .from_writer(Vec::new());
        for n in sorted {
            out.serialize(Row {
                locale: n.locale.clone(),
                kind: n.kind,
                localized: n.localized.clone(),
                english: n.english.clone(),
                pairs: n.pairs,
                source: n.first.source.clone(),
                date: n.first.date.clone(),
                english_ref: n.first.english_ref.clone(),
                localized_ref: n.first.localized_ref.clone(),
            })
            .expect("a name serializes to a row in memory");
        }
        let bytes = out.into_inner().expect("writing to memory does not fail");
        String::from_utf8(bytes).expect("the table is written from UTF-8 text")
    }
}

/// The language of a locale: "de" for "de-de" and "de-at"; Chinese keeps its
/// script ("zh-cn" and "zh-tw" are written differently).
pub fn language(locale: &str) -> String {
    let locale = locale.to_lowercase();
    if locale.starts_with("zh") {
        return locale;
    }
    locale
        .split(['-', '_'])
        .next()
        .unwrap_or_default()
        .to_string()
}

/// The English and the translated page of two pages in different
/// languages, with the translation's locale; `None` for two versions in one
/// language. A page that states no locale (the docs' English sources and
/// text exports) is in another language than a page that does only if no
/// section heading of one is a heading of the other: two versions in one
/// language share their headings.
pub fn cross_language<'a>(
    old: &'a Snapshot,
    new: &'a Snapshot,
) -> Option<(&'a Snapshot, &'a Snapshot, String)> {
    match (&old.locale, &new.locale) {
        (Some(a), Some(b)) if language(a) != language(b) => Some(if language(b) == "en" {
            (new, old, a.clone())
        } else {
            (old, new, b.clone())
        }),
        (None, Some(b)) if language(b) != "en" && no_shared_heading(old, new) => {
            Some((old, new, b.clone()))
        }
        (Some(a), None) if language(a) != "en" && no_shared_heading(old, new) => {
            Some((new, old, a.clone()))
        }
        _ => None,
    }
}

fn no_shared_heading(a: &Snapshot, b: &Snapshot) -> bool {
    let headings: HashSet<&str> = a.scopes.iter().map(|s| s.section.as_str()).collect();
    !b.scopes
        .iter()
        .any(|s| headings.contains(s.section.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(locale: Option<&str>, heading: &str, names: &[&str]) -> Snapshot {
        let front = locale.map_or(String::new(), |l| {
            format!("---\nms.contentlocale: {l}\n---\n")
        });
        let items: String = names.iter().map(|n| format!("- {n}\n")).collect();
        let md = format!(
            "{front}# T\n\n## <a name=\"microsoft-in-scope-cloud-services\"></a>{heading}\n\n{items}"
        );
        crate::read_snapshot("page.md", md.as_bytes()).expect("parses")
    }

    #[test]
    fn aligned_lists_teach_each_translated_name() {
        let en = page(
            None,
            "Microsoft in-scope cloud services",
            &["Azure", "Skype for Business", "OneDrive for Business"],
        );
        let es = page(
            Some("es-es"),
            "Servicios en la nube",
            &["Azure", "Skype Empresarial", "OneDrive para la Empresa"],
        );
        let got: Vec<(String, String)> = align(&en, &es)
            .into_iter()
            .map(|a| (a.localized, a.english))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "Skype Empresarial".to_string(),
                    "Skype for Business".to_string()
                ),
                (
                    "OneDrive para la Empresa".to_string(),
                    "OneDrive for Business".to_string()
                ),
            ]
        );
        // A list of another length teaches nothing.
        let short = page(
            Some("es-es"),
            "Servicios en la nube",
            &["Azure", "Skype Empresarial"],
        );
        assert!(align(&en, &short).is_empty());
    }

    #[test]
    fn a_resorted_list_teaches_only_a_name_left_over() {
        let en = page(None, "In scope", &["Azure", "Office 365 Groups", "Yammer"]);
        let es = page(
            Some("es-es"),
            "En el ámbito",
            &["Azure", "Yammer", "Grupos de Office 365"],
        );
        let got: Vec<String> = align(&en, &es).into_iter().map(|a| a.english).collect();
        assert_eq!(got, ["Office 365 Groups"]);
    }

    #[test]
    fn an_item_missing_a_name_teaches_its_names_not_the_whole_item() {
        let en = page(
            None,
            "In scope",
            &[
                "Office 365 Microservices (including Kaizala, Power Automate, Query Annotation Service, StaffHub)",
            ],
        );
        let de = page(
            Some("de-de"),
            "Im Umfang",
            &[
                "Office 365-Mikrodienste (einschließlich Kaizala, Abfrage-Anmerkungsdienst, StaffHub)",
            ],
        );
        let got: Vec<(Kind, String, String)> = align(&en, &de)
            .into_iter()
            .map(|a| (a.kind, a.localized, a.english))
            .collect();
        // Learning the item whole would have it name Power Automate, which
        // this translation does not list.
        assert_eq!(
            got,
            [(
                Kind::Service,
                "Office 365-Mikrodienste".to_string(),
                "Office 365 Microservices".to_string()
            )]
        );
    }

    #[test]
    fn pairs_disagreeing_on_a_name_teach_nothing() {
        let seen = Provenance {
            source: "offering-x".into(),
            date: "2021-01-01".into(),
            english_ref: "e".into(),
            localized_ref: "l".into(),
        };
        let mut learner = Learner::default();
        let de = page(Some("de-de"), "Dienste", &["Azure", "Dienst X"]);
        learner.add(
            "de-de",
            &page(None, "Services", &["Azure", "Service A"]),
            &de,
            &seen,
        );
        learner.add(
            "de-de",
            &page(None, "Services", &["Azure", "Service B"]),
            &de,
            &seen,
        );
        assert!(learner.finish().is_empty());
    }

    #[test]
    fn only_pages_in_two_languages_are_aligned() {
        let en = page(None, "In scope", &["Skype for Business"]);
        let es = page(Some("es-es"), "En el ámbito", &["Skype Empresarial"]);
        assert!(cross_language(&en, &es).is_some());
        let es_again = page(None, "En el ámbito", &["Skype"]);
        assert!(
            cross_language(&es_again, &es).is_none(),
            "one heading, one language"
        );
        assert!(cross_language(&es, &es).is_none());
        assert_eq!(language("zh-tw"), "zh-tw");
        assert_eq!(language("pt-BR"), "pt");
    }

    #[test]
    fn the_shipped_table_reads_back_as_it_is_written() {
        let names = LocalizedNames::from_tsv(BUILTIN_LOCALIZED).expect("reads");
        assert!(names.names().len() > 100);
        assert_eq!(LocalizedNames::to_tsv(names.names()), BUILTIN_LOCALIZED);
        let err = LocalizedNames::from_tsv("locale\tkind\nde-de\tservice\n").unwrap_err();
        assert!(err.to_string().contains("localized names"), "{err}");
    }

    #[test]
    fn the_shipped_table_keeps_similar_names_apart() {
        let names = LocalizedNames::builtin();
        let english = |n: &str| names.english(Kind::Service, &ServiceKey::of(n));
        assert_eq!(
            english("Microsoft Defender für Endpunkt"),
            Some("Microsoft Defender for Endpoint")
        );
        assert_eq!(
            english("Microsoft Defender für Office 365"),
            Some("Microsoft Defender for Office 365")
        );
        assert_eq!(english("Azure"), None);
    }
}
