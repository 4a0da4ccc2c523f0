//! Which aggregate decides each command, so the command bus can be generic over them.

use cqrs_es::Aggregate;

/// A command of one aggregate type. `name` is the variant's name (`Deposit`,
/// `SendTransfer`), for metrics and logs: never the command's contents, which may hold
/// secrets such as password hashes.
pub trait Command: Clone + Send + Sync + 'static {
    type Aggregate: Aggregate<Command = Self, Error = crate::DomainError, Services = ()>
        + crate::snapshot::Snapshotted
        + Clone;

    fn name(&self) -> &'static str;
}

macro_rules! decided_by {
    ($($command:ty => $aggregate:ty),+ $(,)?) => {
        $(impl Command for $command {
            type Aggregate = $aggregate;

            fn name(&self) -> &'static str {
                self.into()
            }
        })+
    };
}

decided_by! {
    crate::account::AccountCommand => crate::account::Account,
    crate::asset::AssetCommand => crate::asset::Asset,
    crate::user::UserCommand => crate::user::User,
    crate::claim::ClaimCommand => crate::claim::UniqueClaim,
    crate::gradido::TransactionCommand => crate::gradido::GradidoTransaction,
    crate::gradido::BudgetCommand => crate::gradido::CreationBudget,
    crate::gradido::GuardCommand => crate::gradido::DuplicateGuard,
    crate::gradido::GroupCommand => crate::gradido::Group,
    crate::lightning::InvoiceCommand => crate::lightning::Invoice,
    crate::lightning::AddressBookCommand => crate::lightning::AddressBook,
    crate::lightning::ChannelCommand => crate::lightning::Channel,
    crate::joyplus::JoyWalletCommand => crate::joyplus::JoyWallet,
    crate::joyplus::ApiKeyCommand => crate::joyplus::ApiKey,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asset::AssetCommand;

    #[test]
    fn a_command_is_named_by_its_variant_not_its_contents() {
        let command = AssetCommand::Define {
            code: crate::AssetCode::parse("BTC").unwrap(),
            scale: crate::Scale::new(8).unwrap(),
        };
        assert_eq!(command.name(), "Define");
    }
}
