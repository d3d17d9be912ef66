//! Comparing two snapshots of a page into typed scope changes.
//!
//! A service is identified per environment by its [`ServiceKey`], so markup,
//! spacing and width forms never make a change. What is left over on each
//! side is paired up, strongest evidence first:
//!
//! 1. the new page says the service was formerly called the old name;
//! 2. the alias table knows the two names as one service;
//! 3. the names are close enough to be an edit of one another.
//!
//! Only what no evidence pairs is reported as added or removed, and a service
//! that leaves one applicability row and enters another is a move. A page
//! from which no scope could be extracted is never compared: an extraction
//! failure is not "everything removed".

mod change;
mod links;
mod lookalike;
mod rejoin;

pub use change::{Change, Diff, Entry, Evidence, LinkChange, Move, Qualify, Rename, Reword};

use std::cell::RefCell;
use std::collections::hash_map::Entry as Slot;
use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::rc::Rc;

use crate::canon::{AliasTable, NameKind, ServiceKey, l10n, scope_qualifiers};
use crate::model::Snapshot;
use links::diff_links;
use lookalike::look_alikes;
use rejoin::rejoin;

mod close_names;

/// Names at least this similar (normalised Levenshtein on their keys) are
/// taken for a rename when nothing better explains them.
pub const SIMILARITY_THRESHOLD: f64 = 0.8;

/// One service as listed, with what identifies it.
#[derive(Debug, Clone)]
struct Listed {
    name: String,
    key: ServiceKey,
    canonical: ServiceKey,
    text: Rc<str>,
    formerly: Vec<ServiceKey>,
    parent: Option<String>,
    /// The item's scope-bearing qualifiers.
    qualifiers: Vec<String>,
    /// The translated page's locale and spelling, where `name` is the
    /// English name of what the page writes otherwise.
    localized: Option<(String, String)>,
}

/// A name's key, its canonical key, and its English name when it is a
/// translation.
type Keys = (ServiceKey, ServiceKey, Option<String>);

/// Compares snapshots with an alias table.
#[derive(Debug)]
pub struct Differ<'a> {
    aliases: &'a AliasTable,
    /// Each name's key and canonical key, and each row label's environment:
    /// pages repeat the same few hundred names across thousands of versions.
    keys: RefCell<HashMap<String, Keys>>,
    environments: RefCell<HashMap<String, String>>,
}

impl<'a> Differ<'a> {
    /// A differ that knows the renames in `aliases`.
    pub fn new(aliases: &'a AliasTable) -> Self {
        Differ {
            aliases,
            keys: RefCell::default(),
            environments: RefCell::default(),
        }
    }

    /// A name's key, its canonical key, and its English name when the page
    /// writes a translation.
    fn keys_of(&self, name: &str) -> Keys {
        let mut keys = self.keys.borrow_mut();
        if let Some(found) = keys.get(name) {
            return found.clone();
        }
        let key = ServiceKey::of(name);
        let canonical = self.aliases.identity(name);
        let english = self.aliases.english_of(&key).map(str::to_string);
        let found = (key, canonical, english);
        keys.insert(name.to_string(), found.clone());
        found
    }

    /// The identity of a service name ([`AliasTable::identity`]), as this
    /// differ pairs names.
    pub fn identity(&self, name: &str) -> ServiceKey {
        self.keys_of(name).1
    }

    fn environment_of(&self, label: &str) -> String {
        self.environments
            .borrow_mut()
            .entry(label.to_string())
            .or_insert_with_key(|label| self.aliases.environment(label).to_string())
            .clone()
    }

    /// The changes from `old` to `new`. Two pages in different languages
    /// are compared through the names their aligned lists give each other
    /// as well (see [`l10n::align`]); two versions in one language never
    /// are, so that alignment cannot hide a change.
    pub fn diff(&self, old: &Snapshot, new: &Snapshot) -> Diff {
        let Some((english, localized, locale)) = l10n::cross_language(old, new) else {
            return self.compare(old, new);
        };
        let aligned = l10n::align(english, localized);
        let seen = l10n::Provenance {
            source: "the two pages compared".into(),
            date: String::new(),
            english_ref: String::new(),
            localized_ref: String::new(),
        };
        let learned: Vec<_> = aligned
            .iter()
            .filter(|a| match a.kind {
                l10n::Kind::Service => self
                    .aliases
                    .resolve(&ServiceKey::of(&a.localized))
                    .is_none(),
                l10n::Kind::Environment => self.aliases.environment(&a.localized) == a.localized,
                l10n::Kind::Item => self.aliases.item_services(&a.localized).is_none(),
            })
            .map(|a| l10n::LearnedName {
                locale: locale.clone(),
                kind: a.kind,
                localized: a.localized.clone(),
                english: a.english.clone(),
                pairs: 1,
                first: seen.clone(),
            })
            .collect();
        let aliases = self.aliases.clone().with_localized(learned);
        let mut diff = Differ::new(&aliases).compare(old, new);
        translation_lag(&aligned, localized, &aliases, &mut diff);
        diff
    }

    /// The changes from `old` to `new` by the names already known (the
    /// alias table and the learned translations), never aligning the two
    /// pages with each other: how a translation is compared with its
    /// English page to find where it lags, since alignment would pair a
    /// name the translation still lists with one the English page dropped.
    pub fn compare(&self, old: &Snapshot, new: &Snapshot) -> Diff {
        let mut diff = Diff::default();
        diff.not_compared = match (old.has_scope(), new.has_scope()) {
            (true, true) => {
                self.diff_scope(old, new, &mut diff);
                None
            }
            (false, false) => Some("neither version has in-scope services"),
            (false, true) => Some("the old version has no in-scope services"),
            (true, false) => Some(
                "the new version has no in-scope services (layout change or extraction failure; nothing is reported as removed)",
            ),
        }
        .map(str::to_string);
        if let Some(why) = &diff.not_compared {
            diff.warnings.push(format!("scope not compared: {why}"));
        }
        // A page that lost (or regained) its scope section lost its layout,
        // not its reports: its links are not compared either. Pages that
        // never list services still have report links worth watching.
        if old.has_scope() == new.has_scope() {
            diff_links(&old.links, &new.links, &mut diff);
        }
        diff
    }

    /// The services of a snapshot per environment, in page order, one entry
    /// per identity. Where a row lists a service under two of its names, the
    /// current name stands for it.
    fn listed(&self, snapshot: &Snapshot) -> Vec<(Option<String>, Vec<Listed>)> {
        let mut groups: Vec<(Option<String>, Vec<Listed>)> = Vec::new();
        // Where each environment's group is, and each identity in it: a
        // scan per entry made a page of thousands of names quadratic.
        let mut group_at: HashMap<Option<String>, usize> = HashMap::new();
        // A translated item that names its services otherwise than its
        // English item (in a sentence, a compound, or none at all) names
        // the English item's services.
        let locale = snapshot
            .locale
            .as_deref()
            .filter(|l| l10n::language(l) != "en");
        let translated = locale.is_some();
        type Entry<'s> = (
            Option<&'s str>,
            &'s str,
            &'s crate::model::ScopeItem,
            Option<&'s crate::model::Service>,
        );
        let mut entries: Vec<Entry> = Vec::new();
        for scope in &snapshot.scopes {
            let env = scope.environment.as_deref();
            for item in &scope.items {
                match translated
                    .then(|| self.aliases.item_services(&item.text))
                    .flatten()
                {
                    Some(names) => entries.extend(names.into_iter().map(|n| (env, n, item, None))),
                    None => entries.extend(
                        item.services
                            .iter()
                            .map(|s| (env, s.name(), item, item.parent_of(s))),
                    ),
                }
            }
        }
        // One copy of each item's text, shared by its services: a copy per
        // service made an item of thousands of names quadratic.
        // (Keyed by the item's address: hashing the text itself for each
        // service would be as quadratic.)
        let mut texts: HashMap<*const crate::model::ScopeItem, Rc<str>> =
            HashMap::with_capacity(entries.len());
        let mut listed_at: HashMap<(usize, ServiceKey), usize> =
            HashMap::with_capacity(entries.len());
        // Entries come a scope at a time: the group of the entry before,
        // by its label as written, spares hashing the label for each one
        // (hashing was half of a diff).
        let mut current: Option<(Option<&str>, usize)> = None;
        for (environment, name, item, parent) in entries {
            let index = match current {
                Some((label, index)) if label == environment => index,
                _ => {
                    let env = environment.map(|e| self.environment_of(e));
                    let index = match group_at.get(&env) {
                        Some(&i) => i,
                        None => {
                            group_at.insert(env.clone(), groups.len());
                            groups.push((env, Vec::new()));
                            groups.len() - 1
                        }
                    };
                    current = Some((environment, index));
                    index
                }
            };
            let (key, canonical, english) = self.keys_of(name);
            let localized = locale
                .zip(english.as_ref())
                .filter(|(_, english)| *english != name)
                .map(|(l, _)| (l.to_lowercase(), name.to_string()));
            let listed = Listed {
                localized,
                name: english.unwrap_or_else(|| name.to_string()),
                canonical,
                key,
                text: Rc::clone(
                    texts
                        .entry(std::ptr::from_ref(item))
                        .or_insert_with(|| Rc::from(item.text.as_str())),
                ),
                formerly: item.formerly.iter().map(ServiceKey::from).collect(),
                parent: parent.map(|p| p.name().to_string()),
                qualifiers: scope_qualifiers(item.note.as_deref()),
            };
            let group = &mut groups[index].1;
            match listed_at.entry((index, listed.canonical.clone())) {
                Slot::Occupied(at) => {
                    let existing = &mut group[*at.get()];
                    if listed.key == listed.canonical && existing.key != existing.canonical {
                        *existing = listed;
                    }
                }
                Slot::Vacant(at) => {
                    at.insert(group.len());
                    group.push(listed);
                }
            }
        }
        groups
    }

    fn diff_scope(&self, old: &Snapshot, new: &Snapshot, diff: &mut Diff) {
        // Each environment's old and new services, old environments first.
        let mut sides: Vec<(Option<String>, Vec<Listed>, Vec<Listed>)> = Vec::new();
        let mut side_at: HashMap<Option<String>, usize> = HashMap::new();
        for (env, olds) in self.listed(old) {
            side_at.insert(env.clone(), sides.len());
            sides.push((env, olds, Vec::new()));
        }
        for (env, news) in self.listed(new) {
            match side_at.get(&env) {
                Some(&i) => sides[i].2 = news,
                None => sides.push((env, Vec::new(), news)),
            }
        }
        let mut added = Vec::new();
        let mut removed = Vec::new();
        let mut rewords = Rewords::default();
        for (env, olds, news) in sides {
            self.pair(
                &env,
                olds,
                news,
                diff,
                &mut rewords,
                &mut added,
                &mut removed,
            );
        }
        diff.changes
            .extend(rewords.qualified.into_iter().map(Change::Qualified));
        diff.changes
            .extend(rewords.list.into_iter().map(Change::Reworded));
        pair_moves(added, removed, diff);
    }

    /// Pairs one environment's old and new services, strongest evidence first.
    ///
    /// Names are unique per side (see [`Self::listed`]), so the exact stages
    /// look each one up in an index, and so does the close-name stage, with
    /// an index of letter pairs, within [`FUZZY_PAIRING_BUDGET`].
    #[allow(clippy::too_many_arguments)]
    fn pair(
        &self,
        env: &Option<String>,
        olds: Vec<Listed>,
        news: Vec<Listed>,
        diff: &mut Diff,
        rewords: &mut Rewords,
        added: &mut Vec<(Listed, Option<String>)>,
        removed: &mut Vec<(Listed, Option<String>)>,
    ) {
        let rename = |o: &Listed, n: &Listed, evidence, confidence| {
            Change::Renamed(Rename {
                from: o.name.clone(),
                to: n.name.clone(),
                environment: env.clone(),
                evidence,
                confidence,
                text: n.text.to_string(),
                from_localized: o.localized.iter().cloned().collect(),
                to_localized: n.localized.iter().cloned().collect(),
            })
        };
        let mut old_done = vec![false; olds.len()];
        let mut new_done = vec![false; news.len()];

        // Same name: unchanged, or reworded.
        let new_at: HashMap<&ServiceKey, usize> =
            news.iter().enumerate().map(|(j, n)| (&n.key, j)).collect();
        for (i, o) in olds.iter().enumerate() {
            if let Some(&j) = new_at.get(&o.key) {
                rewords.add(env, o, &news[j]);
                (old_done[i], new_done[j]) = (true, true);
            }
        }

        // The page says "formerly": the first old name, in page order, that it
        // gives.
        let old_at: HashMap<&ServiceKey, usize> =
            olds.iter().enumerate().map(|(i, o)| (&o.key, i)).collect();
        for (j, n) in news.iter().enumerate() {
            if new_done[j] {
                continue;
            }
            let former = n
                .formerly
                .iter()
                .filter_map(|k| old_at.get(k).copied())
                .filter(|&i| !old_done[i])
                .min();
            if let Some(i) = former {
                diff.changes
                    .push(rename(&olds[i], n, Evidence::Formerly, 1.0));
                (old_done[i], new_done[j]) = (true, true);
            }
        }

        // The alias table knows both names: a rename if either is a former
        // name, else two spellings of one name.
        let old_at: HashMap<&ServiceKey, usize> = olds
            .iter()
            .enumerate()
            .filter(|(i, _)| !old_done[*i])
            .map(|(i, o)| (&o.canonical, i))
            .collect();
        for (j, n) in news.iter().enumerate() {
            let Some(&i) = old_at.get(&n.canonical).filter(|&&i| !old_done[i]) else {
                continue;
            };
            if new_done[j] {
                continue;
            }
            let o = &olds[i];
            let former = |l: &Listed| {
                self.aliases
                    .resolve(&l.key)
                    .is_some_and(|r| r.kind == NameKind::Former)
            };
            // Two translations shown by one English name are one wording.
            let renamed = ServiceKey::of(&o.name) != ServiceKey::of(&n.name);
            if renamed && former(n) && !former(o) {
                diff.changes.push(rename(o, n, Evidence::Revert, 1.0));
            } else if renamed && (former(o) || former(n)) {
                diff.changes.push(rename(o, n, Evidence::Alias, 1.0));
            } else {
                rewords.add(env, o, n);
            }
            (old_done[i], new_done[j]) = (true, true);
        }

        // A name written with look-alike letters of another script is the
        // name it imitates, with a warning; never a rename by similarity.
        let mut olds = undone(olds, &old_done);
        let mut news = undone(news, &new_done);
        let suspects = look_alikes(&mut olds, &mut news, env, diff, rewords);

        // A missing or extra comma: one name that is two others run together.
        rewords.list.extend(rejoin(&mut olds, &mut news, env, true));
        rewords
            .list
            .extend(rejoin(&mut news, &mut olds, env, false));

        // Close names, best pairs first. A page on which thousands of names
        // changed at once can still make too many pairs alike; past a
        // budget, they are reported as they are.
        let comparable =
            |l: &Listed| l.key.as_str().chars().count() >= 5 && !suspects.contains(&l.key);
        let (old_at, old_keys): (Vec<usize>, Vec<&str>) = olds
            .iter()
            .enumerate()
            .filter(|(_, o)| comparable(o))
            .map(|(i, o)| (i, o.key.as_str()))
            .unzip();
        let (new_at, new_keys): (Vec<usize>, Vec<&str>) = news
            .iter()
            .enumerate()
            .filter(|(_, n)| comparable(n))
            .map(|(j, n)| (j, n.key.as_str()))
            .unzip();
        let Some(candidates) = close_names::close_pairs(
            &old_keys,
            &new_keys,
            SIMILARITY_THRESHOLD,
            FUZZY_PAIRING_BUDGET,
        ) else {
            diff.warnings.push(format!(
                "{}too many unmatched names ({} removed, {} added) to look for renames: they are reported as added and removed",
                env.as_ref().map(|e| format!("{e}: ")).unwrap_or_default(),
                olds.len(),
                news.len(),
            ));
            removed.extend(olds.into_iter().map(|o| (o, env.clone())));
            added.extend(news.into_iter().map(|n| (n, env.clone())));
            return;
        };
        let (mut used_old, mut used_new) = (HashSet::new(), HashSet::new());
        for (score, i, j) in candidates {
            let (i, j) = (old_at[i], new_at[j]);
            if used_old.contains(&i) || used_new.contains(&j) {
                continue;
            }
            used_old.insert(i);
            used_new.insert(j);
            let confidence = (score * 100.0).round() / 100.0;
            diff.changes
                .push(rename(&olds[i], &news[j], Evidence::Similarity, confidence));
        }

        removed.extend(
            olds.into_iter()
                .enumerate()
                .filter(|(i, _)| !used_old.contains(i))
                .map(|(_, o)| (o, env.clone())),
        );
        added.extend(
            news.into_iter()
                .enumerate()
                .filter(|(j, _)| !used_new.contains(j))
                .map(|(_, n)| (n, env.clone())),
        );
    }
}

/// How much work the search for close names in one environment may take:
/// the letter pairs of the edit distances it would compute, counted before
/// any is (see `close_names`). Real versions stay far below; names that all look alike,
/// thousands on each side, reach it.
pub const FUZZY_PAIRING_BUDGET: usize = 50_000_000;

/// A translation that still gives a service its former name, at the very
/// place where the English page gives the new one, is behind the English
/// page, not a rename: the pair is a rewording. So is a translated name
/// close to the English one: it was learned from another English spelling
/// of the same name ("Office Service(s) Infrastructure").
fn translation_lag(
    aligned: &[l10n::Aligned],
    localized: &Snapshot,
    aliases: &AliasTable,
    diff: &mut Diff,
) {
    let translated: HashSet<ServiceKey> = localized
        .entries()
        .filter_map(|e| aliases.english_of(&ServiceKey::from(e.service)))
        .map(ServiceKey::of)
        .collect();
    let places: HashSet<(ServiceKey, ServiceKey)> = aligned
        .iter()
        .filter(|a| a.kind == l10n::Kind::Service)
        .map(|a| {
            let shown = aliases
                .english_of(&ServiceKey::of(&a.localized))
                .unwrap_or(&a.localized);
            (ServiceKey::of(shown), ServiceKey::of(&a.english))
        })
        .collect();
    for change in &mut diff.changes {
        if let Change::Renamed(r) = change {
            let (from, to) = (ServiceKey::of(&r.from), ServiceKey::of(&r.to));
            if places.contains(&(from.clone(), to.clone())) || places.contains(&(to, from)) {
                *change = Change::Reworded(Reword {
                    services: vec![r.to.clone()],
                    environment: r.environment.clone(),
                    from: r.from.clone(),
                    to: r.to.clone(),
                });
            }
        }
    }
    // An English name left removed, and a translated one added in its
    // environment whose English name is a near-identical spelling.
    let close = |a: &str, b: &str| {
        strsim::normalized_levenshtein(ServiceKey::of(a).as_str(), ServiceKey::of(b).as_str())
            >= SPELLING_THRESHOLD
    };
    let mut pairs = Vec::new();
    for (i, change) in diff.changes.iter().enumerate() {
        let Change::Added(added) = change else {
            continue;
        };
        if !translated.contains(&ServiceKey::of(&added.service)) {
            continue;
        }
        let partner = diff.changes.iter().enumerate().position(|(j, c)| {
            matches!(c, Change::Removed(r) if r.environment == added.environment
                && close(&r.service, &added.service)
                && !pairs.iter().any(|&(_, k)| k == j))
        });
        if let Some(j) = partner {
            pairs.push((i, j));
        }
    }
    for &(i, j) in &pairs {
        if let (Change::Added(n), Change::Removed(o)) = (&diff.changes[i], &diff.changes[j]) {
            diff.changes[i] = Change::Reworded(Reword {
                services: vec![o.service.clone()],
                environment: o.environment.clone(),
                from: o.text.to_string(),
                to: n.text.to_string(),
            });
        }
    }
    let gone: HashSet<usize> = pairs.iter().map(|&(_, j)| j).collect();
    let mut index = 0;
    diff.changes.retain(|_| {
        index += 1;
        !gone.contains(&(index - 1))
    });
}

/// English spellings this close are one name written two ways, across
/// languages: a letter or two in twenty.
const SPELLING_THRESHOLD: f64 = 0.9;

/// The entries of `list` not yet paired, in order.
fn undone(list: Vec<Listed>, done: &[bool]) -> Vec<Listed> {
    list.into_iter()
        .zip(done)
        .filter(|(_, done)| !**done)
        .map(|(l, _)| l)
        .collect()
}

/// An item's environment, and its text before and after.
type TextChange = (Option<String>, Rc<str>, Rc<str>);

/// An item's text, compared and hashed by its allocation: the services of
/// one item share it, so an item pair is told apart in constant time.
/// Holding the `Rc` keeps the address from being reused while it is a key.
#[derive(Clone)]
struct SameText(Rc<str>);

impl PartialEq for SameText {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for SameText {}

impl std::hash::Hash for SameText {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        std::ptr::hash(Rc::as_ptr(&self.0).cast::<u8>(), state);
    }
}

/// What an item pair's texts came to: the same, or the rewording or
/// qualifier change (by position) that names its services.
#[derive(Clone, Copy)]
enum Verdict {
    Same,
    Reworded(usize),
    Qualified(usize),
}

/// Rewordings and qualifier changes found so far; one per changed item
/// text, naming every service it lists.
#[derive(Default)]
struct Rewords {
    list: Vec<Reword>,
    index: HashMap<TextChange, usize>,
    qualified: Vec<Qualify>,
    qualified_index: HashMap<TextChange, usize>,
    /// Each item pair's verdict, decided once: comparing (and hashing) an
    /// item's whole text again for each of its services made an item of
    /// thousands of names quadratic.
    verdicts: HashMap<(Option<String>, SameText, SameText), Verdict>,
}

impl Rewords {
    fn add(&mut self, env: &Option<String>, o: &Listed, n: &Listed) {
        let pair = (
            env.clone(),
            SameText(Rc::clone(&o.text)),
            SameText(Rc::clone(&n.text)),
        );
        let verdict = match self.verdicts.get(&pair) {
            Some(&v) => v,
            None => {
                let v = self.judge(env, o, n);
                self.verdicts.insert(pair, v);
                v
            }
        };
        match verdict {
            Verdict::Same => {}
            Verdict::Reworded(at) => self.list[at].services.push(n.name.clone()),
            Verdict::Qualified(at) => self.qualified[at].services.push(n.name.clone()),
        }
    }

    /// Compares an item pair's texts, and finds or makes the change that
    /// will name its services.
    fn judge(&mut self, env: &Option<String>, o: &Listed, n: &Listed) -> Verdict {
        if o.text == n.text {
            return Verdict::Same;
        }
        let key = (env.clone(), Rc::clone(&o.text), Rc::clone(&n.text));
        if !same_qualifiers(&o.qualifiers, &n.qualifiers) {
            let at = *self.qualified_index.entry(key).or_insert_with(|| {
                self.qualified.push(Qualify {
                    services: Vec::new(),
                    environment: env.clone(),
                    from: o.qualifiers.clone(),
                    to: n.qualifiers.clone(),
                    text: n.text.to_string(),
                });
                self.qualified.len() - 1
            });
            return Verdict::Qualified(at);
        }
        let at = *self.index.entry(key).or_insert_with(|| {
            self.list.push(Reword {
                services: Vec::new(),
                environment: env.clone(),
                from: o.text.to_string(),
                to: n.text.to_string(),
            });
            self.list.len() - 1
        });
        Verdict::Reworded(at)
    }
}

/// A service removed from one applicability row (or the page-wide list) and
/// added to another in the same version has moved; everything else stays
/// added or removed.
fn pair_moves(
    added: Vec<(Listed, Option<String>)>,
    removed: Vec<(Listed, Option<String>)>,
    diff: &mut Diff,
) {
    // The removals of each service, in order: a scan of them per addition
    // made a page of thousands of changes quadratic.
    let mut left: HashMap<ServiceKey, VecDeque<usize>> = HashMap::new();
    for (i, (o, _)) in removed.iter().enumerate() {
        left.entry(o.canonical.clone()).or_default().push_back(i);
    }
    let mut removed: Vec<Option<(Listed, Option<String>)>> =
        removed.into_iter().map(Some).collect();
    let mut moves = Vec::new();
    let mut adds = Vec::new();
    for (n, env) in added {
        let from = left
            .get_mut(&n.canonical)
            .and_then(VecDeque::pop_front)
            .and_then(|i| removed[i].take());
        match from {
            Some((_, from)) => moves.push(Change::Moved(Move {
                service: n.name,
                from,
                to: env,
                text: n.text.to_string(),
                localized: n.localized.into_iter().collect(),
            })),
            None => adds.push(Change::Added(entry(n, env))),
        }
    }
    diff.changes.extend(adds);
    diff.changes.extend(
        removed
            .into_iter()
            .flatten()
            .map(|(o, env)| Change::Removed(entry(o, env))),
    );
    diff.changes.extend(moves);
}

fn entry(l: Listed, environment: Option<String>) -> Entry {
    Entry {
        service: l.name,
        environment,
        parent: l.parent,
        text: l.text.to_string(),
        localized: l.localized.into_iter().collect(),
    }
}

/// Whether two items' scope-bearing qualifiers say the same, whatever the
/// case or spacing.
fn same_qualifiers(a: &[String], b: &[String]) -> bool {
    let norm = |q: &[String]| -> BTreeSet<String> { q.iter().map(|s| s.to_lowercase()).collect() };
    norm(a) == norm(b)
}

#[cfg(test)]
mod tests {
    use super::lookalike::mixes_scripts;
    use super::*;
    use crate::extract::snapshot;
    use crate::parse::parse_str;

    fn page(list: &[&str], table: &[(&str, &str)], links: &[(&str, &str)]) -> Snapshot {
        let mut md = String::from("# Offering\n\n## Microsoft in-scope cloud services\n\n");
        for item in list {
            md.push_str(&format!("- {item}\n"));
        }
        if !table.is_empty() {
            md.push_str("\n## Office 365 applicability and in-scope services\n\n| Applicability | In-scope services |\n|--|--|\n");
            for (env, services) in table {
                md.push_str(&format!("| {env} | {services} |\n"));
            }
        }
        md.push_str("\n## Audits, reports, and certificates\n\n");
        for (title, url) in links {
            md.push_str(&format!("- [{title}]({url})\n"));
        }
        snapshot(parse_str(&md))
    }

    fn diff(old: &Snapshot, new: &Snapshot) -> Diff {
        Differ::new(&AliasTable::builtin()).diff(old, new)
    }

    #[test]
    fn renames_with_each_kind_of_evidence() {
        let old = page(
            &[
                "Microsoft Flow cloud service",
                "Microsoft Cloud App Security",
                "Microsoft Threat Expert Service",
            ],
            &[],
            &[],
        );
        let new = page(
            &[
                "Power Automate (formerly Microsoft Flow) cloud service",
                "Microsoft Defender for Cloud Apps",
                "Microsoft Threat Expert Services",
            ],
            &[],
            &[],
        );
        let d = diff(&old, &new);
        let renames: Vec<_> = d
            .renamed()
            .iter()
            .map(|r| (r.from.as_str(), r.to.as_str(), r.evidence))
            .collect();
        assert_eq!(
            renames,
            [
                ("Microsoft Flow", "Power Automate", Evidence::Formerly),
                (
                    "Microsoft Cloud App Security",
                    "Microsoft Defender for Cloud Apps",
                    Evidence::Alias
                ),
                (
                    "Microsoft Threat Expert Service",
                    "Microsoft Threat Expert Services",
                    Evidence::Similarity
                ),
            ]
        );
        assert!(d.added().is_empty() && d.removed().is_empty());
    }

    #[test]
    fn qualifier_and_markup_edits_are_not_scope_changes() {
        let old = page(
            &[
                "Power BI cloud service either as a standalone service",
                "Intune",
            ],
            &[],
            &[],
        );
        let new = page(
            &[
                "Power BI cloud service as included in a suite",
                "[Intune](https://example.com/i)",
            ],
            &[],
            &[],
        );
        let d = diff(&old, &new);
        assert!(!d.has_scope_changes(), "{:?}", d.changes);
        assert_eq!(d.reworded().len(), 1);
        assert_eq!(d.reworded()[0].services, ["Power BI"]);
    }

    #[test]
    fn added_removed_and_moved_between_rows() {
        let old = page(
            &["Azure", "Genomics"],
            &[("GCC", "Forms, Planner"), ("GCC High", "Planner")],
            &[],
        );
        let new = page(
            &["Azure", "Windows 365"],
            &[("GCC", "Planner"), ("GCC High", "Forms, Planner")],
            &[],
        );
        let d = diff(&old, &new);
        assert_eq!(
            d.added()
                .iter()
                .map(|e| e.service.as_str())
                .collect::<Vec<_>>(),
            ["Windows 365"]
        );
        assert_eq!(
            d.removed()
                .iter()
                .map(|e| e.service.as_str())
                .collect::<Vec<_>>(),
            ["Genomics"]
        );
        let m = d.moved();
        assert_eq!(
            (
                m[0].service.as_str(),
                m[0].from.as_deref(),
                m[0].to.as_deref()
            ),
            ("Forms", Some("GCC"), Some("GCC High"))
        );
    }

    #[test]
    fn empty_new_scope_is_never_everything_removed() {
        let old = page(&["Azure", "Intune"], &[], &[]);
        let new = snapshot(parse_str("# Offering\n\n## Overview\n\nMoved elsewhere.\n"));
        let d = diff(&old, &new);
        assert!(d.removed().is_empty());
        assert_eq!(d.warnings.len(), 1);
    }

    #[test]
    fn link_changes() {
        let old = page(
            &["Azure"],
            &[],
            &[
                ("Azure certificate", "https://r.example/a-2020.pdf"),
                ("Old report", "https://r.example/old"),
            ],
        );
        let new = page(
            &["Azure"],
            &[],
            &[
                ("Azure certificate", "https://r.example/a-2021.pdf"),
                ("New report", "https://r.example/new"),
            ],
        );
        let d = diff(&old, &new);
        let kinds: Vec<_> = d.links().into_iter().cloned().collect();
        assert!(kinds.contains(&LinkChange::UrlChanged {
            section: "Audits, reports, and certificates".into(),
            title: "Azure certificate".into(),
            from: "https://r.example/a-2020.pdf".into(),
            to: "https://r.example/a-2021.pdf".into(),
        }));
        assert!(matches!(kinds[1], LinkChange::Added { ref title, .. } if title == "New report"));
        assert!(matches!(kinds[2], LinkChange::Removed { ref title, .. } if title == "Old report"));
    }

    #[test]
    fn a_fixed_missing_comma_is_a_rewording() {
        let old = page(
            &["Azure"],
            &[(
                "GCC",
                "Delve, Microsoft Defender for Office 365 Microsoft Teams, Planner",
            )],
            &[],
        );
        let new = page(
            &["Azure"],
            &[(
                "GCC",
                "Delve, Microsoft Defender for Office 365, Microsoft Teams, Planner",
            )],
            &[],
        );
        let d = diff(&old, &new);
        assert!(!d.has_scope_changes(), "{:?}", d.changes);
        assert_eq!(
            d.reworded()[0].services,
            ["Microsoft Defender for Office 365", "Microsoft Teams"]
        );
        let back = diff(&new, &old);
        assert!(!back.has_scope_changes(), "{:?}", back.changes);
    }

    #[test]
    fn a_row_naming_a_service_twice_is_one_service() {
        let old = page(
            &["Azure"],
            &[("GCC High", "Flow, Power Automate, Forms")],
            &[],
        );
        let new = page(&["Azure"], &[("GCC High", "Power Automate, Forms")], &[]);
        assert!(diff(&old, &new).is_empty());
    }

    #[test]
    fn too_many_unmatched_names_are_added_and_removed_with_a_warning() {
        let names =
            |prefix: &str| -> Vec<String> { (0..3_000).map(|i| format!("{prefix} {i}")).collect() };
        let list = |v: &[String]| page(&v.iter().map(String::as_str).collect::<Vec<_>>(), &[], &[]);
        let d = diff(
            &list(&names("Contoso Service")),
            &list(&names("Contoso Servic")),
        );
        assert!(d.renamed().is_empty());
        assert_eq!((d.added().len(), d.removed().len()), (3_000, 3_000));
        assert!(d.warnings[0].contains("too many unmatched names (3000 removed, 3000 added)"));
    }

    #[test]
    fn a_homoglyph_is_the_name_it_imitates_with_a_warning() {
        let old = page(&["Azure", "Intune"], &[], &[]);
        let new = page(&["Azure", "Intun\u{435}"], &[], &[]);
        for d in [diff(&old, &new), diff(&new, &old)] {
            assert!(!d.has_scope_changes(), "{:?}", d.changes);
            assert!(d.warnings[0].contains("suspicious name \"Intun\u{435}\""));
        }
        // Latin and Cyrillic words side by side are no homoglyph.
        assert!(!mixes_scripts("Azure в России"));
        assert!(mixes_scripts("Micros\u{43e}ft Teams"));
    }
}
