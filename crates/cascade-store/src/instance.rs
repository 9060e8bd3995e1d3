//! Figures about the whole instance: its weekly activity.

use cascade_core::Id;

use crate::{read, Result, Store};

/// Per week since an origin (week 0 starts at the origin): statuses posted, accounts that
/// signed in, accounts registered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WeeklyActivity {
    pub statuses: Vec<(i64, i64)>,
    pub logins: Vec<(i64, i64)>,
    pub registrations: Vec<(i64, i64)>,
}

impl Store {
    /// Activity per week of `week_ms` from `origin` on: original statuses (not reblogs);
    /// distinct accounts issued a token (each sign-in issues one); users created.
    pub async fn weekly_activity(&self, origin: i64, week_ms: i64) -> Result<WeeklyActivity> {
        let count = |what: &str, table: &str, filter: &str| {
            format!(
                "SELECT (created_at - $1) / $2 AS week, {what} FROM {table} \
                 WHERE created_at >= $1 {filter} GROUP BY 1"
            )
        };
        let queries = [
            count("COUNT(*)", "statuses", "AND reblog_of_id IS NULL"),
            count(
                "COUNT(DISTINCT account_id)",
                "tokens",
                "AND account_id IS NOT NULL",
            ),
            count("COUNT(*)", "users", ""),
        ];
        let mut out: Vec<Vec<(Id, i64)>> = Vec::with_capacity(3);
        for sql in &queries {
            let rows: Vec<(i64, i64)> = read!(self, db => sqlx::query_as(sql)
                .bind(origin).bind(week_ms).fetch_all(db).await?);
            out.push(rows);
        }
        let registrations = out.pop().unwrap_or_default();
        let logins = out.pop().unwrap_or_default();
        let statuses = out.pop().unwrap_or_default();
        Ok(WeeklyActivity {
            statuses,
            logins,
            registrations,
        })
    }
}
