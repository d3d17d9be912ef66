//! The nightly job against real HTTP servers on loopback (wiremock): alerts
//! sent once, conditional GET, retries, faults, anomalies, the ledger, the
//! lock, the daemon's signals, and every alert channel.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::process::Output;
use std::time::{Duration, Instant};

use scopewatch::store::{Store, lock};
use serde_json::Value;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::{self, Setup};

const V1: &str = include_str!("../snapshots/offering-iso-27001/2020-06-15.md");
const V2: &str = include_str!("../snapshots/offering-iso-27001/2020-11-02.md");
const MOVED: &str =
    "# ISO/IEC 27001\n\n## Overview\n\nThis offering now lives on the compliance hub.\n";
const SECRET: &str = "SECRET-TOKEN-123";

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn page(body: &str) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .set_body_raw(body.as_bytes().to_vec(), "text/markdown; charset=utf-8")
}

async fn serve(server: &MockServer, at: &str, response: ResponseTemplate) {
    Mock::given(method("GET"))
        .and(path(at))
        .respond_with(response)
        .mount(server)
        .await;
}

async fn posts(server: &MockServer, at: &str) -> Vec<Value> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.url.path() == at && r.method.as_str() == "POST")
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect()
}

async fn receivers() -> MockServer {
    let hooks = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&hooks)
        .await;
    hooks
}

const WEBHOOK_SLACK_TEAMS: &str = "
[[alert]]
kind = \"webhook\"
url_env = \"SW_HOOK_URL\"

[[alert]]
kind = \"slack\"
url = \"HOOKS/slack\"

[[alert]]
kind = \"teams\"
url = \"HOOKS/teams\"
";

#[tokio::test(flavor = "multi_thread")]
async fn a_scope_change_is_alerted_once_on_every_channel() {
    let site = MockServer::start().await;
    let hooks = receivers().await;
    serve(&site, "/offering-x", page(V1)).await;
    let alerts = WEBHOOK_SLACK_TEAMS.replace("HOOKS", &hooks.uri());
    let s = Setup::new(
        &[("offering-x", format!("{}/offering-x", site.uri()))],
        &alerts,
        "",
    );
    let hook = format!("{}/hook?token={SECRET}", hooks.uri());

    let first = s.run(&["run", "--exit-code"], &hook).await;
    assert_eq!(
        first.status.code(),
        Some(0),
        "{}{}",
        stdout(&first),
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(stdout(&first).contains("first version stored"));
    assert!(posts(&hooks, "/hook").await.is_empty());

    site.reset().await;
    serve(&site, "/offering-x", page(V2)).await;
    let second = s.run(&["run", "--exit-code"], &hook).await;
    assert_eq!(second.status.code(), Some(3), "{}", stdout(&second));
    assert!(stdout(&second).contains("SCOPE CHANGED"));
    let received = posts(&hooks, "/hook").await;
    assert_eq!(received.len(), 1);
    let alert = &received[0];
    assert_eq!(alert["source"], "offering-x");
    assert_eq!(alert["event"], "scope_change");
    let renamed = alert["renamed"].as_array().unwrap();
    assert!(
        renamed
            .iter()
            .any(|r| r["from"] == "Microsoft Flow" && r["to"] == "Power Automate"),
        "{alert}"
    );
    assert!(
        alert["added"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["service"] == "Power Virtual Agents")
    );
    let slack = posts(&hooks, "/slack").await;
    assert_eq!(slack.len(), 1);
    assert!(
        slack[0]["blocks"][1]["text"]["text"]
            .as_str()
            .unwrap()
            .contains("Microsoft Flow → Power Automate")
    );
    assert_eq!(posts(&hooks, "/teams").await.len(), 1);

    let third = s.run(&["run", "--exit-code"], &hook).await;
    assert_eq!(third.status.code(), Some(0));
    assert_eq!(
        posts(&hooks, "/hook").await.len(),
        1,
        "nothing is sent twice"
    );
    assert_eq!(posts(&hooks, "/slack").await.len(), 1);

    // The webhook's secret URL never reaches output or the database.
    for out in [&first, &second, &third] {
        assert!(
            !stdout(out).contains(SECRET) && !String::from_utf8_lossy(&out.stderr).contains(SECRET)
        );
    }
    let db = std::fs::read(s.db()).unwrap();
    assert!(!String::from_utf8_lossy(&db).contains(SECRET));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unchanged_page_costs_one_304() {
    let site = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/p"))
        .and(header("if-none-match", "\"v1\""))
        .respond_with(ResponseTemplate::new(304))
        .with_priority(1)
        .mount(&site)
        .await;
    serve(&site, "/p", page(V1).insert_header("ETag", "\"v1\"")).await;
    let s = Setup::new(&[("p", format!("{}/p", site.uri()))], "", "");
    assert!(s.run(&["run"], "").await.status.success());
    let second = s.run(&["run"], "").await;
    assert!(second.status.success());
    assert!(stdout(&second).contains("unchanged"));
    assert_eq!(s.attempts("p"), [Some(200), Some(304)]);
    assert_eq!(
        Store::open(&s.db())
            .unwrap()
            .versions(Some("p"))
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn retry_after_is_honoured_and_server_errors_retried() {
    let site = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/limited"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "1"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&site)
        .await;
    serve(&site, "/limited", page(V1)).await;
    Mock::given(method("GET"))
        .and(path("/flaky"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&site)
        .await;
    serve(&site, "/flaky", page(V2)).await;
    let s = Setup::new(
        &[
            ("limited", format!("{}/limited", site.uri())),
            ("flaky", format!("{}/flaky", site.uri())),
        ],
        "",
        "",
    );
    let started = Instant::now();
    let out = s.run(&["run"], "").await;
    assert!(out.status.success(), "{}", stdout(&out));
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After was not waited for"
    );
    assert_eq!(s.attempts("limited"), [Some(429), Some(200)]);
    assert_eq!(s.attempts("flaky"), [Some(500), Some(200)]);
}

#[tokio::test(flavor = "multi_thread")]
async fn faults_fail_their_source_and_never_the_others() {
    let site = MockServer::start().await;
    serve(&site, "/slow", page(V1).set_delay(Duration::from_secs(4))).await;
    serve(&site, "/big", page(&"x".repeat(50_000))).await;
    serve(
        &site,
        "/loop-a",
        ResponseTemplate::new(302).insert_header("Location", "/loop-b"),
    )
    .await;
    serve(
        &site,
        "/loop-b",
        ResponseTemplate::new(302).insert_header("Location", "/loop-a"),
    )
    .await;
    serve(
        &site,
        "/elsewhere",
        ResponseTemplate::new(302).insert_header("Location", "file:///etc/passwd"),
    )
    .await;
    serve(&site, "/ok", page(V1)).await;
    let u = |p: &str| format!("{}{p}", site.uri());
    let s = Setup::new(
        &[
            ("slow", u("/slow")),
            ("big", u("/big")),
            ("loop", u("/loop-a")),
            ("elsewhere", u("/elsewhere")),
            ("ok", u("/ok")),
        ],
        "",
        "max_page_bytes = 20000\ntimeout_secs = 1\nretries = 1",
    );
    let out = s.run(&["run"], "").await;
    assert_eq!(out.status.code(), Some(1), "a failed source fails the run");
    let text = stdout(&out);
    let line = |id: &str| {
        text.lines()
            .find(|l| l.split_whitespace().nth(1) == Some(id))
            .unwrap_or_default()
            .to_string()
    };
    assert!(
        line("slow").contains("FAILED") && line("slow").contains("timed out"),
        "{text}"
    );
    assert!(
        line("big").contains("page larger than 20000 bytes"),
        "{text}"
    );
    assert!(line("loop").contains("redirect loop"), "{text}");
    assert!(line("elsewhere").contains("only http and https"), "{text}");
    assert!(line("ok").contains("first version stored"), "{text}");
    assert_eq!(s.attempts("slow").len(), 2, "a timeout is retried");
    assert_eq!(
        s.attempts("big").len(),
        1,
        "an oversized page is not retried"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_collapsed_page_is_an_anomaly_never_a_removal() {
    let site = MockServer::start().await;
    let hooks = receivers().await;
    serve(&site, "/p", page(V1)).await;
    let alerts = "[[alert]]\nkind = \"webhook\"\nurl_env = \"SW_HOOK_URL\"\n";
    let s = Setup::new(&[("p", format!("{}/p", site.uri()))], alerts, "");
    let hook = format!("{}/hook", hooks.uri());
    assert!(s.run(&["run"], &hook).await.status.success());

    for (body, problem) in [(MOVED, "in-scope section is missing"), ("", "unreadable")] {
        site.reset().await;
        serve(&site, "/p", page(body)).await;
        let out = s.run(&["run", "--exit-code"], &hook).await;
        assert_eq!(
            out.status.code(),
            Some(4),
            "an anomaly is not a scope change, and is said: {}",
            stdout(&out)
        );
        assert!(
            stdout(&out).contains("ANOMALY") && stdout(&out).contains(problem),
            "{}",
            stdout(&out)
        );
        // Alerted once per distinct page, however many runs see it; each
        // run says so.
        let again = s.run(&["run"], &hook).await;
        assert_eq!(again.status.code(), Some(4), "{}", stdout(&again));
        assert!(stdout(&again).contains("ANOMALY"), "{}", stdout(&again));
    }
    let received = posts(&hooks, "/hook").await;
    assert_eq!(received.len(), 2);
    assert!(received.iter().all(|a| a["event"] == "extraction_anomaly"));
    let store = Store::open(&s.db()).unwrap();
    let current = store.latest_good("p").unwrap().unwrap();
    assert!(
        current
            .snapshot
            .entries()
            .any(|e| e.service.name() == "Genomics"),
        "the last good snapshot stays current"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_delivery_is_retried_on_the_next_run() {
    let site = MockServer::start().await;
    let hooks = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&hooks)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&hooks)
        .await;
    serve(&site, "/p", page(V1)).await;
    let s = Setup::new(
        &[("p", format!("{}/p", site.uri()))],
        "[[alert]]\nkind = \"webhook\"\nurl_env = \"SW_HOOK_URL\"\n",
        "",
    );
    let hook = format!("{}/hook", hooks.uri());
    assert!(s.run(&["run"], &hook).await.status.success());
    site.reset().await;
    serve(&site, "/p", page(V2)).await;
    let failed = s.run(&["run"], &hook).await;
    assert_eq!(failed.status.code(), Some(1));
    assert!(
        stdout(&failed).contains("alert not delivered: p on webhook: receiver answered HTTP 503")
    );
    let retried = s.run(&["run"], &hook).await;
    assert!(retried.status.success(), "{}", stdout(&retried));
    assert!(stdout(&retried).contains("1 alerts sent"));
    let received = posts(&hooks, "/hook").await;
    assert_eq!(received.len(), 2);
    assert_eq!(received[0], received[1], "the same alert, delivered once");
}

#[tokio::test(flavor = "multi_thread")]
async fn overlapping_runs_cannot_both_write() {
    let site = MockServer::start().await;
    serve(&site, "/p", page(V1)).await;
    let s = Setup::new(&[("p", format!("{}/p", site.uri()))], "", "");
    let held = lock(&s.db()).unwrap();
    let out = s.run(&["run"], "").await;
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("another scopewatch process is writing")
            && err.contains(&std::process::id().to_string()),
        "{err}"
    );
    drop(held);
    assert!(s.run(&["run"], "").await.status.success());
}

/// A minimal SMTP peer that accepts one message and returns its text.
pub(crate) fn smtp_server() -> (u16, std::thread::JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let mut out = stream.try_clone().unwrap();
        let mut lines = BufReader::new(stream);
        let mut message = String::new();
        let mut in_data = false;
        out.write_all(b"220 localhost ESMTP\r\n").unwrap();
        let mut line = String::new();
        while lines.read_line(&mut line).unwrap_or(0) > 0 {
            if in_data {
                if line == ".\r\n" {
                    in_data = false;
                    out.write_all(b"250 queued\r\n").unwrap();
                } else {
                    message.push_str(&line);
                }
            } else {
                let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
                let reply: &[u8] = match verb.as_str() {
                    "EHLO" => b"250-localhost\r\n250 8BITMIME\r\n",
                    "DATA" => {
                        in_data = true;
                        b"354 go ahead\r\n"
                    }
                    "QUIT" => {
                        out.write_all(b"221 bye\r\n").unwrap();
                        break;
                    }
                    _ => b"250 ok\r\n",
                };
                out.write_all(reply).unwrap();
            }
            line.clear();
        }
        message
    });
    (port, handle)
}

#[tokio::test(flavor = "multi_thread")]
async fn email_and_command_channels() {
    let site = MockServer::start().await;
    serve(&site, "/p", page(V1)).await;
    let (port, smtp) = smtp_server();
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("hook.json");
    let alerts = format!(
        "[[alert]]\nkind = \"email\"\nsmtp_host = \"127.0.0.1\"\nsmtp_port = {port}\ntls = \"none\"\n\
         from = \"scopewatch@example.com\"\nto = [\"grc@example.com\"]\n\n\
         [[alert]]\nkind = \"command\"\ncommand = [\"sh\", \"-c\", \"cat > '{}'\"]\n",
        out_file.display()
    );
    let s = Setup::new(&[("p", format!("{}/p", site.uri()))], &alerts, "");
    assert!(s.run(&["run"], "").await.status.success());
    site.reset().await;
    serve(&site, "/p", page(V2)).await;
    let out = s.run(&["run"], "").await;
    assert!(
        out.status.success(),
        "{}{}",
        stdout(&out),
        String::from_utf8_lossy(&out.stderr)
    );
    let mail = tokio::task::spawn_blocking(move || smtp.join().unwrap())
        .await
        .unwrap();
    assert!(
        mail.contains("Subject: scopewatch: p scope changed"),
        "{mail}"
    );
    assert!(mail.contains("Power Automate"));
    let hook: Value = serde_json::from_slice(&std::fs::read(&out_file).unwrap()).unwrap();
    assert_eq!(hook["source"], "p");
    assert_eq!(hook["event"], "scope_change");
}

#[tokio::test(flavor = "multi_thread")]
async fn discover_finds_new_and_retired_offering_pages() {
    let site = MockServer::start().await;
    let hub = "<html><body><main><a href=\"offering-iso-27001\">ISO</a> <a href=\"/en-us/compliance/regulatory/offering-new-one?tabs=x\">New</a> \
               <a href=\"offering-home\">Home</a> <a href=\"/en-us/training/\">Training</a></main></body></html>";
    serve(
        &site,
        "/hub",
        ResponseTemplate::new(200).set_body_raw(hub.as_bytes().to_vec(), "text/html"),
    )
    .await;
    let u = |p: &str| format!("{}{p}", site.uri());
    let s = Setup::new(
        &[
            ("offering-iso-27001", u("/offering-iso-27001")),
            ("offering-gone", u("/offering-gone")),
        ],
        "",
        "",
    );
    let out = s
        .run(
            &[
                "sources",
                "discover",
                "--hub",
                &u("/hub"),
                "--format",
                "json",
            ],
            "",
        )
        .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let found: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(found["new"][0][0], "offering-new-one");
    assert_eq!(
        found["new"][0][1],
        u("/en-us/compliance/regulatory/offering-new-one")
    );
    assert_eq!(found["retired"], serde_json::json!(["offering-gone"]));
}

#[test]
fn init_writes_a_working_starter_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sw.toml");
    common::bin()
        .args(["init", "--locale", "ja-JP", "--output"])
        .arg(&path)
        .assert()
        .success();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.contains("https://learn.microsoft.com/ja-jp/compliance/regulatory/offering-iso-27001")
    );
    let config = scopewatch::config::Config::load(&path).unwrap();
    assert!(config.sources.len() > 50);
    common::bin()
        .args(["init", "--output"])
        .arg(&path)
        .assert()
        .code(1);
}

#[test]
fn the_daemon_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("sw.toml");
    std::fs::write(
        &config,
        format!(
            "database = \"{}\"\nschedule = \"0 0 0 1 1 * 2099\"\n",
            dir.path().join("d.db").display()
        ),
    )
    .unwrap();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("scopewatch"))
        .arg("--config")
        .arg(&config)
        .arg("daemon")
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "{status}");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "daemon did not stop"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_slow_host_delays_only_its_own_pages() {
    let slow = MockServer::start().await;
    let fast = MockServer::start().await;
    for i in 0..2 {
        let late = page(V1).set_delay(Duration::from_millis(800));
        serve(&slow, &format!("/s{i}"), late).await;
    }
    for i in 0..3 {
        serve(&fast, &format!("/f{i}"), page(V2)).await;
    }
    // The slow host's pages come first in the configuration.
    let sources: Vec<(&str, String)> = vec![
        ("slow-0", format!("{}/s0", slow.uri())),
        ("slow-1", format!("{}/s1", slow.uri())),
        ("fast-0", format!("{}/f0", fast.uri())),
        ("fast-1", format!("{}/f1", fast.uri())),
        ("fast-2", format!("{}/f2", fast.uri())),
    ];
    let s = Setup::new(&sources, "", "per_host_concurrency = 1");
    let run = s.run(&["run"], "").await;
    assert!(run.status.success(), "{run:?}");

    // The fast host's pages were stored as they arrived, before the slow
    // host's; the summary still follows the configuration.
    let store = Store::open(&s.db()).unwrap();
    let stored: Vec<String> = store
        .versions(None)
        .unwrap()
        .into_iter()
        .map(|v| (v.id, v.source))
        .collect::<std::collections::BTreeMap<_, _>>()
        .into_values()
        .collect();
    assert_eq!(stored, ["fast-0", "fast-1", "fast-2", "slow-0", "slow-1"]);
    let listed: Vec<String> = stdout(&run)
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1))
        .filter(|id| id.contains('-'))
        .map(str::to_string)
        .collect();
    assert_eq!(listed, ["slow-0", "slow-1", "fast-0", "fast-1", "fast-2"]);
}
