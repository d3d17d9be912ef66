//! A service: find it by part of a name or a former name (the history's
//! one name search), and its timeline across every offering.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use maud::html;
use serde::{Deserialize, Serialize};

use super::page::{Problem, frame};
use super::{App, encode};
use crate::history::{self, Timeline};

#[derive(Debug, Deserialize)]
pub struct Search {
    q: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Named {
    name: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Found {
    pub query: String,
    /// Whether the query is one of a service's names.
    pub exact: bool,
    /// Current names of the services found.
    pub services: Vec<String>,
}

fn asked(text: Option<&str>, what: &str) -> Result<String, Problem> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) if t.chars().count() <= 200 => Ok(t.to_string()),
        Some(_) => Err(Problem::BadRequest(format!("the {what} is too long"))),
        None => Err(Problem::BadRequest(format!("give a {what}"))),
    }
}

async fn search(app: &App, query: String) -> Result<Found, Problem> {
    app.query(move |ctx| {
        let listed = &ctx.derived()?.listed_names;
        let (exact, services) = history::find_among(listed, ctx.aliases, &query);
        Ok(Found {
            query,
            exact,
            services,
        })
    })
    .await
}

async fn timeline(app: &App, name: String) -> Result<Arc<Timeline>, Problem> {
    app.query(move |ctx| {
        let t = ctx.derived()?.timelines.get(&name, || {
            Ok(history::timeline(ctx.store, ctx.aliases, &name)?)
        })?;
        if t.offerings.is_empty() {
            return Err(Problem::NotFound(format!(
                "no offering in this history lists a service named {name:?}: search for a part of its name"
            )));
        }
        Ok(t)
    })
    .await
}

pub async fn api_search(State(app): State<App>, Query(s): Query<Search>) -> Response {
    let found = match asked(s.q.as_deref(), "search text") {
        Ok(q) => search(&app, q).await,
        Err(p) => Err(p),
    };
    match found {
        Ok(f) => Json(f).into_response(),
        Err(p) => p.json(),
    }
}

pub async fn api_timeline(State(app): State<App>, Query(n): Query<Named>) -> Response {
    let t = match asked(n.name.as_deref(), "service name") {
        Ok(name) => timeline(&app, name).await,
        Err(p) => Err(p),
    };
    match t {
        Ok(t) => Json(t.as_ref()).into_response(),
        Err(p) => p.json(),
    }
}

/// The search form; one service found shows its timeline, several are
/// listed to choose from.
pub async fn page(State(app): State<App>, Query(s): Query<Search>) -> Result<Response, Problem> {
    let q = s.q.clone().unwrap_or_default();
    let form = html! {
        form method="get" action="/services" {
            label { "Name, part of a name, or former name "
                input type="search" name="q" value=(q) required; }
            button { "Find" }
        }
    };
    if q.trim().is_empty() {
        return Ok(frame("Services", form).into_response());
    }
    let found = search(&app, asked(Some(&q), "search text")?).await?;
    let [one] = found.services.as_slice() else {
        return Ok(frame(
            "Services",
            html! {
                (form)
                @if found.services.is_empty() {
                    p.error { "No service is named " (found.query) " or has it in its name." }
                } @else {
                    p { (found.services.len()) " services have " (found.query) " in their name:" }
                    ul { @for n in &found.services {
                        li { a href={ "/services?q=" (encode(n)) } { (n) } }
                    } }
                }
            },
        )
        .into_response());
    };
    let t = timeline(&app, one.clone()).await?;
    Ok(frame(
        &t.service,
        html! {
            (form)
            p { "Names followed: " (t.names.join(", ")) }
            p { a href={ "/api/v1/timeline?name=" (encode(&t.service)) } { "JSON" } }
            div.wide { table {
                thead { tr { th { "Offering" } th { "In scope from" } th { "Until" } th { "Names used" } } }
                tbody {
                    @for (source, spans) in &t.offerings {
                        @for span in spans {
                            tr {
                                th { a href={ "/offerings/" (encode(source)) "?date=" (span.from) } { (source) } }
                                td { (span.from.to_string()) }
                                td { @match (&span.to, &span.ended) {
                                    (Some(to), Some(why)) => { (to.to_string()) " (" (why) ")" },
                                    (Some(to), None) => (to.to_string()),
                                    _ => "still in scope",
                                } }
                                td { (span.names.join(", ")) }
                            }
                        }
                    }
                }
            } }
        },
    )
    .into_response())
}
