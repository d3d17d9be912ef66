//! The offline demo: the page versions bundled in `snapshots/` (embedded in
//! the binary) replayed through the whole pipeline: parse, store, diff in
//! date order.

use include_dir::{Dir, File, include_dir};

use crate::diff::Differ;
use crate::history::SourceDiff;
use crate::ingest::{date_in_name, import_bytes, source_for};
use crate::store::Store;
use crate::{Result, history};

static SNAPSHOTS: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/snapshots");

/// The bundled page versions, in capture order.
pub fn pages() -> Vec<&'static File<'static>> {
    let mut files: Vec<&File<'_>> = SNAPSHOTS
        .dirs()
        .flat_map(|d| d.files())
        .filter(|f| date_in_name(f.path()).is_some())
        .collect();
    files.sort_by_key(|f| (date_in_name(f.path()), f.path()));
    files
}

/// What the demo did and found.
#[derive(Debug)]
pub struct DemoRun {
    pub imported: usize,
    pub sources: Vec<String>,
    pub steps: Vec<SourceDiff>,
}

/// Imports every bundled version into `store`, then diffs each source's
/// versions in date order.
pub fn run(store: &mut Store, differ: &Differ<'_>) -> Result<DemoRun> {
    let mut sources: Vec<String> = Vec::new();
    let mut imported = 0;
    for file in pages() {
        let path = file.path();
        let source = source_for(path);
        let Some(at) = date_in_name(path) else {
            continue;
        };
        let name = format!("snapshots/{}", path.display());
        import_bytes(store, &source, at, &name, file.contents())?;
        imported += 1;
        if !sources.contains(&source) {
            sources.push(source);
        }
    }
    sources.sort();
    let mut steps = Vec::new();
    for source in &sources {
        steps.extend(history::steps(store, differ, source)?);
    }
    Ok(DemoRun {
        imported,
        sources,
        steps,
    })
}
