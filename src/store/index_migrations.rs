//! The migration hooks that rebuild the service index: version 8 grouped
//! the entries into shared sets, version 13 gave each entry its scope's
//! environment. A hook runs inside its migration's transaction, so a
//! failure leaves the database at the version before.

use rusqlite::{OptionalExtension, Transaction, params};
use rusqlite_migration::{HookError, HookResult};
use sha2::{Digest, Sha256};

use super::index::{NameIds, service_set};
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
/// is. The migration's SQL left the index empty. A snapshot whose
/// extraction cannot be read fails the migration, which leaves the
/// database as it was: its index would otherwise be wrong.
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
    Ok(())
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    use crate::canon::AliasTable;
    use crate::extract::snapshot;
    use crate::parse::parse_str;
    use crate::store::testing::{V1, day, first_version};
    use crate::store::{Imported, NewSnapshot, Store};
    use scopewatch_core::profile::{Extraction, builtin, read_matrix};

    /// A scope-matrix page: one cloud, two programs.
    const MATRIX: &str = "# Azure compliance scope\n\n## Azure Government\n\n| Service | FedRAMP High | DoD IL4 |\n|--|--|--|\n| Forms | ✅ | ✅ |\n| Stream | ✅ | |\n";

    /// Takes a store written today back to schema 12: members without an
    /// environment, as version 12 stored them.
    fn back_to_version_12(path: &std::path::Path) {
        let conn = Connection::open(path).unwrap();
        conn.execute_batch(
            "CREATE TABLE member_v12 (
                 set_id   INTEGER NOT NULL REFERENCES service_set(id),
                 role     INTEGER NOT NULL CHECK (role IN (0, 1)),
                 name_id  INTEGER NOT NULL REFERENCES service_name(id),
                 PRIMARY KEY (set_id, role, name_id)
             ) STRICT, WITHOUT ROWID;
             INSERT INTO member_v12 SELECT DISTINCT set_id, role, name_id FROM service_set_member;
             DROP TABLE service_set_member;
             ALTER TABLE member_v12 RENAME TO service_set_member;
             CREATE INDEX service_set_member_by_name ON service_set_member (name_id, role, set_id);
             PRAGMA user_version = 12;",
        )
        .unwrap();
    }

    fn version(path: &std::path::Path) -> i64 {
        Connection::open(path)
            .unwrap()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn version_13_gives_the_index_its_environments() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v12.db");
        let plain = snapshot(parse_str(V1));
        let later = V1.replace("| GCC | Forms |", "| GCC | Forms |\n| DoD | Forms |");
        let wider = snapshot(parse_str(&later));
        let Some(Extraction::Matrix(profile)) = builtin("azure-compliance-scope") else {
            panic!("a matrix profile")
        };
        let matrix = read_matrix("azure.md", MATRIX.as_bytes(), &profile).unwrap();
        {
            let mut store = Store::open(&path).unwrap();
            let versions = [
                (first_version(&plain), "offering-x"),
                (
                    NewSnapshot {
                        captured_at: day("2022-01-01"),
                        raw: later.as_bytes(),
                        ..first_version(&wider)
                    },
                    "offering-x",
                ),
                (
                    NewSnapshot {
                        origin: "azure.md",
                        raw: MATRIX.as_bytes(),
                        ..first_version(&matrix)
                    },
                    "azure-x",
                ),
            ];
            for (new, source) in versions {
                let new = NewSnapshot { source, ..new };
                assert!(matches!(store.import(&new).unwrap(), Imported::Stored(_)));
            }
        }
        back_to_version_12(&path);

        let store = Store::open(&path).unwrap();
        assert_eq!(version(&path), 13);
        assert!(
            crate::ingest::verify(&store, &|_| {})
                .unwrap()
                .problems
                .is_empty()
        );
        let aliases = AliasTable::builtin();
        let spans = |service: &str| -> Vec<(String, Vec<String>)> {
            let timeline = crate::history::timeline(&store, &aliases, service).unwrap();
            let mut found = Vec::new();
            for (place, spans) in timeline.offerings {
                found.extend(spans.into_iter().map(|s| (place.clone(), s.environments)));
            }
            found
        };
        let place = |place: &str, environments: &[&str]| {
            let environments = environments.iter().map(|e| e.to_string()).collect();
            (place.to_string(), environments)
        };
        assert_eq!(
            spans("Forms"),
            vec![
                place("azure-x / Azure Government / DoD IL4", &[]),
                place("azure-x / Azure Government / FedRAMP High", &[]),
                place("offering-x", &["GCC"]),
                place("offering-x", &["DoD", "GCC"]),
            ]
        );
        assert_eq!(
            spans("Stream"),
            vec![place("azure-x / Azure Government / FedRAMP High", &[])]
        );
        assert_eq!(spans("Azure"), vec![place("offering-x", &["all"])]);
    }

    #[test]
    fn version_13_fails_whole_on_an_unreadable_extraction() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v12.db");
        let plain = snapshot(parse_str(V1));
        {
            let mut store = Store::open(&path).unwrap();
            store.import(&first_version(&plain)).unwrap();
        }
        back_to_version_12(&path);
        let members = |path: &std::path::Path| -> i64 {
            Connection::open(path)
                .unwrap()
                .query_row("SELECT count(*) FROM service_set_member", [], |r| r.get(0))
                .unwrap()
        };
        let before = members(&path);
        Connection::open(&path)
            .unwrap()
            .execute("UPDATE snapshot SET extraction = x'00'", [])
            .unwrap();

        assert!(Store::open(&path).is_err());
        assert_eq!(version(&path), 12);
        assert_eq!(members(&path), before);
    }
}
