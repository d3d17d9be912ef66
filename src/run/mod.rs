//! The nightly job: one run (`scopewatch run`) and the scheduled daemon.
//!
//! A run fetches every configured source once, concurrently and politely;
//! stores each new version; diffs it against the last good snapshot; queues
//! an alert per scope change and channel in the ledger; then delivers every
//! queued alert, including those that failed before. One source's failure
//! never stops the others, and a page whose extraction collapses raises an
//! anomaly alert instead of reporting its services removed.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use serde::Serialize;

use crate::alert::{self, Message};
use crate::canon::AliasTable;
use crate::config::{Config, SourceConfig};
use crate::diff::Differ;
use crate::fetch::Fetcher;
use crate::history::SourceDiff;
use crate::model::Snapshot;
use crate::report;
use crate::store::{Imported, NewAlert, NewSnapshot, Packed, Refusal, Store, content_hash, lock};
use crate::{Error, Result};
use scopewatch_core::truncation;

mod daemon;
mod fetch;

pub use daemon::{Discovery, daemon, discover};
use fetch::{Checked, Got, fetch_worker, host_queues};

/// The target the submodules log under: `scopewatch::run`, as when the run
/// was one file, so the log lines (and the JSON log's `target`) still read so.
const LOG_TARGET: &str = module_path!();

/// What happened to one source in a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", content = "detail", rename_all = "snake_case")]
pub enum Outcome {
    /// The server said 304, or sent the same content again.
    Unchanged,
    /// The first version of this source.
    First,
    /// A new version without a scope change (a rewording, say).
    NoScopeChange,
    /// A new version with scope changes: the summary.
    ScopeChanged(String),
    /// The page is served but its scope could not be extracted.
    Anomaly(String),
    /// The page could not be fetched.
    Failed(String),
    /// Muted or removed (`sources mute`, `sources remove`): not fetched.
    Held(String),
}

#[derive(Debug, Clone, Serialize)]
pub struct SourceReport {
    pub source: String,
    #[serde(flatten)]
    pub outcome: Outcome,
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Unchanged => f.write_str("unchanged"),
            Outcome::First => f.write_str("first version stored"),
            Outcome::NoScopeChange => f.write_str("new version, no scope change"),
            Outcome::ScopeChanged(summary) => write!(f, "SCOPE CHANGED: {summary}"),
            Outcome::Anomaly(problem) => write!(f, "ANOMALY: {problem}"),
            Outcome::Failed(error) => write!(f, "FAILED: {error}"),
            Outcome::Held(how) => write!(f, "{how}: not fetched"),
        }
    }
}

/// The summary of a run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunReport {
    /// When the run began, so that each night's lines in a log are dated.
    pub started_at: chrono::DateTime<Utc>,
    pub sources: Vec<SourceReport>,
    pub alerts_sent: usize,
    /// Deliveries that failed this time; they are tried again next run.
    pub alerts_failed: Vec<String>,
    /// Channels that cannot deliver as configured (a secret's variable
    /// unset, say), found before anything is fetched.
    pub channels_not_ready: Vec<String>,
    /// Pages failed to resolve or connect after a full round of retries,
    /// and the others were not retried.
    pub network_down: bool,
}

impl RunReport {
    pub fn failed(&self) -> bool {
        !self.alerts_failed.is_empty()
            || !self.channels_not_ready.is_empty()
            || self.count(|o| matches!(o, Outcome::Failed(_))) > 0
    }

    /// True when a page was served but its scope could not be read: an
    /// extraction anomaly, on every run that still sees it.
    pub fn anomalous(&self) -> bool {
        self.sources
            .iter()
            .any(|s| matches!(s.outcome, Outcome::Anomaly(_)))
    }

    pub fn scope_changed(&self) -> bool {
        self.count(|o| matches!(o, Outcome::ScopeChanged(_))) > 0
    }

    fn count(&self, f: fn(&Outcome) -> bool) -> usize {
        self.sources.iter().filter(|s| f(&s.outcome)).count()
    }

    /// One line per source, then the totals, each dated by the run's start.
    pub fn text(&self) -> String {
        let at = self
            .started_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let mut out = String::new();
        for problem in &self.channels_not_ready {
            out.push_str(&format!("{at}  alert channel not ready: {problem}\n"));
        }
        for s in &self.sources {
            out.push_str(&format!("{at}  {:<44} {}\n", s.source, s.outcome));
        }
        out.push_str(&format!("{at}  {}\n", self.totals()));
        if self.network_down {
            out.push_str(&format!(
                "{at}  the network looks down: pages could not be resolved or connected to after a round of retries, so the rest were not retried\n"
            ));
        }
        for failure in &self.alerts_failed {
            out.push_str(&format!("{at}  alert not delivered: {failure}\n"));
        }
        out
    }

    /// The counts of the run's outcomes, on one line.
    pub fn totals(&self) -> String {
        format!(
            "{} sources: {} changed scope, {} anomalies, {} failed; {} alerts sent, {} failed",
            self.sources.len(),
            self.count(|o| matches!(o, Outcome::ScopeChanged(_))),
            self.count(|o| matches!(o, Outcome::Anomaly(_))),
            self.count(|o| matches!(o, Outcome::Failed(_))),
            self.alerts_sent,
            self.alerts_failed.len()
        )
    }
}

/// How far a run has got, for whoever shows its progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress<'a> {
    /// A source's fetch is done (or failed) and its result is being stored.
    Checked(&'a str),
    /// Every source is checked; the queued alerts are delivered next.
    AllChecked,
}

/// Where a run gets the alias table it diffs with. The run calls it on a
/// thread of its own as it starts and first needs the table when it diffs
/// its first page: building it (the built-in names, and those the database
/// has learned) was most of what a run did before its first request.
pub type AliasSource = Box<dyn FnOnce() -> Arc<AliasTable> + Send>;

/// Results waiting for the store, beyond the one each worker holds.
const WAITING: usize = 8;
/// Pages written per commit at most: a crash loses at most one batch, and
/// the next run fetches it again.
const BATCH_PAGES: usize = 256;
/// How long a batch may stay open while results keep coming.
const BATCH_TIME: Duration = Duration::from_secs(2);
/// How young a batch may be and still wait for more results when none is
/// ready. On loopback the store often finds no result ready for a moment;
/// committing at each such moment made about 300 commits in a 1,000-page
/// first run instead of 4, and each wrote the same index pages to the log
/// again.
const IDLE_COMMIT_AGE: Duration = Duration::from_millis(200);

/// Runs the job once against `db`.
///
/// Each host gets `per_host_concurrency` workers that fetch and parse its
/// pages; the store takes their results as they come. A worker waits to
/// hand over its result before it fetches the next page, so memory holds a
/// few pages however many are configured, and a slow host delays only its
/// own pages. Writes are grouped: a batch commits when the store would
/// otherwise wait for the network (once the batch is [`IDLE_COMMIT_AGE`]
/// old), or at [`BATCH_PAGES`] or [`BATCH_TIME`]; each version with its
/// alerts stays all-or-nothing. `progress` hears of each source as it is
/// checked.
pub async fn run_once(
    config: &Config,
    aliases: AliasSource,
    db: &Path,
    progress: &(dyn Fn(Progress<'_>) + Sync),
) -> Result<RunReport> {
    let aliases = tokio::task::spawn_blocking(aliases);
    let _lock = lock(db)?;
    let mut store = Store::open(db)?;
    let mut report = check_sources(&mut store, config, aliases, progress).await?;
    let deliveries = alert::deliver_pending(&store, config).await?;
    report.alerts_sent = deliveries.sent;
    report.alerts_failed = deliveries.failed;
    Ok(report)
}

/// What a run would store and alert, on a copy of `db`: the database itself
/// is only read, and nothing is sent. Returns the report and the alerts that
/// would be delivered (`channel: subject`), those still queued from
/// earlier runs included.
pub async fn dry_run(
    config: &Config,
    aliases: AliasSource,
    db: &Path,
    progress: &(dyn Fn(Progress<'_>) + Sync),
) -> Result<(RunReport, Vec<String>)> {
    let aliases = tokio::task::spawn_blocking(aliases);
    let scratch = tempfile::tempdir().map_err(Error::Scratch)?;
    let copy = scratch.path().join("dry-run.db");
    if db.exists() {
        Store::open_read(db)?.copy_to(&copy)?;
    }
    let mut store = Store::open(&copy)?;
    let report = check_sources(&mut store, config, aliases, progress).await?;
    let alerts = store
        .pending_alerts()?
        .into_iter()
        .filter(|a| config.alerts.iter().any(|c| c.name() == a.channel))
        .map(|a| format!("{}: {}", a.channel, a.subject))
        .collect();
    Ok((report, alerts))
}

/// Fetches, stores and diffs every configured source into `store`, queuing
/// the alerts the changes call for.
async fn check_sources(
    store: &mut Store,
    config: &Config,
    aliases: tokio::task::JoinHandle<Arc<AliasTable>>,
    progress: &(dyn Fn(Progress<'_>) + Sync),
) -> Result<RunReport> {
    let started_at = Utc::now();
    // A channel that cannot deliver is said at once, not on the first
    // change weeks later.
    let channels_not_ready = alert::channels_not_ready(config);
    for problem in &channels_not_ready {
        tracing::warn!(%problem, "alert channel not ready");
    }
    store.use_job_settings()?;
    let fetcher = Arc::new(Fetcher::new(&config.fetch, &config.user_agent)?);

    let (sender, mut results) = tokio::sync::mpsc::channel::<Checked>(WAITING);
    let mut workers = tokio::task::JoinSet::new();
    let held = store.held_sources()?;
    let (held_here, tracked): (Vec<_>, Vec<_>) = config
        .sources
        .iter()
        .enumerate()
        .partition(|(_, s)| held.iter().any(|(id, _)| id == s.id.as_str()));
    for queue in host_queues(store, config, &tracked)? {
        let count = config.fetch.per_host_concurrency.clamp(1, queue.len());
        let queue = Arc::new(Mutex::new(queue));
        for _ in 0..count {
            workers.spawn(fetch_worker(queue.clone(), fetcher.clone(), sender.clone()));
        }
    }
    drop(sender);

    let aliases = aliases.await.map_err(Error::Worker)?;
    let differ = Differ::new(&aliases);
    let mut outcomes: Vec<Option<Outcome>> = vec![None; config.sources.len()];
    for (index, source) in held_here {
        let how = held
            .iter()
            .find(|(id, _)| id == source.id.as_str())
            .map_or("muted", |(_, how)| how.as_str());
        outcomes[index] = Some(Outcome::Held(how.to_string()));
    }
    let mut batch: Option<(Instant, usize)> = None;
    loop {
        let (index, got, mut attempts) = match results.try_recv() {
            Ok(checked) => checked,
            Err(_) => {
                // Nothing ready. A young batch waits a little for more
                // results; then it commits rather than stay open while the
                // network is slow.
                let young = batch
                    .map(|(opened, _)| IDLE_COMMIT_AGE.saturating_sub(opened.elapsed()))
                    .filter(|rest| !rest.is_zero());
                let early = match young {
                    Some(rest) => tokio::time::timeout(rest, results.recv()).await.ok(),
                    None => None,
                };
                match early {
                    Some(Some(checked)) => checked,
                    Some(None) => break,
                    None => {
                        if batch.take().is_some() {
                            store.commit_batch()?;
                        }
                        match results.recv().await {
                            Some(checked) => checked,
                            None => break,
                        }
                    }
                }
            }
        };
        let source = &config.sources[index];
        progress(Progress::Checked(source.id.as_str()));
        if batch.is_none() {
            store.begin_batch()?;
            batch = Some((Instant::now(), 0));
        }
        let (outcome, refused) = match got {
            Err(e) => (Outcome::Failed(e.to_string()), None),
            Ok(Got::NotModified) => {
                store.still_current(&source.id)?;
                (Outcome::Unchanged, None)
            }
            Ok(Got::Page {
                body,
                validators,
                parsed,
                packed,
            }) => {
                // A version that cannot be stored is rolled back alone and
                // fetched again next run; the batch's other sources go on.
                // A refused response's validators, or those of a version not
                // stored, would make the next run's request a 304 for a
                // version never stored.
                take_version(store, &differ, config, source, &body, *parsed, packed)
                    .and_then(|(outcome, refused)| {
                        if refused.is_none() {
                            store.set_validators(&source.id, &validators)?;
                        }
                        Ok((outcome, refused))
                    })
                    .unwrap_or_else(|e| (Outcome::Failed(format!("not stored: {e}")), None))
            }
        };
        // The attempt that brought a refused response says so: the record
        // shows why nothing was kept, and the next run reads it back.
        if let (Some(refusal), Some(last)) = (&refused, attempts.last_mut()) {
            last.error = Some(refusal.note());
        }
        for attempt in &attempts {
            store.record_attempt(&source.id, &source.url, attempt)?;
        }
        if let Some((opened, pages)) = &mut batch {
            *pages += 1;
            if *pages >= BATCH_PAGES || opened.elapsed() >= BATCH_TIME {
                store.commit_batch()?;
                batch = None;
            }
        }
        tracing::info!(source = %source.id, outcome = %outcome, "checked");
        outcomes[index] = Some(outcome);
    }
    store.commit_last_batch()?;
    // A new version of a localized page (or of the English page it is
    // translated from) may teach names; the next diffs use them.
    let stored_new = outcomes.iter().flatten().any(|o| {
        matches!(
            o,
            Outcome::First | Outcome::NoScopeChange | Outcome::ScopeChanged(_)
        )
    });
    if stored_new {
        crate::ingest::l10n::learn_names(store)?;
    }
    progress(Progress::AllChecked);
    while let Some(joined) = workers.join_next().await {
        joined.map_err(Error::Worker)?;
    }

    let mut report = RunReport {
        started_at,
        channels_not_ready,
        network_down: fetcher.network_down(),
        ..RunReport::default()
    };
    for (source, outcome) in config.sources.iter().zip(outcomes) {
        if let Some(outcome) = outcome {
            report.sources.push(SourceReport {
                source: source.id.to_string(),
                outcome,
            });
        }
    }
    Ok(report)
}

/// Stores a fetched page version and queues the alerts it calls for.
/// Returns the outcome, and why the response was refused if it was: only a
/// response whose version is accepted (stored, or the same as stored) keeps
/// its validators.
fn take_version(
    store: &mut Store,
    differ: &Differ<'_>,
    config: &Config,
    source: &SourceConfig,
    body: &[u8],
    parsed: Result<Snapshot>,
    packed: Option<Packed>,
) -> Result<(Outcome, Option<Refusal>)> {
    let previous = store.latest_good(&source.id)?;
    let last_good = previous
        .as_ref()
        .map(|p| p.captured_at.date_naive().to_string());
    // An anomaly of one kind alerts once until the page recovers, then at
    // most daily; its variants (a login page's tokens, another cut) are
    // not news.
    let anomaly_alerts = |store: &Store, kind: &str, problem: &str| -> Result<Vec<NewAlert>> {
        let now = Utc::now();
        // `alerts_for` and `alert::anomaly` put the source and "anomaly:"
        // before the key given here.
        let kind_key = format!("{}:anomaly:{kind}:", source.id);
        if !store.anomaly_alert_due(&source.id, &kind_key, now)? {
            return Ok(Vec::new());
        }
        let key = format!(
            "{kind}:{}",
            now.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
        );
        let message = alert::anomaly(&source.id, &source.url, problem, last_good.as_deref(), &key);
        Ok(alerts_for(config, &source.id, &message))
    };
    // A page served but not readable is an anomaly once there is a good
    // version to keep; before that, the source simply failed.
    let unusable = |store: &mut Store, kind: &str, problem: String, refusal: Refusal| {
        if previous.is_none() {
            return Ok((Outcome::Failed(problem), Some(refusal)));
        }
        let alerts = anomaly_alerts(store, kind, &problem)?;
        store.enqueue_alerts(&alerts)?;
        Ok((Outcome::Anomaly(problem), Some(refusal)))
    };
    let mut snapshot = match parsed {
        Ok(s) => s,
        Err(e) => {
            let problem = format!("the page is served but unreadable: {e}");
            return unusable(store, "unreadable", problem, Refusal::Anomaly);
        }
    };
    if snapshot.truncated {
        let problem =
            "the page looks truncated (it never closes </html>); nothing was stored".to_string();
        return unusable(store, "truncated", problem, Refusal::Anomaly);
    }
    if let Some(p) = previous.as_ref().filter(|_| snapshot.has_scope()) {
        let before = store.document_size(&p.document_hash)?.unwrap_or(0);
        if let Some(sign) = truncation::cut_short(&p.snapshot, before, &snapshot, body.len()) {
            let hash = content_hash(body);
            if !store.suspected_before(&source.id, &hash)? {
                let problem = format!(
                    "the page looks cut short: {sign}; nothing was stored, and the same page on the next run will be taken as a real change"
                );
                return unusable(store, "cut-short", problem, Refusal::suspect(&hash));
            }
        }
    }
    if snapshot.locale.is_none() {
        snapshot.locale = source.locale.clone();
    }
    let missing = "the in-scope section is missing or empty while the page is still served";
    if previous.is_some() && !snapshot.has_scope() && store.anomaly_on_record(&source.id)? {
        // The first such version is kept as evidence; its variants (a login
        // page's tokens, say) are not.
        let alerts = anomaly_alerts(store, "scope-missing", missing)?;
        store.enqueue_alerts(&alerts)?;
        return Ok((Outcome::Anomaly(missing.into()), Some(Refusal::Anomaly)));
    }
    // Decide the alerts before storing, so that the version and its alerts
    // are written in one transaction.
    let change = previous
        .as_ref()
        .filter(|_| snapshot.has_scope())
        .map(|p| SourceDiff {
            source: source.id.to_string(),
            title: snapshot.title.clone(),
            from: p.captured_at.date_naive(),
            to: Utc::now().date_naive(),
            profile: snapshot.read_with.as_ref().map(|p| p.name.clone()),
            diff: differ.diff(&p.snapshot, &snapshot),
        });
    let missing_alerts = match (&previous, &change) {
        (Some(_), None) => anomaly_alerts(store, "scope-missing", missing)?,
        _ => Vec::new(),
    };
    let imported = store.import_with_alerts(
        &NewSnapshot {
            source: &source.id,
            captured_at: Utc::now(),
            raw: body,
            snapshot: &snapshot,
            origin: &source.url,
            includes: &[],
        },
        packed.as_ref(),
        |id| match (&previous, &change) {
            (Some(_), None) => missing_alerts,
            (Some(p), Some(change)) if change.diff.has_scope_changes() => alerts_for(
                config,
                &source.id,
                &alert::scope_change(change, &source.url, p.id, id),
            ),
            _ => Vec::new(),
        },
    )?;
    store.set_source_url(&source.id, &source.url)?;
    if !snapshot.has_scope() {
        let problem = match previous {
            None => "no in-scope services found on the first version",
            Some(_) => missing,
        };
        return Ok((Outcome::Anomaly(problem.into()), Some(Refusal::Anomaly)));
    }
    if let Imported::Unchanged(_) = imported {
        return Ok((Outcome::Unchanged, None));
    }
    Ok((
        match change {
            None => Outcome::First,
            Some(change) if change.diff.has_scope_changes() => {
                let services = report::services_changed(&change.diff);
                let summary = report::summary(&change.diff);
                Outcome::ScopeChanged(if services.is_empty() {
                    summary
                } else {
                    format!("{summary}: {services}")
                })
            }
            Some(_) => Outcome::NoScopeChange,
        },
        None,
    ))
}

/// The ledger entries of a message: one per channel.
fn alerts_for(config: &Config, source: &str, message: &Message) -> Vec<NewAlert> {
    let payload = message.payload.to_string();
    config
        .alerts
        .iter()
        .map(|channel| NewAlert {
            channel: channel.name().to_string(),
            source: source.to_string(),
            event_key: format!("{source}:{}", message.event_key),
            subject: message.subject.clone(),
            body: message.body.clone(),
            payload: payload.clone(),
        })
        .collect()
}
