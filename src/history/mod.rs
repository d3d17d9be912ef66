//! Questions across time, answered from the store: what changed between two
//! dates, every scope change in date order, a service's life in each
//! offering, and which services each offering covered on a day.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;

use crate::canon::{AliasTable, ServiceKey};
use crate::diff::{Change, Diff, Differ, LinkChange};
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
    /// The scope-matrix profile the new version was read with; `None` for
    /// an offering page. Its changes' environments are programs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
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
        profile: new.snapshot.read_with.as_ref().map(|p| p.name.clone()),
        diff: differ.diff(&old.snapshot, &new.snapshot),
    }
}

/// One scope change event of the log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    pub date: NaiveDate,
    pub source: String,
    /// On a scope-matrix page, the program and level the change is in
    /// ("FedRAMP High (GovCloud)"): with the source, it names the change.
    /// `None` for an offering page, and for what no one level holds (a
    /// move between levels, a retirement).
    pub program: Option<String>,
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
    /// The page was retired: its file deleted. A page still served whose
    /// scope cannot be read is an extraction anomaly, never a retirement.
    Retired { how: String },
    /// Report link edits that undid each other within a few days: an
    /// address changed and changed back, or a link removed and restored.
    /// `states` are the addresses (or "listed"/"not listed") in order.
    LinkFlipFlop {
        section: String,
        title: String,
        states: Vec<String>,
        dates: Vec<NaiveDate>,
    },
}

impl EventKind {
    /// The environment (or, on a scope-matrix page, the program and level)
    /// the event is in, where one holds it.
    pub fn environment(&self) -> Option<&str> {
        match self {
            EventKind::Change(Change::Added(e) | Change::Removed(e)) => e.environment.as_deref(),
            EventKind::Change(Change::Renamed(r)) => r.environment.as_deref(),
            EventKind::Change(Change::Reworded(r)) => r.environment.as_deref(),
            EventKind::Change(Change::Qualified(q)) => q.environment.as_deref(),
            // A move is between environments; a link has none.
            EventKind::Change(Change::Moved(_) | Change::Link(_)) => None,
            EventKind::FlipFlop { environment, .. } => environment.as_deref(),
            EventKind::Retired { .. } | EventKind::LinkFlipFlop { .. } => None,
        }
    }
}

impl Event {
    /// Whether a window from `since` shows the event: a flip-flop shows
    /// while any of its steps is inside the window.
    fn shown_since(&self, since: NaiveDate) -> bool {
        match &self.what {
            EventKind::FlipFlop { dates, .. } | EventKind::LinkFlipFlop { dates, .. } => {
                dates.iter().any(|d| *d >= since)
            }
            _ => self.date >= since,
        }
    }
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
    events.retain(|e| since.is_none_or(|s| e.shown_since(s)));
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
    let mut matrix = false;
    for v in versions {
        let date = v.captured_at.date_naive();
        // A version without scope is an extraction anomaly (a login page,
        // a layout change): never a retirement, never the page's state.
        if !v.has_scope {
            continue;
        }
        let current = store.load(v.id)?;
        matrix |= current.snapshot.read_with.is_some();
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
            program: None,
            what: EventKind::Retired {
                how: "page file deleted".into(),
            },
        });
    }
    let mut events = fold_flip_flops(differ, source, changes, FLIP_FLOP_DAYS);
    // A scope-matrix page's levels are its programs: each change is named
    // by page and program.
    if matrix {
        for e in &mut events {
            e.program = e.what.environment().map(str::to_string);
        }
    }
    events.extend(marks);
    Ok(events)
}

/// Turns edits that undo each other within `window` days into flip-flops:
/// a service's renames, removals and restorations, and a report link's
/// changes of address, removals and restorations.
fn fold_flip_flops(
    differ: &Differ<'_>,
    source: &str,
    changes: Vec<(NaiveDate, Change)>,
    window: i64,
) -> Vec<Event> {
    let toggles: Vec<Option<Toggle>> = changes.iter().map(|(_, c)| toggle(differ, c)).collect();
    let mut used = vec![false; changes.len()];
    let mut events = Vec::new();
    for i in 0..changes.len() {
        if used[i] {
            continue;
        }
        let (start, change) = &changes[i];
        let single = || Event {
            date: *start,
            source: source.into(),
            program: None,
            what: EventKind::Change(change.clone()),
        };
        let Some(first) = &toggles[i] else {
            events.push(single());
            continue;
        };
        let mut states = vec![first.from.clone(), first.to.clone()];
        let mut dates = vec![*start];
        let mut chain = vec![i];
        for (j, (date, _)) in changes.iter().enumerate().skip(i + 1) {
            if (*date - dates[dates.len() - 1]).num_days() > window {
                break;
            }
            let Some(step) = toggles[j].as_ref().filter(|_| !used[j]) else {
                continue;
            };
            let same = |a: &str, b: &str| match first.link {
                Some(_) => a == b,
                None => ServiceKey::of(a) == ServiceKey::of(b),
            };
            let undoes = step.link == first.link
                && step.subject == first.subject
                && step.environment == first.environment
                && same(&step.from, &states[states.len() - 1])
                && same(&step.to, &states[states.len() - 2]);
            if undoes {
                states.push(step.to.clone());
                dates.push(*date);
                chain.push(j);
            }
        }
        if chain.len() < 2 {
            events.push(single());
            continue;
        }
        for j in chain {
            used[j] = true;
        }
        let what = match (&first.link, change) {
            (Some((section, title)), _) => EventKind::LinkFlipFlop {
                section: section.clone(),
                title: title.clone(),
                states,
                dates,
            },
            (None, Change::Renamed(_)) => EventKind::FlipFlop {
                service: states[states.len() - 1].clone(),
                environment: first.environment.clone(),
                states,
                dates,
            },
            (None, _) => EventKind::FlipFlop {
                service: first.name.clone(),
                environment: first.environment.clone(),
                states,
                dates,
            },
        };
        events.push(Event {
            date: *start,
            source: source.into(),
            program: None,
            what,
        });
    }
    events
}

/// A change that a later edit can undo.
struct Toggle {
    /// The service or link it is about: the service's identity, or the
    /// link's place and address. `None` for a rename, which its states name.
    subject: Option<String>,
    /// The service's name as written.
    name: String,
    /// The section and title of a report link.
    link: Option<(String, String)>,
    environment: Option<String>,
    /// The state before and after: names, "listed" or "not listed", or a
    /// link's addresses.
    from: String,
    to: String,
}

fn toggle(differ: &Differ<'_>, change: &Change) -> Option<Toggle> {
    let (listed, not_listed) = ("listed".to_string(), "not listed".to_string());
    let service = |e: &crate::diff::Entry, from: String, to: String| Toggle {
        subject: Some(differ.identity(&e.service).as_str().to_string()),
        name: e.service.clone(),
        link: None,
        environment: e.environment.clone(),
        from,
        to,
    };
    let link = |section: &str, title: &str, subject: String, from: String, to: String| Toggle {
        subject: Some(subject),
        name: title.to_string(),
        link: Some((section.to_string(), title.to_string())),
        environment: None,
        from,
        to,
    };
    let place = |url: &Option<String>| url.clone().unwrap_or_default();
    Some(match change {
        Change::Renamed(r) => Toggle {
            subject: None,
            name: r.to.clone(),
            link: None,
            environment: r.environment.clone(),
            from: r.from.clone(),
            to: r.to.clone(),
        },
        Change::Added(e) => service(e, not_listed, listed),
        Change::Removed(e) => service(e, listed, not_listed),
        Change::Link(LinkChange::Added {
            section,
            title,
            url,
        }) => link(section, title, place(url), not_listed, listed),
        Change::Link(LinkChange::Removed {
            section,
            title,
            url,
        }) => link(section, title, place(url), listed, not_listed),
        Change::Link(LinkChange::UrlChanged {
            section,
            title,
            from,
            to,
        }) => link(section, title, String::new(), from.clone(), to.clone()),
        Change::Reworded(_) | Change::Qualified(_) | Change::Moved(_) => return None,
    })
}

mod localized;
mod matrix;
mod timeline;

pub use matrix::{Matrix, matrix};
pub use timeline::{
    ServiceQuery, Span, Timeline, find_among, find_services, listed_names, timeline,
};

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
            from_localized: Default::default(),
            to_localized: Default::default(),
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
                    parent: None,
                    text: String::new(),
                    localized: Default::default(),
                }),
            ),
            (day(15), rename(mdca, mcas)),
            (day(17), rename(mcas, mdca)),
        ];
        let events = fold_flip_flops(
            &Differ::new(&AliasTable::builtin()),
            "s",
            changes,
            FLIP_FLOP_DAYS,
        );
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
        let events = fold_flip_flops(
            &Differ::new(&AliasTable::builtin()),
            "s",
            changes,
            FLIP_FLOP_DAYS,
        );
        assert!(
            events
                .iter()
                .all(|e| matches!(e.what, EventKind::Change(_)))
        );
    }
}
