//! What an operator and an analyst expect of scopewatch (issue 20): the
//! nightly run as it reads in a log, proving alert channels, dry runs, the
//! daemon's own log, and webhook idempotency keys.

use std::net::TcpListener;
use std::process::Output;
use std::time::{Duration, Instant};

use scopewatch::store::Store;
use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::{self, Setup, on_a_terminal};

const V1: &str = include_str!("../snapshots/offering-iso-27001/2020-06-15.md");
const V2: &str = include_str!("../snapshots/offering-iso-27001/2020-11-02.md");
const MOVED: &str =
    "# ISO/IEC 27001\n\n## Overview\n\nThis offering now lives on the compliance hub.\n";

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn both(o: &Output) -> String {
    format!("{}{}", stdout(o), String::from_utf8_lossy(&o.stderr))
}

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

fn demo() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = common::demo_db(dir.path());
    (dir, db)
}

fn sw(db: &std::path::Path, args: &[&str]) -> Output {
    common::bin()
        .arg("--db")
        .arg(db)
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn versions_lists_a_sources_stored_versions() {
    let (_dir, db) = demo();
    let out = sw(&db, &["versions", "offering-iso-27001"]);
    assert!(out.status.success(), "{}", both(&out));
    let text = stdout(&out);
    assert!(text.starts_with("offering-iso-27001: 6 versions"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("2020-06-15T00:00:00Z") && l.contains("markdown")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("2021-03-01T00:00:00Z") && l.contains("html"))
    );
    let out = sw(&db, &["versions", "offering-iso-27001", "--format", "json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let versions = v.as_array().unwrap();
    assert_eq!(versions.len(), 6);
    assert_eq!(versions[0]["form"], "markdown");
    assert_eq!(versions[0]["parser_version"], scopewatch::PARSER_VERSION);
    // 2020-11-02 adds Power Virtual Agents to the services of 2020-06-15.
    assert_eq!(
        versions[1]["services"].as_u64().unwrap(),
        versions[0]["services"].as_u64().unwrap() + 1
    );
    let out = sw(&db, &["versions", "offering-nope"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown source \"offering-nope\""));
}

#[test]
fn show_prints_the_version_in_force_on_a_date_as_parse_does() {
    let (_dir, db) = demo();
    let out = sw(&db, &["show", "offering-iso-27001", "--at", "2021-01-01"]);
    assert!(out.status.success(), "{}", both(&out));
    let text = stdout(&out);
    assert!(
        text.starts_with(
            "offering-iso-27001 captured 2020-11-02T00:00:00Z (in force on 2021-01-01)"
        ),
        "{text}"
    );
    assert!(text.contains("Microsoft Cloud App Security"), "{text}");
    // The JSON is `parse --format json` of the stored page.
    let shown = sw(
        &db,
        &[
            "show",
            "offering-iso-27001",
            "--at",
            "2021-01-01",
            "--format",
            "json",
        ],
    );
    let parsed = common::bin()
        .args([
            "parse",
            "snapshots/offering-iso-27001/2020-11-02.md",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let shown: Value = serde_json::from_slice(&shown.stdout).unwrap();
    let parsed: Value = serde_json::from_slice(&parsed.stdout).unwrap();
    assert_eq!(shown["scopes"], parsed["scopes"]);
    assert_eq!(shown["title"], parsed["title"]);
    let out = sw(&db, &["show", "offering-iso-27001", "--at", "2019-01-01"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("its first is on 2020-06-15"),
        "{}",
        both(&out)
    );
}

#[test]
fn dates_may_be_today_yesterday_or_a_time_back() {
    let (_dir, db) = demo();
    // Every demo version is years old: the last months hold no event.
    for since in ["today", "yesterday", "7d", "3w", "2m"] {
        let out = sw(&db, &["log", "--since", since]);
        assert!(out.status.success(), "{since}: {}", both(&out));
        assert_eq!(stdout(&out), "no scope changes\n", "{since}");
    }
    let out = sw(&db, &["show", "offering-soc-2", "--at", "today"]);
    assert!(
        stdout(&out).contains("captured 2023-02-10"),
        "{}",
        both(&out)
    );
    let out = sw(&db, &["matrix", "--at", "yesterday", "--format", "csv"]);
    assert!(out.status.success(), "{}", both(&out));
    let out = sw(&db, &["log", "--since", "7x"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("7d, 3w or 2m"));
}

#[test]
fn log_filters_by_date_kind_service_and_environment() {
    let (_dir, db) = demo();
    let csv = |args: &[&str]| -> Vec<Vec<String>> {
        let mut all = vec!["log", "--format", "csv"];
        all.extend_from_slice(args);
        let out = sw(&db, &all);
        assert!(out.status.success(), "{}", both(&out));
        let mut reader = csv::Reader::from_reader(out.stdout.as_slice());
        let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
        assert_eq!(
            header,
            [
                "date",
                "source",
                "kind",
                "service",
                "from",
                "to",
                "environment",
                "evidence",
                "program"
            ]
        );
        reader
            .records()
            .map(|r| r.unwrap().iter().map(String::from).collect())
            .collect()
    };
    let renames = csv(&[
        "--kind",
        "renamed",
        "--service",
        "defender",
        "--until",
        "2021-06-01",
    ]);
    assert!(!renames.is_empty());
    assert!(
        renames
            .iter()
            .all(|r| r[2] == "renamed" && r[0].as_str() <= "2021-06-01")
    );
    let flow = csv(&["--service", "Microsoft Flow"]);
    let rename = flow
        .iter()
        .find(|r| r[2] == "renamed")
        .unwrap_or_else(|| panic!("{flow:?}"));
    assert_eq!(
        (&rename[3][..], &rename[4][..], &rename[5][..]),
        ("Power Automate", "Microsoft Flow", "Power Automate")
    );
    assert_eq!(rename[7], "the page says \"formerly\"");
    let gcc_high = csv(&["--environment", "gcc high"]);
    assert!(!gcc_high.is_empty());
    assert!(gcc_high.iter().all(|r| r[6] == "GCC High"), "{gcc_high:?}");
    let all = csv(&[]);
    assert!(gcc_high.len() < all.len());
    let out = sw(&db, &["log", "--kind", "vanished"]);
    assert_eq!(out.status.code(), Some(2), "a kind that does not exist");
}

#[test]
fn timeline_finds_a_service_by_part_of_its_name() {
    let (_dir, db) = demo();
    let out = sw(&db, &["timeline", "Power Vir"]);
    assert!(out.status.success(), "{}", both(&out));
    assert!(
        stdout(&out).starts_with("Power Virtual Agents\n"),
        "{}",
        stdout(&out)
    );
    let out = sw(&db, &["timeline", "defender"]);
    assert_eq!(out.status.code(), Some(1));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("services have \"defender\" in their name")
            && said.contains("\"Microsoft Defender for Endpoint\"")
            && said.contains("\"Microsoft Defender for Identity\""),
        "{said}"
    );
    // A former name is still the service, not a part to search for.
    let out = sw(&db, &["timeline", "Windows Defender ATP"]);
    assert!(out.status.success(), "{}", both(&out));
}

#[test]
fn diff_of_all_sources_shows_the_changed_ones_and_counts_the_rest() {
    let (_dir, db) = demo();
    let out = sw(
        &db,
        &[
            "diff",
            "--source",
            "all",
            "--from",
            "2022-06-01",
            "--to",
            "2023-03-01",
        ],
    );
    assert!(out.status.success(), "{}", both(&out));
    let text = stdout(&out);
    assert!(text.contains("offering-soc-2:"), "{text}");
    assert!(!text.contains("offering-fedramp"), "{text}");
    assert!(text.ends_with("3 other sources unchanged\n"), "{text}");
    // --from alone runs until today.
    let until_now = sw(&db, &["diff", "--source", "all", "--from", "2022-06-01"]);
    assert!(until_now.status.success(), "{}", both(&until_now));
    let today = chrono::Utc::now().date_naive().to_string();
    let explicit = sw(
        &db,
        &[
            "diff",
            "--source",
            "all",
            "--from",
            "2022-06-01",
            "--to",
            &today,
        ],
    );
    assert_eq!(stdout(&until_now), stdout(&explicit));
    assert!(stdout(&until_now).contains("offering-soc-2:"));
}

#[test]
fn import_says_what_it_guessed_and_refuses_a_future_date() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("i.db");
    let page = std::fs::read("snapshots/offering-soc-2/2021-07-20.md").unwrap();
    let saved = dir.path().join("saved.md");
    std::fs::write(&saved, &page).unwrap();
    let out = sw(&db, &["import", saved.to_str().unwrap()]);
    assert!(out.status.success(), "{}", both(&out));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("guessed source \"saved\" from the file name (--source sets it)")
            && said.contains("date 2021-07-20 from the date the page states (--date sets it)"),
        "{said}"
    );
    // A file named by date in a folder named for the source is no guess.
    let named = dir.path().join("offering-soc-2");
    std::fs::create_dir(&named).unwrap();
    std::fs::write(named.join("2021-07-21.md"), &page).unwrap();
    let out = sw(
        &db,
        &["import", named.join("2021-07-21.md").to_str().unwrap()],
    );
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stderr).contains("guessed"));

    let future = named.join("2099-01-01.md");
    std::fs::write(&future, &page).unwrap();
    let out = sw(&db, &["import", future.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("a date in the future"),
        "{}",
        both(&out)
    );
    let out = sw(
        &db,
        &["import", "--date", "2099-01-01", saved.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is in the future"));
    let v: Value =
        serde_json::from_slice(&sw(&db, &["sources", "--format", "json"]).stdout).unwrap();
    let snapshots: u64 = v
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["snapshots"].as_u64().unwrap())
        .sum();
    assert_eq!(snapshots, 2, "nothing stored for a future date");
}

#[test]
fn export_to_standard_output() {
    let (dir, db) = demo();
    let to_file = dir.path().join("a.jsonl");
    assert!(
        sw(&db, &["export", "-o", to_file.to_str().unwrap()])
            .status
            .success()
    );
    let out = sw(&db, &["export", "-o", "-"]);
    assert!(out.status.success(), "{}", both(&out));
    assert_eq!(out.stdout, std::fs::read(&to_file).unwrap());
    assert!(String::from_utf8_lossy(&out.stderr).contains("to standard output"));
    assert!(!dir.path().join("-").exists());
}

#[test]
fn sources_shows_retired_pages_and_each_sources_last_change() {
    // A page is retired when its file is deleted: a docs repository whose
    // page offering-x has two versions, then is deleted.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let repo = dir.path().join("docs");
    std::fs::create_dir_all(&repo).unwrap();
    let git = |args: &[&str], date: &str| {
        let out = std::process::Command::new("git")
            .current_dir(&repo)
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .env("GIT_AUTHOR_DATE", format!("{date}T12:00:00Z"))
            .env("GIT_COMMITTER_DATE", format!("{date}T12:00:00Z"))
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", both(&out));
    };
    git(&["init", "-q"], "2020-06-15");
    for (date, file) in [
        ("2020-06-15", "snapshots/offering-iso-27001/2020-06-15.md"),
        ("2020-11-02", "snapshots/offering-iso-27001/2020-11-02.md"),
    ] {
        std::fs::copy(file, repo.join("offering-x.md")).unwrap();
        git(&["add", "offering-x.md"], date);
        git(&["commit", "-q", "-m", date], date);
    }
    git(&["rm", "-q", "offering-x.md"], "2021-01-04");
    git(&["commit", "-q", "-m", "retire"], "2021-01-04");
    let out = sw(
        &db,
        &[
            "import-git",
            repo.to_str().unwrap(),
            "--path",
            "offering-*.md",
        ],
    );
    assert!(out.status.success(), "{}", both(&out));
    let out = sw(
        &db,
        &[
            "import",
            "--source",
            "offering-y",
            "--date",
            "2021-02-01",
            "snapshots/offering-soc-2/2021-07-20.md",
        ],
    );
    assert!(out.status.success());
    let text = stdout(&sw(&db, &["sources"]));
    let line = |id: &str| {
        text.lines()
            .find(|l| l.starts_with(&format!("{id} ")))
            .unwrap_or_else(|| panic!("{text}"))
            .to_string()
    };
    assert!(line("offering-x").contains("changed 2020-11-02"), "{text}");
    assert!(line("offering-x").contains("RETIRED 2021-01-04"), "{text}");
    assert!(line("offering-y").contains("no change yet"), "{text}");
    assert!(!line("offering-y").contains("RETIRED"), "{text}");
    let v: Value =
        serde_json::from_slice(&sw(&db, &["sources", "--format", "json"]).stdout).unwrap();
    assert_eq!(v[0]["id"], "offering-x");
    assert_eq!(v[0]["retired"], "2021-01-04");
    assert_eq!(v[0]["last_change"], "2020-11-02");
    assert_eq!(v[1]["retired"], Value::Null);
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

/// A MIME part's text, decoded from base64 or quoted-printable.
pub(crate) fn mime_part(mail: &str, content_type: &str) -> String {
    use base64::Engine;
    let start = mail
        .find(&format!("Content-Type: {content_type}"))
        .unwrap_or_else(|| panic!("no {content_type} part: {mail}"));
    let part = &mail[start..];
    let (head, rest) = part.split_once("\r\n\r\n").unwrap();
    let body = &rest[..rest.find("\r\n--").unwrap_or(rest.len())];
    if head.contains("base64") {
        let joined: String = body.split_whitespace().collect();
        String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(joined)
                .unwrap(),
        )
        .unwrap()
    } else if head.contains("quoted-printable") {
        let soft = body.replace("=\r\n", "");
        let mut bytes = Vec::new();
        let raw = soft.as_bytes();
        let mut i = 0;
        while i < raw.len() {
            if raw[i] == b'=' && i + 2 < raw.len() {
                let hex = std::str::from_utf8(&raw[i + 1..i + 3]).unwrap();
                bytes.push(u8::from_str_radix(hex, 16).unwrap());
                i += 3;
            } else {
                bytes.push(raw[i]);
                i += 1;
            }
        }
        String::from_utf8(bytes).unwrap()
    } else {
        body.to_string()
    }
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

#[test]
fn long_imports_show_progress_on_a_terminal_and_nothing_in_cron() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("p.db");
    let db_arg = db.to_str().unwrap().to_string();
    let terminal = on_a_terminal(&["--db", &db_arg, "import", "snapshots"]);
    assert!(terminal.contains("/16"), "no progress bar: {terminal}");
    let terminal = on_a_terminal(&["--db", &db_arg, "verify"]);
    assert!(terminal.contains("verifying"), "no progress: {terminal}");
    let quiet = on_a_terminal(&["--db", &db_arg, "--quiet", "verify"]);
    assert!(!quiet.contains("verifying"), "--quiet: {quiet}");
    // Not a terminal (cron): no progress at all on stderr.
    let db2 = dir.path().join("q.db");
    let out = sw(&db2, &["import", "snapshots"]);
    assert!(out.status.success());
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = sw(&db2, &["verify"]);
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn matrix_fits_a_terminal_filters_by_environment_and_has_markdown() {
    let (_dir, db) = demo();
    let out = common::bin()
        .arg("--db")
        .arg(&db)
        .args(["matrix", "--at", "2022-06-01"])
        .env("COLUMNS", "60")
        .output()
        .unwrap();
    let text = stdout(&out);
    assert!(text.contains("offering-soc-2"), "{text}");
    for line in text.lines() {
        assert!(
            line.chars().count() <= 60,
            "wider than the terminal: {line:?}"
        );
    }
    let all = sw(&db, &["matrix", "--at", "2022-06-01", "--format", "json"]);
    let all: Value = serde_json::from_slice(&all.stdout).unwrap();
    let gcc = sw(
        &db,
        &[
            "matrix",
            "--at",
            "2022-06-01",
            "--environment",
            "GCC High",
            "--format",
            "json",
        ],
    );
    assert!(gcc.status.success(), "{}", both(&gcc));
    let gcc: Value = serde_json::from_slice(&gcc.stdout).unwrap();
    let (all, gcc) = (
        all["services"].as_object().unwrap(),
        gcc["services"].as_object().unwrap(),
    );
    assert!(
        !gcc.is_empty() && gcc.len() < all.len(),
        "{} of {}",
        gcc.len(),
        all.len()
    );
    assert!(gcc.contains_key("Power Automate"), "{gcc:?}");
    assert!(
        !gcc.contains_key("Azure"),
        "Azure is not listed under GCC High: {gcc:?}"
    );
    let none = sw(&db, &["matrix", "--environment", "Mars"]);
    assert_eq!(none.status.code(), Some(1));

    let md = stdout(&sw(
        &db,
        &["matrix", "--at", "2022-06-01", "--format", "markdown"],
    ));
    let header = md
        .lines()
        .find(|l| l.starts_with("| Service |"))
        .unwrap_or_else(|| panic!("{md}"));
    assert!(header.contains("| offering-soc-2 |"), "{header}");
    assert!(md.lines().any(|l| l.starts_with("| Azure | ✓")), "{md}");
}

#[test]
fn timeline_shows_the_environments_of_each_offering() {
    let (_dir, db) = demo();
    let text = stdout(&sw(&db, &["timeline", "Power Automate"]));
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("offering-iso-27001 ") && l.contains("→ now"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(line.ends_with("  in GCC High, all"), "{line}");
    let v: Value = serde_json::from_slice(
        &sw(&db, &["timeline", "Power Automate", "--format", "json"]).stdout,
    )
    .unwrap();
    assert_eq!(
        v["offerings"]["offering-soc-2"][0]["environments"],
        serde_json::json!(["GCC", "all"])
    );
}

#[test]
fn the_report_summary_adds_up_and_the_report_reads_well() {
    let (dir, db) = demo();
    // A step that changes only a report link's address.
    let old = std::fs::read_to_string("snapshots/offering-soc-2/2021-07-20.md").unwrap();
    let new = old.replace("azure-devops-soc2-2021.pdf", "azure-devops-soc2-2022.pdf");
    let (a, b) = (dir.path().join("a.md"), dir.path().join("b.md"));
    std::fs::write(&a, old).unwrap();
    std::fs::write(&b, new).unwrap();
    for (file, date) in [(&a, "2021-01-04"), (&b, "2021-02-01")] {
        let out = sw(
            &db,
            &[
                "import",
                "--source",
                "offering-links",
                "--date",
                date,
                file.to_str().unwrap(),
            ],
        );
        assert!(out.status.success(), "{}", both(&out));
    }
    let path = dir.path().join("r.html");
    let out = sw(
        &db,
        &[
            "report",
            "--from",
            "2022-01-01",
            "--to",
            "2023-12-31",
            "-o",
            path.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", both(&out));
    let html = std::fs::read_to_string(&path).unwrap();
    let doc = scraper::Html::parse_document(&html);
    let select = |css: &str| scraper::Selector::parse(css).unwrap();
    let text = |e: scraper::ElementRef| e.text().collect::<String>();

    // Contents first, with a link to each part.
    let toc: Vec<String> = doc
        .select(&select("nav.toc a"))
        .map(|a| a.value().attr("href").unwrap().to_string())
        .collect();
    assert!(
        toc.contains(&"#summary".to_string()) && toc.contains(&"#matrix".to_string()),
        "{toc:?}"
    );
    assert!(toc.contains(&"#offering-soc-2".to_string()), "{toc:?}");

    // The changed offerings, alphabetically, then the unchanged ones folded.
    let table = doc
        .select(&select("h2#summary + div.wide table.summary"))
        .next()
        .expect("the summary");
    let headers: Vec<String> = table.select(&select("thead th")).map(text).collect();
    assert!(headers.contains(&"Flip-flops".to_string()), "{headers:?}");
    assert_eq!(headers.last().unwrap(), "Services on 2023-12-31");
    let rows: Vec<Vec<String>> = table
        .select(&select("tbody tr"))
        .map(|r| r.select(&select("td")).map(text).collect())
        .collect();
    let names: Vec<String> = table
        .select(&select("tbody tr td:first-child"))
        .map(|td| {
            td.select(&select("a"))
                .next()
                .map_or_else(|| text(td), text)
        })
        .collect();
    assert_eq!(
        names,
        [
            "offering-fedramp",
            "offering-iso-27001",
            "offering-soc-2",
            "All 3 offerings with changes"
        ],
        "{rows:?}"
    );
    for row in &rows {
        let columns: Vec<usize> = row[1..9]
            .iter()
            .map(|c| c.trim().parse().unwrap())
            .collect();
        let total: usize = row[9].trim().parse().unwrap();
        assert_eq!(columns.iter().sum::<usize>(), total, "{row:?}");
    }
    let folded = doc
        .select(&select("details.unchanged"))
        .next()
        .expect("unchanged offerings folded");
    let folded_text = text(folded);
    assert!(
        folded_text.contains("offering-iso-27001-ja-jp") && folded_text.contains("offering-links"),
        "{folded_text}"
    );

    // Charts have axes with counts and dates.
    let chart = doc
        .select(&select("section#offering-soc-2 svg.chart"))
        .next()
        .unwrap();
    let labels: Vec<String> = chart.select(&select("text")).map(text).collect();
    assert!(
        labels.contains(&"0".to_string()) && labels.iter().any(|l| l.starts_with("20")),
        "{labels:?}"
    );

    // The matrix scrolls under sticky headers; its search box is the one
    // script, allowed by the page's Content-Security-Policy and hidden
    // until the script runs (usability_more checks it in Chromium).
    assert!(html.contains("div.scroll thead th { position: sticky"));
    assert!(
        doc.select(&select("div.scroll table.matrix"))
            .next()
            .is_some()
    );
    assert!(
        doc.select(&select(
            "div#matrix-filter[hidden] input#matrix-search[type=search]"
        ))
        .next()
        .is_some()
    );
    assert_eq!(html.matches("<script").count(), 1);
    assert!(
        doc.select(&select("meta[http-equiv=Content-Security-Policy]"))
            .next()
            .is_some()
    );

    // A link-only change shows the links.
    let all = dir.path().join("all.html");
    assert!(
        sw(
            &db,
            &[
                "report",
                "--source",
                "offering-links",
                "-o",
                all.to_str().unwrap()
            ]
        )
        .status
        .success()
    );
    let html = std::fs::read_to_string(&all).unwrap();
    assert!(
        !html.contains("The page text is not available"),
        "link-only step"
    );
    assert!(html.contains("its report links changed"), "{html}");
    assert!(html.contains("https://reports.example.com/soc2/azure-devops-soc2-2022.pdf"));
}

/// A screenshot of a page (its `file://` address) by headless Chromium at
/// `width` × `height`.
fn screenshot(page: &str, shot: &std::path::Path, width: u32, height: u32) {
    let profile = tempfile::tempdir().unwrap();
    let out = std::process::Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--window-size={width},{height}"))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(page)
        .output()
        .expect("headless Chromium (.ci/run installs it)");
    assert!(out.status.success(), "{}", both(&out));
    let png = std::fs::read(shot).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let size = (
        u32::from_be_bytes(png[16..20].try_into().unwrap()),
        u32::from_be_bytes(png[20..24].try_into().unwrap()),
    );
    assert_eq!(size, (width, height));
}

/// The report at a desktop's and a phone's width, and its matrix searched
/// for "micro" at both. With SCOPEWATCH_SCREENSHOTS=docs the screenshots
/// are kept there, as docs/report-1280.png, docs/report-390.png,
/// docs/report-matrix-1280.png and docs/report-matrix-390.png.
#[test]
fn the_report_renders_at_desktop_and_phone_widths() {
    let (dir, db) = demo();
    let page = dir.path().join("r.html");
    let out = sw(
        &db,
        &["report", "--to", "2023-12-31", "-o", page.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", both(&out));
    // The matrix alone, as a reader sees it at the end of the report.
    let html = std::fs::read_to_string(&page).unwrap();
    let matrix = dir.path().join("m.html");
    std::fs::write(
        &matrix,
        html.replace(
            "</head>",
            "<style>body > :not(#matrix) { display: none; }</style></head>",
        ),
    )
    .unwrap();
    let shots = [
        ("report", format!("file://{}", page.display()), 2400),
        (
            "report-matrix",
            format!("file://{}?q=micro", matrix.display()),
            700,
        ),
    ];
    for (name, address, height) in &shots {
        for width in [1280, 390] {
            let file = format!("{name}-{width}.png");
            let shot = dir.path().join(&file);
            screenshot(address, &shot, width, *height);
            if let Some(keep) = std::env::var_os("SCOPEWATCH_SCREENSHOTS") {
                std::fs::copy(&shot, std::path::Path::new(&keep).join(file)).unwrap();
            }
        }
    }
}
