//! Fixtures the store's unit tests share.

use chrono::{DateTime, NaiveDate, Utc};

use super::{NewSnapshot, Store};
use crate::model::Snapshot;

/// Midnight UTC of a `YYYY-MM-DD` date.
pub(super) fn day(d: &str) -> DateTime<Utc> {
    NaiveDate::parse_from_str(d, "%Y-%m-%d")
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc()
}

/// A page with scope: lists, a table and a report link.
pub(super) const V1: &str = "# T\n\n## In-scope services\n\n- Azure, Azure Government\n- Power Automate (formerly Microsoft Flow) cloud service\n\n| Applicability | In-scope services |\n|--|--|\n| GCC | Forms |\n\n## Audits, reports, and certificates\n\n- [Cert](https://r.example/c)\n";

/// `V1` as the first version of source `offering-x`.
pub(super) fn first_version(snap: &Snapshot) -> NewSnapshot<'_> {
    NewSnapshot {
        source: "offering-x",
        captured_at: day("2021-01-01"),
        raw: V1.as_bytes(),
        snapshot: snap,
        origin: "test",
        includes: &[],
    }
}

/// The snapshots that list any of the given service keys, with the names
/// they use for them, each once.
pub(super) fn listing(store: &Store, keys: &[String]) -> Vec<(i64, String)> {
    let mut found: Vec<(i64, String)> = store
        .listing_places(keys)
        .unwrap()
        .into_iter()
        .map(|l| (l.snapshot, l.name))
        .collect();
    found.dedup();
    found
}
