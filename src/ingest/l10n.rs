//! Learning the English name of each localized name from the store: every
//! localized source (`offering-iso-27001-de-de`) is aligned, version by
//! version, with its English source (`offering-iso-27001`) as it stood when
//! the translation was captured.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use scopewatch_core::canon::l10n::{Learner, Provenance, language};

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
    let sources: Vec<String> = store.sources()?.into_iter().map(|s| s.id).collect();
    let known: HashSet<&str> = sources.iter().map(String::as_str).collect();
    let mut learner = Learner::default();
    for id in &sources {
        // Only an id that is another source's id with a locale appended
        // can be a translation of it: the others' history is not read.
        if !known.iter().any(|e| is_translation_id(id, e)) {
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
    let names = learner.finish();
    store.replace_learned_names(&names)?;
    tracing::debug!(names = names.len(), "localized names learned");
    Ok(names.len())
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
