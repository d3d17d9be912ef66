//! The plain-text export of a page: bare headings on lines of their own, `- `
//! bullets, tab-separated tables, an `Article • MM/DD/YYYY` line, and links
//! and emphasis still written as Markdown.

use super::{Block, Document, ListItem, markdown, parse_date};
use crate::model::PageForm;

/// Parses a plain-text page.
pub fn parse(text: &str) -> Document {
    let mut doc = Document::new(PageForm::Text);
    let lines: Vec<Line<'_>> = text.lines().map(Line::classify).collect();
    let mut i = 0;
    while i < lines.len() {
        match lines[i] {
            Line::Blank => i += 1,
            Line::Bullet(_) => {
                let mut items = Vec::new();
                while let Some(Line::Bullet(t)) = lines.get(i) {
                    items.push(ListItem {
                        content: markdown::inline(t),
                        children: Vec::new(),
                    });
                    i += 1;
                }
                doc.blocks.push(Block::List(items));
            }
            Line::Row(_) => {
                let mut rows = Vec::new();
                while let Some(Line::Row(cells)) = lines.get(i) {
                    rows.push(cells.split('\t').map(markdown::inline).collect::<Vec<_>>());
                    i += 1;
                }
                let header = rows.remove(0);
                doc.blocks.push(Block::Table { header, rows });
            }
            Line::Prose(t) => {
                // A prose line alone between blank lines, short and without
                // closing punctuation, is a heading; anything else is a paragraph.
                let mut end = i;
                while matches!(lines.get(end + 1), Some(Line::Prose(_))) {
                    end += 1;
                }
                if let Some(date) = (doc.published.is_none() && end == i)
                    .then(|| article_date(t))
                    .flatten()
                {
                    doc.published = Some(date);
                } else if end == i && is_heading(t) {
                    let first = doc.title.is_none();
                    let text = markdown::inline(t).text;
                    if first {
                        doc.title = Some(text.clone());
                    }
                    doc.blocks.push(Block::Heading {
                        level: if first { 1 } else { 2 },
                        anchor: Some(super::slug(&text)),
                        text,
                    });
                } else {
                    let joined: Vec<&str> = lines[i..=end]
                        .iter()
                        .filter_map(|l| match l {
                            Line::Prose(t) => Some(*t),
                            _ => None,
                        })
                        .collect();
                    doc.blocks
                        .push(Block::Paragraph(markdown::inline(&joined.join(" "))));
                }
                i = end + 1;
            }
        }
    }
    doc
}

#[derive(Debug, Clone, Copy)]
enum Line<'a> {
    Blank,
    Bullet(&'a str),
    Row(&'a str),
    Prose(&'a str),
}

impl<'a> Line<'a> {
    fn classify(line: &'a str) -> Self {
        let t = line.trim();
        if t.is_empty() {
            return Line::Blank;
        }
        for bullet in ["- ", "* ", "• ", "· "] {
            if let Some(rest) = t.strip_prefix(bullet) {
                return Line::Bullet(rest);
            }
        }
        if line.contains('\t') {
            return Line::Row(line.trim_end_matches(['\r', '\n']));
        }
        Line::Prose(t)
    }
}

/// The `Article • 05/19/2023` line under the title (any word before the dot,
/// since localized exports translate "Article").
fn article_date(line: &str) -> Option<chrono::NaiveDate> {
    let (_, date) = line.rsplit_once('•')?;
    parse_date(date)
}

fn is_heading(line: &str) -> bool {
    let words = line.split_whitespace().count();
    line.chars().count() <= 120
        && words <= 14
        && !line.ends_with(['.', ',', ';', ':', '。', '：', '、'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_lists_tables_and_date() {
        let doc = parse(
            "\nOffering title\n\nArticle • 05/19/2023\n\nIntro sentence that ends here.\n\nMicrosoft in-scope cloud services\n\n- Azure\n- [Intune](#)\n\nUse this table:\n\nApplicability\tIn-scope services\nGCC\tExchange Online, Forms\n",
        );
        assert_eq!(doc.title.as_deref(), Some("Offering title"));
        assert_eq!(doc.published, chrono::NaiveDate::from_ymd_opt(2023, 5, 19));
        assert!(
            matches!(&doc.blocks[2], Block::Heading { text, level: 2, .. } if text == "Microsoft in-scope cloud services")
        );
        let Block::List(items) = &doc.blocks[3] else {
            panic!("{:?}", doc.blocks)
        };
        assert_eq!(items[1].content.text, "Intune");
        assert_eq!(items[1].content.links[0].url, None);
        assert!(matches!(&doc.blocks[4], Block::Paragraph(p) if p.text == "Use this table:"));
        let Block::Table { header, rows } = &doc.blocks[5] else {
            panic!()
        };
        assert_eq!(header[1].text, "In-scope services");
        assert_eq!(rows[0][1].text, "Exchange Online, Forms");
    }
}
