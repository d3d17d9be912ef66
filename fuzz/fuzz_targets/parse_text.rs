//! Any input read as the text form: parsing, extraction and a diff against
//! a known page never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scopewatch_core::model::PageForm;

fuzz_target!(|data: &[u8]| {
    scopewatch_fuzz::exercise(data, PageForm::Text);
});
