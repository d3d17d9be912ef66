//! The fetch ledger: every request made for a source, and what each
//! server last said about its version, for the next conditional GET.
//!
//! Validators are kept only from a response whose version was accepted
//! (stored, or found unchanged): a refused response's ETag would turn every
//! later request into a 304 for a version never stored. So `fetch_state`'s
//! `checked_at` is also the last time the page was found good, which tells
//! whether an anomaly has recovered since it was last alerted.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::Store;
use crate::Result;
use crate::config::refuse_credentials;

/// What a server last said about a page's version.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

impl Validators {
    /// True when there is no version to ask the server about.
    pub fn is_empty(&self) -> bool {
        self.etag.is_none() && self.last_modified.is_none()
    }
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

    /// What each server last said about each source's version, and the
    /// hash of that version's document, by source: one query for the whole
    /// job, rather than one per source before the first page can be
    /// fetched.
    ///
    /// Only for a source whose latest stored version has scope: with no
    /// version stored, or an anomalous one last, a 304 would confirm
    /// nothing worth keeping, so the page is fetched whole.
    pub(crate) fn all_validators(&self) -> Result<HashMap<String, (Validators, String)>> {
        let mut stmt = self.conn.prepare(
            "SELECT f.source_id, f.etag, f.last_modified, s.document_hash FROM fetch_state f
             JOIN snapshot s ON s.id = (SELECT l.id FROM snapshot l WHERE l.source_id = f.source_id
                                        ORDER BY l.captured_at DESC, l.id DESC LIMIT 1)
             WHERE s.scope_found = 1",
        )?;
        let rows = stmt.query_map([], |r| {
            let validators = Validators {
                etag: r.get(1)?,
                last_modified: r.get(2)?,
            };
            Ok((r.get(0)?, (validators, r.get(3)?)))
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

    /// Whether the latest stored version of `source` has no scope: an
    /// anomaly already on record, which later variants need not repeat.
    pub(crate) fn anomaly_on_record(&self, source: &str) -> Result<bool> {
        let found: Option<bool> = self
            .conn
            .prepare_cached(
                "SELECT scope_found FROM snapshot WHERE source_id = ?1
                 ORDER BY captured_at DESC, id DESC LIMIT 1",
            )?
            .query_row([source], |r| r.get(0))
            .optional()?;
        Ok(found == Some(false))
    }

    /// Records that a source's accepted version is still current (a 304).
    pub(crate) fn still_current(&self, source: &str) -> Result<()> {
        self.conn
            .prepare_cached("UPDATE fetch_state SET checked_at = ?2 WHERE source_id = ?1")?
            .execute(params![source, Utc::now().to_rfc3339()])?;
        Ok(())
    }

    /// Whether an anomaly on `source` is to be alerted now: an anomaly of
    /// one kind is alerted once until the page recovers (a version accepted
    /// since), with at most one reminder a day (UTC) while it lasts. The
    /// kind's alerts are those whose event key starts with `kind_key`.
    pub(crate) fn anomaly_alert_due(
        &self,
        source: &str,
        kind_key: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let last: Option<(String, Option<String>)> = self
            .conn
            .prepare_cached(
                "SELECT a.created_at, f.checked_at FROM alert a
                 LEFT JOIN fetch_state f ON f.source_id = a.source_id
                 WHERE a.source_id = ?1 AND substr(a.event_key, 1, length(?2)) = ?2
                 ORDER BY a.id DESC LIMIT 1",
            )?
            .query_row([source, kind_key], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let Some((alerted, accepted)) = last else {
            return Ok(true);
        };
        let time = |text: &str| DateTime::parse_from_rfc3339(text).map(|t| t.with_timezone(&Utc));
        // A time that does not read is taken as long ago: one alert too
        // many beats an anomaly never told.
        let Ok(alerted) = time(&alerted) else {
            return Ok(true);
        };
        let recovered = accepted
            .as_deref()
            .and_then(|a| time(a).ok())
            .is_some_and(|a| a > alerted);
        Ok(recovered || alerted.date_naive() < now.date_naive())
    }

    /// Whether the last response read for `source` was refused as
    /// [`Refusal::suspect`] with this very content: a version that looks
    /// cut short is accepted when the next run sees it again.
    pub(crate) fn suspected_before(&self, source: &str, content_hash: &str) -> Result<bool> {
        let error: Option<Option<String>> = self
            .conn
            .prepare_cached(
                "SELECT error FROM fetch_attempt WHERE source_id = ?1 AND status BETWEEN 200 AND 299
                 ORDER BY id DESC LIMIT 1",
            )?
            .query_row([source], |r| r.get(0))
            .optional()?;
        Ok(error.flatten().as_deref() == Some(Refusal::suspect(content_hash).note().as_str()))
    }
}

/// Why a response read in full was not kept, for its attempt's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Unreadable, truncated or without scope.
    Anomaly,
    /// Looks like the last good version cut short; kept if the next run
    /// reads the same content (its hash).
    Suspect(String),
}

impl Refusal {
    pub(crate) fn suspect(content_hash: &str) -> Self {
        Refusal::Suspect(content_hash.to_string())
    }

    /// The attempt's error text. A suspect names its content, which is how
    /// the next run recognises it.
    pub(crate) fn note(&self) -> String {
        match self {
            Refusal::Anomaly => "response refused: extraction anomaly".to_string(),
            Refusal::Suspect(hash) => {
                format!("response refused until seen again: looks cut short (content {hash})")
            }
        }
    }
}
