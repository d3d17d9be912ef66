//! The nightly job on learn.microsoft.com's current template, on loopback:
//! the Markdown form preferred where the page offers it, the HTML when the
//! Markdown cannot be had, and a template change that hides the scope kept
//! an anomaly.

use scopewatch::store::Store;
use scopewatch_core::model::PageForm;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::Setup;

const CURRENT: &str = include_str!("fixtures/learn/current-template.html");
const MARKDOWN: &str = include_str!("fixtures/learn/current-template.md");
const OFFERED: &str = "https://learn.microsoft.com/en-us/compliance/regulatory/offering-csa-star-certification?accept=text/markdown";
const COMMIT: &str = "3f6b2a9d0c1e4f5a6b7c8d9e0f1a2b3c4d5e6f70";

async fn serve(server: &MockServer, at: &str, status: u16, body: &str, mime: &str) {
    Mock::given(method("GET"))
        .and(path(at))
        .respond_with(ResponseTemplate::new(status).set_body_raw(body.as_bytes().to_vec(), mime))
        .mount(server)
        .await;
}

/// The current-template page, offering its Markdown form at `markdown`.
fn html_offering(markdown: &str) -> String {
    CURRENT.replace(OFFERED, markdown)
}

fn requested(requests: &[wiremock::Request], at: &str) -> usize {
    requests.iter().filter(|r| r.url.path() == at).count()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_markdown_form_is_preferred_where_the_page_offers_it() {
    let site = MockServer::start().await;
    let html = html_offering(&format!("{}/star?accept=text/markdown", site.uri()));
    // One path serves both: the query asks for Markdown, as on the site.
    Mock::given(method("GET"))
        .and(path("/star"))
        .and(wiremock::matchers::query_param("accept", "text/markdown"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(MARKDOWN.as_bytes().to_vec(), "text/markdown"),
        )
        .mount(&site)
        .await;
    serve(&site, "/star", 200, &html, "text/html; charset=utf-8").await;
    let s = Setup::new(&[("star", format!("{}/star", site.uri()))], "", "");
    let out = s.run(&["run"], "").await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let requests = site.received_requests().await.unwrap_or_default();
    assert_eq!(
        requested(&requests, "/star"),
        2,
        "the page, then its Markdown"
    );

    let store = Store::open(&s.db()).unwrap();
    let stored = store.latest_good("star").unwrap().unwrap();
    assert_eq!(stored.snapshot.form, PageForm::Markdown);
    assert_eq!(stored.snapshot.provenance.commit.as_deref(), Some(COMMIT));
    assert!(
        stored
            .snapshot
            .provenance
            .document_id
            .as_deref()
            .is_some_and(|d| d.starts_with("5a1f0c3e"))
    );
    assert!(
        stored
            .snapshot
            .entries()
            .any(|e| e.service.name() == "Microsoft Defender for Cloud Apps")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_html_is_kept_when_the_markdown_form_fails() {
    let site = MockServer::start().await;
    let html = html_offering(&format!("{}/gone.md", site.uri()));
    serve(&site, "/star", 200, &html, "text/html; charset=utf-8").await;
    serve(&site, "/gone.md", 404, "not here", "text/plain").await;
    let s = Setup::new(&[("star", format!("{}/star", site.uri()))], "", "");
    let out = s.run(&["run"], "").await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let requests = site.received_requests().await.unwrap_or_default();
    assert_eq!(requested(&requests, "/gone.md"), 1);

    let store = Store::open(&s.db()).unwrap();
    let stored = store.latest_good("star").unwrap().unwrap();
    assert_eq!(stored.snapshot.form, PageForm::Html);
    assert_eq!(stored.snapshot.provenance.commit.as_deref(), Some(COMMIT));
    assert_eq!(stored.snapshot.entries().count(), 9);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_template_change_that_hides_the_scope_is_an_anomaly() {
    let site = MockServer::start().await;
    let plain = CURRENT.replace(OFFERED, "");
    serve(&site, "/star", 200, &plain, "text/html").await;
    let s = Setup::new(&[("star", format!("{}/star", site.uri()))], "", "");
    assert!(s.run(&["run"], "").await.status.success());

    // The article body now arrives in a client-side template, which a page
    // reader never sees: the scope is hidden, not gone.
    let hidden = plain.replace(
        "<div class=\"content\"><h2 id=\"csa-star",
        "<template data-article-body><div class=\"content\"><h2 id=\"csa-star",
    );
    let hidden = hidden.replacen(
        "</div>\n\t\t<div\n\t\t\tid=\"article-metadata-footer\"",
        "</div></template>\n\t\t<div\n\t\t\tid=\"article-metadata-footer\"",
        1,
    );
    assert_ne!(hidden, plain);
    site.reset().await;
    serve(&site, "/star", 200, &hidden, "text/html").await;
    let out = s.run(&["run", "--exit-code"], "").await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    // An anomaly has its own exit status (4), never a scope change's (3).
    assert_eq!(out.status.code(), Some(4), "not a scope change: {stdout}");
    assert!(stdout.contains("ANOMALY"), "{stdout}");
    assert!(!stdout.contains("removed"), "{stdout}");
    let store = Store::open(&s.db()).unwrap();
    let current = store.latest_good("star").unwrap().unwrap();
    assert_eq!(
        current.snapshot.entries().count(),
        9,
        "the last good scope stays"
    );
}

const AWS_1: &str = include_str!("fixtures/providers/aws-services-in-scope-1.html");
const AWS_2: &str = include_str!("fixtures/providers/aws-services-in-scope-2.html");
const AWS_URL: &str = "https://aws.amazon.com/compliance/services-in-scope/";

/// `init --provider aws` writes a configuration that watches the AWS page
/// with its profile; pointed at loopback, it runs, stores and alerts each
/// change by page, program and level.
#[tokio::test(flavor = "multi_thread")]
async fn init_provider_aws_watches_every_program_of_one_page() {
    let site = MockServer::start().await;
    let hooks = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&hooks)
        .await;
    serve(
        &site,
        "/compliance/services-in-scope/",
        200,
        AWS_1,
        "text/html",
    )
    .await;

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("scopewatch.toml");
    let init = crate::common::bin()
        .args(["init", "--provider", "aws", "-o"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    let written = std::fs::read_to_string(&config).unwrap();
    assert!(written.contains("profile = \"aws-services-in-scope\""));
    let local = written.replace(
        AWS_URL,
        &format!("{}/compliance/services-in-scope/", site.uri()),
    ) + "\n[[alert]]\nkind = \"webhook\"\nurl_env = \"SW_HOOK_URL\"\n";
    std::fs::write(
        &config,
        local.replace("per_host_delay_ms = 500", "per_host_delay_ms = 0"),
    )
    .unwrap();
    let s = Setup {
        dir,
        config: config.clone(),
    };
    let hook = format!("{}/hook", hooks.uri());
    let first = s.run(&["run"], &hook).await;
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );

    site.reset().await;
    serve(
        &site,
        "/compliance/services-in-scope/",
        200,
        AWS_2,
        "text/html",
    )
    .await;
    let second = s.run(&["run", "--exit-code"], &hook).await;
    let stdout = String::from_utf8_lossy(&second.stdout);
    assert_eq!(second.status.code(), Some(3), "{stdout}");

    let posted: Vec<serde_json::Value> = hooks
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    assert_eq!(posted.len(), 1, "{posted:?}");
    let alert = posted[0].to_string();
    assert!(alert.contains("aws-services-in-scope"), "{alert}");
    assert!(
        alert.contains("Amazon Bedrock") && alert.contains("FedRAMP High (GovCloud)"),
        "{alert}"
    );

    let db = s.dir.path().join("scopewatch.db");
    let log = crate::common::bin()
        .arg("--db")
        .arg(&db)
        .args(["log", "--source", "aws-services-in-scope"])
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&log.stdout);
    assert!(
        log.contains("aws-services-in-scope / FedRAMP High (GovCloud): added Amazon Bedrock"),
        "{log}"
    );
    assert!(
        log.contains("aws-services-in-scope / DoD CC SRG IL5 (GovCloud): removed AWS Lambda"),
        "{log}"
    );

    // The questions across time work on matrix sources, per page and
    // program.
    let ask = |args: &[&str]| {
        let out = crate::common::bin()
            .arg("--db")
            .arg(&db)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let timeline = ask(&["timeline", "Amazon Bedrock"]);
    assert!(timeline.contains("aws-services-in-scope"), "{timeline}");
    let sources = ask(&["sources"]);
    for program in ["SOC", "FedRAMP", "DoD CC SRG", "HIPAA BAA"] {
        assert!(
            sources.contains(&format!("aws-services-in-scope / {program}\n")),
            "{sources}"
        );
    }
    let matrix = ask(&["matrix", "--format", "csv"]);
    assert!(
        matrix.contains("Amazon Bedrock") && matrix.contains("aws-services-in-scope"),
        "{matrix}"
    );

    // Each version keeps the profile it was read with: `verify` reads it
    // again the same way, and `reparse --all` changes nothing.
    for args in [&["verify"][..], &["reparse", "--all"][..]] {
        let out = crate::common::bin()
            .arg("--db")
            .arg(&db)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            !text.contains("problem") || text.contains("0 problem"),
            "{text}"
        );
        if args[0] == "reparse" {
            assert!(text.contains("0 with a different scope"), "{text}");
        }
    }
    let store = Store::open(&db).unwrap();
    let current = store.latest_good("aws-services-in-scope").unwrap().unwrap();
    assert!(current.snapshot.read_with.is_some());
    assert_eq!(current.snapshot.scopes.len(), 9);
}
