//! The normalized scope rows of schema versions 1 to 5 (tables `scope`,
//! `scope_item`, `item_service` and `link`), read once more by the version 6
//! migration, which folds them into each snapshot's extraction and drops
//! them.
//!
//! They held every item a second time beside the extraction, and writing
//! them was a quarter of the nightly job's time; only the service index was
//! ever queried.

use rusqlite::{Connection, Transaction, params};
use rusqlite_migration::{HookError, HookResult};

use super::snapshots::extraction;
use crate::Result;
use crate::model::{Link, Scope, ScopeItem, Service};

/// Migration hook: gives every snapshot written before version 5 its
/// extraction from its rows, then drops the rows. The service index was
/// already copied by the migration's SQL.
pub(super) fn fold_into_extraction(tx: &Transaction) -> HookResult {
    let ids: Vec<i64> = tx
        .prepare("SELECT id FROM snapshot WHERE extraction IS NULL ORDER BY id")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for id in ids {
        let packed = load_scopes(tx, id)
            .and_then(|scopes| Ok((scopes, load_links(tx, id)?)))
            .and_then(|(scopes, links)| extraction(&scopes, &links))
            .map_err(|e| HookError::Hook(format!("snapshot {id}: {e}")))?;
        tx.execute(
            "UPDATE snapshot SET extraction = ?2 WHERE id = ?1",
            params![id, packed],
        )?;
    }
    // Children first: dropping a table deletes its rows, and the foreign
    // keys are checked.
    tx.execute_batch(
        "DROP TABLE item_service; DROP TABLE scope_item; DROP TABLE scope; DROP TABLE link;",
    )?;
    Ok(())
}

fn load_scopes(conn: &Connection, snapshot_id: i64) -> Result<Vec<Scope>> {
    let mut stmt = conn.prepare_cached(
        "SELECT s.id, s.section, s.anchor, s.environment, i.id, i.text, i.note, v.role, v.name
             FROM scope s
             LEFT JOIN scope_item i ON i.scope_id = s.id
             LEFT JOIN item_service v ON v.item_id = i.id
             WHERE s.snapshot_id = ?1
             ORDER BY s.position, i.position, v.role, v.position",
    )?;
    let mut rows = stmt.query([snapshot_id])?;
    let mut scopes: Vec<Scope> = Vec::new();
    let (mut scope_id, mut item_id) = (None, None);
    while let Some(r) = rows.next()? {
        let sid: i64 = r.get(0)?;
        if scope_id != Some(sid) {
            scope_id = Some(sid);
            item_id = None;
            scopes.push(Scope {
                section: r.get(1)?,
                anchor: r.get(2)?,
                environment: r.get(3)?,
                items: Vec::new(),
            });
        }
        let Some(scope) = scopes.last_mut() else {
            continue;
        };
        let Some(iid) = r.get::<_, Option<i64>>(4)? else {
            continue;
        };
        if item_id != Some(iid) {
            item_id = Some(iid);
            scope.items.push(ScopeItem {
                text: r.get(5)?,
                services: Vec::new(),
                formerly: Vec::new(),
                note: r.get(6)?,
                included: Vec::new(),
                included_in: None,
            });
        }
        let Some(item) = scope.items.last_mut() else {
            continue;
        };
        match (
            r.get::<_, Option<String>>(7)?.as_deref(),
            r.get::<_, Option<String>>(8)?,
        ) {
            (Some("service"), Some(name)) => item.services.push(Service::new(name)),
            (Some("formerly"), Some(name)) => item.formerly.push(Service::new(name)),
            _ => {}
        }
    }
    Ok(scopes)
}

fn load_links(conn: &Connection, snapshot_id: i64) -> Result<Vec<Link>> {
    let mut stmt = conn.prepare_cached(
        "SELECT section, title, url FROM link WHERE snapshot_id = ?1 ORDER BY position",
    )?;
    let rows = stmt.query_map([snapshot_id], |r| {
        Ok(Link {
            section: r.get(0)?,
            title: r.get(1)?,
            url: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    use crate::model::{Link, Scope, ScopeItem, Service};
    use crate::store::testing::listing;
    use crate::store::{Store, schema};

    /// A version 5 database: one snapshot from before version 5 (rows only)
    /// and one from version 5 (rows and extraction).
    fn version_5(path: &std::path::Path, recent: &(Vec<Scope>, Vec<Link>)) {
        let mut conn = Connection::open(path).unwrap();
        schema::migrations().to_version(&mut conn, 5).unwrap();
        let packed = super::extraction(&recent.0, &recent.1).unwrap();
        conn.execute_batch(
            "INSERT INTO source (id, created_at) VALUES ('offering-x', '2021-01-01T00:00:00Z');
             INSERT INTO document (hash, size, form, body) VALUES ('h1', 1, 'markdown', x'61'), ('h2', 1, 'markdown', x'62');
             INSERT INTO snapshot (id, source_id, document_hash, captured_at, form, parser_version, scope_found, origin)
               VALUES (1, 'offering-x', 'h1', '2021-01-01T00:00:00Z', 'markdown', 1, 1, 'a.md'),
                      (2, 'offering-x', 'h2', '2022-01-01T00:00:00Z', 'markdown', 1, 1, 'b.md');
             INSERT INTO scope (id, snapshot_id, position, section, anchor, environment)
               VALUES (10, 1, 0, 'In scope', 'in-scope', NULL), (20, 2, 0, 'In scope', 'in-scope', NULL);
             INSERT INTO scope_item (id, scope_id, position, text, note)
               VALUES (100, 10, 0, 'Power Automate (formerly Microsoft Flow)', NULL),
                      (101, 10, 1, 'Azure DevOps', 'either standalone or bundled'),
                      (200, 20, 0, 'Azure DevOps', NULL);
             INSERT INTO item_service (item_id, role, position, name, service_key, snapshot_id)
               VALUES (100, 'service', 0, 'Power Automate', 'powerautomate', 1),
                      (100, 'formerly', 0, 'Microsoft Flow', 'flow', 1),
                      (101, 'service', 0, 'Azure DevOps', 'azuredevops', 1),
                      (200, 'service', 0, 'Azure DevOps', 'azuredevops', 2);
             INSERT INTO link (snapshot_id, position, section, title, url)
               VALUES (1, 0, 'Audit reports', 'SOC 2 report', 'https://example.com/soc2');",
        )
        .unwrap();
        conn.execute("UPDATE snapshot SET extraction = ?1 WHERE id = 2", [packed])
            .unwrap();
    }

    fn in_scope(items: Vec<ScopeItem>) -> Vec<Scope> {
        vec![Scope {
            section: "In scope".into(),
            anchor: Some("in-scope".into()),
            environment: None,
            items,
        }]
    }

    fn item(text: &str, services: &[&str], formerly: &[&str], note: Option<&str>) -> ScopeItem {
        ScopeItem {
            text: text.into(),
            services: services.iter().map(|s| Service::new(*s)).collect(),
            formerly: formerly.iter().map(|s| Service::new(*s)).collect(),
            note: note.map(Into::into),
            included: Vec::new(),
            included_in: None,
        }
    }

    #[test]
    fn version_6_keeps_every_scope_and_the_service_index() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        let recent = (
            in_scope(vec![item("Azure DevOps", &["Azure DevOps"], &[], None)]),
            Vec::new(),
        );
        version_5(&path, &recent);

        let store = Store::open(&path).unwrap();
        let oldest = store.load(1).unwrap().snapshot;
        assert_eq!(
            oldest.scopes,
            in_scope(vec![
                item(
                    "Power Automate (formerly Microsoft Flow)",
                    &["Power Automate"],
                    &["Microsoft Flow"],
                    None
                ),
                item(
                    "Azure DevOps",
                    &["Azure DevOps"],
                    &[],
                    Some("either standalone or bundled")
                ),
            ])
        );
        assert_eq!(
            oldest.links,
            vec![Link {
                section: "Audit reports".into(),
                title: "SOC 2 report".into(),
                url: Some("https://example.com/soc2".into()),
            }]
        );
        let newer = store.load(2).unwrap().snapshot;
        assert_eq!((newer.scopes.clone(), newer.links.clone()), recent);
        assert!(store.index_agrees(1, &oldest).unwrap());
        assert!(store.index_agrees(2, &newer).unwrap());
        assert_eq!(
            listing(&store, &["azuredevops".to_string()]),
            vec![
                (1, "Azure DevOps".to_string()),
                (2, "Azure DevOps".to_string())
            ]
        );

        let conn = Connection::open(&path).unwrap();
        let left: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_schema WHERE name IN ('scope', 'scope_item', 'item_service', 'link')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(left, 0);
    }
}
