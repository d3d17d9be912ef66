//! The tables of a scope-matrix page in HTML, each with the program the
//! page names for it (a tab title or heading before it).

use scraper::{ElementRef, Html, Node, Selector};

use super::{Matrix, MatrixProfile};
use crate::canon::clean;
use crate::parse::Document;
use crate::parse::html::parse_head;

/// The page's title, locale, date and provenance, and its tables in order.
pub(super) fn matrices(text: &str, profile: &MatrixProfile) -> (Document, Vec<Matrix>) {
    let html = Html::parse_document(text);
    let head = parse_head(&html, text);
    let selector = |css: &Option<String>| css.as_deref().and_then(|c| Selector::parse(c).ok());
    let root = selector(&profile.within)
        .and_then(|s| html.select(&s).next())
        .unwrap_or_else(|| html.root_element());
    let program = selector(&profile.program);
    let names_program = |el: ElementRef<'_>| match &program {
        Some(s) => s.matches(&el),
        None => matches!(el.value().name(), "h1" | "h2" | "h3" | "h4" | "h5" | "h6"),
    };
    let mut current = String::new();
    let mut out = Vec::new();
    // Document order, without descending into a table once read.
    let mut stack: Vec<ElementRef<'_>> = vec![root];
    while let Some(el) = stack.pop() {
        let name = el.value().name();
        if matches!(name, "script" | "style" | "template" | "noscript") {
            continue;
        }
        if names_program(el) {
            current = text_of(el);
            continue;
        }
        if name == "table" {
            let rows = rows(el);
            let mut rows = rows.into_iter();
            if let Some(header) = rows.next() {
                out.push(Matrix {
                    program: current.clone(),
                    header,
                    rows: rows.collect(),
                });
            }
            continue;
        }
        let children: Vec<ElementRef<'_>> = el.children().filter_map(ElementRef::wrap).collect();
        stack.extend(children.into_iter().rev());
    }
    (head, out)
}

/// A table's rows as cell texts, the first row being its header. Nested
/// tables are not descended into.
fn rows(table: ElementRef<'_>) -> Vec<Vec<String>> {
    fn collect(el: ElementRef<'_>, out: &mut Vec<Vec<String>>) {
        for child in el.children().filter_map(ElementRef::wrap) {
            match child.value().name() {
                "tr" => out.push(
                    child
                        .children()
                        .filter_map(ElementRef::wrap)
                        .filter(|c| matches!(c.value().name(), "td" | "th"))
                        .map(text_of)
                        .collect(),
                ),
                "thead" | "tbody" | "tfoot" => collect(child, out),
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    collect(table, &mut out);
    out
}

/// The visible text of an element, white space collapsed.
fn text_of(el: ElementRef<'_>) -> String {
    let mut text = String::new();
    for node in el.descendants() {
        match node.value() {
            Node::Text(t) => text.push_str(t),
            Node::Element(e) if e.name() == "br" => text.push(' '),
            _ => {}
        }
    }
    clean(&text)
}
