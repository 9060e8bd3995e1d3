//! Wall-clock time as Cascade stores it (milliseconds since the Unix epoch) and renders it
//! (RFC 3339 with milliseconds, UTC, as Mastodon's JSON does).

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Milliseconds since the Unix epoch, now.
pub fn now_millis() -> i64 {
    let now = OffsetDateTime::now_utc();
    (now.unix_timestamp_nanos() / 1_000_000) as i64
}

/// `2026-11-22T07:13:09.123Z`.
pub fn rfc3339(millis: i64) -> String {
    let at = OffsetDateTime::from_unix_timestamp_nanos(millis as i128 * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let (y, mo, d) = (at.year(), at.month() as u8, at.day());
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        at.hour(),
        at.minute(),
        at.second(),
        at.millisecond()
    )
}

/// The date part only, `2026-11-22` (Mastodon's `last_status_at`).
pub fn date(millis: i64) -> String {
    rfc3339(millis)[..10].to_string()
}

/// Parses an RFC 3339 timestamp into milliseconds.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    let at = OffsetDateTime::parse(text, &Rfc3339).ok()?;
    Some((at.unix_timestamp_nanos() / 1_000_000) as i64)
}

/// Parses a date (`2026-12-07`) or an RFC 3339 timestamp into the milliseconds of that
/// day's midnight UTC, as the admin dashboard's periods are whole days.
pub fn parse_day(text: &str) -> Option<i64> {
    let text = text.trim();
    let at = match text.len() {
        10 => parse_rfc3339(&format!("{text}T00:00:00Z"))?,
        _ => parse_rfc3339(text)?,
    };
    Some(at.div_euclid(DAY_MS) * DAY_MS)
}

/// Milliseconds in a day and a week.
pub const DAY_MS: i64 = 86_400_000;
pub const WEEK_MS: i64 = 7 * DAY_MS;

/// Midnight UTC on the Monday of the week `millis` falls in (weeks as Mastodon's activity
/// counts them).
pub fn week_start(millis: i64) -> i64 {
    let day = millis.div_euclid(DAY_MS);
    // 1970-01-01 was a Thursday, three days after a Monday.
    (day - (day + 3).rem_euclid(7)) * DAY_MS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_parse_from_dates_and_timestamps() {
        let midnight = parse_rfc3339("2026-12-07T00:00:00Z").unwrap();
        assert_eq!(parse_day("2026-12-07"), Some(midnight));
        assert_eq!(parse_day("2026-12-07T15:30:00.000Z"), Some(midnight));
        assert_eq!(parse_day("2026-13-07"), None);
        assert_eq!(parse_day("yesterday"), None);
    }

    #[test]
    fn weeks_start_on_monday_at_midnight() {
        let monday = parse_rfc3339("2026-12-07T00:00:00Z").unwrap();
        assert_eq!(week_start(monday), monday);
        let sunday_night = parse_rfc3339("2026-12-13T23:59:59Z").unwrap();
        assert_eq!(week_start(sunday_night), monday);
        let thursday = parse_rfc3339("2026-12-10T12:00:00Z").unwrap();
        assert_eq!(week_start(thursday), monday);
        assert_eq!(week_start(monday - 1), monday - WEEK_MS);
        assert_eq!(week_start(0), -3 * DAY_MS);
    }

    #[test]
    fn renders_and_parses_rfc3339() {
        let ms = 1_700_000_000_123;
        let text = rfc3339(ms);
        assert_eq!(text, "2023-11-14T22:13:20.123Z");
        assert_eq!(parse_rfc3339(&text), Some(ms));
        assert_eq!(date(ms), "2023-11-14");
    }
}
