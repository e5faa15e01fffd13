//! The HUD CSV export zip (`export::write_hud_zip`) fed fuzzed posted services. Property: the zip
//! reads back (zip and csv crates) with Export.csv's one row, and Services.csv holds exactly the
//! services that have a HUD RecordType, with their client, enrollment, date and types, each
//! carrying the ExportID of Export.csv.
#![no_main]

use std::io::{Cursor, Read};

use libfuzzer_sys::fuzz_target;
use scanstation::export::{write_hud_zip, HUD_EXPORT_COLUMNS, HUD_SERVICES_COLUMNS};
use scanstation_fuzz::FuzzService;

fn read(zip: &mut zip::ZipArchive<Cursor<Vec<u8>>>, name: &str) -> Vec<csv::StringRecord> {
    let mut text = String::new();
    zip.by_name(name)
        .expect("file in the zip")
        .read_to_string(&mut text)
        .expect("UTF-8 CSV");
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.expect("a CSV row"))
        .collect()
}

fuzz_target!(|input: Vec<FuzzService>| {
    let settings = scanstation_fuzz::export_settings();
    let services: Vec<_> = input.iter().map(|s| s.posted("P1")).collect();
    let now = chrono::Utc::now();
    let mut out = Cursor::new(Vec::new());
    let n = write_hud_zip(&mut out, settings, &services, None, None, now).expect("zip written");
    let mut zip = zip::ZipArchive::new(Cursor::new(out.into_inner())).expect("a readable zip");
    let export = read(&mut zip, "Export.csv");
    assert_eq!(export.len(), 2);
    assert_eq!(
        export[0].iter().collect::<Vec<_>>(),
        HUD_EXPORT_COLUMNS.to_vec()
    );
    let export_id = export[1][0].to_string();
    let rows = read(&mut zip, "Services.csv");
    assert_eq!(
        rows[0].iter().collect::<Vec<_>>(),
        HUD_SERVICES_COLUMNS.to_vec()
    );
    let expected: Vec<_> = services
        .iter()
        .filter_map(|s| {
            let (rt, tp) = match settings.service(&s.service_code) {
                Some(def) => (def.hud_record_type, def.hud_type_provided),
                None => (s.hud_record_type, s.hud_type_provided),
            };
            Some((s, rt?, tp?))
        })
        .collect();
    assert_eq!(n, expected.len());
    assert_eq!(rows.len() - 1, expected.len(), "one row per HUD service");
    for (row, (s, rt, tp)) in rows[1..].iter().zip(&expected) {
        assert_eq!(row.len(), HUD_SERVICES_COLUMNS.len());
        assert!(
            row[0].chars().count() <= 32,
            "ServicesID over 32 characters: {:?}",
            &row[0]
        );
        assert_eq!(&row[1], s.enrollment_id);
        assert_eq!(&row[2], s.personal_id);
        assert_eq!(&row[3], s.date_provided);
        assert_eq!(row[4].parse::<u32>().ok(), Some(*rt));
        assert_eq!(row[5].parse::<u32>().ok(), Some(*tp));
        assert_eq!(&row[17], export_id);
    }
});
