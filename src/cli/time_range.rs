//! `--from`/`--to`: a date (the whole day) or an RFC 3339 time, as sort-key bounds and as days.

use jiff::civil::Date;
use jiff::{Timestamp, tz::TimeZone};

/// A time given on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeBound {
    /// `2023-05-01`: the whole UTC day.
    Day(Date),
    /// `2023-05-01T12:00:00Z` (any RFC 3339 offset).
    Instant(Timestamp),
}

/// Parses `2023-05-01` or an RFC 3339 time.
pub fn parse_time_bound(text: &str) -> Result<TimeBound, String> {
    let text = text.trim();
    if let Ok(date) = text.parse::<Date>() {
        // A date-time without offset also parses as a Date in jiff: accept only a bare date here.
        if text.len() == 10 {
            return Ok(TimeBound::Day(date));
        }
    }
    text.parse::<Timestamp>().map(TimeBound::Instant).map_err(|_| {
        format!("{text:?} is neither a date (2023-05-01) nor an RFC 3339 time (2023-05-01T12:00:00Z)")
    })
}

/// CloudTrail's `eventTime` format, which starts every event sort key.
fn event_time_text(timestamp: Timestamp) -> String {
    timestamp.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn start_of_day(date: Date) -> Timestamp {
    // Midnight UTC exists for every date jiff can hold.
    TimeZone::UTC
        .to_timestamp(date.to_datetime(jiff::civil::Time::midnight()))
        .unwrap_or(Timestamp::MIN)
}

impl TimeBound {
    /// The smallest sort key at or after this bound.
    pub fn lower_sort_key(&self) -> String {
        match self {
            TimeBound::Day(date) => event_time_text(start_of_day(*date)),
            TimeBound::Instant(timestamp) => {
                // `2023-05-01T12:00:00.5Z` starts after every event of 12:00:00.
                let whole_second =
                    Timestamp::from_second(timestamp.as_second()).unwrap_or(*timestamp);
                let first_second = if whole_second < *timestamp {
                    whole_second
                        .checked_add(jiff::SignedDuration::from_secs(1))
                        .unwrap_or(whole_second)
                } else {
                    whole_second
                };
                event_time_text(first_second)
            }
        }
    }

    /// The largest sort key at or before this bound (inclusive: the whole day for a date).
    pub fn upper_sort_key(&self) -> String {
        let last_second = match self {
            TimeBound::Day(date) => start_of_day(*date)
                .checked_add(jiff::SignedDuration::from_secs(86_399))
                .unwrap_or(Timestamp::MAX),
            TimeBound::Instant(timestamp) => {
                Timestamp::from_second(timestamp.as_second()).unwrap_or(*timestamp)
            }
        };
        // Sort keys are `<eventTime>#<eventID>`; `$` is the byte after `#`, so every event of
        // that second sorts before this bound.
        format!("{}$", event_time_text(last_second))
    }

    /// The UTC day this bound falls on.
    pub fn first_day(&self) -> Date {
        match self {
            TimeBound::Day(date) => *date,
            TimeBound::Instant(timestamp) => TimeZone::UTC.to_datetime(*timestamp).date(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_is_the_whole_day() {
        let bound = parse_time_bound("2023-05-01").unwrap();
        assert_eq!(bound.lower_sort_key(), "2023-05-01T00:00:00Z");
        assert_eq!(bound.upper_sort_key(), "2023-05-01T23:59:59Z$");
        assert!("2023-05-01T23:59:59Z#ffffffff-0000" < bound.upper_sort_key().as_str());
        assert!("2023-05-02T00:00:00Z#0" > bound.upper_sort_key().as_str());
    }

    #[test]
    fn an_rfc3339_time_is_converted_to_utc() {
        let bound = parse_time_bound("2023-05-01T14:30:00+02:00").unwrap();
        assert_eq!(bound.lower_sort_key(), "2023-05-01T12:30:00Z");
        assert_eq!(bound.upper_sort_key(), "2023-05-01T12:30:00Z$");
        assert_eq!(bound.first_day().to_string(), "2023-05-01");
    }

    #[test]
    fn bounds_include_the_events_of_their_second() {
        let bound = parse_time_bound("2023-05-01T12:30:00Z").unwrap();
        let event = "2023-05-01T12:30:00Z#6f2c1a8e-1b2c-4d3e-8f9a-0b1c2d3e4f5a";
        assert!(event >= bound.lower_sort_key().as_str());
        assert!(event <= bound.upper_sort_key().as_str());
    }

    #[test]
    fn a_fractional_lower_bound_starts_at_the_next_second() {
        let bound = parse_time_bound("2023-05-01T12:30:00.5Z").unwrap();
        assert_eq!(bound.lower_sort_key(), "2023-05-01T12:30:01Z");
    }

    #[test]
    fn anything_else_is_refused_with_the_expected_forms() {
        for text in [
            "yesterday",
            "2023-13-01",
            "2023-05-01T12:00:00",
            "05/01/2023",
            "",
        ] {
            let error = parse_time_bound(text).unwrap_err();
            assert!(error.contains("2023-05-01"), "{text}: {error}");
        }
    }
}
