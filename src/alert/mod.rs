//! Alerts on scope changes: what a message says, and the channels that carry
//! it (generic JSON webhook, Slack, Microsoft Teams, e-mail over SMTP, and a
//! command that reads the change as JSON on stdin).
//!
//! Messages are queued in the store's alert ledger per event and channel
//! before any is sent, so a rerun or restart never sends one twice and a
//! failed delivery is tried again on the next run.

use std::time::Duration;

use serde_json::{Value, json};

use crate::config::{AlertConfig, AlertKind};
use crate::history::SourceDiff;
use crate::report;

/// A message ready for any channel.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// Identifies the event, per source, for the ledger.
    pub event_key: String,
    pub subject: String,
    /// Markdown, for chat and e-mail.
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

/// Reads a secret named by a channel from the environment.
fn secret(var: &str) -> Result<String, String> {
    std::env::var(var).map_err(|_| format!("environment variable {var} is not set"))
}

fn url_of(channel: &AlertConfig) -> Result<String, String> {
    match (&channel.url, &channel.url_env) {
        (Some(url), _) => Ok(url.clone()),
        (None, Some(var)) => secret(var),
        (None, None) => Err("no url".into()),
    }
}

/// Delivers one queued message on a channel. Errors never include the
/// channel's URL or credentials.
pub async fn deliver(
    channel: &AlertConfig,
    client: &reqwest::Client,
    subject: &str,
    body: &str,
    payload: &str,
) -> Result<(), String> {
    match channel.kind {
        AlertKind::Webhook => {
            let payload: Value = serde_json::from_str(payload).map_err(|e| e.to_string())?;
            post(client, &url_of(channel)?, &payload).await
        }
        AlertKind::Slack => {
            post(
                client,
                &url_of(channel)?,
                &json!({ "text": format!("*{subject}*\n{body}") }),
            )
            .await
        }
        AlertKind::Teams => {
            let card = json!({
                "@type": "MessageCard",
                "@context": "https://schema.org/extensions",
                "summary": subject,
                "title": subject,
                "text": body,
            });
            post(client, &url_of(channel)?, &card).await
        }
        AlertKind::Email => email(channel, subject, body).await,
        AlertKind::Command => command(&channel.command, payload).await,
    }
}

async fn post(client: &reqwest::Client, url: &str, body: &Value) -> Result<(), String> {
    let response = client
        .post(url)
        .json(body)
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .map_err(|e| format!("delivery failed: {}", e.without_url()))?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(format!(
            "receiver answered HTTP {}",
            response.status().as_u16()
        ))
    }
}

async fn email(channel: &AlertConfig, subject: &str, body: &str) -> Result<(), String> {
    use lettre::message::header::ContentType;
    use lettre::transport::smtp::authentication::Credentials;
    use lettre::{AsyncSmtpTransport, AsyncTransport, Message as Mail, Tokio1Executor};

    let host = channel.smtp_host.as_deref().ok_or("no smtp_host")?;
    let from = channel.from.as_deref().ok_or("no from")?;
    let mut mail = Mail::builder()
        .from(from.parse().map_err(|e| format!("from address: {e}"))?)
        .subject(subject)
        .header(ContentType::TEXT_PLAIN);
    for to in &channel.to {
        mail = mail.to(to.parse().map_err(|e| format!("to address {to:?}: {e}"))?);
    }
    let mail = mail.body(body.to_string()).map_err(|e| e.to_string())?;
    let mut transport = match channel.tls.as_deref().unwrap_or("starttls") {
        "tls" => AsyncSmtpTransport::<Tokio1Executor>::relay(host),
        "none" => Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(
            host,
        )),
        _ => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host),
    }
    .map_err(|e| format!("smtp: {e}"))?
    .timeout(Some(Duration::from_secs(30)));
    if let Some(port) = channel.smtp_port {
        transport = transport.port(port);
    }
    if let (Some(user), Some(var)) = (&channel.username, &channel.password_env) {
        transport = transport.credentials(Credentials::new(user.clone(), secret(var)?));
    }
    transport
        .build()
        .send(mail)
        .await
        .map(|_| ())
        .map_err(|e| format!("smtp: {e}"))
}

async fn command(argv: &[String], payload: &str) -> Result<(), String> {
    use tokio::io::AsyncWriteExt;

    let (program, args) = argv.split_first().ok_or("no command")?;
    let mut child = tokio::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(payload.as_bytes())
            .await
            .map_err(|e| format!("{program}: {e}"))?;
    }
    let output = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .map_err(|_| format!("{program} did not finish within 60 s"))?
        .map_err(|e| format!("{program}: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let last = stderr.lines().last().unwrap_or("").trim();
        Err(format!("{program} exited with {}: {last}", output.status))
    }
}
