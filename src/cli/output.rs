//! Printing rows: an aligned table for a terminal, CSV, or JSON lines of whole items.

use std::collections::HashMap;
use std::io::{self, Write};

use aws_sdk_dynamodb::types::AttributeValue;
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

use crate::item::{PARTITION_KEY, SORT_KEY};

/// How `query`, `rooms` and `users` print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns for a terminal.
    Table,
    /// One JSON object per line with every attribute of the item.
    Json,
    /// Comma-separated values with a header line.
    Csv,
    /// One self-contained HTML page (no network): a timeline for `query`, a table otherwise.
    Html,
}

/// Writes `rows` under `headers` in columns aligned for a terminal.
pub fn write_table(out: &mut impl Write, headers: &[&str], rows: &[Vec<String>]) -> io::Result<()> {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|row| row.iter().map(|cell| one_line(cell)).collect())
        .collect();
    let mut widths: Vec<usize> = headers
        .iter()
        .map(|header| header.chars().count())
        .collect();
    for row in &cells {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let header_cells: Vec<String> = headers.iter().map(|header| header.to_uppercase()).collect();
    write_aligned(out, &header_cells, &widths)?;
    for row in &cells {
        write_aligned(out, row, &widths)?;
    }
    Ok(())
}

fn write_aligned(out: &mut impl Write, cells: &[String], widths: &[usize]) -> io::Result<()> {
    let mut line = String::new();
    for (cell, width) in cells.iter().zip(widths) {
        let padding = width.saturating_sub(cell.chars().count());
        line.push_str(cell);
        line.extend(std::iter::repeat_n(' ', padding + 2));
    }
    // An empty last column leaves no trailing blanks.
    writeln!(out, "{}", line.trim_end())
}

/// A cell on one line: control characters (a newline in an error message) become spaces.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Writes a header line and `rows` as CSV (RFC 4180 quoting).
pub fn write_csv(out: &mut impl Write, headers: &[&str], rows: &[Vec<String>]) -> io::Result<()> {
    write_csv_line(out, headers)?;
    for row in rows {
        write_csv_line(out, row)?;
    }
    Ok(())
}

/// Writes one CSV line.
pub fn write_csv_line(out: &mut impl Write, cells: &[impl AsRef<str>]) -> io::Result<()> {
    let fields: Vec<String> = cells.iter().map(|cell| csv_field(cell.as_ref())).collect();
    writeln!(out, "{}", fields.join(","))
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// Writes an item read from the table as one JSON line: `pk`, `sk`, then the other attributes by
/// name; numbers stay JSON numbers with all their digits.
pub fn write_item_json(
    out: &mut impl Write,
    item: &HashMap<String, AttributeValue>,
) -> io::Result<()> {
    serde_json::to_writer(&mut *out, &ItemJson(item)).map_err(io::Error::other)?;
    out.write_all(b"\n")
}

struct ItemJson<'a>(&'a HashMap<String, AttributeValue>);

impl Serialize for ItemJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut names: Vec<&String> = self
            .0
            .keys()
            .filter(|name| *name != PARTITION_KEY && *name != SORT_KEY)
            .collect();
        names.sort();
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for name in [PARTITION_KEY, SORT_KEY] {
            if let Some(value) = self.0.get(name) {
                map.serialize_entry(name, &ValueJson(value))?;
            }
        }
        for name in names {
            if let Some(value) = self.0.get(name) {
                map.serialize_entry(name, &ValueJson(value))?;
            }
        }
        map.end()
    }
}

struct ValueJson<'a>(&'a AttributeValue);

impl Serialize for ValueJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            AttributeValue::S(text) => serializer.serialize_str(text),
            AttributeValue::N(number) => serialize_number(number, serializer),
            AttributeValue::Bool(flag) => serializer.serialize_bool(*flag),
            AttributeValue::Null(_) => serializer.serialize_unit(),
            AttributeValue::L(values) => {
                let mut seq = serializer.serialize_seq(Some(values.len()))?;
                for value in values {
                    seq.serialize_element(&ValueJson(value))?;
                }
                seq.end()
            }
            AttributeValue::Ss(values) => values.serialize(serializer),
            AttributeValue::Ns(values) => {
                let mut seq = serializer.serialize_seq(Some(values.len()))?;
                for number in values {
                    seq.serialize_element(&NumberJson(number))?;
                }
                seq.end()
            }
            AttributeValue::M(map) => ItemJson(map).serialize(serializer),
            // The audit table holds no binary values; say so rather than guess an encoding.
            _ => serializer.serialize_str("<unsupported attribute type>"),
        }
    }
}

struct NumberJson<'a>(&'a str);

impl Serialize for NumberJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_number(self.0, serializer)
    }
}

/// A DynamoDB number as a JSON number, digit for digit (a string if it is somehow not one).
pub fn serialize_number<S: Serializer>(number: &str, serializer: S) -> Result<S::Ok, S::Error> {
    match serde_json::value::RawValue::from_string(number.to_owned()) {
        Ok(raw) if looks_numeric(number) => raw.serialize(serializer),
        _ => serializer.serialize_str(number),
    }
}

/// Guards against a JSON string or object posing as a number: valid JSON of number characters only.
fn looks_numeric(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|byte| byte.is_ascii_digit() || matches!(byte, b'-' | b'+' | b'.' | b'e' | b'E'))
}

/// A string attribute of an item read from the table, or "".
pub fn text(item: &HashMap<String, AttributeValue>, name: &str) -> String {
    match item.get(name) {
        Some(AttributeValue::S(text)) | Some(AttributeValue::N(text)) => text.clone(),
        Some(AttributeValue::Bool(flag)) => flag.to_string(),
        Some(AttributeValue::L(values)) => values
            .iter()
            .filter_map(|value| value.as_s().ok().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" "),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows() -> Vec<Vec<String>> {
        vec![
            vec![
                "2023-05-01T10:00:00Z".into(),
                "CreateRoom".into(),
                "alice".into(),
            ],
            vec!["2023-05-01T11:00:00Z".into(), "X".into(), "b".into()],
        ]
    }

    #[test]
    fn table_columns_are_aligned_under_their_headers() {
        let mut out = Vec::new();
        write_table(&mut out, &["time", "event", "user"], &rows()).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "TIME                  EVENT       USER\n\
             2023-05-01T10:00:00Z  CreateRoom  alice\n\
             2023-05-01T11:00:00Z  X           b\n"
        );
    }

    #[test]
    fn table_lines_have_no_trailing_blanks() {
        let mut out = Vec::new();
        let rows = vec![vec!["a".into(), "".into()], vec!["bb".into(), "x".into()]];
        write_table(&mut out, &["k", "error"], &rows).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "K   ERROR\na\nbb  x\n");
    }

    #[test]
    fn table_cells_stay_on_one_line() {
        let mut out = Vec::new();
        write_table(&mut out, &["error"], &[vec!["line 1\nline 2".into()]]).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "ERROR\nline 1 line 2\n");
    }

    #[test]
    fn csv_quotes_fields_that_need_it() {
        let mut out = Vec::new();
        let rows = vec![vec!["a,b".into(), "say \"hi\"".into(), "plain".into()]];
        write_csv(&mut out, &["x", "y", "z"], &rows).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "x,y,z\n\"a,b\",\"say \"\"hi\"\"\",plain\n"
        );
    }

    #[test]
    fn item_json_puts_the_key_first_and_keeps_number_digits() {
        let item = HashMap::from([
            ("sk".to_owned(), AttributeValue::S("t#e".into())),
            ("zeta".to_owned(), AttributeValue::Bool(true)),
            ("pk".to_owned(), AttributeValue::S("USER#u".into())),
            (
                "expires_at".to_owned(),
                AttributeValue::N("12345678901234567890".into()),
            ),
            (
                "room_arns".to_owned(),
                AttributeValue::L(vec![AttributeValue::S("r".into())]),
            ),
        ]);
        let mut out = Vec::new();
        write_item_json(&mut out, &item).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"pk\":\"USER#u\",\"sk\":\"t#e\",\"expires_at\":12345678901234567890,\"room_arns\":[\"r\"],\"zeta\":true}\n"
        );
    }
}
