//! The database schema, as forward-only migrations. A migration once
//! released is never edited: a change is a new entry at the end.

use rusqlite::Connection;
use rusqlite_migration::{M, Migrations};

/// Version 1: sources, content-addressed raw documents, snapshots and their
/// normalized scope items and links.
///
/// Service names are stored as the page wrote them with their spelling-blind
/// key; renames are resolved at query time, so a newer alias table applies
/// to old history without rewriting it.
const V1: &str = "
CREATE TABLE source (
    id          TEXT PRIMARY KEY,
    url         TEXT,
    title       TEXT,
    locale      TEXT,
    created_at  TEXT NOT NULL
) STRICT;

CREATE TABLE document (
    hash  TEXT PRIMARY KEY,  -- SHA-256 of the raw bytes, hex
    size  INTEGER NOT NULL,
    form  TEXT NOT NULL,
    body  BLOB NOT NULL
) STRICT;

CREATE TABLE snapshot (
    id              INTEGER PRIMARY KEY,
    source_id       TEXT NOT NULL REFERENCES source(id),
    document_hash   TEXT NOT NULL REFERENCES document(hash),
    captured_at     TEXT NOT NULL,  -- RFC 3339, UTC
    page_date       TEXT,           -- YYYY-MM-DD, as the page says
    title           TEXT,
    locale          TEXT,
    form            TEXT NOT NULL,
    parser_version  INTEGER NOT NULL,
    scope_found     INTEGER NOT NULL,
    warnings        TEXT NOT NULL DEFAULT '[]',  -- JSON array
    origin          TEXT NOT NULL,  -- file path, URL or git commit it came from
    UNIQUE (source_id, captured_at, document_hash)
) STRICT;
CREATE INDEX snapshot_by_source_time ON snapshot (source_id, captured_at);

CREATE TABLE scope (
    id           INTEGER PRIMARY KEY,
    snapshot_id  INTEGER NOT NULL REFERENCES snapshot(id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    section      TEXT NOT NULL,
    anchor       TEXT,
    environment  TEXT
) STRICT;
CREATE INDEX scope_by_snapshot ON scope (snapshot_id, position);

CREATE TABLE scope_item (
    id        INTEGER PRIMARY KEY,
    scope_id  INTEGER NOT NULL REFERENCES scope(id) ON DELETE CASCADE,
    position  INTEGER NOT NULL,
    text      TEXT NOT NULL,
    note      TEXT
) STRICT;
CREATE INDEX scope_item_by_scope ON scope_item (scope_id, position);

CREATE TABLE item_service (
    item_id      INTEGER NOT NULL REFERENCES scope_item(id) ON DELETE CASCADE,
    role         TEXT NOT NULL CHECK (role IN ('service', 'formerly')),
    position     INTEGER NOT NULL,
    name         TEXT NOT NULL,
    service_key  TEXT NOT NULL,
    PRIMARY KEY (item_id, role, position)
) STRICT;
CREATE INDEX item_service_by_key ON item_service (service_key);

CREATE TABLE link (
    snapshot_id  INTEGER NOT NULL REFERENCES snapshot(id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    section      TEXT NOT NULL,
    title        TEXT NOT NULL,
    url          TEXT,
    PRIMARY KEY (snapshot_id, position)
) STRICT;
";

/// Version 2: the documents a snapshot included (`[!INCLUDE]`), so that
/// reparsing reproduces it without the repository; and page retirements
/// (a page file deleted from the docs).
const V2: &str = "
CREATE TABLE snapshot_include (
    snapshot_id    INTEGER NOT NULL REFERENCES snapshot(id) ON DELETE CASCADE,
    target         TEXT NOT NULL,  -- as written on the page
    document_hash  TEXT NOT NULL REFERENCES document(hash),
    PRIMARY KEY (snapshot_id, target)
) STRICT;

CREATE TABLE retirement (
    source_id   TEXT NOT NULL REFERENCES source(id),
    retired_at  TEXT NOT NULL,  -- RFC 3339, UTC
    origin      TEXT NOT NULL,
    PRIMARY KEY (source_id, retired_at)
) STRICT;
";

/// Version 3: the nightly job. Every fetch attempt; what each server last
/// said about a page's version (for conditional GET); and the alert ledger,
/// one row per event and channel, so nothing is sent twice and failed
/// deliveries are retried.
const V3: &str = "
CREATE TABLE fetch_attempt (
    id          INTEGER PRIMARY KEY,
    source_id   TEXT NOT NULL,
    url         TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    elapsed_ms  INTEGER NOT NULL,
    status      INTEGER,
    bytes       INTEGER NOT NULL,
    error       TEXT
) STRICT;
CREATE INDEX fetch_attempt_by_source ON fetch_attempt (source_id, started_at);

CREATE TABLE fetch_state (
    source_id      TEXT PRIMARY KEY,
    etag           TEXT,
    last_modified  TEXT,
    checked_at     TEXT NOT NULL
) STRICT;

CREATE TABLE alert (
    id          INTEGER PRIMARY KEY,
    channel     TEXT NOT NULL,
    source_id   TEXT NOT NULL,
    event_key   TEXT NOT NULL,
    subject     TEXT NOT NULL,
    body        TEXT NOT NULL,  -- Markdown, for chat and e-mail
    payload     TEXT NOT NULL,  -- JSON, for webhooks and commands
    created_at  TEXT NOT NULL,
    sent_at     TEXT,
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT,
    UNIQUE (channel, event_key)
) STRICT;
";

/// Version 4: raw documents compressed (zstd). Rows written before keep
/// `none`; the hash is always that of the uncompressed bytes.
const V4: &str = "
ALTER TABLE document ADD COLUMN compression TEXT NOT NULL DEFAULT 'none';
";

/// Version 5: each snapshot's scope and links once more as one (compressed)
/// JSON value,
/// so that a question touching a thousand snapshots reads a thousand rows
/// rather than joining a hundred thousand. The normalized rows stay the
/// record; `verify` checks that both agree with the raw document.
///
/// Service rows also carry their snapshot, with a covering index, so that a
/// service's timeline reads one index instead of joining three tables.
const V5: &str = "
ALTER TABLE snapshot ADD COLUMN extraction BLOB;  -- zstd-compressed JSON [scopes, links]
ALTER TABLE item_service ADD COLUMN snapshot_id INTEGER;
UPDATE item_service SET snapshot_id = (
    SELECT sc.snapshot_id FROM scope_item i JOIN scope sc ON sc.id = i.scope_id WHERE i.id = item_service.item_id
);
CREATE INDEX item_service_by_key_snapshot ON item_service (service_key, role, snapshot_id, name);
DROP INDEX item_service_by_key;
";

/// Version 6: the extraction becomes the record of a snapshot's scope and
/// links, and the normalized rows go (their hook,
/// [`super::legacy::fold_into_extraction`], first gives the oldest
/// snapshots an extraction). What stays is the service index: each
/// snapshot's distinct service names with their keys, kept in snapshot
/// order (appends, cheap for the nightly job) and by key (a service's
/// timeline).
const V6: &str = "
CREATE TABLE snapshot_service (
    snapshot_id  INTEGER NOT NULL REFERENCES snapshot(id),
    role         TEXT NOT NULL CHECK (role IN ('service', 'formerly')),
    service_key  TEXT NOT NULL,
    name         TEXT NOT NULL,
    PRIMARY KEY (snapshot_id, role, service_key, name)
) STRICT, WITHOUT ROWID;
INSERT OR IGNORE INTO snapshot_service (snapshot_id, role, service_key, name)
    SELECT snapshot_id, role, service_key, name FROM item_service;
CREATE INDEX snapshot_service_by_key ON snapshot_service (service_key, role, snapshot_id, name);
";

/// Version 7: the service index by number. Each distinct service name as
/// written is stored once, with its key, in `service_name`; an index entry
/// is three small integers instead of two strings. The index was two
/// fifths of a large store and the costliest write of the nightly job.
///
/// A name's key is a function of the name, so the dictionary is keyed by
/// name alone; a key made by older rules is brought up to date when the
/// name is next written (see `NameIds`).
const V7: &str = "
ALTER TABLE snapshot_service RENAME TO snapshot_service_v6;
CREATE TABLE service_name (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,  -- as a page wrote it
    service_key  TEXT NOT NULL          -- spelling-blind key (canon)
) STRICT;
CREATE INDEX service_name_by_key ON service_name (service_key);
-- A name keyed differently over the years takes its newest key (SQLite
-- gives the bare column of the row where max() is found).
INSERT INTO service_name (name, service_key)
    SELECT name, service_key FROM (
        SELECT name, service_key, max(snapshot_id) FROM snapshot_service_v6 GROUP BY name
    ) ORDER BY name;
CREATE TABLE snapshot_service (
    snapshot_id  INTEGER NOT NULL REFERENCES snapshot(id),
    role         INTEGER NOT NULL CHECK (role IN (0, 1)),  -- 0: listed in scope, 1: a former name
    name_id      INTEGER NOT NULL REFERENCES service_name(id),
    PRIMARY KEY (snapshot_id, role, name_id)
) STRICT, WITHOUT ROWID;
INSERT OR IGNORE INTO snapshot_service (snapshot_id, role, name_id)
    SELECT s.snapshot_id, s.role = 'formerly', n.id
    FROM snapshot_service_v6 s JOIN service_name n ON n.name = s.name
    ORDER BY 1, 2, 3;
CREATE INDEX snapshot_service_by_name ON snapshot_service (name_id, role, snapshot_id);
DROP TABLE snapshot_service_v6;
";

/// Version 8: the service index by set. Most new versions of a page list
/// the services the previous one listed, and many pages list the same
/// ones; each distinct set of entries is now stored once (`service_set`,
/// its members in `service_set_member`) and a snapshot points at its set
/// (none if it lists no service). Writing a version whose set is known
/// writes no index entry at all, where it wrote one per service. The hook,
/// [`super::index_migrations::share_service_sets`], groups the version 7 entries into
/// sets.
const V8: &str = "
CREATE TABLE service_set (
    id      INTEGER PRIMARY KEY,
    digest  BLOB NOT NULL UNIQUE  -- SHA-256 of the members, as index::set_digest writes them
) STRICT;
CREATE TABLE service_set_member (
    set_id   INTEGER NOT NULL REFERENCES service_set(id),
    role     INTEGER NOT NULL CHECK (role IN (0, 1)),  -- 0: listed in scope, 1: a former name
    name_id  INTEGER NOT NULL REFERENCES service_name(id),
    PRIMARY KEY (set_id, role, name_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX service_set_member_by_name ON service_set_member (name_id, role, set_id);
ALTER TABLE snapshot ADD COLUMN service_set_id INTEGER REFERENCES service_set(id);
CREATE INDEX snapshot_by_service_set ON snapshot (service_set_id);
";

/// Version 9: a source may hold the same document twice at one instant (a
/// revert within the second, or `import --date` of A, B, then A again), so
/// `UNIQUE (source_id, captured_at, document_hash)` goes: versions are
/// ordered by time, then by id. SQLite drops a constraint only by rebuilding
/// the table (run with foreign keys off, then checked).
///
/// Also an index on source ids ignoring case, for refusing an id that
/// differs from a stored one only in case.
const V9: &str = "
CREATE TABLE snapshot_v9 (
    id              INTEGER PRIMARY KEY,
    source_id       TEXT NOT NULL REFERENCES source(id),
    document_hash   TEXT NOT NULL REFERENCES document(hash),
    captured_at     TEXT NOT NULL,  -- RFC 3339, UTC
    page_date       TEXT,           -- YYYY-MM-DD, as the page says
    title           TEXT,
    locale          TEXT,
    form            TEXT NOT NULL,
    parser_version  INTEGER NOT NULL,
    scope_found     INTEGER NOT NULL,
    warnings        TEXT NOT NULL DEFAULT '[]',  -- JSON array
    origin          TEXT NOT NULL,  -- file path, URL or git commit it came from
    extraction      BLOB,           -- zstd-compressed JSON [scopes, links]
    service_set_id  INTEGER REFERENCES service_set(id)
) STRICT;
INSERT INTO snapshot_v9 SELECT id, source_id, document_hash, captured_at, page_date, title, locale, form,
    parser_version, scope_found, warnings, origin, extraction, service_set_id FROM snapshot;
DROP TABLE snapshot;
ALTER TABLE snapshot_v9 RENAME TO snapshot;
CREATE INDEX snapshot_by_source_time ON snapshot (source_id, captured_at);
CREATE INDEX snapshot_by_service_set ON snapshot (service_set_id);
CREATE INDEX source_by_id_nocase ON source (id COLLATE NOCASE);
";

/// Version 10: the English name of each localized service name and row
/// label, learned by aligning the localized pages of the store with their
/// English pages, with the first pair of versions that showed it.
const V10: &str = "
CREATE TABLE learned_name (
    locale         TEXT NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN ('service', 'environment', 'item')),
    localized      TEXT NOT NULL,
    english        TEXT NOT NULL,
    pairs          INTEGER NOT NULL,
    source_id      TEXT NOT NULL,
    seen_on        TEXT NOT NULL,  -- YYYY-MM-DD of the localized version
    english_ref    TEXT NOT NULL,  -- the English version aligned with
    localized_ref  TEXT NOT NULL,  -- the localized version
    PRIMARY KEY (locale, kind, localized)
) STRICT;
";

/// Version 11: a source may be muted or removed (kept with its history,
/// neither fetched nor alerted), since a time.
const V11: &str = "
ALTER TABLE source ADD COLUMN held TEXT CHECK (held IN ('muted', 'removed'));
ALTER TABLE source ADD COLUMN held_at TEXT;
";

/// Version 12: the source commit and document id a learn.microsoft.com
/// page names for itself, and the scope-matrix profile a version was read
/// with (JSON), per version.
const V12: &str = "
ALTER TABLE snapshot ADD COLUMN source_commit TEXT;
ALTER TABLE snapshot ADD COLUMN document_id TEXT;
ALTER TABLE snapshot ADD COLUMN profile TEXT;
";

/// Version 13: the service index knows where a snapshot lists a service.
/// A set's member carries the environment label of its scope (`''` for a
/// page-wide list), so that a service's timeline reads its environments
/// (or a scope-matrix page's programs) from the index instead of loading
/// every version that lists it, which made a timeline at scale five times
/// slower. The index is derived from the extractions, so it is rebuilt
/// rather than converted: the SQL empties it, and the hook,
/// [`super::index_migrations::index_environments`], gives every snapshot
/// its set anew.
const V13: &str = "
DROP TABLE service_set_member;
UPDATE snapshot SET service_set_id = NULL;
DELETE FROM service_set;
CREATE TABLE service_set_member (
    set_id       INTEGER NOT NULL REFERENCES service_set(id),
    role         INTEGER NOT NULL CHECK (role IN (0, 1)),  -- 0: listed in scope, 1: a former name
    name_id      INTEGER NOT NULL REFERENCES service_name(id),
    environment  TEXT NOT NULL,  -- the scope's label as the page wrote it; '' for a page-wide list
    PRIMARY KEY (set_id, role, name_id, environment)
) STRICT, WITHOUT ROWID;
CREATE INDEX service_set_member_by_name ON service_set_member (name_id, role, set_id, environment);
";

/// The schema version [`migrations`] brings a database to.
pub(super) const LATEST: i64 = 13;

/// The schema at [`LATEST`] as SQLite records it after the migrations
/// (`sqlite_schema`, in creation order). A new database is given it in one
/// transaction: the thirteen migrations, which rebuild tables that are still
/// empty, were a quarter of the instructions of a ten-page first run. A test
/// checks that it is exactly what the migrations build.
const CURRENT: &str = include_str!("schema.sql");

/// Brings a database to [`LATEST`]: a new, empty one at once from
/// [`CURRENT`], any other through the migrations (and their hooks).
pub(super) fn bring_up(
    conn: &mut Connection,
    empty: bool,
) -> Result<(), rusqlite_migration::Error> {
    if !empty {
        return migrations().to_latest(conn);
    }
    let create = |conn: &mut Connection| -> rusqlite::Result<()> {
        let tx = conn.transaction()?;
        tx.execute_batch(CURRENT)?;
        tx.pragma_update(None, "user_version", LATEST)?;
        tx.commit()
    };
    create(conn).map_err(|err| rusqlite_migration::Error::RusqliteError {
        query: "the current schema (src/store/schema.sql)".to_string(),
        err,
    })
}

pub(super) fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(V1),
        M::up(V2),
        M::up(V3),
        M::up(V4),
        M::up(V5),
        M::up_with_hook(V6, super::legacy::fold_into_extraction),
        M::up(V7),
        M::up_with_hook(V8, super::index_migrations::share_service_sets),
        M::up(V9).foreign_key_check(),
        M::up(V10),
        M::up(V11),
        M::up(V12),
        M::up_with_hook(V13, super::index_migrations::index_environments),
    ])
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    /// A database's schema as `schema.sql` writes it: each statement SQLite
    /// keeps, in creation order.
    fn schema_sql(conn: &Connection) -> String {
        let mut stmt = conn
            .prepare("SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL ORDER BY rowid")
            .unwrap();
        let rows = stmt.query_map([], |r| r.get::<_, String>(0)).unwrap();
        let header = format!(
            "-- The schema at version {}, as SQLite records it after the migrations of\n\
             -- schema.rs. Written by `SCOPEWATCH_WRITE_SCHEMA=1 cargo test --lib store::schema`;\n\
             -- never edited by hand.\n",
            super::LATEST
        );
        std::iter::once(header)
            .chain(rows.map(|sql| format!("{};\n", sql.unwrap())))
            .collect()
    }

    #[test]
    fn a_new_database_gets_exactly_the_schema_the_migrations_build() {
        let mut migrated = Connection::open_in_memory().unwrap();
        super::bring_up(&mut migrated, false).unwrap();
        let expected = schema_sql(&migrated);
        if std::env::var_os("SCOPEWATCH_WRITE_SCHEMA").is_some() {
            std::fs::write(
                concat!(env!("CARGO_MANIFEST_DIR"), "/src/store/schema.sql"),
                &expected,
            )
            .unwrap();
        }
        assert_eq!(
            super::CURRENT,
            expected,
            "src/store/schema.sql is not what the migrations build: run this test with SCOPEWATCH_WRITE_SCHEMA=1 to rewrite it, then without to check it"
        );
        let mut fresh = Connection::open_in_memory().unwrap();
        super::bring_up(&mut fresh, true).unwrap();
        assert_eq!(schema_sql(&fresh), expected);
        let version = |c: &Connection| {
            c.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))
                .unwrap()
        };
        assert_eq!(version(&fresh), super::LATEST);
        assert_eq!(version(&migrated), super::LATEST);
    }

    #[test]
    fn migrations_are_valid() {
        super::migrations().validate().unwrap();
    }

    #[test]
    fn latest_is_the_last_migration() {
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        super::migrations().to_latest(&mut conn).unwrap();
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, super::LATEST);
    }
}
