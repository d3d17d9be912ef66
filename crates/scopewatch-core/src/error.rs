//! Errors of the core: a page that cannot be read as text, or an alias table
//! that contradicts itself. Each names what the user handed in.

/// Result with the core's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong between page bytes and a diff.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The page has no content at all.
    #[error("{0} is empty")]
    Empty(String),
    /// The bytes are not text (an image, an archive, a PDF).
    #[error("{0} looks like binary data, not a web page")]
    Binary(String),
    /// The bytes do not decode in the encoding the page declares.
    #[error("{name} is not valid {encoding} text")]
    Encoding {
        /// The page, as named by the caller.
        name: String,
        /// The encoding that failed.
        encoding: String,
    },
    /// The page was refused before parsing (too large, too deeply nested).
    #[error("{name} was not read: {why}")]
    Hostile {
        /// The page, as named by the caller.
        name: String,
        /// What limit it broke.
        why: String,
    },
    /// An alias table that cannot be used.
    #[error("invalid alias table: {0}")]
    Aliases(#[from] AliasError),
    /// An extraction profile that cannot be used.
    #[error("profile {name:?} cannot be used: {why}")]
    Profile {
        /// The profile's name.
        name: String,
        /// What is wrong with it.
        why: String,
    },
    /// A source id that would not be safe as a file or URL segment.
    #[error("invalid source id {0:?}: use letters, digits, '-', '_' or '.'")]
    SourceId(String),
}

/// What is wrong with an alias table.
#[derive(Debug, thiserror::Error)]
pub enum AliasError {
    /// The file is not valid TOML of the expected shape.
    #[error(transparent)]
    Toml(#[from] toml::de::Error),
    /// The table of localized names is not tab-separated rows of the
    /// expected columns.
    #[error("table of localized names: {0}")]
    Table(#[from] csv::Error),
    /// One name stands under two services, so it would mean both.
    #[error("{name:?} is listed under both {first:?} and {second:?}")]
    TwoServices {
        /// The name listed twice.
        name: String,
        /// The service it was listed under first.
        first: String,
        /// The service it was listed under again.
        second: String,
    },
    /// One environment label stands under two environments.
    #[error("environment label {label:?} is listed under both {first:?} and {second:?}")]
    TwoEnvironments {
        /// The label listed twice.
        label: String,
        /// The environment it was listed under first.
        first: String,
        /// The environment it was listed under again.
        second: String,
    },
}
