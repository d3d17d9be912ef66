//! `scopewatch lag`, the report's "Translation lag" section, and
//! `init --locale`: a small English history and its German translation,
//! three weeks late on a removal, then the real corpus.

use std::path::Path;

use serde_json::Value;

use crate::common;

/// An English offering page as the docs write it, listing Genomics and
/// Windows 365 or not.
fn english(date: &str, genomics: bool, windows_365: bool) -> String {
    let mut list = vec![
        "Azure DevOps Services",
        "Microsoft Graph",
        "Intune",
        "Power BI Embedded",
        "Microsoft Stream",
    ];
    if genomics {
        list.push("Genomics");
    }
    if windows_365 {
        list.push("Windows 365");
    }
    format!(
        "---\ntitle: ISO/IEC 27017 Code of Practice for Information Security Controls\nms.date: {date}\n---\n\n\
# ISO/IEC 27017 Code of Practice for Information Security Controls\n\n\
## ISO/IEC 27017 overview\n\n\
The code of practice gives guidance on security controls for cloud services, for providers and customers alike.\n\n\
## <a name=\"microsoft-in-scope-cloud-platforms--services\"></a>Microsoft in-scope cloud platforms & services\n\n{}\n\n\
## Office 365 applicability and in-scope services\n\n\
| **Applicability** | **In-scope services** |\n|:---|:---|\n\
| **GCC** | Exchange Online, Microsoft Teams, Planner, SharePoint Online |\n\
| **DoD** | Exchange Online, Microsoft Teams, SharePoint Online |\n",
        list.iter()
            .map(|s| format!("- {s}"))
            .collect::<Vec<_>>()
            .join("\n")
    )
}

/// The German translation of [`english`]: its prose and headings in
/// German, the product names as Microsoft leaves them.
fn german(genomics: bool, windows_365: bool) -> String {
    let mut list = vec![
        "Azure DevOps Services",
        "Microsoft Graph",
        "Intune",
        "Power BI Embedded",
        "Microsoft Stream",
    ];
    if genomics {
        list.push("Genomics");
    }
    if windows_365 {
        list.push("Windows 365");
    }
    format!(
        "---\ntitle: ISO/IEC 27017 Verhaltenskodex für Informationssicherheitskontrollen\nms.contentlocale: de-DE\n---\n\n\
# ISO/IEC 27017 Verhaltenskodex für Informationssicherheitskontrollen\n\n\
## ISO/IEC 27017 – Übersicht\n\n\
Der Verhaltenskodex beschreibt Sicherheitskontrollen für Clouddienste, für Anbieter wie für Kunden.\n\n\
## <a name=\"microsoft-in-scope-cloud-platforms--services\"></a>Eingeschlossene Cloudplattformen und -dienste von Microsoft\n\n{}\n\n\
## Office 365 – Anwendbarkeit und eingeschlossene Dienste\n\n\
| **Anwendbarkeit** | **Eingeschlossene Dienste** |\n|:---|:---|\n\
| **GCC** | Exchange Online, Microsoft Teams, Planner, SharePoint Online |\n\
| **DoD** | Exchange Online, Microsoft Teams, SharePoint Online |\n",
        list.iter()
            .map(|s| format!("- {s}"))
            .collect::<Vec<_>>()
            .join("\n")
    )
}

/// The English page drops Genomics and adds Windows 365 on 1 June 2021;
/// the German translation follows on 22 June, three weeks later.
fn histories(root: &Path) {
    let write = |folder: &str, name: &str, text: String| {
        let dir = root.join(folder);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), text).unwrap();
    };
    write(
        "en/offering-iso-27017",
        "2021-03-01.md",
        english("03/01/2021", true, false),
    );
    write(
        "en/offering-iso-27017",
        "2021-06-01.md",
        english("06/01/2021", false, true),
    );
    write(
        "de/offering-iso-27017",
        "2021-03-12.md",
        german(true, false),
    );
    write(
        "de/offering-iso-27017",
        "2021-06-22.md",
        german(false, true),
    );
}

fn sw(db: &Path) -> assert_cmd::Command {
    let mut cmd = common::bin();
    cmd.arg("--db").arg(db);
    cmd
}

fn lag_json(db: &Path, args: &[&str]) -> Value {
    let out = sw(db)
        .args(["lag", "--format", "json"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Imports the two fixture histories: the German folder's pages say de-DE,
/// so they become their own source, `offering-iso-27017-de-de`.
fn fixture_db() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    histories(dir.path());
    let db = dir.path().join("sw.db");
    for folder in ["en", "de"] {
        sw(&db)
            .arg("import")
            .arg(dir.path().join(folder))
            .assert()
            .success();
    }
    (dir, db)
}

#[test]
fn a_translation_three_weeks_late_on_a_removal() {
    let (_dir, db) = fixture_db();
    let sources = sw(&db).args(["sources"]).output().unwrap();
    let sources = String::from_utf8_lossy(&sources.stdout);
    assert!(sources.contains("offering-iso-27017-de-de"), "{sources}");

    // Before the English edit the two pages agree.
    let before = lag_json(&db, &["--at", "2021-05-31"]);
    assert_eq!(before[0]["source"], "offering-iso-27017-de-de");
    assert_eq!(before[0]["english"], "offering-iso-27017");
    assert_eq!(before[0]["lags"], serde_json::json!([]));

    // Three weeks on, the translation still lists Genomics and lacks Windows 365.
    let late = lag_json(&db, &["--at", "2021-06-21"]);
    let lags = late[0]["lags"].as_array().unwrap();
    assert_eq!(lags.len(), 2, "{late:#}");
    let find = |kind: &str| lags.iter().find(|l| l["kind"] == kind).unwrap();
    let still = find("extra");
    assert_eq!(still["service"], "Genomics");
    assert_eq!(still["since"], "2021-06-01");
    assert_eq!(still["days"], 20);
    assert_eq!(still["began_with"], "english");
    let missing = find("missing");
    assert_eq!(missing["service"], "Windows 365");
    assert_eq!(missing["since"], "2021-06-01");
    assert_eq!(late[0]["english_version"], "2021-06-01");
    assert_eq!(late[0]["translation_version"], "2021-03-12");

    // The same, for people, and with --exit-code as `diff` gives it.
    let text = sw(&db)
        .args(["lag", "--at", "2021-06-21", "--exit-code"])
        .output()
        .unwrap();
    assert_eq!(text.status.code(), Some(3));
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains(
            "offering-iso-27017-de-de against offering-iso-27017 on 2021-06-21: 2 differences"
        ),
        "{text}"
    );
    let genomics = text.lines().find(|l| l.contains("Genomics")).unwrap();
    assert!(
        genomics.contains("since 2021-06-01")
            && genomics.contains("20 days")
            && genomics.contains("still listed"),
        "{genomics}"
    );

    // The translation caught up on 22 June.
    let caught_up = lag_json(&db, &["--at", "2021-06-22"]);
    assert_eq!(caught_up[0]["lags"], serde_json::json!([]));
    sw(&db)
        .args(["lag", "--at", "2021-06-22", "--exit-code"])
        .assert()
        .code(0)
        .stdout(predicates::str::contains("in step with the English page"));
}

#[test]
fn lag_names_what_it_cannot_compare() {
    let (dir, db) = fixture_db();
    // An English page alone is no translation.
    sw(&db)
        .args(["lag", "--source", "offering-iso-27017"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains(
            "has no English source to compare with",
        ));
    sw(&db)
        .args(["lag", "--source", "offering-nope-de-de"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("unknown source"));
    // Before the translation's first version there is nothing to compare.
    let early = lag_json(&db, &["--at", "2021-03-05"]);
    assert_eq!(
        early[0]["not_compared"],
        "the translation has no version with scope by 2021-03-05"
    );
    // A translation stored under another id is paired by the configuration.
    let other = dir.path().join("other.db");
    sw(&other)
        .arg("import")
        .arg(dir.path().join("en"))
        .assert()
        .success();
    sw(&other)
        .args(["import", "--source", "iso-27017-german"])
        .arg(dir.path().join("de/offering-iso-27017/2021-03-12.md"))
        .assert()
        .success();
    let config = dir.path().join("sw.toml");
    std::fs::write(
        &config,
        "[[source]]\nid = \"iso-27017-german\"\nurl = \"https://learn.microsoft.com/de-de/compliance/regulatory/offering-iso-27017\"\nenglish = \"offering-iso-27017\"\n",
    )
    .unwrap();
    sw(&other)
        .args(["lag", "--source", "iso-27017-german"])
        .assert()
        .code(1);
    let out = sw(&other)
        .arg("--config")
        .arg(&config)
        .args([
            "lag",
            "--source",
            "iso-27017-german",
            "--at",
            "2021-06-21",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["english"], "offering-iso-27017");
    assert_eq!(v[0]["lags"].as_array().unwrap().len(), 2, "{v:#}");
}

#[test]
fn the_report_has_a_translation_lag_section() {
    let (dir, db) = fixture_db();
    let report = dir.path().join("report.html");
    sw(&db)
        .args(["report", "--to", "2021-06-21", "-o"])
        .arg(&report)
        .assert()
        .success();
    let html = std::fs::read_to_string(&report).unwrap();
    let section = html
        .split("id=\"translation-lag\"")
        .nth(1)
        .expect("a Translation lag section");
    assert!(
        section.contains("Translation lag on 2021-06-21"),
        "{section}"
    );
    assert!(section.contains("offering-iso-27017-de-de"));
    assert!(section.contains("Genomics") && section.contains("still listed"));
    assert!(section.contains("Windows 365") && section.contains("not yet translated"));
    assert!(section.contains("2021-06-01"));
}

#[test]
fn init_writes_localized_sources() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sw.toml");
    common::bin()
        .args(["init", "--locale", "de-DE", "--output"])
        .arg(&path)
        .assert()
        .success()
        .stdout(predicates::str::contains("(de-de)"));
    let config = scopewatch::config::Config::load(&path).unwrap();
    let iso = config
        .sources
        .iter()
        .find(|s| s.id.as_str() == "offering-iso-27001-de-de")
        .expect("the ISO 27001 page, with the locale in its id");
    assert_eq!(
        iso.url,
        "https://learn.microsoft.com/de-de/compliance/regulatory/offering-iso-27001"
    );
    assert_eq!(iso.locale.as_deref(), Some("de-de"));
    assert!(config.sources.iter().all(|s| s.id.ends_with("-de-de")));
    for good in ["pt-br", "zh-cn", "zh-TW", "en-us"] {
        common::bin()
            .args(["init", "--force", "--locale", good, "--output"])
            .arg(&path)
            .assert()
            .success();
    }
    let bad = dir.path().join("bad.toml");
    for bad_locale in ["german", "de_DE", "de", "en-us/../x"] {
        common::bin()
            .args(["init", "--locale", bad_locale, "--output"])
            .arg(&bad)
            .assert()
            .code(1)
            .stderr(predicates::str::contains("invalid locale"))
            .stderr(predicates::str::contains("such as de-de"));
        assert!(!bad.exists(), "nothing written for {bad_locale}");
    }
}

/// The real German and Spanish pages: Microsoft renamed Cloud App Security
/// to Defender for Cloud Apps on the English pages on 29 October 2021, and
/// the translations still said Cloud App Security in November.
#[test]
fn the_corpus_translations_lagged_on_the_defender_rename() {
    let Some(shared) = common::shared() else {
        return;
    };
    let corpus = shared.join("corpus");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sw.db");
    for folder in [
        "en-us/offering-soc-1",
        "l10n/de-de/offering-soc-1",
        "l10n/es-es/offering-soc-1",
    ] {
        sw(&db)
            .arg("import")
            .arg(corpus.join(folder))
            .assert()
            .success();
    }
    let rename = |v: &Value| -> Option<Value> {
        v["lags"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["kind"] == "renamed" && l["english"] == "Microsoft Defender for Cloud Apps")
            .cloned()
    };
    let before = lag_json(&db, &["--at", "2021-10-28"]);
    let during = lag_json(&db, &["--at", "2021-11-09"]);
    for (i, source) in ["offering-soc-1-de-de", "offering-soc-1-es-es"]
        .iter()
        .enumerate()
    {
        assert_eq!(during[i]["source"], *source);
        assert_eq!(during[i]["english"], "offering-soc-1");
        assert!(rename(&before[i]).is_none(), "{source}: {:#}", before[i]);
        let lag = rename(&during[i]).unwrap_or_else(|| panic!("{source}: {:#}", during[i]));
        assert_eq!(lag["translation"], "Microsoft Cloud App Security");
        assert_eq!(lag["evidence"], "alias");
        assert_eq!(lag["since"], "2021-10-29");
        assert_eq!(lag["began_with"], "english");
        assert_eq!(lag["days"], 11);
    }
}
