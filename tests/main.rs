//! The integration tests, one module per area.
//!
//! They build as one binary: each binary of its own linked scopewatch and
//! every dev-dependency again, which cost link time and disk for nothing.
//! Cargo.toml sets `autotests = false`, so a new file here runs only once it
//! is declared below.

mod common;

mod cli;
mod corpus;
mod crash;
mod faults;
mod faults_alert;
mod faults_fetch;
mod faults_input;
mod faults_store;
mod history;
mod integrity;
mod l10n;
mod l10n_out;
mod lag;
mod newcomer;
mod nightly;
mod props;
mod providers;
mod providers_fetch;
mod providers_history;
mod regressions;
mod report;
mod seeds;
mod serve;
mod serve_browser;
mod usability;
mod usability_cli;
mod usability_more;
