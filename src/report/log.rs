//! The change log for people: each event placed by its page, or by page
//! and program on a scope-matrix page, as text and Markdown.

use std::fmt::Write as _;

use super::{escape_markdown, event_line, markdown_line, paint};
use crate::diff::Change;
use crate::history::{Event, EventKind};

/// Where an event happened and what, for people: the source and its line;
/// on a scope-matrix page "source / program" and the line without the
/// program ("added Amazon Bedrock"), which the place already names.
pub(crate) struct Placed {
    pub place: String,
    pub line: String,
    /// True when `place` names a program.
    pub program: bool,
}

pub(crate) fn placed(e: &Event) -> Placed {
    let Some(program) = &e.program else {
        return Placed {
            place: e.source.clone(),
            line: event_line(&e.what),
            program: false,
        };
    };
    let line = event_line(&without_environment(&e.what));
    // The tag's padding aligns columns of a list; after a name it is noise.
    let line = match line.split_once(' ') {
        Some((tag, rest)) => format!("{tag} {}", rest.trim_start()),
        None => line,
    };
    Placed {
        place: format!("{} / {program}", e.source),
        line,
        program: true,
    }
}

/// The event with its environment left out, for a line whose place names it.
fn without_environment(what: &EventKind) -> EventKind {
    let mut what = what.clone();
    match &mut what {
        EventKind::Change(Change::Added(e) | Change::Removed(e)) => e.environment = None,
        EventKind::Change(Change::Renamed(r)) => r.environment = None,
        EventKind::Change(Change::Reworded(r)) => r.environment = None,
        EventKind::Change(Change::Qualified(q)) => q.environment = None,
        EventKind::FlipFlop { environment, .. } => *environment = None,
        _ => {}
    }
    what
}

/// The scope change log as text, one event a line.
pub fn events_text(events: &[Event]) -> String {
    let mut out = String::new();
    for e in events {
        let p = placed(e);
        let sep = if p.program { ": " } else { "  " };
        let _ = writeln!(out, "{}  {}{sep}{}", e.date, p.place, paint(&p.line));
    }
    if events.is_empty() {
        out.push_str("no scope changes\n");
    }
    out
}

/// The scope change log as Markdown, one bullet per event.
pub fn events_markdown(events: &[Event]) -> String {
    let mut out = String::new();
    for e in events {
        let p = placed(e);
        let what = match (&e.what, p.program) {
            (EventKind::Change(change), false) => {
                markdown_line(change).trim_start_matches("- ").to_string()
            }
            (EventKind::Change(_), true) => match without_environment(&e.what) {
                EventKind::Change(change) => {
                    markdown_line(&change).trim_start_matches("- ").to_string()
                }
                _ => escape_markdown(&p.line),
            },
            _ => escape_markdown(&p.line),
        };
        let _ = writeln!(
            out,
            "- {} **{}**: {what}",
            e.date,
            escape_markdown(&p.place)
        );
    }
    if events.is_empty() {
        out.push_str("No scope changes.\n");
    }
    out
}
