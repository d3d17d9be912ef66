-- The schema at version 13, as SQLite records it after the migrations of
-- schema.rs. Written by `SCOPEWATCH_WRITE_SCHEMA=1 cargo test --lib store::schema`;
-- never edited by hand.
CREATE TABLE source (
    id          TEXT PRIMARY KEY,
    url         TEXT,
    title       TEXT,
    locale      TEXT,
    created_at  TEXT NOT NULL
, held TEXT CHECK (held IN ('muted', 'removed')), held_at TEXT) STRICT;
CREATE TABLE document (
    hash  TEXT PRIMARY KEY,  -- SHA-256 of the raw bytes, hex
    size  INTEGER NOT NULL,
    form  TEXT NOT NULL,
    body  BLOB NOT NULL
, compression TEXT NOT NULL DEFAULT 'none') STRICT;
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
CREATE TABLE service_name (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,  -- as a page wrote it
    service_key  TEXT NOT NULL          -- spelling-blind key (canon)
) STRICT;
CREATE INDEX service_name_by_key ON service_name (service_key);
CREATE TABLE service_set (
    id      INTEGER PRIMARY KEY,
    digest  BLOB NOT NULL UNIQUE  -- SHA-256 of the members, as index::set_digest writes them
) STRICT;
CREATE TABLE "snapshot" (
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
, source_commit TEXT, document_id TEXT, profile TEXT) STRICT;
CREATE INDEX snapshot_by_source_time ON snapshot (source_id, captured_at);
CREATE INDEX snapshot_by_service_set ON snapshot (service_set_id);
CREATE INDEX source_by_id_nocase ON source (id COLLATE NOCASE);
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
CREATE TABLE service_set_member (
    set_id       INTEGER NOT NULL REFERENCES service_set(id),
    role         INTEGER NOT NULL CHECK (role IN (0, 1)),  -- 0: listed in scope, 1: a former name
    name_id      INTEGER NOT NULL REFERENCES service_name(id),
    environment  TEXT NOT NULL,  -- the scope's label as the page wrote it; '' for a page-wide list
    PRIMARY KEY (set_id, role, name_id, environment)
) STRICT, WITHOUT ROWID;
CREATE INDEX service_set_member_by_name ON service_set_member (name_id, role, set_id, environment);
