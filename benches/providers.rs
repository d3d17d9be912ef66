//! Reading a scope-matrix page: `parse` of a 1 MB page shaped as AWS's
//! "Services in Scope by Compliance Program" must take under 50 ms.
//!
//! `cargo bench --bench providers`. The page is built from the fixture in
//! `tests/fixtures/providers/` by repeating its program tabs, each under a
//! program name of its own, until it passes 1 MB (the real page is 0.8 to
//! 0.9 MB with 13 to 14 programs).

#[path = "../src/allocator.rs"]
mod allocator;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use scopewatch_core::profile::{Extraction, builtin, read};

const BUDGET: Duration = Duration::from_millis(50);

/// The fixture with its tabs repeated until the page is over 1 MB.
fn megabyte_page() -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/providers/aws-services-in-scope-1.html");
    let page = std::fs::read_to_string(path).expect("fixture");
    let start = page.find("<ul class=\"content-wrapper\">").expect("tabs") + 28;
    let end = page[start..].find("\n       </ul>").expect("end of tabs") + start;
    let tabs = &page[start..end];
    let mut more = String::new();
    let mut copy = 0;
    while page.len() + more.len() < 1_050_000 {
        copy += 1;
        // Each copy's programs get names of their own, so that they are
        // new scopes rather than repeats of the first.
        let mut renamed = tabs.to_string();
        for program in ["SOC", "FedRAMP", "DoD CC SRG", "HIPAA BAA"] {
            renamed = renamed.replace(
                &format!("              {program}\n              <i"),
                &format!("              {program} copy {copy}\n              <i"),
            );
        }
        more.push_str(&renamed);
    }
    format!("{}{more}{}", &page[..end], &page[end..])
}

fn parse_matrix(c: &mut Criterion) {
    let page = megabyte_page();
    let aws: Extraction = builtin("aws-services-in-scope").expect("built in");
    let parse = || read("aws.html", page.as_bytes(), &aws).expect("readable");
    assert!(parse().scopes.len() > 20, "the page is read as a matrix");

    // The budget, checked on the median of 21 parses before criterion's
    // finer measurement.
    let mut times: Vec<Duration> = (0..21)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(parse());
            start.elapsed()
        })
        .collect();
    times.sort();
    let median = times[times.len() / 2];
    println!(
        "parse of a {:.2} MB AWS page: median {median:?} (budget {BUDGET:?})",
        page.len() as f64 / 1e6
    );
    assert!(median < BUDGET, "parse took {median:?}, over {BUDGET:?}");

    let mut group = c.benchmark_group("providers");
    group.throughput(Throughput::Bytes(page.len() as u64));
    group.bench_function("parse_aws_1mb", |b| {
        b.iter(|| std::hint::black_box(parse()))
    });
    group.finish();
}

criterion_group!(benches, parse_matrix);
criterion_main!(benches);
