//! Canonical service names: turning what a page writes into stable service
//! identities.
//!
//! Pages spell the same service many ways ("Microsoft Graph" and "Graph",
//! "PowerApps" and "Power Apps", full-width letters in localized pages), wrap
//! it in qualifiers ("... cloud service either as a standalone service or
//! ...") and list several in one item ("Azure, Azure Government, and Azure
//! Germany"). [`split`] breaks an item into services; [`ServiceKey`] is the
//! spelling-blind identity; [`aliases`] knows the renames, and [`l10n`] the
//! English name of each translated one.

pub mod aliases;
pub mod l10n;
pub mod split;

pub use aliases::{AliasTable, NameKind};
pub use split::{ItemParts, scope_qualifiers, split_item};

use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use crate::model::Service;
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfkc_quick};

/// Normalises text as shown to a reader: compatibility forms folded (full-width
/// letters, non-breaking spaces), zero-width characters dropped, white space
/// collapsed and trimmed.
pub fn clean(text: &str) -> String {
    // Most text is cleaned already (items are cleaned when parsed, and
    // cleaned again as they are split and keyed): copy it whole.
    if is_clean_ascii(text.as_bytes()) {
        return text.to_owned();
    }
    // Most page text is ASCII: its only white space is ASCII, and it has
    // nothing to fold.
    if text.is_ascii() {
        return collapse_ascii(text);
    }
    // Most of the rest is already in NFKC, and normalising costs more than
    // checking.
    if is_nfkc_quick(text.chars()) == IsNormalized::Yes {
        collapse(text.chars(), text.len())
    } else {
        collapse(text.nfkc(), text.len())
    }
}

/// ASCII text that [`clean`] would leave as it is: single spaces between
/// words, no other white space. The control-character test reads every
/// byte without branching, so the compiler can vectorise it.
fn is_clean_ascii(bytes: &[u8]) -> bool {
    static DOUBLE_SPACE: LazyLock<memchr::memmem::Finder<'static>> =
        LazyLock::new(|| memchr::memmem::Finder::new(b"  "));
    let control = bytes
        .iter()
        .fold(false, |seen, &b| seen | (b'\t'..=b'\r').contains(&b));
    bytes.is_ascii()
        && !control
        && bytes.first() != Some(&b' ')
        && bytes.last() != Some(&b' ')
        && DOUBLE_SPACE.find(bytes).is_none()
}

/// [`collapse`] for ASCII text: byte by byte, copying each word whole.
fn collapse_ascii(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word_start = None;
    for (at, byte) in text.bytes().enumerate() {
        let space = matches!(byte, b'\t'..=b'\r' | b' ');
        match (space, word_start) {
            (false, None) => word_start = Some(at),
            (true, Some(start)) => {
                push_word(&mut out, &text[start..at]);
                word_start = None;
            }
            _ => {}
        }
    }
    if let Some(start) = word_start {
        push_word(&mut out, &text[start..]);
    }
    out
}

fn push_word(out: &mut String, word: &str) {
    if !out.is_empty() {
        out.push(' ');
    }
    out.push_str(word);
}

fn collapse(chars: impl Iterator<Item = char>, capacity: usize) -> String {
    let mut out = String::with_capacity(capacity);
    let mut pending_space = false;
    for c in chars {
        if matches!(
            c,
            '\u{200b}' | '\u{200c}' | '\u{200d}' | '\u{2060}' | '\u{feff}'
        ) {
            continue;
        }
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.push(c);
    }
    out
}

/// The identity of a service name: case, spacing, punctuation, width forms
/// and a leading "Microsoft" do not change which service a name means.
///
/// "Microsoft Graph", "Graph", "PowerApps", "Power Apps" and "Ｐｏｗｅｒ Apps"
/// give two keys, not five.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ServiceKey(String);

impl ServiceKey {
    /// The identity of `name`.
    pub fn of(name: &str) -> Self {
        let cleaned = clean(name);
        if cleaned.is_ascii() {
            Self::of_ascii(&cleaned)
        } else {
            Self::of_cleaned(&cleaned)
        }
    }

    /// [`Self::of_cleaned`] in one pass and one allocation, for the ASCII
    /// names most pages use: every name of every page, diff and learned
    /// table is keyed, and four passes made keys a fifth of a `parse`.
    fn of_ascii(cleaned: &str) -> Self {
        const PREFIX: &str = "microsoft ";
        let rest = match cleaned.get(..PREFIX.len()) {
            Some(head) if head.eq_ignore_ascii_case(PREFIX) => &cleaned[PREFIX.len()..],
            _ => cleaned,
        };
        let mut key = String::with_capacity(rest.len() + 2);
        for byte in rest.bytes() {
            match byte {
                b'&' => key.push_str("and"),
                b if b.is_ascii_alphanumeric() => key.push(char::from(b.to_ascii_lowercase())),
                _ => {}
            }
        }
        if key.is_empty() {
            ServiceKey(cleaned.to_ascii_lowercase())
        } else {
            ServiceKey(key)
        }
    }

    fn of_cleaned(cleaned: &str) -> Self {
        let lower = cleaned.to_lowercase();
        let rest = lower.strip_prefix("microsoft ").unwrap_or(&lower);
        let key: String = rest
            .replace('&', "and")
            .chars()
            .filter(|c| c.is_alphanumeric())
            .collect();
        // A name made only of punctuation keeps its cleaned form, so that it
        // still has an identity of its own.
        if key.is_empty() {
            ServiceKey(lower)
        } else {
            ServiceKey(key)
        }
    }

    /// The key as a string, for storage and indexes.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&Service> for ServiceKey {
    fn from(service: &Service) -> Self {
        ServiceKey::of(service.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn ascii_keys_are_the_general_keys(name in "[ -~]{0,24}") {
            let cleaned = clean(&name);
            proptest::prop_assert_eq!(
                ServiceKey::of_ascii(&cleaned),
                ServiceKey::of_cleaned(&cleaned)
            );
        }
    }

    #[test]
    fn ascii_keys_of_prefixes_and_punctuation() {
        for name in [
            "Microsoft Graph",
            "MICROSOFT graph",
            "Microsoft",
            "Microsoft ",
            "Office 365 Security & Compliance",
            "--",
            "Microsoft --",
        ] {
            let cleaned = clean(name);
            assert_eq!(
                ServiceKey::of_ascii(&cleaned),
                ServiceKey::of_cleaned(&cleaned),
                "{name}"
            );
        }
    }

    #[test]
    fn clean_collapses_ascii_white_space() {
        assert_eq!(clean("Azure DevOps"), "Azure DevOps");
        assert_eq!(clean(" Azure  DevOps"), "Azure DevOps");
        assert_eq!(clean("Azure\tDev\x0bOps\r\n"), "Azure Dev Ops");
        assert_eq!(clean("   "), "");
    }

    #[test]
    fn ascii_shortcuts_clean_as_the_general_path_does() {
        for text in [
            "",
            " ",
            "Azure",
            "Azure DevOps",
            " Azure DevOps",
            "Azure DevOps ",
            "Azure  DevOps",
            "a\tb\nc\x0bd\x0ce\rf",
            "\r\n  Azure \t\x0b Monitor \n",
            "Azure\x1cMonitor",
            "x , y . z :",
        ] {
            assert_eq!(clean(text), collapse(text.chars(), 0), "{text:?}");
        }
    }

    #[test]
    fn clean_folds_width_forms_and_spaces() {
        assert_eq!(
            clean("  Ｐｏｗｅｒ\u{a0}BI \t Embedded\u{200b} "),
            "Power BI Embedded"
        );
    }

    #[test]
    fn key_ignores_vendor_prefix_case_and_spacing() {
        assert_eq!(ServiceKey::of("Microsoft Graph"), ServiceKey::of("Graph"));
        assert_eq!(ServiceKey::of("PowerApps"), ServiceKey::of("Power Apps"));
        assert_eq!(
            ServiceKey::of("Azure Dev Ops"),
            ServiceKey::of("Azure DevOps")
        );
        assert_eq!(ServiceKey::of("Ｉｎｔｕｎｅ"), ServiceKey::of("intune"));
        assert_ne!(
            ServiceKey::of("Office 365"),
            ServiceKey::of("Office 365 Germany")
        );
    }
}
