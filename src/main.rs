use std::process::ExitCode;

/// jemalloc rather than glibc's allocator. The fetch workers build each
/// page's parse tree and snapshot, and the store thread frees the snapshot.
/// glibc sends each such free back to the worker's arena under its lock,
/// and the threads then wait on each other. The nightly job used a sixth
/// of its CPU time in glibc's malloc and free, and jemalloc made the
/// 1,000-page first run about 16% faster (benches/compare-urlwatch.sh).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's options, read when it starts (the `malloc_conf` of its
/// manual, under this build's `_rjem_` prefix). The job has three busy
/// threads, so one arena is enough. Thread caches hold only blocks of up to
/// 4 KiB. Together these keep peak memory within a few hundred kilobytes
/// of glibc's, for the same speed.
#[allow(non_upper_case_globals)] // the name jemalloc looks for
#[unsafe(no_mangle)]
pub static _rjem_malloc_conf: &[u8; 27] = b"narenas:1,lg_tcache_max:12\0";

fn main() -> ExitCode {
    scopewatch::cli::main()
}
