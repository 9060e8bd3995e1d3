//! Web Push on the wire: encrypting a payload for one browser (RFC 8291, `aes128gcm`
//! records of RFC 8188) and signing the request for the push service (VAPID, RFC 8292).
//!
//! Pure functions over bytes and keys: no HTTP, no store. `app::push` decides what to send
//! and when; this module only makes the body and the `Authorization` header a push service
//! accepts. The legacy `aesgcm` draft encoding is not implemented.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes128Gcm, Nonce};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hkdf::Hkdf;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::{PublicKey, SecretKey};
use rand::RngCore;
use sha2::Sha256;

/// The record size announced in the header: the whole payload fits one record.
const RECORD_SIZE: u32 = 4096;
/// The largest plaintext one record holds: the record size less the tag (16) and the
/// padding delimiter (1).
pub const MAX_PAYLOAD: usize = RECORD_SIZE as usize - 17;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WebPushError {
    #[error("the p256dh key is not a P-256 public key")]
    BadPublicKey,
    #[error("the auth secret is not 16 bytes of base64")]
    BadAuth,
    #[error("the stored private key is not a P-256 key")]
    BadPrivateKey,
    #[error("the endpoint is not an absolute http(s) URL")]
    BadEndpoint,
    #[error("the payload is larger than one record")]
    TooLarge,
    #[error("encryption failed")]
    Crypto,
}

/// Decodes base64 as browsers and clients send it: URL-safe or standard, padded or not.
pub fn decode_b64(text: &str) -> Option<Vec<u8>> {
    let normal: String = text
        .trim()
        .trim_end_matches('=')
        .chars()
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            c => c,
        })
        .collect();
    URL_SAFE_NO_PAD.decode(normal).ok()
}

pub fn encode_b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The browser's key and auth secret, checked: what `POST /api/v1/push/subscription`
/// refuses with 422 when wrong (Mastodon 4.3 and later do too).
pub fn check_keys(p256dh: &str, auth: &str) -> Result<(), WebPushError> {
    public_key(p256dh)?;
    auth_secret(auth)?;
    Ok(())
}

fn public_key(b64: &str) -> Result<PublicKey, WebPushError> {
    let bytes = decode_b64(b64).ok_or(WebPushError::BadPublicKey)?;
    PublicKey::from_sec1_bytes(&bytes).map_err(|_| WebPushError::BadPublicKey)
}

fn auth_secret(b64: &str) -> Result<[u8; 16], WebPushError> {
    decode_b64(b64)
        .and_then(|b| <[u8; 16]>::try_from(b.as_slice()).ok())
        .ok_or(WebPushError::BadAuth)
}

/// The origin of an endpoint (`https://push.example.net`): the VAPID audience. Only
/// http and https endpoints are accepted.
pub fn origin(endpoint: &str) -> Result<String, WebPushError> {
    let url = reqwest::Url::parse(endpoint).map_err(|_| WebPushError::BadEndpoint)?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(WebPushError::BadEndpoint);
    }
    Ok(url.origin().ascii_serialization())
}

/// Encrypts `payload` for the browser whose key is `p256dh` and secret `auth` (both
/// base64), as one `aes128gcm` record with a fresh ephemeral key and salt.
pub fn encrypt(payload: &[u8], p256dh: &str, auth: &str) -> Result<Vec<u8>, WebPushError> {
    let mut salt = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut salt);
    let ephemeral = SecretKey::random(&mut rand::rngs::OsRng);
    encrypt_with(payload, p256dh, auth, &ephemeral, salt)
}

/// RFC 8291 section 3 with a given ephemeral key and salt (the RFC's example fixes both).
fn encrypt_with(
    payload: &[u8],
    p256dh: &str,
    auth: &str,
    ephemeral: &SecretKey,
    salt: [u8; 16],
) -> Result<Vec<u8>, WebPushError> {
    if payload.len() > MAX_PAYLOAD {
        return Err(WebPushError::TooLarge);
    }
    let ua_public = public_key(p256dh)?;
    let auth = auth_secret(auth)?;
    let ua_bytes = ua_public.to_encoded_point(false);
    let as_bytes = ephemeral.public_key().to_encoded_point(false);
    let shared = p256::ecdh::diffie_hellman(ephemeral.to_nonzero_scalar(), ua_public.as_affine());

    // IKM = HKDF(auth, ecdh_secret, "WebPush: info" || 0 || ua_public || as_public, 32).
    let mut key_info = b"WebPush: info\0".to_vec();
    key_info.extend_from_slice(ua_bytes.as_bytes());
    key_info.extend_from_slice(as_bytes.as_bytes());
    let mut ikm = [0u8; 32];
    Hkdf::<Sha256>::new(Some(&auth), shared.raw_secret_bytes())
        .expand(&key_info, &mut ikm)
        .map_err(|_| WebPushError::Crypto)?;
    // RFC 8188: the content-encryption key and the nonce, from the salt.
    let prk = Hkdf::<Sha256>::new(Some(&salt), &ikm);
    let mut cek = [0u8; 16];
    let mut nonce = [0u8; 12];
    prk.expand(b"Content-Encoding: aes128gcm\0", &mut cek)
        .map_err(|_| WebPushError::Crypto)?;
    prk.expand(b"Content-Encoding: nonce\0", &mut nonce)
        .map_err(|_| WebPushError::Crypto)?;

    // One record, the last: the plaintext and the delimiter 2, no further padding.
    let mut record = payload.to_vec();
    record.push(2);
    let cipher = Aes128Gcm::new_from_slice(&cek).map_err(|_| WebPushError::Crypto)?;
    let sealed = cipher
        .encrypt(Nonce::from_slice(&nonce), record.as_slice())
        .map_err(|_| WebPushError::Crypto)?;

    let mut body = Vec::with_capacity(16 + 4 + 1 + 65 + sealed.len());
    body.extend_from_slice(&salt);
    body.extend_from_slice(&RECORD_SIZE.to_be_bytes());
    body.push(as_bytes.len() as u8);
    body.extend_from_slice(as_bytes.as_bytes());
    body.extend_from_slice(&sealed);
    Ok(body)
}

/// The instance's VAPID key pair: it signs every push request, and browsers tie each
/// subscription to its public half (`server_key`, `configuration.vapid.public_key`).
#[derive(Clone)]
pub struct Vapid {
    key: SigningKey,
    /// The uncompressed public point, URL-safe base64: what clients pass to the browser.
    pub public_key: String,
}

impl std::fmt::Debug for Vapid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vapid")
            .field("public_key", &self.public_key)
            .finish_non_exhaustive()
    }
}

impl Vapid {
    /// A new random key pair and its private scalar (base64) to store.
    pub fn generate() -> (Vapid, String) {
        let secret = SecretKey::random(&mut rand::rngs::OsRng);
        let private = encode_b64(&secret.to_bytes());
        (Vapid::from_secret(secret), private)
    }

    /// The key pair from its stored private scalar.
    pub fn from_private(b64: &str) -> Result<Vapid, WebPushError> {
        let bytes = decode_b64(b64).ok_or(WebPushError::BadPrivateKey)?;
        let secret = SecretKey::from_slice(&bytes).map_err(|_| WebPushError::BadPrivateKey)?;
        Ok(Vapid::from_secret(secret))
    }

    fn from_secret(secret: SecretKey) -> Vapid {
        let public_key = encode_b64(secret.public_key().to_encoded_point(false).as_bytes());
        Vapid {
            key: SigningKey::from(secret),
            public_key,
        }
    }

    /// The `Authorization` header for a request to `endpoint`: `vapid t=<JWT>, k=<key>`,
    /// the JWT signed with ES256 for the endpoint's origin, valid for 12 hours.
    pub fn authorization(
        &self,
        endpoint: &str,
        subject: &str,
        now_secs: i64,
    ) -> Result<String, WebPushError> {
        let header = encode_b64(br#"{"typ":"JWT","alg":"ES256"}"#);
        let claims = serde_json::json!({
            "aud": origin(endpoint)?,
            "exp": now_secs + 12 * 3600,
            "sub": subject,
        });
        let claims = encode_b64(claims.to_string().as_bytes());
        let signing_input = format!("{header}.{claims}");
        let signature: Signature = self.key.sign(signing_input.as_bytes());
        Ok(format!(
            "vapid t={signing_input}.{}, k={}",
            encode_b64(&signature.to_bytes()),
            self.public_key
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 8291, Appendix A: the example message, octet for octet.
    #[test]
    fn encryption_matches_the_rfc_example() {
        let ephemeral = SecretKey::from_slice(
            &decode_b64("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw").unwrap(),
        )
        .unwrap();
        let salt: [u8; 16] = decode_b64("DGv6ra1nlYgDCS1FRnbzlw")
            .unwrap()
            .try_into()
            .unwrap();
        let body = encrypt_with(
            b"When I grow up, I want to be a watermelon",
            "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
            "BTBZMqHH6r4Tts7J_aSIgg",
            &ephemeral,
            salt,
        )
        .unwrap();
        assert_eq!(
            encode_b64(&body[..86]),
            "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8"
        );
        assert_eq!(
            encode_b64(&body[86..]),
            "8pfeW0KbunFT06SuDKoJH9Ql87S1QUrdirN6GcG7sFz1y1sqLgVi1VhjVkHsUoEsbI_0LpXMuGvnzQ"
        );
    }

    #[test]
    fn keys_and_endpoints_are_checked() {
        assert!(check_keys(
            "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
            "BTBZMqHH6r4Tts7J_aSIgg=="
        )
        .is_ok());
        assert_eq!(
            check_keys("AAAA", "BTBZMqHH6r4Tts7J_aSIgg"),
            Err(WebPushError::BadPublicKey)
        );
        assert_eq!(
            origin("https://push.example.net:8443/wpush/v2/abc").unwrap(),
            "https://push.example.net:8443"
        );
        assert!(origin("ftp://x.example/").is_err());
        assert!(origin("not a url").is_err());
    }

    #[test]
    fn vapid_tokens_verify_with_the_public_key() {
        use p256::ecdsa::signature::Verifier;
        let (vapid, private) = Vapid::generate();
        let again = Vapid::from_private(&private).unwrap();
        assert_eq!(again.public_key, vapid.public_key);
        let header = vapid
            .authorization("https://push.example.net/x", "mailto:a@b.test", 1_000)
            .unwrap();
        let (t, k) = header
            .strip_prefix("vapid t=")
            .unwrap()
            .split_once(", k=")
            .unwrap();
        assert_eq!(k, vapid.public_key);
        let (signed, signature) = t.rsplit_once('.').unwrap();
        let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(&decode_b64(k).unwrap()).unwrap();
        let signature = Signature::from_slice(&decode_b64(signature).unwrap()).unwrap();
        assert!(key.verify(signed.as_bytes(), &signature).is_ok());
    }
}
