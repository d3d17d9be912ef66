//! What every fuzz target does: read the input as one page form, extract its
//! scope, and diff it both ways against a real page. None of it may panic.

use scopewatch_core::canon::AliasTable;
use scopewatch_core::diff::Differ;
use scopewatch_core::model::PageForm;
use scopewatch_core::read_snapshot_as;

const KNOWN: &[u8] = include_bytes!("../../snapshots/offering-iso-27001/2021-03-01.html");

pub fn exercise(data: &[u8], form: PageForm) {
    let Ok(snapshot) = read_snapshot_as("fuzz", data, Some(form)) else {
        return;
    };
    let known = read_snapshot_as("known", KNOWN, None).expect("the known page parses");
    let aliases = AliasTable::builtin();
    let differ = Differ::new(&aliases);
    let _ = differ.diff(&known, &snapshot);
    let _ = differ.diff(&snapshot, &known);
}
