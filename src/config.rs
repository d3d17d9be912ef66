//! The configuration file (`config/scopewatch.toml` documents every key):
//! sources, schedule, politeness, timeouts, alert channels, database.
//!
//! Secrets never live here: channels name the environment variables that
//! hold them (`url_env`, `password_env`).

use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::canon::AliasTable;
use crate::model::{PageForm, SourceId};
use crate::{Error, Result};
use scopewatch_core::profile::{self, Extraction, MatrixProfile};

/// The shipped configuration: the documented defaults and Microsoft's
/// offering pages in en-us.
pub const DEFAULT_CONFIG: &str = include_str!("../config/scopewatch.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default = "defaults::database")]
    pub database: PathBuf,
    #[serde(default = "defaults::schedule")]
    pub schedule: String,
    #[serde(default = "defaults::user_agent")]
    pub user_agent: String,
    #[serde(default = "defaults::hub")]
    pub hub: String,
    #[serde(default)]
    pub fetch: FetchSettings,
    #[serde(default, rename = "source")]
    pub sources: Vec<SourceConfig>,
    #[serde(default, rename = "alert")]
    pub alerts: Vec<AlertConfig>,
    #[serde(default)]
    pub delivery: DeliverySettings,
    /// Extraction profiles for scope-matrix pages, beside the built-in ones.
    #[serde(default, rename = "profile")]
    pub profiles: Vec<MatrixProfile>,
}

/// How long a run may spend delivering alerts.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeliverySettings {
    /// All channels together, per run; what is left is tried next run.
    pub budget_secs: u64,
}

impl Default for DeliverySettings {
    fn default() -> Self {
        DeliverySettings { budget_secs: 300 }
    }
}

impl DeliverySettings {
    pub fn budget(&self) -> Duration {
        Duration::from_secs(self.budget_secs)
    }
}

/// The longest a delivery or a run's deliveries may be given: an hour.
const MAX_DELIVERY_SECS: u64 = 3600;

mod defaults {
    use std::path::PathBuf;

    pub fn database() -> PathBuf {
        PathBuf::from("scopewatch.db")
    }
    pub fn schedule() -> String {
        "0 30 2 * * *".into()
    }
    pub fn user_agent() -> String {
        // The release as the configuration file and the README write it.
        format!(
            "scopewatch/{}.{} (compliance scope watcher)",
            env!("CARGO_PKG_VERSION_MAJOR"),
            env!("CARGO_PKG_VERSION_MINOR")
        )
    }
    pub fn hub() -> String {
        "https://learn.microsoft.com/en-us/compliance/regulatory/offering-home".into()
    }
}

/// Timeouts, limits, retries and politeness of the fetcher.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FetchSettings {
    pub timeout_secs: u64,
    pub connect_timeout_secs: u64,
    pub max_page_bytes: u64,
    pub max_redirects: usize,
    pub retries: usize,
    pub backoff_min_ms: u64,
    pub backoff_max_ms: u64,
    pub max_retry_after_secs: u64,
    pub per_host_concurrency: usize,
    pub per_host_delay_ms: u64,
}

/// The default cap on a page's size, fetched or read from a file.
pub const MAX_PAGE_BYTES: u64 = 5_000_000;

impl Default for FetchSettings {
    fn default() -> Self {
        FetchSettings {
            timeout_secs: 30,
            connect_timeout_secs: 10,
            max_page_bytes: MAX_PAGE_BYTES,
            max_redirects: 5,
            retries: 3,
            backoff_min_ms: 500,
            backoff_max_ms: 30_000,
            max_retry_after_secs: 300,
            per_host_concurrency: 2,
            per_host_delay_ms: 500,
        }
    }
}

impl FetchSettings {
    /// Each setting with the values it may take: a count or a time past
    /// these is a typing slip (`retries = 1000000` would retry all night,
    /// and a bigger one overflows).
    fn bounds(&self) -> [(&'static str, u64, RangeInclusive<u64>); 10] {
        let count = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
        [
            ("timeout_secs", self.timeout_secs, 1..=3_600),
            ("connect_timeout_secs", self.connect_timeout_secs, 1..=3_600),
            ("max_page_bytes", self.max_page_bytes, 1..=1_000_000_000),
            ("max_redirects", count(self.max_redirects), 0..=20),
            ("retries", count(self.retries), 0..=10),
            ("backoff_min_ms", self.backoff_min_ms, 0..=600_000),
            ("backoff_max_ms", self.backoff_max_ms, 0..=3_600_000),
            (
                "max_retry_after_secs",
                self.max_retry_after_secs,
                0..=86_400,
            ),
            (
                "per_host_concurrency",
                count(self.per_host_concurrency),
                1..=64,
            ),
            ("per_host_delay_ms", self.per_host_delay_ms, 0..=600_000),
        ]
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs)
    }
    pub fn connect_timeout(&self) -> Duration {
        Duration::from_secs(self.connect_timeout_secs)
    }
    pub fn per_host_delay(&self) -> Duration {
        Duration::from_millis(self.per_host_delay_ms)
    }
}

/// A page to watch.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    pub id: SourceId,
    pub url: String,
    #[serde(default)]
    pub locale: Option<String>,
    /// Read the page as this form instead of detecting it.
    #[serde(default)]
    pub format: Option<PageForm>,
    /// The English source this page is translated from, for `scopewatch
    /// lag` [default: the id without its locale suffix].
    #[serde(default)]
    pub english: Option<SourceId>,
    /// How the page states its scope: a built-in profile or a `[[profile]]`
    /// [default: microsoft-offering].
    #[serde(default)]
    pub profile: Option<String>,
}

/// An alert channel.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertConfig {
    pub kind: AlertKind,
    /// Identifies the channel in the alert ledger [default: the kind].
    #[serde(default)]
    pub name: Option<String>,
    /// webhook, slack, teams: the URL, or the variable holding it.
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub url_env: Option<String>,
    /// email
    #[serde(default)]
    pub smtp_host: Option<String>,
    #[serde(default)]
    pub smtp_port: Option<u16>,
    #[serde(default)]
    pub tls: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password_env: Option<String>,
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Vec<String>,
    /// command: the program and its arguments.
    #[serde(default)]
    pub command: Vec<String>,
    /// How long one delivery may take [default: 30 s, 60 s for a command].
    #[serde(default)]
    pub timeout_secs: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertKind {
    Webhook,
    Slack,
    Teams,
    Email,
    Command,
}

impl AlertKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::Webhook => "webhook",
            AlertKind::Slack => "slack",
            AlertKind::Teams => "teams",
            AlertKind::Email => "email",
            AlertKind::Command => "command",
        }
    }
}

impl AlertConfig {
    pub fn name(&self) -> &str {
        self.name.as_deref().unwrap_or(self.kind.as_str())
    }

    pub fn timeout(&self) -> Duration {
        let default = match self.kind {
            AlertKind::Command => 60,
            _ => 30,
        };
        Duration::from_secs(self.timeout_secs.unwrap_or(default))
    }
}

/// Why an address cannot be used. Neither variant repeats a secret: a
/// webhook's address is one, and so are a URL's credentials.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("not a valid http or https address")]
    Invalid,
    #[error("a {scheme}: address; only http and https are supported")]
    NotHttp { scheme: String },
    #[error(
        "{redacted} carries credentials, which would be stored in the database and sent in every alert; \
         credentials in a source URL are not supported: serve the page without login, or reach it \
         through an authenticating proxy named in HTTPS_PROXY or HTTP_PROXY (which may hold its own \
         user:password)"
    )]
    Credentials { redacted: String },
}

/// Checks an address alerts are posted to: http or https. It may carry a
/// receiver's credentials, as it is a secret that is never stored or shown.
pub fn http_url(url: &str) -> Result<reqwest::Url, UrlError> {
    let parsed = reqwest::Url::parse(url).map_err(|_| UrlError::Invalid)?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(UrlError::NotHttp {
            scheme: parsed.scheme().to_string(),
        });
    }
    Ok(parsed)
}

/// Checks an address scopewatch fetches: http or https, with no credentials,
/// as it is stored and shown in every alert about the page.
pub fn source_url(url: &str) -> Result<reqwest::Url, UrlError> {
    let parsed = http_url(url)?;
    no_credentials(parsed.clone())?;
    Ok(parsed)
}

/// Refuses text that is a URL with a user or password in it. Anything else
/// (a file path, a git commit) passes: this guards what the store keeps and
/// alerts show, where an origin may be either.
pub fn refuse_credentials(text: &str) -> Result<(), UrlError> {
    match reqwest::Url::parse(text) {
        Ok(url) => no_credentials(url),
        Err(_) => Ok(()),
    }
}

fn no_credentials(mut url: reqwest::Url) -> Result<(), UrlError> {
    if url.username().is_empty() && url.password().is_none() {
        return Ok(());
    }
    // Shown in the error, so the credentials themselves are left out.
    let _ = url.set_password(None);
    let _ = url.set_username("***");
    Err(UrlError::Credentials {
        redacted: url.to_string(),
    })
}

fn invalid(path: &Path, message: impl std::fmt::Display) -> Error {
    Error::Config {
        path: path.to_path_buf(),
        message: message.to_string(),
    }
}

impl Config {
    /// Reads and checks a configuration file. Relative paths in it are
    /// taken from the file's folder.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let mut config: Config =
            toml::from_str(&text).map_err(|e| invalid(path, toml_reason(&text, &e)))?;
        if config.database.is_relative() {
            let dir = path.parent().unwrap_or(Path::new("."));
            config.database = dir.join(&config.database);
        }
        config.validate(path)?;
        Ok(config)
    }

    /// The extraction profile called `name`: a `[[profile]]` of this file
    /// or a built-in one.
    pub fn profile(&self, name: &str) -> Option<Extraction> {
        self.profiles
            .iter()
            .find(|p| p.name == name)
            .map(|p| Extraction::Matrix(p.clone()))
            .or_else(|| profile::builtin(name))
    }

    /// How `source`'s page is read.
    pub fn extraction(&self, source: &SourceConfig) -> Extraction {
        source
            .profile
            .as_deref()
            .and_then(|name| self.profile(name))
            .unwrap_or(Extraction::Offering)
    }

    fn validate_profiles(&self, path: &Path) -> Result<()> {
        let mut names = std::collections::HashSet::new();
        for p in &self.profiles {
            p.validate().map_err(|e| invalid(path, e))?;
            if profile::BUILTIN.contains(&p.name.as_str()) || !names.insert(&p.name) {
                return Err(invalid(
                    path,
                    format!(
                        "profile {:?} is defined twice (or is built in): rename it",
                        p.name
                    ),
                ));
            }
        }
        for s in &self.sources {
            if let Some(name) = s.profile.as_deref().filter(|n| self.profile(n).is_none()) {
                let mut known: Vec<&str> = profile::BUILTIN.to_vec();
                known.extend(self.profiles.iter().map(|p| p.name.as_str()));
                return Err(invalid(
                    path,
                    format!(
                        "source {:?} names profile {name:?}, which is neither built in nor a [[profile]]: use one of {}",
                        s.id.as_str(),
                        known.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }

    fn validate(&self, path: &Path) -> Result<()> {
        self.schedule_parsed().map_err(|e| invalid(path, e))?;
        self.validate_profiles(path)?;
        source_url(&self.hub).map_err(|e| invalid(path, format!("hub: {e}")))?;
        // Ids are compared ignoring case: two that differ only in case
        // would be one page kept as two histories.
        let mut ids = std::collections::HashMap::new();
        for s in &self.sources {
            if let Some(first) = ids.insert(s.id.to_ascii_lowercase(), &s.id) {
                let what = if *first == s.id {
                    format!("source {:?} is listed twice", s.id)
                } else {
                    format!(
                        "sources {first:?} and {:?} differ only in case: give one id",
                        s.id
                    )
                };
                return Err(invalid(path, what));
            }
            source_url(&s.url)
                .map_err(|e| invalid(path, format!("source {:?}: {e}", s.id.as_str())))?;
            if let Some(l) = &s.locale {
                locale(l).map_err(|e| invalid(path, format!("source {:?}: {e}", s.id.as_str())))?;
            }
            if s.english.as_ref() == Some(&s.id) {
                return Err(invalid(
                    path,
                    format!(
                        "source {:?} names itself as its English source: give the id of the English page",
                        s.id.as_str()
                    ),
                ));
            }
        }
        let mut names = std::collections::HashSet::new();
        for a in &self.alerts {
            if !names.insert(a.name()) {
                return Err(invalid(
                    path,
                    format!(
                        "two alert channels are named {:?}: give them names",
                        a.name()
                    ),
                ));
            }
            let need = |ok: bool, what: &str| {
                if ok {
                    Ok(())
                } else {
                    Err(invalid(path, format!("alert {:?} needs {what}", a.name())))
                }
            };
            match a.kind {
                AlertKind::Webhook | AlertKind::Slack | AlertKind::Teams => {
                    need(
                        a.url.is_some() != a.url_env.is_some(),
                        "one of url or url_env",
                    )?;
                    if let Some(url) = &a.url {
                        http_url(url)
                            .map_err(|e| invalid(path, format!("alert {:?}: {e}", a.name())))?;
                    }
                }
                AlertKind::Email => {
                    need(
                        a.smtp_host.is_some() && a.from.is_some() && !a.to.is_empty(),
                        "smtp_host, from and to",
                    )?;
                    need(
                        matches!(a.tls.as_deref(), None | Some("starttls" | "tls" | "none")),
                        "tls = \"starttls\", \"tls\" or \"none\"",
                    )?;
                }
                AlertKind::Command => need(!a.command.is_empty(), "a command")?,
            }
            need(
                a.timeout_secs
                    .is_none_or(|t| (1..=MAX_DELIVERY_SECS).contains(&t)),
                &format!("timeout_secs between 1 and {MAX_DELIVERY_SECS}"),
            )?;
        }
        if !(1..=MAX_DELIVERY_SECS).contains(&self.delivery.budget_secs) {
            return Err(invalid(
                path,
                format!("delivery.budget_secs must be between 1 and {MAX_DELIVERY_SECS}"),
            ));
        }
        for (key, value, range) in self.fetch.bounds() {
            if !range.contains(&value) {
                return Err(Error::ConfigRange {
                    path: path.to_path_buf(),
                    key,
                    value,
                    min: *range.start(),
                    max: *range.end(),
                });
            }
        }
        Ok(())
    }

    pub fn schedule_parsed(&self) -> Result<cron::Schedule> {
        self.schedule
            .parse::<cron::Schedule>()
            .map_err(|source| Error::Schedule {
                schedule: self.schedule.clone(),
                source,
            })
    }
}

/// Reads a user's alias table (`--aliases`), which replaces the built-in one.
pub fn load_aliases(path: &Path) -> Result<AliasTable> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    AliasTable::from_toml(&text).map_err(|e| Error::AliasFile {
        path: path.to_path_buf(),
        reason: match e {
            scopewatch_core::AliasError::Toml(e) => toml_reason(&text, &e),
            other => other.to_string(),
        },
    })
}

/// A TOML error on one line: where, and what (its own text draws the line
/// over several).
fn toml_reason(text: &str, error: &toml::de::Error) -> String {
    let message = error.message().trim().trim_end_matches('.');
    let Some(span) = error.span() else {
        return message.to_string();
    };
    let before = text.get(..span.start).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    format!(
        "line {line}, column {column}: {}",
        message.replace('\n', " ")
    )
}

/// The locale Microsoft's addresses use: the language, an optional script,
/// and the region, in lower case (`de-de`, `pt-br`, `zh-tw`, `sr-latn-rs`).
pub fn locale(text: &str) -> Result<String> {
    let lower = text.trim().to_ascii_lowercase();
    let parts: Vec<&str> = lower.split('-').collect();
    let letters = |p: &str, n: std::ops::RangeInclusive<usize>| {
        n.contains(&p.len()) && p.bytes().all(|b| b.is_ascii_lowercase())
    };
    let region =
        |p: &str| letters(p, 2..=2) || (p.len() == 3 && p.bytes().all(|b| b.is_ascii_digit()));
    let ok = match parts[..] {
        [language, r] => letters(language, 2..=3) && region(r),
        [language, script, r] => letters(language, 2..=3) && letters(script, 4..=4) && region(r),
        _ => false,
    };
    if ok {
        Ok(lower)
    } else {
        Err(Error::Locale(text.to_string()))
    }
}

/// The source id of a page in a locale: the page's id, with a locale other
/// than en-us appended (`offering-soc-2-ja-jp`).
pub fn localized_id(id: &str, locale: &str) -> String {
    let locale = locale.to_ascii_lowercase();
    if locale == "en-us" || id.ends_with(&format!("-{locale}")) {
        id.to_string()
    } else {
        format!("{id}-{locale}")
    }
}

/// The starter configuration for a locale: the shipped file with its pages'
/// addresses in that locale and, other than en-us, source ids that carry
/// the locale as `import-git` writes them.
/// A starter configuration for one provider's scope-matrix page (`aws`,
/// `azure-gov`): the shipped settings and comments, and that page as its
/// only source. `None` for any other name.
pub fn provider_starter(provider: &str) -> Option<String> {
    let (id, url, profile) = match provider {
        "aws" => (
            "aws-services-in-scope",
            "https://aws.amazon.com/compliance/services-in-scope/",
            "aws-services-in-scope",
        ),
        "azure-gov" => (
            "azure-services-compliance-scope",
            "https://learn.microsoft.com/en-us/azure/azure-government/compliance/azure-services-in-fedramp-auditscope",
            "azure-compliance-scope",
        ),
        _ => return None,
    };
    let settings = DEFAULT_CONFIG
        .find("\n[[source]]")
        .map_or(DEFAULT_CONFIG, |end| &DEFAULT_CONFIG[..end]);
    Some(format!(
        "{settings}\n[[source]]\nid = \"{id}\"\nurl = \"{url}\"\n# One page, many programs: each change is named by program and level.\nprofile = \"{profile}\"\n"
    ))
}

pub fn starter(locale: &str) -> Result<String> {
    let locale = self::locale(locale)?;
    if locale == "en-us" {
        return Ok(DEFAULT_CONFIG.to_string());
    }
    let mut out = String::with_capacity(DEFAULT_CONFIG.len() * 2);
    for line in DEFAULT_CONFIG
        .replace("/en-us/", &format!("/{locale}/"))
        .lines()
    {
        match line
            .strip_prefix("id = \"")
            .and_then(|rest| rest.strip_suffix('"'))
        {
            Some(id) => {
                out.push_str(&format!(
                    "id = \"{}\"\nlocale = \"{locale}\"\n",
                    localized_id(id, &locale)
                ));
            }
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Config> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, text).unwrap();
        Config::load(&path)
    }

    #[test]
    fn shipped_config_is_valid_and_lists_the_offerings() {
        let c = load(DEFAULT_CONFIG).unwrap();
        assert!(c.sources.len() > 50);
        assert!(
            c.sources
                .iter()
                .any(|s| s.id.as_str() == "offering-iso-27001")
        );
        assert_eq!(
            c.fetch.max_page_bytes,
            FetchSettings::default().max_page_bytes
        );
        assert!(c.database.ends_with("scopewatch.db") && c.database.is_absolute());
    }

    #[test]
    fn starter_for_another_locale() {
        let c = load(&starter("fr-FR").unwrap()).unwrap();
        assert!(c.sources[0].url.contains("/fr-fr/"));
        assert!(c.sources[0].id.ends_with("-fr-fr"));
        assert_eq!(c.sources[0].locale.as_deref(), Some("fr-fr"));
        assert!(c.hub.contains("/fr-fr/"));
        assert_eq!(starter("en-US").unwrap(), DEFAULT_CONFIG);
    }

    #[test]
    fn locales_take_microsofts_forms() {
        for (given, want) in [
            ("de-de", "de-de"),
            ("pt-BR", "pt-br"),
            ("zh-cn", "zh-cn"),
            ("zh-tw", "zh-tw"),
            ("sr-Latn-RS", "sr-latn-rs"),
            ("es-419", "es-419"),
        ] {
            assert_eq!(locale(given).unwrap(), want);
        }
        for bad in [
            "german", "de", "de_de", "de-de-", "/de-de", "d-de", "de-deu1", "",
        ] {
            let err = locale(bad).unwrap_err().to_string();
            assert!(err.contains("such as de-de"), "{bad}: {err}");
        }
        assert_eq!(
            localized_id("offering-soc-2", "ja-JP"),
            "offering-soc-2-ja-jp"
        );
        assert_eq!(localized_id("offering-soc-2", "en-us"), "offering-soc-2");
        assert_eq!(
            localized_id("offering-soc-2-ja-jp", "ja-jp"),
            "offering-soc-2-ja-jp"
        );
    }

    #[test]
    fn the_contract_minimum() {
        let c = load("database = \"/tmp/x.db\"\n[[source]]\nid = \"a\"\nurl = \"http://127.0.0.1:1/a\"\n[[alert]]\nkind = \"webhook\"\nurl_env = \"HOOK\"\n").unwrap();
        assert_eq!(c.alerts[0].name(), "webhook");
    }

    #[test]
    fn mistakes_are_named() {
        let err = |t: &str| load(t).unwrap_err().to_string();
        assert!(
            err("[[source]]\nid = \"a\"\nurl = \"ftp://x/a\"\n").contains("only http and https")
        );
        assert!(err("schedule = \"every night\"\n").contains("not a cron expression"));
        assert!(err("[[alert]]\nkind = \"webhook\"\n").contains("one of url or url_env"));
        assert!(err("[[alert]]\nkind = \"pager\"\n").contains("unknown variant"));
        let creds = err("[[source]]\nid = \"a\"\nurl = \"https://me:pw@x/a\"\n");
        assert!(creds.contains("https://***@x/a carries credentials") && !creds.contains("me:pw"));
        assert!(
            err("[[alert]]\nkind = \"slack\"\nurl = \"file:///tmp/x\"\n")
                .contains("a file: address; only http and https")
        );
        assert!(
            err("[[alert]]\nkind = \"command\"\ncommand = [\"true\"]\ntimeout_secs = 0\n")
                .contains("timeout_secs between 1 and 3600")
        );
        assert!(err("[delivery]\nbudget_secs = 0\n").contains("budget_secs"));
        assert!(err("[[source]]\nid = \"a\"\nurl = \"http://x/a\"\n[[source]]\nid = \"a\"\nurl = \"http://x/b\"\n").contains("twice"));
    }

    #[test]
    fn every_count_and_time_is_bounded() {
        let err = |t: &str| load(t).unwrap_err().to_string();
        assert!(
            err("[fetch]\nretries = 1000000\n")
                .contains("fetch.retries = 1000000 is out of range: give a value from 0 to 10")
        );
        assert!(err("[fetch]\nper_host_concurrency = 0\n").contains("from 1 to 64"));
        assert!(err("[fetch]\nmax_redirects = 1000\n").contains("fetch.max_redirects"));
        assert!(err("[fetch]\ntimeout_secs = 0\n").contains("fetch.timeout_secs"));
        assert!(load("[fetch]\nretries = 10\nmax_redirects = 0\n").is_ok());
    }
}
