//! Printing rows: an aligned table for a terminal, CSV, or JSON lines of whole items (see
//! [`super::item_json`]).
//!
//! A table on a terminal fits its width: the widest columns (room ARNs are 105 characters) lose the
//! middle of their long values, shown as `…`. Piped or redirected, a table keeps every value whole
//! (for `grep`, `cut`); CSV and JSON never shorten anything.

use std::collections::HashMap;
use std::io::{self, IsTerminal, Write};

use aws_sdk_dynamodb::types::AttributeValue;

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

/// Blanks between two columns.
const COLUMN_GAP: usize = 2;

/// No column is narrowed below this: the start and the end of an ARN stay recognisable.
const MIN_COLUMN_WIDTH: usize = 20;

/// When stdout is a terminal whose width cannot be read (nor `COLUMNS`).
const DEFAULT_TERMINAL_WIDTH: usize = 80;

/// Writes `rows` under `headers` in aligned columns, fitted to the terminal when stdout is one
/// (see [`stdout_table_width`]).
pub fn write_table(out: &mut impl Write, headers: &[&str], rows: &[Vec<String>]) -> io::Result<()> {
    write_table_within(out, headers, rows, stdout_table_width())
}

/// The width a table on stdout must fit: the terminal's (`COLUMNS` when set, else asked of the
/// terminal), or `None` when stdout is not a terminal: piped, a table keeps its values whole.
pub fn stdout_table_width() -> Option<usize> {
    let stdout = io::stdout();
    if !stdout.is_terminal() {
        return None;
    }
    let columns = std::env::var("COLUMNS")
        .ok()
        .and_then(|text| text.parse::<usize>().ok())
        .filter(|&width| width > 0);
    columns
        .or_else(|| terminal_size::terminal_size_of(&stdout).map(|(width, _)| usize::from(width.0)))
        .or(Some(DEFAULT_TERMINAL_WIDTH))
}

/// Writes `rows` under `headers` in aligned columns, lines at most `max_width` characters long
/// when it is given: the widest columns are narrowed, and their longer values lose their middle.
pub fn write_table_within(
    out: &mut impl Write,
    headers: &[&str],
    rows: &[Vec<String>],
    max_width: Option<usize>,
) -> io::Result<()> {
    let header_cells: Vec<String> = headers.iter().map(|header| header.to_uppercase()).collect();
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|row| row.iter().map(|cell| one_line(cell)).collect())
        .collect();
    let mut widths: Vec<usize> = header_cells
        .iter()
        .map(|header| header.chars().count())
        .collect();
    for row in &cells {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    if let Some(max_width) = max_width {
        widths = fit_widths(&widths, max_width);
    }
    write_aligned(out, &header_cells, &widths)?;
    for row in &cells {
        write_aligned(out, row, &widths)?;
    }
    Ok(())
}

/// Column widths whose line fits `max_width`: every column wider than a common cap is narrowed to
/// it, the cap as high as fits, never below [`MIN_COLUMN_WIDTH`] (on a terminal narrower than
/// that, lines stay wider than the terminal).
fn fit_widths(widths: &[usize], max_width: usize) -> Vec<usize> {
    let gaps = COLUMN_GAP * widths.len().saturating_sub(1);
    let line = |cap: usize| widths.iter().map(|&width| width.min(cap)).sum::<usize>() + gaps;
    let mut cap = widths.iter().copied().max().unwrap_or(0);
    while cap > MIN_COLUMN_WIDTH && line(cap) > max_width {
        cap -= 1;
    }
    widths.iter().map(|&width| width.min(cap)).collect()
}

/// `text` in at most `width` characters: a longer one keeps its start and its end around a `…`.
fn shorten_middle(text: &str, width: usize) -> String {
    let length = text.chars().count();
    if length <= width {
        return text.to_owned();
    }
    let kept = width.saturating_sub(1);
    let tail = kept / 2;
    let head = kept - tail;
    let mut shortened: String = text.chars().take(head).collect();
    shortened.push('…');
    shortened.extend(text.chars().skip(length - tail));
    shortened
}

fn write_aligned(out: &mut impl Write, cells: &[String], widths: &[usize]) -> io::Result<()> {
    let mut line = String::new();
    for (cell, &width) in cells.iter().zip(widths) {
        let cell = shorten_middle(cell, width);
        let padding = width.saturating_sub(cell.chars().count());
        line.push_str(&cell);
        line.extend(std::iter::repeat_n(' ', padding + COLUMN_GAP));
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

    const ROOM: &str = "arn:aws:a4b:us-east-1:123456789012:room/8eed09c4eae340d2ba08b8c6c3e40970/66afda686e75c5b62fceaf60ac00e7a6";
    const SHORT_ROOM: &str = "arn:aws:a4b:us-east-1:123456789012:room/short";

    fn room_rows() -> Vec<Vec<String>> {
        vec![
            vec![ROOM.into(), "12".into(), "2023-05-02T10:00:00Z".into()],
            vec![SHORT_ROOM.into(), "3".into(), "2023-05-01T09:00:00Z".into()],
        ]
    }

    fn table(rows: &[Vec<String>], max_width: Option<usize>) -> String {
        let mut out = Vec::new();
        write_table_within(
            &mut out,
            &["room", "events", "last activity"],
            rows,
            max_width,
        )
        .unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_table_fits_the_width_by_shortening_the_middle_of_long_values() {
        let printed = table(&room_rows(), Some(80));
        // The room column gets what the others leave: 80 - 6 - 20 - 2 gaps of 2 = 50.
        let expected = [
            format!("{:<52}{:<8}{}", "ROOM", "EVENTS", "LAST ACTIVITY"),
            format!(
                "{:<52}{:<8}{}",
                "arn:aws:a4b:us-east-1:123…6e75c5b62fceaf60ac00e7a6", "12", "2023-05-02T10:00:00Z"
            ),
            format!("{SHORT_ROOM:<52}{:<8}{}", "3", "2023-05-01T09:00:00Z"),
        ];
        assert_eq!(printed.lines().collect::<Vec<_>>(), expected);
        assert!(printed.lines().all(|line| line.chars().count() <= 80));
    }

    #[test]
    fn a_table_that_fits_or_has_no_width_keeps_every_value_whole() {
        let whole = table(&room_rows(), None);
        assert!(whole.contains(ROOM), "{whole}");
        assert_eq!(table(&room_rows(), Some(200)), whole);
    }

    #[test]
    fn no_column_is_narrowed_below_the_minimum() {
        assert_eq!(fit_widths(&[105, 6, 20], 10), [20, 6, 20]);
        let printed = table(&room_rows(), Some(10));
        let first_row = printed.lines().nth(1).unwrap();
        assert!(
            first_row.starts_with("arn:aws:a4…0ac00e7a6  12"),
            "{printed}"
        );
    }

    #[test]
    fn shortening_keeps_the_start_and_the_end() {
        assert_eq!(shorten_middle("abcdefghij", 5), "ab…ij");
        assert_eq!(shorten_middle("abcdefghij", 6), "abc…ij");
        assert_eq!(shorten_middle("abcdefghij", 10), "abcdefghij");
        assert_eq!(shorten_middle("ééééé", 3), "é…é");
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
}
