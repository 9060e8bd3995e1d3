//! Notification kinds and how they group: the names Mastodon's API and Cascade's store
//! use for them, kept in one place.

use std::fmt;
use std::str::FromStr;

use crate::Id;

/// What happened to the recipient. The stored and rendered name of each kind is
/// `as_str`; Mastodon's names, plus Cascade's own `going_viral`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NotificationKind {
    Mention,
    Status,
    Reblog,
    Follow,
    FollowRequest,
    Favourite,
    Update,
    Quote,
    QuotedUpdate,
    /// A poll one voted in or wrote has ended.
    Poll,
    /// Cascade's own: SEISMIC predicts the post will spread far beyond its author's usual.
    GoingViral,
}

use NotificationKind::*;

impl NotificationKind {
    pub const ALL: [NotificationKind; 11] = [
        Mention,
        Status,
        Reblog,
        Follow,
        FollowRequest,
        Favourite,
        Update,
        Quote,
        QuotedUpdate,
        Poll,
        GoingViral,
    ];

    /// The kinds listed when a client names none: Mastodon's. `going_viral` is delivered
    /// only to clients that ask for it by name, so clients that do not know it never see it.
    pub const DEFAULT: [NotificationKind; 10] = [
        Mention,
        Status,
        Reblog,
        Follow,
        FollowRequest,
        Favourite,
        Update,
        Quote,
        QuotedUpdate,
        Poll,
    ];

    /// The kinds that group in the v2 API when a client does not say (`grouped_types[]`).
    pub const GROUPED: [NotificationKind; 3] = [Favourite, Reblog, Follow];

    pub fn as_str(self) -> &'static str {
        match self {
            Mention => "mention",
            Status => "status",
            Reblog => "reblog",
            Follow => "follow",
            FollowRequest => "follow_request",
            Favourite => "favourite",
            Update => "update",
            Quote => "quote",
            QuotedUpdate => "quoted_update",
            Poll => "poll",
            GoingViral => "going_viral",
        }
    }

    /// Kinds the notification policy never holds back, as in Mastodon: posts of accounts
    /// one rings the bell for (one asked for them), edits of posts one interacted with,
    /// the end of a poll one took part in, and Cascade's own news about one's posts.
    pub fn is_unfilterable(self) -> bool {
        matches!(self, Status | Update | QuotedUpdate | Poll | GoingViral)
    }

    /// Whether one may be notified of one's own action: of one's own poll's end, as in
    /// Mastodon, and of Cascade's own news.
    pub fn may_be_about_oneself(self) -> bool {
        matches!(self, Poll | GoingViral)
    }
}

impl fmt::Display for NotificationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is no notification kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown notification type {0:?}")]
pub struct UnknownKind(pub String);

impl FromStr for NotificationKind {
    type Err = UnknownKind;

    fn from_str(s: &str) -> Result<Self, UnknownKind> {
        NotificationKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownKind(s.to_string()))
    }
}

impl TryFrom<String> for NotificationKind {
    type Error = UnknownKind;

    fn try_from(s: String) -> Result<Self, UnknownKind> {
        s.parse()
    }
}

/// Mastodon 4.3's grouping keys: favourites and reblogs of one status group together,
/// follows group by day; everything else stands alone.
pub fn group_key(kind: NotificationKind, status: Option<Id>, id: Id, created_at: i64) -> String {
    match (kind, status) {
        (Favourite | Reblog, Some(s)) => format!("{kind}-{s}"),
        (Follow, _) => format!("follow-{}", created_at / 86_400_000),
        _ => format!("ungrouped-{id}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_reads_back_from_its_name() {
        for k in NotificationKind::ALL {
            assert_eq!(k.as_str().parse::<NotificationKind>(), Ok(k));
        }
        assert!("poll_ended".parse::<NotificationKind>().is_err());
    }

    #[test]
    fn favourites_and_reblogs_group_by_status_and_follows_by_day() {
        assert_eq!(group_key(Favourite, Some(5), 9, 0), "favourite-5");
        assert_eq!(group_key(Reblog, Some(5), 9, 0), "reblog-5");
        assert_eq!(group_key(Follow, None, 9, 86_400_000 * 3 + 5), "follow-3");
        assert_eq!(group_key(Mention, Some(5), 9, 0), "ungrouped-9");
    }
}
