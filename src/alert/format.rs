//! An alert in each channel's own form: Slack's mrkdwn blocks, a Teams
//! message card with facts, and e-mail as readable text with an HTML
//! alternative. Each is built from the queued JSON payload, the one shape
//! every event (scope change, anomaly, test) has.

use maud::html;
use serde_json::{Value, json};

/// What an alert says, channel-neutral.
struct Content {
    subject: String,
    /// The period compared, `2021-03-01 → 2021-04-30`, for a change.
    period: Option<String>,
    lines: Vec<Line>,
    /// A sentence, for an anomaly or a test.
    message: Option<String>,
    url: Option<String>,
}

/// One change: what happened, to what (`("added", "Windows 365  [GCC]")`),
/// and on a scope-matrix page the page and program it happened in
/// (`"aws-services-in-scope / FedRAMP High"`), which `what` then leaves out.
struct Line {
    tag: &'static str,
    what: String,
    place: Option<String>,
}

fn text(v: &Value) -> Option<String> {
    v.as_str().map(str::to_string)
}

fn env(v: &Value) -> String {
    v["environment"]
        .as_str()
        .map(|e| format!("  [{e}]"))
        .unwrap_or_default()
}

fn content(subject: &str, payload: &Value) -> Content {
    let list = |key: &str| payload[key].as_array().cloned().unwrap_or_default();
    let source = payload["source"].as_str().unwrap_or("");
    let mut lines = Vec::new();
    // A change in a program is placed by page and program; any other keeps
    // its environment beside it.
    let mut push = |tag: &'static str, e: &Value, what: &dyn Fn(&str) -> String| {
        let (place, env) = match e["program"].as_str() {
            Some(program) => (Some(format!("{source} / {program}")), String::new()),
            None => (None, env(e)),
        };
        lines.push(Line {
            tag,
            what: what(&env),
            place,
        });
    };
    for (key, tag) in [("added", "added"), ("removed", "removed")] {
        for e in list(key) {
            push(tag, &e, &|env| {
                format!("{}{env}", e["service"].as_str().unwrap_or(""))
            });
        }
    }
    for r in list("renamed") {
        let evidence = match r["evidence"].as_str() {
            Some("formerly") => "the page says formerly".to_string(),
            Some("alias") => "known rename".to_string(),
            _ => format!(
                "similar name, confidence {:.2}",
                r["confidence"].as_f64().unwrap_or(0.0)
            ),
        };
        push("renamed", &r, &|env| {
            format!(
                "{} → {}{env} ({evidence})",
                r["from"].as_str().unwrap_or(""),
                r["to"].as_str().unwrap_or(""),
            )
        });
    }
    for m in list("moved") {
        push("moved", &Value::Null, &|_| {
            format!(
                "{}: {} → {}",
                m["service"].as_str().unwrap_or(""),
                m["from"].as_str().unwrap_or(""),
                m["to"].as_str().unwrap_or("")
            )
        });
    }
    for l in list("links") {
        let tag = match l["change"].as_str() {
            Some("added") => "link added",
            Some("removed") => "link removed",
            _ => "link changed",
        };
        let target = l["url"].as_str().or(l["to"].as_str()).unwrap_or("");
        push(tag, &Value::Null, &|_| {
            format!(
                "{}: {} {target}",
                l["section"].as_str().unwrap_or(""),
                l["title"].as_str().unwrap_or("")
            )
            .trim_end()
            .to_string()
        });
    }
    let period = match (payload["from"].as_str(), payload["to"].as_str()) {
        (Some(from), Some(to)) => Some(format!("{from} → {to}")),
        _ => None,
    };
    Content {
        subject: subject.to_string(),
        period,
        lines,
        message: text(&payload["message"]),
        url: text(&payload["url"]),
    }
}

/// Slack's mrkdwn escapes only these three.
fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The longest text a Slack section block takes.
const SLACK_BLOCK: usize = 3000;

/// A Slack message: mrkdwn in blocks, and the subject as the notification text.
pub(super) fn slack(subject: &str, payload: &Value) -> Value {
    let c = content(subject, payload);
    let mut body = String::new();
    if let Some(period) = &c.period {
        body.push_str(&format!("{period}\n"));
    }
    if let Some(message) = &c.message {
        body.push_str(&format!("{}\n", slack_escape(message)));
    }
    let mut shown = 0;
    for line in &c.lines {
        let line = match &line.place {
            Some(place) => format!(
                "• {}: *{}* {}\n",
                slack_escape(place),
                line.tag,
                slack_escape(&line.what)
            ),
            None => format!("• *{}* {}\n", line.tag, slack_escape(&line.what)),
        };
        if body.len() + line.len() > SLACK_BLOCK - 100 {
            break;
        }
        body.push_str(&line);
        shown += 1;
    }
    if shown < c.lines.len() {
        body.push_str(&format!("… and {} more\n", c.lines.len() - shown));
    }
    if let Some(url) = &c.url {
        body.push_str(&format!("<{}|the page>\n", slack_escape(url)));
    }
    json!({
        "text": c.subject,
        "blocks": [
            { "type": "header", "text": { "type": "plain_text", "text": truncate(&c.subject, 150) } },
            { "type": "section", "text": { "type": "mrkdwn", "text": body.trim_end() } },
        ],
    })
}

fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// A Teams message card: each change a fact, and a button to the page.
pub(super) fn teams(subject: &str, payload: &Value) -> Value {
    let c = content(subject, payload);
    let facts: Vec<Value> = c
        .lines
        .iter()
        .map(|line| match &line.place {
            Some(place) => json!({ "name": place, "value": format!("{} {}", line.tag, line.what) }),
            None => json!({ "name": line.tag, "value": line.what }),
        })
        .collect();
    let mut card = json!({
        "@type": "MessageCard",
        "@context": "https://schema.org/extensions",
        "summary": c.subject,
        "title": c.subject,
        "sections": [{
            "activitySubtitle": c.period,
            "text": c.message,
            "facts": facts,
        }],
    });
    if let Some(url) = &c.url {
        card["potentialAction"] = json!([{
            "@type": "OpenUri",
            "name": "Open the page",
            "targets": [{ "os": "default", "uri": url }],
        }]);
    }
    card
}

/// An e-mail: plain text, and HTML with the same content.
pub(super) fn email(subject: &str, payload: &Value) -> (String, String) {
    let c = content(subject, payload);

    let mut plain = format!("{}\n\n", c.subject);
    if let Some(period) = &c.period {
        plain.push_str(&format!("{period}\n\n"));
    }
    if let Some(message) = &c.message {
        plain.push_str(&format!("{message}\n\n"));
    }
    // Tags aligned, except after a page and program, which vary in length.
    let width = c.lines.iter().map(|l| l.tag.len()).max().unwrap_or(0);
    for Line { tag, what, place } in &c.lines {
        plain.push_str(&match place {
            Some(place) => format!("  {place}: {tag} {what}\n"),
            None => format!("  {tag:<width$}  {what}\n"),
        });
    }
    if let Some(url) = &c.url {
        plain.push_str(&format!("\n{url}\n"));
    }
    let markup = html! {
        (maud::DOCTYPE)
        html {
            body style="font-family: sans-serif" {
                h2 { (c.subject) }
                @if let Some(period) = &c.period { p { (period) } }
                @if let Some(message) = &c.message { p { (message) } }
                @if !c.lines.is_empty() {
                    table cellpadding="4" {
                        @for line in &c.lines {
                            tr {
                                @if let Some(place) = &line.place { td { (place) } }
                                td { b { (line.tag) } } td { (line.what) }
                            }
                        }
                    }
                }
                @if let Some(url) = &c.url { p { a href=(url) { "Open the page" } } }
            }
        }
    };
    (plain, markup.into_string())
}
