//! The matrix: services × offerings in scope on a date, optionally in one
//! environment or of one provider, as a page, JSON or CSV.

use std::collections::{BTreeSet, HashMap};

use axum::Json;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use maud::html;
use serde::{Deserialize, Serialize};

use super::cache::MatrixData;
use super::page::{Problem, frame};
use super::{App, Ctx, date_param, encode, today};
use crate::canon::{AliasTable, ServiceKey};
use crate::history::{self, Matrix};
use crate::store::Store;

#[derive(Debug, Deserialize)]
pub struct Ask {
    date: Option<String>,
    environment: Option<String>,
    provider: Option<String>,
    /// `csv` for a download.
    format: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct MatrixView {
    #[serde(flatten)]
    pub matrix: Matrix,
    pub environment: Option<String>,
    pub provider: Option<String>,
    /// Every environment the offerings in force name on the date.
    pub environments: Vec<String>,
    /// Every provider of an offering in force on the date.
    pub providers: Vec<String>,
}

/// The matrix of `date` and each offering's services per environment, as
/// the page in force lists them.
fn derive(store: &Store, aliases: &AliasTable, date: NaiveDate) -> Result<MatrixData, Problem> {
    let matrix = history::matrix(store, aliases, date)?;
    let mut by_env: HashMap<String, HashMap<String, BTreeSet<ServiceKey>>> = HashMap::new();
    let mut environments = BTreeSet::new();
    for offering in &matrix.offerings {
        // A scope-matrix page's column is one program: its services are
        // that program's, as a page's row is its environment's.
        if let Some(column) = matrix.programs.get(offering) {
            let keys = matrix
                .services
                .iter()
                .filter(|(_, columns)| columns.contains(offering))
                .map(|(service, _)| aliases.identity(service))
                .collect();
            by_env
                .entry(offering.clone())
                .or_default()
                .insert(column.program.to_lowercase(), keys);
            environments.insert(column.program.clone());
            continue;
        }
        let Some(id) = store.snapshot_id_at(offering, date)? else {
            continue;
        };
        for scope in store.load(id)?.snapshot.scopes {
            let Some(env) = scope.environment.as_deref() else {
                continue;
            };
            let env = aliases.environment(env).to_string();
            by_env
                .entry(offering.clone())
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
            environments.insert(env);
        }
    }
    Ok(MatrixData {
        matrix,
        by_env,
        environments,
    })
}

/// A filter's value: absent or blank means none.
fn given(text: Option<&str>) -> Option<&str> {
    text.map(str::trim).filter(|t| !t.is_empty())
}

fn gather(ctx: &Ctx, ask: &Ask) -> Result<MatrixView, Problem> {
    let date = date_param(ask.date.as_deref(), today())?;
    let derived = ctx.derived()?;
    let data = derived
        .matrices
        .get(&date, || derive(ctx.store, ctx.aliases, date))?;
    let provider_of: HashMap<&str, &str> = derived
        .offerings
        .iter()
        .map(|o| (o.id.as_str(), o.provider.as_str()))
        .collect();
    // A program's column is of its page's provider.
    let source_of = |column: &str| -> String {
        data.matrix
            .programs
            .get(column)
            .map_or_else(|| column.to_string(), |p| p.source.clone())
    };
    let providers: BTreeSet<&str> = data
        .matrix
        .offerings
        .iter()
        .filter_map(|o| provider_of.get(source_of(o).as_str()).copied())
        .collect();
    let mut m = data.matrix.clone();
    let (env, provider) = (
        given(ask.environment.as_deref()),
        given(ask.provider.as_deref()),
    );
    if let Some(want) = provider {
        let want = want.to_lowercase();
        if !providers.contains(want.as_str()) {
            return Err(Problem::BadRequest(format!(
                "no offering in force on {date} is from the provider {want:?}: give one of {}",
                providers.iter().copied().collect::<Vec<_>>().join(", ")
            )));
        }
        let from = |o: &str| {
            provider_of
                .get(source_of(o).as_str())
                .is_some_and(|p| *p == want)
        };
        keep(&mut m, |offering, _| from(offering));
    }
    if let Some(want) = env {
        let want = ctx.aliases.environment(want).to_lowercase();
        if !data.environments.iter().any(|e| e.to_lowercase() == want) {
            return Err(Problem::BadRequest(format!(
                "no offering names the environment {want:?} on {date}: give one of {}",
                data.environments
                    .iter()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        keep(&mut m, |offering, service| {
            data.by_env
                .get(offering)
                .and_then(|envs| envs.get(&want))
                .is_some_and(|keys| keys.contains(&ctx.aliases.identity(service)))
        });
    }
    Ok(MatrixView {
        matrix: m,
        environment: env.map(str::to_string),
        provider: provider.map(str::to_lowercase),
        environments: data.environments.iter().cloned().collect(),
        providers: providers.into_iter().map(str::to_string).collect(),
    })
}

/// Keeps the (offering, service) marks `wanted` says, then the services and
/// offerings that still have one.
fn keep(m: &mut Matrix, wanted: impl Fn(&str, &str) -> bool) {
    for (service, offerings) in m.services.iter_mut() {
        offerings.retain(|o| wanted(o, service));
    }
    m.services.retain(|_, offerings| !offerings.is_empty());
    let services = &m.services;
    m.localized
        .retain(|service, _| services.contains_key(service));
    m.offerings
        .retain(|o| services.values().any(|offerings| offerings.contains(o)));
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
    let answer = app.query(move |ctx| gather(ctx, &ask)).await;
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
        return csv(&app.query(move |ctx| gather(ctx, &ask)).await?);
    }
    let v = app.query(move |ctx| gather(ctx, &ask)).await?;
    let m = &v.matrix;
    let env = v.environment.clone().unwrap_or_default();
    let provider = v.provider.clone().unwrap_or_default();
    let csv_link = format!(
        "/matrix?date={}&environment={}&provider={}&format=csv",
        m.date,
        encode(&env),
        encode(&provider)
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
                label { "Provider "
                    select name="provider" {
                        option value="" { "all" }
                        @for p in &v.providers { option value=(p) selected[*p == provider] { (p) } }
                    }
                }
                button { "Show" }
            }
            p { (m.services.len()) " services × " (m.offerings.len()) " offerings · "
                a href=(csv_link) { "CSV" } }
            div.wide { table {
                thead { tr { th { "Service" } @for o in &m.offerings {
                    // A program's column links to its page.
                    th { a href={ "/offerings/" (encode(m.programs.get(o).map_or(o.as_str(), |p| p.source.as_str()))) "?date=" (m.date) } { (o) } } } } }
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
