//! `a4b-audit rooms` / `users`: the summary items (`SUMMARY#ROOM` / `SUMMARY#USER`), one `Query`
//! each, never a scan of the event items.

use std::collections::HashMap;
use std::io::{BufWriter, Write};

use aws_sdk_dynamodb::types::AttributeValue;

use super::args::ListArgs;
use super::clients;
use super::error::{AwsTarget, CliError, aws_error};
use super::output::{Format, text, write_csv, write_item_json, write_table};
use crate::ledger::{ROOM_SUMMARY_PK, USER_SUMMARY_PK};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Rooms,
    Users,
}

impl Kind {
    fn pk(self) -> &'static str {
        match self {
            Kind::Rooms => ROOM_SUMMARY_PK,
            Kind::Users => USER_SUMMARY_PK,
        }
    }

    fn headers(self) -> [&'static str; 3] {
        match self {
            Kind::Rooms => ["room", "events", "last activity"],
            Kind::Users => ["user", "events", "last activity"],
        }
    }

    fn csv_headers(self) -> [&'static str; 3] {
        match self {
            Kind::Rooms => ["room_arn", "event_count", "last_event_time"],
            Kind::Users => ["user_key", "event_count", "last_event_time"],
        }
    }
}

/// A summary item as a row: the room or user, its event count and its last activity.
pub fn summary_row(item: &HashMap<String, AttributeValue>) -> Vec<String> {
    vec![
        text(item, "sk"),
        text(item, "event_count"),
        text(item, "last_event_time"),
    ]
}

pub async fn run(kind: Kind, args: ListArgs) -> Result<(), CliError> {
    let table_name = clients::table_name(&args.table)?;
    let sdk_config = clients::sdk_config().await?;
    let region = clients::region_name(&sdk_config);
    let client = crate::aws::dynamodb_read_client(&sdk_config);
    let resource = format!("table {table_name}");
    let target = AwsTarget {
        resource: &resource,
        region: &region,
    };

    let mut items = Vec::new();
    let mut start_key = None;
    loop {
        let page = client
            .query()
            .table_name(&table_name)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", AttributeValue::S(kind.pk().to_owned()))
            .set_exclusive_start_key(start_key.take())
            .send()
            .await
            .map_err(|error| aws_error("query the table", &target, &error))?;
        items.extend(page.items().iter().cloned());
        match page.last_evaluated_key() {
            Some(key) => start_key = Some(key.clone()),
            None => break,
        }
    }

    let mut out = BufWriter::new(std::io::stdout());
    print_summaries(&mut out, kind, args.format, &items)?;
    out.flush()?;
    if items.is_empty() {
        note!("none yet: summaries are recorded as log files are processed");
    }
    Ok(())
}

fn print_summaries(
    out: &mut impl Write,
    kind: Kind,
    format: Format,
    items: &[HashMap<String, AttributeValue>],
) -> std::io::Result<()> {
    match format {
        Format::Table => {
            if items.is_empty() {
                return Ok(());
            }
            let rows: Vec<Vec<String>> = items.iter().map(summary_row).collect();
            write_table(out, &kind.headers(), &rows)
        }
        Format::Csv => {
            let rows: Vec<Vec<String>> = items.iter().map(summary_row).collect();
            write_csv(out, &kind.csv_headers(), &rows)
        }
        Format::Json => {
            for item in items {
                write_item_json(out, item)?;
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(room: &str, count: &str, last: &str) -> HashMap<String, AttributeValue> {
        HashMap::from([
            (
                "pk".to_owned(),
                AttributeValue::S(ROOM_SUMMARY_PK.to_owned()),
            ),
            ("sk".to_owned(), AttributeValue::S(room.to_owned())),
            (
                "event_count".to_owned(),
                AttributeValue::N(count.to_owned()),
            ),
            (
                "last_event_time".to_owned(),
                AttributeValue::S(last.to_owned()),
            ),
        ])
    }

    fn printed(format: Format) -> String {
        let items = vec![
            summary(
                "arn:aws:a4b:us-east-1:123456789012:room/a",
                "12",
                "2023-05-02T10:00:00Z",
            ),
            summary(
                "arn:aws:a4b:us-east-1:123456789012:room/b",
                "3",
                "2023-05-01T09:00:00Z",
            ),
        ];
        let mut out = Vec::new();
        print_summaries(&mut out, Kind::Rooms, format, &items).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn rooms_table_lists_each_room_with_its_count_and_last_activity() {
        assert_eq!(
            printed(Format::Table),
            "ROOM                                       EVENTS  LAST ACTIVITY\n\
             arn:aws:a4b:us-east-1:123456789012:room/a  12      2023-05-02T10:00:00Z\n\
             arn:aws:a4b:us-east-1:123456789012:room/b  3       2023-05-01T09:00:00Z\n"
        );
    }

    #[test]
    fn rooms_csv_and_json_carry_the_same_facts() {
        assert_eq!(
            printed(Format::Csv),
            "room_arn,event_count,last_event_time\n\
             arn:aws:a4b:us-east-1:123456789012:room/a,12,2023-05-02T10:00:00Z\n\
             arn:aws:a4b:us-east-1:123456789012:room/b,3,2023-05-01T09:00:00Z\n"
        );
        let json = printed(Format::Json);
        let first: serde_json::Value = serde_json::from_str(json.lines().next().unwrap()).unwrap();
        assert_eq!(first["event_count"], 12);
        assert_eq!(first["sk"], "arn:aws:a4b:us-east-1:123456789012:room/a");
    }
}
