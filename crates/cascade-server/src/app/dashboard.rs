//! The moderators' dashboard, as Mastodon's admin API serves it: measures (a count per day
//! over a period, its total and the previous period's) and dimensions (the largest groups
//! of a kind over a period). Without federation there is one server, this one, so the
//! figures about other servers are zero or empty.

use cascade_core::{time, Id};
use cascade_store::{Dimension, Measure};
use serde_json::{json, Value};

use crate::app::admin::staff;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The longest period asked about, in days: a daily series stays small.
const MAX_DAYS: i64 = 400;
/// Keys answered per request: Mastodon has 14 measures and 9 dimensions.
const MAX_KEYS: usize = 32;

/// The keys asked for, each once, at most `MAX_KEYS`: a repeated key would only run its
/// queries again.
fn distinct(keys: &[String]) -> Vec<&String> {
    let mut out: Vec<&String> = Vec::new();
    for key in keys {
        if !out.contains(&key) && out.len() < MAX_KEYS {
            out.push(key);
        }
    }
    out
}

/// Whole days, midnight UTC of the first to midnight after the last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: i64,
    pub to: i64,
}

impl Period {
    /// From `start_at` and `end_at` (dates, or timestamps counted by their day), both
    /// included.
    pub fn parse(start: Option<&str>, end: Option<&str>) -> ApiResult<Period> {
        let (Some(start), Some(end)) = (start, end) else {
            return Err(ApiError::BadRequest(
                "start_at and end_at are required".into(),
            ));
        };
        let bad = |name: &str| ApiError::unprocessable(format!("{name} must be a date"));
        let from = time::parse_day(start).ok_or_else(|| bad("start_at"))?;
        let to = time::parse_day(end).ok_or_else(|| bad("end_at"))? + time::DAY_MS;
        if to <= from {
            return Err(ApiError::unprocessable(
                "end_at must not be before start_at",
            ));
        }
        if (to - from) / time::DAY_MS > MAX_DAYS {
            return Err(ApiError::unprocessable(format!(
                "The period may be at most {MAX_DAYS} days"
            )));
        }
        Ok(Period { from, to })
    }

    /// The period of the same length just before this one.
    fn previous(self) -> Period {
        Period {
            from: self.from - (self.to - self.from),
            to: self.from,
        }
    }

    fn days(self) -> impl Iterator<Item = i64> {
        (self.from / time::DAY_MS..self.to / time::DAY_MS).map(|d| d * time::DAY_MS)
    }
}

/// What a measure or dimension is about, when it is about one tag or one server.
#[derive(Debug, Default, Clone)]
pub struct Subjects {
    pub tag_accounts: Option<Id>,
    pub tag_uses: Option<Id>,
    pub tag_servers: Option<Id>,
    pub tag_languages: Option<Id>,
}

fn store_measure(key: &str, s: &Subjects) -> Option<Measure> {
    Some(match key {
        "new_users" => Measure::NewUsers,
        "active_users" => Measure::ActiveUsers,
        "interactions" => Measure::Interactions,
        "opened_reports" => Measure::OpenedReports,
        "resolved_reports" => Measure::ResolvedReports,
        "tag_accounts" => Measure::TagAccounts(s.tag_accounts?),
        "tag_uses" | "tag_servers" => Measure::TagUses(s.tag_uses.or(s.tag_servers)?),
        _ => return None,
    })
}

/// The measures named by `keys`, in their order; keys Mastodon does not have are left
/// out, as are tag measures without their tag.
pub async fn measures(
    state: &AppState,
    me: Id,
    keys: &[String],
    period: Period,
    subjects: &Subjects,
) -> ApiResult<Vec<Value>> {
    staff(state, me).await?;
    let mut out = Vec::new();
    for key in distinct(keys) {
        let remote = key.starts_with("instance_");
        let measure = store_measure(key, subjects);
        if measure.is_none() && !remote {
            continue;
        }
        let (days, total, previous) = match measure {
            Some(m) => {
                let (days, total) = state.store.measure(m, period.from, period.to).await?;
                let previous = period.previous();
                let (_, before) = state.store.measure(m, previous.from, previous.to).await?;
                (days, total, before)
            }
            // About another server: there are none yet.
            None => (Vec::new(), 0, 0),
        };
        // `tag_servers` counts servers that used the tag each day: this one, or none.
        let servers = key == "tag_servers";
        let value = |n: i64| if servers { n.min(1) } else { n };
        let data: Vec<Value> = period
            .days()
            .map(|day| {
                let n = days
                    .iter()
                    .find(|(d, _)| *d * time::DAY_MS == day)
                    .map_or(0, |(_, n)| *n);
                json!({"date": time::rfc3339(day), "value": value(n).to_string()})
            })
            .collect();
        let bytes = key == "instance_media_attachments";
        let mut entry = json!({
            "key": key,
            "unit": if bytes { Value::from("bytes") } else { Value::Null },
            "total": value(total).to_string(),
            "previous_total": value(previous).to_string(),
            "data": data,
        });
        if bytes {
            entry["human_value"] = json!(human_bytes(total));
        }
        out.push(entry);
    }
    Ok(out)
}

/// The dimensions named by `keys`, in their order, each with at most `limit` groups;
/// keys Mastodon does not have are left out.
pub async fn dimensions(
    state: &AppState,
    me: Id,
    keys: &[String],
    period: Period,
    limit: usize,
    subjects: &Subjects,
) -> ApiResult<Vec<Value>> {
    staff(state, me).await?;
    let mut out = Vec::new();
    for key in distinct(keys) {
        let data: Vec<Value> = match key.as_str() {
            "languages" | "tag_languages" => {
                let dimension = match (key.as_str(), subjects.tag_languages) {
                    ("languages", _) => Dimension::Languages,
                    (_, Some(tag)) => Dimension::TagLanguages(tag),
                    _ => continue,
                };
                let rows = state
                    .store
                    .dimension(dimension, period.from, period.to, limit)
                    .await?;
                rows.into_iter()
                    .map(|(code, n)| {
                        let code = code.unwrap_or_default();
                        let name = language_name(&code).unwrap_or(&code).to_string();
                        json!({"key": code, "human_key": name, "value": n.to_string()})
                    })
                    .collect()
            }
            "sources" => {
                let rows = state
                    .store
                    .dimension(Dimension::Sources, period.from, period.to, limit)
                    .await?;
                rows.into_iter()
                    .map(|(app, n)| {
                        let name = app.unwrap_or_else(|| "Web".to_string());
                        json!({"key": name, "human_key": name, "value": n.to_string()})
                    })
                    .collect()
            }
            "servers" | "tag_servers" => {
                let n = match (key.as_str(), subjects.tag_servers) {
                    ("servers", _) => state.store.statuses_between(period.from, period.to).await?,
                    (_, Some(tag)) => {
                        let m = Measure::TagUses(tag);
                        state.store.measure(m, period.from, period.to).await?.1
                    }
                    _ => continue,
                };
                let domain = &state.config.domain;
                if n == 0 {
                    Vec::new()
                } else {
                    vec![json!({"key": domain, "human_key": domain, "value": n.to_string()})]
                }
            }
            "space_usage" => {
                let (database, media) = state.store.space_usage().await?;
                let (engine, _) = state.store.database_version().await?;
                [
                    (engine, "Database", database),
                    ("media", "Media files", media),
                ]
                .into_iter()
                .map(|(k, name, n)| {
                    json!({"key": k, "human_key": name, "value": n.to_string(),
                               "unit": "bytes", "human_value": human_bytes(n)})
                })
                .collect()
            }
            "software_versions" => {
                let (engine, version) = state.store.database_version().await?;
                let mut rows = vec![
                    json!({"key": "cascade", "human_key": "Cascade", "value": env!("CARGO_PKG_VERSION")}),
                    json!({"key": engine, "human_key": if engine == "sqlite" { "SQLite" } else { "PostgreSQL" }, "value": version}),
                ];
                if let Some(ffmpeg) = &state.media.ffmpeg {
                    rows.push(
                        json!({"key": "ffmpeg", "human_key": "FFmpeg", "value": ffmpeg.version()}),
                    );
                }
                rows
            }
            // About other servers: there are none yet.
            "instance_accounts" | "instance_languages" => Vec::new(),
            _ => continue,
        };
        out.push(json!({"key": key, "data": data}));
    }
    Ok(out)
}

/// `1.5 MB`, as the dashboard shows sizes.
fn human_bytes(n: i64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = n.max(0) as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// The English name of a common ISO 639-1 language code.
fn language_name(code: &str) -> Option<&'static str> {
    const NAMES: &[(&str, &str)] = &[
        ("ar", "Arabic"),
        ("ca", "Catalan"),
        ("cs", "Czech"),
        ("cy", "Welsh"),
        ("da", "Danish"),
        ("de", "German"),
        ("el", "Greek"),
        ("en", "English"),
        ("eo", "Esperanto"),
        ("es", "Spanish"),
        ("eu", "Basque"),
        ("fa", "Persian"),
        ("fi", "Finnish"),
        ("fr", "French"),
        ("ga", "Irish"),
        ("gl", "Galician"),
        ("he", "Hebrew"),
        ("hi", "Hindi"),
        ("hu", "Hungarian"),
        ("id", "Indonesian"),
        ("it", "Italian"),
        ("ja", "Japanese"),
        ("ko", "Korean"),
        ("nl", "Dutch"),
        ("no", "Norwegian"),
        ("pl", "Polish"),
        ("pt", "Portuguese"),
        ("ro", "Romanian"),
        ("ru", "Russian"),
        ("sv", "Swedish"),
        ("th", "Thai"),
        ("tr", "Turkish"),
        ("uk", "Ukrainian"),
        ("vi", "Vietnamese"),
        ("zh", "Chinese"),
    ];
    NAMES.iter().find(|(c, _)| *c == code).map(|(_, n)| *n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_are_whole_days_both_included() {
        let p = Period::parse(Some("2026-12-01"), Some("2026-12-07")).unwrap();
        assert_eq!((p.to - p.from) / time::DAY_MS, 7);
        assert_eq!(p.days().count(), 7);
        assert_eq!(p.previous().to, p.from);
        assert!(Period::parse(Some("2026-12-07"), Some("2026-12-01")).is_err());
        assert!(Period::parse(Some("2020-01-01"), Some("2026-12-01")).is_err());
        assert!(Period::parse(None, Some("2026-12-01")).is_err());
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(1_500_000), "1.5 MB");
    }
}
