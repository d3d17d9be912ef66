//! The matrix: services × offerings in scope on a date, optionally in one
//! environment, as a page, JSON or CSV.

use std::collections::{BTreeSet, HashMap};

use axum::Json;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use maud::html;
use serde::{Deserialize, Serialize};

use super::page::{Problem, frame};
use super::{App, date_param, encode, today};
use crate::canon::{AliasTable, ServiceKey};
use crate::history::{self, Matrix};
use crate::store::Store;

#[derive(Debug, Deserialize)]
pub struct Ask {
    date: Option<String>,
    environment: Option<String>,
    /// `csv` for a download.
    format: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct MatrixView {
    #[serde(flatten)]
    pub matrix: Matrix,
    pub environment: Option<String>,
    /// Every environment the offerings in force name on the date.
    pub environments: Vec<String>,
}

fn gather(store: &Store, aliases: &AliasTable, ask: &Ask) -> Result<MatrixView, Problem> {
    let date = date_param(ask.date.as_deref(), today())?;
    let mut m = history::matrix(store, aliases, date)?;
    let wanted = ask
        .environment
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty());
    // Each offering's services by environment, as the page in force lists them.
    let mut by_env: HashMap<&str, HashMap<String, BTreeSet<ServiceKey>>> = HashMap::new();
    let mut environments = BTreeSet::new();
    for offering in &m.offerings {
        let Some(id) = store.snapshot_id_at(offering, date)? else {
            continue;
        };
        for scope in store.load(id)?.snapshot.scopes {
            let Some(env) = scope.environment.as_deref() else {
                continue;
            };
            let env = aliases.environment(env).to_string();
            environments.insert(env.clone());
            by_env
                .entry(offering.as_str())
                .or_default()
                .entry(env.to_lowercase())
                .or_default()
                .extend(
                    scope
                        .items
                        .iter()
                        .flat_map(|i| &i.services)
                        .map(|s| aliases.identity(s.name())),
                );
        }
    }
    if let Some(want) = wanted {
        let want = aliases.environment(want).to_lowercase();
        if !environments.iter().any(|e| e.to_lowercase() == want) {
            return Err(Problem::BadRequest(format!(
                "no offering names the environment {want:?} on {date}: give one of {}",
                environments.iter().cloned().collect::<Vec<_>>().join(", ")
            )));
        }
        let in_env = |offering: &str, service: &str| {
            by_env
                .get(offering)
                .and_then(|envs| envs.get(&want))
                .is_some_and(|keys| keys.contains(&aliases.identity(service)))
        };
        for (service, offerings) in m.services.iter_mut() {
            offerings.retain(|o| in_env(o, service));
        }
        m.services.retain(|_, offerings| !offerings.is_empty());
        m.localized
            .retain(|service, _| m.services.contains_key(service));
        m.offerings
            .retain(|o| m.services.values().any(|offerings| offerings.contains(o)));
    }
    Ok(MatrixView {
        matrix: m,
        environment: wanted.map(str::to_string),
        environments: environments.into_iter().collect(),
    })
}

fn csv(view: &MatrixView) -> Result<Response, Problem> {
    let text =
        crate::report::matrix_csv(&view.matrix).map_err(|e| Problem::Internal(e.to_string()))?;
    let name = format!("attachment; filename=\"matrix-{}.csv\"", view.matrix.date);
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, name),
        ],
        text,
    )
        .into_response())
}

pub async fn api(State(app): State<App>, Query(ask): Query<Ask>) -> Response {
    let csv_wanted = ask.format.as_deref() == Some("csv");
    let answer = app.query(move |s, a| gather(s, a, &ask)).await;
    match answer.and_then(|v| {
        if csv_wanted {
            csv(&v)
        } else {
            Ok(Json(v).into_response())
        }
    }) {
        Ok(r) => r,
        Err(p) => p.json(),
    }
}

pub async fn page(State(app): State<App>, Query(ask): Query<Ask>) -> Result<Response, Problem> {
    if ask.format.as_deref() == Some("csv") {
        return csv(&app.query(move |s, a| gather(s, a, &ask)).await?);
    }
    let v = app.query(move |s, a| gather(s, a, &ask)).await?;
    let m = &v.matrix;
    let env = v.environment.clone().unwrap_or_default();
    let csv_link = format!(
        "/matrix?date={}&environment={}&format=csv",
        m.date,
        encode(&env)
    );
    Ok(frame(
        &format!("Matrix on {}", m.date),
        html! {
            form method="get" action="/matrix" {
                label { "Date " input type="date" name="date" value=(m.date); }
                label { "Environment "
                    select name="environment" {
                        option value="" { "all" }
                        @for e in &v.environments { option value=(e) selected[*e == env] { (e) } }
                    }
                }
                button { "Show" }
            }
            p { (m.services.len()) " services × " (m.offerings.len()) " offerings · "
                a href=(csv_link) { "CSV" } }
            div.wide { table {
                thead { tr { th { "Service" } @for o in &m.offerings {
                    th { a href={ "/offerings/" (encode(o)) "?date=" (m.date) } { (o) } } } } }
                tbody {
                    @for (service, offerings) in &m.services {
                        tr {
                            th { a href={ "/services?q=" (encode(service)) } { (service) }
                                @if let Some(l) = m.localized.get(service) { (crate::report::spelled(l)) } }
                            @for o in &m.offerings { td { @if offerings.contains(o) { "✓" } } }
                        }
                    }
                }
            } }
        },
    )
    .into_response())
}
