//! Trend scoring: what is rising *relative to its own audience or history*, not what is
//! merely big. Pure functions over counts the server gathered; no IO, no clock.
//!
//! - A **status** scores its recent engagement (favourites, reblogs, quotes, replies),
//!   each event decayed by its age, divided by what its author's audience would give an
//!   ordinary post (`BASE_RATE` per follower, followers smoothed by `FOLLOWER_PRIOR`), and
//!   decayed again by the post's own age. A post by a 10-follower account that 8 people
//!   liked beats a post by a 10,000-follower account that 100 people liked.
//! - A **tag** or **link** scores the accounts that used it today against its own mean
//!   daily accounts over the previous days, smoothed by `USE_PRIOR`.
//! - Every engaging or using account counts with a weight in [0, 1] (`account_weight`):
//!   nothing while it is younger than `NEW_ACCOUNT_DAYS` or likely spam, ramping up to full
//!   weight at `MATURE_ACCOUNT_DAYS`. Whether an author may trend at all (not spam, not
//!   suspended) and whether a status may (public, not sensitive) is the caller's filter.

/// Accounts younger than this add nothing to a trend.
pub const NEW_ACCOUNT_DAYS: f64 = 7.0;
/// From this age on an account's engagement counts in full.
pub const MATURE_ACCOUNT_DAYS: f64 = 30.0;
/// Expected engagements per follower of an ordinary post.
pub const BASE_RATE: f64 = 0.05;
/// Followers every author is assumed to have on top of its own, so that the first
/// favourite of a zero-follower account does not look infinite.
pub const FOLLOWER_PRIOR: f64 = 20.0;
/// Half-life of an engagement event's and a post's contribution, in hours.
pub const HALF_LIFE_HOURS: f64 = 6.0;
/// Weighted engagement a status needs before it can trend at all.
pub const MIN_ENGAGEMENT: f64 = 2.0;
/// Daily accounts every tag or link is assumed to have had before.
pub const USE_PRIOR: f64 = 2.0;
/// Weighted accounts a tag or link needs today before it can trend.
pub const MIN_ACCOUNTS: f64 = 2.0;

/// The kinds of engagement, and how much each says about a post.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engagement {
    Favourite,
    Reply,
    Reblog,
    Quote,
}

impl Engagement {
    /// Sharing puts a post before new people and costs the sharer more than a favourite.
    pub fn weight(self) -> f64 {
        match self {
            Engagement::Favourite | Engagement::Reply => 1.0,
            Engagement::Reblog | Engagement::Quote => 2.0,
        }
    }
}

/// How much an account's engagement or use counts: 0 for new or likely spam accounts,
/// rising linearly to 1 between `NEW_ACCOUNT_DAYS` and `MATURE_ACCOUNT_DAYS` of age, times
/// how unlikely spam it is.
pub fn account_weight(age_days: f64, spam_likelihood: f64, is_spam: bool) -> f64 {
    if is_spam || age_days.is_nan() || age_days < NEW_ACCOUNT_DAYS {
        return 0.0;
    }
    let age =
        ((age_days - NEW_ACCOUNT_DAYS) / (MATURE_ACCOUNT_DAYS - NEW_ACCOUNT_DAYS)).clamp(0.0, 1.0);
    // A zero-day step would make an account trend-blind for a week and then count fully.
    let age = age.max(0.1);
    age * (1.0 - spam_likelihood.clamp(0.0, 1.0))
}

/// The factor by which something `hours` old counts.
pub fn decay(hours: f64) -> f64 {
    0.5f64.powf(hours.max(0.0) / HALF_LIFE_HOURS)
}

/// One engagement event's contribution: kind × account weight × decay by its age.
pub fn event_value(kind: Engagement, account_weight: f64, age_hours: f64) -> f64 {
    kind.weight() * account_weight * decay(age_hours)
}

/// A status's trend score from its summed `event_value`s, its author's followers and its
/// own age; 0 below `MIN_ENGAGEMENT`.
pub fn status_score(engagement: f64, followers: i64, age_hours: f64) -> f64 {
    if engagement.is_nan() || engagement < MIN_ENGAGEMENT {
        return 0.0;
    }
    let expected = BASE_RATE * (followers.max(0) as f64 + FOLLOWER_PRIOR);
    engagement / expected * decay(age_hours)
}

/// A tag's or link's trend score from today's weighted accounts and the previous days'
/// weighted accounts (any number of days; missing days count as 0); 0 below
/// `MIN_ACCOUNTS` or when today is no more than usual.
pub fn use_score(today: f64, previous_days: &[f64]) -> f64 {
    if today.is_nan() || today < MIN_ACCOUNTS {
        return 0.0;
    }
    let baseline = if previous_days.is_empty() {
        0.0
    } else {
        previous_days.iter().sum::<f64>() / previous_days.len() as f64
    };
    if today <= baseline {
        return 0.0;
    }
    (today - baseline) / (baseline + USE_PRIOR)
}

/// The keys with a positive score, best first (ties by key, newest first), at most `limit`.
pub fn rank<K: Ord + Copy>(scored: impl IntoIterator<Item = (K, f64)>, limit: usize) -> Vec<K> {
    let mut v: Vec<(K, f64)> = scored
        .into_iter()
        .filter(|(_, s)| s.is_finite() && *s > 0.0)
        .collect();
    v.sort_by(|a, b| b.1.total_cmp(&a.1).then(b.0.cmp(&a.0)));
    v.truncate(limit);
    v.into_iter().map(|(k, _)| k).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_small_accounts_relative_success_beats_a_big_accounts_raw_count() {
        let small = status_score(8.0, 10, 1.0);
        let big = status_score(100.0, 10_000, 1.0);
        assert!(small > big, "{small} vs {big}");
    }

    #[test]
    fn new_and_spam_accounts_add_nothing() {
        assert_eq!(account_weight(2.0, 0.0, false), 0.0);
        assert_eq!(account_weight(400.0, 0.9, true), 0.0);
        assert_eq!(account_weight(f64::NAN, 0.0, false), 0.0);
        assert_eq!(account_weight(400.0, 0.0, false), 1.0);
        assert!(account_weight(8.0, 0.0, false) < account_weight(20.0, 0.0, false));
    }

    #[test]
    fn too_little_engagement_never_trends() {
        assert_eq!(status_score(1.5, 0, 0.0), 0.0);
        assert_eq!(use_score(1.0, &[]), 0.0);
        assert_eq!(use_score(5.0, &[5.0, 5.0]), 0.0, "as usual is no trend");
        assert!(use_score(5.0, &[0.0, 1.0]) > 0.0);
    }

    #[test]
    fn ranking_drops_zero_and_keeps_the_best_first() {
        assert_eq!(
            rank([(1, 0.5), (2, 0.0), (3, 2.0), (4, f64::NAN)], 10),
            [3, 1]
        );
        assert_eq!(rank([(1, 1.0), (2, 1.0)], 1), [2]);
    }

    proptest! {
        #[test]
        fn weights_stay_between_zero_and_one(age in 0.0f64..2000.0, spam in -1.0f64..2.0) {
            let w = account_weight(age, spam, false);
            prop_assert!((0.0..=1.0).contains(&w));
        }

        #[test]
        fn more_engagement_scores_higher(e in 2.0f64..1e6, extra in 0.01f64..1e3, followers in 0i64..10_000_000, age in 0.0f64..72.0) {
            prop_assert!(status_score(e + extra, followers, age) > status_score(e, followers, age));
        }

        #[test]
        fn a_bigger_audience_scores_lower(e in 2.0f64..1e6, followers in 0i64..10_000_000, more in 1i64..1_000_000, age in 0.0f64..72.0) {
            prop_assert!(status_score(e, followers + more, age) < status_score(e, followers, age));
        }

        #[test]
        fn older_scores_lower(e in 2.0f64..1e6, followers in 0i64..1_000_000, age in 0.0f64..72.0, later in 0.1f64..72.0) {
            prop_assert!(status_score(e, followers, age + later) < status_score(e, followers, age));
        }

        #[test]
        fn a_higher_baseline_scores_lower(today in 2.0f64..1e5, base in 0.0f64..1e4, more in 0.1f64..1e4) {
            prop_assert!(use_score(today, &[base + more]) <= use_score(today, &[base]));
        }

        #[test]
        fn rank_is_sorted_and_bounded(scores in proptest::collection::vec(0.0f64..100.0, 0..50), limit in 0usize..60) {
            let by_key: Vec<(usize, f64)> = scores.iter().copied().enumerate().collect();
            let ranked = rank(by_key.clone(), limit);
            prop_assert!(ranked.len() <= limit);
            for pair in ranked.windows(2) {
                prop_assert!(scores[pair[0]] >= scores[pair[1]]);
            }
        }
    }
}
