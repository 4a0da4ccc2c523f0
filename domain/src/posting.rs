//! Double entry: every money-moving event is a set of postings that sum to zero per asset.
//! Read models and the auditor consume postings; they never re-derive money rules.

use rust_decimal::Decimal;

/// One leg of an event: `amount` is added to `account_id` (negative for a debit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posting {
    pub account_id: String,
    pub amount: Decimal,
}

impl Posting {
    pub fn credit(account_id: impl Into<String>, amount: Decimal) -> Self {
        Self { account_id: account_id.into(), amount }
    }

    pub fn debit(account_id: impl Into<String>, amount: Decimal) -> Self {
        Self { account_id: account_id.into(), amount: -amount }
    }
}

/// Whether a set of postings conserves money: its amounts sum to exactly zero.
pub fn is_balanced(postings: &[Posting]) -> bool {
    postings.iter().map(|posting| posting.amount).sum::<Decimal>().is_zero()
}
