//! Splitting one in-scope item into the services it names.
//!
//! Real items mix a name with qualifiers and sometimes name several services:
//!
//! - `Power Automate (formerly Microsoft Flow) cloud service either as a
//!   standalone service or as included in ...` is `Power Automate`, formerly
//!   `Microsoft Flow`, with the rest kept as a note;
//! - `Azure, Azure Government, and Azure Germany` is three services;
//! - `Windows Defender ATP: Endpoint Detection & Response, ...` is one service
//!   with the covered portions as a note;
//! - `See a detailed list of covered services` names none.
//!
//! The rules are written for Microsoft's pages in English and the localized
//! forms seen in their translations; anything they do not recognise stays in
//! the name, where a later edit shows up as a rewording rather than vanishing.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, MatchKind};

use super::{ServiceKey, clean};
use crate::model::Service;

/// What an item names.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ItemParts {
    /// The services the item names.
    pub services: Vec<Service>,
    /// Former names it gives ("formerly ...").
    pub formerly: Vec<Service>,
    /// Qualifiers kept as written.
    pub note: Option<String>,
    /// Services named in an "including ..." list: each is in scope as part
    /// of [`ItemParts::included_in`], and is in `services` too.
    pub included: Vec<Service>,
    /// The service the "including ..." list belongs to.
    pub included_in: Option<Service>,
}

/// Markers that open an aside naming services in scope as part of the one
/// before it: "Office 365 Microservices (including but not limited to
/// Kaizala, Sway, ...)", in the languages of the localized pages. The
/// longest that opens an aside is taken, so that "but not limited to" and
/// its translations never become a service.
const INCLUDING: &[&str] = &[
    "including but not limited to",
    "including, but not limited to",
    "including",
    "y compris, mais sans s'y limiter,",
    "y compris mais sans s'y limiter",
    "y compris",
    "notamment",
    "einschließlich, aber nicht beschränkt auf",
    "einschließlich aber nicht beschränkt auf",
    "einschließlich",
    "incluyendo, entre otros,",
    "incluyendo",
    "incluidos, entre otros,",
    "incluidos entre otros",
    "incluidos",
    "incluindo, entre outros,",
    "incluindo, mas não se limitando a",
    "incluindo",
    "inclusi, ma non limitati a",
    "inclusi",
    "tra cui",
    "包括但不限于",
    "包括",
    "包含但不限於",
    "包含",
];

/// Qualifiers that say where or whether a service is in scope; an edit of
/// one changes scope, unlike any other wording. Matched on the lower-case
/// note, each as a phrase of its own (the note's parts are split at ";").
const SCOPE_BEARING: &[&str] = &[
    "not in scope",
    "out of scope",
    "only in ",
    "only for ",
    "available only",
    " only",
    "excluding ",
    "except ",
    "coming soon",
    "in progress",
    "hors du champ",
    "nicht im geltungsbereich",
    "fuera del ámbito",
    "対象外",
];

/// Markers that open a "formerly ..." aside, in the locales the pages use.
const FORMERLY: &[&str] = &[
    "formerly known as",
    "formerly",
    "previously known as",
    "previously",
    "旧称",
    "以前の名称",
    "以前の",
    "anciennement",
    "précédemment",
    "auparavant",
    "früher",
    "ehemals",
    "vormals",
    "anteriormente",
    "in precedenza",
    "precedentemente",
    "以前称为",
    "原名",
    "先前称为",
    "이전의",
    "이전",
    "voorheen",
    "wcześniej",
    "ранее",
];

/// Phrases that start a qualifier after the name. Matched case-sensitively:
/// "Azure Cloud Services" is a name, "... cloud service either as ..." is not.
const QUALIFIERS: &[&str] = &[
    " cloud service",
    " either as ",
    " as a standalone ",
    " offered as ",
    " for the following ",
    "クラウド サービス",
    "クラウドサービス",
    " 云服务",
    " 雲端服務",
];

/// Verbs that make an item a sentence about a service ("Azure complies
/// with ... guidelines"): the name is its subject, the rest a note.
const SENTENCE_VERBS: &[&str] = &[
    " complies ",
    " comply ",
    " is ",
    " are ",
    " has been ",
    " have been ",
    " meets ",
    " provides ",
    " supports ",
    " adheres ",
];

/// Where a name may end: a colon or a spaced dash, a qualifier phrase or
/// the verb of a sentence. One automaton finds the first of them in one
/// pass, instead of a search per pattern.
static NAME_ENDS: LazyLock<AhoCorasick> = LazyLock::new(|| {
    let patterns = [": ", " — "].iter().chain(QUALIFIERS).chain(SENTENCE_VERBS);
    crate::word_finder(patterns, MatchKind::LeftmostFirst)
});

/// Item openings that point elsewhere instead of naming a service.
const POINTERS: &[&str] = &[
    "see ",
    "refer to ",
    "voir ",
    "siehe ",
    "consulte ",
    "vea ",
    "veja ",
    "vedere ",
];

/// Words that start a service name: a second name after "and" or "&" that
/// starts with one of these is a separate service ("Exchange Online and
/// SharePoint Online"), otherwise the "and" is part of one name ("Office 365
/// Security & Compliance Center").
const BRANDS: &[&str] = &[
    "Azure",
    "Office",
    "Dynamics",
    "Microsoft",
    "Power",
    "Windows",
    "Exchange",
    "SharePoint",
    "Intune",
    "Skype",
    "Teams",
    "OneDrive",
    "Visual",
    "Yammer",
];

/// Splits an item's visible text into its services, former names and note.
///
/// Pages repeat their items: a cloud's list of services is copied onto
/// dozens of offering pages, and a page keeps most of its items from one
/// version to the next. Each thread remembers the parts of the items it
/// split last ([`SPLIT_MEMORY`] of them), as splitting depends on the text
/// alone.
pub fn split_item(text: &str) -> ItemParts {
    thread_local! {
        static SPLIT: RefCell<HashMap<String, ItemParts>> = RefCell::default();
    }
    if let Some(parts) = SPLIT.with_borrow(|split| split.get(text).cloned()) {
        return parts;
    }
    let parts = split_text(text);
    SPLIT.with_borrow_mut(|split| {
        if split.len() >= SPLIT_MEMORY {
            split.clear();
        }
        split.insert(text.to_string(), parts.clone());
    });
    parts
}

/// Items a thread remembers the parts of: more than a nightly run's pages
/// list in one language, in under a megabyte.
const SPLIT_MEMORY: usize = 2048;

fn split_text(text: &str) -> ItemParts {
    let text = clean(text);
    let opens_with = |p: &&str| {
        text.get(..p.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(p))
    };
    if text.is_empty() || POINTERS.iter().any(opens_with) || text.ends_with("参照してください。")
    {
        return ItemParts {
            note: (!text.is_empty()).then_some(text),
            ..ItemParts::default()
        };
    }

    let mut notes = Vec::new();
    let mut formerly = Vec::new();
    let mut included = Vec::new();
    let mut included_in = None;
    let (rest, asides) = take_parentheticals(&text);
    for (at, aside) in asides {
        if let Some(names) = formerly_names(&aside) {
            formerly.extend(names);
        } else if let Some(names) = included_names(&aside) {
            // The list belongs to the service written just before it.
            let before = tighten(&clean(&rest[..at]));
            included_in = split_compound(cut_qualifier(&before).0).pop();
            included.extend(names);
        } else {
            notes.push(aside);
        }
    }

    let rest = tighten(&clean(&rest));
    let (head, tail) = cut_qualifier(&rest);
    if let Some(tail) = tail {
        notes.insert(0, tail);
    }
    let mut services = split_compound(head);
    if included_in.is_none() {
        included.clear();
    }
    if !included.is_empty() {
        let mut seen: HashSet<ServiceKey> = services.iter().map(ServiceKey::from).collect();
        services.extend(
            included
                .iter()
                .filter(|s| seen.insert(ServiceKey::from(*s)))
                .cloned(),
        );
    }

    ItemParts {
        services,
        formerly,
        note: (!notes.is_empty()).then(|| notes.join("; ")),
        included,
        included_in,
    }
}

/// The services an aside like "including but not limited to Kaizala, Sway"
/// names, if it is one.
fn included_names(aside: &str) -> Option<Vec<Service>> {
    let lower = aside.to_lowercase();
    let marker = INCLUDING
        .iter()
        .filter(|m| lower.starts_with(*m))
        .max_by_key(|m| m.len())?;
    let names = aside
        .get(marker.len()..)?
        .trim_start_matches([':', ',', ' ']);
    let services = split_compound(names);
    (!services.is_empty()).then_some(services)
}

/// The scope-bearing qualifiers of an item's note ("not in scope for Azure
/// Government", "coming soon"), as written, in note order. An edit of these
/// changes what is in scope; any other edit of a note is a rewording.
pub fn scope_qualifiers(note: Option<&str>) -> Vec<String> {
    let Some(note) = note else {
        return Vec::new();
    };
    note.split(';')
        .map(str::trim)
        .filter(|part| {
            let lower = part.to_lowercase();
            SCOPE_BEARING.iter().any(|q| match q.strip_prefix(' ') {
                // " only" closes a phrase: "GCC High only".
                Some(word) => lower.ends_with(&format!(" {word}")) || lower == word,
                None => lower.contains(q),
            })
        })
        .map(str::to_string)
        .collect()
}

/// Removes balanced `( ... )` groups, returning the text without them and the
/// groups' contents, each with where it stood in that text. An unbalanced
/// parenthesis is left in place.
fn take_parentheticals(text: &str) -> (String, Vec<(usize, String)>) {
    if !text.contains('(') {
        return (text.to_string(), Vec::new());
    }
    let mut rest = String::with_capacity(text.len());
    let mut asides = Vec::new();
    let mut depth = 0usize;
    let mut current = String::new();
    for c in text.chars() {
        match c {
            '(' => {
                if depth > 0 {
                    current.push(c);
                }
                depth += 1;
            }
            ')' if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    let aside = clean(&current);
                    if !aside.is_empty() {
                        asides.push((rest.len(), aside));
                    }
                    current.clear();
                } else {
                    current.push(c);
                }
            }
            _ if depth > 0 => current.push(c),
            _ => rest.push(c),
        }
    }
    if depth > 0 {
        // Unbalanced: keep the text as written rather than lose it.
        rest.push('(');
        rest.push_str(&current);
    }
    (rest, asides)
}

/// Drops the space before a colon, comma or full stop, left where an aside
/// was taken out ("Azure (x), Office" became "Azure , Office"). The text is
/// cleaned, so no two spaces meet.
fn tighten(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut from = 0;
    // Byte pairs: both bytes are ASCII, so every cut is at a character
    // boundary.
    for (at, pair) in text.as_bytes().windows(2).enumerate() {
        if pair[0] == b' ' && matches!(pair[1], b':' | b',' | b'.') {
            out.push_str(&text[from..at]);
            from = at + 1;
        }
    }
    out.push_str(&text[from..]);
    out
}

/// The former names in an aside like "formerly Microsoft Flow", if it is one.
fn formerly_names(aside: &str) -> Option<Vec<Service>> {
    let lower = aside.to_lowercase();
    let marker = FORMERLY.iter().find(|m| lower.starts_with(*m))?;
    let names = aside[marker.len()..].trim_start_matches([':', ' ', '：', '、', ',']);
    let names = names.strip_prefix("known as ").unwrap_or(names);
    let names = names.strip_prefix("称为").unwrap_or(names);
    let services = split_compound(names.trim());
    (!services.is_empty()).then_some(services)
}

/// Splits the name from a trailing qualifier: after a colon, a dash that
/// introduces a description, a sentence break, or a known qualifier phrase.
fn cut_qualifier(text: &str) -> (&str, Option<String>) {
    let mut cut = text.len();
    let mut consider = |pos: usize| cut = cut.min(pos);

    if let Some(found) = NAME_ENDS.find(text) {
        consider(found.start());
    }
    if text.ends_with(':') {
        consider(text.len() - 1);
    }
    // Scripts written without spaces put none after a colon either
    // ("Intune：Office 365 的 ...", full-width colon folded).
    if let Some(pos) = text
        .match_indices(':')
        .map(|(at, _)| at)
        .find(|&at| text[at + 1..].starts_with(|c: char| !c.is_ascii()))
    {
        consider(pos);
    }
    if let Some(pos) = descriptive_hyphen(text) {
        consider(pos);
    }
    if let Some(pos) = sentence_break(text) {
        consider(pos);
    }

    let head = text[..cut].trim_end_matches([' ', '-', ',', ';']);
    let tail = text[cut..]
        .trim_start_matches([':', '-', '—', '–', '.', ' '])
        .trim();
    if head.is_empty() {
        // The whole text is a qualifier-shaped name; keep it as the name.
        return (text, None);
    }
    (head, (!tail.is_empty()).then(|| tail.to_string()))
}

/// A spaced hyphen that introduces a description ("Windows Defender ATP -
/// Endpoint detection ...") rather than belonging to a name ("Office 365 U.S.
/// Government - High"): what follows up to the next separator is long.
fn descriptive_hyphen(text: &str) -> Option<usize> {
    // Translations often write the en dash where the English page has a
    // hyphen ("Office 365 U.S. Government – High").
    if !text.contains(['-', '–']) {
        return None;
    }
    [" - ", " – "]
        .into_iter()
        .filter_map(|dash| {
            let mut from = 0;
            while let Some(found) = text[from..].find(dash) {
                let pos = from + found;
                if describes(&text[pos + dash.len()..]) {
                    return Some(pos);
                }
                from = pos + dash.len();
            }
            None
        })
        .min()
}

/// Whether the text up to the next separator is long: two words or more, or
/// eight characters or more. Only its first eight characters are looked at,
/// so that an item of many hyphens and no comma is read in linear time.
fn describes(after: &str) -> bool {
    let mut end = after.len();
    for (count, (at, c)) in after.char_indices().enumerate() {
        if matches!(c, ',' | '、') {
            end = at;
            break;
        }
        if count + 1 == 8 {
            return true;
        }
    }
    after[..end].split_whitespace().count() >= 2
}

/// A ". " that ends a sentence, as in "Dynamics 365. The certificate applies
/// to ...", but not the dots of an abbreviation ("U.S. Government", or the
/// spaced "EE. UU." of Spanish).
fn sentence_break(text: &str) -> Option<usize> {
    if !text.contains('.') {
        return None;
    }
    let mut from = 0;
    while let Some(found) = text[from..].find(". ") {
        let pos = from + found;
        let word = text[..pos].rsplit(' ').next().unwrap_or("");
        let next = &text[pos + 2..];
        let next_upper = next.chars().next().is_some_and(char::is_uppercase);
        if next_upper
            && word.chars().count() >= 2
            && !word.contains('.')
            && !abbreviation_follows(next)
        {
            return Some(pos);
        }
        from = pos + 2;
    }
    None
}

/// Whether `text` opens with a short capitalised abbreviation closed by its
/// own dot ("UU. - Alto", "HH.,"): the dot before it is one more of the
/// same abbreviation, since a sentence does not start with such a word.
fn abbreviation_follows(text: &str) -> bool {
    let word = text.split(' ').next().unwrap_or("");
    let Some(letters) = word.trim_end_matches([',', ';']).strip_suffix('.') else {
        return false;
    };
    (1..=4).contains(&letters.chars().count()) && letters.chars().all(char::is_uppercase)
}

/// Splits "A, B, and C" (or "A、B、C", or "A and A Government") into names.
///
/// A head or a head noun shared by the names of a compound is given to
/// each: "Office 365 GCC, Office 365 GCC High, and DoD" ends with Office 365
/// DoD, and "Office 365 and Azure AD login experience" names two login
/// experiences.
fn split_compound(text: &str) -> Vec<Service> {
    let mut out: Vec<Service> = Vec::new();
    // Keys seen so far: a scan of `out` per name made an item of thousands
    // of names quadratic. Made from the second name on: most items name one
    // service, and a key costs a few allocations.
    let mut seen = HashSet::new();
    let mut push = |name: String, out: &mut Vec<Service>| {
        let service = Service::new(name);
        if let [first] = out.as_slice()
            && seen.is_empty()
        {
            seen.insert(ServiceKey::from(first));
        }
        if out.is_empty() || seen.insert(ServiceKey::from(&service)) {
            out.push(service);
        }
    };
    let parts: Vec<&str> = text.split([',', '、', '，', ';']).collect();
    for (at, part) in parts.iter().enumerate() {
        let trimmed = part.trim();
        let part = strip_conjunction(trimmed);
        let names: Vec<&str> = split_and(part)
            .into_iter()
            .map(|n| n.trim().trim_end_matches(['.', ',', ';', ':']).trim())
            .filter(|n| !n.is_empty() && n.chars().any(char::is_alphanumeric))
            .collect();
        let last_of_list = at + 1 == parts.len() && part.len() < trimmed.len() && at >= 2;
        let (shared_tail, shared_lead) = match names.as_slice() {
            [first, .., last] => (head_noun(last), lead_noun(first)),
            _ => (None, None),
        };
        for (i, name) in names.iter().enumerate() {
            let mut name = name.to_string();
            if i + 1 < names.len()
                && let Some(tail) = shared_tail.filter(|_| head_noun(&name).is_none())
            {
                name = format!("{name} {tail}");
            }
            if i > 0
                && let Some(lead) = shared_lead.filter(|_| lead_noun(&name).is_none())
            {
                name = format!("{lead} {name}");
            }
            if last_of_list
                && names.len() == 1
                && let Some(head) = shared_head(&out)
                && !name.contains(' ')
                && !BRANDS.contains(&name.as_str())
                && !name.starts_with(&head)
            {
                name = format!("{head} {name}");
            }
            push(name, &mut out);
        }
    }
    out
}

/// The trailing common nouns of a name, two words or more ("Azure AD login
/// experience"): a head noun that a compound's earlier names share.
fn head_noun(name: &str) -> Option<&str> {
    let words: Vec<&str> = name.split(' ').collect();
    let common = words
        .iter()
        .rev()
        .take_while(|w| w.chars().all(|c| c.is_ascii_lowercase()))
        .count();
    if common < 2 || common == words.len() {
        return None;
    }
    let start = name.len() - words[words.len() - common..].join(" ").len();
    Some(&name[start..])
}

/// The leading nouns of a name in a language that puts the head first,
/// up to the connective before its brand ("Experiencia de inicio de sesión
/// de" in "Experiencia de inicio de sesión de Office 365"): a head that the
/// compound's later names share ("... de Office 365 y Azure AD" names two
/// sign-in experiences, as the English "Office 365 and Azure AD login
/// experience" does).
fn lead_noun(name: &str) -> Option<&str> {
    let words: Vec<&str> = name.split(' ').collect();
    let brand = words.iter().position(|w| BRANDS.contains(w))?;
    let connective = words[..brand].last()?;
    if brand < 2 || BRANDS.contains(&words[0]) || !connective.chars().all(char::is_lowercase) {
        return None;
    }
    let end = words[..brand].iter().map(|w| w.len() + 1).sum::<usize>() - 1;
    Some(&name[..end])
}

/// The words of at least two that every name of `names` (two or more)
/// starts with: "Office 365" for "Office 365 GCC" and "Office 365 GCC High".
fn shared_head(names: &[Service]) -> Option<String> {
    if names.len() < 2 {
        return None;
    }
    let first: Vec<&str> = names[0].name().split(' ').collect();
    let mut len = first.len().saturating_sub(1);
    for n in &names[1..] {
        let words: Vec<&str> = n.name().split(' ').collect();
        len = len.min(first.iter().zip(&words).take_while(|(a, b)| a == b).count());
        len = len.min(words.len().saturating_sub(1));
    }
    (len >= 2).then(|| first[..len].join(" "))
}

fn strip_conjunction(part: &str) -> &str {
    for conj in ["and ", "& ", "et ", "und ", "y ", "e ", "en ", "or "] {
        if let Some(rest) = part.strip_prefix(conj) {
            return rest;
        }
    }
    part
}

/// Splits on an inner "and"/"&" only where both sides are service names of
/// their own (see [`BRANDS`]).
///
/// After each split the rest is read as a part of its own: the first
/// occurrence of each conjunction in it is tried, most telling first. A
/// split only moves the start forward, so each conjunction's occurrences,
/// found once, are walked once, and the part is read in linear time (a
/// search of the rest after each split was quadratic).
fn split_and(part: &str) -> Vec<&str> {
    // Most names have no conjunction: a plain search, with its fast
    // prefilter, rules that out before the overlapping one.
    if !CONJUNCTION_FINDER.is_match(part) {
        return vec![part];
    }
    // Each conjunction's occurrences in order, with the word after each.
    let mut found: [Vec<(usize, &str)>; CONJUNCTIONS.len()] = Default::default();
    for m in CONJUNCTION_FINDER.find_overlapping_iter(part) {
        found[m.pattern().as_usize()].push((m.start(), first_word(&part[m.end()..])));
    }
    let mut next = [0; CONJUNCTIONS.len()];
    let mut names = Vec::new();
    let mut start = 0;
    'rest: loop {
        for (c, conj) in CONJUNCTIONS.iter().enumerate() {
            while found[c].get(next[c]).is_some_and(|&(pos, _)| pos < start) {
                next[c] += 1;
            }
            let Some(&(pos, right_first)) = found[c].get(next[c]) else {
                continue;
            };
            if right_first == first_word(&part[start..pos]) || BRANDS.contains(&right_first) {
                names.push(&part[start..pos]);
                start = pos + conj.len();
                continue 'rest;
            }
        }
        names.push(&part[start..]);
        return names;
    }
}

/// Whether a name reads as several written together: a conjunction between
/// names ("&" aside, which many single names hold), or its first word
/// written again ("Office 365美国政府Office 365美国国防队", a lost comma).
pub(crate) fn reads_as_several(name: &str) -> bool {
    let first = first_word(name);
    CONJUNCTION_FINDER
        .find_overlapping_iter(name)
        .any(|m| CONJUNCTIONS[m.pattern().as_usize()] != " & ")
        || (!first.is_empty() && name[first.len()..].contains(first))
}

fn first_word(text: &str) -> &str {
    text.split_whitespace().next().unwrap_or("")
}

/// Conjunctions that may join two service names, most telling first.
/// Chinese writes its "and" without spaces ("Azure 政府和 Azure 德国").
const CONJUNCTIONS: [&str; 8] = [" and ", " & ", " et ", " und ", " y ", "与", "和", "及"];

static CONJUNCTION_FINDER: LazyLock<AhoCorasick> =
    LazyLock::new(|| crate::word_finder(CONJUNCTIONS, MatchKind::Standard));

#[cfg(test)]
mod tests;
