//! The command-line contract: output shapes, the store round trip, the demo,
//! and clear errors for bad input.

use std::fs;

use predicates::prelude::*;
use serde_json::Value;

use crate::common;

const OLD: &str = "snapshots/offering-iso-27001/2020-06-15.md";
const NEW: &str = "snapshots/offering-iso-27001/2021-03-01.html";

fn json(args: &[&str]) -> Value {
    let out = common::bin().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn parse_json_contract() {
    let v = json(&["parse", NEW, "--format", "json"]);
    assert_eq!(v["locale"], "en-us");
    assert!(v["title"].as_str().unwrap().starts_with("ISO/IEC 27001"));
    assert!(v["published"].as_str().unwrap().starts_with("2021-"));
    let scopes = v["scopes"].as_array().unwrap();
    let list = &scopes[0];
    assert!(list["environment"].is_null());
    assert!(list["anchor"].as_str().unwrap().contains("in-scope"));
    let item = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["services"][0] == "Power Automate")
        .unwrap();
    assert_eq!(item["formerly"], serde_json::json!(["Microsoft Flow"]));
    let envs: Vec<&str> = scopes
        .iter()
        .filter_map(|s| s["environment"].as_str())
        .collect();
    assert_eq!(envs, ["Commercial", "GCC", "GCC High", "DoD"]);
    let link = &v["links"][0];
    assert!(link["url"].as_str().unwrap().starts_with("https://"));
    assert!(
        link["section"]
            .as_str()
            .unwrap()
            .starts_with("Audits, reports, and certificates")
    );
    // Page chrome (feedback, footer, navigation) is not part of the page.
    assert!(!v.to_string().contains("Feedback"));
}

#[test]
fn diff_json_contract_across_forms() {
    let v = json(&["diff", OLD, NEW, "--format", "json"]);
    for key in ["added", "removed", "renamed", "reworded", "moved", "links"] {
        assert!(v[key].is_array(), "{key}");
    }
    let renamed: Vec<(&str, &str)> = v["renamed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["from"].as_str().unwrap(), r["to"].as_str().unwrap()))
        .collect();
    assert!(renamed.contains(&("Microsoft Flow", "Power Automate")));
    assert!(renamed.contains(&("Windows Defender ATP", "Microsoft Defender for Endpoint")));
    let removed: Vec<&str> = v["removed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["service"].as_str().unwrap())
        .collect();
    assert_eq!(removed, ["Genomics"]);
    assert!(v["added"][0]["text"].is_string());
    assert_eq!(v["links"][0]["change"], "url_changed");
}

#[test]
fn form_switch_alone_is_no_change() {
    common::bin()
        .args([
            "diff",
            "snapshots/offering-iso-27001/2022-04-20.md",
            "snapshots/offering-iso-27001/2023-05-19.html",
            "--exit-code",
        ])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("no change"));
}

#[test]
fn exit_code_reports_scope_change() {
    common::bin()
        .args(["diff", OLD, NEW, "--exit-code"])
        .assert()
        .code(3);
}

#[test]
fn markdown_and_text_diff() {
    common::bin()
        .args(["diff", OLD, NEW, "--format", "markdown"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "- **Renamed** Microsoft Flow → Power Automate",
        ));
    common::bin()
        .args(["diff", OLD, NEW, "--text-diff"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("+- Windows 365")
                .not()
                .and(predicate::str::contains("-- Genomics")),
        );
}

#[test]
fn import_then_diff_between_dates() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.db");
    let db = db.to_str().unwrap();
    let files: Vec<String> = fs::read_dir("snapshots/offering-soc-2")
        .unwrap()
        .map(|e| e.unwrap().path().display().to_string())
        .collect();
    let mut args = vec!["--db", db, "import"];
    args.extend(files.iter().map(String::as_str));
    common::bin()
        .args(&args)
        .assert()
        .success()
        .stdout(predicate::str::contains("stored as snapshot"));
    // A second import stores nothing new.
    common::bin()
        .args(&args)
        .assert()
        .success()
        .stdout(predicate::str::contains("stored").not());

    let v = json(&[
        "--db",
        db,
        "diff",
        "--source",
        "offering-soc-2",
        "--from",
        "2021-08-01",
        "--to",
        "2022-12-31",
        "--format",
        "json",
    ]);
    assert_eq!(v["source"], "offering-soc-2");
    assert_eq!(v["from"], "2021-07-20");
    assert_eq!(v["to"], "2022-04-19");
    assert_eq!(v["renamed"][0]["to"], "Microsoft Defender for Cloud Apps");
    let all = json(&[
        "--db",
        db,
        "diff",
        "--source",
        "all",
        "--from",
        "2021-08-01",
        "--to",
        "2022-12-31",
        "--format",
        "json",
    ]);
    assert_eq!(all.as_array().unwrap().len(), 1);

    common::bin()
        .args([
            "--db",
            db,
            "diff",
            "--source",
            "offering-nope",
            "--from",
            "2021-01-01",
            "--to",
            "2022-01-01",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("unknown source \"offering-nope\""));
    common::bin()
        .args([
            "--db",
            db,
            "diff",
            "--source",
            "offering-soc-2",
            "--from",
            "2019-01-01",
            "--to",
            "2022-01-01",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "no version with scope in force on 2019-01-01",
        ));
}

#[test]
fn import_names_source_and_date_explicitly() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.db");
    common::bin()
        .arg("--db")
        .arg(&db)
        .args(["import", "--source", "iso", "--date", "2024-01-31", NEW])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("iso 2024-01-31"));
    common::bin()
        .arg("--db")
        .arg(&db)
        .args(["import", "--date", "31/01/2024", NEW])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("invalid date"));
}

#[test]
fn demo_report_is_stable() {
    let out = common::bin().arg("demo").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    insta::assert_snapshot!("demo_report", String::from_utf8(out.stdout).unwrap());
}

#[test]
fn demo_keeps_its_history_in_a_given_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = common::demo_db(dir.path());
    common::bin()
        .arg("--db")
        .arg(&db)
        .arg("sources")
        .assert()
        .success()
        .stdout(
            predicate::str::is_match(
                r"(?m)^offering-iso-27001 +6 snapshots  2020-06-15 \.\. 2023-05-19  changed 2022-04-20 +ISO/IEC 27001",
            )
            .unwrap(),
        );
}

fn bad_input(bytes: &[u8], message: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("page.html");
    fs::write(&path, bytes).unwrap();
    for cmd in [vec!["parse"], vec!["diff", OLD]] {
        let out = common::bin().args(&cmd).arg(&path).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{cmd:?}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(
            stderr.starts_with("error: ") && stderr.contains(message),
            "{stderr}"
        );
        assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    }
}

#[test]
fn bad_input_is_one_clear_line() {
    bad_input(b"", "is empty");
    bad_input(b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00", "binary data");
    bad_input(b"caf\xe9 \xff\xfe\xfd au lait", "not valid UTF-8");
    let out = common::bin()
        .args(["parse", "no/such/page.html"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .starts_with("error: cannot read no/such/page.html")
    );
}

#[test]
fn page_without_scope_is_a_warning_and_never_everything_removed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("moved.md");
    fs::write(
        &path,
        "# ISO/IEC 27001\n\n## Overview\n\nThis page has moved to the new compliance hub.\n",
    )
    .unwrap();
    common::bin()
        .arg("parse")
        .arg(&path)
        .assert()
        .success()
        .stderr(
            predicate::str::contains("warning:")
                .and(predicate::str::contains("no in-scope services found")),
        );
    let out = common::bin()
        .args(["diff", OLD])
        .arg(&path)
        .args(["--format", "json", "--exit-code"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(4),
        "the scope could not be compared"
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["removed"].as_array().unwrap().len(), 0);
    assert!(v["scope_not_compared"].is_string(), "{v}");
    assert!(
        v["warnings"][0]
            .as_str()
            .unwrap()
            .contains("scope not compared")
    );
}

#[test]
fn usage_errors() {
    common::bin().args(["diff", OLD]).assert().code(2);
    common::bin()
        .args(["diff", "--source", "x"])
        .assert()
        .code(2);
    common::bin()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("Examples:"));
}
