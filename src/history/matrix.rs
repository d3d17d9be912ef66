//! Services × offerings on a day.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDate;
use serde::Serialize;

use super::localized::{most_used_per_locale, translates};
use crate::Result;
use crate::canon::{AliasTable, ServiceKey};
use crate::store::Store;

/// Services × offerings in scope on a day.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Matrix {
    pub date: NaiveDate,
    /// The columns: an offering page, or one program and level of a
    /// scope-matrix page ("page / program").
    pub offerings: Vec<String>,
    /// Each service (current name) with the columns that list it.
    pub services: BTreeMap<String, BTreeSet<String>>,
    /// Each service's spelling on translated pages, by locale, where the
    /// spelling is a translation of the service's name.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub localized: BTreeMap<String, BTreeMap<String, String>>,
    /// The columns that are a scope-matrix page's programs, with their page
    /// and program.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub programs: BTreeMap<String, Program>,
}

/// One program and level of a scope-matrix page, as a matrix column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Program {
    pub source: String,
    pub program: String,
}

/// Which services each offering listed at the end of `date`: its last
/// version with scope (a version without scope is an anomaly, not the
/// page's state). Offerings retired by then are left out.
///
/// Names are grouped by [`AliasTable::identity`], as the differ pairs them:
/// each service shows under its current name in the alias table, or else
/// the spelling most offerings use.
pub fn matrix(store: &Store, aliases: &AliasTable, date: NaiveDate) -> Result<Matrix> {
    let end = crate::ingest::midnight(date.succ_opt().unwrap_or(date));
    let retirements = store.all_retirements()?;
    let mut offerings = Vec::new();
    let mut in_force: HashMap<i64, String> = HashMap::new();
    for last in store.latest_good_before(end)? {
        let retired = retirements
            .get(&last.source)
            .is_some_and(|r| r.iter().any(|at| *at > last.captured_at && *at < end));
        if retired {
            continue;
        }
        in_force.insert(last.id, last.source.clone());
        offerings.push(last.source);
    }
    let ids: Vec<i64> = in_force.keys().copied().collect();
    // Each identity's spellings, each with the columns that use it.
    let mut by_identity: HashMap<ServiceKey, BTreeMap<String, BTreeSet<String>>> = HashMap::new();
    let mut listed = |name: String, column: String| {
        by_identity
            .entry(aliases.identity(&name))
            .or_default()
            .entry(name)
            .or_default()
            .insert(column);
    };
    // Each identity's translated spellings, by locale, with their offerings.
    let mut translated: Translated = HashMap::new();
    let locales = store.locales_of(&ids)?;
    let matrix_pages = store.read_as_matrix(&ids)?;
    for (snapshot, name) in store.services_of(&ids)? {
        if matrix_pages.contains(&snapshot) {
            continue;
        }
        let Some(source) = in_force.get(&snapshot) else {
            continue;
        };
        if let Some(locale) = locales
            .get(&snapshot)
            .filter(|l| translates(aliases, l, &name))
        {
            translated
                .entry(aliases.identity(&name))
                .or_default()
                .entry((locale.clone(), name.clone()))
                .or_default()
                .insert(source.clone());
        }
        listed(name, source.clone());
    }
    // A scope-matrix page is a column per program and level, in page order.
    let mut programs = BTreeMap::new();
    for id in &matrix_pages {
        let Some(source) = in_force.get(id) else {
            continue;
        };
        let snapshot = store.load(*id)?.snapshot;
        let mut columns = Vec::new();
        for e in snapshot.entries() {
            let column = match e.environment {
                Some(program) => {
                    let column = format!("{source} / {program}");
                    if !programs.contains_key(&column) {
                        programs.insert(
                            column.clone(),
                            Program {
                                source: source.clone(),
                                program: program.to_string(),
                            },
                        );
                        columns.push(column.clone());
                    }
                    column
                }
                None => {
                    if !columns.contains(source) {
                        columns.push(source.clone());
                    }
                    source.clone()
                }
            };
            listed(e.service.name().to_string(), column);
        }
        if let Some(at) = offerings.iter().position(|o| o == source) {
            offerings.splice(at..=at, columns);
        }
    }
    let mut services: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut localized: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for (identity, spellings) in by_identity {
        let all: BTreeSet<String> = spellings.values().flatten().cloned().collect();
        // Spellings of one identity are all known to the table, or none.
        let known = spellings
            .keys()
            .find_map(|n| aliases.resolve(&ServiceKey::of(n)))
            .map(|r| r.canonical.to_string());
        let most_used = || {
            spellings
                .iter()
                .max_by(|a, b| a.1.len().cmp(&b.1.len()).then_with(|| b.0.cmp(a.0)))
                .map(|(n, _)| n.clone())
                .unwrap_or_default()
        };
        let name = known.unwrap_or_else(most_used);
        let key = ServiceKey::of(&name);
        let spelled = most_used_per_locale(
            translated
                .remove(&identity)
                .into_iter()
                .flatten()
                .filter(|((_, spelling), _)| ServiceKey::of(spelling) != key)
                .map(|(spelling, offerings)| (spelling, offerings.len())),
        );
        if !spelled.is_empty() {
            localized.entry(name.clone()).or_default().extend(spelled);
        }
        services.entry(name).or_default().extend(all);
    }
    Ok(Matrix {
        date,
        offerings,
        services,
        localized,
        programs,
    })
}

/// Translated spellings of each identity: (locale, spelling) → offerings.
type Translated = HashMap<ServiceKey, BTreeMap<(String, String), BTreeSet<String>>>;
