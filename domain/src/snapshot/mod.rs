//! What a snapshot of an aggregate holds: its state as serde writes it, tagged with the
//! version of that shape. A snapshot is a cache of the fold of the aggregate's events up to
//! a sequence, never the truth; one stored at another version than the code's is ignored
//! and the state is folded from the events again.
//!
//! Bump an aggregate's `STATE_VERSION` whenever its fields change in any way, also when
//! the old shape would still deserialize (a renamed field with a default, a new meaning).

use cqrs_es::Aggregate;

/// An aggregate whose state may be stored as a snapshot.
pub trait Snapshotted: Aggregate + PartialEq {
    /// The version of the state's serialized shape.
    const STATE_VERSION: i32;
}

macro_rules! state_versions {
    ($($aggregate:ty => $version:literal),+ $(,)?) => {
        $(impl Snapshotted for $aggregate {
            const STATE_VERSION: i32 = $version;
        })+

        /// The type name of every aggregate, each of which may be snapshotted.
        pub const AGGREGATE_TYPES: &[&str] = &[$(<$aggregate as Aggregate>::TYPE),+];
    };
}

state_versions! {
    crate::account::Account => 1,
    crate::asset::Asset => 1,
    crate::user::User => 1,
    crate::claim::UniqueClaim => 1,
    crate::gradido::GradidoTransaction => 1,
    crate::gradido::CreationBudget => 1,
    crate::gradido::DuplicateGuard => 1,
    crate::gradido::Group => 1,
    crate::lightning::Invoice => 1,
    crate::lightning::AddressBook => 1,
    crate::lightning::Channel => 1,
    crate::joyplus::JoyWallet => 1,
    crate::joyplus::ApiKey => 1,
}

#[cfg(test)]
mod tests;
