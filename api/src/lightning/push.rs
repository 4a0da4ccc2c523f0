//! Live updates for the web client's WebSocket, read from the event log: one reader per
//! server, running only while a socket is open, turns the events of each user's accounts,
//! invoices and channels into the original server's messages (`refresh`, `newtransactions`,
//! `newchannels`). A socket opened later starts from the log's head; the client loads its
//! data when it connects, so nothing it shows is lost.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use app::Ledger;
use domain::lightning::{Channel, ChannelEvent, Invoice, InvoiceEvent};
use projections::StoredEvent;
use serde_json::{json, Value};
use store::log::{head, read_after};
use tokio::sync::broadcast;
use tracing::warn;

use super::denomination;
use super::payments::MSAT_PER_SAT;
use super::wallet::number;
use app::accounts::lightning::{btc_of_sat, owner_of};
use app::AppError;

/// How often the reader looks for new events while sockets are open.
const POLL_MS: u64 = 500;
/// Events read per round trip.
const BATCH_EVENTS: i64 = 500;
/// Messages a slow socket may fall behind by before it is told to refresh instead.
const MAX_QUEUED_NOTICES: usize = 1_024;

/// A message for one user's sockets.
#[derive(Debug, Clone)]
pub struct Notice {
    pub user_id: String,
    pub message: Value,
}

pub struct WalletPush {
    ledger: Ledger,
    sender: broadcast::Sender<Arc<Notice>>,
    reading: AtomicBool,
}

impl WalletPush {
    pub fn new(ledger: Ledger) -> Arc<Self> {
        let (sender, _) = broadcast::channel(MAX_QUEUED_NOTICES);
        Arc::new(Self { ledger, sender, reading: AtomicBool::new(false) })
    }

    /// Notices from now on; starts the reader if none runs.
    pub fn subscribe(self: &Arc<Self>) -> broadcast::Receiver<Arc<Notice>> {
        let receiver = self.sender.subscribe();
        if !self.reading.swap(true, Ordering::SeqCst) {
            tokio::spawn(self.clone().read_log());
        }
        receiver
    }

    async fn read_log(self: Arc<Self>) {
        let mut checkpoint = loop {
            match self.head().await {
                Ok(checkpoint) => break checkpoint,
                Err(error) => {
                    warn!(%error, "wallet updates cannot find the log's head; retrying");
                    tokio::time::sleep(Duration::from_millis(POLL_MS)).await;
                }
            }
        };
        loop {
            if self.sender.receiver_count() == 0 {
                self.reading.store(false, Ordering::SeqCst);
                // A socket that came in meanwhile saw the reader running: keep it.
                if self.sender.receiver_count() == 0 || self.reading.swap(true, Ordering::SeqCst) {
                    return;
                }
            }
            match self.next_batch(checkpoint).await {
                Ok(batch) if !batch.is_empty() => {
                    checkpoint = batch.last().map_or(checkpoint, StoredEvent::checkpoint);
                    for notice in self.notices(&batch).await {
                        let _ = self.sender.send(Arc::new(notice));
                    }
                }
                Ok(_) => tokio::time::sleep(Duration::from_millis(POLL_MS)).await,
                Err(error) => {
                    warn!(%error, "wallet updates could not read the log; retrying");
                    tokio::time::sleep(Duration::from_millis(POLL_MS)).await;
                }
            }
        }
    }

    async fn head(&self) -> Result<projections::Checkpoint, AppError> {
        let client = self.ledger.reads.get().await?;
        Ok(head(&client).await?)
    }

    async fn next_batch(&self, after: projections::Checkpoint) -> Result<Vec<StoredEvent>, AppError> {
        let client = self.ledger.reads.get().await?;
        Ok(read_after(&client, after, None, BATCH_EVENTS).await?)
    }

    /// A batch's messages: the received payments and opened channels, then one `refresh`
    /// per user whose wallet changed.
    async fn notices(&self, batch: &[StoredEvent]) -> Vec<Notice> {
        let mut notices = Vec::new();
        let mut changed = BTreeSet::new();
        for event in batch {
            match event.aggregate_type.as_str() {
                "account" => changed.extend(owner_of(&event.aggregate_id).map(str::to_string)),
                "invoice" => {
                    if let Ok(InvoiceEvent::InvoicePaid { amount_msat, .. }) = event.decode::<InvoiceEvent>() {
                        match self.payment_received(&event.aggregate_id, amount_msat).await {
                            Ok(Some(notice)) => notices.push(notice),
                            Ok(None) => {}
                            Err(error) => warn!(%error, "wallet update for a paid invoice skipped"),
                        }
                    }
                }
                "channel" => match self.channel_changed(event).await {
                    Ok((owner, notice)) => {
                        changed.insert(owner);
                        notices.extend(notice);
                    }
                    Err(error) => warn!(%error, "wallet update for a channel skipped"),
                },
                _ => {}
            }
        }
        notices.extend(
            changed.into_iter().map(|user_id| Notice { user_id, message: json!({"method": "refresh", "params": []}) }),
        );
        notices
    }

    async fn payment_received(&self, hash: &str, amount_msat: u64) -> Result<Option<Notice>, AppError> {
        let invoice = self.ledger.bus.load::<Invoice>(hash).await?;
        let Some(created) = invoice.created() else { return Ok(None) };
        let unit = denomination::of_user_in(&self.ledger.reads, &created.payee).await?;
        let value = number(btc_of_sat(amount_msat / MSAT_PER_SAT), &unit)?;
        let params = json!([{
            "type": "Invoice",
            "memo": created.description,
            "value": value,
            "payment_request": created.payment_request,
        }]);
        Ok(Some(Notice {
            user_id: created.payee.clone(),
            message: json!({"method": "newtransactions", "params": params}),
        }))
    }

    async fn channel_changed(&self, event: &StoredEvent) -> Result<(String, Option<Notice>), AppError> {
        let channel = self.ledger.bus.load::<Channel>(&event.aggregate_id).await?;
        let opened = channel.opened().ok_or(AppError::NotFound("channel"))?.clone();
        let activated = matches!(event.decode::<ChannelEvent>(), Ok(ChannelEvent::ChannelActivated { .. }));
        if !activated {
            return Ok((opened.owner, None));
        }
        let unit = denomination::of_user_in(&self.ledger.reads, &opened.owner).await?;
        let capacity = number(btc_of_sat(opened.capacity_sat), &unit)?;
        let params = json!([{
            "channelid": event.aggregate_id.chars().take(super::wallet::SHORT_CHANNEL_ID_LEN).collect::<String>(),
            "channelpoint": event.aggregate_id,
            "capacity": capacity,
            "remotenode": opened.remote_node,
        }]);
        let notice =
            Notice { user_id: opened.owner.clone(), message: json!({"method": "newchannels", "params": params}) };
        Ok((opened.owner, Some(notice)))
    }
}
