//! Trends: statuses, tags and links rising faster than their audience or history would
//! predict (the scoring is `cascade_core::trends`). Recomputed from the store in the
//! background every `REFRESH` (and on demand with `refresh`), kept in memory as one
//! immutable `Trends`; requests only page through it and render.
//!
//! Who counts: every engaging or using account is weighted by its age and a spam
//! likelihood from the signals one bulk query each can give (age, follow counts, recent
//! follows, reporters); suspended accounts count nothing. Who may trend: public statuses
//! without a sensitive mark or content warning, by authors that are neither suspended
//! nor likely spam on their full assessment (`app::spam`). Rendering applies visibility
//! and suspension again, so an author suspended since the last recomputation is gone at
//! once.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use cascade_core::id::floor_for_millis;
use cascade_core::spam::{self, Signals};
use cascade_core::text::{tokenize, Token};
use cascade_core::trends::{self as score, Engagement};
use cascade_core::{time, Id};
use cascade_store::{Account, Store};

use crate::app::entity;
use crate::app::{render, Viewer};
use crate::error::ApiResult;
use crate::state::AppState;

const HOUR: i64 = 3_600_000;
const DAY: i64 = 86_400_000;
/// Engagement older than this does not count.
pub const ENGAGEMENT_WINDOW: i64 = 24 * HOUR;
/// Statuses older than this do not trend.
pub const STATUS_MAX_AGE: i64 = 48 * HOUR;
/// Days of history a tag or link shows (today first), and the baseline's days before it.
pub const HISTORY_DAYS: i64 = 7;
/// Entries kept per kind of trend.
pub const MAX_TRENDS: usize = 200;
/// How often the background task recomputes.
pub const REFRESH: Duration = Duration::from_secs(300);

/// One day of a tag's or link's use: posts and distinct accounts (unweighted, as shown).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct DayUse {
    /// Days since the epoch.
    pub day: i64,
    pub uses: i64,
    pub accounts: i64,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TagTrend {
    pub id: Id,
    pub name: String,
    /// `HISTORY_DAYS` days, today first.
    pub history: Vec<DayUse>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LinkTrend {
    pub url: String,
    pub history: Vec<DayUse>,
}

/// One recomputation's result, best first in each list.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Trends {
    pub statuses: Vec<Id>,
    pub tags: Vec<TagTrend>,
    pub links: Vec<LinkTrend>,
    /// When it was computed (milliseconds); 0 before the first time.
    pub computed_at: i64,
}

/// The current trends, swapped whole by each recomputation.
#[derive(Default)]
pub struct TrendCache {
    current: RwLock<Arc<Trends>>,
}

impl TrendCache {
    pub fn get(&self) -> Arc<Trends> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn set(&self, trends: Trends) {
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(trends);
    }
}

/// Recomputes the trends now and makes them current.
pub async fn refresh(state: &AppState) -> ApiResult<Arc<Trends>> {
    let mut trends = compute(&state.store, time::now_millis()).await?;
    // The authors that would trend get their full spam assessment (their recent texts
    // too), which is cached; only the ranked few pay for it.
    let ranked = state.store.trend_candidates(&trends.statuses, 0).await?;
    let author_of: HashMap<Id, Id> = ranked.iter().map(|c| (c.id, c.account_id)).collect();
    let author_ids: Vec<Id> = author_of
        .values()
        .copied()
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let mut spammy = HashSet::new();
    for a in state.store.accounts(&author_ids).await? {
        if crate::app::spam::assess_record(state, &a).await?.is_spam() {
            spammy.insert(a.id);
        }
    }
    trends
        .statuses
        .retain(|id| author_of.get(id).is_some_and(|a| !spammy.contains(a)));
    // The other nodes of a cluster take this node's result.
    state.tell(crate::cluster::Message::Trends(trends.clone()));
    state.trends.set(trends);
    Ok(state.trends.get())
}

/// Recomputes forever, every `REFRESH`; a failed round is logged and retried next time.
///
/// In a cluster, one node computes (the holder of a lease in Redis, `leads`) and sends
/// the result to the others over NATS (as every `refresh` does); a node that has none yet
/// (it just started) computes its own once. A leader that dies stops renewing, and another node takes the lease when
/// it runs out.
pub async fn run_worker(state: AppState) {
    loop {
        let leader = leads(&state).await;
        if leader || state.trends.get().computed_at == 0 {
            if let Err(e) = refresh(&state).await {
                tracing::warn!(error = %e, "recomputing trends failed");
            }
        }
        tokio::time::sleep(REFRESH).await;
    }
}

/// How long the leader's lease on the trends lasts: two rounds, so one slow round does not
/// lose it, and a dead leader is replaced within two rounds.
const LEASE: Duration = Duration::from_secs(2 * REFRESH.as_secs());

/// Whether this node computes the trends: always without Redis; in a cluster, when it
/// holds (takes, or renews) the lease. Redis failing, every node computes its own.
pub async fn leads(state: &AppState) -> bool {
    let Some(cluster) = &state.cluster else {
        return true;
    };
    let Some(mut conn) = cluster.redis() else {
        return true;
    };
    let key = cluster.key("trends:leader");
    let ms = LEASE.as_millis() as u64;
    let taken: redis::RedisResult<Option<String>> = redis::cmd("SET")
        .arg(&key)
        .arg(&cluster.node)
        .arg("NX")
        .arg("PX")
        .arg(ms)
        .query_async(&mut conn)
        .await;
    match taken {
        Ok(Some(_)) => true,
        Ok(None) => {
            let holder: redis::RedisResult<Option<String>> =
                redis::cmd("GET").arg(&key).query_async(&mut conn).await;
            match holder {
                Ok(Some(h)) if h == cluster.node => {
                    let _: redis::RedisResult<i64> = redis::cmd("PEXPIRE")
                        .arg(&key)
                        .arg(ms)
                        .query_async(&mut conn)
                        .await;
                    true
                }
                Ok(_) => false,
                Err(_) => true,
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "Redis did not answer who computes trends; computing here");
            true
        }
    }
}

/// The weight of each account's engagement, from cheap signals gathered in bulk.
async fn weights(store: &Store, accounts: &[Account], now: i64) -> ApiResult<HashMap<Id, f64>> {
    let reporters: HashMap<Id, i64> = store
        .reporter_counts_since(
            now - 30 * DAY,
            now - cascade_core::spam::REPORTER_MIN_AGE_DAYS * DAY,
        )
        .await?
        .into_iter()
        .collect();
    let follows: HashMap<Id, i64> = store
        .follow_counts_since(floor_for_millis(now - HOUR))
        .await?
        .into_iter()
        .collect();
    Ok(accounts
        .iter()
        .map(|a| {
            if a.suspended_at.is_some() {
                return (a.id, 0.0);
            }
            let age_days = (now - a.created_at) as f64 / DAY as f64;
            let verdict = spam::assess(&Signals {
                age_days,
                followers: a.followers_count,
                following: a.following_count,
                follows_last_hour: follows.get(&a.id).copied().unwrap_or(0),
                recent_texts: Vec::new(),
                reporters: reporters.get(&a.id).copied().unwrap_or(0),
            });
            let w = score::account_weight(age_days, verdict.likelihood, verdict.is_spam());
            (a.id, w)
        })
        .collect())
}

/// What a tag or link accumulated: per day, posts and the accounts that made them.
#[derive(Default)]
struct Uses {
    days: HashMap<i64, (i64, HashSet<Id>)>,
}

impl Uses {
    fn add(&mut self, day: i64, account: Id, posts: i64) {
        let e = self.days.entry(day).or_default();
        e.0 += posts;
        e.1.insert(account);
    }

    fn score(&self, today: i64, weights: &HashMap<Id, f64>) -> f64 {
        let weighted = |day: i64| {
            self.days.get(&day).map_or(0.0, |(_, accounts)| {
                accounts
                    .iter()
                    .map(|a| weights.get(a).copied().unwrap_or(0.0))
                    .sum()
            })
        };
        let previous: Vec<f64> = (1..HISTORY_DAYS)
            .map(|back| weighted(today - back))
            .collect();
        score::use_score(weighted(today), &previous)
    }

    fn history(&self, today: i64) -> Vec<DayUse> {
        (0..HISTORY_DAYS)
            .map(|back| {
                let day = today - back;
                let (uses, accounts) = self
                    .days
                    .get(&day)
                    .map_or((0, 0), |(u, a)| (*u, a.len() as i64));
                DayUse {
                    day,
                    uses,
                    accounts,
                }
            })
            .collect()
    }
}

/// One recomputation from the store at `now`, before the authors' full spam assessment.
pub async fn compute(store: &Store, now: i64) -> ApiResult<Trends> {
    let today = now / DAY;
    let history_start = floor_for_millis((today - HISTORY_DAYS + 1) * DAY);
    let events = store
        .engagements_since(floor_for_millis(now - ENGAGEMENT_WINDOW))
        .await?;
    let mut engaged: Vec<Id> = events.iter().map(|e| e.status_id).collect();
    engaged.sort_unstable();
    engaged.dedup();
    let candidates = store
        .trend_candidates(&engaged, floor_for_millis(now - STATUS_MAX_AGE))
        .await?;
    let tag_uses = store.tag_uses_since(history_start).await?;
    let link_posts = store.link_posts_since(history_start).await?;

    let mut ids: HashSet<Id> = events.iter().map(|e| e.account_id).collect();
    ids.extend(candidates.iter().map(|c| c.account_id));
    ids.extend(tag_uses.iter().map(|u| u.account_id));
    ids.extend(link_posts.iter().map(|p| p.account_id));
    let ids: Vec<Id> = ids.into_iter().collect();
    let accounts = store.accounts(&ids).await?;
    let weights = weights(store, &accounts, now).await?;
    let by_id: HashMap<Id, &Account> = accounts.iter().map(|a| (a.id, a)).collect();
    // Authors that are suspended never trend; a zero weight (new, or spam on the cheap
    // signals) keeps an author's own posts out too.
    let may_trend = |author: Id| {
        by_id.get(&author).is_some_and(|a| a.suspended_at.is_none())
            && weights.get(&author).copied().unwrap_or(0.0) > 0.0
    };

    let authors: HashMap<Id, (Id, i64)> = candidates
        .iter()
        .filter(|c| may_trend(c.account_id))
        .map(|c| (c.id, (c.account_id, c.created_at)))
        .collect();
    let mut engagement: HashMap<Id, f64> = HashMap::new();
    for e in &events {
        let Some(&(author, _)) = authors.get(&e.status_id) else {
            continue;
        };
        if e.account_id == author {
            continue;
        }
        let kind = match e.kind.as_str() {
            "f" => Engagement::Favourite,
            "r" => Engagement::Reblog,
            "q" => Engagement::Quote,
            _ => Engagement::Reply,
        };
        let w = weights.get(&e.account_id).copied().unwrap_or(0.0);
        let age = (now - e.created_at) as f64 / HOUR as f64;
        *engagement.entry(e.status_id).or_default() += score::event_value(kind, w, age);
    }
    let statuses = score::rank(
        engagement.iter().map(|(&id, &e)| {
            let (author, created_at) = authors[&id];
            let followers = by_id.get(&author).map_or(0, |a| a.followers_count);
            let age = (now - created_at) as f64 / HOUR as f64;
            (id, score::status_score(e, followers, age))
        }),
        MAX_TRENDS,
    );

    let mut tags: HashMap<Id, (String, Uses)> = HashMap::new();
    for u in &tag_uses {
        if by_id
            .get(&u.account_id)
            .is_some_and(|a| a.suspended_at.is_some())
        {
            continue;
        }
        tags.entry(u.tag_id)
            .or_insert_with(|| (u.name.clone(), Uses::default()))
            .1
            .add(u.day, u.account_id, u.uses);
    }
    let ranked = score::rank(
        tags.iter()
            .map(|(&id, (_, uses))| (id, uses.score(today, &weights))),
        MAX_TRENDS,
    );
    let tags = ranked
        .into_iter()
        .map(|id| {
            let (name, uses) = &tags[&id];
            TagTrend {
                id,
                name: name.clone(),
                history: uses.history(today),
            }
        })
        .collect();

    let mut links: HashMap<String, Uses> = HashMap::new();
    for p in &link_posts {
        if by_id
            .get(&p.account_id)
            .is_some_and(|a| a.suspended_at.is_some())
        {
            continue;
        }
        let mut seen = HashSet::new();
        for token in tokenize(&p.text) {
            if let Token::Url(url) = token {
                if seen.insert(url) {
                    links.entry(url.to_string()).or_default().add(
                        p.created_at / DAY,
                        p.account_id,
                        1,
                    );
                }
            }
        }
    }
    // Ranked by index into the sorted URLs, so that ties break the same way every time.
    let mut urls: Vec<&String> = links.keys().collect();
    urls.sort();
    let ranked = score::rank(
        urls.iter()
            .enumerate()
            .map(|(i, url)| (i, links[*url].score(today, &weights))),
        MAX_TRENDS,
    );
    let links = ranked
        .into_iter()
        .map(|i| LinkTrend {
            url: urls[i].clone(),
            history: links[urls[i]].history(today),
        })
        .collect();

    Ok(Trends {
        statuses,
        tags,
        links,
        computed_at: now,
    })
}

fn history(days: &[DayUse]) -> Vec<entity::TagHistory> {
    days.iter()
        .map(|d| entity::TagHistory {
            day: (d.day * 86_400).to_string(),
            uses: d.uses.to_string(),
            accounts: d.accounts.to_string(),
        })
        .collect()
}

fn window<T: Clone>(items: &[T], offset: usize, limit: usize) -> Vec<T> {
    items.iter().skip(offset).take(limit).cloned().collect()
}

/// `GET /api/v1/trends/statuses`: a window of the trending statuses the viewer may see.
pub async fn statuses(
    state: &AppState,
    viewer: &Viewer,
    offset: usize,
    limit: usize,
) -> ApiResult<Vec<entity::Status>> {
    let trends = state.trends.get();
    let shown = render::statuses(state, viewer, &trends.statuses).await?;
    Ok(window(&shown, offset, limit))
}

/// `GET /api/v1/trends/tags`: a window of the trending tags with their week of use.
pub fn tags(state: &AppState, offset: usize, limit: usize) -> Vec<entity::Hashtag> {
    let trends = state.trends.get();
    window(&trends.tags, offset, limit)
        .into_iter()
        .map(|t| entity::Hashtag {
            id: t.id.to_string(),
            url: state.url(&format!("/tags/{}", t.name)),
            name: t.name,
            history: history(&t.history),
            following: None,
            featuring: None,
        })
        .collect()
}

/// `GET /api/v1/trends/links`: a window of the trending links as preview cards. Cascade
/// fetches no pages, so a card knows only its URL and host.
pub fn links(state: &AppState, offset: usize, limit: usize) -> Vec<entity::TrendsLink> {
    let trends = state.trends.get();
    window(&trends.links, offset, limit)
        .into_iter()
        .map(|l| {
            let host = l
                .url
                .split_once("://")
                .map_or("", |(_, rest)| {
                    rest.split(['/', '?', '#']).next().unwrap_or("")
                })
                .to_string();
            // No page is fetched, so the site stands for the provider and the author, and
            // the link for its embed (which clients use for photos only): each field
            // stays a URL, as the entity says.
            let site = match l.url.split_once("://") {
                Some((scheme, _)) => format!("{scheme}://{host}/"),
                None => l.url.clone(),
            };
            entity::TrendsLink {
                title: l.url.clone(),
                embed_url: l.url.clone(),
                url: l.url,
                description: String::new(),
                kind: "link".into(),
                author_name: String::new(),
                author_url: site.clone(),
                authors: Vec::new(),
                provider_url: site,
                provider_name: host,
                html: String::new(),
                width: 0,
                height: 0,
                image: None,
                blurhash: None,
                history: history(&l.history),
            }
        })
        .collect()
}
