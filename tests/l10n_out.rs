//! What the learned names carry out of the store: archives that keep them,
//! `verify` and `reparse` that check and renew them, and outputs that name
//! each service in English with its localized spelling beside it.

use std::path::{Path, PathBuf};

use crate::common;
use crate::l10n::markdown;

/// Runs the CLI on `db`; returns its standard output, which must succeed.
fn run(db: &Path, args: &[&str]) -> String {
    let out = common::bin()
        .arg("--db")
        .arg(db)
        .args(args)
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
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
    let out = common::bin()
        .arg("--db")
        .arg(db)
        .arg("import")
        .args(folders)
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
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
    let out = common::bin()
        .arg("--db")
        .arg(dir.path().join("restored.db"))
        .arg("restore")
        .arg(&archive)
        .output()
        .expect("runs");
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
    let out = common::bin()
        .arg("--db")
        .arg(&db)
        .arg("verify")
        .output()
        .expect("runs");
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
