//! ClientTrack's batch-upload CSV (`export::write_clienttrack_csv`) fed fuzzed posted services.
//! Property: what is written parses back (as ClientTrack's CSV reader would: the csv crate) to
//! the same services: code, client, enrollment, date (m/d/yyyy), unit letter, units, value, user.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scanstation::export::{clienttrack_date, write_clienttrack_csv, CLIENTTRACK_COLUMNS};
use scanstation_fuzz::FuzzService;

fuzz_target!(|input: Vec<FuzzService>| {
    let settings = scanstation_fuzz::export_settings();
    let services: Vec<_> = input.iter().map(|s| s.posted("P1")).collect();
    let mut out = Vec::new();
    if write_clienttrack_csv(&mut out, settings, &services).is_err() {
        // Refused (a service without an enrollment): nothing usable may have been promised.
        assert!(services.iter().any(|s| s.enrollment_id.trim().is_empty()));
        return;
    }
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(&out[..]);
    let header = rdr.headers().expect("a header").clone();
    assert_eq!(
        header.iter().collect::<Vec<_>>(),
        CLIENTTRACK_COLUMNS.to_vec()
    );
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.expect("a row")).collect();
    assert_eq!(rows.len(), services.len(), "one line per service");
    for (row, s) in rows.iter().zip(&services) {
        assert_eq!(row.len(), CLIENTTRACK_COLUMNS.len());
        assert_eq!(&row[0], s.service_code);
        assert_eq!(&row[1], s.personal_id);
        assert_eq!(&row[2], s.enrollment_id);
        let date = chrono::NaiveDate::parse_from_str(&s.date_provided, "%Y-%m-%d").unwrap();
        assert_eq!(&row[4], clienttrack_date(date));
        let back = chrono::NaiveDate::parse_from_str(&row[4], "%m/%d/%Y").expect("m/d/yyyy");
        assert_eq!(back, date);
        let letter = match s.unit.as_str() {
            "count" => "C",
            "dollars" => "D",
            "minutes" => "M",
            _ => "H",
        };
        assert_eq!(&row[6], letter);
        let units: f64 = row[7].parse().expect("units are a number");
        assert_eq!(
            units, s.units,
            "units {:?} written as {:?}",
            s.units, &row[7]
        );
        let value = if s.unit == "dollars" {
            s.unit_value.as_str()
        } else {
            "0"
        };
        assert_eq!(&row[8], value);
        assert_eq!(&row[9], s.posted_by_user_id.as_deref().unwrap_or(""));
    }
});
