//! The alias table: known renames and spellings (`config/aliases.toml`).
//!
//! Name similarity alone cannot tell that Microsoft Cloud App Security became
//! Microsoft Defender for Cloud Apps; the table records such renames once, so
//! every diff can cite them as evidence.

use std::collections::HashMap;

use serde::Deserialize;

use super::ServiceKey;
use super::l10n::{ITEM_SEPARATOR, Kind, LearnedName, LocalizedNames};
use crate::AliasError;

/// The table shipped with scopewatch.
pub const DEFAULT_ALIASES: &str = include_str!("../../../../config/aliases.toml");

/// How a name relates to the service it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameKind {
    /// The current name.
    Current,
    /// A name the service used to have.
    Former,
    /// Another spelling or a translation of the current name.
    Variant,
}

/// What the table knows about a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resolved<'a> {
    /// The service's current name.
    pub canonical: &'a str,
    /// Whether the name is current, former or a variant spelling.
    pub kind: NameKind,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    service: Vec<Entry>,
    #[serde(default)]
    environment: Vec<EnvironmentEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EnvironmentEntry {
    name: String,
    #[serde(default)]
    variants: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    name: String,
    #[serde(default)]
    formerly: Vec<String>,
    #[serde(default)]
    variants: Vec<String>,
}

/// Known renames and spellings, looked up by [`ServiceKey`].
#[derive(Debug, Clone, Default)]
pub struct AliasTable {
    names: Vec<String>,
    by_key: HashMap<ServiceKey, (usize, NameKind)>,
    /// Applicability-row labels to the environment they name.
    environments: HashMap<ServiceKey, String>,
    /// Every name listed, with the index of its service, in file order.
    all_names: Vec<(usize, String)>,
    /// Translated names and row labels, consulted for what the table
    /// itself does not list: the table's own entries win.
    localized: LocalizedNames,
}

impl AliasTable {
    /// The table shipped with scopewatch.
    pub fn builtin() -> Self {
        Self::from_toml(DEFAULT_ALIASES).expect("the shipped alias table is valid")
    }

    /// Parses a table, refusing a name that would belong to two services.
    pub fn from_toml(text: &str) -> Result<Self, AliasError> {
        let file: File = toml::from_str(text)?;
        let mut table = AliasTable {
            localized: LocalizedNames::builtin(),
            ..AliasTable::default()
        };
        for entry in file.service {
            let index = table.names.len();
            table.names.push(entry.name.clone());
            let names = std::iter::once((entry.name.as_str(), NameKind::Current))
                .chain(
                    entry
                        .formerly
                        .iter()
                        .map(|n| (n.as_str(), NameKind::Former)),
                )
                .chain(
                    entry
                        .variants
                        .iter()
                        .map(|n| (n.as_str(), NameKind::Variant)),
                );
            for (name, kind) in names {
                let key = ServiceKey::of(name);
                if let Some((other, _)) = table.by_key.get(&key)
                    && *other != index
                {
                    return Err(AliasError::TwoServices {
                        name: name.to_string(),
                        first: table.names[*other].clone(),
                        second: entry.name.clone(),
                    });
                }
                table.by_key.insert(key, (index, kind));
                table.all_names.push((index, name.to_string()));
            }
        }
        for entry in file.environment {
            for label in std::iter::once(&entry.name).chain(&entry.variants) {
                let key = ServiceKey::of(label);
                if let Some(other) = table.environments.get(&key)
                    && *other != entry.name
                {
                    return Err(AliasError::TwoEnvironments {
                        label: label.clone(),
                        first: other.clone(),
                        second: entry.name.clone(),
                    });
                }
                table.environments.insert(key, entry.name.clone());
            }
        }
        Ok(table)
    }

    /// The table with more localized names (learned from the user's own
    /// pages), which replace built-in ones of the same spelling and locale.
    pub fn with_localized(mut self, learned: impl IntoIterator<Item = LearnedName>) -> Self {
        self.localized.extend(learned);
        self
    }

    /// The localized names the table consults.
    pub fn localized(&self) -> &LocalizedNames {
        &self.localized
    }

    /// The environment an applicability-row label names ("Office 365" rows
    /// are the commercial cloud, "GCC Hoch" is GCC High); unknown labels
    /// stand for themselves.
    pub fn environment<'a>(&'a self, label: &'a str) -> &'a str {
        let key = ServiceKey::of(label);
        if let Some(env) = self.environments.get(&key) {
            return env;
        }
        match self.localized.english(Kind::Environment, &key) {
            Some(english) => self
                .environments
                .get(&ServiceKey::of(english))
                .map_or(english, String::as_str),
            None => label,
        }
    }

    /// What the table knows about a name, if anything. A translated name
    /// is what the table knows of its English name, or a variant of it.
    pub fn resolve(&self, key: &ServiceKey) -> Option<Resolved<'_>> {
        let known = |key: &ServiceKey| {
            self.by_key.get(key).map(|(index, kind)| Resolved {
                canonical: &self.names[*index],
                kind: *kind,
            })
        };
        known(key).or_else(|| {
            let english = self.localized.english(Kind::Service, key)?;
            Some(known(&ServiceKey::of(english)).unwrap_or(Resolved {
                canonical: english,
                kind: NameKind::Variant,
            }))
        })
    }

    /// The English services of a translated item that names them otherwise
    /// than its English item does ("Azure und Azure Government" where the
    /// splitter reads one name, a "see ..." pointer that names none).
    pub fn item_services(&self, text: &str) -> Option<Vec<&str>> {
        let english = self.localized.english(Kind::Item, &ServiceKey::of(text))?;
        Some(
            english
                .split(ITEM_SEPARATOR)
                .filter(|n| !n.is_empty())
                .collect(),
        )
    }

    /// The English name of a name known only as a translation: the name
    /// reports show for it, beside the page's own text.
    pub fn english_of(&self, key: &ServiceKey) -> Option<&str> {
        if self.by_key.contains_key(key) {
            return None;
        }
        // The English name itself, not its current one: a translation of a
        // former name shows the former name, so a rename reads as in English.
        self.localized.english(Kind::Service, key)
    }

    /// The identity a name stands for once renames are followed: former
    /// names and variants share the key of the current name.
    pub fn canonical_key(&self, key: &ServiceKey) -> ServiceKey {
        match self.resolve(key) {
            Some(r) => ServiceKey::of(r.canonical),
            None => key.clone(),
        }
    }

    /// The one identity function: whether two names are one service. The
    /// differ, `log`, `matrix`, `timeline` and the report all ask it;
    /// spelling ([`ServiceKey`]), former names and variants never part a
    /// service.
    pub fn identity(&self, name: &str) -> ServiceKey {
        self.canonical_key(&ServiceKey::of(name))
    }

    /// Every name the table knows for the service a name belongs to: its
    /// current name first, then former names and variants, then their
    /// translations.
    pub fn names_of<'a>(&'a self, name: &'a str) -> Vec<&'a str> {
        let canonical = self.canonical_name(name);
        let mut names = match self.by_key.get(&ServiceKey::of(canonical)) {
            Some((index, _)) => {
                let mut names = vec![self.names[*index].as_str()];
                names.extend(
                    self.all_names
                        .iter()
                        .filter(|(i, _)| i == index)
                        .map(|(_, n)| n.as_str())
                        .filter(|n| *n != self.names[*index]),
                );
                names
            }
            None => vec![canonical],
        };
        let english: Vec<ServiceKey> = names.iter().map(|n| ServiceKey::of(n)).collect();
        for key in &english {
            for localized in self.localized.localized_of(key) {
                if !names.contains(&localized) {
                    names.push(localized);
                }
            }
        }
        names
    }

    /// The current name for a name, following renames.
    pub fn canonical_name<'a>(&'a self, name: &'a str) -> &'a str {
        self.resolve(&ServiceKey::of(name))
            .map_or(name, |r| r.canonical)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_table_knows_the_famous_renames() {
        let t = AliasTable::builtin();
        for (old, new) in [
            ("Microsoft Flow", "Power Automate"),
            ("Cloud App Security", "Microsoft Defender for Cloud Apps"),
            ("Windows Defender ATP", "Microsoft Defender for Endpoint"),
        ] {
            let r = t.resolve(&ServiceKey::of(old)).expect(old);
            assert_eq!((r.canonical, r.kind), (new, NameKind::Former));
        }
    }

    #[test]
    fn a_name_under_two_services_is_refused() {
        let err = AliasTable::from_toml(
            "[[service]]\nname = \"A\"\nformerly = [\"X\"]\n[[service]]\nname = \"B\"\nvariants = [\"X\"]\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("listed under both"), "{err}");
    }

    #[test]
    fn all_names_of_a_service() {
        let t = AliasTable::builtin();
        let names = t.names_of("Windows Defender ATP");
        assert_eq!(names[0], "Microsoft Defender for Endpoint");
        assert!(names.contains(&"Microsoft Defender Advanced Threat Protection"));
        assert_eq!(t.names_of("Windows 365"), ["Windows 365"]);
    }

    #[test]
    fn row_labels_name_environments() {
        let t = AliasTable::builtin();
        assert_eq!(t.environment("Office 365"), "Commercial");
        assert_eq!(t.environment("GCC High"), "GCC High");
        assert_eq!(t.environment("Secret"), "Secret");
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(AliasTable::from_toml("[[service]]\nname = \"A\"\nformer = [\"X\"]\n").is_err());
    }
}
