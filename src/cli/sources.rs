//! `sources` in the history database: the list (with retired pages and
//! each source's last change), and `mute`, `unmute` and `remove`.

use std::collections::HashMap;
use std::path::Path;
use std::process::ExitCode;

use chrono::NaiveDate;
use serde::Serialize;

use super::{DataFormat, emit, json, open_existing, open_for_writing};
use crate::diff::Differ;
use crate::history::{self, EventKind};
use crate::store::SourceInfo;

/// A source as `sources` lists it.
#[derive(Debug, Serialize)]
struct Listed {
    #[serde(flatten)]
    info: SourceInfo,
    /// The date of its last scope change (a rewording is none).
    last_change: Option<NaiveDate>,
    /// When its page was retired, if it is retired now.
    retired: Option<NaiveDate>,
}

pub(super) fn list(db: &Path, differ: &Differ<'_>, format: DataFormat) -> anyhow::Result<ExitCode> {
    let store = open_existing(db)?;
    let mut last_change: HashMap<String, NaiveDate> = HashMap::new();
    let mut retired: HashMap<String, Option<NaiveDate>> = HashMap::new();
    // Events come in date order: the last of each kind wins.
    for event in history::log(&store, differ, None, None)? {
        match &event.what {
            EventKind::Change(c) if !c.is_scope_change() => {}
            EventKind::Change(_) | EventKind::FlipFlop { .. } => {
                last_change.insert(event.source.clone(), event.date);
            }
            EventKind::LinkFlipFlop { .. } => {}
            EventKind::Retired { .. } => {
                retired.insert(event.source.clone(), Some(event.date));
            }
        }
    }
    let listed: Vec<Listed> = store
        .sources()?
        .into_iter()
        .map(|info| Listed {
            last_change: last_change.get(&info.id).copied(),
            retired: retired.get(&info.id).copied().flatten(),
            info,
        })
        .collect();
    emit(&match format {
        DataFormat::Json => json(&listed)?,
        DataFormat::Text => {
            let width = listed.iter().map(|s| s.info.id.len()).max().unwrap_or(0);
            listed
                .iter()
                .map(|s| {
                    let i = &s.info;
                    let changed = s
                        .last_change
                        .map_or("no change yet".to_string(), |d| format!("changed {d}"));
                    let mut state = String::new();
                    if let Some(d) = s.retired {
                        state.push_str(&format!("  RETIRED {d}"));
                    }
                    if let Some(how) = &i.held {
                        let since = i.held_at.as_deref().unwrap_or("-");
                        state.push_str(&format!("  {} since {since}", how.to_uppercase()));
                    }
                    let mut line = format!(
                        "{:<width$}  {:>5} snapshots  {} .. {}  {changed:<18}{state}  {}\n",
                        i.id,
                        i.snapshots,
                        i.first.as_deref().unwrap_or("-"),
                        i.last.as_deref().unwrap_or("-"),
                        i.title.as_deref().unwrap_or("")
                    );
                    // A scope-matrix page: one source, many programs.
                    for program in &i.programs {
                        line.push_str(&format!("{:<width$}    {} / {program}\n", "", i.id));
                    }
                    line
                })
                .collect()
        }
    })?;
    Ok(ExitCode::SUCCESS)
}

/// `mute` (`held` is "muted"), `remove` ("removed") or `unmute` (`None`).
pub(super) fn hold(db: &Path, source: &str, held: Option<&str>) -> anyhow::Result<ExitCode> {
    let (_lock, mut store) = open_for_writing(db)?;
    store.hold(source, held)?;
    emit(&match held {
        Some(how) => format!(
            "{source} {how}: `run` no longer fetches or alerts it; its history is kept (`sources unmute {source}` tracks it again)\n"
        ),
        None => format!("{source} is tracked again\n"),
    })?;
    Ok(ExitCode::SUCCESS)
}

/// `remove --purge`: the source and its whole history go.
pub(super) fn purge(db: &Path, source: &str) -> anyhow::Result<ExitCode> {
    let (_lock, mut store) = open_for_writing(db)?;
    let snapshots = store
        .sources()?
        .into_iter()
        .find(|s| s.id == source)
        .map_or(0, |s| s.snapshots);
    // One transaction: the rows go, and what the remaining translations
    // teach is learned again without this page.
    store.begin_batch()?;
    store.purge(source)?;
    crate::ingest::l10n::learn_names(&mut store)?;
    store.commit_batch()?;
    emit(&format!(
        "{source} removed with its history ({snapshots} snapshots); remove it from the configuration too, or `run` will start it again\n"
    ))?;
    Ok(ExitCode::SUCCESS)
}
