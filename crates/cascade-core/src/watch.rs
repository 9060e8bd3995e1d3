//! Brand watch (a Cascade extension): what a saved watch looks for in a status, the
//! in-memory index that finds the watches a new status matches, and the statistics of how
//! fast an account answers what it watches.
//!
//! Keywords match whole words, case-insensitively: "rust" matches "Rust!" but not
//! "rusty", and a keyword of several words matches them in sequence. Hashtags match the
//! status's tags; `mentions` matches statuses that mention the watch's owner. Matching is
//! one hash lookup per word and tag of the status, whatever the number of watches, so it
//! can run for every status written. No IO here: the server keeps the index up to date.

use std::collections::HashMap;

use crate::Id;

/// Watches an account may have at most.
pub const MAX_WATCHES: usize = 20;
/// Keywords plus hashtags a watch may have at most.
pub const MAX_TERMS: usize = 50;
/// The longest keyword, in characters.
pub const MAX_KEYWORD_CHARS: usize = 100;
/// The longest watch name, in characters.
pub const MAX_NAME_CHARS: usize = 100;

/// The lowercased words of a text: runs of letters, digits and underscores.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// A keyword as it is matched: its words joined by single spaces; `None` when it has no
/// word at all (punctuation only, blank).
pub fn keyword(raw: &str) -> Option<String> {
    let w = words(raw);
    (!w.is_empty()).then(|| w.join(" "))
}

/// What a watch looks for, normalized (see `keyword` and `text::tag_name`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Terms {
    pub keywords: Vec<String>,
    pub hashtags: Vec<String>,
    pub mentions: bool,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TermsError {
    #[error("keyword {0:?} has no letters or digits")]
    EmptyKeyword(String),
    #[error("keyword is too long (maximum is {MAX_KEYWORD_CHARS} characters)")]
    KeywordTooLong,
    #[error("hashtag {0:?} is not a valid hashtag")]
    BadHashtag(String),
    #[error("a watch has at most {MAX_TERMS} keywords and hashtags")]
    TooManyTerms,
    #[error("a watch needs a keyword, a hashtag or mentions")]
    Nothing,
}

impl Terms {
    /// Validates and normalizes what a client asked to watch; repeats are dropped.
    pub fn parse(
        keywords: &[String],
        hashtags: &[String],
        mentions: bool,
    ) -> Result<Terms, TermsError> {
        let mut k: Vec<String> = Vec::new();
        for raw in keywords {
            if raw.chars().count() > MAX_KEYWORD_CHARS {
                return Err(TermsError::KeywordTooLong);
            }
            let kw = keyword(raw).ok_or_else(|| TermsError::EmptyKeyword(raw.clone()))?;
            if !k.contains(&kw) {
                k.push(kw);
            }
        }
        let mut h: Vec<String> = Vec::new();
        for raw in hashtags {
            let tag = crate::text::tag_name(raw.trim())
                .ok_or_else(|| TermsError::BadHashtag(raw.clone()))?;
            if !h.contains(&tag) {
                h.push(tag);
            }
        }
        if k.len() + h.len() > MAX_TERMS {
            return Err(TermsError::TooManyTerms);
        }
        if k.is_empty() && h.is_empty() && !mentions {
            return Err(TermsError::Nothing);
        }
        Ok(Terms {
            keywords: k,
            hashtags: h,
            mentions,
        })
    }
}

/// A keyword in the index: the watch and the keyword's words after the first.
#[derive(Debug, Clone)]
struct Phrase {
    watch: Id,
    rest: Vec<String>,
}

/// The active terms of every watch, by first word, hashtag and owner. Kept whole in
/// memory (a few hundred bytes per watch) so matching a status needs no query; updated
/// watch by watch when one is created, changed or deleted.
#[derive(Debug, Default)]
pub struct Index {
    /// Watch → (owner, terms), to undo a watch's entries.
    watches: HashMap<Id, (Id, Terms)>,
    by_word: HashMap<String, Vec<Phrase>>,
    by_tag: HashMap<String, Vec<Id>>,
    /// Owner → their watches with `mentions`.
    by_owner: HashMap<Id, Vec<Id>>,
}

impl Index {
    pub fn is_empty(&self) -> bool {
        self.watches.is_empty()
    }

    /// Whether some watch looks for mentions (only then does matching need a status's
    /// mentioned accounts).
    pub fn wants_mentions(&self) -> bool {
        !self.by_owner.is_empty()
    }

    /// Adds a watch, or replaces its terms.
    pub fn put(&mut self, watch: Id, owner: Id, terms: Terms) {
        self.remove(watch);
        for kw in &terms.keywords {
            let mut w = kw.split(' ').map(str::to_string);
            if let Some(first) = w.next() {
                self.by_word.entry(first).or_default().push(Phrase {
                    watch,
                    rest: w.collect(),
                });
            }
        }
        for tag in &terms.hashtags {
            self.by_tag.entry(tag.clone()).or_default().push(watch);
        }
        if terms.mentions {
            self.by_owner.entry(owner).or_default().push(watch);
        }
        self.watches.insert(watch, (owner, terms));
    }

    /// Forgets a watch.
    pub fn remove(&mut self, watch: Id) {
        let Some((owner, terms)) = self.watches.remove(&watch) else {
            return;
        };
        for kw in &terms.keywords {
            let first = kw.split(' ').next().unwrap_or_default();
            if let Some(list) = self.by_word.get_mut(first) {
                list.retain(|p| p.watch != watch);
                if list.is_empty() {
                    self.by_word.remove(first);
                }
            }
        }
        for tag in &terms.hashtags {
            if let Some(list) = self.by_tag.get_mut(tag) {
                list.retain(|&w| w != watch);
                if list.is_empty() {
                    self.by_tag.remove(tag);
                }
            }
        }
        if let Some(list) = self.by_owner.get_mut(&owner) {
            list.retain(|&w| w != watch);
            if list.is_empty() {
                self.by_owner.remove(&owner);
            }
        }
    }

    /// The watches a status matches, as `(watch, owner)` sorted by watch: its text's words
    /// (`words`), its lowercased hashtags, the accounts it mentions.
    pub fn matches(&self, text: &str, tags: &[String], mentioned: &[Id]) -> Vec<(Id, Id)> {
        let mut found: Vec<Id> = Vec::new();
        if !self.by_word.is_empty() {
            let w = words(text);
            for (i, word) in w.iter().enumerate() {
                for p in self.by_word.get(word).into_iter().flatten() {
                    let after = &w[i + 1..];
                    if after.len() >= p.rest.len() && after.iter().zip(&p.rest).all(|(a, b)| a == b)
                    {
                        found.push(p.watch);
                    }
                }
            }
        }
        for tag in tags {
            found.extend(self.by_tag.get(tag).into_iter().flatten());
        }
        for account in mentioned {
            found.extend(self.by_owner.get(account).into_iter().flatten());
        }
        found.sort_unstable();
        found.dedup();
        found
            .into_iter()
            .filter_map(|w| self.watches.get(&w).map(|(owner, _)| (w, *owner)))
            .collect()
    }
}

/// The nearest-rank `p`-th percentile (0 < p ≤ 100) of values sorted ascending: the
/// smallest value with at least `p`% of the values at or below it. Always one of the
/// values, so "half the replies came within the median" holds exactly; `None` when empty.
pub fn percentile(sorted: &[i64], p: u32) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let p = p.clamp(1, 100) as usize;
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

/// How fast items were answered: counts and the median and 90th percentile of the time
/// to the first reply (in the unit given, milliseconds in Cascade).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ResponseTimes {
    pub items: usize,
    pub answered: usize,
    pub median: Option<i64>,
    pub p90: Option<i64>,
}

impl ResponseTimes {
    /// `items` were watched; `delays` are the times to the first reply of those answered.
    pub fn of(items: usize, mut delays: Vec<i64>) -> ResponseTimes {
        delays.sort_unstable();
        ResponseTimes {
            items,
            answered: delays.len(),
            median: percentile(&delays, 50),
            p90: percentile(&delays, 90),
        }
    }
}

/// A window length such as `30m`, `24h`, `7d` or `2w`, in milliseconds; `None` when it
/// is not one (or is zero).
pub fn window(text: &str) -> Option<i64> {
    let text = text.trim();
    let unit = match text.chars().last()? {
        'm' => 60_000,
        'h' => 3_600_000,
        'd' => 86_400_000,
        'w' => 7 * 86_400_000,
        _ => return None,
    };
    let n: i64 = text[..text.len() - 1].parse().ok()?;
    (n > 0).then(|| n.checked_mul(unit)).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn terms(k: &[&str], h: &[&str], mentions: bool) -> Terms {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        Terms::parse(&s(k), &s(h), mentions).unwrap()
    }

    #[test]
    fn keywords_match_whole_words_in_any_case() {
        let mut index = Index::default();
        index.put(1, 100, terms(&["Rust"], &[], false));
        assert_eq!(index.matches("I love RUST!", &[], &[]), vec![(1, 100)]);
        assert!(index.matches("rusty nails", &[], &[]).is_empty());
        assert!(index.matches("trust me", &[], &[]).is_empty());
    }

    #[test]
    fn a_phrase_matches_its_words_in_sequence() {
        let mut index = Index::default();
        index.put(1, 100, terms(&["customer  Service"], &[], false));
        assert_eq!(
            index.matches("Your customer service, sadly...", &[], &[]),
            vec![(1, 100)]
        );
        assert!(index.matches("service customer", &[], &[]).is_empty());
        assert!(index.matches("ends with customer", &[], &[]).is_empty());
    }

    #[test]
    fn hashtags_and_mentions_match_and_each_watch_counts_once() {
        let mut index = Index::default();
        index.put(1, 100, terms(&["acme"], &["#Acme"], false));
        index.put(2, 200, terms(&[], &[], true));
        assert_eq!(
            index.matches("acme acme", &["acme".into()], &[200]),
            vec![(1, 100), (2, 200)]
        );
        assert_eq!(index.matches("", &[], &[100]), vec![]);
        assert!(index.wants_mentions());
    }

    #[test]
    fn replacing_and_removing_a_watch_drops_its_old_terms() {
        let mut index = Index::default();
        index.put(1, 100, terms(&["old"], &["tag"], true));
        index.put(1, 100, terms(&["new"], &[], false));
        assert!(index.matches("old", &["tag".into()], &[100]).is_empty());
        assert_eq!(index.matches("new", &[], &[]), vec![(1, 100)]);
        assert!(!index.wants_mentions());
        index.remove(1);
        assert!(index.is_empty() && index.matches("new", &[], &[]).is_empty());
    }

    #[test]
    fn terms_are_validated() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(Terms::parse(&[], &[], false), Err(TermsError::Nothing));
        assert!(matches!(
            Terms::parse(&s(&["!!"]), &[], false),
            Err(TermsError::EmptyKeyword(_))
        ));
        assert!(matches!(
            Terms::parse(&[], &s(&["no spaces"]), false),
            Err(TermsError::BadHashtag(_))
        ));
        let many: Vec<String> = (0..=MAX_TERMS).map(|i| format!("k{i}")).collect();
        assert_eq!(
            Terms::parse(&many, &[], false),
            Err(TermsError::TooManyTerms)
        );
        assert_eq!(
            Terms::parse(&s(&["A", "a"]), &s(&["#X", "x"]), false)
                .unwrap()
                .keywords
                .len(),
            1
        );
    }

    #[test]
    fn percentiles_by_nearest_rank() {
        let v: Vec<i64> = (1..=10).collect();
        assert_eq!(percentile(&v, 50), Some(5));
        assert_eq!(percentile(&v, 90), Some(9));
        assert_eq!(percentile(&v, 100), Some(10));
        assert_eq!(percentile(&[7], 90), Some(7));
        assert_eq!(percentile(&[], 50), None);
        let r = ResponseTimes::of(5, vec![300, 100, 200]);
        assert_eq!(
            r,
            ResponseTimes {
                items: 5,
                answered: 3,
                median: Some(200),
                p90: Some(300)
            }
        );
    }

    #[test]
    fn windows_parse() {
        assert_eq!(window("7d"), Some(7 * 86_400_000));
        assert_eq!(window("30m"), Some(1_800_000));
        assert_eq!(window("2w"), Some(14 * 86_400_000));
        assert_eq!(window("0d"), None);
        assert_eq!(window("d"), None);
        assert_eq!(window("7y"), None);
    }

    proptest! {
        #[test]
        fn a_percentile_is_a_value_with_enough_at_or_below_it(
            mut v in prop::collection::vec(0i64..10_000, 1..200),
            p in 1u32..=100,
        ) {
            v.sort_unstable();
            let r = percentile(&v, p).unwrap();
            prop_assert!(v.contains(&r));
            let n = v.len();
            let at_or_below = v.iter().filter(|&&x| x <= r).count();
            let below = v.iter().filter(|&&x| x < r).count();
            // At least p% at or below it, and it is the smallest such value.
            prop_assert!(at_or_below * 100 >= p as usize * n);
            prop_assert!(below * 100 < p as usize * n);
        }

        #[test]
        fn the_median_never_exceeds_the_90th_percentile(
            v in prop::collection::vec(0i64..10_000, 0..200),
        ) {
            let n = v.len();
            let (min, max) = (v.iter().min().copied(), v.iter().max().copied());
            let r = ResponseTimes::of(n + 3, v);
            prop_assert_eq!(r.answered, n);
            prop_assert_eq!(r.items, n + 3);
            prop_assert_eq!(r.median.is_some(), n > 0);
            if let (Some(m), Some(p), Some(lo), Some(hi)) = (r.median, r.p90, min, max) {
                prop_assert!(lo <= m && m <= p && p <= hi);
            }
        }

        #[test]
        fn a_keyword_found_in_a_text_matches_it(
            before in "[a-z ]{0,20}", kw in "[a-z]{1,8}", after in "[a-z ]{0,20}",
        ) {
            let mut index = Index::default();
            index.put(1, 2, Terms::parse(&[kw.to_uppercase()], &[], false).unwrap());
            let text = format!("{before} {kw}, {after}");
            prop_assert_eq!(index.matches(&text, &[], &[]), vec![(1, 2)]);
        }
    }
}
