//! `demo`: the bundled page versions replayed offline.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use super::{Format, emit, json};
use crate::diff::Differ;
use crate::report;
use crate::store::Store;

#[derive(Debug, Args)]
pub(super) struct DemoArgs {
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// Replays into `db`, or into a temporary database when none is given.
pub(super) fn demo(
    db: Option<&Path>,
    differ: &Differ<'_>,
    args: DemoArgs,
) -> anyhow::Result<ExitCode> {
    let temp = tempfile::tempdir().context("creating a temporary directory")?;
    let path = db.map_or_else(|| temp.path().join("demo.db"), Path::to_path_buf);
    let mut store = Store::open(&path)?;
    let run = crate::demo::run(&mut store, differ)?;
    let out = match args.format {
        Format::Json => json(&run.steps)?,
        Format::Markdown => report::source_diffs_markdown(&run.steps),
        Format::Text => {
            let where_ = if db.is_some() {
                path.display().to_string()
            } else {
                "a temporary database".into()
            };
            format!(
                "{}\nReplayed {} page versions of {} offerings through parse → store → diff ({where_}).\n",
                report::source_diffs_text(&run.steps),
                run.imported,
                run.sources.len(),
            )
        }
    };
    emit(&out)?;
    Ok(ExitCode::SUCCESS)
}
