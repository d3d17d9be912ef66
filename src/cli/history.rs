//! Questions to the history database: `diff --source`, `log`, `timeline`,
//! `matrix`, `lag`, and the `report` and `feed` files.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use chrono::NaiveDate;
use clap::{Args, ValueEnum};

use super::{DataFormat, EXIT_SCOPE_CHANGED, Format, day, emit, json, open_existing, warn_all};
use crate::canon::AliasTable;
use crate::config::Config;
use crate::diff::{Diff, Differ};
use crate::history::{self, ServiceQuery, SourceDiff};
use crate::store::Store;
use crate::{lag, report};

#[derive(Debug, Args)]
pub(super) struct LogArgs {
    #[arg(long)]
    source: Option<String>,
    /// Events on this date or later
    #[arg(long, value_name = "DATE")]
    since: Option<String>,
    /// Events on this date or earlier
    #[arg(long, value_name = "DATE")]
    until: Option<String>,
    /// Only events of these kinds (repeat, or separate with commas)
    #[arg(long, value_delimiter = ',', value_parser = clap::builder::PossibleValuesParser::new(report::fields::KINDS))]
    kind: Vec<String>,
    /// Only events that name this service: any of its names, or a part of one
    #[arg(long, value_name = "NAME")]
    service: Option<String>,
    /// Only events in this environment (an applicability row such as "GCC High")
    #[arg(long, value_name = "NAME")]
    environment: Option<String>,
    #[arg(long, value_enum, default_value_t = EventsFormat::Text)]
    format: EventsFormat,
}

#[derive(Debug, Args)]
pub(super) struct ReportArgs {
    /// Start date [default: the whole history]
    #[arg(long, value_name = "DATE")]
    from: Option<String>,
    /// End date [default: today]
    #[arg(long, value_name = "DATE")]
    to: Option<String>,
    /// One source, or all
    #[arg(long, default_value = "all")]
    source: String,
    #[arg(short, long, value_name = "FILE", default_value = "report.html")]
    output: PathBuf,
}

#[derive(Debug, Args)]
pub(super) struct FeedArgs {
    #[arg(long)]
    source: Option<String>,
    #[arg(long, value_name = "DATE")]
    since: Option<String>,
    #[arg(short, long, value_name = "FILE", default_value = "changes.atom")]
    output: PathBuf,
    /// Where the feed is published, for its `self` link
    #[arg(long, value_name = "URL")]
    url: Option<String>,
}

#[derive(Debug, Args)]
pub(super) struct TimelineArgs {
    service: String,
    #[arg(long, value_enum, default_value_t = TableFormat::Text)]
    format: TableFormat,
}

#[derive(Debug, Args)]
pub(super) struct MatrixArgs {
    /// The date [default: today]
    #[arg(long, value_name = "DATE")]
    at: Option<String>,
    /// Only services listed under this environment (an applicability row such as "GCC High")
    #[arg(long, value_name = "NAME")]
    environment: Option<String>,
    #[arg(long, value_enum, default_value_t = MatrixFormat::Text)]
    format: MatrixFormat,
}

/// Formats of the matrix: a table, so CSV and Markdown too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum MatrixFormat {
    Text,
    Json,
    Csv,
    Markdown,
}

#[derive(Debug, Args)]
pub(super) struct LagArgs {
    /// One translated source [default: every one]
    #[arg(long)]
    source: Option<String>,
    /// The date [default: today]
    #[arg(long, value_name = "DATE")]
    at: Option<String>,
    #[arg(long, value_enum, default_value_t = DataFormat::Text)]
    format: DataFormat,
    /// Exit with status 3 when a translation differs from its English page
    #[arg(long)]
    exit_code: bool,
}

/// Formats of the change log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum EventsFormat {
    Text,
    Json,
    Csv,
    Markdown,
}

/// Formats of the history questions; CSV where the answer is a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum TableFormat {
    Text,
    Json,
    Csv,
}

/// `diff --source`: a stored source, or all, between two dates. Whether a
/// scope changed.
pub(super) fn diff_store(
    db: &Path,
    aliases: &AliasTable,
    differ: &Differ<'_>,
    source: &str,
    from: NaiveDate,
    to: NaiveDate,
    format: Format,
) -> anyhow::Result<Vec<Diff>> {
    let store = open_existing(db)?;
    let first_words = |first: Option<NaiveDate>| match first {
        Some(d) => format!("its first is on {d}"),
        None => "it has no version with scope".to_string(),
    };
    let diffs: Vec<SourceDiff> = if source == "all" {
        let diffs = history::between_all(&store, aliases, from, to)?;
        let mut not_yet = Vec::new();
        for s in store.sources()? {
            if !diffs.iter().any(|d| d.source == s.id) {
                let first = history::first_in_force(&store, &s.id)?;
                not_yet.push((s.id, first));
            }
        }
        if diffs.is_empty() {
            let Some((id, first)) = not_yet
                .iter()
                .filter_map(|(id, first)| Some((id, (*first)?)))
                .min_by_key(|(_, first)| *first)
            else {
                bail!("the database holds no version with scope: import pages first");
            };
            bail!(
                "none of the {} sources has a version with scope in force on {from}; the earliest is {id}, on {first}: give a later --from",
                not_yet.len()
            );
        }
        // As for one source, said for each source that had no version yet.
        for (id, first) in &not_yet {
            eprintln!(
                "warning: {id}: no version with scope in force on {from} ({}); left out",
                first_words(*first)
            );
        }
        diffs
    } else {
        match history::between(&store, differ, source, from, to)? {
            Some(d) => vec![d],
            None => bail!(
                "{source} has no version with scope in force on {from} ({}): give a later --from",
                first_words(history::first_in_force(&store, source)?)
            ),
        }
    };
    for d in &diffs {
        warn_all(&d.source, &d.diff.warnings);
    }
    // Of all sources, a reader wants those that changed; the others are
    // counted. JSON keeps every source for programs.
    let (shown, same): (Vec<SourceDiff>, Vec<SourceDiff>) = if source == "all" {
        diffs.iter().cloned().partition(|d| !d.diff.is_empty())
    } else {
        (diffs.clone(), Vec::new())
    };
    let unchanged = match same.len() {
        0 => String::new(),
        n if shown.is_empty() => format!("no change in any of the {n} sources\n"),
        1 => "1 other source unchanged\n".to_string(),
        n => format!("{n} other sources unchanged\n"),
    };
    emit(&match (format, source == "all") {
        (Format::Json, false) => json(&diffs[0])?,
        (Format::Json, true) => json(&diffs)?,
        (Format::Text, _) => report::source_diffs_text(&shown) + &unchanged,
        (Format::Markdown, _) => report::source_diffs_markdown(&shown) + &unchanged,
    })?;
    Ok(diffs.into_iter().map(|d| d.diff).collect())
}

pub(super) fn log(
    db: &Path,
    aliases: &AliasTable,
    differ: &Differ<'_>,
    args: LogArgs,
) -> anyhow::Result<ExitCode> {
    let store = open_existing(db)?;
    let since = args.since.as_deref().map(day).transpose()?;
    let until = args.until.as_deref().map(day).transpose()?;
    if let (Some(from), Some(to)) = (since, until)
        && from > to
    {
        return Err(crate::Error::DateOrder { from, to }.into());
    }
    let mut events = history::log(&store, differ, args.source.as_deref(), since)?;
    let service = args
        .service
        .as_deref()
        .map(|s| ServiceQuery::new(aliases, s));
    let environment = args.environment.as_deref().map(|e| aliases.environment(e));
    events.retain(|e| {
        let f = report::fields::fields(&e.what);
        until.is_none_or(|u| e.date <= u)
            && (args.kind.is_empty() || args.kind.iter().any(|k| k == f.kind))
            && service
                .as_ref()
                .is_none_or(|q| f.names().iter().any(|n| q.matches(n)))
            && environment.is_none_or(|want| {
                f.environment
                    .as_deref()
                    .is_some_and(|env| aliases.environment(env).eq_ignore_ascii_case(want))
            })
    });
    emit(&match args.format {
        EventsFormat::Text => report::events_text(&events),
        EventsFormat::Json => json(&events)?,
        EventsFormat::Csv => report::events_csv(&events)?,
        EventsFormat::Markdown => report::events_markdown(&events),
    })?;
    Ok(ExitCode::SUCCESS)
}

pub(super) fn report(
    db: &Path,
    config: Option<&Config>,
    differ: &Differ<'_>,
    aliases: &AliasTable,
    args: ReportArgs,
) -> anyhow::Result<ExitCode> {
    let store = open_existing(db)?;
    let from = args.from.as_deref().map(day).transpose()?;
    let to = args
        .to
        .as_deref()
        .map(day)
        .transpose()?
        .unwrap_or_else(|| chrono::Utc::now().date_naive());
    let source = (args.source != "all").then_some(args.source.as_str());
    let pairs = lag::pairs(&store, &english_sources(config))?;
    let data = report::data::gather(&store, differ, aliases, &pairs, source, from, to)?;
    let output = &args.output;
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

pub(super) fn feed(db: &Path, differ: &Differ<'_>, args: FeedArgs) -> anyhow::Result<ExitCode> {
    let store = open_existing(db)?;
    let source = args.source.as_deref();
    let since = args.since.as_deref().map(day).transpose()?;
    let events = history::log(&store, differ, source, since)?;
    let feed_id = format!("urn:scopewatch:feed:{}", source.unwrap_or("all"));
    let atom = report::feed::render(
        &events,
        |s| store.source_url(s).ok().flatten(),
        &feed_id,
        args.url.as_deref(),
    );
    let output = &args.output;
    std::fs::write(output, atom).with_context(|| format!("writing {}", output.display()))?;
    emit(&format!(
        "wrote {}: {} events\n",
        output.display(),
        events.len()
    ))?;
    Ok(ExitCode::SUCCESS)
}

pub(super) fn timeline(
    db: &Path,
    aliases: &AliasTable,
    args: TimelineArgs,
) -> anyhow::Result<ExitCode> {
    let store = open_existing(db)?;
    let service = find_service(&store, aliases, &args.service)?;
    let t = history::timeline(&store, aliases, &service)?;
    emit(&match args.format {
        TableFormat::Text => report::timeline_text(&t),
        TableFormat::Json => json(&t)?,
        TableFormat::Csv => report::timeline_csv(&t)?,
    })?;
    Ok(ExitCode::SUCCESS)
}

pub(super) fn matrix(
    db: &Path,
    aliases: &AliasTable,
    args: MatrixArgs,
) -> anyhow::Result<ExitCode> {
    let store = open_existing(db)?;
    let date = match &args.at {
        Some(d) => day(d)?,
        None => chrono::Utc::now().date_naive(),
    };
    let mut m = history::matrix(&store, aliases, date)?;
    if let Some(environment) = &args.environment {
        keep_environment(&store, aliases, &mut m, environment)?;
    }
    emit(&match args.format {
        MatrixFormat::Text => report::matrix::matrix_text(&m, terminal_width()),
        MatrixFormat::Json => json(&m)?,
        MatrixFormat::Csv => report::matrix_csv(&m)?,
        MatrixFormat::Markdown => report::matrix::matrix_markdown(&m),
    })?;
    Ok(ExitCode::SUCCESS)
}

/// The terminal's width from `COLUMNS`, else 100.
fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .filter(|w: &usize| *w >= 40)
        .unwrap_or(100)
}

/// Keeps in the matrix only what each offering lists under `environment`
/// (named as the alias table names environments), in its version in force,
/// and the scope-matrix columns whose program is `environment`.
fn keep_environment(
    store: &Store,
    aliases: &AliasTable,
    m: &mut history::Matrix,
    environment: &str,
) -> anyhow::Result<()> {
    let wanted = aliases.environment(environment).to_string();
    let is_wanted = |env: &str| aliases.environment(env).eq_ignore_ascii_case(&wanted);
    let mut listed: std::collections::HashMap<String, std::collections::BTreeSet<String>> =
        std::collections::HashMap::new();
    for offering in &m.offerings {
        if let Some(p) = m.programs.get(offering) {
            let names = m
                .services
                .iter()
                .filter(|(_, columns)| is_wanted(&p.program) && columns.contains(offering))
                .map(|(service, _)| service.clone())
                .collect();
            listed.insert(offering.clone(), names);
            continue;
        }
        let Some(id) = store.snapshot_id_at(offering, m.date)? else {
            continue;
        };
        let snapshot = store.load(id)?.snapshot;
        let names = snapshot
            .entries()
            .filter(|e| e.environment.is_some_and(is_wanted))
            .map(|e| aliases.canonical_name(e.service.name()).to_string())
            .collect();
        listed.insert(offering.clone(), names);
    }
    for (service, offerings) in m.services.iter_mut() {
        offerings.retain(|o| listed.get(o).is_some_and(|names| names.contains(service)));
    }
    m.services.retain(|_, offerings| !offerings.is_empty());
    m.localized
        .retain(|service, _| m.services.contains_key(service));
    m.offerings
        .retain(|o| listed.get(o).is_some_and(|names| !names.is_empty()));
    if m.offerings.is_empty() {
        bail!(
            "no offering lists services under the environment {environment:?} on {}: see `scopewatch matrix --format csv` and the pages' applicability rows",
            m.date
        );
    }
    Ok(())
}

/// The service a name or a part of one means. A name of a service in the
/// history (any of its known names) is taken as it is; otherwise the one
/// service whose names contain the part, and several are listed for the
/// user to choose.
fn find_service(store: &Store, aliases: &AliasTable, asked: &str) -> anyhow::Result<String> {
    let (exact, found) = history::find_services(store, aliases, asked)?;
    if exact {
        return Ok(asked.to_string());
    }
    match found.as_slice() {
        [] => bail!(
            "no service in this history is named {asked:?} or has it in its name: check the spelling, or see `scopewatch matrix`"
        ),
        [one] => {
            eprintln!("note: {one:?} is the one service whose name contains {asked:?}");
            Ok(one.to_string())
        }
        several => bail!(
            "{} services have {asked:?} in their name: {}; give one of them",
            several.len(),
            several
                .iter()
                .map(|n| format!("{n:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The configuration's explicit pairs: (translated source, English source).
fn english_sources(config: Option<&Config>) -> Vec<(String, String)> {
    config
        .map(|c| {
            c.sources
                .iter()
                .filter_map(|s| Some((s.id.to_string(), s.english.as_ref()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// `lag`: where each translation differs from its English page, and since
/// when.
pub(super) fn lag(
    db: &Path,
    config: Option<&Config>,
    differ: &Differ<'_>,
    aliases: &AliasTable,
    args: LagArgs,
) -> anyhow::Result<ExitCode> {
    let store = open_existing(db)?;
    let at = match &args.at {
        Some(d) => day(d)?,
        None => chrono::Utc::now().date_naive(),
    };
    let mut pairs = lag::pairs(&store, &english_sources(config))?;
    if let Some(source) = &args.source {
        pairs = vec![lag::require_pair(&pairs, &store, source)?.clone()];
    }
    let lags = lag::lag(&store, differ, aliases, &pairs, at)?;
    emit(&match args.format {
        DataFormat::Text => report::lag::lag_text(&lags),
        DataFormat::Json => json(&lags)?,
    })?;
    let behind = lags.iter().any(|l| !l.lags.is_empty());
    Ok(if args.exit_code && behind {
        ExitCode::from(EXIT_SCOPE_CHANGED)
    } else {
        ExitCode::SUCCESS
    })
}
