//! Faults of the fetch path that hid a change or raised a false one:
//! validators kept from a refused response, a 304 to a request that named
//! no version, a Markdown page cut short read as a mass removal, and a
//! repeated anomaly alerted (and stored) on every run.
//!
//! Pages come from a server on loopback that answers each request with
//! raw bytes chosen from the request's number and head, so a response can
//! be cut off the way an HTTP/1.0 server without a length cuts it.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use scopewatch::store::Store;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::Setup;

const OLD_MD: &str = include_str!("../snapshots/offering-iso-27001/2020-11-02.md");
const NEW_HTML: &str = include_str!("../snapshots/offering-iso-27001/2021-03-01.html");

/// The request heads a server received, in order.
type Seen = Arc<Mutex<Vec<String>>>;

/// Serves on loopback: the n-th request (from 0) gets `answer(n, head)`,
/// then the connection closes. Returns the page's address.
pub(crate) fn serve(
    answer: impl Fn(usize, &str) -> Vec<u8> + Send + Sync + 'static,
) -> (String, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/offering-x", listener.local_addr().unwrap());
    let seen: Seen = Arc::default();
    let log = seen.clone();
    std::thread::spawn(move || {
        for (n, stream) in listener.incoming().enumerate() {
            let Ok(mut stream) = stream else { return };
            let mut head = Vec::new();
            let mut buf = [0u8; 1024];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(k) => head.extend_from_slice(&buf[..k]),
                }
            }
            let head = String::from_utf8_lossy(&head).to_lowercase();
            let _ = stream.write_all(&answer(n, &head));
            log.lock().unwrap().push(head);
        }
    });
    (url, seen)
}

/// A whole 200 response.
pub(crate) fn whole(body: &str, kind: &str, etag: Option<&str>) -> Vec<u8> {
    let etag = etag.map(|e| format!("ETag: {e}\r\n")).unwrap_or_default();
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nContent-Length: {}\r\n{etag}Connection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// A 200 response in the HTTP/1.0 manner, without a length, whose body
/// stops after `keep` bytes: the client cannot tell it was cut.
fn cut_off(body: &str, keep: usize, kind: &str, etag: &str) -> Vec<u8> {
    let mut out =
        format!("HTTP/1.0 200 OK\r\nContent-Type: {kind}\r\nETag: {etag}\r\n\r\n").into_bytes();
    out.extend_from_slice(&body.as_bytes()[..keep]);
    out
}

fn not_modified() -> Vec<u8> {
    b"HTTP/1.1 304 Not Modified\r\nConnection: close\r\n\r\n".to_vec()
}

/// A page fetched by the job, with a webhook that records its alerts.
pub(crate) struct Job {
    pub(crate) setup: Setup,
    pub(crate) hooks: MockServer,
}

impl Job {
    pub(crate) async fn new(url: String) -> Self {
        let hooks = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200))
            .mount(&hooks)
            .await;
        let setup = Setup::new(
            &[("offering-x", url)],
            "[[alert]]\nkind = \"webhook\"\nurl_env = \"SW_HOOK_URL\"\n",
            "",
        );
        Job { setup, hooks }
    }

    /// Runs the job; returns the source's summary line and the exit code.
    pub(crate) async fn run(&self) -> (String, Option<i32>) {
        let hook = format!("{}/hook", self.hooks.uri());
        let out = self.setup.run(&["run", "--exit-code"], &hook).await;
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let line = text
            .lines()
            .find(|l| l.split_whitespace().nth(1) == Some("offering-x"))
            .unwrap_or_else(|| panic!("no line for the source: {text} {out:?}"))
            .to_string();
        (line, out.status.code())
    }

    /// How many alerts of each event the webhook received:
    /// (scope changes, anomalies).
    pub(crate) async fn alerts(&self) -> (usize, usize) {
        let sent: Vec<serde_json::Value> = self
            .hooks
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .map(|r| serde_json::from_slice(&r.body).unwrap())
            .collect();
        let count = |event: &str| sent.iter().filter(|a| a["event"] == event).count();
        (count("scope_change"), count("extraction_anomaly"))
    }

    fn snapshots(&self) -> usize {
        Store::open(&self.setup.db())
            .unwrap()
            .history("offering-x")
            .unwrap()
            .len()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn validators_of_a_cut_off_response_are_not_kept() {
    // The page changes; the first response for the new version is cut off
    // but carries the new ETag, which the server then answers with 304.
    let (url, seen) = serve(|n, head| match n {
        0 => whole(OLD_MD, "text/markdown", Some("\"v1\"")),
        1 => cut_off(NEW_HTML, NEW_HTML.len() / 2, "text/html", "\"v2\""),
        _ if head.contains("if-none-match: \"v2\"") => not_modified(),
        _ => whole(NEW_HTML, "text/html", Some("\"v2\"")),
    });
    let job = Job::new(url).await;
    assert!(job.run().await.0.contains("first version stored"));
    let (cut, _) = job.run().await;
    assert!(
        cut.contains("ANOMALY") && cut.contains("truncated"),
        "{cut}"
    );

    let (line, code) = job.run().await;
    assert!(
        line.contains("SCOPE CHANGED"),
        "the change was hidden: {line}"
    );
    assert_eq!(code, Some(3));
    assert_eq!(job.alerts().await.0, 1, "the change is alerted once");
    let heads = seen.lock().unwrap().clone();
    assert!(
        !heads[2].contains("\"v2\""),
        "the refused response's ETag was sent: {}",
        heads[2]
    );
    // From then on the accepted version's ETag is used.
    assert!(job.run().await.0.contains("unchanged"));
    assert!(seen.lock().unwrap()[3].contains("if-none-match: \"v2\""));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cut_off_first_fetch_does_not_leave_the_source_empty() {
    let (url, _) = serve(|n, head| match n {
        0 => cut_off(NEW_HTML, NEW_HTML.len() / 2, "text/html", "\"v2\""),
        _ if head.contains("if-none-match") => not_modified(),
        _ => whole(NEW_HTML, "text/html", Some("\"v2\"")),
    });
    let job = Job::new(url).await;
    let (first, code) = job.run().await;
    assert!(
        first.contains("FAILED") && first.contains("truncated"),
        "{first}"
    );
    assert_eq!(code, Some(1));
    let (second, _) = job.run().await;
    assert!(second.contains("first version stored"), "{second}");
    assert_eq!(job.snapshots(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_304_to_a_request_without_validators_is_a_failure() {
    let (url, _) = serve(|_, _| not_modified());
    let job = Job::new(url).await;
    for _ in 0..2 {
        let (line, code) = job.run().await;
        assert!(
            line.contains("FAILED") && line.contains("304"),
            "a 304 with nothing stored is no \"unchanged\": {line}"
        );
        assert_eq!(code, Some(1));
    }
    assert_eq!(job.snapshots(), 0);
}

/// The fixture cut inside its in-scope list, in the middle of an item.
fn cut_in_the_list() -> usize {
    OLD_MD.find("- PowerApps cloud service").unwrap() + 30
}

#[tokio::test(flavor = "multi_thread")]
async fn a_markdown_page_cut_inside_its_list_is_no_mass_removal() {
    let (url, _) = serve(|n, _| match n {
        0 | 3 => whole(OLD_MD, "text/markdown", None),
        n => cut_off(OLD_MD, cut_in_the_list() + n, "text/markdown", "\"cut\""),
    });
    let job = Job::new(url).await;
    assert!(job.run().await.0.contains("first version stored"));
    let (line, code) = job.run().await;
    assert!(
        line.contains("ANOMALY") && line.contains("cut short"),
        "{line}"
    );
    assert_ne!(code, Some(3), "a cut page is not a scope change");
    assert_eq!(job.alerts().await, (0, 1));
    assert_eq!(job.snapshots(), 1, "nothing of the cut page is stored");

    // A different cut the next night is no confirmation either.
    let (again, _) = job.run().await;
    assert!(again.contains("ANOMALY"), "{again}");
    assert_eq!(
        job.alerts().await,
        (0, 1),
        "one anomaly alert until recovery"
    );
    // The whole page again: no change at all.
    assert!(job.run().await.0.contains("unchanged"));
    assert_eq!(job.snapshots(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_real_loss_of_most_services_is_alerted_once_seen_twice() {
    // A whole page (it ends as the old one did) listing two services of
    // the old fifteen, and no Office 365 table rows.
    let shrunk: String = OLD_MD
        .lines()
        .filter(|l| {
            let item = l.starts_with("- ") && OLD_MD.find(l) < OLD_MD.find("## Office 365");
            let kept = l.contains("Azure Germany") || l.contains("Threat Protection");
            let row = l.starts_with("| **") && !l.contains("Applicability");
            (!item || kept) && !row
        })
        .map(|l| format!("{l}\n"))
        .collect();
    let (url, _) = serve(move |n, _| match n {
        0 => whole(OLD_MD, "text/markdown", None),
        _ => whole(&shrunk, "text/markdown", None),
    });
    let job = Job::new(url).await;
    assert!(job.run().await.0.contains("first version stored"));
    let (suspect, code) = job.run().await;
    assert!(suspect.contains("ANOMALY"), "{suspect}");
    assert_ne!(code, Some(3));
    assert_eq!(job.alerts().await, (0, 1));

    let (confirmed, code) = job.run().await;
    assert!(confirmed.contains("SCOPE CHANGED"), "{confirmed}");
    assert_eq!(code, Some(3));
    assert_eq!(job.alerts().await, (1, 1));
    assert_eq!(job.snapshots(), 2);
}

/// A login page that differs on every request, as its token does.
pub(crate) fn login(n: usize) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><title>Sign in to your account</title></head>\
         <body><main><h1>Sign in</h1><form><input type=\"hidden\" name=\"token\" value=\"t{n}\">\
         <input name=\"user\"><button>Next</button></form></main></body></html>"
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_repeated_anomaly_alerts_once_until_the_page_recovers() {
    // The recovered page differs from the first by a comment, so that it is
    // a new version even within the same second.
    let recovered = NEW_HTML.replacen("</body>", "<!-- recovered --></body>", 1);
    let (url, _) = serve(move |n, _| match n {
        0 => whole(NEW_HTML, "text/html", None),
        4 => whole(&recovered, "text/html", None),
        n => whole(&login(n), "text/html", None),
    });
    let job = Job::new(url).await;
    assert!(job.run().await.0.contains("first version stored"));
    for night in 1..=3 {
        let (line, _) = job.run().await;
        assert!(line.contains("ANOMALY"), "night {night}: {line}");
    }
    assert_eq!(job.alerts().await, (0, 1), "one alert for three nights");
    assert_eq!(job.snapshots(), 2, "the first login page only is kept");

    // The page recovers; the next anomaly is news again.
    let (recovered, _) = job.run().await;
    assert!(!recovered.contains("ANOMALY"), "{recovered}");
    assert!(job.run().await.0.contains("ANOMALY"));
    assert_eq!(job.alerts().await, (0, 2));

    // A day later, one reminder while it lasts.
    let db = rusqlite::Connection::open(job.setup.db()).unwrap();
    db.execute_batch(
        "UPDATE alert SET created_at = '2000-01-02T00:00:00+00:00';
         UPDATE fetch_state SET checked_at = '2000-01-01T00:00:00+00:00';",
    )
    .unwrap();
    assert!(job.run().await.0.contains("ANOMALY"));
    assert!(job.run().await.0.contains("ANOMALY"));
    assert_eq!(job.alerts().await, (0, 3), "one reminder a day");
}
