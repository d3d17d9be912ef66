//! The history questions on scope-matrix pages (one page, many programs)
//! and on the sources that hold them: `log`, alerts, `timeline`, `matrix`,
//! `import --profile` and `sources remove --purge`.

use std::path::{Path, PathBuf};

use crate::common::{self, ok, sw};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/providers/");

/// An offering page in Markdown listing `names`, with the locale's front
/// matter when it has one.
fn offering(locale: Option<&str>, heading: &str, names: &[&str]) -> String {
    let front = locale.map_or(String::new(), |l| {
        format!("---\nms.contentlocale: {l}\n---\n")
    });
    let items: String = names.iter().map(|n| format!("- {n}\n")).collect();
    format!(
        "{front}# ISO/IEC 27001\n\n## <a name=\"microsoft-in-scope-cloud-services\"></a>{heading}\n\n{items}"
    )
}

/// Writes `text` at `path` under `dir`, making its folders.
fn write(dir: &Path, path: &str, text: &str) -> PathBuf {
    let path = dir.join(path);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(&path, text).expect("write");
    path
}

/// Rows per table, every table of the database.
fn row_counts(db: &Path) -> Vec<(String, i64)> {
    let conn = rusqlite::Connection::open(db).expect("database");
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .expect("tables")
        .query_map([], |r| r.get(0))
        .expect("tables")
        .collect::<Result<_, _>>()
        .expect("tables");
    tables
        .into_iter()
        .map(|t| {
            let n = conn
                .query_row(&format!("SELECT count(*) FROM \"{t}\""), [], |r| r.get(0))
                .expect("count");
            (t, n)
        })
        .collect()
}

/// Purging sources leaves the database as if they had never been
/// imported: every table holds the rows of a database that only ever had
/// the sources kept.
#[test]
fn a_purge_leaves_no_row_of_the_source_in_any_table() {
    let dir = tempfile::tempdir().expect("temp dir");
    let english = ["Azure", "Skype for Business", "Power BI"];
    let en = write(
        dir.path(),
        "en/offering-x/2021-01-05.md",
        &offering(None, "In-scope services", &english),
    );
    write(
        dir.path(),
        "fr/offering-x/2021-01-06.md",
        &offering(
            Some("fr-fr"),
            "Services concernés",
            &["Azure", "Skype Entreprise", "Power BI"],
        ),
    );
    write(
        dir.path(),
        "other/offering-y/2021-02-01.md",
        &offering(None, "In-scope services", &["Azure", "Windows 365"]),
    );
    write(
        dir.path(),
        "other/offering-y/2021-03-01.md",
        &offering(
            None,
            "In-scope services",
            &["Azure", "Windows 365", "Intune"],
        ),
    );
    let db = dir.path().join("full.db");
    let text = ok(sw(
        &db,
        &[
            "import",
            &dir.path().join("en").display().to_string(),
            &dir.path().join("fr").display().to_string(),
            &dir.path().join("other").display().to_string(),
        ],
    ));
    assert!(text.contains("localized names learned"), "{text}");
    for source in ["offering-x-fr-fr", "offering-y"] {
        ok(sw(&db, &["sources", "remove", source, "--purge"]));
    }
    ok(sw(&db, &["verify"]));

    let only = dir.path().join("only.db");
    ok(sw(&only, &["import", &en.display().to_string()]));
    assert_eq!(row_counts(&db), row_counts(&only));

    // The English page gone, nothing learned against it stays either.
    let db = dir.path().join("english.db");
    ok(sw(
        &db,
        &[
            "import",
            &dir.path().join("en").display().to_string(),
            &dir.path().join("fr").display().to_string(),
        ],
    ));
    ok(sw(&db, &["sources", "remove", "offering-x", "--purge"]));
    let learned = row_counts(&db)
        .into_iter()
        .find(|(t, _)| t == "learned_name")
        .map(|(_, n)| n);
    assert_eq!(learned, Some(0));
    ok(sw(&db, &["verify"]));
}

/// A store holding the two AWS fixtures as `aws-services-in-scope`, read
/// with the matrix profile, on 2024-01-10 and 2024-02-10.
fn aws_store(dir: &Path) -> PathBuf {
    let db = dir.join("aws.db");
    for (file, date) in [("1", "2024-01-10"), ("2", "2024-02-10")] {
        ok(sw(
            &db,
            &[
                "import",
                "--profile",
                "aws-services-in-scope",
                "--source",
                "aws-services-in-scope",
                "--date",
                date,
                &format!("{FIXTURES}aws-services-in-scope-{file}.html"),
            ],
        ));
    }
    db
}

/// The programs `sources --format json` lists for a source.
fn programs(db: &Path, source: &str) -> Vec<String> {
    let json: serde_json::Value =
        serde_json::from_str(&ok(sw(db, &["sources", "--format", "json"]))).expect("JSON");
    json.as_array()
        .expect("list")
        .iter()
        .find(|s| s["id"] == source)
        .and_then(|s| s["programs"].as_array())
        .map(|p| {
            p.iter()
                .filter_map(|p| p.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn import_and_import_git_read_with_a_named_profile() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = aws_store(dir.path());
    let found = programs(&db, "aws-services-in-scope");
    for program in ["SOC", "FedRAMP", "DoD CC SRG", "HIPAA BAA"] {
        assert!(found.iter().any(|p| p == program), "{found:?}");
    }

    // A folder of saved versions, and a page's git history.
    let folder = dir.path().join("folder");
    for (file, date) in [("1", "2024-01-10"), ("2", "2024-02-10")] {
        let page =
            std::fs::read(format!("{FIXTURES}aws-services-in-scope-{file}.html")).expect("fixture");
        std::fs::create_dir_all(folder.join("aws-page")).expect("mkdir");
        std::fs::write(folder.join(format!("aws-page/{date}.html")), page).expect("write");
    }
    let db = dir.path().join("folder.db");
    let folder_arg = folder.display().to_string();
    ok(sw(
        &db,
        &["import", "--profile", "aws-services-in-scope", &folder_arg],
    ));
    assert!(programs(&db, "aws-page").iter().any(|p| p == "FedRAMP"));

    let repo = dir.path().join("repo");
    let git = |args: &[&str]| {
        let status = std::process::Command::new("git")
            .arg("-C")
            .arg(&repo)
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .status()
            .expect("git runs");
        assert!(status.success(), "git {args:?}");
    };
    std::fs::create_dir_all(&repo).expect("mkdir");
    git(&["init", "-q"]);
    for (file, date) in [("1", "2024-01-10T12:00:00Z"), ("2", "2024-02-10T12:00:00Z")] {
        std::fs::copy(
            format!("{FIXTURES}aws-services-in-scope-{file}.html"),
            repo.join("aws-services-in-scope.html"),
        )
        .expect("copy");
        git(&["add", "."]);
        git(&["commit", "-q", "-m", "version", "--date", date]);
    }
    let db = dir.path().join("git.db");
    let text = ok(sw(
        &db,
        &[
            "import-git",
            "--path",
            "*.html",
            "--profile",
            "aws-services-in-scope",
            &repo.display().to_string(),
        ],
    ));
    assert!(text.contains("2 versions: 2 stored"), "{text}");
    assert!(
        programs(&db, "aws-services-in-scope")
            .iter()
            .any(|p| p == "HIPAA BAA")
    );
    let log = ok(sw(&db, &["log", "--format", "json"]));
    assert!(log.contains("Amazon Bedrock"), "{log}");

    // An unknown profile is refused, naming the known ones.
    let out = sw(
        &db,
        &[
            "import",
            "--profile",
            "nope",
            &format!("{FIXTURES}aws-services-in-scope-1.html"),
        ],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains("\"nope\"")
            && err.contains("aws-services-in-scope")
            && err.contains("azure-compliance-scope"),
        "{err}"
    );
}

/// Every line of `log` in one format.
fn log(db: &Path, format: &str) -> String {
    ok(sw(db, &["log", "--format", format]))
}

#[test]
fn the_log_names_each_change_by_page_and_program() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = aws_store(dir.path());
    let text = log(&db, "text");
    assert!(
        text.contains(
            "2024-02-10  aws-services-in-scope / FedRAMP High (GovCloud): added Amazon Bedrock\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("aws-services-in-scope / DoD CC SRG IL5 (GovCloud): removed AWS Lambda\n"),
        "{text}"
    );
    let markdown = log(&db, "markdown");
    assert!(
        markdown.contains(
            "**aws-services-in-scope / FedRAMP High \\(GovCloud\\)**: **Added** Amazon Bedrock"
        ),
        "{markdown}"
    );

    let json: serde_json::Value = serde_json::from_str(&log(&db, "json")).expect("JSON");
    let bedrock = json
        .as_array()
        .expect("list")
        .iter()
        .find(|e| e["service"] == "Amazon Bedrock")
        .expect("Bedrock added");
    assert_eq!(bedrock["program"], "FedRAMP High (GovCloud)");
    assert_eq!(bedrock["source"], "aws-services-in-scope");

    let csv = log(&db, "csv");
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("date,source,kind,service,from,to,environment,evidence,program,localized")
    );
    assert!(
        lines.any(
            |l| l.starts_with("2024-02-10,aws-services-in-scope,added,Amazon Bedrock,")
                && l.ends_with(",FedRAMP High (GovCloud),")
        ),
        "{csv}"
    );

    // The HTML report places the change by page and program too.
    let report = dir.path().join("report.html");
    ok(sw(
        &db,
        &[
            "report",
            "--from",
            "2024-01-01",
            "--to",
            "2024-03-01",
            "-o",
            report.to_str().expect("utf-8 path"),
        ],
    ));
    let html = std::fs::read_to_string(&report).expect("report");
    assert!(
        html.contains("aws-services-in-scope / FedRAMP High (GovCloud): <b>Amazon Bedrock</b>"),
        "the report does not place Bedrock by page and program"
    );

    // An offering page has no program: its lines are as before.
    let page = write(
        dir.path(),
        "offering-x/2021-01-05.md",
        &offering(None, "In-scope services", &["Azure"]),
    );
    ok(sw(&db, &["import", &page.display().to_string()]));
    write(
        dir.path(),
        "offering-x/2021-02-05.md",
        &offering(None, "In-scope services", &["Azure", "Intune"]),
    );
    ok(sw(
        &db,
        &[
            "import",
            &dir.path().join("offering-x").display().to_string(),
        ],
    ));
    let json: serde_json::Value = serde_json::from_str(&log(&db, "json")).expect("JSON");
    let intune = json
        .as_array()
        .expect("list")
        .iter()
        .find(|e| e["service"] == "Intune")
        .expect("Intune added");
    assert!(intune["program"].is_null(), "{intune}");
    assert!(log(&db, "text").contains("2021-02-05  offering-x  added     Intune"));
}

#[tokio::test(flavor = "multi_thread")]
async fn every_alert_names_the_change_by_page_and_program() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    let site = MockServer::start().await;
    let hooks = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&hooks)
        .await;
    let serve = |file: &'static str| {
        let site = &site;
        async move {
            site.reset().await;
            let page = std::fs::read(format!("{FIXTURES}aws-services-in-scope-{file}.html"))
                .expect("fixture");
            Mock::given(method("GET"))
                .and(path("/aws"))
                .respond_with(
                    ResponseTemplate::new(200).set_body_raw(page, "text/html; charset=utf-8"),
                )
                .mount(site)
                .await;
        }
    };
    let (port, smtp) = crate::nightly::smtp_server();
    let scratch = tempfile::tempdir().expect("temp dir");
    let piped = scratch.path().join("command.json");
    // The source's profile line follows its id and url.
    let alerts = format!(
        "profile = \"aws-services-in-scope\"\n\
         \n[[alert]]\nkind = \"webhook\"\nurl_env = \"SW_HOOK_URL\"\n\
         \n[[alert]]\nkind = \"slack\"\nurl = \"{0}/slack\"\n\
         \n[[alert]]\nkind = \"teams\"\nurl = \"{0}/teams\"\n\
         \n[[alert]]\nkind = \"command\"\ncommand = [\"sh\", \"-c\", \"cat > '{1}'\"]\n\
         \n[[alert]]\nkind = \"email\"\nsmtp_host = \"127.0.0.1\"\nsmtp_port = {port}\ntls = \"none\"\n\
         from = \"scopewatch@example.com\"\nto = [\"grc@example.com\"]\n",
        hooks.uri(),
        piped.display()
    );
    let s = common::Setup::new(
        &[("aws-services-in-scope", format!("{}/aws", site.uri()))],
        &alerts,
        "",
    );
    let hook = format!("{}/hook", hooks.uri());
    serve("1").await;
    let out = s.run(&["run"], &hook).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serve("2").await;
    let out = s.run(&["run"], &hook).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let received = |at: &'static str| {
        let hooks = &hooks;
        async move {
            let requests = hooks.received_requests().await.unwrap_or_default();
            let request = requests
                .iter()
                .find(|r| r.url.path() == at)
                .unwrap_or_else(|| panic!("nothing at {at}"));
            serde_json::from_slice::<serde_json::Value>(&request.body).expect("JSON")
        }
    };
    let sentence = "aws-services-in-scope / FedRAMP High (GovCloud): added Amazon Bedrock";

    let webhook = received("/hook").await;
    let added = webhook["added"].as_array().expect("added");
    assert!(
        added
            .iter()
            .any(|e| e["service"] == "Amazon Bedrock" && e["program"] == "FedRAMP High (GovCloud)"),
        "{webhook}"
    );
    let command: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&piped).expect("the command ran")).expect("JSON");
    assert_eq!(
        command["removed"][0]["program"],
        "DoD CC SRG IL5 (GovCloud)"
    );

    let slack = received("/slack").await;
    let mrkdwn = slack["blocks"][1]["text"]["text"]
        .as_str()
        .expect("section");
    assert!(
        mrkdwn
            .contains("• aws-services-in-scope / FedRAMP High (GovCloud): *added* Amazon Bedrock"),
        "{mrkdwn}"
    );
    let teams = received("/teams").await;
    let facts = teams["sections"][0]["facts"].as_array().expect("facts");
    assert!(
        facts.iter().any(
            |f| f["name"] == "aws-services-in-scope / FedRAMP High (GovCloud)"
                && f["value"] == "added Amazon Bedrock"
        ),
        "{teams}"
    );
    let mail = tokio::task::spawn_blocking(move || smtp.join().expect("mail"))
        .await
        .expect("mail");
    let plain = common::mime_part(&mail, "text/plain");
    assert!(plain.contains(sentence), "{plain}");
    assert!(!plain.contains("[FedRAMP High (GovCloud)]"), "{plain}");
}

/// `timeline --format json`.
fn timeline(db: &Path, service: &str) -> serde_json::Value {
    serde_json::from_str(&ok(sw(db, &["timeline", service, "--format", "json"]))).expect("JSON")
}

#[test]
fn the_timeline_of_a_matrix_page_is_per_program_and_level() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = aws_store(dir.path());
    let t = timeline(&db, "AWS Lambda");
    let offerings = t["offerings"].as_object().expect("offerings");
    assert!(!offerings.contains_key("aws-services-in-scope"), "{t}");
    let il5 = &offerings["aws-services-in-scope / DoD CC SRG IL5 (GovCloud)"];
    assert_eq!(il5[0]["from"], "2024-01-10");
    assert_eq!(il5[0]["to"], "2024-02-10");
    assert_eq!(il5[0]["ended"], "removed");
    let high = &offerings["aws-services-in-scope / FedRAMP High (GovCloud)"];
    assert!(high[0]["to"].is_null(), "{t}");

    let t = timeline(&db, "Amazon Bedrock");
    let places: Vec<&String> = t["offerings"]
        .as_object()
        .expect("offerings")
        .keys()
        .collect();
    assert_eq!(places, ["aws-services-in-scope / FedRAMP High (GovCloud)"]);
    assert_eq!(
        t["offerings"]["aws-services-in-scope / FedRAMP High (GovCloud)"][0]["from"],
        "2024-02-10"
    );
    let text = ok(sw(&db, &["timeline", "Amazon Bedrock"]));
    assert!(
        text.contains("aws-services-in-scope / FedRAMP High (GovCloud) 2024-02-10 → now"),
        "{text}"
    );
}

/// Each span carries the environments it was in scope for: the demo's
/// Power Automate joined GCC High on ISO 27001 while staying in scope.
#[test]
fn each_span_of_a_timeline_has_its_environments() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = common::demo_db(dir.path());
    let t = timeline(&db, "Power Automate");
    let spans = t["offerings"]["offering-iso-27001"]
        .as_array()
        .expect("spans");
    let summary: Vec<(&str, &str, serde_json::Value)> = spans
        .iter()
        .map(|s| {
            (
                s["from"].as_str().unwrap_or(""),
                s["to"].as_str().unwrap_or("now"),
                s["environments"].clone(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("2020-06-15", "2020-11-02", serde_json::json!(["all"])),
            ("2020-11-02", "now", serde_json::json!(["GCC High", "all"])),
        ]
    );
    assert_eq!(spans[0]["ended"], "environments changed");
    let text = ok(sw(&db, &["timeline", "Power Automate"]));
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.trim_start().starts_with("offering-iso-27001 "))
        .collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].ends_with("in all"), "{text}");
    assert!(lines[1].ends_with("in GCC High, all"), "{text}");
    let csv = ok(sw(&db, &["timeline", "Power Automate", "--format", "csv"]));
    assert!(
        csv.starts_with("service,offering,from,to,ended,names,environments\n"),
        "{csv}"
    );
    assert!(csv.contains(",GCC High; all\n"), "{csv}");
}

#[test]
fn the_matrix_has_a_column_per_program_and_level_of_a_matrix_page() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = aws_store(dir.path());
    let page = write(
        dir.path(),
        "offering-x/2021-01-05.md",
        &offering(None, "In-scope services", &["Azure", "Amazon Bedrock"]),
    );
    ok(sw(&db, &["import", &page.display().to_string()]));
    let m: serde_json::Value = serde_json::from_str(&ok(sw(
        &db,
        &["matrix", "--at", "2024-03-01", "--format", "json"],
    )))
    .expect("JSON");
    let columns: Vec<&str> = m["offerings"]
        .as_array()
        .expect("columns")
        .iter()
        .filter_map(|c| c.as_str())
        .collect();
    assert_eq!(columns[0], "aws-services-in-scope / SOC 1,2,3", "{m}");
    assert!(columns.contains(&"aws-services-in-scope / DoD CC SRG IL5 (GovCloud)"));
    assert!(columns.contains(&"offering-x"));
    assert!(!columns.contains(&"aws-services-in-scope"));
    assert_eq!(
        m["services"]["Amazon Bedrock"],
        serde_json::json!([
            "aws-services-in-scope / FedRAMP High (GovCloud)",
            "offering-x"
        ])
    );
    assert_eq!(
        m["programs"]["aws-services-in-scope / HIPAA BAA"],
        serde_json::json!({"source": "aws-services-in-scope", "program": "HIPAA BAA"})
    );
    let lambda = m["services"]["AWS Lambda"].as_array().expect("Lambda");
    assert!(!lambda.contains(&"aws-services-in-scope / DoD CC SRG IL5 (GovCloud)".into()));
    // Before the second version, Lambda was in IL5.
    let before: serde_json::Value = serde_json::from_str(&ok(sw(
        &db,
        &["matrix", "--at", "2024-01-20", "--format", "json"],
    )))
    .expect("JSON");
    assert!(
        before["services"]["AWS Lambda"]
            .as_array()
            .expect("Lambda")
            .contains(&"aws-services-in-scope / DoD CC SRG IL5 (GovCloud)".into())
    );

    // The environment filter keeps the program of that name.
    let csv = ok(sw(
        &db,
        &[
            "matrix",
            "--at",
            "2024-03-01",
            "--environment",
            "FedRAMP High (GovCloud)",
            "--format",
            "csv",
        ],
    ));
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("service,aws-services-in-scope / FedRAMP High (GovCloud)")
    );
    assert!(lines.any(|l| l == "Amazon Bedrock,x"), "{csv}");
    let markdown = ok(sw(
        &db,
        &["matrix", "--at", "2024-03-01", "--format", "markdown"],
    ));
    assert!(
        markdown.contains("| aws-services-in-scope / HIPAA BAA |"),
        "{markdown}"
    );
}
