//! One scope in every language: a translated page means the services of the
//! English page it was translated from (`../shared/corpus/l10n`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use scopewatch::canon::{AliasTable, ServiceKey};
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

/// The pairs of an allowed list, as `locale slug date`: each row's first
/// three fields. A fourth field says why the pair differs, for the reader.
fn allowed(tsv: &str) -> BTreeSet<String> {
    tsv.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split('\t').take(3).collect::<Vec<_>>().join(" "))
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
    // Translations that leave out, add or garble a name of their source.
    let allowed = allowed(include_str!("data/l10n-parity-allowed.tsv"));
    let mut per_locale: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut unexpected = Vec::new();
    let mut clean = BTreeSet::new();
    for locale in ["de-de", "es-es", "zh-cn"] {
        let tsv =
            std::fs::read_to_string(corpus.join(locale).join("PARITY.tsv")).expect("PARITY.tsv");
        for row in tsv.lines() {
            let f: Vec<&str> = row.split('\t').collect();
            let (slug, date) = (f[0], &f[1][..10]);
            let diff = differ.diff(&read(&corpus.join(f[5])), &read(&corpus.join(f[4])));
            let counts = per_locale.entry(locale.to_string()).or_default();
            counts.1 += 1;
            let id = format!("{locale} {slug} {date}");
            if !scope_changed(&diff) {
                clean.insert(id);
            } else {
                counts.0 += 1;
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
    no_stale_entries(&allowed, &clean);
}

/// An allowed pair that now comes out clean leaves the list, so that the
/// list says only what still differs.
fn no_stale_entries(allowed: &BTreeSet<String>, clean: &BTreeSet<String>) {
    let stale: Vec<&String> = allowed.intersection(clean).collect();
    assert!(stale.is_empty(), "allowed but now clean: {stale:?}");
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

/// The scope changes of a diff, by identity and environment.
fn events(aliases: &AliasTable, diff: &Diff) -> BTreeSet<String> {
    let env = |e: &Option<String>| e.clone().unwrap_or_default();
    let id = |name: &str| ServiceKey::of(name).as_str().to_string();
    let canonical = |name: &str| {
        aliases
            .canonical_key(&ServiceKey::of(name))
            .as_str()
            .to_string()
    };
    let mut out = BTreeSet::new();
    for e in diff.added() {
        out.insert(format!(
            "added {} [{}]",
            canonical(&e.service),
            env(&e.environment)
        ));
    }
    for e in diff.removed() {
        out.insert(format!(
            "removed {} [{}]",
            canonical(&e.service),
            env(&e.environment)
        ));
    }
    for r in diff.renamed() {
        out.insert(format!(
            "renamed {} -> {} [{}]",
            id(&r.from),
            id(&r.to),
            env(&r.environment)
        ));
    }
    for m in diff.moved() {
        out.insert(format!(
            "moved {} {} -> {}",
            canonical(&m.service),
            m.from.as_deref().unwrap_or(""),
            m.to.as_deref().unwrap_or("")
        ));
    }
    out
}

/// Two consecutive versions of a localized page tell the story of their
/// English sources: no scope change where the English source is the same,
/// the English changes where it changed.
#[test]
fn localized_histories_tell_the_english_story() {
    let Some(shared) = common::shared() else {
        return;
    };
    let corpus = shared.join("corpus/l10n");
    let aliases = AliasTable::builtin();
    let differ = Differ::new(&aliases);
    let allowed = allowed(include_str!("data/l10n-history-allowed.tsv"));
    let mut unexpected = Vec::new();
    let mut clean = BTreeSet::new();
    for locale in ["de-de", "es-es", "zh-cn"] {
        let tsv =
            std::fs::read_to_string(corpus.join(locale).join("PARITY.tsv")).expect("PARITY.tsv");
        let mut rows: Vec<Vec<&str>> = tsv.lines().map(|l| l.split('\t').collect()).collect();
        rows.sort_by(|a, b| (a[0], a[1]).cmp(&(b[0], b[1])));
        let (mut same, mut all) = (0, 0);
        for pair in rows.windows(2).filter(|w| w[0][0] == w[1][0]) {
            let (a, b) = (&pair[0], &pair[1]);
            let localized = events(
                &aliases,
                &differ.diff(&read(&corpus.join(a[4])), &read(&corpus.join(b[4]))),
            );
            let english = if a[3] == b[3] {
                BTreeSet::new()
            } else {
                events(
                    &aliases,
                    &differ.diff(&read(&corpus.join(a[5])), &read(&corpus.join(b[5]))),
                )
            };
            all += 1;
            let id = format!("{locale} {} {}", b[0], &b[1][..10]);
            if localized == english {
                same += 1;
                clean.insert(id);
                continue;
            }
            if !allowed.contains(&id) {
                unexpected.push(format!(
                    "{id}: localized {localized:?}, English {english:?}"
                ));
            }
        }
        eprintln!("{locale}: {same} of {all} consecutive versions tell the English story");
    }
    assert!(
        unexpected.is_empty(),
        "new differences:\n{}",
        unexpected.join("\n")
    );
    no_stale_entries(&allowed, &clean);
}

/// A page in the docs Markdown form, in `locale` when given.
pub(crate) fn markdown(locale: Option<&str>, heading: &str, names: &[&str]) -> String {
    let front = locale.map_or(String::new(), |l| {
        format!("---\nms.contentlocale: {l}\n---\n")
    });
    let items: String = names.iter().map(|n| format!("- {n}\n")).collect();
    format!(
        "{front}# ISO/IEC 27001\n\n## <a name=\"microsoft-in-scope-cloud-services\"></a>{heading}\n\n{items}"
    )
}

/// Importing a localized folder beside its English source learns the
/// translated names, stores them with their evidence, and every later
/// command names the services in English.
#[test]
fn imported_translations_teach_their_names_to_every_command() {
    let dir = tempfile::tempdir().expect("temp dir");
    let write = |path: &str, text: String| {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    };
    let english = [
        "Azure",
        "Skype for Business",
        "OneDrive for Business",
        "Power BI",
    ];
    write(
        "en/offering-x/2021-01-01.md",
        markdown(None, "In-scope services", &english),
    );
    let fr = |names: &[&str]| markdown(Some("fr-fr"), "Services concernés", names);
    write(
        "fr/offering-x/2021-01-05.md",
        fr(&[
            "Azure",
            "Skype Entreprise",
            "OneDrive Entreprise",
            "Power BI",
        ]),
    );
    // The translator adopts the English name of one service and drops another.
    write(
        "fr/offering-x/2021-02-01.md",
        fr(&["Azure", "Skype Entreprise", "OneDrive for Business"]),
    );
    let db = dir.path().join("t.db");
    let out = common::bin()
        .arg("--db")
        .arg(&db)
        .arg("import")
        .arg(dir.path().join("en"))
        .arg(dir.path().join("fr"))
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("offering-x-fr-fr 2021-01-05"), "{stdout}");
    assert!(stdout.contains("localized names learned"), "{stdout}");

    let json = |args: &[&str]| -> serde_json::Value {
        let out = common::bin()
            .arg("--db")
            .arg(&db)
            .args(args)
            .output()
            .expect("runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("JSON")
    };
    let names = json(&["names", "--locale", "fr-fr", "--format", "json"]);
    let skype = names
        .as_array()
        .expect("list")
        .iter()
        .find(|n| n["localized"] == "Skype Entreprise")
        .expect("Skype Entreprise learned");
    assert_eq!(skype["english"], "Skype for Business");
    assert_eq!(skype["origin"], "learned");
    assert_eq!(skype["source"], "offering-x-fr-fr");
    assert_eq!(skype["date"], "2021-01-05");

    let diff = json(&[
        "diff",
        "--source",
        "offering-x-fr-fr",
        "--from",
        "2021-01-10",
        "--to",
        "2021-03-01",
        "--format",
        "json",
    ]);
    let text = diff.to_string();
    let removed: Vec<&str> = diff["removed"]
        .as_array()
        .expect("removed")
        .iter()
        .map(|e| e["service"].as_str().expect("name"))
        .collect();
    assert_eq!(removed, ["Power BI"], "{text}");
    assert!(
        diff["added"].as_array().expect("added").is_empty(),
        "{text}"
    );
    assert!(
        diff["renamed"].as_array().expect("renamed").is_empty(),
        "{text}"
    );

    let matrix = json(&["matrix", "--at", "2021-03-01", "--format", "json"]);
    let skype_in = &matrix["services"]["Skype for Business"];
    assert_eq!(
        skype_in,
        &serde_json::json!(["offering-x", "offering-x-fr-fr"]),
        "{matrix}"
    );
}

/// The seed pair names its Japanese items by their English identity.
#[test]
fn the_seed_names_japanese_items_in_english() {
    let Some(shared) = common::shared() else {
        return;
    };
    let out = common::bin()
        .arg("diff")
        .arg(shared.join("seeds/000_c2ccf460ba8d7d5b.txt"))
        .arg(shared.join("seeds/002_569c391c3c9965dd.txt"))
        .args(["--format", "json"])
        .output()
        .expect("runs");
    let d: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let desktop = d["reworded"]
        .as_array()
        .expect("reworded")
        .iter()
        .find(|r| r["from"] == "Microsoft マネージド デスクトップ")
        .expect("the Japanese item is a rewording");
    assert_eq!(
        desktop["services"],
        serde_json::json!(["Microsoft Managed Desktop"])
    );
}

/// The nightly run learns from a localized source whose English source is
/// configured beside it.
#[tokio::test(flavor = "multi_thread")]
async fn the_nightly_run_learns_from_a_configured_translation() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    let site = MockServer::start().await;
    let english = markdown(None, "In-scope services", &["Azure", "Skype for Business"]);
    let french = markdown(
        Some("fr-fr"),
        "Services concernés",
        &["Azure", "Skype Entreprise"],
    );
    for (at, body) in [("/en", english), ("/fr", french)] {
        Mock::given(method("GET"))
            .and(path(at))
            .respond_with(ResponseTemplate::new(200).set_body_string(body))
            .mount(&site)
            .await;
    }
    let s = common::Setup::new(
        &[
            ("offering-x", format!("{}/en", site.uri())),
            ("offering-x-fr-fr", format!("{}/fr", site.uri())),
        ],
        "",
        "",
    );
    let config = scopewatch::config::Config::load(&s.config).expect("config");
    let report = scopewatch::run::run_once(
        &config,
        Box::new(|| std::sync::Arc::new(AliasTable::builtin())),
        &s.db(),
        &|_| {},
    )
    .await
    .expect("runs");
    assert!(!report.failed(), "{}", report.text());
    let learned = scopewatch::store::Store::open_read(&s.db())
        .expect("database")
        .learned_names(Some("fr-fr"))
        .expect("names");
    let pairs: Vec<(&str, &str)> = learned
        .iter()
        .map(|n| (n.localized.as_str(), n.english.as_str()))
        .collect();
    assert_eq!(pairs, [("Skype Entreprise", "Skype for Business")]);
    assert_eq!(learned[0].first.source, "offering-x-fr-fr");
}
