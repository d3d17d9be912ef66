//! One offering: its scope per environment on a chosen date, its report
//! links, its versions and its change log.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use maud::html;
use serde::{Deserialize, Serialize};

use super::page::{Problem, events, frame};
use super::{App, Ctx, date_param, encode, today};
use crate::diff::Differ;
use crate::history::Event;
use crate::lag::{self, SourceLag};
use crate::model::Link;
use crate::report;

#[derive(Debug, Deserialize)]
pub struct At {
    date: Option<String>,
}

/// A list or applicability row of the page, with the services it names.
#[derive(Debug, Serialize)]
pub struct ScopeView {
    pub section: String,
    pub environment: Option<String>,
    pub services: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct OfferingView {
    pub id: String,
    pub title: Option<String>,
    pub url: Option<String>,
    pub date: NaiveDate,
    /// When the version in force on `date` was captured; `None` when no
    /// version with scope was in force yet.
    pub captured: Option<DateTime<Utc>>,
    pub scopes: Vec<ScopeView>,
    pub links: Vec<Link>,
    /// Capture dates of every stored version, and whether it had scope.
    pub versions: Vec<(NaiveDate, bool)>,
    pub events: Vec<Event>,
    /// How this page, if a translation, stands against its English page on
    /// `date`; if English, how each of its translations stands.
    pub translation_lag: Vec<SourceLag>,
}

fn gather(ctx: &Ctx, id: &str, date: NaiveDate) -> Result<OfferingView, Problem> {
    let (store, aliases) = (ctx.store, ctx.aliases);
    store.require_source(id)?;
    let derived = ctx.derived()?;
    let versions = derived
        .versions
        .get(id)
        .into_iter()
        .flatten()
        .map(|v| (v.captured_at.date_naive(), v.has_scope))
        .collect();
    let stored = match store.snapshot_id_at(id, date)? {
        Some(snapshot) => Some(store.load(snapshot)?),
        None => None,
    };
    let (captured, scopes, links, title) = match stored {
        Some(s) => (
            Some(s.captured_at),
            s.snapshot
                .scopes
                .iter()
                .map(|scope| ScopeView {
                    section: scope.section.clone(),
                    environment: scope.environment.clone(),
                    services: scope
                        .items
                        .iter()
                        .flat_map(|i| &i.services)
                        .map(|s| s.name().to_string())
                        .collect(),
                })
                .collect(),
            s.snapshot.links.clone(),
            s.snapshot.title.clone(),
        ),
        None => (None, Vec::new(), Vec::new(), None),
    };
    let differ = Differ::new(aliases);
    let pairs: Vec<lag::Pair> = derived
        .pairs
        .iter()
        .filter(|p| p.translation == id || p.english == id)
        .cloned()
        .collect();
    Ok(OfferingView {
        translation_lag: lag::lag(store, &differ, aliases, &pairs, date)?,
        id: id.to_string(),
        title,
        url: store.source_url(id)?,
        date,
        captured,
        scopes,
        links,
        versions,
        events: derived.events_of(id),
    })
}

pub async fn api(State(app): State<App>, Path(id): Path<String>, Query(at): Query<At>) -> Response {
    let date = match date_param(at.date.as_deref(), today()) {
        Ok(d) => d,
        Err(p) => return p.json(),
    };
    match app.query(move |ctx| gather(ctx, &id, date)).await {
        Ok(view) => Json(view).into_response(),
        Err(p) => p.json(),
    }
}

pub async fn page(
    State(app): State<App>,
    Path(id): Path<String>,
    Query(at): Query<At>,
) -> Result<Response, Problem> {
    let date = date_param(at.date.as_deref(), today())?;
    let v = app.query(move |ctx| gather(ctx, &id, date)).await?;
    let first = v.versions.first().map(|(d, _)| d.to_string());
    let here = format!("/offerings/{}", encode(&v.id));
    let in_force = v.captured.map(|c| c.date_naive());
    // The dates a version with scope came in, each once, latest first, with
    // the one before it (for "compare with the previous version").
    let mut steps: Vec<(NaiveDate, Option<NaiveDate>)> = Vec::new();
    for d in v
        .versions
        .iter()
        .filter(|(_, scope)| *scope)
        .map(|(d, _)| *d)
    {
        let previous = steps.last().map(|(p, _)| *p);
        if previous != Some(d) {
            steps.push((d, previous));
        }
    }
    steps.reverse();
    // Latest first; the comparison link on the day's latest version only.
    let mut linked = std::collections::HashSet::new();
    let listed: Vec<(NaiveDate, bool, Option<NaiveDate>)> = v
        .versions
        .iter()
        .rev()
        .map(|&(d, scope)| {
            let before = if scope && linked.insert(d) {
                steps
                    .iter()
                    .find(|(at, _)| *at == d)
                    .and_then(|(_, before)| *before)
            } else {
                None
            };
            (d, scope, before)
        })
        .collect();
    Ok(frame(
        &v.id,
        html! {
            @if let Some(t) = &v.title { p { (t) } }
            p {
                @if let Some(url) = &v.url { a href=(url) rel="noreferrer" { "Published page" } " · " }
                a href={ (here) "/feed.atom" } { "Atom feed" } " · "
                a href={ (here) "/text" } { "Page text of each change" } " · "
                a href={ "/compare?source=" (encode(&v.id)) } { "Compare two dates" } " · "
                a href={ "/api/v1/offerings/" (encode(&v.id)) "?date=" (v.date) } { "JSON" }
            }
            form method="get" action=(here) {
                label { "Scope on "
                    input type="date" name="date" value=(v.date) min=[first.as_deref()] list="versions";
                }
                datalist id="versions" {
                    @for (d, _) in &v.versions { option value=(d) {} }
                }
                button { "Show" }
            }
            form method="get" action=(here) {
                label { "Version "
                    select name="date" {
                        @for (d, _) in &steps { option value=(d) selected[in_force == Some(*d)] { (d) } }
                    }
                }
                button { "Show version" }
            }
            section #scope {
                h2 { "Scope on " (v.date.to_string()) }
                @match v.captured {
                    Some(c) => p { "From the version captured " (c.date_naive().to_string()) "." },
                    None => p.error { "No version with scope was in force on this date." },
                }
                @for s in &v.scopes {
                    h3 { (s.section) @if let Some(env) = &s.environment { " — " (env) } }
                    p { (s.services.len()) " services" }
                    ul { @for name in &s.services {
                        li { a href={ "/services?q=" (encode(name)) } { (name) } }
                    } }
                }
            }
            @if !v.links.is_empty() {
                h2 { "Reports and certificates" }
                ul {
                    @for l in &v.links {
                        li {
                            @match &l.url {
                                Some(u) => a href=(u) rel="noreferrer" { (l.title) },
                                None => (l.title),
                            }
                            " (" (l.section) ")"
                        }
                    }
                }
            }
            @if !v.translation_lag.is_empty() {
                h2 { "Translation lag on " (v.date.to_string()) }
                ul { @for l in &v.translation_lag {
                    li {
                        a href={ "/offerings/" (encode(&l.source)) "?date=" (v.date) } { (l.source) }
                        " against " (l.english) ": " (report::lag::state_words(l))
                    }
                } }
            }
            h2 { "Change log" }
            (events(&v.events))
            h2 { "Versions" }
            ul #versions-list {
                @for (d, scope, before) in &listed {
                    li {
                        a href={ (here) "?date=" (d) } { (d.to_string()) }
                        @if !scope { " (no readable scope: an extraction anomaly)" }
                        @if let Some(before) = before {
                            " · " a.step href={ "/compare?source=" (encode(&v.id)) "&from=" (before) "&to=" (d) } {
                                "compare with " (before.to_string())
                            }
                        }
                    }
                }
            }
        },
    )
    .into_response())
}

/// The page text side by side for each version step that changed the
/// scope, as the HTML report shows it.
pub async fn text(State(app): State<App>, Path(id): Path<String>) -> Result<Response, Problem> {
    let shown = id.clone();
    let steps = app
        .query(move |ctx| {
            ctx.store.require_source(&id)?;
            ctx.derived()?.texts.get(&id, || {
                let differ = Differ::new(ctx.aliases);
                let data = report::data::gather(
                    ctx.store,
                    &differ,
                    ctx.aliases,
                    &[],
                    Some(&id),
                    None,
                    today(),
                )?;
                Ok(data.offerings.into_iter().flat_map(|o| o.steps).collect())
            })
        })
        .await?;
    Ok(frame(
        &format!("{shown}: page text of each change"),
        html! {
            p { a href={ "/offerings/" (encode(&shown)) } { "Back to " (shown) } }
            @if steps.is_empty() { p { "No version step changed the scope." } }
            @for step in steps.iter() { (report::html::step_view(step)) }
        },
    )
    .into_response())
}
