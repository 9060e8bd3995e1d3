//! Timeline queries: pages of status ids cut by id range. The server hydrates ids into
//! statuses and applies per-viewer rules; the store only selects candidates.

use cascade_core::Id;

use crate::{placeholders, read, Arg, Result, Store};

/// An id range and page size, newest first unless `oldest_first` (Mastodon's `min_id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub below: Option<Id>,
    pub above: Option<Id>,
    pub limit: usize,
    pub oldest_first: bool,
}

/// The condition that keeps local posts only (`Some(true)`), remote ones only
/// (`Some(false)`) or both (`None`): remote authors are accounts with a domain.
fn origin(local: Option<bool>) -> &'static str {
    match local {
        None => "",
        Some(true) => " AND s.account_id IN (SELECT id FROM accounts WHERE domain IS NULL)",
        Some(false) => " AND s.account_id IN (SELECT id FROM accounts WHERE domain IS NOT NULL)",
    }
}

/// The store's form of a page.
pub fn range(page: &cascade_core::timeline::Page) -> Range {
    Range {
        below: page.max_id,
        above: page.lower(),
        limit: page.limit,
        oldest_first: page.oldest_first(),
    }
}

#[derive(Debug, Clone, Default)]
pub struct AccountStatusesFilter {
    pub exclude_replies: bool,
    pub exclude_reblogs: bool,
    pub only_media: bool,
    pub pinned: bool,
    pub tagged: Option<String>,
}

/// The condition on `s` of a status with attachments.
const WITH_MEDIA: &str = "EXISTS (SELECT 1 FROM media_attachments m WHERE m.status_id = s.id)";

impl Store {
    /// Runs `SELECT s.id FROM statuses s {joins} WHERE {cond}` with the range and the
    /// hidden authors added, ordered by id. `cond` uses `$1..$n` for `args`.
    pub(crate) async fn status_ids(
        &self,
        joins: &str,
        cond: &str,
        args: Vec<Arg>,
        hidden: &[Id],
        range: Range,
    ) -> Result<Vec<Id>> {
        let n = args.len();
        let mut sql = format!(
            "SELECT s.id FROM statuses s {joins} WHERE ({cond}) AND s.id < ${} AND s.id > ${}",
            n + 1,
            n + 2
        );
        if !hidden.is_empty() {
            sql.push_str(&format!(
                " AND s.account_id NOT IN ({})",
                placeholders(n + 4, hidden.len())
            ));
        }
        let order = if range.oldest_first { "ASC" } else { "DESC" };
        sql.push_str(&format!(" ORDER BY s.id {order} LIMIT ${}", n + 3));
        let mut ids: Vec<Id> = read!(self, db => {
            let mut q = sqlx::query_scalar(&sql);
            for a in &args {
                q = match a { Arg::Int(v) => q.bind(*v), Arg::Text(t) => q.bind(t.clone()) };
            }
            q = q.bind(range.below.unwrap_or(i64::MAX)).bind(range.above.unwrap_or(i64::MIN)).bind(range.limit as i64);
            for h in hidden { q = q.bind(*h); }
            q.fetch_all(db).await?
        });
        if range.oldest_first {
            ids.reverse();
        }
        Ok(ids)
    }

    /// Public posts (no reblogs; replies only to oneself), newest first.
    pub async fn public_timeline(&self, hidden: &[Id], range: Range) -> Result<Vec<Id>> {
        self.public_timeline_scoped(hidden, range, None).await
    }

    /// The public timeline of local posts only (`Some(true)`), remote posts only
    /// (`Some(false)`) or both (`None`).
    pub async fn public_timeline_scoped(
        &self,
        hidden: &[Id],
        range: Range,
        local: Option<bool>,
    ) -> Result<Vec<Id>> {
        let scope = origin(local);
        self.status_ids(
            "",
            &format!("s.visibility = 0 AND s.reblog_of_id IS NULL AND (s.in_reply_to_id IS NULL OR s.in_reply_to_account_id = s.account_id){scope}"),
            vec![],
            hidden,
            range,
        )
        .await
    }

    /// Public posts with media attachments (`only_media`): as `public_timeline`, or as
    /// `tag_timeline` when a tag is given; local or remote ones only as `local` says.
    pub async fn public_media_timeline(
        &self,
        tag: Option<&str>,
        hidden: &[Id],
        range: Range,
        local: Option<bool>,
    ) -> Result<Vec<Id>> {
        let scope = origin(local);
        match tag {
            None => self.status_ids(
                "",
                &format!("s.visibility = 0 AND s.reblog_of_id IS NULL AND (s.in_reply_to_id IS NULL OR s.in_reply_to_account_id = s.account_id) AND {WITH_MEDIA}{scope}"),
                vec![],
                hidden,
                range,
            )
            .await,
            Some(tag) => self.status_ids(
                "JOIN status_tags st ON st.status_id = s.id JOIN tags t ON t.id = st.tag_id",
                &format!("t.name = $1 AND s.visibility = 0 AND s.reblog_of_id IS NULL AND {WITH_MEDIA}{scope}"),
                vec![Arg::Text(tag.to_lowercase())],
                hidden,
                range,
            )
            .await,
        }
    }

    /// Public posts with a hashtag: local or remote ones only as `local` says.
    pub async fn tag_timeline(
        &self,
        tag: &str,
        hidden: &[Id],
        range: Range,
        local: Option<bool>,
    ) -> Result<Vec<Id>> {
        let scope = origin(local);
        self.status_ids(
            "JOIN status_tags st ON st.status_id = s.id JOIN tags t ON t.id = st.tag_id",
            &format!("t.name = $1 AND s.visibility = 0 AND s.reblog_of_id IS NULL{scope}"),
            vec![Arg::Text(tag.to_lowercase())],
            hidden,
            range,
        )
        .await
    }

    /// An account's posts as `viewer` may see them: up to `max_visibility`, plus those
    /// that mention the viewer.
    pub async fn account_statuses(
        &self,
        account: Id,
        viewer: Option<Id>,
        max_visibility: i64,
        f: &AccountStatusesFilter,
        range: Range,
    ) -> Result<Vec<Id>> {
        let mut cond = String::from(
            "s.account_id = $1 AND (s.visibility <= $2 OR s.id IN (SELECT status_id FROM mentions WHERE account_id = $3))",
        );
        if f.only_media {
            cond.push_str(&format!(" AND {WITH_MEDIA}"));
        }
        let mut args = vec![
            Arg::Int(account),
            Arg::Int(max_visibility),
            Arg::Int(viewer.unwrap_or(0)),
        ];
        let mut joins = String::new();
        if f.exclude_replies {
            cond.push_str(
                " AND (s.in_reply_to_id IS NULL OR s.in_reply_to_account_id = s.account_id)",
            );
        }
        if f.exclude_reblogs {
            cond.push_str(" AND s.reblog_of_id IS NULL");
        }
        if f.pinned {
            joins.push_str("JOIN pins p ON p.status_id = s.id AND p.account_id = s.account_id");
        }
        if let Some(tag) = &f.tagged {
            joins.push_str(
                " JOIN status_tags st ON st.status_id = s.id JOIN tags t ON t.id = st.tag_id",
            );
            cond.push_str(" AND t.name = $4");
            args.push(Arg::Text(tag.to_lowercase()));
        }
        self.status_ids(&joins, &cond, args, &[], range).await
    }

    /// The home timeline as the store alone knows it: posts and reblogs of the accounts
    /// `viewer` follows and its own, direct posts of followed accounts that mention it,
    /// and public posts with a tag it follows. Used to rebuild a missing cached timeline
    /// and to serve pages older than the cache.
    ///
    /// Each of the four is its own query, merged here: joined by `OR` in one query, the
    /// planner can only walk every status newest first and test each, which for a reader
    /// whose followed accounts post rarely is a walk through the whole table (half a
    /// second at a million statuses on PostgreSQL). Apart, each takes its own index.
    pub async fn home_from_store(
        &self,
        viewer: Id,
        hidden: &[Id],
        range: Range,
    ) -> Result<Vec<Id>> {
        const BRANCHES: [&str; 4] = [
            "s.account_id = $1",
            "s.visibility <= 2 AND s.account_id IN (SELECT target_id FROM follows WHERE account_id = $1)",
            "s.visibility = 3 AND s.id IN (SELECT status_id FROM mentions WHERE account_id = $1) \
             AND s.account_id IN (SELECT target_id FROM follows WHERE account_id = $1)",
            "s.visibility = 0 AND s.reblog_of_id IS NULL AND s.id IN (SELECT st.status_id FROM status_tags st \
             JOIN tag_follows tf ON tf.tag_id = st.tag_id WHERE tf.account_id = $1)",
        ];
        let mut ids = Vec::new();
        for cond in BRANCHES {
            ids.extend(
                self.status_ids("", cond, vec![Arg::Int(viewer)], hidden, range)
                    .await?,
            );
        }
        // Each branch's page is the `limit` nearest the range's open end (the newest, or
        // with `oldest_first` the oldest); so is their union's, newest first as each is.
        ids.sort_unstable();
        ids.dedup();
        if range.oldest_first {
            ids.truncate(range.limit);
            ids.reverse();
        } else {
            ids.reverse();
            ids.truncate(range.limit);
        }
        Ok(ids)
    }

    /// Recent posts (and reblogs) by the given authors, up to private visibility: the
    /// celebrity posts merged into home timelines at read time.
    pub async fn recent_by_authors(
        &self,
        authors: &[Id],
        hidden: &[Id],
        range: Range,
    ) -> Result<Vec<Id>> {
        if authors.is_empty() {
            return Ok(Vec::new());
        }
        let cond = format!(
            "s.visibility <= 2 AND s.account_id IN ({})",
            placeholders(1, authors.len())
        );
        self.status_ids(
            "",
            &cond,
            authors.iter().map(|a| Arg::Int(*a)).collect(),
            hidden,
            range,
        )
        .await
    }

    /// A list's timeline: posts by its members that the owner follows, replies filtered by
    /// the list's policy.
    pub async fn list_timeline(
        &self,
        list: Id,
        owner: Id,
        replies_policy: &str,
        hidden: &[Id],
        range: Range,
    ) -> Result<Vec<Id>> {
        let replies = match replies_policy {
            "none" => " AND (s.in_reply_to_id IS NULL OR s.in_reply_to_account_id = s.account_id)",
            "followed" => " AND (s.in_reply_to_id IS NULL OR s.in_reply_to_account_id = s.account_id OR s.in_reply_to_account_id = $2 \
                            OR s.in_reply_to_account_id IN (SELECT target_id FROM follows WHERE account_id = $2))",
            _ => " AND (s.in_reply_to_id IS NULL OR s.in_reply_to_account_id = s.account_id \
                     OR s.in_reply_to_account_id IN (SELECT account_id FROM list_accounts WHERE list_id = $1))",
        };
        let cond = format!(
            "s.visibility <= 2 AND s.account_id IN (SELECT la.account_id FROM list_accounts la \
               JOIN follows f ON f.target_id = la.account_id AND f.account_id = $2 WHERE la.list_id = $1){replies}"
        );
        self.status_ids(
            "",
            &cond,
            vec![Arg::Int(list), Arg::Int(owner)],
            hidden,
            range,
        )
        .await
    }
}
