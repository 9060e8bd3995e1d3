//! The ranked home feed's order: engagement relative to the audience that saw a post,
//! with time decay.
//!
//! Raw counts favour big accounts: 40 favourites from 100,000 followers is a post most of
//! them scrolled past, while 12 from an audience of 30 is one its readers cared about. A
//! post's **relative engagement** is its weighted engagement (favourites, reblogs, quotes,
//! replies) over its audience (the larger of the author's followers and the distinct
//! accounts that saw it), shrunk towards a prior rate so that a post nobody has seen yet
//! neither tops nor sinks the feed on no evidence. The score decays with the post's age,
//! halving every `half_life_ms`.

use crate::Id;

/// What people did with a post.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Engagement {
    pub favourites: i64,
    pub reblogs: i64,
    pub quotes: i64,
    pub replies: i64,
}

impl Engagement {
    pub fn total(&self) -> i64 {
        self.favourites + self.reblogs + self.quotes + self.replies
    }
}

/// A post to rank.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    pub id: Id,
    /// Milliseconds since the epoch.
    pub created_at: i64,
    pub engagement: Engagement,
    /// The author's followers.
    pub followers: i64,
    /// Distinct accounts that saw the post (an estimate; 0 when unknown).
    pub reach: i64,
}

impl Candidate {
    /// The accounts the post reached: its author's followers, or those who saw it when
    /// reshares took it further.
    pub fn audience(&self) -> i64 {
        self.followers.max(self.reach).max(0)
    }
}

/// How engagement is weighed and how fast a post ages.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Weights {
    pub favourite: f64,
    /// A reblog or a quote passes the post on: it says more than a favourite.
    pub reblog: f64,
    pub quote: f64,
    pub reply: f64,
    /// The relative engagement assumed before any evidence...
    pub prior_rate: f64,
    /// ...and how many accounts of audience that assumption is worth.
    pub prior_audience: f64,
    pub half_life_ms: i64,
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            favourite: 1.0,
            reblog: 2.0,
            quote: 2.0,
            reply: 1.5,
            prior_rate: 0.02,
            prior_audience: 20.0,
            half_life_ms: 6 * 3_600_000,
        }
    }
}

/// A candidate's place in the order, with what explains it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Score {
    /// Weighted engagement per account of audience, smoothed by the prior.
    pub relative: f64,
    /// `0.5^(age / half_life)`, 1 for a post from the future (clock skew).
    pub decay: f64,
    /// `relative × decay`: the order.
    pub score: f64,
}

impl Weights {
    /// The weighted engagement of a post.
    pub fn weighted(&self, e: &Engagement) -> f64 {
        self.favourite * e.favourites.max(0) as f64
            + self.reblog * e.reblogs.max(0) as f64
            + self.quote * e.quotes.max(0) as f64
            + self.reply * e.replies.max(0) as f64
    }

    pub fn score(&self, c: &Candidate, now: i64) -> Score {
        let relative = (self.weighted(&c.engagement) + self.prior_rate * self.prior_audience)
            / (c.audience() as f64 + self.prior_audience);
        let age = (now - c.created_at).max(0) as f64;
        let decay = 0.5f64.powf(age / self.half_life_ms.max(1) as f64);
        Score {
            relative,
            decay,
            score: relative * decay,
        }
    }
}

/// The candidates by descending score; equal scores keep the newer post first. Each id
/// appears once (the first occurrence counts).
pub fn rank(candidates: &[Candidate], weights: &Weights, now: i64) -> Vec<(Candidate, Score)> {
    let mut seen = std::collections::HashSet::with_capacity(candidates.len());
    let mut out: Vec<(Candidate, Score)> = candidates
        .iter()
        .filter(|c| seen.insert(c.id))
        .map(|c| (*c, weights.score(c, now)))
        .collect();
    out.sort_by(|(a, sa), (b, sb)| sb.score.total_cmp(&sa.score).then(b.id.cmp(&a.id)));
    out
}

/// A short sentence saying why a post ranks where it does.
pub fn explain(c: &Candidate, s: &Score, now: i64) -> String {
    let e = &c.engagement;
    let mut parts = Vec::new();
    for (n, one, many) in [
        (e.favourites, "favourite", "favourites"),
        (e.reblogs, "reblog", "reblogs"),
        (e.quotes, "quote", "quotes"),
        (e.replies, "reply", "replies"),
    ] {
        match n {
            0 => {}
            1 => parts.push(format!("1 {one}")),
            n => parts.push(format!("{n} {many}")),
        }
    }
    let what = if parts.is_empty() {
        "No engagement yet".to_string()
    } else {
        parts.join(", ")
    };
    let hours = (now - c.created_at).max(0) / 3_600_000;
    let age = match hours {
        0 => "under an hour old".to_string(),
        1 => "1 hour old".to_string(),
        h => format!("{h} hours old"),
    };
    format!(
        "{what} from an audience of {}: {:.1}% relative engagement, {age}",
        c.audience(),
        s.relative * 100.0
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const HOUR: i64 = 3_600_000;

    fn post(id: Id, followers: i64, favourites: i64, reblogs: i64) -> Candidate {
        Candidate {
            id,
            created_at: 0,
            engagement: Engagement {
                favourites,
                reblogs,
                ..Engagement::default()
            },
            followers,
            reach: 0,
        }
    }

    #[test]
    fn a_small_accounts_well_liked_post_outranks_a_big_accounts_shrugged_at_one() {
        let small = post(1, 30, 12, 3);
        let big = post(2, 100_000, 40, 5);
        let ranked = rank(&[big, small], &Weights::default(), 0);
        assert_eq!(ranked[0].0.id, 1);
    }

    #[test]
    fn the_audience_is_who_saw_it_when_reshares_took_it_further() {
        let mut c = post(1, 10, 0, 0);
        c.reach = 500;
        assert_eq!(c.audience(), 500);
        c.reach = 3;
        assert_eq!(c.audience(), 10);
    }

    #[test]
    fn a_score_halves_every_half_life() {
        let w = Weights::default();
        let mut c = post(1, 10, 5, 0);
        let fresh = w.score(&c, 0).score;
        c.created_at = -w.half_life_ms;
        assert!((w.score(&c, 0).score - fresh / 2.0).abs() < 1e-12);
        c.created_at = HOUR;
        assert_eq!(
            w.score(&c, 0).decay,
            1.0,
            "a post from the future does not grow"
        );
    }

    #[test]
    fn equal_scores_keep_the_newer_post_first_and_ids_are_not_repeated() {
        let ranked = rank(
            &[post(1, 10, 0, 0), post(3, 10, 0, 0), post(1, 10, 9, 9)],
            &Weights::default(),
            0,
        );
        let ids: Vec<Id> = ranked.iter().map(|(c, _)| c.id).collect();
        assert_eq!(ids, vec![3, 1]);
    }

    #[test]
    fn the_explanation_names_the_engagement_and_the_audience() {
        let c = Candidate {
            id: 1,
            created_at: 0,
            engagement: Engagement {
                favourites: 12,
                reblogs: 1,
                quotes: 0,
                replies: 2,
            },
            followers: 30,
            reach: 0,
        };
        let w = Weights::default();
        let text = explain(&c, &w.score(&c, 3 * HOUR), 3 * HOUR);
        assert_eq!(
            text,
            "12 favourites, 1 reblog, 2 replies from an audience of 30: 34.8% relative engagement, 3 hours old"
        );
        let quiet = post(2, 0, 0, 0);
        assert!(explain(&quiet, &w.score(&quiet, 0), 0).starts_with("No engagement yet"));
    }

    proptest! {
        #[test]
        fn more_engagement_never_ranks_lower(
            followers in 0i64..1_000_000,
            favourites in 0i64..10_000,
            more in 1i64..100,
            age in 0i64..(72 * HOUR),
        ) {
            let w = Weights::default();
            let mut a = post(1, followers, favourites, 0);
            a.created_at = -age;
            let mut b = a;
            b.engagement.favourites += more;
            prop_assert!(w.score(&b, 0).score > w.score(&a, 0).score);
        }

        #[test]
        fn a_bigger_audience_for_the_same_engagement_never_ranks_higher(
            followers in 0i64..1_000_000,
            favourites in 0i64..10_000,
            more in 1i64..1_000_000,
        ) {
            let w = Weights::default();
            let a = post(1, followers, favourites, 0);
            let b = post(2, followers + more, favourites, 0);
            prop_assert!(w.score(&b, 0).score <= w.score(&a, 0).score);
        }

        #[test]
        fn ranking_is_a_permutation_sorted_by_score(
            posts in prop::collection::vec((0i64..1_000, 0i64..100, 0i64..10, 0i64..(48 * HOUR)), 0..60),
        ) {
            let cands: Vec<Candidate> = posts
                .iter()
                .enumerate()
                .map(|(i, &(f, fav, rb, age))| {
                    let mut c = post(i as Id + 1, f, fav, rb);
                    c.created_at = -age;
                    c
                })
                .collect();
            let ranked = rank(&cands, &Weights::default(), 0);
            prop_assert_eq!(ranked.len(), cands.len());
            for pair in ranked.windows(2) {
                prop_assert!(pair[0].1.score >= pair[1].1.score);
            }
        }
    }
}
