//! Lays out the release binary for a small memory footprint on x86-64
//! Linux (glibc), where rustc 1.90 and later link with their bundled lld.
//!
//! A run touches about 2.7 MB of the 10 MB of code, spread over nearly every
//! 64 KiB window that the kernel maps in at once (fault-around), so 7.7 MB
//! of code counted in each run's memory. Two linker options help:
//!
//! - `--symbol-ordering-file=benches/hot-symbols.txt` places the functions a
//!   nightly run executes first, next to each other (the list is made by
//!   `benches/hot-symbols.sh`). Code mapped per run falls to about 3 MB.
//!   Names the file lists that this build does not have are skipped, so a
//!   stale list costs memory, never correctness. Our own crate is built as
//!   one codegen unit (Cargo.toml) so that its names survive edits.
//! - `-z pack-relative-relocs` stores the relocations of a position-
//!   independent binary in a few kilobytes instead of 880 KB that the
//!   loader reads at every start. The binary then needs glibc 2.36 or newer,
//!   so only when the glibc it links against is that new.
//!
//! Anything else (another target or linker, an older rustc, a debug build)
//! links as usual. `SCOPEWATCH_PLAIN_LINK=1` turns both off.

use std::path::Path;
use std::process::Command;

const HOT_SYMBOLS: &str = "benches/hot-symbols.txt";

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed={HOT_SYMBOLS}");
    println!("cargo::rerun-if-env-changed=SCOPEWATCH_PLAIN_LINK");
    if !lld_release_build() {
        return;
    }
    let hot = Path::new(&env("CARGO_MANIFEST_DIR")).join(HOT_SYMBOLS);
    if hot.is_file() {
        println!(
            "cargo::rustc-link-arg-bins=-Wl,--symbol-ordering-file={}",
            hot.display()
        );
        println!("cargo::rustc-link-arg-bins=-Wl,--no-warn-symbol-ordering");
    }
    if native() && glibc_at_least(2, 36) {
        println!("cargo::rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_default()
}

/// A release build for x86_64-unknown-linux-gnu with rustc's own linker:
/// lld by default since rustc 1.90, unless a linker is configured.
fn lld_release_build() -> bool {
    env("SCOPEWATCH_PLAIN_LINK").is_empty()
        && env("PROFILE") == "release"
        && env("TARGET") == "x86_64-unknown-linux-gnu"
        && std::env::var_os("RUSTC_LINKER").is_none()
        && !env("CARGO_ENCODED_RUSTFLAGS").contains("linker")
        && rustc_at_least(1, 90)
}

fn native() -> bool {
    env("HOST") == env("TARGET")
}

/// Whether `rustc --version` says at least `major.minor`.
fn rustc_at_least(major: u32, minor: u32) -> bool {
    let out = output(&env("RUSTC"), &["--version"]);
    // "rustc 1.95.0 (59807616e 2026-04-14)"
    at_least(out.split_whitespace().nth(1), major, minor)
}

/// Whether this machine's glibc is at least `major.minor`.
fn glibc_at_least(major: u32, minor: u32) -> bool {
    let out = output("getconf", &["GNU_LIBC_VERSION"]);
    // "glibc 2.36"
    at_least(out.split_whitespace().nth(1), major, minor)
}

fn at_least(version: Option<&str>, major: u32, minor: u32) -> bool {
    let mut parts = version.unwrap_or("").split('.').map(str::parse::<u32>);
    match (parts.next(), parts.next()) {
        (Some(Ok(a)), Some(Ok(b))) => (a, b) >= (major, minor),
        _ => false,
    }
}

/// A command's standard output, empty if it cannot run.
fn output(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}
