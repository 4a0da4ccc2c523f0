//! The client address a request is throttled under (`app::credentials::CredentialGuard`).

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use app::credentials::CredentialGuard;
use axum::extract::{ConnectInfo, FromRef, FromRequestParts};
use axum::http::request::Parts;

pub struct ClientAddress(pub IpAddr);

impl<S> FromRequestParts<S> for ClientAddress
where
    S: Send + Sync,
    Arc<CredentialGuard>: FromRef<S>,
{
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Infallible> {
        let guard = Arc::<CredentialGuard>::from_ref(state);
        // Served without connection info (never in this service) every request would share
        // one address: the throttle then errs on the side of refusing.
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |ConnectInfo(peer)| peer.ip());
        let forwarded_for = parts.headers.get("x-forwarded-for").and_then(|value| value.to_str().ok());
        Ok(Self(guard.client(peer, forwarded_for)))
    }
}
