//! Comparing report and certificate links: by target, or by title where
//! the page form carries no target; a title whose target changed is one
//! change of address.

use std::collections::{BTreeSet, HashMap, HashSet};

use super::{Change, Diff, LinkChange};
use crate::canon::ServiceKey;
use crate::model::Link;

/// Identity of a link: its target, or its title where the form has none.
fn link_id(link: &Link) -> String {
    match &link.url {
        Some(url) => url.trim().trim_end_matches('/').to_string(),
        None => format!("title:{}", ServiceKey::of(&link.title).as_str()),
    }
}

pub(super) fn diff_links(old: &[Link], new: &[Link], diff: &mut Diff) {
    let targetless = |links: &[Link]| !links.is_empty() && links.iter().all(|l| l.url.is_none());
    if targetless(old) || targetless(new) {
        diff.warnings.push(
            "report links not compared: one version carries no link targets (a plain-text export)"
                .into(),
        );
        return;
    }
    let old_ids: BTreeSet<String> = old.iter().map(link_id).collect();
    let new_ids: BTreeSet<String> = new.iter().map(link_id).collect();
    let mut gone: Vec<&Link> = old
        .iter()
        .filter(|l| !new_ids.contains(&link_id(l)))
        .collect();
    let mut seen = HashSet::new();
    gone.retain(|l| seen.insert(link_id(l)));
    let title_key = |l: &Link| ServiceKey::of(&l.title);
    let mut gone_by_title: HashMap<ServiceKey, usize> = HashMap::new();
    for (i, l) in gone.iter().enumerate() {
        gone_by_title.entry(title_key(l)).or_insert(i);
    }
    let mut replaced = HashSet::new();
    let mut seen = HashSet::new();
    for l in new.iter().filter(|l| !old_ids.contains(&link_id(l))) {
        if !seen.insert(link_id(l)) {
            continue;
        }
        let before = gone_by_title
            .get(&title_key(l))
            .copied()
            .filter(|i| !replaced.contains(i));
        match (before, &l.url) {
            (Some(i), Some(to)) if gone[i].url.is_some() => {
                replaced.insert(i);
                diff.changes.push(Change::Link(LinkChange::UrlChanged {
                    section: l.section.clone(),
                    title: l.title.clone(),
                    from: gone[i].url.clone().unwrap_or_default(),
                    to: to.clone(),
                }));
            }
            _ => diff.changes.push(Change::Link(LinkChange::Added {
                section: l.section.clone(),
                title: l.title.clone(),
                url: l.url.clone(),
            })),
        }
    }
    for (i, l) in gone.into_iter().enumerate() {
        if !replaced.contains(&i) {
            diff.changes.push(Change::Link(LinkChange::Removed {
                section: l.section.clone(),
                title: l.title.clone(),
                url: l.url.clone(),
            }));
        }
    }
}
