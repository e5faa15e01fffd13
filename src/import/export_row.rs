//! `Export.csv`: which export this is. Real exports may carry several rows (the LSA sample has
//! ten, one per run of the exporting tool, while every other file carries only the last run's
//! ExportID); the row used is the one whose ExportID the other files carry.

use std::io::Read;

use csv::ByteRecord;

use super::csvio::{csv_reader, header, next_row, Row};
use super::fields::{self, int, raw, text};
use super::source::Source;
use super::{ImportError, DATA_FILES, EXPORT};

/// One row of Export.csv.
#[derive(Debug, Clone)]
pub(crate) struct ExportRow {
    pub(crate) line: u64,
    pub(crate) export_id: String,
    /// `yyyy-mm-dd hh:mm:ss` (or `yyyy-mm-dd`).
    pub(crate) export_date: String,
    pub(crate) directive: u8,
    pub(crate) csv_version: String,
    pub(crate) hash_status: Option<i64>,
    /// ExportStartDate and ExportEndDate as yyyy-mm-dd, when readable.
    pub(crate) start: Option<String>,
    pub(crate) end: Option<String>,
}

/// How the other files' ExportID is checked against the row used.
#[derive(Debug, Clone)]
pub(crate) enum IdCheck {
    /// Export.csv had one row: a file carrying another ExportID is loaded with a warning (some
    /// vendors' and test exports are assembled from several runs; with one row there is no
    /// doubt about the directive).
    Warn { export_id: String },
    /// Export.csv had several rows and the row was chosen by what `file:line` carries: a file
    /// carrying another one refuses the import (which of the rows would describe it?).
    Strict {
        export_id: String,
        file: &'static str,
        line: u64,
    },
}

impl IdCheck {
    pub(crate) fn export_id(&self) -> &str {
        match self {
            IdCheck::Warn { export_id } | IdCheck::Strict { export_id, .. } => export_id,
        }
    }
}

fn read_rows(r: &mut dyn Read) -> Result<Vec<ExportRow>, ImportError> {
    let mut rdr = csv_reader(r);
    let Some(cols) = header(EXPORT, &mut rdr)? else {
        return Err(ImportError::Structure {
            file: EXPORT,
            line: 1,
            message: "empty file: expected a header and an export row".to_string(),
        });
    };
    let c_id = cols.require("ExportID")?;
    let c_date = cols.require("ExportDate")?;
    let c_dir = cols.require("ExportDirective")?;
    let c_version = cols.find("CSVVersion")?;
    let c_hash = cols.find("HashStatus")?;
    let c_start = cols.find("ExportStartDate")?;
    let c_end = cols.find("ExportEndDate")?;
    let mut rec = ByteRecord::new();
    let mut rows = Vec::new();
    while let Some(row) = next_row(&mut rdr, &cols, &mut rec)? {
        let line = match row {
            Row::Fields(line) => line,
            Row::WrongWidth(line) => {
                return Err(ImportError::Structure {
                    file: EXPORT,
                    line,
                    message: format!(
                        "expected {} fields as in the header, found {}",
                        cols.width(),
                        rec.len()
                    ),
                })
            }
        };
        let export_id = text(&cols, &rec, Some(c_id), line)?.to_string();
        if export_id.is_empty() {
            return Err(cols.bad_value(line, c_id, "an ExportID", b"", false));
        }
        let d = raw(&rec, Some(c_date));
        let export_date = fields::datetime_text(d).ok_or_else(|| {
            cols.bad_value(
                line,
                c_date,
                "a date yyyy-mm-dd hh:mm:ss or mm-dd-yyyy hh:mm:ss",
                d,
                false,
            )
        })?;
        let dir_raw = raw(&rec, Some(c_dir));
        let directive = match int(dir_raw) {
            Ok(Some(d @ 1..=3)) => d as u8,
            _ => {
                return Err(cols.bad_value(
                    line,
                    c_dir,
                    "ExportDirective 1 (delta), 2 (full refresh) or 3 (other)",
                    dir_raw,
                    false,
                ))
            }
        };
        let hash_raw = raw(&rec, c_hash);
        let hash_status = match int(hash_raw) {
            Ok(h) => h,
            Err(()) => {
                return Err(cols.bad_value(
                    line,
                    c_hash.unwrap_or(0),
                    "HashStatus 1 (unhashed), 2, 3 or 4 (hashed)",
                    hash_raw,
                    false,
                ))
            }
        };
        let day = |c: Option<usize>| fields::date_text(raw(&rec, c)).map(|d| d.into_owned());
        rows.push(ExportRow {
            line,
            export_date,
            directive,
            csv_version: text(&cols, &rec, c_version, line)?.to_string(),
            hash_status,
            start: day(c_start),
            end: day(c_end),
            export_id,
        });
    }
    if rows.is_empty() {
        return Err(ImportError::Structure {
            file: EXPORT,
            line: 2,
            message: "expected an export row, found none".to_string(),
        });
    }
    Ok(rows)
}

/// The first ExportID a data file carries, with where.
fn first_carried(src: &mut Source) -> Result<Option<(String, &'static str, u64)>, ImportError> {
    for file in DATA_FILES {
        let found = src.with_reader(file, |r| {
            let mut rdr = csv_reader(r);
            let Some(cols) = header(file, &mut rdr)? else {
                return Ok(None);
            };
            let Some(c) = cols.find("ExportID")? else {
                return Ok(None);
            };
            let mut rec = ByteRecord::new();
            while let Some(row) = next_row(&mut rdr, &cols, &mut rec)? {
                let Row::Fields(line) = row else { continue };
                let id = text(&cols, &rec, Some(c), line)?;
                if !id.is_empty() {
                    return Ok(Some((id.to_string(), line)));
                }
            }
            Ok(None)
        })?;
        if let Some(Some((id, line))) = found {
            return Ok(Some((id, file, line)));
        }
    }
    Ok(None)
}

/// Read Export.csv and choose the row this import is.
pub(crate) fn choose(
    src: &mut Source,
    path: &str,
) -> Result<(ExportRow, IdCheck, usize), ImportError> {
    let rows = src
        .with_reader(EXPORT, read_rows)?
        .ok_or_else(|| ImportError::MissingFile {
            file: EXPORT,
            path: path.to_string(),
            why: "it says which export this is",
        })?;
    if rows.len() == 1 {
        let row = rows.into_iter().next().expect("one row");
        let check = IdCheck::Warn {
            export_id: row.export_id.clone(),
        };
        return Ok((row, check, 1));
    }
    let Some((id, file, line)) = first_carried(src)? else {
        return Err(ImportError::Structure {
            file: EXPORT,
            line: rows[1].line,
            message: format!(
                "{} export rows, and no other file carries an ExportID to choose one by",
                rows.len()
            ),
        });
    };
    let Some(row) = rows.iter().find(|r| r.export_id == id) else {
        return Err(ImportError::Structure {
            file: EXPORT,
            line: 2,
            message: format!(
                "{} export rows, none with ExportID {id:?}, which {file}:{line} carries",
                rows.len()
            ),
        });
    };
    Ok((
        row.clone(),
        IdCheck::Strict {
            export_id: id,
            file,
            line,
        },
        rows.len(),
    ))
}
