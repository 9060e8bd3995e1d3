//! Validating what a client asks to post, before anything is stored.

use crate::text::weighted_len;
use crate::visibility::Visibility;

/// The character limit, advertised in the instance configuration.
pub const MAX_STATUS_CHARS: usize = 500;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatusError {
    #[error("Text can't be blank")]
    Empty,
    #[error("Text character limit of {max} exceeded")]
    TooLong { max: usize },
    #[error("Text is too large (at most {max} bytes)")]
    TooManyBytes { max: usize },
    #[error("Language is not a valid ISO 639 code")]
    BadLanguage,
}

/// A status as the client asked for it, checked against the rules that need no database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewStatus {
    pub text: String,
    pub spoiler_text: String,
    pub visibility: Visibility,
    pub sensitive: bool,
    pub language: Option<String>,
}

impl NewStatus {
    pub fn parse(
        text: String,
        spoiler_text: String,
        visibility: Visibility,
        sensitive: bool,
        language: Option<String>,
    ) -> Result<NewStatus, StatusError> {
        Self::parse_with_media(text, spoiler_text, visibility, sensitive, language, 0)
    }

    /// As `parse`, for a status with `media` attachments: with any, the text may be empty.
    pub fn parse_with_media(
        text: String,
        spoiler_text: String,
        visibility: Visibility,
        sensitive: bool,
        language: Option<String>,
        media: usize,
    ) -> Result<NewStatus, StatusError> {
        if text.trim().is_empty() && media == 0 {
            return Err(StatusError::Empty);
        }
        // Bytes first: weighing a huge text costs time, and URLs weigh 23 whatever their size.
        let max_bytes = crate::limits::MAX_STATUS_BYTES;
        if text.len() + spoiler_text.len() > max_bytes {
            return Err(StatusError::TooManyBytes { max: max_bytes });
        }
        if weighted_len(&text) + spoiler_text.chars().count() > MAX_STATUS_CHARS {
            return Err(StatusError::TooLong {
                max: MAX_STATUS_CHARS,
            });
        }
        let language = match language.filter(|l| !l.is_empty()) {
            Some(l) if (2..=3).contains(&l.len()) && l.chars().all(|c| c.is_ascii_lowercase()) => {
                Some(l)
            }
            Some(_) => return Err(StatusError::BadLanguage),
            None => None,
        };
        Ok(NewStatus {
            // A spoiler makes a post sensitive, as in Mastodon.
            sensitive: sensitive || !spoiler_text.is_empty(),
            text,
            spoiler_text,
            visibility,
            language,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<NewStatus, StatusError> {
        NewStatus::parse(text.into(), String::new(), Visibility::Public, false, None)
    }

    #[test]
    fn rejects_blank_and_overlong_text() {
        assert_eq!(parse("  \n"), Err(StatusError::Empty));
        assert_eq!(
            parse(&"a".repeat(501)),
            Err(StatusError::TooLong { max: 500 })
        );
        assert!(parse(&"a".repeat(500)).is_ok());
    }

    #[test]
    fn a_long_url_is_short_in_characters_but_not_in_bytes() {
        let url = format!(
            "https://example.com/{}",
            "a".repeat(crate::limits::MAX_STATUS_BYTES)
        );
        assert_eq!(
            parse(&url),
            Err(StatusError::TooManyBytes {
                max: crate::limits::MAX_STATUS_BYTES
            })
        );
        assert!(parse(&format!("https://example.com/{}", "a".repeat(2000))).is_ok());
    }

    #[test]
    fn spoilers_make_posts_sensitive_and_languages_are_checked() {
        let s = NewStatus::parse(
            "x".into(),
            "cw".into(),
            Visibility::Public,
            false,
            Some("en".into()),
        );
        assert!(s.unwrap().sensitive);
        let bad = NewStatus::parse(
            "x".into(),
            String::new(),
            Visibility::Public,
            false,
            Some("English".into()),
        );
        assert_eq!(bad, Err(StatusError::BadLanguage));
    }
}
