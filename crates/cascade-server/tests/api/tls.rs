//! HTTPS in the binary: certificate files (reloaded when they change), HSTS, https URLs,
//! the handshake under the header-read timeout, and ACME against a real ACME server
//! (Debian's `pebble`, installed by `scripts/test`).

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use cascade_server::tls::{AcmeSettings, TlsSource};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::cli::{free_port, serve};
use crate::helpers::{eventually, spawn_with};

/// A self-signed certificate for `localhost` and its key, as PEM.
fn pair() -> (String, String) {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
        .expect("a certificate");
    (cert.cert.pem(), cert.key_pair.serialize_pem())
}

/// A client that trusts only `root` and reaches `localhost` at `addr`.
fn client_trusting(root: &str, addr: SocketAddr) -> reqwest::Client {
    reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(root.as_bytes()).expect("PEM"))
        .resolve("localhost", addr)
        .https_only(true)
        .build()
        .expect("a client")
}

async fn answers(client: &reqwest::Client, url: &str) -> bool {
    matches!(client.get(url).send().await, Ok(r) if r.status() == 200)
}

#[tokio::test]
async fn serves_https_with_hsts_and_https_urls_and_picks_up_a_renewed_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let (cert_a, key_a) = pair();
    std::fs::write(&cert_path, &cert_a).unwrap();
    std::fs::write(&key_path, &key_a).unwrap();
    let source = TlsSource::Files {
        cert: cert_path.clone(),
        key: key_path.clone(),
        reload_every: Duration::from_millis(50),
    };
    let app = spawn_with(|config| config.serve_tls(source)).await;
    let base = format!("https://localhost:{}", app.addr.port());
    cascade_server::app::accounts::register(
        &app.state,
        "alice",
        "a@example.org",
        "password123",
        Default::default(),
    )
    .await
    .expect("registered");

    let client = client_trusting(&cert_a, app.addr);
    let response = client
        .get(format!("{base}/api/v1/accounts/lookup?acct=alice"))
        .send()
        .await
        .expect("an HTTPS answer");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["strict-transport-security"],
        "max-age=31536000"
    );
    let account: serde_json::Value = response.json().await.unwrap();
    let url = account["url"].as_str().unwrap();
    assert!(url.starts_with("https://"), "URLs say https: {url}");

    // Plain HTTP on the TLS port gets no HTTP answer.
    let mut plain = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    plain
        .write_all(b"GET /api/v1/instance HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut got = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(30), plain.read_to_end(&mut got)).await;
    assert!(
        !got.starts_with(b"HTTP/"),
        "plain HTTP was answered: {got:?}"
    );

    // A renewal: the key is written first (a moment with a mismatched pair, which must not
    // take the server down), then the certificate; clients that trust only the new one
    // get through without a restart.
    let (cert_b, key_b) = pair();
    std::fs::write(&key_path, &key_b).unwrap();
    std::fs::write(&cert_path, &cert_b).unwrap();
    let renewed = client_trusting(&cert_b, app.addr);
    let instance = format!("{base}/api/v1/instance");
    eventually("the renewed certificate is served", || {
        answers(&renewed, &instance)
    })
    .await;
    // A new connection (the old client's pooled one predates the renewal).
    let old = client_trusting(&cert_a, app.addr);
    assert!(
        !answers(&old, &instance).await,
        "the old certificate is gone"
    );
}

#[tokio::test]
async fn a_client_that_never_says_hello_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = pair();
    std::fs::write(dir.path().join("c.pem"), cert).unwrap();
    std::fs::write(dir.path().join("k.pem"), key).unwrap();
    let source = TlsSource::Files {
        cert: dir.path().join("c.pem"),
        key: dir.path().join("k.pem"),
        reload_every: Duration::from_secs(5),
    };
    let app = spawn_with(|config| {
        config.serve_tls(source);
        config.header_read_timeout = Duration::from_millis(300);
    })
    .await;
    let mut silent = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let mut buf = [0u8; 16];
    // The guard only stops a broken server from hanging the suite; the server closes
    // the socket long before.
    let read = tokio::time::timeout(Duration::from_secs(60), silent.read(&mut buf))
        .await
        .expect("the server closed the silent connection");
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
}

#[tokio::test]
async fn the_binary_serves_https_from_its_flags_and_refuses_acme_without_a_domain() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = pair();
    std::fs::write(dir.path().join("c.pem"), &cert).unwrap();
    std::fs::write(dir.path().join("k.pem"), key).unwrap();
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let data = dir.path().join("data");
    let (_server, said) = serve(&[
        "--data",
        data.to_str().unwrap(),
        "--listen",
        &listen,
        "--tls-cert",
        dir.path().join("c.pem").to_str().unwrap(),
        "--tls-key",
        dir.path().join("k.pem").to_str().unwrap(),
    ])
    .await;
    assert!(
        said.last()
            .unwrap()
            .contains(&format!("https://127.0.0.1:{port}")),
        "{said:?}"
    );
    let client = client_trusting(&cert, listen.parse().unwrap());
    let url = format!("https://localhost:{port}/api/v1/instance");
    assert!(answers(&client, &url).await);

    let refused = tokio::process::Command::new(env!("CARGO_BIN_EXE_cascade"))
        .args(["serve", "--acme", "--data"])
        .arg(dir.path().join("other"))
        .args(["--listen", &format!("127.0.0.1:{}", free_port())])
        .env_remove("CASCADE_DATABASE_URL")
        .output()
        .await
        .unwrap();
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("--acme needs --domain"), "{stderr}");
}

/// Debian's pebble, started with its own HTTPS certificate, validating TLS-ALPN-01
/// challenges on `tls_port`.
struct Pebble {
    child: std::process::Child,
    directory: String,
    management: u16,
    ca: String,
}

impl Drop for Pebble {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_pebble(dir: &Path, tls_port: u16) -> Option<Pebble> {
    let found = std::process::Command::new("pebble")
        .arg("-version")
        .output()
        .is_ok();
    if !found {
        eprintln!(
            "\n!!!! SKIPPED: the ACME test needs Debian's `pebble` (scripts/test installs it)\n"
        );
        return None;
    }
    let (cert, key) = pair();
    std::fs::write(dir.join("pebble-cert.pem"), &cert).unwrap();
    std::fs::write(dir.join("pebble-key.pem"), key).unwrap();
    let (listen, management) = (free_port(), free_port());
    let config = serde_json::json!({"pebble": {
        "listenAddress": format!("127.0.0.1:{listen}"),
        "managementListenAddress": format!("127.0.0.1:{management}"),
        "certificate": dir.join("pebble-cert.pem"),
        "privateKey": dir.join("pebble-key.pem"),
        "httpPort": free_port(),
        "tlsPort": tls_port,
        "ocspResponderURL": "",
        "externalAccountBindingRequired": false
    }});
    std::fs::write(dir.join("pebble.json"), config.to_string()).unwrap();
    let child = std::process::Command::new("pebble")
        .arg("-config")
        .arg(dir.join("pebble.json"))
        .env("PEBBLE_VA_NOSLEEP", "1")
        .env("PEBBLE_WFE_NONCEREJECT", "0")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("pebble starts");
    Some(Pebble {
        child,
        directory: format!("https://localhost:{listen}/dir"),
        management,
        ca: cert,
    })
}

#[tokio::test]
async fn obtains_a_certificate_over_acme_answering_the_tls_alpn_challenge() {
    let dir = tempfile::tempdir().unwrap();
    let mut pebble = None;
    let app = spawn_with(|config| {
        pebble = start_pebble(dir.path(), config.listen.port());
        if let Some(pebble) = &pebble {
            std::fs::write(dir.path().join("pebble-ca.pem"), &pebble.ca).unwrap();
            config.serve_tls(TlsSource::Acme(AcmeSettings {
                domains: vec!["localhost".into()],
                contact: vec!["mailto:admin@example.org".into()],
                directory: pebble.directory.clone(),
                directory_ca: Some(dir.path().join("pebble-ca.pem")),
                cache: dir.path().join("acme"),
            }));
        }
    })
    .await;
    let Some(pebble) = pebble else { return };

    // The issued chain ends at pebble's root, which its management port hands out.
    let management = client_trusting(&pebble.ca, "127.0.0.1:0".parse().unwrap());
    let roots = format!("https://localhost:{}/roots/0", pebble.management);
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let root = loop {
        let fetched = match management.get(&roots).send().await {
            Ok(r) if r.status() == 200 => r.text().await.unwrap_or_default(),
            _ => String::new(),
        };
        if fetched.contains("BEGIN CERTIFICATE") {
            break fetched;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "pebble never answered"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let client = client_trusting(&root, app.addr);
    let instance = format!("https://localhost:{}/api/v1/instance", app.addr.port());
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while !answers(&client, &instance).await {
        assert!(
            std::time::Instant::now() < deadline,
            "no certificate from the ACME server"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let cached = std::fs::read_dir(dir.path().join("acme")).unwrap().count();
    assert!(
        cached >= 2,
        "the account and certificate are cached: {cached}"
    );

    // A restart serves the cached certificate at once, with the ACME server gone.
    let directory = pebble.directory.clone();
    drop(pebble);
    drop(app);
    let again = spawn_with(|config| {
        config.serve_tls(TlsSource::Acme(AcmeSettings {
            domains: vec!["localhost".into()],
            contact: vec!["mailto:admin@example.org".into()],
            directory,
            directory_ca: Some(dir.path().join("pebble-ca.pem")),
            cache: dir.path().join("acme"),
        }));
    })
    .await;
    let client = client_trusting(&root, again.addr);
    let instance = format!("https://localhost:{}/api/v1/instance", again.addr.port());
    eventually("the cached certificate is served", || {
        answers(&client, &instance)
    })
    .await;
}
