//! HTTPS served by Cascade itself, so a self-hoster needs no second program for it.
//!
//! Two sources of certificates:
//! - PEM files (`--tls-cert`, `--tls-key`), read again whenever their bytes change, so a
//!   renewal by certbot or a hand-placed certificate takes effect without a restart. A
//!   new pair that does not parse, or whose key does not match its certificate (a renewal
//!   caught half-written), is logged and the pair in use is kept.
//! - ACME (`--acme`): certificates obtained and renewed automatically with `rustls-acme`,
//!   answering the TLS-ALPN-01 challenge on the listening port itself, and cached in the
//!   data folder so a restart does not order a new one.
//!
//! The handshake runs inside the connection's own task under the header-read timeout, so
//! a client that opens a socket and never says hello holds it no longer than a slow
//! plain-HTTP client would.

use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use anyhow::Context as _;
use futures_util::StreamExt as _;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest as _, Sha256};
use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;

/// The `Strict-Transport-Security` value sent on every response served over TLS: a year,
/// this host only (subdomains may be other people's services).
pub const HSTS: &str = "max-age=31536000";

/// Where the certificate comes from.
#[derive(Debug, Clone)]
pub enum TlsSource {
    /// A PEM certificate chain and its private key, checked for changes every `reload_every`.
    Files {
        cert: PathBuf,
        key: PathBuf,
        reload_every: Duration,
    },
    /// Certificates obtained and renewed over ACME.
    Acme(AcmeSettings),
}

/// How to reach an ACME certificate authority.
#[derive(Debug, Clone)]
pub struct AcmeSettings {
    /// The names the certificate covers; the first is the instance's domain.
    pub domains: Vec<String>,
    /// Contact addresses for the account, as `mailto:` URLs.
    pub contact: Vec<String>,
    /// The directory URL (Let's Encrypt's production directory by default).
    pub directory: String,
    /// A PEM certificate to trust for the directory's own HTTPS, besides the public roots:
    /// a private CA (step-ca, say) or a test server.
    pub directory_ca: Option<PathBuf>,
    /// Where the account key and certificates are kept between starts.
    pub cache: PathBuf,
}

/// Let's Encrypt's production directory.
pub const LETS_ENCRYPT: &str = "https://acme-v02.api.letsencrypt.org/directory";

/// A marker in each request's extensions that its connection is TLS.
#[derive(Debug, Clone, Copy)]
pub struct Encrypted;

/// Accepts TLS connections with the configured certificate source.
#[derive(Clone)]
pub struct Tls {
    config: Arc<ServerConfig>,
    /// For ACME: the configuration that answers TLS-ALPN-01 challenge handshakes.
    challenge: Option<Arc<ServerConfig>>,
}

impl Tls {
    /// Loads the certificate (a missing or bad file is an error at start, where the user
    /// sees it) or starts ordering one, and spawns what keeps it current.
    pub fn start(source: &TlsSource) -> anyhow::Result<Tls> {
        match source {
            TlsSource::Files {
                cert,
                key,
                reload_every,
            } => {
                let files = Arc::new(FileCert::load(cert.clone(), key.clone())?);
                tokio::spawn(watch_files(Arc::downgrade(&files), *reload_every));
                Ok(Tls {
                    config: server_config(files),
                    challenge: None,
                })
            }
            TlsSource::Acme(settings) => start_acme(settings),
        }
    }

    /// Completes the handshake; `None` for a connection that only answered an ACME
    /// challenge (or otherwise has nothing to serve).
    pub async fn accept(&self, tcp: TcpStream) -> std::io::Result<Option<TlsStream<TcpStream>>> {
        let acceptor =
            tokio_rustls::LazyConfigAcceptor::new(rustls::server::Acceptor::default(), tcp);
        let start = acceptor.await?;
        if let Some(challenge) = &self.challenge {
            if rustls_acme::is_tls_alpn_challenge(&start.client_hello()) {
                let _ = start.into_stream(challenge.clone()).await;
                return Ok(None);
            }
        }
        start.into_stream(self.config.clone()).await.map(Some)
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn server_config(resolver: Arc<dyn ResolvesServerCert>) -> Arc<ServerConfig> {
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .with_no_client_auth()
        .with_cert_resolver(resolver);
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}

/// The certificate read from files, swapped whole when the files change.
#[derive(Debug)]
struct FileCert {
    cert: PathBuf,
    key: PathBuf,
    current: RwLock<Loaded>,
}

#[derive(Debug)]
struct Loaded {
    /// The digest of the files' bytes last seen, good or not, so a bad pair is reported
    /// once rather than on every check.
    seen: [u8; 32],
    key: Arc<CertifiedKey>,
}

impl FileCert {
    fn load(cert: PathBuf, key: PathBuf) -> anyhow::Result<FileCert> {
        let (seen, bytes) = read_pair(&cert, &key)?;
        let certified = certified_key(&bytes.0, &bytes.1)
            .with_context(|| format!("the TLS pair {} and {}", cert.display(), key.display()))?;
        Ok(FileCert {
            cert,
            key,
            current: RwLock::new(Loaded {
                seen,
                key: certified,
            }),
        })
    }

    /// Reads the files again and swaps the certificate if they changed and parse.
    fn refresh(&self) {
        let (seen, bytes) = match read_pair(&self.cert, &self.key) {
            Ok(read) => read,
            Err(e) => {
                tracing::warn!(error = %format!("{e:#}"), "reading the TLS files failed; keeping the certificate in use");
                return;
            }
        };
        if self.current.read().map(|c| c.seen == seen).unwrap_or(false) {
            return;
        }
        let mut current = match self.current.write() {
            Ok(current) => current,
            Err(poisoned) => poisoned.into_inner(),
        };
        current.seen = seen;
        match certified_key(&bytes.0, &bytes.1) {
            Ok(key) => {
                current.key = key;
                tracing::info!(cert = %self.cert.display(), "the TLS certificate was reloaded");
            }
            Err(e) => tracing::warn!(
                error = %format!("{e:#}"),
                "the changed TLS files are not a usable pair; keeping the certificate in use"
            ),
        }
    }
}

impl ResolvesServerCert for FileCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let current = match self.current.read() {
            Ok(current) => current,
            Err(poisoned) => poisoned.into_inner(),
        };
        Some(current.key.clone())
    }
}

type PairBytes = (Vec<u8>, Vec<u8>);

fn read_pair(cert: &PathBuf, key: &PathBuf) -> anyhow::Result<([u8; 32], PairBytes)> {
    let cert_bytes = std::fs::read(cert).with_context(|| format!("reading {}", cert.display()))?;
    let key_bytes = std::fs::read(key).with_context(|| format!("reading {}", key.display()))?;
    let mut digest = Sha256::new();
    digest.update((cert_bytes.len() as u64).to_be_bytes());
    digest.update(&cert_bytes);
    digest.update(&key_bytes);
    Ok((digest.finalize().into(), (cert_bytes, key_bytes)))
}

/// Parses a PEM chain and key and checks that the key is the certificate's.
fn certified_key(cert_pem: &[u8], key_pem: &[u8]) -> anyhow::Result<Arc<CertifiedKey>> {
    let chain = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .context("the certificate file is not PEM")?;
    anyhow::ensure!(
        !chain.is_empty(),
        "the certificate file holds no certificate"
    );
    let key =
        PrivateKeyDer::from_pem_slice(key_pem).context("the key file holds no PEM private key")?;
    let signing = provider()
        .key_provider
        .load_private_key(key)
        .context("the private key is of a kind that cannot sign")?;
    let certified = CertifiedKey::new(chain, signing);
    certified
        .keys_match()
        .context("the private key does not belong to the certificate")?;
    Ok(Arc::new(certified))
}

/// Checks the files every `every` while the server holds the certificate.
async fn watch_files(files: std::sync::Weak<FileCert>, every: Duration) {
    let mut tick = tokio::time::interval(every.max(Duration::from_millis(10)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        let Some(files) = files.upgrade() else { return };
        // Reading two small files: quick, but still file IO off the runtime's threads.
        let _ = tokio::task::spawn_blocking(move || files.refresh()).await;
    }
}

fn start_acme(settings: &AcmeSettings) -> anyhow::Result<Tls> {
    anyhow::ensure!(
        !settings.domains.is_empty(),
        "ACME needs a domain (--domain)"
    );
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(ca) = &settings.directory_ca {
        let pem = std::fs::read(ca).with_context(|| format!("reading {}", ca.display()))?;
        for cert in CertificateDer::pem_slice_iter(&pem) {
            let cert = cert.with_context(|| format!("{} is not PEM", ca.display()))?;
            roots
                .add(cert)
                .with_context(|| format!("{} is not a usable CA certificate", ca.display()))?;
        }
    }
    let client = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    std::fs::create_dir_all(&settings.cache)
        .with_context(|| format!("creating {}", settings.cache.display()))?;
    let mut state =
        rustls_acme::AcmeConfig::new_with_client_config(&settings.domains, Arc::new(client))
            .contact(&settings.contact)
            .directory(&settings.directory)
            .cache(rustls_acme::caches::DirCache::new(settings.cache.clone()))
            .state();
    let tls = Tls {
        config: server_config(state.resolver()),
        challenge: Some(state.challenge_rustls_config_with_provider(provider())),
    };
    let directory = settings.directory.clone();
    // The state is a stream: polling it loads the cache, orders, answers challenges (with
    // the resolver above) and renews before expiry, for as long as the server runs.
    tokio::spawn(async move {
        while let Some(event) = state.next().await {
            match event {
                Ok(ok) => tracing::info!(event = ?ok, %directory, "ACME"),
                Err(err) => tracing::warn!(error = ?err, %directory, "ACME failed; retrying"),
            }
        }
    });
    Ok(tls)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(name: &str) -> (String, String) {
        let cert = rcgen::generate_simple_self_signed(vec![name.to_string()]).unwrap();
        (cert.cert.pem(), cert.key_pair.serialize_pem())
    }

    #[test]
    fn a_matching_pair_loads_and_a_mismatched_one_does_not() {
        let (cert_a, key_a) = pair("a.example");
        let (_, key_b) = pair("b.example");
        assert!(certified_key(cert_a.as_bytes(), key_a.as_bytes()).is_ok());
        let err = certified_key(cert_a.as_bytes(), key_b.as_bytes()).unwrap_err();
        assert!(format!("{err:#}").contains("does not belong"), "{err:#}");
        assert!(certified_key(b"not pem", key_a.as_bytes()).is_err());
        assert!(certified_key(cert_a.as_bytes(), b"").is_err());
    }

    #[test]
    fn a_bad_change_keeps_the_pair_in_use_and_a_good_one_replaces_it() {
        let dir = tempfile::tempdir().unwrap();
        let (cert_path, key_path) = (dir.path().join("c.pem"), dir.path().join("k.pem"));
        let (cert_a, key_a) = pair("a.example");
        std::fs::write(&cert_path, &cert_a).unwrap();
        std::fs::write(&key_path, &key_a).unwrap();
        let files = FileCert::load(cert_path.clone(), key_path.clone()).unwrap();
        let first = files.current.read().unwrap().key.clone();

        let (cert_b, key_b) = pair("b.example");
        std::fs::write(&cert_path, &cert_b).unwrap(); // the key is not written yet
        files.refresh();
        assert!(Arc::ptr_eq(&first, &files.current.read().unwrap().key));

        std::fs::write(&key_path, &key_b).unwrap();
        files.refresh();
        let second = files.current.read().unwrap().key.clone();
        assert!(!Arc::ptr_eq(&first, &second));
        assert_eq!(
            second.cert[0].as_ref(),
            CertificateDer::from_pem_slice(cert_b.as_bytes())
                .unwrap()
                .as_ref()
        );

        std::fs::remove_file(&key_path).unwrap();
        files.refresh();
        assert!(Arc::ptr_eq(&second, &files.current.read().unwrap().key));
    }
}
