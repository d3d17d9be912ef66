//! Pages as learn.microsoft.com serves them (the 2021 and the current
//! template, and the Markdown form), and scope-matrix pages read through
//! extraction profiles.

use scopewatch_core::canon::AliasTable;
use scopewatch_core::diff::{Change, Differ};
use scopewatch_core::model::{PageForm, Snapshot};
use scopewatch_core::read_snapshot;

const CURRENT: &str = include_str!("fixtures/learn/current-template.html");
const OLD: &str = include_str!("fixtures/learn/template-2021.html");
const MARKDOWN: &str = include_str!("fixtures/learn/current-template.md");

fn services(s: &Snapshot) -> Vec<String> {
    s.entries().map(|e| e.service.name().to_string()).collect()
}

#[test]
fn the_current_template_reads_both_content_parts_and_no_chrome() {
    let s = read_snapshot("current.html", CURRENT.as_bytes()).unwrap();
    assert_eq!(s.form, PageForm::Html);
    assert_eq!(
        s.title.as_deref(),
        Some("Cloud Security Alliance STAR Certification")
    );
    assert_eq!(
        services(&s),
        [
            "Azure",
            "Azure Government",
            "Azure China",
            "Dynamics 365",
            "Microsoft Defender for Cloud Apps",
            "Microsoft Intune",
            "Power Apps",
            "Power Automate",
            "Power BI"
        ]
    );
    assert_eq!(s.links.len(), 1);
    let first = s.body.lines().next().unwrap_or_default();
    assert!(
        first.ends_with("Cloud Security Alliance STAR Certification"),
        "{first}"
    );
    assert!(s.body.contains("accredited auditor grades"));
    for chrome in [
        "In this article",
        "Copy Markdown",
        "Feedback",
        "Additional resources",
        "Last updated",
    ] {
        assert!(!s.body.contains(chrome), "{chrome} read as article text");
    }
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
}

#[test]
fn a_calculated_date_is_the_build_date_not_the_content_date() {
    let s = read_snapshot("current.html", CURRENT.as_bytes()).unwrap();
    // The page shows 2025-11-24, marked calculated; the author's date is ms.date.
    assert_eq!(s.published.unwrap().to_string(), "2025-06-03");
    let old = read_snapshot("2021.html", OLD.as_bytes()).unwrap();
    assert_eq!(old.published.unwrap().to_string(), "2021-06-15");
}

#[test]
fn the_page_names_its_source_commit_document_and_markdown_form() {
    let s = read_snapshot("current.html", CURRENT.as_bytes()).unwrap();
    let p = &s.provenance;
    assert_eq!(
        p.commit.as_deref(),
        Some("3f6b2a9d0c1e4f5a6b7c8d9e0f1a2b3c4d5e6f70")
    );
    assert_eq!(
        p.document_id.as_deref(),
        Some("5a1f0c3e-7d2b-4e19-9c6a-2b8f41d07e55")
    );
    assert!(
        p.markdown_url
            .as_deref()
            .unwrap()
            .ends_with("?accept=text/markdown")
    );
    // The 2021 template has no git_commit_id tag, but names the document.
    let old = read_snapshot("2021.html", OLD.as_bytes()).unwrap();
    assert_eq!(old.provenance.commit, None);
    assert_eq!(old.provenance.document_id, p.document_id);
    let md = read_snapshot("current.md", MARKDOWN.as_bytes()).unwrap();
    assert_eq!(md.provenance.commit, p.commit);
    assert_eq!(md.provenance.document_id, p.document_id);
}

#[test]
fn both_templates_and_the_markdown_form_diff_as_one_page() {
    let old = read_snapshot("2021.html", OLD.as_bytes()).unwrap();
    let new = read_snapshot("current.html", CURRENT.as_bytes()).unwrap();
    let md = read_snapshot("current.md", MARKDOWN.as_bytes()).unwrap();
    let aliases = AliasTable::builtin();
    let differ = Differ::new(&aliases);
    let changes = differ.diff(&old, &new).changes;
    let added: Vec<String> = changes
        .iter()
        .filter_map(|c| match c {
            Change::Added(e) => Some(e.service.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(added, ["Power Apps"]);
    assert!(
        changes.iter().any(
            |c| matches!(c, Change::Renamed(r) if r.to == "Microsoft Defender for Cloud Apps")
        ),
        "{changes:?}"
    );
    assert!(
        !changes.iter().any(|c| matches!(c, Change::Removed(_))),
        "{changes:?}"
    );
    let same = differ.diff(&new, &md);
    assert!(
        !same.changes.iter().any(Change::is_scope_change),
        "{:?}",
        same.changes
    );
}

mod matrix {
    use std::collections::BTreeSet;

    use scopewatch_core::canon::{AliasTable, ServiceKey};
    use scopewatch_core::diff::{Change, Differ};
    use scopewatch_core::model::Snapshot;
    use scopewatch_core::profile::{Extraction, builtin, read};

    use crate::common;

    fn aws() -> Extraction {
        builtin("aws-services-in-scope").expect("built in")
    }

    /// Every (level, service) a snapshot ticks.
    fn ticked(s: &Snapshot) -> BTreeSet<(String, ServiceKey)> {
        s.entries()
            .map(|e| {
                (
                    e.environment.unwrap_or_default().to_string(),
                    ServiceKey::of(e.service.name()),
                )
            })
            .collect()
    }

    #[test]
    fn every_aws_version_in_the_corpus() {
        let Some(shared) = common::shared() else {
            return;
        };
        let dir = shared.join("corpus/aws/services-in-scope");
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "html"))
            .collect();
        files.sort();
        assert_eq!(files.len(), 5, "{}", dir.display());
        let aliases = AliasTable::builtin();
        let differ = Differ::new(&aliases);
        let mut versions = Vec::new();
        for file in &files {
            let bytes = std::fs::read(file).unwrap();
            let s = read(&file.display().to_string(), &bytes, &aws()).unwrap();
            let programs: BTreeSet<&str> = s.scopes.iter().map(|s| s.section.as_str()).collect();
            assert!(programs.len() >= 12, "{programs:?}");
            for program in [
                "SOC",
                "PCI",
                "FedRAMP",
                "DoD CC SRG",
                "HIPAA BAA",
                "IRAP",
                "C5",
            ] {
                assert!(
                    programs.contains(program),
                    "{program} missing from {}",
                    file.display()
                );
            }
            for scope in &s.scopes {
                assert!(
                    scope.items.len() >= 3,
                    "{:?} in {} lists {} services",
                    scope.environment,
                    file.display(),
                    scope.items.len()
                );
            }
            assert!(differ.diff(&s, &s).changes.is_empty());
            versions.push(s);
        }
        let mut reported = 0;
        for pair in versions.windows(2) {
            let (old, new) = (&pair[0], &pair[1]);
            let diff = differ.diff(old, new);
            let (was, now) = (ticked(old), ticked(new));
            let mut said: BTreeSet<(String, ServiceKey)> = BTreeSet::new();
            for change in &diff.changes {
                match change {
                    Change::Added(e) | Change::Removed(e) => {
                        said.insert((
                            e.environment.clone().unwrap_or_default(),
                            ServiceKey::of(&e.service),
                        ));
                    }
                    Change::Renamed(r) => {
                        for name in [&r.from, &r.to] {
                            said.insert((
                                r.environment.clone().unwrap_or_default(),
                                ServiceKey::of(name),
                            ));
                        }
                    }
                    Change::Moved(m) => {
                        for level in [&m.from, &m.to] {
                            said.insert((
                                level.clone().unwrap_or_default(),
                                ServiceKey::of(&m.service),
                            ));
                        }
                    }
                    _ => {}
                }
            }
            for gone in was.symmetric_difference(&now) {
                assert!(said.contains(gone), "{gone:?} changed but was not reported");
                reported += 1;
            }
        }
        assert!(reported > 0, "the five versions differ somewhere");
        // January 19 to 21: one service joined HIPAA BAA, and nothing else moved.
        let first = differ.diff(&versions[0], &versions[1]);
        let added: Vec<_> = first
            .changes
            .iter()
            .filter_map(|c| match c {
                Change::Added(e) => e.environment.as_deref(),
                _ => None,
            })
            .collect();
        assert_eq!(added, ["HIPAA BAA"], "{:?}", first.changes);
    }
}

mod profiles {
    use scopewatch_core::canon::AliasTable;
    use scopewatch_core::diff::{Change, Differ};
    use scopewatch_core::model::Snapshot;
    use scopewatch_core::profile::{builtin, read};

    use crate::common;

    const AWS_1: &str = include_str!("fixtures/providers/aws-services-in-scope-1.html");
    const AWS_2: &str = include_str!("fixtures/providers/aws-services-in-scope-2.html");
    const AZURE: &str = include_str!("fixtures/providers/azure-compliance-scope.md");

    fn level<'a>(s: &'a Snapshot, name: &str) -> Vec<&'a str> {
        s.scopes
            .iter()
            .filter(|sc| sc.environment.as_deref() == Some(name))
            .flat_map(|sc| {
                sc.items
                    .iter()
                    .flat_map(|i| i.services.iter().map(|x| x.name()))
            })
            .collect()
    }

    fn aws(page: &str) -> Snapshot {
        read(
            "aws.html",
            page.as_bytes(),
            &builtin("aws-services-in-scope").unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn aws_tabs_give_a_scope_per_program_and_level() {
        let s = aws(AWS_1);
        assert_eq!(
            s.title.as_deref(),
            Some("AWS Services in Scope by Compliance Program")
        );
        let levels: Vec<_> = s
            .scopes
            .iter()
            .filter_map(|sc| sc.environment.as_deref())
            .collect();
        assert_eq!(
            levels,
            [
                "SOC 1,2,3",
                "FedRAMP Moderate (East/West)",
                "FedRAMP High (GovCloud)",
                "DoD CC SRG IL2 (East/West)",
                "DoD CC SRG IL2 (GovCloud)",
                "DoD CC SRG IL4 (GovCloud)",
                "DoD CC SRG IL5 (GovCloud)",
                "DoD CC SRG IL6 (AWS Secret Region)",
                "HIPAA BAA"
            ]
        );
        // The SDK column is no level, and an empty cell is no tick.
        assert_eq!(level(&s, "SOC 1,2,3").len(), 5);
        assert_eq!(
            level(&s, "DoD CC SRG IL6 (AWS Secret Region)"),
            ["Amazon DynamoDB", "Amazon Simple Storage Service (S3)"]
        );
        assert!(!level(&s, "FedRAMP High (GovCloud)").contains(&"Amazon SageMaker"));
        assert_eq!(s.scopes[1].section, "FedRAMP");
    }

    #[test]
    fn aws_changes_are_reported_per_program_and_level() {
        let aliases = AliasTable::builtin();
        let differ = Differ::new(&aliases);
        let (old, new) = (aws(AWS_1), aws(AWS_2));
        let diff = differ.diff(&old, &new);
        let mut lines: Vec<String> = diff
            .changes
            .iter()
            .map(|c| match c {
                Change::Added(e) => format!(
                    "{}: added {}",
                    e.environment.as_deref().unwrap_or(""),
                    e.service
                ),
                Change::Removed(e) => format!(
                    "{}: removed {}",
                    e.environment.as_deref().unwrap_or(""),
                    e.service
                ),
                Change::Moved(m) => format!(
                    "moved {}: {} -> {}",
                    m.service,
                    m.from.as_deref().unwrap_or("page-wide list"),
                    m.to.as_deref().unwrap_or("page-wide list")
                ),
                Change::Reworded(r) => format!(
                    "{}: reworded {}",
                    r.environment.as_deref().unwrap_or(""),
                    r.to
                ),
                other => format!("{other:?}"),
            })
            .collect();
        lines.sort();
        assert_eq!(
            lines,
            [
                "DoD CC SRG IL5 (GovCloud): removed AWS Lambda",
                "FedRAMP High (GovCloud): added Amazon Bedrock",
                "FedRAMP High (GovCloud): added Amazon SageMaker",
                "HIPAA BAA: reworded Amazon WorkSpaces [excludes WorkSpaces Web]",
            ]
        );
        let note = new
            .scopes
            .iter()
            .flat_map(|s| &s.items)
            .find_map(|i| i.note.as_deref());
        assert_eq!(note, Some("excludes WorkSpaces Web"));
        assert!(differ.diff(&new, &new).changes.is_empty());
    }

    #[test]
    fn diff_with_a_profile_names_program_and_level() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/providers/");
        let out = common::bin()
            .args(["diff", "--exit-code", "--profile", "aws-services-in-scope"])
            .arg(format!("{dir}aws-services-in-scope-1.html"))
            .arg(format!("{dir}aws-services-in-scope-2.html"))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(3), "{text}");
        assert!(
            text.contains("added     [FedRAMP High (GovCloud)] Amazon Bedrock"),
            "{text}"
        );
        assert!(
            text.contains("removed   [DoD CC SRG IL5 (GovCloud)] AWS Lambda"),
            "{text}"
        );
    }

    #[test]
    fn azure_tables_per_cloud_with_repeated_headers() {
        let s = read(
            "azure.md",
            AZURE.as_bytes(),
            &builtin("azure-compliance-scope").unwrap(),
        )
        .unwrap();
        let public_high = level(&s, "Azure public services by audit scope / FedRAMP High");
        assert_eq!(
            public_high,
            [
                "API Management",
                "Azure Bastion",
                "Azure Kubernetes Service (AKS)",
                "Azure OpenAI",
                "Key Vault"
            ]
        );
        assert!(
            !level(&s, "Azure public services by audit scope / DoD IL2").contains(&"Azure OpenAI")
        );
        assert_eq!(
            level(&s, "Azure Government services by audit scope / DoD IL6"),
            ["Key Vault"]
        );
        assert_eq!(
            level(&s, "Azure Government services by audit scope / DoD IL5").len(),
            3
        );
        assert!(
            s.entries().all(|e| e.service.name() != "Service"),
            "a repeated header row is no service"
        );
    }

    #[test]
    fn a_profile_declared_in_the_configuration_reads_another_providers_page() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("scopewatch.toml");
        std::fs::write(
            &config,
            r##"
[[profile]]
name = "acme-trust"
within = "#trust-scope"
program = ".certification-name"
service_column = "Product"
marks = ["Yes"]
"##,
        )
        .unwrap();
        let page = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/providers/acme-trust.html"
        );
        let out = common::bin()
            .arg("--config")
            .arg(&config)
            .args(["parse", "--profile", "acme-trust", "--format", "json", page])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let scopes = json["scopes"].as_array().unwrap();
        let summary: Vec<(String, usize)> = scopes
            .iter()
            .map(|s| {
                (
                    s["environment"].as_str().unwrap().to_string(),
                    s["items"].as_array().unwrap().len(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("ISO/IEC 27001 / EU regions".to_string(), 3),
                ("ISO/IEC 27001 / US regions".to_string(), 2),
                ("SOC 2 Type II / All regions".to_string(), 2),
            ]
        );
        assert_eq!(scopes[0]["items"][1]["services"][0], "Acme Streams");
        assert_eq!(scopes[0]["items"][1]["note"], "beta excluded");

        // A profile that cannot work is refused when the file is read.
        std::fs::write(&config, "[[profile]]\nname = \"bad\"\nwithin = \"div[\"\n").unwrap();
        let out = common::bin()
            .arg("--config")
            .arg(&config)
            .args(["parse", "--profile", "bad", page])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && err.contains("\"bad\"") && err.contains("div["),
            "{err}"
        );
    }
}
