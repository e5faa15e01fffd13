//! Exports of posted services: `scanstation export hud-csv|clienttrack-csv`, and the ClientTrack
//! batch-upload CSV that the `clienttrack-csv` upstream drops into a folder (one writer for both).
//!
//! The ClientTrack file is byte-compatible with a real upload file (the sample in
//! `../shared/testdata/clienttrack`, as Excel saved it): the 16 columns in their order, CRLF, no
//! quoting unless a value needs it, `M/D/YYYY` dates, UnitValue `0` except for dollars,
//! `Service_RestrictOrg` from `[upstream] restrict_org`. As in the real workflow, **one program
//! per file** (the export writes one file per project when services span several), and a service
//! without an EnrollID is refused before anything is written: ClientTrack cannot take it.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::Connection;

use crate::config::Settings;
use crate::domain::service::Unit;
use crate::store::outbox::{parse_any_ts, PostedService};
pub use crate::store::services::services_between;

/// Which export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportKind {
    /// A zip with Export.csv and Services.csv in the HUD HMIS CSV FY2024 layout.
    HudCsv,
    /// ClientTrack's batch-upload CSV.
    ClienttrackCsv,
}

impl std::str::FromStr for ExportKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "hud-csv" => Ok(ExportKind::HudCsv),
            "clienttrack-csv" => Ok(ExportKind::ClienttrackCsv),
            other => Err(format!(
                "{other:?} is not an export kind (hud-csv or clienttrack-csv)"
            )),
        }
    }
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportOutcome {
    /// Services written, over all files.
    pub services: usize,
    /// The files written: `out`, or for a ClientTrack export spanning several programs one file
    /// per program beside it (`out` with `-<ProjectID>` before the extension).
    pub files: Vec<PathBuf>,
}

/// Write the posted services with `from <= date_provided <= to` (each bound optional) to `out`
/// (written to a temporary file next to it, then renamed).
pub fn export(
    conn: &Connection,
    settings: &Settings,
    kind: ExportKind,
    out: &Path,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> anyhow::Result<ExportOutcome> {
    if let (Some(f), Some(t)) = (from, to) {
        anyhow::ensure!(f <= t, "--from {f} is after --to {t}");
    }
    let services = services_between(conn, from, to).context("reading posted services")?;
    match kind {
        ExportKind::HudCsv => {
            let n = write_atomically(out, |file| {
                write_hud_zip(file, settings, &services, from, to, Utc::now())
            })?;
            Ok(ExportOutcome {
                services: n,
                files: vec![out.to_path_buf()],
            })
        }
        ExportKind::ClienttrackCsv => {
            let programs = by_program(&services);
            check_enrollments(&services)?;
            let mut files = Vec::new();
            if programs.len() <= 1 {
                write_atomically(out, |file| write_clienttrack_csv(file, settings, &services))?;
                files.push(out.to_path_buf());
            } else {
                for (project, list) in &programs {
                    let path = program_path(out, project);
                    write_atomically(&path, |file| write_clienttrack_csv(file, settings, list))?;
                    files.push(path);
                }
            }
            Ok(ExportOutcome {
                services: services.len(),
                files,
            })
        }
    }
}

/// Services grouped by project, in order of first appearance.
fn by_program(services: &[PostedService]) -> Vec<(String, Vec<PostedService>)> {
    let mut out: Vec<(String, Vec<PostedService>)> = Vec::new();
    for s in services {
        match out.iter_mut().find(|(p, _)| *p == s.project_id) {
            Some((_, list)) => list.push(s.clone()),
            None => out.push((s.project_id.clone(), vec![s.clone()])),
        }
    }
    out
}

/// `out` with `-<project>` before the extension (the project ID made safe for a file name).
fn program_path(out: &Path, project: &str) -> PathBuf {
    let safe: String = project
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let stem = out
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match out.extension() {
        Some(ext) => format!("{stem}-{safe}.{}", ext.to_string_lossy()),
        None => format!("{stem}-{safe}"),
    };
    out.with_file_name(name)
}

/// ClientTrack cannot take a service without an EnrollID: refuse before writing anything.
fn check_enrollments(services: &[PostedService]) -> anyhow::Result<()> {
    let missing: Vec<&str> = services
        .iter()
        .filter(|s| s.enrollment_id.trim().is_empty())
        .map(|s| s.id.as_str())
        .collect();
    anyhow::ensure!(
        missing.is_empty(),
        "{} service(s) have no enrollment (EnrollID), which ClientTrack's batch upload cannot \
         take; nothing was written. Services: {}",
        missing.len(),
        missing.join(", ")
    );
    Ok(())
}

/// Write a file through a temporary file in the same folder, flushed to disk, then renamed over
/// `path`: a reader never sees half a file.
pub fn write_atomically<R>(
    path: &Path,
    f: impl FnOnce(&mut std::fs::File) -> anyhow::Result<R>,
) -> anyhow::Result<R> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .with_context(|| format!("{} is not a file name", path.display()))?
        .to_string_lossy()
        .into_owned();
    let tmp = dir.join(format!(".{name}.{}.part", std::process::id()));
    let result = (|| {
        let mut file = crate::fsmode::create_private(&tmp)
            .with_context(|| format!("cannot create {}", tmp.display()))?;
        let r = f(&mut file)?;
        file.flush()?;
        file.sync_all()
            .with_context(|| format!("cannot write {}", tmp.display()))?;
        drop(file);
        std::fs::rename(&tmp, path)
            .with_context(|| format!("cannot rename {} to {}", tmp.display(), path.display()))?;
        if let Ok(d) = std::fs::File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(r)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// ClientTrack's batch-upload columns, in order.
pub const CLIENTTRACK_COLUMNS: [&str; 16] = [
    "Service_ServiceCodeID",
    "Service_ClientID",
    "Service_EnrollID",
    "Service_RegionID",
    "Service_BeginDate",
    "Service_EndDate",
    "Service_UnitsOfMeasure",
    "Service_Units",
    "Service_UnitValue",
    "Service_UserID",
    "Service_CreatedDate",
    "Service_CreatedBy",
    "Service_UpdatedDate",
    "Service_UpdatedBy",
    "Service_OrgID",
    "Service_RestrictOrg",
];

/// ClientTrack's date format: m/d/yyyy without leading zeros.
pub fn clienttrack_date(d: NaiveDate) -> String {
    d.format("%-m/%-d/%Y").to_string()
}

/// Units as a plain decimal: "1", "1.5".
fn units_text(u: f64) -> String {
    if u.fract() == 0.0 && u.abs() < 1e15 {
        format!("{}", u as i64)
    } else {
        format!("{u}")
    }
}

fn unit_letter(unit: &str) -> String {
    match Unit::parse(unit) {
        Some(u) => u.clienttrack_letter().to_string(),
        None => unit.to_string(),
    }
}

fn parse_date(s: &str) -> anyhow::Result<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").with_context(|| format!("bad service date {s:?}"))
}

/// The posting time in the station's time zone (falls back to UTC text if unreadable).
fn posted_local(settings: &Settings, posted_at: &str) -> Option<chrono::NaiveDateTime> {
    parse_any_ts(posted_at).map(|t| t.with_timezone(&settings.tz).naive_local())
}

/// Service_UnitValue: the value for dollars, `0` for every other unit (as the spec says).
fn unit_value_text(unit: &str, value: &str) -> String {
    if Unit::parse(unit) == Some(Unit::Dollars) {
        value.to_string()
    } else {
        "0".to_string()
    }
}

/// Write ClientTrack's batch-upload CSV: a header line, then one line per service. The services
/// must be of one program and all have an enrollment; otherwise nothing is written.
pub fn write_clienttrack_csv<W: Write>(
    w: W,
    settings: &Settings,
    services: &[PostedService],
) -> anyhow::Result<()> {
    let up = &settings.upstream;
    check_enrollments(services)?;
    let programs = by_program(services);
    anyhow::ensure!(
        programs.len() <= 1,
        "a ClientTrack upload file holds one program; these services are of {}",
        programs
            .iter()
            .map(|(p, _)| p.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut csv = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(w);
    csv.write_record(CLIENTTRACK_COLUMNS)?;
    for s in services {
        let date = clienttrack_date(parse_date(&s.date_provided)?);
        let created = posted_local(settings, &s.posted_at)
            .map(|t| clienttrack_date(t.date()))
            .unwrap_or_else(|| date.clone());
        let user = s.posted_by_user_id.clone().unwrap_or_default();
        csv.write_record([
            s.service_code.as_str(),
            &s.personal_id,
            &s.enrollment_id,
            &up.region_id,
            &date,
            &date,
            &unit_letter(&s.unit),
            &units_text(s.units),
            &unit_value_text(&s.unit, &s.unit_value),
            &user,
            &created,
            &user,
            &created,
            &user,
            &up.org_id,
            &up.restrict_org,
        ])?;
    }
    csv.flush()?;
    Ok(())
}

/// HUD HMIS CSV FY2024 Export.csv columns.
pub const HUD_EXPORT_COLUMNS: [&str; 19] = [
    "ExportID",
    "SourceType",
    "SourceID",
    "SourceName",
    "SourceContactFirst",
    "SourceContactLast",
    "SourceContactPhone",
    "SourceContactExtension",
    "SourceContactEmail",
    "ExportDate",
    "ExportStartDate",
    "ExportEndDate",
    "SoftwareName",
    "SoftwareVersion",
    "CSVVersion",
    "ExportPeriodType",
    "ExportDirective",
    "HashStatus",
    "ImplementationID",
];

/// HUD HMIS CSV FY2024 Services.csv columns.
pub const HUD_SERVICES_COLUMNS: [&str; 18] = [
    "ServicesID",
    "EnrollmentID",
    "PersonalID",
    "DateProvided",
    "RecordType",
    "TypeProvided",
    "OtherTypeProvided",
    "MovingOnOtherType",
    "SubTypeProvided",
    "FAAmount",
    "FAStartDate",
    "FAEndDate",
    "ReferralOutcome",
    "DateCreated",
    "DateUpdated",
    "UserID",
    "DateDeleted",
    "ExportID",
];

const HUD_TS: &str = "%Y-%m-%d %H:%M:%S";

/// The HUD export zip. Only services whose catalogue entry (or, for a code no longer in the
/// catalogue, the posted service itself) has a HUD RecordType are written. Returns how many.
pub fn write_hud_zip<W: Write + std::io::Seek>(
    w: W,
    settings: &Settings,
    services: &[PostedService],
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    now: DateTime<Utc>,
) -> anyhow::Result<usize> {
    let export_id = uuid::Uuid::new_v4().simple().to_string();
    let local_now = now.with_timezone(&settings.tz).naive_local();
    let mut rows: Vec<(&PostedService, u32, u32)> = Vec::new();
    for s in services {
        let (rt, tp) = match settings.service(&s.service_code) {
            Some(def) => (def.hud_record_type, def.hud_type_provided),
            None => (s.hud_record_type, s.hud_type_provided),
        };
        if let (Some(rt), Some(tp)) = (rt, tp) {
            rows.push((s, rt, tp));
        }
    }
    let dates: Vec<NaiveDate> = rows
        .iter()
        .filter_map(|(s, _, _)| parse_date(&s.date_provided).ok())
        .collect();
    let start = from
        .or_else(|| dates.iter().min().copied())
        .unwrap_or(local_now.date());
    let end = to
        .or_else(|| dates.iter().max().copied())
        .unwrap_or(local_now.date());

    let mut zip = zip::ZipWriter::new(w);
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);

    zip.start_file("Export.csv", opts)?;
    {
        let mut csv = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(&mut zip);
        csv.write_record(HUD_EXPORT_COLUMNS)?;
        let station = settings.station_id();
        csv.write_record([
            export_id.as_str(),
            "4", // Other: a station's service record, not an HMIS
            "",
            &format!("scanstation {station}"),
            "",
            "",
            "",
            "",
            "",
            &local_now.format(HUD_TS).to_string(),
            &start.format("%Y-%m-%d").to_string(),
            &end.format("%Y-%m-%d").to_string(),
            "scanstation",
            env!("CARGO_PKG_VERSION"),
            "2024 v1.3",
            "3", // Reporting period
            "1", // Delta refresh: adds services, replaces nothing
            "1", // Unhashed
            station,
        ])?;
        csv.flush()?;
    }

    zip.start_file("Services.csv", opts)?;
    {
        let mut csv = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(&mut zip);
        csv.write_record(HUD_SERVICES_COLUMNS)?;
        for (s, rt, tp) in &rows {
            let date = parse_date(&s.date_provided)?.format("%Y-%m-%d").to_string();
            let created = posted_local(settings, &s.posted_at)
                .map(|t| t.format(HUD_TS).to_string())
                .unwrap_or_else(|| format!("{date} 00:00:00"));
            // ServicesID is S32: the service's stable UUID without hyphens.
            let id = uuid::Uuid::parse_str(&s.id)
                .map(|u| u.simple().to_string())
                .unwrap_or_else(|_| s.id.chars().filter(|c| *c != '-').take(32).collect());
            let user = s
                .posted_by_user_id
                .clone()
                .unwrap_or_else(|| s.posted_by.chars().take(32).collect());
            csv.write_record([
                id.as_str(),
                &s.enrollment_id,
                &s.personal_id,
                &date,
                &rt.to_string(),
                &tp.to_string(),
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                &created,
                &created,
                &user,
                "",
                &export_id,
            ])?;
        }
        csv.flush()?;
    }
    zip.finish()?;
    Ok(rows.len())
}
