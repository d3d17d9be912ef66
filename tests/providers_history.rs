//! The history questions on scope-matrix pages (one page, many programs)
//! and on the sources that hold them: `log`, alerts, `timeline`, `matrix`,
//! `import --profile` and `sources remove --purge`.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::common;

#[allow(dead_code)]
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/providers/");

fn sw(db: &Path, args: &[&str]) -> Output {
    common::bin()
        .arg("--db")
        .arg(db)
        .args(args)
        .output()
        .expect("runs")
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// An offering page in Markdown listing `names`, with the locale's front
/// matter when it has one.
fn offering(locale: Option<&str>, heading: &str, names: &[&str]) -> String {
    let front = locale.map_or(String::new(), |l| {
        format!("---\nms.contentlocale: {l}\n---\n")
    });
    let items: String = names.iter().map(|n| format!("- {n}\n")).collect();
    format!(
        "{front}# ISO/IEC 27001\n\n## <a name=\"microsoft-in-scope-cloud-services\"></a>{heading}\n\n{items}"
    )
}

/// Writes `text` at `path` under `dir`, making its folders.
fn write(dir: &Path, path: &str, text: &str) -> PathBuf {
    let path = dir.join(path);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(&path, text).expect("write");
    path
}

/// Rows per table, every table of the database.
fn row_counts(db: &Path) -> Vec<(String, i64)> {
    let conn = rusqlite::Connection::open(db).expect("database");
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .expect("tables")
        .query_map([], |r| r.get(0))
        .expect("tables")
        .collect::<Result<_, _>>()
        .expect("tables");
    tables
        .into_iter()
        .map(|t| {
            let n = conn
                .query_row(&format!("SELECT count(*) FROM \"{t}\""), [], |r| r.get(0))
                .expect("count");
            (t, n)
        })
        .collect()
}

/// Purging sources leaves the database as if they had never been
/// imported: every table holds the rows of a database that only ever had
/// the sources kept.
#[test]
fn a_purge_leaves_no_row_of_the_source_in_any_table() {
    let dir = tempfile::tempdir().expect("temp dir");
    let english = ["Azure", "Skype for Business", "Power BI"];
    let en = write(
        dir.path(),
        "en/offering-x/2021-01-05.md",
        &offering(None, "In-scope services", &english),
    );
    write(
        dir.path(),
        "fr/offering-x/2021-01-06.md",
        &offering(
            Some("fr-fr"),
            "Services concernés",
            &["Azure", "Skype Entreprise", "Power BI"],
        ),
    );
    write(
        dir.path(),
        "other/offering-y/2021-02-01.md",
        &offering(None, "In-scope services", &["Azure", "Windows 365"]),
    );
    write(
        dir.path(),
        "other/offering-y/2021-03-01.md",
        &offering(
            None,
            "In-scope services",
            &["Azure", "Windows 365", "Intune"],
        ),
    );
    let db = dir.path().join("full.db");
    let text = ok(sw(
        &db,
        &[
            "import",
            &dir.path().join("en").display().to_string(),
            &dir.path().join("fr").display().to_string(),
            &dir.path().join("other").display().to_string(),
        ],
    ));
    assert!(text.contains("localized names learned"), "{text}");
    for source in ["offering-x-fr-fr", "offering-y"] {
        ok(sw(&db, &["sources", "remove", source, "--purge"]));
    }
    ok(sw(&db, &["verify"]));

    let only = dir.path().join("only.db");
    ok(sw(&only, &["import", &en.display().to_string()]));
    assert_eq!(row_counts(&db), row_counts(&only));

    // The English page gone, nothing learned against it stays either.
    let db = dir.path().join("english.db");
    ok(sw(
        &db,
        &[
            "import",
            &dir.path().join("en").display().to_string(),
            &dir.path().join("fr").display().to_string(),
        ],
    ));
    ok(sw(&db, &["sources", "remove", "offering-x", "--purge"]));
    let learned = row_counts(&db)
        .into_iter()
        .find(|(t, _)| t == "learned_name")
        .map(|(_, n)| n);
    assert_eq!(learned, Some(0));
    ok(sw(&db, &["verify"]));
}
