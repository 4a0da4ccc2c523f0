//! Secrets handed to browsers and clients (session cookies, one-time codes, tickets): random,
//! and kept server-side only as SHA-256 digests.

use rand::RngCore;
use sha2::{Digest, Sha256};

/// 32 random bytes as hex.
pub fn random_token() -> String {
    let mut bytes = [0_u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}
