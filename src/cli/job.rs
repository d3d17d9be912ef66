//! The nightly job and its configuration: `init`, `run`, `daemon` and
//! `sources` (list, or discover on the hub).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use super::{DataFormat, EXIT_SCOPE_CHANGED, emit, json, need_config, open_existing};
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
    aliases: &AliasTable,
    db: &Path,
    progress: bool,
    args: RunArgs,
) -> anyhow::Result<ExitCode> {
    let bar = if progress {
        let bar = ProgressBar::new(config.sources.len() as u64);
        if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} {wide_msg}") {
            bar.set_style(style);
        }
        bar
    } else {
        ProgressBar::hidden()
    };
    let show = |step: Progress<'_>| match step {
        Progress::Checked(source) => {
            bar.set_message(source.to_string());
            bar.inc(1);
        }
        Progress::AllChecked => bar.finish_and_clear(),
    };
    let report = runtime()?.block_on(run::run_once(config, aliases, db, &show))?;
    emit(&match args.format {
        DataFormat::Text => report.text(),
        DataFormat::Json => json(&report)?,
    })?;
    Ok(if report.failed() {
        ExitCode::FAILURE
    } else if args.exit_code && report.scope_changed() {
        ExitCode::from(EXIT_SCOPE_CHANGED)
    } else {
        ExitCode::SUCCESS
    })
}

pub(super) fn daemon(config: &Config, aliases: &AliasTable, db: &Path) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(run::daemon(config, aliases, db))?;
    Ok(ExitCode::SUCCESS)
}

/// `sources` lists the database's sources; `sources discover` reads the hub
/// and needs the configuration.
pub(super) fn sources(
    config: Option<&Config>,
    db: &Path,
    args: SourcesArgs,
) -> anyhow::Result<ExitCode> {
    match args.action {
        Some(SourcesAction::Discover { hub }) => {
            discover(need_config(config)?, hub.as_deref(), args.format)
        }
        None | Some(SourcesAction::List) => list(db, args.format),
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

fn list(db: &Path, format: DataFormat) -> anyhow::Result<ExitCode> {
    let store = open_existing(db)?;
    let sources = store.sources()?;
    emit(&match format {
        DataFormat::Json => json(&sources)?,
        DataFormat::Text => {
            let width = sources.iter().map(|s| s.id.len()).max().unwrap_or(0);
            sources
                .iter()
                .map(|s| {
                    let mut line = format!(
                        "{:<width$}  {:>5} snapshots  {} .. {}  {}\n",
                        s.id,
                        s.snapshots,
                        s.first.as_deref().unwrap_or("-"),
                        s.last.as_deref().unwrap_or("-"),
                        s.title.as_deref().unwrap_or("")
                    );
                    // A scope-matrix page: one source, many programs.
                    for program in &s.programs {
                        line.push_str(&format!("{:<width$}    {} / {program}\n", "", s.id));
                    }
                    line
                })
                .collect()
        }
    })?;
    Ok(ExitCode::SUCCESS)
}
