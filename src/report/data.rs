//! What the HTML report shows, gathered from the history: each offering's
//! events, scope sizes and the page text around its scope changes. These
//! are display structs, so they live with their renderer in [`super::html`].

use chrono::{DateTime, NaiveDate, Utc};

use crate::canon::AliasTable;
use crate::diff::{Diff, Differ};
use crate::history::{self, Event, Matrix};
use crate::lag::{self, Pair, SourceLag};
use crate::store::{Store, VersionRef};
use crate::{Result, ingest};

/// One line of a side-by-side view: the old and the new page text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub old: Option<String>,
    pub new: Option<String>,
}

/// A version step with scope changes, and the page text around them.
#[derive(Debug, Clone)]
pub struct StepView {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub diff: Diff,
    /// Runs of changed lines with two lines of context each.
    pub hunks: Vec<Vec<Row>>,
}

/// What the report says about one offering.
#[derive(Debug, Clone)]
pub struct OfferingReport {
    pub source: String,
    pub title: Option<String>,
    pub url: Option<String>,
    /// Services in scope at each version, for the chart.
    pub sizes: Vec<(NaiveDate, usize)>,
    pub events: Vec<Event>,
    pub steps: Vec<StepView>,
}

/// Everything the HTML report shows.
#[derive(Debug, Clone)]
pub struct ReportData {
    pub from: Option<NaiveDate>,
    pub to: NaiveDate,
    pub generated: DateTime<Utc>,
    pub offerings: Vec<OfferingReport>,
    pub matrix: Matrix,
    /// How each translated source stands against its English page at `to`.
    pub lag: Vec<SourceLag>,
}

/// Most hunks shown per step; a rewritten page would otherwise fill the report.
const MAX_HUNKS: usize = 12;

/// Gathers the report for one source or all, between two dates; `pairs`
/// are the translated sources with their English ones.
pub fn gather(
    store: &Store,
    differ: &Differ<'_>,
    aliases: &AliasTable,
    pairs: &[Pair],
    source: Option<&str>,
    from: Option<NaiveDate>,
    to: NaiveDate,
) -> Result<ReportData> {
    if let Some(from) = from {
        history::in_order(from, to)?;
    }
    let end = ingest::midnight(to.succ_opt().unwrap_or(to));
    let events: Vec<Event> = history::log(store, differ, source, from)?
        .into_iter()
        .filter(|e| e.date <= to)
        .collect();
    let sizes = store.scope_sizes()?;
    let ids: Vec<String> = match source {
        Some(s) => vec![s.to_string()],
        None => store.sources()?.into_iter().map(|s| s.id).collect(),
    };
    let mut offerings = Vec::new();
    for id in ids {
        let good: Vec<VersionRef> = store
            .versions(Some(&id))?
            .into_iter()
            .filter(|v| v.has_scope && v.captured_at < end)
            .collect();
        let Some(last) = good.last() else { continue };
        let mut points: Vec<(NaiveDate, usize)> = Vec::new();
        for v in &good {
            let point = (
                v.captured_at.date_naive(),
                sizes.get(&v.id).copied().unwrap_or(0),
            );
            match points.last_mut() {
                Some(p) if p.0 == point.0 => *p = point,
                _ => points.push(point),
            }
        }
        let mut steps = Vec::new();
        for pair in good.windows(2) {
            let date = pair[1].captured_at.date_naive();
            if from.is_some_and(|f| date < f) {
                continue;
            }
            let (old, new) = (store.load(pair[0].id)?, store.load(pair[1].id)?);
            let diff = differ.diff(&old.snapshot, &new.snapshot);
            if diff.has_scope_changes() {
                steps.push(StepView {
                    from: old.captured_at.date_naive(),
                    to: date,
                    hunks: side_by_side(store, pair[0].id, pair[1].id)?,
                    diff,
                });
            }
        }
        offerings.push(OfferingReport {
            title: store.load(last.id)?.snapshot.title,
            url: store.source_url(&id)?,
            events: events.iter().filter(|e| e.source == id).cloned().collect(),
            source: id,
            sizes: points,
            steps,
        });
    }
    let pairs: Vec<Pair> = pairs
        .iter()
        .filter(|p| source.is_none_or(|s| p.translation == s || p.english == s))
        .cloned()
        .collect();
    Ok(ReportData {
        from,
        to,
        generated: Utc::now(),
        offerings,
        matrix: history::matrix(store, aliases, to)?,
        lag: lag::lag(store, differ, aliases, &pairs, to)?,
    })
}

/// The changed runs of two versions' page text, re-read from their stored
/// raw documents.
fn side_by_side(store: &Store, old: i64, new: i64) -> Result<Vec<Vec<Row>>> {
    let body = |id| -> Result<String> { Ok(ingest::reread(&store.raw_version(id)?)?.body) };
    let (old, new) = (body(old)?, body(new)?);
    let diff = similar::TextDiff::from_lines(&old, &new);
    let line = |text: &str| text.trim_end_matches('\n').to_string();
    // The same lines the diff was made of, by index.
    let old_lines: Vec<&str> = old.split_inclusive('\n').collect();
    let new_lines: Vec<&str> = new.split_inclusive('\n').collect();
    let mut hunks = Vec::new();
    for group in diff.grouped_ops(2).into_iter().take(MAX_HUNKS) {
        let mut rows = Vec::new();
        for op in group {
            let (tag, olds, news) = op.as_tag_tuple();
            match tag {
                similar::DiffTag::Equal => rows.extend(olds.map(|i| Row {
                    old: Some(line(old_lines[i])),
                    new: Some(line(old_lines[i])),
                })),
                _ => {
                    let (olds, news): (Vec<usize>, Vec<usize>) = (olds.collect(), news.collect());
                    for k in 0..olds.len().max(news.len()) {
                        rows.push(Row {
                            old: olds.get(k).map(|&i| line(old_lines[i])),
                            new: news.get(k).map(|&i| line(new_lines[i])),
                        });
                    }
                }
            }
        }
        hunks.push(rows);
    }
    Ok(hunks)
}
