//! `a4b-audit query`: one room's or user's events in time order, with `Query` on `pk` and a range
//! on `sk` (`<eventTime>#<eventID>`).

use std::collections::HashMap;
use std::io::{BufWriter, Write};

use aws_sdk_dynamodb::types::AttributeValue;

use super::args::QueryArgs;
use super::clients;
use super::error::{AwsTarget, CliError, aws_error};
use super::output::{Format, text, write_csv_line, write_item_json, write_table};
use super::time_range::TimeBound;
use crate::keys;

/// Whose history is asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Partition {
    Room,
    User,
}

/// The key condition of the query and its values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyCondition {
    pub expression: &'static str,
    pub values: Vec<(&'static str, String)>,
}

/// `pk = :pk`, with `sk` between, from or up to the bounds.
pub fn key_condition(pk: String, from: Option<&TimeBound>, to: Option<&TimeBound>) -> KeyCondition {
    let mut values = vec![(":pk", pk)];
    let expression = match (from, to) {
        (Some(from), Some(to)) => {
            values.push((":from", from.lower_sort_key()));
            values.push((":to", to.upper_sort_key()));
            "pk = :pk AND sk BETWEEN :from AND :to"
        }
        (Some(from), None) => {
            values.push((":from", from.lower_sort_key()));
            "pk = :pk AND sk >= :from"
        }
        (None, Some(to)) => {
            values.push((":to", to.upper_sort_key()));
            "pk = :pk AND sk <= :to"
        }
        (None, None) => "pk = :pk",
    };
    KeyCondition { expression, values }
}

pub async fn run(args: QueryArgs) -> Result<(), CliError> {
    let (partition, pk) = match (&args.room, &args.user) {
        (Some(room_arn), _) => (Partition::Room, keys::room_pk(room_arn)),
        (None, Some(user_key)) => (Partition::User, keys::user_pk(user_key)),
        (None, None) => return Err(CliError::Usage("give --room ARN or --user KEY".to_owned())),
    };
    if let (Some(from), Some(to)) = (&args.from, &args.to)
        && from.lower_sort_key() > to.upper_sort_key()
    {
        return Err(CliError::Usage("--from is after --to".to_owned()));
    }
    let table_name = clients::table_name(&args.table)?;
    let sdk_config = clients::sdk_config().await?;
    let region = clients::region_name(&sdk_config);
    let client = crate::aws::dynamodb_read_client(&sdk_config);
    let condition = key_condition(pk, args.from.as_ref(), args.to.as_ref());
    let resource = format!("table {table_name}");
    let target = AwsTarget {
        resource: &resource,
        region: &region,
    };

    let mut printer = Printer::new(args.format, partition);
    let mut remaining = args.limit.map(|limit| limit as usize);
    let mut start_key = None;
    loop {
        let mut request = client
            .query()
            .table_name(&table_name)
            .key_condition_expression(condition.expression)
            .scan_index_forward(true)
            .set_exclusive_start_key(start_key.take());
        for (name, value) in &condition.values {
            request = request.expression_attribute_values(*name, AttributeValue::S(value.clone()));
        }
        if let Some(remaining) = remaining {
            request = request.limit(i32::try_from(remaining).unwrap_or(i32::MAX));
        }
        let page = request
            .send()
            .await
            .map_err(|error| aws_error("query the table", &target, &error))?;
        for item in page.items() {
            if remaining == Some(0) {
                break;
            }
            printer.add(item)?;
            remaining = remaining.map(|left| left.saturating_sub(1));
        }
        match page.last_evaluated_key() {
            Some(key) if remaining != Some(0) => start_key = Some(key.clone()),
            _ => break,
        }
    }
    let printed = printer.finish()?;
    if printed == 0 {
        note!("no events found");
    }
    Ok(())
}

const ROOM_HEADERS: [&str; 5] = ["time", "event", "user", "source ip", "error"];
const USER_HEADERS: [&str; 5] = ["time", "event", "rooms", "source ip", "error"];
const CSV_HEADERS: [&str; 9] = [
    "event_time",
    "event_name",
    "user_key",
    "room_arns",
    "source_ip",
    "error_code",
    "error_message",
    "event_id",
    "source_object",
];

/// One event as a table row.
pub fn table_row(item: &HashMap<String, AttributeValue>, partition: Partition) -> Vec<String> {
    let who = match partition {
        Partition::Room => text(item, "user_key"),
        Partition::User => text(item, "room_arns"),
    };
    vec![
        text(item, "event_time"),
        text(item, "event_name"),
        who,
        text(item, "source_ip"),
        text(item, "error_code"),
    ]
}

/// One event as a CSV row ([`CSV_HEADERS`]).
pub fn csv_row(item: &HashMap<String, AttributeValue>) -> Vec<String> {
    CSV_HEADERS.iter().map(|name| text(item, name)).collect()
}

/// Prints events as they come (JSON, CSV) or once all are known (the aligned table).
struct Printer {
    format: Format,
    partition: Partition,
    out: BufWriter<std::io::Stdout>,
    table_rows: Vec<Vec<String>>,
    printed: usize,
}

impl Printer {
    fn new(format: Format, partition: Partition) -> Self {
        Printer {
            format,
            partition,
            out: BufWriter::new(std::io::stdout()),
            table_rows: Vec::new(),
            printed: 0,
        }
    }

    fn add(&mut self, item: &HashMap<String, AttributeValue>) -> Result<(), CliError> {
        match self.format {
            Format::Table => self.table_rows.push(table_row(item, self.partition)),
            Format::Json => write_item_json(&mut self.out, item)?,
            Format::Csv => {
                if self.printed == 0 {
                    write_csv_line(&mut self.out, &CSV_HEADERS)?;
                }
                write_csv_line(&mut self.out, &csv_row(item))?;
            }
        }
        self.printed += 1;
        Ok(())
    }

    fn finish(mut self) -> Result<usize, CliError> {
        if self.format == Format::Table && !self.table_rows.is_empty() {
            let headers = match self.partition {
                Partition::Room => ROOM_HEADERS,
                Partition::User => USER_HEADERS,
            };
            write_table(&mut self.out, &headers, &self.table_rows)?;
        }
        self.out.flush()?;
        Ok(self.printed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::time_range::parse_time_bound;

    fn bound(text: &str) -> TimeBound {
        parse_time_bound(text).unwrap()
    }

    #[test]
    fn both_bounds_make_a_between() {
        let condition = key_condition(
            "ROOM#r".into(),
            Some(&bound("2023-05-01")),
            Some(&bound("2023-05-31")),
        );
        assert_eq!(
            condition.expression,
            "pk = :pk AND sk BETWEEN :from AND :to"
        );
        assert_eq!(
            condition.values,
            vec![
                (":pk", "ROOM#r".to_owned()),
                (":from", "2023-05-01T00:00:00Z".to_owned()),
                (":to", "2023-05-31T23:59:59Z$".to_owned()),
            ]
        );
    }

    #[test]
    fn one_bound_makes_a_comparison_and_none_the_whole_partition() {
        let from = key_condition("USER#u".into(), Some(&bound("2023-05-01")), None);
        assert_eq!(from.expression, "pk = :pk AND sk >= :from");
        let to = key_condition("USER#u".into(), None, Some(&bound("2023-05-01T12:00:00Z")));
        assert_eq!(to.expression, "pk = :pk AND sk <= :to");
        assert_eq!(to.values[1], (":to", "2023-05-01T12:00:00Z$".to_owned()));
        let all = key_condition("USER#u".into(), None, None);
        assert_eq!(all.expression, "pk = :pk");
        assert_eq!(all.values.len(), 1);
    }

    fn event() -> HashMap<String, AttributeValue> {
        let s = |value: &str| AttributeValue::S(value.to_owned());
        HashMap::from([
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
        ])
    }

    #[test]
    fn a_room_row_names_the_user_and_a_user_row_the_rooms() {
        assert_eq!(
            table_row(&event(), Partition::Room),
            [
                "2023-05-01T10:00:00Z",
                "CreateRoom",
                "arn:aws:iam::123456789012:user/alice",
                "192.0.2.1",
                "AccessDenied"
            ]
        );
        assert_eq!(
            table_row(&event(), Partition::User)[2],
            "arn:aws:a4b:us-east-1:123456789012:room/r1"
        );
    }

    #[test]
    fn csv_rows_follow_the_csv_headers_with_empty_absent_fields() {
        let row = csv_row(&event());
        assert_eq!(row.len(), CSV_HEADERS.len());
        assert_eq!(row[0], "2023-05-01T10:00:00Z");
        assert_eq!(row[6], "");
        assert_eq!(row[7], "e1");
    }
}
