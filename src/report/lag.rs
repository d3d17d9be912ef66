//! Translation lag for people: one block per translated source, one line per
//! difference with since when it has lasted.

use std::fmt::Write as _;

use crate::lag::{Gap, Lag, Side, SourceLag};

/// What a difference is, in a few words, and what it concerns.
pub fn gap_words(gap: &Gap) -> (&'static str, String) {
    let env = |e: &Option<String>| e.as_ref().map(|e| format!(" [{e}]")).unwrap_or_default();
    match gap {
        Gap::Missing {
            service,
            environment,
        } => (
            "not yet translated",
            format!("{service}{}: the English page lists it", env(environment)),
        ),
        Gap::Extra {
            service,
            environment,
        } => (
            "still listed",
            format!(
                "{service}{}: the English page no longer lists it",
                env(environment)
            ),
        ),
        Gap::Renamed {
            english,
            translation,
            environment,
            evidence,
        } => (
            "other name",
            format!(
                "English {english}, translation {translation}{} ({})",
                env(environment),
                evidence.describe()
            ),
        ),
        Gap::Moved {
            service,
            english,
            translation,
        } => (
            "other rows",
            format!(
                "{service}: English {}, translation {}",
                super::place(english),
                super::place(translation)
            ),
        ),
        Gap::MissingEnvironment { environment } => (
            "row missing",
            format!("{environment}: the English page has this row, the translation does not yet"),
        ),
        Gap::ExtraEnvironment { environment } => (
            "extra row",
            format!("{environment}: the translation still has this row, the English page does not"),
        ),
    }
}

/// Which page's new version opened a difference.
pub fn began_words(side: Side) -> &'static str {
    match side {
        Side::English => "the English page changed",
        Side::Translation => "the translation changed",
    }
}

/// Since when, how long, and which page's version opened the difference.
fn since_words(lag: &Lag) -> String {
    let days = match lag.days {
        1 => "1 day".to_string(),
        n => format!("{n} days"),
    };
    let side = match lag.began_with {
        Side::English => "English changed",
        Side::Translation => "translation changed",
    };
    format!("since {}  {days:>9}  {side:<19}", lag.since)
}

/// The heading of a source's block: what is compared with what, and how.
pub fn state_words(s: &SourceLag) -> String {
    match (&s.not_compared, s.lags.len()) {
        (Some(why), _) => format!("not compared: {why}"),
        (None, 0) => "in step with the English page".to_string(),
        (None, 1) => "1 difference".to_string(),
        (None, n) => format!("{n} differences"),
    }
}

/// The lag of every translated source as text.
pub fn lag_text(lags: &[SourceLag]) -> String {
    let mut out = String::new();
    for s in lags {
        let _ = writeln!(
            out,
            "{} against {} on {}: {}",
            s.source,
            s.english,
            s.at,
            state_words(s)
        );
        if let (Some(e), Some(t)) = (s.english_version, s.translation_version) {
            let _ = writeln!(out, "  versions in force: English {e}, translation {t}");
        }
        for lag in &s.lags {
            let (what, detail) = gap_words(&lag.gap);
            let _ = writeln!(out, "  {}  {what:<18}  {detail}", since_words(lag));
        }
    }
    if lags.is_empty() {
        out.push_str(
            "no translated sources: a translated page is stored under its English page's id with the locale appended (offering-soc-2-ja-jp beside offering-soc-2)\n",
        );
    }
    out
}
