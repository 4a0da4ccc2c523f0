//! Snapshot + tail equals the full fold: seeded random histories of every aggregate type,
//! cut at every point, the prefix's state stored as JSON text and read back, the rest applied
//! on top. The histories are drawn from sample events in any order, so they also reach the
//! states a tampered log leads to (an account marked inconsistent).

use std::fmt::Debug;

use cqrs_es::Aggregate;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

use super::Snapshotted;
use crate::account::Account;
use crate::asset::Asset;
use crate::claim::UniqueClaim;
use crate::gradido::{CreationBudget, DuplicateGuard, GradidoTransaction, Group};
use crate::joyplus::{ApiKey, JoyWallet};
use crate::lightning::{AddressBook, Channel, Invoice};
use crate::user::User;

/// Histories per aggregate type, and the most events one holds.
const HISTORIES: u64 = 40;
const MAX_HISTORY_EVENTS: usize = 60;

fn fold<A: Aggregate>(mut state: A, events: &[A::Event]) -> A {
    for event in events {
        state.apply(event.clone());
    }
    state
}

/// The state as a snapshot stores it and as a load reads it back.
fn through_snapshot<A: Snapshotted>(state: &A) -> A {
    let text = serde_json::to_string(state).expect("every state serializes");
    serde_json::from_str(&text).expect("a stored state reads back")
}

fn snapshot_and_tail_equal_the_full_fold<A: Snapshotted + Debug>(samples: &[Value]) {
    let samples: Vec<A::Event> = samples
        .iter()
        .map(|sample| serde_json::from_value(sample.clone()).unwrap_or_else(|error| panic!("{sample}: {error}")))
        .collect();
    for seed in 0..HISTORIES {
        let mut random = StdRng::seed_from_u64(seed);
        let length = random.gen_range(0..=MAX_HISTORY_EVENTS);
        let history: Vec<A::Event> = (0..length).map(|_| samples[random.gen_range(0..samples.len())].clone()).collect();
        let full = fold(A::default(), &history);
        assert_eq!(through_snapshot(&full), full, "{} seed {seed}: the state survives its snapshot", A::TYPE);
        for cut in 0..=history.len() {
            let snapshot = through_snapshot(&fold(A::default(), &history[..cut]));
            let restored = fold(snapshot, &history[cut..]);
            assert_eq!(restored, full, "{} seed {seed}, snapshot after {cut} of {length} events", A::TYPE);
        }
    }
}

#[test]
fn an_account_snapshot_and_its_tail_equal_the_full_fold() {
    snapshot_and_tail_equal_the_full_fold::<Account>(&[
        json!({"AccountOpened": {"account_id": "alice-btc", "asset": "BTC", "scale": 8, "owner": "alice", "purpose": null}}),
        json!({"FundsDeposited": {"amount": "10.5", "source": "world", "reference": "dep-1"}}),
        json!({"FundsDeposited": {"amount": "0.00000001", "source": "issuance", "reference": null}}),
        json!({"FundsWithdrawn": {"amount": "3", "destination": "world", "reference": null}}),
        json!({"TransferSent": {"transfer_id": "t1", "to": "bob-btc", "to_is_system": false, "amount": "2.25", "memo": "rent"}}),
        json!({"TransferReceived": {"transfer_id": "t2", "from": "bob-btc", "amount": "1", "memo": null}}),
        json!({"TransferRefused": {"transfer_id": "t3", "from": "bob-btc", "amount": "1", "reason": "closed"}}),
        json!({"TransferReturned": {"transfer_id": "t1", "refused_by": "bob-btc", "amount": "2.25"}}),
        json!({"FundsHeld": {"hold_id": "h1", "amount": "4", "expires_at": "2026-12-02T10:00:00.123456789Z", "memo": null}}),
        json!({"FundsHeld": {"hold_id": "h2", "amount": "1", "expires_at": null, "memo": "pending"}}),
        json!({"HoldReleased": {"hold_id": "h1", "amount": "4", "expired": true}}),
        json!({"HoldCaptured": {"hold_id": "h2", "transfer_id": "t4", "to": "fees", "to_is_system": true, "amount": "1", "memo": null}}),
        json!({"ChainDepositCredited": {"amount": "0.5", "txid": "ab", "from_address": "a", "to_address": "b"}}),
        json!({"ChainWithdrawalDebited": {"amount": "0.25", "txid": "cd", "from_address": "b", "to_address": "a"}}),
    ]);
}

#[test]
fn the_other_aggregates_snapshots_and_their_tails_equal_the_full_fold() {
    let address = "0x52908400098527886e0f7030069857d2e4169ee7";
    snapshot_and_tail_equal_the_full_fold::<Asset>(&[
        json!({"AssetDefined": {"code": "BTC", "scale": 8}}),
        json!({"AssetListed": {"code": "BTC", "scale": 8, "listing": {"name": "Bitcoin", "contract_address": address, "usd_price": "97000.5", "icon_url": "https://x/i.png"}}}),
    ]);
    snapshot_and_tail_equal_the_full_fold::<User>(&[
        json!({"UserRegistered": {"user_id": "u1", "email": "a@b.c", "username": "a", "first_name": "A", "last_name": null, "password_hash": "$argon2id$x", "role": null}}),
        json!({"UserDisabledChanged": {"disabled": true}}),
        json!({"UserDisabledChanged": {"disabled": false}}),
        json!("UserEmailVerified"),
        json!({"UserDenominationChanged": {"denomination": "sat"}}),
        json!({"UserProfileUpdated": {"changes": {"first_name": "B", "last_name": null, "username": null, "description": "d", "language": "de"}}}),
        json!({"UserPasswordChanged": {"password_hash": "$argon2id$y"}}),
        json!({"UserKeyAssigned": {"public_hex": "00ff"}}),
        json!({"UserJoinedGroup": {"group_alias": "g"}}),
        json!({"UserMobileChanged": {"mobile": "+491"}}),
    ]);
    snapshot_and_tail_equal_the_full_fold::<UniqueClaim>(&[
        json!({"ClaimTaken": {"owner": "u1"}}),
        json!({"ClaimTaken": {"owner": "u2"}}),
        json!({"ClaimReleased": {"owner": "u1"}}),
    ]);
    snapshot_and_tail_equal_the_full_fold::<GradidoTransaction>(&[
        json!({"GradidoTransactionCreated": {"kind": "transfer", "initiator": "u1", "from_account": "u1-gdd", "recipient": "u2", "to_account": "u2-gdd", "amount": "10", "target_date": "2026-11-01", "memo": "m"}}),
        json!({"GradidoTransactionSigned": {"user": "u1", "at": "2026-12-02T10:00:00Z"}}),
        json!({"GradidoTransactionCancelled": {"user": "u1"}}),
        json!("GradidoTransactionConfirmed"),
        json!({"GradidoTransactionRejected": {"reason": "r"}}),
    ]);
    snapshot_and_tail_equal_the_full_fold::<CreationBudget>(&[
        json!({"CreationReserved": {"transaction_id": "x1", "amount": "100"}}),
        json!({"CreationReserved": {"transaction_id": "x2", "amount": "0.5"}}),
        json!({"CreationReleased": {"transaction_id": "x1"}}),
    ]);
    snapshot_and_tail_equal_the_full_fold::<DuplicateGuard>(&[
        json!({"TransactionFingerprinted": {"fingerprint": "f1", "at": "2026-12-02T10:00:00Z"}}),
        json!({"TransactionFingerprinted": {"fingerprint": "f2", "at": "2026-12-02T10:03:00.5Z"}}),
    ]);
    snapshot_and_tail_equal_the_full_fold::<Group>(&[
        json!({"GroupCreated": {"alias": "g", "name": "G", "description": null}}),
    ]);
    snapshot_and_tail_equal_the_full_fold::<Invoice>(&[
        json!({"InvoiceCreated": {"payee": "u1", "amount_msat": 1000, "description": "d", "payment_request": "lnbc1", "expires_at": "2026-12-02T11:00:00Z"}}),
        json!({"InvoicePaid": {"payer": "u2", "amount_msat": 1000}}),
    ]);
    snapshot_and_tail_equal_the_full_fold::<AddressBook>(&[
        json!({"ContactSaved": {"alias": "bob", "contact": {"payee_user": "u2", "node_id": "02ab"}}}),
        json!({"ContactSaved": {"alias": "bob", "contact": {"payee_user": null, "node_id": "03cd", "server": "s"}}}),
        json!({"ContactSaved": {"alias": "carol", "contact": {"payee_user": null, "node_id": "02ef", "channel_server": "c"}}}),
    ]);
    snapshot_and_tail_equal_the_full_fold::<Channel>(&[
        json!({"ChannelOpened": {"owner": "u1", "remote_node": "02ab", "capacity_sat": 100000, "height": 10}}),
        json!({"ChannelActivated": {"height": 13}}),
        json!({"ChannelClosing": {"height": 20}}),
        json!({"ChannelClosed": {"height": 26, "returned_sat": 99000}}),
    ]);
    snapshot_and_tail_equal_the_full_fold::<JoyWallet>(&[
        json!({"JoyWalletCreated": {"profile": {"open_id": "o", "email": "a@b.c", "first_name": null, "last_name": null, "mobile": null}, "address": address}}),
    ]);
    snapshot_and_tail_equal_the_full_fold::<ApiKey>(&[
        json!({"ApiKeyIssued": {"email": "a@b.c", "key_sha256": "ab"}}),
        json!({"ApiKeyScopeAdded": {"scope": "deposit"}}),
        json!({"ApiKeyScopeAdded": {"scope": "withdraw"}}),
        json!({"ApiKeyScopeRemoved": {"scope": "deposit"}}),
    ]);
}
