//! Library errors. Every variant names what the user handed us, so the
//! binary can print it on one line and exit non-zero.

use std::path::PathBuf;

/// Result with the library's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read {path}: {}", io_reason(source))]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A page that could not be read, or an alias table that cannot be used.
    #[error(transparent)]
    Core(#[from] scopewatch_core::Error),
    #[error(
        "alias table {path}: {reason}; fix the file, or leave out --aliases to use the built-in table"
    )]
    AliasFile { path: PathBuf, reason: String },
    #[error("the start date {from} is after the end date {to}: give the earlier date first")]
    DateOrder {
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
    },
    #[error(
        "invalid date {0:?}: give YYYY-MM-DD, today, yesterday, or a time back such as 7d, 3w or 2m (days, weeks, months)"
    )]
    Date(String),
    #[error(
        "invalid locale {0:?}: give a language and a region as Microsoft's addresses write them, such as de-de, ja-jp, pt-br, zh-cn or zh-tw"
    )]
    Locale(String),
    #[error(
        "{0:?} has no English source to compare with: store the English page under the same id without the locale (offering-soc-2 beside offering-soc-2-ja-jp), or name it with `english = \"ID\"` in the source's [[source]] and pass --config"
    )]
    NotTranslated(String),
    #[error("unknown source {0:?} (see `scopewatch sources`)")]
    UnknownSource(String),
    #[error(
        "source id {given:?} differs only in case from the stored source {existing:?}: use {existing:?} (one page, one history)"
    )]
    SourceCase { given: String, existing: String },
    #[error("database {path}: {source}")]
    Database {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("no scopewatch database at {path} (import pages first, or pass --db)")]
    NoDatabase { path: PathBuf },
    #[error(
        "{path} is not a scopewatch database: {what}; nothing was changed (pass --db with another path)"
    )]
    NotOurs { path: PathBuf, what: String },
    #[error(
        "{path} was written by a newer scopewatch (schema version {found}; this one knows up to {known}): upgrade scopewatch to use it"
    )]
    FutureSchema {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error(
        "{path} has schema version {found}, older than this scopewatch's {known}, and reading never changes a database: run `scopewatch --db {path} migrate` to upgrade it"
    )]
    OldSchema {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("database: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("database schema: {0}")]
    Migration(#[from] rusqlite_migration::Error),
    #[error("configuration {path}: {message}")]
    Config { path: PathBuf, message: String },
    #[error(
        "configuration {path}: fetch.{key} = {value} is out of range: give a value from {min} to {max}"
    )]
    ConfigRange {
        path: PathBuf,
        key: &'static str,
        value: u64,
        min: u64,
        max: u64,
    },
    #[error(
        "cannot read {path}: not a regular file (pipes, devices and sockets are never read); give a saved page"
    )]
    NotAFile { path: PathBuf },
    #[error(
        "cannot read {path}: larger than {limit} bytes, the cap on a page; is it a saved page?"
    )]
    FileTooLarge { path: PathBuf, limit: u64 },
    #[error(
        "another scopewatch process is writing {db} (lock held by {holder}); try again when it has finished"
    )]
    Locked { db: PathBuf, holder: String },
    #[error(transparent)]
    Fetch(#[from] crate::fetch::FetchError),
    #[error("cannot read the offerings hub {hub}: {source}")]
    Hub {
        hub: String,
        source: crate::fetch::FetchError,
    },
    #[error("schedule {schedule:?} is not a cron expression: {source}")]
    Schedule {
        schedule: String,
        source: cron::error::Error,
    },
    #[error("the schedule {0:?} never fires; give a cron expression with a future time")]
    ScheduleNeverFires(String),
    #[error("a fetch worker stopped: {0}")]
    Worker(#[source] tokio::task::JoinError),
    #[error("{0} links no offering pages: is it the hub? (see `sources discover --help`)")]
    NotAHub(String),
    #[error("git: {0}")]
    Git(#[from] crate::ingest::git::GitError),
    /// A URL with credentials, about to be stored or shown.
    #[error(transparent)]
    Url(#[from] crate::config::UrlError),
    #[error(
        "the archive does not match its manifest: {0}; nothing was restored (export it again from the database it came from)"
    )]
    ArchiveManifest(crate::store::ManifestMismatch),
    #[error(
        "{path} already holds a history: restore into a new database (pass --db with a path that does not exist yet)"
    )]
    NotEmpty { path: PathBuf },
    #[error(
        "{path} is named for {date}, a date in the future: rename it, or give the date it was saved with --date"
    )]
    FutureDate {
        path: PathBuf,
        date: chrono::NaiveDate,
    },
    #[error(
        "{path} says it is dated {date}, a date in the future, and its name gives no date: give the date it was saved with --date; nothing was stored"
    )]
    FuturePageDate {
        path: PathBuf,
        date: chrono::NaiveDate,
    },
    #[error("cannot make a scratch copy of the database: {}", io_reason(.0))]
    Scratch(std::io::Error),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
}

/// An I/O error as a reader needs it: what happened and, for the usual
/// cases, what to do; without the operating system's error number.
pub fn io_reason(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory: check the path".into(),
        std::io::ErrorKind::PermissionDenied => {
            "permission denied: check the file's owner and mode".into()
        }
        _ => {
            let text = error.to_string();
            match text.find(" (os error") {
                Some(at) => text[..at].to_string(),
                None => text,
            }
        }
    }
}
