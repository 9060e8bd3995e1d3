//! The full-text index of statuses (tantivy), in the data folder: what `/api/v2/search`
//! asks for status ids. It is a rebuildable derivative of the store, never the only copy
//! of anything: a missing, unreadable or outdated index is rebuilt, one that is behind is
//! caught up (`app::search::catch_up`), and a status deleted while the index did not hear
//! of it is dropped the first time a search finds it missing.
//!
//! This module knows tantivy and nothing of HTTP, the store or the viewer's graph: it is
//! given what to index and whom a query is for, and it answers with status ids, newest
//! first. It decides no visibility on its own: it narrows candidates so a page fills, and
//! `app::render` still applies the one rule to every status it returns.
//!
//! Writes are cheap (they go to the writer's memory); a commit makes them durable and
//! searchable. A search commits first when writes are pending, so a post is found right
//! after it is created; the committer task (`app::search::run_committer`) commits soon
//! after writes when nobody searches.

use std::ops::Bound;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use cascade_core::Id;
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, Occur, Query, RangeQuery, TermQuery, TermSetQuery};
use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, FAST, INDEXED,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, RemoveLongFilter, SimpleTokenizer, TextAnalyzer,
};
use tantivy::{Index, IndexReader, IndexWriter, Order, ReloadPolicy, TantivyDocument, Term};

/// The name the text analyzer is registered under in the index.
const TOKENIZER: &str = "cascade";
/// Bumped whenever the schema or the analyzer changes: an index of another version is
/// rebuilt rather than read.
const VERSION: &str = "cascade-search-1";
/// The writer's memory before it writes a segment; tantivy wants at least 15 MB a thread.
const WRITER_HEAP: usize = 50_000_000;
/// The windows a search tries before the whole index, by age in milliseconds before the
/// newest status: an hour, then eight times more each time (about 21 and 171 days last).
/// Below this many statuses with the query's rarest word, all matches are sorted at once.
const FEW_MATCHES: u64 = 20_000;
const WINDOWS_MS: [i64; 5] = [
    3_600_000,
    28_800_000,
    230_400_000,
    1_843_200_000,
    14_745_600_000,
];

/// What is indexed of one status: its searchable text (text and content warning), and
/// what decides who may find it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedStatus {
    pub id: Id,
    pub account_id: Id,
    pub visibility: i64,
    pub mentions: Vec<Id>,
    pub text: String,
    pub edited_at: Option<i64>,
}

/// Whom a query is for: it finds public and unlisted statuses, the viewer's own, those
/// that mention it, and the private ones of the accounts it follows; never statuses of
/// `hidden` accounts (blocked either way, muted). Anonymous viewers get no `me`.
#[derive(Debug, Clone, Default)]
pub struct Audience {
    pub me: Option<Id>,
    pub following: Vec<Id>,
    pub hidden: Vec<Id>,
}

/// A full-text query: all words must match. Results are newest first; with only `min_id`,
/// the ones right after it (still returned newest first), as Mastodon's paging does.
#[derive(Debug, Clone, Default)]
pub struct StatusQuery {
    pub words: String,
    pub audience: Audience,
    pub author: Option<Id>,
    pub max_id: Option<Id>,
    pub min_id: Option<Id>,
    pub offset: usize,
    pub limit: usize,
}

/// How far the index is known to be complete: every status with an id up to `status`
/// and every edit made up to `edit` (milliseconds) is in it. Stored as the commit's
/// payload, so it is exactly as durable as the documents it describes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HighWater {
    pub status: Id,
    pub edit: i64,
}

impl HighWater {
    fn payload(self) -> String {
        format!("{VERSION} {} {}", self.status, self.edit)
    }

    fn parse(payload: &str) -> Option<HighWater> {
        let mut parts = payload.split(' ');
        if parts.next()? != VERSION {
            return None;
        }
        Some(HighWater {
            status: parts.next()?.parse().ok()?,
            edit: parts.next()?.parse().ok()?,
        })
    }
}

#[derive(Debug, Clone, Copy)]
struct Fields {
    id: Field,
    account: Field,
    visibility: Field,
    mention: Field,
    text: Field,
}

/// What the writer has seen since it opened: the highest status id and edit time put,
/// and the lowest ones that failed to be put, which the stored mark must not pass.
#[derive(Debug, Default)]
struct Marks {
    seen: HighWater,
    failed: Option<HighWater>,
}

impl Marks {
    fn high_water(&self) -> HighWater {
        match self.failed {
            Some(f) => HighWater {
                status: self.seen.status.min(f.status - 1),
                edit: self.seen.edit.min(f.edit - 1),
            },
            None => self.seen,
        }
    }
}

pub struct SearchIndex {
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    fields: Fields,
    analyzer: TextAnalyzer,
    /// Writes not committed yet.
    pending: AtomicBool,
    marks: Mutex<Marks>,
    /// The mark stored with the index when it was opened; `None` for a new or rebuilt
    /// index, which must be filled from the store from the beginning.
    opened_at: Option<HighWater>,
    /// `FEW_MATCHES`, lowered by tests to reach the windows with a small index.
    few_matches: u64,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(TOKENIZER)
            // Results are sorted by id, not scored: no frequencies, no positions.
            .set_index_option(IndexRecordOption::Basic),
    );
    let fields = Fields {
        id: b.add_i64_field("id", INDEXED | FAST),
        account: b.add_i64_field("account", INDEXED),
        visibility: b.add_i64_field("visibility", INDEXED),
        mention: b.add_i64_field("mention", INDEXED),
        text: b.add_text_field("text", text),
    };
    (b.build(), fields)
}

/// Words split on anything not a letter or digit, lowercased, accents folded: "Café" and
/// "cafe" match, so do "#Rust" and "rust".
fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

impl SearchIndex {
    /// Opens the index in `dir`, creating it, or starting it over when what is there
    /// cannot be read or was made by another version.
    pub fn open(dir: &Path) -> tantivy::Result<SearchIndex> {
        std::fs::create_dir_all(dir)?;
        let (schema, fields) = schema();
        let opened = tantivy::directory::MmapDirectory::open(dir)
            .map_err(|e| tantivy::TantivyError::InternalError(e.to_string()))
            .and_then(|d| Index::open_or_create(d, schema.clone()));
        let stored = opened
            .as_ref()
            .ok()
            .and_then(|index| index.load_metas().ok())
            .and_then(|m| m.payload);
        let mark = stored.as_deref().and_then(HighWater::parse);
        let index = match (opened, &stored, mark) {
            // A fresh index, or one whose mark this version wrote.
            (Ok(index), None, _) | (Ok(index), Some(_), Some(_)) => index,
            _ => {
                tracing::warn!(dir = %dir.display(), "rebuilding the search index");
                std::fs::remove_dir_all(dir)?;
                std::fs::create_dir_all(dir)?;
                Index::create_in_dir(dir, schema)?
            }
        };
        SearchIndex::with_index(index, fields, mark)
    }

    /// An index in memory only, filled from the store at start like a new one: for when
    /// the data folder cannot hold one.
    pub fn in_memory() -> tantivy::Result<SearchIndex> {
        let (schema, fields) = schema();
        SearchIndex::with_index(Index::create_in_ram(schema), fields, None)
    }

    fn with_index(
        index: Index,
        fields: Fields,
        opened_at: Option<HighWater>,
    ) -> tantivy::Result<SearchIndex> {
        let analyzer = analyzer();
        index.tokenizers().register(TOKENIZER, analyzer.clone());
        let writer = index.writer_with_num_threads(1, WRITER_HEAP)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(SearchIndex {
            reader,
            writer: Mutex::new(writer),
            fields,
            analyzer,
            pending: AtomicBool::new(false),
            marks: Mutex::new(Marks {
                seen: opened_at.unwrap_or_default(),
                failed: None,
            }),
            opened_at,
            few_matches: FEW_MATCHES,
        })
    }

    /// The mark stored when the index was opened (`None`: fill it from the start).
    pub fn opened_at(&self) -> Option<HighWater> {
        self.opened_at
    }

    /// Adds or replaces statuses.
    pub fn put(&self, statuses: &[IndexedStatus]) -> tantivy::Result<()> {
        let f = self.fields;
        let writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        for s in statuses {
            let mut doc = TantivyDocument::default();
            doc.add_i64(f.id, s.id);
            doc.add_i64(f.account, s.account_id);
            doc.add_i64(f.visibility, s.visibility);
            for &m in &s.mentions {
                doc.add_i64(f.mention, m);
            }
            doc.add_text(f.text, &s.text);
            // A delete applies to what was added before it, so this replaces.
            writer.delete_term(Term::from_field_i64(f.id, s.id));
            writer.add_document(doc)?;
        }
        drop(writer);
        let mut marks = self.marks.lock().unwrap_or_else(|p| p.into_inner());
        for s in statuses {
            marks.seen.status = marks.seen.status.max(s.id);
            marks.seen.edit = marks.seen.edit.max(s.edited_at.unwrap_or(0));
        }
        self.pending.store(true, Ordering::Release);
        Ok(())
    }

    /// Removes statuses (unknown ids are ignored).
    pub fn remove(&self, ids: &[Id]) {
        let writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        for &id in ids {
            writer.delete_term(Term::from_field_i64(self.fields.id, id));
        }
        self.pending.store(true, Ordering::Release);
    }

    /// Records that a status (or an edit made at `edited_at`) could not be put, so the
    /// stored mark stays below it and the next start puts it again.
    pub fn missed(&self, id: Id, edited_at: Option<i64>) {
        let mut marks = self.marks.lock().unwrap_or_else(|p| p.into_inner());
        let failed = marks.failed.get_or_insert(HighWater {
            status: Id::MAX,
            edit: i64::MAX,
        });
        failed.status = failed.status.min(id);
        if let Some(at) = edited_at {
            failed.edit = failed.edit.min(at);
        }
    }

    /// Whether writes wait for a commit.
    pub fn is_pending(&self) -> bool {
        self.pending.load(Ordering::Acquire)
    }

    /// Makes every write so far durable and searchable (nothing to do when none waits).
    pub fn commit(&self) -> tantivy::Result<()> {
        let mut writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        if !self.pending.swap(false, Ordering::AcqRel) {
            return Ok(());
        }
        let mark = self
            .marks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .high_water();
        let done = (|| {
            let mut prepared = writer.prepare_commit()?;
            prepared.set_payload(&mark.payload());
            prepared.commit()?;
            self.reader.reload()
        })();
        if done.is_err() {
            self.pending.store(true, Ordering::Release);
        }
        done
    }

    /// Ids of the statuses matching a query, newest first; committing pending writes
    /// first so that they are found.
    pub fn search(&self, q: &StatusQuery) -> tantivy::Result<Vec<Id>> {
        self.commit()?;
        let mut words = Vec::new();
        let mut analyzer = self.analyzer.clone();
        let mut stream = analyzer.token_stream(&q.words);
        stream.process(&mut |t| words.push(Term::from_field_text(self.fields.text, &t.text)));
        if words.is_empty() || q.limit == 0 {
            return Ok(Vec::new());
        }
        let searcher = self.reader.searcher();
        // Only a lower bound: the statuses right after it, not the newest ones.
        if q.min_id.is_some() && q.max_id.is_none() {
            let query = self.query(q, &words, q.min_id);
            let top = TopDocs::with_limit(q.limit)
                .and_offset(q.offset)
                .order_by_fast_field::<i64>("id", Order::Asc);
            let mut ids: Vec<Id> = searcher
                .search(&query, &top)?
                .into_iter()
                .map(|(id, _)| id)
                .collect();
            ids.reverse();
            return Ok(ids);
        }
        // Sorting every match by id costs as many matches as a word has: most of the
        // index for a common one. The newest page lies in the newest window that holds
        // enough matches, so windows of growing age are tried first, the whole index last.
        let want = q.offset.saturating_add(q.limit);
        let newest = {
            let seen = self
                .marks
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .seen
                .status;
            q.max_id.map_or(seen, |m| m.min(seen))
        };
        let floor = q.min_id.unwrap_or(Id::MIN);
        // A word in few statuses bounds the matches: sorting them all is cheaper than
        // trying windows, each of which reads the id column.
        let mut rarest = u64::MAX;
        for word in &words {
            rarest = rarest.min(searcher.doc_freq(word)?);
        }
        let windows = WINDOWS_MS
            .iter()
            .filter(|_| rarest > self.few_matches)
            .map(|ms| Some(newest.saturating_sub(ms << 16)))
            .filter(|lower| lower.is_some_and(|l| l > floor))
            .chain([q.min_id]);
        let mut ids = Vec::new();
        for lower in windows {
            let query = self.query(q, &words, lower);
            let top = TopDocs::with_limit(want).order_by_fast_field::<i64>("id", Order::Desc);
            ids = searcher
                .search(&query, &top)?
                .into_iter()
                .map(|(id, _)| id)
                .collect();
            if ids.len() == want {
                break;
            }
        }
        Ok(ids.into_iter().skip(q.offset).collect())
    }

    /// The query for `words` (analyzed) and whom `q` is for, above `lower` if given.
    fn query(&self, q: &StatusQuery, words: &[Term], lower: Option<Id>) -> BooleanQuery {
        let f = self.fields;
        let term = |field: Field, v: i64| -> Box<dyn Query> {
            Box::new(TermQuery::new(
                Term::from_field_i64(field, v),
                IndexRecordOption::Basic,
            ))
        };
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = words
            .iter()
            .map(|t| {
                let q: Box<dyn Query> =
                    Box::new(TermQuery::new(t.clone(), IndexRecordOption::Basic));
                (Occur::Must, q)
            })
            .collect();
        // Two term queries, not a term set: a set is turned into a bit set of every
        // matching document, which for "public" is most of the index, on every query.
        let mut may_see = vec![
            (Occur::Should, term(f.visibility, 0)),
            (Occur::Should, term(f.visibility, 1)),
        ];
        if let Some(me) = q.audience.me {
            may_see.push((Occur::Should, term(f.account, me)));
            may_see.push((Occur::Should, term(f.mention, me)));
            if !q.audience.following.is_empty() {
                let followed: Box<dyn Query> = Box::new(TermSetQuery::new(
                    q.audience
                        .following
                        .iter()
                        .map(|&a| Term::from_field_i64(f.account, a)),
                ));
                let private = BooleanQuery::new(vec![
                    (Occur::Must, term(f.visibility, 2)),
                    (Occur::Must, followed),
                ]);
                may_see.push((Occur::Should, Box::new(private)));
            }
        }
        clauses.push((Occur::Must, Box::new(BooleanQuery::new(may_see))));
        if !q.audience.hidden.is_empty() {
            let hidden = TermSetQuery::new(
                q.audience
                    .hidden
                    .iter()
                    .map(|&a| Term::from_field_i64(f.account, a)),
            );
            clauses.push((Occur::MustNot, Box::new(hidden)));
        }
        if let Some(author) = q.author {
            clauses.push((Occur::Must, term(f.account, author)));
        }
        if q.max_id.is_some() || lower.is_some() {
            let bound = |v: Option<Id>| match v {
                Some(v) => Bound::Excluded(Term::from_field_i64(f.id, v)),
                None => Bound::Unbounded,
            };
            let range = RangeQuery::new(bound(lower), bound(q.max_id));
            clauses.push((Occur::Must, Box::new(range)));
        }
        BooleanQuery::new(clauses)
    }

    /// How many statuses the committed index holds.
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(id: Id, account_id: Id, visibility: i64, text: &str) -> IndexedStatus {
        IndexedStatus {
            id,
            account_id,
            visibility,
            mentions: Vec::new(),
            text: text.into(),
            edited_at: None,
        }
    }

    fn query(words: &str, me: Option<Id>) -> StatusQuery {
        StatusQuery {
            words: words.into(),
            audience: Audience {
                me,
                ..Default::default()
            },
            limit: 10,
            ..Default::default()
        }
    }

    #[test]
    fn finds_all_words_newest_first_and_forgets_what_is_replaced() {
        let index = SearchIndex::in_memory().unwrap();
        index
            .put(&[
                status(1, 7, 0, "Café au lait"),
                status(2, 7, 0, "cafe noir"),
                status(3, 7, 0, "tea"),
            ])
            .unwrap();
        assert_eq!(index.search(&query("CAFE", None)).unwrap(), vec![2, 1]);
        assert_eq!(index.search(&query("cafe lait", None)).unwrap(), vec![1]);
        index.put(&[status(1, 7, 0, "chocolate")]).unwrap();
        assert_eq!(index.search(&query("cafe", None)).unwrap(), vec![2]);
        index.remove(&[2]);
        assert!(index.search(&query("cafe", None)).unwrap().is_empty());
        assert!(index.search(&query("  ", None)).unwrap().is_empty());
    }

    #[test]
    fn private_and_direct_statuses_need_the_right_viewer() {
        let index = SearchIndex::in_memory().unwrap();
        let mut direct = status(2, 7, 3, "secret");
        direct.mentions = vec![9];
        index.put(&[status(1, 7, 2, "secret"), direct]).unwrap();
        assert!(index.search(&query("secret", Some(8))).unwrap().is_empty());
        assert_eq!(index.search(&query("secret", Some(9))).unwrap(), vec![2]);
        assert_eq!(index.search(&query("secret", Some(7))).unwrap(), vec![2, 1]);
        let mut follower = query("secret", Some(8));
        follower.audience.following = vec![7];
        assert_eq!(index.search(&follower).unwrap(), vec![1]);
        follower.audience.hidden = vec![7];
        assert!(index.search(&follower).unwrap().is_empty());
    }

    #[test]
    fn pages_by_id_either_way() {
        let index = SearchIndex::in_memory().unwrap();
        let all: Vec<IndexedStatus> = (1..=5).map(|i| status(i, 7, 0, "word")).collect();
        index.put(&all).unwrap();
        let mut q = query("word", None);
        q.limit = 2;
        q.max_id = Some(4);
        assert_eq!(index.search(&q).unwrap(), vec![3, 2]);
        q.max_id = None;
        q.min_id = Some(1);
        assert_eq!(index.search(&q).unwrap(), vec![3, 2]);
        q.min_id = None;
        q.offset = 2;
        assert_eq!(index.search(&q).unwrap(), vec![3, 2]);
    }

    #[test]
    fn older_windows_are_searched_when_the_newest_do_not_fill_the_page() {
        let mut index = SearchIndex::in_memory().unwrap();
        index.few_matches = 0;
        let day = 86_400_000i64;
        let now = 1_800_000_000_000i64;
        let at = |ms: i64| ms << 16;
        let ids = [
            at(now - 400 * day),
            at(now - 10 * day),
            at(now - day),
            at(now),
        ];
        let all: Vec<IndexedStatus> = ids.iter().map(|&i| status(i, 7, 0, "word")).collect();
        index.put(&all).unwrap();
        let mut q = query("word", None);
        q.limit = 3;
        assert_eq!(index.search(&q).unwrap(), vec![ids[3], ids[2], ids[1]]);
        q.offset = 2;
        assert_eq!(index.search(&q).unwrap(), vec![ids[1], ids[0]]);
        q.offset = 0;
        q.max_id = Some(ids[3]);
        q.min_id = Some(ids[0]);
        assert_eq!(index.search(&q).unwrap(), vec![ids[2], ids[1]]);
    }

    #[test]
    fn the_mark_survives_a_reopen_and_stays_below_a_miss() {
        let dir = tempfile::tempdir().unwrap();
        {
            let index = SearchIndex::open(dir.path()).unwrap();
            assert_eq!(index.opened_at(), None);
            let mut edited = status(5, 7, 0, "x");
            edited.edited_at = Some(50);
            index.put(&[status(3, 7, 0, "x"), edited]).unwrap();
            index.missed(4, None);
            index.commit().unwrap();
        }
        let index = SearchIndex::open(dir.path()).unwrap();
        assert_eq!(
            index.opened_at(),
            Some(HighWater {
                status: 3,
                edit: 50
            })
        );
        assert_eq!(index.len(), 2);
    }
}
