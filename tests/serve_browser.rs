//! `scopewatch serve` in headless Chromium: a user clicking through every
//! view (through chromedriver), and each view's screenshots at a desktop's
//! and a phone's width.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::Value;

use crate::serve::start;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// The program at `path`, or `None` to skip where CI is not set; in CI its
/// absence fails the test.
fn needed(path: &str) -> Option<&Path> {
    let path = Path::new(path);
    if path.exists() {
        return Some(path);
    }
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
    assert!(!ci, "CI is set but {} is missing", path.display());
    eprintln!("skipping: no {}", path.display());
    None
}

/// chromedriver on a loopback port, stopped when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn driver(program: &Path) -> Driver {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(program)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let driver = Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return driver;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not listen on port {port}");
}

async fn browser(driver: &Driver, chromium: &Path) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": chromium,
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--window-size=1280,1400"],
        }),
    );
    ClientBuilder::new(HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .unwrap()
}

async fn text(client: &Client, css: &str) -> String {
    client
        .find(Locator::Css(css))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn texts(client: &Client, css: &str) -> Vec<String> {
    let mut out = Vec::new();
    for e in client.find_all(Locator::Css(css)).await.unwrap() {
        out.push(e.text().await.unwrap());
    }
    out
}

/// Clicks `target` and waits until the browser has left the page: a click
/// returns before the page a form or link leads to has replaced it.
async fn follow(client: &Client, target: Element) {
    let old = client.find(Locator::Css("html")).await.unwrap();
    target.click().await.unwrap();
    for _ in 0..200 {
        // The old page's element is stale once the new page replaced it;
        // mid-navigation chromedriver may give another error for it, and a
        // session that broke fails the next command.
        if old.tag_name().await.is_err() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the click did not lead to another page");
}

async fn click(client: &Client, css: &str) {
    follow(client, client.find(Locator::Css(css)).await.unwrap()).await;
}

/// Chooses `value` in the select named `name` and submits its form.
async fn choose(client: &Client, name: &str, value: &str) {
    let select = client
        .find(Locator::Css(&format!("select[name={name}]")))
        .await
        .unwrap();
    select.select_by_value(value).await.unwrap();
    let form = client
        .find(Locator::XPath(&format!(
            "//select[@name='{name}']/ancestor::form"
        )))
        .await
        .unwrap();
    follow(client, form.find(Locator::Css("button")).await.unwrap()).await;
}

async fn search(client: &Client, text: &str) {
    let input = client.find(Locator::Css("input[name=q]")).await.unwrap();
    input.clear().await.unwrap();
    input.send_keys(text).await.unwrap();
    let form = client
        .find(Locator::XPath("//input[@name='q']/ancestor::form"))
        .await
        .unwrap();
    follow(client, form.find(Locator::Css("button")).await.unwrap()).await;
}

/// A user goes from the offerings to an offering, picks an older version,
/// follows a service to its timeline, searches for services, filters the
/// matrix by environment and provider, and opens a comparison: each page
/// shows what the API says.
#[tokio::test(flavor = "multi_thread")]
async fn a_user_clicks_through_every_view_in_chromium() {
    let Some(base) = start(None).await else {
        return;
    };
    let (Some(chromium), Some(program)) = (needed(CHROMIUM), needed(CHROMEDRIVER)) else {
        return;
    };
    let driver = driver(program).await;
    let session = browser(&driver, chromium).await;
    let outcome = tokio::spawn(click_through(base, session.clone())).await;
    // Closing the session quits Chromium, which would outlive chromedriver.
    session.close().await.unwrap();
    if let Err(failed) = outcome {
        std::panic::resume_unwind(failed.into_panic());
    }
}

async fn click_through(base: String, c: Client) {
    // The offerings, narrowed by the search form, then one offering.
    c.goto(&base).await.unwrap();
    assert_eq!(text(&c, "h1").await, "Offerings");
    search(&c, "soc-2").await;
    assert_eq!(texts(&c, "tbody th a").await, ["offering-soc-2"]);
    click(&c, "tbody th a").await;
    assert_eq!(text(&c, "h1").await, "offering-soc-2");
    let latest = text(&c, "#scope").await;
    assert!(
        latest.contains("Microsoft Defender for Cloud Apps"),
        "{latest}"
    );
    assert!(!latest.contains("Microsoft Cloud App Security"), "{latest}");

    // The version picker: the first version still had the old name.
    let options = texts(&c, "select[name=date] option").await;
    let first = options.last().unwrap().clone();
    choose(&c, "date", &first).await;
    let early = text(&c, "#scope").await;
    assert!(early.contains(&format!("Scope on {first}")), "{early}");
    assert!(early.contains("Microsoft Cloud App Security"), "{early}");
    assert!(
        !early.contains("Microsoft Defender for Cloud Apps"),
        "{early}"
    );
    let api: Value = reqwest::get(format!(
        "{base}/api/v1/offerings/offering-soc-2?date={first}"
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let listed: usize = api["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["services"].as_array().unwrap().len())
        .sum();
    assert_eq!(texts(&c, "#scope li").await.len(), listed);

    // A service of that version, followed to its timeline.
    click(
        &c,
        "#scope a[href='/services?q=Microsoft+Cloud+App+Security']",
    )
    .await;
    assert_eq!(text(&c, "h1").await, "Microsoft Defender for Cloud Apps");
    assert!(
        text(&c, "body")
            .await
            .contains("Microsoft Cloud App Security")
    );
    assert!(
        texts(&c, "tbody th")
            .await
            .contains(&"offering-soc-2".into())
    );

    // The name search: a former name finds the service, a part of a name
    // lists every service with it.
    search(&c, "Microsoft Flow").await;
    assert_eq!(text(&c, "h1").await, "Power Automate");
    search(&c, "dynamics").await;
    let found = texts(&c, "body > ul li a").await;
    assert!(found.len() > 1, "{found:?}");
    click(&c, "body > ul li a").await;
    assert_eq!(text(&c, "h1").await, found[0]);

    // The matrix, by environment and by provider: the rows and columns
    // shown are the API's.
    click(&c, "nav a[href='/matrix']").await;
    let all: Value = reqwest::get(format!("{base}/api/v1/matrix"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let rows = |m: &Value| m["services"].as_object().unwrap().len();
    assert_eq!(texts(&c, "tbody tr").await.len(), rows(&all));
    let env = all["environments"][0].as_str().unwrap().to_string();
    choose(&c, "environment", &env).await;
    let one: Value = reqwest::get(format!(
        "{base}/api/v1/matrix?environment={}",
        env.replace(' ', "%20")
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let shown = texts(&c, "tbody tr").await.len();
    assert!(shown > 0 && shown < rows(&all), "{env}: {shown}");
    assert_eq!(shown, rows(&one));
    choose(&c, "environment", "").await;
    choose(&c, "provider", "aws").await;
    let columns = texts(&c, "thead th a").await;
    assert!(
        !columns.is_empty()
            && columns
                .iter()
                .all(|c| c.starts_with("aws-services-in-scope / ")),
        "{columns:?}"
    );
    let services = texts(&c, "tbody th").await;
    assert!(services.contains(&"Amazon DynamoDB".into()), "{services:?}");
    assert!(!services.contains(&"Power Automate".into()));

    // Compare, from the offering's versions: the step that renamed.
    c.goto(&format!("{base}/offerings/offering-soc-2"))
        .await
        .unwrap();
    let mut opened = false;
    for step in c.find_all(Locator::Css("a.step")).await.unwrap() {
        let href = step.attr("href").await.unwrap().unwrap();
        let diff: Value = reqwest::get(format!("{base}/api/v1{href}"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if diff
            .to_string()
            .contains("\"to\":\"Microsoft Defender for Cloud Apps\"")
        {
            follow(&c, step).await;
            opened = true;
            break;
        }
    }
    assert!(
        opened,
        "no version step renamed Microsoft Cloud App Security"
    );
    assert!(text(&c, "h1").await.starts_with("Compare "));
    assert_eq!(text(&c, "h2").await, "offering-soc-2");
    let changes = texts(&c, "body > ul li").await;
    assert!(
        changes
            .iter()
            .any(|l| l.contains("Microsoft Defender for Cloud Apps")),
        "{changes:?}"
    );
}

/// Each view in headless Chromium at a desktop's and a phone's width: it
/// renders what the API says, the page's policy blocks nothing it uses,
/// and with `SCOPEWATCH_SCREENSHOTS=DIR` the screenshots are kept there.
#[tokio::test(flavor = "multi_thread")]
async fn every_view_renders_in_headless_chromium() {
    let Some(base) = start(None).await else {
        return;
    };
    let Some(chromium) = needed(CHROMIUM) else {
        return;
    };
    let keep = std::env::var_os("SCOPEWATCH_SCREENSHOTS").map(PathBuf::from);
    let views = [
        ("offerings", "/?sort=size&order=desc", "offering-iso-27001"),
        (
            "offering",
            "/offerings/offering-soc-2?date=2022-06-30",
            "Microsoft Defender for Cloud Apps",
        ),
        (
            "service",
            "/services?q=Microsoft+Flow",
            "<h1>Power Automate</h1>",
        ),
        (
            "matrix",
            "/matrix?date=2022-06-30&environment=",
            "<h1>Matrix on 2022-06-30</h1>",
        ),
        (
            "compare",
            "/compare?source=offering-soc-2&from=2021-08-01&to=2022-12-31",
            "Microsoft Defender for Cloud Apps",
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (name, path, want) in views {
        let url = format!("{base}{path}");
        for width in [1280, 390] {
            let shot = dir.path().join(format!("serve-{name}-{width}.png"));
            let run = |extra: Vec<String>| {
                let mut cmd = Command::new(chromium);
                cmd.args([
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--no-first-run",
                    "--hide-scrollbars",
                    "--enable-logging=stderr",
                ])
                .arg(format!(
                    "--user-data-dir={}",
                    dir.path().join("profile").display()
                ))
                .arg(format!("--window-size={width},1400"))
                .args(extra)
                .arg(&url);
                cmd
            };
            let mut dump = run(vec!["--dump-dom".into()]);
            let mut snap = run(vec![format!("--screenshot={}", shot.display())]);
            let (dom, log) = tokio::task::spawn_blocking(move || {
                let out = dump.output().unwrap();
                let shot = snap.output().unwrap();
                assert!(shot.status.success());
                (
                    String::from_utf8_lossy(&out.stdout).to_string(),
                    String::from_utf8_lossy(&out.stderr).to_string()
                        + &String::from_utf8_lossy(&shot.stderr),
                )
            })
            .await
            .unwrap();
            assert!(dom.contains(want), "{name} at {width}: {want} missing");
            assert!(!log.contains("Content Security Policy"), "{name}: {log}");
            assert!(std::fs::metadata(&shot).unwrap().len() > 5_000, "{name}");
            if let Some(keep) = &keep {
                std::fs::copy(&shot, keep.join(shot.file_name().unwrap())).unwrap();
            }
        }
    }
}
