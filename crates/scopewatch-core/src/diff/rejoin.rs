//! A missing or extra comma: one name that is two others run together
//! ("Microsoft Defender for Office 365 Microsoft Teams") is a rewording.

use std::collections::HashMap;

use super::{Listed, Reword, undone};

/// Takes out each name of `wholes` that is two names of `parts` run together
/// ("Microsoft Defender for Office 365 Microsoft Teams"), as rewordings:
/// `split` when `wholes` is the old side.
pub(super) fn rejoin(
    wholes: &mut Vec<Listed>,
    parts: &mut Vec<Listed>,
    env: &Option<String>,
    split: bool,
) -> Vec<Reword> {
    let mut rewords = Vec::new();
    if wholes.is_empty() || parts.len() < 2 {
        return rewords;
    }
    let bares: Vec<String> = parts.iter().map(bare).collect();
    // Each bare name's places, first first: a name once joined is gone.
    let mut places: HashMap<&str, Vec<usize>> = HashMap::new();
    for (at, b) in bares.iter().enumerate() {
        places.entry(b.as_str()).or_default().push(at);
    }
    let mut gone = vec![false; parts.len()];
    let mut whole_done = vec![false; wholes.len()];
    for (w, whole) in wholes.iter().enumerate() {
        let Some((a, b)) = joined_pair(&bare(whole), &places, &gone) else {
            continue;
        };
        let (first, second) = (&parts[a], &parts[b]);
        (gone[a], gone[b], whole_done[w]) = (true, true, true);
        let joined = format!("{}, {}", first.text, second.text);
        rewords.push(if split {
            Reword {
                services: vec![first.name.clone(), second.name.clone()],
                environment: env.clone(),
                from: whole.text.to_string(),
                to: joined,
            }
        } else {
            Reword {
                services: vec![whole.name.clone()],
                environment: env.clone(),
                from: joined,
                to: whole.text.to_string(),
            }
        });
    }
    *wholes = undone(std::mem::take(wholes), &whole_done);
    *parts = undone(std::mem::take(parts), &gone);
    rewords
}

/// A key without the vendor name anywhere: the second of two names run
/// together keeps its own "Microsoft" inside the joined one.
fn bare(l: &Listed) -> String {
    l.key.as_str().replace("microsoft", "")
}

/// Two of `bares` not yet `gone` that, run together, are `whole`: the first
/// in order, then the first place of the rest. Each cut of `whole` is looked
/// up, so the search takes the length of `whole`, not of `bares`.
fn joined_pair(
    whole: &str,
    places: &HashMap<&str, Vec<usize>>,
    gone: &[bool],
) -> Option<(usize, usize)> {
    let first_left = |name: &str, other_than: Option<usize>| {
        places.get(name).and_then(|at| {
            at.iter()
                .copied()
                .find(|&i| !gone[i] && Some(i) != other_than)
        })
    };
    whole
        .char_indices()
        .skip(1)
        .filter_map(|(cut, _)| {
            let a = first_left(&whole[..cut], None)?;
            let b = first_left(&whole[cut..], Some(a))?;
            Some((a, b))
        })
        .min()
}
