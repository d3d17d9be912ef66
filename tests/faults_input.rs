//! Hostile input that used to hang or take minutes: huge items, thousands of
//! renamed names, special files and link loops in import folders, counts
//! past reason in the configuration, and homoglyph names.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::common::bin;

/// The most a step below may take; the quadratic code took minutes or
/// never finished.
const PROMPT: Duration = Duration::from_secs(60);

fn page(items: &[String]) -> String {
    let mut md = String::from("# Offering\n\n## Microsoft in-scope cloud services\n\n");
    for item in items {
        md.push_str(&format!("- {item}\n"));
    }
    md
}

fn json_of(output: &std::process::Output) -> Value {
    serde_json::from_slice(&output.stdout).expect("JSON output")
}

fn services_of_item(snapshot: &Value, item: usize) -> usize {
    snapshot["scopes"][0]["items"][item]["services"]
        .as_array()
        .map_or(0, Vec::len)
}

#[test]
fn an_item_of_many_names_is_split_promptly() {
    let dir = tempfile::tempdir().unwrap();
    let names = |sep: &str, n: usize| {
        (0..n)
            .map(|i| format!("Azure Service {i}"))
            .collect::<Vec<_>>()
            .join(sep)
    };
    // A list of 40,000 names, one of 20,000 joined by "and", and a run of
    // spaced hyphens with no comma: 1.7 MB, under the cap on a page.
    let hyphens = vec!["Azure - x"; 40_000].join(" - ");
    let file = dir.path().join("huge.md");
    std::fs::write(
        &file,
        page(&[names(", ", 40_000), names(" and ", 20_000), hyphens]),
    )
    .unwrap();
    let out = bin()
        .args(["parse", "--format", "json"])
        .arg(&file)
        .timeout(PROMPT)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let snapshot = json_of(&out);
    assert_eq!(services_of_item(&snapshot, 0), 40_000);
    assert_eq!(services_of_item(&snapshot, 1), 20_000);
    assert_eq!(services_of_item(&snapshot, 2), 1);
}

#[test]
fn thousands_of_renamed_names_are_compared_promptly() {
    let dir = tempfile::tempdir().unwrap();
    let version = |name: &str| {
        let items: Vec<String> = (0..8_000).map(|i| format!("{name} {i}")).collect();
        page(&items)
    };
    let (old, new) = (dir.path().join("old.md"), dir.path().join("new.md"));
    std::fs::write(&old, version("Contoso Service")).unwrap();
    std::fs::write(&new, version("Contoso Servic")).unwrap();
    let out = bin()
        .args(["diff", "--format", "json"])
        .args([&old, &new])
        .timeout(PROMPT)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let diff = json_of(&out);
    let count = |key: &str| diff[key].as_array().map_or(0, Vec::len);
    assert_eq!((count("removed"), count("added")), (8_000, 8_000));
    let warnings = diff["warnings"].to_string();
    assert!(
        warnings.contains("too many unmatched names (8000 removed, 8000 added)"),
        "{warnings}"
    );
}

#[test]
fn a_homoglyph_is_a_warning_not_a_rename() {
    let dir = tempfile::tempdir().unwrap();
    let (old, new) = (dir.path().join("old.md"), dir.path().join("new.md"));
    std::fs::write(&old, page(&["Azure".into(), "Intune".into()])).unwrap();
    // "Intunе" with a Cyrillic е.
    std::fs::write(&new, page(&["Azure".into(), "Intun\u{435}".into()])).unwrap();
    let out = bin()
        .args(["diff", "--exit-code", "--format", "json"])
        .args([&old, &new])
        .output()
        .unwrap();
    let diff = json_of(&out);
    assert_eq!(out.status.code(), Some(0), "no scope change: {diff}");
    assert_eq!(diff["renamed"], Value::Array(Vec::new()), "{diff}");
    let warnings = diff["warnings"].to_string();
    assert!(
        warnings.contains("suspicious name") && warnings.contains("Cyrillic"),
        "{warnings}"
    );
}

#[test]
fn a_homoglyph_with_no_look_alike_is_never_a_rename() {
    let dir = tempfile::tempdir().unwrap();
    let (old, new) = (dir.path().join("old.md"), dir.path().join("new.md"));
    std::fs::write(&old, page(&["Azure".into(), "Intune Suite".into()])).unwrap();
    // Close to "Intune Suite", but with a Cyrillic е and one letter less.
    std::fs::write(&new, page(&["Azure".into(), "Intunе Suit".into()])).unwrap();
    let out = bin()
        .args(["diff", "--format", "json"])
        .args([&old, &new])
        .output()
        .unwrap();
    let diff = json_of(&out);
    assert_eq!(diff["renamed"], Value::Array(Vec::new()), "{diff}");
    assert_eq!(diff["added"][0]["service"], "Intunе Suit", "{diff}");
    assert!(diff["warnings"].to_string().contains("suspicious name"));
}

fn mkfifo(path: &Path) {
    let made = Command::new("mkfifo").arg(path).status().expect("mkfifo");
    assert!(made.success());
}

#[test]
fn a_fifo_in_an_import_folder_is_refused_not_waited_on() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("offering-x");
    std::fs::create_dir(&folder).unwrap();
    mkfifo(&folder.join("2024-01-01.md"));
    std::fs::write(folder.join("2024-01-02.md"), page(&["Azure".into()])).unwrap();
    let out = bin()
        .arg("--db")
        .arg(dir.path().join("x.db"))
        .arg("import")
        .arg(&folder)
        .timeout(PROMPT)
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("2024-01-01.md: not a regular file"),
        "{stderr}"
    );
    assert!(
        stdout.contains("2024-01-02.md: stored as snapshot"),
        "{stdout}"
    );
}

#[test]
fn special_and_oversized_files_are_refused_by_parse() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe.md");
    mkfifo(&fifo);
    // Just over the 5,000,000-byte cap on a page, and a valid page.
    let big = dir.path().join("big.md");
    let filler = "- Azure\n".repeat(625_001);
    std::fs::write(&big, page(&[]) + &filler).unwrap();
    for (path, says) in [
        (Path::new("/dev/zero"), "not a regular file"),
        (&fifo, "not a regular file"),
        (&big, "larger than 5000000 bytes, the cap on a page"),
    ] {
        // Under a time and a memory limit, so that a regression fails here
        // rather than blocking on the pipe or filling the machine's memory
        // from /dev/zero.
        let out = Command::new("timeout")
            .arg("60")
            .args(["sh", "-c", "ulimit -v 4000000 && exec \"$0\" parse \"$1\""])
            .arg(assert_cmd::cargo::cargo_bin("scopewatch"))
            .arg(path)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{}: {stderr}", path.display());
        assert_eq!(stderr.lines().count(), 1, "said once: {stderr}");
        assert!(stderr.contains(says), "{}: {stderr}", path.display());
    }
}

#[test]
fn a_symlink_loop_in_an_import_folder_is_followed_once() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("offering-x");
    std::fs::create_dir(&folder).unwrap();
    std::fs::write(folder.join("2024-01-01.md"), page(&["Azure".into()])).unwrap();
    std::os::unix::fs::symlink(&folder, folder.join("again")).unwrap();
    let out = bin()
        .arg("--db")
        .arg(dir.path().join("x.db"))
        .arg("import")
        .arg(&folder)
        .timeout(PROMPT)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout.lines().count(), 1, "imported once: {stdout}");
}

#[test]
fn counts_in_the_configuration_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("c.toml");
    std::fs::write(&config, "[fetch]\nretries = 1000000\n").unwrap();
    let out = bin()
        .arg("--config")
        .arg(&config)
        .arg("sources")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "said once: {stderr}");
    assert!(
        stderr.contains("fetch.retries = 1000000 is out of range: give a value from 0 to 10"),
        "{stderr}"
    );
}
