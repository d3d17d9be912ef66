//! Signs that a new version of a page is its last good version cut short
//! or mostly emptied, rather than a real change.
//!
//! An HTML page that never closes `</html>` shows its own truncation (see
//! [`crate::parse::html::looks_truncated`]). A Markdown or text page has no
//! closing tag, and real pages often end without a final newline, so a cut
//! one is recognised by comparing it with the last good version of the same
//! page: it ends inside an item that version lists in full, it stops before
//! sections that version had, it is much shorter in the same shape, or most
//! of its services are gone. None of these proves a cut, so the job treats
//! them as an anomaly to confirm on the next run, never as a change at once.

use std::fmt;

use crate::model::Snapshot;

/// Why a new version looks like the last good one cut short.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CutShort {
    /// The page ends inside an item the last good version lists in full.
    EndsMidItem {
        /// The item as the page ends it.
        item: String,
    },
    /// The page stops before sections the last good version had after its
    /// last one.
    ClosingSectionsMissing {
        /// The first section the page no longer reaches.
        first_missing: String,
    },
    /// Most of the services the last good version listed are gone.
    MostServicesGone {
        /// In-scope entries (service and environment) the page lists.
        listed: usize,
        /// Those the last good version listed.
        previous: usize,
    },
    /// The page is less than half as long as the last good version, in the
    /// same form and shape, and lists less.
    MuchShorter {
        /// The page's size.
        bytes: usize,
        /// The last good version's size.
        previous: usize,
    },
}

impl fmt::Display for CutShort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CutShort::EndsMidItem { item } => write!(
                f,
                "the page ends inside the item \"{item}\", which the last good version lists in full"
            ),
            CutShort::ClosingSectionsMissing { first_missing } => write!(
                f,
                "the page stops before its closing sections (\"{first_missing}\" and after are missing)"
            ),
            CutShort::MostServicesGone { listed, previous } => write!(
                f,
                "the page lists {listed} in-scope entries where the last good version listed {previous}"
            ),
            CutShort::MuchShorter { bytes, previous } => write!(
                f,
                "the page is {bytes} bytes where the last good version was {previous}"
            ),
        }
    }
}

/// Compares a new version (`bytes` long) with the last good one
/// (`previous_bytes` long) and returns the first sign that it was cut
/// short, if any. A version that lists nothing less than the last good one
/// is never suspect.
pub fn cut_short(
    previous: &Snapshot,
    previous_bytes: usize,
    new: &Snapshot,
    bytes: usize,
) -> Option<CutShort> {
    let listed = new.entries().count();
    let listed_before = previous.entries().count();
    if listed >= listed_before && new.links.len() >= previous.links.len() {
        return None;
    }
    if let Some(item) = ends_mid_item(previous, new) {
        return Some(CutShort::EndsMidItem { item });
    }
    let (sections, sections_before) = (sections(new), sections(previous));
    let same_shape = sections_before.starts_with(&sections);
    if same_shape && sections.len() < sections_before.len() {
        return Some(CutShort::ClosingSectionsMissing {
            first_missing: sections_before[sections.len()].to_string(),
        });
    }
    if listed * 2 < listed_before {
        return Some(CutShort::MostServicesGone {
            listed,
            previous: listed_before,
        });
    }
    if same_shape && new.form == previous.form && bytes * 2 < previous_bytes {
        return Some(CutShort::MuchShorter {
            bytes,
            previous: previous_bytes,
        });
    }
    None
}

/// The page's last item, when the page ends with it and it is the start of
/// a longer item the last good version lists in the same section.
fn ends_mid_item(previous: &Snapshot, new: &Snapshot) -> Option<String> {
    let scope = new.scopes.last()?;
    let item = scope.items.last()?;
    if item.text.is_empty() || !new.body.trim_end().ends_with(&item.text) {
        return None;
    }
    previous
        .scopes
        .iter()
        .filter(|s| s.section == scope.section && s.environment == scope.environment)
        .flat_map(|s| &s.items)
        .any(|old| old.text.len() > item.text.len() && old.text.starts_with(&item.text))
        .then(|| item.text.clone())
}

/// The page's scope and report sections, each once, in page order within
/// each kind.
fn sections(s: &Snapshot) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    let names = s.scopes.iter().map(|x| x.section.as_str());
    for name in names.chain(s.links.iter().map(|l| l.section.as_str())) {
        if out.last() != Some(&name) {
            out.push(name);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read_snapshot;

    const PAGE: &str = include_str!("../../../snapshots/offering-iso-27001/2020-11-02.md");

    fn read(text: &str) -> Snapshot {
        read_snapshot("page.md", text.as_bytes()).unwrap()
    }

    #[test]
    fn a_page_cut_inside_its_list_is_suspect() {
        let full = read(PAGE);
        let at = PAGE.find("in-scope").unwrap();
        let end = at + PAGE[at..].find("\n- ").unwrap() + 300;
        let cut = &PAGE[..PAGE.floor_char_boundary(end)];
        let sign = cut_short(&full, PAGE.len(), &read(cut), cut.len());
        assert!(sign.is_some(), "{cut}");
    }

    #[test]
    fn the_same_page_or_a_longer_one_is_not_suspect() {
        let full = read(PAGE);
        assert_eq!(cut_short(&full, PAGE.len(), &full, PAGE.len()), None);
        let grown = PAGE.replace("- Intune\n", "- Intune\n- Windows 365\n");
        assert_eq!(
            cut_short(&full, PAGE.len(), &read(&grown), grown.len()),
            None
        );
    }

    #[test]
    fn one_service_removed_is_not_suspect() {
        let full = read(PAGE);
        let fewer = PAGE.replace("- Intune\n", "");
        assert_ne!(fewer, PAGE);
        assert_eq!(
            cut_short(&full, PAGE.len(), &read(&fewer), fewer.len()),
            None
        );
    }
}
