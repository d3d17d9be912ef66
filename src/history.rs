//! Questions across time, answered from the store: what changed in a source
//! between two dates, and every change of a source in date order.

use chrono::NaiveDate;

use crate::diff::Differ;
use crate::report::SourceDiff;
use crate::store::{Store, StoredSnapshot};
use crate::{Error, Result};

/// The change of one source between the versions in force at two dates.
/// `None` when the source has no usable version by `from`.
pub fn between(
    store: &Store,
    differ: &Differ<'_>,
    source: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Option<SourceDiff>> {
    if from > to {
        return Err(Error::Date(format!("{from} is after {to}")));
    }
    store.require_source(source)?;
    let (Some(old), Some(new)) = (
        store.snapshot_at(source, from)?,
        store.snapshot_at(source, to)?,
    ) else {
        return Ok(None);
    };
    Ok(Some(step(differ, &old, &new)))
}

/// Every step of a source's history, oldest first: each version with scope
/// against the previous version with scope. Versions whose extraction found
/// nothing are skipped, never reported as removals.
pub fn log(store: &Store, differ: &Differ<'_>, source: &str) -> Result<Vec<SourceDiff>> {
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
