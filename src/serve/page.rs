//! The frame every page shares, the stylesheet, error pages and the login
//! form that gives a browser the token as a cookie.

use axum::Form;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{DOCTYPE, Markup, html};
use serde::Deserialize;

use super::TOKEN_COOKIE;

/// Plain CSS, served from this origin so the policy can forbid inline
/// styles. The matrix keeps its headers in view while scrolling.
const CSS: &str = "
body{font-family:system-ui,sans-serif;margin:0 auto;max-width:1200px;padding:0 12px;line-height:1.4}
nav{display:flex;flex-wrap:wrap;gap:12px;padding:8px 0;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:8px 0}
th,td{border:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top}
.wide{overflow:auto;max-height:80vh;max-width:100%}
.wide thead th{position:sticky;top:0;background:#f4f4f4;z-index:1}
.wide tbody th{position:sticky;left:0;background:#fafafa}
form{display:flex;flex-wrap:wrap;gap:8px;align-items:end;margin:8px 0}
.error{color:#a00}
pre{white-space:pre-wrap}
table.side{table-layout:fixed;width:100%}
table.side td{font:12px/1.35 ui-monospace,monospace;width:50%;white-space:pre-wrap;word-break:break-word}
table.side td.del{background:#ffebe9}table.side td.ins{background:#dafbe1}table.side td.gap{text-align:center}
.muted{color:#666}
";

pub async fn style() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], CSS).into_response()
}

/// A whole page: navigation, title and body.
pub fn frame(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · scopewatch" }
                link rel="stylesheet" href="/style.css";
                link rel="alternate" type="application/atom+xml" href="/feed.atom" title="All scope changes";
            }
            body {
                nav {
                    a href="/" { "Offerings" }
                    a href="/services" { "Services" }
                    a href="/matrix" { "Matrix" }
                    a href="/compare" { "Compare" }
                    a href="/feed.atom" { "Feed" }
                }
                h1 { (title) }
                (body)
            }
        }
    }
}

/// Why a request has no answer: the page or JSON says it, with its status.
#[derive(Debug)]
pub enum Problem {
    BadRequest(String),
    NotFound(String),
    Unauthorized,
    Internal(String),
}

impl Problem {
    fn status(&self) -> StatusCode {
        match self {
            Problem::BadRequest(_) => StatusCode::BAD_REQUEST,
            Problem::NotFound(_) => StatusCode::NOT_FOUND,
            Problem::Unauthorized => StatusCode::UNAUTHORIZED,
            Problem::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn message(&self) -> String {
        match self {
            Problem::BadRequest(m) | Problem::NotFound(m) => m.clone(),
            Problem::Unauthorized => {
                "a token is needed: send `Authorization: Bearer TOKEN`, or log in at /login".into()
            }
            Problem::Internal(_) => "the history could not be read; see the server's log".into(),
        }
    }

    /// The problem as JSON, for the API.
    pub fn json(self) -> Response {
        let body = serde_json::json!({ "error": self.message() });
        (self.status(), axum::Json(body)).into_response()
    }
}

impl From<crate::Error> for Problem {
    fn from(e: crate::Error) -> Self {
        match e {
            crate::Error::UnknownSource(_) => Problem::NotFound(e.to_string()),
            crate::Error::Date(_) | crate::Error::DateOrder { .. } => {
                Problem::BadRequest(e.to_string())
            }
            other => Problem::Internal(other.to_string()),
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        if let Problem::Internal(why) = &self {
            tracing::error!("serve: {why}");
        }
        let status = self.status();
        let title = status.canonical_reason().unwrap_or("Error");
        let body = frame(
            title,
            html! {
                p.error { (self.message()) }
                p { a href="/" { "Back to the offerings" } }
            },
        );
        (status, body).into_response()
    }
}

pub async fn login_form() -> Markup {
    frame(
        "Log in",
        html! {
            form method="post" action="/login" {
                label { "Token " input type="password" name="token" required; }
                button { "Log in" }
            }
        },
    )
}

#[derive(Deserialize)]
pub struct Login {
    token: String,
}

/// Keeps the token in a cookie scripts cannot read and other sites cannot
/// send; whether it is right is checked on every request.
pub async fn login(Form(login): Form<Login>) -> Response {
    let cookie = format!(
        "{TOKEN_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict",
        login.token.trim()
    );
    match HeaderValue::from_str(&cookie) {
        Ok(value) => {
            let mut response = Redirect::to("/").into_response();
            response.headers_mut().insert(header::SET_COOKIE, value);
            response
        }
        Err(_) => Problem::BadRequest("the token has characters a cookie cannot hold".into())
            .into_response(),
    }
}

/// Scope change events as a table: date, source, what changed (with the
/// evidence the log gives for a rename).
pub fn events(list: &[crate::history::Event]) -> Markup {
    html! {
        @if list.is_empty() {
            p { "No scope changes." }
        } @else {
            div.wide { table {
                thead { tr { th { "Date" } th { "Offering" } th { "Change" } } }
                tbody {
                    @for e in list {
                        tr {
                            td { (e.date.to_string()) }
                            td { a href={ "/offerings/" (super::encode(&e.source)) } { (e.source) } }
                            td { (crate::report::event_line(&e.what)) }
                        }
                    }
                }
            } }
        }
    }
}
