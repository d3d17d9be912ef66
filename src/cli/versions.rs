//! `versions` and `show`: a source's stored versions, and one of them as
//! `parse` would print it.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::ExitCode;

use anyhow::bail;
use clap::Args;
use serde::Serialize;

use super::{DataFormat, day, emit, json, open_existing};
use crate::history;
use crate::report;

#[derive(Debug, Args)]
pub(super) struct VersionsArgs {
    source: String,
    #[arg(long, value_enum, default_value_t = DataFormat::Text)]
    format: DataFormat,
}

#[derive(Debug, Args)]
pub(super) struct ShowArgs {
    source: String,
    /// The version in force at the end of this date [default: today]
    #[arg(long, value_name = "DATE")]
    at: Option<String>,
    #[arg(long, value_enum, default_value_t = DataFormat::Text)]
    format: DataFormat,
}

/// One stored version, as `versions` lists it.
#[derive(Debug, Serialize)]
struct Version {
    id: i64,
    captured_at: String,
    form: &'static str,
    /// Distinct services the version lists, all environments together.
    services: usize,
    parser_version: u32,
    /// False for a version kept although no scope was found in it.
    has_scope: bool,
    title: Option<String>,
}

pub(super) fn versions(db: &Path, args: VersionsArgs) -> anyhow::Result<ExitCode> {
    let store = open_existing(db)?;
    store.require_source(&args.source)?;
    let versions: Vec<Version> = store
        .history(&args.source)?
        .into_iter()
        .map(|v| Version {
            id: v.id,
            captured_at: v
                .captured_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            form: v.snapshot.form.as_str(),
            services: v
                .snapshot
                .entries()
                .map(|e| e.service.name())
                .collect::<BTreeSet<_>>()
                .len(),
            parser_version: v.parser_version,
            has_scope: v.snapshot.has_scope(),
            title: v.snapshot.title,
        })
        .collect();
    emit(&match args.format {
        DataFormat::Json => json(&versions)?,
        DataFormat::Text => {
            let mut out = format!(
                "{}: {} versions\n{:<20}  {:<8}  {:>8}  {:>6}\n",
                args.source,
                versions.len(),
                "captured (UTC)",
                "form",
                "services",
                "parser"
            );
            for v in &versions {
                let note = if v.has_scope {
                    ""
                } else {
                    "  no scope found (kept, never in force)"
                };
                out.push_str(&format!(
                    "{:<20}  {:<8}  {:>8}  {:>6}{note}\n",
                    v.captured_at, v.form, v.services, v.parser_version
                ));
            }
            out
        }
    })?;
    Ok(ExitCode::SUCCESS)
}

pub(super) fn show(db: &Path, args: ShowArgs) -> anyhow::Result<ExitCode> {
    let store = open_existing(db)?;
    store.require_source(&args.source)?;
    let at = match &args.at {
        Some(d) => day(d)?,
        None => chrono::Utc::now().date_naive(),
    };
    let Some(id) = store.snapshot_id_at(&args.source, at)? else {
        match history::first_in_force(&store, &args.source)? {
            Some(first) => bail!(
                "{} has no version with scope in force on {at}: its first is on {first}; give a later --at",
                args.source
            ),
            None => bail!("{} has no version with scope", args.source),
        }
    };
    let stored = store.load(id)?;
    let captured = stored
        .captured_at
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    match args.format {
        DataFormat::Text => emit(&format!(
            "{} captured {captured} (in force on {at})\n{}",
            args.source,
            report::snapshot_text(&stored.snapshot)
        ))?,
        DataFormat::Json => emit(&json(&stored.snapshot)?)?,
    }
    Ok(ExitCode::SUCCESS)
}
