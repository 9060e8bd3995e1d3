//! The ranked home feed: `GET /api/v1/timelines/home?order=ranked`.
//!
//! Candidates are the newest entries of the reader's home timeline (posts of followed
//! accounts, celebrities merged in, and the posts followed accounts reshared from outside
//! the reader's follows), one per original post, within the last three days. They are
//! ordered by `core::ranking`: engagement relative to the audience that saw the post,
//! decaying with the entry's age. Each entry carries its score and an explanation in
//! `Status.cascade.ranking`.
//!
//! Paging is stable: the first page ranks the candidates once and keeps the order as the
//! reader's snapshot; each page's `next` link carries a cursor (an opaque id in `max_id`,
//! as Mastodon clients send back) that points into that snapshot, so walking the pages
//! gives every ranked entry exactly once while counters keep moving. A cursor that is no
//! longer known (the snapshot expired or the server restarted) is read as an ordinary
//! `max_id`: the ranking starts over among older entries.
//!
//! The ranked feed shows only what the chronological home would show the reader: the
//! same candidates and the same rule (`timelines::home_candidates`, `home_keeps`). A
//! snapshot only orders ids, in this process's memory (`SNAPSHOT_TTL`, `MAX_SNAPSHOTS`),
//! or on a cluster in Redis, shared by the nodes; every page is rendered, and its
//! visibility checked, when it is read.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cascade_core::filter::FilterContext;
use cascade_core::ranking::{self, Candidate, Engagement, Score, Weights};
use cascade_core::timeline::Page;
use cascade_core::{time, Id};

use crate::app::entity;
use crate::app::timelines::{home_candidates, home_keeps};
use crate::app::{render, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Home entries weighed per ranking, newest first.
pub const CANDIDATES: usize = 200;
/// Entries older than this are not ranked.
const WINDOW_MS: i64 = 3 * 24 * 3_600_000;
/// How long a reader's snapshot answers its cursors.
const SNAPSHOT_TTL: Duration = Duration::from_secs(15 * 60);
/// Snapshots kept at most (one per reader); the oldest goes first.
const MAX_SNAPSHOTS: usize = 5_000;

/// One ranked entry: the timeline entry shown (a post, or the reshare that brought it)
/// and what ranked it.
#[derive(Debug, Clone, Copy)]
struct Entry {
    shown: Id,
    candidate: Candidate,
    score: Score,
}

impl Entry {
    /// Whether the entry is a reshare by someone the reader follows.
    fn reshared(&self) -> bool {
        self.shown != self.candidate.id
    }
}

struct Snapshot {
    entries: Arc<Vec<Entry>>,
    made: Instant,
    /// The cursors handed out, and the offset each continues from.
    cursors: HashMap<Id, usize>,
}

/// Each reader's latest ranking, so that its pages continue one order.
#[derive(Default)]
pub struct RankedFeeds {
    snapshots: Mutex<HashMap<Id, Snapshot>>,
}

impl RankedFeeds {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Id, Snapshot>> {
        self.snapshots
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The snapshot and offset a cursor continues, if it is still known.
    fn resume(&self, reader: Id, cursor: Id) -> Option<(Arc<Vec<Entry>>, usize)> {
        let snapshots = self.lock();
        let snapshot = snapshots.get(&reader)?;
        if snapshot.made.elapsed() >= SNAPSHOT_TTL {
            return None;
        }
        let offset = *snapshot.cursors.get(&cursor)?;
        Some((snapshot.entries.clone(), offset))
    }

    fn keep(&self, reader: Id, entries: Arc<Vec<Entry>>) {
        let mut snapshots = self.lock();
        if snapshots.len() >= MAX_SNAPSHOTS && !snapshots.contains_key(&reader) {
            if let Some(&oldest) = snapshots.iter().min_by_key(|(_, s)| s.made).map(|(k, _)| k) {
                snapshots.remove(&oldest);
            }
        }
        snapshots.insert(
            reader,
            Snapshot {
                entries,
                made: Instant::now(),
                cursors: HashMap::new(),
            },
        );
    }

    /// A new cursor continuing `entries` at `offset`, if they are still the reader's
    /// snapshot.
    fn cursor(&self, reader: Id, entries: &Arc<Vec<Entry>>, offset: usize, id: Id) -> bool {
        let mut snapshots = self.lock();
        match snapshots.get_mut(&reader) {
            Some(s) if Arc::ptr_eq(&s.entries, entries) => {
                s.cursors.insert(id, offset);
                true
            }
            _ => false,
        }
    }
}

/// The readers' snapshots on a cluster, in Redis, so that a page's cursor continues
/// the same order whichever node the next page is asked of. `ranked:{reader}` holds the
/// reader's latest snapshot (its id and entries), `ranked:{reader}:{cursor}` the snapshot
/// and offset a cursor continues; both expire after `SNAPSHOT_TTL`. A Redis error loses
/// only the snapshot: the cursor is then read as an ordinary `max_id`.
struct SharedSnapshots {
    conn: redis::aio::ConnectionManager,
    prefix: String,
}

/// An entry as stored: shown, id, created_at, favourites, reblogs, quotes, replies,
/// followers, reach, then relative, decay and score.
type StoredEntry = ([i64; 9], [f64; 3]);

impl SharedSnapshots {
    fn of(state: &AppState) -> Option<SharedSnapshots> {
        let cluster = state.cluster.as_ref()?;
        Some(SharedSnapshots {
            conn: cluster.redis()?,
            prefix: cluster.key("ranked"),
        })
    }

    fn latest(&self, reader: Id) -> String {
        format!("{}:{reader}", self.prefix)
    }

    async fn keep(&self, reader: Id, entries: &[Entry], snapshot: Id) {
        let stored: Vec<StoredEntry> = entries.iter().map(stored).collect();
        let Ok(json) = serde_json::to_string(&(snapshot, stored)) else {
            return;
        };
        let mut conn = self.conn.clone();
        let _: redis::RedisResult<()> = redis::cmd("SET")
            .arg(self.latest(reader))
            .arg(json)
            .arg("EX")
            .arg(SNAPSHOT_TTL.as_secs())
            .query_async(&mut conn)
            .await;
    }

    /// The reader's latest snapshot, with its id.
    async fn load(&self, reader: Id) -> Option<(Id, Vec<Entry>)> {
        let mut conn = self.conn.clone();
        let json: Option<String> = redis::cmd("GET")
            .arg(self.latest(reader))
            .query_async(&mut conn)
            .await
            .ok()?;
        let (snapshot, stored): (Id, Vec<StoredEntry>) = serde_json::from_str(&json?).ok()?;
        Some((snapshot, stored.iter().map(loaded).collect()))
    }

    /// The snapshot (its id and entries) and offset a cursor continues, if the snapshot
    /// is still the reader's latest.
    async fn resume(&self, reader: Id, cursor: Id) -> Option<(Id, Arc<Vec<Entry>>, usize)> {
        let mut conn = self.conn.clone();
        let at: Option<(Id, usize)> = redis::cmd("GET")
            .arg(format!("{}:{cursor}", self.latest(reader)))
            .query_async::<Option<String>>(&mut conn)
            .await
            .ok()
            .flatten()
            .and_then(|v| serde_json::from_str(&v).ok());
        let (snapshot, offset) = at?;
        let (latest, entries) = self.load(reader).await?;
        (latest == snapshot).then(|| (snapshot, Arc::new(entries), offset))
    }

    /// A new cursor continuing the reader's snapshot `snapshot` at `offset`.
    async fn cursor(&self, reader: Id, snapshot: Id, offset: usize, id: Id) -> bool {
        let mut conn = self.conn.clone();
        let set: redis::RedisResult<()> = redis::cmd("SET")
            .arg(format!("{}:{id}", self.latest(reader)))
            .arg(format!("[{snapshot},{offset}]"))
            .arg("EX")
            .arg(SNAPSHOT_TTL.as_secs())
            .query_async(&mut conn)
            .await;
        set.is_ok()
    }
}

fn stored(e: &Entry) -> StoredEntry {
    let c = &e.candidate;
    let g = &c.engagement;
    (
        [
            e.shown,
            c.id,
            c.created_at,
            g.favourites,
            g.reblogs,
            g.quotes,
            g.replies,
            c.followers,
            c.reach,
        ],
        [e.score.relative, e.score.decay, e.score.score],
    )
}

fn loaded((n, f): &StoredEntry) -> Entry {
    Entry {
        shown: n[0],
        candidate: Candidate {
            id: n[1],
            created_at: n[2],
            engagement: Engagement {
                favourites: n[3],
                reblogs: n[4],
                quotes: n[5],
                replies: n[6],
            },
            followers: n[7],
            reach: n[8],
        },
        score: Score {
            relative: f[0],
            decay: f[1],
            score: f[2],
        },
    }
}

/// A page of the ranked feed and the cursor of the next one, if there are more entries.
pub type RankedPage = (Vec<entity::Status>, Option<Id>);

pub async fn home(
    state: &AppState,
    viewer: &Viewer,
    cursor: Option<Id>,
    limit: usize,
) -> ApiResult<RankedPage> {
    let me = viewer.id.ok_or(ApiError::Unauthorized)?;
    let shared = SharedSnapshots::of(state);
    // On a cluster, the id of the shared snapshot the page comes from.
    let mut snapshot = 0;
    let resumed = match (cursor, &shared) {
        (None, _) => None,
        (Some(c), Some(shared)) => shared.resume(me, c).await.map(|(id, entries, offset)| {
            snapshot = id;
            (entries, offset)
        }),
        (Some(c), None) => state.ranked.resume(me, c),
    };
    let (entries, offset) = match resumed {
        Some(resumed) => resumed,
        None => {
            let entries = Arc::new(rank(state, viewer, me, cursor).await?);
            match &shared {
                Some(shared) => {
                    snapshot = state.ids.next();
                    shared.keep(me, &entries, snapshot).await;
                }
                None => state.ranked.keep(me, entries.clone()),
            }
            (entries, 0)
        }
    };
    let page = &entries[offset.min(entries.len())..(offset + limit).min(entries.len())];
    let ids: Vec<Id> = page.iter().map(|e| e.shown).collect();
    // Rendering checks visibility again: what changed since the ranking drops out.
    let mut statuses = render::statuses_in(state, viewer, &ids, FilterContext::Home).await?;
    let now = time::now_millis();
    for status in &mut statuses {
        let Some(entry) = page.iter().find(|e| status.id == e.shown.to_string()) else {
            continue;
        };
        // A reshare's entry is rendered as the resharer's status.
        let reshared_by = entry.reshared().then(|| status.account.username.clone());
        let ranking = explain(entry, reshared_by, now);
        status
            .cascade
            .get_or_insert(entity::StatusExtension {
                stats: None,
                automatic: None,
                ranking: None,
            })
            .ranking = Some(ranking);
    }
    let next = offset + page.len();
    let cursor = if next < entries.len() {
        let id = state.ids.next();
        match &shared {
            Some(shared) => shared.cursor(me, snapshot, next, id).await.then_some(id),
            None => state.ranked.cursor(me, &entries, next, id).then_some(id),
        }
    } else {
        None
    };
    Ok((statuses, cursor))
}

/// What the API shows of an entry's ranking.
fn explain(entry: &Entry, reshared_by: Option<String>, now: i64) -> entity::Ranking {
    let c = &entry.candidate;
    let mut explanation = ranking::explain(c, &entry.score, now);
    if let Some(name) = &reshared_by {
        explanation.push_str(&format!("; reshared by @{name}"));
    }
    entity::Ranking {
        score: entry.score.score,
        relative_engagement: entry.score.relative,
        audience: c.audience(),
        favourites: c.engagement.favourites,
        reblogs: c.engagement.reblogs,
        quotes: c.engagement.quotes,
        replies: c.engagement.replies,
        age_hours: (now - c.created_at).max(0) as f64 / 3_600_000.0,
        reshared_by,
        explanation,
    }
}

/// Ranks the reader's newest home entries (below `max_id`, when given), one per original
/// post: the newest entry that brought each.
async fn rank(
    state: &AppState,
    viewer: &Viewer,
    me: Id,
    max_id: Option<Id>,
) -> ApiResult<Vec<Entry>> {
    let want = Page {
        max_id,
        limit: CANDIDATES,
        ..Page::default()
    };
    let candidates = home_candidates(state, me, viewer, &want).await?;
    let shown = render::showable(state, viewer, &candidates, FilterContext::Home, |s, _| {
        home_keeps(viewer, me, s)
    })
    .await?;
    let now = time::now_millis();
    // Each original post once, with the newest entry that brought it.
    let mut picked: Vec<(Id, Id)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for &id in &shown.ids {
        let Some(entry) = shown.statuses.get(&id) else {
            continue;
        };
        let original = entry.record.reblog_of_id.unwrap_or(id);
        if now - entry.record.created_at <= WINDOW_MS && seen.insert(original) {
            picked.push((id, original));
        }
    }
    let original_ids: Vec<Id> = picked.iter().map(|&(_, o)| o).collect();
    let reach = state
        .records
        .views(&state.store, &original_ids, Instant::now())
        .await?;
    let mut shown_of: HashMap<Id, Id> = HashMap::with_capacity(picked.len());
    let candidates: Vec<Candidate> = picked
        .into_iter()
        .filter_map(|(shown_id, original)| {
            let entry = &shown.statuses.get(&shown_id)?.record;
            let o = &shown.statuses.get(&original)?.record;
            let followers = shown.accounts.get(&o.account_id)?.followers_count;
            shown_of.insert(original, shown_id);
            Some(Candidate {
                id: original,
                created_at: entry.created_at,
                engagement: Engagement {
                    favourites: o.favourites_count,
                    reblogs: o.reblogs_count,
                    quotes: o.quotes_count,
                    replies: o.replies_count,
                },
                followers,
                reach: reach.get(&original).map_or(0, |&(_, r)| r),
            })
        })
        .collect();
    Ok(ranking::rank(&candidates, &Weights::default(), now)
        .into_iter()
        .filter_map(|(candidate, score)| {
            Some(Entry {
                shown: *shown_of.get(&candidate.id)?,
                candidate,
                score,
            })
        })
        .collect())
}
