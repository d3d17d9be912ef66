//! `scopewatch serve`: a read-only web view and JSON API over the history
//! database, one module per view. Pages are server-rendered HTML with no
//! script and no outside assets; every view has a JSON twin under
//! `/api/v1/`.

mod cache;
mod compare;
mod feed;
mod matrix;
mod offering;
mod offerings;
mod page;
mod service;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::NaiveDate;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

use crate::canon::AliasTable;
use crate::store::Store;
use cache::{Cache, Derived};

pub use page::Problem;

/// The cookie a browser keeps the token in (set by `/login`).
const TOKEN_COOKIE: &str = "scopewatch_token";
/// Requests carry no more than a login form.
const MAX_BODY: usize = 4 * 1024;
/// Read connections kept open between requests.
const MAX_IDLE: usize = 16;
/// The slowest answer allowed before the request is given up.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);
/// The longest a client may take to send a request's headers: a client
/// that trickles them (slowloris) would otherwise hold a connection open
/// for ever.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long open connections get to finish once asked to stop.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

const SECURITY_HEADERS: [(&str, &str); 6] = [
    (
        "content-security-policy",
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "no-referrer"),
    ("cross-origin-opener-policy", "same-origin"),
    ("cache-control", "no-store"),
];

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(
        "refusing to listen on {0}, which is not a loopback address, without a token: pass --token (or set SCOPEWATCH_TOKEN), or listen on 127.0.0.1"
    )]
    NoToken(SocketAddr),
    #[error("the token is shorter than 16 characters: give a longer secret")]
    ShortToken,
    #[error("listening on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] crate::Error),
}

/// What `scopewatch serve` was asked for.
pub struct Options {
    pub db: PathBuf,
    pub aliases: AliasTable,
    pub listen: SocketAddr,
    pub token: Option<String>,
}

/// Refuses to expose the history beyond this machine without a token.
pub fn check_listen(addr: SocketAddr, token: Option<&str>) -> Result<(), ServeError> {
    match token {
        Some(t) if t.chars().count() < 16 => Err(ServeError::ShortToken),
        None if !addr.ip().is_loopback() => Err(ServeError::NoToken(addr)),
        _ => Ok(()),
    }
}

/// The server's shared state: the read-only store and the alias table.
#[derive(Clone)]
pub struct App(Arc<Shared>);

struct Shared {
    /// Idle read-only connections: a request takes one, or opens another,
    /// so concurrent requests read in parallel (SQLite allows many readers).
    idle: Mutex<Vec<Store>>,
    cache: Cache,
    db: PathBuf,
    aliases: AliasTable,
    token: Option<String>,
}

impl App {
    /// Serves `store`'s database; more read-only connections to it are
    /// opened as concurrent requests need them.
    pub fn new(
        store: Store,
        aliases: AliasTable,
        token: Option<String>,
    ) -> Result<Self, ServeError> {
        let watch = Store::open_read(store.path())?;
        Ok(App(Arc::new(Shared {
            db: store.path().to_path_buf(),
            idle: Mutex::new(vec![store]),
            cache: Cache::new(watch),
            aliases,
            token,
        })))
    }

    /// Derives what the views share now rather than on the first request.
    pub async fn warm(&self) -> Result<(), Problem> {
        self.query(|ctx| ctx.derived().map(drop)).await
    }

    /// Runs a store query off the async workers: SQLite blocks.
    async fn query<T, F>(&self, f: F) -> Result<T, Problem>
    where
        T: Send + 'static,
        F: FnOnce(&Ctx) -> Result<T, Problem> + Send + 'static,
    {
        let shared = self.0.clone();
        tokio::task::spawn_blocking(move || {
            let idle = shared.idle.lock().ok().and_then(|mut idle| idle.pop());
            let store = match idle {
                Some(store) => store,
                None => Store::open_read(&shared.db)?,
            };
            let answer = f(&Ctx {
                store: &store,
                aliases: &shared.aliases,
                cache: &shared.cache,
            });
            if let Ok(mut idle) = shared.idle.lock()
                && idle.len() < MAX_IDLE
            {
                idle.push(store);
            }
            answer
        })
        .await
        .map_err(|e| Problem::Internal(e.to_string()))?
    }
}

/// What a query runs with: a read connection, the alias table, and what
/// the views derive from the whole history.
struct Ctx<'a> {
    store: &'a Store,
    aliases: &'a AliasTable,
    cache: &'a Cache,
}

impl Ctx<'_> {
    fn derived(&self) -> Result<Arc<Derived>, Problem> {
        self.cache.get(self.store, self.aliases)
    }
}

/// Opens the database read-only, binds and serves until Ctrl-C.
pub async fn run(options: Options) -> Result<(), ServeError> {
    check_listen(options.listen, options.token.as_deref())?;
    let store = Store::open_read(&options.db)?;
    let listener = tokio::net::TcpListener::bind(options.listen)
        .await
        .map_err(|source| ServeError::Listen {
            addr: options.listen,
            source,
        })?;
    let addr = listener.local_addr().unwrap_or(options.listen);
    println!("serving {} on http://{addr}/", options.db.display());
    let app = App::new(store, options.aliases, options.token)?;
    let warming = app.clone();
    tokio::spawn(async move {
        if let Err(e) = warming.warm().await {
            tracing::warn!("serve: deriving the views ahead of requests: {e:?}");
        }
    });
    serve(listener, router(app), HEADER_TIMEOUT, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await;
    Ok(())
}

/// Serves HTTP/1 on `listener` until `shutdown` completes, then lets open
/// connections finish for a while. A connection whose request headers take
/// longer than `header_timeout` to arrive is closed.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    header_timeout: Duration,
    shutdown: impl Future<Output = ()>,
) {
    let service = TowerToHyperService::new(router);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors, most likely: wait for some
                    // connections to close rather than spin.
                    tracing::warn!("serve: accepting a connection: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let connection =
            graceful.watch(http.serve_connection(TokioIo::new(stream), service.clone()));
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!("serve: connection closed: {e}");
            }
        });
    }
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("serve: connections still open after {SHUTDOWN_GRACE:?}; closing them");
    }
}

/// Every route, behind the token check and the security headers.
pub fn router(app: App) -> Router {
    Router::new()
        .route("/", get(offerings::page))
        .route("/offerings/{id}", get(offering::page))
        .route("/offerings/{id}/feed.atom", get(feed::offering))
        .route("/offerings/{id}/text", get(offering::text))
        .route("/services", get(service::page))
        .route("/matrix", get(matrix::page))
        .route("/compare", get(compare::page))
        .route("/feed.atom", get(feed::all))
        .route("/api/v1/offerings", get(offerings::api))
        .route("/api/v1/offerings/{id}", get(offering::api))
        .route("/api/v1/services", get(service::api_search))
        .route("/api/v1/timeline", get(service::api_timeline))
        .route("/api/v1/matrix", get(matrix::api))
        .route("/api/v1/compare", get(compare::api))
        .route("/style.css", get(page::style))
        .route("/login", get(page::login_form).post(page::login))
        .fallback(|| async { Problem::NotFound("no such page".into()) })
        .layer(middleware::from_fn_with_state(app.clone(), guard))
        .layer(RequestBodyLimitLayer::new(MAX_BODY))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .with_state(app)
}

/// Asks for the token (bearer header or cookie) when one is set, and adds
/// the security headers to every answer.
async fn guard(State(app): State<App>, request: Request, next: Next) -> Response {
    let open = matches!(request.uri().path(), "/login" | "/style.css");
    let mut response = match &app.0.token {
        Some(token) if !open && !presents(request.headers(), token) => {
            Problem::Unauthorized.into_response()
        }
        _ => next.run(request).await,
    };
    let headers = response.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

fn presents(headers: &HeaderMap, token: &str) -> bool {
    let bearer = headers
        .get_all(header::AUTHORIZATION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.strip_prefix("Bearer "));
    let cookies = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().strip_prefix(TOKEN_COOKIE)?.strip_prefix('='));
    bearer.chain(cookies).any(|given| same(given.trim(), token))
}

/// Compares in time independent of where the strings differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// A date from a query parameter: absent or empty means `default`.
fn date_param(text: Option<&str>, default: NaiveDate) -> Result<NaiveDate, Problem> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(default),
        Some(t) => NaiveDate::parse_from_str(t, "%Y-%m-%d")
            .map_err(|_| Problem::BadRequest(format!("invalid date {t:?}: give YYYY-MM-DD"))),
    }
}

fn today() -> NaiveDate {
    chrono::Utc::now().date_naive()
}

/// A query parameter's value in a link.
fn encode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}
