//! Issue 18: the differ's blind spots on real history. Each case is a real
//! version pair or history of `../shared/corpus/en-us`, named by source and
//! date, with the events a reader should see; each failed before its fix.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common;

/// The corpus version of `source` whose file name starts with `stamp`
/// (`2021-06-30T092553`).
fn version(shared: &Path, source: &str, stamp: &str) -> PathBuf {
    let dir = shared.join("corpus/en-us").join(source);
    let found = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(stamp))
        });
    found.unwrap_or_else(|| panic!("no version {stamp} of {source}"))
}

/// `scopewatch` with `args`, its stdout parsed as JSON, and its exit code.
fn json(args: &[&std::ffi::OsStr]) -> (Value, Option<i32>) {
    let out = common::bin().args(args).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let value = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {text} {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (value, out.status.code())
}

fn diff_json(old: &Path, new: &Path) -> Value {
    json(&[
        "diff".as_ref(),
        old.as_os_str(),
        new.as_os_str(),
        "--format".as_ref(),
        "json".as_ref(),
    ])
    .0
}

fn parse_json(page: &Path) -> Value {
    json(&[
        "parse".as_ref(),
        page.as_os_str(),
        "--format".as_ref(),
        "json".as_ref(),
    ])
    .0
}

/// A database holding the whole English corpus (or the given sources).
fn corpus_db(shared: &Path, dir: &Path, sources: &[&str]) -> PathBuf {
    let db = dir.join("corpus.db");
    let root = shared.join("corpus/en-us");
    let mut cmd = common::bin();
    cmd.arg("--db").arg(&db).arg("import");
    if sources.is_empty() {
        cmd.arg(&root);
    } else {
        for s in sources {
            cmd.arg(root.join(s));
        }
    }
    cmd.assert().success();
    db
}

fn query(db: &Path, args: &[&str]) -> (Value, Option<i32>) {
    let mut all: Vec<&std::ffi::OsStr> = vec!["--db".as_ref(), db.as_os_str()];
    all.extend(args.iter().map(|a| std::ffi::OsStr::new(*a)));
    json(&all)
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// Item 1: on 2021-06-30 Flow became Power Automate inside the Commercial
/// row's "Office 365 Microservices (including ...)" list: a rename there,
/// not a flip-flop of Flow.
#[test]
fn services_inside_an_including_list_are_services() {
    let Some(shared) = common::shared() else {
        return;
    };
    let new = version(&shared, "offering-iso-27001", "2021-06-30T092553");
    let page = parse_json(&new);
    let commercial = page["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["environment"] == "Office 365")
        .expect("the Office 365 row");
    let micro = commercial["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| {
            i["text"]
                .as_str()
                .unwrap()
                .starts_with("Office 365 Microservices")
        })
        .expect("the microservices item");
    assert!(
        strings(&micro["services"]).contains(&"Power Automate"),
        "{micro}"
    );
    assert!(strings(&micro["included"]).contains(&"Kaizala"), "{micro}");
    assert_eq!(micro["included_in"], "Office 365 Microservices", "{micro}");

    let old = version(&shared, "offering-iso-27001", "2021-06-22T101936");
    let d = diff_json(&old, &new);
    let renamed = d["renamed"].as_array().unwrap();
    assert!(
        renamed.iter().any(|r| r["from"] == "Flow"
            && r["to"] == "Power Automate"
            && r["environment"] == "Commercial"),
        "{d}"
    );
    assert!(
        !d["removed"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["service"] == "Flow"),
        "{d}"
    );

    let dir = tempfile::tempdir().unwrap();
    let db = corpus_db(
        &shared,
        dir.path(),
        &["offering-iso-27001", "offering-hipaa-hitech"],
    );
    let (log, _) = query(&db, &["log", "--since", "2021-06-01", "--format", "json"]);
    let flow_flips: Vec<&Value> = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == "flip_flop" && e["service"] == "Flow")
        .collect();
    assert!(flow_flips.is_empty(), "{flow_flips:?}");
}

/// Item 2: offering-nz-cc-framework-nz 2021-06-22 moved Exchange Online and
/// SharePoint Online from the page-wide list into the new Office 365 row.
#[test]
fn a_move_from_the_page_wide_list_into_a_row_is_no_removal() {
    let Some(shared) = common::shared() else {
        return;
    };
    let d = diff_json(
        &version(&shared, "offering-nz-cc-framework-nz", "2021-06-22T101936"),
        &version(&shared, "offering-nz-cc-framework-nz", "2021-06-22T140213"),
    );
    let removed: Vec<&str> = d["removed"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["service"].as_str())
        .collect();
    assert_eq!(removed, ["Microsoft Teams"], "{d}");
    let moved: Vec<(&str, &Value, &str)> = d["moved"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["service"].as_str().unwrap(),
                &m["from"],
                m["to"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        moved,
        [
            ("Exchange Online", &Value::Null, "Commercial"),
            ("SharePoint Online", &Value::Null, "Commercial")
        ],
        "{d}"
    );
}

/// Item 3: offering-soc-2 2022-04-08 dropped "(not in scope for Azure
/// Government)" from five services: a scope change of its own kind.
#[test]
fn a_scope_bearing_qualifier_change_is_a_scope_change() {
    let Some(shared) = common::shared() else {
        return;
    };
    let old = version(&shared, "offering-soc-2", "2022-04-05T132239");
    let new = version(&shared, "offering-soc-2", "2022-04-08T101320");
    let d = diff_json(&old, &new);
    let qualified = d["qualified"].as_array().expect("a qualified group");
    let services: Vec<&str> = qualified
        .iter()
        .flat_map(|q| strings(&q["services"]))
        .collect();
    assert_eq!(
        services,
        [
            "Microsoft Forms Pro",
            "Microsoft Managed Desktop",
            "Microsoft Threat Experts",
            "Power Virtual Agents",
            "Update Compliance"
        ],
        "{d}"
    );
    assert!(
        qualified.iter().all(
            |q| strings(&q["from"]) == ["not in scope for Azure Government"]
                && q["to"].as_array().is_some_and(Vec::is_empty)
        ),
        "{d}"
    );
    assert!(d["reworded"].as_array().unwrap().is_empty(), "{d}");

    let dir = tempfile::tempdir().unwrap();
    let db = corpus_db(&shared, dir.path(), &["offering-soc-2"]);
    let (log, _) = query(
        &db,
        &[
            "log",
            "--source",
            "offering-soc-2",
            "--since",
            "2022-04-08",
            "--format",
            "json",
        ],
    );
    let logged = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["date"] == "2022-04-08" && e["kind"] == "qualified")
        .count();
    assert_eq!(logged, 5, "{log}");
}

/// Item 4: a sentence, a shared head noun and a split compound are no
/// junk services.
#[test]
fn no_junk_service_names() {
    let Some(shared) = common::shared() else {
        return;
    };
    let services_of = |page: &Path, starts: &str| -> Vec<String> {
        let p = parse_json(page);
        let item = p["scopes"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["items"].as_array().unwrap())
            .find(|i| i["text"].as_str().unwrap().starts_with(starts))
            .unwrap_or_else(|| panic!("no item {starts:?} in {p}"))
            .clone();
        strings(&item["services"])
            .iter()
            .map(|s| s.to_string())
            .collect()
    };
    assert_eq!(
        services_of(
            &version(&shared, "offering-nist-sp-800-171", "2020-10-15T110628"),
            "Office 365 U.S. Government Community Cloud (GCC)"
        ),
        [
            "Office 365 U.S. Government Community Cloud",
            "Office 365 GCC High",
            "Office 365 DoD"
        ]
    );
    assert_eq!(
        services_of(
            &version(&shared, "offering-mpaa", "2021-02-05T105755"),
            "Azure complies"
        ),
        ["Azure"]
    );
    let wcag = version(&shared, "offering-wcag-2-1", "2021-06-22T101936");
    let p = parse_json(&wcag);
    let login = p["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["items"].as_array().unwrap())
        .find(|i| i["text"] == "Office 365 and Azure AD login experience")
        .expect("the login item")
        .clone();
    assert_eq!(
        strings(&login["services"]),
        ["Office 365 login experience", "Azure AD login experience"]
    );
}

/// Item 5: `matrix` and `timeline` group names as the differ does.
#[test]
fn one_identity_in_matrix_timeline_and_diff() {
    let Some(shared) = common::shared() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = corpus_db(&shared, dir.path(), &[]);
    let (m, _) = query(&db, &["matrix", "--at", "2024-01-01", "--format", "json"]);
    let services = m["services"].as_object().unwrap();
    for gone in [
        "Microsoft Intune",
        "Microsoft PowerApps",
        "Power Apps",
        "Office Delve",
        "Microsoft To- Do for Web",
    ] {
        assert!(!services.contains_key(gone), "{gone} listed apart");
    }
    let count = |name: &str| services[name].as_array().unwrap().len();
    assert_eq!(count("Intune"), 40);
    assert!(strings(&services["Delve"]).contains(&"offering-pdpa-argentina"));
    assert!(
        strings(&services["Microsoft To-Do for Web"]).contains(&"offering-nen-7510-netherlands")
    );

    let (t, _) = query(&db, &["timeline", "Office Delve", "--format", "json"]);
    assert_eq!(t["service"], "Delve");
    assert!(t["offerings"]["offering-iso-27001"].is_array(), "{t}");
}

/// Item 6: the move back to Microsoft Cloud App Security on 2021-11-15 is
/// the revert of the alias table's rename.
#[test]
fn a_move_back_to_a_former_name_is_a_revert() {
    let Some(shared) = common::shared() else {
        return;
    };
    let d = diff_json(
        &version(&shared, "offering-iso-27001", "2021-10-29T171058"),
        &version(&shared, "offering-iso-27001", "2021-11-15T090653"),
    );
    let r = &d["renamed"][0];
    assert_eq!(
        (&r["from"], &r["to"], &r["evidence"]),
        (
            &Value::from("Microsoft Defender for Cloud Apps"),
            &Value::from("Microsoft Cloud App Security"),
            &Value::from("revert")
        ),
        "{d}"
    );
    let out = common::bin()
        .arg("diff")
        .arg(version(&shared, "offering-iso-27001", "2021-10-29T171058"))
        .arg(version(&shared, "offering-iso-27001", "2021-11-15T090653"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("reverts the known rename"), "{text}");
}

/// Item 7: offering-iso-27001's report links on 2021-02-15 and 2021-02-17
/// changed and changed back: three link flip-flops, not nine events.
#[test]
fn link_churn_is_folded() {
    let Some(shared) = common::shared() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = corpus_db(&shared, dir.path(), &["offering-iso-27001"]);
    let (log, _) = query(
        &db,
        &[
            "log",
            "--source",
            "offering-iso-27001",
            "--since",
            "2021-02-01",
            "--format",
            "json",
        ],
    );
    let events = log.as_array().unwrap();
    let in_feb = |e: &&Value| e["date"].as_str().is_some_and(|d| d.starts_with("2021-02"));
    let plain: Vec<&Value> = events
        .iter()
        .filter(in_feb)
        .filter(|e| e["kind"] == "link")
        .collect();
    assert!(plain.is_empty(), "{plain:?}");
    let folded = events
        .iter()
        .filter(in_feb)
        .filter(|e| e["event"] == "link_flip_flop")
        .count();
    assert_eq!(folded, 3, "{log}");
}

/// Item 9: a window shows every step inside it, even of a flip-flop that
/// began before it.
#[test]
fn a_window_shows_the_steps_of_an_earlier_flip_flop() {
    let Some(shared) = common::shared() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = corpus_db(&shared, dir.path(), &["offering-iso-27001"]);
    let (log, _) = query(
        &db,
        &[
            "log",
            "--source",
            "offering-iso-27001",
            "--since",
            "2021-11-01",
            "--format",
            "json",
        ],
    );
    let flip = log
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event"] == "flip_flop" && e["service"] == "Microsoft Defender for Cloud Apps")
        .unwrap_or_else(|| panic!("no Cloud Apps flip-flop in {log}"));
    let dates = strings(&flip["dates"]);
    assert!(
        dates.contains(&"2021-11-15") && dates.contains(&"2021-11-17"),
        "{flip}"
    );

    let feed = dir.path().join("changes.atom");
    common::bin()
        .arg("--db")
        .arg(&db)
        .args(["feed", "--since", "2021-11-01", "-o"])
        .arg(&feed)
        .assert()
        .success();
    let atom = std::fs::read_to_string(&feed).unwrap();
    assert!(atom.contains("Microsoft Defender for Cloud Apps"), "{atom}");
}

/// Item 10: a page without scope cannot be compared, and says so.
#[test]
fn a_page_without_scope_is_not_no_change() {
    let Some(shared) = common::shared() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let noscope = dir.path().join("noscope.md");
    std::fs::write(
        &noscope,
        "# Offering moved\n\n## Overview\n\nThis offering is now described on another page.\n",
    )
    .unwrap();
    let real = version(&shared, "offering-soc-2", "2022-04-08T101320");
    for extra in [&[][..], &["--exit-code"][..]] {
        let out = common::bin()
            .arg("diff")
            .arg(&noscope)
            .arg(&real)
            .args(extra)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("scope not compared"), "{text}");
        assert!(!text.contains("no change"), "{text}");
        assert_eq!(out.status.code(), Some(4), "{extra:?}");
    }
}

/// Item 8: a night that served a login page is an anomaly, never a
/// retirement nor the page's state; each run that still sees it says so
/// and exits non-zero.
#[tokio::test(flavor = "multi_thread")]
async fn a_one_night_anomaly_is_no_retirement() {
    use crate::faults_fetch::{Job, login, serve, whole};
    let Some(shared) = common::shared() else {
        return;
    };
    let page = std::fs::read_to_string(version(&shared, "offering-iso-27001", "2021-08-26T123109"))
        .unwrap();
    let (url, _) = serve(move |n, _| match n {
        0 | 4 => whole(&page, "text/markdown", Some("\"v1\"")),
        _ => whole(&login(0), "text/html", Some("\"login\"")),
    });
    let job = Job::new(url).await;
    assert!(job.run().await.0.contains("first version stored"));
    for night in 1..=3 {
        let (line, code) = job.run().await;
        assert!(line.contains("ANOMALY"), "night {night}: {line}");
        assert_eq!(code, Some(4), "night {night}: {line}");
    }
    let (line, code) = job.run().await;
    assert!(!line.contains("ANOMALY"), "{line}");
    assert_eq!(code, Some(0), "{line}");

    let db = job.setup.db();
    let (log, _) = query(&db, &["log", "--format", "json"]);
    let marks: Vec<&Value> = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == "retired" || e["event"] == "restored")
        .collect();
    assert!(marks.is_empty(), "{marks:?}");
    let (t, _) = query(&db, &["timeline", "Intune", "--format", "json"]);
    let spans = t["offerings"]["offering-x"].as_array().unwrap();
    assert_eq!(spans.len(), 1, "{t}");
    assert!(spans[0]["to"].is_null(), "{t}");
    let today = chrono::Utc::now().date_naive().to_string();
    let (m, _) = query(&db, &["matrix", "--at", &today, "--format", "json"]);
    assert!(
        strings(&m["services"]["Intune"]).contains(&"offering-x"),
        "{m}"
    );
}

/// Item 3, alerted: the nightly job alerts the 2022-04-08 qualifier change
/// of offering-soc-2 like any other scope change.
#[tokio::test(flavor = "multi_thread")]
async fn a_qualifier_change_is_alerted() {
    use crate::faults_fetch::{Job, serve, whole};
    let Some(shared) = common::shared() else {
        return;
    };
    let read = |stamp| std::fs::read_to_string(version(&shared, "offering-soc-2", stamp)).unwrap();
    let (old, new) = (read("2022-04-05T132239"), read("2022-04-08T101320"));
    let (url, _) = serve(move |n, _| match n {
        0 => whole(&old, "text/markdown", None),
        _ => whole(&new, "text/markdown", None),
    });
    let job = Job::new(url).await;
    assert!(job.run().await.0.contains("first version stored"));
    let (line, code) = job.run().await;
    assert!(
        line.contains("SCOPE CHANGED") && line.contains("5 requalified"),
        "{line}"
    );
    assert_eq!(code, Some(3), "{line}");
    let sent: Vec<Value> = job
        .hooks
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    assert_eq!(sent.len(), 1, "{sent:?}");
    let qualified = sent[0]["qualified"]
        .as_array()
        .expect("qualified in the alert");
    assert_eq!(qualified.len(), 5, "{}", sent[0]);
}
