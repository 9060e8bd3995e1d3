//! The record cache: status records (with their mentions and tags), accounts, stored view
//! counts and each viewer's marks, kept in memory so that rendering a warm page does not
//! touch the store. It holds copies of rows and decides nothing; it must never be the only
//! place a change is written.
//!
//! The invariant: every use case that writes a row a rendered status or account shows
//! tells the cache, right after the write committed and before it renders anything, what
//! to forget (`forget_*`). A load that read the store before that moment cannot put its
//! stale copy back: each shard counts the keys forgotten in it, and a load stores its
//! results only in shards whose count did not move since it began reading (`Ticket`).
//!
//! Entries also expire after a short TTL (`RecordCacheConfig::ttl`). Within one process
//! the forgetting is exact; the TTL bounds how stale a record written by another process
//! sharing a PostgreSQL store can be.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, Hash, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use cascade_core::Id;
use cascade_store::{
    Account, DeletedStatus, MediaRecord, StatusRecord, Store, StoreError, ViewsRecord,
};

/// How many entries each kind of record may keep, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordCacheConfig {
    /// Statuses (each with its mentions and tags); as many stored view counts.
    pub statuses: usize,
    pub accounts: usize,
    /// `(viewer, status)` pairs: whether the viewer favourited, reblogged, bookmarked or
    /// pinned the status. A few bytes each.
    pub marks: usize,
    /// How long an entry may be used at most.
    pub ttl: Duration,
    /// The bytes the status and account records may take in all (their text, HTML,
    /// mentions, tags and bios, estimated): records are as large as their authors make
    /// them, so a count alone does not bound the memory. Statuses get two thirds.
    pub max_bytes: usize,
}

impl RecordCacheConfig {
    /// The default number of statuses: about 30 MB in all with typical posts (about 1 KB
    /// per status with its view counts, 0.6 KB per account, 64 bytes per mark).
    pub const DEFAULT_STATUSES: usize = 20_000;
    pub const DEFAULT_TTL: Duration = Duration::from_secs(5);
    /// Bytes allowed per status of capacity: typical records use about 1.6 KB with their
    /// share of accounts, so the byte budget binds only when records run large.
    pub const BYTES_PER_STATUS: usize = 1_600;

    /// Room for `statuses` statuses, half as many accounts (a page's statuses share
    /// authors) and four times as many marks (each viewer has its own). 0 turns the
    /// cache off.
    pub fn with_capacity(statuses: usize, ttl: Duration) -> RecordCacheConfig {
        RecordCacheConfig {
            statuses,
            accounts: statuses.div_ceil(2),
            marks: statuses.saturating_mul(4),
            ttl,
            max_bytes: statuses.saturating_mul(Self::BYTES_PER_STATUS),
        }
    }
}

impl Default for RecordCacheConfig {
    fn default() -> Self {
        RecordCacheConfig::with_capacity(Self::DEFAULT_STATUSES, Self::DEFAULT_TTL)
    }
}

/// A status as rendering needs it: the row, and the rows hanging off it that change only
/// when it is edited or deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusEntry {
    pub record: StatusRecord,
    /// The mentioned accounts, in the store's order.
    pub mentions: Vec<Id>,
    pub tags: Vec<String>,
    /// The status's poll (its options and settings; votes are counted when rendered).
    pub poll: Option<cascade_store::PollRecord>,
    /// The attachments, in order.
    pub media: Vec<MediaRecord>,
    /// A remote status's ActivityPub id and page.
    pub remote: Option<(String, Option<String>)>,
}

/// What one viewer has done to one status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Marks {
    pub favourited: bool,
    pub reblogged: bool,
    pub bookmarked: bool,
    pub pinned: bool,
}

/// The cached records, one bounded cache per kind.
pub struct RecordCache {
    /// `None` for an id the store does not have: a deleted status stays in cached home
    /// timelines, and should not cost a query on every read. Ids are never reused, so
    /// only the creation of that very id could make it wrong, and creating forgets it.
    statuses: ClockCache<Id, Option<Arc<StatusEntry>>>,
    /// Only accounts that exist: accounts are created by the admin command too, in
    /// another process, which could not forget an absence.
    accounts: ClockCache<Id, Arc<Account>>,
    /// Stored `(views, reach)`, `(0, 0)` for a status without a row yet.
    views: ClockCache<Id, (i64, i64)>,
    marks: ClockCache<(Id, Id), Marks>,
}

impl RecordCache {
    pub fn new(config: &RecordCacheConfig) -> RecordCache {
        let for_statuses = config.max_bytes / 3 * 2;
        RecordCache {
            statuses: ClockCache::with_budget(config.statuses, for_statuses, config.ttl),
            accounts: ClockCache::with_budget(
                config.accounts,
                config.max_bytes - for_statuses,
                config.ttl,
            ),
            // Fixed-size values: their count bounds their bytes.
            views: ClockCache::new(config.statuses, config.ttl),
            marks: ClockCache::new(config.marks, config.ttl),
        }
    }

    /// The estimated bytes held by the status and account records.
    pub fn bytes(&self) -> usize {
        self.statuses.bytes() + self.accounts.bytes()
    }

    /// Statuses by id with their mentions and tags, and what they refer to, `rounds`
    /// levels deep: the first round loads `ids`, each next one what the previous round's
    /// statuses reblog or quote. Unknown ids are left out. Whatever the cache lacks is read
    /// in one query per round, then one each for the mentions, the tags and the polls of
    /// all.
    pub async fn statuses(
        &self,
        store: &Store,
        ids: &[Id],
        rounds: usize,
        now: Instant,
    ) -> Result<HashMap<Id, Arc<StatusEntry>>, StoreError> {
        fn refers_to(s: &StatusRecord) -> impl Iterator<Item = Id> {
            [s.reblog_of_id, s.quote_of_id].into_iter().flatten()
        }
        let mut out: HashMap<Id, Arc<StatusEntry>> = HashMap::with_capacity(ids.len());
        let mut asked: HashSet<Id> = HashSet::with_capacity(ids.len());
        let mut from_store: Vec<Id> = Vec::new();
        let mut fetched: Vec<StatusRecord> = Vec::new();
        let mut ticket = None;
        let mut wanted: Vec<Id> = ids.to_vec();
        for _ in 0..rounds {
            wanted.retain(|&id| asked.insert(id));
            if wanted.is_empty() {
                break;
            }
            let mut next = Vec::new();
            let mut missed = Vec::new();
            for &id in &wanted {
                match self.statuses.get(&id, now) {
                    Some(Some(entry)) => {
                        next.extend(refers_to(&entry.record));
                        out.insert(id, entry);
                    }
                    Some(None) => {}
                    None => missed.push(id),
                }
            }
            if !missed.is_empty() {
                ticket.get_or_insert_with(|| self.statuses.ticket());
                missed.sort_unstable();
                let found = store.statuses(&missed).await?;
                next.extend(found.iter().flat_map(refers_to));
                from_store.extend(missed);
                fetched.extend(found);
            }
            wanted = next;
        }
        let Some(ticket) = ticket else {
            return Ok(out);
        };
        let found: Vec<Id> = fetched.iter().map(|s| s.id).collect();
        let mut mentions: HashMap<Id, Vec<Id>> = HashMap::new();
        let mut tags: HashMap<Id, Vec<String>> = HashMap::new();
        let mut polls: HashMap<Id, cascade_store::PollRecord> = HashMap::new();
        let mut media: HashMap<Id, Vec<MediaRecord>> = HashMap::new();
        let mut remote: HashMap<Id, (String, Option<String>)> = HashMap::new();
        if !found.is_empty() {
            for (status, uri, url) in store.remote_statuses_of(&found).await? {
                remote.insert(status, (uri, url));
            }
            for m in store.media_of(&found).await? {
                if let Some(status) = m.status_id {
                    media.entry(status).or_default().push(m);
                }
            }
            for (status, account) in store.mentions_of(&found).await? {
                mentions.entry(status).or_default().push(account);
            }
            for (status, tag) in store.tags_of(&found).await? {
                tags.entry(status).or_default().push(tag);
            }
            for poll in store.polls_of(&found).await? {
                polls.insert(poll.status_id, poll);
            }
        }
        for record in fetched {
            let id = record.id;
            let entry = Arc::new(StatusEntry {
                mentions: mentions.remove(&id).unwrap_or_default(),
                tags: tags.remove(&id).unwrap_or_default(),
                poll: polls.remove(&id),
                media: media.remove(&id).unwrap_or_default(),
                remote: remote.remove(&id),
                record,
            });
            self.statuses.insert(id, Some(entry.clone()), &ticket, now);
            out.insert(id, entry);
        }
        for id in from_store {
            if !out.contains_key(&id) {
                self.statuses.insert(id, None, &ticket, now);
            }
        }
        Ok(out)
    }

    /// Accounts by id; unknown ones are left out. One query for what the cache lacks.
    pub async fn accounts(
        &self,
        store: &Store,
        ids: &[Id],
        now: Instant,
    ) -> Result<HashMap<Id, Arc<Account>>, StoreError> {
        let mut out = HashMap::with_capacity(ids.len());
        let mut missed = Vec::new();
        for &id in ids {
            if out.contains_key(&id) {
                continue;
            }
            match self.accounts.get(&id, now) {
                Some(account) => {
                    out.insert(id, account);
                }
                None => missed.push(id),
            }
        }
        if missed.is_empty() {
            return Ok(out);
        }
        missed.sort_unstable();
        missed.dedup();
        let ticket = self.accounts.ticket();
        for account in store.accounts(&missed).await? {
            let account = Arc::new(account);
            self.accounts
                .insert(account.id, account.clone(), &ticket, now);
            out.insert(account.id, account);
        }
        Ok(out)
    }

    /// Stored `(views, reach)` of each status, `(0, 0)` for one without counts yet; the
    /// impressions not yet flushed are not included.
    pub async fn views(
        &self,
        store: &Store,
        ids: &[Id],
        now: Instant,
    ) -> Result<HashMap<Id, (i64, i64)>, StoreError> {
        let mut out = HashMap::with_capacity(ids.len());
        let mut missed = Vec::new();
        for &id in ids {
            match self.views.get(&id, now) {
                Some(counts) => {
                    out.insert(id, counts);
                }
                None => missed.push(id),
            }
        }
        if missed.is_empty() {
            return Ok(out);
        }
        missed.sort_unstable();
        missed.dedup();
        let ticket = self.views.ticket();
        let stored: HashMap<Id, (i64, i64)> = store
            .views(&missed, false)
            .await?
            .into_iter()
            .map(|v| (v.status_id, (v.views, v.reach)))
            .collect();
        for id in missed {
            let counts = stored.get(&id).copied().unwrap_or((0, 0));
            self.views.insert(id, counts, &ticket, now);
            out.insert(id, counts);
        }
        Ok(out)
    }

    /// What `viewer` has done to each of `ids`. One query for what the cache lacks.
    pub async fn marks(
        &self,
        store: &Store,
        viewer: Id,
        ids: &[Id],
        now: Instant,
    ) -> Result<HashMap<Id, Marks>, StoreError> {
        let mut out = HashMap::with_capacity(ids.len());
        let mut missed = Vec::new();
        for &id in ids {
            match self.marks.get(&(viewer, id), now) {
                Some(marks) => {
                    out.insert(id, marks);
                }
                None => missed.push(id),
            }
        }
        if missed.is_empty() {
            return Ok(out);
        }
        missed.sort_unstable();
        missed.dedup();
        let ticket = self.marks.ticket();
        let state = store.viewer_state(viewer, &missed).await?;
        let mut found: HashMap<Id, Marks> =
            missed.iter().map(|&id| (id, Marks::default())).collect();
        let mut set = |ids: &[Id], mark: fn(&mut Marks)| {
            for id in ids {
                if let Some(m) = found.get_mut(id) {
                    mark(m);
                }
            }
        };
        set(&state.favourited, |m| m.favourited = true);
        set(&state.reblogged, |m| m.reblogged = true);
        set(&state.bookmarked, |m| m.bookmarked = true);
        set(&state.pinned, |m| m.pinned = true);
        for (id, marks) in found {
            self.marks.insert((viewer, id), marks, &ticket, now);
            out.insert(id, marks);
        }
        Ok(out)
    }

    /// A status's row changed: its text, a counter, its quote state.
    pub fn forget_status(&self, id: Id) {
        self.statuses.forget(&id);
    }

    /// A status's attachments changed (processing finished, an edit), if it has a status.
    pub fn forget_media_of(&self, status: Option<Id>) {
        if let Some(id) = status {
            self.forget_status(id);
        }
    }

    /// An account's row changed: its profile, a follow count, a setting.
    pub fn forget_account(&self, id: Id) {
        self.accounts.forget(&id);
    }

    /// A status was created or deleted: forgets it, the statuses whose counters it moved
    /// (the one it replies to, quotes or reblogs), its author's account (statuses count,
    /// last status) and, for a reblog, its author's marks on the original.
    pub fn forget_written(&self, s: &StatusRecord) {
        self.forget_status(s.id);
        for moved in [s.in_reply_to_id, s.quote_of_id, s.reblog_of_id]
            .into_iter()
            .flatten()
        {
            self.forget_status(moved);
        }
        self.forget_account(s.account_id);
        if let Some(original) = s.reblog_of_id {
            self.marks.forget(&(s.account_id, original));
        }
    }

    /// A status was deleted: as `forget_written`, and the quotes of it, which now show it
    /// as deleted.
    pub fn forget_deleted(&self, deleted: &DeletedStatus) {
        self.forget_written(&deleted.status);
        for &quote in &deleted.quotes {
            self.forget_status(quote);
        }
    }

    /// `account` favourited, bookmarked or pinned `status`, or stopped: its marks on it,
    /// and the status's favourites count.
    pub fn forget_marked(&self, account: Id, status: Id) {
        self.marks.forget(&(account, status));
        self.forget_status(status);
    }

    /// Everything: this node may have missed what other nodes changed (a NATS cut).
    pub fn forget_all(&self) {
        self.statuses.clear();
        self.accounts.clear();
        self.views.clear();
        self.marks.clear();
    }

    /// Another node wrote a status's view counts: read them again.
    pub fn forget_views(&self, id: Id) {
        self.views.forget(&id);
    }

    /// View counts were written: the cache takes the totals as they are now stored.
    pub fn views_saved(&self, totals: &[ViewsRecord]) {
        let now = Instant::now();
        for v in totals {
            self.views.put(v.status_id, (v.views, v.reach), now);
        }
    }
}

// ---------------------------------------------------------------------------------------
// The cache structure.

const SHARDS: usize = 32;

/// The estimated heap and inline bytes of a cached value, for the caches' byte budgets.
pub trait Weigh {
    fn weight(&self) -> usize;
}

impl Weigh for Option<Arc<StatusEntry>> {
    fn weight(&self) -> usize {
        let Some(e) = self else {
            return std::mem::size_of::<Self>();
        };
        let r = &e.record;
        let strings = [&r.text, &r.content_html, &r.spoiler_text, &r.quote_policy]
            .iter()
            .map(|t| t.len())
            .sum::<usize>()
            + r.language.as_ref().map_or(0, String::len)
            + r.quote_state.as_ref().map_or(0, String::len);
        let tags: usize = e
            .tags
            .iter()
            .map(|t| t.len() + std::mem::size_of::<String>())
            .sum();
        let media: usize = e
            .media
            .iter()
            .map(|m| {
                std::mem::size_of::<MediaRecord>()
                    + m.meta_json.len()
                    + m.description.len()
                    + m.kind.len()
                    + m.state.len()
                    + m.content_type.len()
                    + m.keys().iter().map(String::len).sum::<usize>()
                    + m.blurhash.as_ref().map_or(0, String::len)
            })
            .sum();
        std::mem::size_of::<StatusEntry>()
            + strings
            + e.mentions.len() * std::mem::size_of::<Id>()
            + tags
            + e.poll.as_ref().map_or(0, |p| p.options.len())
            + media
    }
}

impl Weigh for Arc<Account> {
    fn weight(&self) -> usize {
        std::mem::size_of::<Account>()
            + self.username.len()
            + self.display_name.len()
            + self.avatar_key.as_ref().map_or(0, String::len)
            + self.header_key.as_ref().map_or(0, String::len)
            + self.note.len()
            + self.note_html.len()
            + self.fields_json.len()
    }
}

impl Weigh for (i64, i64) {
    fn weight(&self) -> usize {
        std::mem::size_of::<Self>()
    }
}

impl Weigh for Marks {
    fn weight(&self) -> usize {
        std::mem::size_of::<Self>()
    }
}

/// A bounded map with the CLOCK eviction policy (a cheap approximation of least recently
/// used: a read sets a bit, and the hand sweeping for a victim clears bits until it finds
/// an entry not read since its last pass), split into shards with a lock each so that
/// concurrent readers rarely wait.
///
/// It holds at most `capacity` entries and `max_bytes` estimated bytes (`Weigh`) in all:
/// each shard its share of both, decided up front, so no shard ever looks at another. A
/// value larger than a shard's share of bytes is not kept. Entries older than the TTL
/// are treated as absent and are the first to be evicted.
pub struct ClockCache<K, V> {
    shards: Box<[Mutex<Shard<K, V>>]>,
    /// Keys forgotten per shard, read without the lock when a load begins.
    forgotten: Box<[AtomicU64]>,
    /// Picks the shard; each shard's map has its own keys, so its buckets don't correlate.
    hasher: RandomState,
    ttl: Duration,
}

/// Each shard's count of forgotten keys when a load began reading the store.
pub struct Ticket(Box<[u64]>);

struct Shard<K, V> {
    index: HashMap<K, usize>,
    slots: Vec<Slot<K, V>>,
    hand: usize,
    capacity: usize,
    bytes: usize,
    max_bytes: usize,
}

struct Slot<K, V> {
    key: K,
    value: V,
    stored_at: Instant,
    referenced: bool,
    weight: usize,
}

impl<K: Hash + Eq + Copy, V: Clone + Weigh> ClockCache<K, V> {
    /// A cache bounded by its number of entries only (for values of a fixed size).
    pub fn new(capacity: usize, ttl: Duration) -> ClockCache<K, V> {
        Self::with_budget(capacity, usize::MAX, ttl)
    }

    /// A cache bounded by entries and by estimated bytes.
    pub fn with_budget(capacity: usize, max_bytes: usize, ttl: Duration) -> ClockCache<K, V> {
        let shards = (0..SHARDS)
            .map(|i| {
                let share = capacity / SHARDS + usize::from(i < capacity % SHARDS);
                Mutex::new(Shard {
                    index: HashMap::with_capacity(share.min(4_096)),
                    slots: Vec::new(),
                    hand: 0,
                    capacity: share,
                    bytes: 0,
                    max_bytes: max_bytes / SHARDS,
                })
            })
            .collect();
        ClockCache {
            shards,
            forgotten: (0..SHARDS).map(|_| AtomicU64::new(0)).collect(),
            hasher: RandomState::new(),
            ttl,
        }
    }

    fn shard_of(&self, key: &K) -> usize {
        (self.hasher.hash_one(key) % SHARDS as u64) as usize
    }

    fn lock(&self, shard: usize) -> MutexGuard<'_, Shard<K, V>> {
        self.shards[shard]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The value under `key`, unless it is missing or older than the TTL at `now`.
    pub fn get(&self, key: &K, now: Instant) -> Option<V> {
        let mut shard = self.lock(self.shard_of(key));
        let i = *shard.index.get(key)?;
        if self.expired(shard.slots[i].stored_at, now) {
            shard.remove_at(i);
            return None;
        }
        let slot = &mut shard.slots[i];
        slot.referenced = true;
        Some(slot.value.clone())
    }

    /// Taken before reading the store, so that `insert` can refuse what was read before
    /// a key was forgotten.
    pub fn ticket(&self) -> Ticket {
        Ticket(
            self.forgotten
                .iter()
                .map(|n| n.load(Ordering::Acquire))
                .collect(),
        )
    }

    /// Stores what a load read from the store, unless a key of the same shard was
    /// forgotten since `ticket` was taken (the value may be older than that change).
    /// Returns whether it was stored.
    pub fn insert(&self, key: K, value: V, ticket: &Ticket, now: Instant) -> bool {
        let i = self.shard_of(&key);
        let mut shard = self.lock(i);
        if self.forgotten[i].load(Ordering::Acquire) != ticket.0[i] {
            return false;
        }
        self.store(&mut shard, key, value, now);
        true
    }

    /// Stores a value its writer just committed, and refuses loads begun before.
    pub fn put(&self, key: K, value: V, now: Instant) {
        let i = self.shard_of(&key);
        let mut shard = self.lock(i);
        self.forgotten[i].fetch_add(1, Ordering::AcqRel);
        self.store(&mut shard, key, value, now);
    }

    /// Drops `key`, and refuses loads begun before.
    pub fn forget(&self, key: &K) {
        let i = self.shard_of(key);
        let mut shard = self.lock(i);
        self.forgotten[i].fetch_add(1, Ordering::AcqRel);
        if let Some(&slot) = shard.index.get(key) {
            shard.remove_at(slot);
        }
    }

    /// Drops every entry, and refuses loads begun before.
    pub fn clear(&self) {
        for i in 0..SHARDS {
            let mut shard = self.lock(i);
            self.forgotten[i].fetch_add(1, Ordering::AcqRel);
            shard.index.clear();
            shard.slots.clear();
            shard.hand = 0;
            shard.bytes = 0;
        }
    }

    /// Entries held, expired ones included.
    pub fn len(&self) -> usize {
        (0..SHARDS).map(|i| self.lock(i).slots.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Estimated bytes held, expired entries included.
    pub fn bytes(&self) -> usize {
        (0..SHARDS).map(|i| self.lock(i).bytes).sum()
    }

    fn expired(&self, stored_at: Instant, now: Instant) -> bool {
        now.saturating_duration_since(stored_at) >= self.ttl
    }

    fn store(&self, shard: &mut Shard<K, V>, key: K, value: V, now: Instant) {
        if shard.capacity == 0 {
            return;
        }
        let weight = value.weight();
        if let Some(&i) = shard.index.get(&key) {
            shard.remove_at(i);
        }
        if weight > shard.max_bytes {
            // Larger than this shard may hold at all: read from the store each time.
            return;
        }
        while shard.bytes + weight > shard.max_bytes {
            self.evict(shard, now);
        }
        let slot = Slot {
            key,
            value,
            stored_at: now,
            referenced: false,
            weight,
        };
        shard.bytes += weight;
        if shard.slots.len() < shard.capacity {
            shard.index.insert(key, shard.slots.len());
            shard.slots.push(slot);
            return;
        }
        let hand = self.victim(shard, now);
        let old = std::mem::replace(&mut shard.slots[hand], slot);
        shard.bytes -= old.weight;
        shard.index.remove(&old.key);
        shard.index.insert(key, hand);
    }

    /// Sweeps for a victim: an expired or unreferenced entry goes; referenced ones get a
    /// second chance. At most one full turn clears every bit, so this ends. The shard must
    /// hold an entry.
    fn victim(&self, shard: &mut Shard<K, V>, now: Instant) -> usize {
        loop {
            let hand = shard.hand;
            shard.hand = (hand + 1) % shard.slots.len();
            let candidate = &mut shard.slots[hand];
            if candidate.referenced && !self.expired(candidate.stored_at, now) {
                candidate.referenced = false;
                continue;
            }
            return hand;
        }
    }

    /// Removes the sweep's victim, to make room in bytes.
    fn evict(&self, shard: &mut Shard<K, V>, now: Instant) {
        let hand = self.victim(shard, now);
        shard.remove_at(hand);
        // `remove_at` moved the last entry into the victim's slot; the hand looks at it next.
        shard.hand = hand.min(shard.slots.len().saturating_sub(1));
    }
}

impl<K: Hash + Eq + Copy, V> Shard<K, V> {
    /// Removes the entry in slot `i`, moving the last slot into its place.
    fn remove_at(&mut self, i: usize) {
        let removed = self.slots.swap_remove(i);
        self.bytes -= removed.weight;
        self.index.remove(&removed.key);
        if let Some(moved) = self.slots.get(i) {
            self.index.insert(moved.key, i);
        }
        if self.hand >= self.slots.len() {
            self.hand = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TTL: Duration = Duration::from_secs(5);

    impl Weigh for i64 {
        fn weight(&self) -> usize {
            8
        }
    }

    /// A value that weighs as many bytes as it says.
    #[derive(Clone, Debug, PartialEq)]
    struct Heavy(usize);

    impl Weigh for Heavy {
        fn weight(&self) -> usize {
            self.0
        }
    }

    #[test]
    fn it_never_holds_more_bytes_than_its_budget() {
        let now = Instant::now();
        let budget = SHARDS * 10_000;
        let cache: ClockCache<i64, Heavy> = ClockCache::with_budget(100_000, budget, TTL);
        for k in 0..5_000 {
            let value = Heavy(100 + (k as usize * 7919) % 3_000);
            cache.insert(k, value, &cache.ticket(), now);
            assert!(cache.bytes() <= budget, "{} > {budget}", cache.bytes());
        }
        assert!(cache.bytes() >= budget / 2, "the budget is barely used");
        // Reading back only what is held, each value intact.
        for k in 0..5_000 {
            if let Some(v) = cache.get(&k, now) {
                assert_eq!(v, Heavy(100 + (k as usize * 7919) % 3_000));
            }
        }
        // A value larger than a shard's share is not kept at all.
        cache.insert(-1, Heavy(budget), &cache.ticket(), now);
        assert_eq!(cache.get(&-1, now), None);
        // Forgetting gives the bytes back.
        for k in 0..5_000 {
            cache.forget(&k);
        }
        assert_eq!(cache.bytes(), 0);
    }

    /// Room for 10 keys in every shard: keys land in shards by a random hash, so a
    /// smaller cache could evict one of ten keys and make a test fail by chance.
    const ROOMY: usize = SHARDS * 10;

    fn filled(capacity: usize, keys: std::ops::Range<i64>, now: Instant) -> ClockCache<i64, i64> {
        let cache = ClockCache::new(capacity, TTL);
        for k in keys {
            cache.insert(k, k * 10, &cache.ticket(), now);
        }
        cache
    }

    #[test]
    fn a_stored_value_is_read_back_until_it_is_forgotten() {
        let now = Instant::now();
        let cache = filled(ROOMY, 0..10, now);
        assert_eq!(cache.get(&3, now), Some(30));
        cache.forget(&3);
        assert_eq!(cache.get(&3, now), None);
        assert_eq!(cache.get(&4, now), Some(40));
        assert_eq!(cache.len(), 9);
    }

    #[test]
    fn it_never_holds_more_than_its_capacity() {
        let now = Instant::now();
        for capacity in [1, 7, 31, 32, 33, 100, 1_000] {
            let cache = filled(capacity, 0..5_000, now);
            assert!(cache.len() <= capacity, "{} > {capacity}", cache.len());
            assert!(cache.len() >= capacity * 9 / 10, "{capacity} barely used");
        }
    }

    #[test]
    fn zero_capacity_stores_nothing() {
        let now = Instant::now();
        let cache = filled(0, 0..100, now);
        assert!(cache.is_empty());
        assert_eq!(cache.get(&1, now), None);
    }

    #[test]
    fn eviction_spares_entries_read_since_the_last_sweep() {
        // One shard's worth: with 32 shards and a capacity of 32 × 4, keys that land in
        // one shard compete for its 4 slots.
        let now = Instant::now();
        let cache: ClockCache<i64, i64> = ClockCache::new(SHARDS * 4, TTL);
        let shard = cache.shard_of(&0);
        let same: Vec<i64> = (0..)
            .filter(|k| cache.shard_of(k) == shard)
            .take(40)
            .collect();
        for &k in &same[..4] {
            cache.insert(k, k, &cache.ticket(), now);
        }
        // The first key is read again and again; every newcomer must evict another.
        for &k in &same[4..] {
            assert_eq!(cache.get(&same[0], now), Some(same[0]));
            cache.insert(k, k, &cache.ticket(), now);
        }
        assert_eq!(cache.get(&same[0], now), Some(same[0]));
        assert_eq!(cache.get(&same[39], now), Some(same[39]));
        assert_eq!(cache.lock(shard).slots.len(), 4);
    }

    #[test]
    fn entries_expire_after_the_ttl() {
        let start = Instant::now();
        let cache = filled(ROOMY, 0..10, start);
        assert_eq!(
            cache.get(&1, start + TTL - Duration::from_millis(1)),
            Some(10)
        );
        assert_eq!(cache.get(&1, start + TTL), None);
        // An expired entry is gone, not only hidden.
        assert_eq!(cache.get(&1, start), None);
    }

    #[test]
    fn expired_entries_are_evicted_before_referenced_fresh_ones() {
        let start = Instant::now();
        let later = start + TTL;
        let cache: ClockCache<i64, i64> = ClockCache::new(SHARDS * 2, TTL);
        let shard = cache.shard_of(&0);
        let same: Vec<i64> = (0..)
            .filter(|k| cache.shard_of(k) == shard)
            .take(4)
            .collect();
        let (a, b, c, d) = (same[0], same[1], same[2], same[3]);
        for k in [a, b, c] {
            cache.insert(k, k, &cache.ticket(), start);
        }
        // `c` took `a`'s slot; the hand now points at `b`. Both are read; `b` is stored
        // again later, so at `later` only `c` has expired.
        cache.insert(b, b, &cache.ticket(), later);
        assert_eq!(cache.get(&b, later), Some(b));
        assert_eq!(cache.get(&c, start), Some(c));
        cache.insert(d, d, &cache.ticket(), later);
        // Plain CLOCK would clear both bits and evict `b`, the first it meets again.
        assert_eq!(cache.get(&b, later), Some(b));
        assert_eq!(cache.get(&d, later), Some(d));
    }

    #[test]
    fn a_load_begun_before_a_key_was_forgotten_stores_nothing_in_its_shard() {
        let now = Instant::now();
        let cache: ClockCache<i64, i64> = ClockCache::new(100, TTL);
        let ticket = cache.ticket();
        // A writer commits and forgets while the load is reading the old row.
        cache.forget(&7);
        assert!(!cache.insert(7, 70, &ticket, now));
        assert_eq!(cache.get(&7, now), None);
        // A load begun afterwards stores.
        assert!(cache.insert(7, 71, &cache.ticket(), now));
        assert_eq!(cache.get(&7, now), Some(71));
    }

    #[test]
    fn put_replaces_the_value_and_refuses_older_loads() {
        let now = Instant::now();
        let cache: ClockCache<i64, i64> = ClockCache::new(100, TTL);
        let ticket = cache.ticket();
        cache.put(1, 2, now);
        assert!(!cache.insert(1, 1, &ticket, now));
        assert_eq!(cache.get(&1, now), Some(2));
    }

    #[test]
    fn removing_keeps_the_index_consistent() {
        let now = Instant::now();
        let cache = filled(10_000, 0..500, now);
        for k in (0..500).step_by(3) {
            cache.forget(&k);
        }
        for k in 0..500 {
            let expected = (k % 3 != 0).then_some(k * 10);
            assert_eq!(cache.get(&k, now), expected, "key {k}");
        }
        for k in 500..900 {
            cache.insert(k, k * 10, &cache.ticket(), now);
        }
        for k in 500..900 {
            assert_eq!(cache.get(&k, now), Some(k * 10), "key {k}");
        }
        assert_eq!(cache.len(), 733);
    }
}
