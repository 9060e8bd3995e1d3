//! Polls, their voters and votes. A poll is written with its status (`create_status`);
//! votes are counted from their rows, so counts are exact under any concurrency.

use cascade_core::Id;
use sqlx::FromRow;

use crate::{placeholders, read, transaction, write, Result, Store};

/// A poll about to be written with its status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPollRecord {
    pub id: Id,
    /// The options' titles, as a JSON list.
    pub options: String,
    pub multiple: bool,
    pub hide_totals: bool,
    pub expires_at: i64,
}

#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct PollRecord {
    pub id: Id,
    pub status_id: Id,
    pub account_id: Id,
    /// The options' titles, as a JSON list.
    pub options: String,
    pub multiple: bool,
    pub hide_totals: bool,
    pub expires_at: i64,
    pub ended_at: Option<i64>,
}

/// The counts of a poll: votes per option (index order) and distinct voters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PollCounts {
    pub votes: Vec<(i64, i64)>,
    pub voters: i64,
}

/// What a vote came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VoteOutcome {
    Counted,
    AlreadyVoted,
    Expired,
}

const COLUMNS: &str =
    "id, status_id, account_id, options, multiple, hide_totals, expires_at, ended_at";

/// Writes a poll inside the transaction `$tx` of the status `$status` that carries it.
macro_rules! insert_poll {
    ($tx:ident, $status:expr, $account:expr, $created_at:expr, $p:expr) => {
        sqlx::query(
            "INSERT INTO polls (id, status_id, account_id, options, multiple, hide_totals, expires_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind($p.id)
        .bind($status)
        .bind($account)
        .bind(&$p.options)
        .bind($p.multiple)
        .bind($p.hide_totals)
        .bind($p.expires_at)
        .bind($created_at)
        .execute(&mut *$tx)
        .await?;
    };
}
pub(crate) use insert_poll;

impl Store {
    /// The polls of the statuses among `status_ids` that have one.
    pub async fn polls_of(&self, status_ids: &[Id]) -> Result<Vec<PollRecord>> {
        if status_ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {COLUMNS} FROM polls WHERE status_id IN ({})",
            placeholders(1, status_ids.len())
        );
        read!(self, db => {
            let mut q = sqlx::query_as(&sql);
            for id in status_ids { q = q.bind(*id); }
            Ok(q.fetch_all(db).await?)
        })
    }

    pub async fn poll(&self, id: Id) -> Result<PollRecord> {
        let sql = format!("SELECT {COLUMNS} FROM polls WHERE id = $1");
        read!(self, db => Ok(sqlx::query_as(&sql).bind(id).fetch_one(db).await?))
    }

    /// Votes per option and voters, for each of `polls`.
    pub async fn poll_counts(&self, polls: &[Id]) -> Result<Vec<(Id, PollCounts)>> {
        if polls.is_empty() {
            return Ok(Vec::new());
        }
        let list = placeholders(1, polls.len());
        let votes: Vec<(Id, i64, i64)> = read!(self, db => {
            let sql = format!("SELECT poll_id, choice, COUNT(*) FROM poll_votes WHERE poll_id IN ({list}) GROUP BY poll_id, choice");
            let mut q = sqlx::query_as(&sql);
            for id in polls { q = q.bind(*id); }
            q.fetch_all(db).await?
        });
        let voters: Vec<(Id, i64)> = read!(self, db => {
            let sql = format!("SELECT poll_id, COUNT(*) FROM poll_voters WHERE poll_id IN ({list}) GROUP BY poll_id");
            let mut q = sqlx::query_as(&sql);
            for id in polls { q = q.bind(*id); }
            q.fetch_all(db).await?
        });
        Ok(polls
            .iter()
            .map(|&p| {
                let counts = PollCounts {
                    votes: votes
                        .iter()
                        .filter(|v| v.0 == p)
                        .map(|v| (v.1, v.2))
                        .collect(),
                    voters: voters.iter().find(|v| v.0 == p).map_or(0, |v| v.1),
                };
                (p, counts)
            })
            .collect())
    }

    /// `account`'s choices in each of `polls` it voted in.
    pub async fn own_votes(&self, account: Id, polls: &[Id]) -> Result<Vec<(Id, i64)>> {
        if polls.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT poll_id, choice FROM poll_votes WHERE account_id = $1 AND poll_id IN ({}) ORDER BY choice",
            placeholders(2, polls.len())
        );
        read!(self, db => {
            let mut q = sqlx::query_as(&sql).bind(account);
            for id in polls { q = q.bind(*id); }
            Ok(q.fetch_all(db).await?)
        })
    }

    /// Whether `account` voted in each of `polls` (a voter row, whatever its choices).
    pub async fn voted_in(&self, account: Id, polls: &[Id]) -> Result<Vec<Id>> {
        if polls.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT poll_id FROM poll_voters WHERE account_id = $1 AND poll_id IN ({})",
            placeholders(2, polls.len())
        );
        read!(self, db => {
            let mut q = sqlx::query_scalar(&sql).bind(account);
            for id in polls { q = q.bind(*id); }
            Ok(q.fetch_all(db).await?)
        })
    }

    /// Records a vote, once per account and poll and only before the poll's end, in one
    /// transaction: the voter row is written first, so of two concurrent votes by one
    /// account the second finds it and counts nothing.
    pub async fn vote(
        &self,
        poll: Id,
        account: Id,
        choices: &[i64],
        now: i64,
    ) -> Result<VoteOutcome> {
        let outcome = transaction!(self, tx => {
            let expires_at: i64 = sqlx::query_scalar("SELECT expires_at FROM polls WHERE id = $1")
                .bind(poll).fetch_one(&mut *tx).await?;
            if expires_at <= now {
                VoteOutcome::Expired
            } else {
                let new = sqlx::query(
                    "INSERT INTO poll_voters (poll_id, account_id, created_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (poll_id, account_id) DO NOTHING",
                ).bind(poll).bind(account).bind(now).execute(&mut *tx).await?.rows_affected() == 1;
                if new {
                    for c in choices {
                        sqlx::query("INSERT INTO poll_votes (poll_id, account_id, choice) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                            .bind(poll).bind(account).bind(*c).execute(&mut *tx).await?;
                    }
                    VoteOutcome::Counted
                } else {
                    VoteOutcome::AlreadyVoted
                }
            }
        });
        Ok(outcome)
    }

    /// Replaces a status's poll on an edit (`None` removes it). With `reset`, or when the
    /// poll is removed, its votes go too and it runs again until its new end.
    pub async fn replace_poll(
        &self,
        status: Id,
        account: Id,
        poll: Option<&NewPollRecord>,
        reset: bool,
        now: i64,
    ) -> Result<()> {
        transaction!(self, tx => {
            let existing: Option<Id> = sqlx::query_scalar("SELECT id FROM polls WHERE status_id = $1")
                .bind(status).fetch_optional(&mut *tx).await?;
            match (existing, poll) {
                (Some(id), Some(p)) => {
                    if reset {
                        sqlx::query("DELETE FROM poll_votes WHERE poll_id = $1").bind(id).execute(&mut *tx).await?;
                        sqlx::query("DELETE FROM poll_voters WHERE poll_id = $1").bind(id).execute(&mut *tx).await?;
                    }
                    sqlx::query(
                        "UPDATE polls SET options = $1, multiple = $2, hide_totals = $3, expires_at = $4, ended_at = NULL WHERE id = $5",
                    )
                    .bind(&p.options)
                    .bind(p.multiple).bind(p.hide_totals).bind(p.expires_at).bind(id)
                    .execute(&mut *tx).await?;
                }
                (Some(id), None) => {
                    sqlx::query("DELETE FROM polls WHERE id = $1").bind(id).execute(&mut *tx).await?;
                }
                (None, Some(p)) => {
                    insert_poll!(tx, status, account, now, p);
                }
                (None, None) => {}
            }
        });
        Ok(())
    }

    /// The polls that ran out by `now` and whose end was not yet queued: `(poll, status)`.
    pub async fn due_polls(&self, now: i64, limit: usize) -> Result<Vec<(Id, Id)>> {
        read!(self, db => Ok(sqlx::query_as(
            "SELECT id, status_id FROM polls WHERE ended_at IS NULL AND expires_at <= $1 ORDER BY expires_at LIMIT $2",
        ).bind(now).bind(limit as i64).fetch_all(db).await?))
    }

    /// When the next running poll ends, if any does.
    pub async fn next_poll_end(&self) -> Result<Option<i64>> {
        read!(self, db => Ok(sqlx::query_scalar(
            "SELECT MIN(expires_at) FROM polls WHERE ended_at IS NULL",
        ).fetch_one(db).await?))
    }

    /// Marks a poll ended and writes the jobs its end owes, in one transaction; false when
    /// another pass did already.
    pub async fn end_poll(&self, poll: Id, now: i64, owed: &[crate::NewJob]) -> Result<bool> {
        let ended = transaction!(self, tx => {
            let ended = sqlx::query("UPDATE polls SET ended_at = $1 WHERE id = $2 AND ended_at IS NULL")
                .bind(now).bind(poll).execute(&mut *tx).await?.rows_affected() == 1;
            if ended {
                crate::jobs::insert_jobs!(tx, owed);
            }
            ended
        });
        Ok(ended)
    }

    /// Everyone who voted in a poll.
    pub async fn poll_voter_ids(&self, poll: Id) -> Result<Vec<Id>> {
        read!(self, db => Ok(sqlx::query_scalar("SELECT account_id FROM poll_voters WHERE poll_id = $1 ORDER BY created_at")
            .bind(poll).fetch_all(db).await?))
    }

    /// Moves a poll's end (tests and administration).
    pub async fn set_poll_expiry(&self, poll: Id, expires_at: i64) -> Result<()> {
        write!(self, db => sqlx::query("UPDATE polls SET expires_at = $1 WHERE id = $2")
            .bind(expires_at).bind(poll).execute(db).await?.rows_affected());
        Ok(())
    }
}
