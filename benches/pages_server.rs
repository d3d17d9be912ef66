//! Serves a folder of pages on loopback for `benches/compare-urlwatch.sh`.
//!
//! Answers conditional requests (If-None-Match with an ETag from the file's
//! modification time and size, If-Modified-Since) with 304, as
//! learn.microsoft.com does, so both tools can show what an unchanged page
//! costs. Binds 127.0.0.1 only and exits by itself after `--lifetime`
//! seconds.
//!
//! Why compiled: the comparison runs both tools and this server on one
//! machine of two cores, and the server's CPU is taken from the tool
//! measured. A tool that uses both cores loses more to it than one that
//! uses one, and in production the server is someone else's machine. The
//! Python server this replaces (an asyncio loop, itself written because
//! `http.server` cost 160 microseconds a request) took about 33 ms of CPU
//! for 1,000 requests, 24 of them in Python; this one takes about 13, most
//! of it the kernel's. It keeps each file's response in memory until the
//! file changes (checked with a stat per request).
//!
//!   cargo run --release --example pages_server -- --dir DIR --port PORT [--lifetime SECONDS]

use std::collections::HashMap;
use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};

use clap::Parser;
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{
    CONTENT_TYPE, ETAG, HeaderValue, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED,
};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

#[derive(Parser)]
struct Args {
    /// The folder whose files are served, each at `/<file name>`.
    #[arg(long)]
    dir: PathBuf,
    #[arg(long)]
    port: u16,
    /// Seconds until the server stops by itself.
    #[arg(long, default_value_t = 1800)]
    lifetime: u64,
}

/// A file's response, valid while its modification time and size stay.
struct Cached {
    modified_ns: u128,
    size: u64,
    etag: HeaderValue,
    last_modified: HeaderValue,
    body: Bytes,
}

type Cache = Mutex<HashMap<PathBuf, Arc<Cached>>>;

fn cached(cache: &Cache, path: &Path) -> std::io::Result<Arc<Cached>> {
    let meta = std::fs::metadata(path)?;
    let modified = meta.modified()?;
    let modified_ns = modified
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let mut cache = cache.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(hit) = cache.get(path)
        && hit.modified_ns == modified_ns
        && hit.size == meta.len()
    {
        return Ok(hit.clone());
    }
    let body = Bytes::from(std::fs::read(path)?);
    let http_date = chrono::DateTime::<chrono::Utc>::from(modified)
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
    let entry = Arc::new(Cached {
        modified_ns,
        size: body.len() as u64,
        etag: HeaderValue::try_from(format!("\"{modified_ns:x}-{:x}\"", body.len()))
            .map_err(std::io::Error::other)?,
        last_modified: HeaderValue::try_from(http_date).map_err(std::io::Error::other)?,
        body,
    });
    cache.insert(path.to_path_buf(), entry.clone());
    Ok(entry)
}

fn empty(status: StatusCode) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = status;
    response
}

/// The answer to one request: the file, a 304 when the client's copy is
/// current, or a 404.
fn answer(root: &Path, cache: &Cache, request: &Request<Incoming>) -> Response<Full<Bytes>> {
    if request.method() != hyper::Method::GET {
        return empty(StatusCode::BAD_REQUEST);
    }
    let name = request.uri().path().trim_start_matches('/');
    if name.is_empty() || name.contains('/') || name.starts_with('.') {
        return empty(StatusCode::NOT_FOUND);
    }
    let Ok(file) = cached(cache, &root.join(name)) else {
        return empty(StatusCode::NOT_FOUND);
    };
    let headers = request.headers();
    let current = match headers.get(IF_NONE_MATCH) {
        Some(tag) => tag == file.etag,
        None => headers.get(IF_MODIFIED_SINCE) == Some(&file.last_modified),
    };
    let mut response = if current {
        empty(StatusCode::NOT_MODIFIED)
    } else {
        let mut ok = Response::new(Full::new(file.body.clone()));
        let headers = ok.headers_mut();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        headers.insert(LAST_MODIFIED, file.last_modified.clone());
        ok
    };
    response.headers_mut().insert(ETAG, file.etag.clone());
    response
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let root: Arc<Path> = std::fs::canonicalize(&args.dir)?.into();
    let cache: Arc<Cache> = Arc::default();
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port)).await?;
    let serve = async {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let (root, cache) = (root.clone(), cache.clone());
            let service = hyper::service::service_fn(move |request| {
                let response = answer(&root, &cache, &request);
                async move { Ok::<_, Infallible>(response) }
            });
            tokio::spawn(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service),
            );
        }
    };
    // The lifetime passing is the normal end, not an error.
    let _ = tokio::time::timeout(Duration::from_secs(args.lifetime), serve).await;
    Ok(())
}
