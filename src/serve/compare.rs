//! Compare: the versions of one source in force at two dates, or every
//! source between two dates.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use maud::html;
use serde::Deserialize;

use super::page::{Problem, frame};
use super::{App, date_param, encode, today};
use crate::diff::Differ;
use crate::history::{self, EventKind, SourceDiff};

#[derive(Debug, Deserialize)]
pub struct Ask {
    source: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

struct Period {
    source: Option<String>,
    from: NaiveDate,
    to: NaiveDate,
}

fn period(ask: &Ask) -> Result<Period, Problem> {
    let from = match ask.from.as_deref().filter(|f| !f.trim().is_empty()) {
        Some(f) => date_param(Some(f), today())?,
        None => {
            return Err(Problem::BadRequest(
                "give a start date: from=YYYY-MM-DD".into(),
            ));
        }
    };
    let to = date_param(ask.to.as_deref(), today())?;
    history::in_order(from, to)?;
    let source = ask
        .source
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty() && *s != "all")
        .map(str::to_string);
    Ok(Period { source, from, to })
}

async fn compare(app: &App, p: Period) -> Result<Arc<Vec<SourceDiff>>, Problem> {
    app.query(move |ctx| match &p.source {
        Some(source) => {
            let differ = Differ::new(ctx.aliases);
            match history::between(ctx.store, &differ, source, p.from, p.to)? {
                Some(d) => Ok(Arc::new(vec![d])),
                None => Err(Problem::NotFound(format!(
                    "{source} has no version with scope in force on {}: give a later start date",
                    p.from
                ))),
            }
        }
        None => ctx.derived()?.comparisons.get(&(p.from, p.to), || {
            Ok(history::between_all(ctx.store, ctx.aliases, p.from, p.to)?)
        }),
    })
    .await
}

pub async fn api(State(app): State<App>, Query(ask): Query<Ask>) -> Response {
    let answer = match period(&ask) {
        Ok(p) => compare(&app, p).await,
        Err(e) => Err(e),
    };
    match answer {
        Ok(diffs) => Json(diffs.as_ref()).into_response(),
        Err(p) => p.json(),
    }
}

pub async fn page(State(app): State<App>, Query(ask): Query<Ask>) -> Result<Response, Problem> {
    let source = ask.source.clone().unwrap_or_default();
    let form = html! {
        form method="get" action="/compare" {
            label { "Offering (empty for all) " input type="text" name="source" value=(source); }
            label { "From " input type="date" name="from" value=(ask.from.clone().unwrap_or_default()) required; }
            label { "To " input type="date" name="to" value=(ask.to.clone().unwrap_or_default()); }
            button { "Compare" }
        }
    };
    if ask.from.as_deref().is_none_or(|f| f.trim().is_empty()) {
        return Ok(frame("Compare", form).into_response());
    }
    let p = period(&ask)?;
    let (from, to) = (p.from, p.to);
    let diffs = compare(&app, p).await?;
    let changed: Vec<&SourceDiff> = diffs.iter().filter(|d| !d.diff.is_empty()).collect();
    Ok(frame(
        &format!("Compare {from} with {to}"),
        html! {
            (form)
            p { (changed.len()) " of " (diffs.len()) " offerings changed." }
            @for d in changed {
                h2 { a href={ "/offerings/" (encode(&d.source)) "?date=" (to) } { (d.source) } }
                p { "Version of " (d.from.to_string()) " against version of " (d.to.to_string()) }
                @if let Some(why) = &d.diff.not_compared { p.error { (why) } }
                ul { @for c in &d.diff.changes {
                    li { (crate::report::event_line(&EventKind::Change(c.clone()))) }
                } }
            }
        },
    )
    .into_response())
}
