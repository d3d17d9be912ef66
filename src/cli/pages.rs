//! Commands on saved pages, outside the history: `parse` and `diff`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::bail;
use clap::{Args, CommandFactory};

use super::{
    Cli, DataFormat, EXIT_NOT_COMPARED, EXIT_SCOPE_CHANGED, Format, day, emit, json, warn_all,
};
use crate::canon::AliasTable;
use crate::config::Config;
use crate::diff::{Diff, Differ};
use crate::ingest;
use crate::model::Snapshot;
use crate::report;
use scopewatch_core::profile::{self, Extraction};

#[derive(Debug, Args)]
pub(super) struct ParseArgs {
    file: PathBuf,
    #[arg(long, value_enum, default_value_t = DataFormat::Text)]
    format: DataFormat,
    /// Read the page with this extraction profile: built in
    /// (microsoft-offering, aws-services-in-scope, azure-compliance-scope)
    /// or a [[profile]] of the --config file
    #[arg(long)]
    profile: Option<String>,
}

#[derive(Debug, Args)]
pub(super) struct DiffArgs {
    /// OLD_FILE NEW_FILE: two saved versions of a page
    #[arg(num_args = 0..=2, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Compare a stored source (or `all`) instead of files
    #[arg(long, requires = "from", conflicts_with = "files")]
    source: Option<String>,
    /// Start date: YYYY-MM-DD, today, yesterday, 7d, 3w, 2m (with --source)
    #[arg(long, value_name = "DATE", requires = "source")]
    from: Option<String>,
    /// End date [default: today] (with --source)
    #[arg(long, value_name = "DATE", requires = "source")]
    to: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Also print a unified diff of the page text (files only, text format)
    #[arg(long)]
    text_diff: bool,
    /// Exit with status 3 when the scope changed, as `git diff --exit-code`
    #[arg(long)]
    exit_code: bool,
    /// Read both files with this extraction profile (files only), as
    /// `parse --profile`
    #[arg(long, conflicts_with = "source")]
    profile: Option<String>,
}

/// Reads a saved page, with the profile called `name` when one is given.
fn read_page(path: &Path, name: Option<&str>, config: Option<&Config>) -> anyhow::Result<Snapshot> {
    let Some(name) = name else {
        return Ok(ingest::read_file(path)?.1);
    };
    Ok(ingest::read_file_as(path, &extraction(name, config)?)?)
}

/// The extraction profile called `name`: built in, or a `[[profile]]` of
/// the configuration. An unknown name is refused with the known ones.
pub(super) fn extraction(name: &str, config: Option<&Config>) -> anyhow::Result<Extraction> {
    if let Some(found) = config
        .and_then(|c| c.profile(name))
        .or_else(|| profile::builtin(name))
    {
        return Ok(found);
    }
    let mut known: Vec<&str> = profile::BUILTIN.to_vec();
    known.extend(
        config
            .iter()
            .flat_map(|c| c.profiles.iter().map(|p| p.name.as_str())),
    );
    bail!(
        "no profile {name:?}: use one of {}, or a [[profile]] of the file --config names",
        known.join(", ")
    )
}

pub(super) fn parse(args: ParseArgs, config: Option<&Config>) -> anyhow::Result<ExitCode> {
    let snapshot = read_page(&args.file, args.profile.as_deref(), config)?;
    warn_all(&args.file.display().to_string(), &snapshot.warnings);
    emit(&match args.format {
        DataFormat::Text => report::snapshot_text(&snapshot),
        DataFormat::Json => json(&snapshot)?,
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Two files, or a stored source between two dates (see [`super::history`]).
pub(super) fn diff(
    db: &Path,
    aliases: &AliasTable,
    differ: &Differ<'_>,
    config: Option<&Config>,
    args: DiffArgs,
) -> anyhow::Result<ExitCode> {
    let diffs = match (&args.source, args.files.as_slice()) {
        (None, [old, new]) => diff_files(differ, old, new, config, &args)?,
        (Some(source), []) => {
            let Some(from) = &args.from else {
                bail!("--source needs --from (and --to, which is today when left out)");
            };
            let to = args.to.as_deref().unwrap_or("today");
            super::history::diff_store(
                db,
                aliases,
                differ,
                source,
                day(from)?,
                day(to)?,
                args.format,
            )?
        }
        _ => {
            let mut cmd = Cli::command();
            cmd.error(
                clap::error::ErrorKind::WrongNumberOfValues,
                "diff takes OLD_FILE NEW_FILE, or --source ID --from DATE --to DATE",
            )
            .exit()
        }
    };
    Ok(if diffs.iter().any(|d| d.not_compared.is_some()) {
        ExitCode::from(EXIT_NOT_COMPARED)
    } else if args.exit_code && diffs.iter().any(Diff::has_scope_changes) {
        ExitCode::from(EXIT_SCOPE_CHANGED)
    } else {
        ExitCode::SUCCESS
    })
}

fn diff_files(
    differ: &Differ<'_>,
    old_path: &Path,
    new_path: &Path,
    config: Option<&Config>,
    args: &DiffArgs,
) -> anyhow::Result<Vec<Diff>> {
    let old = read_page(old_path, args.profile.as_deref(), config)?;
    let new = read_page(new_path, args.profile.as_deref(), config)?;
    warn_all(&old_path.display().to_string(), &old.warnings);
    warn_all(&new_path.display().to_string(), &new.warnings);
    let diff = differ.diff(&old, &new);
    warn_all("diff", &diff.warnings);
    let mut out = match args.format {
        Format::Text => report::diff_text(&diff),
        Format::Json => json(&diff)?,
        Format::Markdown => report::diff_markdown(&diff),
    };
    if args.text_diff && args.format == Format::Text {
        let text = similar::TextDiff::from_lines(&old.body, &new.body);
        out.push('\n');
        out.push_str(
            &text
                .unified_diff()
                .context_radius(2)
                .header(
                    &old_path.display().to_string(),
                    &new_path.display().to_string(),
                )
                .to_string(),
        );
    }
    emit(&out)?;
    Ok(vec![diff])
}
