//! The command line: the arguments (clap), and one thin adapter per command
//! that wires its arguments to the library, in a file per command group.
//! Errors become one line on stderr and a non-zero exit.

mod alert;
mod archive;
mod demo;
mod history;
mod import;
mod job;
mod names;
mod pages;
mod serve;
mod sources;
mod versions;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{ArgAction, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

use crate::canon::AliasTable;
use crate::config::{self, Config};
use crate::diff::Differ;
use crate::run;
use crate::store::Store;

/// Exit status when `--exit-code` is given and the scope changed.
pub const EXIT_SCOPE_CHANGED: u8 = 3;
/// A scope could not be read: `diff` of a version without in-scope
/// services, or `run` that met an extraction anomaly.
pub const EXIT_NOT_COMPARED: u8 = 4;

/// The configuration read when neither `--config` nor `SCOPEWATCH_CONFIG`
/// names one: the file `scopewatch init` writes.
const LOCAL_CONFIG: &str = "scopewatch.toml";

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
    /// Whether `--db` was on the command line rather than from
    /// `SCOPEWATCH_DB`: the demo writes only into a database it was handed.
    #[arg(skip)]
    db_given: bool,
    /// Alias table of known renames, instead of the built-in one
    #[arg(long, global = true, value_name = "FILE")]
    aliases: Option<PathBuf>,
    /// Configuration file (see `scopewatch init`)
    #[arg(long, global = true, env = "SCOPEWATCH_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// More log output on stderr (-v, -vv)
    #[arg(short, long, global = true, action = ArgAction::Count)]
    verbose: u8,
    /// No progress bar (shown on a terminal by run, import, import-git, reparse and verify)
    #[arg(short, long, global = true)]
    quiet: bool,
    /// Log lines as text or JSON objects (on stderr)
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

/// The commands, with the help text and examples `--help` shows; each
/// command's arguments live with its adapter.
#[derive(Debug, Subcommand)]
enum Command {
    /// Parse a saved page (HTML, Markdown or text) and show its scope
    #[command(after_help = "Example:\n  scopewatch parse offering-iso-27001.md --format json")]
    Parse(pages::ParseArgs),
    /// Compare two saved pages, or a source's versions in force at two dates
    #[command(
        after_help = "Examples:\n  scopewatch diff 2020.md 2023.html\n  scopewatch diff --source offering-iso-27001 --from 2021-03-01 --to 2021-04-30 --format json"
    )]
    Diff(pages::DiffArgs),
    /// Store saved page versions in the history database
    #[command(after_help = "Source and date come from the path when not given: \
snapshots/offering-soc-2/2021-07-20.md is source offering-soc-2 captured on 2021-07-20.\n\n\
Example:\n  scopewatch import --source offering-soc-2 --date 2024-01-31 saved.html")]
    Import(import::ImportArgs),
    /// Backfill from the docs' git history: every version of every page file
    #[command(
        name = "import-git",
        after_help = "Each version is dated by its commit's author date; the source id is the file name's stem \
in lower case. Re-running adds nothing twice.\n\n\
Example:\n  git clone -b main compliance-docs.bundle docs\n  scopewatch import-git docs --path 'compliance/regulatory/offering-*.md'"
    )]
    ImportGit(import::ImportGitArgs),
    /// Rebuild stored snapshots from their raw documents with the current parser
    #[command(
        after_help = "Runs in one transaction and fetches nothing. Without --all, only snapshots \
made by another parser version are rebuilt.\n\nExample:\n  scopewatch reparse --all"
    )]
    Reparse(import::ReparseArgs),
    /// Upgrade the database's schema to this version of scopewatch
    #[command(
        after_help = "Commands that write upgrade the schema themselves; commands that only read never \
change a database, and ask for this first.\n\nExample:\n  scopewatch --db history.db migrate"
    )]
    Migrate,
    /// Check every stored document against its hash, and that reparsing reproduces every snapshot
    #[command(
        after_help = "Exit status 1 when anything is wrong.\n\nExample:\n  scopewatch --db history.db verify"
    )]
    Verify,
    /// Write the whole history database to an archive (JSON Lines)
    #[command(
        after_help = "Example:\n  scopewatch --db history.db export --format jsonl -o history.jsonl"
    )]
    Export(archive::ExportArgs),
    /// Restore an archive into a new, empty database
    #[command(after_help = "Example:\n  scopewatch --db restored.db restore history.jsonl")]
    Restore(archive::RestoreArgs),
    /// Every scope change event in date order
    #[command(
        after_help = "Example:\n  scopewatch log --source offering-iso-27001 --since 2021-01-01 --format markdown"
    )]
    Log(history::LogArgs),
    /// A source's stored versions: date, form, service count, parser version
    #[command(after_help = "Example:\n  scopewatch versions offering-iso-27001 --format json")]
    Versions(versions::VersionsArgs),
    /// Print the stored version of a source in force on a date, as `parse` prints a page
    #[command(
        after_help = "Examples:\n  scopewatch show offering-iso-27001 --at 2021-06-30\n  scopewatch show offering-soc-2 --at 3m --format json"
    )]
    Show(versions::ShowArgs),
    /// Write a self-contained HTML report of scope changes
    #[command(
        after_help = "The file has no external assets, works offline and prints well.\n\n\
Example:\n  scopewatch report --from 2021-01-01 --to 2021-12-31 --source all -o report.html"
    )]
    Report(history::ReportArgs),
    /// Write an Atom feed of scope change events
    #[command(
        after_help = "Entry ids are stable, so feed readers never show an event twice.\n\n\
Example:\n  scopewatch feed --since 2022-01-01 -o /var/www/scope/changes.atom"
    )]
    Feed(history::FeedArgs),
    /// Print shell completions
    #[command(
        after_help = "Example:\n  scopewatch completions bash > /etc/bash_completion.d/scopewatch"
    )]
    Completions { shell: clap_complete::Shell },
    /// When a service entered and left each offering's scope, renames followed
    #[command(after_help = "Example:\n  scopewatch timeline \"Microsoft Defender for Endpoint\"")]
    Timeline(history::TimelineArgs),
    /// Where each translated page differs from its English page, and since when
    #[command(
        after_help = "A translated source is compared with the English source of the same id without its \
locale suffix (offering-soc-2-ja-jp with offering-soc-2), or the one its [[source]] names with `english`. \
Exit status 3 with --exit-code when a translation differs.\n\n\
Example:\n  scopewatch lag --source offering-iso-27001-ja-jp --format json"
    )]
    Lag(history::LagArgs),
    /// The English name of each localized service name and row label, with its evidence
    #[command(
        after_help = "Examples:\n  scopewatch names\n  scopewatch names --locale de-de --format json"
    )]
    Names(names::NamesArgs),
    /// Services × offerings in scope at a date
    #[command(
        after_help = "Example:\n  scopewatch matrix --at 2022-01-01 --format csv > matrix.csv"
    )]
    Matrix(history::MatrixArgs),
    /// Serve a read-only web view and JSON API over the history
    #[command(
        after_help = "Loopback only unless a token is given.\n\nExamples:\n  scopewatch serve\n  scopewatch serve --listen 0.0.0.0:8080 --token \"$(openssl rand -hex 16)\""
    )]
    Serve(serve::ServeArgs),
    /// List the sources in the history database, or discover offering pages
    #[command(
        after_help = "Examples:\n  scopewatch sources\n  scopewatch sources mute offering-soc-2\n  scopewatch sources remove offering-soc-2 --purge\n  scopewatch --config scopewatch.toml sources discover"
    )]
    Sources(job::SourcesArgs),
    /// Write a starter configuration listing Microsoft's offering pages
    #[command(
        after_help = "Example:\n  scopewatch init --locale fr-fr --output /etc/scopewatch.toml"
    )]
    Init(job::InitArgs),
    /// Fetch every configured page once, store, diff, alert, and exit
    #[command(
        after_help = "Exit status: 0 when all went well, 1 when a page could not be fetched, an alert \
not delivered or a channel is not ready, 4 when a page's scope could not be extracted (an anomaly), \
3 with --exit-code when a scope changed.\n\n\
Without --config or SCOPEWATCH_CONFIG, ./scopewatch.toml is read.\n\n\
Examples:\n  scopewatch run --dry-run\n  30 2 * * * scopewatch --config /etc/scopewatch.toml run --quiet"
    )]
    Run(job::RunArgs),
    /// Prove the alert channels: send a sample alert on each, or on one
    #[command(
        after_help = "Nothing is queued in the database. Exit status 1 when a channel failed.\n\n\
Examples:\n  scopewatch --config /etc/scopewatch.toml alert test\n  scopewatch alert test --channel slack"
    )]
    Alert(alert::AlertArgs),
    /// Run on the configured cron schedule until SIGINT or SIGTERM
    #[command(after_help = "A signal during a run lets the run finish first.\n\n\
Example:\n  scopewatch --config /etc/scopewatch.toml daemon --log-format json")]
    Daemon,
    /// Replay the bundled page versions through parse, store and diff, offline
    #[command(
        after_help = "Uses a temporary database unless --db is given on the command line; SCOPEWATCH_DB is never used.\n\nExamples:\n  scopewatch demo\n  scopewatch --db demo.db demo --format markdown"
    )]
    Demo(demo::DemoArgs),
}

/// Output formats of the commands that report changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
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
    let matches = Cli::command().get_matches();
    let mut cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    // A global option may come before the command or after it.
    let on_command_line =
        |m: &clap::ArgMatches| m.value_source("db") == Some(clap::parser::ValueSource::CommandLine);
    cli.db_given = on_command_line(&matches)
        || matches
            .subcommand()
            .is_some_and(|(_, sub)| on_command_line(sub));
    // A daemon says what it does at the default level: it has no other output.
    let daemon = matches!(cli.command, Command::Daemon);
    init_logging(cli.verbose + u8::from(daemon), cli.log_format);
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", one_line(&e));
            ExitCode::FAILURE
        }
    }
}

/// An error and its causes on one line, each said once: many errors
/// already name their cause, and anyhow's chain would repeat it.
fn one_line(error: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in error.chain() {
        let text = match cause.downcast_ref::<std::io::Error>() {
            Some(io) => crate::error::io_reason(io),
            None => cause.to_string(),
        };
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

fn init_logging(verbose: u8, format: LogFormat) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("scopewatch={level}")));
    // Colors only on a terminal, as for the commands' output: a log file
    // (`2>>file` from cron) gets plain text. NO_COLOR and CLICOLOR_FORCE
    // count as they do there.
    let ansi = anstream::AutoStream::choice(&std::io::stderr()) != anstream::ColorChoice::Never;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.without_time().try_init(),
    };
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let local = Path::new(LOCAL_CONFIG);
    let config_path = cli
        .config
        .clone()
        .or_else(|| (cli.command.needs_config() && local.is_file()).then(|| local.into()));
    let config = match &config_path {
        Some(path) => Some(Config::load(path)?),
        None => None,
    };
    let db = cli
        .db
        .clone()
        .or_else(|| config.as_ref().map(|c| c.database.clone()))
        .unwrap_or_else(|| PathBuf::from("scopewatch.db"));
    // A file of the user's is read first, whatever the command: a mistake
    // in it is said before anything runs. The rest of the table is built
    // by the commands that use it.
    let given = cli
        .aliases
        .as_deref()
        .map(config::load_aliases)
        .transpose()?;
    let aliases = || alias_table(given.clone(), &db);
    let progress = !cli.quiet && std::io::stderr().is_terminal();
    let config = config.as_ref();
    match cli.command {
        Command::Parse(args) => pages::parse(args, config),
        Command::Diff(args) => {
            let aliases = aliases();
            pages::diff(&db, &aliases, &Differ::new(&aliases), config, args)
        }
        Command::Import(args) => import::import(&db, config, progress, args),
        Command::ImportGit(args) => import::import_git(&db, config, progress, args),
        Command::Reparse(args) => import::reparse(&db, progress, args),
        Command::Migrate => import::migrate(&db),
        Command::Verify => archive::verify(&db, progress),
        Command::Export(args) => archive::export(&db, args),
        Command::Restore(args) => archive::restore(&db, args),
        Command::Log(args) => {
            let aliases = aliases();
            history::log(&db, &aliases, &Differ::new(&aliases), args)
        }
        Command::Versions(args) => versions::versions(&db, args),
        Command::Show(args) => versions::show(&db, args),
        Command::Report(args) => {
            let aliases = aliases();
            history::report(&db, config, &Differ::new(&aliases), &aliases, args)
        }
        Command::Feed(args) => history::feed(&db, &Differ::new(&aliases()), args),
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "scopewatch",
                &mut std::io::stdout(),
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Timeline(args) => history::timeline(&db, &aliases(), args),
        Command::Matrix(args) => history::matrix(&db, &aliases(), args),
        Command::Lag(args) => {
            let aliases = aliases();
            history::lag(&db, config, &Differ::new(&aliases), &aliases, args)
        }
        Command::Names(args) => names::names(&db, args),
        Command::Sources(args) => job::sources(config, &db, &Differ::new(&aliases()), args),
        Command::Init(args) => job::init(args),
        Command::Run(args) => {
            // Built while the store opens and the first pages are fetched.
            let (given, at) = (given.clone(), db.clone());
            let aliases: run::AliasSource = Box::new(move || alias_table(given, &at));
            job::run(need_config(config)?, aliases, &db, progress, args)
        }
        Command::Daemon => job::daemon(need_config(config)?, &aliases(), &db),
        Command::Alert(args) => alert::alert(need_config(config)?, args),
        Command::Serve(args) => serve::serve(&db, Arc::unwrap_or_clone(aliases()), args),
        Command::Demo(args) => {
            let aliases = aliases();
            demo::demo(
                cli.db.as_deref().filter(|_| cli.db_given),
                &Differ::new(&aliases),
                args,
            )
        }
    }
}

/// The alias table the commands identify services with: the one given
/// (`--aliases`) or the built-in one, with the names learned from the
/// database at `db`.
fn alias_table(given: Option<AliasTable>, db: &Path) -> Arc<AliasTable> {
    let table = given.unwrap_or_else(AliasTable::builtin);
    Arc::new(table.with_localized(names::learned_in(db)))
}

impl Command {
    /// The commands that cannot do without a configuration.
    fn needs_config(&self) -> bool {
        match self {
            Command::Run(_) | Command::Daemon | Command::Alert(_) => true,
            Command::Sources(args) => args.discovers(),
            _ => false,
        }
    }
}

/// The configuration, for the commands that cannot do without one.
fn need_config(config: Option<&Config>) -> anyhow::Result<&Config> {
    config.context(
        "no configuration: pass --config FILE, or write ./scopewatch.toml with `scopewatch init`",
    )
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

/// A date as every command takes it: YYYY-MM-DD, `today`, `yesterday`, or
/// a time back from today (UTC) in days, weeks or months: `7d`, `3w`, `2m`.
fn day(text: &str) -> anyhow::Result<chrono::NaiveDate> {
    day_from(text, chrono::Utc::now().date_naive())
}

fn day_from(text: &str, today: chrono::NaiveDate) -> anyhow::Result<chrono::NaiveDate> {
    let word = text.trim().to_ascii_lowercase();
    let back = match word.as_str() {
        "today" => Some(today),
        "yesterday" => today.pred_opt(),
        _ => word
            .char_indices()
            .last()
            .filter(|(i, _)| *i > 0)
            .and_then(|(i, unit)| Some((word[..i].parse::<u32>().ok()?, unit)))
            .and_then(|(n, unit)| match unit {
                'd' => today.checked_sub_days(chrono::Days::new(n.into())),
                'w' => today.checked_sub_days(chrono::Days::new(u64::from(n) * 7)),
                'm' => today.checked_sub_months(chrono::Months::new(n)),
                _ => None,
            }),
    };
    match back {
        Some(date) => Ok(date),
        None => Ok(crate::ingest::parse_day(text)?),
    }
}

/// A progress bar on stderr for a long command of `len` steps (0 until the
/// job says how many: see [`follow`]). Hidden unless `shown` (a terminal,
/// and no --quiet), so cron logs get nothing.
fn progress_bar(shown: bool, len: u64, what: &str) -> indicatif::ProgressBar {
    use indicatif::{ProgressBar, ProgressStyle};
    if !shown {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} {wide_msg}") {
        bar.set_style(style);
    }
    bar.set_message(what.to_string());
    bar
}

/// The callback that moves `bar` along as a library job reports its steps.
fn follow(bar: &indicatif::ProgressBar) -> impl Fn(crate::Step) + '_ {
    move |step| {
        bar.set_length(step.total as u64);
        bar.set_position(step.done as u64);
    }
}

/// Opens an existing database for writing, holding its lock.
fn open_for_writing(db: &Path) -> anyhow::Result<(crate::store::WriteLock, Store)> {
    if !db.exists() {
        return Err(crate::Error::NoDatabase {
            path: db.to_path_buf(),
        }
        .into());
    }
    let lock = crate::store::lock(db)?;
    Ok((lock, Store::open(db)?))
}

/// Opens the database for a command that only reads it.
fn open_existing(db: &Path) -> anyhow::Result<Store> {
    Ok(Store::open_read(db)?)
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    #[test]
    fn dates_back_from_today() {
        let today = NaiveDate::from_ymd_opt(2024, 3, 31).unwrap();
        let day = |t: &str| super::day_from(t, today).unwrap().to_string();
        assert_eq!(day("today"), "2024-03-31");
        assert_eq!(day("Yesterday"), "2024-03-30");
        assert_eq!(day("7d"), "2024-03-24");
        assert_eq!(day("3w"), "2024-03-10");
        assert_eq!(day("1m"), "2024-02-29");
        assert_eq!(day("2021-08-01"), "2021-08-01");
        for bad in ["7x", "d", "-3d", "2021-13-01", "soon"] {
            let e = super::day_from(bad, today).unwrap_err().to_string();
            assert!(e.contains("7d, 3w or 2m"), "{bad}: {e}");
        }
    }
}
