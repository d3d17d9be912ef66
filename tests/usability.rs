//! What an operator expects of the nightly run (issue 20): its dated
//! summary and how it reads in a log, a run with the network down, alert
//! channels checked at the start and proven by `alert test`, each channel's
//! own format, dry runs, webhook idempotency keys, the daemon's own log,
//! muted and removed sources, the Atom feed and the user agent.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use scopewatch::store::Store;
use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::{self, Setup, both, demo, mime_part, stdout, sw};

const V1: &str = include_str!("../snapshots/offering-iso-27001/2020-06-15.md");
const V2: &str = include_str!("../snapshots/offering-iso-27001/2020-11-02.md");
const MOVED: &str =
    "# ISO/IEC 27001\n\n## Overview\n\nThis offering now lives on the compliance hub.\n";

async fn serve(server: &MockServer, body: &str) {
    server.reset().await;
    Mock::given(method("GET"))
        .and(path("/offering-x"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(body.as_bytes().to_vec(), "text/markdown; charset=utf-8"),
        )
        .mount(server)
        .await;
}

async fn receivers() -> MockServer {
    let hooks = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&hooks)
        .await;
    hooks
}

async fn requests(server: &MockServer, at: &str) -> Vec<wiremock::Request> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.url.path() == at && r.method.as_str() == "POST")
        .collect()
}

fn webhook_and_slack(hooks: &MockServer) -> String {
    format!(
        "\n[[alert]]\nkind = \"webhook\"\nurl_env = \"SW_HOOK_URL\"\n\n[[alert]]\nkind = \"slack\"\nurl = \"{}/slack\"\n",
        hooks.uri()
    )
}

const UNSET_SMTP: &str = "\n[[alert]]\nkind = \"email\"\nsmtp_host = \"127.0.0.1\"\nfrom = \"scopewatch@example.com\"\nto = [\"team@example.com\"]\nusername = \"scopewatch\"\npassword_env = \"SW_SMTP_PASSWORD_NEVER_SET\"\n";

fn one_source(site: &MockServer) -> Vec<(&'static str, String)> {
    vec![("offering-x", format!("{}/offering-x", site.uri()))]
}

fn snapshots(s: &Setup) -> usize {
    Store::open(&s.db())
        .unwrap()
        .history("offering-x")
        .unwrap()
        .len()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_summary_is_dated_and_names_the_services_that_changed() {
    let site = MockServer::start().await;
    serve(&site, V1).await;
    let s = Setup::new(&one_source(&site), "", "");
    assert!(s.run(&["run"], "").await.status.success());
    serve(&site, V2).await;
    let out = s.run(&["run"], "").await;
    let text = stdout(&out);
    let line = text
        .lines()
        .find(|l| l.contains("offering-x"))
        .unwrap_or_else(|| panic!("{text}"));
    let stamp = line.split_whitespace().next().unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(stamp).is_ok(),
        "no timestamp: {line}"
    );
    assert!(
        line.contains("SCOPE CHANGED") && line.contains("Microsoft Flow → Power Automate"),
        "{line}"
    );
    assert!(
        line.contains("added") && line.contains("Power Virtual Agents"),
        "{line}"
    );
    let totals = text.lines().last().unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(totals.split_whitespace().next().unwrap()).is_ok(),
        "{totals}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn with_the_network_down_a_run_fails_fast_and_says_so() {
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let sources: Vec<(String, String)> = (0..12)
        .map(|i| (format!("p{i}"), format!("http://127.0.0.1:{port}/p{i}")))
        .collect();
    let sources: Vec<(&str, String)> = sources
        .iter()
        .map(|(i, u)| (i.as_str(), u.clone()))
        .collect();
    // Each page alone takes at least 1.5 s to give up; twelve two at a time,
    // at least 9 s.
    let s = Setup::new(
        &sources,
        "",
        "retries = 3\nbackoff_min_ms = 500\nbackoff_max_ms = 500",
    );
    let started = Instant::now();
    let out = s.run(&["run"], "").await;
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    assert!(
        took < Duration::from_secs(6),
        "took {took:?}: {}",
        both(&out)
    );
    let text = stdout(&out);
    assert!(text.contains("the network looks down"), "{text}");
    assert_eq!(text.matches("FAILED").count(), 12, "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_channel_whose_secret_is_unset_is_reported_at_the_start() {
    let site = MockServer::start().await;
    serve(&site, V1).await;
    let s = Setup::new(&one_source(&site), UNSET_SMTP, "");
    let out = s.run(&["run"], "").await;
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    assert!(
        stdout(&out).contains(
            "alert channel not ready: email: environment variable SW_SMTP_PASSWORD_NEVER_SET is not set"
        ),
        "{}",
        both(&out)
    );
    assert!(
        stdout(&out).contains("first version stored"),
        "the pages are still fetched and stored"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn run_reads_the_scopewatch_toml_init_wrote_in_the_current_folder() {
    let site = MockServer::start().await;
    serve(&site, V1).await;
    let s = Setup::new(&one_source(&site), "", "");
    let dir = s.dir.path().to_path_buf();
    let out = tokio::task::spawn_blocking(move || {
        common::bin()
            .current_dir(&dir)
            .env_remove("SCOPEWATCH_CONFIG")
            .env_remove("SCOPEWATCH_DB")
            .arg("run")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", both(&out));
    assert!(
        stdout(&out).contains("first version stored"),
        "{}",
        both(&out)
    );
    assert_eq!(snapshots(&s), 1, "stored in the configured database");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_anomaly_has_its_own_exit_status() {
    let site = MockServer::start().await;
    serve(&site, V1).await;
    let s = Setup::new(&one_source(&site), "", "");
    assert!(s.run(&["run"], "").await.status.success());
    serve(&site, MOVED).await;
    let out = s.run(&["run"], "").await;
    assert_eq!(out.status.code(), Some(4), "{}", both(&out));
    assert!(stdout(&out).contains("ANOMALY"));
}

#[tokio::test(flavor = "multi_thread")]
async fn alert_test_proves_each_channel_or_the_one_named() {
    let hooks = receivers().await;
    let alerts = format!("{}{UNSET_SMTP}", webhook_and_slack(&hooks));
    let s = Setup::new(&[], &alerts, "");
    let hook = format!("{}/hook", hooks.uri());
    let out = s.run(&["alert", "test"], &hook).await;
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    let text = stdout(&out);
    assert!(text.contains("webhook: test alert delivered"), "{text}");
    assert!(text.contains("slack: test alert delivered"), "{text}");
    assert!(
        text.contains(
            "email: NOT DELIVERED: environment variable SW_SMTP_PASSWORD_NEVER_SET is not set"
        ),
        "{text}"
    );
    let webhook = requests(&hooks, "/hook").await;
    assert_eq!(webhook.len(), 1);
    let body: Value = serde_json::from_slice(&webhook[0].body).unwrap();
    assert_eq!(body["event"], "test");
    assert_eq!(requests(&hooks, "/slack").await.len(), 1);

    let out = s.run(&["alert", "test", "--channel", "slack"], &hook).await;
    assert!(out.status.success(), "{}", both(&out));
    assert_eq!(requests(&hooks, "/slack").await.len(), 2);
    assert_eq!(
        requests(&hooks, "/hook").await.len(),
        1,
        "only the one named"
    );

    let out = s.run(&["alert", "test", "--channel", "pager"], &hook).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no alert channel named \"pager\""),
        "{}",
        both(&out)
    );
    assert!(!s.db().exists(), "a test alert is never queued");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dry_run_shows_what_would_be_stored_and_alerted_and_changes_nothing() {
    let site = MockServer::start().await;
    let hooks = receivers().await;
    serve(&site, V1).await;
    let s = Setup::new(&one_source(&site), &webhook_and_slack(&hooks), "");
    let hook = format!("{}/hook", hooks.uri());
    assert!(s.run(&["run"], &hook).await.status.success());
    serve(&site, V2).await;
    let before = std::fs::read(s.db()).unwrap();

    let out = s.run(&["run", "--dry-run", "--exit-code"], &hook).await;
    assert_eq!(out.status.code(), Some(3), "{}", both(&out));
    let text = stdout(&out);
    assert!(text.starts_with("dry run: nothing was stored"), "{text}");
    assert!(text.contains("SCOPE CHANGED"), "{text}");
    assert!(
        text.contains("would alert webhook: scopewatch: offering-x scope changed"),
        "{text}"
    );
    assert!(text.contains("would alert slack:"), "{text}");
    assert!(requests(&hooks, "/hook").await.is_empty(), "nothing sent");
    assert_eq!(snapshots(&s), 1, "nothing stored");
    assert_eq!(
        std::fs::read(s.db()).unwrap(),
        before,
        "the database unchanged"
    );

    let out = s.run(&["run"], &hook).await;
    assert!(out.status.success(), "{}", both(&out));
    assert_eq!(snapshots(&s), 2);
    assert_eq!(requests(&hooks, "/hook").await.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn webhook_deliveries_carry_the_event_id_as_an_idempotency_key() {
    let site = MockServer::start().await;
    let hooks = receivers().await;
    serve(&site, V1).await;
    let alerts = "\n[[alert]]\nkind = \"webhook\"\nurl_env = \"SW_HOOK_URL\"\n";
    let s = Setup::new(&one_source(&site), alerts, "");
    let hook = format!("{}/hook", hooks.uri());
    assert!(s.run(&["run"], &hook).await.status.success());
    serve(&site, V2).await;
    assert!(s.run(&["run"], &hook).await.status.success());
    let received = requests(&hooks, "/hook").await;
    assert_eq!(received.len(), 1);
    let key = received[0]
        .headers
        .get("idempotency-key")
        .expect("an Idempotency-Key header")
        .to_str()
        .unwrap()
        .to_string();
    let body: Value = serde_json::from_slice(&received[0].body).unwrap();
    assert!(key.starts_with("offering-x:change:"), "{key}");
    assert_eq!(body["event_id"], key.as_str());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_daemon_logs_its_start_schedule_and_each_run_as_json() {
    let site = MockServer::start().await;
    serve(&site, V1).await;
    let s = Setup::new(&one_source(&site), "", "");
    let mut text = std::fs::read_to_string(&s.config).unwrap();
    text.insert_str(0, "schedule = \"* * * * * *\"\n");
    std::fs::write(&s.config, text).unwrap();
    let config = s.config.clone();
    let stderr = tokio::task::spawn_blocking(move || {
        let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("scopewatch"))
            .arg("--config")
            .arg(&config)
            .args(["daemon", "--log-format", "json"])
            .env_remove("RUST_LOG")
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(3500));
        let killed = std::process::Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stderr).into_owned()
    })
    .await
    .unwrap();
    let lines: Vec<Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}")))
        .collect();
    let find = |message: &str| {
        lines
            .iter()
            .find(|l| l["fields"]["message"] == message)
            .unwrap_or_else(|| panic!("no {message:?} in {stderr}"))
    };
    assert_eq!(find("daemon started")["fields"]["schedule"], "* * * * * *");
    find("run started");
    let finished = &find("run finished")["fields"];
    assert_eq!(finished["sources"], 1, "{finished}");
    assert_eq!(finished["failed"], 0, "{finished}");
    find("daemon stopped");
    assert!(!stderr.contains("First"), "outcomes in words: {stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_muted_source_is_kept_but_neither_fetched_nor_alerted() {
    let site = MockServer::start().await;
    let hooks = receivers().await;
    serve(&site, V1).await;
    let alerts = "\n[[alert]]\nkind = \"webhook\"\nurl_env = \"SW_HOOK_URL\"\n";
    let s = Setup::new(&one_source(&site), alerts, "");
    let hook = format!("{}/hook", hooks.uri());
    assert!(s.run(&["run"], &hook).await.status.success());
    let db = s.db();
    let out = sw(&db, &["sources", "mute", "offering-x"]);
    assert!(out.status.success(), "{}", both(&out));
    assert!(stdout(&sw(&db, &["sources"])).contains("MUTED since"));

    serve(&site, V2).await;
    let out = s.run(&["run", "--exit-code"], &hook).await;
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert!(
        stdout(&out).contains("muted: not fetched"),
        "{}",
        stdout(&out)
    );
    assert!(
        site.received_requests().await.unwrap().is_empty(),
        "fetched"
    );
    assert!(requests(&hooks, "/hook").await.is_empty());
    assert_eq!(snapshots(&s), 1, "the history is kept");

    // The state survives an export and a restore.
    let archive = s.dir.path().join("a.jsonl");
    common::export(&db, &archive);
    let restored = s.dir.path().join("restored.db");
    assert!(
        sw(&restored, &["restore", archive.to_str().unwrap()])
            .status
            .success()
    );
    assert!(stdout(&sw(&restored, &["sources"])).contains("MUTED since"));

    assert!(
        sw(&db, &["sources", "unmute", "offering-x"])
            .status
            .success()
    );
    let out = s.run(&["run", "--exit-code"], &hook).await;
    assert_eq!(out.status.code(), Some(3), "{}", both(&out));
    assert_eq!(requests(&hooks, "/hook").await.len(), 1);
}

#[test]
fn a_removed_source_keeps_its_history_unless_purged() {
    let (_dir, db) = demo();
    let out = sw(&db, &["sources", "remove", "offering-fedramp"]);
    assert!(out.status.success(), "{}", both(&out));
    let text = stdout(&sw(&db, &["sources"]));
    assert!(
        text.lines()
            .any(|l| l.starts_with("offering-fedramp ") && l.contains("REMOVED since")),
        "{text}"
    );
    assert!(sw(&db, &["versions", "offering-fedramp"]).status.success());

    let out = sw(&db, &["sources", "remove", "offering-fedramp", "--purge"]);
    assert!(out.status.success(), "{}", both(&out));
    assert!(stdout(&out).contains("removed with its history (4 snapshots)"));
    assert!(!stdout(&sw(&db, &["sources"])).contains("offering-fedramp"));
    let out = sw(&db, &["versions", "offering-fedramp"]);
    assert_eq!(out.status.code(), Some(1));
    let verify = sw(&db, &["verify"]);
    assert!(verify.status.success(), "{}", both(&verify));
    assert!(stdout(&sw(&db, &["log"])).contains("offering-iso-27001"));
    assert!(!stdout(&sw(&db, &["log"])).contains("offering-fedramp"));
}

#[tokio::test(flavor = "multi_thread")]
async fn each_channel_gets_its_own_format() {
    let site = MockServer::start().await;
    let hooks = receivers().await;
    serve(&site, V1).await;
    let (port, smtp) = crate::nightly::smtp_server();
    let alerts = format!(
        "\n[[alert]]\nkind = \"slack\"\nurl = \"{0}/slack\"\n\n[[alert]]\nkind = \"teams\"\nurl = \"{0}/teams\"\n\n\
         [[alert]]\nkind = \"email\"\nsmtp_host = \"127.0.0.1\"\nsmtp_port = {port}\ntls = \"none\"\n\
         from = \"scopewatch@example.com\"\nto = [\"grc@example.com\"]\n",
        hooks.uri()
    );
    let s = Setup::new(&one_source(&site), &alerts, "");
    assert!(s.run(&["run"], "").await.status.success());
    serve(&site, V2).await;
    let out = s.run(&["run"], "").await;
    assert!(out.status.success(), "{}", both(&out));

    let slack: Value = serde_json::from_slice(&requests(&hooks, "/slack").await[0].body).unwrap();
    let section = slack["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["type"] == "section")
        .unwrap();
    assert_eq!(section["text"]["type"], "mrkdwn");
    let mrkdwn = section["text"]["text"].as_str().unwrap();
    assert!(
        mrkdwn.contains("• *renamed* Microsoft Flow → Power Automate"),
        "{mrkdwn}"
    );
    assert!(
        mrkdwn.contains("• *added* Power Virtual Agents"),
        "{mrkdwn}"
    );
    assert!(mrkdwn.contains("|the page>"), "{mrkdwn}");
    for markdown in ["##", "**", "\\"] {
        assert!(
            !mrkdwn.contains(markdown),
            "GitHub Markdown {markdown:?} in {mrkdwn}"
        );
    }

    let teams: Value = serde_json::from_slice(&requests(&hooks, "/teams").await[0].body).unwrap();
    assert_eq!(teams["@type"], "MessageCard");
    let facts = teams["sections"][0]["facts"].as_array().unwrap();
    assert!(
        facts.iter().any(|f| f["name"] == "renamed"
            && f["value"]
                .as_str()
                .unwrap()
                .starts_with("Microsoft Flow → Power Automate")),
        "{teams}"
    );
    assert!(
        teams["potentialAction"][0]["targets"][0]["uri"]
            .as_str()
            .unwrap()
            .ends_with("/offering-x")
    );

    let mail = tokio::task::spawn_blocking(move || smtp.join().unwrap())
        .await
        .unwrap();
    assert!(mail.contains("multipart/alternative"), "{mail}");
    let plain = mime_part(&mail, "text/plain");
    assert!(
        plain.contains("renamed  Microsoft Flow → Power Automate"),
        "{plain}"
    );
    assert!(!plain.contains("**") && !plain.contains("##"), "{plain}");
    let html = mime_part(&mail, "text/html");
    assert!(
        html.contains("<td><b>added</b></td><td>Power Virtual Agents</td>"),
        "{html}"
    );
    assert!(html.contains("Open the page</a>"), "{html}");
}

/// The constraints RFC 4287 puts on a feed and its entries (sections 4.1.1
/// and 4.1.2), checked on the parsed feed.
fn assert_valid_atom(text: &str) -> atom_syndication::Feed {
    assert!(
        text.contains("<feed xmlns=\"http://www.w3.org/2005/Atom\""),
        "not in the Atom namespace: {text}"
    );
    let feed: atom_syndication::Feed = text.parse().unwrap();
    assert!(
        !feed.id().is_empty() && feed.id().contains(':'),
        "feed id is an IRI"
    );
    assert!(!feed.title().as_str().is_empty());
    let every_entry_has_author = feed.entries().iter().all(|e| !e.authors().is_empty());
    assert!(
        !feed.authors().is_empty() || every_entry_has_author,
        "atom:feed must have an atom:author unless every entry has one"
    );
    for e in feed.entries() {
        assert!(e.id().contains(':'), "entry id is an IRI: {}", e.id());
        assert!(!e.title().as_str().is_empty());
        let alternate = e.links().iter().any(|l| l.rel() == "alternate");
        assert!(
            e.content().is_some() || alternate,
            "an entry without content must link to its page"
        );
        let alternates: Vec<_> = e
            .links()
            .iter()
            .filter(|l| l.rel() == "alternate")
            .collect();
        assert!(
            alternates.len() <= 1,
            "one alternate link per type and language"
        );
    }
    feed
}

#[tokio::test(flavor = "multi_thread")]
async fn the_feed_is_valid_atom_readable_and_links_to_the_page() {
    let site = MockServer::start().await;
    serve(&site, V1).await;
    let s = Setup::new(&one_source(&site), "", "");
    assert!(s.run(&["run"], "").await.status.success());
    serve(&site, V2).await;
    assert!(s.run(&["run"], "").await.status.success());
    let path = s.dir.path().join("f.atom");
    let out = sw(
        &s.db(),
        &[
            "feed",
            "-o",
            path.to_str().unwrap(),
            "--url",
            "https://scope.example.com/changes.atom",
        ],
    );
    assert!(out.status.success(), "{}", both(&out));
    let text = std::fs::read_to_string(&path).unwrap();
    let feed = assert_valid_atom(&text);
    assert!(
        feed.links()
            .iter()
            .any(|l| l.rel() == "self" && l.href() == "https://scope.example.com/changes.atom")
    );
    let rename = feed
        .entries()
        .iter()
        .find(|e| {
            e.title()
                .as_str()
                .contains("Microsoft Flow → Power Automate")
        })
        .unwrap_or_else(|| panic!("{text}"));
    let page = format!("{}/offering-x", site.uri());
    assert!(
        rename
            .links()
            .iter()
            .any(|l| l.rel() == "alternate" && l.href() == page)
    );
    let content = rename.content().unwrap();
    assert_eq!(content.content_type(), Some("html"));
    let html = content.value().unwrap();
    assert!(
        html.contains("<b>renamed</b> Microsoft Flow → Power Automate"),
        "{html}"
    );
    assert!(
        html.contains(&format!("<a href=\"{page}\">Open the page</a>")),
        "{html}"
    );
    assert!(!html.contains('{'), "no JSON in the content: {html}");

    // Pages imported from files have no address: the entries are still valid.
    let (dir, db) = demo();
    let path = dir.path().join("demo.atom");
    assert!(
        sw(&db, &["feed", "-o", path.to_str().unwrap()])
            .status
            .success()
    );
    assert_valid_atom(&std::fs::read_to_string(&path).unwrap());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_user_agent_sent_is_the_documented_one() {
    let site = MockServer::start().await;
    serve(&site, V1).await;
    let s = Setup::new(&one_source(&site), "", "");
    assert!(s.run(&["run"], "").await.status.success());
    let sent = site.received_requests().await.unwrap()[0]
        .headers
        .get("user-agent")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let readme = std::fs::read_to_string("README.md").unwrap();
    assert!(
        readme.contains(&format!("| `user_agent` | `\"{sent}\"` |")),
        "the README documents another user agent than {sent:?}"
    );
    let starter = std::fs::read_to_string("config/scopewatch.toml").unwrap();
    assert!(
        starter.contains(&format!("user_agent = \"{sent}\"")),
        "{sent}"
    );
}
