//! One scope in every language: a translated page means the services of the
//! English page it was translated from (`../shared/corpus/l10n`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use scopewatch::canon::AliasTable;
use scopewatch::diff::{Diff, Differ};
use scopewatch::model::Snapshot;

use crate::common;

fn read(path: &Path) -> Snapshot {
    let bytes = std::fs::read(path).expect("corpus file");
    scopewatch_core::read_snapshot(&path.display().to_string(), &bytes).expect("parses")
}

fn scope_changed(diff: &Diff) -> bool {
    !(diff.added().is_empty()
        && diff.removed().is_empty()
        && diff.renamed().is_empty()
        && diff.moved().is_empty())
}

/// The pairs known to differ, as `locale slug date`: translations that
/// leave out or merge a name of their source, and wordings not learned yet.
fn allowed() -> BTreeSet<String> {
    include_str!("data/l10n-parity-allowed.tsv")
        .lines()
        .map(|l| l.replace('\t', " "))
        .collect()
}

#[test]
fn every_translation_states_the_scope_of_its_english_source() {
    let Some(shared) = common::shared() else {
        return;
    };
    let corpus = shared.join("corpus/l10n");
    let aliases = AliasTable::builtin();
    let differ = Differ::new(&aliases);
    let allowed = allowed();
    let mut per_locale: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut unexpected = Vec::new();
    for locale in ["de-de", "es-es", "zh-cn"] {
        let tsv =
            std::fs::read_to_string(corpus.join(locale).join("PARITY.tsv")).expect("PARITY.tsv");
        for row in tsv.lines() {
            let f: Vec<&str> = row.split('\t').collect();
            let (slug, date) = (f[0], &f[1][..10]);
            let diff = differ.diff(&read(&corpus.join(f[5])), &read(&corpus.join(f[4])));
            let counts = per_locale.entry(locale.to_string()).or_default();
            counts.1 += 1;
            if scope_changed(&diff) {
                counts.0 += 1;
                let id = format!("{locale} {slug} {date}");
                if !allowed.contains(&id) {
                    unexpected.push(format!(
                        "{id}: {}",
                        serde_json::to_string(&diff).expect("JSON")
                    ));
                }
            }
        }
    }
    for (locale, (bad, all)) in &per_locale {
        eprintln!("{locale}: {} of {all} pairs clean", all - bad);
    }
    assert!(
        unexpected.is_empty(),
        "new differences:\n{}",
        unexpected.join("\n")
    );
}

#[test]
fn names_learned_from_translations_keep_services_apart() {
    let aliases = AliasTable::builtin();
    let english = |name: &str| aliases.canonical_name(name).to_string();
    assert_eq!(
        english("Microsoft Defender für Endpunkt"),
        "Microsoft Defender for Endpoint"
    );
    assert_eq!(
        english("Microsoft Defender für Office 365"),
        "Microsoft Defender for Office 365"
    );
    assert_eq!(english("Skype Empresarial"), "Skype for Business");
    assert_eq!(english("OneDrive para la Empresa"), "OneDrive for Business");
    assert_eq!(aliases.environment("GCC Hoch"), "GCC High");
    let page = |names: &[&str]| {
        let items = names.iter().map(|n| format!("- {n}\n")).collect::<String>();
        let md = format!(
            "---\nms.contentlocale: de-de\n---\n# Seite\n## Microsoft in-scope cloud services\n{items}"
        );
        scopewatch_core::read_snapshot("page.md", md.as_bytes()).expect("parses")
    };
    // One language, two services with similar names: each keeps its own
    // identity, so dropping one is a removal, not a rewording.
    let old = page(&[
        "Microsoft Defender für Endpunkt",
        "Microsoft Defender für Office 365",
        "Azure Deutschland",
    ]);
    let new = page(&["Microsoft Defender für Office 365", "Azure"]);
    let diff = Differ::new(&aliases).diff(&old, &new);
    let removed: Vec<&str> = diff.removed().iter().map(|e| e.service.as_str()).collect();
    let added: Vec<&str> = diff.added().iter().map(|e| e.service.as_str()).collect();
    assert_eq!(
        removed,
        ["Microsoft Defender for Endpoint", "Azure Germany"],
        "{diff:?}"
    );
    assert_eq!(added, ["Azure"], "{diff:?}");
}
