//! Makes the built-in table of localized names, `config/l10n-names.tsv`,
//! from the corpus of translated pages: every row of each
//! `<locale>/PARITY.tsv` pairs a localized page version with the English
//! page it was translated from, and the two are aligned.
//!
//! ```sh
//! cargo run -p scopewatch-core --example l10n-table -- ../shared/corpus/l10n config/l10n-names.tsv
//! ```
//!
//! The same corpus gives the same file. It prints, per locale, how many
//! pairs the new table still diffs with a scope change.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use scopewatch_core::canon::AliasTable;
use scopewatch_core::canon::l10n::{Learner, LocalizedNames, Provenance};
use scopewatch_core::diff::Differ;
use scopewatch_core::model::Snapshot;

/// One row of a PARITY.tsv: the provenance and the two files.
struct Pair {
    locale: String,
    seen: Provenance,
    english: PathBuf,
    localized: PathBuf,
}

fn pairs(corpus: &Path) -> Result<Vec<Pair>, String> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(corpus)
        .map_err(|e| format!("{}: {e}", corpus.display()))?
        .filter_map(|d| d.ok().map(|d| d.path()))
        .filter(|p| p.join("PARITY.tsv").is_file())
        .collect();
    dirs.sort();
    let mut out = Vec::new();
    for dir in dirs {
        let locale = dir
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or("a locale folder's name is not text")?
            .to_string();
        let tsv = std::fs::read_to_string(dir.join("PARITY.tsv")).map_err(|e| e.to_string())?;
        for line in tsv.lines().filter(|l| !l.trim().is_empty()) {
            let f: Vec<&str> = line.split('\t').collect();
            let [
                slug,
                date,
                localized_commit,
                english_commit,
                localized,
                english,
            ] = f[..]
            else {
                return Err(format!(
                    "{locale}/PARITY.tsv: a row without six fields: {line:?}"
                ));
            };
            out.push(Pair {
                locale: locale.clone(),
                seen: Provenance {
                    source: slug.to_string(),
                    date: date.get(..10).unwrap_or(date).to_string(),
                    english_ref: english_commit
                        .get(..12)
                        .unwrap_or(english_commit)
                        .to_string(),
                    localized_ref: localized_commit
                        .get(..12)
                        .unwrap_or(localized_commit)
                        .to_string(),
                },
                english: corpus.join(english),
                localized: corpus.join(localized),
            });
        }
    }
    Ok(out)
}

fn read(path: &Path) -> Result<Snapshot, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    scopewatch_core::read_snapshot(&path.display().to_string(), &bytes).map_err(|e| e.to_string())
}

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [corpus, out] = &args[..] else {
        return Err("usage: l10n-table CORPUS_L10N_DIR OUT.tsv".into());
    };
    let mut read_pairs = Vec::new();
    let mut learner = Learner::default();
    for pair in pairs(Path::new(corpus))? {
        let (english, localized) = (read(&pair.english)?, read(&pair.localized)?);
        learner.add(&pair.locale, &english, &localized, &pair.seen);
        read_pairs.push((pair, english, localized));
    }
    let learned = learner.finish();
    std::fs::write(out, LocalizedNames::to_tsv(&learned)).map_err(|e| format!("{out}: {e}"))?;
    eprintln!("{} names written to {out}", learned.len());

    let aliases = AliasTable::builtin().with_localized(learned);
    let differ = Differ::new(&aliases);
    let mut tally: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for (pair, english, localized) in &read_pairs {
        let counts = tally.entry(&pair.locale).or_default();
        counts.1 += 1;
        let diff = differ.diff(english, localized);
        let changed = !diff.added().is_empty()
            || !diff.removed().is_empty()
            || !diff.renamed().is_empty()
            || !diff.moved().is_empty();
        if changed {
            counts.0 += 1;
            eprintln!(
                "{} {} {}: {}",
                pair.locale,
                pair.seen.source,
                pair.seen.date,
                summary(&diff)
            );
        }
    }
    for (locale, (bad, all)) in tally {
        eprintln!("{locale}: {} of {all} pairs clean", all - bad);
    }
    Ok(())
}

/// The scope changes of a diff in one line.
fn summary(diff: &scopewatch_core::diff::Diff) -> String {
    let mut parts = Vec::new();
    for e in diff.added() {
        parts.push(format!(
            "+{}[{}]",
            e.service,
            e.environment.as_deref().unwrap_or("")
        ));
    }
    for e in diff.removed() {
        parts.push(format!(
            "-{}[{}]",
            e.service,
            e.environment.as_deref().unwrap_or("")
        ));
    }
    for r in diff.renamed() {
        parts.push(format!("{}=>{}", r.from, r.to));
    }
    for m in diff.moved() {
        parts.push(format!(
            "{}:{}->{}",
            m.service,
            m.from.as_deref().unwrap_or(""),
            m.to.as_deref().unwrap_or("")
        ));
    }
    parts.join(" | ")
}
