//! The command line: arguments (clap) and one small function per command,
//! each wiring its arguments to the library. Errors become one line on
//! stderr and a non-zero exit.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{ArgAction, Args, CommandFactory, Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

use std::io::IsTerminal;

use crate::canon::AliasTable;
use crate::config::Config;
use crate::diff::Differ;
use crate::history::SourceDiff;
use crate::ingest::{self, parse_day};
use crate::report;
use crate::run::Progress;
use crate::store::{self, Imported, Store};
use crate::{config, demo, history, run};

/// Exit status when `--exit-code` is given and the scope changed.
pub const EXIT_SCOPE_CHANGED: u8 = 3;

const EXAMPLES: &str = "\
Examples:
  scopewatch demo
  scopewatch parse saved/offering-iso-27001.html --format json
  scopewatch diff old.md new.html --format markdown
  scopewatch import pages/offering-soc-2/*.md
  scopewatch diff --source all --from 2021-03-01 --to 2021-04-30
  scopewatch import-git docs --path 'compliance/regulatory/offering-*.md'
  scopewatch timeline \"Windows 365\"";

/// Tracks the scope of published cloud compliance pages and reports what
/// changed: services added, removed, renamed and moved between environments,
/// and audit report links.
#[derive(Debug, Parser)]
#[command(name = "scopewatch", version, after_help = EXAMPLES)]
pub struct Cli {
    /// History database [default: scopewatch.db]
    #[arg(long, global = true, env = "SCOPEWATCH_DB", value_name = "PATH")]
    db: Option<PathBuf>,
    /// Alias table of known renames, instead of the built-in one
    #[arg(long, global = true, value_name = "FILE")]
    aliases: Option<PathBuf>,
    /// Configuration file (see `scopewatch init`)
    #[arg(long, global = true, env = "SCOPEWATCH_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// More log output on stderr (-v, -vv)
    #[arg(short, long, global = true, action = ArgAction::Count)]
    verbose: u8,
    /// No progress bar
    #[arg(short, long, global = true)]
    quiet: bool,
    /// Log lines as text or JSON objects (on stderr)
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Parse a saved page (HTML, Markdown or text) and show its scope
    #[command(after_help = "Example:\n  scopewatch parse offering-iso-27001.md --format json")]
    Parse {
        file: PathBuf,
        #[arg(long, value_enum, default_value_t = DataFormat::Text)]
        format: DataFormat,
    },
    /// Compare two saved pages, or a source's versions in force at two dates
    #[command(
        after_help = "Examples:\n  scopewatch diff 2020.md 2023.html\n  scopewatch diff --source offering-iso-27001 --from 2021-03-01 --to 2021-04-30 --format json"
    )]
    Diff(DiffArgs),
    /// Store saved page versions in the history database
    #[command(after_help = "Source and date come from the path when not given: \
snapshots/offering-soc-2/2021-07-20.md is source offering-soc-2 captured on 2021-07-20.\n\n\
Example:\n  scopewatch import --source offering-soc-2 --date 2024-01-31 saved.html")]
    Import {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Source id [default: from the path]
        #[arg(long)]
        source: Option<String>,
        /// Capture date, YYYY-MM-DD [default: from the file name, else the page's date]
        #[arg(long, value_name = "YYYY-MM-DD")]
        date: Option<String>,
    },
    /// Backfill from the docs' git history: every version of every page file
    #[command(
        name = "import-git",
        after_help = "Each version is dated by its commit's author date; the source id is the file name's stem \
in lower case. Re-running adds nothing twice.\n\n\
Example:\n  git clone -b main compliance-docs.bundle docs\n  scopewatch import-git docs --path 'compliance/regulatory/offering-*.md'"
    )]
    ImportGit {
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
    },
    /// Rebuild stored snapshots from their raw documents with the current parser
    #[command(
        after_help = "Runs in one transaction and fetches nothing. Without --all, only snapshots \
made by another parser version are rebuilt.\n\nExample:\n  scopewatch reparse --all"
    )]
    Reparse {
        /// Rebuild every snapshot
        #[arg(long)]
        all: bool,
    },
    /// Check every stored document against its hash, and that reparsing reproduces every snapshot
    #[command(
        after_help = "Exit status 1 when anything is wrong.\n\nExample:\n  scopewatch --db history.db verify"
    )]
    Verify,
    /// Write the whole history database to an archive (JSON Lines)
    #[command(
        after_help = "Example:\n  scopewatch --db history.db export --format jsonl -o history.jsonl"
    )]
    Export {
        #[arg(long, value_enum, default_value_t = ArchiveFormat::Jsonl)]
        format: ArchiveFormat,
        #[arg(short, long, value_name = "FILE")]
        output: PathBuf,
    },
    /// Restore an archive into a new, empty database
    #[command(after_help = "Example:\n  scopewatch --db restored.db restore history.jsonl")]
    Restore { archive: PathBuf },
    /// Every scope change event in date order
    #[command(
        after_help = "Example:\n  scopewatch log --source offering-iso-27001 --since 2021-01-01 --format markdown"
    )]
    Log {
        #[arg(long)]
        source: Option<String>,
        #[arg(long, value_name = "YYYY-MM-DD")]
        since: Option<String>,
        #[arg(long, value_enum, default_value_t = EventsFormat::Text)]
        format: EventsFormat,
    },
    /// Write a self-contained HTML report of scope changes
    #[command(
        after_help = "The file has no external assets, works offline and prints well.\n\n\
Example:\n  scopewatch report --from 2021-01-01 --to 2021-12-31 --source all -o report.html"
    )]
    Report {
        /// Start date [default: the whole history]
        #[arg(long, value_name = "YYYY-MM-DD")]
        from: Option<String>,
        /// End date [default: today]
        #[arg(long, value_name = "YYYY-MM-DD")]
        to: Option<String>,
        /// One source, or all
        #[arg(long, default_value = "all")]
        source: String,
        #[arg(short, long, value_name = "FILE", default_value = "report.html")]
        output: PathBuf,
    },
    /// Write an Atom feed of scope change events
    #[command(
        after_help = "Entry ids are stable, so feed readers never show an event twice.\n\n\
Example:\n  scopewatch feed --since 2022-01-01 -o /var/www/scope/changes.atom"
    )]
    Feed {
        #[arg(long)]
        source: Option<String>,
        #[arg(long, value_name = "YYYY-MM-DD")]
        since: Option<String>,
        #[arg(short, long, value_name = "FILE", default_value = "changes.atom")]
        output: PathBuf,
    },
    /// Print shell completions
    #[command(
        after_help = "Example:\n  scopewatch completions bash > /etc/bash_completion.d/scopewatch"
    )]
    Completions { shell: clap_complete::Shell },
    /// When a service entered and left each offering's scope, renames followed
    #[command(after_help = "Example:\n  scopewatch timeline \"Microsoft Defender for Endpoint\"")]
    Timeline {
        service: String,
        #[arg(long, value_enum, default_value_t = TableFormat::Text)]
        format: TableFormat,
    },
    /// Services × offerings in scope at a date
    #[command(
        after_help = "Example:\n  scopewatch matrix --at 2022-01-01 --format csv > matrix.csv"
    )]
    Matrix {
        /// The date [default: today]
        #[arg(long, value_name = "YYYY-MM-DD")]
        at: Option<String>,
        #[arg(long, value_enum, default_value_t = TableFormat::Text)]
        format: TableFormat,
    },
    /// List the sources in the history database, or discover offering pages
    #[command(
        after_help = "Examples:\n  scopewatch sources\n  scopewatch --config scopewatch.toml sources discover"
    )]
    Sources {
        #[command(subcommand)]
        action: Option<SourcesAction>,
        #[arg(long, global = true, value_enum, default_value_t = DataFormat::Text)]
        format: DataFormat,
    },
    /// Write a starter configuration listing Microsoft's offering pages
    #[command(
        after_help = "Example:\n  scopewatch init --locale fr-fr --output /etc/scopewatch.toml"
    )]
    Init {
        /// Locale of the pages' addresses
        #[arg(long, default_value = "en-us")]
        locale: String,
        #[arg(long, short, default_value = "scopewatch.toml")]
        output: PathBuf,
        /// Replace an existing file
        #[arg(long)]
        force: bool,
    },
    /// Fetch every configured page once, store, diff, alert, and exit
    #[command(
        after_help = "Exit status: 0 when all went well, 1 when a page could not be fetched or an alert \
not delivered, 3 with --exit-code when a scope changed.\n\n\
Example (crontab):\n  30 2 * * * scopewatch --config /etc/scopewatch.toml run --quiet"
    )]
    Run {
        /// Exit with status 3 when a scope changed, as `git diff --exit-code`
        #[arg(long)]
        exit_code: bool,
        #[arg(long, value_enum, default_value_t = DataFormat::Text)]
        format: DataFormat,
    },
    /// Run on the configured cron schedule until SIGINT or SIGTERM
    #[command(after_help = "A signal during a run lets the run finish first.\n\n\
Example:\n  scopewatch --config /etc/scopewatch.toml daemon --log-format json")]
    Daemon,
    /// Replay the bundled page versions through parse, store and diff, offline
    #[command(
        after_help = "Uses a temporary database unless --db is given.\n\nExamples:\n  scopewatch demo\n  scopewatch --db demo.db demo --format markdown"
    )]
    Demo {
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

#[derive(Debug, Args)]
struct DiffArgs {
    /// OLD_FILE NEW_FILE: two saved versions of a page
    #[arg(num_args = 0..=2, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Compare a stored source (or `all`) instead of files
    #[arg(long, requires_all = ["from", "to"], conflicts_with = "files")]
    source: Option<String>,
    /// Start date, YYYY-MM-DD (with --source)
    #[arg(long, value_name = "YYYY-MM-DD", requires = "source")]
    from: Option<String>,
    /// End date, YYYY-MM-DD (with --source)
    #[arg(long, value_name = "YYYY-MM-DD", requires = "source")]
    to: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Also print a unified diff of the page text (files only, text format)
    #[arg(long)]
    text_diff: bool,
    /// Exit with status 3 when the scope changed, as `git diff --exit-code`
    #[arg(long)]
    exit_code: bool,
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

/// Output formats of the commands that report changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
    Markdown,
}

/// Formats of the history questions; CSV where the answer is a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum TableFormat {
    Text,
    Json,
    Csv,
}

/// Formats of an archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ArchiveFormat {
    Jsonl,
}

/// Formats of the change log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum EventsFormat {
    Text,
    Json,
    Csv,
    Markdown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

/// Formats of commands that print data rather than changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum DataFormat {
    Text,
    Json,
}

/// Runs the command line and turns errors into one line on stderr.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose, cli.log_format);
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(verbose: u8, format: LogFormat) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("scopewatch={level}")));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.without_time().try_init(),
    };
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let aliases = match &cli.aliases {
        Some(path) => AliasTable::load(path)?,
        None => AliasTable::builtin(),
    };
    let differ = Differ::new(&aliases);
    let config = match &cli.config {
        Some(path) => Some(Config::load(path)?),
        None => None,
    };
    let db = cli
        .db
        .clone()
        .or_else(|| config.as_ref().map(|c| c.database.clone()))
        .unwrap_or_else(|| PathBuf::from("scopewatch.db"));
    let progress = !cli.quiet && std::io::stderr().is_terminal();
    let need_config = || {
        config
            .as_ref()
            .context("no configuration: pass --config FILE (write one with `scopewatch init`)")
    };
    match cli.command {
        Command::Init {
            locale,
            output,
            force,
        } => init(&locale, &output, force),
        Command::Run { exit_code, format } => {
            run_job(need_config()?, &aliases, &db, progress, exit_code, format)
        }
        Command::Daemon => {
            runtime()?.block_on(run::daemon(need_config()?, &aliases, &db))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Sources {
            action: Some(SourcesAction::Discover { hub }),
            format,
        } => discover(need_config()?, hub.as_deref(), format),
        Command::Parse { file, format } => parse(&file, format),
        Command::Diff(args) => diff(&db, &aliases, &differ, args),
        Command::Import {
            files,
            source,
            date,
        } => import(&db, &files, source.as_deref(), date.as_deref()),
        Command::ImportGit {
            repo,
            path,
            locale,
            url_base,
        } => import_git(&db, &repo, &path, locale.as_deref(), url_base.as_deref()),
        Command::Reparse { all } => reparse(&db, all),
        Command::Verify => verify(&db),
        Command::Export {
            format: ArchiveFormat::Jsonl,
            output,
        } => export(&db, &output),
        Command::Restore { archive } => restore(&db, &archive),
        Command::Log {
            source,
            since,
            format,
        } => log(&db, &differ, source.as_deref(), since.as_deref(), format),
        Command::Report {
            from,
            to,
            source,
            output,
        } => report(
            &db,
            &differ,
            &aliases,
            &source,
            from.as_deref(),
            to.as_deref(),
            &output,
        ),
        Command::Feed {
            source,
            since,
            output,
        } => feed(&db, &differ, source.as_deref(), since.as_deref(), &output),
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "scopewatch",
                &mut std::io::stdout(),
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Timeline { service, format } => timeline(&db, &aliases, &service, format),
        Command::Matrix { at, format } => matrix(&db, &aliases, at.as_deref(), format),
        Command::Sources {
            action: None | Some(SourcesAction::List),
            format,
        } => sources(&db, format),
        Command::Demo { format } => run_demo(cli.db.as_deref(), &differ, format),
    }
}

/// Writes to stdout; a closed pipe (`| head`) is not an error.
fn emit(text: &str) -> anyhow::Result<()> {
    let mut out = anstream::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

fn json(value: &impl serde::Serialize) -> anyhow::Result<String> {
    Ok(serde_json::to_string_pretty(value)? + "\n")
}

fn warn_all(origin: &str, warnings: &[String]) {
    for w in warnings {
        eprintln!("warning: {origin}: {w}");
    }
}

fn parse(file: &Path, format: DataFormat) -> anyhow::Result<ExitCode> {
    let (_, snapshot) = ingest::read_file(file)?;
    warn_all(&file.display().to_string(), &snapshot.warnings);
    emit(&match format {
        DataFormat::Text => report::snapshot_text(&snapshot),
        DataFormat::Json => json(&snapshot)?,
    })?;
    Ok(ExitCode::SUCCESS)
}

fn diff(
    db: &Path,
    aliases: &AliasTable,
    differ: &Differ<'_>,
    args: DiffArgs,
) -> anyhow::Result<ExitCode> {
    let changed = match (&args.source, args.files.as_slice()) {
        (None, [old, new]) => diff_files(differ, old, new, &args)?,
        (Some(source), []) => {
            let (Some(from), Some(to)) = (&args.from, &args.to) else {
                bail!("--source needs --from and --to");
            };
            diff_store(
                db,
                aliases,
                differ,
                source,
                parse_day(from)?,
                parse_day(to)?,
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
    Ok(if args.exit_code && changed {
        ExitCode::from(EXIT_SCOPE_CHANGED)
    } else {
        ExitCode::SUCCESS
    })
}

fn diff_files(
    differ: &Differ<'_>,
    old_path: &Path,
    new_path: &Path,
    args: &DiffArgs,
) -> anyhow::Result<bool> {
    let (_, old) = ingest::read_file(old_path)?;
    let (_, new) = ingest::read_file(new_path)?;
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
    Ok(diff.has_scope_changes())
}

fn open_existing(db: &Path) -> anyhow::Result<Store> {
    if !db.exists() {
        bail!(
            "no database at {} (import pages first, or pass --db)",
            db.display()
        );
    }
    Ok(Store::open(db)?)
}

fn diff_store(
    db: &Path,
    aliases: &AliasTable,
    differ: &Differ<'_>,
    source: &str,
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
    format: Format,
) -> anyhow::Result<bool> {
    let store = open_existing(db)?;
    let diffs: Vec<SourceDiff> = if source == "all" {
        history::between_all(&store, aliases, from, to)?
    } else {
        match history::between(&store, differ, source, from, to)? {
            Some(d) => vec![d],
            None => bail!("{source} has no version with scope in force on {from}"),
        }
    };
    for d in &diffs {
        warn_all(&d.source, &d.diff.warnings);
    }
    let changed = diffs.iter().any(|d| d.diff.has_scope_changes());
    emit(&match (format, source == "all") {
        (Format::Json, false) => json(&diffs[0])?,
        (Format::Json, true) => json(&diffs)?,
        (Format::Text, _) => report::source_diffs_text(&diffs),
        (Format::Markdown, _) => report::source_diffs_markdown(&diffs),
    })?;
    Ok(changed)
}

fn import(
    db: &Path,
    files: &[PathBuf],
    source: Option<&str>,
    date: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let date = date.map(parse_day).transpose()?;
    let _lock = store::lock(db)?;
    let mut store = Store::open(db).with_context(|| format!("opening {}", db.display()))?;
    let mut failed = 0;
    let mut expanded = Vec::new();
    for file in files {
        if file.is_dir() {
            expanded.extend(ingest::versions_in(file)?);
        } else {
            expanded.push(file.clone());
        }
    }
    let files = expanded;
    for file in &files {
        match ingest::import_file(&mut store, file, source, date) {
            Ok(r) => {
                warn_all(&file.display().to_string(), &r.snapshot.warnings);
                let what = match r.imported {
                    Imported::Stored(id) => format!("stored as snapshot {id}"),
                    Imported::Unchanged(id) => format!("unchanged (same content as snapshot {id})"),
                };
                emit(&format!(
                    "{} {} {}: {what}\n",
                    r.source,
                    r.captured_at.date_naive(),
                    file.display()
                ))?;
            }
            Err(e) => {
                eprintln!("error: {e}");
                failed += 1;
            }
        }
    }
    if failed > 0 {
        bail!("{failed} of {} files not imported", files.len());
    }
    Ok(ExitCode::SUCCESS)
}

fn import_git(
    db: &Path,
    repo: &Path,
    glob: &str,
    locale: Option<&str>,
    url_base: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let _lock = store::lock(db)?;
    let mut store = Store::open(db).with_context(|| format!("opening {}", db.display()))?;
    let options = ingest::git::GitOptions { locale, url_base };
    let report = ingest::git::import_git(&mut store, repo, glob, &options)?;
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

fn reparse(db: &Path, all: bool) -> anyhow::Result<ExitCode> {
    let _lock = store::lock(db)?;
    let mut store = open_existing(db)?;
    let r = ingest::reparse(&mut store, all)?;
    emit(&format!(
        "{} snapshots checked, {} rebuilt, {} with a different scope or links\n",
        r.checked, r.rebuilt, r.changed
    ))?;
    Ok(ExitCode::SUCCESS)
}

fn log(
    db: &Path,
    differ: &Differ<'_>,
    source: Option<&str>,
    since: Option<&str>,
    format: EventsFormat,
) -> anyhow::Result<ExitCode> {
    let store = open_existing(db)?;
    let since = since.map(parse_day).transpose()?;
    let events = history::log(&store, differ, source, since)?;
    emit(&match format {
        EventsFormat::Text => report::events_text(&events),
        EventsFormat::Json => json(&events)?,
        EventsFormat::Csv => report::events_csv(&events)?,
        EventsFormat::Markdown => report::events_markdown(&events),
    })?;
    Ok(ExitCode::SUCCESS)
}

fn report(
    db: &Path,
    differ: &Differ<'_>,
    aliases: &AliasTable,
    source: &str,
    from: Option<&str>,
    to: Option<&str>,
    output: &Path,
) -> anyhow::Result<ExitCode> {
    let store = open_existing(db)?;
    let from = from.map(parse_day).transpose()?;
    let to = to
        .map(parse_day)
        .transpose()?
        .unwrap_or_else(|| chrono::Utc::now().date_naive());
    let source = (source != "all").then_some(source);
    let data = report::data::gather(&store, differ, aliases, source, from, to)?;
    std::fs::write(output, report::html::render(&data))
        .with_context(|| format!("writing {}", output.display()))?;
    let changes: usize = data.offerings.iter().map(|o| o.events.len()).sum();
    emit(&format!(
        "wrote {}: {changes} scope change events across {} offerings\n",
        output.display(),
        data.offerings.len()
    ))?;
    Ok(ExitCode::SUCCESS)
}

fn feed(
    db: &Path,
    differ: &Differ<'_>,
    source: Option<&str>,
    since: Option<&str>,
    output: &Path,
) -> anyhow::Result<ExitCode> {
    let store = open_existing(db)?;
    let since = since.map(parse_day).transpose()?;
    let events = history::log(&store, differ, source, since)?;
    let feed_id = format!("urn:scopewatch:feed:{}", source.unwrap_or("all"));
    let atom = report::feed::render(&events, |s| store.source_url(s).ok().flatten(), &feed_id);
    std::fs::write(output, atom).with_context(|| format!("writing {}", output.display()))?;
    emit(&format!(
        "wrote {}: {} events\n",
        output.display(),
        events.len()
    ))?;
    Ok(ExitCode::SUCCESS)
}

fn timeline(
    db: &Path,
    aliases: &AliasTable,
    service: &str,
    format: TableFormat,
) -> anyhow::Result<ExitCode> {
    let store = open_existing(db)?;
    let t = history::timeline(&store, aliases, service)?;
    emit(&match format {
        TableFormat::Text => report::timeline_text(&t),
        TableFormat::Json => json(&t)?,
        TableFormat::Csv => report::timeline_csv(&t)?,
    })?;
    Ok(ExitCode::SUCCESS)
}

fn matrix(
    db: &Path,
    aliases: &AliasTable,
    at: Option<&str>,
    format: TableFormat,
) -> anyhow::Result<ExitCode> {
    let store = open_existing(db)?;
    let date = match at {
        Some(d) => parse_day(d)?,
        None => chrono::Utc::now().date_naive(),
    };
    let m = history::matrix(&store, aliases, date)?;
    emit(&match format {
        TableFormat::Text => report::matrix_text(&m),
        TableFormat::Json => json(&m)?,
        TableFormat::Csv => report::matrix_csv(&m)?,
    })?;
    Ok(ExitCode::SUCCESS)
}

fn verify(db: &Path) -> anyhow::Result<ExitCode> {
    let store = open_existing(db)?;
    let report = ingest::verify(&store)?;
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

fn export(db: &Path, output: &Path) -> anyhow::Result<ExitCode> {
    let store = open_existing(db)?;
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
    file.persist(output)
        .with_context(|| format!("writing {}", output.display()))?;
    emit(&format!(
        "exported {} sources, {} documents, {} snapshots and {} other records to {}\n",
        counts.sources,
        counts.documents,
        counts.snapshots,
        counts.other,
        output.display()
    ))?;
    Ok(ExitCode::SUCCESS)
}

fn restore(db: &Path, archive: &Path) -> anyhow::Result<ExitCode> {
    let file =
        std::fs::File::open(archive).with_context(|| format!("reading {}", archive.display()))?;
    let _lock = store::lock(db)?;
    let mut store = Store::open(db)?;
    let counts = store.restore(std::io::BufReader::new(file))?;
    emit(&format!(
        "restored {} sources, {} documents, {} snapshots and {} other records into {}\n",
        counts.sources,
        counts.documents,
        counts.snapshots,
        counts.other,
        db.display()
    ))?;
    Ok(ExitCode::SUCCESS)
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

fn init(locale: &str, output: &Path, force: bool) -> anyhow::Result<ExitCode> {
    if output.exists() && !force {
        bail!("{} exists (pass --force to replace it)", output.display());
    }
    std::fs::write(output, config::starter(locale))
        .with_context(|| format!("writing {}", output.display()))?;
    emit(&format!(
        "wrote {} with Microsoft's offering pages ({locale}); add alert channels, then: scopewatch --config {} run\n",
        output.display(),
        output.display()
    ))?;
    Ok(ExitCode::SUCCESS)
}

fn run_job(
    config: &Config,
    aliases: &AliasTable,
    db: &Path,
    progress: bool,
    exit_code: bool,
    format: DataFormat,
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
    emit(&match format {
        DataFormat::Text => report.text(),
        DataFormat::Json => json(&report)?,
    })?;
    Ok(if report.failed() {
        ExitCode::FAILURE
    } else if exit_code && report.scope_changed() {
        ExitCode::from(EXIT_SCOPE_CHANGED)
    } else {
        ExitCode::SUCCESS
    })
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

fn sources(db: &Path, format: DataFormat) -> anyhow::Result<ExitCode> {
    let store = open_existing(db)?;
    let sources = store.sources()?;
    emit(&match format {
        DataFormat::Json => json(&sources)?,
        DataFormat::Text => {
            let width = sources.iter().map(|s| s.id.len()).max().unwrap_or(0);
            sources
                .iter()
                .map(|s| {
                    format!(
                        "{:<width$}  {:>5} snapshots  {} .. {}  {}\n",
                        s.id,
                        s.snapshots,
                        s.first.as_deref().unwrap_or("-"),
                        s.last.as_deref().unwrap_or("-"),
                        s.title.as_deref().unwrap_or("")
                    )
                })
                .collect()
        }
    })?;
    Ok(ExitCode::SUCCESS)
}

fn run_demo(db: Option<&Path>, differ: &Differ<'_>, format: Format) -> anyhow::Result<ExitCode> {
    let temp = tempfile::tempdir().context("creating a temporary directory")?;
    let path = db.map_or_else(|| temp.path().join("demo.db"), Path::to_path_buf);
    let mut store = Store::open(&path)?;
    let run = demo::run(&mut store, differ)?;
    let out = match format {
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
