//! Secrets: random tokens, client ids and codes, and how the store keeps them (hashed).
//! Shared by the HTTP layer, which verifies them, and the use cases, which mint them; it
//! knows neither.

use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A new random secret (tokens, client ids, codes), URL-safe.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// How secrets are stored: SHA-256, hex. Secrets are random and long, so a fast hash is
/// enough; passwords, which are not, use argon2.
pub fn hash_secret(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}
