//! Status text: plain text in, tokens (URLs, @mentions, #hashtags) out, and sanitized HTML
//! rendered from those tokens.
//!
//! Cascade accepts no HTML from clients. Every character of user text is escaped before it
//! becomes part of `content`, and the only markup in the output is what the renderer itself
//! writes (paragraphs, line breaks, links), so the result is safe by construction.

/// What a URL counts for against the character limit, whatever its length (Mastodon's rule,
/// so that clients' counters agree with ours).
pub const URL_WEIGHT: usize = 23;

/// One piece of a status's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token<'a> {
    Text(&'a str),
    Url(&'a str),
    /// `@username` or `@username@domain`; `raw` is the whole token including the `@`.
    Mention {
        raw: &'a str,
        username: &'a str,
        domain: Option<&'a str>,
    },
    /// `#name`, without the `#`.
    Hashtag(&'a str),
}

fn is_username_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

fn is_domain_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '.' || c == '-'
}

fn is_tag_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// A token may only start after a space, punctuation or the start of the text, so that
/// `mail@example.com` and `page#anchor` stay text.
fn boundary_before(text: &str, at: usize) -> bool {
    match text[..at].chars().next_back() {
        None => true,
        Some(c) => !(c.is_alphanumeric() || c == '_' || c == '/' || c == '@' || c == '#'),
    }
}

fn url_len(rest: &str) -> usize {
    let end = rest
        .char_indices()
        .find(|&(_, c)| c.is_whitespace() || c == '<' || c == '>' || c == '"')
        .map_or(rest.len(), |(i, _)| i);
    let mut url = &rest[..end];
    // Trailing punctuation ends the sentence, not the URL; a closing parenthesis belongs to
    // the URL only when the URL opened one.
    while let Some(last) = url.chars().next_back() {
        let drop = match last {
            '.' | ',' | ';' | ':' | '!' | '?' | '\'' => true,
            ')' => url.matches('(').count() < url.matches(')').count(),
            _ => false,
        };
        if !drop {
            break;
        }
        url = &url[..url.len() - last.len_utf8()];
    }
    url.len()
}

fn scheme_len(rest: &str) -> Option<usize> {
    ["https://", "http://"]
        .into_iter()
        .find(|p| {
            rest.get(..p.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(p))
        })
        .map(str::len)
}

/// Splits text into tokens. Concatenating the tokens' source text gives back the input.
pub fn tokenize(text: &str) -> Vec<Token<'_>> {
    let mut tokens = Vec::new();
    let mut plain_start = 0;
    let mut i = 0;
    let bytes = text.as_bytes();
    while i < text.len() {
        let rest = &text[i..];
        let found: Option<(usize, Token<'_>)> = match bytes[i] {
            b'h' | b'H' if boundary_before(text, i) => scheme_len(rest).and_then(|scheme| {
                let len = url_len(rest);
                (len > scheme).then(|| (len, Token::Url(&rest[..len])))
            }),
            b'@' if boundary_before(text, i) => {
                let user_len = rest[1..]
                    .find(|c: char| !is_username_char(c))
                    .unwrap_or(rest.len() - 1);
                (user_len > 0).then(|| {
                    let username = &rest[1..1 + user_len];
                    let after = &rest[1 + user_len..];
                    let domain = after.strip_prefix('@').and_then(|d| {
                        let len = d.find(|c: char| !is_domain_char(c)).unwrap_or(d.len());
                        let host = d[..len].trim_end_matches(['.', '-']);
                        if !host.contains('.') {
                            return None;
                        }
                        // A server on another port is named with it (`host:8443`), as
                        // its accounts' addresses are.
                        let port = d[host.len()..].strip_prefix(':').map_or(0, |p| {
                            let digits = p.find(|c: char| !c.is_ascii_digit()).unwrap_or(p.len());
                            if (1..=5).contains(&digits) {
                                1 + digits
                            } else {
                                0
                            }
                        });
                        Some(&d[..host.len() + port])
                    });
                    let len = 1 + user_len + domain.map_or(0, |d| 1 + d.len());
                    (
                        len,
                        Token::Mention {
                            raw: &rest[..len],
                            username,
                            domain,
                        },
                    )
                })
            }
            b'#' if boundary_before(text, i) => {
                let len = rest[1..]
                    .find(|c: char| !is_tag_char(c))
                    .unwrap_or(rest.len() - 1);
                let name = &rest[1..1 + len];
                (len > 0 && !name.chars().all(|c| c.is_ascii_digit()))
                    .then(|| (1 + len, Token::Hashtag(name)))
            }
            _ => None,
        };
        match found {
            Some((len, token)) => {
                if plain_start < i {
                    tokens.push(Token::Text(&text[plain_start..i]));
                }
                tokens.push(token);
                i += len;
                plain_start = i;
            }
            None => i += rest.chars().next().map_or(1, char::len_utf8),
        }
    }
    if plain_start < text.len() {
        tokens.push(Token::Text(&text[plain_start..]));
    }
    tokens
}

/// The length of a status for the character limit: characters, with each URL counted as
/// [`URL_WEIGHT`] and each remote mention counted without its domain.
pub fn weighted_len(text: &str) -> usize {
    tokenize(text)
        .iter()
        .map(|t| match t {
            Token::Text(s) => s.chars().count(),
            Token::Url(_) => URL_WEIGHT,
            Token::Mention { username, .. } => 1 + username.chars().count(),
            Token::Hashtag(name) => 1 + name.chars().count(),
        })
        .sum()
}

/// A hashtag name as a path or parameter gives it (`#` allowed in front), lowercased, if
/// it is one: letters, digits and underscores, at most 100 of them.
pub fn tag_name(raw: &str) -> Option<String> {
    let name = raw.strip_prefix('#').unwrap_or(raw);
    let valid = !name.is_empty() && name.chars().count() <= 100 && name.chars().all(is_tag_char);
    valid.then(|| name.to_lowercase())
}

/// Whether `name` is one Unicode emoji (a reaction's name): pictographs, optionally joined
/// (ZWJ sequences), with skin-tone modifiers, variation selectors, keycaps, flags and tag
/// sequences; no letters, digits alone or spaces. Custom emoji shortcodes are not emoji.
pub fn is_unicode_emoji(name: &str) -> bool {
    fn pictograph(c: char) -> bool {
        matches!(c as u32,
            0x1F000..=0x1FAFF | 0x2600..=0x27BF | 0x2300..=0x23FF | 0x2B00..=0x2BFF
            | 0x2190..=0x21FF | 0x25A0..=0x25FF | 0x2900..=0x297F | 0x3030 | 0x303D
            | 0x3297 | 0x3299 | 0x00A9 | 0x00AE | 0x203C | 0x2049 | 0x2122 | 0x2139)
    }
    fn joiner(c: char) -> bool {
        matches!(
            c as u32,
            0x200D | 0xFE0E | 0xFE0F | 0x20E3 | 0xE0020..=0xE007F
        )
    }
    let chars: Vec<char> = name.chars().collect();
    if chars.is_empty() || chars.len() > 16 || name.len() > crate::limits::MAX_REACTION_BYTES {
        return false;
    }
    // A keycap: a digit, `#` or `*`, then (optionally FE0F and) U+20E3.
    let keycap = matches!(chars[0], '0'..='9' | '#' | '*') && chars.last() == Some(&'\u{20E3}');
    let all_allowed = chars
        .iter()
        .enumerate()
        .all(|(i, &c)| pictograph(c) || joiner(c) || (keycap && i == 0));
    all_allowed && (keycap || chars.iter().any(|&c| pictograph(c)))
}

/// Hashtag names of a text, lowercased and without repeats, in order of appearance.
pub fn hashtags(text: &str) -> Vec<String> {
    let mut tags: Vec<String> = Vec::new();
    for t in tokenize(text) {
        if let Token::Hashtag(name) = t {
            let name = name.to_lowercase();
            if !tags.contains(&name) {
                tags.push(name);
            }
        }
    }
    tags
}

/// `(username, domain)` of each mention, without repeats.
pub fn mentions(text: &str) -> Vec<(String, Option<String>)> {
    let mut out: Vec<(String, Option<String>)> = Vec::new();
    for t in tokenize(text) {
        if let Token::Mention {
            username, domain, ..
        } = t
        {
            let m = (username.to_string(), domain.map(str::to_lowercase));
            if !out
                .iter()
                .any(|(u, d)| u.eq_ignore_ascii_case(&m.0) && *d == m.1)
            {
                out.push(m);
            }
        }
    }
    out
}

/// Escapes text for HTML element content and attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Where a resolved mention links to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MentionLink {
    pub url: String,
    pub username: String,
}

/// Renders text to Mastodon-style HTML: paragraphs split on blank lines, `<br />` for
/// single newlines, links for URLs, resolved mentions and hashtags. Mentions that `resolve`
/// does not know stay plain text. `tag_url` turns a hashtag name into its page's URL.
pub fn render_html(
    text: &str,
    resolve: impl Fn(&str, Option<&str>) -> Option<MentionLink>,
    tag_url: impl Fn(&str) -> String,
) -> String {
    let text = text.replace("\r\n", "\n");
    let mut html = String::new();
    for paragraph in text.split("\n\n").filter(|p| !p.trim().is_empty()) {
        html.push_str("<p>");
        for token in tokenize(paragraph.trim_matches('\n')) {
            match token {
                Token::Text(s) => html.push_str(&escape_html(s).replace('\n', "<br />")),
                Token::Url(url) => {
                    let url = escape_html(url);
                    html.push_str(&format!(
                        "<a href=\"{url}\" target=\"_blank\" rel=\"nofollow noopener noreferrer\" translate=\"no\">{url}</a>"
                    ));
                }
                Token::Mention {
                    raw,
                    username,
                    domain,
                } => match resolve(username, domain) {
                    Some(link) => html.push_str(&format!(
                        "<span class=\"h-card\" translate=\"no\"><a href=\"{}\" class=\"u-url mention\">@<span>{}</span></a></span>",
                        escape_html(&link.url),
                        escape_html(&link.username)
                    )),
                    None => html.push_str(&escape_html(raw)),
                },
                Token::Hashtag(name) => html.push_str(&format!(
                    "<a href=\"{}\" class=\"mention hashtag\" rel=\"tag\">#<span>{}</span></a>",
                    escape_html(&tag_url(name)),
                    escape_html(name)
                )),
            }
        }
        html.push_str("</p>");
    }
    html
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reactions_are_single_unicode_emoji() {
        for good in ["👍", "❤️", "🇫🇷", "👩🏽‍💻", "1️⃣", "🏳️‍🌈", "🤔"]
        {
            assert!(is_unicode_emoji(good), "{good}");
        }
        for bad in [
            "",
            "a",
            "blobcat",
            ":blobcat:",
            "1",
            "👍 ",
            "<b>",
            "👍a",
            "👍".repeat(20).as_str(),
        ] {
            assert!(!is_unicode_emoji(bad), "{bad}");
        }
    }

    fn source(t: &Token<'_>) -> String {
        match t {
            Token::Text(s) | Token::Url(s) => s.to_string(),
            Token::Mention { raw, .. } => raw.to_string(),
            Token::Hashtag(n) => format!("#{n}"),
        }
    }

    #[test]
    fn tag_names_are_validated_and_lowercased() {
        assert_eq!(tag_name("#Rust_2024").as_deref(), Some("rust_2024"));
        assert_eq!(tag_name("Café").as_deref(), Some("café"));
        for bad in ["", "#", "two words", "semi;colon", &"x".repeat(101)] {
            assert_eq!(tag_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_mentioned_server_keeps_its_port_but_not_a_trailing_colon() {
        assert_eq!(
            mentions("to @bob@127.0.0.1:8443, @carol@example.org: hi @dan@x.org:123456"),
            vec![
                ("bob".to_string(), Some("127.0.0.1:8443".to_string())),
                ("carol".to_string(), Some("example.org".to_string())),
                ("dan".to_string(), Some("x.org".to_string())),
            ]
        );
    }

    #[test]
    fn finds_urls_mentions_and_hashtags() {
        let tokens =
            tokenize("hi @alice and @bob@example.org, see https://x.org/a_(b). #Rust #123");
        assert!(tokens.contains(&Token::Url("https://x.org/a_(b)")));
        assert!(tokens.contains(&Token::Hashtag("Rust")));
        assert!(!tokens.contains(&Token::Hashtag("123")));
        assert!(tokens.iter().any(|t| matches!(
            t,
            Token::Mention {
                username: "bob",
                domain: Some("example.org"),
                ..
            }
        )));
        assert!(tokens.iter().any(|t| matches!(
            t,
            Token::Mention {
                username: "alice",
                domain: None,
                ..
            }
        )));
    }

    #[test]
    fn email_addresses_and_anchors_are_not_tokens() {
        let tokens = tokenize("write to mail@example.com or see page#top");
        assert_eq!(tokens.len(), 1);
    }

    #[test]
    fn html_in_text_is_escaped() {
        let html = render_html(
            "<script>alert('x')</script> & co",
            |_, _| None,
            |t| t.into(),
        );
        assert_eq!(
            html,
            "<p>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; co</p>"
        );
    }

    #[test]
    fn renders_paragraphs_links_and_unknown_mentions_as_text() {
        let html = render_html(
            "one\ntwo\n\n@ghost @alice #Tag",
            |u, _| {
                (u == "alice").then(|| MentionLink {
                    url: "https://c.test/@alice".into(),
                    username: "alice".into(),
                })
            },
            |t| format!("https://c.test/tags/{t}"),
        );
        assert!(html.starts_with("<p>one<br />two</p><p>@ghost "));
        assert!(html.contains("href=\"https://c.test/@alice\" class=\"u-url mention\""));
        assert!(html.contains("href=\"https://c.test/tags/Tag\""));
    }

    #[test]
    fn multibyte_text_after_an_h_is_not_cut_mid_character() {
        // "h" then a character whose bytes straddle the length of "https://".
        let tokens = tokenize("hé日本語テキスト");
        assert_eq!(tokens, vec![Token::Text("hé日本語テキスト")]);
    }

    #[test]
    fn urls_weigh_twenty_three_characters() {
        let url = format!("https://example.org/{}", "a".repeat(200));
        assert_eq!(weighted_len(&format!("see {url}")), 4 + URL_WEIGHT);
    }

    proptest! {
        #[test]
        fn tokens_reassemble_the_text(text in "[a-z @#:/._\\n()-]{0,80}|\\PC{0,40}") {
            let joined: String = tokenize(&text).iter().map(source).collect();
            prop_assert_eq!(joined, text);
        }

        #[test]
        fn rendered_html_never_contains_raw_angle_brackets_from_text(text in "\\PC{0,60}") {
            let html = render_html(&text, |_, _| None, |t| t.into());
            let stripped = html
                .replace("<p>", "").replace("</p>", "").replace("<br />", "");
            let no_links = stripped.split("<a ").next().unwrap_or("").to_string();
            prop_assert!(!no_links.contains('<') && !no_links.contains('>'));
        }
    }
}
