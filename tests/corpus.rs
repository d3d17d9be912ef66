//! Every real page version in `../shared/corpus/en-us` parses, and every one
//! with an in-scope section yields a non-empty scope.

use std::fs;

use scopewatch::ingest::read_snapshot;

use crate::common;

#[test]
fn every_corpus_version_parses_and_yields_its_scope() {
    let Some(shared) = common::shared() else {
        return;
    };
    let root = shared.join("corpus/en-us");
    let manifest = fs::read_to_string(root.join("MANIFEST.tsv")).expect("MANIFEST.tsv");
    let mut checked = 0;
    let mut with_scope = 0;
    let mut failures = Vec::new();
    for line in manifest.lines().filter(|l| !l.trim().is_empty()) {
        let file = line.split('\t').nth(4).expect("manifest has five columns");
        let bytes = fs::read(root.join(file)).expect(file);
        let snapshot = match read_snapshot(file, &bytes) {
            Ok(s) => s,
            Err(e) => {
                failures.push(format!("{file}: {e}"));
                continue;
            }
        };
        checked += 1;
        let text = String::from_utf8_lossy(&bytes);
        let has_section = text
            .lines()
            .any(|l| l.starts_with('#') && l.to_lowercase().contains("in-scope"));
        if has_section {
            with_scope += 1;
            if !snapshot.has_scope() {
                failures.push(format!(
                    "{file}: has an in-scope section but no scope was extracted"
                ));
            }
            if snapshot
                .entries()
                .any(|e| e.service.name().chars().count() > 80)
            {
                failures.push(format!("{file}: a qualifier was taken for a service name"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} problems:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(checked >= 900, "only {checked} versions checked");
    assert!(with_scope >= 900, "only {with_scope} versions with scope");
}
