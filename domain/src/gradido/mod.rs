//! Gradido: transactions that are prepared (pending), signed (executing, sent to the
//! network) and then confirmed or rejected; creations limited per user and month; groups.

mod budget;
mod group;
mod sender;
mod transaction;

pub use budget::{creation_budget_id, BudgetCommand, BudgetEvent, CreationBudget, MONTHLY_CREATION_LIMIT_GDD};
pub use group::{Group, GroupCommand, GroupEvent};
pub use sender::{DuplicateGuard, GuardCommand, GuardEvent, DUPLICATE_WINDOW_SECONDS};
pub use transaction::{Created, GradidoKind, GradidoStatus, GradidoTransaction, TransactionCommand, TransactionEvent};
