//! The docs Markdown source: YAML front matter, DocFX `[!INCLUDE ...]`
//! lines, `<a name="...">` anchors inside headings, GFM pipe tables.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

use super::{Block, Document, Includes, Inline, InlineBuilder, ListItem, no_includes, parse_date};
use crate::model::PageForm;

/// Parses a Markdown page; include lines are dropped.
pub fn parse(text: &str) -> Document {
    parse_with(text, &no_includes)
}

/// Parses a Markdown page, putting the text of each `[!INCLUDE ...]` target
/// that `includes` finds in place of its line, as the docs site does.
pub fn parse_with(text: &str, includes: Includes<'_>) -> Document {
    let mut doc = Document::new(PageForm::Markdown);
    let body = match split_front_matter(text) {
        Some((yaml, body)) => {
            read_front_matter(yaml, &mut doc);
            body
        }
        None => text,
    };
    let body = take_includes(body, &mut doc.includes, includes);
    doc.blocks = blocks(&body);
    if doc.title.is_none() {
        doc.title = doc.blocks.iter().find_map(|b| match b {
            Block::Heading { level: 1, text, .. } => Some(text.clone()),
            _ => None,
        });
    }
    doc
}

/// Visible text and links of a Markdown fragment, block structure ignored.
/// The plain-text form writes its links and emphasis this way too.
pub fn inline(text: &str) -> Inline {
    let mut builder = InlineBuilder::default();
    for event in Parser::new_ext(text, Options::empty()) {
        match event {
            Event::Text(t) | Event::Code(t) => builder.push(&t),
            Event::SoftBreak | Event::HardBreak => builder.push(" "),
            Event::Start(Tag::Link { dest_url, .. }) => builder.start_link(&dest_url),
            Event::End(TagEnd::Link) => builder.end_link(),
            Event::End(TagEnd::Paragraph | TagEnd::Item) => builder.push(" "),
            _ => {}
        }
    }
    builder.finish()
}

fn split_front_matter(text: &str) -> Option<(&str, &str)> {
    let rest = text.trim_start_matches('\u{feff}').strip_prefix("---")?;
    let rest = rest
        .strip_prefix("\r\n")
        .or_else(|| rest.strip_prefix('\n'))?;
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        if line.trim_end() == "---" {
            return Some((&rest[..offset], &rest[offset + line.len()..]));
        }
        offset += line.len();
    }
    None
}

/// Takes title, locale and date from the front matter. Localized pages carry
/// `ms.contentlocale` and `ms.lasthandoff`; sources carry `ms.date`.
fn read_front_matter(yaml: &str, doc: &mut Document) {
    let value: serde_yaml_ng::Value = match serde_yaml_ng::from_str(yaml) {
        Ok(v) => v,
        Err(e) => {
            doc.warnings.push(format!("front matter ignored: {e}"));
            return;
        }
    };
    let get = |key: &str| -> Option<String> {
        match value.get(key)? {
            serde_yaml_ng::Value::String(s) => Some(s.trim().to_string()),
            serde_yaml_ng::Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
        .filter(|s| !s.is_empty())
    };
    doc.title = get("title");
    doc.locale = get("ms.contentlocale")
        .or_else(|| get("ms.locale"))
        .map(|l| l.to_lowercase());
    doc.published = ["ms.date", "ms.lasthandoff"]
        .into_iter()
        .find_map(|key| get(key).and_then(|d| parse_date(&d)));
    // The Markdown form the site serves carries the page's meta tags here.
    doc.provenance = crate::model::Provenance {
        commit: get("git_commit_id"),
        document_id: get("document_id"),
        content_url: get("original_content_git_url"),
        markdown_url: None,
    };
}

/// Replaces `[!INCLUDE [title](path)]` lines with the included text (its own
/// front matter dropped), recording their targets.
fn take_includes(body: &str, targets: &mut Vec<String>, includes: Includes<'_>) -> String {
    let mut out = String::with_capacity(body.len());
    for line in body.split_inclusive('\n') {
        let t = line.trim().trim_start_matches('>').trim();
        if let Some(rest) = t.strip_prefix("[!INCLUDE") {
            if let Some(path) = rest
                .rsplit_once("](")
                .map(|(_, p)| p.trim_end_matches([']', ')']))
            {
                targets.push(path.to_string());
                if let Some(text) = includes(path) {
                    out.push('\n');
                    out.push_str(split_front_matter(&text).map_or(text.as_str(), |(_, body)| body));
                }
            }
            out.push('\n');
        } else {
            out.push_str(line);
        }
    }
    out
}

/// An `<a name="x">` or `<a id="x">` anchor inside inline HTML.
fn html_anchor(html: &str) -> Option<String> {
    let lower = html.to_ascii_lowercase();
    if !lower.trim_start().starts_with("<a ") {
        return None;
    }
    for attr in ["name=", "id="] {
        if let Some(at) = lower.find(attr) {
            let rest = &html[at + attr.len()..];
            let quote = rest.chars().next()?;
            let value = if quote == '"' || quote == '\'' {
                rest[1..].split(quote).next()?
            } else {
                rest.split([' ', '>']).next()?
            };
            return Some(value.to_string());
        }
    }
    None
}

/// The walk over pulldown-cmark's events, building blocks.
#[derive(Default)]
struct Walker {
    blocks: Vec<Block>,
    /// Text of the heading or paragraph being read, if any.
    inline: Option<InlineBuilder>,
    heading: Option<(u8, Option<String>)>,
    /// Open lists, innermost last, each with its finished items.
    lists: Vec<Vec<ListItem>>,
    /// Open list items, innermost last: their text and nested items.
    items: Vec<(InlineBuilder, Vec<ListItem>)>,
    table: Option<TableBuilder>,
    /// An anchor from a block of HTML standing just before a heading.
    pending_anchor: Option<String>,
    /// Lists and items nested deeper than [`MAX_LIST_DEPTH`], read as text of
    /// the deepest item kept.
    ignored_lists: usize,
    ignored_items: usize,
}

/// Real pages nest lists two or three deep; deeper nesting is read as text.
const MAX_LIST_DEPTH: usize = 16;

#[derive(Default)]
struct TableBuilder {
    header: Vec<Inline>,
    rows: Vec<Vec<Inline>>,
    row: Vec<Inline>,
    cell: Option<InlineBuilder>,
}

impl Walker {
    /// Where inline text goes now: a table cell, else the innermost list
    /// item, else the heading or paragraph.
    fn target(&mut self) -> Option<&mut InlineBuilder> {
        if let Some(cell) = self.table.as_mut().and_then(|t| t.cell.as_mut()) {
            return Some(cell);
        }
        if self.inline.is_some() && self.heading.is_some() {
            return self.inline.as_mut();
        }
        if let Some((text, _)) = self.items.last_mut() {
            return Some(text);
        }
        self.inline.as_mut()
    }

    fn event(&mut self, event: Event<'_>) {
        match event {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(tag),
            Event::Text(t) | Event::Code(t) => {
                if let Some(target) = self.target() {
                    target.push(&t);
                }
            }
            Event::SoftBreak | Event::HardBreak => {
                if let Some(target) = self.target() {
                    target.push(" ");
                }
            }
            Event::InlineHtml(html) => {
                if let Some(anchor) = html_anchor(&html)
                    && let Some(target) = self.target()
                {
                    target.anchor = Some(anchor);
                } else if html.to_ascii_lowercase().starts_with("<br")
                    && let Some(target) = self.target()
                {
                    target.push(" ");
                }
            }
            Event::Html(html) => {
                if let Some(anchor) = html_anchor(&html) {
                    self.pending_anchor = Some(anchor);
                }
            }
            _ => {}
        }
    }

    fn start(&mut self, tag: Tag<'_>) {
        match tag {
            Tag::Heading { level, id, .. } => {
                self.heading = Some((level as u8, id.map(|i| i.to_string())));
                self.inline = Some(InlineBuilder::default());
            }
            Tag::Paragraph if self.items.is_empty() && self.table.is_none() => {
                self.inline = Some(InlineBuilder::default());
            }
            Tag::List(_) if self.ignored_lists > 0 || self.items.len() >= MAX_LIST_DEPTH => {
                self.ignored_lists += 1
            }
            Tag::List(_) => self.lists.push(Vec::new()),
            Tag::Item if self.ignored_lists > 0 => {
                self.ignored_items += 1;
                if let Some(target) = self.target() {
                    target.push(" ");
                }
            }
            Tag::Item => self.items.push((InlineBuilder::default(), Vec::new())),
            Tag::Table(_) => self.table = Some(TableBuilder::default()),
            Tag::TableCell => {
                if let Some(t) = self.table.as_mut() {
                    t.cell = Some(InlineBuilder::default());
                }
            }
            Tag::Link { dest_url, .. } => {
                if let Some(target) = self.target() {
                    target.start_link(&dest_url);
                }
            }
            _ => {}
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Heading(_) => {
                let (level, id) = self.heading.take().unwrap_or((2, None));
                if let Some(builder) = self.inline.take() {
                    let explicit = id.or(builder.anchor.clone()).or(self.pending_anchor.take());
                    let text = builder.finish().text;
                    let anchor =
                        explicit.or_else(|| Some(super::slug(&text)).filter(|s| !s.is_empty()));
                    self.blocks.push(Block::Heading {
                        level,
                        text,
                        anchor,
                    });
                }
            }
            TagEnd::Paragraph => {
                if self.items.is_empty() && self.table.is_none() {
                    if let Some(builder) = self.inline.take()
                        && !builder.is_blank()
                    {
                        self.blocks.push(Block::Paragraph(builder.finish()));
                    }
                } else if let Some(target) = self.target() {
                    target.push(" ");
                }
            }
            TagEnd::Item if self.ignored_items > 0 => self.ignored_items -= 1,
            TagEnd::List(_) if self.ignored_lists > 0 => self.ignored_lists -= 1,
            TagEnd::Item => {
                if let Some((text, children)) = self.items.pop() {
                    let item = ListItem {
                        content: text.finish(),
                        children,
                    };
                    if let Some(list) = self.lists.last_mut() {
                        list.push(item);
                    }
                }
            }
            TagEnd::List(_) => {
                if let Some(list) = self.lists.pop() {
                    match self.items.last_mut() {
                        Some((_, children)) => children.extend(list),
                        None => self.blocks.push(Block::List(list)),
                    }
                }
            }
            TagEnd::TableCell => {
                if let Some(t) = self.table.as_mut()
                    && let Some(cell) = t.cell.take()
                {
                    t.row.push(cell.finish());
                }
            }
            TagEnd::TableHead => {
                if let Some(t) = self.table.as_mut() {
                    t.header = std::mem::take(&mut t.row);
                }
            }
            TagEnd::TableRow => {
                if let Some(t) = self.table.as_mut() {
                    let row = std::mem::take(&mut t.row);
                    t.rows.push(row);
                }
            }
            TagEnd::Table => {
                if let Some(t) = self.table.take() {
                    self.blocks.push(Block::Table {
                        header: t.header,
                        rows: t.rows,
                    });
                }
            }
            TagEnd::Link => {
                if let Some(target) = self.target() {
                    target.end_link();
                }
            }
            _ => {}
        }
    }
}

fn blocks(body: &str) -> Vec<Block> {
    let mut walker = Walker::default();
    let options = Options::ENABLE_TABLES | Options::ENABLE_HEADING_ATTRIBUTES;
    for event in Parser::new_ext(body, options) {
        walker.event(event);
    }
    walker.blocks
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = "---\ntitle: Sample offering\nms.contentlocale: ja-JP\nms.lasthandoff: 01/29/2020\n---\n\
# <a name=\"top\"></a>Sample\n\n\
## <a name=\"microsoft-in-scope-cloud-services\"></a>対象サービス\n\n\
- [Azure、Azure Government](https://example.com/a)\n- Intune\n  - nested detail\n\n\
[!INCLUDE [intro](../includes/intro.md)]\n\n\
| **Applicability** | **In-scope services** |\n|:--|:--|\n| **GCC** | Exchange Online, Forms |\n";

    #[test]
    fn reads_front_matter_anchors_lists_tables_and_includes() {
        let doc = parse(PAGE);
        assert_eq!(doc.title.as_deref(), Some("Sample offering"));
        assert_eq!(doc.locale.as_deref(), Some("ja-jp"));
        assert_eq!(doc.published, chrono::NaiveDate::from_ymd_opt(2020, 1, 29));
        assert_eq!(doc.includes, ["../includes/intro.md"]);
        assert!(
            matches!(&doc.blocks[1], Block::Heading { anchor: Some(a), text, .. }
            if a == "microsoft-in-scope-cloud-services" && text == "対象サービス")
        );
        let Block::List(items) = &doc.blocks[2] else {
            panic!("{:?}", doc.blocks[2])
        };
        assert_eq!(items[0].content.text, "Azure、Azure Government");
        assert_eq!(
            items[0].content.links[0].url.as_deref(),
            Some("https://example.com/a")
        );
        assert_eq!(items[1].content.text, "Intune");
        assert_eq!(items[1].children[0].content.text, "nested detail");
        let Block::Table { header, rows } = &doc.blocks[3] else {
            panic!()
        };
        assert_eq!(header[0].text, "Applicability");
        assert_eq!(rows[0][1].text, "Exchange Online, Forms");
    }

    #[test]
    fn includes_are_put_in_place() {
        let page =
            "# T\n\n## Office 365 applicability\n\n[!INCLUDE [table](../includes/table.md)]\n";
        let include = "---\nms.topic: include\n---\n| Applicability | In-scope services |\n|--|--|\n| GCC | Forms |\n";
        let doc = parse_with(page, &|target| {
            (target == "../includes/table.md").then(|| include.to_string())
        });
        assert!(
            matches!(doc.blocks.last(), Some(Block::Table { rows, .. }) if rows[0][1].text == "Forms")
        );
        assert!(!matches!(
            parse(page).blocks.last(),
            Some(Block::Table { .. })
        ));
    }

    #[test]
    fn deeply_nested_lists_are_read_as_text() {
        let mut page = String::from("## In-scope services\n\n");
        for depth in 0..5_000 {
            page.push_str(&format!("{}- level {depth}\n", "  ".repeat(depth)));
        }
        let doc = parse(&page);
        let Block::List(items) = &doc.blocks[1] else {
            panic!()
        };
        assert_eq!(items[0].content.text, "level 0");
    }

    #[test]
    fn broken_front_matter_is_a_warning() {
        let doc = parse("---\ntitle: [unclosed\n---\n# T\n");
        assert_eq!(doc.title.as_deref(), Some("T"));
        assert_eq!(doc.warnings.len(), 1);
    }

    #[test]
    fn inline_strips_markup() {
        let i = inline("**Office 365** [report \\(SOA\\)](#) and `code`");
        assert_eq!(i.text, "Office 365 report (SOA) and code");
        assert_eq!(i.links[0].url, None);
    }
}
