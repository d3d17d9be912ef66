//! A log event as fields (kind, service, from, to, environment, evidence):
//! the columns of `log --format csv`, and what `log`'s filters look at.

use std::collections::BTreeMap;

use crate::diff::{Change, LinkChange};
use crate::history::{Event, EventKind};

/// The spellings of a name on translated pages, `None` for none.
fn spellings(localized: &BTreeMap<String, String>) -> Option<String> {
    (!localized.is_empty()).then(|| super::spellings(localized))
}

/// One event, field by field. `from` and `to` are the names of a rename,
/// the wordings of a rewording, the environments of a move, the addresses
/// of a link and the first and last states of a flip-flop.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventFields {
    pub kind: &'static str,
    pub service: String,
    pub from: Option<String>,
    pub to: Option<String>,
    pub environment: Option<String>,
    pub evidence: Option<String>,
    /// A translated page's own spelling of `service`, by locale.
    pub localized: Option<String>,
}

impl EventFields {
    /// Every service name the event mentions.
    pub fn names(&self) -> Vec<&str> {
        let mut names = vec![self.service.as_str()];
        if matches!(self.kind, "renamed" | "flip_flop") {
            names.extend(self.from.as_deref());
            names.extend(self.to.as_deref());
        }
        names
    }
}

/// The kinds an event can have, as `log --kind` and the CSV name them.
pub const KINDS: [&str; 10] = [
    "added",
    "removed",
    "renamed",
    "reworded",
    "qualified",
    "moved",
    "link",
    "flip_flop",
    "link_flip_flop",
    "retired",
];

pub fn fields(what: &EventKind) -> EventFields {
    match what {
        EventKind::Change(change) => change_fields(change),
        EventKind::FlipFlop {
            service,
            environment,
            states,
            dates,
        } => EventFields {
            kind: "flip_flop",
            service: service.clone(),
            from: states.first().cloned(),
            to: states.last().cloned(),
            environment: environment.clone(),
            evidence: Some(steps(states, dates)),
            localized: None,
        },
        EventKind::Retired { how } => EventFields {
            kind: "retired",
            evidence: Some(how.clone()),
            ..EventFields::default()
        },
        EventKind::LinkFlipFlop {
            section,
            title,
            states,
            dates,
        } => EventFields {
            kind: "link_flip_flop",
            service: format!("{section}: {title}"),
            from: states.first().cloned(),
            to: states.last().cloned(),
            evidence: Some(steps(states, dates)),
            ..EventFields::default()
        },
    }
}

/// A flip-flop's states, each after the first with the date it began.
fn steps(states: &[String], dates: &[chrono::NaiveDate]) -> String {
    states
        .iter()
        .enumerate()
        .map(|(i, s)| match i.checked_sub(1).and_then(|d| dates.get(d)) {
            Some(date) => format!("{s} ({date})"),
            None => s.clone(),
        })
        .collect::<Vec<_>>()
        .join(" → ")
}

fn change_fields(change: &Change) -> EventFields {
    match change {
        Change::Added(e) | Change::Removed(e) => EventFields {
            kind: if matches!(change, Change::Added(_)) {
                "added"
            } else {
                "removed"
            },
            service: e.service.clone(),
            environment: e.environment.clone(),
            localized: spellings(&e.localized),
            ..EventFields::default()
        },
        Change::Renamed(r) => EventFields {
            kind: "renamed",
            service: r.to.clone(),
            from: Some(r.from.clone()),
            to: Some(r.to.clone()),
            environment: r.environment.clone(),
            evidence: Some(if r.confidence < 1.0 {
                format!("{} ({:.2})", r.evidence.describe(), r.confidence)
            } else {
                r.evidence.describe().to_string()
            }),
            localized: spellings(&r.to_localized),
        },
        Change::Reworded(r) => EventFields {
            kind: "reworded",
            service: r.services.join(", "),
            from: Some(r.from.clone()),
            to: Some(r.to.clone()),
            environment: r.environment.clone(),
            evidence: None,
            localized: None,
        },
        Change::Moved(m) => EventFields {
            kind: "moved",
            service: m.service.clone(),
            from: Some(super::place(&m.from).to_string()),
            to: Some(super::place(&m.to).to_string()),
            localized: spellings(&m.localized),
            ..EventFields::default()
        },
        Change::Qualified(q) => EventFields {
            kind: "qualified",
            service: q.services.join(", "),
            from: Some(q.from.join("; ")),
            to: Some(q.to.join("; ")),
            environment: q.environment.clone(),
            evidence: None,
            localized: None,
        },
        Change::Link(link) => {
            let (section, title, from, to) = match link {
                LinkChange::Added {
                    section,
                    title,
                    url,
                } => (section, title, None, url.clone()),
                LinkChange::Removed {
                    section,
                    title,
                    url,
                } => (section, title, url.clone(), None),
                LinkChange::UrlChanged {
                    section,
                    title,
                    from,
                    to,
                } => (section, title, Some(from.clone()), Some(to.clone())),
            };
            EventFields {
                kind: "link",
                service: title.clone(),
                from,
                to,
                environment: None,
                evidence: Some(format!("section {section}")),
                localized: None,
            }
        }
    }
}

/// The change log as CSV, one column per field.
pub fn events_csv(events: &[Event]) -> std::io::Result<String> {
    let header = [
        "date",
        "source",
        "kind",
        "service",
        "from",
        "to",
        "environment",
        "evidence",
        "program",
        "localized",
    ]
    .map(String::from)
    .to_vec();
    let rows = events.iter().map(|e| {
        let f = fields(&e.what);
        vec![
            e.date.to_string(),
            e.source.clone(),
            f.kind.to_string(),
            f.service,
            f.from.unwrap_or_default(),
            f.to.unwrap_or_default(),
            f.environment.unwrap_or_default(),
            f.evidence.unwrap_or_default(),
            e.program.clone().unwrap_or_default(),
            f.localized.unwrap_or_default(),
        ]
    });
    super::csv_string(std::iter::once(header).chain(rows))
}
