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
        Ok(Columns { file, names })
    }

    pub(crate) fn width(&self) -> usize {
        self.names.len()
    }

    /// The column named `name` (ignoring case); a name the header carries twice cannot be
    /// mapped and refuses the file.
    pub(crate) fn find(&self, name: &'static str) -> Result<Option<usize>, ImportError> {
        let mut at = self
            .names
            .iter()
            .enumerate()
            .filter(|(_, n)| n.eq_ignore_ascii_case(name))
            .map(|(i, _)| i);
        let first = at.next();
        if let (Some(a), Some(b)) = (first, at.next()) {
            return Err(ImportError::Structure {
                file: self.file,
                line: 1,
                message: format!(
                    "column {name} appears twice in the header (columns {} and {}); \
                     the station cannot tell which to read",
                    a + 1,
                    b + 1
                ),
            });
        }
        Ok(first)
    }

    pub(crate) fn require(&self, name: &'static str) -> Result<usize, ImportError> {
        self.find(name)?.ok_or(ImportError::MissingColumn {
            file: self.file,
            column: name,
        })
    }

    pub(crate) fn name(&self, idx: usize) -> &str {
        self.names.get(idx).map(String::as_str).unwrap_or("?")
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

/// Parse a time `h:mm`, `hh:mm:ss`, with optional fraction (`.000`), `Z`, or ` AM`/` PM`
/// (as spreadsheets save it) into hours, minutes, seconds.
fn parse_time(t: &[u8]) -> Option<Hms> {
    let mut t = t.trim_ascii();
    let mut pm = None;
    if t.len() >= 2 {
        let suffix = t[t.len() - 2..].to_ascii_uppercase();
        if suffix == b"AM" || suffix == b"PM" {
            pm = Some(suffix == b"PM");
            t = t[..t.len() - 2].trim_ascii();
        }
    }
    if let Some(rest) = t.strip_suffix(b"Z") {
        t = rest;
    }
    if let Some(dot) = t.iter().position(|&c| c == b'.') {
        if !t[dot + 1..].iter().all(u8::is_ascii_digit) {
            return None;
        }
        t = &t[..dot];
    }
    let mut parts = t.split(|&c| c == b':');
    let mut next = |required: bool| -> Option<Option<u32>> {
        match parts.next() {
            Some(p) if (1..=2).contains(&p.len()) => num(p).map(Some),
            Some(_) => None,
            None if required => None,
            None => Some(None),
        }
    };
    let h = next(true)??;
    let m = next(true)??;
    let s = next(false)?.unwrap_or(0);
    if parts.next().is_some() || m > 59 || s > 60 {
        return None;
    }
    let h = match pm {
        None if h < 24 => h,
        Some(pm) if (1..=12).contains(&h) => (h % 12) + if pm { 12 } else { 0 },
        _ => return None,
    };
    Some((h, m, s))
}

/// Hours, minutes, seconds.
type Hms = (u32, u32, u32);

/// Split a value into its date part and optional time (` hh:mm:ss` or `Thh:mm:ss`).
fn split_time(b: &[u8]) -> Option<(&[u8], Option<Hms>)> {
    match b.iter().position(|&c| c == b' ' || c == b'T') {
        None => Some((b, None)),
        Some(i) => Some((&b[..i], Some(parse_time(&b[i + 1..])?))),
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
    if let Some((h, m, s)) = time {
        out.push_str(&format!(" {h:02}:{m:02}:{s:02}"));
    }
    Some(out)
}

/// The day of a DateUpdated. Besides every form [`parse_date`] takes (`yyyy-mm-dd hh:mm:ss`, a
/// date alone, `mm-dd-yyyy`, `m/d/yyyy`), two-digit years as real exports write them. They are
/// ambiguous, so: with dashes, whichever of day-first and month-first is a date (the EVA demo
/// writes `13-06-19`, greenriver's loader fixture `04-28-19`); when both are (`03-11-21`), **day
/// first**, as EVA writes every row. With slashes (`6/13/19`, a US spreadsheet) month first.
/// `yy` is 20yy: DateUpdated is a record-keeping stamp of this century. A wrong guess can only
/// change which of two copies of a record counts as newer.
pub(crate) fn date_updated(b: &[u8]) -> Option<NaiveDate> {
    if let Some(d) = parse_date(b) {
        return Some(d);
    }
    let (d, _) = split_time(b)?;
    let sep = if d.contains(&b'/') { b'/' } else { b'-' };
    let mut it = d.split(|&c| c == sep);
    let (a, m, y) = (it.next()?, it.next()?, it.next()?);
    let short = |p: &[u8]| !p.is_empty() && p.len() <= 2;
    if it.next().is_some() || y.len() != 2 || !short(a) || !short(m) {
        return None;
    }
    let (a, m, y) = (num(a)?, num(m)?, 2000 + num(y)? as i32);
    let day_first = NaiveDate::from_ymd_opt(y, m, a);
    let month_first = NaiveDate::from_ymd_opt(y, a, m);
    if sep == b'-' {
        day_first.or(month_first)
    } else {
        month_first
    }
}

pub(crate) const DATE_UPDATED_EXPECTED: &str =
    "a DateUpdated yyyy-mm-dd hh:mm:ss (or a date, mm-dd-yyyy, dd-mm-yy)";

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

/// A value that is a hex digest (MD5, SHA-1, SHA-256: 32 or more hex digits and nothing else),
/// as hashed exports put where names are.
pub(crate) fn looks_like_hash(b: &[u8]) -> bool {
    b.len() >= 32 && b.iter().all(u8::is_ascii_hexdigit)
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
        // Fractions, Z, and AM/PM as spreadsheets save them.
        assert_eq!(
            datetime_text(b"2024-05-01T06:30:00.123Z").as_deref(),
            Some("2024-05-01 06:30:00")
        );
        assert_eq!(
            datetime_text(b"5/1/2024 6:30 PM").as_deref(),
            Some("2024-05-01 18:30:00")
        );
        assert_eq!(
            datetime_text(b"5/1/2024 12:05:00 am").as_deref(),
            Some("2024-05-01 00:05:00")
        );
        assert_eq!(d("5/1/2024 13:00 PM"), None);
        assert_eq!(d("2024-05-01 6:3x"), None);
        assert_eq!(d("2024-05-01 06:30:00.x"), None);
    }

    #[test]
    fn date_updated_forms_seen_in_real_files() {
        let d = |s: &str| date_updated(s.as_bytes()).map(|d| d.to_string());
        assert_eq!(d("2021-02-12 10:07:10").as_deref(), Some("2021-02-12"));
        assert_eq!(d("2021-05-03").as_deref(), Some("2021-05-03"));
        // eva: dd-mm-yy, quoted in the file (the csv reader removes the quotes).
        assert_eq!(d("13-06-19").as_deref(), Some("2019-06-13"));
        assert_eq!(d("03-11-21").as_deref(), Some("2021-11-03"));
        assert_eq!(d("6/13/19").as_deref(), Some("2019-06-13"));
        assert_eq!(d("02-07-2023 12:00:00").as_deref(), Some("2023-02-07"));
        assert_eq!(d("04-28-19 05:17:00").as_deref(), Some("2019-04-28"));
        assert_eq!(d("4/28/19 05:17:00").as_deref(), Some("2019-04-28"));
        assert_eq!(d("31-02-19"), None);
        assert_eq!(d("13-13-19"), None);
        assert_eq!(d("2019"), None);
        assert_eq!(d(""), None);
    }

    #[test]
    fn hashes_are_recognised() {
        assert!(looks_like_hash(b"2cb30d5ef678412db20875ccf25c63ff"));
        assert!(looks_like_hash(
            b"E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"
        ));
        assert!(!looks_like_hash(b"Herringbone"));
        assert!(
            !looks_like_hash(b"2cb30d5ef678412db20875ccf25c63f"),
            "31 digits"
        );
        assert!(!looks_like_hash(b""));
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
