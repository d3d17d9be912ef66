//! What the learned names carry out of the store: archives that keep them,
//! `verify` and `reparse` that check and renew them, and outputs that name
//! each service in English with its localized spelling beside it.

use std::path::{Path, PathBuf};

use crate::common::{self, ok, sw};
use crate::l10n::markdown;

/// Runs the CLI on `db`; returns its standard output, which must succeed.
fn run(db: &Path, args: &[&str]) -> String {
    ok(sw(db, args))
}

/// An English page and its French translation, in folders to import: the
/// translator writes two services under their French product names.
fn french_pages(dir: &Path) -> [PathBuf; 2] {
    let write = |path: &str, text: String| {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    };
    write(
        "en/offering-x/2021-01-01.md",
        markdown(
            None,
            "In-scope services",
            &[
                "Azure",
                "Skype for Business",
                "OneDrive for Business",
                "Power BI",
            ],
        ),
    );
    write(
        "fr/offering-x/2021-01-05.md",
        markdown(
            Some("fr-fr"),
            "Services concernés",
            &[
                "Azure",
                "Skype Entreprise",
                "OneDrive Entreprise",
                "Power BI",
            ],
        ),
    );
    [dir.join("en"), dir.join("fr")]
}

fn import(db: &Path, folders: &[PathBuf]) {
    let mut args = vec!["import"];
    args.extend(folders.iter().map(|f| f.to_str().expect("utf-8 path")));
    run(db, &args);
}

/// A German offering's history and its English one, from the corpus.
fn german_store(shared: &Path, db: &Path) {
    let corpus = shared.join("corpus");
    import(
        db,
        &[
            corpus.join("en-us/offering-abs-ospar"),
            corpus.join("l10n/de-de/offering-abs-ospar"),
        ],
    );
}

#[test]
fn export_and_restore_carry_the_learned_names() {
    let Some(shared) = common::shared() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("de.db");
    german_store(&shared, &db);
    let names = run(&db, &["names", "--locale", "de-de"]);
    assert!(
        names.contains("Power BI-Clouddienst → Power BI  (learned"),
        "{names}"
    );
    let archive = dir.path().join("de.jsonl");
    common::export(&db, &archive);
    let restored = dir.path().join("restored.db");
    let said = run(
        &restored,
        &["restore", archive.to_str().expect("UTF-8 path")],
    );
    assert!(said.contains(", 2 learned names"), "{said}");
    assert_eq!(run(&restored, &["names", "--locale", "de-de"]), names);
    // A faithful copy: the restored store exports the same archive.
    let again = dir.path().join("again.jsonl");
    common::export(&restored, &again);
    assert_eq!(
        std::fs::read_to_string(&again).expect("archive"),
        std::fs::read_to_string(&archive).expect("archive")
    );
    let verified = run(&restored, &["verify"]);
    assert!(verified.contains(", 0 problems"), "{verified}");
}

#[test]
fn a_learned_name_changed_in_the_archive_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("fr.db");
    import(&db, &french_pages(dir.path()));
    let archive = dir.path().join("fr.jsonl");
    common::export(&db, &archive);
    let text = std::fs::read_to_string(&archive).expect("archive");
    let line = text
        .lines()
        .find(|l| l.contains("\"learned_name\"") && l.contains("Skype Entreprise"))
        .expect("the archive carries the learned name");
    let changed = line.replace(
        "\"english\":\"Skype for Business\"",
        "\"english\":\"Skype\"",
    );
    assert_ne!(changed, line);
    std::fs::write(&archive, text.replace(line, &changed)).expect("write");
    let restored = dir.path().join("restored.db");
    let out = sw(
        &restored,
        &["restore", archive.to_str().expect("utf-8 path")],
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("changed, added or removed"), "{stderr}");
}

/// An archive written before learned names were carried (format 2, made
/// from the pages of [`french_pages`]) restores, and its restore learns
/// the names again from the restored pages.
#[test]
fn an_archive_made_before_learned_names_still_restores() {
    let dir = tempfile::tempdir().expect("temp dir");
    let archive =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/l10n-archive-format2.jsonl");
    let db = dir.path().join("restored.db");
    let said = run(&db, &["restore", archive.to_str().expect("UTF-8 path")]);
    assert!(
        said.contains("the archive predates learned names: 2 learned again from its pages"),
        "{said}"
    );
    let names = run(&db, &["names", "--locale", "fr-fr"]);
    assert!(
        names.contains("fr-fr service     Skype Entreprise → Skype for Business  (learned, 1 pair(s); first offering-x-fr-fr 2021-01-05"),
        "{names}"
    );
    assert!(
        names.contains("OneDrive Entreprise → OneDrive for Business"),
        "{names}"
    );
    let verified = run(&db, &["verify"]);
    assert!(verified.contains(", 0 problems"), "{verified}");
}

#[test]
fn verify_checks_learned_names_and_reparse_learns_them_again() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("fr.db");
    import(&db, &french_pages(dir.path()));
    let names = run(&db, &["names", "--locale", "fr-fr"]);
    assert!(run(&db, &["verify"]).contains(", 0 problems"));
    {
        // What a store left by an older parser, or edited by hand, holds.
        let conn = rusqlite::Connection::open(&db).expect("database");
        conn.execute(
            "UPDATE learned_name SET english = 'Skype' WHERE localized = 'Skype Entreprise'",
            [],
        )
        .expect("update");
        conn.execute(
            "UPDATE learned_name SET localized_ref = '000000000000'
             WHERE localized = 'OneDrive Entreprise'",
            [],
        )
        .expect("update");
    }
    let out = sw(&db, &["verify"]);
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("problem: learned name fr-fr service \"OneDrive Entreprise\": its evidence names version 000000000000 of offering-x-fr-fr on 2021-01-05, which is not stored"),
        "{said}"
    );
    assert!(
        said.contains("problem: 2 learned names are not what the stored pages teach and 0 they teach are not stored: run `scopewatch reparse`"),
        "{said}"
    );
    let reparsed = run(&db, &["reparse"]);
    assert!(reparsed.contains("2 localized names learned"), "{reparsed}");
    assert_eq!(run(&db, &["names", "--locale", "fr-fr"]), names);
    assert!(run(&db, &["verify"]).contains(", 0 problems"));
}

/// Runs the CLI on `db` and reads its JSON output.
fn json(db: &Path, args: &[&str]) -> serde_json::Value {
    serde_json::from_str(&run(db, args)).expect("JSON")
}

/// The matrix, the HTML report and the timeline name a service in English,
/// with the German page's spelling beside it; an English-only store shows
/// none of it.
#[test]
fn matrix_report_and_timeline_show_the_german_spelling_beside_the_english_name() {
    let Some(shared) = common::shared() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("de.db");
    german_store(&shared, &db);
    let at = ["matrix", "--at", "2021-03-01"];
    let format = |f: &'static str| [&at[..], &["--format", f]].concat();

    let text = run(&db, &at);
    let row = text
        .lines()
        .find(|l| l.starts_with("Power BI "))
        .expect("a Power BI row");
    assert!(
        row.starts_with("Power BI (de-de: Power BI-Clouddienst)  ")
            && row.ends_with("2  offering-abs-ospar, offering-abs-ospar-de-de"),
        "{text}"
    );
    let azure = text
        .lines()
        .find(|l| l.starts_with("Azure "))
        .expect("Azure");
    assert!(!azure.contains("de-de:"), "{text}");

    let markdown = run(&db, &format("markdown"));
    assert!(
        markdown.contains("| Power BI \\(de-de: Power BI-Clouddienst\\) | ✓ | ✓ |"),
        "{markdown}"
    );

    let csv = run(&db, &format("csv"));
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("service,offering-abs-ospar,offering-abs-ospar-de-de,localized")
    );
    assert!(
        csv.lines()
            .any(|l| l == "Power BI,x,x,de-de: Power BI-Clouddienst"),
        "{csv}"
    );
    assert!(csv.lines().any(|l| l == "Azure,x,x,"), "{csv}");

    let m = json(&db, &format("json"));
    assert_eq!(
        m["services"]["Power BI"],
        serde_json::json!(["offering-abs-ospar", "offering-abs-ospar-de-de"])
    );
    assert_eq!(
        m["localized"]["Power BI"],
        serde_json::json!({"de-de": "Power BI-Clouddienst"}),
        "{m}"
    );
    assert!(m["localized"].get("Azure").is_none(), "{m}");

    let html = dir.path().join("report.html");
    run(
        &db,
        &[
            "report",
            "--to",
            "2021-03-01",
            "-o",
            html.to_str().expect("UTF-8 path"),
        ],
    );
    let html = std::fs::read_to_string(&html).expect("report");
    assert!(
        html.contains(
            "<td>Power BI<span class=\"muted\"> (de-de: Power BI-Clouddienst)</span></td>"
        ),
        "the report's matrix"
    );

    let timeline = run(&db, &["timeline", "Power BI"]);
    assert_eq!(
        timeline.lines().next(),
        Some("Power BI (de-de: Power BI-Clouddienst)")
    );
    let t = json(&db, &["timeline", "Power BI", "--format", "json"]);
    assert_eq!(t["service"], "Power BI");
    assert_eq!(
        t["localized"],
        serde_json::json!({"de-de": "Power BI-Clouddienst"})
    );

    // The English page alone: no spelling beside any name, no column.
    let english = dir.path().join("en.db");
    import(&english, &[shared.join("corpus/en-us/offering-abs-ospar")]);
    assert!(!run(&english, &at).contains("de-de"));
    let csv = run(&english, &format("csv"));
    assert_eq!(csv.lines().next(), Some("service,offering-abs-ospar"));
    assert!(json(&english, &format("json")).get("localized").is_none());
    let t = json(&english, &["timeline", "Power BI", "--format", "json"]);
    assert!(t.get("localized").is_none(), "{t}");
    assert_eq!(
        run(&english, &["timeline", "Power BI"]).lines().next(),
        Some("Power BI")
    );
}

/// A service a German page drops is reported under its English name, with
/// the page's own spelling beside it, by `diff` and `log` in every format.
#[test]
fn diff_and_log_carry_the_german_spelling_of_what_changed() {
    let Some(shared) = common::shared() else {
        return;
    };
    let corpus = shared.join("corpus");
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("de.db");
    import(
        &db,
        &[
            corpus.join("en-us/offering-csa-star-self-assessment"),
            corpus.join("l10n/de-de/offering-csa-star-self-assessment"),
        ],
    );
    let source = "offering-csa-star-self-assessment-de-de";
    let (english, german) = (
        "Dynamics 365 CSA STAR Self-Assessment",
        "CSA STAR-Selbstbewertung für Dynamics 365",
    );
    let log = run(&db, &["log", "--source", source, "--kind", "removed"]);
    assert!(
        log.contains(&format!("removed   {english} (de-de: {german})")),
        "{log}"
    );
    let events = json(
        &db,
        &[
            "log", "--source", source, "--kind", "removed", "--format", "json",
        ],
    );
    assert_eq!(events[0]["service"], english, "{events}");
    assert_eq!(
        events[0]["localized"],
        serde_json::json!({ "de-de": german })
    );

    let diff = [
        "diff",
        "--source",
        source,
        "--from",
        "2021-07-01",
        "--to",
        "2021-07-20",
    ];
    let text = run(&db, &diff);
    assert!(
        text.contains(&format!("removed   {english} (de-de: {german})")),
        "{text}"
    );
    // Services added to one row are listed together, each with its spelling.
    assert!(
        text.contains(
            "Office 365 Customer Portal (de-de: Office 365-Kundenportal), Office Online,"
        ),
        "{text}"
    );
    let markdown = run(&db, &[&diff[..], &["--format", "markdown"]].concat());
    assert!(
        markdown.contains(&format!("- **Removed** {english} \\(de-de: {german}\\)")),
        "{markdown}"
    );
    let d = json(&db, &[&diff[..], &["--format", "json"]].concat());
    let removed = &d["removed"][0];
    assert_eq!(removed["service"], english, "{d}");
    assert_eq!(removed["localized"], serde_json::json!({ "de-de": german }));
    let html = dir.path().join("report.html");
    run(
        &db,
        &[
            "report",
            "--from",
            "2021-07-01",
            "--to",
            "2021-07-20",
            "-o",
            html.to_str().expect("UTF-8 path"),
        ],
    );
    let html = std::fs::read_to_string(&html).expect("report");
    assert!(
        html.contains(&format!("<b>{english}</b> (de-de: {german})")),
        "the report's events"
    );
    // A service the German page writes in English carries no spelling.
    let online = d["added"]
        .as_array()
        .expect("added")
        .iter()
        .find(|e| e["service"] == "Office Online")
        .expect("Office Online added");
    assert!(online.get("localized").is_none(), "{online}");
}

/// `serve`'s matrix, page and API, gives the German spelling beside the
/// English name too.
#[tokio::test(flavor = "multi_thread")]
async fn the_served_matrix_shows_the_german_spelling() {
    let Some(shared) = common::shared() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("de.db");
    german_store(&shared, &db);
    let store = scopewatch::store::Store::open_read(&db).expect("database");
    let aliases = scopewatch::canon::AliasTable::builtin()
        .with_localized(store.learned_names(None).expect("learned names"));
    let app = scopewatch::serve::App::new(store, aliases, None).expect("serve state");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, scopewatch::serve::router(app)).await });

    let page = reqwest::get(format!("{base}/matrix?date=2021-03-01"))
        .await
        .expect("answers")
        .text()
        .await
        .expect("a page");
    assert!(
        page.contains(">Power BI</a> (de-de: Power BI-Clouddienst)</th>"),
        "{page}"
    );
    let api: serde_json::Value = reqwest::get(format!("{base}/api/v1/matrix?date=2021-03-01"))
        .await
        .expect("answers")
        .json()
        .await
        .expect("JSON");
    assert_eq!(
        api["localized"]["Power BI"],
        serde_json::json!({"de-de": "Power BI-Clouddienst"}),
        "{api}"
    );
}

/// A German page's applicability row, in Markdown.
fn german_rows(rows: &[(&str, &str)]) -> String {
    let mut page = String::from(
        "---\ntitle: ISO/IEC 27001\nms.contentlocale: de-de\n---\n\n# ISO/IEC 27001\n\n\
         ## Microsoft-Clouddienste im Geltungsbereich\n\n\
         | **Anwendbarkeit** | **Dienste im Geltungsbereich** |\n|:--|:--|\n",
    );
    for (row, services) in rows {
        page.push_str(&format!("| **{row}** | {services} |\n"));
    }
    page
}

/// A rename and a move on a German page name the English service, with the
/// page's own spelling beside it, in text, JSON and the log's CSV.
#[test]
fn renames_and_moves_carry_the_german_spelling() {
    let dir = tempfile::tempdir().expect("temp dir");
    let old = dir.path().join("old.md");
    let new = dir.path().join("new.md");
    std::fs::write(
        &old,
        german_rows(&[
            ("Commercial", "Exchange Online, Kunden-Lockbox"),
            ("GCC", "Exchange Online"),
        ]),
    )
    .expect("write");
    std::fs::write(
        &new,
        german_rows(&[
            ("Commercial", "Exchange Online"),
            ("GCC", "Exchange Online, Kunden-Lockbox"),
        ]),
    )
    .expect("write");
    let db = dir.path().join("unused.db");
    let paths = [old.to_str().expect("utf-8"), new.to_str().expect("utf-8")];
    let text = run(&db, &["diff", paths[0], paths[1]]);
    assert!(
        text.contains("moved     Customer Lockbox (de-de: Kunden-Lockbox): Commercial → GCC"),
        "{text}"
    );
    let d = json(&db, &["diff", paths[0], paths[1], "--format", "json"]);
    let moved = &d["moved"][0];
    assert_eq!(moved["service"], "Customer Lockbox", "{d}");
    assert_eq!(
        moved["localized"],
        serde_json::json!({ "de-de": "Kunden-Lockbox" })
    );

    let Some(shared) = common::shared() else {
        return;
    };
    let corpus = shared.join("corpus");
    import(
        &db,
        &[
            corpus.join("en-us/offering-fedramp"),
            corpus.join("l10n/de-de/offering-fedramp"),
        ],
    );
    let log = [
        "log",
        "--source",
        "offering-fedramp-de-de",
        "--kind",
        "renamed",
    ];
    let text = run(&db, &log);
    assert!(
        text.contains(
            "renamed   Microsoft Defender ATP → Microsoft Defender for Endpoint \
             (de-de: Microsoft Defender für Endpunkt)"
        ),
        "{text}"
    );
    let events = json(&db, &[&log[..], &["--format", "json"]].concat());
    assert_eq!(
        events[0]["to_localized"],
        serde_json::json!({ "de-de": "Microsoft Defender für Endpunkt" }),
        "{events}"
    );
    let csv = run(&db, &[&log[..], &["--format", "csv"]].concat());
    let mut lines = csv.lines();
    assert!(
        lines
            .next()
            .is_some_and(|h| h.ends_with(",program,localized")),
        "{csv}"
    );
    assert!(
        lines.any(|l| l.ends_with(",de-de: Microsoft Defender für Endpunkt")),
        "{csv}"
    );
}
