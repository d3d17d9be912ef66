//! An Atom feed of scope change events, for feed readers and chat tools.
//!
//! Entry ids are derived from the event itself (source, date and content),
//! so a regenerated feed keeps its ids and readers never show an event twice.

use atom_syndication::{Content, Entry, Feed, FixedDateTime, Link, Text};
use chrono::{TimeZone, Utc};
use sha2::{Digest, Sha256};

use super::event_line;
use crate::history::Event;

/// The stable id of an event.
pub fn event_id(event: &Event) -> String {
    let body = serde_json::to_string(event).unwrap_or_default();
    let digest = hex::encode(&Sha256::digest(body.as_bytes())[..10]);
    format!(
        "urn:scopewatch:event:{}:{}:{digest}",
        event.source, event.date
    )
}

/// Renders events (newest first in the feed) with each source's page URL.
pub fn render(events: &[Event], url_of: impl Fn(&str) -> Option<String>, feed_id: &str) -> String {
    let when = |e: &Event| -> FixedDateTime {
        let midnight = e.date.and_hms_opt(0, 0, 0).unwrap_or_default();
        Utc.from_utc_datetime(&midnight).fixed_offset()
    };
    let mut entries: Vec<Entry> = events
        .iter()
        .map(|e| {
            let line = event_line(&e.what);
            let mut entry = Entry {
                id: event_id(e),
                title: Text::plain(format!(
                    "{}: {}",
                    e.source,
                    line.split_whitespace().collect::<Vec<_>>().join(" ")
                )),
                updated: when(e),
                published: Some(when(e)),
                content: Some(Content {
                    value: Some(serde_json::to_string_pretty(e).unwrap_or_default()),
                    content_type: Some("text".into()),
                    ..Content::default()
                }),
                ..Entry::default()
            };
            if let Some(url) = url_of(&e.source) {
                entry.links.push(Link {
                    href: url,
                    rel: "alternate".into(),
                    ..Link::default()
                });
            }
            entry
        })
        .collect();
    entries.reverse();
    let updated = entries
        .first()
        .map(|e| e.updated)
        .unwrap_or_else(|| Utc::now().fixed_offset());
    let feed = Feed {
        id: feed_id.to_string(),
        title: Text::plain("Cloud compliance scope changes"),
        updated,
        entries,
        ..Feed::default()
    };
    feed.to_string()
}
