//! Questions across time, answered from the store: what changed between two
//! dates, every scope change in date order, a service's life in each
//! offering, and which services each offering covered on a day.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::canon::{AliasTable, ServiceKey};
use crate::diff::{Change, Diff, Differ};
use crate::store::{Store, StoredSnapshot, VersionRef};
use crate::{Error, Result};

/// Edits that undo each other within this many days are one flip-flop.
pub const FLIP_FLOP_DAYS: i64 = 21;

/// The change of one source between two of its versions: two dates in the
/// store, or the last good version and a freshly fetched one.
#[derive(Debug, Clone, Serialize)]
pub struct SourceDiff {
    pub source: String,
    pub title: Option<String>,
    /// Capture date of the version in force at the start.
    pub from: NaiveDate,
    /// Capture date of the version in force at the end.
    pub to: NaiveDate,
    #[serde(flatten)]
    pub diff: Diff,
}

/// The change of one source between the versions in force at two dates.
/// `None` when the source has no usable version by `from`.
pub fn between(
    store: &Store,
    differ: &Differ<'_>,
    source: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Option<SourceDiff>> {
    in_order(from, to)?;
    store.require_source(source)?;
    between_known(store, differ, source, from, to)
}

/// Refuses a period whose start is after its end.
pub fn in_order(from: NaiveDate, to: NaiveDate) -> Result<()> {
    if from > to {
        return Err(Error::DateOrder { from, to });
    }
    Ok(())
}

fn between_known(
    store: &Store,
    differ: &Differ<'_>,
    source: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Option<SourceDiff>> {
    let (Some(old), Some(new)) = (
        store.snapshot_id_at(source, from)?,
        store.snapshot_id_at(source, to)?,
    ) else {
        return Ok(None);
    };
    let old = store.load(old)?;
    // The same version in force at both dates: nothing to compare.
    let new = if new == old.id {
        old.clone()
    } else {
        store.load(new)?
    };
    Ok(Some(step(differ, &old, &new)))
}

/// [`between`] for every source, on as many threads as there are cores,
/// each with its own read connection. Sources without a version in force at
/// `from` are left out.
pub fn between_all(
    store: &Store,
    aliases: &AliasTable,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<SourceDiff>> {
    in_order(from, to)?;
    let sources: Vec<String> = store.sources()?.into_iter().map(|s| s.id).collect();
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .clamp(1, 8);
    let chunk = sources.len().div_ceil(threads).max(1);
    let path = store.path().to_path_buf();
    let results: Vec<Result<Vec<SourceDiff>>> = std::thread::scope(|scope| {
        let workers: Vec<_> = sources
            .chunks(chunk)
            .map(|ids| {
                let path = &path;
                scope.spawn(move || {
                    let store = Store::open_read(path)?;
                    let differ = Differ::new(aliases);
                    let mut found = Vec::new();
                    for id in ids {
                        found.extend(between_known(&store, &differ, id, from, to)?);
                    }
                    Ok(found)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| {
                w.join()
                    .unwrap_or_else(|_| Err(Error::Corrupt("a worker thread panicked".into())))
            })
            .collect()
    });
    let mut all = Vec::new();
    for part in results {
        all.extend(part?);
    }
    Ok(all)
}

/// The capture date of a source's first version with scope: the earliest
/// `from` it can be compared at. `None` when no version has scope.
pub fn first_in_force(store: &Store, source: &str) -> Result<Option<NaiveDate>> {
    Ok(store
        .versions(Some(source))?
        .into_iter()
        .find(|v| v.has_scope)
        .map(|v| v.captured_at.date_naive()))
}

/// Every step of a source's history, oldest first: each version with scope
/// against the previous version with scope. Versions whose extraction found
/// nothing are skipped, never reported as removals.
pub fn steps(store: &Store, differ: &Differ<'_>, source: &str) -> Result<Vec<SourceDiff>> {
    store.require_source(source)?;
    let good: Vec<StoredSnapshot> = store
        .history(source)?
        .into_iter()
        .filter(|s| s.snapshot.has_scope())
        .collect();
    Ok(good
        .windows(2)
        .map(|pair| step(differ, &pair[0], &pair[1]))
        .collect())
}

fn step(differ: &Differ<'_>, old: &StoredSnapshot, new: &StoredSnapshot) -> SourceDiff {
    SourceDiff {
        source: new.source.clone(),
        title: new
            .snapshot
            .title
            .clone()
            .or_else(|| old.snapshot.title.clone()),
        from: old.captured_at.date_naive(),
        to: new.captured_at.date_naive(),
        diff: differ.diff(&old.snapshot, &new.snapshot),
    }
}

/// One scope change event of the log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    pub date: NaiveDate,
    pub source: String,
    #[serde(flatten)]
    pub what: EventKind,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventKind {
    /// A scope change between two versions.
    Change(Change),
    /// Edits that undid each other within a few days: a rename and its
    /// revert, or a removal and its restoration. `states` are the names (or
    /// "listed"/"not listed") in order, `dates` when each edit happened.
    FlipFlop {
        service: String,
        environment: Option<String>,
        states: Vec<String>,
        dates: Vec<NaiveDate>,
    },
    /// The page was retired: its file deleted, or its in-scope section gone
    /// while the page is still there (emptied, or turned into a pointer).
    Retired { how: String },
    /// A retired page listed services again.
    Restored,
}

/// Every scope change event, in date order, for one source or all.
pub fn log(
    store: &Store,
    differ: &Differ<'_>,
    source: Option<&str>,
    since: Option<NaiveDate>,
) -> Result<Vec<Event>> {
    if let Some(source) = source {
        store.require_source(source)?;
    }
    let mut by_source: BTreeMap<String, Vec<VersionRef>> = BTreeMap::new();
    for v in store.versions(source)? {
        by_source.entry(v.source.clone()).or_default().push(v);
    }
    let mut events = Vec::new();
    for (source, versions) in by_source {
        events.extend(source_events(store, differ, &source, &versions)?);
    }
    events.retain(|e| since.is_none_or(|s| e.date >= s));
    events.sort_by(|a, b| (a.date, &a.source).cmp(&(b.date, &b.source)));
    Ok(events)
}

fn source_events(
    store: &Store,
    differ: &Differ<'_>,
    source: &str,
    versions: &[VersionRef],
) -> Result<Vec<Event>> {
    let mut changes: Vec<(NaiveDate, Change)> = Vec::new();
    let mut marks: Vec<Event> = Vec::new();
    let mut last_good: Option<StoredSnapshot> = None;
    let mut retired = false;
    for v in versions {
        let date = v.captured_at.date_naive();
        if !v.has_scope {
            if last_good.is_some() && !retired {
                retired = true;
                marks.push(Event {
                    date,
                    source: source.to_string(),
                    what: EventKind::Retired {
                        how: "in-scope section gone (page emptied, moved, or its layout changed)"
                            .into(),
                    },
                });
            }
            continue;
        }
        let current = store.load(v.id)?;
        if retired {
            retired = false;
            marks.push(Event {
                date,
                source: source.to_string(),
                what: EventKind::Restored,
            });
        }
        if let Some(previous) = &last_good {
            let diff = differ.diff(&previous.snapshot, &current.snapshot);
            changes.extend(
                diff.changes
                    .into_iter()
                    .filter(Change::is_scope_change)
                    .map(|c| (date, c)),
            );
        }
        last_good = Some(current);
    }
    for at in store.retirements(source)? {
        marks.push(Event {
            date: at.date_naive(),
            source: source.to_string(),
            what: EventKind::Retired {
                how: "page file deleted".into(),
            },
        });
    }
    let mut events = fold_flip_flops(source, changes, FLIP_FLOP_DAYS);
    events.extend(marks);
    Ok(events)
}

/// Turns edits that undo each other within `window` days into flip-flops.
fn fold_flip_flops(source: &str, changes: Vec<(NaiveDate, Change)>, window: i64) -> Vec<Event> {
    let mut used = vec![false; changes.len()];
    let mut events = Vec::new();
    for i in 0..changes.len() {
        if used[i] {
            continue;
        }
        let (start, change) = &changes[i];
        let Some((service, environment, mut states)) = toggle(change) else {
            events.push(Event {
                date: *start,
                source: source.into(),
                what: EventKind::Change(change.clone()),
            });
            continue;
        };
        let mut dates = vec![*start];
        let mut chain = vec![i];
        for (j, (date, next)) in changes.iter().enumerate().skip(i + 1) {
            if (*date - dates[dates.len() - 1]).num_days() > window {
                break;
            }
            let Some((_, env, step)) = toggle(next).filter(|_| !used[j]) else {
                continue;
            };
            let undoes = env == environment
                && ServiceKey::of(&step[0]) == ServiceKey::of(&states[states.len() - 1])
                && ServiceKey::of(&step[1]) == ServiceKey::of(&states[states.len() - 2]);
            let same_service = match next {
                Change::Renamed(_) => true,
                Change::Added(e) | Change::Removed(e) => {
                    ServiceKey::of(&e.service) == ServiceKey::of(&service)
                }
                _ => false,
            };
            if undoes && same_service {
                states.push(step[1].clone());
                dates.push(*date);
                chain.push(j);
            }
        }
        if chain.len() < 2 {
            events.push(Event {
                date: *start,
                source: source.into(),
                what: EventKind::Change(change.clone()),
            });
            continue;
        }
        for j in chain {
            used[j] = true;
        }
        let service = match change {
            Change::Renamed(_) => states[states.len() - 1].clone(),
            _ => service,
        };
        events.push(Event {
            date: *start,
            source: source.into(),
            what: EventKind::FlipFlop {
                service,
                environment,
                states,
                dates,
            },
        });
    }
    events
}

/// A change that a later edit can undo: its service, environment, and the
/// states before and after.
fn toggle(change: &Change) -> Option<(String, Option<String>, Vec<String>)> {
    let (listed, not_listed) = ("listed".to_string(), "not listed".to_string());
    match change {
        Change::Renamed(r) => Some((
            r.to.clone(),
            r.environment.clone(),
            vec![r.from.clone(), r.to.clone()],
        )),
        Change::Added(e) => Some((
            e.service.clone(),
            e.environment.clone(),
            vec![not_listed, listed],
        )),
        Change::Removed(e) => Some((
            e.service.clone(),
            e.environment.clone(),
            vec![listed, not_listed],
        )),
        _ => None,
    }
}

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
                (false, _) if open => {
                    close(&mut spans, date, "page retired");
                    open = false;
                }
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

/// Services × offerings in scope on a day.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Matrix {
    pub date: NaiveDate,
    pub offerings: Vec<String>,
    /// Each service (current name) with the offerings that list it.
    pub services: BTreeMap<String, BTreeSet<String>>,
}

/// Which services each offering listed at the end of `date`. Offerings
/// retired by then, or whose page had no scope then, are left out.
pub fn matrix(store: &Store, aliases: &AliasTable, date: NaiveDate) -> Result<Matrix> {
    let end = crate::ingest::midnight(date.succ_opt().unwrap_or(date));
    let retirements = store.all_retirements()?;
    let mut offerings = Vec::new();
    let mut in_force: HashMap<i64, String> = HashMap::new();
    for last in store.latest_before(end)? {
        let retired = retirements
            .get(&last.source)
            .is_some_and(|r| r.iter().any(|at| *at > last.captured_at && *at < end));
        if retired || !last.has_scope {
            continue;
        }
        in_force.insert(last.id, last.source.clone());
        offerings.push(last.source);
    }
    let ids: Vec<i64> = in_force.keys().copied().collect();
    // Pages repeat the same names: work out each one's current name once.
    let mut canonical: HashMap<String, String> = HashMap::new();
    let mut services: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (snapshot, name) in store.services_of(&ids)? {
        let current = canonical
            .entry(name)
            .or_insert_with_key(|name| aliases.canonical_name(name).to_string());
        if let Some(source) = in_force.get(&snapshot) {
            services
                .entry(current.clone())
                .or_default()
                .insert(source.clone());
        }
    }
    Ok(Matrix {
        date,
        offerings,
        services,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::{Entry, Evidence, Rename};

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2021, 11, d).unwrap()
    }

    fn rename(from: &str, to: &str) -> Change {
        Change::Renamed(Rename {
            from: from.into(),
            to: to.into(),
            environment: None,
            evidence: Evidence::Alias,
            confidence: 1.0,
            text: to.into(),
        })
    }

    #[test]
    fn renames_and_reverts_fold_into_one_flip_flop() {
        let (mcas, mdca) = (
            "Microsoft Cloud App Security",
            "Microsoft Defender for Cloud Apps",
        );
        let changes = vec![
            (day(1), rename(mcas, mdca)),
            (
                day(3),
                Change::Added(Entry {
                    service: "Windows 365".into(),
                    environment: None,
                    text: String::new(),
                }),
            ),
            (day(15), rename(mdca, mcas)),
            (day(17), rename(mcas, mdca)),
        ];
        let events = fold_flip_flops("s", changes, FLIP_FLOP_DAYS);
        assert_eq!(events.len(), 2);
        let EventKind::FlipFlop {
            service,
            states,
            dates,
            ..
        } = &events[0].what
        else {
            panic!("{events:?}")
        };
        assert_eq!(service, mdca);
        assert_eq!(states, &[mcas, mdca, mcas, mdca]);
        assert_eq!(dates, &[day(1), day(15), day(17)]);
        assert!(matches!(
            events[1].what,
            EventKind::Change(Change::Added(_))
        ));
    }

    #[test]
    fn far_apart_edits_stay_separate() {
        let changes = vec![
            (day(1), rename("A Service", "B Service")),
            (
                NaiveDate::from_ymd_opt(2022, 3, 1).unwrap(),
                rename("B Service", "A Service"),
            ),
        ];
        let events = fold_flip_flops("s", changes, FLIP_FLOP_DAYS);
        assert!(
            events
                .iter()
                .all(|e| matches!(e.what, EventKind::Change(_)))
        );
    }
}
