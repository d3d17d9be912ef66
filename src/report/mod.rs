//! Rendering diffs and snapshots for people (text, Markdown, the HTML report
//! in [`html`] from what [`data`] gathers, the Atom feed in [`feed`]) and
//! programs (JSON, CSV). Everything taken from a page is escaped for the
//! target format. Text for terminals carries colors, which `anstream` strips
//! when the output is not a terminal or `NO_COLOR` is set.

pub mod data;
pub mod feed;
pub mod fields;
pub mod html;
pub mod lag;
mod log;
pub mod matrix;

pub use fields::events_csv;
pub(crate) use log::placed;
pub use log::{events_markdown, events_text};

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::diff::{Change, Diff, LinkChange};
use crate::history::{EventKind, Matrix, SourceDiff, Timeline};
use crate::model::Snapshot;

/// "2 renamed, 1 added, 1 link changed", or "no change".
pub fn summary(diff: &Diff) -> String {
    let counts = [
        (diff.added().len(), "added"),
        (diff.removed().len(), "removed"),
        (diff.renamed().len(), "renamed"),
        (diff.moved().len(), "moved"),
        (diff.qualified().len(), "requalified"),
        (diff.links().len(), "report link(s) changed"),
        (diff.reworded().len(), "reworded"),
    ];
    let parts: Vec<String> = counts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}"))
        .collect();
    if let Some(why) = &diff.not_compared {
        let mut line = format!("scope not compared: {why}");
        if !parts.is_empty() {
            line.push_str(&format!("; {}", parts.join(", ")));
        }
        return line;
    }
    match (parts.is_empty(), diff.has_scope_changes()) {
        (true, _) => "no change".into(),
        (false, true) => parts.join(", "),
        (false, false) => format!("no scope change ({})", parts.join(", ")),
    }
}

/// The services a diff's scope changes name, for a one-line run summary:
/// `added Windows 365; renamed Microsoft Flow → Power Automate`.
pub fn services_changed(diff: &Diff) -> String {
    let names = |list: Vec<String>| list.join(", ");
    let parts = [
        (
            "added",
            names(diff.added().iter().map(|e| e.service.to_string()).collect()),
        ),
        (
            "removed",
            names(
                diff.removed()
                    .iter()
                    .map(|e| e.service.to_string())
                    .collect(),
            ),
        ),
        (
            "renamed",
            names(
                diff.renamed()
                    .iter()
                    .map(|r| format!("{} → {}", r.from, r.to))
                    .collect(),
            ),
        ),
        (
            "moved",
            names(diff.moved().iter().map(|m| m.service.to_string()).collect()),
        ),
    ];
    parts
        .iter()
        .filter(|(_, list)| !list.is_empty())
        .map(|(what, list)| format!("{what} {list}"))
        .collect::<Vec<_>>()
        .join("; ")
}

fn env_suffix(environment: &Option<String>) -> String {
    environment
        .as_ref()
        .map(|e| format!("  [{e}]"))
        .unwrap_or_default()
}

/// Where a service was listed: a row, or the page-wide list.
fn place(environment: &Option<String>) -> &str {
    environment.as_deref().unwrap_or("page-wide list")
}

/// " (es-es: Skype Empresarial)": how translated pages spell a service,
/// by locale, to follow its English name; empty where none respells it.
pub fn spelled(localized: &BTreeMap<String, String>) -> String {
    if localized.is_empty() {
        return String::new();
    }
    format!(" ({})", spellings(localized))
}

/// "de-de: Skype for Business; es-es: Skype Empresarial".
pub(crate) fn spellings(localized: &BTreeMap<String, String>) -> String {
    localized
        .iter()
        .map(|(locale, name)| format!("{locale}: {name}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// "(part of Office 365 Microservices)" for a service named in an
/// "including ..." list.
fn part_of(entry: &crate::diff::Entry) -> String {
    entry
        .parent
        .as_ref()
        .map(|p| format!(" (part of {p})"))
        .unwrap_or_default()
}

/// A list of scope-bearing qualifiers, or "none".
fn qualifiers(list: &[String]) -> String {
    if list.is_empty() {
        "none".into()
    } else {
        list.iter()
            .map(|q| format!("\"{q}\""))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// One line per change, for terminals and logs.
fn change_line(change: &Change) -> String {
    match change {
        Change::Added(e) => format!(
            "added     {}{}{}{}",
            e.service,
            spelled(&e.localized),
            part_of(e),
            env_suffix(&e.environment)
        ),
        Change::Removed(e) => format!(
            "removed   {}{}{}{}",
            e.service,
            spelled(&e.localized),
            part_of(e),
            env_suffix(&e.environment)
        ),
        Change::Renamed(r) => {
            let confidence = if r.confidence < 1.0 {
                format!(", confidence {:.2}", r.confidence)
            } else {
                String::new()
            };
            format!(
                "renamed   {}{} → {}{}{}  ({}{confidence})",
                r.from,
                spelled(&r.from_localized),
                r.to,
                spelled(&r.to_localized),
                env_suffix(&r.environment),
                r.evidence.describe()
            )
        }
        Change::Moved(m) => format!(
            "moved     {}{}: {} → {}",
            m.service,
            spelled(&m.localized),
            place(&m.from),
            place(&m.to)
        ),
        Change::Qualified(q) => format!(
            "qualified {}{}: {} → {}",
            q.services.join(", "),
            env_suffix(&q.environment),
            qualifiers(&q.from),
            qualifiers(&q.to)
        ),
        Change::Reworded(r) => format!(
            "reworded  {}{}: \"{}\" → \"{}\"",
            r.services.join(", "),
            env_suffix(&r.environment),
            r.from,
            r.to
        ),
        Change::Link(LinkChange::Added {
            section,
            title,
            url,
        }) => link_line('+', section, title, url),
        Change::Link(LinkChange::Removed {
            section,
            title,
            url,
        }) => link_line('-', section, title, url),
        Change::Link(LinkChange::UrlChanged {
            section,
            title,
            from,
            to,
        }) => {
            format!("link url  {section}: {title}: <{from}> → <{to}>")
        }
    }
}

/// Colors a report line by its leading tag word (added, removed ...).
fn paint(line: &str) -> String {
    use anstyle::{AnsiColor, Style};
    let tag = line.split_whitespace().next().unwrap_or("");
    let color = match tag {
        "added" => AnsiColor::Green,
        "removed" => AnsiColor::Red,
        "renamed" => AnsiColor::Yellow,
        "moved" | "link" | "qualified" => AnsiColor::Cyan,
        "flip-flop" | "retired" => AnsiColor::Magenta,
        _ => return line.to_string(),
    };
    let style = Style::new().fg_color(Some(color.into())).bold();
    match line.split_once(tag) {
        Some((before, after)) => format!("{before}{style}{tag}{style:#}{after}"),
        None => line.to_string(),
    }
}

fn link_line(sign: char, section: &str, title: &str, url: &Option<String>) -> String {
    format!(
        "link {sign}    {section}: {title} <{}>",
        url.as_deref().unwrap_or("no target")
    )
}

/// Scope changes first, then wordings that are not scope changes.
fn ordered(diff: &Diff) -> impl Iterator<Item = &Change> {
    let rank = |c: &Change| match c {
        Change::Renamed(_) => 0,
        Change::Added(_) => 1,
        Change::Removed(_) => 2,
        Change::Moved(_) => 3,
        Change::Qualified(_) => 4,
        Change::Link(_) => 5,
        Change::Reworded(_) => 6,
    };
    let mut changes: Vec<&Change> = diff.changes.iter().collect();
    changes.sort_by_key(|c| rank(c));
    changes.into_iter()
}

/// A line of a human report: one change, or the services added to or
/// removed from one applicability row, which come by the dozen when a page
/// gains or loses a table.
enum Line<'a> {
    One(&'a Change),
    Row {
        added: bool,
        environment: &'a str,
        /// Each service with its translated spelling beside it.
        services: Vec<String>,
    },
}

fn lines(diff: &Diff) -> Vec<Line<'_>> {
    let mut out: Vec<Line<'_>> = Vec::new();
    for change in ordered(diff) {
        let (added, entry) = match change {
            Change::Added(e) if e.parent.is_none() => (true, e),
            Change::Removed(e) if e.parent.is_none() => (false, e),
            _ => {
                out.push(Line::One(change));
                continue;
            }
        };
        let Some(environment) = entry.environment.as_deref() else {
            out.push(Line::One(change));
            continue;
        };
        match out.last_mut() {
            Some(Line::Row {
                added: a,
                environment: e,
                services,
            }) if *a == added && *e == environment => {
                services.push(format!("{}{}", entry.service, spelled(&entry.localized)));
            }
            _ => out.push(Line::Row {
                added,
                environment,
                services: vec![format!("{}{}", entry.service, spelled(&entry.localized))],
            }),
        }
    }
    out
}

fn text_line(line: &Line<'_>) -> String {
    match line {
        Line::One(change) => change_line(change),
        Line::Row {
            added,
            environment,
            services,
        } => format!(
            "{}   [{environment}] {}",
            if *added { "added  " } else { "removed" },
            services.join(", ")
        ),
    }
}

fn markdown_item(line: &Line<'_>) -> String {
    match line {
        Line::One(change) => markdown_line(change),
        Line::Row {
            added,
            environment,
            services,
        } => format!(
            "- **{}** ({}): {}",
            if *added { "Added" } else { "Removed" },
            escape_markdown(environment),
            escape_markdown(&services.join(", "))
        ),
    }
}

/// A diff of two files as text.
pub fn diff_text(diff: &Diff) -> String {
    let mut out = format!("{}\n", summary(diff));
    for line in lines(diff) {
        let _ = writeln!(out, "  {}", paint(&text_line(&line)));
    }
    out
}

/// Escapes text taken from a page for Markdown, so that it stays text.
pub fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '{' | '}' | '[' | ']' | '(' | ')' | '#' | '+' | '!' | '|'
            | '~' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\n' | '\r' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

fn markdown_line(change: &Change) -> String {
    let e = escape_markdown;
    let env = |environment: &Option<String>| {
        environment
            .as_ref()
            .map(|v| format!(" ({})", e(v)))
            .unwrap_or_default()
    };
    match change {
        Change::Added(a) => format!(
            "- **Added** {}{}{}{}",
            e(&a.service),
            e(&spelled(&a.localized)),
            e(&part_of(a)),
            env(&a.environment)
        ),
        Change::Removed(r) => format!(
            "- **Removed** {}{}{}{}",
            e(&r.service),
            e(&spelled(&r.localized)),
            e(&part_of(r)),
            env(&r.environment)
        ),
        Change::Renamed(r) => format!(
            "- **Renamed** {}{} → {}{}{}: {}{}",
            e(&r.from),
            e(&spelled(&r.from_localized)),
            e(&r.to),
            e(&spelled(&r.to_localized)),
            env(&r.environment),
            e(r.evidence.describe()),
            if r.confidence < 1.0 {
                format!(" (confidence {:.2})", r.confidence)
            } else {
                String::new()
            }
        ),
        Change::Moved(m) => format!(
            "- **Moved** {}{}: {} → {}",
            e(&m.service),
            e(&spelled(&m.localized)),
            e(place(&m.from)),
            e(place(&m.to))
        ),
        Change::Qualified(q) => format!(
            "- **Scope qualifier changed** {}{}: {} → {}",
            e(&q.services.join(", ")),
            env(&q.environment),
            e(&qualifiers(&q.from)),
            e(&qualifiers(&q.to))
        ),
        Change::Reworded(r) => format!(
            "- Reworded {}{}: “{}” → “{}”",
            e(&r.services.join(", ")),
            env(&r.environment),
            e(&r.from),
            e(&r.to)
        ),
        Change::Link(LinkChange::Added {
            section,
            title,
            url,
        }) => link_md("added", section, title, url),
        Change::Link(LinkChange::Removed {
            section,
            title,
            url,
        }) => link_md("removed", section, title, url),
        Change::Link(LinkChange::UrlChanged {
            section,
            title,
            from,
            to,
        }) => format!(
            "- **Report link changed** {}: {}: {} → {}",
            e(section),
            e(title),
            url_md(Some(from)),
            url_md(Some(to))
        ),
    }
}

fn link_md(what: &str, section: &str, title: &str, url: &Option<String>) -> String {
    let e = escape_markdown;
    format!(
        "- **Report link {what}** {}: {} {}",
        e(section),
        e(title),
        url_md(url.as_deref())
    )
}

fn url_md(url: Option<&str>) -> String {
    match url {
        Some(u) => format!("`{}`", u.replace('`', "%60")),
        None => "(no target)".into(),
    }
}

/// A diff of two files as Markdown, to paste into an issue or a chat.
pub fn diff_markdown(diff: &Diff) -> String {
    let mut out = format!(
        "**Scope change summary:** {}\n\n",
        escape_markdown(&summary(diff))
    );
    for line in lines(diff) {
        out.push_str(&markdown_item(&line));
        out.push('\n');
    }
    out
}

/// Changes of sources between dates as text, one block per source and step.
pub fn source_diffs_text(diffs: &[SourceDiff]) -> String {
    let mut out = String::new();
    let mut current: Option<&str> = None;
    for d in diffs {
        if current != Some(d.source.as_str()) {
            if current.is_some() {
                out.push('\n');
            }
            let _ = writeln!(
                out,
                "{}{}",
                d.source,
                d.title
                    .as_ref()
                    .map(|t| format!(": {t}"))
                    .unwrap_or_default()
            );
            current = Some(&d.source);
        }
        let _ = writeln!(out, "  {} → {}   {}", d.from, d.to, summary(&d.diff));
        for line in lines(&d.diff) {
            let _ = writeln!(out, "      {}", paint(&text_line(&line)));
        }
    }
    out
}

/// Changes of sources between dates as Markdown.
pub fn source_diffs_markdown(diffs: &[SourceDiff]) -> String {
    let mut out = String::new();
    let mut current: Option<&str> = None;
    for d in diffs {
        if current != Some(d.source.as_str()) {
            let title = d
                .title
                .as_ref()
                .map(|t| format!(": {}", escape_markdown(t)))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "{}## {}{title}\n",
                if current.is_some() { "\n" } else { "" },
                escape_markdown(&d.source)
            );
            current = Some(&d.source);
        }
        let _ = writeln!(
            out,
            "### {} → {}: {}\n",
            d.from,
            d.to,
            escape_markdown(&summary(&d.diff))
        );
        for line in lines(&d.diff) {
            out.push_str(&markdown_item(&line));
            out.push('\n');
        }
        if !d.diff.is_empty() {
            out.push('\n');
        }
    }
    out
}

/// A parsed page as text: its sections, items and the services they name.
pub fn snapshot_text(s: &Snapshot) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", s.title.as_deref().unwrap_or("(untitled page)"));
    let _ = writeln!(
        out,
        "form: {}   locale: {}   published: {}",
        s.form.as_str(),
        s.locale.as_deref().unwrap_or("unknown"),
        s.published
            .map(|d| d.to_string())
            .unwrap_or_else(|| "unknown".into())
    );
    for scope in &s.scopes {
        let _ = writeln!(out, "\n{}{}", scope.section, env_suffix(&scope.environment));
        for item in &scope.items {
            let services: Vec<&str> = item.services.iter().map(|s| s.name()).collect();
            let _ = write!(out, "  - {}", services.join(" | "));
            if !item.formerly.is_empty() {
                let formerly: Vec<&str> = item.formerly.iter().map(|s| s.name()).collect();
                let _ = write!(out, "  (formerly {})", formerly.join(", "));
            }
            out.push('\n');
        }
    }
    if !s.links.is_empty() {
        out.push_str("\nReport and certificate links\n");
        for link in &s.links {
            let _ = writeln!(
                out,
                "  - {}: {} <{}>",
                link.section,
                link.title,
                link.url.as_deref().unwrap_or("no target")
            );
        }
    }
    out
}

fn csv_string(rows: impl IntoIterator<Item = Vec<String>>) -> std::io::Result<String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    for row in rows {
        writer.write_record(&row)?;
    }
    let bytes = writer.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// "(3 edits in 2 days: ...)": the steps of a flip-flop.
fn edits(dates: &[chrono::NaiveDate]) -> String {
    let span = match (dates.first(), dates.last()) {
        (Some(a), Some(b)) => (*b - *a).num_days(),
        _ => 0,
    };
    format!(
        "({} edits in {span} days: {})",
        dates.len(),
        dates
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// One line describing a log event, without its date and source.
pub(crate) fn event_line(what: &EventKind) -> String {
    match what {
        EventKind::Change(change) => change_line(change),
        EventKind::FlipFlop {
            service,
            environment,
            states,
            dates,
        } => {
            let what = if states.iter().any(|s| s == "listed") {
                format!("{service}: {}", states.join(" → "))
            } else {
                states.join(" → ")
            };
            format!(
                "flip-flop {what}{}  {}",
                env_suffix(environment),
                edits(dates)
            )
        }
        EventKind::LinkFlipFlop {
            section,
            title,
            states,
            dates,
        } => format!(
            "flip-flop report link {section}: {title}: {}  {}",
            states.join(" → "),
            edits(dates)
        ),
        EventKind::Retired { how } => format!("retired   page retired: {how}"),
    }
}

/// A service's timeline as text.
pub fn timeline_text(t: &Timeline) -> String {
    let mut out = format!("{}{}\n", t.service, spelled(&t.localized));
    if t.names.len() > 1 {
        let _ = writeln!(out, "  known as: {}", t.names.join(", "));
    }
    if t.offerings.is_empty() {
        out.push_str("  in no offering's scope in this history\n");
    }
    for (source, spans) in &t.offerings {
        for span in spans {
            let until = match (&span.to, &span.ended) {
                (Some(to), Some(why)) => format!("{to} ({why})"),
                _ => "now".into(),
            };
            let _ = write!(
                out,
                "  {source:<40} {} → {until:<24} as {}",
                span.from,
                span.names.join(", ")
            );
            if !span.environments.is_empty() {
                let _ = write!(out, "  in {}", span.environments.join(", "));
            }
            out.push('\n');
        }
    }
    out
}

/// A service's timeline as CSV: one row per span.
pub fn timeline_csv(t: &Timeline) -> std::io::Result<String> {
    let header = [
        "service",
        "offering",
        "from",
        "to",
        "ended",
        "names",
        "environments",
    ]
    .map(String::from)
    .to_vec();
    let rows = t.offerings.iter().flat_map(|(source, spans)| {
        spans.iter().map(move |s| {
            vec![
                t.service.clone(),
                source.clone(),
                s.from.to_string(),
                s.to.map(|d| d.to_string()).unwrap_or_default(),
                s.ended.clone().unwrap_or_default(),
                s.names.join("; "),
                s.environments.join("; "),
            ]
        })
    });
    csv_string(std::iter::once(header).chain(rows))
}

/// The services × offerings matrix as CSV, an `x` where a service is in
/// scope; a last column of translated spellings where there are any.
pub fn matrix_csv(m: &Matrix) -> std::io::Result<String> {
    let translated = !m.localized.is_empty();
    let header = std::iter::once("service".to_string())
        .chain(m.offerings.iter().cloned())
        .chain(translated.then(|| "localized".to_string()))
        .collect();
    let rows = m.services.iter().map(|(service, offerings)| {
        let localized = m.localized.get(service).map(spellings);
        std::iter::once(service.clone())
            .chain(m.offerings.iter().map(|o| {
                if offerings.contains(o) {
                    "x".into()
                } else {
                    String::new()
                }
            }))
            .chain(translated.then(|| localized.unwrap_or_default()))
            .collect()
    });
    csv_string(std::iter::once(header).chain(rows))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::Entry;

    #[test]
    fn page_text_cannot_inject_markdown_or_html() {
        let diff = Diff {
            changes: vec![Change::Added(Entry {
                service: "<script>alert(1)</script> [x](javascript:y)".into(),
                environment: None,
                parent: None,
                text: String::new(),
                localized: BTreeMap::new(),
            })],
            warnings: vec![],
            not_compared: None,
        };
        let md = diff_markdown(&diff);
        assert!(!md.contains("<script>"), "{md}");
        assert!(md.contains("&lt;script&gt;"));
        assert!(md.contains("\\[x\\]\\(javascript:y\\)"));
    }

    #[test]
    fn summary_separates_scope_changes_from_rewordings() {
        assert_eq!(summary(&Diff::default()), "no change");
    }
}
