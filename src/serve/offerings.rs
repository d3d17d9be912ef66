//! Offerings: every source with its scope size, last change and state,
//! filtered and sorted by query parameters.

use std::collections::{BTreeSet, HashMap};

use axum::Json;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use maud::html;
use serde::{Deserialize, Serialize};

use super::page::{Problem, frame};
use super::{App, Ctx, encode};
use crate::canon::AliasTable;
use crate::history::Event;
use crate::store::{Store, VersionRef};

const STATES: [&str; 3] = ["ok", "anomaly", "retired"];
const SORTS: [&str; 4] = ["id", "size", "change", "state"];

#[derive(Debug, Clone, Serialize)]
pub struct Offering {
    pub id: String,
    pub title: Option<String>,
    /// Whose page it is: `aws`, `microsoft`, or the name of the profile a
    /// scope-matrix page of another provider is read with.
    pub provider: String,
    /// Services in scope in its latest version with scope.
    pub services: usize,
    pub versions: u64,
    pub last_version: Option<String>,
    pub last_change: Option<NaiveDate>,
    /// `ok`, `anomaly` (its latest version has no readable scope) or
    /// `retired` (its page was deleted).
    pub state: &'static str,
}

#[derive(Debug, Default, Deserialize)]
pub struct Filter {
    /// Part of the id or title.
    q: Option<String>,
    state: Option<String>,
    sort: Option<String>,
    /// `desc` for the largest or latest first.
    order: Option<String>,
}

/// Every source, in id order: derived once per state of the database.
pub(super) fn all(
    store: &Store,
    aliases: &AliasTable,
    log: &[Event],
    versions: &HashMap<String, Vec<VersionRef>>,
) -> Result<Vec<Offering>, Problem> {
    let mut last_change: HashMap<&str, NaiveDate> = HashMap::new();
    for e in log {
        last_change.insert(&e.source, e.date);
    }
    let retirements = store.all_retirements()?;
    let mut list = Vec::new();
    for s in store.sources()? {
        let last = versions.get(&s.id).and_then(|v| v.last());
        let retired = last.is_some_and(|v| {
            retirements
                .get(&s.id)
                .is_some_and(|r| r.iter().any(|at| *at > v.captured_at))
        });
        let state = match (retired, last.map(|v| v.has_scope)) {
            (true, _) => "retired",
            (false, Some(false)) => "anomaly",
            _ => "ok",
        };
        let good = store.latest_good(&s.id)?;
        let services = good.as_ref().map_or(0, |good| {
            good.snapshot
                .scopes
                .iter()
                .flat_map(|scope| &scope.items)
                .flat_map(|item| &item.services)
                .map(|service| aliases.identity(service.name()))
                .collect::<BTreeSet<_>>()
                .len()
        });
        let profile = good.and_then(|g| g.snapshot.read_with).map(|p| p.name);
        list.push(Offering {
            last_change: last_change.get(s.id.as_str()).copied(),
            provider: provider(profile.as_deref()).to_string(),
            id: s.id,
            title: s.title,
            services,
            versions: s.snapshots,
            last_version: s.last,
            state,
        });
    }
    Ok(list)
}

/// A page's provider, from the scope-matrix profile it is read with:
/// offering pages (no profile) are Microsoft's.
fn provider(profile: Option<&str>) -> &str {
    match profile {
        None | Some("azure-compliance-scope") => "microsoft",
        Some("aws-services-in-scope") => "aws",
        Some(other) => other,
    }
}

fn gather(ctx: &Ctx, f: &Filter) -> Result<Vec<Offering>, Problem> {
    let wanted = f.state.as_deref().filter(|s| !s.is_empty());
    if let Some(s) = wanted.filter(|s| !STATES.contains(s)) {
        return Err(Problem::BadRequest(format!(
            "unknown state {s:?}: give one of {}",
            STATES.join(", ")
        )));
    }
    let sort = f.sort.as_deref().filter(|s| !s.is_empty()).unwrap_or("id");
    if !SORTS.contains(&sort) {
        return Err(Problem::BadRequest(format!(
            "unknown sort {sort:?}: give one of {}",
            SORTS.join(", ")
        )));
    }
    let q = f.q.as_deref().unwrap_or("").trim().to_lowercase();
    let mut list: Vec<Offering> = ctx
        .derived()?
        .offerings
        .iter()
        .filter(|o| {
            let shown = format!("{} {}", o.id, o.title.as_deref().unwrap_or(""));
            shown.to_lowercase().contains(&q) && wanted.is_none_or(|w| w == o.state)
        })
        .cloned()
        .collect();
    match sort {
        "size" => list.sort_by_key(|o| o.services),
        "change" => list.sort_by_key(|o| o.last_change),
        "state" => list.sort_by_key(|o| o.state),
        _ => {}
    }
    if f.order.as_deref() == Some("desc") {
        list.reverse();
    }
    Ok(list)
}

pub async fn api(State(app): State<App>, Query(f): Query<Filter>) -> Response {
    match app.query(move |ctx| gather(ctx, &f)).await {
        Ok(list) => Json(list).into_response(),
        Err(p) => p.json(),
    }
}

pub async fn page(State(app): State<App>, Query(f): Query<Filter>) -> Result<Response, Problem> {
    let q = f.q.clone().unwrap_or_default();
    let want = f.state.clone().unwrap_or_default();
    let sort = f.sort.clone().unwrap_or_default();
    let desc = f.order.as_deref() == Some("desc");
    let list = app.query(move |ctx| gather(ctx, &f)).await?;
    Ok(frame(
        "Offerings",
        html! {
            form method="get" action="/" {
                label { "Name or title " input type="search" name="q" value=(q); }
                label { "State "
                    select name="state" {
                        option value="" { "any" }
                        @for s in STATES { option value=(s) selected[want == s] { (s) } }
                    }
                }
                label { "Sort by "
                    select name="sort" {
                        @for s in SORTS { option value=(s) selected[sort == s] { (s) } }
                    }
                }
                label { "Order "
                    select name="order" {
                        option value="asc" { "ascending" }
                        option value="desc" selected[desc] { "descending" }
                    }
                }
                button { "Show" }
            }
            p { (list.len()) " offerings" }
            div.wide { table {
                thead { tr { th { "Offering" } th { "Services" } th { "Versions" } th { "Last change" } th { "State" } } }
                tbody {
                    @for o in &list {
                        tr {
                            th { a href={ "/offerings/" (encode(&o.id)) } { (o.id) }
                                @if let Some(t) = &o.title { br; small { (t) } } }
                            td { (o.services) }
                            td { (o.versions) }
                            td { @if let Some(d) = o.last_change { (d.to_string()) } @else { "none" } }
                            td { (o.state) }
                        }
                    }
                }
            } }
        },
    )
    .into_response())
}
