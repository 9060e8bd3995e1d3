//! Password hashing (argon2) off the async runtime, a bounded number at a time.
//!
//! One argon2 hash costs tens of milliseconds of CPU and 19 MiB of memory; run on the
//! runtime's threads, a handful of concurrent logins would stall every other request.
//! So hashes run on the blocking pool, and a semaphore lets only as many run at once as
//! there are cores: the rest wait asynchronously, holding neither a thread nor memory.
//! An unknown login is checked against a dummy hash, so the answer takes as long whether
//! the account exists or not. This module knows neither HTTP nor the store.

use std::sync::{Arc, OnceLock};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use tokio::sync::Semaphore;

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("hashing a password: {0}")]
    Hash(String),
}

/// The bounded pool: at most `permits` hashes at a time.
pub struct PasswordPool {
    permits: Arc<Semaphore>,
}

impl Default for PasswordPool {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        PasswordPool::new(cores)
    }
}

impl PasswordPool {
    pub fn new(permits: usize) -> PasswordPool {
        PasswordPool {
            permits: Arc::new(Semaphore::new(permits.max(1))),
        }
    }

    /// The argon2 hash of `password`, in PHC form.
    pub async fn hash(&self, password: &str) -> Result<String, PasswordError> {
        let password = password.to_string();
        self.run(move || hash_now(&password)).await?
    }

    /// Whether `password` matches `hash`; with no hash (an unknown login), the password
    /// is checked against a dummy hash and the answer is `false`, in the same time.
    pub async fn verify(&self, password: &str, hash: Option<String>) -> bool {
        let password = password.to_string();
        self.run(move || match hash {
            Some(hash) => verify_now(&password, &hash),
            None => {
                verify_now(&password, dummy_hash());
                false
            }
        })
        .await
        .unwrap_or(false)
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, PasswordError> {
        let _permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| PasswordError::Hash(e.to_string()))?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| PasswordError::Hash(e.to_string()))
    }
}

fn hash_now(password: &str) -> Result<String, PasswordError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

fn verify_now(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// A hash with the same parameters as real ones, made once, of a password nobody knows.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_now(&crate::secrets::new_secret()).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_and_an_unknown_login_never_does() {
        let pool = PasswordPool::new(1);
        let hash = pool.hash("correct horse").await.unwrap();
        assert!(pool.verify("correct horse", Some(hash.clone())).await);
        assert!(!pool.verify("wrong horse", Some(hash)).await);
        assert!(!pool.verify("correct horse", None).await);
    }
}
