//! Backfill speed: the whole `../shared/corpus` bundle (every version of 72
//! offering pages, 2020-2022) imported from git into an empty database.
//!
//! `cargo bench --bench import`. Needs `../shared` (or `SCOPEWATCH_SHARED`).

#[path = "../src/allocator.rs"]
mod allocator;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use scopewatch::ingest::git::{GitOptions, import_git};
use scopewatch::store::Store;

fn shared() -> PathBuf {
    std::env::var_os("SCOPEWATCH_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"))
}

fn backfill(c: &mut Criterion) {
    let bundle = shared().join("corpus/compliance-docs.bundle");
    if !bundle.exists() {
        eprintln!("skipping: no bundle at {}", bundle.display());
        return;
    }
    let work = tempfile::tempdir().expect("temp dir");
    let repo = work.path().join("docs");
    let cloned = Command::new("git")
        .args(["-c", "init.defaultBranch=main", "clone", "-q", "-b", "main"])
        .arg(&bundle)
        .arg(&repo)
        .status()
        .expect("git runs");
    assert!(cloned.success());

    let mut group = c.benchmark_group("backfill");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    group.bench_function("import-git whole bundle", |b| {
        b.iter_with_setup(
            || tempfile::tempdir().expect("temp dir"),
            |dir| {
                let mut store = Store::open(&dir.path().join("bench.db")).expect("store");
                let report = import_git(
                    &mut store,
                    &repo,
                    "compliance/regulatory/offering-*.md",
                    &GitOptions::default(),
                    &|_| {},
                )
                .expect("import");
                assert!(report.stored > 900);
            },
        )
    });
    group.finish();
}

criterion_group!(benches, backfill);
criterion_main!(benches);
