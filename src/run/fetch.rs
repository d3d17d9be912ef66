//! The fetch side of a run: the sources grouped into one queue per host,
//! and the workers that fetch, parse and pack a queue's pages (preferring
//! a page's Markdown form) while the store writes on the run's own task.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use super::LOG_TARGET;
use crate::config::{Config, SourceConfig};
use crate::fetch::{FetchError, Fetched, Fetcher};
use crate::ingest::read_snapshot_as;
use crate::model::{PageForm, Snapshot};
use crate::store::{Attempt, Packed, Store, Validators};
use crate::{Error, Result};
use scopewatch_core::profile::{self, Extraction};

/// A fetched page, parsed and packed by its fetch worker so that this work
/// runs on every core while the store writes on the run's task.
pub(super) enum Got {
    NotModified,
    Page {
        body: Vec<u8>,
        validators: Validators,
        parsed: Box<Result<Snapshot>>,
        /// The page packed for storage; none when it is the document
        /// stored last, or when packing failed (the store then packs it).
        packed: Option<Packed>,
    },
}

/// What a fetch worker hands to the store: the source's index in the
/// configuration, the outcome and every attempt.
pub(super) type Checked = (usize, std::result::Result<Got, FetchError>, Vec<Attempt>);

/// Fetches and parses pages from one host's queue until it is empty, handing
/// each result to the store before taking the next page.
pub(super) async fn fetch_worker(
    queue: Arc<Mutex<VecDeque<Job>>>,
    fetcher: Arc<Fetcher>,
    sender: tokio::sync::mpsc::Sender<Checked>,
) {
    loop {
        let job = queue.lock().unwrap_or_else(|p| p.into_inner()).pop_front();
        let Some(Job {
            index,
            url,
            form,
            extraction,
            validators,
            stored,
        }) = job
        else {
            return;
        };
        let (result, mut attempts) = fetcher.fetch(&url, &validators).await;
        let got = match result {
            Ok(Fetched::NotModified) => Ok(Got::NotModified),
            Ok(Fetched::Page { body, validators }) => {
                let parsed = match &*extraction {
                    Extraction::Offering => read_snapshot_as(&url, &body, form),
                    Extraction::Matrix(profile) => profile::read_matrix(&url, &body, profile),
                }
                .map_err(Error::from);
                let offering = *extraction == Extraction::Offering;
                let markdown = markdown_form(&url, form, &parsed).filter(|_| offering);
                let (body, parsed) = match markdown {
                    Some(markdown) => {
                        prefer_markdown(&fetcher, &markdown, body, parsed, &mut attempts).await
                    }
                    None => (body, parsed),
                };
                let packed = parsed.as_ref().ok().and_then(|snapshot| {
                    Packed::unless_stored(&body, snapshot, stored.as_deref())
                        .ok()
                        .flatten()
                });
                Ok(Got::Page {
                    body,
                    validators,
                    parsed: Box::new(parsed),
                    packed,
                })
            }
            Err(e) => Err(e),
        };
        if sender.send((index, got, attempts)).await.is_err() {
            return;
        }
    }
}

/// The address of the Markdown form a page offers (learn.microsoft.com's
/// `markdown_url`), when the source's form is left to detection.
fn markdown_form(page: &str, form: Option<PageForm>, parsed: &Result<Snapshot>) -> Option<String> {
    let snapshot = parsed
        .as_ref()
        .ok()
        .filter(|s| form.is_none() && s.form == PageForm::Html)?;
    let offered = snapshot.provenance.markdown_url.as_deref()?;
    let url = reqwest::Url::parse(page).ok()?.join(offered).ok()?;
    matches!(url.scheme(), "http" | "https").then(|| url.to_string())
}

/// The Markdown form of a page in place of its HTML: it is the article's
/// source, without the template around it, so a template change or a site
/// rebuild is no new version. The HTML is kept when the Markdown cannot be
/// fetched or shows no scope. The Markdown requests' attempts are recorded
/// before the one that brought the HTML, which stays last.
async fn prefer_markdown(
    fetcher: &Fetcher,
    url: &str,
    html_body: Vec<u8>,
    html: Result<Snapshot>,
    attempts: &mut Vec<Attempt>,
) -> (Vec<u8>, Result<Snapshot>) {
    let (result, tried) = fetcher.fetch(url, &Validators::default()).await;
    attempts.splice(0..0, tried);
    let Ok(Fetched::Page { body, .. }) = result else {
        tracing::warn!(
            target: LOG_TARGET,
            url,
            "the Markdown form could not be fetched; the HTML is used"
        );
        return (html_body, html);
    };
    match (
        read_snapshot_as(url, &body, Some(PageForm::Markdown)),
        &html,
    ) {
        (Ok(mut markdown), Ok(page)) if markdown.has_scope() => {
            markdown.provenance = markdown.provenance.or(&page.provenance);
            (body, Ok(markdown))
        }
        _ => {
            tracing::warn!(
                target: LOG_TARGET,
                url,
                "the Markdown form shows no scope; the HTML is used"
            );
            (html_body, html)
        }
    }
}

/// A page to fetch.
pub(super) struct Job {
    /// The source's index in the configuration.
    index: usize,
    url: String,
    form: Option<PageForm>,
    extraction: Arc<Extraction>,
    /// For a conditional GET.
    validators: Validators,
    /// The hash of the document stored last, if the store knows it.
    stored: Option<String>,
}

/// The configured sources to fetch (with their index in the
/// configuration) grouped by host (and port), in configuration order
/// within each host.
pub(super) fn host_queues(
    store: &Store,
    config: &Config,
    sources: &[(usize, &SourceConfig)],
) -> Result<Vec<VecDeque<Job>>> {
    let mut known = store.all_validators()?;
    let mut queues: Vec<VecDeque<Job>> = Vec::new();
    let mut by_host: HashMap<String, usize> = HashMap::new();
    for &(index, source) in sources {
        let host = reqwest::Url::parse(&source.url)
            .map(|u| {
                format!(
                    "{}:{:?}",
                    u.host_str().unwrap_or(""),
                    u.port_or_known_default()
                )
            })
            .unwrap_or_default();
        let (validators, stored) = known
            .remove(source.id.as_str())
            .map_or_else(Default::default, |(v, hash)| (v, Some(hash)));
        let job = Job {
            index,
            url: source.url.clone(),
            form: source.format,
            extraction: Arc::new(config.extraction(source)),
            validators,
            stored,
        };
        let queue = *by_host.entry(host).or_insert_with(|| {
            queues.push(VecDeque::new());
            queues.len() - 1
        });
        queues[queue].push_back(job);
    }
    Ok(queues)
}
