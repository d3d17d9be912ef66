//! Sources: the tracked pages, their published URLs, and when a page was
//! retired.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::Store;
use super::snapshots::parse_time;
use crate::config::refuse_credentials;
use crate::{Error, Result};

/// A tracked page and how much history it has.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SourceInfo {
    pub id: String,
    pub title: Option<String>,
    pub snapshots: u64,
    pub first: Option<String>,
    pub last: Option<String>,
    /// `muted` or `removed`: kept with its history, not fetched or alerted.
    pub held: Option<String>,
    /// When it was muted or removed (YYYY-MM-DD).
    pub held_at: Option<String>,
    /// The programs of a scope-matrix page, as its latest good version
    /// names them; empty for an offering page.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub programs: Vec<String>,
}

impl Store {
    /// Every tracked source with the extent of its history.
    pub fn sources(&self) -> Result<Vec<SourceInfo>> {
        let mut stmt = self.conn.prepare(
            "SELECT s.id, s.title, count(n.id), min(n.captured_at), max(n.captured_at), s.held, s.held_at
             FROM source s LEFT JOIN snapshot n ON n.source_id = s.id
             GROUP BY s.id ORDER BY s.id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(SourceInfo {
                id: r.get(0)?,
                title: r.get(1)?,
                snapshots: r.get::<_, i64>(2)?.max(0) as u64,
                first: r
                    .get::<_, Option<String>>(3)?
                    .map(|d| d[..10.min(d.len())].to_string()),
                last: r
                    .get::<_, Option<String>>(4)?
                    .map(|d| d[..10.min(d.len())].to_string()),
                held: r.get(5)?,
                held_at: r
                    .get::<_, Option<String>>(6)?
                    .map(|d| d[..10.min(d.len())].to_string()),
                programs: Vec::new(),
            })
        })?;
        let mut sources: Vec<SourceInfo> = rows.collect::<Result<_, _>>()?;
        for source in &mut sources {
            let Some(latest) = self.latest_good(&source.id)? else {
                continue;
            };
            if latest.snapshot.read_with.is_some() {
                for scope in &latest.snapshot.scopes {
                    if !source.programs.contains(&scope.section) {
                        source.programs.push(scope.section.clone());
                    }
                }
            }
        }
        Ok(sources)
    }

    /// The ids of the tracked sources, sorted: what [`Self::sources`] says
    /// without reading any version.
    pub fn source_ids(&self) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare("SELECT id FROM source ORDER BY id")?;
        let ids = stmt.query_map([], |r| r.get(0))?;
        Ok(ids.collect::<Result<_, _>>()?)
    }

    /// Fails with a clear message unless the source is tracked.
    pub(crate) fn require_source(&self, source: &str) -> Result<()> {
        let known: bool = self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM source WHERE id = ?1)",
            [source],
            |r| r.get(0),
        )?;
        if known {
            Ok(())
        } else {
            Err(Error::UnknownSource(source.to_string()))
        }
    }

    /// The published URL of a source, if known.
    pub(crate) fn source_url(&self, source: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row("SELECT url FROM source WHERE id = ?1", [source], |r| {
                r.get(0)
            })
            .optional()?
            .flatten())
    }

    /// Sets the published URL of a source.
    pub(crate) fn set_source_url(&mut self, source: &str, url: &str) -> Result<()> {
        refuse_credentials(url)?;
        self.conn
            .prepare_cached("UPDATE source SET url = ?2 WHERE id = ?1")?
            .execute(params![source, url])?;
        Ok(())
    }

    /// Records that a source's page was retired (its file deleted) at a time.
    /// Returns false when that was already known.
    pub(crate) fn retire(&mut self, source: &str, at: DateTime<Utc>, origin: &str) -> Result<bool> {
        self.require_source(source)?;
        refuse_credentials(origin)?;
        let at = at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let n = self.conn.execute(
            "INSERT OR IGNORE INTO retirement (source_id, retired_at, origin) VALUES (?1, ?2, ?3)",
            params![source, at, origin],
        )?;
        Ok(n > 0)
    }

    /// When a source's page was retired, oldest first.
    pub fn retirements(&self, source: &str) -> Result<Vec<DateTime<Utc>>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT retired_at FROM retirement WHERE source_id = ?1 ORDER BY retired_at",
        )?;
        let rows: Vec<String> = stmt
            .query_map([source], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        rows.iter().map(|t| parse_time(t, 0)).collect()
    }

    /// Every retirement, per source.
    pub(crate) fn all_retirements(&self) -> Result<HashMap<String, Vec<DateTime<Utc>>>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT source_id, retired_at FROM retirement ORDER BY retired_at")?;
        let rows: Vec<(String, String)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        let mut all: HashMap<String, Vec<DateTime<Utc>>> = HashMap::new();
        for (source, at) in rows {
            all.entry(source).or_default().push(parse_time(&at, 0)?);
        }
        Ok(all)
    }

    /// Mutes or removes a source (`held`), or tracks it again (`None`).
    /// Its history is kept either way.
    pub fn hold(&mut self, source: &str, held: Option<&str>) -> Result<()> {
        self.require_source(source)?;
        let at = held.map(|_| Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        self.conn.execute(
            "UPDATE source SET held = ?2, held_at = ?3 WHERE id = ?1",
            params![source, held, at],
        )?;
        Ok(())
    }

    /// The sources muted or removed, with which: a run neither fetches nor
    /// alerts them.
    pub fn held_sources(&self) -> Result<Vec<(String, String)>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, held FROM source WHERE held IS NOT NULL ORDER BY id")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Deletes a source and everything that belongs to it: versions and
    /// their includes, retirements, fetch records, queued alerts, the names
    /// learned from it (as a translation, or as the English page of one),
    /// and the documents, service sets and service names no other version
    /// uses. All or nothing; inside an open batch, part of it.
    pub fn purge(&mut self, source: &str) -> Result<()> {
        self.require_source(source)?;
        // A translation's id is its English page's id with the locale
        // appended: names learned against this page go with it.
        let translations = format!("{}-%", source.replace('_', "\\_").replace('%', "\\%"));
        self.write(|tx, _| {
            for sql in [
                "DELETE FROM alert WHERE source_id = ?1",
                "DELETE FROM fetch_state WHERE source_id = ?1",
                "DELETE FROM fetch_attempt WHERE source_id = ?1",
                "DELETE FROM retirement WHERE source_id = ?1",
                "DELETE FROM snapshot_include WHERE snapshot_id IN
                     (SELECT id FROM snapshot WHERE source_id = ?1)",
                "DELETE FROM snapshot WHERE source_id = ?1",
                "DELETE FROM source WHERE id = ?1",
            ] {
                tx.execute(sql, [source])?;
            }
            tx.execute(
                "DELETE FROM learned_name WHERE source_id = ?1 OR source_id LIKE ?2 ESCAPE '\\'",
                [source, translations.as_str()],
            )?;
            tx.execute(
                "DELETE FROM document WHERE hash NOT IN (SELECT document_hash FROM snapshot)
                 AND hash NOT IN (SELECT document_hash FROM snapshot_include)",
                [],
            )?;
            tx.execute_batch(super::index::DROP_UNUSED_SETS)?;
            tx.execute(
                "DELETE FROM service_name WHERE id NOT IN (SELECT name_id FROM service_set_member)",
                [],
            )?;
            Ok(())
        })?;
        // Ids of deleted names may be cached.
        self.names.forget();
        Ok(())
    }
}
