//! Copying the write-ahead log into the database on a thread of its own.
//!
//! SQLite copies committed pages from the log into the database file (a
//! checkpoint) on the connection that writes: when the log passes a size,
//! and when the last connection closes. Either way the writer stops. In the
//! nightly job the close was the costly one: a 1,000-page first run spent
//! 16 of its 230 ms closing, copying a 7 MB log and syncing both files while
//! every other thread had finished. A second connection checkpoints after
//! each batch but the last instead, while the fetch workers are still busy,
//! so the close has only the last batch left to copy.

use std::path::Path;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;

use rusqlite::Connection;

/// Whether a store checkpoints in the background.
pub(super) enum Checkpoints {
    Off,
    /// Wanted, but no thread until a batch commits before the last: a run
    /// that commits once, at its end, has nothing to overlap.
    Wanted,
    Running(Checkpointer),
}

impl Checkpoints {
    /// Asks for a checkpoint of everything committed so far, starting the
    /// thread if it is wanted and not running yet.
    pub(super) fn nudge(&mut self, path: &Path) {
        if let Checkpoints::Wanted = self {
            *self = Checkpointer::start(path).map_or(Checkpoints::Off, Checkpoints::Running);
        }
        if let Checkpoints::Running(checkpointer) = self {
            checkpointer.nudge();
        }
    }

    /// Waits for a checkpoint in progress and stops the thread.
    pub(super) fn stop(&mut self) {
        *self = Checkpoints::Off;
    }
}

/// A thread with its own connection that checkpoints when nudged.
///
/// Dropping it waits for a checkpoint in progress and closes its
/// connection. Whichever of the two connections closes last copies what is
/// left and removes the log, as SQLite does for the last connection.
pub(super) struct Checkpointer {
    nudge: Option<SyncSender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Opens the second connection and starts its thread. Without them the
    /// job still works, its close copying the whole log as before: a
    /// failure here is logged, not returned.
    fn start(path: &Path) -> Option<Self> {
        let conn = Connection::open(path)
            .inspect_err(|e| tracing::warn!(error = %e, "no background checkpoints"))
            .ok()?;
        // One pending nudge stands for any number: a checkpoint copies
        // everything committed before it starts.
        let (nudge, nudges) = sync_channel(1);
        let thread = std::thread::Builder::new()
            .name("checkpoint".into())
            .spawn(move || checkpoint_when_nudged(&conn, &nudges))
            .inspect_err(|e| tracing::warn!(error = %e, "no background checkpoints"))
            .ok()?;
        Some(Checkpointer {
            nudge: Some(nudge),
            thread: Some(thread),
        })
    }

    /// Asks for a checkpoint of everything committed so far.
    fn nudge(&self) {
        if let Some(nudge) = &self.nudge
            && let Err(TrySendError::Disconnected(())) = nudge.try_send(())
        {
            tracing::warn!("the checkpoint thread has stopped; the log is copied at close");
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.nudge.take();
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::warn!("the checkpoint thread panicked; the log is copied at close");
        }
    }
}

/// Runs a passive checkpoint per nudge until the sender is dropped. Passive:
/// it never waits for, nor blocks, the writer; what it cannot copy yet, the
/// next one or the close copies. A failure loses nothing, since the
/// committed pages stay in the log.
fn checkpoint_when_nudged(conn: &Connection, nudges: &Receiver<()>) {
    while nudges.recv().is_ok() {
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(error = %e, "background checkpoint failed");
        }
    }
}
