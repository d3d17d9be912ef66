//! The service index: which snapshots list which services, for
//! timelines, the matrix and `diff --source all`.
//!
//! Each service name as written is stored once, with its spelling-blind
//! key (`service_name`). Each distinct set of (role, name) entries that a
//! snapshot's scopes list is stored once (`service_set`, its members in
//! `service_set_member`), and a snapshot points at its set. Most new
//! versions of a page list what the previous one listed, and many pages
//! list the same services, so storing a version usually writes no index
//! entry at all.

use std::collections::{BTreeSet, HashMap};

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use rusqlite_migration::{HookError, HookResult};
use sha2::{Digest, Sha256};

use super::Store;
use crate::canon::ServiceKey;
use crate::model::{Scope, Snapshot};
use crate::{Error, Result};

/// Roles of an entry (`service_set_member.role`): a service a scope
/// lists, or a former name it gives one.
pub(super) const LISTED: i64 = 0;
pub(super) const FORMERLY: i64 = 1;

impl Store {
    /// Whether a snapshot's entries in the service index are exactly those
    /// its scope calls for.
    pub fn index_agrees(&self, id: i64, snapshot: &Snapshot) -> Result<bool> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT m.role, n.name, n.service_key FROM snapshot s
             JOIN service_set_member m ON m.set_id = s.service_set_id
             JOIN service_name n ON n.id = m.name_id WHERE s.id = ?1",
        )?;
        let stored: BTreeSet<(i64, String, String)> = stmt
            .query_map([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let expected: BTreeSet<(i64, String, String)> = index_entries(&snapshot.scopes)
            .into_iter()
            .map(|(role, name)| {
                let key = ServiceKey::of(name).as_str().to_string();
                (role, name.to_string(), key)
            })
            .collect();
        Ok(stored == expected)
    }

    /// The number of distinct services each snapshot lists.
    pub fn scope_sizes(&self) -> Result<HashMap<i64, usize>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT s.id, c.services FROM snapshot s JOIN (
                 SELECT m.set_id, COUNT(DISTINCT n.service_key) AS services FROM service_set_member m
                 JOIN service_name n ON n.id = m.name_id
                 WHERE m.role = ?1 GROUP BY m.set_id
             ) c ON c.set_id = s.service_set_id",
        )?;
        let rows = stmt.query_map([LISTED], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))?;
        rows.map(|r| {
            r.map(|(id, n)| (id, n.max(0) as usize))
                .map_err(Error::from)
        })
        .collect()
    }

    /// The services each of the given snapshots lists, as (snapshot, name).
    pub fn services_of(&self, snapshots: &[i64]) -> Result<Vec<(i64, String)>> {
        self.names_by_snapshot(
            "SELECT s.id, n.name FROM snapshot s
             JOIN service_set_member m ON m.set_id = s.service_set_id AND m.role = {LISTED}
             JOIN service_name n ON n.id = m.name_id
             WHERE s.id IN ({placeholders})",
            snapshots,
        )
    }

    /// The snapshots that list any of the given service keys, with the names
    /// they use for them.
    pub fn listing(&self, keys: &[String]) -> Result<Vec<(i64, String)>> {
        self.names_by_snapshot(
            "SELECT s.id, n.name FROM service_name n
             JOIN service_set_member m ON m.name_id = n.id AND m.role = {LISTED}
             JOIN snapshot s ON s.service_set_id = m.set_id
             WHERE n.service_key IN ({placeholders})
             ORDER BY s.id, n.name",
            keys,
        )
    }

    /// Runs a query for (snapshot, name) rows whose `{LISTED}` is the role
    /// and whose `{placeholders}` stands for one parameter per value.
    fn names_by_snapshot<T: rusqlite::ToSql>(
        &self,
        sql: &str,
        values: &[T],
    ) -> Result<Vec<(i64, String)>> {
        let placeholders = vec!["?"; values.len()].join(", ");
        let sql = sql
            .replace("{LISTED}", &LISTED.to_string())
            .replace("{placeholders}", &placeholders);
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(values), |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// The distinct (role, name as written) pairs a snapshot's scopes list.
pub(super) fn index_entries(scopes: &[Scope]) -> BTreeSet<(i64, &str)> {
    let items = scopes.iter().flat_map(|scope| &scope.items);
    items
        .flat_map(|item| {
            let listed = item.services.iter().map(|v| (LISTED, v.name()));
            listed.chain(item.formerly.iter().map(|v| (FORMERLY, v.name())))
        })
        .collect()
}

/// The service set that a snapshot's scopes list, stored if new; none when
/// they list no service.
pub(super) fn service_set(
    tx: &Connection,
    names: &mut NameIds,
    scopes: &[Scope],
) -> Result<Option<i64>> {
    let mut members = index_entries(scopes)
        .into_iter()
        .map(|(role, name)| Ok((role, names.id(tx, name)?)))
        .collect::<Result<Vec<_>>>()?;
    if members.is_empty() {
        return Ok(None);
    }
    members.sort_unstable();
    intern_set(tx, &members).map(Some)
}

/// The id of the set with these members, sorted and distinct, stored if
/// new. A set is found by its digest (see [`set_digest`]).
fn intern_set(tx: &Connection, members: &[(i64, i64)]) -> Result<i64> {
    let digest = set_digest(members);
    let known: Option<i64> = tx
        .prepare_cached("SELECT id FROM service_set WHERE digest = ?1")?
        .query_row([&digest[..]], |r| r.get(0))
        .optional()?;
    if let Some(set) = known {
        return Ok(set);
    }
    tx.prepare_cached("INSERT INTO service_set (digest) VALUES (?1)")?
        .execute([&digest[..]])?;
    let set = tx.last_insert_rowid();
    let mut member = tx.prepare_cached(
        "INSERT INTO service_set_member (set_id, role, name_id) VALUES (?1, ?2, ?3)",
    )?;
    for (role, name) in members {
        member.execute(params![set, role, name])?;
    }
    Ok(set)
}

/// SHA-256 of a set's sorted (role, name id) pairs, written `role:name_id`
/// and joined by commas. A set is as unlikely to share another's digest as
/// a raw document is to share another's hash; 32 bytes name it where its
/// members would take a few hundred.
fn set_digest(members: &[(i64, i64)]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    for (i, (role, name)) in members.iter().enumerate() {
        if i > 0 {
            hasher.update(b",");
        }
        hasher.update(format!("{role}:{name}").as_bytes());
    }
    hasher.finalize().into()
}

/// Migration 8's hook: gives each snapshot the set of its entries in the
/// version 7 index (`snapshot_service`), then drops that table.
pub(super) fn share_service_sets(tx: &Transaction) -> HookResult {
    let mut entries = tx.prepare(
        "SELECT snapshot_id, role, name_id FROM snapshot_service ORDER BY snapshot_id, role, name_id",
    )?;
    let mut rows = entries.query([])?;
    let mut snapshot = None;
    let mut members = Vec::new();
    while let Some(row) = rows.next()? {
        let id: i64 = row.get(0)?;
        if let Some(done) = snapshot.filter(|&s| s != id) {
            assign_set(tx, done, &members)?;
            members.clear();
        }
        snapshot = Some(id);
        members.push((row.get(1)?, row.get(2)?));
    }
    if let Some(last) = snapshot {
        assign_set(tx, last, &members)?;
    }
    drop(rows);
    drop(entries);
    tx.execute_batch("DROP TABLE snapshot_service;")?;
    Ok(())
}

fn assign_set(tx: &Transaction, snapshot: i64, members: &[(i64, i64)]) -> HookResult {
    let set = intern_set(tx, members)
        .map_err(|e| HookError::Hook(format!("snapshot {snapshot}: {e}")))?;
    tx.execute(
        "UPDATE snapshot SET service_set_id = ?2 WHERE id = ?1",
        params![snapshot, set],
    )?;
    Ok(())
}

/// The dictionary of service names (`service_name`), as far as this
/// process has met it: a nightly run writes thousands of index entries,
/// nearly all of them names stored long ago.
///
/// An id is cached once its row is written, inside the caller's
/// transaction; whoever rolls that back must [`NameIds::forget`], or a
/// later entry would point at a row that no longer exists.
#[derive(Debug, Default)]
pub(super) struct NameIds(HashMap<String, i64>);

impl NameIds {
    /// The id of a name as written, stored with its key if new.
    pub(super) fn id(&mut self, tx: &Connection, name: &str) -> Result<i64> {
        if let Some(&id) = self.0.get(name) {
            return Ok(id);
        }
        let key = ServiceKey::of(name);
        let stored: Option<(i64, String)> = tx
            .prepare_cached("SELECT id, service_key FROM service_name WHERE name = ?1")?
            .query_row([name], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let id = match stored {
            Some((id, stored_key)) => {
                // Written by a release that keyed names differently: the
                // key follows today's rules, as a reparse would.
                if stored_key != key.as_str() {
                    tx.prepare_cached("UPDATE service_name SET service_key = ?2 WHERE id = ?1")?
                        .execute(params![id, key.as_str()])?;
                }
                id
            }
            None => {
                tx.prepare_cached("INSERT INTO service_name (name, service_key) VALUES (?1, ?2)")?
                    .execute(params![name, key.as_str()])?;
                tx.last_insert_rowid()
            }
        };
        self.0.insert(name.to_string(), id);
        Ok(id)
    }

    pub(super) fn forget(&mut self) {
        self.0.clear();
    }
}
