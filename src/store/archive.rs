//! Export and restore: the whole store as JSON Lines, one record a line,
//! raw documents in base64. A restore into an empty database followed by an
//! export gives back the same file, so an archive is a faithful copy.
//!
//! Learned names travel with their evidence (format 3): they are what the
//! store's pages taught, and an archive of format 2, made before, carries
//! none, so its restore learns them again from the restored pages.
//!
//! The last line is a manifest: the number of records before it and the
//! SHA-256 of their lines. Restore refuses an archive whose records do not
//! match it, so a date, a service, a title changed, or a line removed or
//! added after export, is refused like a changed document is.

use std::io::{BufRead, Write};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use rusqlite::{Transaction, params};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::Store;
use super::documents::{content_hash, insert_document, stored_includes, unpack};
use super::index::{NameIds, service_set};
use super::outbox::refuse_alert_credentials;
use super::snapshots::{extraction, stored_extraction};
use crate::config::refuse_credentials;
use crate::model::{Link, Scope};
use crate::{Error, Result};
use scopewatch_core::canon::l10n::Kind;

/// The archive format's version: 2 added the manifest, 3 learned names.
const FORMAT: u32 = 3;

/// The oldest format restore reads: the first with a manifest.
const OLDEST: u32 = 2;

/// One line of an archive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
enum Record {
    Meta {
        format: u32,
        schema_version: i64,
    },
    Source {
        id: String,
        url: Option<String>,
        title: Option<String>,
        locale: Option<String>,
        created_at: String,
        /// `muted` or `removed`, and since when; absent for a tracked source.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        held: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        held_at: Option<String>,
    },
    Document {
        hash: String,
        size: i64,
        form: String,
        body: String,
    },
    Snapshot {
        id: i64,
        source: String,
        document_hash: String,
        captured_at: String,
        page_date: Option<String>,
        title: Option<String>,
        locale: Option<String>,
        form: String,
        parser_version: i64,
        scope_found: bool,
        warnings: String,
        origin: String,
        scopes: Vec<Scope>,
        links: Vec<Link>,
        includes: Vec<(String, String)>,
        /// The source commit, document id and matrix profile (JSON) of
        /// the version; absent from archives of older versions.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        source_commit: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        document_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        profile: Option<String>,
    },
    Retirement {
        source: String,
        retired_at: String,
        origin: String,
    },
    FetchAttempt {
        source: String,
        url: String,
        started_at: String,
        elapsed_ms: i64,
        status: Option<i64>,
        bytes: i64,
        error: Option<String>,
    },
    FetchState {
        source: String,
        etag: Option<String>,
        last_modified: Option<String>,
        checked_at: String,
    },
    /// A localized name's English name and the versions that showed it.
    LearnedName {
        locale: String,
        kind: Kind,
        localized: String,
        english: String,
        pairs: u32,
        source: String,
        seen_on: String,
        english_ref: String,
        localized_ref: String,
    },
    Alert {
        channel: String,
        source: String,
        event_key: String,
        subject: String,
        body: String,
        payload: String,
        created_at: String,
        sent_at: Option<String>,
        attempts: i64,
        last_error: Option<String>,
    },
    /// The last line: what every line before it must hash to.
    Manifest {
        records: u64,
        sha256: String,
    },
}

/// Why an archive does not match its manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ManifestMismatch {
    #[error("it has no manifest: it is cut short, or older than archive format {OLDEST}")]
    Missing,
    #[error("it has records after its manifest")]
    AfterManifest,
    #[error("its records were changed, added or removed after export")]
    Records,
}

/// Writes through, hashing every byte and counting lines, for the manifest.
struct Hashed<'a, W: Write> {
    out: &'a mut W,
    hasher: Sha256,
    lines: u64,
}

impl<W: Write> Write for Hashed<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.out.write(buf)?;
        self.hasher.update(&buf[..n]);
        // Serialized JSON escapes newlines: each one ends a record.
        self.lines += buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// Reads one record from a row of a simple table.
type RowToRecord = fn(&rusqlite::Row<'_>) -> rusqlite::Result<Record>;

/// How many records of each kind an export or restore handled.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub(crate) struct Counts {
    pub sources: usize,
    pub documents: usize,
    pub snapshots: usize,
    /// Learned names; `None` for an archive older than format 3, which
    /// cannot carry them.
    pub names: Option<usize>,
    pub other: usize,
}

fn line(out: &mut impl Write, record: &Record) -> Result<()> {
    let text = serde_json::to_string(record).map_err(|e| Error::Corrupt(e.to_string()))?;
    writeln!(out, "{text}").map_err(|e| Error::Corrupt(format!("writing the archive: {e}")))
}

impl Store {
    /// Writes the whole store to `out`, in a stable order.
    pub(crate) fn export(&self, out: &mut impl Write) -> Result<Counts> {
        let mut hashed = Hashed {
            out,
            hasher: Sha256::new(),
            lines: 0,
        };
        let counts = self.export_records(&mut hashed)?;
        let Hashed {
            out, hasher, lines, ..
        } = hashed;
        line(
            out,
            &Record::Manifest {
                records: lines,
                sha256: hex::encode(hasher.finalize()),
            },
        )?;
        Ok(counts)
    }

    fn export_records(&self, out: &mut impl Write) -> Result<Counts> {
        let mut counts = Counts::default();
        let schema_version: i64 = self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?;
        line(
            out,
            &Record::Meta {
                format: FORMAT,
                schema_version,
            },
        )?;
        let mut stmt = self.conn.prepare(
            "SELECT id, url, title, locale, created_at, held, held_at FROM source ORDER BY id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(Record::Source {
                id: r.get(0)?,
                url: r.get(1)?,
                title: r.get(2)?,
                locale: r.get(3)?,
                created_at: r.get(4)?,
                held: r.get(5)?,
                held_at: r.get(6)?,
            })
        })?;
        for r in rows {
            line(out, &r?)?;
            counts.sources += 1;
        }
        let mut stmt = self
            .conn
            .prepare("SELECT hash, size, form, compression, body FROM document ORDER BY hash")?;
        let rows: Vec<(String, i64, String, String, Vec<u8>)> = stmt
            .query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })?
            .collect::<Result<_, _>>()?;
        let rows = rows
            .into_iter()
            .map(|(hash, size, form, compression, stored)| {
                Ok::<_, Error>(Record::Document {
                    hash,
                    size,
                    form,
                    body: B64.encode(unpack(&compression, stored)?),
                })
            });
        for r in rows {
            line(out, &r?)?;
            counts.documents += 1;
        }
        let mut stmt = self.conn.prepare(
            "SELECT id, source_id, document_hash, captured_at, page_date, title, locale, form, parser_version,
                    scope_found, warnings, origin, source_commit, document_id, profile
             FROM snapshot ORDER BY id",
        )?;
        let heads: Vec<Record> = stmt
            .query_map([], |r| {
                Ok(Record::Snapshot {
                    id: r.get(0)?,
                    source: r.get(1)?,
                    document_hash: r.get(2)?,
                    captured_at: r.get(3)?,
                    page_date: r.get(4)?,
                    title: r.get(5)?,
                    locale: r.get(6)?,
                    form: r.get(7)?,
                    parser_version: r.get(8)?,
                    scope_found: r.get(9)?,
                    warnings: r.get(10)?,
                    origin: r.get(11)?,
                    scopes: Vec::new(),
                    links: Vec::new(),
                    includes: Vec::new(),
                    source_commit: r.get(12)?,
                    document_id: r.get(13)?,
                    profile: r.get(14)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        for mut head in heads {
            if let Record::Snapshot {
                id,
                scopes,
                links,
                includes,
                ..
            } = &mut head
            {
                (*scopes, *links) = stored_extraction(&self.conn, *id)?;
                *includes = stored_includes(&self.conn, *id)?;
            }
            line(out, &head)?;
            counts.snapshots += 1;
        }
        let names = self.learned_names(None)?;
        for n in &names {
            line(
                out,
                &Record::LearnedName {
                    locale: n.locale.clone(),
                    kind: n.kind,
                    localized: n.localized.clone(),
                    english: n.english.clone(),
                    pairs: n.pairs,
                    source: n.first.source.clone(),
                    seen_on: n.first.date.clone(),
                    english_ref: n.first.english_ref.clone(),
                    localized_ref: n.first.localized_ref.clone(),
                },
            )?;
        }
        counts.names = Some(names.len());
        let rest: [(&str, RowToRecord); 4] = [
            ("SELECT source_id, retired_at, origin FROM retirement ORDER BY source_id, retired_at", |r| {
                Ok(Record::Retirement { source: r.get(0)?, retired_at: r.get(1)?, origin: r.get(2)? })
            }),
            ("SELECT source_id, url, started_at, elapsed_ms, status, bytes, error FROM fetch_attempt ORDER BY id", |r| {
                Ok(Record::FetchAttempt {
                    source: r.get(0)?,
                    url: r.get(1)?,
                    started_at: r.get(2)?,
                    elapsed_ms: r.get(3)?,
                    status: r.get(4)?,
                    bytes: r.get(5)?,
                    error: r.get(6)?,
                })
            }),
            ("SELECT source_id, etag, last_modified, checked_at FROM fetch_state ORDER BY source_id", |r| {
                Ok(Record::FetchState { source: r.get(0)?, etag: r.get(1)?, last_modified: r.get(2)?, checked_at: r.get(3)? })
            }),
            (
                "SELECT channel, source_id, event_key, subject, body, payload, created_at, sent_at, attempts, last_error
                 FROM alert ORDER BY id",
                |r| {
                    Ok(Record::Alert {
                        channel: r.get(0)?,
                        source: r.get(1)?,
                        event_key: r.get(2)?,
                        subject: r.get(3)?,
                        body: r.get(4)?,
                        payload: r.get(5)?,
                        created_at: r.get(6)?,
                        sent_at: r.get(7)?,
                        attempts: r.get(8)?,
                        last_error: r.get(9)?,
                    })
                },
            ),
        ];
        for (sql, map) in rest {
            let mut stmt = self.conn.prepare(sql)?;
            for r in stmt.query_map([], map)? {
                line(out, &r?)?;
                counts.other += 1;
            }
        }
        Ok(counts)
    }

    /// Restores an archive into this store, which must be empty. All of it
    /// is written, or nothing: a bad line, a document whose content does not
    /// match its hash, a URL with credentials, or records that do not match
    /// the manifest stop the restore.
    pub(crate) fn restore(&mut self, input: impl BufRead) -> Result<Counts> {
        let empty: bool = self.conn.query_row(
            "SELECT NOT EXISTS (SELECT 1 FROM source) AND NOT EXISTS (SELECT 1 FROM document)",
            [],
            |r| r.get(0),
        )?;
        if !empty {
            return Err(Error::NotEmpty {
                path: self.path.clone(),
            });
        }
        let tx = self.conn.transaction()?;
        // Dies with the transaction, should that roll back.
        let mut names = NameIds::default();
        let mut counts = Counts::default();
        let mut hasher = Sha256::new();
        let mut lines = 0_u64;
        let mut manifest_ok = false;
        for (n, text) in input.lines().enumerate() {
            let text = text.map_err(|e| Error::Corrupt(format!("reading the archive: {e}")))?;
            if text.trim().is_empty() {
                continue;
            }
            if manifest_ok {
                return Err(Error::ArchiveManifest(ManifestMismatch::AfterManifest));
            }
            let record: Record = serde_json::from_str(&text)
                .map_err(|e| Error::Corrupt(format!("archive line {}: {e}", n + 1)))?;
            if let Record::Manifest { records, sha256 } = &record {
                if *records != lines || *sha256 != hex::encode(hasher.finalize_reset()) {
                    return Err(Error::ArchiveManifest(ManifestMismatch::Records));
                }
                manifest_ok = true;
                continue;
            }
            hasher.update(text.as_bytes());
            hasher.update(b"\n");
            lines += 1;
            restore_record(&tx, &mut names, record, &mut counts).map_err(|e| match e {
                Error::Url(_) => e,
                e => Error::Corrupt(format!("archive line {}: {e}", n + 1)),
            })?;
        }
        if !manifest_ok {
            return Err(Error::ArchiveManifest(ManifestMismatch::Missing));
        }
        tx.commit()?;
        Ok(counts)
    }
}

fn restore_record(
    tx: &Transaction<'_>,
    names: &mut NameIds,
    record: Record,
    counts: &mut Counts,
) -> Result<()> {
    match record {
        Record::Meta { format, .. } if !(OLDEST..=FORMAT).contains(&format) => {
            return Err(Error::Corrupt(format!(
                "archive format {format} is not supported"
            )));
        }
        Record::Meta { format, .. } => {
            counts.names = (format >= 3).then_some(0);
        }
        Record::Source {
            id,
            url,
            title,
            locale,
            created_at,
            held,
            held_at,
        } => {
            if let Some(url) = &url {
                refuse_credentials(url)?;
            }
            tx.execute(
                "INSERT INTO source (id, url, title, locale, created_at, held, held_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![id, url, title, locale, created_at, held, held_at],
            )?;
            counts.sources += 1;
        }
        Record::Document {
            hash,
            size,
            form,
            body,
        } => {
            let bytes = B64
                .decode(body)
                .map_err(|e| Error::Corrupt(format!("document {hash}: {e}")))?;
            if content_hash(&bytes) != hash {
                return Err(Error::Corrupt(format!(
                    "document {hash} does not match its hash"
                )));
            }
            if size != bytes.len() as i64 {
                return Err(Error::Corrupt(format!(
                    "document {hash}: size {size} does not match"
                )));
            }
            insert_document(tx, &hash, &form, &bytes, None)?;
            counts.documents += 1;
        }
        Record::Snapshot {
            id,
            source,
            document_hash,
            captured_at,
            page_date,
            title,
            locale,
            form,
            parser_version,
            scope_found,
            warnings,
            origin,
            scopes,
            links,
            includes,
            source_commit,
            document_id,
            profile,
        } => {
            refuse_credentials(&origin)?;
            tx.execute(
                "INSERT INTO snapshot (id, source_id, document_hash, captured_at, page_date, title, locale, form,
                                       parser_version, scope_found, warnings, origin, extraction, service_set_id,
                                       source_commit, document_id, profile)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
                params![id, source, document_hash, captured_at, page_date, title, locale, form, parser_version, scope_found, warnings, origin,
                        extraction(&scopes, &links)?, service_set(tx, names, &scopes)?, source_commit, document_id, profile],
            )?;
            for (target, hash) in includes {
                tx.execute(
                    "INSERT INTO snapshot_include (snapshot_id, target, document_hash) VALUES (?1, ?2, ?3)",
                    params![id, target, hash],
                )?;
            }
            counts.snapshots += 1;
        }
        Record::Retirement {
            source,
            retired_at,
            origin,
        } => {
            refuse_credentials(&origin)?;
            tx.execute(
                "INSERT INTO retirement (source_id, retired_at, origin) VALUES (?1, ?2, ?3)",
                params![source, retired_at, origin],
            )?;
            counts.other += 1;
        }
        Record::FetchAttempt {
            source,
            url,
            started_at,
            elapsed_ms,
            status,
            bytes,
            error,
        } => {
            refuse_credentials(&url)?;
            tx.execute(
                "INSERT INTO fetch_attempt (source_id, url, started_at, elapsed_ms, status, bytes, error)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![source, url, started_at, elapsed_ms, status, bytes, error],
            )?;
            counts.other += 1;
        }
        Record::FetchState {
            source,
            etag,
            last_modified,
            checked_at,
        } => {
            tx.execute(
                "INSERT INTO fetch_state (source_id, etag, last_modified, checked_at) VALUES (?1, ?2, ?3, ?4)",
                params![source, etag, last_modified, checked_at],
            )?;
            counts.other += 1;
        }
        Record::LearnedName {
            locale,
            kind,
            localized,
            english,
            pairs,
            source,
            seen_on,
            english_ref,
            localized_ref,
        } => {
            tx.execute(
                "INSERT INTO learned_name (locale, kind, localized, english, pairs, source_id,
                     seen_on, english_ref, localized_ref)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    locale,
                    kind.as_str(),
                    localized,
                    english,
                    pairs,
                    source,
                    seen_on,
                    english_ref,
                    localized_ref
                ],
            )?;
            *counts.names.get_or_insert(0) += 1;
        }
        Record::Alert {
            channel,
            source,
            event_key,
            subject,
            body,
            payload,
            created_at,
            sent_at,
            attempts,
            last_error,
        } => {
            refuse_alert_credentials(&payload)?;
            tx.execute(
                "INSERT INTO alert (channel, source_id, event_key, subject, body, payload, created_at, sent_at, attempts, last_error)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![channel, source, event_key, subject, body, payload, created_at, sent_at, attempts, last_error],
            )?;
            counts.other += 1;
        }
        // Checked, and never stored, by the caller.
        Record::Manifest { .. } => {}
    }
    Ok(())
}
