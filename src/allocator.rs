//! The allocator the binary ships with, declared once for `main.rs` and for
//! the benchmarks (`#[path]`), so that they measure what users run.

/// jemalloc rather than glibc's allocator: the fetch workers build each
/// page's snapshot and the store thread frees it, and glibc's per-thread
/// arenas then make the threads wait on each other.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's options, read when it starts (`malloc_conf` under this
/// build's `_rjem_` prefix): the job has three busy threads, so one arena is
/// enough, and small thread caches keep its peak memory near glibc's.
#[allow(non_upper_case_globals)] // the name jemalloc looks for
#[unsafe(no_mangle)]
pub static _rjem_malloc_conf: &[u8; 27] = b"narenas:1,lg_tcache_max:12\0";
