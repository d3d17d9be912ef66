//! `names`: the English name of each localized service name and row label,
//! built in and learned from this database's pages, with the evidence.

use std::path::Path;
use std::process::ExitCode;

use clap::Args;
use scopewatch_core::canon::l10n::{LearnedName, LocalizedNames};

use super::{DataFormat, emit, json};
use crate::store::Store;

#[derive(Debug, Args)]
pub(super) struct NamesArgs {
    /// Only this locale (de-de, ja-jp, ...)
    #[arg(long)]
    locale: Option<String>,
    #[arg(long, value_enum, default_value_t = DataFormat::Text)]
    format: DataFormat,
}

/// The names learned from the database at `db`, if there is one to read;
/// none otherwise (the command that needs the database says why it
/// cannot use it).
pub(super) fn learned_in(db: &Path) -> Vec<LearnedName> {
    if !db.exists() {
        return Vec::new();
    }
    match Store::open_read(db).and_then(|s| s.learned_names(None)) {
        Ok(names) => names,
        Err(e) => {
            tracing::debug!("no learned names read from {}: {e}", db.display());
            Vec::new()
        }
    }
}

#[derive(serde::Serialize)]
struct Row<'a> {
    origin: &'static str,
    #[serde(flatten)]
    name: &'a LearnedName,
}

pub(super) fn names(db: &Path, args: NamesArgs) -> anyhow::Result<ExitCode> {
    let locale = args.locale.as_deref().map(str::to_lowercase);
    let learned = match Store::open_read(db) {
        Ok(store) => store.learned_names(locale.as_deref())?,
        Err(crate::Error::NoDatabase { .. }) => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    let builtin = LocalizedNames::builtin();
    let rows: Vec<Row<'_>> = builtin
        .names()
        .iter()
        .filter(|n| locale.as_ref().is_none_or(|l| *l == n.locale))
        .map(|name| Row {
            origin: "built-in",
            name,
        })
        .chain(learned.iter().map(|name| Row {
            origin: "learned",
            name,
        }))
        .collect();
    if rows.is_empty() {
        eprintln!(
            "warning: no localized names{}",
            locale.map(|l| format!(" for {l}")).unwrap_or_default()
        );
    }
    emit(&match args.format {
        DataFormat::Json => json(&rows)?,
        DataFormat::Text => rows
            .iter()
            .map(|r| {
                let n = r.name;
                format!(
                    "{} {:<11} {} → {}  ({}, {} pair(s); first {} {}, English {}, localized {})\n",
                    n.locale,
                    n.kind.as_str(),
                    n.localized,
                    n.english,
                    r.origin,
                    n.pairs,
                    n.first.source,
                    n.first.date,
                    n.first.english_ref,
                    n.first.localized_ref,
                )
            })
            .collect(),
    })?;
    Ok(ExitCode::SUCCESS)
}
