//! The nightly job and its configuration: `init`, `run`, `daemon` and
//! `sources` (list, or discover on the hub).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};

use super::{DataFormat, EXIT_NOT_COMPARED, EXIT_SCOPE_CHANGED, emit, json, need_config};
use crate::canon::AliasTable;
use crate::config::{self, Config};
use crate::run::{self, Progress};

#[derive(Debug, Args)]
pub(super) struct SourcesArgs {
    #[command(subcommand)]
    action: Option<SourcesAction>,
    #[arg(long, global = true, value_enum, default_value_t = DataFormat::Text)]
    format: DataFormat,
}

impl SourcesArgs {
    pub(super) fn discovers(&self) -> bool {
        matches!(self.action, Some(SourcesAction::Discover { .. }))
    }
}

#[derive(Debug, Subcommand)]
enum SourcesAction {
    /// The sources in the history database (the default)
    List,
    /// Offering pages on the hub that the configuration lacks, and configured ones it no longer lists
    Discover {
        /// Hub page to read [default: `hub` in the configuration]
        #[arg(long, value_name = "URL")]
        hub: Option<String>,
    },
    /// Keep a source and its history, but neither fetch nor alert it
    Mute { source: String },
    /// Track a muted or removed source again
    Unmute { source: String },
    /// Stop tracking a source; its history is kept unless --purge
    Remove {
        source: String,
        /// Delete its history too (versions, fetch records, queued alerts)
        #[arg(long)]
        purge: bool,
    },
}

#[derive(Debug, Args)]
pub(super) struct InitArgs {
    /// Locale of the pages (de-de, ja-jp, pt-br, zh-tw ...): their addresses,
    /// and source ids with the locale appended, as `import-git` writes them
    #[arg(long, default_value = "en-us")]
    locale: String,
    /// Whose pages: Microsoft's offering pages, AWS's services-in-scope
    /// page, or Azure Government's services compliance scope page
    #[arg(long, default_value = "microsoft", value_parser = ["microsoft", "aws", "azure-gov"])]
    provider: String,
    #[arg(long, short, default_value = "scopewatch.toml")]
    output: PathBuf,
    /// Replace an existing file
    #[arg(long)]
    force: bool,
}

#[derive(Debug, Args)]
pub(super) struct RunArgs {
    /// Exit with status 3 when a scope changed, as `git diff --exit-code`
    #[arg(long)]
    exit_code: bool,
    /// Fetch and diff, and show what would be stored and alerted; the
    /// database is only read and nothing is sent
    #[arg(long)]
    dry_run: bool,
    #[arg(long, value_enum, default_value_t = DataFormat::Text)]
    format: DataFormat,
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

pub(super) fn init(args: InitArgs) -> anyhow::Result<ExitCode> {
    let InitArgs {
        locale,
        provider,
        output,
        force,
    } = args;
    let (text, what) = match config::provider_starter(&provider) {
        Some(text) if locale.eq_ignore_ascii_case("en-us") => {
            (text, format!("the {provider} scope page"))
        }
        Some(_) => bail!(
            "--locale is for Microsoft's offering pages; --provider {provider} has one page, in English"
        ),
        None => (
            config::starter(&locale)?,
            format!(
                "Microsoft's offering pages ({})",
                locale.to_ascii_lowercase()
            ),
        ),
    };
    if output.exists() && !force {
        bail!("{} exists (pass --force to replace it)", output.display());
    }
    std::fs::write(&output, text).with_context(|| format!("writing {}", output.display()))?;
    emit(&format!(
        "wrote {} with {what}; add alert channels, then: scopewatch --config {} run\n",
        output.display(),
        output.display()
    ))?;
    Ok(ExitCode::SUCCESS)
}

/// One run of the job, with a progress bar on stderr when `progress`.
pub(super) fn run(
    config: &Config,
    aliases: run::AliasSource,
    db: &Path,
    progress: bool,
    args: RunArgs,
) -> anyhow::Result<ExitCode> {
    let bar = super::progress_bar(progress, config.sources.len() as u64, "fetching");
    let show = |step: Progress<'_>| match step {
        Progress::Checked(source) => {
            bar.set_message(source.to_string());
            bar.inc(1);
        }
        Progress::AllChecked => bar.finish_and_clear(),
    };
    if args.dry_run {
        let (report, alerts) = runtime()?.block_on(run::dry_run(config, aliases, db, &show))?;
        emit(&match args.format {
            DataFormat::Text => {
                let mut out = format!(
                    "dry run: nothing was stored in {} and nothing was sent\n{}",
                    db.display(),
                    report.text()
                );
                for alert in &alerts {
                    out.push_str(&format!("would alert {alert}\n"));
                }
                out
            }
            DataFormat::Json => json(&serde_json::json!({
                "dry_run": true,
                "report": report,
                "would_alert": alerts,
            }))?,
        })?;
        return Ok(exit_code(&report, args.exit_code));
    }
    let report = runtime()?.block_on(run::run_once(config, aliases, db, &show))?;
    emit(&match args.format {
        DataFormat::Text => report.text(),
        DataFormat::Json => json(&report)?,
    })?;
    Ok(exit_code(&report, args.exit_code))
}

/// A failure first, then an anomaly, then (when asked) a scope change.
fn exit_code(report: &run::RunReport, exit_code: bool) -> ExitCode {
    if report.failed() {
        ExitCode::FAILURE
    } else if report.anomalous() {
        ExitCode::from(EXIT_NOT_COMPARED)
    } else if exit_code && report.scope_changed() {
        ExitCode::from(EXIT_SCOPE_CHANGED)
    } else {
        ExitCode::SUCCESS
    }
}

pub(super) fn daemon(
    config: &Config,
    aliases: &Arc<AliasTable>,
    db: &Path,
) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(run::daemon(config, aliases, db))?;
    Ok(ExitCode::SUCCESS)
}

/// `sources` lists the database's sources; `sources discover` reads the hub
/// and needs the configuration.
pub(super) fn sources(
    config: Option<&Config>,
    db: &Path,
    differ: &crate::diff::Differ<'_>,
    args: SourcesArgs,
) -> anyhow::Result<ExitCode> {
    match args.action {
        Some(SourcesAction::Discover { hub }) => {
            discover(need_config(config)?, hub.as_deref(), args.format)
        }
        None | Some(SourcesAction::List) => super::sources::list(db, differ, args.format),
        Some(SourcesAction::Mute { source }) => super::sources::hold(db, &source, Some("muted")),
        Some(SourcesAction::Unmute { source }) => super::sources::hold(db, &source, None),
        Some(SourcesAction::Remove { source, purge }) => match purge {
            true => super::sources::purge(db, &source),
            false => super::sources::hold(db, &source, Some("removed")),
        },
    }
}

fn discover(config: &Config, hub: Option<&str>, format: DataFormat) -> anyhow::Result<ExitCode> {
    let hub = hub.unwrap_or(&config.hub);
    let found = runtime()?.block_on(run::discover(config, hub))?;
    emit(&match format {
        DataFormat::Json => json(&found)?,
        DataFormat::Text => {
            let mut out = String::new();
            for (id, url) in &found.new {
                out.push_str(&format!("new      {id}  {url}\n"));
            }
            for id in &found.retired {
                out.push_str(&format!(
                    "retired  {id}  (configured, no longer on the hub)\n"
                ));
            }
            if out.is_empty() {
                out.push_str("the configuration lists every offering page on the hub\n");
            }
            out
        }
    })?;
    Ok(ExitCode::SUCCESS)
}
