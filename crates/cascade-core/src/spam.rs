//! How likely an account is a spam account, from signals any server has: its age, its
//! followers against its follows, bursts of following, and what it posts (the same text
//! again and again, bare links, known bait phrases such as "free followers").
//!
//! The likelihood is a logistic function of weighted evidence, so signals add up and no
//! single weak one condemns an account; each signal that counts comes back as a reason,
//! so a moderator (or a user wondering why an account is left out of suggestions) can see
//! why.

use crate::text::{tokenize, Token};

/// Phrases that spam accounts use to bait follows and clicks (lowercase).
pub const BAIT_PHRASES: &[&str] = &[
    "free followers",
    "get followers",
    "buy followers",
    "followers fast",
    "follow for follow",
    "follow4follow",
    "f4f",
    "check my profile",
    "dm me for promo",
    "crypto giveaway",
    "double your bitcoin",
    "click the link in my bio",
    "make money fast",
    "earn $",
];

/// What is known about an account when it is judged.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Signals {
    /// Days since the account was created.
    pub age_days: f64,
    pub followers: i64,
    pub following: i64,
    /// Accounts it started following within the last hour.
    pub follows_last_hour: i64,
    /// Its recent posts' texts (originals, not reblogs), newest first.
    pub recent_texts: Vec<String>,
    /// Distinct established accounts (at least `REPORTER_MIN_AGE_DAYS` old, not
    /// suspended) that reported it within the last 30 days.
    pub reporters: i64,
}

/// Reports count only from accounts at least this many days old: making accounts is
/// free, so a handful of brand-new ones reporting someone must not by themselves mark
/// that account as spam (and take it out of suggestions, trends and notifications).
pub const REPORTER_MIN_AGE_DAYS: i64 = 7;

/// The verdict: a likelihood in [0, 1] and the reasons that raised it.
#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    pub likelihood: f64,
    pub reasons: Vec<String>,
}

/// Likelihood from which an account is treated as spam (left out of suggestions and
/// trends, its notifications handled as a limited account's).
pub const THRESHOLD: f64 = 0.7;

impl Assessment {
    pub fn is_spam(&self) -> bool {
        self.likelihood >= THRESHOLD
    }
}

/// Whether a text contains a known bait phrase.
pub fn is_bait(text: &str) -> bool {
    let lower = text.to_lowercase();
    BAIT_PHRASES.iter().any(|p| lower.contains(p))
}

/// Whether a text is nothing but links (and mentions or hashtags around them).
pub fn is_link_only(text: &str) -> bool {
    let mut links = 0;
    for token in tokenize(text) {
        match token {
            Token::Url(_) => links += 1,
            Token::Text(t) if t.trim().is_empty() => {}
            Token::Mention { .. } | Token::Hashtag(_) => {}
            Token::Text(_) => return false,
        }
    }
    links > 0
}

/// Judges an account from its signals.
pub fn assess(s: &Signals) -> Assessment {
    let mut evidence = -3.0;
    let mut reasons = Vec::new();
    let mut count = |weight: f64, reason: String| {
        evidence += weight;
        reasons.push(reason);
    };
    if s.age_days < 1.0 {
        count(1.0, "created less than a day ago".into());
    } else if s.age_days < 7.0 {
        count(0.5, "created less than a week ago".into());
    }
    if s.following >= 50 && (s.followers as f64) < s.following as f64 / 20.0 {
        count(
            1.5,
            format!(
                "follows {} accounts, followed by {}",
                s.following, s.followers
            ),
        );
    }
    if s.follows_last_hour >= 50 {
        count(
            2.0,
            format!("followed {} accounts within an hour", s.follows_last_hour),
        );
    } else if s.follows_last_hour >= 20 {
        count(
            1.0,
            format!("followed {} accounts within an hour", s.follows_last_hour),
        );
    }
    let texts: Vec<&str> = s
        .recent_texts
        .iter()
        .map(|t| t.trim())
        .filter(|t| !t.is_empty())
        .collect();
    if texts.len() >= 3 {
        let mut sorted: Vec<String> = texts.iter().map(|t| t.to_lowercase()).collect();
        sorted.sort();
        let repeats = sorted.windows(2).filter(|w| w[0] == w[1]).count();
        if repeats * 2 >= texts.len() {
            count(
                2.0,
                format!("{} of {} recent posts repeat another", repeats, texts.len()),
            );
        }
        let links = texts.iter().filter(|t| is_link_only(t)).count();
        if links * 2 >= texts.len() {
            count(
                1.5,
                format!("{links} of {} recent posts are bare links", texts.len()),
            );
        }
    }
    let bait = texts.iter().filter(|t| is_bait(t)).count();
    if bait > 0 {
        count(
            2.0 + (bait.min(5) as f64 - 1.0) * 0.5,
            format!("{bait} recent posts use bait phrases"),
        );
    }
    if s.reporters > 0 {
        count(
            1.0 * s.reporters.min(3) as f64,
            format!("reported by {} accounts", s.reporters),
        );
    }
    Assessment {
        likelihood: 1.0 / (1.0 + (-evidence).exp()),
        reasons,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(list: &[&str]) -> Vec<String> {
        list.iter().map(|t| t.to_string()).collect()
    }

    #[test]
    fn an_ordinary_account_is_not_spam() {
        let a = assess(&Signals {
            age_days: 400.0,
            followers: 120,
            following: 200,
            follows_last_hour: 2,
            recent_texts: texts(&[
                "Planted garlic today",
                "The swifts are back",
                "Look: https://example.org/birds",
            ]),
            reporters: 0,
        });
        assert!(a.likelihood < 0.1, "{a:?}");
        assert!(a.reasons.is_empty());
        assert!(!a.is_spam());
    }

    #[test]
    fn a_new_bait_posting_follow_burster_is_spam_with_reasons() {
        let a = assess(&Signals {
            age_days: 0.2,
            followers: 1,
            following: 900,
            follows_last_hour: 300,
            recent_texts: texts(&[
                "FREE FOLLOWERS https://spam.example/x",
                "free followers https://spam.example/x",
                "https://spam.example/x",
            ]),
            reporters: 0,
        });
        assert!(a.is_spam(), "{a:?}");
        assert!(a.reasons.len() >= 4, "{a:?}");
        assert!(a.reasons.iter().any(|r| r.contains("within an hour")));
    }

    #[test]
    fn one_weak_signal_alone_does_not_condemn() {
        for s in [
            Signals {
                age_days: 0.5,
                ..Default::default()
            },
            Signals {
                age_days: 100.0,
                following: 100,
                followers: 1,
                ..Default::default()
            },
            Signals {
                age_days: 100.0,
                follows_last_hour: 25,
                ..Default::default()
            },
            Signals {
                age_days: 100.0,
                recent_texts: texts(&["https://a.example", "hi", "hello"]),
                ..Default::default()
            },
        ] {
            assert!(!assess(&s).is_spam(), "{s:?}");
        }
    }

    #[test]
    fn bait_and_bare_links_are_recognised() {
        assert!(is_bait("Get FREE followers now"));
        assert!(!is_bait("my followers are lovely"));
        assert!(is_link_only("https://a.example https://b.example"));
        assert!(is_link_only("@bob https://a.example #deal"));
        assert!(!is_link_only("read this https://a.example"));
        assert!(!is_link_only("no links"));
    }

    #[test]
    fn reports_add_evidence_up_to_three_reporters() {
        let base = Signals {
            age_days: 100.0,
            ..Default::default()
        };
        let one = assess(&Signals {
            reporters: 1,
            ..base.clone()
        });
        let three = assess(&Signals {
            reporters: 3,
            ..base.clone()
        });
        let ten = assess(&Signals {
            reporters: 10,
            ..base.clone()
        });
        assert!(assess(&base).likelihood < one.likelihood && one.likelihood < three.likelihood);
        assert_eq!(three.likelihood, ten.likelihood);
        // Reports alone never condemn (they can be organised); with another signal they do.
        assert!(!three.is_spam(), "{three:?}");
        let young = assess(&Signals {
            reporters: 3,
            age_days: 0.5,
            ..base
        });
        assert!(young.is_spam(), "{young:?}");
    }
}
