//! Helpers shared by the integration tests.

#![allow(dead_code)]

use std::path::PathBuf;

/// `../shared` beside the repository: the seeds and the real page history.
///
/// Absent on a developer's machine it skips the tests that need it, but in
/// CI (`CI` set) its absence fails them: a corpus test that silently checks
/// nothing is worse than none.
pub fn shared() -> Option<PathBuf> {
    let dir = std::env::var_os("SCOPEWATCH_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    if dir.join("corpus").is_dir() && dir.join("seeds").is_dir() {
        return Some(dir);
    }
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
    assert!(
        !ci,
        "CI is set but the shared corpus is missing at {}",
        dir.display()
    );
    eprintln!("skipping: no shared corpus at {}", dir.display());
    None
}

pub fn bin() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("scopewatch").expect("binary built")
}
