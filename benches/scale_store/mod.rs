//! The scaling benchmarks' store: a synthetic history of 500 offering pages
//! checked daily for 5 years, with realistic edits (about one every 25 days
//! per page: a service added, removed, renamed or moved between
//! environments, or a rewording). Built once (about a minute) and kept in
//! `target/scopewatch-scale-v*.db`.

use std::path::PathBuf;
use std::time::Instant;

use chrono::{NaiveDate, TimeDelta};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use scopewatch::ingest::{import_bytes, midnight};
use scopewatch::store::{Attempt, Store};

const SOURCES: usize = 500;
const DAYS: i64 = 5 * 365 + 1;
const EDIT_EVERY_DAYS: u32 = 25;

const POOL: &[&str] = &[
    "Azure",
    "Azure Government",
    "Azure DevOps Services",
    "Dynamics 365",
    "Dynamics 365 U.S. Government",
    "Intune",
    "Microsoft Graph",
    "Microsoft Stream",
    "Power BI",
    "Power BI Embedded",
    "Power Apps",
    "Power Virtual Agents",
    "Microsoft Translator",
    "Windows 365",
    "Microsoft Managed Desktop",
    "Microsoft Healthcare Bot",
    "OMS Service Map",
    "Genomics",
    "Office 365",
    "Office 365 U.S. Government",
    "Office 365 Germany",
    "Microsoft Professional Services",
    "Microsoft Defender for Identity",
    "Microsoft 365 Defender",
    "Microsoft Threat Experts",
    "Update Compliance",
    "Microsoft Forms Pro",
    "Nomination Portal",
    "Microsoft Cloud for Healthcare",
    "Azure Information Protection",
];
const TABLE_POOL: &[&str] = &[
    "Exchange Online",
    "Exchange Online Protection",
    "SharePoint Online",
    "OneDrive for Business",
    "Microsoft Teams",
    "Skype for Business",
    "Planner",
    "Forms",
    "Delve",
    "MyAnalytics",
    "Office Online",
    "Office Pro Plus",
    "Bookings",
    "Kaizala",
    "Sway",
    "StaffHub",
    "Customer Lockbox",
    "Compliance Manager",
    "Azure Active Directory",
    "People Card",
    "Project Online",
    "Yammer Enterprise",
    "Microsoft Defender for Office 365",
    "Office 365 Customer Portal",
];
const RENAMES: &[(&str, &str)] = &[
    ("Microsoft Flow", "Power Automate"),
    (
        "Microsoft Cloud App Security",
        "Microsoft Defender for Cloud Apps",
    ),
    ("Windows Defender ATP", "Microsoft Defender for Endpoint"),
];
const ENVS: [&str; 4] = ["Commercial", "GCC", "GCC High", "DoD"];

/// One page's state: its in-scope list and its applicability rows.
struct Page {
    list: Vec<String>,
    rows: Vec<Vec<String>>,
    qualifier: u32,
}

impl Page {
    fn new(rng: &mut StdRng) -> Self {
        let mut list: Vec<String> = POOL
            .iter()
            .filter(|_| rng.random_bool(0.6))
            .map(|s| s.to_string())
            .collect();
        list.extend(RENAMES.iter().map(|(old, _)| old.to_string()));
        let rows = ENVS
            .iter()
            .map(|_| {
                TABLE_POOL
                    .iter()
                    .filter(|_| rng.random_bool(0.6))
                    .map(|s| s.to_string())
                    .collect()
            })
            .collect();
        Page {
            list,
            rows,
            qualifier: 0,
        }
    }

    fn edit(&mut self, rng: &mut StdRng) {
        match rng.random_range(0..5) {
            0 => {
                let name = POOL[rng.random_range(0..POOL.len())].to_string();
                if !self.list.contains(&name) {
                    self.list.push(name);
                }
            }
            1 if self.list.len() > 5 => {
                let i = rng.random_range(0..self.list.len());
                self.list.remove(i);
            }
            2 => {
                for (old, new) in RENAMES {
                    if let Some(item) = self.list.iter_mut().find(|s| s == old) {
                        *item = new.to_string();
                        return;
                    }
                }
                self.qualifier += 1;
            }
            3 => {
                let (from, to) = (rng.random_range(0..4), rng.random_range(0..4));
                if from != to && !self.rows[from].is_empty() {
                    let service = self.rows[from].remove(0);
                    if !self.rows[to].contains(&service) {
                        self.rows[to].push(service);
                    }
                }
            }
            _ => self.qualifier += 1,
        }
    }

    fn markdown(&self, id: usize) -> String {
        let mut md = format!(
            "---\ntitle: Offering {id}\nms.contentlocale: en-us\n---\n\n# Offering {id}\n\n## Overview\n\n\
             This certification covers the services below. Revision {}.\n\n## Microsoft in-scope cloud services\n\n",
            self.qualifier
        );
        for s in &self.list {
            md.push_str(&format!("- {s}\n"));
        }
        md.push_str("- Power BI cloud service either as a standalone service or as included in a branded plan\n");
        md.push_str("\n## Office 365 applicability and in-scope services\n\n| Applicability | In-scope services |\n|--|--|\n");
        for (env, row) in ENVS.iter().zip(&self.rows) {
            md.push_str(&format!("| {env} | {} |\n", row.join(", ")));
        }
        md.push_str(&format!(
            "\n## Audits, reports, and certificates\n\n- [Certificate {id}](https://reports.example.com/{id}/cert-{}.pdf)\n",
            self.qualifier / 4
        ));
        md
    }
}

fn store_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!(
        "target/scopewatch-scale-v{}.db",
        scopewatch::PARSER_VERSION
    ))
}

/// Builds the synthetic history once; its path.
pub fn build() -> PathBuf {
    let path = store_path();
    if path.exists() {
        return path;
    }
    let partial = path.with_extension("partial");
    let _ = std::fs::remove_file(&partial);
    let started = Instant::now();
    let mut store = Store::open(&partial).expect("store");
    let mut rng = StdRng::seed_from_u64(27001);
    let start = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap_or_default();
    let mut versions = 0;
    for id in 0..SOURCES {
        let source = format!("offering-{id:03}");
        let mut page = Page::new(&mut rng);
        for day in 0..DAYS {
            let date = start + TimeDelta::days(day);
            let at = midnight(date);
            // The daily check: a 304 most days, a new version after an edit.
            let changed = day == 0 || rng.random_ratio(1, EDIT_EVERY_DAYS);
            if changed && day > 0 {
                page.edit(&mut rng);
            }
            let attempt = Attempt {
                started_at: at,
                elapsed_ms: 40,
                status: Some(if changed { 200 } else { 304 }),
                bytes: 0,
                error: None,
            };
            store
                .record_attempt(&source, "https://learn.example.com/offering", &attempt)
                .expect("attempt");
            if changed {
                let text = page.markdown(id);
                import_bytes(&mut store, &source, at, &source, text.as_bytes()).expect("import");
                versions += 1;
            }
        }
    }
    drop(store);
    std::fs::rename(&partial, &path).expect("rename");
    eprintln!(
        "built {SOURCES} sources x {DAYS} days: {versions} versions in {:.0?}; database {:.1} MB",
        started.elapsed(),
        std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0) as f64 / 1e6
    );
    path
}
