//! `a4b-audit query`: a room's, a user's or a resource's events, or everything in a time window,
//! in time order (SPEC section 7).
//!
//! - `--user KEY`, `--resource ARN`, `--room ARN --direct`: `Query` on one partition (`USER#…`,
//!   `RESOURCE#…`, `ROOM#…`) with a range on `sk` (`<eventTime>#<eventID>`).
//! - `--room ARN`: the room's partition, then the partitions of the devices, profiles and skill
//!   groups its events associated with it, merged by [`room_history`].
//! - none of them: the time index, one `Query` per day the range spans.

use std::collections::HashMap;
use std::io::{BufWriter, Write};

use aws_sdk_dynamodb::types::AttributeValue;
use futures::{StreamExt, TryStreamExt};
use jiff::civil::Date;

use super::args::QueryArgs;
use super::clients;
use super::error::CliError;
use super::item_json::write_stored_item;
use super::membership::Period;
use super::output::{Format, text, write_csv_line, write_table};
use super::room_history::{self, ShownEvent};
use super::table_reader::{EventFilter, PartitionKey, QuerySpec, TableItem, TableReader};
use super::time_range::TimeBound;
use super::timeline::{self, Lanes, Timeline};
use crate::keys;

/// Partitions read at once (a room's resources, the days of a window).
const PARTITIONS_IN_FLIGHT: usize = 8;

/// What is asked, and so which columns are printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// The room and, unless `direct`, its members while they belonged to it.
    Room {
        arn: String,
        direct: bool,
    },
    User(String),
    Resource(String),
    /// Every event of the account between `--from` and `--to`.
    Window,
}

impl Subject {
    fn of(args: &QueryArgs) -> Subject {
        match (&args.room, &args.user, &args.resource) {
            (Some(arn), _, _) => Subject::Room {
                arn: arn.clone(),
                direct: args.direct,
            },
            (None, Some(user_key), _) => Subject::User(user_key.clone()),
            (None, None, Some(arn)) => Subject::Resource(arn.clone()),
            (None, None, None) => Subject::Window,
        }
    }

    fn headers(&self) -> &'static [&'static str] {
        match self {
            Subject::Room { direct: false, .. } => {
                &["time", "event", "via", "user", "source ip", "error"]
            }
            Subject::Room { direct: true, .. } | Subject::Resource(_) => {
                &["time", "event", "user", "source ip", "error"]
            }
            Subject::User(_) => &["time", "event", "rooms", "source ip", "error"],
            Subject::Window => &["time", "event", "user", "rooms", "source ip", "error"],
        }
    }

    fn title(&self) -> String {
        match self {
            Subject::Room { arn, direct: false } => format!("Room {arn}"),
            Subject::Room { arn, direct: true } => format!("Room {arn} (own events only)"),
            Subject::User(key) => format!("User {key}"),
            Subject::Resource(arn) => format!("Resource {arn}"),
            Subject::Window => "All events".to_owned(),
        }
    }
}

pub async fn run(args: QueryArgs) -> Result<(), CliError> {
    if args.direct && args.room.is_none() {
        return Err(CliError::Usage(
            "--direct goes with --room ARN (only the room's own events)".to_owned(),
        ));
    }
    let subject = Subject::of(&args);
    let window_from = match (&subject, args.from) {
        (Subject::Window, None) => {
            return Err(CliError::Usage(
                "give --room ARN, --user KEY or --resource ARN, or --from T (and --to T) for every event in a time window".to_owned(),
            ));
        }
        (_, from) => from.unwrap_or(TimeBound::Instant(jiff::Timestamp::now())),
    };
    if let (Some(from), Some(to)) = (&args.from, &args.to)
        && from.lower_sort_key() > to.upper_sort_key()
    {
        return Err(CliError::Usage("--from is after --to".to_owned()));
    }
    let table_name = clients::table_name(&args.table)?;
    let sdk_config = clients::sdk_config().await?;
    let reader = TableReader {
        client: crate::aws::dynamodb_read_client(&sdk_config),
        table_name,
        region: clients::region_name(&sdk_config),
    };
    let filter = EventFilter {
        event_name: args.event.clone(),
        errors_only: args.errors,
    };
    let limit = args.limit.map(|limit| limit as usize);
    let page_size = args.page_size.map(|size| size as usize);
    let mut printer = Printer::new(args.format, subject.clone());

    match &subject {
        Subject::Room { arn, direct: false } => {
            let history = read_room_history(&reader, arn, args.to.as_ref(), page_size).await?;
            let lower = args.from.as_ref().map(TimeBound::lower_sort_key);
            let shown = history
                .events
                .into_iter()
                .filter(|event| {
                    lower
                        .as_deref()
                        .is_none_or(|lower| event.sort_key().as_str() >= lower)
                })
                .filter(|event| filter.matches(&event.item))
                .take(limit.unwrap_or(usize::MAX));
            for event in shown {
                printer.add(event)?;
            }
            printer.periods = history.periods;
        }
        Subject::Room { arn, direct: true } => {
            let partition = PartitionKey::Table(keys::room_pk(arn));
            print_partition(&reader, &mut printer, &args, partition, &filter, limit).await?;
        }
        Subject::User(key) => {
            let partition = PartitionKey::Table(keys::user_pk(key));
            print_partition(&reader, &mut printer, &args, partition, &filter, limit).await?;
        }
        Subject::Resource(arn) => {
            let partition = PartitionKey::Table(keys::resource_pk(arn));
            print_partition(&reader, &mut printer, &args, partition, &filter, limit).await?;
        }
        Subject::Window => {
            let to = args
                .to
                .unwrap_or(TimeBound::Instant(jiff::Timestamp::now()));
            print_window(
                &reader,
                &mut printer,
                (&window_from, &to),
                &filter,
                (limit, page_size),
            )
            .await?;
        }
    }
    let printed = printer.finish()?;
    if printed == 0 {
        note!("no events found");
    }
    Ok(())
}

async fn print_partition(
    reader: &TableReader,
    printer: &mut Printer,
    args: &QueryArgs,
    partition: PartitionKey,
    filter: &EventFilter,
    limit: Option<usize>,
) -> Result<(), CliError> {
    let spec = QuerySpec {
        partition,
        from: args.from.as_ref(),
        to: args.to.as_ref(),
        filter,
        limit,
        page_size: args.page_size.map(|size| size as usize),
    };
    for item in reader.query_all(&spec).await? {
        printer.add(ShownEvent::own(item))?;
    }
    Ok(())
}

/// The room's partition and those of its candidate members, up to `to`: memberships are resolved
/// from the whole history before it, so a device associated before `--from` still counts.
pub async fn read_room_history(
    reader: &TableReader,
    room_arn: &str,
    to: Option<&TimeBound>,
    page_size: Option<usize>,
) -> Result<room_history::RoomHistory, CliError> {
    let no_filter = EventFilter::default();
    let spec = |partition| QuerySpec {
        partition,
        from: None,
        to,
        filter: &no_filter,
        limit: None,
        page_size,
    };
    let room_items = reader
        .query_all(&spec(PartitionKey::Table(keys::room_pk(room_arn))))
        .await?;
    let candidates = room_history::candidates(room_arn, &room_items);
    let resource_items: Vec<(String, Vec<TableItem>)> = futures::stream::iter(candidates)
        .map(|arn| {
            let spec = spec(PartitionKey::Table(keys::resource_pk(&arn)));
            async move { reader.query_all(&spec).await.map(|items| (arn, items)) }
        })
        .buffered(PARTITIONS_IN_FLIGHT)
        .try_collect()
        .await?;
    Ok(room_history::room_history(
        room_arn,
        room_items,
        resource_items,
    ))
}

/// Every day from `from`'s to `to`'s (UTC), in order.
pub fn days_between(from: &TimeBound, to: &TimeBound) -> Vec<Date> {
    let last = to.first_day();
    let mut days = Vec::new();
    let mut day = from.first_day();
    while day <= last {
        days.push(day);
        match day.tomorrow() {
            Ok(next) => day = next,
            Err(_) => break,
        }
    }
    days
}

/// The time index, one day after another (several read at once), printed as each day arrives.
async fn print_window(
    reader: &TableReader,
    printer: &mut Printer,
    (from, to): (&TimeBound, &TimeBound),
    filter: &EventFilter,
    (limit, page_size): (Option<usize>, Option<usize>),
) -> Result<(), CliError> {
    let mut days = futures::stream::iter(days_between(from, to))
        .map(|day| {
            let spec = QuerySpec {
                partition: PartitionKey::Day(day.to_string()),
                from: Some(from),
                to: Some(to),
                filter,
                limit,
                page_size,
            };
            async move { reader.query_all(&spec).await }
        })
        .buffered(PARTITIONS_IN_FLIGHT);
    while let Some(items) = days.next().await {
        for item in items? {
            if limit.is_some_and(|limit| printer.printed >= limit) {
                return Ok(());
            }
            printer.add(ShownEvent::own(item))?;
        }
    }
    Ok(())
}

const CSV_HEADERS: [&str; 11] = [
    "event_time",
    "event_name",
    "user_key",
    "room_arns",
    "source_ip",
    "error_code",
    "error_message",
    "event_id",
    "source_object",
    "resource_arns",
    "via",
];

/// One event as a table row, in the columns of [`Subject::headers`].
pub fn table_row(event: &ShownEvent, subject: &Subject) -> Vec<String> {
    let item = &event.item;
    let mut row = vec![text(item, "event_time"), text(item, "event_name")];
    match subject {
        Subject::Room { direct: false, .. } => {
            row.push(event.via.join(" "));
            row.push(text(item, "user_key"));
        }
        Subject::Room { direct: true, .. } | Subject::Resource(_) => {
            row.push(text(item, "user_key"));
        }
        Subject::User(_) => row.push(text(item, "room_arns")),
        Subject::Window => {
            row.push(text(item, "user_key"));
            row.push(text(item, "room_arns"));
        }
    }
    row.push(text(item, "source_ip"));
    row.push(text(item, "error_code"));
    row
}

/// One event as a CSV row ([`CSV_HEADERS`]).
pub fn csv_row(event: &ShownEvent) -> Vec<String> {
    CSV_HEADERS
        .iter()
        .map(|name| match *name {
            "via" => event.via.join(" "),
            _ => text(&event.item, name),
        })
        .collect()
}

/// The item with the resources it came through as a `via` list, for the JSON lines.
fn with_via(event: &ShownEvent) -> std::borrow::Cow<'_, TableItem> {
    if event.via.is_empty() {
        return std::borrow::Cow::Borrowed(&event.item);
    }
    let mut item: HashMap<String, AttributeValue> = event.item.clone();
    item.insert(
        "via".to_owned(),
        AttributeValue::L(
            event
                .via
                .iter()
                .map(|arn| AttributeValue::S(arn.clone()))
                .collect(),
        ),
    );
    std::borrow::Cow::Owned(item)
}

/// Prints events as they come (JSON, CSV) or once all are known (the aligned table, HTML).
struct Printer {
    format: Format,
    subject: Subject,
    out: BufWriter<std::io::Stdout>,
    held: Vec<ShownEvent>,
    /// The membership periods of a room's members, for the HTML bands.
    periods: Vec<Period>,
    printed: usize,
}

impl Printer {
    fn new(format: Format, subject: Subject) -> Self {
        Printer {
            format,
            subject,
            out: BufWriter::new(std::io::stdout()),
            held: Vec::new(),
            periods: Vec::new(),
            printed: 0,
        }
    }

    fn add(&mut self, event: ShownEvent) -> Result<(), CliError> {
        match self.format {
            Format::Table | Format::Html => self.held.push(event),
            Format::Json => write_stored_item(&mut self.out, &with_via(&event))?,
            Format::Csv => {
                if self.printed == 0 {
                    write_csv_line(&mut self.out, &CSV_HEADERS)?;
                }
                write_csv_line(&mut self.out, &csv_row(&event))?;
            }
        }
        self.printed += 1;
        Ok(())
    }

    fn finish(mut self) -> Result<usize, CliError> {
        match self.format {
            Format::Table if !self.held.is_empty() => {
                let rows: Vec<Vec<String>> = self
                    .held
                    .iter()
                    .map(|event| table_row(event, &self.subject))
                    .collect();
                write_table(&mut self.out, self.subject.headers(), &rows)?;
            }
            Format::Html => {
                let lanes = match self.subject {
                    Subject::Room { direct: false, .. } => Lanes::ByResource,
                    _ => Lanes::ByUser,
                };
                let page = Timeline {
                    title: self.subject.title(),
                    lanes,
                    events: &self.held,
                    periods: &self.periods,
                };
                timeline::write_timeline(&mut self.out, &page)?;
            }
            _ => {}
        }
        self.out.flush()?;
        Ok(self.printed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::time_range::parse_time_bound;

    fn event(via: &[&str]) -> ShownEvent {
        let s = |value: &str| AttributeValue::S(value.to_owned());
        ShownEvent {
            item: HashMap::from([
                ("event_time".to_owned(), s("2023-05-01T10:00:00Z")),
                ("event_name".to_owned(), s("CreateRoom")),
                (
                    "user_key".to_owned(),
                    s("arn:aws:iam::123456789012:user/alice"),
                ),
                (
                    "room_arns".to_owned(),
                    AttributeValue::L(vec![s("arn:aws:a4b:us-east-1:123456789012:room/r1")]),
                ),
                ("source_ip".to_owned(), s("192.0.2.1")),
                ("error_code".to_owned(), s("AccessDenied")),
                ("event_id".to_owned(), s("e1")),
            ]),
            via: via.iter().map(|arn| arn.to_string()).collect(),
        }
    }

    const DEVICE: &str = "arn:aws:a4b:us-east-1:123456789012:device/d/1";

    #[test]
    fn a_room_row_names_the_resource_it_came_through_and_the_user() {
        let room = Subject::Room {
            arn: "r1".into(),
            direct: false,
        };
        let row = table_row(&event(&[DEVICE]), &room);
        assert_eq!(
            row,
            [
                "2023-05-01T10:00:00Z",
                "CreateRoom",
                DEVICE,
                "arn:aws:iam::123456789012:user/alice",
                "192.0.2.1",
                "AccessDenied"
            ]
        );
        assert_eq!(row.len(), room.headers().len());
    }

    #[test]
    fn every_subject_has_as_many_columns_as_headers() {
        for subject in [
            Subject::Room {
                arn: "r".into(),
                direct: true,
            },
            Subject::User("u".into()),
            Subject::Resource("d".into()),
            Subject::Window,
        ] {
            assert_eq!(
                table_row(&event(&[]), &subject).len(),
                subject.headers().len(),
                "{subject:?}"
            );
        }
        assert_eq!(
            table_row(&event(&[]), &Subject::User("u".into()))[2],
            "arn:aws:a4b:us-east-1:123456789012:room/r1"
        );
    }

    #[test]
    fn csv_rows_follow_the_csv_headers_with_empty_absent_fields() {
        let row = csv_row(&event(&[DEVICE]));
        assert_eq!(row.len(), CSV_HEADERS.len());
        assert_eq!(row[0], "2023-05-01T10:00:00Z");
        assert_eq!(row[6], "");
        assert_eq!(row[7], "e1");
        assert_eq!(row[10], DEVICE);
    }

    #[test]
    fn json_lines_carry_via_only_when_the_event_came_through_a_resource() {
        assert!(!with_via(&event(&[])).contains_key("via"));
        assert_eq!(text(&with_via(&event(&[DEVICE])), "via"), DEVICE.to_owned());
    }

    #[test]
    fn a_window_spans_every_day_from_the_first_to_the_last() {
        let from = parse_time_bound("2023-05-30T23:00:00Z").unwrap();
        let to = parse_time_bound("2023-06-02").unwrap();
        let days: Vec<String> = days_between(&from, &to)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            days,
            ["2023-05-30", "2023-05-31", "2023-06-01", "2023-06-02"]
        );
    }
}
