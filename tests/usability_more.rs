//! The rest of issue 20: progress for every long command, and a future
//! date that only the page states.

use std::path::Path;
use std::process::Output;

use crate::common::{self, on_a_terminal};

fn sw(db: &Path, args: &[&str]) -> Output {
    common::bin()
        .arg("--db")
        .arg(db)
        .args(args)
        .output()
        .unwrap()
}

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
