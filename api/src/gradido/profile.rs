//! What a user reads and changes of a profile: `getUserInfos`, `updateUserInfos` and
//! `checkUsername`, with the original's field names and error texts.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use domain::claim::{claim_id, ClaimCommand};
use domain::user::{ProfileChanges, UserCommand};
use projections::read_models::groups;
use projections::read_models::users::{UserKey, UserRow};
use serde_json::{json, Map, Value};

use super::email_codes::{issue, CodeKind};
use super::login::{find_user, is_admin, session_user};
use super::sessions;
use super::user_object::{chosen_username, ident_hash, DEFAULT_LANGUAGE, LANGUAGES};
use super::users::group_by_id;
use super::wire::{success, warning, GradidoError, Params};
use super::{GradidoState, DIALECT};
use crate::client_address::ClientAddress;
use app::credentials::{hash_password, verify_password};
use app::use_cases::users::password_length_is_valid;
use app::AppError;
use store::Operation;

/// `{"session_id","email","ask":["user.first_name", ...]}`: what any signed-in user may
/// know of the user with that e-mail (the session's own user without one).
#[utoipa::path(method(get, post), path = "/login_api/getUserInfos", tag = "gradido", request_body(content = super::requests::GetUserInfos, description = "A POST's JSON body; a GET sends the same fields as query parameters", content_type = "application/json"), responses((status = 200, description = "`{\"state\": \"success\" | \"error\" | ...}`; every answer of the login server is HTTP 200")))]
pub async fn get_user_infos(State(state): State<GradidoState>, params: Params) -> Result<Response, GradidoError> {
    let session_id = params.session_id().ok_or_else(|| GradidoError::new("error", "session_id invalid"))?;
    let ask = params.array("ask").ok_or_else(|| GradidoError::new("error", "ask is zero or not an array"))?;
    let session =
        sessions::find(&state, session_id).await?.ok_or_else(|| GradidoError::new("not found", "session not found"))?;
    let asker = session_user(&state, &session).await?;
    let user = match params.text("email") {
        Some(email) => find_user(&state, UserKey::Email(email))
            .await?
            .ok_or_else(|| GradidoError::new("not found", "user not found"))?,
        None => asker.clone(),
    };
    let admin = is_admin(&state, &asker.user_id).await?;
    let own = user.user_id == asker.user_id;
    let (mut user_data, mut server, mut errors) = (Map::new(), Map::new(), Vec::new());
    for item in ask {
        let Some(item) = item.as_str() else {
            errors.push("ask parameter invalid");
            continue;
        };
        match item {
            "EmailVerificationCode.Register" if admin && !own => {
                let code = issue(&state, &user.user_id, CodeKind::RegisterDirect).await?;
                user_data.insert(item.to_string(), json!(code.to_string()));
            }
            "loginServer.path" => {
                server.insert(item.to_string(), json!("/login_api"));
            }
            _ => {
                if let Some((key, value)) = asked_field(&user, item, admin || own) {
                    user_data.insert(key.to_string(), value);
                }
            }
        }
    }
    Ok(success(json!({ "userData": user_data, "server": server, "errors": errors })))
}

/// One `user.*` item of `ask`, under the key the original answered it with. The e-mail and
/// whether it is checked only for the user themselves and admins.
fn asked_field(user: &UserRow, item: &str, privileged: bool) -> Option<(&'static str, Value)> {
    let text = |value: &Option<String>| json!(value.clone().unwrap_or_default());
    Some(match item {
        "user.first_name" => ("first_name", text(&user.first_name)),
        "user.last_name" => ("last_name", text(&user.last_name)),
        "user.username" => ("username", json!(chosen_username(user))),
        "user.description" => ("description", text(&user.description)),
        "user.disabled" => ("disabled", json!(user.disabled)),
        "user.pubkeyhex" => ("pubkeyhex", text(&user.public_hex)),
        "user.public_hex" => ("public_hex", text(&user.public_hex)),
        "user.identHash" => ("identHash", json!(ident_hash(&user.email))),
        "user.language" => ("language", json!(user.language.as_deref().unwrap_or(DEFAULT_LANGUAGE))),
        "user.group_alias" => ("group_alias", text(&user.group_alias)),
        "user.role" => ("role", json!(user.role.as_deref().unwrap_or("none"))),
        "user.created" => ("created", json!(user.created_at.timestamp())),
        "user.email_checked" if privileged => ("email_checked", json!(user.email_checked)),
        "user.email" if privileged => ("email", json!(user.email)),
        _ => return None,
    })
}

/// `{"session_id","email"?,"update":{"User.first_name": ..., ...}}`: changes the session
/// user's profile (the `GRADIDO_LOGIN` cookie names the session when the body does not).
/// All or nothing: any error changes nothing and answers `state: "error"` with the first.
#[utoipa::path(method(get, post), path = "/login_api/updateUserInfos", tag = "gradido", request_body(content = super::requests::UpdateUserInfos, description = "A POST's JSON body; a GET sends the same fields as query parameters", content_type = "application/json"), responses((status = 200, description = "`{\"state\": \"success\" | \"error\" | ...}`; every answer of the login server is HTTP 200")))]
pub async fn update_user_infos(
    State(state): State<GradidoState>,
    ClientAddress(address): ClientAddress,
    params: Params,
) -> Result<Response, GradidoError> {
    let session_id = params.session_id_or_cookie().ok_or_else(|| GradidoError::new("error", "session_id invalid"))?;
    let update =
        params.object("update").ok_or_else(|| GradidoError::new("error", "update is zero or not an object"))?;
    let session =
        sessions::find(&state, session_id).await?.ok_or_else(|| GradidoError::new("not found", "session not found"))?;
    let user = session_user(&state, &session).await?;
    if params.text("email").is_some_and(|email| !email.eq_ignore_ascii_case(&user.email)) {
        return Err(GradidoError::new("not same", "email don't belong to logged in user"));
    }
    let admin = is_admin(&state, &user.user_id).await?;
    let mut plan = UpdatePlan::default();
    for (name, value) in update {
        plan.take(&state, &user, admin, name, value, update).await?;
    }
    if let Some(new_password) = &plan.password {
        let attempt = state.credentials.begin(DIALECT, &user.user_id, address)?;
        let old = update.get("User.password_old").and_then(Value::as_str).unwrap_or_default();
        if verify_password(user.password_hash.clone(), old.to_string()).await {
            attempt.succeeded();
        } else {
            attempt.failed();
            plan.errors.push("User.password_old didn't match".into());
        }
        if !password_length_is_valid(new_password) {
            plan.errors.push("User.password isn't valid".into());
        }
    }
    if let Some(first) = plan.errors.first().cloned() {
        let answer = json!({ "state": "error", "msg": first, "errors": plan.errors, "valid_values": 0 });
        return Ok(axum::Json(answer).into_response());
    }
    let valid_values = plan.apply(&state, &user).await?;
    Ok(success(json!({ "errors": [], "valid_values": valid_values })))
}

/// What an `updateUserInfos` asks for, checked before anything changes.
#[derive(Default)]
struct UpdatePlan {
    profile: ProfileChanges,
    password: Option<String>,
    disabled: Option<bool>,
    valid_values: usize,
    errors: Vec<String>,
}

impl UpdatePlan {
    async fn take(
        &mut self,
        state: &GradidoState,
        user: &UserRow,
        admin: bool,
        name: &str,
        value: &Value,
        update: &Map<String, Value>,
    ) -> Result<(), GradidoError> {
        match name {
            "User.first_name" => {
                if let Some(text) = self.text(name, value).filter(|text| Some(text) != user.first_name.as_ref()) {
                    self.profile.first_name = Some(text);
                    self.valid_values += 1;
                }
            }
            "User.last_name" => {
                if let Some(text) = self.text(name, value).filter(|text| Some(text) != user.last_name.as_ref()) {
                    self.profile.last_name = Some(text);
                    self.valid_values += 1;
                }
            }
            "User.description" => match value.as_str() {
                None => self.errors.push("User.description isn't a string".into()),
                Some(text) if Some(text) != user.description.as_deref() => {
                    self.profile.description = Some(text.to_string());
                    self.valid_values += 1;
                }
                Some(_) => {}
            },
            "User.language" => {
                if let Some(text) = self.text(name, value).filter(|text| Some(text) != user.language.as_ref()) {
                    if LANGUAGES.contains(&text.as_str()) {
                        self.profile.language = Some(text);
                        self.valid_values += 1;
                    } else {
                        self.errors.push("User.language isn't a valid language".into());
                    }
                }
            }
            "User.username" => {
                if let Some(text) = self.text(name, value).filter(|text| text != chosen_username(user)) {
                    self.take_username(state, user, text).await?;
                }
            }
            "User.disabled" => {
                let disabled = match value {
                    Value::Bool(flag) => Some(*flag),
                    Value::Number(number) => number.as_i64().map(|number| number != 0),
                    _ => None,
                };
                match disabled {
                    None => self.errors.push("User.disabled isn't a boolean or integer".into()),
                    Some(_) if !admin => self.errors.push("User.disabled can only be changed by an admin".into()),
                    Some(disabled) if disabled != user.disabled => {
                        self.disabled = Some(disabled);
                        self.valid_values += 1;
                    }
                    Some(_) => {}
                }
            }
            "User.password" => {
                if let Some(text) = self.text(name, value) {
                    match update.get("User.password_old") {
                        None => self.errors.push("User.password_old not found".into()),
                        Some(old) if !old.is_string() => self.errors.push("User.password_old isn't a string".into()),
                        Some(_) => {
                            self.password = Some(text);
                            self.valid_values += 1;
                        }
                    }
                }
            }
            // Read with `User.password`; the Elopage publisher id is not kept by this ledger.
            _ => {}
        }
        Ok(())
    }

    /// A string field's value, or an error for it.
    fn text(&mut self, name: &str, value: &Value) -> Option<String> {
        match value.as_str() {
            None => {
                self.errors.push(format!("{name} isn't a string"));
                None
            }
            Some("") => {
                self.errors.push(format!("{name} is empty"));
                None
            }
            Some(text) => Some(text.to_string()),
        }
    }

    async fn take_username(
        &mut self,
        state: &GradidoState,
        user: &UserRow,
        username: String,
    ) -> Result<(), GradidoError> {
        if !chosen_username(user).is_empty() {
            self.errors.push("change username currently not supported!".into());
        } else if find_user(state, UserKey::Username(&username)).await?.is_some() {
            self.errors.push("username already used".into());
        } else if !original_username_rule(&username) || domain::user::validate_username(&username).is_err() {
            self.errors.push("username must start with [a-z] or [A-Z] and than can contain also [0-9], - and _".into());
        } else {
            self.profile.username = Some(username);
            self.valid_values += 1;
        }
        Ok(())
    }

    async fn apply(self, state: &GradidoState, user: &UserRow) -> Result<usize, GradidoError> {
        let bus = &state.ledger.bus;
        let mut last_event = None;
        if let Some(password) = self.password {
            let password_hash = hash_password(password).await?;
            let outcome =
                bus.execute(&user.user_id, UserCommand::ChangePassword { password_hash }, &Operation::fresh()).await?;
            last_event = outcome.event().cloned().or(last_event);
        }
        if let Some(username) = &self.profile.username {
            let take = ClaimCommand::Take { kind: "username".into(), owner: user.user_id.clone() };
            bus.execute(&claim_id("username", username), take, &Operation::fresh())
                .await
                .map_err(|_| GradidoError::new("error", "username already used"))?;
            let release = ClaimCommand::Release { owner: user.user_id.clone() };
            bus.execute(&claim_id("username", &user.username), release, &Operation::fresh()).await?;
        }
        if self.profile != ProfileChanges::default() {
            let command = UserCommand::UpdateProfile { changes: self.profile };
            let outcome = bus.execute(&user.user_id, command, &Operation::fresh()).await?;
            last_event = outcome.event().cloned().or(last_event);
        }
        if let Some(disabled) = self.disabled {
            let outcome =
                bus.execute(&user.user_id, UserCommand::SetDisabled { disabled }, &Operation::fresh()).await?;
            last_event = outcome.event().cloned().or(last_event);
        }
        if let Some(event) = &last_event {
            state.ledger.await_read_models(event).await;
        }
        Ok(self.valid_values)
    }
}

/// A letter first, then letters, digits, `-` and `_`.
fn original_username_rule(username: &str) -> bool {
    let mut bytes = username.bytes();
    bytes.next().is_some_and(|first| first.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
}

/// `GET ?username=&group_id=` (or `group_alias`): `success` while the username is free,
/// `warning` once it is taken.
#[utoipa::path(method(get, post), path = "/login_api/checkUsername", tag = "gradido", request_body(content = super::requests::CheckUsername, description = "A POST's JSON body; a GET sends the same fields as query parameters", content_type = "application/json"), responses((status = 200, description = "`{\"state\": \"success\" | \"error\" | ...}`; every answer of the login server is HTTP 200")))]
pub async fn check_username(State(state): State<GradidoState>, params: Params) -> Result<Response, GradidoError> {
    let group = match (params.integer("group_id").filter(|id| *id != 0), params.text("group_alias")) {
        (Some(group_id), _) => group_by_id(&state, group_id).await?,
        (None, Some(alias)) => {
            let client = state.ledger.reads.get().await.map_err(AppError::from)?;
            groups::by_alias(&client, alias).await.map_err(AppError::from)?
        }
        (None, None) => return Err(GradidoError::new("error", "no group given")),
    };
    let group = group.ok_or_else(|| GradidoError::new("error", "unknown group"))?;
    let username = params.get("username").and_then(Value::as_str).unwrap_or_default();
    if username.is_empty() {
        return Ok(success(json!({ "group_id": group.group_id })));
    }
    match find_user(&state, UserKey::Username(username)).await? {
        Some(_) => Ok(warning("username already in use")),
        None => Ok(success(json!({}))),
    }
}
