//! Atom feeds of scope changes, for one offering or all, rendered by the
//! report's feed.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::page::Problem;
use super::{App, Ctx};
use crate::history::Event;

fn render(ctx: &Ctx, events: &[Event], source: Option<&str>) -> String {
    // One look-up per source, not per event: the log of everything has
    // tens of thousands.
    let mut urls: HashMap<&str, Option<String>> = HashMap::new();
    for e in events {
        urls.entry(&e.source)
            .or_insert_with(|| ctx.store.source_url(&e.source).ok().flatten());
    }
    let id = format!("urn:scopewatch:feed:{}", source.unwrap_or("all"));
    crate::report::feed::render(events, |s| urls.get(s).cloned().flatten(), &id, None)
}

async fn feed(app: &App, source: Option<String>) -> Result<Response, Problem> {
    let atom = app
        .query(move |ctx| {
            let derived = ctx.derived()?;
            Ok(match source.as_deref() {
                Some(source) => {
                    ctx.store.require_source(source)?;
                    Bytes::from(render(ctx, &derived.events_of(source), Some(source)))
                }
                None => derived
                    .feed
                    .get_or_init(|| Bytes::from(render(ctx, &derived.log, None)))
                    .clone(),
            })
        })
        .await?;
    Ok((
        [(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")],
        atom,
    )
        .into_response())
}

pub async fn all(State(app): State<App>) -> Result<Response, Problem> {
    feed(&app, None).await
}

pub async fn offering(State(app): State<App>, Path(id): Path<String>) -> Result<Response, Problem> {
    feed(&app, Some(id)).await
}
