//! The admin key: from `LEDGER_ADMIN_KEY`, or generated once, printed once, and kept in the
//! data dir only as its SHA-256 digest. For a rotation without downtime a server can accept
//! a previous key beside the current one (`--previous-admin-key`) until its clients moved
//! (docs/operations.md).

use std::io::Write;
use std::path::Path;

use rand::RngCore;
use sha2::{Digest, Sha256};

const KEY_BYTES: usize = 32;
const DIGEST_FILE: &str = "admin-key.sha256";

#[derive(Clone)]
pub struct AdminKey {
    digest: [u8; 32],
    /// A key being retired: accepted too, until the server runs without it.
    previous: Option<[u8; 32]>,
}

impl AdminKey {
    pub fn from_secret(secret: &str) -> Self {
        Self { digest: Sha256::digest(secret.as_bytes()).into(), previous: None }
    }

    /// Accepts `previous` too, during a rotation. An empty secret adds nothing.
    pub fn also_accepting(mut self, previous: Option<&str>) -> Self {
        self.previous =
            previous.filter(|secret| !secret.is_empty()).map(|secret| Sha256::digest(secret.as_bytes()).into());
        self
    }

    /// Compares digests, so the comparison's timing reveals nothing usable about the key.
    pub fn verify(&self, presented: &str) -> bool {
        let presented: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        let current = presented == self.digest;
        let previous = self.previous.is_some_and(|previous| presented == previous);
        current | previous
    }
}

impl AdminKey {
    /// Whether the request carries `Authorization: Bearer <this key>`.
    pub fn verify_bearer(&self, headers: &axum::http::HeaderMap) -> bool {
        headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .is_some_and(|key| self.verify(key))
    }
}

/// The configured key, the stored one, or a new one. The new secret is returned once, for
/// the caller to print; it is never written anywhere.
pub fn load_or_generate(data_dir: &Path, configured: Option<&str>) -> std::io::Result<(AdminKey, Option<String>)> {
    if let Some(secret) = configured.filter(|secret| !secret.is_empty()) {
        return Ok((AdminKey::from_secret(secret), None));
    }
    let digest_path = data_dir.join(DIGEST_FILE);
    if let Ok(text) = std::fs::read_to_string(&digest_path) {
        let digest = hex::decode(text.trim()).ok().and_then(|bytes| <[u8; 32]>::try_from(bytes).ok());
        if let Some(digest) = digest {
            return Ok((AdminKey { digest, previous: None }, None));
        }
    }
    let mut bytes = [0_u8; KEY_BYTES];
    rand::thread_rng().fill_bytes(&mut bytes);
    let secret = hex::encode(bytes);
    let key = AdminKey::from_secret(&secret);
    std::fs::create_dir_all(data_dir)?;
    let mut file = restricted_file(&digest_path)?;
    writeln!(file, "{}", hex::encode(key.digest))?;
    Ok((key, Some(secret)))
}

#[cfg(unix)]
fn restricted_file(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)
}
