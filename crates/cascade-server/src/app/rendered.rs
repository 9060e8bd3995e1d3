//! The rendered-status cache: each status's and each account's viewer-independent JSON
//! (`entity::SharedStatus`, `entity::Rendered<Account>`), made once and shared by every
//! response that shows them, whoever reads. It decides nothing: `app::render` still
//! applies visibility, blocks, mutes and filters per viewer before it uses an entry, and
//! adds the viewer's own fields.
//!
//! An entry belongs to one version of its record: it remembers the record cache's copy
//! it was made from (`app::records`, a `Weak` to its `Arc`) and the custom emojis'
//! generation, and is used only with that very copy. Whatever makes the record cache
//! forget or reload a record (a write here, `cluster::Forget` from another node, the TTL)
//! so makes the rendering stale, with no forgetting of its own to get wrong.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex, Weak};

use cascade_core::Id;
use cascade_store::Account;

use crate::app::entity;
use crate::app::records::StatusEntry;

const SHARDS: usize = 32;

/// The renderings of statuses and accounts, each bounded in number and bytes as the
/// record cache's statuses and accounts are.
pub struct RenderedCache {
    statuses: Memo<StatusEntry, entity::SharedStatus>,
    accounts: Memo<Account, entity::Rendered<entity::Account>>,
    /// Accounts as their owners see them, with `source` (`verify_credentials`).
    credentials: Memo<Account, entity::Rendered<entity::Account>>,
}

impl RenderedCache {
    /// Room for as many renderings as the record cache keeps records, in as many bytes.
    pub fn new(config: &crate::app::records::RecordCacheConfig) -> RenderedCache {
        RenderedCache {
            statuses: Memo::new(config.statuses, config.max_bytes),
            accounts: Memo::new(config.accounts, config.max_bytes / 2),
            credentials: Memo::new(config.accounts, config.max_bytes / 2),
        }
    }

    /// The status's common fields as rendered from this copy of its record with these
    /// emojis, rendering them now if no reader has yet.
    pub fn status(
        &self,
        entry: &Arc<StatusEntry>,
        emojis: u64,
        render: impl FnOnce() -> entity::SharedStatus,
    ) -> Arc<entity::SharedStatus> {
        self.statuses.get_or_render(
            entry.record.id,
            entry,
            emojis,
            render,
            entity::SharedStatus::weight,
        )
    }

    /// The account as rendered from this copy of its record with these emojis.
    pub fn account(
        &self,
        account: &Arc<Account>,
        emojis: u64,
        render: impl FnOnce() -> entity::Rendered<entity::Account>,
    ) -> Arc<entity::Rendered<entity::Account>> {
        self.accounts
            .get_or_render(account.id, account, emojis, render, |r| r.weight())
    }

    /// The account as its owner sees it, if rendered from this copy of its record.
    pub fn credentials(
        &self,
        account: &Arc<Account>,
        emojis: u64,
    ) -> Option<Arc<entity::Rendered<entity::Account>>> {
        self.credentials.get(account.id, account, emojis)
    }

    /// Keeps the account as its owner sees it, rendered from this copy of its record.
    pub fn put_credentials(
        &self,
        account: &Arc<Account>,
        emojis: u64,
        rendered: entity::Rendered<entity::Account>,
    ) -> Arc<entity::Rendered<entity::Account>> {
        let weight = rendered.weight();
        self.credentials
            .put(account.id, account, emojis, Arc::new(rendered), weight)
    }
}

struct Entry<R, V> {
    record: Weak<R>,
    emojis: u64,
    value: Arc<V>,
    weight: usize,
}

struct Shard<R, V> {
    entries: HashMap<Id, Entry<R, V>>,
    bytes: usize,
}

/// Renderings by record id, in shards each holding its share of the bounds. A full shard
/// first drops what was made from copies no longer held anywhere (the record cache let
/// them go), then everything: a rendering is cheap to make again.
struct Memo<R, V> {
    shards: Vec<Mutex<Shard<R, V>>>,
    hasher: RandomState,
    count_per_shard: usize,
    bytes_per_shard: usize,
}

impl<R, V> Memo<R, V> {
    fn new(count: usize, bytes: usize) -> Memo<R, V> {
        Memo {
            shards: (0..SHARDS)
                .map(|_| {
                    Mutex::new(Shard {
                        entries: HashMap::new(),
                        bytes: 0,
                    })
                })
                .collect(),
            hasher: RandomState::new(),
            count_per_shard: count / SHARDS,
            bytes_per_shard: bytes / SHARDS,
        }
    }

    fn shard(&self, id: Id) -> std::sync::MutexGuard<'_, Shard<R, V>> {
        let i = (self.hasher.hash_one(id) as usize) % SHARDS;
        self.shards[i].lock().unwrap_or_else(|p| p.into_inner())
    }

    fn get(&self, id: Id, record: &Arc<R>, emojis: u64) -> Option<Arc<V>> {
        let shard = self.shard(id);
        let e = shard.entries.get(&id)?;
        let same = e.emojis == emojis && std::ptr::eq(e.record.as_ptr(), Arc::as_ptr(record));
        same.then(|| e.value.clone())
    }

    fn get_or_render(
        &self,
        id: Id,
        record: &Arc<R>,
        emojis: u64,
        render: impl FnOnce() -> V,
        weigh: impl Fn(&V) -> usize,
    ) -> Arc<V> {
        if let Some(value) = self.get(id, record, emojis) {
            return value;
        }
        // Rendered outside the lock: two readers may both render a new version, and the
        // second one's is kept; both are the same.
        let value = render();
        let weight = weigh(&value);
        self.put(id, record, emojis, Arc::new(value), weight)
    }

    fn put(&self, id: Id, record: &Arc<R>, emojis: u64, value: Arc<V>, weight: usize) -> Arc<V> {
        if self.count_per_shard == 0 {
            return value;
        }
        let mut shard = self.shard(id);
        let full = |s: &Shard<R, V>| {
            s.entries.len() >= self.count_per_shard || s.bytes + weight > self.bytes_per_shard
        };
        if full(&shard) {
            shard.entries.retain(|_, e| e.record.strong_count() > 0);
            if full(&shard) {
                shard.entries.clear();
            }
            shard.bytes = shard.entries.values().map(|e| e.weight).sum();
        }
        let entry = Entry {
            record: Arc::downgrade(record),
            emojis,
            value: value.clone(),
            weight,
        };
        shard.bytes += weight;
        if let Some(old) = shard.entries.insert(id, entry) {
            shard.bytes -= old.weight;
        }
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rendering_is_reused_only_for_the_copy_and_emojis_it_was_made_from() {
        let memo: Memo<u32, String> = Memo::new(64, 1 << 20);
        let first = Arc::new(1u32);
        let a = memo.get_or_render(7, &first, 0, || "a".to_string(), |v| v.len());
        let again = memo.get_or_render(7, &first, 0, || "b".to_string(), |v| v.len());
        assert!(Arc::ptr_eq(&a, &again));
        let emojis_changed = memo.get_or_render(7, &first, 1, || "c".to_string(), |v| v.len());
        assert_eq!(*emojis_changed, "c");
        let reloaded = Arc::new(1u32);
        let fresh = memo.get_or_render(7, &reloaded, 1, || "d".to_string(), |v| v.len());
        assert_eq!(*fresh, "d", "a new copy of the record is rendered again");
    }

    #[test]
    fn a_full_shard_keeps_within_its_bounds() {
        let memo: Memo<u32, String> = Memo::new(SHARDS * 2, 1 << 20);
        let records: Vec<Arc<u32>> = (0..100).map(Arc::new).collect();
        for (i, r) in records.iter().enumerate() {
            memo.get_or_render(i as Id, r, 0, || "x".to_string(), |v| v.len());
        }
        for shard in &memo.shards {
            let shard = shard.lock().unwrap();
            assert!(shard.entries.len() <= 2);
            assert_eq!(shard.bytes, shard.entries.len());
        }
    }
}
