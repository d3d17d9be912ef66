//! The fault matrix: each fault hits a page that already has a good
//! snapshot. Every case checks that the earlier snapshot is intact and still
//! current, that no scope change is stored or alerted, and that the run
//! names the fault.
//!
//! Pages come from a scripted server on loopback that answers each
//! connection with the next step of its script (the last step repeats).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use scopewatch::canon::AliasTable;
use scopewatch::diff::Differ;
use scopewatch::history;
use scopewatch::store::Store;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::Setup;

const V1: &str = include_str!("../snapshots/offering-iso-27001/2021-03-01.html");

/// What the server does on one connection.
#[derive(Clone)]
enum Step {
    /// A whole response.
    Reply {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// Promises a body, sends part of it, and drops the connection.
    ResetMidBody { declared: usize, sent: Vec<u8> },
    /// Sends the body a byte at a time, slowly.
    Drip { body: Vec<u8>, every: Duration },
    /// Stops listening: every later connection is refused.
    Stop,
}

fn page(body: impl Into<Vec<u8>>) -> Step {
    reply(200, &[("Content-Type", "text/html")], body)
}

fn reply(status: u16, headers: &[(&str, &str)], body: impl Into<Vec<u8>>) -> Step {
    Step::Reply {
        status,
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        body: body.into(),
    }
}

/// Serves `steps` on loopback; returns the page's address.
fn scripted(steps: Vec<Step>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/offering-x", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for (n, stream) in listener.incoming().enumerate() {
            let Ok(stream) = stream else { return };
            let step = steps[n.min(steps.len() - 1)].clone();
            if matches!(step, Step::Stop) {
                return;
            }
            std::thread::spawn(move || serve(stream, step));
        }
    });
    url
}

fn serve(mut stream: TcpStream, step: Step) {
    let mut request = Vec::new();
    let mut buf = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    let head = |status: u16, length: usize, headers: &[(String, String)]| {
        let mut h =
            format!("HTTP/1.1 {status} X\r\nContent-Length: {length}\r\nConnection: close\r\n");
        for (k, v) in headers {
            h.push_str(&format!("{k}: {v}\r\n"));
        }
        h.push_str("\r\n");
        h.into_bytes()
    };
    let _ = match step {
        Step::Reply {
            status,
            headers,
            body,
        } => stream
            .write_all(&head(status, body.len(), &headers))
            .and_then(|()| stream.write_all(&body)),
        Step::ResetMidBody { declared, sent } => {
            let r = stream
                .write_all(&head(200, declared, &[]))
                .and_then(|()| stream.write_all(&sent));
            let _ = stream.shutdown(std::net::Shutdown::Both);
            r
        }
        Step::Drip { body, every } => {
            let mut r = stream.write_all(&head(200, body.len(), &[]));
            for byte in body {
                std::thread::sleep(every);
                r = r.and_then(|()| stream.write_all(&[byte]));
                if r.is_err() {
                    break;
                }
            }
            r
        }
        Step::Stop => Ok(()),
    };
}

/// Runs the job twice, the second time into the fault, and checks that
/// nothing false is stored or alerted. Returns the second run's summary line.
async fn after_good_version(fault: Vec<Step>, outcome: &str, names: &str, fetch: &str) -> String {
    let mut steps = vec![page(V1)];
    steps.extend(fault);
    let url = scripted(steps);
    let hooks = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&hooks)
        .await;
    let s = Setup::new(
        &[("offering-x", url)],
        "[[alert]]\nkind = \"webhook\"\nurl_env = \"SW_HOOK_URL\"\n",
        fetch,
    );
    let hook = format!("{}/hook", hooks.uri());
    let first = s.run(&["run"], &hook).await;
    assert!(
        String::from_utf8_lossy(&first.stdout).contains("first version stored"),
        "{first:?}"
    );
    let before = Store::open(&s.db())
        .unwrap()
        .latest_good("offering-x")
        .unwrap()
        .unwrap();

    let second = s.run(&["run", "--exit-code"], &hook).await;
    let text = String::from_utf8_lossy(&second.stdout).into_owned();
    let line = text
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some("offering-x"))
        .unwrap_or_default()
        .to_string();
    assert!(
        line.contains(outcome) && line.contains(names),
        "expected {outcome} naming {names:?}, got: {text}"
    );
    assert_ne!(
        second.status.code(),
        Some(3),
        "a fault is not a scope change"
    );

    // The good snapshot is intact and still in force; nothing was removed.
    let store = Store::open(&s.db()).unwrap();
    assert_eq!(
        store.load(before.id).unwrap().snapshot.scopes,
        before.snapshot.scopes,
        "the earlier snapshot is intact"
    );
    let after = store.latest_good("offering-x").unwrap().unwrap();
    assert_eq!(
        after.snapshot.scopes, before.snapshot.scopes,
        "the scope in force is unchanged"
    );
    let aliases = AliasTable::builtin();
    let events = history::log(&store, &Differ::new(&aliases), Some("offering-x"), None).unwrap();
    assert!(
        events
            .iter()
            .all(|e| !matches!(e.what, history::EventKind::Change(_))),
        "a scope change was recorded: {events:?}"
    );
    let sent: Vec<serde_json::Value> = hooks
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    assert!(
        sent.iter().all(|a| a["event"] != "scope_change"),
        "a scope change was alerted: {sent:?}"
    );
    line
}

const FAILED: &str = "FAILED";
const ANOMALY: &str = "ANOMALY";

#[tokio::test(flavor = "multi_thread")]
async fn connection_refused() {
    after_good_version(vec![Step::Stop], FAILED, "connection failed", "").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn reset_mid_body() {
    let fault = Step::ResetMidBody {
        declared: 50_000,
        sent: V1.as_bytes()[..2_000].to_vec(),
    };
    after_good_version(vec![fault], FAILED, "body could not be read", "").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn slow_drip_past_the_timeout() {
    let fault = Step::Drip {
        body: V1.as_bytes()[..400].to_vec(),
        every: Duration::from_millis(20),
    };
    after_good_version(
        vec![fault],
        FAILED,
        "timed out",
        "timeout_secs = 1\nretries = 1",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn server_error_bursts() {
    let burst = vec![
        reply(500, &[], ""),
        reply(502, &[], ""),
        reply(503, &[], ""),
    ];
    after_good_version(burst.clone(), FAILED, "HTTP 503", "retries = 2").await;
    // A burst that ends within the retries is no change at all.
    let mut recovers = burst;
    recovers.push(page(V1));
    after_good_version(recovers, "unchanged", "", "retries = 3").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn rate_limited_with_retry_after() {
    after_good_version(
        vec![reply(429, &[("Retry-After", "1")], ""), page(V1)],
        "unchanged",
        "",
        "",
    )
    .await;
    after_good_version(
        vec![reply(429, &[("Retry-After", "3600")], "")],
        FAILED,
        "retry after 3600 s",
        "",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn ok_with_an_empty_body() {
    after_good_version(vec![page("")], ANOMALY, "is empty", "").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn ok_with_a_login_page() {
    let login = "<!DOCTYPE html><html lang=\"en\"><head><title>Sign in to your account</title></head>\
                 <body><main><h1>Sign in</h1><form><input name=\"user\"><button>Next</button></form></main></body></html>";
    after_good_version(
        vec![page(login)],
        ANOMALY,
        "in-scope section is missing",
        "",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn ok_with_a_page_moved_notice() {
    let moved = "<!DOCTYPE html><html><body><main><h1>ISO/IEC 27001</h1><div class=\"content\">\
                 <p>This page has moved. See the <a href=\"/new\">compliance offerings</a>.</p></div></main></body></html>";
    after_good_version(
        vec![page(moved)],
        ANOMALY,
        "in-scope section is missing",
        "",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn truncated_html() {
    let cut = &V1.as_bytes()[..V1.len() * 6 / 10];
    after_good_version(vec![page(cut)], ANOMALY, "looks truncated", "").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn shift_jis_declared_in_a_meta_tag() {
    // Shift_JIS has no ©, the page's only other non-ASCII character.
    let japanese = V1
        .replace('©', "(c)")
        .replace("<meta charset=\"utf-8\">", "<meta charset=\"shift_jis\">")
        .replace(
            "ISO/IEC 27001:2013 Information Security Management Standards</h1>",
            "ISO/IEC 27001:2013 情報セキュリティ管理基準</h1>",
        );
    assert!(japanese.contains("shift_jis") && japanese.contains("情報"));
    let (bytes, _, unmappable) = encoding_rs::SHIFT_JIS.encode(&japanese);
    assert!(!unmappable);
    let line = after_good_version(
        vec![page(bytes.into_owned())],
        "new version, no scope change",
        "",
        "",
    )
    .await;
    assert!(!line.contains(ANOMALY));
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_utf8_without_a_charset() {
    let mut broken = V1.replace("<meta charset=\"utf-8\">", "").into_bytes();
    broken.extend_from_slice(b"<!-- \xff\xfe\xfd -->");
    after_good_version(vec![page(broken)], ANOMALY, "not valid UTF-8", "").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_50_mb_body() {
    let huge = vec![b'x'; 50 * 1024 * 1024];
    after_good_version(
        vec![page(huge)],
        FAILED,
        "page larger than 5000000 bytes",
        "",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_gzip_bomb() {
    use flate2::{Compression, write::GzEncoder};
    let mut gz = GzEncoder::new(Vec::new(), Compression::best());
    let zeros = vec![b' '; 1024 * 1024];
    for _ in 0..200 {
        gz.write_all(&zeros).unwrap();
    }
    let bomb = gz.finish().unwrap();
    assert!(
        bomb.len() < 1024 * 1024,
        "200 MB packed into {} bytes",
        bomb.len()
    );
    let fault = reply(
        200,
        &[("Content-Type", "text/html"), ("Content-Encoding", "gzip")],
        bomb,
    );
    after_good_version(vec![fault], FAILED, "page larger than 5000000 bytes", "").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redirect_loop() {
    after_good_version(
        vec![reply(302, &[("Location", "/offering-x")], "")],
        FAILED,
        "redirect loop",
        "",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redirect_to_another_scheme() {
    let fault = reply(
        301,
        &[("Location", "ftp://files.example.com/offering-x")],
        "",
    );
    after_good_version(vec![fault], FAILED, "only http and https", "").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn deeply_nested_html() {
    let deep = format!(
        "<!DOCTYPE html><html><body><main>{}</main></body></html>",
        "<div>".repeat(200_000)
    );
    after_good_version(vec![page(deep)], ANOMALY, "nests 200003 levels deep", "").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_layout_change_hides_the_scope_section() {
    let relabelled = V1
        .replace("microsoft-in-scope-cloud-platforms--services", "platforms")
        .replace(
            "Microsoft in-scope cloud platforms &amp; services",
            "Platforms",
        )
        .replace(
            "office-365-applicability-and-in-scope-services",
            "office-365",
        )
        .replace(
            "Office 365 applicability and in-scope services",
            "Office 365",
        )
        .replace("<th><strong>Applicability</strong></th>", "<th>Plan</th>")
        .replace("<td><strong>Commercial</strong></td>", "<td>A</td>")
        .replace("<td><strong>GCC</strong></td>", "<td>B</td>")
        .replace("<td><strong>GCC High</strong></td>", "<td>C</td>")
        .replace("<td><strong>DoD</strong></td>", "<td>D</td>");
    after_good_version(
        vec![page(relabelled)],
        ANOMALY,
        "in-scope section is missing",
        "",
    )
    .await;
}
