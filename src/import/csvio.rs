//! Reading one CSV file row by row: a reused [`ByteRecord`], line numbers as a person counts
//! them (also in CRLF files), the header mapped by name.

use std::io::Read;

use csv::ByteRecord;

use super::fields::Columns;
use super::ImportError;

pub(crate) type Rdr<'r> = csv::Reader<Sniff<&'r mut dyn Read>>;

pub(crate) fn csv_reader(r: &mut dyn Read) -> Rdr<'_> {
    csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .buffer_capacity(64 * 1024)
        .from_reader(Sniff {
            inner: r,
            crlf: None,
        })
}

/// Notes whether the file's first line ends with CRLF. The csv crate reports a record's line
/// one too low in CRLF files (the `\n` of the previous terminator is counted late), so line
/// numbers in messages are corrected with this.
pub(crate) struct Sniff<R> {
    inner: R,
    crlf: Option<bool>,
}

impl<R: Read> Read for Sniff<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if self.crlf.is_none() {
            if let Some(i) = buf[..n].iter().position(|&b| b == b'\n') {
                self.crlf = Some(i > 0 && buf[i - 1] == b'\r');
            }
        }
        Ok(n)
    }
}

fn csv_err(file: &'static str, e: csv::Error, crlf: bool) -> ImportError {
    let message = match e.kind() {
        csv::ErrorKind::Io(e) => format!("unreadable CSV: {e}"),
        _ => format!("unreadable CSV: {e}"),
    };
    match e.position() {
        Some(p) => ImportError::Structure {
            file,
            line: p.line() + u64::from(crlf && p.line() > 1),
            message,
        },
        None => ImportError::Csv { file, message },
    }
}

/// The header of `file`; `None` when the file is completely empty (no header, no rows), which
/// the station takes as a file with no rows.
pub(crate) fn header(
    file: &'static str,
    rdr: &mut Rdr<'_>,
) -> Result<Option<Columns>, ImportError> {
    let h = rdr
        .byte_headers()
        .map_err(|e| csv_err(file, e, false))?
        .clone();
    if h.is_empty() || (h.len() == 1 && h.get(0).is_some_and(|f| f.trim_ascii().is_empty())) {
        return Ok(None);
    }
    Columns::new(file, &h).map(Some)
}

/// One data row: its line, or that it has the wrong number of fields.
pub(crate) enum Row {
    Fields(u64),
    WrongWidth(u64),
}

/// Read the next row; `Ok(None)` at the end.
pub(crate) fn next_row(
    rdr: &mut Rdr<'_>,
    cols: &Columns,
    rec: &mut ByteRecord,
) -> Result<Option<Row>, ImportError> {
    let read = rdr.read_byte_record(rec);
    let crlf = rdr.get_ref().crlf == Some(true);
    if !read.map_err(|e| csv_err(cols.file, e, crlf))? {
        return Ok(None);
    }
    let mut line = rec.position().map(|p| p.line()).unwrap_or(0);
    if crlf {
        line += 1;
    }
    Ok(Some(if rec.len() == cols.width() {
        Row::Fields(line)
    } else {
        Row::WrongWidth(line)
    }))
}
