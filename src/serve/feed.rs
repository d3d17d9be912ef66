//! Atom feeds of scope changes, for one offering or all, rendered by the
//! report's feed.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::App;
use super::page::Problem;
use crate::diff::Differ;
use crate::history;

async fn feed(app: &App, source: Option<String>) -> Result<Response, Problem> {
    let atom = app
        .query(move |store, aliases| {
            let differ = Differ::new(aliases);
            let events = history::log(store, &differ, source.as_deref(), None)?;
            let id = format!("urn:scopewatch:feed:{}", source.as_deref().unwrap_or("all"));
            Ok(crate::report::feed::render(
                &events,
                |s| store.source_url(s).ok().flatten(),
                &id,
                None,
            ))
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
