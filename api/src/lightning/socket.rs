//! `wss://<origin>/`: the web client's live updates. The session cookie names the user at
//! the handshake (the original trusted the user id the client sent after it, which anyone
//! could spoof; that message is read and ignored). A plain `GET /` is the web app.

use std::sync::{Arc, LazyLock};

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::UPGRADE;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tracing::debug;

use super::push::WalletPush;
use super::session::WebSession;
use super::LightningState;

/// Sockets open at once, per server.
pub const MAX_WALLET_SOCKETS: usize = 1_024;

static OPEN_SOCKETS: LazyLock<Arc<Semaphore>> = LazyLock::new(|| Arc::new(Semaphore::new(MAX_WALLET_SOCKETS)));

#[utoipa::path(get, path = "/", tag = "mylightning", security((), ("lightning_session" = [])), responses((status = 101, description = "With `Upgrade: websocket`: the session user's wallet updates, `{\"method\": \"refresh\" | \"newtransactions\" | \"newchannels\", \"params\": [...]}`"), (status = 200, description = "The web app's page (`--web-root`)", content_type = "text/html", body = String), (status = 302, description = "Without a session: to `/login`"), (status = 401, description = "A WebSocket upgrade without a session"), (status = 404, description = "Signed in, but no `--web-root` is served")))]
pub async fn root(State(state): State<LightningState>, request: Request) -> Response {
    let upgrade =
        request.headers().get(UPGRADE).is_some_and(|value| value.as_bytes().eq_ignore_ascii_case(b"websocket"));
    if !upgrade {
        let root = state.web_root.clone();
        return super::web::serve_app(state, root, request).await;
    }
    let (mut parts, _) = request.into_parts();
    let session = match WebSession::from_request_parts(&mut parts, &state).await {
        Ok(session) => session,
        Err(error) => return error.into_response(),
    };
    let Ok(permit) = OPEN_SOCKETS.clone().try_acquire_owned() else {
        return (StatusCode::SERVICE_UNAVAILABLE, "too many open sockets").into_response();
    };
    let upgrade = match WebSocketUpgrade::from_request_parts(&mut parts, &state).await {
        Ok(upgrade) => upgrade,
        Err(rejection) => return rejection.into_response(),
    };
    let push = state.push.clone();
    upgrade.on_upgrade(move |socket| updates(socket, push, session.user_id, permit))
}

async fn updates(mut socket: WebSocket, push: Arc<WalletPush>, user_id: String, _permit: OwnedSemaphorePermit) {
    let mut notices = push.subscribe();
    loop {
        tokio::select! {
            notice = notices.recv() => {
                let message = match notice {
                    Ok(notice) if notice.user_id == user_id => notice.message.to_string(),
                    Ok(_) => continue,
                    // Fell behind: whatever was missed, a refresh shows it.
                    Err(RecvError::Lagged(_)) => serde_json::json!({"method": "refresh", "params": []}).to_string(),
                    Err(RecvError::Closed) => return,
                };
                if socket.send(Message::Text(message.into())).await.is_err() {
                    return;
                }
            }
            received = socket.recv() => match received {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                // The user id the client sends on open: the session already named the user.
                Some(Ok(other)) => debug!(?other, "wallet socket message ignored"),
            }
        }
    }
}
