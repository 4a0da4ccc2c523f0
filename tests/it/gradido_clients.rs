//! The Gradido login-server calls exactly as Gradido's own clients sent them, and the
//! fields and types those clients read of each answer. Each case names its client:
//!
//! - the Vue frontend, `frontend/src/apis/loginAPI.js` at gradido/gradido 7e5c0f3d6
//!   (2021-07), which calls `/login_api/<call>`;
//! - the PHP community server, `community_server/src/Controller/AppController.php`,
//!   `Component/JsonRequestClientComponent.php` and the controllers that call it, at the same
//!   commit, which calls `host:port/<call>` (here: the `--gradido-listen` port);
//! - the Node backend, `backend/src/graphql/resolver/UserResolver.ts` at 499ff7b61
//!   (2021-11-05).

use crate::common::TestApp;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// A POST with a JSON body, as every client sends most calls.
async fn post(app: &TestApp, call: &str, body: Value) -> Value {
    answer(app.http.post(format!("{}/login_api/{call}", app.base_url)).json(&body).send().await.unwrap()).await
}

/// A GET with query parameters (`login`, `checkUsername`, `loginViaEmailVerificationCode`).
async fn get(app: &TestApp, call_and_query: &str) -> Value {
    answer(app.http.get(format!("{}/login_api/{call_and_query}", app.base_url)).send().await.unwrap()).await
}

async fn answer(response: reqwest::Response) -> Value {
    assert_eq!(response.status(), StatusCode::OK, "the login server answers every call with 200");
    assert_eq!(response.headers()["content-type"], "application/json");
    response.json().await.unwrap()
}

fn session_id(answer: &Value) -> i64 {
    answer["session_id"].as_i64().unwrap_or_else(|| panic!("an integer session_id: {answer}"))
}

/// The fields `User::getJson` gave, in the types the clients read.
fn assert_user_object(user: &Value, email: &str) {
    assert_eq!(user["email"], email, "{user}");
    for text in ["first_name", "last_name", "username", "description", "language", "role"] {
        assert!(user[text].is_string(), "user.{text} is a string: {user}");
    }
    for flag in ["email_checked", "disabled"] {
        assert!(user[flag].is_boolean(), "user.{flag} is a boolean: {user}");
    }
    assert!(user["created"].is_i64(), "user.created is Unix seconds: {user}");
    assert!(user["ident_hash"].is_u64(), "user.ident_hash is an integer: {user}");
    let public_hex = user["public_hex"].as_str().expect("user.public_hex");
    assert!(public_hex.len() == 64 && public_hex.bytes().all(|b| b.is_ascii_hexdigit()), "{user}");
}

async fn last_code_mailed_to(app: &TestApp, email: &str) -> String {
    let body: String = app
        .sql()
        .await
        .query_one("SELECT body FROM mail_outbox WHERE recipient = $1 ORDER BY mail_id DESC LIMIT 1", &[&email])
        .await
        .unwrap()
        .get(0);
    let code = body.split("code: ").nth(1).and_then(|rest| rest.split_whitespace().next()).expect("a code in the mail");
    assert!(code.bytes().all(|b| b.is_ascii_digit()), "a numeric code, as the original mailed: {code}");
    code.to_string()
}

async fn admin_with_group(app: &TestApp) -> i64 {
    crate::common::register_user(app, "admin", true).await;
    let admin = session_id(
        &post(app, "unsecureLogin", json!({"email": "admin@example.com", "password": "admin-password"})).await,
    );
    let group =
        post(app, "createGroup", json!({"session_id": admin, "alias": "gdd1", "name": "Gradido Akademie"})).await;
    assert_eq!(group["group_id"], 2, "after the default group, which a fresh ledger has as group 1: {group}");
    admin
}

/// loginAPI.js `create`, then `login`, `logout`; UserResolver.ts `createUser` and `login`.
#[tokio::test]
async fn the_frontend_signs_up_and_logs_in_and_reads_the_user_it_shows() {
    let app = TestApp::spawn().await;
    admin_with_group(&app).await;
    let sign_up = json!({"email": "erika@example.com", "first_name": "Erika", "last_name": "Mustermann",
                         "password": "Aa12345_", "emailType": 2, "login_after_register": true});
    let response = app.http.post(format!("{}/login_api/createUser", app.base_url)).json(&sign_up).send().await.unwrap();
    let cookie = response.headers()["set-cookie"].to_str().unwrap().to_string();
    let created = answer(response).await;
    assert_eq!(created["state"], "success", "{created}");
    assert_eq!(cookie.split(';').next().unwrap(), format!("GRADIDO_LOGIN={}", session_id(&created)));
    assert_user_object(&created["user"], "erika@example.com");
    assert_eq!(created["user"]["group_alias"], "gradido", "the sign-up joined group 1, the default group");
    assert_eq!(created["info"], json!(["group_id was not set, use 1 as default!"]));
    assert_eq!(created["user"]["username"], "", "no username chosen yet");
    assert_eq!(post(&app, "createUser", sign_up).await, json!({"state": "exist", "msg": "user already exist"}));
    let no_email_type =
        json!({"email": "max@example.com", "first_name": "Max", "last_name": "M", "password": "Aa12345_"});
    let refused = post(&app, "createUser", no_email_type).await;
    assert_eq!(
        (refused["state"].as_str(), refused["msg"].as_str()),
        (Some("error"), Some("json exception")),
        "{refused}"
    );

    let login = post(&app, "unsecureLogin", json!({"email": "erika@example.com", "password": "Aa12345_"})).await;
    assert_eq!(login["state"], "success", "{login}");
    assert_user_object(&login["user"], "erika@example.com");
    assert_eq!(login["user"]["first_name"], "Erika");
    assert_eq!(login["user"]["role"], "none");
    assert_eq!(login["user"]["language"], "de");
    assert_eq!(login["user"]["email_checked"], false);
    assert_eq!(login["hasElopage"], false, "the backend reads it");
    assert_eq!(
        post(&app, "unsecureLogin", json!({"email": "erika@example.com", "password": "wrong"})).await,
        json!({"state": "error", "msg": "password incorrect"})
    );
    assert_eq!(
        post(&app, "unsecureLogin", json!({"username": "nobody", "password": "Aa12345_"})).await,
        json!({"state": "error", "msg": "user with username not found", "details": "nobody"})
    );
    assert_eq!(
        post(&app, "unsecureLogin", json!({"password": "Aa12345_"})).await,
        json!({"state": "error", "msg": "no email or username given"})
    );
    let by_username = post(&app, "unsecureLogin", json!({"username": "admin", "password": "admin-password"})).await;
    assert_eq!(by_username["user"]["role"], "admin", "{by_username}");

    let session = session_id(&login);
    assert_eq!(post(&app, "logout", json!({"session_id": session})).await, json!({"state": "success"}));
    assert_eq!(get(&app, &format!("login?session_id={session}")).await["state"], "not found");
}

/// AppController.php `requestLogin`: `GET host:port/login?session_id=` before every page,
/// reading `user.*`, `user.public_hex` and the three `Transactions.*` counts.
#[tokio::test]
async fn the_community_server_checks_the_session_on_the_login_servers_own_port() {
    let app = TestApp::spawn().await;
    crate::common::register_user(&app, "alice", false).await;
    let (root, _server) = app.service().serve_gradido_root_on_loopback().await.unwrap();
    let login = post(&app, "unsecureLogin", json!({"email": "alice@example.com", "password": "alice-password"})).await;
    let session = session_id(&login);

    for url in [format!("{root}/login?session_id={session}"), format!("{root}/checkSessionState?session_id={session}")]
    {
        let checked = answer(app.http.get(&url).send().await.unwrap()).await;
        assert_eq!(checked["state"], "success", "{url}: {checked}");
        assert_user_object(&checked["user"], "alice@example.com");
        for count in ["Transactions.pending", "Transactions.executing", "Transactions.can_signed"] {
            assert_eq!(checked[count], 0, "{count}: {checked}");
        }
    }
    let posted = answer(
        app.http.post(format!("{root}/login")).json(&json!({"session_id": session.to_string()})).send().await.unwrap(),
    )
    .await;
    assert_eq!(posted["state"], "success", "a numeric string names the session too: {posted}");
    let unknown = answer(app.http.get(format!("{root}/login?session_id=12345")).send().await.unwrap()).await;
    assert_eq!(unknown, json!({"state": "not found", "msg": "session not found"}));
    let unknown_call = answer(app.http.post(format!("{root}/noSuchCall")).json(&json!({})).send().await.unwrap()).await;
    assert_eq!(unknown_call, json!({"state": "error", "msg": "unknown call"}));
    let not_gradido = answer(app.http.get(format!("{root}/v1/accounts")).send().await.unwrap()).await;
    assert_eq!(not_gradido["msg"], "unknown call", "only the Gradido calls are on that port");
}

/// The wire every client relies on: CORS for the frontend on another origin, an unparsable
/// body, GET and POST forms.
#[tokio::test]
async fn the_wire_answers_preflights_bad_bodies_and_both_forms() {
    let app = TestApp::spawn().await;
    let preflight = app
        .http
        .request(reqwest::Method::OPTIONS, format!("{}/login_api/unsecureLogin", app.base_url))
        .header("origin", "https://gradido.example")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), StatusCode::OK);
    assert_eq!(preflight.headers()["access-control-allow-origin"], "*");
    let allowed = preflight.headers()["access-control-allow-headers"].to_str().unwrap().to_lowercase();
    assert!(allowed.contains("content-type"), "{allowed}");
    let plain = app.http.post(format!("{}/login_api/login", app.base_url)).json(&json!({})).send().await.unwrap();
    assert_eq!(plain.headers()["access-control-allow-origin"], "*");

    let garbage = app.http.post(format!("{}/login_api/login", app.base_url)).body("{not json").send().await.unwrap();
    assert_eq!(answer(garbage).await, json!({"state": "error", "msg": "empty body"}));
    let empty = app.http.post(format!("{}/login_api/createTransaction", app.base_url)).send().await.unwrap();
    assert_eq!(answer(empty).await, json!({"state": "error", "msg": "empty body"}));
    assert_eq!(get(&app, "login").await, json!({"state": "error", "msg": "empty session id"}));
    assert_eq!(post(&app, "login", json!({})).await, json!({"state": "error", "msg": "missing session_id"}));
    assert_eq!(post(&app, "nothing", json!({})).await, json!({"state": "error", "msg": "unknown call"}));
}

/// loginAPI.js `getUserInfos`, `updateUserInfos`, `changeUsernameProfile`, `updateLanguage`,
/// `changePasswordProfile`; ProfileController.php (with `email`); UserResolver.ts
/// `updateUserInfos` (no `email`); TransactionCreationsController.php asking another user's
/// `user.pubkeyhex`, `user.disabled` and `user.identHash`.
#[tokio::test]
async fn profile_reads_and_updates_reach_the_user() {
    let app = TestApp::spawn().await;
    crate::common::register_user(&app, "alice", false).await;
    crate::common::register_user(&app, "bob", false).await;
    let login = post(&app, "unsecureLogin", json!({"email": "alice@example.com", "password": "alice-password"})).await;
    let session = session_id(&login);
    let bob = post(&app, "unsecureLogin", json!({"email": "bob@example.com", "password": "bob-password"})).await;

    let frontend = json!({"session_id": session, "email": "alice@example.com",
                          "update": {"User.first_name": "Alicia", "User.last_name": "Liddell"}});
    assert_eq!(
        post(&app, "updateUserInfos", frontend).await,
        json!({"state": "success", "valid_values": 2, "errors": []})
    );
    let backend = json!({"session_id": session, "update": {"User.description": "gardener", "User.language": "en"}});
    assert_eq!(post(&app, "updateUserInfos", backend).await["valid_values"], 2);
    let infos = post(
        &app,
        "getUserInfos",
        json!({"session_id": session, "email": "alice@example.com",
                                                  "ask": ["user.first_name", "user.last_name"]}),
    )
    .await;
    assert_eq!(
        infos,
        json!({"state": "success", "userData": {"first_name": "Alicia", "last_name": "Liddell"},
                             "server": {}, "errors": []})
    );
    let relogin =
        post(&app, "unsecureLogin", json!({"email": "alice@example.com", "password": "alice-password"})).await;
    assert_eq!(
        (relogin["user"]["description"].as_str(), relogin["user"]["language"].as_str()),
        (Some("gardener"), Some("en"))
    );

    let about_bob = post(
        &app,
        "getUserInfos",
        json!({"session_id": session, "email": "bob@example.com",
                                                      "ask": ["user.pubkeyhex", "user.disabled", "user.identHash"]}),
    )
    .await;
    assert_eq!(about_bob["userData"]["pubkeyhex"], bob["user"]["public_hex"]);
    assert_eq!(about_bob["userData"]["disabled"], false);
    assert_eq!(about_bob["userData"]["identHash"], bob["user"]["ident_hash"]);
    assert!(about_bob["userData"].get("email_checked").is_none(), "only for the user themselves and admins");
    let nobody = post(&app, "getUserInfos", json!({"session_id": session, "email": "x@example.com", "ask": []})).await;
    assert_eq!(nobody, json!({"state": "not found", "msg": "user not found"}));

    let others = json!({"session_id": session, "email": "bob@example.com", "update": {"User.first_name": "Mallory"}});
    assert_eq!(
        post(&app, "updateUserInfos", others).await,
        json!({"state": "not same", "msg": "email don't belong to logged in user"})
    );
    let bad_language = json!({"session_id": session, "update": {"User.first_name": "Ann", "User.language": "xx"}});
    let refused = post(&app, "updateUserInfos", bad_language).await;
    assert_eq!(
        (refused["state"].as_str(), refused["msg"].as_str()),
        (Some("error"), Some("User.language isn't a valid language"))
    );
    let unchanged = post(&app, "getUserInfos", json!({"session_id": session, "ask": ["user.first_name"]})).await;
    assert_eq!(unchanged["userData"]["first_name"], "Alicia", "a refused update changes nothing");

    // The cookie names the session when the body does not.
    let by_cookie = app
        .http
        .post(format!("{}/login_api/updateUserInfos", app.base_url))
        .header("cookie", format!("GRADIDO_LOGIN={session}"))
        .json(&json!({"update": {"User.last_name": "Pleasance"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer(by_cookie).await["valid_values"], 1);

    let password = json!({"session_id": session, "update": {"User.password_old": "alice-password", "User.password": "Bb12345_new"}});
    assert_eq!(post(&app, "updateUserInfos", password).await["state"], "success");
    let with_new = post(&app, "unsecureLogin", json!({"email": "alice@example.com", "password": "Bb12345_new"})).await;
    assert_eq!(with_new["state"], "success");
    let no_old = json!({"session_id": session, "update": {"User.password": "Cc12345_new"}});
    assert_eq!(post(&app, "updateUserInfos", no_old).await["msg"], "User.password_old not found");
    let disable = json!({"session_id": session, "update": {"User.disabled": true}});
    assert_eq!(post(&app, "updateUserInfos", disable).await["msg"], "User.disabled can only be changed by an admin");
}

/// loginAPI.js `checkUsername` (GET) and `changeUsernameProfile`: a username is set once.
#[tokio::test]
async fn a_username_is_checked_then_set_once() {
    let app = TestApp::spawn().await;
    admin_with_group(&app).await;
    let sign_up = json!({"email": "erika@example.com", "first_name": "Erika", "last_name": "M",
                         "password": "Aa12345_", "emailType": 2, "login_after_register": true});
    let session = session_id(&post(&app, "createUser", sign_up).await);
    assert_eq!(get(&app, "checkUsername?username=erika&group_id=1").await, json!({"state": "success"}));
    assert_eq!(
        get(&app, "checkUsername?username=admin&group_id=1").await,
        json!({"state": "warning", "msg": "username already in use"})
    );
    assert_eq!(
        get(&app, "checkUsername?username=erika&group_id=7").await,
        json!({"state": "error", "msg": "unknown group"})
    );
    assert_eq!(get(&app, "checkUsername?username=erika").await, json!({"state": "error", "msg": "no group given"}));

    let set = json!({"session_id": session, "email": "erika@example.com", "update": {"User.username": "erika"}});
    assert_eq!(post(&app, "updateUserInfos", set).await["valid_values"], 1);
    assert_eq!(get(&app, "checkUsername?username=erika&group_id=1").await["state"], "warning");
    let again = json!({"session_id": session, "update": {"User.username": "erika2"}});
    assert_eq!(post(&app, "updateUserInfos", again).await["msg"], "change username currently not supported!");
    let login = post(&app, "unsecureLogin", json!({"username": "erika", "password": "Aa12345_"})).await;
    assert_eq!(login["user"]["username"], "erika");
}

/// loginAPI.js `loginViaEmailVerificationCode` (UserResolver.ts `checkEmail`), `sendEmail`
/// and `changePassword` (`resetPassword`).
#[tokio::test]
async fn email_activation_and_password_reset_finish() {
    let app = TestApp::spawn().await;
    let sign_up = json!({"email": "erika@example.com", "first_name": "Erika", "last_name": "M",
                         "password": "Aa12345_", "emailType": 2, "login_after_register": true});
    let password_session = session_id(&post(&app, "createUser", sign_up).await);
    let code = last_code_mailed_to(&app, "erika@example.com").await;
    let checked = get(&app, &format!("loginViaEmailVerificationCode?emailVerificationCode={code}")).await;
    assert_eq!(checked["state"], "success", "{checked}");
    session_id(&checked);
    assert_eq!(checked["email_verification_code_type"], "register");
    assert_eq!(checked["info"], json!([]));
    assert_user_object(&checked["user"], "erika@example.com");
    assert_eq!(checked["user"]["email_checked"], true);
    assert_eq!(
        get(&app, &format!("loginViaEmailVerificationCode?emailVerificationCode={code}")).await,
        json!({"state": "error", "msg": "couldn't login with emailVerificationCode"})
    );
    assert_eq!(
        get(&app, "loginViaEmailVerificationCode?emailVerificationCode=abc").await,
        json!({"state": "error", "msg": "couldn't parse emailVerificationCode"})
    );
    assert_eq!(
        get(&app, "loginViaEmailVerificationCode").await,
        json!({"state": "error", "msg": "emailVerificationCode not found"})
    );

    let reset = json!({"email": "erika@example.com", "email_text": 7, "email_verification_code_type": "resetPassword"});
    assert_eq!(post(&app, "sendEmail", reset.clone()).await, json!({"state": "success"}));
    let unknown =
        json!({"email": "ghost@example.com", "email_text": 7, "email_verification_code_type": "resetPassword"});
    assert_eq!(
        post(&app, "sendEmail", unknown).await,
        json!({"state": "success"}),
        "an unknown address is not told apart"
    );
    assert_eq!(post(&app, "sendEmail", reset).await["msg"], "email already send less than a hour before");
    let bad_type = json!({"email": "erika@example.com", "email_text": 7, "email_verification_code_type": "x"});
    assert_eq!(post(&app, "sendEmail", bad_type).await["msg"], "invalid verification code type");

    let code = last_code_mailed_to(&app, "erika@example.com").await;
    let via_code = get(&app, &format!("loginViaEmailVerificationCode?emailVerificationCode={code}")).await;
    assert_eq!(via_code["email_verification_code_type"], "resetPassword", "{via_code}");
    assert_eq!(via_code["info"], json!([]), "a reset code activates nothing");
    let new_password =
        json!({"session_id": session_id(&via_code), "email": "erika@example.com", "password": "Zz98765_"});
    assert_eq!(post(&app, "resetPassword", new_password).await, json!({"state": "success"}));
    let login = post(&app, "unsecureLogin", json!({"email": "erika@example.com", "password": "Zz98765_"})).await;
    assert_eq!(login["state"], "success", "{login}");
    let without_code = json!({"session_id": password_session, "email": "erika@example.com", "password": "Yy98765_"});
    assert_eq!(post(&app, "resetPassword", without_code).await["msg"], "login state invalid");
}

/// JsonRequestClientComponent.php `getRunningUserTasks` and `getUsers`;
/// TransactionSendCoinsController.php `networkInfos` then `createTransaction` with
/// `target_group` and `blockchain_type`; AppRequestsController.php `createCoins`
/// (`target_date` as CakePHP encodes a date, `auto_sign`).
#[tokio::test]
async fn the_community_server_lists_groups_creates_and_transfers_with_its_own_fields() {
    let app = TestApp::spawn().await;
    let admin = admin_with_group(&app).await;
    let alice = crate::common::register_user(&app, "alice", false).await;
    crate::common::register_user(&app, "bob", false).await;
    let alice_session = session_id(
        &post(&app, "unsecureLogin", json!({"email": "alice@example.com", "password": "alice-password"})).await,
    );
    for session in [alice_session, admin] {
        let joined = post(
            &app,
            "createTransaction",
            json!({"session_id": session, "transaction_type": "groupMemberUpdate", "target_group": "gdd1"}),
        )
        .await;
        assert_eq!(joined["state"], "success", "{joined}");
    }
    let bob_session =
        session_id(&post(&app, "unsecureLogin", json!({"email": "bob@example.com", "password": "bob-password"})).await);
    post(
        &app,
        "createTransaction",
        json!({"session_id": bob_session, "transaction_type": "groupMemberUpdate", "target_group": "gdd1"}),
    )
    .await;

    let groups = post(&app, "networkInfos", json!({"ask": ["groups"]})).await;
    assert_eq!(groups, json!({"state": "success", "data": {"groups": ["gradido", "gdd1"]}, "errors": []}));
    assert_eq!(
        post(&app, "getRunningUserTasks", json!({"email": "alice@example.com"})).await,
        json!({"state": "success", "runningTasks": {}})
    );
    assert_eq!(post(&app, "getRunningUserTasks", json!({})).await, json!({"state": "error", "msg": "empty email"}));

    let today = chrono::Utc::now().date_naive();
    let create_coins = json!({"session_id": admin.to_string(), "transaction_type": "creation", "memo": "AGE",
                              "amount": 10_000_000, "target_pubkey": get_pubkey(&app, alice_session).await,
                              "target_date": format!("{today}T00:00:00+00:00"), "blockchain_type": "mysql", "auto_sign": true});
    let created = post(&app, "createTransaction", create_coins).await;
    assert_eq!(created["state"], "success", "{created}");
    crate::common::eventually(30, "the signed creation is confirmed", || async {
        let balance = post(&app, "getBalance", json!({"session_id": alice_session})).await;
        balance["balance"] == 10_000_000
    })
    .await;

    let transfer = |memo: &str, to: &str| {
        json!({"session_id": alice_session, "transaction_type": "transfer", "memo": memo, "amount": 1_000,
               "target_group": "gdd1", "target_email": to, "blockchain_type": "mysql"})
    };
    assert_eq!(
        post(&app, "createTransaction", transfer("hi", "bob@example.com")).await,
        json!({"state": "error", "msg": "memo is not set or not in expected range [5;150]"})
    );
    assert_eq!(
        post(&app, "createTransaction", transfer("for myself", "alice@example.com")).await,
        json!({"state": "error", "msg": "sender and receiver are the same"})
    );
    let mut other_chain = transfer("thank you", "bob@example.com");
    other_chain["blockchain_type"] = json!("ethereum");
    assert_eq!(
        post(&app, "createTransaction", other_chain).await,
        json!({"state": "error", "msg": "unknown blockchain type"})
    );
    let sent = post(&app, "createTransaction", transfer("thank you", "bob@example.com")).await;
    assert_eq!(sent["state"], "success", "{sent}");
    let running = post(&app, "getRunningUserTasks", json!({"email": "alice@example.com"})).await;
    assert_eq!(running["runningTasks"], json!({"prepare transaction": 1}), "waiting to be signed: {running}");

    let found = post(&app, "getUsers", json!({"session_id": admin, "search": "alice", "account_state": "all"})).await;
    assert_user_object(&found["users"][0], "alice@example.com");
    assert_eq!(found["users"][0]["group_alias"], "gdd1");
    let _ = alice;
    assert_eq!(
        post(&app, "getUsers", json!({"session_id": admin, "search": "", "account_state": "all"})).await,
        json!({"state": "not found", "msg": "Search string is empty and account_state is all or empty"})
    );
    assert_eq!(
        post(&app, "getUsers", json!({"session_id": admin, "search": "zzz"})).await,
        json!({"state": "success"})
    );
}

async fn get_pubkey(app: &TestApp, session: i64) -> String {
    get(app, &format!("login?session_id={session}")).await["user"]["public_hex"].as_str().unwrap().to_string()
}
