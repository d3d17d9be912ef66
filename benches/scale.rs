//! The scaling run: latency of the questions people ask of the 500-source
//! × 5-year history (see `scale_store`).
//!
//! `cargo bench --bench scale`. The store is built once (about a minute)
//! and kept in `target/scopewatch-scale-v*.db`.

#[path = "../src/allocator.rs"]
mod allocator;

mod scale_store;

use std::time::Duration;

use chrono::{NaiveDate, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use scopewatch::canon::AliasTable;
use scopewatch::diff::Differ;
use scopewatch::history;
use scopewatch::store::Store;

fn queries(c: &mut Criterion) {
    let path = scale_store::build();
    let store = Store::open(&path).expect("store");
    let aliases = AliasTable::builtin();
    let differ = Differ::new(&aliases);
    let (from, to) = (
        NaiveDate::from_ymd_opt(2022, 3, 1).unwrap_or_default(),
        NaiveDate::from_ymd_opt(2024, 6, 30).unwrap_or_default(),
    );
    let sources: Vec<String> = store
        .sources()
        .expect("sources")
        .into_iter()
        .map(|s| s.id)
        .collect();
    let mut group = c.benchmark_group("500 sources x 5 years");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(10));
    group.bench_function("diff --source all", |b| {
        b.iter(|| {
            history::between_all(&store, &aliases, from, to)
                .expect("diff")
                .len()
        })
    });
    group.bench_function("diff --source ID", |b| {
        b.iter(|| history::between(&store, &differ, &sources[250], from, to).expect("diff"))
    });
    group.bench_function("timeline", |b| {
        b.iter(|| {
            history::timeline(&store, &aliases, "Microsoft Defender for Endpoint")
                .expect("timeline")
        })
    });
    group.bench_function("matrix", |b| {
        b.iter(|| history::matrix(&store, &aliases, to).expect("matrix"))
    });
    group.finish();
    let now = Utc::now();
    eprintln!("(queries measured at {now})");
}

criterion_group!(benches, queries);
criterion_main!(benches);
