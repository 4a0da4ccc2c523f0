use rust_decimal::Decimal;
use thiserror::Error;

/// Every way a domain command can be refused. One enum for the whole domain layer; each
/// dialect maps it to HTTP once.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DomainError {
    #[error("amount is not a decimal number")]
    AmountMalformed,
    #[error("amount must be positive")]
    AmountNotPositive,
    #[error("amount has more than {max_decimals} decimals")]
    AmountTooPrecise { max_decimals: u32 },
    #[error("amount is out of range")]
    AmountOutOfRange,
    #[error("the result would exceed the largest balance an account may hold")]
    BalanceLimitExceeded,
    #[error("asset code must be 2 to 12 characters of A-Z and 0-9")]
    AssetCodeInvalid,
    #[error("asset scale must be between 0 and 18")]
    AssetScaleInvalid,
    #[error("asset {code} already exists with scale {scale}")]
    AssetAlreadyDefinedWithOtherScale { code: String, scale: u32 },
    #[error("account id must be 1 to 128 characters of A-Z a-z 0-9 . _ : -")]
    AccountIdInvalid,
    #[error("account id {0} is reserved for a system account")]
    AccountIdReserved(String),
    #[error("{field} is longer than {max} bytes")]
    TextTooLong { field: &'static str, max: usize },
    #[error("account already exists")]
    AccountAlreadyOpened,
    #[error("account does not exist")]
    AccountNotOpened,
    #[error("account history is inconsistent; refusing to decide on it")]
    AccountStateInconsistent,
    #[error("accounts hold different assets ({from} and {to})")]
    AssetMismatch { from: String, to: String },
    #[error("a transfer needs two different accounts")]
    TransferToSelf,
    #[error("insufficient funds: {available} available, {requested} requested")]
    InsufficientFunds { available: Decimal, requested: Decimal },
    #[error("system account {0} cannot be used here")]
    SystemAccountNotAllowed(String),
    #[error("hold {0} already exists")]
    HoldAlreadyExists(String),
    #[error("hold {0} does not exist or is no longer active")]
    HoldNotFound(String),
    #[error("hold {0} has expired")]
    HoldExpired(String),
    #[error("hold {0} has not expired yet")]
    HoldNotExpired(String),
    #[error("hold expiry must be in the future")]
    HoldExpiryInPast,
    #[error("an account may carry at most {0} active holds")]
    TooManyHolds(usize),
    #[error("e-mail address is not valid")]
    EmailInvalid,
    #[error("username must be 1 to 64 characters of A-Z a-z 0-9 . _ -")]
    UsernameInvalid,
    #[error("user already exists")]
    UserAlreadyRegistered,
    #[error("user does not exist")]
    UserNotRegistered,
    #[error("{kind} is already taken")]
    ClaimTaken { kind: String },
    #[error("transaction already exists")]
    TransactionExists,
    #[error("transaction not found")]
    TransactionNotFound,
    #[error("only the user who created the transaction may do this")]
    NotTheInitiator,
    #[error("transaction is {0}")]
    TransactionState(&'static str),
    #[error("creation limit exceeded: {remaining} GDD left this month")]
    CreationLimitExceeded { remaining: Decimal },
    #[error("the same transaction was sent less than 100 seconds ago")]
    DuplicateTransaction,
    #[error("group already exists")]
    GroupExists,
    #[error("channel capacity must be between {min} and {max} sat")]
    ChannelCapacity { min: u64, max: u64 },
    #[error("channel not found")]
    ChannelNotFound,
    #[error("channel is {0}")]
    ChannelState(&'static str),
    #[error("unknown denomination {0}; use BTC, mBTC, bits or sat")]
    DenominationUnknown(String),
    #[error("invoice already exists")]
    InvoiceExists,
    #[error("invoice not found")]
    InvoiceNotFound,
    #[error("invoice is already paid")]
    InvoiceAlreadyPaid,
    #[error("an address book alias cannot be empty")]
    AliasEmpty,
    #[error("the address book holds at most {0} payees")]
    AddressBookFull(usize),
    #[error("group alias must be 1 to 128 characters of A-Z a-z 0-9 . _ -")]
    GroupAliasInvalid,
    #[error("mobile number must be 4 to 15 digits, optionally after a +")]
    MobileInvalid,
    #[error("address must be 0x and 40 hex digits")]
    AddressInvalid,
    #[error("address checksum (EIP-55) does not match")]
    AddressChecksumInvalid,
    #[error("scope must look like resource.action, in lower case")]
    ScopeInvalid,
    #[error("no API key was issued for this e-mail address")]
    ApiKeyNotIssued,
    #[error("an API key may carry at most {0} scopes")]
    TooManyScopes(usize),
    #[error("asset {0} does not exist")]
    AssetNotDefined(String),
    #[error("asset {0} is already listed")]
    AssetAlreadyListed(String),
    #[error("price must be a non-negative decimal with at most 18 decimals")]
    PriceInvalid,
}
