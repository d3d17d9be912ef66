//! A service's life across offerings, and finding a service by name.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::localized::{most_used_per_locale, translates};
use crate::Result;
use crate::canon::{AliasTable, ServiceKey};
use crate::store::{Listed, Store, VersionRef};

/// When a service was in an offering's scope (or, on a scope-matrix page,
/// in one program and level).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Span {
    pub from: NaiveDate,
    /// `None` while it is still in scope.
    pub to: Option<NaiveDate>,
    /// How the span ended: "removed", "page retired", or "environments
    /// changed" when the next span goes on with other environments.
    pub ended: Option<String>,
    /// The names the page used for the service during the span.
    pub names: Vec<String>,
    /// The environments (applicability rows: Commercial, GCC, GCC High
    /// ...) the page listed the service under throughout the span; `all`
    /// for a plain list. Empty on a scope-matrix page, whose span is
    /// already one program's.
    pub environments: Vec<String>,
}

/// A service's life in every offering that listed it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Timeline {
    pub service: String,
    /// Every name followed: current, former and variant names.
    pub names: Vec<String>,
    /// The spans of each offering page, and of each program of a
    /// scope-matrix page (keyed "page / program").
    pub offerings: BTreeMap<String, Vec<Span>>,
    /// The service's spelling on translated pages, by locale: the one most
    /// versions use.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub localized: BTreeMap<String, String>,
}

/// Where one version lists the service: per place (an offering page, or a
/// scope-matrix page's program), the names and the environments.
type Places = BTreeMap<String, (Vec<String>, Vec<String>)>;

/// When a service (any of its known names) entered and left each offering,
/// and each program of a scope-matrix page.
pub fn timeline(store: &Store, aliases: &AliasTable, name: &str) -> Result<Timeline> {
    let names: Vec<String> = aliases
        .names_of(name)
        .into_iter()
        .map(str::to_string)
        .collect();
    let mut keys: Vec<String> = names
        .iter()
        .map(|n| ServiceKey::of(n).as_str().to_string())
        .collect();
    keys.push(ServiceKey::of(name).as_str().to_string());
    keys.sort();
    keys.dedup();
    // Where each version lists the service, and the names it uses.
    let mut entries: HashMap<i64, Vec<Listed>> = HashMap::new();
    let mut listed: HashMap<i64, Vec<String>> = HashMap::new();
    for entry in store.listing_places(&keys)? {
        let names = listed.entry(entry.snapshot).or_default();
        if !names.contains(&entry.name) {
            names.push(entry.name.clone());
        }
        entries.entry(entry.snapshot).or_default().push(entry);
    }
    let retirements = store.all_retirements()?;
    let mut offerings = BTreeMap::new();
    let mut by_source: BTreeMap<String, Vec<VersionRef>> = BTreeMap::new();
    for v in store.versions(None)? {
        by_source.entry(v.source.clone()).or_default().push(v);
    }
    for (source, versions) in by_source {
        let mut ends: Vec<(DateTime<Utc>, &str)> = retirements
            .get(&source)
            .into_iter()
            .flatten()
            .map(|at| (*at, "page retired"))
            .collect();
        let mut tracks: BTreeMap<String, Vec<Span>> = BTreeMap::new();
        // The places whose last span is open.
        let mut open: Vec<String> = Vec::new();
        for v in &versions {
            // A retirement recorded before this version closes what is open.
            if let Some(&(at, why)) = ends.first().filter(|(at, _)| *at <= v.captured_at) {
                for place in open.drain(..) {
                    close(tracks.entry(place).or_default(), at.date_naive(), why);
                }
            }
            ends.retain(|(at, _)| *at > v.captured_at);
            // A version without scope is an anomaly: it neither ends nor
            // starts a span.
            if !v.has_scope {
                continue;
            }
            let date = v.captured_at.date_naive();
            let places = match entries.get(&v.id) {
                Some(found) => places(aliases, &source, found),
                None => Places::new(),
            };
            for place in std::mem::take(&mut open) {
                if !places.contains_key(&place) {
                    close(tracks.entry(place).or_default(), date, "removed");
                } else {
                    open.push(place);
                }
            }
            for (place, (used, environments)) in places {
                let spans = tracks.entry(place.clone()).or_default();
                let goes_on = open.contains(&place)
                    && spans.last().is_some_and(|s| s.environments == environments);
                if !goes_on {
                    if open.contains(&place) {
                        close(spans, date, "environments changed");
                    } else {
                        open.push(place);
                    }
                    spans.push(Span {
                        from: date,
                        to: None,
                        ended: None,
                        names: Vec::new(),
                        environments,
                    });
                }
                if let Some(span) = spans.last_mut() {
                    for n in used {
                        if !span.names.contains(&n) {
                            span.names.push(n);
                        }
                    }
                }
            }
        }
        if let Some(&(at, why)) = ends.first() {
            for place in open.drain(..) {
                close(tracks.entry(place).or_default(), at.date_naive(), why);
            }
        }
        offerings.extend(tracks.into_iter().filter(|(_, spans)| !spans.is_empty()));
    }
    let service = aliases.canonical_name(name).to_string();
    let localized = spelled_in_translations(store, aliases, &service, &listed)?;
    Ok(Timeline {
        service,
        names,
        offerings,
        localized,
    })
}

/// The spelling of `service` most versions of each locale list, where a
/// translated page writes a translation of it.
fn spelled_in_translations(
    store: &Store,
    aliases: &AliasTable,
    service: &str,
    listed: &HashMap<i64, Vec<String>>,
) -> Result<BTreeMap<String, String>> {
    let ids: Vec<i64> = listed.keys().copied().collect();
    let key = ServiceKey::of(service);
    let mut counts: BTreeMap<(String, String), usize> = BTreeMap::new();
    for (id, locale) in store.locales_of(&ids)? {
        for name in listed.get(&id).into_iter().flatten() {
            if ServiceKey::of(name) != key && translates(aliases, &locale, name) {
                *counts.entry((locale.clone(), name.clone())).or_default() += 1;
            }
        }
    }
    Ok(most_used_per_locale(counts))
}

/// Where a version of `source` lists the service, from its entries in
/// the service index: the page and its environments, or on a scope-matrix
/// page each program on its own.
fn places(aliases: &AliasTable, source: &str, found: &[Listed]) -> Places {
    let mut places = Places::new();
    for e in found {
        let (place, environment) = match (e.matrix, e.environment.as_deref()) {
            (true, Some(program)) => (format!("{source} / {program}"), None),
            (_, env) => (
                source.to_string(),
                Some(
                    env.map_or("all", |env| aliases.environment(env))
                        .to_string(),
                ),
            ),
        };
        let (names, environments) = places.entry(place).or_default();
        if !names.contains(&e.name) {
            names.push(e.name.clone());
        }
        environments.extend(environment);
    }
    for (_, environments) in places.values_mut() {
        environments.sort();
        environments.dedup();
    }
    places
}

fn close(spans: &mut [Span], date: NaiveDate, why: &str) {
    if let Some(span) = spans.last_mut() {
        span.to = Some(date);
        span.ended = Some(why.to_string());
    }
}

/// The services (current names) a name search finds, and whether the
/// name is one of a listed service's names: then it is the only one found.
/// Otherwise every service with the text in one of its names.
pub fn find_services(
    store: &Store,
    aliases: &AliasTable,
    asked: &str,
) -> Result<(bool, Vec<String>)> {
    Ok(find_among(&store.listed_names()?, aliases, asked))
}

/// Every service name some stored snapshot lists, as written: what
/// [`find_among`] searches.
pub fn listed_names(store: &Store) -> Result<Vec<String>> {
    store.listed_names()
}

/// [`find_services`] among names already read with [`listed_names`].
pub fn find_among(listed: &[String], aliases: &AliasTable, asked: &str) -> (bool, Vec<String>) {
    let query = ServiceQuery::new(aliases, asked);
    if listed
        .iter()
        .any(|n| ServiceKey::of(aliases.canonical_name(n)) == query.canonical)
    {
        return (true, vec![aliases.canonical_name(asked).to_string()]);
    }
    let mut found: Vec<String> = listed
        .iter()
        .filter(|n| query.matches(n))
        .map(|n| aliases.canonical_name(n).to_string())
        .collect();
    found.sort_unstable();
    found.dedup_by_key(|n| ServiceKey::of(n));
    (false, found)
}

/// A service asked for by name: one of its names as the alias table knows
/// them, or a part of a name.
pub struct ServiceQuery<'a> {
    aliases: &'a AliasTable,
    canonical: ServiceKey,
    part: String,
}

impl<'a> ServiceQuery<'a> {
    pub fn new(aliases: &'a AliasTable, name: &str) -> Self {
        ServiceQuery {
            aliases,
            canonical: ServiceKey::of(aliases.canonical_name(name)),
            part: ServiceKey::of(name).as_str().to_string(),
        }
    }

    pub fn matches(&self, name: &str) -> bool {
        ServiceKey::of(self.aliases.canonical_name(name)) == self.canonical
            || ServiceKey::of(name).as_str().contains(&self.part)
    }
}
