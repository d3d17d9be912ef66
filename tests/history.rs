//! Backfill from the real docs history (`../shared/corpus`), and the
//! invariants every version must keep.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use scopewatch::canon::{AliasTable, ServiceKey};
use scopewatch::diff::Differ;
use scopewatch::history::{self, EventKind};
use scopewatch::ingest::{self, git};
use scopewatch::store::Store;
use serde_json::Value;

use crate::common;

const GLOB: &str = "compliance/regulatory/offering-*.md";

/// A clone of the bundle, and an empty database beside it.
fn setup() -> Option<(tempfile::TempDir, PathBuf, PathBuf)> {
    let shared = common::shared()?;
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("docs");
    common::clone_bundle(&shared, &repo);
    let db = dir.path().join("history.db");
    Some((dir, repo, db))
}

fn day(d: &str) -> NaiveDate {
    NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap()
}

#[test]
fn backfill_answers_the_questions_the_issue_names() {
    let Some((_dir, repo, db)) = setup() else {
        return;
    };
    common::bin()
        .arg("--db")
        .arg(&db)
        .arg("import-git")
        .arg(&repo)
        .args(["--path", GLOB])
        .assert()
        .success();

    let out = common::bin()
        .arg("--db")
        .arg(&db)
        .args([
            "diff",
            "--source",
            "offering-iso-27001",
            "--from",
            "2021-03-01",
            "--to",
            "2021-04-30",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let renamed: Vec<(&str, &str)> = v["renamed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["from"].as_str().unwrap(), r["to"].as_str().unwrap()))
        .collect();
    assert!(
        renamed.contains(&(
            "Microsoft Defender Advanced Threat Protection",
            "Microsoft Defender for Endpoint"
        )),
        "{renamed:?}"
    );

    let out = common::bin()
        .arg("--db")
        .arg(&db)
        .args(["timeline", "Windows 365", "--format", "json"])
        .output()
        .unwrap();
    let t: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        t["offerings"]["offering-iso-27001"][0]["from"],
        "2021-08-26"
    );

    // Renames are followed: the endpoint service's history includes its old names.
    let out = common::bin()
        .arg("--db")
        .arg(&db)
        .args([
            "timeline",
            "Microsoft Defender for Endpoint",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let t: Value = serde_json::from_slice(&out.stdout).unwrap();
    let names = t["offerings"]["offering-iso-27001"][0]["names"]
        .as_array()
        .unwrap();
    assert!(
        names.contains(&Value::from(
            "Microsoft Defender Advanced Threat Protection"
        )),
        "{names:?}"
    );
    assert!(names.contains(&Value::from("Microsoft Defender for Endpoint")));

    // The matrix at a date lists services per offering, and leaves retired pages out.
    let out = common::bin()
        .arg("--db")
        .arg(&db)
        .args(["matrix", "--at", "2022-01-01", "--format", "csv"])
        .output()
        .unwrap();
    let csv = String::from_utf8(out.stdout).unwrap();
    let header = csv.lines().next().unwrap();
    assert!(header.starts_with("service,") && header.contains("offering-iso-27001"));
    assert!(!header.contains("offering-fact-uk"), "retired in 2021-07");
    assert!(csv.lines().any(|l| l.starts_with("Windows 365,")));
}

#[test]
fn invariants_over_the_whole_history() {
    let Some((_dir, repo, db)) = setup() else {
        return;
    };
    let mut store = Store::open(&db).unwrap();
    let first = git::import_git(
        &mut store,
        &repo,
        GLOB,
        &git::GitOptions::default(),
        &|_| {},
    )
    .unwrap();
    assert!(first.failed.is_empty(), "{:?}", first.failed);
    assert!(first.versions > 900, "{first:?}");

    // Every version stored once.
    let versions = store.versions(None).unwrap();
    assert_eq!(versions.len(), first.stored);
    assert_eq!(first.stored + first.unchanged, first.versions);
    let distinct: BTreeSet<_> = versions
        .iter()
        .map(|v| (v.source.clone(), v.captured_at))
        .collect();
    assert_eq!(
        distinct.len(),
        versions.len(),
        "two snapshots of one source at one time"
    );

    // A re-import adds nothing.
    let again = git::import_git(
        &mut store,
        &repo,
        GLOB,
        &git::GitOptions::default(),
        &|_| {},
    )
    .unwrap();
    assert_eq!((again.stored, again.retired), (0, 0), "{again:?}");
    assert_eq!(store.versions(None).unwrap().len(), versions.len());

    // Reparse rebuilds everything to the same result, twice over.
    let before: Vec<_> = versions
        .iter()
        .map(|v| store.load(v.id).unwrap().snapshot)
        .collect();
    for _ in 0..2 {
        let r = ingest::reparse(&mut store, true, &|_| {}).unwrap();
        assert_eq!((r.rebuilt, r.changed), (versions.len(), 0));
    }
    let after: Vec<_> = versions
        .iter()
        .map(|v| store.load(v.id).unwrap().snapshot)
        .collect();
    assert_eq!(before, after);

    // No event removes more than half of a source's services unless the
    // page is reported retired.
    let aliases = AliasTable::builtin();
    let differ = Differ::new(&aliases);
    let events = history::log(&store, &differ, None, None).unwrap();
    let retired: BTreeSet<(String, NaiveDate)> = events
        .iter()
        .filter(|e| matches!(e.what, EventKind::Retired { .. }))
        .map(|e| (e.source.clone(), e.date))
        .collect();
    for source in store.sources().unwrap() {
        let good: Vec<_> = store
            .history(&source.id)
            .unwrap()
            .into_iter()
            .filter(|s| s.snapshot.has_scope())
            .collect();
        for pair in good.windows(2) {
            let d = differ.diff(&pair[0].snapshot, &pair[1].snapshot);
            let services = |s: &scopewatch::model::Snapshot| -> BTreeSet<String> {
                s.entries()
                    .map(|e| ServiceKey::from(e.service).as_str().to_string())
                    .collect()
            };
            let before = services(&pair[0].snapshot);
            let gone: BTreeSet<String> = d
                .removed()
                .iter()
                .map(|e| {
                    scopewatch::canon::ServiceKey::of(&e.service)
                        .as_str()
                        .to_string()
                })
                .filter(|k| !services(&pair[1].snapshot).contains(k))
                .collect();
            let date = pair[1].captured_at.date_naive();
            assert!(
                gone.len() * 2 <= before.len() || retired.contains(&(source.id.clone(), date)),
                "{} on {date}: {} of {} services removed without a retirement",
                source.id,
                gone.len(),
                before.len()
            );
        }
    }

    // Deleted page files are retirements, not removals.
    assert!(
        retired
            .iter()
            .any(|(s, d)| s == "offering-soc" && *d == day("2021-07-12")),
        "{retired:?}"
    );

    // The November 2021 rename and revert is one flip-flop.
    let flip = events.iter().find(|e| {
        e.source == "offering-iso-27001"
            && matches!(&e.what, EventKind::FlipFlop { states, .. } if states.iter().any(|s| s == "Microsoft Defender for Cloud Apps"))
    });
    let Some(flip) = flip else {
        panic!("no flip-flop for Cloud App Security in offering-iso-27001")
    };
    let EventKind::FlipFlop { dates, .. } = &flip.what else {
        unreachable!()
    };
    assert!(
        dates.len() >= 2 && dates.iter().all(|d| d.to_string().starts_with("2021-1")),
        "{dates:?}"
    );
}

#[test]
fn import_of_a_folder_of_dated_versions() {
    let Some(shared) = common::shared() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("folder.db");
    let root: &Path = &shared.join("corpus/en-us");
    common::bin()
        .arg("--db")
        .arg(&db)
        .arg("import")
        .arg(root)
        .assert()
        .success();
    let store = Store::open(&db).unwrap();
    let count = store.versions(None).unwrap().len();
    let manifest = std::fs::read_to_string(root.join("MANIFEST.tsv")).unwrap();
    assert_eq!(
        count,
        manifest.lines().filter(|l| !l.trim().is_empty()).count()
    );
    drop(store);
    let out = common::bin()
        .arg("--db")
        .arg(&db)
        .arg("import")
        .arg(root)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        !String::from_utf8(out.stdout).unwrap().contains("stored as"),
        "a re-import stores nothing"
    );
}
