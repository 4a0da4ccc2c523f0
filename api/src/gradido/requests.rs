//! What each call of the login server reads, for the OpenAPI document. The handlers read the
//! same fields through `Params`, leniently as the original did: an integer may come as a
//! numeric string, a flag as `0`/`1`, and a GET carries the fields as query parameters (the
//! document derives those from these bodies). A field a call does not know is ignored.

#![allow(dead_code)]

use utoipa::ToSchema;

#[derive(ToSchema)]
#[schema(as = gradido::UnsecureLogin)]
pub struct UnsecureLogin {
    /// The e-mail address, or leave it out and give `username`.
    email: Option<String>,
    username: Option<String>,
    password: String,
}

#[derive(ToSchema)]
#[schema(as = gradido::Session)]
pub struct Session {
    session_id: i64,
}

#[derive(ToSchema)]
#[schema(as = gradido::CreateUser)]
pub struct CreateUser {
    email: String,
    first_name: String,
    last_name: String,
    /// The original's e-mail type for the registration mail (2 to 10).
    #[schema(rename = "emailType")]
    email_type: Option<i64>,
    password: Option<String>,
    /// Default 1.
    group_id: Option<i64>,
    username: Option<String>,
    description: Option<String>,
    /// `de` or `en`.
    language: Option<String>,
    login_after_register: Option<bool>,
    /// An admin's session registers for another group or with a registerDirect mail.
    session_id: Option<i64>,
}

#[derive(ToSchema)]
#[schema(as = gradido::EmailCode)]
pub struct EmailCode {
    /// The 16 digits from the mail.
    #[schema(rename = "emailVerificationCode")]
    email_verification_code: i64,
}

#[derive(ToSchema)]
#[schema(as = gradido::SendEmail)]
pub struct SendEmail {
    email: String,
    /// The original's e-mail type, 2 to 10 (8 with `email_custom_text`).
    email_text: i64,
    /// `register`, `registerDirect` or `resetPassword`.
    email_verification_code_type: String,
    email_custom_text: Option<String>,
    /// An admin's, for `register` and `registerDirect`.
    session_id: Option<i64>,
}

#[derive(ToSchema)]
#[schema(as = gradido::ResetPassword)]
pub struct ResetPassword {
    /// A session opened by an e-mail code.
    session_id: i64,
    password: String,
}

#[derive(ToSchema)]
#[schema(as = gradido::VerifyEmail)]
pub struct VerifyEmail {
    code: i64,
}

#[derive(ToSchema)]
#[schema(as = gradido::CheckUsername)]
pub struct CheckUsername {
    username: String,
    group_id: Option<i64>,
    group_alias: Option<String>,
}

#[derive(ToSchema)]
#[schema(as = gradido::GetUserInfos)]
pub struct GetUserInfos {
    session_id: i64,
    /// Any user's (the session's own without).
    email: Option<String>,
    /// Namespaced fields, e.g. `user.first_name`, `user.email_checked`.
    ask: Vec<String>,
}

#[derive(ToSchema)]
#[schema(as = gradido::UpdateUserInfos)]
pub struct UpdateUserInfos {
    /// Or the `GRADIDO_LOGIN` cookie.
    session_id: Option<i64>,
    /// Must be the session's.
    email: Option<String>,
    /// `User.first_name`, `User.last_name`, `User.username`, `User.description`,
    /// `User.language`, `User.password_old` with `User.password`, `User.disabled` (admins).
    update: std::collections::BTreeMap<String, serde_json::Value>,
}

#[derive(ToSchema)]
#[schema(as = gradido::RunningUserTasks)]
pub struct RunningUserTasks {
    email: String,
    session_id: Option<i64>,
}

#[derive(ToSchema)]
#[schema(as = gradido::NetworkInfos)]
pub struct NetworkInfos {
    /// `["groups"]`.
    ask: Vec<String>,
}

#[derive(ToSchema)]
#[schema(as = gradido::GetUsers)]
pub struct GetUsers {
    session_id: i64,
    search: String,
    /// `all`, `email not activated`, `no keys` or `disabled`.
    account_state: Option<String>,
}

#[derive(ToSchema)]
#[schema(as = gradido::Search)]
pub struct Search {
    session_id: i64,
    search: String,
}

#[derive(ToSchema)]
#[schema(as = gradido::UserByEmail)]
pub struct UserByEmail {
    session_id: i64,
    email: String,
}

#[derive(ToSchema)]
#[schema(as = gradido::SetUserDisabled)]
pub struct SetUserDisabled {
    session_id: i64,
    email: String,
    disabled: bool,
}

#[derive(ToSchema)]
#[schema(as = gradido::CreateGroup)]
pub struct CreateGroup {
    session_id: i64,
    alias: String,
    name: String,
    description: Option<String>,
}

#[derive(ToSchema)]
#[schema(as = gradido::CreateTransaction)]
pub struct CreateTransaction {
    session_id: i64,
    /// `transfer`, `creation` (admins) or `groupMemberUpdate`.
    transaction_type: String,
    /// `mysql` or `hedera`.
    blockchain_type: Option<String>,
    auto_sign: Option<bool>,
    /// 5 to 150 characters for a transfer.
    memo: Option<String>,
    /// GDD-cent: a transfer up to the balance; a creation in ]0, 10000000].
    amount: Option<i64>,
    /// The receiver, by one of e-mail, username or public key.
    target_email: Option<String>,
    target_username: Option<String>,
    target_pubkey: Option<String>,
    target_group: Option<String>,
    /// A creation's month: this one or the two before (`YYYY-MM-DD`).
    target_date: Option<String>,
}

#[derive(ToSchema)]
#[schema(as = gradido::TransactionById)]
pub struct TransactionById {
    session_id: i64,
    /// From `createTransaction` or `checkSessionState`.
    transaction_id: String,
}
