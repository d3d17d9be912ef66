//! Commands that check or carry the whole database: `verify`, `export` and
//! `restore`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, ValueEnum};

use super::{emit, open_existing};
use crate::ingest;
use crate::store::{self, Store};

#[derive(Debug, Args)]
pub(super) struct ExportArgs {
    #[arg(long, value_enum, default_value_t = ArchiveFormat::Jsonl)]
    format: ArchiveFormat,
    /// The archive to write, or `-` for standard output
    #[arg(short, long, value_name = "FILE")]
    output: PathBuf,
}

#[derive(Debug, Args)]
pub(super) struct RestoreArgs {
    archive: PathBuf,
}

/// Formats of an archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ArchiveFormat {
    Jsonl,
}

pub(super) fn verify(db: &Path, progress: bool) -> anyhow::Result<ExitCode> {
    let store = open_existing(db)?;
    let bar = super::progress_bar(progress, 0, "verifying every document and snapshot");
    let report = ingest::verify(&store, &super::follow(&bar));
    bar.finish_and_clear();
    let report = report?;
    for problem in &report.problems {
        emit(&format!("problem: {problem}\n"))?;
    }
    emit(&format!(
        "{} snapshots checked, {} problems\n",
        report.snapshots,
        report.problems.len()
    ))?;
    Ok(if report.problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

pub(super) fn export(db: &Path, args: ExportArgs) -> anyhow::Result<ExitCode> {
    let ExportArgs {
        format: ArchiveFormat::Jsonl,
        output,
    } = args;
    let store = open_existing(db)?;
    if output == Path::new("-") {
        let counts = {
            let mut out = std::io::BufWriter::new(UntilClosed(std::io::stdout().lock(), false));
            let counts = store.export(&mut out)?;
            out.flush()?;
            counts
        };
        eprintln!("{}", exported(&counts, "standard output"));
        return Ok(ExitCode::SUCCESS);
    }
    // Written beside the target and renamed, so a failed export never
    // leaves a half-written archive under the final name.
    let dir = output
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut file = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("writing into {}", dir.display()))?;
    let counts = {
        let mut out = std::io::BufWriter::new(file.as_file_mut());
        let counts = store.export(&mut out)?;
        out.flush()?;
        counts
    };
    file.as_file().sync_all()?;
    file.persist(&output)
        .with_context(|| format!("writing {}", output.display()))?;
    emit(&format!(
        "{}\n",
        exported(&counts, &output.display().to_string())
    ))?;
    Ok(ExitCode::SUCCESS)
}

/// Standard output that a reader may close early (`| head`): what comes
/// after is dropped, and that is not an error.
struct UntilClosed<W: Write>(W, bool);

impl<W: Write> Write for UntilClosed<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.1 {
            return Ok(buf.len());
        }
        match self.0.write(buf) {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                self.1 = true;
                Ok(buf.len())
            }
            other => other,
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self.0.flush() {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            other => other,
        }
    }
}

fn exported(counts: &store::Counts, to: &str) -> String {
    format!(
        "exported {} sources, {} documents, {} snapshots, {} learned names and {} other records to {to}",
        counts.sources,
        counts.documents,
        counts.snapshots,
        counts.names.unwrap_or(0),
        counts.other,
    )
}

pub(super) fn restore(db: &Path, args: RestoreArgs) -> anyhow::Result<ExitCode> {
    let archive = &args.archive;
    let file =
        std::fs::File::open(archive).with_context(|| format!("reading {}", archive.display()))?;
    let input = std::io::BufReader::new(file);
    let (counts, relearned) = if db.exists() {
        let _lock = store::lock(db)?;
        restore_into(&mut Store::open(db)?, input)?
    } else {
        restore_new(db, input)?
    };
    let names = match relearned {
        Some(n) => {
            format!("; the archive predates learned names: {n} learned again from its pages")
        }
        None => format!(", {} learned names", counts.names.unwrap_or(0)),
    };
    emit(&format!(
        "restored {} sources, {} documents, {} snapshots and {} other records into {}{names}\n",
        counts.sources,
        counts.documents,
        counts.snapshots,
        counts.other,
        db.display()
    ))?;
    Ok(ExitCode::SUCCESS)
}

/// Restores an archive into `store`. An archive made before learned names
/// were carried has them learned again from its pages, which taught them;
/// how many is the second value then.
fn restore_into(
    store: &mut Store,
    input: impl std::io::BufRead,
) -> anyhow::Result<(store::Counts, Option<usize>)> {
    let counts = store.restore(input)?;
    let relearned = match counts.names {
        Some(_) => None,
        None => Some(ingest::l10n::learn_names(store)?),
    };
    Ok((counts, relearned))
}

/// Restores into a database that does not exist yet. It is built under a
/// temporary name beside `db` and given its name only when whole, so a
/// refused archive leaves no file behind; and it never replaces a database
/// that appeared meanwhile.
fn restore_new(
    db: &Path,
    input: impl std::io::BufRead,
) -> anyhow::Result<(store::Counts, Option<usize>)> {
    let dir = db
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let staging = tempfile::Builder::new()
        .prefix(".scopewatch-restore-")
        .tempfile_in(dir)
        .with_context(|| format!("writing into {}", dir.display()))?;
    let counts = {
        restore_into(&mut Store::open(staging.path())?, input)?
        // Closed here, so that its log is folded into the file renamed.
    };
    staging.persist_noclobber(db).with_context(|| {
        format!(
            "{} appeared while restoring; nothing was restored",
            db.display()
        )
    })?;
    Ok(counts)
}
