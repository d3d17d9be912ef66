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
    assert!(first.ends_with("Cloud Security Alliance STAR Certification"), "{first}");
    assert!(s.body.contains("accredited auditor grades"));
    for chrome in ["In this article", "Copy Markdown", "Feedback", "Additional resources", "Last updated"] {
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
    assert!(p.markdown_url.as_deref().unwrap().ends_with("?accept=text/markdown"));
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
        changes.iter().any(|c| matches!(c, Change::Renamed(r) if r.to == "Microsoft Defender for Cloud Apps")),
        "{changes:?}"
    );
    assert!(!changes.iter().any(|c| matches!(c, Change::Removed(_))), "{changes:?}");
    let same = differ.diff(&new, &md);
    assert!(
        !same.changes.iter().any(Change::is_scope_change),
        "{:?}",
        same.changes
    );
}
