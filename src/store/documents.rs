//! Raw documents, content-addressed: each page or included document is
//! stored once, zstd-compressed, under the SHA-256 of its raw bytes.

use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};

use super::Store;
use crate::model::MatrixProfile;
use crate::{Error, Result};

/// Documents a page included: the target as written, and its bytes.
pub type Included = Vec<(String, Vec<u8>)>;

/// A stored version as reparsing needs it: raw bytes and included documents.
#[derive(Debug, Clone)]
pub struct RawVersion {
    pub id: i64,
    pub source: String,
    pub origin: String,
    pub raw: Vec<u8>,
    pub includes: Included,
    /// The scope-matrix profile the version was read with, if any.
    pub profile: Option<MatrixProfile>,
}

/// SHA-256 of raw page bytes, as stored.
pub(crate) fn content_hash(raw: &[u8]) -> String {
    hex::encode(Sha256::digest(raw))
}

impl Store {
    /// Checks the database file and that every raw document matches its
    /// hash; returns the problems found.
    pub(crate) fn check_documents(&self) -> Result<Vec<String>> {
        let mut problems = Vec::new();
        let integrity: String = self
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        if integrity != "ok" {
            problems.push(format!("SQLite integrity check: {integrity}"));
        }
        let mut stmt = self
            .conn
            .prepare("SELECT hash, compression, body FROM document ORDER BY hash")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Vec<u8>>(2)?,
            ))
        })?;
        for row in rows {
            let (hash, compression, stored) = row?;
            let body = unpack(&compression, stored).unwrap_or_default();
            if content_hash(&body) != hash {
                problems.push(format!(
                    "document {hash}: its content does not match its hash"
                ));
            }
        }
        Ok(problems)
    }

    /// A stored version's raw document and includes, as stored.
    pub(crate) fn raw_version(&self, id: i64) -> Result<RawVersion> {
        raw_version(&self.conn, id)
    }

    /// The size in bytes of a stored raw document, uncompressed.
    pub(crate) fn document_size(&self, hash: &str) -> Result<Option<usize>> {
        let size: Option<i64> = self
            .conn
            .prepare_cached("SELECT size FROM document WHERE hash = ?1")?
            .query_row([hash], |r| r.get(0))
            .optional()?;
        Ok(size.and_then(|s| usize::try_from(s).ok()))
    }
}

/// zstd level for raw documents and extractions. Level 1 stores a page
/// barely larger than level 3 does, in less time, and the nightly job
/// compresses every new page; higher levels cost much more time for little
/// gain.
const ZSTD_LEVEL: i32 = 1;

/// Stores a raw document once, compressed (`compressed`: already, by
/// [`compress`]); its hash is of the raw bytes.
pub(super) fn insert_document(
    tx: &Connection,
    hash: &str,
    form: &str,
    raw: &[u8],
    compressed: Option<&[u8]>,
) -> Result<()> {
    let exists: bool = tx
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM document WHERE hash = ?1)")?
        .query_row([hash], |r| r.get(0))?;
    if !exists {
        let packed = match compressed {
            Some(packed) => std::borrow::Cow::Borrowed(packed),
            None => std::borrow::Cow::Owned(compress(raw)?),
        };
        tx.prepare_cached(
            "INSERT INTO document (hash, size, form, compression, body) VALUES (?1, ?2, ?3, 'zstd', ?4)",
        )?
        .execute(params![hash, raw.len() as i64, form, &packed[..]])?;
    }
    Ok(())
}

/// zstd-compresses bytes for storage.
pub(super) fn compress(raw: &[u8]) -> Result<Vec<u8>> {
    // A compressor holds over a megabyte of tables: make it once per thread.
    thread_local! {
        static COMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Compressor<'static>>> = const { std::cell::RefCell::new(None) };
    }
    COMPRESSOR
        .with(|cell| {
            let mut cell = cell.borrow_mut();
            if cell.is_none() {
                *cell = Some(zstd::bulk::Compressor::new(ZSTD_LEVEL)?);
            }
            match cell.as_mut() {
                Some(c) => c.compress(raw),
                None => Err(std::io::Error::other("no compressor")),
            }
        })
        .map_err(|e| Error::Corrupt(format!("compressing: {e}")))
}

/// zstd-decompresses stored bytes, with a decoder made once per thread.
fn decompress(packed: &[u8]) -> std::io::Result<Vec<u8>> {
    thread_local! {
        static DECOMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Decompressor<'static>>> = const { std::cell::RefCell::new(None) };
    }
    // Frames written by `compress` record their size; others are rare.
    let Some(size) = zstd::zstd_safe::get_frame_content_size(packed)
        .ok()
        .flatten()
    else {
        return zstd::decode_all(packed);
    };
    // Pages are capped at fetch time; a larger frame is damage, not a page.
    if size > 1 << 30 {
        return Err(std::io::Error::other(format!(
            "a stored frame claims {size} bytes"
        )));
    }
    DECOMPRESSOR.with(|cell| {
        let mut cell = cell.borrow_mut();
        if cell.is_none() {
            *cell = Some(zstd::bulk::Decompressor::new()?);
        }
        match cell.as_mut() {
            Some(d) => d.decompress(packed, usize::try_from(size).unwrap_or(usize::MAX)),
            None => Err(std::io::Error::other("no decompressor")),
        }
    })
}

/// A stored document body as its raw bytes.
pub(super) fn unpack(compression: &str, stored: Vec<u8>) -> Result<Vec<u8>> {
    match compression {
        "none" => Ok(stored),
        "zstd" => decompress(&stored)
            .map_err(|e| Error::Corrupt(format!("stored data does not decompress: {e}"))),
        other => Err(Error::Corrupt(format!(
            "unknown document compression {other:?}"
        ))),
    }
}

/// The includes a snapshot was read with, as (target, document hash).
pub(super) fn stored_includes(
    conn: &Connection,
    snapshot_id: i64,
) -> Result<Vec<(String, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT target, document_hash FROM snapshot_include WHERE snapshot_id = ?1 ORDER BY rowid",
    )?;
    let rows = stmt.query_map([snapshot_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(super) fn raw_version(conn: &Connection, id: i64) -> Result<RawVersion> {
    type Row = (String, String, String, Vec<u8>, Option<String>);
    let (source, origin, compression, stored, profile): Row = conn.query_row(
        "SELECT n.source_id, n.origin, d.compression, d.body, n.profile FROM snapshot n JOIN document d ON d.hash = n.document_hash
         WHERE n.id = ?1",
        [id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
    )?;
    let profile = profile
        .map(|p| serde_json::from_str(&p))
        .transpose()
        .map_err(|e| Error::Corrupt(format!("snapshot {id}: bad stored profile: {e}")))?;
    let raw = unpack(&compression, stored)?;
    let mut stmt = conn.prepare_cached(
        "SELECT i.target, d.compression, d.body FROM snapshot_include i JOIN document d ON d.hash = i.document_hash
         WHERE i.snapshot_id = ?1 ORDER BY i.rowid",
    )?;
    let rows: Vec<(String, String, Vec<u8>)> = stmt
        .query_map([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    let includes = rows
        .into_iter()
        .map(|(target, compression, stored)| Ok((target, unpack(&compression, stored)?)))
        .collect::<Result<_>>()?;
    Ok(RawVersion {
        id,
        source,
        origin,
        raw,
        includes,
        profile,
    })
}
