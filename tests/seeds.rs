//! The canonical example: the ISO/IEC 27001 page as a 2020 Japanese Markdown
//! source and as a 2023 English text export.

use serde_json::Value;

use crate::common;

fn seed_diff() -> Option<Value> {
    let shared = common::shared()?;
    let out = common::bin()
        .arg("diff")
        .arg(shared.join("seeds/000_c2ccf460ba8d7d5b.txt"))
        .arg(shared.join("seeds/002_569c391c3c9965dd.txt"))
        .args(["--format", "json"])
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_slice(&out.stdout).expect("JSON"))
}

fn names<'a>(v: &'a Value, list: &str, field: &str) -> Vec<&'a str> {
    v[list]
        .as_array()
        .expect(list)
        .iter()
        .filter(|e| e.get("environment").is_none_or(Value::is_null))
        .map(|e| e[field].as_str().expect(field))
        .collect()
}

#[test]
fn seed_renames_are_reported_with_evidence() {
    let Some(d) = seed_diff() else { return };
    let renames: Vec<(&str, &str, &str)> = d["renamed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["from"].as_str().unwrap(),
                r["to"].as_str().unwrap(),
                r["evidence"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        renames,
        [
            ("Microsoft Flow", "Power Automate", "formerly"),
            (
                "Cloud App Security",
                "Microsoft Defender for Cloud Apps",
                "alias"
            ),
            (
                "Windows Defender ATP",
                "Microsoft Defender for Endpoint",
                "alias"
            ),
        ]
    );
    assert!(
        d["renamed"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["confidence"] == 1.0)
    );
}

#[test]
fn seed_additions_and_removals() {
    let Some(d) = seed_diff() else { return };
    assert_eq!(names(&d, "removed", "service"), ["Genomics"]);
    let added = names(&d, "added", "service");
    for expected in [
        "Power BI Embedded",
        "Power Virtual Agents",
        "Microsoft Translator",
        "Windows 365",
    ] {
        assert!(added.contains(&expected), "{expected} not in {added:?}");
    }
    // Renamed, re-spelled and translated services are not additions.
    for not_added in [
        "Power Automate",
        "Microsoft Defender for Endpoint",
        "Microsoft Managed Desktop",
        "Microsoft Graph",
    ] {
        assert!(!added.contains(&not_added), "{not_added} reported as added");
    }
    // The 2023 page's new Office 365 table is reported per environment.
    let table_adds = d["added"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["environment"] == "GCC High")
        .count();
    assert!(table_adds > 10);
    // The text export carries no link targets: links are not compared, and say so.
    assert_eq!(d["links"].as_array().unwrap().len(), 0);
    assert!(
        d["warnings"][0]
            .as_str()
            .unwrap()
            .contains("links not compared")
    );
}

#[test]
fn seed_pages_parse_with_locale_and_date() {
    let Some(shared) = common::shared() else {
        return;
    };
    for (seed, locale, published, first) in [
        (
            "000_c2ccf460ba8d7d5b.txt",
            Value::from("ja-jp"),
            "2020-01-29",
            "Azure、Azure Government、Azure Germany",
        ),
        (
            "002_569c391c3c9965dd.txt",
            Value::Null,
            "2023-05-19",
            "Azure, Azure Government, and Azure Germany",
        ),
    ] {
        let out = common::bin()
            .arg("parse")
            .arg(shared.join("seeds").join(seed))
            .args(["--format", "json"])
            .output()
            .unwrap();
        assert!(out.status.success());
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["locale"], locale, "{seed}");
        assert_eq!(v["published"], published, "{seed}");
        let scope = &v["scopes"][0];
        assert!(scope["environment"].is_null());
        assert_eq!(scope["items"][0]["text"], first);
        assert_eq!(
            scope["items"][0]["services"],
            serde_json::json!(["Azure", "Azure Government", "Azure Germany"])
        );
    }
}
