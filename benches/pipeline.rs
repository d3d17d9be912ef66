//! The pipeline's own costs: parse throughput per page form (MB/s), diff
//! latency for two versions of a large page, how splitting and diffing
//! scale with the number of names, and the store's import rate.
//!
//! `cargo bench --bench pipeline`. Pages come from `snapshots/`; the text
//! form uses the seed export in `../shared` when it is there.

#[path = "../src/allocator.rs"]
mod allocator;

use std::path::PathBuf;
use std::time::Duration;

use chrono::{TimeDelta, Utc};
use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use scopewatch::canon::{AliasTable, split_item};
use scopewatch::diff::Differ;
use scopewatch::ingest::{import_bytes, read_snapshot};
use scopewatch::model::PageForm;
use scopewatch::store::Store;

fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(path)).expect("fixture")
}

/// A text export: the seed when available, else a Markdown page flattened.
fn text_page() -> Vec<u8> {
    let seed =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/seeds/002_569c391c3c9965dd.txt");
    std::fs::read(seed).unwrap_or_else(|_| {
        String::from_utf8_lossy(&fixture("snapshots/offering-iso-27001/2022-04-20.md"))
            .lines()
            .filter(|l| !l.starts_with('|') && !l.starts_with("---"))
            .map(|l| l.trim_start_matches('#').trim())
            .collect::<Vec<_>>()
            .join("\n")
            .into_bytes()
    })
}

/// A large page: `items` services in the list and in each of four rows.
fn large_page(items: usize, renamed: bool) -> String {
    let name = |i: usize| {
        if renamed && i % 50 == 0 {
            format!("Renamed Service {i}")
        } else {
            format!("Service {i}")
        }
    };
    let mut md = String::from("# Large offering\n\n## Microsoft in-scope cloud services\n\n");
    for i in 0..items {
        md.push_str(&format!(
            "- {} cloud service either as a standalone service or as included in a plan\n",
            name(i)
        ));
    }
    md.push_str("\n| Applicability | In-scope services |\n|--|--|\n");
    for env in ["Commercial", "GCC", "GCC High", "DoD"] {
        let row: Vec<String> = (0..items)
            .filter(|i| i % 3 != 0 || !renamed)
            .map(name)
            .collect();
        md.push_str(&format!("| {env} | {} |\n", row.join(", ")));
    }
    md
}

fn parsing(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse");
    for (form, bytes) in [
        (
            PageForm::Html,
            fixture("snapshots/offering-iso-27001/2021-03-01.html"),
        ),
        (
            PageForm::Markdown,
            fixture("snapshots/offering-iso-27001/2022-04-20.md"),
        ),
        (PageForm::Text, text_page()),
    ] {
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function(form.as_str(), |b| {
            b.iter(|| read_snapshot("bench", &bytes).expect("parses"))
        });
    }
    group.finish();
}

fn diffing(c: &mut Criterion) {
    let aliases = AliasTable::builtin();
    let differ = Differ::new(&aliases);
    let old = read_snapshot("old", large_page(1_000, false).as_bytes()).expect("old");
    let new = read_snapshot("new", large_page(1_000, true).as_bytes()).expect("new");
    let mut group = c.benchmark_group("diff");
    group.bench_function("1,000 services x 5 scopes", |b| {
        b.iter(|| differ.diff(&old, &new))
    });
    group.finish();
}

/// Splitting one item of n names, and diffing pages of n names (1 in 50
/// renamed, as in `diffing`, and all renamed): time per name should stay
/// flat from 1,000 to 16,000 names.
fn scaling(c: &mut Criterion) {
    let aliases = AliasTable::builtin();
    let differ = Differ::new(&aliases);
    let list = |n: usize, name: &str| -> Vec<String> {
        (0..n)
            .map(|i| {
                if name.is_empty() && i % 50 == 0 {
                    format!("Renamed Service {i}")
                } else {
                    format!("{name}Service {i}")
                }
            })
            .collect()
    };
    let page = |items: &[String]| {
        let mut md = String::from("# Scaling\n\n## Microsoft in-scope cloud services\n\n");
        for item in items {
            md.push_str(&format!("- {item}\n"));
        }
        read_snapshot("scaling", md.as_bytes()).expect("parses")
    };
    let mut group = c.benchmark_group("scaling");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    for n in [1_000, 4_000, 16_000] {
        group.throughput(Throughput::Elements(n as u64));
        let item = list(n, "Azure ").join(", ");
        group.bench_function(BenchmarkId::new("split one item", n), |b| {
            b.iter(|| split_item(&item))
        });
        let one = |item: &str| {
            let md = format!("# Scaling\n\n## Microsoft in-scope cloud services\n\n- {item}\n");
            read_snapshot("scaling", md.as_bytes()).expect("parses")
        };
        let (unchanged, reworded) = (one(&item), one(&format!("{item}.")));
        group.bench_function(BenchmarkId::new("diff one item, reworded", n), |b| {
            b.iter(|| differ.diff(&unchanged, &reworded))
        });
        let old = page(&list(n, "Azure "));
        let some = page(&list(n, ""));
        group.bench_function(BenchmarkId::new("diff, 1 in 50 renamed", n), |b| {
            b.iter(|| differ.diff(&old, &some))
        });
        let all = page(&list(n, "Contoso "));
        group.bench_function(BenchmarkId::new("diff, all renamed", n), |b| {
            b.iter(|| differ.diff(&old, &all))
        });
    }
    group.finish();
}

fn importing(c: &mut Criterion) {
    const VERSIONS: usize = 200;
    let pages: Vec<Vec<u8>> = (0..VERSIONS)
        .map(|i| large_page(60 + i % 7, i % 2 == 0).into_bytes())
        .collect();
    let mut group = c.benchmark_group("store");
    group
        .throughput(Throughput::Elements(VERSIONS as u64))
        .measurement_time(Duration::from_secs(15));
    group.bench_function("import (snapshots)", |b| {
        b.iter_batched(
            || tempfile::tempdir().expect("temp dir"),
            |dir| {
                let mut store = Store::open(&dir.path().join("bench.db")).expect("store");
                let start = Utc::now();
                for (i, page) in pages.iter().enumerate() {
                    let at = start + TimeDelta::days(i as i64);
                    import_bytes(&mut store, "offering-bench", at, "bench", page).expect("import");
                }
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, parsing, diffing, scaling, importing);
criterion_main!(benches);
