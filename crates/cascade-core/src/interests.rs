//! What an account talks about, and how much two accounts' interests overlap: the measure
//! behind follow suggestions and the follow-back rule.
//!
//! An account's interests are the hashtags and the words of its recent public posts and
//! of its profile. Each term weighs `1 + ln(count)` (a hashtag three times that: it was
//! chosen as a topic), so one account repeating a word does not swamp the rest. Overlap
//! is the cosine of the two weight vectors, from 0 (nothing in common) to 1 (the same mix).

use std::collections::HashMap;

/// Words that say nothing about a topic.
const STOPWORDS: &[&str] = &[
    "about", "after", "again", "also", "because", "been", "before", "being", "could", "does",
    "doing", "down", "each", "even", "every", "from", "have", "having", "here", "into", "just",
    "like", "made", "make", "many", "more", "most", "much", "must", "never", "only", "other",
    "over", "really", "same", "should", "some", "still", "such", "than", "that", "their", "them",
    "then", "there", "these", "they", "thing", "things", "think", "this", "those", "through",
    "today", "very", "want", "well", "were", "what", "when", "where", "which", "while", "will",
    "with", "would", "your", "yours", "youre", "dont", "cant", "didnt",
];

/// Terms shorter than this are not counted.
const MIN_WORD: usize = 4;
const TAG_WEIGHT: f64 = 3.0;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Interests {
    /// Words as they are, hashtags with their `#`.
    weights: HashMap<String, f64>,
}

/// How much two accounts' interests overlap, and the shared terms that say most.
#[derive(Debug, Clone, PartialEq)]
pub struct Overlap {
    /// The cosine of the two interest vectors, in [0, 1].
    pub score: f64,
    /// Up to five shared terms, the heaviest in both first.
    pub shared: Vec<String>,
}

impl Interests {
    /// Interests from texts (posts, a profile note) and hashtags (without `#`).
    pub fn from_parts<'a>(
        texts: impl IntoIterator<Item = &'a str>,
        tags: impl IntoIterator<Item = &'a str>,
    ) -> Interests {
        let mut counts: HashMap<String, (f64, u32)> = HashMap::new();
        for text in texts {
            for word in words(text) {
                counts.entry(word).or_insert((1.0, 0)).1 += 1;
            }
        }
        for tag in tags {
            let tag = tag.trim_start_matches('#').to_lowercase();
            if !tag.is_empty() {
                counts.entry(format!("#{tag}")).or_insert((TAG_WEIGHT, 0)).1 += 1;
            }
        }
        Interests {
            weights: counts
                .into_iter()
                .map(|(term, (weight, n))| (term, weight * (1.0 + f64::from(n).ln())))
                .collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.weights.is_empty()
    }

    /// The heaviest hashtags, without `#`, heaviest first.
    pub fn top_tags(&self, n: usize) -> Vec<String> {
        let mut tags: Vec<(&String, f64)> = self
            .weights
            .iter()
            .filter(|(t, _)| t.starts_with('#'))
            .map(|(t, &w)| (t, w))
            .collect();
        tags.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
        tags.into_iter()
            .take(n)
            .map(|(t, _)| t[1..].to_string())
            .collect()
    }

    fn norm(&self) -> f64 {
        self.weights.values().map(|w| w * w).sum::<f64>().sqrt()
    }

    pub fn overlap(&self, other: &Interests) -> Overlap {
        let (small, large) = if self.weights.len() <= other.weights.len() {
            (self, other)
        } else {
            (other, self)
        };
        let mut shared: Vec<(&String, f64)> = small
            .weights
            .iter()
            .filter_map(|(t, &a)| large.weights.get(t).map(|&b| (t, a * b)))
            .collect();
        let dot: f64 = shared.iter().map(|(_, p)| p).sum();
        let norms = self.norm() * other.norm();
        let score = if norms > 0.0 {
            (dot / norms).clamp(0.0, 1.0)
        } else {
            0.0
        };
        shared.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
        Overlap {
            score,
            shared: shared.into_iter().take(5).map(|(t, _)| t.clone()).collect(),
        }
    }
}

/// The topic words of a text, lowercased: no links, mentions, numbers or stopwords.
fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split_whitespace()
        .filter(|token| !token.starts_with('@') && !token.contains("://"))
        .flat_map(|token| token.split(|c: char| !c.is_alphanumeric()))
        .filter(|w| w.chars().count() >= MIN_WORD && !w.chars().all(|c| c.is_numeric()))
        .map(str::to_lowercase)
        .filter(|w| !STOPWORDS.contains(&w.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn words_skip_links_mentions_numbers_and_stopwords() {
        let got: Vec<String> =
            words("Rust borrow-checker @alice https://example.org/rust 2026 with Gardens")
                .collect();
        assert_eq!(got, vec!["rust", "borrow", "checker", "gardens"]);
    }

    #[test]
    fn shared_hashtags_and_words_make_the_overlap_and_explain_it() {
        let me = Interests::from_parts(
            [
                "Planting garlic and tomatoes in the garden",
                "Compost matters",
            ],
            ["gardening", "permaculture"],
        );
        let gardener = Interests::from_parts(["My garden tomatoes are ripe"], ["gardening"]);
        let coder = Interests::from_parts(["Refactoring the parser again"], ["rust"]);
        let near = me.overlap(&gardener);
        let far = me.overlap(&coder);
        assert!(near.score > 0.3, "{near:?}");
        assert_eq!(far.score, 0.0);
        assert!(far.shared.is_empty());
        assert_eq!(near.shared[0], "#gardening", "the hashtag weighs most");
        assert!(near.shared.contains(&"tomatoes".to_string()));
        assert!(near.shared.contains(&"garden".to_string()));
        assert_eq!(me.top_tags(1), vec!["gardening"]);
    }

    #[test]
    fn no_interests_overlap_with_nothing() {
        let none = Interests::default();
        assert!(none.is_empty());
        assert_eq!(none.overlap(&none).score, 0.0);
    }

    proptest! {
        #[test]
        fn overlap_is_symmetric_and_between_zero_and_one(
            a in prop::collection::vec("[a-e]{4,6}", 0..12),
            b in prop::collection::vec("[a-e]{4,6}", 0..12),
        ) {
            let x = Interests::from_parts(a.iter().map(String::as_str), []);
            let y = Interests::from_parts(b.iter().map(String::as_str), []);
            let xy = x.overlap(&y).score;
            prop_assert!((xy - y.overlap(&x).score).abs() < 1e-9);
            prop_assert!((0.0..=1.0).contains(&xy));
            if !x.is_empty() {
                prop_assert!((x.overlap(&x).score - 1.0).abs() < 1e-9);
            }
        }
    }
}
