//! Learned names: the English name of each localized service name and row
//! label, with the pair of versions that first showed it.

use std::collections::HashMap;

use rusqlite::{OptionalExtension, params};
use scopewatch_core::canon::l10n::{Kind, LearnedName, Provenance};

use super::Store;
use crate::Result;

impl Store {
    /// Replaces every learned name with `names`, all or none: names are
    /// learned again from the whole store each time.
    pub(crate) fn replace_learned_names(&mut self, names: &[LearnedName]) -> Result<()> {
        let tx = self.conn.savepoint()?;
        tx.execute("DELETE FROM learned_name", [])?;
        {
            let mut insert = tx.prepare(
                "INSERT INTO learned_name (locale, kind, localized, english, pairs, source_id,
                     seen_on, english_ref, localized_ref)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT (locale, kind, localized) DO NOTHING",
            )?;
            for n in names {
                insert.execute(params![
                    n.locale,
                    n.kind.as_str(),
                    n.localized,
                    n.english,
                    n.pairs,
                    n.first.source,
                    n.first.date,
                    n.first.english_ref,
                    n.first.localized_ref,
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The names learned from this store's pages, of one locale or all,
    /// by locale, kind and name.
    pub fn learned_names(&self, locale: Option<&str>) -> Result<Vec<LearnedName>> {
        let mut stmt = self.conn.prepare(
            "SELECT locale, kind, localized, english, pairs, source_id, seen_on, english_ref,
                 localized_ref
             FROM learned_name WHERE ?1 IS NULL OR locale = lower(?1)
             ORDER BY locale, kind, localized",
        )?;
        let rows = stmt.query_map([locale], |r| {
            let kind: String = r.get(1)?;
            Ok(LearnedName {
                locale: r.get(0)?,
                kind: match kind.as_str() {
                    "environment" => Kind::Environment,
                    "item" => Kind::Item,
                    _ => Kind::Service,
                },
                localized: r.get(2)?,
                english: r.get(3)?,
                pairs: r.get(4)?,
                first: Provenance {
                    source: r.get(5)?,
                    date: r.get(6)?,
                    english_ref: r.get(7)?,
                    localized_ref: r.get(8)?,
                },
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Whether `source` has a version captured on `day` (YYYY-MM-DD, UTC)
    /// whose document hash starts with `hash`: what a learned name's
    /// evidence points at.
    pub(crate) fn has_version(&self, source: &str, day: &str, hash: &str) -> Result<bool> {
        Ok(self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM snapshot WHERE source_id = ?1
                 AND substr(captured_at, 1, 10) = ?2
                 AND ?3 <> '' AND substr(document_hash, 1, length(?3)) = ?3)",
            params![source, day, hash],
            |r| r.get(0),
        )?)
    }

    /// The locale each of these snapshots' pages is written in, in lower
    /// case, where it says one.
    pub(crate) fn locales_of(&self, ids: &[i64]) -> Result<HashMap<i64, String>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT lower(locale) FROM snapshot WHERE id = ?1")?;
        let mut found = HashMap::new();
        for &id in ids {
            if let Some(Some(locale)) = stmt
                .query_row([id], |r| r.get::<_, Option<String>>(0))
                .optional()?
            {
                found.insert(id, locale);
            }
        }
        Ok(found)
    }
}
