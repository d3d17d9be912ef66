//! Backfill from the docs' git history: every version of every page file
//! matching a glob, dated by its commit's author date.
//!
//! This drives the `git` command rather than linking a git library: the
//! history walk is one `git log` and every blob comes through one long-lived
//! `git cat-file --batch`, which is as fast as a library here, needs no
//! native dependency to build, and reads any repository the user's own git
//! can (including partial and shallow clones and bundles cloned locally).

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use chrono::{DateTime, Utc};

use super::{read_version, store_version};
use crate::store::{Imported, Store};
use crate::{Result, Step};
use scopewatch_core::profile::Extraction;

/// What a backfill did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GitImport {
    /// Page versions found in the history.
    pub versions: usize,
    pub stored: usize,
    /// Versions already stored, or identical to the version before them.
    pub unchanged: usize,
    /// Page files deleted in the history, recorded as retirements.
    pub retired: usize,
    /// Versions that could not be read, with the reason.
    pub failed: Vec<String>,
}

/// Options of a backfill.
#[derive(Debug, Clone, Default)]
pub struct GitOptions<'a> {
    /// The locale of the pages, where they do not say (sources in English
    /// carry none). A locale other than en-us is appended to source ids.
    pub locale: Option<&'a str>,
    /// The published address of the pages: source URL = base + source id.
    pub url_base: Option<&'a str>,
    /// How the pages state their scope; offering pages when `None`.
    pub extraction: Option<&'a Extraction>,
}

/// One touch of a page file in the history.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Touch {
    commit: String,
    date: DateTime<Utc>,
    deleted: bool,
    path: String,
}

/// Imports every version of the files matching `glob` (a git pathspec glob,
/// e.g. `compliance/regulatory/offering-*.md`). Re-running it adds nothing.
pub fn import_git(
    store: &mut Store,
    repo: &Path,
    glob: &str,
    options: &GitOptions<'_>,
    progress: &dyn Fn(Step),
) -> Result<GitImport> {
    let mut touches = history(repo, glob)?;
    touches.sort_by_key(|t| t.date);
    let mut blobs = Blobs::open(repo)?;
    let mut report = GitImport::default();
    let total = touches.len();
    for (done, touch) in touches.iter().enumerate() {
        progress(Step { done, total });
        let source = source_id(&touch.path, options.locale);
        let origin = format!("git:{}:{}", touch.commit, touch.path);
        if touch.deleted {
            // A deleted page was seen before: its source exists.
            if store.retire(&source, touch.date, &origin)? {
                report.retired += 1;
            }
            continue;
        }
        report.versions += 1;
        let Some(bytes) = blobs.get(&format!("{}:{}", touch.commit, touch.path))? else {
            report.failed.push(format!("{origin}: blob missing"));
            continue;
        };
        let dir = touch.path.rsplit_once('/').map_or("", |(d, _)| d);
        let blobs_cell = std::cell::RefCell::new(&mut blobs);
        let include = |target: &str| {
            let path = resolve(dir, target)?;
            blobs_cell
                .borrow_mut()
                .get(&format!("{}:{path}", touch.commit))
                .ok()
                .flatten()
        };
        let (mut snapshot, includes) =
            match read_version(&origin, &bytes, options.extraction, &include) {
                Ok(read) => read,
                Err(e) => {
                    report.failed.push(e.to_string());
                    continue;
                }
            };
        if snapshot.locale.is_none() {
            snapshot.locale = options.locale.map(str::to_lowercase);
        }
        let imported = store_version(
            store, &source, touch.date, &origin, &bytes, snapshot, &includes,
        )?;
        match imported.imported {
            Imported::Stored(_) => report.stored += 1,
            Imported::Unchanged(_) => report.unchanged += 1,
        }
        if let Some(base) = options.url_base {
            store.set_source_url(&source, &format!("{}/{source}", base.trim_end_matches('/')))?;
        }
    }
    progress(Step { done: total, total });
    Ok(report)
}

/// The source a page file is: its stem in lower case, with a locale other
/// than en-us appended.
fn source_id(path: &str, locale: Option<&str>) -> String {
    let file = path.rsplit('/').next().unwrap_or(path);
    let stem = file
        .rsplit_once('.')
        .map_or(file, |(s, _)| s)
        .to_lowercase();
    match locale {
        Some(l) => crate::config::localized_id(&stem, l),
        None => stem,
    }
}

/// Resolves an include target relative to the including file's folder;
/// `None` when it leaves the repository.
fn resolve(dir: &str, target: &str) -> Option<String> {
    let mut parts: Vec<&str> = if target.starts_with('/') {
        Vec::new()
    } else {
        dir.split('/').filter(|p| !p.is_empty()).collect()
    };
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

fn git(repo: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.arg("-C").arg(repo);
    cmd
}

/// Every addition, change and deletion of the matching files, oldest first.
fn history(repo: &Path, glob: &str) -> Result<Vec<Touch>> {
    let output = git(repo)
        .args([
            "log",
            "--reverse",
            "--no-renames",
            "--format=%x01%H%x09%aI",
            "--name-status",
            "--",
        ])
        .arg(format!(":(glob){glob}"))
        .output()
        .map_err(GitError::Spawn)?;
    if !output.status.success() {
        return Err(GitError::Failed {
            repo: repo.to_path_buf(),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        }
        .into());
    }
    parse_log(&String::from_utf8_lossy(&output.stdout))
}

fn parse_log(log: &str) -> Result<Vec<Touch>> {
    let mut touches = Vec::new();
    let mut current: Option<(String, DateTime<Utc>)> = None;
    for line in log.lines() {
        if let Some(header) = line.strip_prefix('\u{1}') {
            let (commit, date) = header
                .split_once('\t')
                .ok_or_else(|| GitError::Output(line.to_string()))?;
            let date = DateTime::parse_from_rfc3339(date)
                .map_err(|_| GitError::Output(line.to_string()))?
                .with_timezone(&Utc);
            current = Some((commit.to_string(), date));
        } else if let Some((status, path)) = line.split_once('\t')
            && let Some((commit, date)) = &current
        {
            touches.push(Touch {
                commit: commit.clone(),
                date: *date,
                deleted: status.starts_with('D'),
                path: path.to_string(),
            });
        }
    }
    Ok(touches)
}

/// What went wrong talking to git.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("cannot run git (is it installed and on PATH?): {0}")]
    Spawn(#[source] std::io::Error),
    #[error("{repo}: {stderr}")]
    Failed { repo: PathBuf, stderr: String },
    #[error("unexpected output from git: {0:?}")]
    Output(String),
    #[error("reading from git cat-file: {0}")]
    Pipe(#[source] std::io::Error),
}

/// A `git cat-file --batch` process answering one blob request at a time.
struct Blobs {
    child: Child,
    input: ChildStdin,
    output: BufReader<ChildStdout>,
}

impl Blobs {
    fn open(repo: &Path) -> Result<Self> {
        let mut child = git(repo)
            .args(["cat-file", "--batch"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(GitError::Spawn)?;
        let input = child
            .stdin
            .take()
            .ok_or_else(|| GitError::Pipe(std::io::ErrorKind::BrokenPipe.into()))?;
        let output = BufReader::new(
            child
                .stdout
                .take()
                .ok_or_else(|| GitError::Pipe(std::io::ErrorKind::BrokenPipe.into()))?,
        );
        Ok(Blobs {
            child,
            input,
            output,
        })
    }

    /// The blob at `commit:path`, or `None` when there is none.
    fn get(&mut self, spec: &str) -> Result<Option<Vec<u8>>> {
        let broken = GitError::Pipe;
        writeln!(self.input, "{spec}")
            .and_then(|()| self.input.flush())
            .map_err(broken)?;
        let mut header = String::new();
        self.output.read_line(&mut header).map_err(broken)?;
        let fields: Vec<&str> = header.trim_end().split(' ').collect();
        let [_, kind, size] = fields[..] else {
            // "<spec> missing" or "<spec> ambiguous".
            return Ok(None);
        };
        let size: usize = size.parse().map_err(|_| GitError::Output(header.clone()))?;
        let mut body = vec![0; size + 1];
        self.output.read_exact(&mut body).map_err(broken)?;
        body.pop();
        Ok((kind == "blob").then_some(body))
    }
}

impl Drop for Blobs {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_ids_and_include_paths() {
        assert_eq!(
            source_id("compliance/regulatory/offering-ISO-27001.md", None),
            "offering-iso-27001"
        );
        assert_eq!(
            source_id("a/offering-SOC-2.md", Some("ja-JP")),
            "offering-soc-2-ja-jp"
        );
        assert_eq!(
            source_id("a/offering-SOC-2.md", Some("en-us")),
            "offering-soc-2"
        );
        assert_eq!(
            resolve("compliance/regulatory", "../includes/o365.md").as_deref(),
            Some("compliance/includes/o365.md")
        );
        assert_eq!(resolve("a", "../../x.md"), None);
    }

    #[test]
    fn log_lines() {
        let log = "\u{1}abc\t2021-08-26T12:31:09-07:00\n\nM\tcompliance/regulatory/offering-ISO-27001.md\nD\tcompliance/regulatory/offering-SOC.md\n";
        let t = parse_log(log).unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].date.to_rfc3339(), "2021-08-26T19:31:09+00:00");
        assert!(!t[0].deleted && t[1].deleted);
    }
}
