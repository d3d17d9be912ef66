//! Alerts on scope changes: what a message says, and the channels that carry
//! it (generic JSON webhook, Slack, Microsoft Teams, e-mail over SMTP, and a
//! command that reads the change as JSON on stdin).
//!
//! Messages are queued in the store's alert ledger per event and channel
//! before any is sent, so a rerun or restart never sends one twice and a
//! failed delivery is tried again on the next run.

mod format;

use std::time::Duration;

use serde_json::{Value, json};

use crate::Result;
use crate::config::{AlertConfig, AlertKind, Config, UrlError, http_url};
use crate::fetch::FetchError;
use crate::history::SourceDiff;
use crate::report;
use crate::store::{PendingAlert, Store};

/// A message ready for any channel.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// Identifies the event, per source, for the ledger.
    pub event_key: String,
    pub subject: String,
    /// Markdown, kept in the alert ledger for a person reading it; each
    /// channel's own form is built from the payload.
    pub body: String,
    /// JSON, for webhooks and commands.
    pub payload: Value,
}

/// The message for a scope change: the payload is the `diff --format json`
/// shape plus `source`, `url` and `event`.
pub fn scope_change(
    change: &SourceDiff,
    url: &str,
    old_snapshot: i64,
    new_snapshot: i64,
) -> Message {
    let mut payload = serde_json::to_value(change).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut payload {
        map.insert("event".into(), json!("scope_change"));
        map.insert("url".into(), json!(url));
        // On a scope-matrix page each change's environment is its program.
        if change.profile.is_some() {
            for list in ["added", "removed", "renamed", "reworded", "qualified"] {
                for entry in map
                    .get_mut(list)
                    .and_then(Value::as_array_mut)
                    .into_iter()
                    .flatten()
                {
                    let program = entry["environment"].clone();
                    if let Value::Object(entry) = entry {
                        entry.insert("program".into(), program);
                    }
                }
            }
        }
    }
    Message {
        event_key: format!("change:{old_snapshot}:{new_snapshot}"),
        subject: format!(
            "scopewatch: {} scope changed ({})",
            change.source,
            report::summary(&change.diff)
        ),
        body: format!(
            "{}\n{url}\n",
            report::source_diffs_markdown(std::slice::from_ref(change))
        ),
        payload,
    }
}

/// The message for a page whose extraction collapsed while it is still
/// served: the last good snapshot stays current, nothing is reported removed.
pub fn anomaly(
    source: &str,
    url: &str,
    problem: &str,
    last_good: Option<&str>,
    key: &str,
) -> Message {
    let keeping = last_good
        .map(|d| format!(" The snapshot of {d} stays current."))
        .unwrap_or_default();
    let message =
        format!("{problem}.{keeping} Check the page and scopewatch's parser before relying on it.");
    Message {
        event_key: format!("anomaly:{key}"),
        subject: format!("scopewatch: extraction anomaly on {source}"),
        body: format!(
            "**Extraction anomaly** on {}: {}\n{url}\n",
            report::escape_markdown(source),
            report::escape_markdown(&message)
        ),
        payload: json!({
            "event": "extraction_anomaly",
            "source": source,
            "url": url,
            "message": message,
            "last_good": last_good,
        }),
    }
}

/// Why an alert was not delivered. None of them repeats a channel's URL or
/// credentials.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error("environment variable {0} is not set")]
    MissingEnv(String),
    #[error("the channel's address: {0}")]
    Address(#[from] UrlError),
    #[error("the channel has no {0}")]
    Incomplete(&'static str),
    #[error("timed out after {} s", .0.as_secs())]
    TimedOut(Duration),
    #[error("timed out: the run's delivery budget of {} s was spent", .0.as_secs())]
    BudgetSpent(Duration),
    #[error("delivery failed: {0}")]
    Transport(#[source] reqwest::Error),
    #[error("receiver answered HTTP {0}")]
    Status(u16),
    #[error("the queued payload is not JSON: {0}")]
    Payload(#[from] serde_json::Error),
    #[error("e-mail address {address:?}: {source}")]
    Address822 {
        address: String,
        source: lettre::address::AddressError,
    },
    #[error("e-mail: {0}")]
    Mail(#[from] lettre::error::Error),
    #[error("smtp: {0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
    #[error("cannot run {program}: {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    /// The command did not exit 0: its status, and the end of what it said.
    #[error("{program} exited with {status}{}", describe_stderr(.stderr, .stopped_reading))]
    Command {
        program: String,
        status: std::process::ExitStatus,
        stderr: String,
        stopped_reading: bool,
    },
}

fn describe_stderr(stderr: &str, stopped_reading: &bool) -> String {
    let mut out = String::new();
    if *stopped_reading {
        out.push_str(", before reading all of the alert");
    }
    if !stderr.is_empty() {
        out.push_str(": ");
        out.push_str(stderr);
    }
    out
}

/// Reads a secret named by a channel from the environment.
fn secret(var: &str) -> Result<String, DeliveryError> {
    std::env::var(var).map_err(|_| DeliveryError::MissingEnv(var.to_string()))
}

/// The channel's address, checked where it is used: one read from the
/// environment was never seen by the configuration's validation.
fn url_of(channel: &AlertConfig) -> Result<reqwest::Url, DeliveryError> {
    let url = match (&channel.url, &channel.url_env) {
        (Some(url), _) => url.clone(),
        (None, Some(var)) => secret(var)?,
        (None, None) => return Err(DeliveryError::Incomplete("url")),
    };
    Ok(http_url(&url)?)
}

/// Delivers one queued message on a channel, within the channel's timeout
/// or what is `left` of the run's budget, whichever is shorter.
async fn deliver(
    channel: &AlertConfig,
    client: &reqwest::Client,
    alert: &PendingAlert,
    left: Duration,
    budget: Duration,
) -> Result<(), DeliveryError> {
    let (limit, timed_out) = if channel.timeout() <= left {
        (
            channel.timeout(),
            DeliveryError::TimedOut(channel.timeout()),
        )
    } else {
        (left, DeliveryError::BudgetSpent(budget))
    };
    tokio::time::timeout(limit, deliver_now(channel, client, alert))
        .await
        .map_err(|_| timed_out)?
}

/// Why a channel cannot deliver as configured, found without sending
/// anything: an unset variable, an address that is not one, a missing field.
fn ready(channel: &AlertConfig) -> Result<(), DeliveryError> {
    match channel.kind {
        AlertKind::Webhook | AlertKind::Slack | AlertKind::Teams => url_of(channel).map(|_| ()),
        AlertKind::Email => {
            channel
                .smtp_host
                .as_deref()
                .ok_or(DeliveryError::Incomplete("smtp_host"))?;
            channel
                .from
                .as_deref()
                .ok_or(DeliveryError::Incomplete("from"))?;
            if channel.to.is_empty() {
                return Err(DeliveryError::Incomplete("to"));
            }
            match &channel.password_env {
                Some(var) => secret(var).map(|_| ()),
                None => Ok(()),
            }
        }
        AlertKind::Command if channel.command.is_empty() => {
            Err(DeliveryError::Incomplete("command"))
        }
        AlertKind::Command => Ok(()),
    }
}

/// `{channel}: {why}` for each configured channel that cannot deliver.
pub fn channels_not_ready(config: &Config) -> Vec<String> {
    config
        .alerts
        .iter()
        .filter_map(|c| ready(c).err().map(|e| format!("{}: {e}", c.name())))
        .collect()
}

/// The JSON a webhook or command receives: the queued payload with the
/// event's id, which stays the same when a delivery is repeated.
fn with_event_id(alert: &PendingAlert) -> Result<Value, DeliveryError> {
    let mut payload: Value = serde_json::from_str(&alert.payload)?;
    if let Value::Object(map) = &mut payload {
        map.insert("event_id".into(), json!(alert.event_key));
    }
    Ok(payload)
}

async fn deliver_now(
    channel: &AlertConfig,
    client: &reqwest::Client,
    alert: &PendingAlert,
) -> Result<(), DeliveryError> {
    let subject = &alert.subject;
    match channel.kind {
        AlertKind::Webhook => {
            let request = client
                .post(url_of(channel)?)
                .header("Idempotency-Key", &alert.event_key)
                .json(&with_event_id(alert)?);
            send(request).await
        }
        AlertKind::Slack => {
            let payload: Value = serde_json::from_str(&alert.payload)?;
            post(client, url_of(channel)?, &format::slack(subject, &payload)).await
        }
        AlertKind::Teams => {
            let payload: Value = serde_json::from_str(&alert.payload)?;
            post(client, url_of(channel)?, &format::teams(subject, &payload)).await
        }
        AlertKind::Email => {
            let payload: Value = serde_json::from_str(&alert.payload)?;
            let (plain, html) = format::email(subject, &payload);
            email(channel, subject, plain, html).await
        }
        AlertKind::Command => command(&channel.command, &with_event_id(alert)?.to_string()).await,
    }
}

async fn post(
    client: &reqwest::Client,
    url: reqwest::Url,
    body: &Value,
) -> Result<(), DeliveryError> {
    send(client.post(url).json(body)).await
}

async fn send(request: reqwest::RequestBuilder) -> Result<(), DeliveryError> {
    let response = request
        .send()
        .await
        .map_err(|e| DeliveryError::Transport(e.without_url()))?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(DeliveryError::Status(response.status().as_u16()))
    }
}

async fn email(
    channel: &AlertConfig,
    subject: &str,
    plain: String,
    html: String,
) -> Result<(), DeliveryError> {
    use lettre::message::MultiPart;
    use lettre::transport::smtp::authentication::Credentials;
    use lettre::{AsyncSmtpTransport, AsyncTransport, Message as Mail, Tokio1Executor};

    let host = channel
        .smtp_host
        .as_deref()
        .ok_or(DeliveryError::Incomplete("smtp_host"))?;
    let from = channel
        .from
        .as_deref()
        .ok_or(DeliveryError::Incomplete("from"))?;
    let address = |a: &str| {
        a.parse().map_err(|source| DeliveryError::Address822 {
            address: a.to_string(),
            source,
        })
    };
    let mut mail = Mail::builder().from(address(from)?).subject(subject);
    for to in &channel.to {
        mail = mail.to(address(to)?);
    }
    let mail = mail.multipart(MultiPart::alternative_plain_html(plain, html))?;
    let mut transport = match channel.tls.as_deref().unwrap_or("starttls") {
        "tls" => AsyncSmtpTransport::<Tokio1Executor>::relay(host)?,
        "none" => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
        _ => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)?,
    };
    if let Some(port) = channel.smtp_port {
        transport = transport.port(port);
    }
    if let (Some(user), Some(var)) = (&channel.username, &channel.password_env) {
        transport = transport.credentials(Credentials::new(user.clone(), secret(var)?));
    }
    transport.build().send(mail).await?;
    Ok(())
}

/// How much of a command's standard error a failure reports: its end.
const STDERR_TAIL: usize = 500;

/// Runs a command with the alert on its standard input. Writing the input
/// and waiting for the exit go on together, so a command that never reads
/// is caught by the timeout around this call, and one that exits 0 without
/// reading everything has still received the alert.
async fn command(argv: &[String], payload: &str) -> Result<(), DeliveryError> {
    use tokio::io::AsyncWriteExt;

    let (program, args) = argv
        .split_first()
        .ok_or(DeliveryError::Incomplete("command"))?;
    let mut child = tokio::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|source| DeliveryError::Spawn {
            program: program.clone(),
            source,
        })?;
    let stdin = child.stdin.take();
    let write = async move {
        match stdin {
            // Dropped once written, so that the command sees the end.
            Some(mut stdin) => stdin.write_all(payload.as_bytes()).await.is_ok(),
            None => false,
        }
    };
    let (written, output) = tokio::join!(write, child.wait_with_output());
    let output = output.map_err(|source| DeliveryError::Spawn {
        program: program.clone(),
        source,
    })?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stderr = stderr.trim();
    let cut = stderr.len().saturating_sub(STDERR_TAIL);
    let cut = (cut..stderr.len())
        .find(|&i| stderr.is_char_boundary(i))
        .unwrap_or(stderr.len());
    Err(DeliveryError::Command {
        program: program.clone(),
        status: output.status,
        stderr: stderr[cut..].to_string(),
        stopped_reading: !written,
    })
}

/// Sends a sample alert on every configured channel, or on the one named,
/// without the ledger: proof that a channel works before a real change.
/// Returns each channel's name and outcome.
pub async fn send_test(
    config: &Config,
    only: Option<&str>,
) -> Result<Vec<(String, Result<(), DeliveryError>)>> {
    let client = client(config)?;
    let now = chrono::Utc::now();
    let subject = "scopewatch: test alert".to_string();
    let message = format!(
        "This is a test from scopewatch, sent {}: this channel receives scope change alerts.",
        now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    let sample = PendingAlert {
        id: 0,
        channel: String::new(),
        source: "scopewatch-test".into(),
        event_key: format!("test:{}", now.timestamp_micros()),
        subject: subject.clone(),
        body: format!("{message}\n"),
        payload: json!({ "event": "test", "source": "scopewatch-test", "message": message })
            .to_string(),
        attempts: 0,
    };
    let mut outcomes = Vec::new();
    for channel in config
        .alerts
        .iter()
        .filter(|c| only.is_none_or(|name| c.name() == name))
    {
        let budget = channel.timeout();
        let outcome = deliver(channel, &client, &sample, budget, budget).await;
        outcomes.push((channel.name().to_string(), outcome));
    }
    Ok(outcomes)
}

fn client(config: &Config) -> Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .user_agent(config.user_agent.as_str())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| FetchError::Client(e.without_url()))?)
}

/// What came of the run's deliveries.
#[derive(Debug, Default)]
pub struct Deliveries {
    pub sent: usize,
    /// `{source} on {channel}: {why}` for each alert not delivered.
    pub failed: Vec<String>,
}

/// Delivers every queued alert whose channel is still configured, recording
/// each outcome in the ledger as it comes.
///
/// Each channel has a task of its own, so a hanging receiver delays only its
/// own alerts; within a channel alerts go in the order they were queued. A
/// channel that times out is not tried again this run, and nothing is tried
/// once the run's budget (`[delivery] budget_secs`) is spent: what is left
/// stays queued for the next run.
pub async fn deliver_pending(store: &Store, config: &Config) -> Result<Deliveries> {
    let mut queues: Vec<(AlertConfig, Vec<PendingAlert>)> = Vec::new();
    // A muted source's alerts stay queued until it is tracked again.
    let held = store.held_sources()?;
    for pending in store.pending_alerts()? {
        if held.iter().any(|(id, _)| *id == pending.source) {
            continue;
        }
        let Some(channel) = config.alerts.iter().find(|c| c.name() == pending.channel) else {
            continue;
        };
        match queues.iter_mut().find(|(c, _)| c.name() == channel.name()) {
            Some((_, alerts)) => alerts.push(pending),
            None => queues.push((channel.clone(), vec![pending])),
        }
    }
    let mut report = Deliveries::default();
    if queues.is_empty() {
        // Most nights there is nothing to deliver, and no client to build.
        return Ok(report);
    }
    let client = client(config)?;
    let budget = config.delivery.budget();
    let deadline = tokio::time::Instant::now() + budget;
    let (sender, mut outcomes) = tokio::sync::mpsc::unbounded_channel();
    let mut tasks = tokio::task::JoinSet::new();
    for (channel, alerts) in &queues {
        let (channel, alerts, client, sender) = (
            channel.clone(),
            alerts.clone(),
            client.clone(),
            sender.clone(),
        );
        tasks.spawn(async move {
            for alert in alerts {
                let left = deadline.saturating_duration_since(tokio::time::Instant::now());
                if left.is_zero() {
                    return;
                }
                let outcome = deliver(&channel, &client, &alert, left, budget).await;
                let timed_out = matches!(
                    outcome,
                    Err(DeliveryError::TimedOut(_) | DeliveryError::BudgetSpent(_))
                );
                if sender.send((alert.id, outcome)).is_err() || timed_out {
                    return;
                }
            }
        });
    }
    drop(sender);
    let mut done = std::collections::HashSet::new();
    let mut timed_out = std::collections::HashSet::new();
    // Every task stops by the deadline; the margin lets the last outcomes in.
    while let Ok(Some((id, outcome))) =
        tokio::time::timeout_at(deadline + Duration::from_secs(1), outcomes.recv()).await
    {
        done.insert(id);
        let Some((channel, alert)) = queues
            .iter()
            .find_map(|(c, alerts)| alerts.iter().find(|a| a.id == id).map(|a| (c, a)))
        else {
            continue;
        };
        match outcome {
            Ok(()) => {
                store.alert_delivered(id, Ok(()))?;
                report.sent += 1;
            }
            Err(e) => {
                let why = e.to_string();
                store.alert_delivered(id, Err(&why))?;
                if let DeliveryError::TimedOut(_) = e {
                    timed_out.insert(channel.name().to_string());
                }
                report
                    .failed
                    .push(format!("{} on {}: {why}", alert.source, channel.name()));
            }
        }
    }
    tasks.abort_all();
    let budget_spent = tokio::time::Instant::now() >= deadline;
    for (channel, alerts) in &queues {
        for alert in alerts.iter().filter(|a| !done.contains(&a.id)) {
            let why = if timed_out.contains(channel.name()) {
                "not tried: the channel timed out earlier in this run".to_string()
            } else if budget_spent {
                format!(
                    "not tried: the run's delivery budget of {} s was spent",
                    config.delivery.budget_secs
                )
            } else {
                "not tried".to_string()
            };
            report.failed.push(format!(
                "{} on {}: {why}; it stays queued for the next run",
                alert.source,
                channel.name()
            ));
        }
    }
    Ok(report)
}
