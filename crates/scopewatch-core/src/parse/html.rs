//! A page as served by learn.microsoft.com: the article body is inside
//! `main` (in `div.content`); site header, navigation, table of contents,
//! feedback and footer are chrome and ignored.

use scraper::{ElementRef, Html, Node, Selector};

use super::{Block, Document, Inline, InlineBuilder, ListItem, learn, slug};
use crate::model::PageForm;

/// Elements that never hold article content.
const CHROME: &[&str] = &[
    "nav", "header", "footer", "aside", "script", "style", "noscript", "template", "form",
    "button", "svg", "iframe", "head",
];

/// A CSS selector, parsed once per process. The selectors are literals in
/// this file, so a bad one is a bug here. A static selector also lets a
/// search stop at its first match: collecting every match into a vector, as
/// a selector parsed per call required, walked the whole tree each time.
macro_rules! selector {
    ($css:literal) => {{
        static SELECTOR: std::sync::LazyLock<scraper::Selector> = std::sync::LazyLock::new(|| {
            scraper::Selector::parse($css).expect("valid selector literal")
        });
        &*SELECTOR
    }};
}
pub(super) use selector;

/// Parses an HTML page.
pub fn parse(text: &str) -> Document {
    let html = Html::parse_document(text);
    let mut doc = parse_head(&html, text);
    let main = html.select(selector!("main")).next();
    let parts = main.map(learn::article_parts).unwrap_or_default();
    let root = main.or_else(|| {
        [
            selector!("article"),
            selector!("[role=main]"),
            selector!("body"),
        ]
        .into_iter()
        .find_map(|s| html.select(s).next())
    });
    // The article parts lie below the page's h1, as does the root of a page
    // without `main`; keep the title as the first heading so the body reads
    // like the other forms.
    let below_title = !parts.is_empty() || root.is_some_and(|r| r.value().name() != "main");
    let mut too_deep = false;
    if parts.is_empty() {
        if let Some(root) = root {
            too_deep = walk(root, &mut doc.blocks, 0);
        }
    } else {
        for part in parts {
            too_deep |= walk(part, &mut doc.blocks, 0);
        }
    }
    let starts_with_title = matches!(doc.blocks.first(), Some(Block::Heading { level: 1, .. }));
    if let (true, false, Some(title)) = (below_title, starts_with_title, &doc.title) {
        doc.blocks.insert(
            0,
            Block::Heading {
                level: 1,
                text: title.clone(),
                anchor: Some(slug(title)),
            },
        );
    }
    if too_deep {
        doc.warnings.push(format!(
            "markup nested deeper than {MAX_DEPTH} levels was not read"
        ));
    }
    doc
}

/// What a page says about itself outside its article: title, locale,
/// date, provenance, and whether it was cut off.
pub(crate) fn parse_head(html: &Html, text: &str) -> Document {
    let mut doc = Document::new(PageForm::Html);
    doc.locale = html
        .root_element()
        .attr("lang")
        .map(str::to_string)
        .or_else(|| meta(html, "locale"))
        .map(|l| l.to_lowercase());
    let main = html.select(selector!("main")).next();
    doc.title = main
        .and_then(|m| find_within(m, |e| e.value().name() == "h1"))
        .map(|h| inline(h).text)
        .filter(|t| !t.is_empty())
        .or_else(|| first_text(html, selector!("h1")))
        .or_else(|| first_text(html, selector!("title")).map(strip_site_suffix));
    doc.published = learn::published(html);
    doc.provenance = learn::provenance(html);
    doc.truncated = looks_truncated(text);
    doc
}

/// Deepest element nesting read. Real pages nest a few dozen levels; a page
/// nested deeper is hostile or broken, and its depths are not content.
pub(super) const MAX_DEPTH: usize = 256;

/// The first element below `root` (breadth first, within [`MAX_DEPTH`]) that
/// matches. Descendant selectors would walk every ancestor of every element,
/// which a deeply nested page turns quadratic.
fn find_within<'a>(
    root: ElementRef<'a>,
    matches: impl Fn(ElementRef<'a>) -> bool,
) -> Option<ElementRef<'a>> {
    let mut level: Vec<ElementRef<'a>> = vec![root];
    for _ in 0..MAX_DEPTH {
        let mut next = Vec::new();
        for el in level {
            for child in el.children().filter_map(ElementRef::wrap) {
                if matches(child) {
                    return Some(child);
                }
                next.push(child);
            }
        }
        if next.is_empty() {
            return None;
        }
        level = next;
    }
    None
}

/// True when a tag name (any case) names an element that never has
/// content, so never nests. It runs on every tag of every page: the name is
/// lowered in a small buffer and matched once, not compared with each name.
fn is_void(name: &[u8]) -> bool {
    let mut buffer = [0u8; 6];
    let Some(lower) = buffer.get_mut(..name.len()) else {
        return false;
    };
    lower.copy_from_slice(name);
    lower.make_ascii_lowercase();
    matches!(
        &*lower,
        b"area"
            | b"base"
            | b"br"
            | b"col"
            | b"embed"
            | b"hr"
            | b"img"
            | b"input"
            | b"link"
            | b"meta"
            | b"param"
            | b"source"
            | b"track"
            | b"wbr"
    )
}

/// How deeply a page's tags nest, in one linear pass. The HTML tree builder
/// slows down with the square of the nesting depth, so a hostile page is
/// measured before it is parsed. It reads bytes, not characters: every page
/// is measured, and tag names are ASCII.
pub fn nesting_depth(text: &str) -> usize {
    let bytes = text.as_bytes();
    let (mut depth, mut deepest, mut i) = (0usize, 0usize, 0usize);
    while let Some(offset) = memchr::memchr(b'<', &bytes[i..]) {
        let start = i + offset + 1;
        let end = memchr::memchr(b'>', &bytes[start..]).map_or(bytes.len(), |e| start + e);
        let tag = &bytes[start..end];
        if let Some(closing) = tag.strip_prefix(b"/") {
            if !is_void(closing.trim_ascii()) {
                depth = depth.saturating_sub(1);
            }
        } else if tag.first().is_some_and(u8::is_ascii_alphabetic) && tag.last() != Some(&b'/') {
            let name_end = tag
                .iter()
                .position(|&b| b.is_ascii_whitespace() || b == b'/')
                .unwrap_or(tag.len());
            if !is_void(&tag[..name_end]) {
                depth += 1;
                deepest = deepest.max(depth);
            }
        }
        i = end;
        if i >= bytes.len() {
            break;
        }
    }
    deepest
}

/// A page that opens `<html>` but never closes it was cut off in transit.
pub fn looks_truncated(text: &str) -> bool {
    let tail: String = text
        .trim_end()
        .chars()
        .rev()
        .take(64)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let opened = text
        .get(..text.len().min(4096))
        .is_some_and(|head| head.to_ascii_lowercase().contains("<html"));
    opened && !tail.to_ascii_lowercase().contains("</html>")
}

pub(super) fn meta(html: &Html, name: &str) -> Option<String> {
    html.select(selector!("meta"))
        .find(|m| m.attr("name").or(m.attr("property")) == Some(name))
        .and_then(|m| m.attr("content"))
        .map(str::to_string)
}

fn first_text(html: &Html, selector: &Selector) -> Option<String> {
    html.select(selector)
        .map(|e| inline(e).text)
        .find(|t| !t.is_empty())
}

fn strip_site_suffix(title: String) -> String {
    match title.rsplit_once(" | ") {
        Some((page, _site)) => page.to_string(),
        None => title,
    }
}

/// True for page chrome: the tags above, and feedback or hidden blocks.
pub(super) fn is_chrome(el: ElementRef<'_>) -> bool {
    let v = el.value();
    let name = v.name();
    if CHROME.iter().any(|c| c.eq_ignore_ascii_case(name)) || v.attr("hidden").is_some() {
        return true;
    }
    if matches!(
        v.attr("role"),
        Some("navigation" | "banner" | "contentinfo" | "complementary")
    ) {
        return true;
    }
    // Runs on every element: compare in place rather than lowering copies.
    let marked = |mark: Option<&str>| {
        mark.is_some_and(|m| {
            contains_ignore_ascii_case(m, "feedback")
                || contains_ignore_ascii_case(m, "page-metadata")
        })
    };
    marked(v.attr("id")) || marked(v.attr("class"))
}

/// `haystack.to_lowercase().contains(needle)` for an ASCII, lower-case
/// needle, without the copy.
fn contains_ignore_ascii_case(haystack: &str, needle: &str) -> bool {
    haystack
        .as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// Reads the blocks below `el`; true when some lay deeper than [`MAX_DEPTH`].
fn walk(el: ElementRef<'_>, out: &mut Vec<Block>, depth: usize) -> bool {
    if depth >= MAX_DEPTH {
        return true;
    }
    let mut too_deep = false;
    let mut loose = InlineBuilder::default();
    for child in el.children() {
        let Some(child_el) = ElementRef::wrap(child) else {
            if let Node::Text(t) = child.value() {
                loose.push(t);
            }
            continue;
        };
        if is_chrome(child_el) {
            continue;
        }
        // The tree builder gives HTML elements lower-case names.
        let name = child_el.value().name();
        let block = match name {
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => Some(heading(child_el, name)),
            "p" | "pre" | "blockquote" => Some(Block::Paragraph(inline(child_el))),
            "ul" | "ol" => Some(Block::List(list_items(child_el, 0))),
            "table" => Some(table(child_el)),
            "a" | "span" | "strong" | "em" | "b" | "i" | "code" => {
                collect_inline(child_el, &mut loose);
                None
            }
            _ => {
                flush(&mut loose, out);
                too_deep |= walk(child_el, out, depth + 1);
                None
            }
        };
        if let Some(block) = block {
            flush(&mut loose, out);
            out.push(block);
        }
    }
    flush(&mut loose, out);
    too_deep
}

/// Text standing loose between blocks becomes a paragraph of its own.
fn flush(loose: &mut InlineBuilder, out: &mut Vec<Block>) {
    let builder = std::mem::take(loose);
    if !builder.is_blank() {
        out.push(Block::Paragraph(builder.finish()));
    }
}

fn heading(el: ElementRef<'_>, name: &str) -> Block {
    let level = name[1..].parse().unwrap_or(2);
    let mut builder = InlineBuilder::default();
    collect_inline(el, &mut builder);
    let anchor = el
        .attr("id")
        .map(str::to_string)
        .or_else(|| builder.anchor.clone());
    let text = builder.finish().text;
    let anchor = anchor.or_else(|| Some(slug(&text)).filter(|s| !s.is_empty()));
    Block::Heading {
        level,
        text,
        anchor,
    }
}

/// Nested lists deeper than this are read as text of their item.
const MAX_LIST_DEPTH: usize = 16;

fn list_items(el: ElementRef<'_>, depth: usize) -> Vec<ListItem> {
    el.children()
        .filter_map(ElementRef::wrap)
        .filter(|li| li.value().name().eq_ignore_ascii_case("li"))
        .map(|li| {
            let mut content = InlineBuilder::default();
            let mut children = Vec::new();
            for child in li.children() {
                match ElementRef::wrap(child) {
                    Some(c)
                        if matches!(c.value().name(), "ul" | "ol") && depth < MAX_LIST_DEPTH =>
                    {
                        children.extend(list_items(c, depth + 1))
                    }
                    Some(c) if !is_chrome(c) => {
                        collect_inline(c, &mut content);
                        content.push(" ");
                    }
                    Some(_) => {}
                    None => {
                        if let Node::Text(t) = child.value() {
                            content.push(t);
                        }
                    }
                }
            }
            ListItem {
                content: content.finish(),
                children,
            }
        })
        .collect()
}

fn table(el: ElementRef<'_>) -> Block {
    let mut rows: Vec<(bool, Vec<Inline>)> = Vec::new();
    collect_rows(el, &mut rows);
    let header = match rows.first() {
        Some((true, _)) => rows.remove(0).1,
        _ => Vec::new(),
    };
    Block::Table {
        header,
        rows: rows.into_iter().map(|(_, cells)| cells).collect(),
    }
}

/// Rows of a table in order, each marked whether it holds only `th` cells.
/// Nested tables are not descended into.
fn collect_rows(el: ElementRef<'_>, rows: &mut Vec<(bool, Vec<Inline>)>) {
    for child in el.children().filter_map(ElementRef::wrap) {
        match child.value().name() {
            "tr" => {
                let cells: Vec<ElementRef<'_>> = child
                    .children()
                    .filter_map(ElementRef::wrap)
                    .filter(|c| matches!(c.value().name(), "td" | "th"))
                    .collect();
                let all_th = !cells.is_empty() && cells.iter().all(|c| c.value().name() == "th");
                rows.push((all_th, cells.into_iter().map(inline).collect()));
            }
            "thead" | "tbody" | "tfoot" => collect_rows(child, rows),
            _ => {}
        }
    }
}

/// The visible text and links inside an element.
fn inline(el: ElementRef<'_>) -> Inline {
    let mut builder = InlineBuilder::default();
    collect_inline(el, &mut builder);
    builder.finish()
}

fn collect_inline(el: ElementRef<'_>, builder: &mut InlineBuilder) {
    collect_inline_within(el, builder, 0);
}

fn collect_inline_within(el: ElementRef<'_>, builder: &mut InlineBuilder, depth: usize) {
    let name = el.value().name();
    if CHROME.contains(&name) || depth >= MAX_DEPTH {
        return;
    }
    let href = (name == "a").then(|| el.attr("href")).flatten();
    if name == "a" && builder.anchor.is_none() {
        builder.anchor = el.attr("name").or(el.attr("id")).map(str::to_string);
    }
    if let Some(href) = href {
        builder.start_link(href);
    }
    for child in el.children() {
        match child.value() {
            Node::Text(t) => builder.push(t),
            Node::Element(e) if e.name() == "br" => builder.push(" "),
            Node::Element(e) if matches!(e.name(), "p" | "div" | "li" | "td" | "th" | "tr") => {
                if let Some(c) = ElementRef::wrap(child) {
                    builder.push(" ");
                    collect_inline_within(c, builder, depth + 1);
                    builder.push(" ");
                }
            }
            Node::Element(_) => {
                if let Some(c) = ElementRef::wrap(child) {
                    collect_inline_within(c, builder, depth + 1);
                }
            }
            _ => {}
        }
    }
    if href.is_some() {
        builder.end_link();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = r##"<!DOCTYPE html><html lang="en-US"><head><title>Offering | Microsoft Learn</title>
<meta name="ms.date" content="06/15/2022"></head><body>
<header><nav><a href="/">Learn</a></nav></header>
<main id="main"><h1 id="offering">Offering</h1>
<div class="page-metadata-container"><time data-article-date datetime="2022-06-16T08:00:00Z">6/16/2022</time></div>
<nav id="center-doc-outline"><ul><li><a href="#x">In this article</a></li></ul></nav>
<div class="content">
<h2 id="microsoft-in-scope-cloud-services">Microsoft in-scope cloud services</h2>
<ul><li>Azure</li><li><a href="https://example.com/d">Dynamics <strong>365</strong></a><ul><li>detail</li></ul></li></ul>
<table><thead><tr><th><strong>Applicability</strong></th><th>In-scope services</th></tr></thead>
<tbody><tr><td><strong>GCC</strong></td><td>Exchange Online, Forms</td></tr></tbody></table>
</div>
<section class="feedback-section"><h2>Feedback</h2><ul><li>Yes</li></ul></section>
</main><footer><ul><li>Privacy</li></ul></footer></body></html>"##;

    #[test]
    fn article_body_without_chrome() {
        let doc = parse(PAGE);
        assert_eq!(doc.title.as_deref(), Some("Offering"));
        assert_eq!(doc.locale.as_deref(), Some("en-us"));
        assert_eq!(doc.published, chrono::NaiveDate::from_ymd_opt(2022, 6, 16));
        let headings: Vec<_> = doc
            .blocks
            .iter()
            .filter_map(|b| match b {
                Block::Heading { text, .. } => Some(text.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(headings, ["Offering", "Microsoft in-scope cloud services"]);
        let Block::List(items) = &doc.blocks[2] else {
            panic!("{:?}", doc.blocks)
        };
        assert_eq!(items.len(), 2);
        assert_eq!(items[1].content.text, "Dynamics 365");
        assert_eq!(
            items[1].content.links[0].url.as_deref(),
            Some("https://example.com/d")
        );
        assert_eq!(items[1].children[0].content.text, "detail");
        let Block::Table { header, rows } = &doc.blocks[3] else {
            panic!()
        };
        assert_eq!(header[0].text, "Applicability");
        assert_eq!(rows[0][0].text, "GCC");
    }

    fn nested(depth: usize, open: &str, close: &str) -> String {
        format!(
            "<html><body><main><div class=\"content\"><h2 id=\"in-scope\">In-scope services</h2><ul><li>Azure</li></ul>{}x{}</div></main></body></html>",
            open.repeat(depth),
            close.repeat(depth)
        )
    }

    #[test]
    fn nesting_depth_is_measured_linearly() {
        assert_eq!(nesting_depth(&nested(3, "<div>", "</div>")), 7);
        assert_eq!(nesting_depth("<p>a<br>b<img src=x/><br/></p>"), 1);
        assert_eq!(
            nesting_depth(&nested(100_000, "<div><span>", "</span></div>")),
            200_004
        );
    }

    #[test]
    fn content_deeper_than_the_cap_is_not_read() {
        let doc = parse(&nested(MAX_DEPTH + 10, "<div>", "</div>"));
        assert!(matches!(&doc.blocks[1], Block::List(items) if items[0].content.text == "Azure"));
        assert!(doc.warnings.iter().any(|w| w.contains("nested deeper")));
        let doc = parse(&nested(200, "<div><ul><li>", "</li></ul></div>"));
        assert!(matches!(&doc.blocks[1], Block::List(items) if items[0].content.text == "Azure"));
    }

    #[test]
    fn truncated_pages_are_recognised() {
        assert!(looks_truncated(
            "<!DOCTYPE html><html><body><main><ul><li>Azure</li>"
        ));
        assert!(!looks_truncated(PAGE));
        assert!(!looks_truncated("# Markdown page\n"));
    }

    #[test]
    fn title_falls_back_to_title_tag() {
        let doc = parse(
            "<html><head><title>Page | Microsoft Learn</title></head><body><p>x</p></body></html>",
        );
        assert_eq!(doc.title.as_deref(), Some("Page"));
    }
}
