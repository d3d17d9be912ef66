//! Commands that fill the history: `import`, `import-git` and `reparse`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::bail;
use clap::Args;

use super::pages::extraction;
use super::{day, emit, follow, open_for_writing, progress_bar, warn_all};
use crate::config::{self, Config};
use crate::ingest;
use crate::store::{self, Imported, Store};

#[derive(Debug, Args)]
pub(super) struct ImportArgs {
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Source id [default: from the path]
    #[arg(long)]
    source: Option<String>,
    /// Capture date, YYYY-MM-DD or today, yesterday, 7d ... [default: from the file name, else the page's date]
    #[arg(long, value_name = "DATE")]
    date: Option<String>,
    /// Read the pages with this extraction profile, as `parse --profile`
    /// [default: offering pages]
    #[arg(long, value_name = "NAME")]
    profile: Option<String>,
}

#[derive(Debug, Args)]
pub(super) struct ImportGitArgs {
    /// A local git repository (clone a bundle first)
    repo: PathBuf,
    /// Page files to follow, as a git glob
    #[arg(
        long,
        value_name = "GLOB",
        default_value = "compliance/regulatory/offering-*.md"
    )]
    path: String,
    /// Locale of the pages where they do not say; other than en-us, it is appended to source ids
    #[arg(long)]
    locale: Option<String>,
    /// Published address of the pages; a source's URL is this plus its id
    #[arg(long, value_name = "URL")]
    url_base: Option<String>,
    /// Read the pages with this extraction profile, as `parse --profile`
    /// [default: offering pages]
    #[arg(long, value_name = "NAME")]
    profile: Option<String>,
}

#[derive(Debug, Args)]
pub(super) struct ReparseArgs {
    /// Rebuild every snapshot
    #[arg(long)]
    all: bool,
}

pub(super) fn import(
    db: &Path,
    config: Option<&Config>,
    progress: bool,
    args: ImportArgs,
) -> anyhow::Result<ExitCode> {
    let extraction = args
        .profile
        .as_deref()
        .map(|name| extraction(name, config))
        .transpose()?;
    let date = args.date.as_deref().map(day).transpose()?;
    let today = chrono::Utc::now().date_naive();
    if let Some(date) = date.filter(|d| *d > today) {
        bail!(
            "--date {date} is in the future (today is {today}): give the date the page was saved"
        );
    }
    let source = args.source.as_deref();
    let _lock = store::lock(db)?;
    let mut store = Store::open(db)?;
    let mut failed = 0;
    let mut files = Vec::new();
    for file in args.files {
        if file.is_dir() {
            files.extend(ingest::versions_in(&file)?);
        } else {
            files.push(file);
        }
    }
    let bar = progress_bar(progress, files.len() as u64, "importing");
    for file in &files {
        bar.set_message(file.display().to_string());
        bar.inc(1);
        let named = ingest::date_in_name(file);
        let result = match named.filter(|at| date.is_none() && at.date_naive() > today) {
            Some(at) => Err(crate::Error::FutureDate {
                path: file.clone(),
                date: at.date_naive(),
            }),
            None => ingest::import_file(&mut store, file, source, date, extraction.as_ref()),
        };
        match result {
            Ok(r) => {
                warn_all(&file.display().to_string(), &r.snapshot.warnings);
                let what = match r.imported {
                    Imported::Stored(id) => format!("stored as snapshot {id}"),
                    Imported::Unchanged(id) => format!("unchanged (same content as snapshot {id})"),
                };
                bar.suspend(|| {
                    emit(&format!(
                        "{} {} {}: {what}\n",
                        r.source,
                        r.captured_at.date_naive(),
                        file.display()
                    ))
                })?;
                // Without a date in its name, a file's source and date are
                // guesses: say them, and how to set them.
                if named.is_none() {
                    let mut guessed = Vec::new();
                    if source.is_none() {
                        guessed.push(format!(
                            "source {:?} from the file name (--source sets it)",
                            r.source
                        ));
                    }
                    if date.is_none() {
                        let from = if r.snapshot.published == Some(r.captured_at.date_naive()) {
                            "the date the page states"
                        } else {
                            "today, as neither the name nor the page gives one"
                        };
                        guessed.push(format!(
                            "date {} from {from} (--date sets it)",
                            r.captured_at.date_naive()
                        ));
                    }
                    if !guessed.is_empty() {
                        eprintln!("note: {}: guessed {}", file.display(), guessed.join("; "));
                    }
                }
            }
            // One file: its error is the command's, said once.
            Err(e) if files.len() == 1 => return Err(e.into()),
            Err(e) => {
                eprintln!("error: {e}");
                failed += 1;
            }
        }
    }
    bar.finish_and_clear();
    learn_names(&mut store)?;
    if failed > 0 {
        bail!("{failed} of {} files not imported", files.len());
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) fn import_git(
    db: &Path,
    config: Option<&Config>,
    progress: bool,
    args: ImportGitArgs,
) -> anyhow::Result<ExitCode> {
    let extraction = args
        .profile
        .as_deref()
        .map(|name| extraction(name, config))
        .transpose()?;
    let locale = args.locale.as_deref().map(config::locale).transpose()?;
    let _lock = store::lock(db)?;
    let mut store = Store::open(db)?;
    let options = ingest::git::GitOptions {
        locale: locale.as_deref(),
        url_base: args.url_base.as_deref(),
        extraction: extraction.as_ref(),
    };
    let bar = progress_bar(progress, 0, "importing the git history");
    let report =
        ingest::git::import_git(&mut store, &args.repo, &args.path, &options, &follow(&bar));
    bar.finish_and_clear();
    let report = report?;
    learn_names(&mut store)?;
    for failure in &report.failed {
        eprintln!("error: {failure}");
    }
    emit(&format!(
        "{} versions: {} stored, {} unchanged; {} retirements recorded\n",
        report.versions, report.stored, report.unchanged, report.retired
    ))?;
    if !report.failed.is_empty() {
        bail!("{} versions not imported", report.failed.len());
    }
    Ok(ExitCode::SUCCESS)
}

/// Learns the names of the localized pages again, and says how many are
/// known when there are any.
pub(super) fn learn_names(store: &mut Store) -> anyhow::Result<()> {
    let learned = ingest::l10n::learn_names(store)?;
    if learned > 0 {
        emit(&format!(
            "{learned} localized names learned from aligned pages (`scopewatch names` shows them)\n"
        ))?;
    }
    Ok(())
}

pub(super) fn reparse(db: &Path, progress: bool, args: ReparseArgs) -> anyhow::Result<ExitCode> {
    let (_lock, mut store) = open_for_writing(db)?;
    let bar = progress_bar(progress, 0, "reparsing the stored snapshots");
    let r = ingest::reparse(&mut store, args.all, &follow(&bar));
    bar.finish_and_clear();
    let r = r?;
    emit(&format!(
        "{} snapshots checked, {} rebuilt, {} with a different scope or links\n",
        r.checked, r.rebuilt, r.changed
    ))?;
    // Names were learned from the scopes just rebuilt.
    learn_names(&mut store)?;
    Ok(ExitCode::SUCCESS)
}

pub(super) fn migrate(db: &Path) -> anyhow::Result<ExitCode> {
    let (_lock, store) = open_for_writing(db)?;
    emit(&format!(
        "{} is at schema version {}\n",
        db.display(),
        store.schema_version()?
    ))?;
    Ok(ExitCode::SUCCESS)
}
