//! Crash safety: the process is killed (SIGKILL) at many points during a
//! backfill and during a nightly run. Each time the database must pass
//! `PRAGMA integrity_check`, and a rerun must reach exactly the state of an
//! uninterrupted run: same versions, same scope, same alert ledger.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use scopewatch::store::Store;
use wiremock::matchers::path_regex;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common;

const KILLS: usize = 10;

/// Versions (source, capture time, content hash, scope and links as JSON),
/// retirements, and the alert ledger (channel, event, delivered).
///
/// A run stores versions in the order pages arrive, so snapshot ids in the
/// ledger's event keys are named by version ("offering-3#2": that source's
/// second version) to compare runs.
fn state(db: &Path, with_times: bool) -> (Vec<String>, Vec<String>, Vec<String>) {
    let store = Store::open(db).unwrap();
    let mut versions = Vec::new();
    let mut retirements = Vec::new();
    let mut names = HashMap::new();
    let mut per_source: HashMap<String, usize> = HashMap::new();
    for v in store.versions(None).unwrap() {
        let ordinal = per_source.entry(v.source.clone()).or_default();
        *ordinal += 1;
        names.insert(v.id.to_string(), format!("{}#{ordinal}", v.source));
        let s = store.load(v.id).unwrap();
        let when = if with_times {
            s.captured_at.to_rfc3339()
        } else {
            String::new()
        };
        let scope = serde_json::to_string(&(&s.snapshot.scopes, &s.snapshot.links)).unwrap();
        versions.push(format!("{} {when} {} {scope}", s.source, s.document_hash));
    }
    for source in store.sources().unwrap() {
        for at in store.retirements(&source.id).unwrap() {
            retirements.push(format!("{} {at}", source.id));
        }
    }
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT channel, event_key, sent_at IS NOT NULL FROM alert ORDER BY channel, event_key",
        )
        .unwrap();
    let ledger = stmt
        .query_map([], |r| {
            Ok(format!(
                "{} {} {}",
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?
                    .split(':')
                    .map(|part| names.get(part).map_or(part, String::as_str))
                    .collect::<Vec<_>>()
                    .join(":"),
                r.get::<_, bool>(2)?
            ))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    (versions, retirements, ledger)
}

fn intact(db: &Path) {
    let conn = rusqlite::Connection::open(db).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
}

/// Starts a command, kills it with SIGKILL after `after`, and waits for it.
fn kill_after(mut cmd: Command, after: Duration) {
    let mut child = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(after);
    let _ = child.kill();
    let _ = child.wait();
}

fn binary() -> PathBuf {
    assert_cmd::cargo::cargo_bin("scopewatch")
}

#[test]
fn killed_backfills_recover_to_the_uninterrupted_state() {
    let Some(shared) = common::shared() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("docs");
    common::clone_bundle(&shared, &repo);
    let import = |db: &Path| {
        let mut cmd = Command::new(binary());
        cmd.arg("--db").arg(db).arg("import-git").arg(&repo);
        cmd
    };

    let reference = dir.path().join("reference.db");
    let started = Instant::now();
    assert!(import(&reference).status().unwrap().success());
    let took = started.elapsed();
    let expected = state(&reference, true);

    for k in 0..KILLS {
        let db = dir.path().join(format!("killed-{k}.db"));
        kill_after(import(&db), took.mul_f64((k as f64 + 0.5) / KILLS as f64));
        if db.exists() {
            intact(&db);
        }
        assert!(
            import(&db).status().unwrap().success(),
            "rerun after kill {k}"
        );
        intact(&db);
        assert_eq!(
            state(&db, true),
            expected,
            "state after kill {k} and a rerun"
        );
    }
}

/// Writes a configuration for `count` pages served at `version` (v1, v2).
fn config(dir: &Path, site: &str, version: &str, hooks: &str, count: usize) -> PathBuf {
    let mut text = format!(
        "database = \"{}\"\n[fetch]\nretries = 0\nper_host_delay_ms = 0\nper_host_concurrency = 4\n\n[[alert]]\nkind = \"webhook\"\nurl = \"{hooks}/hook\"\n",
        dir.join("sw.db").display()
    );
    for i in 0..count {
        text.push_str(&format!(
            "\n[[source]]\nid = \"offering-{i}\"\nurl = \"{site}/{version}/offering-{i}\"\n"
        ));
    }
    let path = dir.join("scopewatch.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_runs_recover_to_the_uninterrupted_state() {
    const PAGES: usize = 24;
    let site = MockServer::start().await;
    let page = |body: &str| {
        ResponseTemplate::new(200)
            .set_body_string(body)
            .set_delay(Duration::from_millis(40))
    };
    Mock::given(path_regex("^/v1/"))
        .respond_with(page(include_str!(
            "../snapshots/offering-iso-27001/2020-06-15.md"
        )))
        .mount(&site)
        .await;
    Mock::given(path_regex("^/v2/"))
        .respond_with(page(include_str!(
            "../snapshots/offering-iso-27001/2020-11-02.md"
        )))
        .mount(&site)
        .await;
    let hooks = MockServer::start().await;
    Mock::given(path_regex("^/hook"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&hooks)
        .await;
    let (site, hook) = (site.uri(), hooks.uri());

    let results = tokio::task::spawn_blocking(move || {
        let run = |config: &Path| {
            let mut cmd = Command::new(binary());
            cmd.arg("--config").arg(config).arg("run");
            cmd
        };
        let reference = tempfile::tempdir().unwrap();
        assert!(
            run(&config(reference.path(), &site, "v1", &hook, PAGES))
                .status()
                .unwrap()
                .success()
        );
        let second = config(reference.path(), &site, "v2", &hook, PAGES);
        let started = Instant::now();
        assert!(run(&second).status().unwrap().success());
        let took = started.elapsed();
        let expected = state(&reference.path().join("sw.db"), false);
        assert_eq!(expected.2.len(), PAGES, "one alert per changed page");

        for k in 0..KILLS {
            let dir = tempfile::tempdir().unwrap();
            assert!(
                run(&config(dir.path(), &site, "v1", &hook, PAGES))
                    .status()
                    .unwrap()
                    .success()
            );
            let second = config(dir.path(), &site, "v2", &hook, PAGES);
            kill_after(run(&second), took.mul_f64((k as f64 + 0.5) / KILLS as f64));
            let db = dir.path().join("sw.db");
            intact(&db);
            assert!(
                run(&second).status().unwrap().success(),
                "rerun after kill {k}"
            );
            intact(&db);
            assert_eq!(
                state(&db, false),
                expected,
                "state after kill {k} and a rerun"
            );
        }
    })
    .await;
    results.unwrap();
    // Every alert reached the receiver; a kill between sending and recording
    // may send one twice (at least once), never zero times.
    let received = hooks.received_requests().await.unwrap_or_default();
    assert!(received.len() >= PAGES * (KILLS + 1));
}
