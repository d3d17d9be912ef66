//! The service index: which snapshots list which services, for
//! timelines, the matrix and `diff --source all`.
//!
//! Each service name as written is stored once, with its spelling-blind
//! key (`service_name`). Each distinct set of (role, name, environment)
//! entries that a snapshot's scopes list is stored once (`service_set`, its
//! members in `service_set_member`), and a snapshot points at its set. Most
//! new versions of a page list what the previous one listed, and many
//! pages list the same services, so storing a version usually writes no
//! index entry at all.
//!
//! The environment is the raw label of the entry's scope, so that a
//! timeline learns where a version lists a service without loading the
//! version. A page-wide list has none and is stored as `''`; a scope
//! labelled with empty text (only a scope-matrix table with neither a
//! program heading nor a column header could be) reads back as page-wide.

use std::collections::{BTreeSet, HashMap};

use rusqlite::{Connection, OptionalExtension, ToSql, params};
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
    pub(crate) fn index_agrees(&self, id: i64, snapshot: &Snapshot) -> Result<bool> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT m.role, n.name, n.service_key, m.environment FROM snapshot s
             JOIN service_set_member m ON m.set_id = s.service_set_id
             JOIN service_name n ON n.id = m.name_id WHERE s.id = ?1",
        )?;
        let stored: BTreeSet<(i64, String, String, String)> = stmt
            .query_map([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let expected: BTreeSet<(i64, String, String, String)> = index_entries(&snapshot.scopes)
            .into_iter()
            .map(|(role, name, environment)| {
                let key = ServiceKey::of(name).as_str().to_string();
                (role, name.to_string(), key, environment.to_string())
            })
            .collect();
        Ok(stored == expected)
    }

    /// The number of distinct services each snapshot lists.
    pub(crate) fn scope_sizes(&self) -> Result<HashMap<i64, usize>> {
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
    pub(crate) fn services_of(&self, snapshots: &[i64]) -> Result<Vec<(i64, String)>> {
        self.names_by_snapshot(
            "SELECT DISTINCT s.id, n.name FROM snapshot s
             JOIN service_set_member m ON m.set_id = s.service_set_id AND m.role = {LISTED}
             JOIN service_name n ON n.id = m.name_id
             WHERE s.id IN ({placeholders})",
            snapshots,
        )
    }

    /// Every service name some stored snapshot lists, as written.
    pub(crate) fn listed_names(&self) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT DISTINCT n.name FROM service_name n
             JOIN service_set_member m ON m.name_id = n.id AND m.role = {LISTED}
             ORDER BY n.name"
        ))?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Where the snapshots that list any of the given service keys list
    /// them, ordered by snapshot, name and environment: the name used, the
    /// scope's environment label (`None` for a page-wide list), and whether
    /// the snapshot was read with a scope-matrix profile (whose environments
    /// are programs). Read from the index alone, for timelines.
    pub(crate) fn listing_places(&self, keys: &[String]) -> Result<Vec<Listed>> {
        let placeholders = vec!["?"; keys.len()].join(", ");
        let mut stmt = self.conn.prepare(&format!(
            "SELECT s.id, s.profile IS NOT NULL, n.name, m.environment FROM service_name n
             JOIN service_set_member m ON m.name_id = n.id AND m.role = {LISTED}
             JOIN snapshot s ON s.service_set_id = m.set_id
             WHERE n.service_key IN ({placeholders})
             ORDER BY s.id, n.name, m.environment"
        ))?;
        let rows = stmt.query_map(rusqlite::params_from_iter(keys), |r| {
            let environment: String = r.get(3)?;
            Ok(Listed {
                snapshot: r.get(0)?,
                matrix: r.get(1)?,
                name: r.get(2)?,
                environment: Some(environment).filter(|e| !e.is_empty()),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
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

/// Where a snapshot lists a service, as the service index says
/// ([`Store::listing_places`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Listed {
    pub snapshot: i64,
    /// Read with a scope-matrix profile: the environment is a program.
    pub matrix: bool,
    pub name: String,
    /// The scope's environment label; `None` for a page-wide list.
    pub environment: Option<String>,
}

/// The distinct (role, name as written, environment) entries a snapshot's
/// scopes list. The environment is the scope's raw label, `""` for a
/// page-wide list; a former name carries its scope's, like a listed one.
pub(super) fn index_entries(scopes: &[Scope]) -> BTreeSet<(i64, &str, &str)> {
    entries(scopes).collect()
}

/// Every (role, name as written, environment) entry of a snapshot's scopes,
/// repeats included.
fn entries(scopes: &[Scope]) -> impl Iterator<Item = (i64, &str, &str)> {
    scopes.iter().flat_map(|scope| {
        let environment = scope.environment.as_deref().unwrap_or("");
        scope.items.iter().flat_map(move |item| {
            let listed = item.services.iter().map(|v| (LISTED, v.name()));
            let formerly = item.formerly.iter().map(|v| (FORMERLY, v.name()));
            listed
                .chain(formerly)
                .map(move |(role, name)| (role, name, environment))
        })
    })
}

/// The service set that a snapshot's scopes list, stored if new; none when
/// they list no service.
pub(super) fn service_set(
    tx: &Connection,
    names: &mut NameIds,
    scopes: &[Scope],
) -> Result<Option<i64>> {
    // Sorted and made distinct by name id rather than by name: the same
    // members (an id stands for one name), without comparing strings.
    let mut members = entries(scopes)
        .map(|(role, name, environment)| Ok((role, names.id(tx, name)?, environment)))
        .collect::<Result<Vec<_>>>()?;
    if members.is_empty() {
        return Ok(None);
    }
    members.sort_unstable();
    members.dedup();
    intern_set(tx, &members).map(Some)
}

/// The id of the set with these members, sorted and distinct, stored if
/// new. A set is found by its digest (see [`set_digest`]).
fn intern_set(tx: &Connection, members: &[Member]) -> Result<i64> {
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
    // Many rows per statement: a new set has dozens of members, and a
    // statement per member took a fifth more instructions (callgrind, 200
    // new sets). The counts are powers of two, so that the statement cache
    // holds a handful of these statements, not one per count.
    let mut rest = members;
    while !rest.is_empty() {
        let count = MEMBERS_PER_INSERT.min(1 << rest.len().ilog2());
        let (rows, after) = rest.split_at(count);
        rest = after;
        let values = vec!["(?, ?, ?, ?)"; rows.len()].join(", ");
        let sql = format!(
            "INSERT INTO service_set_member (set_id, role, name_id, environment) VALUES {values}"
        );
        let params = rows.iter().flat_map(|(role, name, environment)| {
            [
                &set as &dyn ToSql,
                role as &dyn ToSql,
                name as &dyn ToSql,
                environment as &dyn ToSql,
            ]
        });
        tx.prepare_cached(&sql)?
            .execute(rusqlite::params_from_iter(params))?;
    }
    Ok(set)
}

/// Members written by one statement at most (a power of two): four
/// parameters each, well under SQLite's limit of 32,766.
const MEMBERS_PER_INSERT: usize = 64;

/// A set's member: role, name id, environment label (`""`: page-wide).
type Member<'a> = (i64, i64, &'a str);

/// SHA-256 of a set's sorted members, written
/// `role:name_id:length:environment` (the length in bytes, so that a label
/// holding `,` or `:` reads one way only) and joined by commas. A set is as
/// unlikely to share another's digest as a raw document is to share
/// another's hash; 32 bytes name it where its members would take a few
/// hundred.
fn set_digest(members: &[Member]) -> [u8; 32] {
    // The numbers are written with `itoa`: `write!` took a third of the
    // time of finding a page's set, on every page stored.
    let mut hasher = Sha256::new();
    let mut numbers = itoa::Buffer::new();
    for (i, (role, name, environment)) in members.iter().enumerate() {
        if i > 0 {
            hasher.update(b",");
        }
        hasher.update(numbers.format(*role));
        hasher.update(b":");
        hasher.update(numbers.format(*name));
        hasher.update(b":");
        hasher.update(numbers.format(environment.len()));
        hasher.update(b":");
        hasher.update(environment);
    }
    hasher.finalize().into()
}

/// Deletes the service sets no snapshot points at any more.
pub(super) const DROP_UNUSED_SETS: &str = "
    DELETE FROM service_set_member WHERE set_id NOT IN
        (SELECT service_set_id FROM snapshot WHERE service_set_id IS NOT NULL);
    DELETE FROM service_set WHERE id NOT IN
        (SELECT service_set_id FROM snapshot WHERE service_set_id IS NOT NULL);";

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::snapshot;
    use crate::parse::parse_str;
    use crate::store::snapshots::extraction;
    use crate::store::testing::{V1, day, first_version, listing};
    use crate::store::{Imported, NewSnapshot, schema};

    /// Stores written by earlier releases find their sets by these digests:
    /// the bytes hashed must stay `role:name_id:length:environment`, joined
    /// by commas.
    #[test]
    fn a_set_digest_hashes_its_members_as_written_since_version_13() {
        let members: [Member; 3] = [(0, 1, ""), (0, 2, "GCC High"), (1, 12, "a,b")];
        let expected: [u8; 32] = Sha256::digest(b"0:1:0:,0:2:8:GCC High,1:12:3:a,b").into();
        assert_eq!(set_digest(&members), expected);
    }

    #[test]
    fn version_7_numbers_the_service_index() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v6.db");
        let snap = snapshot(parse_str(V1));
        {
            let mut conn = Connection::open(&path).unwrap();
            schema::migrations().to_version(&mut conn, 6).unwrap();
            conn.execute_batch(
                "INSERT INTO source (id, created_at) VALUES ('offering-x', '2021-01-01T00:00:00Z');
                 INSERT INTO document (hash, size, form, body) VALUES ('h1', 1, 'markdown', x'61'), ('h2', 1, 'markdown', x'62');
                 INSERT INTO snapshot (id, source_id, document_hash, captured_at, form, parser_version, scope_found, origin)
                   VALUES (1, 'offering-x', 'h1', '2021-01-01T00:00:00Z', 'markdown', 1, 1, 'a.md'),
                          (2, 'offering-x', 'h2', '2022-01-01T00:00:00Z', 'markdown', 1, 1, 'b.md');",
            )
            .unwrap();
            let packed = extraction(&snap.scopes, &snap.links).unwrap();
            conn.execute("UPDATE snapshot SET extraction = ?1", [packed])
                .unwrap();
            let mut insert = conn
                .prepare("INSERT INTO snapshot_service (snapshot_id, role, service_key, name) VALUES (?1, ?2, ?3, ?4)")
                .unwrap();
            for id in [1, 2] {
                for (role, name) in pairs(&snap.scopes) {
                    let role = if role == LISTED {
                        "service"
                    } else {
                        "formerly"
                    };
                    // The older snapshot's keys were made by other rules.
                    let key = match id {
                        1 => format!("old-{name}"),
                        _ => ServiceKey::of(name).as_str().to_string(),
                    };
                    insert.execute(params![id, role, key, name]).unwrap();
                }
            }
        }

        let store = Store::open(&path).unwrap();
        assert!(store.index_agrees(2, &snap).unwrap());
        assert!(store.index_agrees(1, &snap).unwrap());
        let power = ServiceKey::of("Power Automate").as_str().to_string();
        assert_eq!(
            listing(&store, &[power]),
            vec![
                (1, "Power Automate".to_string()),
                (2, "Power Automate".to_string())
            ]
        );
        let formerly: i64 = store
            .conn
            .query_row(
                "SELECT count(*) FROM snapshot s
                 JOIN service_set_member m ON m.set_id = s.service_set_id
                 JOIN service_name n ON n.id = m.name_id
                 WHERE m.role = ?1 AND n.name = 'Microsoft Flow'",
                [FORMERLY],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(formerly, 2);
        assert_eq!(
            store.scope_sizes().unwrap().get(&1),
            store.scope_sizes().unwrap().get(&2)
        );
    }

    /// The distinct (role, name) pairs of a snapshot, as the indexes before
    /// version 13 held them.
    fn pairs(scopes: &[Scope]) -> BTreeSet<(i64, &str)> {
        index_entries(scopes)
            .into_iter()
            .map(|(role, name, _)| (role, name))
            .collect()
    }

    /// The number of sets in the service index.
    fn service_sets(store: &Store) -> i64 {
        store
            .conn
            .query_row("SELECT count(*) FROM service_set", [], |r| r.get(0))
            .unwrap()
    }

    fn service_set_of(store: &Store, id: i64) -> Option<i64> {
        store
            .conn
            .query_row(
                "SELECT service_set_id FROM snapshot WHERE id = ?1",
                [id],
                |r| r.get(0),
            )
            .unwrap()
    }

    #[test]
    fn version_8_stores_each_service_set_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v7.db");
        let snap = snapshot(parse_str(V1));
        let other = snapshot(parse_str(
            &V1.replace("| GCC | Forms |", "| GCC | Forms, Stream |"),
        ));
        {
            let mut conn = Connection::open(&path).unwrap();
            schema::migrations().to_version(&mut conn, 7).unwrap();
            conn.execute_batch(
                "INSERT INTO source (id, created_at) VALUES ('offering-x', '2021-01-01T00:00:00Z');
                 INSERT INTO document (hash, size, form, body) VALUES ('h1', 1, 'markdown', x'61'), ('h2', 1, 'markdown', x'62'), ('h3', 1, 'markdown', x'63');
                 INSERT INTO snapshot (id, source_id, document_hash, captured_at, form, parser_version, scope_found, origin)
                   VALUES (1, 'offering-x', 'h1', '2021-01-01T00:00:00Z', 'markdown', 1, 1, 'a.md'),
                          (2, 'offering-x', 'h2', '2022-01-01T00:00:00Z', 'markdown', 1, 1, 'b.md'),
                          (3, 'offering-x', 'h3', '2023-01-01T00:00:00Z', 'markdown', 1, 1, 'c.md');",
            )
            .unwrap();
            let mut names = NameIds::default();
            for (id, version) in [(1, &snap), (2, &snap), (3, &other)] {
                let packed = extraction(&version.scopes, &version.links).unwrap();
                conn.execute(
                    "UPDATE snapshot SET extraction = ?2 WHERE id = ?1",
                    params![id, packed],
                )
                .unwrap();
                for (role, name) in pairs(&version.scopes) {
                    conn.execute(
                        "INSERT INTO snapshot_service (snapshot_id, role, name_id) VALUES (?1, ?2, ?3)",
                        params![id, role, names.id(&conn, name).unwrap()],
                    )
                    .unwrap();
                }
            }
        }

        let mut store = Store::open(&path).unwrap();
        assert_eq!(service_sets(&store), 2);
        assert_eq!(service_set_of(&store, 1), service_set_of(&store, 2));
        assert_ne!(service_set_of(&store, 1), service_set_of(&store, 3));
        for (id, version) in [(1, &snap), (2, &snap), (3, &other)] {
            assert!(store.index_agrees(id, version).unwrap());
        }
        let stream = ServiceKey::of("Stream").as_str().to_string();
        assert_eq!(listing(&store, &[stream]), vec![(3, "Stream".to_string())]);

        // A new version with a migrated set's services finds that set: the
        // migration and the store name sets alike.
        let raw = format!("{V1}\n");
        let Imported::Stored(id) = store
            .import(&NewSnapshot {
                captured_at: day("2024-01-01"),
                raw: raw.as_bytes(),
                ..first_version(&snap)
            })
            .unwrap()
        else {
            panic!("not stored")
        };
        assert_eq!(service_sets(&store), 2);
        assert_eq!(service_set_of(&store, id), service_set_of(&store, 1));
    }

    /// A set of 100 entries is written in statements of 64, 32 and 4 rows:
    /// every entry is stored once, and a second page listing the same
    /// services finds the set rather than writing another.
    #[test]
    fn a_large_set_is_stored_whole_and_found_again() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("t.db")).unwrap();
        let list: String = (1..=100)
            .map(|i| format!("- Contoso Service {i}\n"))
            .collect();
        let page = format!("# T\n\n## In-scope services\n\n{list}");
        let snap = snapshot(parse_str(&page));
        let mut ids = Vec::new();
        for source in ["offering-x", "offering-y"] {
            let Imported::Stored(id) = store
                .import(&NewSnapshot {
                    source,
                    raw: page.as_bytes(),
                    ..first_version(&snap)
                })
                .unwrap()
            else {
                panic!("not stored")
            };
            ids.push(id);
        }
        let members: i64 = store
            .conn
            .query_row("SELECT count(*) FROM service_set_member", [], |r| r.get(0))
            .unwrap();
        assert_eq!(members, 100);
        assert_eq!(service_sets(&store), 1);
        for id in ids {
            assert!(store.index_agrees(id, &snap).unwrap());
            assert_eq!(store.scope_sizes().unwrap().get(&id), Some(&100));
        }
    }

    #[test]
    fn versions_share_service_sets_and_reparse_drops_unlisted_ones() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("t.db")).unwrap();
        let snap = snapshot(parse_str(V1));
        let second = V1.replace("| GCC | Forms |", "| GCC | Stream |");
        let other = snapshot(parse_str(&second));
        let reworded = format!("{V1}\nSome new prose.\n");
        let versions = [
            ("2021-01-01", V1, &snap),
            ("2021-02-01", reworded.as_str(), &snap),
            ("2021-03-01", second.as_str(), &other),
        ];
        let mut ids = Vec::new();
        for (date, raw, version) in versions {
            let Imported::Stored(id) = store
                .import(&NewSnapshot {
                    captured_at: day(date),
                    raw: raw.as_bytes(),
                    ..first_version(version)
                })
                .unwrap()
            else {
                panic!("not stored")
            };
            ids.push(id);
        }
        assert_eq!(service_sets(&store), 2);
        assert_eq!(
            service_set_of(&store, ids[0]),
            service_set_of(&store, ids[1])
        );
        let forms = ServiceKey::of("Forms").as_str().to_string();
        assert_eq!(
            listing(&store, &[forms]),
            vec![(ids[0], "Forms".to_string()), (ids[1], "Forms".to_string())]
        );
        assert_eq!(store.scope_sizes().unwrap().get(&ids[2]), Some(&4));

        // A parser that finds no scope anywhere leaves no set behind.
        store
            .reparse(
                true,
                |_| Ok(snapshot(parse_str("# T\n\nNothing in scope.\n"))),
                &|_| {},
            )
            .unwrap();
        assert_eq!(service_sets(&store), 0);
        assert!(ids.iter().all(|&id| service_set_of(&store, id).is_none()));
        let members: i64 = store
            .conn
            .query_row("SELECT count(*) FROM service_set_member", [], |r| r.get(0))
            .unwrap();
        assert_eq!(members, 0);
    }
}
