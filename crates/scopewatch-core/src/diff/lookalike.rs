//! Names written with look-alike letters of another script: a homoglyph,
//! by mistake or to deceive, is the name it imitates with a warning, and
//! never a rename by similarity.

use std::collections::{HashMap, HashSet};

use unicode_script::{Script, UnicodeScript};

use super::{Diff, Listed, Rewords, undone};
use crate::canon::ServiceKey;

/// Pairs the names written with look-alike letters of another script
/// ("Intunе" with a Cyrillic е) with the name they imitate, as rewordings,
/// and warns of each. Returns the keys of the suspect names left unpaired:
/// they are never taken for a rename by similarity.
pub(super) fn look_alikes(
    olds: &mut Vec<Listed>,
    news: &mut Vec<Listed>,
    env: &Option<String>,
    diff: &mut Diff,
    rewords: &mut Rewords,
) -> HashSet<ServiceKey> {
    let suspects: HashSet<ServiceKey> = olds
        .iter()
        .chain(news.iter())
        .filter(|l| mixes_scripts(&l.name))
        .map(|l| l.key.clone())
        .collect();
    if suspects.is_empty() {
        return suspects;
    }
    let mut old_at: HashMap<ServiceKey, usize> = HashMap::new();
    for (i, o) in olds.iter().enumerate() {
        old_at.entry(skeleton_key(&o.name)).or_insert(i);
    }
    let (mut old_done, mut new_done) = (vec![false; olds.len()], vec![false; news.len()]);
    for (j, n) in news.iter().enumerate() {
        let Some(&i) = old_at.get(&skeleton_key(&n.name)) else {
            continue;
        };
        let o = &olds[i];
        if old_done[i] || !(suspects.contains(&o.key) || suspects.contains(&n.key)) {
            continue;
        }
        let (suspect, genuine) = if suspects.contains(&n.key) {
            (n, o)
        } else {
            (o, n)
        };
        diff.warnings.push(format!(
            "suspicious name {:?}: it mixes Latin letters with look-alike Cyrillic or Greek ones, and looks like {:?}; taken for the same service, not a rename: check the page",
            suspect.name, genuine.name
        ));
        rewords.add(env, o, n);
        (old_done[i], new_done[j]) = (true, true);
    }
    for l in olds
        .iter()
        .zip(&old_done)
        .chain(news.iter().zip(&new_done))
        .filter(|(l, done)| !**done && suspects.contains(&l.key))
        .map(|(l, _)| l)
    {
        diff.warnings.push(format!(
            "suspicious name {:?}: it mixes Latin letters with look-alike Cyrillic or Greek ones; not taken for a rename of a similar name: check the page",
            l.name
        ));
    }
    *olds = undone(std::mem::take(olds), &old_done);
    *news = undone(std::mem::take(news), &new_done);
    suspects
}

/// A word that mixes Latin letters with Cyrillic or Greek letters that look
/// like Latin ones: a homoglyph, by mistake or to deceive.
pub(super) fn mixes_scripts(name: &str) -> bool {
    // Nearly every name is ASCII, and ASCII is one script.
    !name.is_ascii()
        && name.split_whitespace().any(|word| {
            let latin = word.chars().any(|c| c.script() == Script::Latin);
            latin
                && word.chars().any(|c| {
                    matches!(c.script(), Script::Cyrillic | Script::Greek)
                        && unicode_security::is_potential_mixed_script_confusable_char(c)
                })
        })
}

/// The identity of what a name looks like (Unicode's confusable skeleton).
fn skeleton_key(name: &str) -> ServiceKey {
    ServiceKey::of(&unicode_security::skeleton(name).collect::<String>())
}
