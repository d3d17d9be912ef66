//! `scopewatch serve`: every page and API endpoint on a store imported from
//! the corpus, served on a loopback port; bad input, the token rule and the
//! security headers.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use reqwest::StatusCode;
use scopewatch::canon::AliasTable;
use scopewatch::serve::{App, router, serve};
use scopewatch::store::Store;
use serde_json::Value;

use crate::common;

const TOKEN: &str = "a-long-enough-secret-token";

/// How long the test server waits for a request's headers.
const HEADER_TIMEOUT: Duration = Duration::from_millis(400);

/// The en-us corpus imported once into a database shared by these tests,
/// with one German translation and AWS's scope page from a nightly run.
fn corpus_db() -> Option<&'static Path> {
    static DB: OnceLock<Option<(tempfile::TempDir, PathBuf)>> = OnceLock::new();
    DB.get_or_init(|| {
        let shared = common::shared()?;
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("corpus.db");
        common::bin()
            .arg("--db")
            .arg(&db)
            .args(["import", "-q"])
            .arg(shared.join("corpus/en-us"))
            .assert()
            .success();
        // One translation, for the translation lag.
        common::bin()
            .arg("--db")
            .arg(&db)
            .args(["import", "-q"])
            .arg(shared.join("corpus/l10n/de-de/offering-soc-1"))
            .assert()
            .success();
        fetch_aws_page(&shared, dir.path(), &db);
        Some((dir, db))
    })
    .as_ref()
    .map(|(_, db)| db.as_path())
}

/// Stores AWS's scope page, read with its profile, as the nightly job
/// fetches it: from a server on loopback that answers every request with
/// the corpus's last saved version.
fn fetch_aws_page(shared: &Path, dir: &Path, db: &Path) {
    let page =
        std::fs::read(shared.join("corpus/aws/services-in-scope/2021-03-23_e89ea67.html")).unwrap();
    let site = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://{}/compliance/services-in-scope/",
        site.local_addr().unwrap()
    );
    // Left blocked in accept once the run is done; it dies with the tests.
    std::thread::spawn(move || {
        for mut stream in site.incoming().flatten() {
            let mut head = Vec::new();
            let mut byte = [0u8];
            while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
                head.push(byte[0]);
            }
            let header = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                page.len()
            );
            let _ = stream.write_all(header.as_bytes());
            let _ = stream.write_all(&page);
        }
    });
    let config = dir.join("aws.toml");
    std::fs::write(
        &config,
        format!(
            "[fetch]\nper_host_delay_ms = 0\n\n[[source]]\nid = \"aws-services-in-scope\"\nurl = \"{url}\"\nprofile = \"aws-services-in-scope\"\n"
        ),
    )
    .unwrap();
    common::bin()
        .arg("--config")
        .arg(&config)
        .arg("--db")
        .arg(db)
        .args(["run", "-q"])
        .timeout(Duration::from_secs(60))
        .assert()
        .success();
}

/// Serves the corpus store on 127.0.0.1, port 0; returns the base URL.
pub(crate) async fn start(token: Option<&str>) -> Option<String> {
    Some(serve_db(corpus_db()?, token).await)
}

/// Serves `db` on 127.0.0.1, port 0; returns the base URL.
async fn serve_db(db: &Path, token: Option<&str>) -> String {
    let store = Store::open_read(db).unwrap();
    let app = App::new(store, AliasTable::builtin(), token.map(str::to_string)).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(serve(
        listener,
        router(app),
        HEADER_TIMEOUT,
        std::future::pending(),
    ));
    format!("http://{addr}")
}

async fn get(url: &str) -> (StatusCode, String) {
    let r = reqwest::get(url).await.unwrap();
    (r.status(), r.text().await.unwrap())
}

async fn json(url: &str) -> (StatusCode, Value) {
    let r = reqwest::get(url).await.unwrap();
    let status = r.status();
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json"),
        "{url}"
    );
    (status, r.json().await.unwrap())
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn offerings_are_listed_filtered_and_sorted() {
    let Some(base) = start(None).await else {
        return;
    };
    let (status, all) = json(&format!("{base}/api/v1/offerings")).await;
    assert_eq!(status, StatusCode::OK);
    let sources = std::fs::read_dir(common::shared().unwrap().join("corpus/en-us"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().is_dir())
        .count();
    // The English pages, one German translation and AWS's page.
    assert_eq!(all.as_array().unwrap().len(), sources + 2);
    let soc2 = all
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == "offering-soc-2")
        .unwrap();
    assert!(soc2["services"].as_u64().unwrap() > 20, "{soc2}");
    assert!(soc2["last_change"].is_string(), "{soc2}");
    assert_eq!(soc2["state"], "ok");
    assert_eq!(soc2["provider"], "microsoft");
    let aws = all
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == "aws-services-in-scope")
        .unwrap();
    assert_eq!(aws["provider"], "aws");

    let (_, soc) = json(&format!("{base}/api/v1/offerings?q=SOC-")).await;
    assert_eq!(
        ids(&soc),
        [
            "offering-soc-1",
            "offering-soc-1-de-de",
            "offering-soc-2",
            "offering-soc-3"
        ]
    );

    let (_, by_size) = json(&format!("{base}/api/v1/offerings?sort=size&order=desc")).await;
    let sizes: Vec<u64> = by_size
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["services"].as_u64().unwrap())
        .collect();
    assert!(sizes.windows(2).all(|w| w[0] >= w[1]), "{sizes:?}");

    let (_, anomalies) = json(&format!("{base}/api/v1/offerings?state=anomaly")).await;
    assert!(
        anomalies
            .as_array()
            .unwrap()
            .iter()
            .all(|o| o["state"] == "anomaly")
    );

    for bad in ["state=gone", "sort=colour"] {
        let (status, body) = json(&format!("{base}/api/v1/offerings?{bad}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(body["error"].as_str().unwrap().contains("give one of"));
    }

    // The page works from a plain form, and what was typed stays text.
    let (status, html) = get(&format!("{base}/?q=%3Cscript%3Esoc&sort=size")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("value=\"&lt;script&gt;soc\""), "{html}");
    assert!(!html.contains("<script>"));
    assert!(html.contains("0 offerings"));
    let (_, html) = get(&format!("{base}/?q=iso-2700")).await;
    assert!(html.contains("href=\"/offerings/offering-iso-27001\""));
    assert!(!html.contains("offering-soc-2"));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_offering_on_a_chosen_date_with_its_log() {
    let Some(base) = start(None).await else {
        return;
    };
    let api = format!("{base}/api/v1/offerings/offering-soc-2");
    let (status, early) = json(&format!("{api}?date=2020-01-01")).await;
    assert_eq!(status, StatusCode::OK);
    let (_, later) = json(&format!("{api}?date=2022-12-31")).await;
    let captured = |v: &Value| v["captured"].as_str().map(|s| s[..10].to_string());
    let later_captured = captured(&later).unwrap();
    assert!(later_captured.as_str() <= "2022-12-31");
    assert_ne!(captured(&early), Some(later_captured));
    assert!(!later["scopes"].as_array().unwrap().is_empty());
    assert!(
        later["scopes"][0]["services"].as_array().unwrap().len() > 5,
        "{later}"
    );
    assert!(!later["events"].as_array().unwrap().is_empty());
    assert!(later["versions"].as_array().unwrap().len() > 10);

    let (status, html) = get(&format!("{base}/offerings/offering-soc-2?date=2022-12-31")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("type=\"date\" name=\"date\" value=\"2022-12-31\""));
    assert!(html.contains("Change log"));
    assert!(html.contains("href=\"/offerings/offering-soc-2/feed.atom\""));

    for (url, want) in [
        (
            format!("{base}/offerings/offering-nope"),
            StatusCode::NOT_FOUND,
        ),
        (
            format!("{base}/offerings/offering-soc-2?date=2021-02-30"),
            StatusCode::BAD_REQUEST,
        ),
        (format!("{base}/no/such/page"), StatusCode::NOT_FOUND),
    ] {
        let (status, html) = get(&url).await;
        assert_eq!(status, want, "{url}");
        assert!(html.contains("Back to the offerings"), "{url}");
    }
    let (status, body) = json(&format!("{api}?date=yesterday-ish")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"].as_str().unwrap().contains("YYYY-MM-DD"));
    let (status, _) = json(&format!("{base}/api/v1/offerings/offering-nope")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_offerings_page_text_and_translation_lag() {
    let Some(base) = start(None).await else {
        return;
    };
    let (status, html) = get(&format!("{base}/offerings/offering-soc-2/text")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<table class=\"side\">"));
    assert!(html.contains("class=\"ins\""));
    assert!(html.contains("Microsoft Defender for Cloud Apps"));
    let (status, _) = get(&format!("{base}/offerings/offering-nope/text")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The German page still said Cloud App Security after the English
    // page's rename of 29 October 2021.
    let (_, de) = json(&format!(
        "{base}/api/v1/offerings/offering-soc-1-de-de?date=2021-11-09"
    ))
    .await;
    let lag = &de["translation_lag"][0];
    assert_eq!(lag["english"], "offering-soc-1");
    assert!(
        lag["lags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["english"] == "Microsoft Defender for Cloud Apps"),
        "{lag}"
    );
    let (_, html) = get(&format!("{base}/offerings/offering-soc-1?date=2021-11-09")).await;
    assert!(html.contains("Translation lag on 2021-11-09"));
    assert!(html.contains("href=\"/offerings/offering-soc-1-de-de?date=2021-11-09\""));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_service_is_found_by_part_of_a_name_or_a_former_name() {
    let Some(base) = start(None).await else {
        return;
    };
    // Microsoft Flow is Power Automate's former name.
    let (status, found) = json(&format!("{base}/api/v1/services?q=Microsoft%20Flow")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(found["services"], serde_json::json!(["Power Automate"]));
    let (_, part) = json(&format!("{base}/api/v1/services?q=automate")).await;
    assert!(
        part["services"]
            .as_array()
            .unwrap()
            .contains(&Value::from("Power Automate"))
    );
    let (status, t) = json(&format!("{base}/api/v1/timeline?name=Power%20Automate")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(t["offerings"].as_object().unwrap().len() > 3, "{t}");
    assert!(
        t["names"]
            .as_array()
            .unwrap()
            .contains(&Value::from("Microsoft Flow"))
    );

    let (status, html) = get(&format!("{base}/services?q=Microsoft+Flow")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<h1>Power Automate</h1>"), "{html}");
    assert!(html.contains("href=\"/offerings/offering-soc-2?date="));
    let (_, html) = get(&format!("{base}/services?q=Dynamics")).await;
    assert!(html.contains("services have Dynamics in their name"));
    assert!(html.contains("href=\"/services?q=Dynamics+365+U.S.+Government\""));

    for url in ["services", "services?q=", "timeline"] {
        let (status, _) = json(&format!("{base}/api/v1/{url}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{url}");
    }
    let (status, _) = json(&format!("{base}/api/v1/timeline?name=No%20Such%20Thing")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_matrix_by_date_and_environment_and_as_csv() {
    let Some(base) = start(None).await else {
        return;
    };
    let (status, all) = json(&format!("{base}/api/v1/matrix?date=2022-06-30")).await;
    assert_eq!(status, StatusCode::OK);
    let envs: Vec<String> = all["environments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap().to_string())
        .collect();
    assert!(!envs.is_empty());
    let env = &envs[0];
    let (status, one) = json(&format!(
        "{base}/api/v1/matrix?date=2022-06-30&environment={}",
        env.replace(' ', "%20")
    ))
    .await;
    assert_eq!(status, StatusCode::OK);
    let count = |m: &Value| m["services"].as_object().unwrap().len();
    assert!(count(&one) > 0 && count(&one) < count(&all), "{env}");
    assert!(
        one["offerings"].as_array().unwrap().len() < all["offerings"].as_array().unwrap().len()
    );

    let r = reqwest::get(format!("{base}/matrix?date=2022-06-30&format=csv"))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = r.text().await.unwrap();
    assert!(csv.starts_with("service,offering-"));
    assert_eq!(csv.lines().count(), count(&all) + 1);

    let (status, html) = get(&format!("{base}/matrix?date=2022-06-30")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<h1>Matrix on 2022-06-30</h1>"));
    assert!(html.contains("class=\"wide\""));

    // AWS's page came in by today's nightly run, Microsoft's are the rest.
    let (_, now) = json(&format!("{base}/api/v1/matrix")).await;
    assert_eq!(now["providers"], serde_json::json!(["aws", "microsoft"]));
    let (status, aws) = json(&format!("{base}/api/v1/matrix?provider=aws")).await;
    assert_eq!(status, StatusCode::OK);
    // The page is a column per program and level, each of its page.
    let aws_columns: Vec<&str> = aws["offerings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        aws_columns.contains(&"aws-services-in-scope / FedRAMP High (GovCloud)"),
        "{aws_columns:?}"
    );
    assert!(
        aws_columns
            .iter()
            .all(|c| c.starts_with("aws-services-in-scope / ")),
        "{aws_columns:?}"
    );
    let (status, fedramp) = json(&format!(
        "{base}/api/v1/matrix?provider=aws&environment=FedRAMP%20High%20(GovCloud)"
    ))
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        fedramp["offerings"],
        serde_json::json!(["aws-services-in-scope / FedRAMP High (GovCloud)"])
    );
    assert_eq!(aws["provider"], "aws");
    let aws_services = aws["services"].as_object().unwrap();
    assert!(
        aws_services.contains_key("Amazon DynamoDB"),
        "{aws_services:?}"
    );
    assert!(!aws_services.contains_key("Power Automate"));
    let (_, microsoft) = json(&format!("{base}/api/v1/matrix?provider=microsoft")).await;
    let offerings = |m: &Value| m["offerings"].as_array().unwrap().len();
    assert_eq!(offerings(&microsoft), offerings(&now) - aws_columns.len());
    assert!(!microsoft["offerings"].as_array().unwrap().iter().any(|o| {
        o.as_str()
            .is_some_and(|o| o.starts_with("aws-services-in-scope"))
    }));
    assert!(microsoft["services"]["Power Automate"].is_array());
    assert!(
        !microsoft["services"]
            .as_object()
            .unwrap()
            .contains_key("Amazon DynamoDB")
    );
    let (_, html) = get(&format!("{base}/matrix?provider=aws")).await;
    assert!(
        html.contains("<option value=\"aws\" selected>aws</option>"),
        "{html}"
    );
    assert!(html.contains("href=\"/services?q=Amazon+DynamoDB\""));
    assert!(!html.contains("offering-soc-2"));

    for bad in [
        "date=2022-06-31",
        "date=2022-06-30&environment=Moonbase",
        "provider=oracle",
        // No AWS page was in force in 2022.
        "date=2022-06-30&provider=aws",
    ] {
        let (status, _) = json(&format!("{base}/api/v1/matrix?{bad}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        let (status, _) = get(&format!("{base}/matrix?{bad}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn compare_one_source_or_all_between_two_dates() {
    let Some(base) = start(None).await else {
        return;
    };
    let (status, one) = json(&format!(
        "{base}/api/v1/compare?source=offering-soc-2&from=2021-08-01&to=2022-12-31"
    ))
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one.as_array().unwrap().len(), 1);
    assert!(
        one[0]["renamed"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["to"] == "Microsoft Defender for Cloud Apps"),
        "{one}"
    );
    let (_, html) = get(&format!(
        "{base}/compare?source=offering-soc-2&from=2021-08-01&to=2022-12-31"
    ))
    .await;
    assert!(html.contains("Microsoft Defender for Cloud Apps"));
    let (_, all) = json(&format!(
        "{base}/api/v1/compare?from=2021-06-01&to=2022-12-31"
    ))
    .await;
    assert!(all.as_array().unwrap().len() > 30);

    let (status, html) = get(&format!("{base}/compare?from=2021-06-01&to=2022-12-31")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("offerings changed."));

    for (q, want) in [
        ("from=2022-01-01&to=2021-01-01", StatusCode::BAD_REQUEST),
        ("to=2021-01-01", StatusCode::BAD_REQUEST),
        ("from=2021-1-1x", StatusCode::BAD_REQUEST),
        (
            "source=offering-nope&from=2021-01-01",
            StatusCode::NOT_FOUND,
        ),
    ] {
        let (status, body) = json(&format!("{base}/api/v1/compare?{q}")).await;
        assert_eq!(status, want, "{q}");
        assert!(body["error"].is_string());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn atom_feeds_for_everything_and_one_offering() {
    let Some(base) = start(None).await else {
        return;
    };
    let read = |text: String| atom_syndication::Feed::read_from(text.as_bytes()).unwrap();
    let (status, all) = get(&format!("{base}/feed.atom")).await;
    assert_eq!(status, StatusCode::OK);
    let all = read(all);
    let (_, one) = get(&format!("{base}/offerings/offering-soc-2/feed.atom")).await;
    let one = read(one);
    assert!(!one.entries().is_empty());
    assert!(one.entries().len() < all.entries().len());
    assert!(
        one.entries()
            .iter()
            .all(|e| e.title().as_str().starts_with("offering-soc-2:"))
    );
    let (status, _) = get(&format!("{base}/offerings/offering-nope/feed.atom")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_is_asked_for_and_headers_are_strict() {
    let Some(base) = start(Some(TOKEN)).await else {
        return;
    };
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let status = |r: reqwest::Response| r.status();
    let url = format!("{base}/api/v1/offerings");
    assert_eq!(
        status(client.get(&url).send().await.unwrap()),
        StatusCode::UNAUTHORIZED
    );
    let wrong = client.get(&url).bearer_auth("a-long-enough-secret-tokeN");
    assert_eq!(
        status(wrong.send().await.unwrap()),
        StatusCode::UNAUTHORIZED
    );
    let right = client.get(&url).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(right.status(), StatusCode::OK);
    let csp = right.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert_eq!(right.headers()["x-content-type-options"], "nosniff");
    assert_eq!(right.headers()["x-frame-options"], "DENY");

    // A browser logs in once and then carries the cookie.
    let login = client
        .post(format!("{base}/login"))
        .form(&[("token", TOKEN)])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::SEE_OTHER);
    let cookie = login.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    let pair = cookie.split(';').next().unwrap().to_string();
    let page = client
        .get(&base)
        .header("cookie", &pair)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let bad = client
        .get(&base)
        .header("cookie", "scopewatch_token=guess")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
    assert!(bad.headers().contains_key("content-security-policy"));

    // Request bodies are bounded.
    let big = client
        .post(format!("{base}/login"))
        .form(&[("token", "x".repeat(64 * 1024))])
        .send()
        .await
        .unwrap();
    assert_eq!(big.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

/// What the server derives from the history is kept between requests, yet
/// what the nightly job writes meanwhile shows on the next one.
#[tokio::test(flavor = "multi_thread")]
async fn a_write_to_the_database_shows_on_the_next_request() {
    let dir = tempfile::tempdir().unwrap();
    let db = common::demo_db(dir.path());
    let base = serve_db(&db, None).await;
    let url = format!("{base}/api/v1/offerings");
    let (_, before) = json(&url).await;
    assert_eq!(json(&url).await.1, before);
    assert!(!ids(&before).contains(&"offering-written-later".to_string()));
    let page = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("snapshots/offering-iso-27001/2020-06-15.md");
    common::bin()
        .arg("--db")
        .arg(&db)
        .args(["import", "-q", "--source", "offering-written-later"])
        .arg(page)
        .assert()
        .success();
    let (_, after) = json(&url).await;
    assert_eq!(ids(&after).len(), ids(&before).len() + 1);
    assert!(ids(&after).contains(&"offering-written-later".to_string()));
}

/// A client that sends part of a request line and then nothing (slowloris)
/// is disconnected once the header timeout passes; one that finishes its
/// headers in time is answered.
#[tokio::test(flavor = "multi_thread")]
async fn a_client_slow_to_send_its_headers_is_disconnected() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Some(base) = start(None).await else {
        return;
    };
    let addr = base.trim_start_matches("http://").to_string();

    let mut prompt = tokio::net::TcpStream::connect(&addr).await.unwrap();
    prompt
        .write_all(b"GET /style.css HTTP/1.1\r\n")
        .await
        .unwrap();
    tokio::time::sleep(HEADER_TIMEOUT / 4).await;
    prompt
        .write_all(b"host: localhost\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    prompt.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");

    let mut slow = tokio::net::TcpStream::connect(&addr).await.unwrap();
    slow.write_all(b"GET /api/v1/offer").await.unwrap();
    let started = std::time::Instant::now();
    let mut got = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(10), slow.read_to_end(&mut got)).await;
    assert!(closed.is_ok(), "still connected after 10 s");
    assert!(
        started.elapsed() >= HEADER_TIMEOUT / 2,
        "{:?}",
        started.elapsed()
    );
    let got = String::from_utf8_lossy(&got);
    assert!(!got.contains("200 OK"), "{got}");
}

#[test]
fn serve_refuses_a_public_address_without_a_token() {
    let dir = tempfile::tempdir().unwrap();
    let db = common::demo_db(dir.path());
    let out = common::bin()
        .arg("--db")
        .arg(&db)
        .args(["serve", "--listen", "0.0.0.0:0"])
        .env_remove("SCOPEWATCH_TOKEN")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("not a loopback address, without a token"),
        "{err}"
    );
    assert_eq!(err.matches("refusing").count(), 1, "said once: {err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn two_hundred_concurrent_requests_all_answer() {
    let Some(base) = start(None).await else {
        return;
    };
    let client = reqwest::Client::new();
    let paths = [
        "/api/v1/offerings/offering-soc-2?date=2022-06-30",
        "/services?q=Microsoft+Flow",
        "/api/v1/services?q=Dynamics",
        "/offerings/offering-iso-27001?date=2021-12-31",
    ];
    let requests = (0..200).map(|i| {
        let url = format!("{base}{}", paths[i % paths.len()]);
        let client = client.clone();
        tokio::spawn(async move { client.get(url).send().await.map(|r| r.status()) })
    });
    for answer in join_all(requests).await {
        assert_eq!(answer, StatusCode::OK);
    }
}

async fn join_all(
    tasks: impl Iterator<Item = tokio::task::JoinHandle<reqwest::Result<StatusCode>>>,
) -> Vec<StatusCode> {
    let mut out = Vec::new();
    for t in tasks.collect::<Vec<_>>() {
        out.push(t.await.unwrap().unwrap());
    }
    out
}

#[test]
fn serve_refuses_a_short_token() {
    let dir = tempfile::tempdir().unwrap();
    let db = common::demo_db(dir.path());
    let out = common::bin()
        .arg("--db")
        .arg(&db)
        .args(["serve", "--listen", "0.0.0.0:0", "--token", "short"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("shorter than 16 characters"), "{err}");
}
