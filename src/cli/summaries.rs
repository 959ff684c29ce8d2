//! `a4b-audit rooms` / `users`: every room (user) with a seen item, with its number of events and
//! last activity read from its own event partition (see [`crate::ledger::activity`]), so the
//! count is always what `query` returns for it. Never a scan of the table.

use std::io::{BufWriter, Write};

use serde_json::Value;

use super::args::ListArgs;
use super::clients;
use super::error::CliError;
use super::output::{Format, write_csv, write_table};
use crate::ledger::{Activity, DynamoDbLedger, SeenKind, list_activity};

/// Requests in flight at once: enough to list thousands of rooms in seconds, few enough that an
/// on-demand table absorbs them without throttling.
const READS_IN_FLIGHT: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Rooms,
    Users,
}

impl Kind {
    fn seen_kind(self) -> SeenKind {
        match self {
            Kind::Rooms => SeenKind::Rooms,
            Kind::Users => SeenKind::Users,
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

/// One room's or user's line as cells: the room or user, its event count, its last activity.
pub fn activity_row(activity: &Activity) -> Vec<String> {
    vec![
        activity.name.clone(),
        activity.event_count.to_string(),
        activity.last_event_time.clone(),
    ]
}

pub async fn run(kind: Kind, args: ListArgs) -> Result<(), CliError> {
    let table_name = clients::table_name(&args.table)?;
    let sdk_config = clients::sdk_config().await?;
    let region = clients::region_name(&sdk_config);
    let client = crate::aws::dynamodb_read_client(&sdk_config);
    // A missing table or credentials are told apart here, before dozens of queries fail alike.
    clients::check_table(&client, &table_name, &region).await?;
    let ledger = DynamoDbLedger::new(client, &table_name);
    let activity = list_activity(&ledger, kind.seen_kind(), READS_IN_FLIGHT)
        .await
        .map_err(|error| CliError::Aws(format!("cannot read the table: {error}")))?;

    let mut out = BufWriter::new(std::io::stdout());
    print_activity(&mut out, kind, args.format, &activity)?;
    out.flush()?;
    if activity.is_empty() {
        note!("none yet: rooms and users are recorded as log files are processed");
    }
    Ok(())
}

fn print_activity(
    out: &mut impl Write,
    kind: Kind,
    format: Format,
    activity: &[Activity],
) -> std::io::Result<()> {
    let rows = || activity.iter().map(activity_row).collect::<Vec<_>>();
    match format {
        Format::Table => {
            if activity.is_empty() {
                return Ok(());
            }
            write_table(out, &kind.headers(), &rows())
        }
        Format::Csv => write_csv(out, &kind.csv_headers(), &rows()),
        Format::Json => {
            // Written by hand so that the name comes first (serde_json's maps sort their keys).
            let [name, count, last] = kind.csv_headers();
            for line in activity {
                writeln!(
                    out,
                    "{{\"{name}\":{},\"{count}\":{},\"{last}\":{}}}",
                    Value::from(line.name.as_str()),
                    line.event_count,
                    Value::from(line.last_event_time.as_str()),
                )?;
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn printed(format: Format) -> String {
        let activity = vec![
            Activity {
                name: "arn:aws:a4b:us-east-1:123456789012:room/a".into(),
                event_count: 12,
                last_event_time: "2023-05-02T10:00:00Z".into(),
            },
            Activity {
                name: "arn:aws:a4b:us-east-1:123456789012:room/b".into(),
                event_count: 3,
                last_event_time: "2023-05-01T09:00:00Z".into(),
            },
        ];
        let mut out = Vec::new();
        print_activity(&mut out, Kind::Rooms, format, &activity).unwrap();
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
        let first_line = json.lines().next().unwrap();
        assert!(first_line.starts_with(r#"{"room_arn":"#), "{first_line}");
        let first: Value = serde_json::from_str(first_line).unwrap();
        assert_eq!(
            first,
            json!({
                "room_arn": "arn:aws:a4b:us-east-1:123456789012:room/a",
                "event_count": 12,
                "last_event_time": "2023-05-02T10:00:00Z",
            })
        );
    }
}
