//! Header mapping and field parsing for HUD CSV files: columns by name (case-insensitive, BOM
//! stripped), strict UTF-8 for IDs, the date formats HMIS exports use.

use std::borrow::Cow;

use chrono::NaiveDate;
use csv::ByteRecord;

use super::ImportError;

/// Column indexes of one file, looked up by header name.
pub(crate) struct Columns {
    pub(crate) file: &'static str,
    names: Vec<String>,
    width: usize,
}

impl Columns {
    pub(crate) fn new(file: &'static str, header: &ByteRecord) -> Result<Columns, ImportError> {
        let mut names = Vec::with_capacity(header.len());
        for (i, raw) in header.iter().enumerate() {
            let raw = if i == 0 {
                raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw)
            } else {
                raw
            };
            let name = std::str::from_utf8(raw).map_err(|_| ImportError::Structure {
                file,
                line: 1,
                message: format!("header column {} is not UTF-8 text", i + 1),
            })?;
            names.push(name.trim().trim_start_matches('\u{feff}').to_string());
        }
        Ok(Columns {
            file,
            width: names.len(),
            names,
        })
    }

    pub(crate) fn find(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n.eq_ignore_ascii_case(name))
    }

    pub(crate) fn require(&self, name: &'static str) -> Result<usize, ImportError> {
        self.find(name).ok_or(ImportError::MissingColumn {
            file: self.file,
            column: name,
        })
    }

    pub(crate) fn name(&self, idx: usize) -> &str {
        self.names.get(idx).map(String::as_str).unwrap_or("?")
    }

    /// A row must have as many fields as the header.
    pub(crate) fn check_width(&self, rec: &ByteRecord, line: u64) -> Result<(), ImportError> {
        if rec.len() != self.width {
            return Err(ImportError::Structure {
                file: self.file,
                line,
                message: format!(
                    "expected {} fields as in the header, found {}",
                    self.width,
                    rec.len()
                ),
            });
        }
        Ok(())
    }

    pub(crate) fn bad_value(
        &self,
        line: u64,
        idx: usize,
        expected: &'static str,
        found: &[u8],
        private: bool,
    ) -> ImportError {
        ImportError::Value {
            file: self.file,
            line,
            column: idx + 1,
            name: self.name(idx).to_string(),
            expected,
            found: if private {
                None
            } else {
                Some(String::from_utf8_lossy(found).into_owned())
            },
        }
    }
}

/// The trimmed raw bytes of a field (empty when the column is absent).
pub(crate) fn raw(rec: &ByteRecord, idx: Option<usize>) -> &[u8] {
    match idx.and_then(|i| rec.get(i)) {
        Some(b) => b.trim_ascii(),
        None => b"",
    }
}

/// A field as UTF-8 text; not UTF-8 refuses the file (IDs must be exact).
pub(crate) fn text<'r>(
    cols: &Columns,
    rec: &'r ByteRecord,
    idx: Option<usize>,
    line: u64,
) -> Result<&'r str, ImportError> {
    let b = raw(rec, idx);
    std::str::from_utf8(b).map_err(|_| {
        cols.bad_value(
            line,
            idx.unwrap_or(0),
            "UTF-8 text (export the CSV as UTF-8)",
            b,
            true,
        )
    })
}

pub(crate) const DATE_EXPECTED: &str = "a date yyyy-mm-dd or mm-dd-yyyy";

fn num(b: &[u8]) -> Option<u32> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v: u32 = 0;
    for &c in b {
        v = v.checked_mul(10)?.checked_add(u32::from(c - b'0'))?;
    }
    Some(v)
}

/// Split a value into its date part and optional time part (` hh:mm[:ss]` or `Thh:mm[:ss]`).
fn split_time(b: &[u8]) -> Option<(&[u8], Option<&[u8]>)> {
    match b.iter().position(|&c| c == b' ' || c == b'T') {
        None => Some((b, None)),
        Some(i) => {
            let t = b[i + 1..].trim_ascii();
            let parts: Vec<&[u8]> = t.split(|&c| c == b':').collect();
            let ok = (parts.len() == 2 || parts.len() == 3)
                && parts
                    .iter()
                    .all(|p| (1..=2).contains(&p.len()) && num(p).is_some())
                && num(parts[0]).is_some_and(|h| h < 24)
                && num(parts[1]).is_some_and(|m| m < 60)
                && parts.get(2).is_none_or(|s| num(s).is_some_and(|s| s < 61));
            ok.then_some((&b[..i], Some(t)))
        }
    }
}

/// Parse `yyyy-mm-dd`, `mm-dd-yyyy` (also with `/`), optionally followed by a time.
pub(crate) fn parse_date(b: &[u8]) -> Option<NaiveDate> {
    let (d, _) = split_time(b)?;
    let sep = if d.contains(&b'/') { b'/' } else { b'-' };
    let mut it = d.split(|&c| c == sep);
    let (a, m, c) = (it.next()?, it.next()?, it.next()?);
    if it.next().is_some() || m.is_empty() || m.len() > 2 {
        return None;
    }
    let (y, mo, da) = if a.len() == 4 && (1..=2).contains(&c.len()) {
        (num(a)?, num(m)?, num(c)?)
    } else if c.len() == 4 && (1..=2).contains(&a.len()) {
        (num(c)?, num(a)?, num(m)?)
    } else {
        return None;
    };
    NaiveDate::from_ymd_opt(y as i32, mo, da)
}

/// A date as `yyyy-mm-dd` text; borrowed when the input already is exactly that.
pub(crate) fn date_text(b: &[u8]) -> Option<Cow<'_, str>> {
    let date = parse_date(b)?;
    if b.len() == 10 && b[4] == b'-' {
        // Already yyyy-mm-dd and valid (parse_date checked it).
        return std::str::from_utf8(b).ok().map(Cow::Borrowed);
    }
    Some(Cow::Owned(date.format("%Y-%m-%d").to_string()))
}

/// A datetime as `yyyy-mm-dd hh:mm:ss` (or just the date when no time is given).
pub(crate) fn datetime_text(b: &[u8]) -> Option<String> {
    let date = parse_date(b)?;
    let (_, time) = split_time(b)?;
    let mut out = date.format("%Y-%m-%d").to_string();
    if let Some(t) = time {
        let parts: Vec<u32> = t
            .split(|&c| c == b':')
            .map(|p| num(p).unwrap_or(0))
            .collect();
        out.push_str(&format!(
            " {:02}:{:02}:{:02}",
            parts.first().copied().unwrap_or(0),
            parts.get(1).copied().unwrap_or(0),
            parts.get(2).copied().unwrap_or(0)
        ));
    }
    Some(out)
}

/// An integer code; `Err(())` when present but not a number.
pub(crate) fn int(b: &[u8]) -> Result<Option<i64>, ()> {
    if b.is_empty() {
        return Ok(None);
    }
    std::str::from_utf8(b)
        .ok()
        .and_then(|s| s.parse::<i64>().ok())
        .map(Some)
        .ok_or(())
}

/// Upper-cased first letter of a last name ("" when it has none).
pub(crate) fn last_initial(last: &str) -> String {
    last.chars()
        .find(|c| c.is_alphabetic())
        .map(|c| c.to_uppercase().collect())
        .unwrap_or_default()
}

/// Lower-cased first three letters of a last name, skipping anything that is not a letter
/// ("O'Brien" gives "obr", "De la Cruz" gives "del").
pub(crate) fn last_name_key(last: &str) -> String {
    last.chars()
        .filter(|c| c.is_alphabetic())
        .flat_map(char::to_lowercase)
        .take(3)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Option<String> {
        date_text(s.as_bytes()).map(|c| c.into_owned())
    }

    #[test]
    fn dates_in_both_orders_with_and_without_time() {
        assert_eq!(d("2024-02-29").as_deref(), Some("2024-02-29"));
        assert_eq!(d("02-07-2023").as_deref(), Some("2023-02-07"));
        assert_eq!(d("2/7/2023").as_deref(), Some("2023-02-07"));
        assert_eq!(d("2023-02-07 12:00:00").as_deref(), Some("2023-02-07"));
        assert_eq!(d("02-07-2023 12:00:00").as_deref(), Some("2023-02-07"));
        assert_eq!(d("2023-02-07T08:30").as_deref(), Some("2023-02-07"));
        assert_eq!(d("2024-13-01"), None);
        assert_eq!(d("2023-02-29"), None);
        assert_eq!(d("20230207"), None);
        assert_eq!(d("2023-02-07 25:00:00"), None);
        assert_eq!(d("yesterday"), None);
        assert_eq!(d(""), None);
        assert_eq!(
            datetime_text(b"02-07-2023 12:00:00").as_deref(),
            Some("2023-02-07 12:00:00")
        );
        assert_eq!(datetime_text(b"2017-10-03").as_deref(), Some("2017-10-03"));
    }

    #[test]
    fn last_name_parts() {
        assert_eq!(last_initial("o'brien"), "O");
        assert_eq!(last_name_key("O'Brien"), "obr");
        assert_eq!(last_name_key("De la Cruz"), "del");
        assert_eq!(last_name_key("Núñez"), "núñ");
        assert_eq!(last_name_key("Li"), "li");
        assert_eq!(last_initial(""), "");
        assert_eq!(last_name_key(""), "");
    }

    #[test]
    fn integers() {
        assert_eq!(int(b""), Ok(None));
        assert_eq!(int(b"13"), Ok(Some(13)));
        assert_eq!(int(b"x"), Err(()));
    }
}
