//! Follow suggestions (`/api/v2/suggestions`) and the follow-back rule.
//!
//! Heavy users follow back only the people whose interests overlap with theirs. The
//! candidates are the user's followers it does not follow back, the accounts its follows
//! follow (friends of friends), and the accounts that use its hashtags in public posts.
//! Each is ranked by the overlap of its interests with the user's (`core::interests`,
//! from public posts and profiles only, so nothing private explains a suggestion), with a
//! bonus for following the user, for shared follows and for using the user's hashtags.
//! Blocked, muted, followed, dismissed, suspended and likely-spam accounts are left out.
//!
//! The follow-back rule, when a user turns it on, follows back each new follower whose
//! overlap reaches the user's threshold and who is not likely spam.

use std::collections::{HashMap, HashSet};

use cascade_core::interests::{Interests, Overlap};
use cascade_core::{time, Id};

use crate::app::entity;
use crate::app::{render, spam, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Recent public posts read per account to learn its interests.
const POSTS_PER_ACCOUNT: usize = 20;
/// Candidates read per source.
const PER_SOURCE: usize = 100;
/// The user's hashtags looked for in others' posts, and how far back.
const TOP_TAGS: usize = 5;
const TAG_WINDOW_MS: i64 = 30 * 86_400_000;
/// The follow-back threshold when a user turns the rule on without one.
pub const DEFAULT_MIN_OVERLAP: f64 = 0.2;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Source {
    FollowsYou,
    FriendsOfFriends,
    PopularInYourInterests,
}

impl Source {
    fn name(self) -> &'static str {
        match self {
            Source::FollowsYou => "follows_you",
            Source::FriendsOfFriends => "friends_of_friends",
            Source::PopularInYourInterests => "popular_in_your_interests",
        }
    }

    /// The nearest of Mastodon's `Suggestion.sources` values.
    fn mastodon(self) -> &'static str {
        match self {
            Source::FollowsYou => "most_interactions",
            Source::FriendsOfFriends => "friends_of_friends",
            Source::PopularInYourInterests => "most_followed",
        }
    }
}

#[derive(Debug, Default)]
struct Candidate {
    sources: Vec<Source>,
    /// The user's follows that follow this account.
    mutuals: i64,
    /// The user's hashtags this account used.
    shared_tags: i64,
}

/// The interests of each account, from its recent public posts and its profile note.
async fn interests_of(state: &AppState, accounts: &[Id]) -> ApiResult<HashMap<Id, Interests>> {
    let posts = state
        .store
        .interest_posts(accounts, POSTS_PER_ACCOUNT)
        .await?;
    let ids: Vec<Id> = posts.iter().map(|&(_, id, _)| id).collect();
    let mut tags: HashMap<Id, Vec<String>> = HashMap::new();
    for (status, tag) in state.store.tags_of(&ids).await? {
        tags.entry(status).or_default().push(tag);
    }
    let records = state
        .records
        .accounts(&state.store, accounts, std::time::Instant::now())
        .await?;
    let mut texts: HashMap<Id, Vec<&str>> = HashMap::new();
    let mut tag_names: HashMap<Id, Vec<&str>> = HashMap::new();
    for (account, status, text) in &posts {
        texts.entry(*account).or_default().push(text);
        if let Some(t) = tags.get(status) {
            tag_names
                .entry(*account)
                .or_default()
                .extend(t.iter().map(String::as_str));
        }
    }
    Ok(accounts
        .iter()
        .map(|&a| {
            let note = records.get(&a).map(|r| r.note.as_str());
            let interests = Interests::from_parts(
                texts.get(&a).into_iter().flatten().copied().chain(note),
                tag_names.get(&a).into_iter().flatten().copied(),
            );
            (a, interests)
        })
        .collect())
}

/// How much two accounts' interests overlap.
pub async fn overlap(state: &AppState, a: Id, b: Id) -> ApiResult<Overlap> {
    let interests = interests_of(state, &[a, b]).await?;
    Ok(interests[&a].overlap(&interests[&b]))
}

/// A suggestion before rendering.
struct Ranked {
    account: Id,
    sources: Vec<Source>,
    overlap: Overlap,
    mutuals: i64,
    score: f64,
}

pub async fn suggest(
    state: &AppState,
    viewer: &Viewer,
    limit: usize,
) -> ApiResult<Vec<entity::Suggestion>> {
    let me = viewer.id.ok_or(ApiError::Unauthorized)?;
    let store = &state.store;
    let mut excluded: HashSet<Id> = store.dismissed_suggestions(me).await?.into_iter().collect();
    excluded.insert(me);
    excluded.extend(viewer.following.keys());
    excluded.extend(&viewer.blocked);
    excluded.extend(&viewer.muted);

    let mine = interests_of(state, &[me])
        .await?
        .remove(&me)
        .unwrap_or_default();
    let mut candidates: HashMap<Id, Candidate> = HashMap::new();
    for follower in store.unreciprocated_followers(me, PER_SOURCE).await? {
        candidates
            .entry(follower)
            .or_default()
            .sources
            .push(Source::FollowsYou);
    }
    for (account, mutuals) in store.friends_of_friends(me, PER_SOURCE).await? {
        let c = candidates.entry(account).or_default();
        c.sources.push(Source::FriendsOfFriends);
        c.mutuals = mutuals;
    }
    let since = time::now_millis() - TAG_WINDOW_MS;
    for (account, shared) in store
        .tag_users(me, &mine.top_tags(TOP_TAGS), since, PER_SOURCE)
        .await?
    {
        let c = candidates.entry(account).or_default();
        c.sources.push(Source::PopularInYourInterests);
        c.shared_tags = shared;
    }
    candidates.retain(|id, _| !excluded.contains(id));

    let ids: Vec<Id> = candidates.keys().copied().collect();
    let records = state
        .records
        .accounts(store, &ids, std::time::Instant::now())
        .await?;
    let theirs = interests_of(state, &ids).await?;
    let mut ranked: Vec<Ranked> = candidates
        .into_iter()
        .filter_map(|(account, c)| {
            let record = records.get(&account)?;
            // Those who follow the user may be followed back; others are suggested only
            // when they let themselves be found.
            let follows_me = c.sources.contains(&Source::FollowsYou);
            if record.suspended_at.is_some() || !(follows_me || record.discoverable) {
                return None;
            }
            let overlap = theirs.get(&account)?.overlap(&mine);
            let score = overlap.score
                + if follows_me { 0.25 } else { 0.0 }
                + 0.15 * (c.mutuals.min(5) as f64 / 5.0)
                + 0.1 * (c.shared_tags.min(TOP_TAGS as i64) as f64 / TOP_TAGS as f64);
            Some(Ranked {
                account,
                sources: c.sources,
                overlap,
                mutuals: c.mutuals,
                score,
            })
        })
        .collect();
    ranked.sort_by(|a, b| b.score.total_cmp(&a.score).then(b.account.cmp(&a.account)));

    // Spam likelihood costs queries: judge only as many as the page may need.
    let mut kept = Vec::with_capacity(limit);
    for r in ranked {
        if kept.len() >= limit {
            break;
        }
        if let Some(record) = records.get(&r.account) {
            if !spam::assess_record(state, record).await?.is_spam() {
                kept.push(r);
            }
        }
    }
    let ids: Vec<Id> = kept.iter().map(|r| r.account).collect();
    let accounts: HashMap<String, entity::Account> = render::accounts(state, &ids)
        .await?
        .into_iter()
        .map(|a| (a.id.clone(), a))
        .collect();
    Ok(kept
        .into_iter()
        .filter_map(|mut r| {
            let account = accounts.get(&r.account.to_string())?.clone();
            r.sources.sort();
            let past = r
                .sources
                .iter()
                .any(|s| *s != Source::PopularInYourInterests);
            Some(entity::Suggestion {
                source: if past { "past_interactions" } else { "global" },
                sources: r.sources.iter().map(|s| s.mastodon()).collect(),
                account,
                cascade: entity::SuggestionExtension {
                    reasons: r.sources.iter().map(|s| s.name()).collect(),
                    score: r.score,
                    overlap: r.overlap.score,
                    shared_interests: r.overlap.shared,
                    mutuals: r.mutuals,
                },
            })
        })
        .collect())
}

/// Leaves an account out of the user's suggestions from now on.
pub async fn dismiss(state: &AppState, me: Id, account: Id) -> ApiResult<()> {
    state.store.account(account).await?;
    state
        .store
        .dismiss_suggestion(me, account, time::now_millis())
        .await?;
    Ok(())
}

pub async fn follow_back_rule(state: &AppState, me: Id) -> ApiResult<entity::FollowBackRule> {
    let rule = state.store.follow_back_rule(me).await?;
    Ok(entity::FollowBackRule {
        enabled: rule.is_some(),
        min_overlap: rule.unwrap_or(DEFAULT_MIN_OVERLAP),
    })
}

pub async fn set_follow_back_rule(
    state: &AppState,
    me: Id,
    enabled: bool,
    min_overlap: Option<f64>,
) -> ApiResult<entity::FollowBackRule> {
    let min = min_overlap.unwrap_or(DEFAULT_MIN_OVERLAP);
    if !(0.0..=1.0).contains(&min) {
        return Err(ApiError::Unprocessable(
            "min_overlap must be a number from 0 to 1".into(),
        ));
    }
    state
        .store
        .set_follow_back_rule(me, enabled.then_some(min))
        .await?;
    follow_back_rule(state, me).await
}

/// Whether `target`'s follow-back rule follows `follower` back: the rule is on, the
/// follower is not followed yet, their interests overlap enough and the follower is not
/// likely spam.
pub async fn should_follow_back(state: &AppState, follower: Id, target: Id) -> ApiResult<bool> {
    let Some(min) = state.store.follow_back_rule(target).await? else {
        return Ok(false);
    };
    if state.store.is_following(target, follower).await? {
        return Ok(false);
    }
    if overlap(state, follower, target).await?.score < min {
        return Ok(false);
    }
    Ok(!spam::assess(state, follower).await?.is_spam())
}
