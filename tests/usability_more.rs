//! The rest of issue 20: progress for every long command, and a future
//! date that only the page states.

use std::path::Path;

use crate::common::{self, on_a_terminal, sw};

fn git(repo: &Path, args: &[&str], date: &str) {
    let status = std::process::Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .env("GIT_AUTHOR_DATE", date)
        .env("GIT_COMMITTER_DATE", date)
        .status()
        .expect("git runs");
    assert!(status.success(), "git {args:?}");
}

/// A docs repository whose two pages change twice each: four versions.
fn docs_repo(dir: &Path) -> std::path::PathBuf {
    let repo = dir.join("docs");
    let pages = repo.join("compliance/regulatory");
    std::fs::create_dir_all(&pages).unwrap();
    git(&repo, &["init", "-q", "-b", "main"], "2021-01-01T00:00:00Z");
    let versions = [
        ("offering-soc-2", "2021-07-20", "2021-07-20.md"),
        ("offering-fedramp", "2021-11-15", "2021-11-15.md"),
        ("offering-soc-2", "2022-04-19", "2022-04-19.md"),
        (
            "offering-fedramp",
            "2022-04-20",
            "../offering-fedramp/2020-08-10.md",
        ),
    ];
    for (page, day, file) in versions {
        let text = std::fs::read(Path::new("snapshots").join(page).join(file)).unwrap();
        std::fs::write(pages.join(format!("{page}.md")), text).unwrap();
        let at = format!("{day}T12:00:00Z");
        git(&repo, &["add", "-A"], &at);
        git(&repo, &["commit", "-q", "-m", day], &at);
    }
    repo
}

#[test]
fn import_git_reparse_and_verify_count_their_steps_on_a_terminal_only() {
    let dir = tempfile::tempdir().unwrap();
    let repo = docs_repo(dir.path());
    let db = dir.path().join("g.db");
    let db_arg = db.to_str().unwrap();
    let repo_arg = repo.to_str().unwrap();

    let terminal = on_a_terminal(&["--db", db_arg, "import-git", repo_arg]);
    assert!(terminal.contains("4 versions: 4 stored"), "{terminal}");
    assert!(
        terminal.contains("/4 importing the git history"),
        "no counted progress: {terminal}"
    );
    let terminal = on_a_terminal(&["--db", db_arg, "reparse", "--all"]);
    assert!(terminal.contains("4 snapshots checked"), "{terminal}");
    assert!(
        terminal.contains("/4 reparsing the stored snapshots"),
        "no counted progress: {terminal}"
    );
    let terminal = on_a_terminal(&["--db", db_arg, "verify"]);
    assert!(
        terminal.contains("4 snapshots checked, 0 problems"),
        "{terminal}"
    );
    assert!(
        terminal.contains("/4 verifying every document and snapshot"),
        "no counted progress: {terminal}"
    );

    // --quiet on a terminal, and no terminal at all (cron): no bar.
    for args in [
        vec!["import-git", repo_arg],
        vec!["reparse", "--all"],
        vec!["verify"],
    ] {
        let quiet: Vec<&str> = ["--db", db_arg, "--quiet"]
            .into_iter()
            .chain(args.iter().copied())
            .collect();
        let said = on_a_terminal(&quiet);
        assert!(!said.contains("/4 "), "--quiet {args:?}: {said}");
        let out = sw(&db, &args);
        assert!(out.status.success(), "{args:?}");
        assert!(
            out.stderr.is_empty(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Counts the snapshots stored in `db`.
fn stored(db: &Path) -> usize {
    scopewatch::store::Store::open(db)
        .unwrap()
        .versions(None)
        .unwrap()
        .len()
}

#[test]
fn a_future_date_only_the_page_states_is_refused_until_date_is_given() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("f.db");
    let page = std::fs::read_to_string("snapshots/offering-soc-2/2021-07-20.md").unwrap();
    assert!(page.contains("ms.date: 07/20/2021"));
    let saved = dir.path().join("saved.md");
    std::fs::write(
        &saved,
        page.replace("ms.date: 07/20/2021", "ms.date: 01/01/2099"),
    )
    .unwrap();
    let file = saved.to_str().unwrap();

    let out = sw(&db, &["import", file]);
    assert_eq!(out.status.code(), Some(1), "a future page date was taken");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("dated 2099-01-01, a date in the future")
            && said.contains("--date")
            && said.contains("nothing was stored"),
        "{said}"
    );
    assert_eq!(said.matches("2099-01-01").count(), 1, "said once: {said}");
    assert!(out.stdout.is_empty());
    assert_eq!(stored(&db), 0);

    // Among several files, it is the one not imported.
    let good = dir.path().join("offering-soc-2");
    std::fs::create_dir(&good).unwrap();
    std::fs::copy(
        "snapshots/offering-soc-2/2022-04-19.md",
        good.join("2022-04-19.md"),
    )
    .unwrap();
    let out = sw(
        &db,
        &["import", file, good.join("2022-04-19.md").to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 of 2 files not imported"));
    assert_eq!(stored(&db), 1);

    // The date it was saved, given, is taken.
    let out = sw(&db, &["import", "--date", "2021-07-20", file]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stored(&db), 2);
}

/// The page as headless Chromium leaves it once loaded, its scripts run.
fn rendered(address: &str) -> scraper::Html {
    let profile = tempfile::tempdir().unwrap();
    let mut chromium = std::process::Command::new("chromium");
    chromium.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--dump-dom",
    ]);
    let out = chromium
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(address)
        .output()
        .expect("headless Chromium (.ci/run installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    scraper::Html::parse_document(&String::from_utf8_lossy(&out.stdout))
}

/// The services of the matrix's rows that show, and how many rows it has.
fn shown_services(page: &scraper::Html) -> (Vec<String>, usize) {
    let rows = scraper::Selector::parse("#matrix tbody tr").unwrap();
    let first = scraper::Selector::parse("td").unwrap();
    let all: Vec<_> = page.select(&rows).collect();
    let shown = all
        .iter()
        .filter(|row| row.value().attr("hidden").is_none())
        .map(|row| row.select(&first).next().unwrap().text().collect())
        .collect();
    (shown, all.len())
}

fn filter_box(page: &scraper::Html) -> scraper::ElementRef<'_> {
    let select = scraper::Selector::parse("div#matrix-filter").unwrap();
    page.select(&select).next().expect("the matrix's search")
}

#[test]
fn the_report_matrix_is_searched_by_part_of_a_service_name() {
    let dir = tempfile::tempdir().unwrap();
    let db = common::demo_db(dir.path());
    let report = dir.path().join("r.html");
    let out = sw(
        &db,
        &[
            "report",
            "--to",
            "2023-12-31",
            "-o",
            report.to_str().unwrap(),
        ],
    );
    assert!(out.status.success());
    let address = format!("file://{}", report.display());

    // Without a script, the page is its HTML: no search box, the whole
    // matrix.
    let html = std::fs::read_to_string(&report).unwrap();
    let page = scraper::Html::parse_document(&html);
    assert!(filter_box(&page).value().attr("hidden").is_some());
    let (shown, rows) = shown_services(&page);
    assert!(rows > 10, "{rows} rows");
    assert_eq!(shown.len(), rows);

    // With it: the box shows, and `?q=` filters by any part of the name,
    // whatever its case.
    let page = rendered(&address);
    assert!(filter_box(&page).value().attr("hidden").is_none());
    assert_eq!(shown_services(&page).0.len(), rows);
    let page = rendered(&format!("{address}?q=POWER"));
    let (shown, _) = shown_services(&page);
    assert!(!shown.is_empty() && shown.len() < rows, "{shown:?}");
    assert!(
        shown.iter().all(|s| s.to_lowercase().contains("power")),
        "{shown:?}"
    );
    assert!(shown.iter().any(|s| s.starts_with("Power ")), "{shown:?}");
    let count = scraper::Selector::parse("#matrix-count").unwrap();
    let said: String = page.select(&count).next().unwrap().text().collect();
    assert_eq!(said, format!("{} of {rows} services", shown.len()));

    // The page's Content-Security-Policy runs only that script: changed by
    // one character, it is blocked and the box stays hidden.
    let tampered = dir.path().join("t.html");
    std::fs::write(&tampered, html.replace("row.hidden = !", "row.hidden = !!")).unwrap();
    let page = rendered(&format!("file://{}?q=power", tampered.display()));
    assert!(filter_box(&page).value().attr("hidden").is_some());
    assert_eq!(shown_services(&page).0.len(), rows);
}
