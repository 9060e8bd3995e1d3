//! Annual reports (Mastodon 4.3's "wrapped"): what an account did in a year — how much it
//! posted and of what kind, its most shared posts, hashtags, applications, the accounts
//! it answered and reblogged most, month by month — made once when first asked for and
//! kept as made. A year is available once it is over, and the current one from 1
//! December, as Mastodon offers it; a year in which the account posted nothing has none.

use cascade_core::{time, Id};
use cascade_store::{AnnualReportRecord, YearFigures};
use serde_json::{json, Value};

use crate::app::{render, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The shape of the data this module writes.
const SCHEMA_VERSION: i64 = 1;
/// How many past years are offered.
const YEARS_BACK: i64 = 5;

/// Midnight UTC on the first of each month of `year`, and of the next January.
fn month_starts(year: i64) -> Option<[i64; 13]> {
    let mut out = [0; 13];
    for (m, slot) in out.iter_mut().enumerate() {
        let (y, month) = if m == 12 {
            (year + 1, 1)
        } else {
            (year, m + 1)
        };
        *slot = time::parse_rfc3339(&format!("{y:04}-{month:02}-01T00:00:00Z"))?;
    }
    Some(out)
}

/// The years whose reports may exist now: the last few that are over, and this one in
/// December.
fn offered_years(now: i64) -> Vec<i64> {
    let today = time::date(now);
    let year: i64 = today[..4].parse().unwrap_or(1970);
    let december = &today[5..7] == "12";
    let last = if december { year } else { year - 1 };
    (last - YEARS_BACK + 1..=last).rev().collect()
}

/// Mastodon's playful label for how the account posted.
fn archetype(f: &YearFigures) -> &'static str {
    let total = f.standalone + f.replies + f.reblogs;
    if total < 10 {
        "lurker"
    } else if f.reblogs > f.standalone * 2 {
        "booster"
    } else if f.polls as f64 > f.standalone as f64 * 0.1 {
        "pollster"
    } else if f.replies > f.standalone * 2 {
        "replier"
    } else {
        "oracle"
    }
}

fn report_data(f: &YearFigures) -> Value {
    let pairs = |rows: &[(Id, i64)]| -> Vec<Value> {
        rows.iter()
            .map(|(id, n)| json!({"account_id": id.to_string(), "count": n}))
            .collect()
    };
    let named = |rows: &[(String, i64)]| -> Vec<Value> {
        rows.iter()
            .map(|(name, n)| json!({"name": name, "count": n}))
            .collect()
    };
    let top = |s: &Option<(Id, i64)>| s.map(|(id, _)| id.to_string());
    let percentile = if f.posters == 0 {
        0.0
    } else {
        (f.posted_less as f64 / f.posters as f64 * 1000.0).round() / 10.0
    };
    json!({
        "archetype": archetype(f),
        "time_series": f.months.iter().enumerate().map(|(m, (statuses, following, followers))| {
            json!({"month": m + 1, "statuses": statuses, "following": following, "followers": followers})
        }).collect::<Vec<_>>(),
        "top_hashtags": named(&f.tags),
        "top_statuses": {
            "by_reblogs": top(&f.top_by_reblogs),
            "by_favourites": top(&f.top_by_favourites),
            "by_replies": top(&f.top_by_replies),
        },
        "most_used_apps": named(&f.apps),
        "commonly_interacted_with_accounts": pairs(&f.replied_to),
        "most_reblogged_accounts": pairs(&f.reblogged),
        "type_distribution": {
            "total": f.standalone + f.replies + f.reblogs,
            "reblogs": f.reblogs,
            "replies": f.replies,
            "standalone": f.standalone,
        },
        "percentiles": percentile,
    })
}

/// Makes the missing reports of the offered years in which `me` posted.
async fn make_missing(state: &AppState, me: Id, kept: &[AnnualReportRecord]) -> ApiResult<bool> {
    let mut made = false;
    for year in offered_years(time::now_millis()) {
        if kept.iter().any(|r| r.year == year) {
            continue;
        }
        let Some(months) = month_starts(year) else {
            continue;
        };
        if state.store.statuses_in(me, months[0], months[12]).await? == 0 {
            continue;
        }
        let figures = state
            .store
            .year_figures(me, months[0], months[12], &months)
            .await?;
        let record = AnnualReportRecord {
            account_id: me,
            year,
            data: report_data(&figures).to_string(),
            schema_version: SCHEMA_VERSION,
            created_at: time::now_millis(),
            viewed_at: None,
        };
        state.store.put_annual_report(&record).await?;
        made = true;
    }
    Ok(made)
}

/// `WrappedAnnualReports`: the reports, and the accounts and statuses they name.
async fn wrap(state: &AppState, me: Id, reports: &[AnnualReportRecord]) -> ApiResult<Value> {
    let mut account_ids: Vec<Id> = Vec::new();
    let mut status_ids: Vec<Id> = Vec::new();
    let mut rendered = Vec::new();
    for r in reports {
        let data: Value =
            serde_json::from_str(&r.data).map_err(|e| ApiError::Internal(e.into()))?;
        for list in [
            "commonly_interacted_with_accounts",
            "most_reblogged_accounts",
        ] {
            for entry in data[list].as_array().into_iter().flatten() {
                if let Some(id) = entry["account_id"].as_str().and_then(|s| s.parse().ok()) {
                    account_ids.push(id);
                }
            }
        }
        if let Some(top) = data["top_statuses"].as_object() {
            status_ids.extend(top.values().filter_map(|v| v.as_str()?.parse::<Id>().ok()));
        }
        rendered.push(json!({
            "year": r.year,
            "account_id": me.to_string(),
            "data": data,
            "schema_version": r.schema_version,
        }));
    }
    account_ids.sort_unstable();
    account_ids.dedup();
    status_ids.sort_unstable();
    status_ids.dedup();
    let viewer = Viewer::load(state, Some(me)).await?;
    Ok(json!({
        "annual_reports": rendered,
        "accounts": render::accounts(state, &account_ids).await?,
        "statuses": render::statuses(state, &viewer, &status_ids).await?,
    }))
}

async fn reports(state: &AppState, me: Id) -> ApiResult<Vec<AnnualReportRecord>> {
    let kept = state.store.annual_reports(me).await?;
    if make_missing(state, me, &kept).await? {
        return Ok(state.store.annual_reports(me).await?);
    }
    Ok(kept)
}

/// `GET /api/v1/annual_reports`: every report of `me`, newest year first.
pub async fn all(state: &AppState, me: Id) -> ApiResult<Value> {
    let kept = reports(state, me).await?;
    wrap(state, me, &kept).await
}

/// `GET /api/v1/annual_reports/:year`; 404 when there is none for that year.
pub async fn one(state: &AppState, me: Id, year: i64) -> ApiResult<Value> {
    let kept: Vec<AnnualReportRecord> = reports(state, me)
        .await?
        .into_iter()
        .filter(|r| r.year == year)
        .collect();
    if kept.is_empty() {
        return Err(ApiError::NotFound);
    }
    wrap(state, me, &kept).await
}

/// `POST /api/v1/annual_reports/:year/read`.
pub async fn read(state: &AppState, me: Id, year: i64) -> ApiResult<()> {
    reports(state, me).await?;
    if !state
        .store
        .read_annual_report(me, year, time::now_millis())
        .await?
    {
        return Err(ApiError::NotFound);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn years_are_offered_once_over_and_in_december() {
        let june = time::parse_rfc3339("2026-06-15T00:00:00Z").unwrap();
        assert_eq!(offered_years(june)[0], 2025);
        let december = time::parse_rfc3339("2026-12-07T00:00:00Z").unwrap();
        assert_eq!(offered_years(december)[0], 2026);
        assert_eq!(offered_years(december).len(), 5);
        let months = month_starts(2024).unwrap();
        assert_eq!(months[12] - months[0], 366 * time::DAY_MS, "a leap year");
    }

    #[test]
    fn archetypes_follow_the_mix_of_posts() {
        let f = |standalone, replies, reblogs, polls| YearFigures {
            standalone,
            replies,
            reblogs,
            polls,
            ..Default::default()
        };
        assert_eq!(archetype(&f(3, 2, 1, 0)), "lurker");
        assert_eq!(archetype(&f(5, 0, 20, 0)), "booster");
        assert_eq!(archetype(&f(20, 0, 0, 5)), "pollster");
        assert_eq!(archetype(&f(5, 20, 0, 0)), "replier");
        assert_eq!(archetype(&f(20, 5, 5, 0)), "oracle");
    }
}
