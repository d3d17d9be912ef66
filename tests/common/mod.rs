//! Helpers shared by the integration tests.

use std::path::PathBuf;
use std::process::Output;
use std::time::Duration;

use scopewatch::store::Store;

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

/// Runs the binary on the database `db` with `args`.
pub fn sw(db: &std::path::Path, args: &[&str]) -> std::process::Output {
    bin().arg("--db").arg(db).args(args).output().expect("runs")
}

/// The standard output of a run that must have succeeded.
pub fn ok(out: std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A run's standard output.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A run's standard output then its standard error, for failure messages.
pub fn both(o: &Output) -> String {
    format!("{}{}", stdout(o), String::from_utf8_lossy(&o.stderr))
}

/// Clones the corpus's git bundle (`shared/corpus/compliance-docs.bundle`)
/// into `dest`.
pub fn clone_bundle(shared: &std::path::Path, dest: &std::path::Path) {
    let status = std::process::Command::new("git")
        .args(["-c", "init.defaultBranch=main", "clone", "-q", "-b", "main"])
        .arg(shared.join("corpus/compliance-docs.bundle"))
        .arg(dest)
        .status()
        .expect("git runs");
    assert!(status.success(), "cloning the bundle");
}

/// Exports the database `db` to the archive `to`, which must succeed.
pub fn export(db: &std::path::Path, to: &std::path::Path) {
    bin()
        .arg("--db")
        .arg(db)
        .args(["export", "-o"])
        .arg(to)
        .assert()
        .success();
}

/// A temporary folder with a configuration and its database.
pub struct Setup {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
}

impl Setup {
    pub fn new(sources: &[(&str, String)], alerts: &str, fetch: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        // Quick retries for tests; `fetch` lines replace these by key.
        let defaults = [
            "timeout_secs = 2",
            "retries = 2",
            "backoff_min_ms = 10",
            "backoff_max_ms = 100",
            "per_host_delay_ms = 0",
            "max_retry_after_secs = 5",
        ];
        let overridden = |line: &&str| {
            fetch
                .lines()
                .any(|f| f.split('=').next() == line.split('=').next())
        };
        let kept: Vec<&str> = defaults
            .iter()
            .filter(|l| !overridden(l))
            .copied()
            .collect();
        let mut text = format!(
            "database = \"{}\"\n\n[fetch]\n{}\n{fetch}\n",
            dir.path().join("sw.db").display(),
            kept.join("\n")
        );
        for (id, url) in sources {
            text.push_str(&format!("\n[[source]]\nid = \"{id}\"\nurl = \"{url}\"\n"));
        }
        text.push_str(alerts);
        let config = dir.path().join("scopewatch.toml");
        std::fs::write(&config, text).unwrap();
        Setup { dir, config }
    }

    pub fn db(&self) -> PathBuf {
        self.dir.path().join("sw.db")
    }

    /// Runs the CLI off the async runtime, so the mock servers keep serving.
    pub async fn run(&self, args: &[&str], hook: &str) -> Output {
        let config = self.config.clone();
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let hook = hook.to_string();
        tokio::task::spawn_blocking(move || {
            bin()
                .arg("--config")
                .arg(&config)
                .args(&args)
                .env("SW_HOOK_URL", hook)
                .timeout(Duration::from_secs(120))
                .output()
                .unwrap()
        })
        .await
        .unwrap()
    }

    pub fn attempts(&self, source: &str) -> Vec<Option<u16>> {
        Store::open(&self.db())
            .unwrap()
            .attempts(source)
            .unwrap()
            .into_iter()
            .map(|(s, _)| s)
            .collect()
    }
}

/// A database holding the demo history, in `dir`.
pub fn demo_db(dir: &std::path::Path) -> PathBuf {
    let db = dir.join("demo.db");
    bin().arg("--db").arg(&db).arg("demo").assert().success();
    db
}

/// A temporary folder holding the demo history, and its database.
pub fn demo() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = demo_db(dir.path());
    (dir, db)
}

/// Runs a command under a pseudo-terminal (util-linux `script`), as a
/// person at a terminal runs it; returns everything it wrote there.
pub fn on_a_terminal(args: &[&str]) -> String {
    let bin = assert_cmd::cargo::cargo_bin("scopewatch");
    let line = std::iter::once(bin.display().to_string())
        .chain(args.iter().map(|a| format!("'{a}'")))
        .collect::<Vec<_>>()
        .join(" ");
    let out = std::process::Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .env("TERM", "xterm")
        .env_remove("NO_COLOR")
        .output()
        .expect("util-linux `script`, for a pseudo-terminal");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A MIME part's text, decoded from base64 or quoted-printable.
pub fn mime_part(mail: &str, content_type: &str) -> String {
    use base64::Engine;
    let start = mail
        .find(&format!("Content-Type: {content_type}"))
        .unwrap_or_else(|| panic!("no {content_type} part: {mail}"));
    let part = &mail[start..];
    let (head, rest) = part.split_once("\r\n\r\n").unwrap();
    let body = &rest[..rest.find("\r\n--").unwrap_or(rest.len())];
    if head.contains("base64") {
        let joined: String = body.split_whitespace().collect();
        String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(joined)
                .unwrap(),
        )
        .unwrap()
    } else if head.contains("quoted-printable") {
        let soft = body.replace("=\r\n", "");
        let mut bytes = Vec::new();
        let raw = soft.as_bytes();
        let mut i = 0;
        while i < raw.len() {
            if raw[i] == b'=' && i + 2 < raw.len() {
                let hex = std::str::from_utf8(&raw[i + 1..i + 3]).unwrap();
                bytes.push(u8::from_str_radix(hex, 16).unwrap());
                i += 3;
            } else {
                bytes.push(raw[i]);
                i += 1;
            }
        }
        String::from_utf8(bytes).unwrap()
    } else {
        body.to_string()
    }
}
