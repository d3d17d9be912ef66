//! Translation lag: where a translated page's scope differs from the English
//! page it is translated from, and since when.
//!
//! The two histories are walked together. At every version of either page
//! the two versions in force are compared with the [`Differ`], the one
//! identity that decides when two names are one service, so a name the
//! translation renders in its own language is no lag once that identity
//! knows it. A difference keeps the date it appeared until it closes.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::canon::{AliasTable, ServiceKey};
use crate::config;
use crate::diff::{Change, Differ, Evidence};
use crate::model::Snapshot;
use crate::store::{Store, StoredSnapshot, VersionRef};
use crate::{Error, Result, ingest};

/// A translated source and the English source it is compared with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pair {
    pub translation: String,
    pub english: String,
    /// The locale its id ends with, when it does.
    pub locale: Option<String>,
}

/// The locale an id ends with (`offering-soc-2-ja-jp`), and the id before it.
fn split_locale(id: &str) -> Option<(&str, String)> {
    let dashes: Vec<usize> = id.match_indices('-').map(|(i, _)| i).collect();
    // `ll-rr` or `ll-ssss-rr`: the last two or three parts.
    [2, 3].into_iter().find_map(|parts| {
        let at = *dashes
            .len()
            .checked_sub(parts)
            .and_then(|i| dashes.get(i))?;
        let locale = config::locale(&id[at + 1..]).ok()?;
        (locale != "en-us").then(|| (&id[..at], locale))
    })
}

/// Every translated source in the store with its English source: the one
/// `explicit` names (the configuration's `english` keys, as (translation,
/// English) ids), else the stored source its id names without the locale
/// suffix (`offering-soc-2-ja-jp` is compared with `offering-soc-2`).
pub fn pairs(store: &Store, explicit: &[(String, String)]) -> Result<Vec<Pair>> {
    let ids: BTreeSet<String> = store.sources()?.into_iter().map(|s| s.id).collect();
    let mut found = Vec::new();
    for id in &ids {
        let suffix = split_locale(id);
        let english = match explicit.iter().find(|(t, _)| t == id) {
            Some((_, english)) => Some(english.clone()),
            None => suffix
                .as_ref()
                .filter(|(stem, _)| ids.contains(*stem))
                .map(|(stem, _)| stem.to_string()),
        };
        if let Some(english) = english.filter(|e| ids.contains(e)) {
            found.push(Pair {
                translation: id.clone(),
                english,
                locale: suffix.map(|(_, l)| l),
            });
        }
    }
    Ok(found)
}

/// Which page's new version opened a difference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    English,
    Translation,
}

/// One way a translation differs from its English page.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Gap {
    /// The English page lists the service; the translation does not yet.
    Missing {
        service: String,
        environment: Option<String>,
    },
    /// The translation still lists a service the English page does not.
    Extra {
        service: String,
        environment: Option<String>,
    },
    /// The English page uses a new name the translation does not yet (or the
    /// reverse): a rename known from the page or the alias table.
    Renamed {
        english: String,
        translation: String,
        environment: Option<String>,
        evidence: Evidence,
    },
    /// The service is listed under other environments (`None`: the
    /// page-wide list).
    Moved {
        service: String,
        english: Option<String>,
        translation: Option<String>,
    },
    /// The English page has an applicability row the translation lacks.
    MissingEnvironment { environment: String },
    /// The translation has an applicability row the English page lacks.
    ExtraEnvironment { environment: String },
}

impl Gap {
    /// What stays the same while this difference lasts, however the names
    /// are spelled from one version to the next.
    fn identity(&self) -> String {
        let key = |name: &str| ServiceKey::of(name).as_str().to_string();
        let env = |e: &Option<String>| e.as_deref().map(key).unwrap_or_default();
        match self {
            Gap::Missing {
                service,
                environment,
            } => format!("missing|{}|{}", key(service), env(environment)),
            Gap::Extra {
                service,
                environment,
            } => format!("extra|{}|{}", key(service), env(environment)),
            Gap::Renamed {
                english,
                translation,
                environment,
                ..
            } => format!(
                "renamed|{}|{}|{}",
                key(english),
                key(translation),
                env(environment)
            ),
            Gap::Moved {
                service,
                english,
                translation,
            } => format!(
                "moved|{}|{}|{}",
                key(service),
                env(english),
                env(translation)
            ),
            Gap::MissingEnvironment { environment } => format!("missing-env|{}", key(environment)),
            Gap::ExtraEnvironment { environment } => format!("extra-env|{}", key(environment)),
        }
    }
}

/// A difference and since when it has lasted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Lag {
    #[serde(flatten)]
    pub gap: Gap,
    /// The date of the version (of `began_with`) that opened the difference.
    pub since: NaiveDate,
    pub began_with: Side,
    /// Days from `since` to the date asked about.
    pub days: i64,
}

/// How a translated source stands against its English source on a date.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceLag {
    pub source: String,
    pub english: String,
    pub locale: Option<String>,
    pub title: Option<String>,
    pub at: NaiveDate,
    /// Capture dates of the two versions in force.
    pub english_version: Option<NaiveDate>,
    pub translation_version: Option<NaiveDate>,
    /// Why the two could not be compared, when they could not.
    pub not_compared: Option<String>,
    /// The differences, oldest first.
    pub lags: Vec<Lag>,
}

/// How every pair stands at the end of `at`.
pub fn lag(
    store: &Store,
    differ: &Differ<'_>,
    aliases: &AliasTable,
    pairs: &[Pair],
    at: NaiveDate,
) -> Result<Vec<SourceLag>> {
    pairs
        .iter()
        .map(|p| pair_lag(store, differ, aliases, p, at))
        .collect()
}

/// The versions with scope captured before `end`: those that can stand for
/// the page (a version whose extraction failed never does).
fn good_versions(store: &Store, source: &str, end: DateTime<Utc>) -> Result<Vec<VersionRef>> {
    Ok(store
        .versions(Some(source))?
        .into_iter()
        .filter(|v| v.has_scope && v.captured_at < end)
        .collect())
}

fn pair_lag(
    store: &Store,
    differ: &Differ<'_>,
    aliases: &AliasTable,
    pair: &Pair,
    at: NaiveDate,
) -> Result<SourceLag> {
    let end = ingest::midnight(at.succ_opt().unwrap_or(at));
    let mut steps: Vec<(DateTime<Utc>, Side, i64)> = Vec::new();
    for (side, id) in [
        (Side::English, &pair.english),
        (Side::Translation, &pair.translation),
    ] {
        steps.extend(
            good_versions(store, id, end)?
                .into_iter()
                .map(|v| (v.captured_at, side, v.id)),
        );
    }
    steps.sort_by_key(|(t, side, id)| (*t, *side == Side::Translation, *id));
    let mut english: Option<StoredSnapshot> = None;
    let mut translation: Option<StoredSnapshot> = None;
    let mut open: HashMap<String, Lag> = HashMap::new();
    for (captured_at, side, id) in steps {
        let version = store.load(id)?;
        match side {
            Side::English => english = Some(version),
            Side::Translation => translation = Some(version),
        }
        let (Some(e), Some(t)) = (&english, &translation) else {
            continue;
        };
        let since = captured_at.date_naive();
        let mut now = HashMap::new();
        for gap in gaps(differ, aliases, &e.snapshot, &t.snapshot) {
            let key = gap.identity();
            let lag = open.remove(&key).unwrap_or(Lag {
                gap,
                since,
                began_with: side,
                days: 0,
            });
            now.insert(key, lag);
        }
        open = now;
    }
    let mut lags: Vec<Lag> = open
        .into_values()
        .map(|l| Lag {
            days: (at - l.since).num_days(),
            ..l
        })
        .collect();
    lags.sort_by_key(|l| (l.since, l.gap.identity()));
    let not_compared = match (&english, &translation) {
        (None, _) => Some(format!(
            "the English page has no version with scope by {at}"
        )),
        (_, None) => Some(format!("the translation has no version with scope by {at}")),
        (Some(e), Some(t)) => retired(store, &pair.english, e, end, "the English page")?.or(
            retired(store, &pair.translation, t, end, "the translation")?,
        ),
    };
    if not_compared.is_some() {
        lags.clear();
    }
    Ok(SourceLag {
        source: pair.translation.clone(),
        english: pair.english.clone(),
        locale: pair.locale.clone(),
        title: translation
            .as_ref()
            .and_then(|t| t.snapshot.title.clone())
            .or_else(|| english.as_ref().and_then(|e| e.snapshot.title.clone())),
        at,
        english_version: english.map(|e| e.captured_at.date_naive()),
        translation_version: translation.map(|t| t.captured_at.date_naive()),
        not_compared,
        lags,
    })
}

/// "the English page was retired on D" when a page was retired after the
/// version in force and before `end`: a retired page is compared no more.
fn retired(
    store: &Store,
    source: &str,
    last: &StoredSnapshot,
    end: DateTime<Utc>,
    what: &str,
) -> Result<Option<String>> {
    Ok(store
        .retirements(source)?
        .into_iter()
        .filter(|r| *r > last.captured_at && *r < end)
        .min()
        .map(|r| format!("{what} was retired on {}", r.date_naive())))
}

/// The differences between an English version and a translated one.
fn gaps(
    differ: &Differ<'_>,
    aliases: &AliasTable,
    english: &Snapshot,
    translation: &Snapshot,
) -> Vec<Gap> {
    let rows = |s: &Snapshot| -> BTreeSet<String> {
        s.scopes
            .iter()
            .filter(|scope| scope.items.iter().any(|i| !i.services.is_empty()))
            .filter_map(|scope| scope.environment.as_deref())
            .map(|label| aliases.environment(label).to_string())
            .collect()
    };
    let (english_rows, translation_rows) = (rows(english), rows(translation));
    let missing_rows: BTreeSet<&String> = english_rows.difference(&translation_rows).collect();
    let extra_rows: BTreeSet<&String> = translation_rows.difference(&english_rows).collect();
    let within = |rows: &BTreeSet<&String>, env: &Option<String>| {
        env.as_ref().is_some_and(|e| rows.contains(e))
    };
    let mut found: Vec<Gap> = missing_rows
        .iter()
        .map(|e| Gap::MissingEnvironment {
            environment: e.to_string(),
        })
        .chain(extra_rows.iter().map(|e| Gap::ExtraEnvironment {
            environment: e.to_string(),
        }))
        .collect();
    // The English version is the old side: what it lists and the
    // translation does not is "removed" in the differ's terms.
    for change in differ.compare(english, translation).changes {
        match change {
            Change::Removed(e) if !within(&missing_rows, &e.environment) => {
                found.push(Gap::Missing {
                    service: e.service,
                    environment: e.environment,
                });
            }
            Change::Added(e) if !within(&extra_rows, &e.environment) => found.push(Gap::Extra {
                service: e.service,
                environment: e.environment,
            }),
            // A name only close to the English one is the translator's
            // rendering of it: one service listed on both pages.
            Change::Renamed(r) if r.evidence != Evidence::Similarity => {
                found.push(Gap::Renamed {
                    english: r.from,
                    translation: r.to,
                    environment: r.environment,
                    // English to translation is no step in time: a
                    // translation still giving the former name is behind
                    // the known rename, not reverting it.
                    evidence: match r.evidence {
                        Evidence::Revert => Evidence::Alias,
                        other => other,
                    },
                });
            }
            // A row the translation lacks, and one it has instead, are
            // named once each rather than once per service.
            Change::Moved(m) if !(within(&missing_rows, &m.from) && within(&extra_rows, &m.to)) => {
                found.push(Gap::Moved {
                    service: m.service,
                    english: m.from,
                    translation: m.to,
                });
            }
            _ => {}
        }
    }
    found
}

/// Fails with a clear message unless `source` is a translated source paired
/// with an English one.
pub fn require_pair<'a>(pairs: &'a [Pair], store: &Store, source: &str) -> Result<&'a Pair> {
    store.require_source(source)?;
    pairs
        .iter()
        .find(|p| p.translation == source)
        .ok_or_else(|| Error::NotTranslated(source.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locale_suffixes() {
        assert_eq!(
            split_locale("offering-soc-2-ja-jp"),
            Some(("offering-soc-2", "ja-jp".to_string()))
        );
        assert_eq!(
            split_locale("offering-iso-27001-sr-latn-rs"),
            Some(("offering-iso-27001", "sr-latn-rs".to_string()))
        );
        assert_eq!(split_locale("offering-soc-2"), None);
        assert_eq!(split_locale("offering-soc-2-en-us"), None);
        assert_eq!(split_locale("de-de"), None);
    }
}
