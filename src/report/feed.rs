//! An Atom feed of scope change events, for feed readers and chat tools.
//!
//! Entry ids are derived from the event itself (source, date and content),
//! so a regenerated feed keeps its ids and readers never show an event twice.

use atom_syndication::{Content, Entry, Feed, FixedDateTime, Generator, Link, Person, Text};
use chrono::{TimeZone, Utc};
use sha2::{Digest, Sha256};

use super::{event_line, placed};
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

/// An event as a person reads it: what changed, and the page it is on.
fn readable(event: &Event, line: &str, url: Option<&str>) -> String {
    let (tag, rest) = line.split_once(' ').unwrap_or((line, ""));
    maud::html! {
        p { b { (tag) } " " (rest.trim()) }
        p {
            "On " (event.source) ", " (event.date.to_string()) "."
            @if let Some(url) = url { " " a href=(url) { "Open the page" } }
        }
    }
    .into_string()
}

/// Renders events (newest first in the feed) with each source's page URL;
/// `self_url` is where the feed itself is published, if said.
pub fn render(
    events: &[Event],
    url_of: impl Fn(&str) -> Option<String>,
    feed_id: &str,
    self_url: Option<&str>,
) -> String {
    let when = |e: &Event| -> FixedDateTime {
        let midnight = e.date.and_hms_opt(0, 0, 0).unwrap_or_default();
        Utc.from_utc_datetime(&midnight).fixed_offset()
    };
    let mut entries: Vec<Entry> = events
        .iter()
        .map(|e| {
            let line = event_line(&e.what);
            let url = url_of(&e.source);
            let placed = placed(e);
            let mut entry = Entry {
                id: event_id(e),
                title: Text::plain(format!(
                    "{}: {}",
                    placed.place,
                    placed.line.split_whitespace().collect::<Vec<_>>().join(" ")
                )),
                updated: when(e),
                published: Some(when(e)),
                content: Some(Content {
                    value: Some(readable(e, &line, url.as_deref())),
                    content_type: Some("html".into()),
                    ..Content::default()
                }),
                ..Entry::default()
            };
            if let Some(url) = url {
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
    let links = self_url
        .map(|href| Link {
            href: href.to_string(),
            rel: "self".into(),
            mime_type: Some("application/atom+xml".into()),
            ..Link::default()
        })
        .into_iter()
        .collect();
    let feed = Feed {
        id: feed_id.to_string(),
        title: Text::plain("Cloud compliance scope changes"),
        updated,
        // Atom requires an author of the feed, or of every entry.
        authors: vec![Person {
            name: "scopewatch".into(),
            ..Person::default()
        }],
        generator: Some(Generator {
            value: "scopewatch".into(),
            version: Some(env!("CARGO_PKG_VERSION").into()),
            ..Generator::default()
        }),
        links,
        entries,
        ..Feed::default()
    };
    feed.to_string()
}
