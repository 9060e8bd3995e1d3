//! Content filters (Mastodon 4's v2 filters): a filter has a title, the contexts it
//! applies in, an action, an optional expiry, keywords and statuses. A status matches when
//! one of the keywords appears in its text or content warning (case-insensitively, and on
//! word boundaries for a `whole_word` keyword), or when it is one of the filtered statuses.
//!
//! This module decides what matches and validates what users send; it reads nothing and
//! keeps nothing: the server loads the filters and applies the results where it renders.

use crate::Id;

/// Where a filter applies, as Mastodon names the places a status is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FilterContext {
    /// The home timeline and lists.
    Home,
    Notifications,
    /// The public and hashtag timelines.
    Public,
    /// A conversation's thread (a status's context).
    Thread,
    /// Account timelines.
    Account,
}

impl FilterContext {
    pub const ALL: [FilterContext; 5] = [
        FilterContext::Home,
        FilterContext::Notifications,
        FilterContext::Public,
        FilterContext::Thread,
        FilterContext::Account,
    ];

    pub fn parse(name: &str) -> Option<FilterContext> {
        Self::ALL.into_iter().find(|c| c.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FilterContext::Home => "home",
            FilterContext::Notifications => "notifications",
            FilterContext::Public => "public",
            FilterContext::Thread => "thread",
            FilterContext::Account => "account",
        }
    }
}

/// What a client does with a match; `Hide` the server does itself, leaving the status out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterAction {
    Warn,
    Hide,
    Blur,
}

impl FilterAction {
    pub fn parse(name: &str) -> Option<FilterAction> {
        match name {
            "warn" => Some(FilterAction::Warn),
            "hide" => Some(FilterAction::Hide),
            "blur" => Some(FilterAction::Blur),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FilterAction::Warn => "warn",
            FilterAction::Hide => "hide",
            FilterAction::Blur => "blur",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keyword {
    pub id: Id,
    pub keyword: String,
    pub whole_word: bool,
}

/// A status filtered by id: `id` is the rule's own id, `status_id` the status's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilteredStatus {
    pub id: Id,
    pub status_id: Id,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    pub id: Id,
    pub account_id: Id,
    pub title: String,
    pub contexts: Vec<FilterContext>,
    pub action: FilterAction,
    /// Milliseconds since the epoch; from then on the filter no longer applies.
    pub expires_at: Option<i64>,
    pub keywords: Vec<Keyword>,
    pub statuses: Vec<FilteredStatus>,
}

/// Why a filter, keyword or status rule was refused; each is a 422 with this text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    #[error("Title can't be blank")]
    TitleBlank,
    #[error("Title is too long (maximum is {max} characters)")]
    TitleTooLong { max: usize },
    #[error("Context can't be blank")]
    ContextBlank,
    #[error("Context contains an invalid value: {0}")]
    ContextInvalid(String),
    #[error("Filter action is not included in the list")]
    ActionInvalid,
    #[error("Keyword can't be blank")]
    KeywordBlank,
    #[error("Keyword is too long (maximum is {max} characters)")]
    KeywordTooLong { max: usize },
    #[error("Expires in must be greater than 0")]
    ExpiresInvalid,
}

pub const MAX_TITLE_CHARS: usize = 256;
pub const MAX_KEYWORD_CHARS: usize = 256;

/// A title as stored: trimmed, not blank, not over `MAX_TITLE_CHARS`.
pub fn parse_title(title: &str) -> Result<String, FilterError> {
    let title = title.trim();
    if title.is_empty() {
        return Err(FilterError::TitleBlank);
    }
    if title.chars().count() > MAX_TITLE_CHARS {
        return Err(FilterError::TitleTooLong {
            max: MAX_TITLE_CHARS,
        });
    }
    Ok(title.to_string())
}

/// At least one context, each a known one; repeated ones count once.
pub fn parse_contexts(names: &[String]) -> Result<Vec<FilterContext>, FilterError> {
    let mut contexts = Vec::new();
    for name in names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
        let context =
            FilterContext::parse(name).ok_or_else(|| FilterError::ContextInvalid(name.into()))?;
        if !contexts.contains(&context) {
            contexts.push(context);
        }
    }
    if contexts.is_empty() {
        return Err(FilterError::ContextBlank);
    }
    Ok(contexts)
}

pub fn parse_action(name: &str) -> Result<FilterAction, FilterError> {
    FilterAction::parse(name.trim()).ok_or(FilterError::ActionInvalid)
}

/// A keyword as stored: trimmed, not blank, not over `MAX_KEYWORD_CHARS`.
pub fn parse_keyword(keyword: &str) -> Result<String, FilterError> {
    let keyword = keyword.trim();
    if keyword.is_empty() {
        return Err(FilterError::KeywordBlank);
    }
    if keyword.chars().count() > MAX_KEYWORD_CHARS {
        return Err(FilterError::KeywordTooLong {
            max: MAX_KEYWORD_CHARS,
        });
    }
    Ok(keyword.to_string())
}

/// When a filter created or changed at `now` with `expires_in` seconds expires.
pub fn expiry(now: i64, expires_in: i64) -> Result<i64, FilterError> {
    if expires_in <= 0 {
        return Err(FilterError::ExpiresInvalid);
    }
    Ok(now.saturating_add(expires_in.saturating_mul(1000)))
}

/// The text a filter's keywords are matched against: a status's content warning and its
/// text, lowercased once so every keyword of every filter reuses it.
#[derive(Debug, Clone)]
pub struct Searchable(String);

impl Searchable {
    pub fn new(spoiler_text: &str, text: &str) -> Searchable {
        Searchable(format!("{spoiler_text}\n\n{text}").to_lowercase())
    }
}

/// Mastodon's word characters (`[[:word:]]`): letters, digits, marks and underscores.
fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Whether `keyword` occurs in the text. A `whole_word` keyword must not continue a word at
/// either end — but only an end that is itself a word character needs a boundary, as in
/// Mastodon, so `#rust` or `c++` still match after or before punctuation.
pub fn keyword_matches(text: &Searchable, keyword: &str, whole_word: bool) -> bool {
    // Keywords are mostly lowercase already; only the others pay for a lowercased copy.
    let needle: std::borrow::Cow<'_, str> = if keyword.chars().any(char::is_uppercase) {
        keyword.to_lowercase().into()
    } else {
        keyword.into()
    };
    if needle.is_empty() {
        return false;
    }
    let needle = needle.as_ref();
    let hay = text.0.as_str();
    if !whole_word {
        return hay.contains(needle);
    }
    let starts_word = needle.chars().next().is_some_and(is_word);
    let ends_word = needle.chars().next_back().is_some_and(is_word);
    let mut from = 0;
    while let Some(found) = hay[from..].find(needle) {
        let start = from + found;
        let end = start + needle.len();
        let before_ok =
            !starts_word || hay[..start].chars().next_back().is_none_or(|c| !is_word(c));
        let after_ok = !ends_word || hay[end..].chars().next().is_none_or(|c| !is_word(c));
        if before_ok && after_ok {
            return true;
        }
        // Step one character on, so overlapping occurrences are tried too.
        from = start + hay[start..].chars().next().map_or(1, char::len_utf8);
    }
    false
}

/// What of one filter matched one status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterMatch {
    /// The filter's keywords that occur, as the filter spells them.
    pub keywords: Vec<String>,
    /// The filtered status ids among those given.
    pub statuses: Vec<Id>,
}

impl Filter {
    /// Whether the filter still applies at `now`.
    pub fn is_active(&self, now: i64) -> bool {
        self.expires_at.is_none_or(|at| at > now)
    }

    pub fn applies_in(&self, context: FilterContext) -> bool {
        self.contexts.contains(&context)
    }

    /// What of this filter matches a status with this text; `ids` are the status's own id
    /// and, for a reblog, its original's. `None` when nothing matches.
    pub fn matches(&self, text: &Searchable, ids: &[Id]) -> Option<FilterMatch> {
        let keywords: Vec<String> = self
            .keywords
            .iter()
            .filter(|k| keyword_matches(text, &k.keyword, k.whole_word))
            .map(|k| k.keyword.clone())
            .collect();
        let statuses: Vec<Id> = self
            .statuses
            .iter()
            .map(|s| s.status_id)
            .filter(|id| ids.contains(id))
            .collect();
        (!keywords.is_empty() || !statuses.is_empty()).then_some(FilterMatch { keywords, statuses })
    }
}

/// The active filters that apply in `context` (all active ones without a context, as
/// for a status shown on its own) and what of each matches.
pub fn apply<'a>(
    filters: &'a [Filter],
    context: Option<FilterContext>,
    now: i64,
    text: &Searchable,
    ids: &[Id],
) -> Vec<(&'a Filter, FilterMatch)> {
    filters
        .iter()
        .filter(|f| f.is_active(now) && context.is_none_or(|c| f.applies_in(c)))
        .filter_map(|f| f.matches(text, ids).map(|m| (f, m)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(t: &str) -> Searchable {
        Searchable::new("", t)
    }

    #[test]
    fn substring_keywords_match_inside_words_and_ignore_case() {
        assert!(keyword_matches(&text("Crustaceans"), "rust", false));
        assert!(keyword_matches(&text("I like RUST"), "Rust", false));
        assert!(!keyword_matches(&text("I like Go"), "rust", false));
    }

    #[test]
    fn whole_word_keywords_need_word_boundaries() {
        assert!(!keyword_matches(&text("Crustaceans"), "rust", true));
        assert!(!keyword_matches(&text("rusty"), "rust", true));
        assert!(keyword_matches(&text("rust, again"), "rust", true));
        assert!(keyword_matches(&text("(Rust)"), "rust", true));
        assert!(keyword_matches(&text("rusty rust"), "rust", true));
        assert!(!keyword_matches(&text("rust_lang"), "rust", true));
        assert!(keyword_matches(&text("two words here"), "two words", true));
    }

    #[test]
    fn whole_word_boundaries_apply_only_at_word_ends() {
        assert!(keyword_matches(&text("I love#rust"), "#rust", true));
        assert!(!keyword_matches(&text("#rusty"), "#rust", true));
        assert!(keyword_matches(&text("c++11"), "c++", true));
    }

    #[test]
    fn whole_word_handles_non_ascii_text() {
        assert!(keyword_matches(&text("Ça va, café?"), "café", true));
        assert!(!keyword_matches(&text("cafés"), "café", true));
        assert!(keyword_matches(&text("ÜBER alles"), "über", true));
    }

    #[test]
    fn the_content_warning_is_searched_too() {
        let t = Searchable::new("spoilers ahead", "nothing here");
        assert!(keyword_matches(&t, "spoilers", true));
    }

    fn filter(contexts: &[FilterContext], expires_at: Option<i64>) -> Filter {
        Filter {
            id: 1,
            account_id: 2,
            title: "t".into(),
            contexts: contexts.to_vec(),
            action: FilterAction::Warn,
            expires_at,
            keywords: vec![Keyword {
                id: 3,
                keyword: "Rust".into(),
                whole_word: true,
            }],
            statuses: vec![FilteredStatus {
                id: 4,
                status_id: 99,
            }],
        }
    }

    #[test]
    fn apply_keeps_active_filters_of_the_context() {
        let filters = vec![
            filter(&[FilterContext::Home], None),
            filter(&[FilterContext::Public], None),
            filter(&[FilterContext::Home], Some(1_000)),
        ];
        let t = text("rust");
        let home = apply(&filters, Some(FilterContext::Home), 2_000, &t, &[5]);
        assert_eq!(
            home.len(),
            1,
            "the public one and the expired one are left out"
        );
        assert_eq!(home[0].1.keywords, vec!["Rust".to_string()]);
        assert_eq!(apply(&filters, None, 2_000, &t, &[5]).len(), 2);
        assert_eq!(apply(&filters, None, 500, &t, &[5]).len(), 3);
    }

    #[test]
    fn status_rules_match_the_status_or_its_original() {
        let f = filter(&[FilterContext::Home], None);
        let m = f.matches(&text("nothing"), &[7, 99]).unwrap();
        assert_eq!(m.statuses, vec![99]);
        assert!(m.keywords.is_empty());
        assert!(f.matches(&text("nothing"), &[7]).is_none());
    }

    #[test]
    fn validation_refuses_what_mastodon_refuses() {
        assert_eq!(parse_title("  "), Err(FilterError::TitleBlank));
        assert_eq!(parse_contexts(&[]), Err(FilterError::ContextBlank));
        assert!(matches!(
            parse_contexts(&["home".into(), "everywhere".into()]),
            Err(FilterError::ContextInvalid(_))
        ));
        assert_eq!(
            parse_contexts(&["home".into(), "home".into(), "thread".into()]),
            Ok(vec![FilterContext::Home, FilterContext::Thread])
        );
        assert_eq!(parse_action("mute"), Err(FilterError::ActionInvalid));
        assert_eq!(parse_keyword(""), Err(FilterError::KeywordBlank));
        assert_eq!(expiry(1_000, 0), Err(FilterError::ExpiresInvalid));
        assert_eq!(expiry(1_000, 2), Ok(3_000));
    }
}
