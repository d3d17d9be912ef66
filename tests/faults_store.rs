//! Faults of the store and of what it accepts (issue 19): a revert at the
//! same instant, one version come in two ways, the write lock through other
//! names of the file, other applications' databases, read-only databases,
//! a future schema and source ids that differ only in case.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use scopewatch::canon::AliasTable;
use scopewatch::config::Config;
use scopewatch::store::{Store, lock};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::{self, Setup};

const A: &str = include_str!("../snapshots/offering-iso-27001/2020-06-15.md");
const B: &str = include_str!("../snapshots/offering-iso-27001/2020-11-02.md");

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `scopewatch --db DB ARGS...`
fn sw(db: &Path, args: &[&str]) -> Output {
    common::bin()
        .arg("--db")
        .arg(db)
        .args(args)
        .output()
        .unwrap()
}

/// The document hashes of a source's versions, in order.
fn hashes(db: &Path, source: &str) -> Vec<String> {
    Store::open_read(db)
        .unwrap()
        .history(source)
        .unwrap()
        .into_iter()
        .map(|s| s.document_hash)
        .collect()
}

fn write_pages(dir: &Path) -> (PathBuf, PathBuf) {
    let (a, b) = (dir.join("a.md"), dir.join("b.md"));
    std::fs::write(&a, A).unwrap();
    std::fs::write(&b, B).unwrap();
    (a, b)
}

#[test]
fn a_revert_at_the_same_date_is_a_version() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("x.db");
    let (a, b) = write_pages(dir.path());
    for page in [&a, &b, &a] {
        let out = common::bin()
            .arg("--db")
            .arg(&db)
            .args(["import", "--source", "offering-x", "--date", "2024-01-01"])
            .arg(page)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let versions = hashes(&db, "offering-x");
    assert_eq!(versions.len(), 3, "A, B, then A again");
    assert_eq!(versions[0], versions[2]);
    assert_ne!(versions[0], versions[1]);
}

/// Runs the job in this process, so that it lands in a chosen second.
async fn run_in_process(config: &Path, db: &Path) -> scopewatch::run::RunReport {
    let config = Config::load(config).unwrap();
    scopewatch::run::run_once(
        &config,
        Box::new(|| std::sync::Arc::new(AliasTable::builtin())),
        db,
        &|_| {},
    )
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_flip_back_in_the_same_second_is_stored_by_the_run() {
    let site = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/p"))
        .respond_with(ResponseTemplate::new(200).set_body_string(A))
        .mount(&site)
        .await;
    let s = Setup::new(&[("p", format!("{}/p", site.uri()))], "", "");
    // A, then B, stored in the second the run then fetches A in again.
    for _ in 0..20 {
        let db = s.db();
        for file in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{file}", db.display()));
        }
        let now = chrono::Utc::now();
        if now.timestamp_subsec_millis() > 500 {
            tokio::time::sleep(std::time::Duration::from_millis(520)).await;
            continue;
        }
        let mut store = Store::open(&db).unwrap();
        for (name, page) in [("a.md", A), ("b.md", B)] {
            scopewatch::ingest::import_bytes(&mut store, "p", now, name, page.as_bytes()).unwrap();
        }
        drop(store);
        let report = run_in_process(&s.config, &db).await;
        let versions = Store::open_read(&db).unwrap().versions(Some("p")).unwrap();
        if versions.last().unwrap().captured_at.timestamp() != now.timestamp() {
            continue; // The run fell into the next second: try again.
        }
        assert!(!report.failed(), "{}", report.text());
        assert!(report.text().contains("SCOPE CHANGED"), "{}", report.text());
        let versions = hashes(&db, "p");
        assert_eq!(versions.len(), 3);
        assert_eq!(versions[0], versions[2], "the page went back to A");
        return;
    }
    panic!("no run landed in the second it was set up for");
}

/// Serves `body` at every path, in place of what was served before.
async fn serve(site: &MockServer, body: &'static str) {
    site.reset().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string(body))
        .mount(site)
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_source_that_cannot_be_stored_stops_no_other() {
    let site = MockServer::start().await;
    let hooks = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&hooks)
        .await;
    serve(&site, A).await;
    let sources: Vec<(&str, String)> = ["a", "bad", "c"]
        .iter()
        .map(|id| (*id, format!("{}/{id}", site.uri())))
        .collect();
    let s = Setup::new(
        &sources,
        "[[alert]]\nkind = \"webhook\"\nurl_env = \"SW_HOOK_URL\"\n",
        "",
    );
    let hook = format!("{}/hook", hooks.uri());
    assert!(s.run(&["run"], &hook).await.status.success());
    // The store refuses every new version of one source, as a full disk
    // or a damaged index would.
    rusqlite::Connection::open(s.db())
        .unwrap()
        .execute_batch(
            "CREATE TRIGGER refuse BEFORE INSERT ON snapshot WHEN NEW.source_id = 'bad'
             BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;",
        )
        .unwrap();
    serve(&site, B).await;
    let out = s.run(&["run"], &hook).await;
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    let line = |id: &str| {
        text.lines()
            .find(|l| l.split_whitespace().nth(1) == Some(id))
            .unwrap_or_default()
            .to_string()
    };
    assert!(line("bad").contains("FAILED: not stored"), "{text}");
    assert!(line("a").contains("SCOPE CHANGED"), "{text}");
    assert!(line("c").contains("SCOPE CHANGED"), "{text}");
    assert!(text.contains("2 alerts sent"), "{text}");
    assert_eq!(hooks.received_requests().await.unwrap().len(), 2);
    assert_eq!(hashes(&s.db(), "a").len(), 2);
    assert_eq!(hashes(&s.db(), "bad").len(), 1);
}

/// Events of the whole history, as `log` prints them in JSON, without
/// their dates: a version dated by a file name lands hours from its git
/// copy.
fn events(db: &Path) -> Vec<serde_json::Value> {
    let out = sw(db, &["log", "--format", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut all: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    for e in &mut all {
        if let Some(e) = e.as_object_mut() {
            e.retain(|k, _| !k.contains("date") && !k.contains("snapshot"));
        }
    }
    all
}

#[test]
fn one_version_come_by_a_folder_and_by_git_is_one_version() {
    let Some(shared) = common::shared() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("docs");
    common::clone_bundle(&shared, &repo);
    // Source ids, and the page files in git.
    let pages = [
        ("offering-abs-ospar", "offering-abs-ospar.md"),
        (
            "offering-afm-dnb-netherlands",
            "offering-AFM-DNB-Netherlands.md",
        ),
    ];
    let folder = dir.path().join("en-us");
    for (page, _) in pages {
        let to = folder.join(page);
        std::fs::create_dir_all(&to).unwrap();
        for file in std::fs::read_dir(shared.join("corpus/en-us").join(page)).unwrap() {
            let file = file.unwrap().path();
            std::fs::copy(&file, to.join(file.file_name().unwrap())).unwrap();
        }
    }
    let import_folder = |db: &Path| {
        let out = common::bin()
            .arg("--db")
            .arg(db)
            .arg("import")
            .arg(&folder)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
    };
    let import_git = |db: &Path| {
        for (_, file) in pages {
            let out = common::bin()
                .arg("--db")
                .arg(db)
                .arg("import-git")
                .arg(&repo)
                .arg("--path")
                .arg(format!("compliance/regulatory/{file}"))
                .output()
                .unwrap();
            assert!(out.status.success(), "{}", stderr(&out));
        }
    };
    let git_only = dir.path().join("git.db");
    import_git(&git_only);
    let folder_only = dir.path().join("folder.db");
    import_folder(&folder_only);
    let versions = |db: &Path| -> usize { pages.iter().map(|(p, _)| hashes(db, p).len()).sum() };
    assert_eq!(versions(&git_only), versions(&folder_only));

    // Git first, then the folder: the folder adds nothing.
    let both = dir.path().join("both.db");
    import_git(&both);
    import_folder(&both);
    assert_eq!(versions(&both), versions(&git_only));
    assert_eq!(events(&both), events(&git_only));
    // The folder first, then git: git adds its retirements, no version.
    let other = dir.path().join("other.db");
    import_folder(&other);
    import_git(&other);
    assert_eq!(versions(&other), versions(&git_only));
    assert_eq!(events(&other), events(&git_only));
}

#[test]
fn the_write_lock_holds_through_any_name_of_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("x.db");
    let (a, _) = write_pages(dir.path());
    assert!(
        sw(&db, &["import", "--source", "s", a.to_str().unwrap()])
            .status
            .success()
    );
    let link = dir.path().join("link.db");
    std::os::unix::fs::symlink(&db, &link).unwrap();
    let hard = dir.path().join("hard.db");
    std::fs::hard_link(&db, &hard).unwrap();
    let held = lock(&db).unwrap();
    let refused = |out: Output| {
        assert_eq!(out.status.code(), Some(1));
        let err = stderr(&out);
        assert!(
            err.contains("another scopewatch process is writing"),
            "{err}"
        );
    };
    for name in [&link, &hard] {
        refused(sw(name, &["import", "--source", "s", a.to_str().unwrap()]));
    }
    // The same file by a relative name, from its folder.
    refused(
        common::bin()
            .current_dir(dir.path())
            .args(["--db", "./x.db", "import", "--source", "s", "a.md"])
            .output()
            .unwrap(),
    );
    // Named through a symlink, the holder is still named.
    let out = sw(&link, &["import", "--source", "s", a.to_str().unwrap()]);
    assert!(stderr(&out).contains(&std::process::id().to_string()));
    drop(held);
    assert!(
        sw(&hard, &["import", "--source", "s", a.to_str().unwrap()])
            .status
            .success()
    );
}

/// Another application's database, with a table of its own.
fn foreign_database(path: &Path) -> Vec<u8> {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch("CREATE TABLE invoice (id INTEGER PRIMARY KEY, total REAL); INSERT INTO invoice (total) VALUES (9.5);")
        .unwrap();
    drop(conn);
    std::fs::read(path).unwrap()
}

#[test]
fn another_applications_database_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("other-app.db");
    let before = foreign_database(&other);
    let (a, _) = write_pages(dir.path());
    for args in [
        vec!["sources"],
        vec!["log"],
        vec!["import", "--source", "s", a.to_str().unwrap()],
    ] {
        let out = sw(&other, &args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = stderr(&out);
        assert_eq!(
            err.matches("is not a scopewatch database").count(),
            1,
            "{err}"
        );
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    assert_eq!(
        std::fs::read(&other).unwrap(),
        before,
        "the file is unchanged"
    );
    let entries: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("other-app.db-"))
        .collect();
    assert!(entries.is_empty(), "no log left beside it: {entries:?}");

    // A file that is no database at all.
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "not a database\n".repeat(100)).unwrap();
    let out = sw(&text, &["import", "--source", "s", a.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("not a SQLite database"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_to_string(&text).unwrap(),
        "not a database\n".repeat(100)
    );
}

#[test]
fn a_read_command_on_a_missing_database_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("none.db");
    let out = sw(&db, &["sources"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no scopewatch database at"),
        "{}",
        stderr(&out)
    );
    assert!(!db.exists());
}

/// Runs `scopewatch --db DB ARGS` with DB's folder mounted read-only, in
/// a mount namespace of its own; None where that is not allowed.
fn on_a_read_only_mount(db: &Path, args: &[&str]) -> Option<Output> {
    let folder = db.parent().unwrap().display().to_string();
    let bin = assert_cmd::cargo::cargo_bin("scopewatch");
    let script = format!(
        "mount --bind '{folder}' '{folder}' && mount -o remount,ro,bind '{folder}' '{folder}' || exit 99; \
         touch '{folder}/probe' 2>/dev/null && exit 98; exec '{}' --db '{}' {}",
        bin.display(),
        db.display(),
        args.join(" ")
    );
    let out = Command::new("unshare")
        .args(["-m", "sh", "-c", &script])
        .output()
        .ok()?;
    (!matches!(out.status.code(), Some(98 | 99)) && !stderr(&out).contains("unshare:"))
        .then_some(out)
}

#[test]
fn a_database_on_a_read_only_mount_can_be_read() {
    let dir = tempfile::tempdir().unwrap();
    let db = common::demo_db(dir.path());
    let Some(out) = on_a_read_only_mount(&db, &["sources"]) else {
        eprintln!("skipping: no read-only mount can be made here");
        return;
    };
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("offering-iso-27001"));
    let out = on_a_read_only_mount(&db, &["log", "--source", "offering-soc-2"]).unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}

#[cfg(unix)]
#[test]
fn a_read_only_database_file_can_be_read() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let db = common::demo_db(dir.path());
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o400)).unwrap();
    let out = sw(&db, &["verify"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn a_future_schema_is_said_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = common::demo_db(dir.path());
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch("PRAGMA user_version = 99")
        .unwrap();
    let (a, _) = write_pages(dir.path());
    for args in [
        vec!["sources"],
        vec!["import", "--source", "s", a.to_str().unwrap()],
    ] {
        let out = sw(&db, &args);
        assert_eq!(out.status.code(), Some(1));
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert_eq!(err.matches("99").count(), 1, "{err}");
        assert!(err.contains("newer scopewatch"), "{err}");
    }
}

#[test]
fn source_ids_that_differ_only_in_case_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("x.db");
    let (a, b) = write_pages(dir.path());
    let import = |source: &str, page: &Path| {
        common::bin()
            .arg("--db")
            .arg(&db)
            .args(["import", "--source", source])
            .arg(page)
            .output()
            .unwrap()
    };
    assert!(import("offering-x", &a).status.success());
    let out = import("Offering-X", &b);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("differs only in case"), "{err}");
    assert_eq!(err.matches("differs only in case").count(), 1, "{err}");
    let listed = stdout(&sw(&db, &["sources", "--format", "json"]));
    let listed: Vec<serde_json::Value> = serde_json::from_str(&listed).unwrap();
    assert_eq!(listed.len(), 1);

    // In a configuration, too.
    let s = Setup::new(
        &[
            ("offering-x", "http://127.0.0.1:9/a".into()),
            ("Offering-X", "http://127.0.0.1:9/b".into()),
        ],
        "",
        "",
    );
    let out = common::bin()
        .arg("--config")
        .arg(&s.config)
        .arg("run")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("differ only in case"),
        "{}",
        stderr(&out)
    );
}
