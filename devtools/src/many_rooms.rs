//! A log file of one A4B record touching thousands of rooms, for the benchmark's memory check: the
//! function writes one item per room, and each of them lists at most 100 rooms (SPEC section 3), so
//! the dry run's peak memory must not grow with the number of rooms the record names.

use std::io::{self, Write};

use flate2::Compression;
use flate2::write::GzEncoder;

/// The number of rooms `a4b-dev many-rooms` puts in its record.
pub const DEFAULT_ROOMS: u32 = 3_000;

/// The room ARN numbered `n`.
fn room_arn(n: u32) -> String {
    format!("arn:aws:a4b:us-east-1:123456789012:room/{n:032x}/{n:032x}")
}

/// Writes the gzipped file: one `DeleteRooms`-like A4B record whose request names `rooms` rooms.
pub fn write(rooms: u32, out: impl Write) -> io::Result<()> {
    let mut gz = GzEncoder::new(out, Compression::default());
    write!(
        gz,
        r#"{{"Records":[{{"eventVersion":"1.08","eventTime":"2026-01-02T03:04:05Z","eventSource":"a4b.amazonaws.com","eventName":"UpdateRooms","awsRegion":"us-east-1","eventID":"00000000-0000-4000-8000-000000000301","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::123456789012:user/bench"}},"requestParameters":{{"roomArns":["#
    )?;
    for n in 0..rooms {
        if n > 0 {
            gz.write_all(b",")?;
        }
        write!(gz, "\"{}\"", room_arn(n))?;
    }
    write!(gz, "]}}}}]}}")?;
    gz.finish()?.flush()
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use flate2::read::GzDecoder;

    use super::*;

    #[test]
    fn the_file_is_one_a4b_record_naming_every_room_once() {
        let mut gz = Vec::new();
        write(3, &mut gz).unwrap();
        let mut text = String::new();
        GzDecoder::new(gz.as_slice())
            .read_to_string(&mut text)
            .unwrap();
        let file: serde_json::Value = serde_json::from_str(&text).unwrap();
        let records = file["Records"].as_array().unwrap();
        assert_eq!(records.len(), 1);
        assert_eq!(records[0]["eventSource"], "a4b.amazonaws.com");
        let rooms = records[0]["requestParameters"]["roomArns"]
            .as_array()
            .unwrap();
        let expected: Vec<String> = (0..3).map(room_arn).collect();
        assert_eq!(rooms, &expected);
    }
}
