//! The jobs beside a single run: the daemon that runs it on the configured
//! schedule, and the discovery of offering pages on the hub.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::Utc;
use serde::Serialize;

use super::{LOG_TARGET, Outcome, run_once};
use crate::canon::AliasTable;
use crate::config::{self, Config};
use crate::fetch::{FetchError, Fetched, Fetcher};
use crate::store::Validators;
use crate::{Error, Result};

/// Runs the job on the configured schedule until SIGINT or SIGTERM; a run
/// under way when the signal comes is finished first.
pub async fn daemon(config: &Config, aliases: &Arc<AliasTable>, db: &Path) -> Result<()> {
    let schedule = config.schedule_parsed()?;
    let stop = Arc::new(AtomicBool::new(false));
    let wake = Arc::new(tokio::sync::Notify::new());
    {
        let (stop, wake) = (stop.clone(), wake.clone());
        tokio::spawn(async move {
            shutdown_signal().await;
            stop.store(true, Ordering::SeqCst);
            wake.notify_one();
        });
    }
    tracing::info!(
        target: LOG_TARGET,
        schedule = %config.schedule,
        database = %db.display(),
        sources = config.sources.len(),
        channels = config.alerts.len(),
        "daemon started"
    );
    while !stop.load(Ordering::SeqCst) {
        let Some(next) = schedule.upcoming(Utc).next() else {
            return Err(Error::ScheduleNeverFires(config.schedule.clone()));
        };
        let wait = (next - Utc::now()).to_std().unwrap_or_default();
        tracing::info!(target: LOG_TARGET, next = %next, "waiting for the next run");
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = wake.notified() => break,
        }
        tracing::info!(target: LOG_TARGET, sources = config.sources.len(), "run started");
        let table = aliases.clone();
        match run_once(config, Box::new(move || table), db, &|_| {}).await {
            Ok(report) => tracing::info!(
                target: LOG_TARGET,
                sources = report.sources.len(),
                changed = report.count(|o| matches!(o, Outcome::ScopeChanged(_))),
                anomalies = report.count(|o| matches!(o, Outcome::Anomaly(_))),
                failed = report.count(|o| matches!(o, Outcome::Failed(_))),
                alerts_sent = report.alerts_sent,
                alerts_failed = report.alerts_failed.len(),
                channels_not_ready = report.channels_not_ready.len(),
                network_down = report.network_down,
                "run finished"
            ),
            Err(e) => tracing::error!(target: LOG_TARGET, error = %e, "run failed"),
        }
    }
    tracing::info!(target: LOG_TARGET, "daemon stopped");
    Ok(())
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Offering pages new on the hub, and configured ones the hub no longer lists.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Discovery {
    /// (id, url) of pages the hub links that the configuration lacks.
    pub new: Vec<(String, String)>,
    /// Configured sources the hub no longer links.
    pub retired: Vec<String>,
}

/// Reads the offerings hub page and compares its offering links with the
/// configured sources.
pub async fn discover(config: &Config, hub: &str) -> Result<Discovery> {
    let fetcher = Fetcher::new(&config.fetch, &config.user_agent)?;
    let (result, _) = fetcher.fetch(hub, &Validators::default()).await;
    let body = match result {
        Ok(Fetched::Page { body, .. }) => body,
        Ok(Fetched::NotModified) => {
            return Err(Error::Hub {
                hub: hub.to_string(),
                source: FetchError::Status(304),
            });
        }
        Err(source) => {
            return Err(Error::Hub {
                hub: hub.to_string(),
                source,
            });
        }
    };
    let base = reqwest::Url::parse(hub).map_err(|_| Error::Hub {
        hub: hub.to_string(),
        source: FetchError::NotHttp(hub.to_string()),
    })?;
    let html = String::from_utf8_lossy(&body);
    let doc = scraper::Html::parse_document(&html);
    let links = scraper::Selector::parse("a[href]").expect("a constant, valid selector");
    let mut found: Vec<(String, String)> = Vec::new();
    for a in doc.select(&links) {
        let Some(url) = a.attr("href").and_then(|h| base.join(h).ok()) else {
            continue;
        };
        let Some(last) = url.path_segments().and_then(|mut s| s.next_back()) else {
            continue;
        };
        let id = last.trim_end_matches(".md").to_lowercase();
        if !id.starts_with("offering-") || id == "offering-home" {
            continue;
        }
        // A page in another language is named as `init --locale` names it.
        let id = match url
            .path_segments()
            .and_then(|mut s| s.next())
            .and_then(|first| config::locale(first).ok())
        {
            Some(locale) => config::localized_id(&id, &locale),
            None => id,
        };
        if !found.iter().any(|(i, _)| *i == id) {
            let mut clean = url.clone();
            clean.set_query(None);
            clean.set_fragment(None);
            found.push((id, clean.to_string()));
        }
    }
    if found.is_empty() {
        return Err(Error::NotAHub(hub.to_string()));
    }
    let configured: Vec<&str> = config.sources.iter().map(|s| s.id.as_str()).collect();
    Ok(Discovery {
        new: found
            .iter()
            .filter(|(id, _)| !configured.contains(&id.as_str()))
            .cloned()
            .collect(),
        retired: configured
            .iter()
            .filter(|id| !found.iter().any(|(f, _)| f == *id))
            .map(|id| id.to_string())
            .collect(),
    })
}
