//! The reports people read: the HTML report (checked for content, its
//! summary's sums and its layout, then loaded in headless Chromium and shot
//! at a desktop's and a phone's width), the Atom feed, Markdown listings,
//! colors, help and completions.

use std::path::{Path, PathBuf};
use std::process::Command;

use predicates::prelude::*;

use crate::common::{self, both, demo, sw};

fn render_report(dir: &Path, db: &Path) -> String {
    let out = dir.join("report.html");
    common::bin()
        .arg("--db")
        .arg(db)
        .args(["report", "--to", "2023-12-31", "-o"])
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains("across 4 offerings"));
    std::fs::read_to_string(out).unwrap()
}

#[test]
fn the_report_shows_changes_with_evidence_charts_text_and_matrix() {
    let dir = tempfile::tempdir().unwrap();
    let html = render_report(dir.path(), &common::demo_db(dir.path()));
    // One section per offering, with a summary row for each.
    for source in [
        "offering-iso-27001",
        "offering-soc-2",
        "offering-fedramp",
        "offering-iso-27001-ja-jp",
    ] {
        assert!(html.contains(&format!("id=\"{source}\"")), "{source}");
        assert!(html.contains(&format!("href=\"#{source}\"")), "{source}");
    }
    // Each rename with its evidence.
    assert!(html.contains("<b>Microsoft Flow</b> → <b>Power Automate</b>"));
    assert!(html.contains("evidence: the page says"));
    assert!(html.contains(
        "<b>Microsoft Cloud App Security</b> → <b>Microsoft Defender for Cloud Apps</b>"
    ));
    assert!(html.contains("evidence: known rename in the alias table"));
    // Environment moves and report link changes.
    assert!(html.contains("<b>Forms</b>: GCC → GCC High"));
    assert!(html.contains("address changed: Audits, reports, and certificates / Azure"));
    // The page text around each change, side by side.
    assert!(html.contains("<table class=\"side\">"));
    assert!(html.contains("<td class=\"del\">- Genomics</td>"));
    // A chart of scope size per offering, and the matrix at the end date.
    assert_eq!(html.matches("<svg class=\"chart\"").count(), 4);
    assert!(html.contains("Services × offerings on 2023-12-31"));
    assert!(html.contains("<td>Windows 365</td>"));
    // Self-contained: one inline script (the matrix search), no external
    // scripts, styles, images or fonts, and a policy that loads nothing.
    assert_eq!(html.matches("<script").count(), 1);
    assert!(html.contains("<script>") && html.contains("default-src 'none'"));
    assert!(!html.contains("<link") && !html.contains("src=\"http") && !html.contains("@import"));
    assert!(html.contains("@media print"));
}

#[test]
fn page_text_is_escaped_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("x.db");
    let page = |extra: &str| {
        format!(
            "# Offering\n\n## Microsoft in-scope cloud services\n\n- Azure\n{extra}\n## Audits, reports, and certificates\n\n- [Report](https://r.example/a)\n"
        )
    };
    let v1 = dir.path().join("offering-x/2024-01-01.md");
    let v2 = dir.path().join("offering-x/2024-02-01.md");
    std::fs::create_dir_all(v1.parent().unwrap()).unwrap();
    std::fs::write(&v1, page("")).unwrap();
    std::fs::write(&v2, page("- &lt;script&gt;alert(1)&lt;/script&gt;\n")).unwrap();
    common::bin()
        .arg("--db")
        .arg(&db)
        .arg("import")
        .arg(&v1)
        .arg(&v2)
        .assert()
        .success();

    let out = dir.path().join("r.html");
    common::bin()
        .arg("--db")
        .arg(&db)
        .args(["report", "--to", "2024-12-31", "-o"])
        .arg(&out)
        .assert()
        .success();
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!html.contains("<script>alert(1)"));

    let md = common::bin()
        .arg("--db")
        .arg(&db)
        .args(["log", "--format", "markdown"])
        .output()
        .unwrap();
    let md = String::from_utf8(md.stdout).unwrap();
    // The service is `<script>alert</script>` (the parenthesis is a note); it stays text.
    assert!(
        md.contains("&lt;script&gt;alert&lt;/script&gt;") && !md.contains("<script>"),
        "{md}"
    );

    let feed = dir.path().join("f.atom");
    common::bin()
        .arg("--db")
        .arg(&db)
        .arg("feed")
        .arg("-o")
        .arg(&feed)
        .assert()
        .success();
    let atom = std::fs::read_to_string(&feed).unwrap();
    assert!(!atom.contains("<script>") && atom.contains("&lt;script&gt;"));
}

#[test]
fn the_feed_has_stable_unique_ids() {
    let dir = tempfile::tempdir().unwrap();
    let db = common::demo_db(dir.path());
    let read = |name: &str| {
        let path = dir.path().join(name);
        common::bin()
            .arg("--db")
            .arg(&db)
            .arg("feed")
            .arg("-o")
            .arg(&path)
            .assert()
            .success();
        let text = std::fs::read_to_string(path).unwrap();
        text.parse::<atom_syndication::Feed>().unwrap()
    };
    let (first, second) = (read("a.atom"), read("b.atom"));
    let ids: Vec<&str> = first.entries().iter().map(|e| e.id()).collect();
    assert!(ids.len() > 20);
    let unique: std::collections::BTreeSet<_> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "ids are unique");
    assert_eq!(
        ids,
        second.entries().iter().map(|e| e.id()).collect::<Vec<_>>(),
        "ids are stable"
    );
    assert!(first.entries().iter().any(|e| {
        e.title()
            .as_str()
            .contains("Microsoft Flow → Power Automate")
    }));
}

fn chromium() -> Option<PathBuf> {
    let found = ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            let out = Command::new("sh")
                .arg("-c")
                .arg(format!("command -v {name}"))
                .output()
                .ok()?;
            out.status
                .success()
                .then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
        });
    if found.is_none() {
        assert!(
            std::env::var("CI").is_err(),
            "CI is set but Chromium is missing (.ci/run installs it)"
        );
        eprintln!("skipping: no Chromium on this machine");
    }
    found
}

#[test]
fn the_report_loads_in_headless_chromium() {
    let Some(chromium) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    render_report(dir.path(), &common::demo_db(dir.path()));
    let report = dir.path().join("report.html");
    let shot = dir.path().join("report.png");
    let base = |cmd: &mut Command| {
        cmd.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--enable-logging=stderr",
        ])
        .arg(format!(
            "--user-data-dir={}",
            dir.path().join("profile").display()
        ));
    };
    let mut cmd = Command::new(&chromium);
    base(&mut cmd);
    let out = cmd
        .arg("--window-size=1280,1600")
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", report.display()))
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert!(
        !log.contains("CONSOLE") && !log.contains("Uncaught"),
        "the page logged errors: {log}"
    );
    let png = std::fs::read(&shot).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
    assert_eq!((width, height), (1280, 1600));

    let mut cmd = Command::new(&chromium);
    base(&mut cmd);
    let dom = cmd
        .arg("--dump-dom")
        .arg(format!("file://{}", report.display()))
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(dom.contains("Cloud compliance scope changes") && dom.contains("offering-iso-27001"));
    // Keep the screenshot for the README when asked to.
    if let Some(keep) = std::env::var_os("SCOPEWATCH_SCREENSHOT") {
        std::fs::copy(&shot, keep).unwrap();
    }
}

#[test]
fn terminal_colors_follow_the_conventions() {
    let colored = common::bin()
        .arg("demo")
        .env("CLICOLOR_FORCE", "1")
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&colored.stdout).contains("\u{1b}["));
    let plain = common::bin()
        .arg("demo")
        .env("CLICOLOR_FORCE", "1")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&plain.stdout).contains("\u{1b}["));
    let piped = common::bin()
        .arg("demo")
        .env_remove("CLICOLOR_FORCE")
        .output()
        .unwrap();
    assert!(
        !String::from_utf8_lossy(&piped.stdout).contains("\u{1b}["),
        "no colors into a pipe"
    );
}

#[test]
fn every_command_has_examples_and_completions_exist() {
    let commands = [
        "parse",
        "diff",
        "import",
        "import-git",
        "reparse",
        "log",
        "report",
        "feed",
        "completions",
        "timeline",
        "matrix",
        "sources",
        "init",
        "run",
        "daemon",
        "demo",
    ];
    for command in commands {
        common::bin()
            .args([command, "--help"])
            .assert()
            .success()
            .stdout(predicate::str::contains("Example"));
    }
    for (shell, marker) in [
        ("bash", "_scopewatch()"),
        ("zsh", "#compdef scopewatch"),
        ("fish", "complete -c scopewatch"),
    ] {
        common::bin()
            .args(["completions", shell])
            .assert()
            .success()
            .stdout(predicate::str::contains(marker));
    }
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
