//! The services × offerings matrix as text that fits a terminal, and as a
//! Markdown table.

use std::fmt::Write as _;

use super::{escape_markdown, spelled};
use crate::history::Matrix;

/// One line per service: its name, how many offerings list it, and which,
/// wrapped at `width` columns under the list's first column.
pub fn matrix_text(m: &Matrix, width: usize) -> String {
    let mut out = format!(
        "In scope on {}: {} services across {} offerings\n\n",
        m.date,
        m.services.len(),
        m.offerings.len()
    );
    let names: Vec<String> = m.services.keys().map(|s| named(m, s)).collect();
    // Translated spellings make names longer: they get half the width.
    let share = if m.localized.is_empty() { 3 } else { 2 };
    let name_width = names
        .iter()
        .map(|s| s.chars().count())
        .max()
        .unwrap_or(0)
        .min(width / share)
        .max(10);
    let indent = name_width + 7;
    for (mut name, offerings) in names.into_iter().zip(m.services.values()) {
        if name.chars().count() > name_width {
            name = name.chars().take(name_width - 1).collect::<String>() + "…";
        }
        let mut line = format!("{name:<name_width$}  {:>3}  ", offerings.len());
        let mut used = indent;
        for (i, offering) in offerings.iter().enumerate() {
            let item = if i + 1 < offerings.len() {
                format!("{offering}, ")
            } else {
                offering.clone()
            };
            if used > indent && used + item.trim_end().len() > width {
                line = line.trim_end().to_string();
                let _ = write!(line, "\n{:indent$}", "");
                used = indent;
            }
            used += item.chars().count();
            line.push_str(&item);
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// A Markdown table: a row per service, a column per offering, ✓ where the
/// offering lists the service.
pub fn matrix_markdown(m: &Matrix) -> String {
    let mut out = format!(
        "**In scope on {}**: {} services across {} offerings\n\n| Service |",
        m.date,
        m.services.len(),
        m.offerings.len()
    );
    for offering in &m.offerings {
        let _ = write!(out, " {} |", escape_markdown(offering));
    }
    out.push_str("\n|---|");
    out.push_str(&"---|".repeat(m.offerings.len()));
    out.push('\n');
    for (service, offerings) in &m.services {
        let _ = write!(out, "| {} |", escape_markdown(&named(m, service)));
        for offering in &m.offerings {
            out.push_str(if offerings.contains(offering) {
                " ✓ |"
            } else {
                " |"
            });
        }
        out.push('\n');
    }
    out
}

/// A service's name, with its translated spellings beside it.
fn named(m: &Matrix, service: &str) -> String {
    match m.localized.get(service) {
        Some(localized) => format!("{service}{}", spelled(localized)),
        None => service.to_string(),
    }
}
