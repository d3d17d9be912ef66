//! A service's life across offerings, and finding a service by name.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::Result;
use crate::canon::{AliasTable, ServiceKey};
use crate::store::{Store, VersionRef};

/// When a service was in an offering's scope.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Span {
    pub from: NaiveDate,
    /// `None` while it is still in scope.
    pub to: Option<NaiveDate>,
    /// How the span ended: "removed" or "page retired".
    pub ended: Option<String>,
    /// The names the page used for the service during the span.
    pub names: Vec<String>,
}

/// A service's life in every offering that listed it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Timeline {
    pub service: String,
    /// Every name followed: current, former and variant names.
    pub names: Vec<String>,
    pub offerings: BTreeMap<String, Vec<Span>>,
}

/// When a service (any of its known names) entered and left each offering.
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
    let mut listed: HashMap<i64, Vec<String>> = HashMap::new();
    for (snapshot, name) in store.listing(&keys)? {
        listed.entry(snapshot).or_default().push(name);
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
        let mut spans: Vec<Span> = Vec::new();
        let mut open = false;
        for v in &versions {
            // A retirement recorded before this version closes what is open.
            if open && let Some(&(at, why)) = ends.first().filter(|(at, _)| *at <= v.captured_at) {
                close(&mut spans, at.date_naive(), why);
                open = false;
            }
            ends.retain(|(at, _)| *at > v.captured_at);
            let date = v.captured_at.date_naive();
            match (v.has_scope, listed.get(&v.id)) {
                (true, Some(used)) => {
                    if !open {
                        spans.push(Span {
                            from: date,
                            to: None,
                            ended: None,
                            names: Vec::new(),
                        });
                        open = true;
                    }
                    if let Some(span) = spans.last_mut() {
                        for n in used {
                            if !span.names.contains(n) {
                                span.names.push(n.clone());
                            }
                        }
                    }
                }
                (true, None) if open => {
                    close(&mut spans, date, "removed");
                    open = false;
                }
                // A version without scope is an anomaly: it neither ends
                // nor starts a span.
                _ => {}
            }
        }
        if open && let Some(&(at, why)) = ends.first() {
            close(&mut spans, at.date_naive(), why);
        }
        if !spans.is_empty() {
            offerings.insert(source, spans);
        }
    }
    Ok(Timeline {
        service: aliases.canonical_name(name).to_string(),
        names,
        offerings,
    })
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
