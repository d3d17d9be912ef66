//! The domain types every stage shares: what a page says is in scope.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::Error;

/// The name of a watched page (or page and locale): the store's key and a
/// file and URL segment, so it is kept plain. Made only through
/// [`SourceId::new`], so every id in the program has been checked.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct SourceId(String);

impl SourceId {
    /// Checks `id`: letters, digits, '-', '_' and '.', starting with a letter
    /// or digit, at most 200 bytes (so never `..` or a path).
    pub fn new(id: &str) -> Result<Self, Error> {
        let ok = id.starts_with(|c: char| c.is_ascii_alphanumeric())
            && id.len() <= 200
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if ok {
            Ok(SourceId(id.to_string()))
        } else {
            Err(Error::SourceId(id.to_string()))
        }
    }

    /// The id as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An id reads as the plain string it is wherever text is wanted.
impl std::ops::Deref for SourceId {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for SourceId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for SourceId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        SourceId::new(&text).map_err(serde::de::Error::custom)
    }
}

/// The form a saved page came in. Detected from content, never from the
/// file name, because saved pages are often misnamed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PageForm {
    /// A page as served by learn.microsoft.com.
    Html,
    /// The docs source: YAML front matter, DocFX extensions, pipe tables.
    Markdown,
    /// A plain-text export: bare headings, tab-separated tables.
    Text,
}

impl PageForm {
    /// The form's name in storage and output.
    pub fn as_str(self) -> &'static str {
        match self {
            PageForm::Html => "html",
            PageForm::Markdown => "markdown",
            PageForm::Text => "text",
        }
    }

    /// The form named `name`, as [`PageForm::as_str`] writes it.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "html" => Some(PageForm::Html),
            "markdown" => Some(PageForm::Markdown),
            "text" => Some(PageForm::Text),
            _ => None,
        }
    }
}

/// What one version of an offering page says: its in-scope services per
/// section and environment, and its audit report and certificate links.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The page title.
    pub title: Option<String>,
    /// The page's locale ("en-us", "ja-jp"), when it says.
    pub locale: Option<String>,
    /// The date the page says it was last updated.
    pub published: Option<NaiveDate>,
    /// The form the page came in.
    pub form: PageForm,
    /// The in-scope lists and table rows, in page order.
    pub scopes: Vec<Scope>,
    /// Report and certificate links.
    pub links: Vec<Link>,
    /// `[!INCLUDE ...]` targets the page pulls in, as written.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub includes: Vec<String>,
    /// Problems worth a human look that did not stop extraction.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Where the page says its text comes from.
    #[serde(default, skip_serializing_if = "Provenance::is_empty")]
    pub provenance: Provenance,
    /// The scope-matrix profile the page was read with, kept with each
    /// version so that it is read again the same way; `None` for an
    /// offering page.
    #[serde(skip)]
    pub read_with: Option<MatrixProfile>,
    /// The page's visible article text, one block per line, for text diffs.
    #[serde(skip)]
    pub body: String,
    /// The page was cut off in transit; its scope cannot be trusted.
    #[serde(skip)]
    pub truncated: bool,
}

impl Snapshot {
    /// True when the page yielded at least one in-scope service. A snapshot
    /// without scope is an extraction problem, never "everything removed".
    pub fn has_scope(&self) -> bool {
        self.scopes
            .iter()
            .any(|s| s.items.iter().any(|i| !i.services.is_empty()))
    }

    /// Every in-scope service with the environment it is listed under.
    pub fn entries(&self) -> impl Iterator<Item = ScopeEntry<'_>> {
        self.scopes.iter().flat_map(|scope| {
            scope.items.iter().flat_map(move |item| {
                item.services.iter().map(move |service| ScopeEntry {
                    environment: scope.environment.as_deref(),
                    service,
                    parent: item.parent_of(service),
                    item,
                })
            })
        })
    }
}

/// Where a scope-matrix page keeps its tables and how to read them. Users
/// declare their own in `scopewatch.toml` as `[[profile]]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatrixProfile {
    /// The name sources give as `profile = "..."`.
    pub name: String,
    /// CSS selectors (HTML pages) of the element holding the tables, the
    /// first that matches; the whole page when none does.
    #[serde(default)]
    pub within: Option<String>,
    /// CSS selectors (HTML pages) of the elements that name the program of
    /// the tables after them: a tab title, a heading. Default: any heading.
    /// On a Markdown page, the nearest heading names the program.
    #[serde(default)]
    pub program: Option<String>,
    /// The header of the column that names the service (matched without
    /// regard to case); the first column when absent or not found.
    #[serde(default)]
    pub service_column: Option<String>,
    /// What counts as a check mark. A symbol counts wherever it stands in a
    /// cell; a word ("Yes") must be the whole cell.
    #[serde(default = "default_marks")]
    pub marks: Vec<String>,
}

/// The check marks the providers' pages use.
fn default_marks() -> Vec<String> {
    ["✓", "✔", "✅", ":heavy_check_mark:", ":white_check_mark:"]
        .map(String::from)
        .to_vec()
}

/// What a learn.microsoft.com page says about its own source (its meta
/// tags, or the Markdown form's front matter): which commit of which
/// document it was built from, and where its Markdown form is served.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Provenance {
    /// The source repository commit the page was built from (`git_commit_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// The site's id for the document (`document_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_id: Option<String>,
    /// The source file (`original_content_git_url`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_url: Option<String>,
    /// Where the site serves the article as Markdown (`markdown_url`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub markdown_url: Option<String>,
}

impl Provenance {
    /// True when the page named none of these.
    pub fn is_empty(&self) -> bool {
        *self == Provenance::default()
    }

    /// This record, with what it lacks taken from `other`.
    pub fn or(self, other: &Provenance) -> Provenance {
        Provenance {
            commit: self.commit.or_else(|| other.commit.clone()),
            document_id: self.document_id.or_else(|| other.document_id.clone()),
            content_url: self.content_url.or_else(|| other.content_url.clone()),
            markdown_url: self.markdown_url.or_else(|| other.markdown_url.clone()),
        }
    }
}

/// One in-scope service as listed, with where and how it was listed.
#[derive(Debug, Clone, Copy)]
pub struct ScopeEntry<'a> {
    /// The table row it is listed under; `None` for a plain list.
    pub environment: Option<&'a str>,
    /// The service.
    pub service: &'a Service,
    /// The service it is in scope as part of, where the item says so.
    pub parent: Option<&'a Service>,
    /// The item that names it.
    pub item: &'a ScopeItem,
}

/// One in-scope list, or one row of an applicability table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scope {
    /// The heading the list or table stands under, as shown.
    pub section: String,
    /// The heading's anchor (explicit, or derived as the docs site does).
    pub anchor: Option<String>,
    /// `None` for a plain in-scope list; the row label (Commercial, GCC,
    /// GCC High, DoD ...) for a row of an applicability table.
    pub environment: Option<String>,
    /// The entries, in page order.
    pub items: Vec<ScopeItem>,
}

/// One entry of an in-scope list or table cell, as the page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScopeItem {
    /// The visible text, without markup.
    pub text: String,
    /// The services the item names (a compound item names several; a
    /// pointer such as "See the detailed list" names none).
    pub services: Vec<Service>,
    /// Former names the page gives ("Power Automate (formerly Microsoft Flow)").
    pub formerly: Vec<Service>,
    /// Qualifiers that do not change identity ("either as a standalone
    /// service or ...", "(not in scope for Azure Government)").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Services named in the item's "including ..." list ("Office 365
    /// Microservices (including Kaizala, Sway, ...)"): in scope as part of
    /// `included_in`, and listed in `services` too.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub included: Vec<Service>,
    /// The service an "including ..." list belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub included_in: Option<Service>,
}

impl ScopeItem {
    /// The service `service` is in scope as part of, if the item says.
    pub fn parent_of(&self, service: &Service) -> Option<&Service> {
        self.included_in
            .as_ref()
            .filter(|_| self.included.contains(service))
    }
}

/// A service name as the page writes it, cleaned of markup and width
/// variants. Identity is its [`crate::canon::ServiceKey`], not its spelling.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Service(String);

impl Service {
    /// A service name as written.
    pub fn new(name: impl Into<String>) -> Self {
        Service(name.into())
    }

    /// The name as written.
    pub fn name(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// An audit report, certificate or assessment link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// The heading path the link stands under ("Audits, reports, and
    /// certificates / Azure").
    pub section: String,
    /// The link text.
    pub title: String,
    /// `None` where the page form carries no target (text exports show `#`).
    pub url: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_ids_are_plain() {
        assert!(SourceId::new("offering-iso-27001").is_ok());
        assert!(SourceId::new("offering-iso-27001-ja-jp").is_ok());
        for bad in ["../etc", "", "..", ".hidden", "a/b", "a b"] {
            assert!(SourceId::new(bad).is_err(), "{bad:?}");
        }
    }
}
