//! Library errors. Every variant names what the user handed us, so the
//! binary can print it on one line and exit non-zero.

use std::path::PathBuf;

/// Result with the library's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A page that could not be read, or an alias table that cannot be used.
    #[error(transparent)]
    Core(#[from] scopewatch_core::Error),
    #[error(
        "alias table {path}: {source}; fix the file, or leave out --aliases to use the built-in table"
    )]
    AliasFile {
        path: PathBuf,
        source: scopewatch_core::AliasError,
    },
    #[error("invalid date {0:?}: expected YYYY-MM-DD")]
    Date(String),
    #[error("unknown source {0:?} (see `scopewatch sources`)")]
    UnknownSource(String),
    #[error("database {path}: {source}")]
    Database {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("database: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("database schema: {0}")]
    Migration(#[from] rusqlite_migration::Error),
    #[error("configuration {0}")]
    Config(String),
    #[error(
        "another scopewatch process is writing {db} (lock held by process {holder}); try again when it has finished"
    )]
    Locked { db: PathBuf, holder: String },
    #[error("git: {0}")]
    Git(#[from] crate::ingest::git::GitError),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
}
