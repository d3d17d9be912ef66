//! The fetch ledger: every request made for a source, and what each
//! server last said about its version, for the next conditional GET.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::Store;
use crate::Result;
use crate::config::refuse_credentials;

/// What a server last said about a page's version.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// One request and what came of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub started_at: DateTime<Utc>,
    pub elapsed_ms: u64,
    pub status: Option<u16>,
    pub bytes: u64,
    /// What went wrong, if anything; never carries a URL's query.
    pub error: Option<String>,
}

impl Store {
    /// Records one fetch attempt.
    pub fn record_attempt(&self, source: &str, url: &str, a: &Attempt) -> Result<()> {
        refuse_credentials(url)?;
        self.conn
            .prepare_cached(
                "INSERT INTO fetch_attempt (source_id, url, started_at, elapsed_ms, status, bytes, error)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                source,
                url,
                a.started_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                a.elapsed_ms as i64,
                a.status,
                a.bytes as i64,
                a.error
            ],
        )?;
        Ok(())
    }

    /// The attempts recorded for a source, oldest first: (status, error).
    pub fn attempts(&self, source: &str) -> Result<Vec<(Option<u16>, Option<String>)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT status, error FROM fetch_attempt WHERE source_id = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([source], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// What each server last said about each source's version, by source:
    /// one query for the whole job, rather than one per source before the
    /// first page can be fetched.
    pub(crate) fn all_validators(&self) -> Result<HashMap<String, Validators>> {
        let mut stmt = self
            .conn
            .prepare("SELECT source_id, etag, last_modified FROM fetch_state")?;
        let rows = stmt.query_map([], |r| {
            let validators = Validators {
                etag: r.get(1)?,
                last_modified: r.get(2)?,
            };
            Ok((r.get(0)?, validators))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Remembers the validators of a page just checked.
    pub(crate) fn set_validators(&self, source: &str, v: &Validators) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO fetch_state (source_id, etag, last_modified, checked_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (source_id) DO UPDATE SET
                   etag = excluded.etag, last_modified = excluded.last_modified, checked_at = excluded.checked_at",
            )?
            .execute(params![source, v.etag, v.last_modified, Utc::now().to_rfc3339()])?;
        Ok(())
    }
}
