//! The changes a comparison finds, as typed values: what `diff`, `log`,
//! reports and alerts all read.

use std::collections::BTreeMap;

use serde::Serialize;

/// One change between two versions of a page.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    /// A service listed in the new version and not the old.
    Added(Entry),
    /// A service listed in the old version and not the new.
    Removed(Entry),
    /// A service listed under a new name.
    Renamed(Rename),
    /// An item whose wording changed without a change of scope.
    Reworded(Reword),
    /// A scope-bearing qualifier ("not in scope for Azure Government",
    /// "coming soon") added, dropped or changed.
    Qualified(Qualify),
    /// A service listed under other environments.
    Moved(Move),
    /// A report or certificate link added, removed or retargeted.
    Link(LinkChange),
}

impl Change {
    /// True for changes to what is in scope. A rewording (a qualifier or
    /// spelling edit) is shown but is not a scope change.
    pub fn is_scope_change(&self) -> bool {
        !matches!(self, Change::Reworded(_))
    }
}

/// A service as listed in one environment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    /// The service, as the page writes it.
    pub service: String,
    /// The environment (table row) it is listed under; `None` for a plain list.
    pub environment: Option<String>,
    /// The service it is in scope as part of ("Office 365 Microservices
    /// (including ...)"), where the page says so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// The item's visible text on the page.
    pub text: String,
    /// The page's own spelling of the service, by the page's locale, where
    /// a translated page names it otherwise than `service`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub localized: BTreeMap<String, String>,
}

/// Why two names were taken for one service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Evidence {
    /// The page itself says "(formerly ...)".
    Formerly,
    /// The alias table lists the rename.
    Alias,
    /// The names are close: an edit of one another.
    Similarity,
    /// The alias table lists the rename the other way: the page went back
    /// to a former name.
    Revert,
}

impl Evidence {
    /// How the evidence reads in a report.
    pub fn describe(self) -> &'static str {
        match self {
            Evidence::Formerly => "the page says \"formerly\"",
            Evidence::Alias => "known rename (alias table)",
            Evidence::Similarity => "similar name",
            Evidence::Revert => "back to a former name: reverts the known rename (alias table)",
        }
    }
}

/// A service listed under a new name, with the evidence for it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rename {
    /// The old name.
    pub from: String,
    /// The new name.
    pub to: String,
    /// The environment it is listed under; `None` for a plain list.
    pub environment: Option<String>,
    /// Why the two names are taken to be one service.
    pub evidence: Evidence,
    /// 1.0 for page or alias evidence; the name similarity otherwise.
    pub confidence: f64,
    /// The new item as the page writes it.
    pub text: String,
    /// The old version's own spelling of `from`, by its locale, where a
    /// translated page names it otherwise.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub from_localized: BTreeMap<String, String>,
    /// The new version's own spelling of `to`, likewise.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub to_localized: BTreeMap<String, String>,
}

/// The same services, listed with other words (qualifier, spelling, an
/// item split or merged).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reword {
    /// The services of the item.
    pub services: Vec<String>,
    /// The environment it is listed under; `None` for a plain list.
    pub environment: Option<String>,
    /// The old wording.
    pub from: String,
    /// The new wording.
    pub to: String,
}

/// The same services, with a scope-bearing qualifier added, dropped or
/// changed: "(not in scope for Azure Government)" dropped brings Azure
/// Government into scope.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Qualify {
    /// The services of the item.
    pub services: Vec<String>,
    /// The environment it is listed under; `None` for a plain list.
    pub environment: Option<String>,
    /// The scope-bearing qualifiers before, as written.
    pub from: Vec<String>,
    /// The scope-bearing qualifiers now.
    pub to: Vec<String>,
    /// The new item as the page writes it.
    pub text: String,
}

/// A service that left one applicability row (or the page-wide list) and
/// entered another.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Move {
    /// The service, as the page writes it.
    pub service: String,
    /// The environment it was listed under; `None` for the page-wide list.
    pub from: Option<String>,
    /// The environment it is listed under now; `None` for the page-wide list.
    pub to: Option<String>,
    /// The item as the page writes it.
    pub text: String,
    /// The page's own spelling of the service, as in [`Entry::localized`].
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub localized: BTreeMap<String, String>,
}

/// A change to the audit report and certificate links.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum LinkChange {
    /// A link that was not on the old page.
    Added {
        /// The heading path it stands under.
        section: String,
        /// The link text.
        title: String,
        /// The target, if the page form carries one.
        url: Option<String>,
    },
    /// A link that is no longer on the page.
    Removed {
        /// The heading path it stood under.
        section: String,
        /// The link text.
        title: String,
        /// The target, if the page form carried one.
        url: Option<String>,
    },
    /// A link whose target changed.
    UrlChanged {
        /// The heading path it stands under.
        section: String,
        /// The link text.
        title: String,
        /// The old target.
        from: String,
        /// The new target.
        to: String,
    },
}

/// The changes between two snapshots, with anything that limited the
/// comparison.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Diff {
    /// Every change, scope changes first.
    pub changes: Vec<Change>,
    /// Anything that limited the comparison.
    pub warnings: Vec<String>,
    /// Why the scope could not be compared, when a version has none: then
    /// no change of scope is known, which is not "no change".
    pub not_compared: Option<String>,
}

impl Diff {
    /// True when a service was added, removed, renamed or moved.
    pub fn has_scope_changes(&self) -> bool {
        self.changes.iter().any(Change::is_scope_change)
    }

    /// True when nothing at all changed.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    fn select<'a, T>(&'a self, pick: impl Fn(&'a Change) -> Option<&'a T>) -> Vec<&'a T> {
        self.changes.iter().filter_map(pick).collect()
    }

    /// The services added.
    pub fn added(&self) -> Vec<&Entry> {
        self.select(|c| match c {
            Change::Added(e) => Some(e),
            _ => None,
        })
    }

    /// The services removed.
    pub fn removed(&self) -> Vec<&Entry> {
        self.select(|c| match c {
            Change::Removed(e) => Some(e),
            _ => None,
        })
    }

    /// The renames.
    pub fn renamed(&self) -> Vec<&Rename> {
        self.select(|c| match c {
            Change::Renamed(r) => Some(r),
            _ => None,
        })
    }

    /// The rewordings.
    pub fn reworded(&self) -> Vec<&Reword> {
        self.select(|c| match c {
            Change::Reworded(r) => Some(r),
            _ => None,
        })
    }

    /// The changes of scope-bearing qualifiers.
    pub fn qualified(&self) -> Vec<&Qualify> {
        self.select(|c| match c {
            Change::Qualified(q) => Some(q),
            _ => None,
        })
    }

    /// The moves between environments.
    pub fn moved(&self) -> Vec<&Move> {
        self.select(|c| match c {
            Change::Moved(m) => Some(m),
            _ => None,
        })
    }

    /// The link changes.
    pub fn links(&self) -> Vec<&LinkChange> {
        self.select(|c| match c {
            Change::Link(l) => Some(l),
            _ => None,
        })
    }
}

impl Serialize for Diff {
    /// The grouped shape of `scopewatch diff --format json`.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct View<'a> {
            added: Vec<&'a Entry>,
            removed: Vec<&'a Entry>,
            renamed: Vec<&'a Rename>,
            reworded: Vec<&'a Reword>,
            qualified: Vec<&'a Qualify>,
            moved: Vec<&'a Move>,
            links: Vec<&'a LinkChange>,
            warnings: &'a [String],
            #[serde(skip_serializing_if = "Option::is_none")]
            scope_not_compared: Option<&'a str>,
        }
        View {
            added: self.added(),
            removed: self.removed(),
            renamed: self.renamed(),
            reworded: self.reworded(),
            qualified: self.qualified(),
            moved: self.moved(),
            links: self.links(),
            warnings: &self.warnings,
            scope_not_compared: self.not_compared.as_deref(),
        }
        .serialize(serializer)
    }
}
