//! ActivityPub rules that need no IO: how visibility maps to addressing and back (as
//! Mastodon maps it), which `Accept` headers ask for an actor document, remote HTML turned
//! into plain text, and the text side of HTTP Signatures (draft-cavage, as Mastodon signs):
//! parsing the `Signature` header, building the signing string, HTTP dates and their
//! allowed skew. The cryptography is the server's (`httpsig`).

use crate::Visibility;

/// The collection that addresses everyone.
pub const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";
/// The media type of ActivityPub documents.
pub const ACTIVITY_JSON: &str = "application/activity+json";
/// How far a signed request's `Date` may be from our clock (Mastodon allows 12 hours).
pub const MAX_DATE_SKEW_MS: i64 = 12 * 3_600_000;

/// Whether an `Accept` header asks for ActivityPub JSON rather than a page:
/// `application/activity+json`, or `application/ld+json` with the ActivityStreams profile.
pub fn wants_activity_json(accept: &str) -> bool {
    accept.split(',').any(|part| {
        let part = part.trim().to_ascii_lowercase();
        part.starts_with(ACTIVITY_JSON)
            || (part.starts_with("application/ld+json")
                && part.contains("https://www.w3.org/ns/activitystreams"))
    })
}

/// A status's visibility from its addressing, as Mastodon reads it: the public collection
/// in `to` is public, in `cc` unlisted; the author's followers collection is private;
/// anything else (only mentioned actors) is direct.
pub fn visibility_of(to: &[String], cc: &[String], followers: Option<&str>) -> Visibility {
    let has = |list: &[String], what: &str| {
        list.iter()
            .any(|a| a == what || (what == PUBLIC && (a == "Public" || a == "as:Public")))
    };
    if has(to, PUBLIC) {
        Visibility::Public
    } else if has(cc, PUBLIC) {
        Visibility::Unlisted
    } else if followers.is_some_and(|f| has(to, f) || has(cc, f)) {
        Visibility::Private
    } else {
        Visibility::Direct
    }
}

/// The `to` and `cc` of a status with this visibility by an author whose followers
/// collection is `followers`, mentioning `mentioned` (actor ids): the inverse of
/// `visibility_of`.
pub fn addressing(
    visibility: Visibility,
    followers: &str,
    mentioned: &[String],
) -> (Vec<String>, Vec<String>) {
    let mut cc: Vec<String> = mentioned.to_vec();
    let to = match visibility {
        Visibility::Public => {
            cc.insert(0, followers.to_string());
            vec![PUBLIC.to_string()]
        }
        Visibility::Unlisted => {
            cc.insert(0, PUBLIC.to_string());
            vec![followers.to_string()]
        }
        Visibility::Private => vec![followers.to_string()],
        Visibility::Direct => return (mentioned.to_vec(), Vec::new()),
    };
    (to, cc)
}

/// Remote HTML as plain text: tags dropped, paragraphs and line breaks kept as blank lines
/// and newlines, the common entities decoded. Cascade accepts no HTML; the text is escaped
/// and rendered again (`text::render_html`), so nothing a peer wrote reaches a page as
/// markup.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        out.push_str(&decode_entities(&rest[..start]));
        let Some(end) = rest[start..].find('>') else {
            rest = "";
            break;
        };
        let tag = rest[start + 1..start + end].trim().to_ascii_lowercase();
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        match (tag.starts_with('/'), name.as_str()) {
            (_, "br") => out.push('\n'),
            (true, "p") => out.push_str("\n\n"),
            _ => {}
        }
        rest = &rest[start + end + 1..];
    }
    out.push_str(&decode_entities(rest));
    out.trim().to_string()
}

fn decode_entities(text: &str) -> String {
    if !text.contains('&') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let after = &rest[at..];
        let entity = after.find(';').filter(|&e| e <= 10).map(|e| &after[..=e]);
        let decoded = entity.and_then(|e| {
            let c = match e {
                "&amp;" => '&',
                "&lt;" => '<',
                "&gt;" => '>',
                "&quot;" => '"',
                "&apos;" | "&#39;" => '\'',
                "&nbsp;" => ' ',
                _ => {
                    let num = e.strip_prefix("&#")?.strip_suffix(';')?;
                    let code = match num.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                        None => num.parse().ok()?,
                    };
                    char::from_u32(code)?
                }
            };
            Some((c, e.len()))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &after[len..];
            }
            None => {
                out.push('&');
                rest = &after[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Why a signature's text could not be read or built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the Signature header is malformed")]
    Malformed,
    #[error("the signature does not cover {0}")]
    NotCovered(&'static str),
    #[error("the signed header {0} is missing")]
    MissingHeader(String),
    #[error("the algorithm {0} is not supported")]
    Algorithm(String),
}

/// A `Signature` header's parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureHeader {
    pub key_id: String,
    /// Lowercase header names in signed order; `(request-target)` included.
    pub headers: Vec<String>,
    /// The base64 signature.
    pub signature: String,
}

/// Reads a `Signature` header: `keyId="…",algorithm="…",headers="…",signature="…"`. The
/// algorithm must be `rsa-sha256` or `hs2019` (which Mastodon signs with RSA-SHA256 too)
/// or absent; without `headers`, only `date` is signed, which `require` then refuses.
pub fn parse_signature(header: &str) -> Result<SignatureHeader, SignatureError> {
    let mut key_id = None;
    let mut headers = None;
    let mut signature = None;
    let mut rest = header.trim();
    while !rest.is_empty() {
        let (name, after) = rest.split_once('=').ok_or(SignatureError::Malformed)?;
        let after = after.strip_prefix('"').ok_or(SignatureError::Malformed)?;
        let end = after.find('"').ok_or(SignatureError::Malformed)?;
        let value = &after[..end];
        match name.trim() {
            "keyId" => key_id = Some(value.to_string()),
            "headers" => {
                headers = Some(
                    value
                        .split_whitespace()
                        .map(str::to_ascii_lowercase)
                        .collect(),
                )
            }
            "signature" => signature = Some(value.to_string()),
            "algorithm" => {
                let a = value.to_ascii_lowercase();
                if a != "rsa-sha256" && a != "hs2019" {
                    return Err(SignatureError::Algorithm(value.to_string()));
                }
            }
            _ => {}
        }
        rest = after[end + 1..]
            .trim_start()
            .trim_start_matches(',')
            .trim_start();
    }
    Ok(SignatureHeader {
        key_id: key_id.ok_or(SignatureError::Malformed)?,
        headers: headers.unwrap_or_else(|| vec!["date".to_string()]),
        signature: signature.ok_or(SignatureError::Malformed)?,
    })
}

impl SignatureHeader {
    /// Refuses a signature that leaves out what a request must sign: the request target,
    /// the host, the date and, for a request with a body, the digest.
    pub fn require(&self, with_body: bool) -> Result<(), SignatureError> {
        for (name, what) in [
            ("(request-target)", "(request-target)"),
            ("host", "host"),
            ("date", "date"),
            ("digest", "digest"),
        ] {
            if (name != "digest" || with_body) && !self.headers.iter().any(|h| h == name) {
                return Err(SignatureError::NotCovered(what));
            }
        }
        Ok(())
    }
}

/// The text a signature covers: one `name: value` line per signed header, in order,
/// `(request-target)` being the lowercase method and the path with its query.
pub fn signing_string(
    method: &str,
    path_and_query: &str,
    names: &[String],
    header: impl Fn(&str) -> Option<String>,
) -> Result<String, SignatureError> {
    let mut lines = Vec::with_capacity(names.len());
    for name in names {
        let value = if name == "(request-target)" {
            format!("{} {}", method.to_ascii_lowercase(), path_and_query)
        } else {
            header(name).ok_or_else(|| SignatureError::MissingHeader(name.clone()))?
        };
        lines.push(format!("{name}: {}", value.trim()));
    }
    Ok(lines.join("\n"))
}

/// The `Signature` header for a signature made over `names` with the key `key_id`.
pub fn signature_header(key_id: &str, names: &[String], signature_b64: &str) -> String {
    format!(
        "keyId=\"{key_id}\",algorithm=\"rsa-sha256\",headers=\"{}\",signature=\"{signature_b64}\"",
        names.join(" ")
    )
}

const HTTP_DATE: &[time::format_description::BorrowedFormatItem<'static>] = time::macros::format_description!(
    "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
);

/// An HTTP date (`Mon, 07 Dec 2026 12:46:28 GMT`) for a time in Unix milliseconds.
pub fn http_date(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    t.format(HTTP_DATE).unwrap_or_default()
}

/// The Unix milliseconds of an HTTP date, if it is one.
pub fn parse_http_date(text: &str) -> Option<i64> {
    let t = time::PrimitiveDateTime::parse(text.trim(), HTTP_DATE).ok()?;
    Some(t.assume_utc().unix_timestamp() * 1000)
}

/// Whether a signed request's date is close enough to `now` (replays of old requests and
/// requests from a far-off clock are refused).
pub fn date_is_fresh(date_ms: i64, now_ms: i64) -> bool {
    (date_ms - now_ms).abs() <= MAX_DATE_SKEW_MS
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn addressing_maps_visibility_as_mastodon_does() {
        let f = "https://a.example/users/alice/followers";
        let pub_ = PUBLIC;
        assert_eq!(
            visibility_of(&strings(&[pub_]), &strings(&[f]), Some(f)),
            Visibility::Public
        );
        assert_eq!(
            visibility_of(&strings(&[f]), &strings(&[pub_]), Some(f)),
            Visibility::Unlisted
        );
        assert_eq!(
            visibility_of(&strings(&[f]), &[], Some(f)),
            Visibility::Private
        );
        assert_eq!(
            visibility_of(&strings(&["https://b.example/users/bob"]), &[], Some(f)),
            Visibility::Direct
        );
        assert_eq!(
            visibility_of(&strings(&["as:Public"]), &[], None),
            Visibility::Public
        );
    }

    #[test]
    fn activity_json_is_asked_for_by_either_media_type() {
        assert!(wants_activity_json("application/activity+json"));
        assert!(wants_activity_json(
            "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\""
        ));
        assert!(wants_activity_json(
            "text/html, application/activity+json;q=0.9"
        ));
        assert!(!wants_activity_json("text/html"));
        assert!(!wants_activity_json("application/ld+json"));
        assert!(!wants_activity_json("application/json"));
    }

    #[test]
    fn remote_html_becomes_plain_text() {
        assert_eq!(
            html_to_text(
                "<p>Hello <a href=\"x\">@<span>bob</span></a> &amp; you</p><p>two<br/>lines</p>"
            ),
            "Hello @bob & you\n\ntwo\nlines"
        );
        assert_eq!(html_to_text("<script>alert(1)</script>x"), "alert(1)x");
        assert_eq!(
            html_to_text("a &lt;b&gt; &#x41;&#66; &bogus; &"),
            "a <b> AB &bogus; &"
        );
        assert_eq!(html_to_text("unclosed <b"), "unclosed");
    }

    #[test]
    fn a_mastodon_signature_header_reads_back() {
        let h = parse_signature(
            "keyId=\"https://a.example/users/alice#main-key\",algorithm=\"rsa-sha256\",headers=\"(request-target) host date digest content-type\",signature=\"c2ln\"",
        )
        .unwrap();
        assert_eq!(h.key_id, "https://a.example/users/alice#main-key");
        assert_eq!(h.headers[0], "(request-target)");
        assert_eq!(h.signature, "c2ln");
        assert!(h.require(true).is_ok());
        let no_digest =
            parse_signature("keyId=\"k\",headers=\"(request-target) host date\",signature=\"s\"")
                .unwrap();
        assert_eq!(
            no_digest.require(true),
            Err(SignatureError::NotCovered("digest"))
        );
        assert!(no_digest.require(false).is_ok());
        assert!(matches!(
            parse_signature("keyId=\"k\",algorithm=\"hmac-sha256\",signature=\"s\""),
            Err(SignatureError::Algorithm(_))
        ));
        assert_eq!(parse_signature("keyId=k"), Err(SignatureError::Malformed));
    }

    #[test]
    fn the_signing_string_lists_the_signed_headers_in_order() {
        let names = strings(&["(request-target)", "host", "date"]);
        let text = signing_string("POST", "/inbox", &names, |h| match h {
            "host" => Some("b.example".into()),
            "date" => Some("Mon, 07 Dec 2026 12:00:00 GMT".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(
            text,
            "(request-target): post /inbox\nhost: b.example\ndate: Mon, 07 Dec 2026 12:00:00 GMT"
        );
        assert_eq!(
            signing_string("GET", "/", &strings(&["digest"]), |_| None),
            Err(SignatureError::MissingHeader("digest".into()))
        );
    }

    #[test]
    fn stale_dates_are_refused() {
        let now = 1_800_000_000_000;
        assert!(date_is_fresh(now - MAX_DATE_SKEW_MS, now));
        assert!(!date_is_fresh(now - MAX_DATE_SKEW_MS - 1_000, now));
        assert!(!date_is_fresh(now + MAX_DATE_SKEW_MS + 1_000, now));
    }

    proptest! {
        #[test]
        fn http_dates_read_back_to_the_second(secs in 0i64..4_000_000_000) {
            let ms = secs * 1000;
            prop_assert_eq!(parse_http_date(&http_date(ms)), Some(ms));
        }

        #[test]
        fn addressing_reads_back_as_its_visibility(v in 0i64..4, n in 0usize..3) {
            let visibility = Visibility::from_code(v);
            let followers = "https://a.example/users/alice/followers";
            let mentioned: Vec<String> =
                (0..n).map(|i| format!("https://b.example/users/u{i}")).collect();
            let (to, cc) = addressing(visibility, followers, &mentioned);
            prop_assert_eq!(visibility_of(&to, &cc, Some(followers)), visibility);
        }

        #[test]
        fn a_built_signature_header_parses_back(key in "[a-z:/.#-]{1,40}", sig in "[A-Za-z0-9+/=]{1,60}") {
            let names = vec!["(request-target)".to_string(), "host".into(), "date".into(), "digest".into()];
            let parsed = parse_signature(&signature_header(&key, &names, &sig)).unwrap();
            prop_assert_eq!(parsed.key_id, key);
            prop_assert_eq!(parsed.headers, names);
            prop_assert_eq!(parsed.signature, sig);
        }

        #[test]
        fn plain_text_without_markup_survives(text in "[a-zA-Z0-9 .,!?]{0,80}") {
            prop_assert_eq!(html_to_text(&text), text.trim());
        }
    }
}
