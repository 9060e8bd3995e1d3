//! Requests the server makes to other hosts (Web Push, federation; media fetching later),
//! kept away from the server's own network: no SSRF.
//!
//! A URL from a client names a host the server will connect to, so a hostile client could
//! point it at the loopback interface, the private network around it or a cloud metadata
//! service. The guard refuses such targets in three places, because each alone has a hole:
//!
//! - `check_url`, when the URL is accepted (a subscription, later an actor or media URL):
//!   `https` only, no IP literal in a forbidden range, no `localhost` names;
//! - `Outgoing::post`, before every request, which checks the URL again (a stored URL may
//!   predate the rules, and reqwest connects to an IP literal without resolving it);
//! - `GuardedResolver`, the client's DNS resolver, which drops every forbidden address a
//!   name resolves to, so the address checked is the address connected to: a name that
//!   resolved to a public address when it was accepted and resolves to `127.0.0.1` now
//!   (DNS rebinding) gets no connection.
//!
//! The client follows no redirects (a redirect would be a second, unchecked URL) and uses
//! no proxy (through a proxy the target's address is never resolved here).
//! `forbidden` is the one rule of which addresses are off limits.
//!
//! A test-only setting (`Config::allow_private_outgoing`) lets the black-box tests reach a
//! receiver on 127.0.0.1 over plain http; it is off by default and nothing else turns it on.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::Url;

/// Why an outgoing URL is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum OutgoingError {
    #[error("is not a valid URL")]
    BadUrl,
    #[error("must use https")]
    NotHttps,
    #[error("must name a public host")]
    LocalName,
    #[error("must not point at a loopback, private, link-local, multicast or unspecified address")]
    ForbiddenAddress,
}

/// Whether the server must never connect to `ip`: loopback, private (RFC 1918, unique
/// local, shared CGNAT space), link-local, multicast, unspecified, broadcast, reserved and
/// documentation ranges. IPv6 addresses that carry an IPv4 address (mapped, compatible,
/// NAT64, 6to4) are judged by the IPv4 address they reach.
pub fn forbidden(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    a == 0 // "this network", 0.0.0.0 included
        || a == 10
        || a == 127
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 169 && b == 254) // link-local, cloud metadata services
        || (a == 172 && (16..32).contains(&b))
        || (a == 192 && b == 168)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2) // documentation
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || (a == 198 && b == 51 && c == 100) // documentation
        || (a == 203 && b == 0 && c == 113) // documentation
        || a >= 224 // multicast, reserved and broadcast
}

fn forbidden_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    let embedded =
        |hi: u16, lo: u16| Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
    if let Some(v4) = ip.to_ipv4_mapped() {
        return forbidden_v4(v4);
    }
    if s[..6] == [0; 6] {
        // `::`, `::1` and the deprecated IPv4-compatible addresses (`::127.0.0.1`).
        return ip.is_unspecified() || ip.is_loopback() || forbidden_v4(embedded(s[6], s[7]));
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        // NAT64: the gateway connects to the IPv4 address inside.
        return forbidden_v4(embedded(s[6], s[7]));
    }
    if s[0] == 0x2002 {
        // 6to4: the relay reaches the IPv4 address inside.
        return forbidden_v4(embedded(s[1], s[2]));
    }
    (s[0] & 0xfe00) == 0xfc00 // unique local
        || (s[0] & 0xffc0) == 0xfe80 // link-local
        || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
        || (s[0] & 0xff00) == 0xff00 // multicast
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || (s[0] == 0x2001 && s[1] == 0) // Teredo: the IPv4 address inside is obfuscated
        || s[..4] == [0x100, 0, 0, 0] // discard-only
}

/// Checks a URL the server is asked to connect to later: `https`, a host that is neither
/// a forbidden IP literal nor a local name. `allow_private` (tests only) lets anything
/// http(s) through.
pub fn check_url(url: &str, allow_private: bool) -> Result<Url, OutgoingError> {
    let url = Url::parse(url).map_err(|_| OutgoingError::BadUrl)?;
    if allow_private {
        return match (url.scheme(), url.host()) {
            ("http" | "https", Some(_)) => Ok(url),
            _ => Err(OutgoingError::BadUrl),
        };
    }
    if url.scheme() != "https" {
        return Err(OutgoingError::NotHttps);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(OutgoingError::BadUrl);
    }
    // The parser has already normalised IPv4 literals (`2130706433`, `0x7f.1`) to dotted
    // form and bracketed IPv6 ones.
    let host = url.host_str().ok_or(OutgoingError::BadUrl)?;
    let literal = host.trim_start_matches('[').trim_end_matches(']');
    match literal.parse::<IpAddr>() {
        Ok(ip) if forbidden(ip) => Err(OutgoingError::ForbiddenAddress),
        Ok(_) => Ok(url),
        Err(_) if local_name(host) => Err(OutgoingError::LocalName),
        Err(_) => Ok(url),
    }
}

/// Names that reach this machine or its local network whatever DNS says: `localhost` and
/// its subdomains, and single-label names (completed from the local search domains).
fn local_name(name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost" || name.ends_with(".localhost") || !name.contains('.')
}

/// The HTTP client for outgoing requests, with the guard built in.
#[derive(Clone)]
pub struct Outgoing {
    client: reqwest::Client,
    allow_private: bool,
}

impl Outgoing {
    /// A client whose requests time out after `timeout`; `allow_private` is for tests.
    pub fn new(allow_private: bool, timeout: Duration) -> Result<Outgoing, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver { allow_private }))
            .user_agent(concat!("Cascade/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Outgoing {
            client,
            allow_private,
        })
    }

    /// A GET of `url`, if the guard lets it through.
    pub fn get(&self, url: &str) -> Result<reqwest::RequestBuilder, OutgoingError> {
        let url = check_url(url, self.allow_private)?;
        Ok(self.client.get(url))
    }

    /// A POST to `url`, if the guard lets it through.
    pub fn post(&self, url: &str) -> Result<reqwest::RequestBuilder, OutgoingError> {
        let url = check_url(url, self.allow_private)?;
        Ok(self.client.post(url))
    }
}

/// Resolves names through the system resolver and keeps only the addresses the server may
/// connect to; a name left with none fails to resolve.
struct GuardedResolver {
    allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let allowed: Vec<SocketAddr> = found
                .filter(|a| allow_private || !forbidden(a.ip()))
                .collect();
            if allowed.is_empty() {
                return Err(Box::new(OutgoingError::ForbiddenAddress)
                    as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    #[test]
    fn local_and_special_addresses_are_forbidden() {
        for text in [
            "0.0.0.0",
            "127.0.0.1",
            "127.255.0.9",
            "10.0.0.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "224.0.0.1",
            "239.255.255.250",
            "255.255.255.255",
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:10.1.2.3",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::7f00:1",
            "2002:7f00:1::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
        ] {
            assert!(forbidden(ip(text)), "{text} must be forbidden");
        }
    }

    #[test]
    fn public_addresses_are_allowed() {
        for text in [
            "1.1.1.1",
            "8.8.8.8",
            "93.184.216.34",
            "172.32.0.1",
            "100.128.0.1",
            "::ffff:8.8.8.8",
            "2606:4700:4700::1111",
            "2a00:1450:4001::200e",
        ] {
            assert!(!forbidden(ip(text)), "{text} must be allowed");
        }
    }

    #[test]
    fn urls_must_be_https_to_a_public_host() {
        assert!(check_url("https://push.example.net/x", false).is_ok());
        assert!(check_url("https://8.8.8.8/x", false).is_ok());
        let refused = [
            ("http://push.example.net/x", OutgoingError::NotHttps),
            ("http://127.0.0.1:8080/x", OutgoingError::NotHttps),
            ("https://127.0.0.1/x", OutgoingError::ForbiddenAddress),
            ("https://2130706433/x", OutgoingError::ForbiddenAddress),
            ("https://0x7f.1/x", OutgoingError::ForbiddenAddress),
            ("https://10.0.0.1/x", OutgoingError::ForbiddenAddress),
            ("https://[::1]/x", OutgoingError::ForbiddenAddress),
            (
                "https://[::ffff:127.0.0.1]/x",
                OutgoingError::ForbiddenAddress,
            ),
            ("https://[fe80::1]/x", OutgoingError::ForbiddenAddress),
            ("https://localhost/x", OutgoingError::LocalName),
            ("https://LOCALHOST./x", OutgoingError::LocalName),
            ("https://a.b.localhost/x", OutgoingError::LocalName),
            ("https://intranet/x", OutgoingError::LocalName),
            ("ftp://push.example.net/x", OutgoingError::NotHttps),
            ("not a url", OutgoingError::BadUrl),
        ];
        for (url, why) in refused {
            assert_eq!(check_url(url, false).err(), Some(why), "{url}");
        }
    }

    #[test]
    fn the_test_setting_lets_a_loopback_receiver_through() {
        assert!(check_url("http://127.0.0.1:9/push", true).is_ok());
        assert!(check_url("ftp://127.0.0.1/push", true).is_err());
    }

    #[tokio::test]
    async fn names_resolve_only_to_allowed_addresses() {
        let guarded = GuardedResolver {
            allow_private: false,
        };
        let name: Name = "localhost".parse().expect("a name");
        assert!(guarded.resolve(name).await.is_err());
        let open = GuardedResolver {
            allow_private: true,
        };
        let name: Name = "localhost".parse().expect("a name");
        let addrs: Vec<_> = open
            .resolve(name)
            .await
            .expect("localhost resolves")
            .collect();
        assert!(addrs.iter().all(|a| a.ip().is_loopback()));
    }

    proptest! {
        #[test]
        fn a_mapped_address_is_judged_as_the_ipv4_address_it_carries(bits: u32) {
            let v4 = Ipv4Addr::from(bits);
            prop_assert_eq!(
                forbidden(IpAddr::V6(v4.to_ipv6_mapped())),
                forbidden(IpAddr::V4(v4))
            );
            prop_assert_eq!(
                forbidden(IpAddr::V6(v4.to_ipv6_compatible())),
                forbidden(IpAddr::V4(v4))
            );
        }

        #[test]
        fn every_address_in_a_forbidden_block_is_forbidden(low: u32, v6_low: u128) {
            for (base, prefix) in [
                (0x0000_0000u32, 8u32),
                (0x0a00_0000, 8),
                (0x7f00_0000, 8),
                (0xa9fe_0000, 16),
                (0xac10_0000, 12),
                (0xc0a8_0000, 16),
                (0xe000_0000, 4),
            ] {
                let addr = base | (low >> prefix);
                prop_assert!(forbidden(IpAddr::V4(Ipv4Addr::from(addr))));
            }
            for (base, prefix) in [
                (0xfc00u128 << 112, 7u32),
                (0xfe80u128 << 112, 10),
                (0xff00u128 << 112, 8),
            ] {
                let addr = base | (v6_low >> prefix);
                prop_assert!(forbidden(IpAddr::V6(Ipv6Addr::from(addr))));
            }
        }

        #[test]
        fn the_classifier_agrees_with_the_standard_library_where_it_knows(bits: u32, v6: u128) {
            let v4 = Ipv4Addr::from(bits);
            if v4.is_loopback() || v4.is_private() || v4.is_link_local() || v4.is_multicast()
                || v4.is_unspecified() || v4.is_broadcast() || v4.is_documentation()
            {
                prop_assert!(forbidden(IpAddr::V4(v4)));
            }
            let v6 = Ipv6Addr::from(v6);
            if v6.is_loopback() || v6.is_multicast() || v6.is_unspecified() {
                prop_assert!(forbidden(IpAddr::V6(v6)));
            }
        }
    }
}
