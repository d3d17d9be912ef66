//! The alert outbox: alerts queued with the change that calls for them,
//! then delivered, retried until sent.

use chrono::Utc;
use rusqlite::{Connection, params};

use super::Store;
use crate::Result;
use crate::config::refuse_credentials;

/// An alert waiting for delivery on a channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PendingAlert {
    pub id: i64,
    pub channel: String,
    pub source: String,
    /// The event's id: a receiver drops a second delivery with the same.
    pub event_key: String,
    pub subject: String,
    pub body: String,
    pub payload: String,
    pub attempts: i64,
}

/// An alert to put in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NewAlert {
    pub channel: String,
    pub source: String,
    /// Identifies the event: the same event is never queued twice per channel.
    pub event_key: String,
    pub subject: String,
    pub body: String,
    pub payload: String,
}

impl Store {
    /// Queues alerts, all or none; an event already queued for a channel
    /// (sent or not) is not queued again.
    pub(crate) fn enqueue_alerts(&mut self, alerts: &[NewAlert]) -> Result<()> {
        let tx = self.conn.savepoint()?;
        for alert in alerts {
            insert_alert(&tx, alert)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Alerts not yet delivered, oldest first.
    pub(crate) fn pending_alerts(&self) -> Result<Vec<PendingAlert>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, channel, source_id, subject, body, payload, attempts, event_key FROM alert
             WHERE sent_at IS NULL ORDER BY id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(PendingAlert {
                id: r.get(0)?,
                channel: r.get(1)?,
                source: r.get(2)?,
                subject: r.get(3)?,
                body: r.get(4)?,
                payload: r.get(5)?,
                attempts: r.get(6)?,
                event_key: r.get(7)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Records a delivery attempt: sent, or failed with a reason.
    pub(crate) fn alert_delivered(
        &self,
        id: i64,
        outcome: std::result::Result<(), &str>,
    ) -> Result<()> {
        match outcome {
            Ok(()) => self.conn.execute(
                "UPDATE alert SET sent_at = ?2, attempts = attempts + 1, last_error = NULL WHERE id = ?1",
                params![id, Utc::now().to_rfc3339()],
            )?,
            Err(e) => self.conn.execute(
                "UPDATE alert SET attempts = attempts + 1, last_error = ?2 WHERE id = ?1",
                params![id, e],
            )?,
        };
        Ok(())
    }
}

/// Refuses an alert whose payload names a page's address with credentials
/// in it: chat, webhooks and commands would all show it.
pub(super) fn refuse_alert_credentials(payload: &str) -> Result<()> {
    if let Ok(payload) = serde_json::from_str::<serde_json::Value>(payload)
        && let Some(url) = payload.get("url").and_then(|u| u.as_str())
    {
        refuse_credentials(url)?;
    }
    Ok(())
}

pub(super) fn insert_alert(tx: &Connection, a: &NewAlert) -> Result<()> {
    refuse_alert_credentials(&a.payload)?;
    tx.prepare_cached(
        "INSERT OR IGNORE INTO alert (channel, source_id, event_key, subject, body, payload, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![a.channel, a.source, a.event_key, a.subject, a.body, a.payload, Utc::now().to_rfc3339()],
    )?;
    Ok(())
}
