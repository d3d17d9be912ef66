//! Extraction profiles: how a provider's page states its scope, declared
//! rather than coded.
//!
//! Microsoft's offering pages are read by [`crate::extract`] (the built-in
//! `microsoft-offering` profile). Other providers publish a **scope
//! matrix**: one page, a table of services per compliance program, with a
//! column of check marks per level (FedRAMP Moderate and High, DoD IL2 to
//! IL6) or per cloud. A [`MatrixProfile`] says where such a page keeps its
//! tables, what names each table's program, which column is the service and
//! what counts as a check mark. Each ticked (program, column) becomes one
//! [`Scope`] whose environment names both ("FedRAMP High (GovCloud)",
//! "MTCS / Seoul"), so that every diff, history and alert works per program
//! and level unchanged.

mod html;

use std::collections::HashMap;

use crate::canon::clean;
pub use crate::model::MatrixProfile;
use crate::model::{PageForm, Scope, ScopeItem, Service, Snapshot};
use crate::parse::{self, Block};
use crate::{Error, Result};

/// How a source's page is read.
#[derive(Debug, Clone, PartialEq)]
pub enum Extraction {
    /// A Microsoft offering page: in-scope lists and applicability tables.
    Offering,
    /// A scope matrix, read as the profile says.
    Matrix(MatrixProfile),
}

/// The built-in profiles' names, for help and errors.
pub const BUILTIN: &[&str] = &[
    "microsoft-offering",
    "aws-services-in-scope",
    "azure-compliance-scope",
];

/// The built-in profile called `name`.
pub fn builtin(name: &str) -> Option<Extraction> {
    let marks = |m: &[&str]| m.iter().map(|s| s.to_string()).collect();
    match name {
        "microsoft-offering" => Some(Extraction::Offering),
        // One tab per program: an `h4.tab-title`, then its table, whose first
        // column is the service and whose ticked columns are the levels.
        "aws-services-in-scope" => Some(Extraction::Matrix(MatrixProfile {
            name: name.to_string(),
            within: None,
            program: Some(".tab-title, h2, h3".to_string()),
            service_column: None,
            marks: marks(&["✓", "✔", "✅"]),
        })),
        // Markdown tables under a heading per cloud; the columns are the
        // programs (FedRAMP High, DoD IL2 ... IL6), ticked with `&#x2705;`.
        "azure-compliance-scope" => Some(Extraction::Matrix(MatrixProfile {
            name: name.to_string(),
            within: None,
            program: None,
            service_column: Some("Service".to_string()),
            marks: marks(&["✅", "✓", "✔", ":heavy_check_mark:", ":white_check_mark:"]),
        })),
        _ => None,
    }
}

impl MatrixProfile {
    /// Checks the profile's selectors, so that a bad one is said when the
    /// configuration is read, not on the night.
    pub fn validate(&self) -> Result<()> {
        for css in [&self.within, &self.program].into_iter().flatten() {
            scraper::Selector::parse(css).map_err(|e| Error::Profile {
                name: self.name.clone(),
                why: format!("{css:?} is not a CSS selector: {e}"),
            })?;
        }
        if self.marks.iter().all(|m| m.trim().is_empty()) {
            return Err(Error::Profile {
                name: self.name.clone(),
                why: "it names no check mark (`marks`)".to_string(),
            });
        }
        Ok(())
    }

    fn is_mark(&self, cell: &str) -> bool {
        let cell = cell.trim();
        !cell.is_empty()
            && self.marks.iter().any(|mark| {
                let mark = mark.trim();
                if mark.chars().any(char::is_alphanumeric) {
                    cell.eq_ignore_ascii_case(mark)
                } else {
                    !mark.is_empty() && cell.contains(mark)
                }
            })
    }
}

/// A table, and the program the page names for it.
#[derive(Debug, Default)]
pub(crate) struct Matrix {
    pub(crate) program: String,
    pub(crate) header: Vec<String>,
    pub(crate) rows: Vec<Vec<String>>,
}

/// Reads page bytes as `extraction` says. `name` is used in errors.
pub fn read(name: &str, bytes: &[u8], extraction: &Extraction) -> Result<Snapshot> {
    match extraction {
        Extraction::Offering => crate::read_snapshot(name, bytes),
        Extraction::Matrix(profile) => read_matrix(name, bytes, profile),
    }
}

/// Reads a scope-matrix page.
pub fn read_matrix(name: &str, bytes: &[u8], profile: &MatrixProfile) -> Result<Snapshot> {
    let text = parse::checked_text(name, bytes)?;
    let form = parse::detect(&text);
    parse::guard(name, &text, form)?;
    let (head, matrices) = match form {
        PageForm::Html => html::matrices(&text, profile),
        _ => {
            let doc = parse::parse_str(&text);
            let matrices = document_matrices(&doc.blocks);
            (doc, matrices)
        }
    };
    let scopes = scopes(&matrices, profile);
    let mut warnings = head.warnings;
    if !scopes.iter().any(|s| !s.items.is_empty()) {
        warnings.push(format!(
            "no ticked services found: no table of the page matched profile {:?}",
            profile.name
        ));
    }
    let mut body = String::new();
    for scope in &scopes {
        for item in &scope.items {
            body.push_str(&format!(
                "{} | {}\n",
                scope.environment.as_deref().unwrap_or(""),
                item.text
            ));
        }
    }
    Ok(Snapshot {
        title: head.title,
        locale: head.locale,
        published: head.published,
        form,
        scopes,
        links: Vec::new(),
        includes: Vec::new(),
        warnings,
        provenance: head.provenance,
        read_with: Some(profile.clone()),
        body,
        truncated: head.truncated,
    })
}

/// The tables of a Markdown or text page, each under its nearest heading.
fn document_matrices(blocks: &[Block]) -> Vec<Matrix> {
    let mut program = String::new();
    let mut out = Vec::new();
    for block in blocks {
        match block {
            Block::Heading { text, .. } => program = text.clone(),
            Block::Table { header, rows } => out.push(Matrix {
                program: program.clone(),
                header: header.iter().map(|c| c.text.clone()).collect(),
                rows: rows
                    .iter()
                    .map(|r| r.iter().map(|c| c.text.clone()).collect())
                    .collect(),
            }),
            _ => {}
        }
    }
    out
}

/// One scope per (program, ticked column), in page order. A program split
/// over several tables (or one table with repeated header rows) is one.
fn scopes(matrices: &[Matrix], profile: &MatrixProfile) -> Vec<Scope> {
    let mut out: Vec<Scope> = Vec::new();
    // Each level's place in `out`: a page has hundreds of levels.
    let mut at_level: HashMap<String, usize> = HashMap::new();
    for m in matrices {
        let service = profile
            .service_column
            .as_deref()
            .and_then(|want| {
                m.header
                    .iter()
                    .position(|h| clean(h).eq_ignore_ascii_case(want.trim()))
            })
            .unwrap_or(0);
        let service_header = m.header.get(service).map(|h| clean(h));
        for row in &m.rows {
            let Some(cell) = row.get(service).map(|c| clean(c)) else {
                continue;
            };
            // A repeated header row lists no service.
            if cell.is_empty() || service_header.as_ref() == Some(&cell) {
                continue;
            }
            for (column, value) in row.iter().enumerate() {
                if column == service || !profile.is_mark(value) {
                    continue;
                }
                let level = level(&m.program, m.header.get(column).map_or("", String::as_str));
                let at = *at_level.entry(level).or_insert_with_key(|level| {
                    out.push(Scope {
                        section: clean(&m.program),
                        anchor: None,
                        environment: Some(level.clone()),
                        items: Vec::new(),
                    });
                    out.len() - 1
                });
                let item = row_item(&cell);
                if !out[at].items.iter().any(|i| i.services == item.services) {
                    out[at].items.push(item);
                }
            }
        }
    }
    out
}

/// The name of a (program, column): the column where it names the program
/// already ("FedRAMP High (GovCloud)"), else both ("MTCS / Seoul").
fn level(program: &str, column: &str) -> String {
    let (program, column) = (clean(program), clean(column.trim_end_matches('*')));
    if column.is_empty() {
        program
    } else if program.is_empty() || column.to_lowercase().contains(&program.to_lowercase()) {
        column
    } else {
        format!("{program} / {column}")
    }
}

/// A service cell: the name, with bracketed notes ("[excludes Public
/// Workforce and Vendor Workforce]") and footnote marks kept as the note.
fn row_item(cell: &str) -> ScopeItem {
    let mut name = String::new();
    let mut notes = Vec::new();
    let mut rest = cell;
    while let Some(open) = rest.find('[') {
        name.push_str(&rest[..open]);
        match rest[open..].find(']') {
            Some(close) => {
                notes.push(clean(&rest[open + 1..open + close]));
                rest = &rest[open + close + 1..];
            }
            None => {
                rest = &rest[open..];
                break;
            }
        }
    }
    name.push_str(rest);
    let name = clean(name.trim_end_matches(['*', ' ']));
    ScopeItem {
        text: cell.to_string(),
        services: vec![Service::new(name)],
        formerly: Vec::new(),
        note: (!notes.is_empty()).then(|| notes.join("; ")),
        included: Vec::new(),
        included_in: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aws() -> MatrixProfile {
        match builtin("aws-services-in-scope") {
            Some(Extraction::Matrix(p)) => p,
            _ => unreachable!("a matrix profile"),
        }
    }

    #[test]
    fn marks_are_symbols_anywhere_or_whole_words() {
        let mut p = aws();
        assert!(p.is_mark(" ✓ "));
        assert!(p.is_mark("✓*"));
        assert!(!p.is_mark(""));
        assert!(!p.is_mark("apigateway"));
        p.marks = vec!["Yes".into()];
        assert!(p.is_mark("yes"));
        assert!(!p.is_mark("Yes, in us-east-1 only"));
    }

    #[test]
    fn bracketed_notes_stay_notes() {
        let item = row_item("Amazon WorkSpaces [excludes Public Workforce and Vendor Workforce]");
        assert_eq!(item.services, [Service::new("Amazon WorkSpaces")]);
        assert_eq!(
            item.note.as_deref(),
            Some("excludes Public Workforce and Vendor Workforce")
        );
    }

    #[test]
    fn levels_name_program_and_column_once() {
        assert_eq!(level("HIPAA BAA", "HIPAA BAA"), "HIPAA BAA");
        assert_eq!(level("C5", ""), "C5");
        assert_eq!(
            level("FedRAMP", "FedRAMP High (GovCloud)"),
            "FedRAMP High (GovCloud)"
        );
        assert_eq!(level("MTCS", "Seoul"), "MTCS / Seoul");
    }

    #[test]
    fn a_bad_selector_is_said_with_the_profile() {
        let mut p = aws();
        p.within = Some("div[".into());
        let err = p.validate().unwrap_err().to_string();
        assert!(
            err.contains("aws-services-in-scope") && err.contains("div["),
            "{err}"
        );
    }
}
