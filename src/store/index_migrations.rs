//! The migration hooks that rebuild the service index: version 8 grouped
//! the entries into shared sets, version 13 gave each entry its scope's
//! environment. A hook runs inside its migration's transaction, so a
//! failure leaves the database at the version before.

use rusqlite::{OptionalExtension, Transaction, params};
use rusqlite_migration::{HookError, HookResult};
use sha2::{Digest, Sha256};

use super::index::{DROP_UNUSED_SETS, NameIds, service_set};
use super::snapshots::decode_extraction;

/// Migration 8's hook: gives each snapshot the set of its entries in the
/// version 7 index (`snapshot_service`), then drops that table.
///
/// It writes the version 8 tables as they were (members without an
/// environment), which version 13 then rebuilds.
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
            assign_v8_set(tx, done, &members)?;
            members.clear();
        }
        snapshot = Some(id);
        members.push((row.get(1)?, row.get(2)?));
    }
    if let Some(last) = snapshot {
        assign_v8_set(tx, last, &members)?;
    }
    drop(rows);
    drop(entries);
    tx.execute_batch("DROP TABLE snapshot_service;")?;
    Ok(())
}

/// Points a snapshot at the version 8 set of these sorted (role, name id)
/// members, stored if new. Its digest is SHA-256 of `role:name_id` joined
/// by commas.
fn assign_v8_set(tx: &Transaction, snapshot: i64, members: &[(i64, i64)]) -> HookResult {
    let mut hasher = Sha256::new();
    for (i, (role, name)) in members.iter().enumerate() {
        if i > 0 {
            hasher.update(b",");
        }
        hasher.update(format!("{role}:{name}").as_bytes());
    }
    let digest: [u8; 32] = hasher.finalize().into();
    let known: Option<i64> = tx
        .prepare_cached("SELECT id FROM service_set WHERE digest = ?1")?
        .query_row([&digest[..]], |r| r.get(0))
        .optional()?;
    let set = match known {
        Some(set) => set,
        None => {
            tx.prepare_cached("INSERT INTO service_set (digest) VALUES (?1)")?
                .execute([&digest[..]])?;
            let set = tx.last_insert_rowid();
            let mut member = tx.prepare_cached(
                "INSERT INTO service_set_member (set_id, role, name_id) VALUES (?1, ?2, ?3)",
            )?;
            for (role, name) in members {
                member.execute(params![set, role, name])?;
            }
            set
        }
    };
    tx.execute(
        "UPDATE snapshot SET service_set_id = ?2 WHERE id = ?1",
        params![snapshot, set],
    )?;
    Ok(())
}

/// Migration 13's hook: gives every snapshot the environment-aware set of
/// its entries, computed from its stored extraction as a new version's
/// is, then drops the version 12 members (`service_set_member_v12`) and
/// the sets no snapshot uses any more. A snapshot whose extraction cannot
/// be read fails the migration: the index would otherwise be wrong.
pub(super) fn index_environments(tx: &Transaction) -> HookResult {
    let ids: Vec<i64> = tx
        .prepare("SELECT id FROM snapshot ORDER BY id")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut names = NameIds::default();
    for id in ids {
        let packed: Option<Vec<u8>> = tx
            .prepare_cached("SELECT extraction FROM snapshot WHERE id = ?1")?
            .query_row([id], |r| r.get(0))?;
        let set = decode_extraction(id, packed)
            .and_then(|(scopes, _)| service_set(tx, &mut names, &scopes))
            .map_err(|e| HookError::Hook(format!("snapshot {id}: {e}")))?;
        tx.prepare_cached("UPDATE snapshot SET service_set_id = ?2 WHERE id = ?1")?
            .execute(params![id, set])?;
    }
    tx.execute_batch("DROP TABLE service_set_member_v12;")?;
    tx.execute_batch(DROP_UNUSED_SETS)?;
    Ok(())
}
