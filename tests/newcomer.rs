//! What a new user ran into following the README (issue 20): the demo and
//! a real database, dates before a source's first version, colors in log
//! files, and error messages that say what is wrong and what to do, once.

use std::path::Path;

use predicates::prelude::*;

use crate::common;

const SOC_2: &str = "snapshots/offering-soc-2/2021-07-20.md";

fn sw(db: &Path) -> assert_cmd::Command {
    let mut cmd = common::bin();
    cmd.arg("--db").arg(db);
    cmd
}

/// Snapshot and source counts of a database, from `sources --format json`.
fn counts(db: &Path) -> (usize, u64) {
    let out = sw(db)
        .args(["sources", "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let sources = v.as_array().unwrap();
    let snapshots = sources
        .iter()
        .map(|s| s["snapshots"].as_u64().unwrap())
        .sum();
    (sources.len(), snapshots)
}

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn the_demo_never_writes_the_database_scopewatch_db_names() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real.db");
    sw(&real).arg("import").arg(SOC_2).assert().success();
    assert_eq!(counts(&real), (1, 1));
    common::bin()
        .env("SCOPEWATCH_DB", &real)
        .arg("demo")
        .assert()
        .success()
        .stdout(predicate::str::contains("(a temporary database)"));
    assert_eq!(counts(&real), (1, 1), "the demo wrote into SCOPEWATCH_DB");
    // A database given with --db is the demo's to fill.
    let given = dir.path().join("demo.db");
    common::bin()
        .env("SCOPEWATCH_DB", &real)
        .arg("--db")
        .arg(&given)
        .arg("demo")
        .assert()
        .success();
    assert_eq!(counts(&given), (4, 16));
    assert_eq!(counts(&real), (1, 1));
}

#[test]
fn dates_before_the_first_version_behave_alike_for_one_source_and_all() {
    let dir = tempfile::tempdir().unwrap();
    let db = common::demo_db(dir.path());
    let diff = |source: &str, from: &str, to: &str| {
        sw(&db)
            .args(["diff", "--source", source, "--from", from, "--to", to])
            .output()
            .unwrap()
    };
    // No source had a version yet: an error, for one as for all.
    let one = diff("offering-soc-2", "2019-01-01", "2021-04-30");
    assert_eq!(one.status.code(), Some(1));
    assert!(
        stderr_of(&one).contains(
            "offering-soc-2 has no version with scope in force on 2019-01-01 (its first is on 2021-07-20)"
        ),
        "{}",
        stderr_of(&one)
    );
    let all = diff("all", "2019-01-01", "2021-04-30");
    assert_eq!(all.status.code(), Some(1), "{}", stderr_of(&all));
    let err = stderr_of(&all);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("none of the 4 sources has a version with scope in force on 2019-01-01")
            && err.contains("offering-iso-27001, on 2020-06-15")
            && err.contains("give a later --from"),
        "{err}"
    );
    // Some had: their changes, and which had no version yet.
    let some = diff("all", "2021-01-01", "2021-12-31");
    assert!(some.status.success(), "{}", stderr_of(&some));
    let out = String::from_utf8_lossy(&some.stdout);
    assert!(out.contains("offering-iso-27001"), "{out}");
    assert!(!out.contains("offering-soc-2"), "{out}");
    assert!(
        stderr_of(&some)
            .contains("offering-soc-2: no version with scope in force on 2021-01-01 (its first is on 2021-07-20)"),
        "{}",
        stderr_of(&some)
    );
}

#[test]
fn logs_written_to_a_file_carry_no_color_codes() {
    let setup = common::Setup::new(
        &[("offering-x", "http://127.0.0.1:1/offering-x".into())],
        "",
        "retries = 0",
    );
    let out = common::bin()
        .arg("--config")
        .arg(&setup.config)
        .args(["run", "-v"])
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert!(err.contains("checked"), "an info line: {err}");
    assert!(!err.contains('\u{1b}'), "color codes in a file: {err:?}");
}

#[test]
fn errors_say_what_is_wrong_and_what_to_do_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = common::demo_db(dir.path());
    let one_line = |out: &std::process::Output, says: &[&str]| {
        assert_eq!(out.status.code(), Some(1));
        let err = stderr_of(out);
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        for s in says {
            assert!(err.contains(s), "{s:?} in {err}");
        }
        err
    };
    // Reversed dates, wherever a period is taken.
    for args in [
        vec![
            "diff",
            "--source",
            "all",
            "--from",
            "2022-03-01",
            "--to",
            "2021-04-30",
        ],
        vec!["report", "--from", "2022-03-01", "--to", "2021-04-30", "-o"],
    ] {
        let mut cmd = sw(&db);
        cmd.args(&args);
        if args[0] == "report" {
            cmd.arg(dir.path().join("r.html"));
        }
        let err = one_line(
            &cmd.output().unwrap(),
            &[
                "2022-03-01 is after the end date 2021-04-30",
                "give the earlier date first",
            ],
        );
        assert!(!err.contains("invalid date"), "{err}");
    }
    // A missing file, read or written.
    let missing = dir.path().join("missing.md");
    for out in [
        common::bin().arg("parse").arg(&missing).output().unwrap(),
        sw(&db).arg("import").arg(&missing).output().unwrap(),
        sw(&db).arg("restore").arg(&missing).output().unwrap(),
        sw(&db)
            .args(["report", "-o"])
            .arg(dir.path().join("no/such/folder/r.html"))
            .output()
            .unwrap(),
    ] {
        let err = one_line(&out, &["no such file or directory: check the path"]);
        assert!(!err.contains("os error"), "{err}");
    }
    // Restoring into a database that already holds a history.
    let archive = dir.path().join("a.jsonl");
    common::export(&db, &archive);
    let err = one_line(
        &sw(&db).arg("restore").arg(&archive).output().unwrap(),
        &["already holds a history", "restore into a new database"],
    );
    assert!(!err.contains("inconsistent"), "{err}");
    // A bad alias file: one line, said once.
    let aliases = dir.path().join("aliases.toml");
    std::fs::write(&aliases, "[[service]]\nname = [\n").unwrap();
    let err = one_line(
        &common::bin()
            .arg("--aliases")
            .arg(&aliases)
            .arg("parse")
            .arg(SOC_2)
            .output()
            .unwrap(),
        &["line 2", "leave out --aliases"],
    );
    assert_eq!(err.matches("alias table").count(), 1, "{err}");
}
