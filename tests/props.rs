//! Property tests: no input makes parsing, extraction or diffing panic, and
//! a page compared with itself never changes.

use proptest::prelude::*;
use scopewatch::canon::{AliasTable, split_item};
use scopewatch::diff::Differ;
use scopewatch::ingest::read_snapshot_as;
use scopewatch::model::PageForm;

const FORMS: [Option<PageForm>; 4] = [
    None,
    Some(PageForm::Html),
    Some(PageForm::Markdown),
    Some(PageForm::Text),
];

/// Service names as pages write them, qualifiers and compounds included.
fn item() -> impl Strategy<Value = String> {
    let names = prop::sample::select(vec![
        "Azure",
        "Azure Government",
        "Microsoft Flow",
        "Power Automate (formerly Microsoft Flow)",
        "Intune",
        "Microsoft Cloud App Security",
        "Microsoft Defender for Cloud Apps",
        "Office 365 U.S. Government - High",
        "Dynamics 365、Dynamics 365 Germany",
        "Ｐｏｗｅｒ ＢＩ",
        "Windows Defender ATP: Endpoint Detection & Response",
        "See the detailed list",
        "Genomics",
        "Windows 365",
    ]);
    (names, prop::option::of("[ a-z(),.:&-]{0,30}"))
        .prop_map(|(n, q)| format!("{n}{}", q.unwrap_or_default()))
}

/// A Markdown offering page with an in-scope list, an applicability table
/// and report links.
fn page() -> impl Strategy<Value = String> {
    let env = prop::sample::select(vec!["Commercial", "GCC", "GCC High", "DoD", "Office 365"]);
    (
        prop::collection::vec(item(), 0..12),
        prop::collection::vec((env, prop::collection::vec(item(), 0..6)), 0..5),
        prop::collection::vec(("[A-Za-z ]{1,20}", "[a-z]{1,8}"), 0..4),
    )
        .prop_map(|(list, rows, links)| {
            let mut md = String::from("# Offering\n\n## Microsoft in-scope cloud services\n\n");
            for i in list {
                md.push_str(&format!("- {i}\n"));
            }
            md.push_str("\n| Applicability | In-scope services |\n|--|--|\n");
            for (env, items) in rows {
                md.push_str(&format!(
                    "| {env} | {} |\n",
                    items.join(", ").replace('|', "/")
                ));
            }
            md.push_str("\n## Audits, reports, and certificates\n\n");
            for (title, slug) in links {
                md.push_str(&format!("- [{title}](https://r.example/{slug})\n"));
            }
            md
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn any_bytes_parse_or_fail_cleanly(bytes in prop::collection::vec(any::<u8>(), 0..4096), form in 0usize..4) {
        let _ = read_snapshot_as("prop", &bytes, FORMS[form]);
    }

    #[test]
    fn any_text_parses_and_diffs(a in "\\PC{0,2000}", b in "\\PC{0,2000}", form in 0usize..4) {
        let aliases = AliasTable::builtin();
        let differ = Differ::new(&aliases);
        if let (Ok(a), Ok(b)) = (read_snapshot_as("a", a.as_bytes(), FORMS[form]), read_snapshot_as("b", b.as_bytes(), FORMS[form])) {
            let _ = differ.diff(&a, &b);
        }
    }

    #[test]
    fn any_item_splits(text in "\\PC{0,300}") {
        let parts = split_item(&text);
        prop_assert!(parts.services.iter().all(|s| !s.name().trim().is_empty()));
    }

    #[test]
    fn pages_diff_without_panicking_and_never_change_against_themselves(a in page(), b in page()) {
        let aliases = AliasTable::builtin();
        let differ = Differ::new(&aliases);
        let (a, b) = (
            read_snapshot_as("a", a.as_bytes(), None).unwrap(),
            read_snapshot_as("b", b.as_bytes(), None).unwrap(),
        );
        let _ = differ.diff(&a, &b);
        let same = differ.diff(&a, &a);
        prop_assert!(same.changes.is_empty(), "{:?}", same.changes);
    }
}
