use chrono::{Duration, TimeZone, Utc};
use cqrs_es::test::TestFramework;
use rust_decimal::Decimal;

use super::*;

fn btc() -> AssetCode {
    AssetCode::parse("BTC").unwrap()
}

fn sat_scale() -> Scale {
    Scale::new(8).unwrap()
}

fn amount(text: &str) -> Amount {
    Amount::parse_positive(text, sat_scale()).unwrap()
}

fn dec(text: &str) -> Decimal {
    text.parse().unwrap()
}

fn opened() -> AccountEvent {
    AccountEvent::AccountOpened {
        account_id: "alice".into(),
        asset: btc(),
        scale: sat_scale(),
        owner: None,
        purpose: None,
    }
}

fn deposited(text: &str) -> AccountEvent {
    AccountEvent::FundsDeposited { amount: amount(text), source: SystemAccountKind::World, reference: None }
}

fn to_bob() -> TransferDestination {
    TransferDestination { account_id: "bob".into(), asset: btc(), is_system: false }
}

fn at(seconds: i64) -> chrono::DateTime<Utc> {
    Utc.timestamp_opt(1_800_000_000 + seconds, 0).unwrap()
}

fn account() -> TestFramework<Account> {
    TestFramework::with(())
}

#[tokio::test]
async fn opening_an_account_records_its_asset_and_scale() {
    account()
        .given_no_previous_events()
        .when_async(AccountCommand::Open {
            account_id: "alice".into(),
            asset: btc(),
            scale: sat_scale(),
            owner: None,
            purpose: None,
        })
        .await
        .then_expect_events(vec![opened()]);
}

#[tokio::test]
async fn opening_an_account_twice_is_refused() {
    account()
        .given(vec![opened()])
        .when_async(AccountCommand::Open {
            account_id: "alice".into(),
            asset: btc(),
            scale: sat_scale(),
            owner: None,
            purpose: None,
        })
        .await
        .then_expect_error(DomainError::AccountAlreadyOpened);
}

#[tokio::test]
async fn money_cannot_reach_an_account_that_was_never_opened() {
    account()
        .given_no_previous_events()
        .when_async(AccountCommand::Deposit { amount: dec("1"), source: SystemAccountKind::World, reference: None })
        .await
        .then_expect_error(DomainError::AccountNotOpened);
}

#[tokio::test]
async fn a_deposit_is_recorded_at_the_asset_scale() {
    account()
        .given(vec![opened()])
        .when_async(AccountCommand::Deposit {
            amount: dec("1.5"),
            source: SystemAccountKind::World,
            reference: Some("tx1".into()),
        })
        .await
        .then_expect_events(vec![AccountEvent::FundsDeposited {
            amount: amount("1.50000000"),
            source: SystemAccountKind::World,
            reference: Some("tx1".into()),
        }]);
}

#[tokio::test]
async fn a_deposit_with_too_many_decimals_is_refused() {
    account()
        .given(vec![opened()])
        .when_async(AccountCommand::Deposit {
            amount: dec("0.000000001"),
            source: SystemAccountKind::World,
            reference: None,
        })
        .await
        .then_expect_error(DomainError::AmountTooPrecise { max_decimals: 8 });
}

#[tokio::test]
async fn a_withdrawal_beyond_the_available_balance_is_refused() {
    account()
        .given(vec![opened(), deposited("1")])
        .when_async(AccountCommand::Withdraw {
            amount: dec("1.00000001"),
            destination: SystemAccountKind::World,
            reference: None,
        })
        .await
        .then_expect_error(DomainError::InsufficientFunds {
            available: dec("1.00000000"),
            requested: dec("1.00000001"),
        });
}

#[tokio::test]
async fn a_transfer_debits_the_sender() {
    account()
        .given(vec![opened(), deposited("2")])
        .when_async(AccountCommand::SendTransfer {
            transfer_id: "t1".into(),
            to: to_bob(),
            amount: dec("2"),
            memo: None,
        })
        .await
        .then_expect_events(vec![AccountEvent::TransferSent {
            transfer_id: "t1".into(),
            to: "bob".into(),
            to_is_system: false,
            amount: amount("2"),
            memo: None,
        }]);
}

#[tokio::test]
async fn a_transfer_between_different_assets_is_refused() {
    let to_gdd =
        TransferDestination { account_id: "bob".into(), asset: AssetCode::parse("GDD").unwrap(), is_system: false };
    account()
        .given(vec![opened(), deposited("2")])
        .when_async(AccountCommand::SendTransfer { transfer_id: "t1".into(), to: to_gdd, amount: dec("1"), memo: None })
        .await
        .then_expect_error(DomainError::AssetMismatch { from: "BTC".into(), to: "GDD".into() });
}

#[tokio::test]
async fn a_transfer_to_oneself_is_refused() {
    let to_self = TransferDestination { account_id: "alice".into(), asset: btc(), is_system: false };
    account()
        .given(vec![opened(), deposited("2")])
        .when_async(AccountCommand::SendTransfer {
            transfer_id: "t1".into(),
            to: to_self,
            amount: dec("1"),
            memo: None,
        })
        .await
        .then_expect_error(DomainError::TransferToSelf);
}

#[tokio::test]
async fn held_funds_are_not_available_for_a_transfer() {
    let held = AccountEvent::FundsHeld { hold_id: "h1".into(), amount: amount("1.5"), expires_at: None, memo: None };
    account()
        .given(vec![opened(), deposited("2"), held])
        .when_async(AccountCommand::SendTransfer {
            transfer_id: "t1".into(),
            to: to_bob(),
            amount: dec("1"),
            memo: None,
        })
        .await
        .then_expect_error(DomainError::InsufficientFunds {
            available: dec("0.50000000"),
            requested: dec("1.00000000"),
        });
}

#[tokio::test]
async fn a_hold_can_only_expire_once_its_time_has_come() {
    let held =
        AccountEvent::FundsHeld { hold_id: "h1".into(), amount: amount("1"), expires_at: Some(at(60)), memo: None };
    account()
        .given(vec![opened(), deposited("2"), held.clone()])
        .when_async(AccountCommand::ExpireHold { hold_id: "h1".into(), now: at(59) })
        .await
        .then_expect_error(DomainError::HoldNotExpired("h1".into()));
    account()
        .given(vec![opened(), deposited("2"), held])
        .when_async(AccountCommand::ExpireHold { hold_id: "h1".into(), now: at(60) })
        .await
        .then_expect_events(vec![AccountEvent::HoldReleased {
            hold_id: "h1".into(),
            amount: amount("1"),
            expired: true,
        }]);
}

#[tokio::test]
async fn an_expired_hold_cannot_be_captured() {
    let held =
        AccountEvent::FundsHeld { hold_id: "h1".into(), amount: amount("1"), expires_at: Some(at(60)), memo: None };
    account()
        .given(vec![opened(), deposited("2"), held])
        .when_async(AccountCommand::CaptureHold {
            hold_id: "h1".into(),
            transfer_id: "t".into(),
            to: to_bob(),
            memo: None,
            now: at(61),
        })
        .await
        .then_expect_error(DomainError::HoldExpired("h1".into()));
}

#[tokio::test]
async fn a_hold_cannot_expire_in_the_past() {
    account()
        .given(vec![opened(), deposited("2")])
        .when_async(AccountCommand::PlaceHold {
            hold_id: "h1".into(),
            amount: dec("1"),
            expires_at: Some(at(0) - Duration::seconds(1)),
            memo: None,
            now: at(0),
        })
        .await
        .then_expect_error(DomainError::HoldExpiryInPast);
}

#[tokio::test]
async fn a_credit_past_the_balance_limit_is_refused_as_an_event_so_it_can_be_returned() {
    let joy = Scale::new(18).unwrap();
    let joy_code = AssetCode::parse("JOY").unwrap();
    let full = Amount::parse_positive("1000000000", joy).unwrap();
    let one = Amount::parse_positive("1", joy).unwrap();
    TestFramework::<Account>::with(())
        .given(vec![
            AccountEvent::AccountOpened {
                account_id: "rich".into(),
                asset: joy_code,
                scale: joy,
                owner: None,
                purpose: None,
            },
            AccountEvent::FundsDeposited { amount: full, source: SystemAccountKind::World, reference: None },
        ])
        .when_async(AccountCommand::ReceiveTransfer {
            transfer_id: "t1".into(),
            from: "alice".into(),
            amount: dec("1"),
            memo: None,
        })
        .await
        .then_expect_events(vec![AccountEvent::TransferRefused {
            transfer_id: "t1".into(),
            from: "alice".into(),
            amount: one,
            reason: DomainError::BalanceLimitExceeded.to_string(),
        }]);
}

#[tokio::test]
async fn a_tampered_history_makes_the_account_refuse_commands() {
    let impossible =
        AccountEvent::FundsWithdrawn { amount: amount("5"), destination: SystemAccountKind::World, reference: None };
    account()
        .given(vec![opened(), deposited("1"), impossible])
        .when_async(AccountCommand::Deposit { amount: dec("1"), source: SystemAccountKind::World, reference: None })
        .await
        .then_expect_error(DomainError::AccountStateInconsistent);
}

#[test]
fn every_money_moving_event_is_balanced_double_entry() {
    let events = vec![
        deposited("1"),
        AccountEvent::FundsWithdrawn { amount: amount("1"), destination: SystemAccountKind::Fees, reference: None },
        AccountEvent::TransferSent {
            transfer_id: "t".into(),
            to: "bob".into(),
            to_is_system: false,
            amount: amount("1"),
            memo: None,
        },
        AccountEvent::TransferReceived { transfer_id: "t".into(), from: "bob".into(), amount: amount("1"), memo: None },
        AccountEvent::TransferReturned { transfer_id: "t".into(), refused_by: "bob".into(), amount: amount("1") },
        AccountEvent::HoldCaptured {
            hold_id: "h".into(),
            transfer_id: "t".into(),
            to: "fees:BTC".into(),
            to_is_system: true,
            amount: amount("1"),
            memo: None,
        },
    ];
    for event in events {
        let legs = postings(&event, "alice", &btc());
        assert_eq!(legs.len(), 2, "{event:?}");
        assert!(crate::posting::is_balanced(&legs), "{event:?}");
    }
}

/// Seeded random command sequences: after every step the balance never goes negative, the
/// locked amount never exceeds it, and a refused command changes nothing.
#[tokio::test]
async fn random_command_sequences_never_overdraw_and_refusals_change_nothing() {
    let mut state = Account::default();
    let sink_apply = |state: &mut Account, events: Vec<AccountEvent>| events.into_iter().for_each(|e| state.apply(e));
    sink_apply(&mut state, vec![opened()]);
    let mut seed: u64 = 0x5eed_1ed6e2;
    let mut next = move |bound: u64| {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (seed >> 33) % bound
    };
    for step in 0..5_000 {
        let value = Decimal::new(next(500) as i64 + 1, 2);
        let hold_id = format!("h{}", next(20));
        let command = match next(6) {
            0 => AccountCommand::Deposit { amount: value, source: SystemAccountKind::World, reference: None },
            1 => AccountCommand::Withdraw { amount: value, destination: SystemAccountKind::World, reference: None },
            2 => AccountCommand::SendTransfer {
                transfer_id: format!("t{step}"),
                to: to_bob(),
                amount: value,
                memo: None,
            },
            3 => AccountCommand::PlaceHold { hold_id, amount: value, expires_at: None, memo: None, now: at(step) },
            4 => AccountCommand::ReleaseHold { hold_id },
            _ => AccountCommand::CaptureHold {
                hold_id,
                transfer_id: format!("t{step}"),
                to: to_bob(),
                memo: None,
                now: at(step),
            },
        };
        let before = state.clone();
        match state.decide(command) {
            Ok(events) => sink_apply(&mut state, events),
            Err(_) => assert_eq!(state, before, "a refused command changed the account"),
        }
        let account = state.open_account().unwrap();
        assert!(!account.inconsistent, "step {step} produced an inconsistent account");
        assert!(account.locked <= account.balance, "step {step}: locked exceeds balance");
        assert!(!account.balance.value().is_sign_negative());
    }
}

fn chain_withdrawal(text: &str) -> AccountCommand {
    AccountCommand::DebitChainWithdrawal {
        amount: dec(text),
        txid: "0xab".into(),
        from_address: "0x01".into(),
        to_address: "0x02".into(),
    }
}

#[tokio::test]
async fn a_chain_withdrawal_debits_what_is_available() {
    account().given(vec![opened(), deposited("2")]).when_async(chain_withdrawal("2")).await.then_expect_events(vec![
        AccountEvent::ChainWithdrawalDebited {
            amount: amount("2"),
            txid: "0xab".into(),
            from_address: "0x01".into(),
            to_address: "0x02".into(),
        },
    ]);
}

#[tokio::test]
async fn a_chain_withdrawal_beyond_the_available_balance_moves_nothing() {
    account()
        .given(vec![
            opened(),
            deposited("2"),
            AccountEvent::FundsHeld { hold_id: "h".into(), amount: amount("1"), expires_at: None, memo: None },
        ])
        .when_async(chain_withdrawal("1.5"))
        .await
        .then_expect_error(DomainError::InsufficientFunds { available: dec("1.00000000"), requested: dec("1.5") });
}

#[test]
fn a_chain_deposit_posts_from_the_world_account() {
    let event = AccountEvent::ChainDepositCredited {
        amount: amount("1"),
        txid: "0xab".into(),
        from_address: "0x01".into(),
        to_address: "0x02".into(),
    };
    let legs = postings(&event, "alice", &btc());
    assert_eq!(legs.len(), 2);
    assert_eq!(legs.iter().map(|leg| leg.amount).sum::<Decimal>(), Decimal::ZERO);
    assert_eq!(legs[0].account_id, "world:BTC");
}
