//! What an analyst expects of the commands that read the history (issue
//! 20): `versions`, `show`, relative dates, `log`'s filters, `timeline`,
//! `diff --source all`, `import`'s guesses, `export -o -`, `sources` with
//! retired pages, progress on a terminal only, and the matrix.

use serde_json::Value;

use crate::common::{self, both, demo, on_a_terminal, stdout, sw};

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
                "program",
                "localized"
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
