//! Operations: the identity an appended event carries in its `operation_id` metadata. The
//! event store accepts each id only once (a unique index, migration 0001), which makes every
//! operation exactly-once; `ids` holds every id format the ledger derives, in one place,
//! because a stored id must keep its exact spelling forever.

use std::collections::HashMap;

/// The identity of one operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    pub id: String,
    /// Hash of the client request that started it, to tell a retry from a reused key.
    pub request_hash: Option<String>,
    origin: Origin,
}

/// Where an operation's id comes from; it decides whether an earlier append can exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A random id no client will ever retry: no earlier append can exist.
    Fresh,
    /// Named by a client (an `Idempotency-Key` or a natural key such as a txid).
    Keyed,
    /// Named by the ledger itself from the facts it follows (one of `ids`).
    Derived,
}

impl Operation {
    pub fn fresh() -> Self {
        Self { id: uuid::Uuid::new_v4().to_string(), request_hash: None, origin: Origin::Fresh }
    }

    pub fn keyed(id: String, request_hash: String) -> Self {
        Self { id, request_hash: Some(request_hash), origin: Origin::Keyed }
    }

    pub fn derived(id: String) -> Self {
        Self { id, request_hash: None, origin: Origin::Derived }
    }

    pub fn origin(&self) -> Origin {
        self.origin
    }

    /// Whether an earlier append of this operation may exist (then it must be looked up
    /// before deciding again).
    pub fn may_have_run(&self) -> bool {
        self.origin != Origin::Fresh
    }

    pub fn metadata(&self) -> HashMap<String, String> {
        let mut metadata = HashMap::from([("operation_id".to_string(), self.id.clone())]);
        if let Some(hash) = &self.request_hash {
            metadata.insert("request_hash".to_string(), hash.clone());
        }
        metadata
    }
}

/// Every operation id the ledger derives. Changing a spelling here would make a retry of an
/// old operation run again: never change one, only add.
pub mod ids {
    const CLIENT_KEY_NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x6c65_6467_6572_2d6f_7065_7261_7469_6f6e);

    /// The operation a client names with a key (an `Idempotency-Key`) within `scope`, a
    /// dialect and route such as `native/transfers`.
    pub fn client_keyed(scope: &str, key: &str) -> String {
        uuid::Uuid::new_v5(&CLIENT_KEY_NAMESPACE, format!("{scope}/{key}").as_bytes()).to_string()
    }
    /// The credit half of a transfer.
    pub fn receive(transfer_id: &str) -> String {
        format!("receive:{transfer_id}")
    }
    /// Giving a refused transfer back to its sender.
    pub fn give_back(transfer_id: &str) -> String {
        format!("return:{transfer_id}")
    }
    pub fn open_account(account_id: &str) -> String {
        format!("open:{account_id}")
    }
    pub fn release_hold(account_id: &str, hold_id: &str) -> String {
        format!("release:{account_id}:{hold_id}")
    }
    pub fn capture_hold(account_id: &str, hold_id: &str) -> String {
        format!("capture:{account_id}:{hold_id}")
    }
    pub fn expire_hold(account_id: &str, hold_id: &str) -> String {
        format!("expire:{account_id}:{hold_id}")
    }
    pub fn register_user(user_id: &str) -> String {
        format!("register:{user_id}")
    }
    pub fn assign_user_key(user_id: &str) -> String {
        format!("key:{user_id}")
    }
    pub fn verify_email(user_id: &str) -> String {
        format!("verify-email:{user_id}")
    }
    pub fn gradido_hold(transaction_id: &str) -> String {
        format!("gradido-hold:{transaction_id}")
    }
    pub fn gradido_budget(transaction_id: &str) -> String {
        format!("gradido-budget:{transaction_id}")
    }
    pub fn gradido_create(transaction_id: &str) -> String {
        format!("gradido-create:{transaction_id}")
    }
    pub fn gradido_sign(transaction_id: &str) -> String {
        format!("gradido-sign:{transaction_id}")
    }
    pub fn gradido_cancel(transaction_id: &str) -> String {
        format!("gradido-cancel:{transaction_id}")
    }
    pub fn gradido_verdict(transaction_id: &str) -> String {
        format!("gradido-verdict:{transaction_id}")
    }
    pub fn gradido_settle(transaction_id: &str) -> String {
        format!("gradido-settle:{transaction_id}")
    }
    pub fn gradido_release(transaction_id: &str) -> String {
        format!("gradido-release:{transaction_id}")
    }
    pub fn gradido_unbudget(transaction_id: &str) -> String {
        format!("gradido-unbudget:{transaction_id}")
    }
    /// Paying an invoice of this node: one operation per payment hash, whoever pays.
    pub fn invoice_payment(payment_hash_hex: &str) -> String {
        const PAYMENT_NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x6c65_6467_6572_2d6c_6e2d_7061_796d_656e);
        uuid::Uuid::new_v5(&PAYMENT_NAMESPACE, payment_hash_hex.as_bytes()).to_string()
    }
    pub fn invoice(payment_hash_hex: &str) -> String {
        format!("invoice:{payment_hash_hex}")
    }
    pub fn invoice_paid(payment_hash_hex: &str) -> String {
        format!("invoice-paid:{payment_hash_hex}")
    }
    pub fn external_hold(payment_hash_hex: &str) -> String {
        format!("external-hold:{payment_hash_hex}")
    }
    /// The transfer id of an external payment's capture.
    pub fn external_transfer(payment_hash_hex: &str) -> String {
        format!("external:{payment_hash_hex}")
    }
    pub fn external_settle(payment_hash_hex: &str) -> String {
        format!("external-settle:{payment_hash_hex}")
    }
    pub fn external_release(payment_hash_hex: &str) -> String {
        format!("external-release:{payment_hash_hex}")
    }
    pub fn channel_hold(channelpoint: &str) -> String {
        format!("channel-hold:{channelpoint}")
    }
    pub fn channel_open(channelpoint: &str) -> String {
        format!("channel-open:{channelpoint}")
    }
    pub fn channel_close(channelpoint: &str) -> String {
        format!("channel-close:{channelpoint}")
    }
    /// Both the operation and the transfer id of moving a channel's funding to Lightning.
    pub fn channel_fund(channelpoint: &str) -> String {
        format!("channel-fund:{channelpoint}")
    }
    pub fn channel_active(channelpoint: &str) -> String {
        format!("channel-active:{channelpoint}")
    }
    pub fn channel_closed(channelpoint: &str) -> String {
        format!("channel-closed:{channelpoint}")
    }
    pub fn channel_return(channelpoint: &str) -> String {
        format!("channel-return:{channelpoint}")
    }
    pub fn joy_mobile(user_id: &str, mobile: &str) -> String {
        format!("mobile:{user_id}:{mobile}")
    }
    pub fn joy_wallet(user_id: &str) -> String {
        format!("joy-wallet:{user_id}")
    }
    pub fn joy_deposit(txid: &str) -> String {
        format!("joyplus/deposit/{txid}")
    }
}
