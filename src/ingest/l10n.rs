//! Learning the English name of each localized name from the store: every
//! localized source (`offering-iso-27001-de-de`) is aligned, version by
//! version, with its English source (`offering-iso-27001`) as it stood when
//! the translation was captured.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};
use scopewatch_core::canon::l10n::{Kind, LearnedName, Learner, Provenance, language};

use crate::Result;
use crate::store::{Store, StoredSnapshot};

/// The English version a translation captured at `at` was most likely made
/// from: the last one with scope at or before `at`, else the first after.
fn english_at(english: &[StoredSnapshot], at: DateTime<Utc>) -> Option<&StoredSnapshot> {
    let with_scope = || english.iter().filter(|v| v.snapshot.has_scope());
    with_scope()
        .rfind(|v| v.captured_at <= at)
        .or_else(|| with_scope().next())
}

/// Learns the names of every localized source that has its English source
/// in the store, and stores them in place of what was learned before.
/// Returns how many names are known.
pub fn learn_names(store: &mut Store) -> Result<usize> {
    let names = taught(store)?;
    store.replace_learned_names(&names)?;
    tracing::debug!(names = names.len(), "localized names learned");
    Ok(names.len())
}

/// The names the store's pages teach: each localized source's versions
/// aligned with its English source's.
fn taught(store: &Store) -> Result<Vec<LearnedName>> {
    let sources = store.source_ids()?;
    let known: HashSet<&str> = sources.iter().map(String::as_str).collect();
    let mut learner = Learner::default();
    for id in &sources {
        // Only an id that is another source's id with a locale appended
        // can be a translation of it: the others' history is not read.
        let english = id.rsplitn(3, '-').nth(2);
        if !english.is_some_and(|e| known.contains(e) && is_translation_id(id, e)) {
            continue;
        }
        let history = store.history(id)?;
        let Some(locale) = history.iter().rev().find_map(|v| v.snapshot.locale.clone()) else {
            continue;
        };
        let english_id = id.strip_suffix(&format!("-{locale}"));
        let Some(english_id) =
            english_id.filter(|e| language(&locale) != "en" && known.contains(e))
        else {
            continue;
        };
        let english = store.history(english_id)?;
        for version in history.iter().filter(|v| v.snapshot.has_scope()) {
            let Some(source) = english_at(&english, version.captured_at) else {
                continue;
            };
            let seen = Provenance {
                source: id.clone(),
                date: version.captured_at.date_naive().to_string(),
                english_ref: format!(
                    "{} {}",
                    source.captured_at.date_naive(),
                    short(&source.document_hash)
                ),
                localized_ref: short(&version.document_hash).to_string(),
            };
            learner.add(&locale, &source.snapshot, &version.snapshot, &seen);
        }
    }
    Ok(learner.finish())
}

/// What is wrong with the stored learned names: evidence that points at no
/// stored version, and names the stored pages no longer teach (or teach
/// and are not stored), as after a parser change without a reparse.
pub fn check_learned(store: &Store) -> Result<Vec<String>> {
    let stored = store.learned_names(None)?;
    let mut problems = Vec::new();
    for n in &stored {
        let what = format!(
            "learned name {} {} {:?}",
            n.locale,
            n.kind.as_str(),
            n.localized
        );
        let p = &n.first;
        if !store.has_version(&p.source, &p.date, &p.localized_ref)? {
            problems.push(format!(
                "{what}: its evidence names version {} of {} on {}, which is not stored",
                p.localized_ref, p.source, p.date
            ));
        }
        let english = p.source.strip_suffix(&format!("-{}", n.locale));
        let english_version = p.english_ref.split_once(' ');
        let found = match (english, english_version) {
            (Some(id), Some((day, hash))) => store.has_version(id, day, hash)?,
            _ => false,
        };
        if !found {
            problems.push(format!(
                "{what}: its evidence names English version {:?} of {}, which is not stored",
                p.english_ref,
                english.unwrap_or("no English source")
            ));
        }
    }
    // Keyed as the store keys them: the first of a name wins.
    let by_key = |names: Vec<LearnedName>| {
        let mut map: BTreeMap<(String, Kind, String), LearnedName> = BTreeMap::new();
        for n in names {
            map.entry((n.locale.clone(), n.kind, n.localized.clone()))
                .or_insert(n);
        }
        map
    };
    let (stored, taught) = (by_key(stored), by_key(taught(store)?));
    let stale = stored
        .iter()
        .filter(|(k, n)| taught.get(*k) != Some(*n))
        .count();
    let missing = taught.keys().filter(|k| !stored.contains_key(*k)).count();
    if stale + missing > 0 {
        problems.push(format!(
            "{stale} learned names are not what the stored pages teach and {missing} they teach are not stored: run `scopewatch reparse`"
        ));
    }
    Ok(problems)
}

/// Whether `id` is `english` with a locale appended ("-de-de", "-zh-cn").
fn is_translation_id(id: &str, english: &str) -> bool {
    id.strip_prefix(english)
        .and_then(|rest| rest.strip_prefix('-'))
        .is_some_and(|locale| {
            let mut parts = locale.split('-');
            matches!(
                (parts.next(), parts.next(), parts.next()),
                (Some(l), Some(r), None) if l.len() == 2 && (2..=4).contains(&r.len())
            )
        })
}

fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}
