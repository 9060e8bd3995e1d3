//! Durable jobs: what a committed write still owes. Each write records its jobs in its own
//! transaction; a worker performs them afterwards, idempotently, so a crash between the
//! commit and the work loses nothing and a job run twice does nothing twice.

use std::fmt;
use std::str::FromStr;

/// What a job owes, named as the store keeps it (`as_str`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobKind {
    /// A new status (post, reply, quote, reblog): its notifications (mentions, the quoted
    /// or reblogged author), conversations, search index entry, brand-watch hits and
    /// streams.
    Deliver,
    /// A new status: pushes into followers' cached home timelines, the cascade's exposure,
    /// the followers who rang the bell, and the going-viral check.
    Fanout,
    /// A favourite: the author's notification (while the favourite still stands).
    Favourite,
    /// A follow or follow request: the followed account's notification (while it stands).
    Follow,
    /// An edit: the resharers' notifications, the search index, streams, watch hits.
    Edit,
    /// A deleted status (the job carries what is needed of it): streams and the search
    /// index. Its notifications go with it in the delete's own transaction.
    Delete,
    /// An automatic out-of-office reply to a private message.
    AwayReply,
    /// A poll that ended (queued by the clock at its expiry): the voters' and the
    /// author's notifications.
    PollEnded,
    /// Stored media files whose rows are gone (a deleted status's attachments, an
    /// unattached upload swept away, a replaced avatar): the payload lists their storage
    /// keys. Removing a file already gone is no error, so the job may run twice.
    RemoveMedia,
    /// An uploaded video or audio file to transcode with ffmpeg (the payload is the raw
    /// upload's storage key): its poster, its metadata, and the upload marked ready.
    ProcessMedia,
    /// One ActivityPub activity to POST to one remote inbox, signed by the job's actor
    /// (the instance actor when there is none); the payload holds the inbox and the
    /// activity. Retried with backoff (`retry_delay_ms`), since the peer may be down.
    Federate,
    /// A remote account moved (an accepted `Move`; subject: the old account, target: the
    /// new one): its local followers follow the new account and leave the old one, batch
    /// by batch from the saved progress.
    MoveFollowers,
    /// A local account's changed profile (its text, settings or aliases): the `Update` of
    /// its actor for its remote followers' servers, rendered when the job runs, so it
    /// always sends the profile as it is then.
    ProfileUpdate,
}

use JobKind::*;

/// Workers take jobs lane by lane, so a cheap job (a mention's notification) never waits
/// behind an expensive one (a walk over a million followers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lane {
    /// Walks over followers: long, few.
    Fanout,
    /// Everything else: short, many.
    Effects,
    /// Requests to other servers: slow and failing at times, so they never hold up a
    /// local user's notification.
    Outbox,
}

impl JobKind {
    pub const ALL: [JobKind; 13] = [
        Deliver,
        Fanout,
        Favourite,
        Follow,
        Edit,
        Delete,
        AwayReply,
        PollEnded,
        RemoveMedia,
        ProcessMedia,
        Federate,
        MoveFollowers,
        ProfileUpdate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Deliver => "deliver",
            Fanout => "fanout",
            Favourite => "favourite",
            Follow => "follow",
            Edit => "edit",
            Delete => "delete",
            AwayReply => "away_reply",
            PollEnded => "poll_ended",
            RemoveMedia => "remove_media",
            ProcessMedia => "process_media",
            Federate => "federate",
            MoveFollowers => "move_followers",
            ProfileUpdate => "profile_update",
        }
    }

    pub fn lane(self) -> Lane {
        match self {
            Fanout | MoveFollowers => Lane::Fanout,
            Federate => Lane::Outbox,
            _ => Lane::Effects,
        }
    }

    /// Attempts before a failing job is given up.
    pub fn max_attempts(self) -> i64 {
        match self {
            // About two days of backoff (`retry_delay_ms`): a server down for a weekend
            // still gets the post, as from Mastodon.
            Federate => 12,
            _ => 5,
        }
    }

    /// How long a job that failed `attempts` times (1 after the first failure) waits
    /// before it is tried again; `None`: on the worker's next pass.
    pub fn retry_delay_ms(self, attempts: i64) -> Option<i64> {
        match self {
            // 15 s, 1 min, 4 min, … quadrupling, at most 12 h apart.
            Federate => {
                let exp = attempts.clamp(1, 12) as u32 - 1;
                Some((15_000i64.saturating_mul(4i64.saturating_pow(exp))).min(12 * 3_600_000))
            }
            _ => None,
        }
    }
}

impl Lane {
    pub const ALL: [Lane; 3] = [Lane::Fanout, Lane::Effects, Lane::Outbox];

    /// The kinds this lane runs.
    pub fn kinds(self) -> impl Iterator<Item = JobKind> {
        JobKind::ALL.into_iter().filter(move |k| k.lane() == self)
    }
}

impl fmt::Display for JobKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored name that is no job kind (written by a newer version, say).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown job kind {0:?}")]
pub struct UnknownJob(pub String);

impl FromStr for JobKind {
    type Err = UnknownJob;

    fn from_str(s: &str) -> Result<Self, UnknownJob> {
        JobKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownJob(s.to_string()))
    }
}

impl TryFrom<String> for JobKind {
    type Error = UnknownJob;

    fn try_from(s: String) -> Result<Self, UnknownJob> {
        s.parse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_reads_back_from_its_name_and_has_one_lane() {
        for k in JobKind::ALL {
            assert_eq!(k.as_str().parse::<JobKind>(), Ok(k));
            assert_eq!(
                Lane::ALL
                    .iter()
                    .filter(|l| l.kinds().any(|x| x == k))
                    .count(),
                1
            );
        }
    }

    #[test]
    fn deliveries_back_off_and_other_jobs_do_not() {
        let delays: Vec<i64> = (1..=12)
            .map(|n| Federate.retry_delay_ms(n).unwrap())
            .collect();
        assert_eq!(delays[0], 15_000);
        assert!(delays.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(*delays.last().unwrap(), 12 * 3_600_000);
        assert_eq!(Deliver.retry_delay_ms(1), None);
        assert!(Federate.max_attempts() > Deliver.max_attempts());
    }
}
