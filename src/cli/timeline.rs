//! `--format html`: one self-contained page (no network, no external script; its Content Security
//! Policy forbids both). For `query`, the events on a time axis, one lane per user or per resource,
//! failed calls highlighted, each event's details on hover and click, and the membership periods of
//! a room's devices, profiles and skill groups as bands. For `rooms`/`users`, a table.
//!
//! The page's script sets `data-ready="true"` and `data-event-count` on `<body>` once it has drawn
//! the events, and counts script errors in `data-error-count`: the headless-browser test reads them.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;

use super::membership::{MemberKind, Period};
use super::output::text;
use super::room_history::ShownEvent;

const PAGE: &str = include_str!("timeline.html");

/// How events are put in lanes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lanes {
    /// One lane per user key.
    ByUser,
    /// A room's own events in one lane, then one lane per resource they came through.
    ByResource,
}

/// What one page shows.
pub struct Timeline<'a> {
    pub title: String,
    pub lanes: Lanes,
    pub events: &'a [ShownEvent],
    pub periods: &'a [Period],
}

#[derive(Serialize)]
struct PageData<'a> {
    lanes: Vec<Lane>,
    events: Vec<EventData<'a>>,
    periods: Vec<PeriodData>,
}

#[derive(Serialize)]
struct Lane {
    id: String,
    label: String,
}

#[derive(Serialize)]
struct EventData<'a> {
    sk: String,
    time: String,
    name: String,
    lane: String,
    user: String,
    error: String,
    via: &'a [String],
    /// Every attribute but the record, as text.
    details: BTreeMap<&'a str, String>,
    record: String,
}

#[derive(Serialize)]
struct PeriodData {
    lane: String,
    kind: &'static str,
    start: String,
    end: Option<String>,
}

/// The lane of a room's own events.
const ROOM_LANE: &str = "the room itself";

fn lane_of(event: &ShownEvent, lanes: Lanes) -> String {
    match lanes {
        Lanes::ByUser => text(&event.item, "user_key"),
        Lanes::ByResource => event
            .via
            .first()
            .cloned()
            .unwrap_or_else(|| ROOM_LANE.to_owned()),
    }
}

/// The event time of a sort key `<eventTime>#<eventID>`.
fn time_of(sort_key: &str) -> String {
    sort_key
        .split_once('#')
        .map_or(sort_key, |(time, _)| time)
        .to_owned()
}

fn kind_class(kind: MemberKind) -> &'static str {
    match kind {
        MemberKind::Device => "device",
        MemberKind::Profile => "profile",
        MemberKind::SkillGroup => "skill-group",
    }
}

fn page_data<'a>(timeline: &'a Timeline<'_>) -> PageData<'a> {
    let events: Vec<EventData<'a>> = timeline
        .events
        .iter()
        .map(|event| EventData {
            sk: event.sort_key(),
            time: text(&event.item, "event_time"),
            name: text(&event.item, "event_name"),
            lane: lane_of(event, timeline.lanes),
            user: text(&event.item, "user_key"),
            error: text(&event.item, "error_code"),
            via: &event.via,
            details: event
                .item
                .keys()
                .filter(|name| name.as_str() != "record")
                .map(|name| (name.as_str(), text(&event.item, name)))
                .collect(),
            record: text(&event.item, "record"),
        })
        .collect();
    // Lanes in order of first appearance; a room's own lane first, then its members' (with their
    // bands even when none of their events falls in the range).
    let mut lane_ids: Vec<String> = Vec::new();
    let mut add_lane = |id: &str| {
        if !lane_ids.iter().any(|known| known == id) {
            lane_ids.push(id.to_owned());
        }
    };
    if timeline.lanes == Lanes::ByResource {
        add_lane(ROOM_LANE);
        for period in timeline.periods {
            add_lane(&period.resource_arn);
        }
    }
    for event in &events {
        add_lane(&event.lane);
    }
    let labels: BTreeMap<&str, MemberKind> = timeline
        .periods
        .iter()
        .map(|period| (period.resource_arn.as_str(), period.kind))
        .collect();
    let lanes = lane_ids
        .into_iter()
        .map(|id| Lane {
            label: match labels.get(id.as_str()) {
                Some(kind) => format!("{}: {id}", kind.label()),
                None => id.clone(),
            },
            id,
        })
        .collect();
    let periods = timeline
        .periods
        .iter()
        .map(|period| PeriodData {
            lane: period.resource_arn.clone(),
            kind: kind_class(period.kind),
            start: time_of(&period.start),
            end: period.end.as_deref().map(time_of),
        })
        .collect();
    PageData {
        lanes,
        events,
        periods,
    }
}

/// JSON safe inside `<script>`: `<`, `>` and `&` only occur in strings, where `\u00XX` means the
/// same character.
fn script_json(data: &impl Serialize) -> io::Result<String> {
    let json = serde_json::to_string(data).map_err(io::Error::other)?;
    Ok(json
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026"))
}

/// Text safe in HTML content and attribute values.
pub fn escape_html(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '&' => escaped.push_str("&amp;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            _ => escaped.push(c),
        }
    }
    escaped
}

/// Writes the timeline page.
pub fn write_timeline(out: &mut impl Write, timeline: &Timeline<'_>) -> io::Result<()> {
    let data = script_json(&page_data(timeline))?;
    let title = escape_html(&timeline.title);
    // The placeholders are replaced in the template's own text only, never inside the data.
    let (before, after) = PAGE.split_once("{{DATA}}").unwrap_or((PAGE, ""));
    out.write_all(before.replace("{{TITLE}}", &title).as_bytes())?;
    out.write_all(data.as_bytes())?;
    out.write_all(after.replace("{{TITLE}}", &title).as_bytes())
}

/// Writes a page holding one table (for `rooms` and `users`).
pub fn write_html_table(
    out: &mut impl Write,
    title: &str,
    headers: &[&str],
    rows: &[Vec<String>],
) -> io::Result<()> {
    let title = escape_html(title);
    write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
         <title>a4b-audit: {title}</title>\n<style>body {{ font: 13px system-ui, sans-serif; margin: 16px; }} \
         td, th {{ padding: 2px 10px 2px 0; text-align: left; }}</style>\n</head>\n<body>\n<h1>{title}</h1>\n<table>\n<tr>"
    )?;
    for header in headers {
        write!(out, "<th>{}</th>", escape_html(header))?;
    }
    writeln!(out, "</tr>")?;
    for row in rows {
        write!(out, "<tr>")?;
        for cell in row {
            write!(out, "<td>{}</td>", escape_html(cell))?;
        }
        writeln!(out, "</tr>")?;
    }
    writeln!(out, "</table>\n</body>\n</html>")
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::types::AttributeValue;
    use std::collections::HashMap;

    const DEVICE: &str = "arn:aws:a4b:us-east-1:123456789012:device/d/1";

    fn event(minute: u32, user: &str, via: &[&str], record: &str) -> ShownEvent {
        let s = |value: &str| AttributeValue::S(value.to_owned());
        let time = format!("2023-07-10T12:{minute:02}:00Z");
        ShownEvent {
            item: HashMap::from([
                ("sk".to_owned(), s(&format!("{time}#e{minute}"))),
                ("event_time".to_owned(), s(&time)),
                ("event_name".to_owned(), s("UpdateDevice")),
                ("user_key".to_owned(), s(user)),
                ("record".to_owned(), s(record)),
            ]),
            via: via.iter().map(|arn| arn.to_string()).collect(),
        }
    }

    fn page(timeline: &Timeline<'_>) -> String {
        let mut out = Vec::new();
        write_timeline(&mut out, timeline).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn the_data_cannot_close_its_script_element() {
        let events = [event(1, "alice", &[], "{\"x\":\"</script><b>&\"}")];
        let html = page(&Timeline {
            title: "Room <r1>".into(),
            lanes: Lanes::ByUser,
            events: &events,
            periods: &[],
        });
        assert_eq!(html.matches("</script>").count(), 3, "{html}");
        assert!(html.contains("Room &lt;r1&gt;"));
        assert!(!html.contains("{{DATA}}") && !html.contains("{{TITLE}}"));
    }

    #[test]
    fn the_page_fetches_nothing() {
        let html = page(&Timeline {
            title: "t".into(),
            lanes: Lanes::ByUser,
            events: &[],
            periods: &[],
        });
        assert!(html.contains("default-src 'none'"));
        assert!(!html.contains("src=\"http") && !html.contains("href=\"http"));
    }

    #[test]
    fn a_rooms_lanes_are_the_room_then_each_member_with_its_bands() {
        let events = [
            event(1, "alice", &[], "{}"),
            event(2, "bob", &[DEVICE], "{}"),
        ];
        let periods = [Period {
            resource_arn: DEVICE.into(),
            kind: MemberKind::Device,
            start: "2023-07-10T12:00:30Z#e0".into(),
            end: None,
        }];
        let timeline = Timeline {
            title: "r".into(),
            lanes: Lanes::ByResource,
            events: &events,
            periods: &periods,
        };
        let data = page_data(&timeline);
        let lanes: Vec<&str> = data.lanes.iter().map(|lane| lane.id.as_str()).collect();
        assert_eq!(lanes, [ROOM_LANE, DEVICE]);
        assert_eq!(data.lanes[1].label, format!("device: {DEVICE}"));
        assert_eq!(data.events[1].lane, DEVICE);
        assert_eq!(data.periods[0].start, "2023-07-10T12:00:30Z");
        assert!(!data.events[0].details.contains_key("record"));
    }

    #[test]
    fn other_histories_have_one_lane_per_user() {
        let events = [
            event(1, "alice", &[], "{}"),
            event(2, "bob", &[], "{}"),
            event(3, "alice", &[], "{}"),
        ];
        let timeline = Timeline {
            title: "w".into(),
            lanes: Lanes::ByUser,
            events: &events,
            periods: &[],
        };
        let lanes: Vec<String> = page_data(&timeline)
            .lanes
            .into_iter()
            .map(|lane| lane.id)
            .collect();
        assert_eq!(lanes, ["alice", "bob"]);
    }
}
