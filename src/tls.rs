//! HTTPS for `serve --tls-cert --tls-key` (rustls): the web client builds its API and
//! WebSocket URLs from an `https` origin. Handshakes run off the accept loop, each bounded
//! in time, so a slow or silent client holds up nobody else.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;
use tracing::{debug, warn};

use app::AppError;

/// Longest a client may take to finish the TLS handshake.
const HANDSHAKE_TIMEOUT_MS: u64 = 10_000;
/// Connections handshaken and not yet taken by the server.
const MAX_READY_CONNECTIONS: usize = 1_024;
/// A pause after a failed `accept` (out of file descriptors), so the loop does not spin.
const ACCEPT_RETRY_MS: u64 = 100;

/// The certificate chain and key from PEM files, for HTTP/1.1.
pub fn server_config(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>, AppError> {
    let unreadable = |what: &str, error: &dyn std::fmt::Display| AppError::Unavailable(format!("{what}: {error}"));
    let chain = CertificateDer::pem_file_iter(cert)
        .map_err(|error| unreadable("--tls-cert", &error))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| unreadable("--tls-cert", &error))?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(|error| unreadable("--tls-key", &error))?;
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| unreadable("tls", &error))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|error| unreadable("--tls-cert/--tls-key", &error))?;
    Ok(Arc::new(config))
}

/// A listener of finished TLS connections, for `axum::serve`.
pub struct TlsListener {
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local_addr: SocketAddr,
}

impl TlsListener {
    pub fn new(tcp: TcpListener, config: Arc<ServerConfig>) -> std::io::Result<Self> {
        let local_addr = tcp.local_addr()?;
        let (sender, ready) = mpsc::channel(MAX_READY_CONNECTIONS);
        let acceptor = TlsAcceptor::from(config);
        tokio::spawn(async move {
            loop {
                let (stream, peer) = match tcp.accept().await {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        warn!(%error, "accept failed");
                        tokio::time::sleep(Duration::from_millis(ACCEPT_RETRY_MS)).await;
                        continue;
                    }
                };
                // As `api::router::without_nagle`: an answer's pieces go out at once.
                if let Err(error) = stream.set_nodelay(true) {
                    debug!(%error, %peer, "TCP_NODELAY not set");
                }
                let (acceptor, sender) = (acceptor.clone(), sender.clone());
                tokio::spawn(async move {
                    let handshake = acceptor.accept(stream);
                    match tokio::time::timeout(Duration::from_millis(HANDSHAKE_TIMEOUT_MS), handshake).await {
                        Ok(Ok(tls)) => {
                            let _ = sender.send((tls, peer)).await;
                        }
                        Ok(Err(error)) => debug!(%error, %peer, "TLS handshake failed"),
                        Err(_) => debug!(%peer, "TLS handshake timed out"),
                    }
                });
            }
        });
        Ok(Self { ready, local_addr })
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(connection) => connection,
            // The accept loop never ends while the listener lives.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local_addr)
    }
}
