//! What the views derive from the whole history (the change log, each
//! source's versions and latest scope, the matrix of a date...), kept
//! between requests. The server only reads, so all of it stays true until
//! the nightly job writes; `PRAGMA data_version` on a connection of our own
//! says when that happened, and the next request derives it again.

use std::collections::{BTreeSet, HashMap};
use std::hash::Hash;
use std::sync::{Arc, Mutex, OnceLock, TryLockError};

use axum::body::Bytes;
use chrono::NaiveDate;

use super::offerings::Offering;
use super::page::Problem;
use crate::canon::{AliasTable, ServiceKey};
use crate::diff::Differ;
use crate::history::{self, Event, Matrix, SourceDiff, Timeline};
use crate::lag::{self, Pair};
use crate::report::data::StepView;
use crate::store::{Store, VersionRef};

/// Answers kept per question (a date, a name, a pair of dates): enough for
/// the dates people look at, bounded against a crawler asking for every day.
const MEMO_ENTRIES: usize = 256;

/// Answers to one kind of question with a parameter, each computed once.
pub(super) struct Memo<K, V>(Mutex<HashMap<K, Arc<V>>>);

impl<K: Eq + Hash + Clone, V> Memo<K, V> {
    fn new() -> Self {
        Memo(Mutex::new(HashMap::new()))
    }

    /// The kept answer, or `make`'s, kept. Two requests that miss together
    /// both compute it: cheaper than making one wait behind the other's lock.
    pub(super) fn get(
        &self,
        key: &K,
        make: impl FnOnce() -> Result<V, Problem>,
    ) -> Result<Arc<V>, Problem> {
        if let Some(found) = self.0.lock().ok().and_then(|m| m.get(key).cloned()) {
            return Ok(found);
        }
        let made = Arc::new(make()?);
        if let Ok(mut kept) = self.0.lock() {
            if kept.len() >= MEMO_ENTRIES {
                kept.clear();
            }
            kept.insert(key.clone(), made.clone());
        }
        Ok(made)
    }
}

/// The matrix of a date with what its environment filter needs: each
/// offering's services per environment (lower case).
pub(super) struct MatrixData {
    pub matrix: Matrix,
    pub by_env: HashMap<String, HashMap<String, BTreeSet<ServiceKey>>>,
    pub environments: BTreeSet<String>,
}

/// Everything derived from one state of the database.
pub(super) struct Derived {
    /// Every scope change event, in date order.
    pub log: Vec<Event>,
    /// Every source, in id order, unfiltered.
    pub offerings: Vec<Offering>,
    /// Each source's versions in capture order.
    pub versions: HashMap<String, Vec<VersionRef>>,
    pub pairs: Vec<Pair>,
    /// Every service name a version lists, for the name search.
    pub listed_names: Vec<String>,
    /// The Atom feed of everything, rendered once.
    pub feed: OnceLock<Bytes>,
    pub matrices: Memo<NaiveDate, MatrixData>,
    pub comparisons: Memo<(NaiveDate, NaiveDate), Vec<SourceDiff>>,
    pub timelines: Memo<String, Timeline>,
    pub texts: Memo<String, Vec<StepView>>,
}

impl Derived {
    fn build(store: &Store, aliases: &AliasTable) -> Result<Self, Problem> {
        let differ = Differ::new(aliases);
        let log = history::log(store, &differ, None, None)?;
        let mut versions: HashMap<String, Vec<VersionRef>> = HashMap::new();
        for v in store.versions(None)? {
            versions.entry(v.source.clone()).or_default().push(v);
        }
        Ok(Derived {
            offerings: super::offerings::all(store, aliases, &log, &versions)?,
            pairs: lag::pairs(store, &[])?,
            listed_names: history::listed_names(store)?,
            log,
            versions,
            feed: OnceLock::new(),
            matrices: Memo::new(),
            comparisons: Memo::new(),
            timelines: Memo::new(),
            texts: Memo::new(),
        })
    }

    /// The events of one source, in date order.
    pub fn events_of(&self, source: &str) -> Vec<Event> {
        self.log
            .iter()
            .filter(|e| e.source == source)
            .cloned()
            .collect()
    }
}

/// The derived data of the database's current state.
pub(super) struct Cache {
    /// Our own connection, so that its `data_version` moves with every
    /// write of another connection (the counter is per connection).
    watch: Mutex<Store>,
    /// The state it was derived at, and the data.
    current: Mutex<Option<(i64, Arc<Derived>)>>,
    /// Held while deriving, so that requests after a write derive once,
    /// not each.
    building: Mutex<()>,
}

impl Cache {
    pub fn new(watch: Store) -> Self {
        Cache {
            watch: Mutex::new(watch),
            current: Mutex::new(None),
            building: Mutex::new(()),
        }
    }

    /// The derived data, derived again first if the database changed.
    /// While one request derives the new state (seconds, on years of
    /// history), the others are answered from the previous one.
    pub fn get(&self, store: &Store, aliases: &AliasTable) -> Result<Arc<Derived>, Problem> {
        let poisoned = || Problem::Internal("a cache lock was poisoned".into());
        // Read before deriving: a write during it makes the next request
        // derive again rather than keep stale data.
        let version = self.watch.lock().map_err(|_| poisoned())?.data_version()?;
        let kept =
            || -> Result<_, Problem> { Ok(self.current.lock().map_err(|_| poisoned())?.clone()) };
        let previous = match kept()? {
            Some((at, derived)) if at == version => return Ok(derived),
            other => other,
        };
        let _building = match (self.building.try_lock(), previous) {
            (Ok(guard), _) => guard,
            (Err(TryLockError::WouldBlock), Some((_, stale))) => return Ok(stale),
            (Err(TryLockError::WouldBlock), None) => {
                self.building.lock().map_err(|_| poisoned())?
            }
            (Err(TryLockError::Poisoned(_)), _) => return Err(poisoned()),
        };
        // Another request may have derived it while this one waited.
        if let Some((at, derived)) = kept()?
            && at == version
        {
            return Ok(derived);
        }
        let started = std::time::Instant::now();
        let derived = Arc::new(Derived::build(store, aliases)?);
        tracing::info!(
            "serve: derived the history's views in {:.0?}",
            started.elapsed()
        );
        *self.current.lock().map_err(|_| poisoned())? = Some((version, derived.clone()));
        Ok(derived)
    }
}
