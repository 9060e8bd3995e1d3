//! HTTP Signatures as Mastodon signs them (draft-cavage, RSA-SHA256 over
//! `(request-target) host date digest`), and the `Digest` header: pure functions over
//! keys, texts and bytes. The signing string and the header's syntax are core's
//! (`cascade_core::activitypub`); deciding whom to believe is `app::federation`'s.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use cascade_core::activitypub::{self, SignatureError};
use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::pkcs8::{
    DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding,
};
use rsa::signature::{SignatureEncoding, Signer, Verifier};
use rsa::{RsaPrivateKey, RsaPublicKey};
use sha2::{Digest as _, Sha256};

/// Bits of the RSA keys Cascade makes: what Mastodon makes and expects.
pub const KEY_BITS: usize = 2048;

/// Why a key could not be made or read.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the key could not be made: {0}")]
    Generate(rsa::Error),
    #[error("the key is not a PEM RSA key")]
    BadPem,
}

/// A new key pair as `(public SPKI PEM, private PKCS#8 PEM)`. Slow (a second or so): run
/// it on the blocking pool.
pub fn generate() -> Result<(String, String), KeyError> {
    let private =
        RsaPrivateKey::new(&mut rand::thread_rng(), KEY_BITS).map_err(KeyError::Generate)?;
    let public = private
        .to_public_key()
        .to_public_key_pem(LineEnding::LF)
        .map_err(|_| KeyError::BadPem)?;
    let private = private
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|_| KeyError::BadPem)?
        .to_string();
    Ok((public, private))
}

pub fn private_key(pem: &str) -> Result<RsaPrivateKey, KeyError> {
    RsaPrivateKey::from_pkcs8_pem(pem).map_err(|_| KeyError::BadPem)
}

/// A public key in either PEM form peers publish: SPKI (`PUBLIC KEY`, Mastodon's) or
/// PKCS#1 (`RSA PUBLIC KEY`).
pub fn public_key(pem: &str) -> Result<RsaPublicKey, KeyError> {
    RsaPublicKey::from_public_key_pem(pem.trim())
        .or_else(|_| RsaPublicKey::from_pkcs1_pem(pem.trim()))
        .map_err(|_| KeyError::BadPem)
}

/// The base64 RSA-SHA256 (PKCS#1 v1.5) signature of `text`.
pub fn sign(key: &RsaPrivateKey, text: &str) -> String {
    let signer = SigningKey::<Sha256>::new(key.clone());
    STANDARD.encode(signer.sign(text.as_bytes()).to_bytes())
}

/// Whether `signature_b64` is `key`'s RSA-SHA256 signature of `text`.
pub fn verify(key: &RsaPublicKey, text: &str, signature_b64: &str) -> bool {
    let Ok(bytes) = STANDARD.decode(signature_b64.trim()) else {
        return false;
    };
    let Ok(signature) = Signature::try_from(bytes.as_slice()) else {
        return false;
    };
    VerifyingKey::<Sha256>::new(key.clone())
        .verify(text.as_bytes(), &signature)
        .is_ok()
}

/// The `Digest` header of a body: `SHA-256=<base64>`.
pub fn digest(body: &[u8]) -> String {
    format!("SHA-256={}", STANDARD.encode(Sha256::digest(body)))
}

/// Whether a `Digest` header matches the body: its SHA-256 entry must (other algorithms
/// in the list are ignored, and one of them alone is not enough).
pub fn digest_matches(header: &str, body: &[u8]) -> bool {
    let expected = digest(body);
    header.split(',').any(|part| {
        let part = part.trim();
        part.len() == expected.len()
            && part[..8].eq_ignore_ascii_case("SHA-256=")
            && part[8..] == expected[8..]
    })
}

/// The headers that sign a request: `Date`, `Digest` (with a body) and `Signature`, for a
/// request to `host` and `path_and_query` made at `now_ms` with the key `key_id`.
pub fn sign_request(
    key_id: &str,
    key: &RsaPrivateKey,
    method: &str,
    host: &str,
    path_and_query: &str,
    body: Option<&[u8]>,
    now_ms: i64,
) -> Result<Vec<(&'static str, String)>, SignatureError> {
    let date = activitypub::http_date(now_ms);
    let digest = body.map(digest);
    let mut names = vec!["(request-target)".to_string(), "host".into(), "date".into()];
    if digest.is_some() {
        names.push("digest".into());
    }
    let text = activitypub::signing_string(method, path_and_query, &names, |h| match h {
        "host" => Some(host.to_string()),
        "date" => Some(date.clone()),
        "digest" => digest.clone(),
        _ => None,
    })?;
    let signature = activitypub::signature_header(key_id, &names, &sign(key, &text));
    let mut headers = vec![("date", date)];
    if let Some(d) = digest {
        headers.push(("digest", d));
    }
    headers.push(("signature", signature));
    Ok(headers)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::sync::OnceLock;

    /// One key for all cases: making RSA keys is slow.
    fn key() -> &'static (RsaPrivateKey, RsaPublicKey) {
        static KEY: OnceLock<(RsaPrivateKey, RsaPublicKey)> = OnceLock::new();
        KEY.get_or_init(|| {
            let (public, private) = generate().unwrap();
            (private_key(&private).unwrap(), public_key(&public).unwrap())
        })
    }

    #[test]
    fn keys_read_back_from_their_pem() {
        let (private, public) = key();
        let pem = private.to_pkcs8_pem(LineEnding::LF).unwrap();
        assert_eq!(&private_key(&pem).unwrap(), private);
        let spki = public.to_public_key_pem(LineEnding::LF).unwrap();
        assert!(spki.starts_with("-----BEGIN PUBLIC KEY-----"));
        assert_eq!(&public_key(&spki).unwrap(), public);
        assert!(public_key("not a key").is_err());
    }

    #[test]
    fn a_digest_matches_its_body_only() {
        let d = digest(b"{}");
        assert_eq!(d, "SHA-256=RBNvo1WzZ4oRRq0W9+hknpT7T8If536DEMBg9hyq/4o=");
        assert!(digest_matches(&d, b"{}"));
        assert!(digest_matches(&format!("sha-256={}", &d[8..]), b"{}"));
        assert!(!digest_matches(&d, b"{ }"));
        assert!(!digest_matches("MD5=abc", b"{}"));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        #[test]
        fn a_signed_request_verifies_and_a_changed_one_does_not(
            path in "/[a-z0-9/]{0,30}",
            body in proptest::collection::vec(any::<u8>(), 0..200),
            now in 0i64..4_000_000_000_000,
        ) {
            let (private, public) = key();
            let headers = sign_request("https://a.example/actor#main-key", private, "POST", "b.example", &path, Some(&body), now).unwrap();
            let get = |name: &str| headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone());
            let parsed = activitypub::parse_signature(&get("signature").unwrap()).unwrap();
            prop_assert!(parsed.require(true).is_ok());
            prop_assert!(digest_matches(&get("digest").unwrap(), &body));
            let text = |path: &str, host: &str| activitypub::signing_string("POST", path, &parsed.headers, |h| match h {
                "host" => Some(host.to_string()),
                other => get(other),
            }).unwrap();
            prop_assert!(verify(public, &text(&path, "b.example"), &parsed.signature));
            let other_path = path.clone() + "x";
            prop_assert!(!verify(public, &text(&other_path, "b.example"), &parsed.signature));
            prop_assert!(!verify(public, &text(&path, "c.example"), &parsed.signature));
        }
    }
}
