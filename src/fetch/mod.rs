//! Fetching published pages politely and defensively.
//!
//! - Conditional GET (ETag, Last-Modified): an unchanged page costs one 304.
//! - Retries with exponential backoff and jitter on timeouts, resets and
//!   5xx; `Retry-After` honoured on 429 and 503, up to a cap.
//! - Redirects bounded in number and limited to http and https.
//! - A hard cap on the body, counted after decompression (gzip bombs stop
//!   at the cap).
//! - Per-host concurrency and a pause between requests to one host.
//!
//! Every attempt is returned for the record, failed ones included.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use backon::BackoffBuilder;
use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use reqwest::header::{
    ETAG, HeaderMap, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED, RETRY_AFTER,
};
use tokio::sync::Semaphore;

use crate::config::FetchSettings;
use crate::store::{Attempt, Validators};

/// A page fetched, or found unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    NotModified,
    Page {
        body: Vec<u8>,
        validators: Validators,
    },
}

/// Why a page could not be fetched.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("HTTP {0}")]
    Status(u16),
    /// A 304 says "the version you have is current"; to a request that
    /// named no version it says nothing, and there is nothing to keep.
    #[error("HTTP 304 (not modified) to a request that named no stored version: nothing to store")]
    NotModifiedUnasked,
    #[error("page larger than {0} bytes")]
    TooLarge(u64),
    #[error("asked to retry after {0} s, more than the {1} s allowed")]
    RetryAfterTooLong(u64, u64),
    #[error("redirect to a {0}: address refused (only http and https are fetched)")]
    Redirect(String),
    #[error("not an http(s) address: {0}")]
    NotHttp(String),
    #[error("cannot set up the HTTP client: {0}")]
    Client(#[source] reqwest::Error),
    /// The request or its body failed; the message names the kind of
    /// failure and its innermost cause, and reqwest's chain stays the source.
    #[error("{}", describe(.0))]
    Transport(#[source] reqwest::Error),
    /// Name resolution or connection failed after another page had already
    /// failed so through a full round of retries.
    #[error("{0}; not retried, the network looks down")]
    NetworkDown(Box<FetchError>),
}

impl FetchError {
    fn retryable(&self) -> bool {
        match self {
            FetchError::Status(s) => *s == 429 || *s >= 500,
            FetchError::Transport(_) => true,
            FetchError::NotModifiedUnasked
            | FetchError::TooLarge(_)
            | FetchError::RetryAfterTooLong(..)
            | FetchError::Redirect(_)
            | FetchError::NotHttp(_)
            | FetchError::Client(_)
            | FetchError::NetworkDown(_) => false,
        }
    }

    /// True when the host's name did not resolve or it refused the
    /// connection: with the network down, every page fails so, and
    /// retrying each for minutes tells nothing more.
    fn unreachable(&self) -> bool {
        use std::error::Error as _;
        let FetchError::Transport(e) = self else {
            return false;
        };
        if !e.is_connect() {
            return false;
        }
        let mut cause = e.source();
        while let Some(c) = cause {
            if let Some(io) = c.downcast_ref::<std::io::Error>()
                && io.kind() == std::io::ErrorKind::ConnectionRefused
            {
                return true;
            }
            let text = c.to_string();
            if text.contains("dns error") || text.contains("failed to lookup address") {
                return true;
            }
            cause = c.source();
        }
        false
    }
}

/// The HTTP client with its limits and politeness state.
pub struct Fetcher {
    client: reqwest::Client,
    settings: FetchSettings,
    hosts: Mutex<HashMap<String, Arc<Host>>>,
    /// Set when a page could not be resolved or connected to through a full
    /// round of retries; cleared by any answer from a server.
    down: AtomicBool,
}

/// Per-host politeness: how many requests at once, and when the last began.
struct Host {
    slots: Semaphore,
    last: tokio::sync::Mutex<Option<Instant>>,
}

impl Fetcher {
    pub fn new(settings: &FetchSettings, user_agent: &str) -> Result<Self, FetchError> {
        let max_redirects = settings.max_redirects;
        let redirects = reqwest::redirect::Policy::custom(move |attempt| {
            let scheme = attempt.url().scheme().to_string();
            if scheme != "http" && scheme != "https" {
                attempt.error(format!(
                    "redirect to a {scheme}: address refused (only http and https are fetched)"
                ))
            } else if attempt.previous().iter().any(|u| u == attempt.url()) {
                attempt.error("redirect loop")
            } else if attempt.previous().len() > max_redirects {
                attempt.error(format!("more than {max_redirects} redirects"))
            } else {
                attempt.follow()
            }
        });
        let client = reqwest::Client::builder()
            .user_agent(user_agent)
            .timeout(settings.timeout())
            .connect_timeout(settings.connect_timeout())
            .redirect(redirects)
            .https_only(false)
            .build()
            .map_err(|e| FetchError::Client(e.without_url()))?;
        Ok(Fetcher {
            client,
            settings: settings.clone(),
            hosts: Mutex::new(HashMap::new()),
            down: AtomicBool::new(false),
        })
    }

    /// True when the last pages failed to resolve or connect after a full
    /// round of retries: the network, not the pages, is at fault.
    pub fn network_down(&self) -> bool {
        self.down.load(Ordering::Relaxed)
    }

    fn host(&self, url: &reqwest::Url) -> Arc<Host> {
        let key = format!(
            "{}:{}",
            url.host_str().unwrap_or(""),
            url.port_or_known_default().unwrap_or(0)
        );
        let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
        hosts
            .entry(key)
            .or_insert_with(|| {
                Arc::new(Host {
                    slots: Semaphore::new(self.settings.per_host_concurrency.max(1)),
                    last: tokio::sync::Mutex::new(None),
                })
            })
            .clone()
    }

    /// Fetches a page, retrying what is worth retrying. Returns the outcome
    /// and every attempt made.
    pub async fn fetch(
        &self,
        url: &str,
        validators: &Validators,
    ) -> (Result<Fetched, FetchError>, Vec<Attempt>) {
        let mut attempts = Vec::new();
        let parsed = match reqwest::Url::parse(url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => u,
            _ => {
                return (Err(FetchError::NotHttp(url.to_string())), attempts);
            }
        };
        let mut delays = backon::ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(self.settings.backoff_min_ms))
            .with_max_delay(Duration::from_millis(self.settings.backoff_max_ms))
            .with_max_times(self.settings.retries)
            .with_jitter()
            .build();
        loop {
            let (result, attempt, retry_after) = self.attempt(&parsed, validators).await;
            attempts.push(attempt);
            let error = match result {
                Ok(fetched) => {
                    self.down.store(false, Ordering::Relaxed);
                    return (Ok(fetched), attempts);
                }
                Err(e) => e,
            };
            let unreachable = error.unreachable();
            if let FetchError::Status(_) = error {
                // A server answered: the network is up.
                self.down.store(false, Ordering::Relaxed);
            } else if unreachable && self.network_down() {
                return (Err(FetchError::NetworkDown(Box::new(error))), attempts);
            }
            if !error.retryable() {
                return (Err(error), attempts);
            }
            let Some(backoff) = delays.next() else {
                if unreachable {
                    self.down.store(true, Ordering::Relaxed);
                }
                return (Err(error), attempts);
            };
            let wait = match retry_after {
                Some(asked) if asked.as_secs() > self.settings.max_retry_after_secs => {
                    return (
                        Err(FetchError::RetryAfterTooLong(
                            asked.as_secs(),
                            self.settings.max_retry_after_secs,
                        )),
                        attempts,
                    );
                }
                Some(asked) => asked,
                None => backoff,
            };
            tracing::info!(%error, wait_ms = wait.as_millis() as u64, "retrying");
            tokio::time::sleep(wait).await;
        }
    }

    /// One request, politely: waits for a slot on the host and for the
    /// pause since the previous request there.
    async fn attempt(
        &self,
        url: &reqwest::Url,
        validators: &Validators,
    ) -> (Result<Fetched, FetchError>, Attempt, Option<Duration>) {
        let host = self.host(url);
        let _slot = host.slots.acquire().await;
        {
            let mut last = host.last.lock().await;
            if let Some(previous) = *last {
                let pause = self.settings.per_host_delay();
                let since = previous.elapsed();
                if since < pause {
                    tokio::time::sleep(pause - since).await;
                }
            }
            *last = Some(Instant::now());
        }
        let started_at = Utc::now();
        let clock = Instant::now();
        let mut request = self.client.get(url.clone());
        if let Some(etag) = &validators.etag {
            request = request.header(IF_NONE_MATCH, etag);
        }
        if let Some(modified) = &validators.last_modified {
            request = request.header(IF_MODIFIED_SINCE, modified);
        }
        let mut record = Attempt {
            started_at,
            elapsed_ms: 0,
            status: None,
            bytes: 0,
            error: None,
        };
        let (result, retry_after) = match request.send().await {
            Err(e) => (Err(FetchError::Transport(e)), None),
            Ok(response) => {
                let status = response.status();
                record.status = Some(status.as_u16());
                let retry_after = retry_after(response.headers());
                if status == StatusCode::NOT_MODIFIED && validators.is_empty() {
                    (Err(FetchError::NotModifiedUnasked), None)
                } else if status == StatusCode::NOT_MODIFIED {
                    (Ok(Fetched::NotModified), None)
                } else if let Some(scheme) = foreign_redirect(url, &response) {
                    // reqwest hands back redirects it cannot follow; name the refusal.
                    (Err(FetchError::Redirect(scheme)), None)
                } else if !status.is_success() {
                    (Err(FetchError::Status(status.as_u16())), retry_after)
                } else {
                    let found = Validators {
                        etag: header(response.headers(), ETAG),
                        last_modified: header(response.headers(), LAST_MODIFIED),
                    };
                    match self.body(response).await {
                        Ok(body) => {
                            record.bytes = body.len() as u64;
                            (
                                Ok(Fetched::Page {
                                    body,
                                    validators: found,
                                }),
                                None,
                            )
                        }
                        Err((e, read)) => {
                            record.bytes = read;
                            (Err(e), None)
                        }
                    }
                }
            }
        };
        record.elapsed_ms = clock.elapsed().as_millis() as u64;
        record.error = result.as_ref().err().map(ToString::to_string);
        (result, record, retry_after)
    }

    /// Reads a body up to the cap, counting decompressed bytes.
    async fn body(&self, mut response: reqwest::Response) -> Result<Vec<u8>, (FetchError, u64)> {
        let cap = self.settings.max_page_bytes;
        if response.content_length().is_some_and(|n| n > cap) {
            return Err((FetchError::TooLarge(cap), 0));
        }
        let mut body = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if (body.len() + chunk.len()) as u64 > cap {
                        return Err((FetchError::TooLarge(cap), body.len() as u64));
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => return Ok(body),
                Err(e) => return Err((FetchError::Transport(e), body.len() as u64)),
            }
        }
    }
}

/// The scheme of a redirect's target when it is neither http nor https.
fn foreign_redirect(url: &reqwest::Url, response: &reqwest::Response) -> Option<String> {
    if !response.status().is_redirection() {
        return None;
    }
    let location = response
        .headers()
        .get(reqwest::header::LOCATION)?
        .to_str()
        .ok()?;
    let target = url.join(location).ok()?;
    (!matches!(target.scheme(), "http" | "https")).then(|| target.scheme().to_string())
}

fn header(headers: &HeaderMap, name: reqwest::header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// `Retry-After` as seconds or an HTTP date.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = DateTime::parse_from_rfc2822(value)
        .ok()?
        .with_timezone(&Utc);
    Some((at - Utc::now()).to_std().unwrap_or(Duration::ZERO))
}

/// A transport error in words, without the URL (which may carry secrets).
fn describe(e: &reqwest::Error) -> String {
    use std::error::Error as _;
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_redirect() {
        "redirect refused"
    } else if e.is_body() || e.is_decode() {
        "body could not be read"
    } else {
        "request failed"
    };
    let mut detail = String::new();
    let mut source = e.source();
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    if detail.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}: {detail}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        h.insert(
            RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&h), Some(Duration::ZERO));
    }
}
