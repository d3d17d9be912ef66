//! Finding the scope in a parsed page: the in-scope service lists, the
//! applicability tables (environment → services) and the audit report and
//! certificate links.
//!
//! Sections are recognised by their anchors first (localized pages keep the
//! English anchors of the source), then by heading words in the languages
//! Microsoft publishes, and applicability tables by their shape, so a page in
//! Japanese or French is read as well as one in English.

use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, MatchKind};

use crate::canon::{ItemParts, clean, split_item};
use crate::model::{Link, Scope, ScopeItem, Snapshot};
use crate::parse::{Block, Document, Inline, ListItem};

/// What a section holds, as far as scope is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    InScope,
    Reports,
    Other,
}

const IN_SCOPE_WORDS: &[&str] = &[
    "in-scope",
    "in scope",
    "対象となる",
    "対象の",
    "対象サービス",
    "適用範囲",
    "范围内",
    "範圍內",
    "适用范围",
    "concerné",
    "dans l'étendue",
    "dans le champ",
    "im geltungsbereich",
    "betroffene",
    "en el ámbito",
    "dentro del ámbito",
    "nell'ambito",
    "no escopo",
    "dentro do escopo",
    "범위 내",
    "범위에",
    "binnen het bereik",
    "in het bereik",
    "w zakresie",
    "kapsamında",
    "в области",
    "omfattas",
    "omfattade",
];

const REPORT_WORDS: &[&str] = &[
    "audit",
    "report",
    "certificat",
    "assessment",
    "attestation",
    "監査",
    "レポート",
    "証明書",
    "評価",
    "rapport",
    "bericht",
    "prüf",
    "zertifikat",
    "informe",
    "certificado",
    "relatório",
    "relazion",
    "报告",
    "审核",
    "報告",
    "證書",
    "보고서",
    "감사",
    "인증서",
    "raport",
    "certyfikat",
    "verslag",
    "certificaat",
];

/// Header words of an applicability table's first column.
const APPLICABILITY_WORDS: &[&str] = &[
    "applicability",
    "適用",
    "applicabilité",
    "anwendbarkeit",
    "aplicabilidad",
    "applicabilità",
    "aplicabilidade",
    "适用",
    "適用性",
    "적용",
    "toepasselijkheid",
    "zastosowanie",
];

/// Row labels of applicability tables. They stay in English in localized pages.
const ENVIRONMENTS: &[&str] = &[
    "commercial",
    "gcc",
    "gcc high",
    "dod",
    "office 365",
    "client",
    "government",
    "azure",
    "azure government",
    "microsoft 365",
];

/// The words above, each list found in one pass over a heading rather than
/// one search per word (headings are classified on every page).
static IN_SCOPE_FINDER: LazyLock<AhoCorasick> =
    LazyLock::new(|| crate::word_finder(IN_SCOPE_WORDS, MatchKind::Standard));
static REPORT_FINDER: LazyLock<AhoCorasick> =
    LazyLock::new(|| crate::word_finder(REPORT_WORDS, MatchKind::Standard));

fn classify(text: &str, anchor: Option<&str>) -> Kind {
    let text = clean(text).to_lowercase();
    if text.ends_with('?') || text.ends_with('？') {
        return Kind::Other;
    }
    let anchor = anchor.unwrap_or("").to_lowercase();
    let scope_anchor = anchor.contains("in-scope")
        || anchor.contains("inscope")
        || anchor.contains("scope")
            && ["service", "platform", "cloud"]
                .iter()
                .any(|w| anchor.contains(w));
    if scope_anchor || IN_SCOPE_FINDER.is_match(&text) {
        return Kind::InScope;
    }
    let report_anchor = ["audit", "report", "certificat", "assessment", "attestation"]
        .iter()
        .any(|w| anchor.contains(w));
    if report_anchor || REPORT_FINDER.is_match(&text) {
        return Kind::Reports;
    }
    Kind::Other
}

struct Heading {
    level: u8,
    text: String,
    anchor: Option<String>,
    own: Kind,
    effective: Kind,
}

/// Extracts a snapshot from a parsed page.
pub fn snapshot(doc: Document) -> Snapshot {
    let mut stack: Vec<Heading> = Vec::new();
    let mut scopes = Vec::new();
    let mut links = Vec::new();
    let mut body = String::new();

    for block in &doc.blocks {
        body_lines(block, &mut body);
        if let Block::Heading {
            level,
            text,
            anchor,
        } = block
        {
            while stack.last().is_some_and(|h| h.level >= *level) {
                stack.pop();
            }
            // The page title names the certification ("... audit reports")
            // and says nothing about which section is which.
            let own = if *level <= 1 {
                Kind::Other
            } else {
                classify(text, anchor.as_deref())
            };
            let inherited = stack.last().map_or(Kind::Other, |h| h.effective);
            stack.push(Heading {
                level: *level,
                text: text.clone(),
                anchor: anchor.clone(),
                own,
                effective: if own == Kind::Other { inherited } else { own },
            });
            continue;
        }
        let kind = stack.last().map_or(Kind::Other, |h| h.effective);
        let section = || {
            stack.last().map_or((String::new(), None), |h| {
                (h.text.clone(), h.anchor.clone())
            })
        };
        match (block, kind) {
            (Block::Table { header, rows }, kind)
                if kind == Kind::InScope || is_applicability(header, rows) =>
            {
                let (section, anchor) = section();
                scopes.extend(table_scopes(&section, anchor.as_deref(), rows));
            }
            (Block::Paragraph(inline), Kind::InScope) if is_link_only(inline) => {
                // Some pages give their only in-scope entry as a bare link
                // line instead of a one-item list.
                let item = ListItem {
                    content: inline.clone(),
                    children: Vec::new(),
                };
                let (section, anchor) = section();
                scopes.push(Scope {
                    section,
                    anchor,
                    environment: None,
                    items: vec![list_item(&item)],
                });
            }
            (Block::List(items), Kind::InScope) => {
                let items: Vec<ScopeItem> = items.iter().map(list_item).collect();
                if !items.is_empty() {
                    let (section, anchor) = section();
                    scopes.push(Scope {
                        section,
                        anchor,
                        environment: None,
                        items,
                    });
                }
            }
            (block, Kind::Reports) => {
                let path = report_path(&stack);
                for inline in inlines(block) {
                    links.extend(inline.links.iter().map(|l| Link {
                        section: path.clone(),
                        title: l.text.clone(),
                        url: l.url.clone(),
                    }));
                }
            }
            _ => {}
        }
    }

    let mut warnings = doc.warnings;
    if doc.truncated {
        warnings.push("the page looks truncated: it never closes </html>".into());
    }
    let snapshot_has_scope = scopes
        .iter()
        .any(|s| s.items.iter().any(|i| !i.services.is_empty()));
    if !snapshot_has_scope {
        warnings.push("no in-scope services found: the page has no in-scope section, or its layout is not recognised".into());
    }
    Snapshot {
        title: doc.title,
        locale: doc.locale,
        published: doc.published,
        form: doc.form,
        scopes,
        links,
        includes: doc.includes,
        warnings,
        body: body.strip_prefix('\n').map(str::to_string).unwrap_or(body),
        truncated: doc.truncated,
        provenance: doc.provenance,
        read_with: None,
    }
}

/// "Audits, reports, and certificates / Azure": the headings from the
/// outermost report section down.
fn report_path(stack: &[Heading]) -> String {
    let start = stack
        .iter()
        .position(|h| h.own == Kind::Reports)
        .unwrap_or(stack.len().saturating_sub(1));
    stack[start..]
        .iter()
        .map(|h| h.text.as_str())
        .collect::<Vec<_>>()
        .join(" / ")
}

fn list_item(item: &ListItem) -> ScopeItem {
    let mut parts = split_item(&item.content.text);
    // Nested bullets under an item (regions, service portions) qualify it.
    let mut notes: Vec<String> = parts.note.take().into_iter().collect();
    notes.extend(
        flatten(&item.children)
            .into_iter()
            .map(|c| c.content.text.clone()),
    );
    parts.note = (!notes.is_empty()).then(|| notes.join("; "));
    scope_item(item.content.text.clone(), parts)
}

/// The item whose visible text is `text`, read as `parts`.
fn scope_item(text: String, parts: ItemParts) -> ScopeItem {
    ScopeItem {
        text,
        services: parts.services,
        formerly: parts.formerly,
        note: parts.note,
        included: parts.included,
        included_in: parts.included_in,
    }
}

/// A paragraph made of nothing but links.
fn is_link_only(inline: &Inline) -> bool {
    let alnum = |t: &str| {
        t.chars()
            .filter(|c| c.is_alphanumeric())
            .collect::<String>()
    };
    !inline.links.is_empty()
        && alnum(&inline.text)
            == inline
                .links
                .iter()
                .map(|l| alnum(&l.text))
                .collect::<String>()
}

fn flatten(items: &[ListItem]) -> Vec<&ListItem> {
    items
        .iter()
        .flat_map(|i| std::iter::once(i).chain(flatten(&i.children)))
        .collect()
}

/// A two-column table whose first column names environments.
fn is_applicability(header: &[Inline], rows: &[Vec<Inline>]) -> bool {
    if header.len() < 2 && rows.first().is_none_or(|r| r.len() < 2) {
        return false;
    }
    let header_says = header.first().is_some_and(|h| {
        let h = clean(&h.text).to_lowercase();
        APPLICABILITY_WORDS.iter().any(|w| h.contains(w))
    });
    let labelled = rows
        .iter()
        .filter(|r| {
            r.first()
                .is_some_and(|c| environments(&c.text).iter().all(|e| is_environment(e)))
        })
        .count();
    header_says || (!rows.is_empty() && labelled * 2 > rows.len())
}

fn is_environment(label: &str) -> bool {
    ENVIRONMENTS.contains(&label.to_lowercase().as_str())
}

/// "Office 365, GCC, GCC High, DoD" labels a row for four environments.
fn environments(label: &str) -> Vec<String> {
    clean(label)
        .split([',', '、', '/'])
        .map(|s| s.trim().trim_start_matches("and ").trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

fn table_scopes(section: &str, anchor: Option<&str>, rows: &[Vec<Inline>]) -> Vec<Scope> {
    // A row broken by a stray line break in the source shows up as a row
    // whose "label" continues the previous row's list: mend it.
    let mut merged: Vec<(String, String)> = Vec::new();
    for row in rows {
        let label = row.first().map(|c| c.text.clone()).unwrap_or_default();
        let cells: Vec<&str> = row[1.min(row.len())..]
            .iter()
            .map(|c| c.text.as_str())
            .filter(|t| !t.is_empty())
            .collect();
        let continues = label.starts_with([',', '、', ';'])
            || label.starts_with(char::is_lowercase)
            || !environments(&label).iter().all(|e| is_environment(e));
        match merged.last_mut() {
            Some((_, services)) if continues && cells.is_empty() => {
                services.push_str(", ");
                services.push_str(label.trim_start_matches([',', '、', ';', ' ']));
            }
            _ if !label.is_empty() => merged.push((label, cells.join(", "))),
            _ => {}
        }
    }

    let mut scopes = Vec::new();
    for (label, services) in merged {
        let items: Vec<ScopeItem> = split_cell(&services)
            .into_iter()
            .map(|piece| {
                let parts = split_item(&piece);
                scope_item(piece, parts)
            })
            .collect();
        for environment in environments(&label) {
            scopes.push(Scope {
                section: section.to_string(),
                anchor: anchor.map(str::to_string),
                environment: Some(environment),
                items: items.clone(),
            });
        }
    }
    scopes
}

/// Splits a table cell's service list at top-level commas; commas inside
/// parentheses belong to a qualifier ("Microservices (including Kaizala, ...)").
///
/// A cell whose parentheses never close again had a separator turned into
/// an opening inside an "including" list ("StaffHub（可扩展应用程序计划）、
/// Office Online" for "StaffHub, eXtensible Application Program), Office
/// Online"): there an opening inside an open parenthesis is read as a
/// separator, so the list ends where its translator closed it.
///
/// A separator written just inside a closing parenthesis ("StaffHub、)
/// Office Online") is the one that belongs after it: the parenthesis ends
/// the piece, and the name after it starts the next.
fn split_cell(text: &str) -> Vec<String> {
    const SEPARATORS: [char; 4] = [',', '、', '，', ';'];
    let unclosed = text.chars().fold(0i32, |depth, c| match c {
        '(' | '（' => depth + 1,
        ')' | '）' => (depth - 1).max(0),
        _ => depth,
    }) > 0;
    let mut pieces = Vec::new();
    let mut depth = 0i32;
    let mut current = String::new();
    for c in text.chars() {
        match c {
            '(' | '（' if unclosed && depth > 0 => {
                current.push('、');
                continue;
            }
            '(' | '（' => depth += 1,
            ')' | '）' => {
                depth = (depth - 1).max(0);
                if depth == 0 && current.trim_end().ends_with(SEPARATORS) {
                    current.push(c);
                    pieces.push(std::mem::take(&mut current));
                    continue;
                }
            }
            c if depth == 0 && SEPARATORS.contains(&c) => {
                pieces.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    pieces.push(current);
    pieces
        .into_iter()
        .map(|p| clean(&p))
        .map(|p| p.strip_prefix("and ").map(str::to_string).unwrap_or(p))
        .filter(|p| !p.is_empty())
        .collect()
}

fn inlines(block: &Block) -> Vec<&Inline> {
    match block {
        Block::Paragraph(inline) => vec![inline],
        Block::List(items) => flatten(items).into_iter().map(|i| &i.content).collect(),
        Block::Table { header, rows } => header.iter().chain(rows.iter().flatten()).collect(),
        Block::Heading { .. } => Vec::new(),
    }
}

/// Appends the visible text of a block to `out` for the body text diff, each
/// line after a line break (the caller drops the first).
fn body_lines(block: &Block, out: &mut String) {
    let mut line = |parts: &[&str]| {
        out.push('\n');
        for part in parts {
            out.push_str(part);
        }
    };
    match block {
        Block::Heading { level, text, .. } => {
            line(&["#".repeat(usize::from(*level)).as_str(), " ", text]);
        }
        Block::Paragraph(inline) => line(&[&inline.text]),
        Block::List(items) => {
            for item in flatten(items) {
                line(&["- ", &item.content.text]);
            }
        }
        Block::Table { header, rows } => {
            for row in std::iter::once(header).chain(rows) {
                let cells: Vec<&str> = row.iter().map(|c| c.text.as_str()).collect();
                line(&[&cells.join(" | ")]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse_str;

    fn services(s: &Snapshot, env: Option<&str>) -> Vec<String> {
        s.entries()
            .filter(|e| e.environment == env)
            .map(|e| e.service.name().to_string())
            .collect()
    }

    #[test]
    fn localized_sections_found_by_anchor() {
        let s = snapshot(parse_str(
            "# Titre\n\n## <a name=\"microsoft-in-scope-cloud-services\"></a>Services cloud\n\n- Azure\n- Intune\n\n## <a name=\"audits-reports-and-certificates\"></a>Audits\n\n### Azure\n\n- [Certificat Azure](https://example.com/c)\n",
        ));
        assert_eq!(services(&s, None), ["Azure", "Intune"]);
        assert_eq!(s.links.len(), 1);
        assert_eq!(s.links[0].section, "Audits / Azure");
        assert_eq!(s.links[0].url.as_deref(), Some("https://example.com/c"));
    }

    #[test]
    fn applicability_table_by_shape_and_broken_rows_mended() {
        let s = snapshot(parse_str(
            "# T\n\n## Office 365\n\n| **Applicability** | **In-scope services** |\n|:--|:--|\n| **GCC** | Exchange Online, \n, Forms, Office 365 Microservices (including Kaizala, Sway) |\n| Office 365, GCC High | Planner, \nSharePoint Online, Sway |\n",
        ));
        assert_eq!(
            services(&s, Some("GCC")),
            [
                "Exchange Online",
                "Forms",
                "Office 365 Microservices",
                "Kaizala",
                "Sway"
            ]
        );
        assert_eq!(
            services(&s, Some("Office 365")),
            ["Planner", "SharePoint Online", "Sway"]
        );
        assert_eq!(
            services(&s, Some("GCC High")),
            ["Planner", "SharePoint Online", "Sway"]
        );
    }

    #[test]
    fn an_including_list_left_open_ends_where_its_translator_closed_it() {
        let s = snapshot(parse_str(
            "# T\n\n## Office 365\n\n| **适用范围** | **范围内服务** |\n|:--|:--|\n| **Office 365** | Delve、Office 365 微服务（包括但不限于 Kaizala、Sway、StaffHub（可扩展应用程序计划）、Office Online、Planner |\n",
        ));
        assert_eq!(
            services(&s, Some("Office 365")),
            [
                "Delve",
                "Office 365 微服务",
                "Kaizala",
                "Sway",
                "StaffHub",
                "可扩展应用程序计划",
                "Office Online",
                "Planner"
            ]
        );
    }

    #[test]
    fn a_separator_inside_a_closing_parenthesis_ends_the_piece() {
        // The comma that belongs after the list is written before its close,
        // and none follows it: the next name is a piece of its own.
        let s = snapshot(parse_str(
            "# T\n\n## Office 365\n\n| **Scope** | **Services** |\n|:--|:--|\n| **GCC** | Delve, Office 365 Microservices (including Kaizala, Sway, ) Office Online, Planner |\n",
        ));
        assert_eq!(
            services(&s, Some("GCC")),
            [
                "Delve",
                "Office 365 Microservices",
                "Kaizala",
                "Sway",
                "Office Online",
                "Planner"
            ]
        );
    }

    #[test]
    fn a_bare_link_line_is_an_item_but_prose_is_not() {
        let s = snapshot(parse_str(
            "# T\n\n## Microsoft in-scope cloud services\n\n[Azure and Azure Government](https://example.com)\n\nServices in scope are shown in the [report](https://example.com/r).\n",
        ));
        assert_eq!(services(&s, None), ["Azure", "Azure Government"]);
    }

    #[test]
    fn no_scope_section_is_a_warning_not_an_error() {
        let s = snapshot(parse_str("# T\n\n## Overview\n\n- Just a list\n"));
        assert!(!s.has_scope());
        assert_eq!(s.warnings.len(), 1);
    }

    #[test]
    fn faq_questions_and_titles_do_not_classify() {
        assert_eq!(
            classify("Where can I get the audit reports?", None),
            Kind::Other
        );
        assert_eq!(
            classify("Audits, reports, and certificates", None),
            Kind::Reports
        );
        assert_eq!(
            classify("対象となる Microsoft のクラウド サービス", None),
            Kind::InScope
        );
    }
}
