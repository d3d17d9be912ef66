//! `scopewatch serve` on the 500-source × 5-year store of the scale
//! benchmark (`scale_store`): the latency of every view and its JSON twin,
//! served over HTTP on loopback, then 200 concurrent requests.
//!
//! `cargo bench --bench serve`. Criterion times each view with what the
//! server keeps between requests in place (the state of a server between
//! two nightly runs); the table printed at the end gives each view's median
//! over its own run of requests and, first, the cost of a request that
//! finds nothing kept (the first after the nightly job wrote).

#[path = "../src/allocator.rs"]
mod allocator;

mod scale_store;

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use scopewatch::canon::AliasTable;
use scopewatch::serve::{App, HEADER_TIMEOUT, router, serve};
use scopewatch::store::Store;
use tokio::runtime::Runtime;

/// Each view, by name, and the path that asks for it.
const VIEWS: &[(&str, &str)] = &[
    ("offerings", "/"),
    ("offering", "/offerings/offering-250"),
    (
        "offering at a date",
        "/offerings/offering-250?date=2022-06-30",
    ),
    ("offering page text", "/offerings/offering-250/text"),
    (
        "compare one offering",
        "/compare?source=offering-250&from=2022-03-01&to=2024-06-30",
    ),
    ("service", "/services?q=Microsoft+Defender+for+Endpoint"),
    ("service search", "/services?q=power"),
    ("matrix", "/matrix?date=2024-06-30"),
    (
        "matrix, one environment",
        "/matrix?date=2024-06-30&environment=GCC+High",
    ),
    ("compare all", "/compare?from=2022-03-01&to=2024-06-30"),
    ("feed, one offering", "/offerings/offering-250/feed.atom"),
    ("feed, all", "/feed.atom"),
    ("api offerings", "/api/v1/offerings?sort=size&order=desc"),
    (
        "api offering",
        "/api/v1/offerings/offering-250?date=2022-06-30",
    ),
    ("api services", "/api/v1/services?q=power"),
    (
        "api timeline",
        "/api/v1/timeline?name=Microsoft%20Defender%20for%20Endpoint",
    ),
    (
        "api matrix",
        "/api/v1/matrix?date=2024-06-30&environment=GCC%20High&provider=microsoft",
    ),
    (
        "api matrix csv",
        "/api/v1/matrix?date=2024-06-30&format=csv",
    ),
    (
        "api compare one",
        "/api/v1/compare?source=offering-250&from=2022-03-01&to=2024-06-30",
    ),
    (
        "api compare all",
        "/api/v1/compare?from=2022-03-01&to=2024-06-30",
    ),
];

/// Requests per view for the table of medians.
const SAMPLES: usize = 21;
const CONCURRENT: usize = 200;

/// Serves the scale store on a loopback port; its base URL.
fn start(runtime: &Runtime) -> String {
    let path = scale_store::build();
    runtime.block_on(async {
        let store = Store::open_read(&path).expect("store");
        let app = App::new(store, AliasTable::builtin(), None).expect("app");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        tokio::spawn(serve(
            listener,
            router(app),
            HEADER_TIMEOUT,
            std::future::pending(),
        ));
        base
    })
}

/// One request, which must succeed; how long it took.
fn time(runtime: &Runtime, client: &reqwest::Client, url: &str) -> Duration {
    runtime.block_on(async {
        let started = Instant::now();
        let r = client.get(url).send().await.expect("request");
        assert!(r.status().is_success(), "{url}: {}", r.status());
        r.bytes().await.expect("body");
        started.elapsed()
    })
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn views(c: &mut Criterion) {
    let runtime = Runtime::new().expect("runtime");
    let base = start(&runtime);
    let client = reqwest::Client::new();
    // Nothing is kept yet: each view's first request pays for what it
    // derives (the first of all derives the change log and the offerings).
    let cold: Vec<Duration> = VIEWS
        .iter()
        .map(|(_, path)| time(&runtime, &client, &format!("{base}{path}")))
        .collect();

    let mut group = c.benchmark_group("serve, 500 sources x 5 years");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    for (name, path) in VIEWS {
        let url = format!("{base}{path}");
        group.bench_function(*name, |b| b.iter(|| time(&runtime, &client, &url)));
    }
    group.finish();

    eprintln!("\n{:<26} {:>12} {:>12}", "view", "first", "median");
    for ((name, path), first) in VIEWS.iter().zip(cold) {
        let url = format!("{base}{path}");
        let times = (0..SAMPLES)
            .map(|_| time(&runtime, &client, &url))
            .collect();
        eprintln!("{name:<26} {first:>12.1?} {:>12.1?}", median(times));
    }

    let started = Instant::now();
    let failed = runtime.block_on(async {
        let requests: Vec<_> = (0..CONCURRENT)
            .map(|i| {
                let url = format!("{base}{}", VIEWS[i % VIEWS.len()].1);
                let client = client.clone();
                tokio::spawn(async move {
                    match client.get(&url).send().await {
                        Ok(r) if r.status().is_success() => r.bytes().await.is_err(),
                        _ => true,
                    }
                })
            })
            .collect();
        let mut failed = 0;
        for r in requests {
            failed += usize::from(r.await.unwrap_or(true));
        }
        failed
    });
    eprintln!(
        "{CONCURRENT} concurrent requests over every view: {failed} failed, all answered in {:.0?}",
        started.elapsed()
    );
    assert_eq!(
        failed, 0,
        "{failed} of {CONCURRENT} concurrent requests failed"
    );
}

criterion_group!(benches, views);
criterion_main!(benches);
