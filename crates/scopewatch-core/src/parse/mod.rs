//! Reading a saved page, in any of its three forms, into a form-neutral
//! [`Document`]: headings, paragraphs, lists and tables with their links.
//!
//! Each form has a module of its own ([`html`], [`markdown`], [`text`]); the
//! form is detected from the content. Nothing here knows what "in scope"
//! means: that is [`crate::extract`]'s job, so each form's rules stay small.

pub mod html;
pub mod learn;
pub mod markdown;
pub mod text;

use chrono::NaiveDate;
use encoding_rs::Encoding;

use crate::canon::clean;
use crate::model::{PageForm, Provenance};
use crate::{Error, Result};

/// A page reduced to the structure extraction needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// The form the page came in.
    pub form: PageForm,
    /// The page title.
    pub title: Option<String>,
    /// The page's locale, when it says.
    pub locale: Option<String>,
    /// The date the page says it was last updated.
    pub published: Option<NaiveDate>,
    /// The article's blocks, in order.
    pub blocks: Vec<Block>,
    /// `[!INCLUDE ...]` targets, as written.
    pub includes: Vec<String>,
    /// Problems met while reading that did not stop it.
    pub warnings: Vec<String>,
    /// The page was cut off in transit (an HTML page that never closes).
    pub truncated: bool,
    /// Where the page says its text comes from.
    pub provenance: Provenance,
}

impl Document {
    fn new(form: PageForm) -> Self {
        Document {
            form,
            title: None,
            locale: None,
            published: None,
            blocks: Vec::new(),
            includes: Vec::new(),
            warnings: Vec::new(),
            truncated: false,
            provenance: Provenance::default(),
        }
    }
}

/// A block of the article body.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// A heading.
    Heading {
        /// 1 for a page title, 2 for a section ...
        level: u8,
        /// The heading text.
        text: String,
        /// Its anchor, explicit or derived.
        anchor: Option<String>,
    },
    /// A paragraph.
    Paragraph(Inline),
    /// A bulleted or numbered list.
    List(Vec<ListItem>),
    /// A table.
    Table {
        /// The header row's cells.
        header: Vec<Inline>,
        /// The body rows' cells.
        rows: Vec<Vec<Inline>>,
    },
}

/// Visible text with the links inside it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Inline {
    /// The visible text.
    pub text: String,
    /// The links inside it.
    pub links: Vec<InlineLink>,
}

/// A link inside a piece of text.
#[derive(Debug, Clone, PartialEq)]
pub struct InlineLink {
    /// The link text.
    pub text: String,
    /// `None` for placeholders (`#`, empty), which text exports leave.
    pub url: Option<String>,
}

/// A list entry and its nested entries.
#[derive(Debug, Clone, PartialEq)]
pub struct ListItem {
    /// The item's own text.
    pub content: Inline,
    /// Nested items.
    pub children: Vec<ListItem>,
}

/// Collects inline text and links while a form's parser walks its tree.
#[derive(Debug, Default)]
pub(crate) struct InlineBuilder {
    text: String,
    open_links: Vec<(usize, Option<String>)>,
    links: Vec<InlineLink>,
    /// An `<a name=...>` or `id` anchor met inside the text.
    pub anchor: Option<String>,
}

impl InlineBuilder {
    pub(crate) fn push(&mut self, text: &str) {
        self.text.push_str(text);
    }

    pub(crate) fn start_link(&mut self, url: &str) {
        self.open_links.push((self.text.len(), link_target(url)));
    }

    pub(crate) fn end_link(&mut self) {
        if let Some((start, url)) = self.open_links.pop() {
            let text = clean(&self.text[start..]);
            if !text.is_empty() {
                self.links.push(InlineLink { text, url });
            }
        }
    }

    pub(crate) fn is_blank(&self) -> bool {
        self.text.trim().is_empty()
    }

    pub(crate) fn finish(mut self) -> Inline {
        while !self.open_links.is_empty() {
            self.end_link();
        }
        Inline {
            text: clean(&self.text),
            links: self.links,
        }
    }
}

/// A link target, or `None` for a placeholder that points nowhere.
fn link_target(url: &str) -> Option<String> {
    let url = url.trim();
    (!url.is_empty() && url != "#").then(|| url.to_string())
}

/// Finds the text of an `[!INCLUDE ...]` target, as written on the page.
pub type Includes<'a> = &'a dyn Fn(&str) -> Option<String>;

/// A resolver that finds nothing: include lines are dropped.
pub fn no_includes(_: &str) -> Option<String> {
    None
}

/// Reads a page from bytes: checks that it is text, decodes it, detects its
/// form and parses it. `name` is used in error messages only.
pub fn parse_bytes(name: &str, bytes: &[u8]) -> Result<Document> {
    parse_bytes_with(name, bytes, &no_includes)
}

/// As [`parse_bytes`], resolving a Markdown page's includes with `includes`.
pub fn parse_bytes_with(name: &str, bytes: &[u8], includes: Includes<'_>) -> Result<Document> {
    let text = checked_text(name, bytes)?;
    let form = detect(&text);
    guard(name, &text, form)?;
    Ok(match form {
        PageForm::Markdown => markdown::parse_with(&text, includes),
        form => parse_as(&text, form),
    })
}

/// As [`parse_bytes`], reading the page as `form` instead of detecting it.
pub fn parse_bytes_as(name: &str, bytes: &[u8], form: Option<PageForm>) -> Result<Document> {
    let text = checked_text(name, bytes)?;
    let form = form.unwrap_or_else(|| detect(&text));
    guard(name, &text, form)?;
    Ok(parse_as(&text, form))
}

/// Deepest tag nesting parsed; real pages nest a few dozen levels.
pub const MAX_NESTING: usize = 1_000;

/// Refuses markup nested so deeply that parsing it would take hours.
pub(crate) fn guard(name: &str, text: &str, form: PageForm) -> Result<()> {
    let depth = if form == PageForm::Html {
        html::nesting_depth(text)
    } else {
        0
    };
    if depth > MAX_NESTING {
        return Err(Error::Hostile {
            name: name.to_string(),
            why: format!("its markup nests {depth} levels deep (more than {MAX_NESTING})"),
        });
    }
    Ok(())
}

/// The page's text, once it is known to be non-empty text.
pub(crate) fn checked_text(name: &str, bytes: &[u8]) -> Result<String> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::Empty(name.to_string()));
    }
    let text = decode(name, bytes)?;
    if text.trim().is_empty() {
        return Err(Error::Empty(name.to_string()));
    }
    Ok(text)
}

/// Parses trusted page text (fixtures, tests) whose form is detected from
/// the content. Pages from outside go through [`parse_bytes`].
pub fn parse_str(text: &str) -> Document {
    parse_as(text, detect(text))
}

fn parse_as(text: &str, form: PageForm) -> Document {
    match form {
        PageForm::Html => html::parse(text),
        PageForm::Markdown => markdown::parse(text),
        PageForm::Text => text::parse(text),
    }
}

/// Detects a page's form from its content.
pub fn detect(text: &str) -> PageForm {
    // The markers are ASCII, so they are compared in place rather than in
    // a lowered copy: this runs on every fetched page.
    let text_start = text.trim_start();
    let starts = |marker: &str| {
        text_start
            .as_bytes()
            .get(..marker.len())
            .is_some_and(|h| h.eq_ignore_ascii_case(marker.as_bytes()))
    };
    if starts("<!doctype html") || starts("<html") || opens_body(text_start) {
        return PageForm::Html;
    }
    if text_start.starts_with("---") {
        return PageForm::Markdown;
    }
    let markdown_line = |line: &str| {
        let t = line.trim_start();
        let hashes = t.chars().take_while(|&c| c == '#').count();
        (1..=6).contains(&hashes) && t[hashes..].starts_with(' ')
            || t.starts_with("[!INCLUDE")
            || t.starts_with("|--")
            || t.starts_with("|:-")
    };
    if text.lines().any(markdown_line) {
        PageForm::Markdown
    } else {
        PageForm::Text
    }
}

/// Whether `<body` (any case) starts within the first 4,096 characters.
fn opens_body(text: &str) -> bool {
    const HEAD_CHARS: usize = 4096;
    let bytes = text.as_bytes();
    let ascii_head = bytes.len() > HEAD_CHARS && bytes[..HEAD_CHARS].is_ascii();
    let head = if bytes.len() <= HEAD_CHARS || ascii_head {
        &bytes[..bytes.len().min(HEAD_CHARS)]
    } else {
        text.char_indices()
            .nth(HEAD_CHARS)
            .map_or(bytes, |(end, _)| &bytes[..end])
    };
    memchr::memchr_iter(b'<', head).any(|at| {
        head[at..]
            .get(..5)
            .is_some_and(|w| w.eq_ignore_ascii_case(b"<body"))
    })
}

/// Decodes page bytes: UTF-8 (with or without BOM), UTF-16 with a BOM, or
/// the charset an HTML page declares (Shift_JIS, windows-1252 ...).
fn decode(name: &str, bytes: &[u8]) -> Result<String> {
    if let Some((encoding, bom)) = Encoding::for_bom(bytes) {
        let (text, had_errors) = encoding.decode_without_bom_handling(&bytes[bom..]);
        if had_errors {
            return Err(Error::Encoding {
                name: name.to_string(),
                encoding: encoding.name().to_string(),
            });
        }
        return Ok(text.into_owned());
    }
    if looks_binary(bytes) {
        return Err(Error::Binary(name.to_string()));
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(text.to_string());
    }
    let encoding = declared_charset(bytes).unwrap_or(encoding_rs::UTF_8);
    let (text, had_errors) = encoding.decode_without_bom_handling(bytes);
    if had_errors {
        return Err(Error::Encoding {
            name: name.to_string(),
            encoding: encoding.name().to_string(),
        });
    }
    Ok(text.into_owned())
}

/// NUL bytes or many control characters at the start mean this is no page.
fn looks_binary(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(8192)];
    // Branch-free sums in bytes, which the compiler vectorises: every
    // fetched page is checked, and this takes about one instruction a byte
    // where counting in `usize` took eight and a filtering count ten.
    let control: usize = head
        .chunks(255)
        .map(|chunk| {
            let in_chunk: u8 = chunk
                .iter()
                .map(|&b| u8::from(b < 0x09 || b.wrapping_sub(0x0e) < 0x12 || b == 0x7f))
                .sum();
            usize::from(in_chunk)
        })
        .sum();
    head.contains(&0) || control * 20 > head.len()
}

/// The charset an HTML page declares in a `<meta>` tag, if any.
fn declared_charset(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(2048)]).to_lowercase();
    let at = head.find("charset=")? + "charset=".len();
    let label: String = head[at..]
        .trim_start_matches(['"', '\''])
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'))
        .collect();
    Encoding::for_label(label.as_bytes())
}

/// The anchor the docs site derives from a heading: lower case, punctuation
/// dropped, spaces turned into hyphens ("platforms & services" gives
/// "platforms--services").
pub fn slug(heading: &str) -> String {
    clean(heading)
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// Reads the dates pages carry: `05/19/2023`, `2023-05-19`, or an RFC 3339
/// timestamp.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    let date_part = text.split(['T', ' ']).next().unwrap_or(text);
    NaiveDate::parse_from_str(date_part, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(date_part, "%m/%d/%Y"))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_are_detected_from_content() {
        assert_eq!(detect("<!DOCTYPE html><html></html>"), PageForm::Html);
        // `<body` counts within the first 4,096 characters, not bytes.
        let preamble = "<!-- 範囲 -->\n".repeat(300);
        assert!(preamble.len() > 4096 && preamble.chars().count() < 4096);
        assert_eq!(detect(&format!("{preamble}<BODY><p>x</p>")), PageForm::Html);
        let long = format!("{}\n<body><p>x</p>", "x".repeat(4096));
        assert_eq!(detect(&long), PageForm::Text);
        assert_eq!(detect("---\ntitle: x\n---\n# T"), PageForm::Markdown);
        assert_eq!(detect("intro\n\n## Heading\n"), PageForm::Markdown);
        assert_eq!(
            detect("Title\n\nArticle • 05/19/2023\n\n- Azure\n"),
            PageForm::Text
        );
    }

    #[test]
    fn slugs_match_the_docs_site() {
        assert_eq!(
            slug("Microsoft in-scope cloud platforms & services"),
            "microsoft-in-scope-cloud-platforms--services"
        );
        assert_eq!(slug("ISO/IEC 27001 overview"), "isoiec-27001-overview");
    }

    #[test]
    fn dates_in_page_formats() {
        let d = NaiveDate::from_ymd_opt(2023, 5, 19);
        assert_eq!(parse_date("05/19/2023"), d);
        assert_eq!(parse_date("2023-05-19T08:00:00Z"), d);
        assert_eq!(parse_date("not a date"), None);
    }

    #[test]
    fn bad_bytes_are_clear_errors() {
        assert!(matches!(parse_bytes("f", b""), Err(Error::Empty(_))));
        assert!(matches!(parse_bytes("f", b" \n\t"), Err(Error::Empty(_))));
        assert!(matches!(
            parse_bytes("f", b"\x7fELF\x02\x01\x01\0\0\0"),
            Err(Error::Binary(_))
        ));
        assert!(matches!(
            parse_bytes("f", b"caf\xe9 au lait"),
            Err(Error::Encoding { .. })
        ));
    }

    #[test]
    fn hostile_nesting_is_refused_before_parsing() {
        let page = format!(
            "<html><body>{}</body></html>",
            "<div>".repeat(MAX_NESTING + 1)
        );
        let err = parse_bytes("deep.html", page.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("nests 1003 levels deep"), "{err}");
    }

    #[test]
    fn declared_shift_jis_is_decoded() {
        let (bytes, _, _) = encoding_rs::SHIFT_JIS.encode("<html><head><meta charset=\"shift_jis\"></head><body><main><h1>対象サービス</h1></main></body></html>");
        let doc = parse_bytes("p.html", &bytes).unwrap();
        assert_eq!(doc.title.as_deref(), Some("対象サービス"));
    }
}
