//! What is particular to learn.microsoft.com's page templates: where the
//! article is, which date is the content's, and what the page says about
//! its own source.
//!
//! Two templates are served. The 2021 one (docs.microsoft.com) is
//! `<main class="content">` with a `<time data-article-date>`; the current
//! one is `<main class="layout-body-main">` → `<div data-main-column>` with
//! the article in two `div.content` parts (the title, then the body after
//! the article metadata) and the date in a `<local-time>` element.

use chrono::NaiveDate;
use scraper::{ElementRef, Html};

use super::html::{MAX_DEPTH, is_chrome, meta, selector};
use super::parse_date;
use crate::model::Provenance;

/// The parts of `main` that hold the article, in page order: every
/// `div.content` not inside another, nor inside chrome (a `template`, a
/// hidden block), which a reader never sees. Empty when the page has none (the
/// 2021 template, where `main` itself is the article).
pub(super) fn article_parts(main: ElementRef<'_>) -> Vec<ElementRef<'_>> {
    main.select(selector!("div.content"))
        .filter(|part| {
            // Within a part, a nested `div.content` is read with it.
            part.ancestors()
                .take(MAX_DEPTH)
                .filter_map(ElementRef::wrap)
                .take_while(|a| a.id() != main.id())
                .all(|a| !is_content_div(a) && !is_chrome(a))
        })
        .collect()
}

fn is_content_div(el: ElementRef<'_>) -> bool {
    el.value().name() == "div" && el.value().classes().any(|c| c == "content")
}

/// The date the article's content was last changed. A date the site marks
/// `data-article-date-source="calculated"` is the site's build date, shared
/// by unrelated pages after a bulk rebuild, so it is passed over for the
/// author's `ms.date`.
pub(super) fn published(html: &Html) -> Option<NaiveDate> {
    let authored = html
        .select(selector!("time[data-article-date], local-time[datetime]"))
        .filter(|t| t.attr("data-article-date-source") != Some("calculated"))
        .find_map(|t| t.attr("datetime").and_then(parse_date));
    authored.or_else(|| {
        ["ms.date", "article:modified_time", "updated_at"]
            .into_iter()
            .find_map(|name| meta(html, name).and_then(|d| parse_date(&d)))
    })
}

/// What the page's meta tags say about its source.
pub(super) fn provenance(html: &Html) -> Provenance {
    const NAMES: [&str; 4] = [
        "git_commit_id",
        "document_id",
        "original_content_git_url",
        "markdown_url",
    ];
    // One pass over the meta tags (a pass per name was a tenth of an HTML
    // parse); the first tag of each name counts, as with [`meta`].
    let mut found: [Option<Option<String>>; 4] = Default::default();
    for tag in html.select(selector!("meta")) {
        let name = tag.attr("name").or(tag.attr("property"));
        let Some(at) = name.and_then(|n| NAMES.iter().position(|k| *k == n)) else {
            continue;
        };
        found[at].get_or_insert_with(|| {
            tag.attr("content")
                .filter(|v| !v.trim().is_empty())
                .map(str::to_string)
        });
    }
    let [commit, document_id, content_url, markdown_url] = found.map(Option::flatten);
    Provenance {
        commit,
        document_id,
        content_url,
        markdown_url,
    }
}
