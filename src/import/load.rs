//! One loader per file: read each row, validate it, decide (keep, delete, fold, skip, older) and
//! hand the kept record to the store's [`ImportTx`]. The rules are in the module docs of
//! [`crate::import`].

use std::collections::HashSet;
use std::io::Read;

use chrono::NaiveDate;
use csv::ByteRecord;

use super::csvio::{csv_reader, header, next_row, Rdr, Row};
use super::export_row::IdCheck;
use super::fields::{self, int, raw, text, Columns, DATE_EXPECTED, DATE_UPDATED_EXPECTED};
use super::{
    FileReport, ImportError, Mode, CLIENT, ENROLLMENT, EXIT, ORGANIZATION, PROJECT, SERVICES,
};
use crate::store::hmis::{
    ClientRow, EnrollmentRow, ExitRow, Found, Held, HmisServiceRow, ImportTx, Kind, ProjectRow,
};

const PROJECT_TYPES: &[i64] = &[0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14];
const RELATIONSHIPS: &[i64] = &[1, 2, 3, 4, 5, 8, 9, 99];

const WRONG_WIDTH: &str = "wrong number of fields (not as many as the header)";
const UNKNOWN_CLIENT: &str = "unknown PersonalID (not in Client.csv or skipped there)";

pub(crate) struct Loader<'a, 'c> {
    pub(crate) tx: &'a ImportTx<'c>,
    pub(crate) mode: Mode,
    pub(crate) filter: HashSet<&'a str>,
    /// HashStatus 2-4: the name columns hold hashes.
    pub(crate) hashed: bool,
    pub(crate) ids: &'a IdCheck,
}

/// The columns every file shares.
struct Common {
    updated: Option<usize>,
    deleted: Option<usize>,
    export: Option<usize>,
}

impl Common {
    fn new(cols: &Columns) -> Result<Common, ImportError> {
        Ok(Common {
            updated: cols.find("DateUpdated")?,
            deleted: cols.find("DateDeleted")?,
            export: cols.find("ExportID")?,
        })
    }
}

/// A required date column as yyyy-mm-dd; None (the row skipped as `missing`) when empty. A value
/// that is no date refuses the file.
fn required_date<'r>(
    cols: &Columns,
    rec: &'r ByteRecord,
    col: usize,
    line: u64,
    missing: &str,
    rep: &mut FileReport,
) -> Result<Option<std::borrow::Cow<'r, str>>, ImportError> {
    let value = raw(rec, Some(col));
    if value.is_empty() {
        rep.skip(missing, line);
        return Ok(None);
    }
    fields::date_text(value)
        .map(Some)
        .ok_or_else(|| cols.bad_value(line, col, DATE_EXPECTED, value, false))
}

/// A file's primary key column.
struct Key {
    kind: Kind,
    col: usize,
    /// The skip reason for a row without it.
    missing: &'static str,
}

impl Key {
    fn new(
        cols: &Columns,
        kind: Kind,
        name: &'static str,
        missing: &'static str,
    ) -> Result<Key, ImportError> {
        Ok(Key {
            kind,
            col: cols.require(name)?,
            missing,
        })
    }
}

/// A row's DateUpdated day and whether DateDeleted is set.
struct Stamp {
    updated: Option<NaiveDate>,
    deleted: bool,
}

impl Loader<'_, '_> {
    fn delta(&self) -> bool {
        self.mode == Mode::Delta
    }

    fn outside(&self, project: &str) -> bool {
        !self.filter.is_empty() && !self.filter.contains(project)
    }

    /// Read `file` and load it; a completely empty file is a file with no rows.
    pub(crate) fn file(
        &mut self,
        file: &'static str,
        r: &mut dyn Read,
    ) -> Result<FileReport, ImportError> {
        let mut rdr = csv_reader(r);
        let mut rep = FileReport::new(file);
        let Some(cols) = header(file, &mut rdr)? else {
            return Ok(rep);
        };
        let kind = match file {
            ORGANIZATION => None,
            PROJECT => Some(Kind::Project),
            CLIENT => Some(Kind::Client),
            ENROLLMENT => Some(Kind::Enrollment),
            EXIT => Some(Kind::Exit),
            SERVICES => Some(Kind::Service),
            other => unreachable!("no loader for {other}"),
        };
        let refresh = self.mode == Mode::FullRefresh;
        if let (Some(kind), true) = (kind, refresh) {
            self.tx.start_refresh(kind)?;
        }
        match kind {
            None => self.organizations(&mut rdr, &cols, &mut rep)?,
            Some(Kind::Project) => self.projects(&mut rdr, &cols, &mut rep)?,
            Some(Kind::Client) => self.clients(&mut rdr, &cols, &mut rep)?,
            Some(Kind::Enrollment) => self.enrollments(&mut rdr, &cols, &mut rep)?,
            Some(Kind::Exit) => self.exits(&mut rdr, &cols, &mut rep)?,
            Some(Kind::Service) => self.services(&mut rdr, &cols, &mut rep)?,
        }
        if let (Some(kind), true) = (kind, refresh) {
            self.tx.end_refresh(kind)?;
        }
        Ok(rep)
    }

    /// The next row with the right number of fields (others are skipped and reported), with
    /// its ExportID checked and its DateUpdated and DateDeleted read.
    fn next(
        &self,
        rdr: &mut Rdr<'_>,
        cols: &Columns,
        common: &Common,
        rec: &mut ByteRecord,
        rep: &mut FileReport,
    ) -> Result<Option<(u64, Stamp)>, ImportError> {
        loop {
            let Some(row) = next_row(rdr, cols, rec)? else {
                return Ok(None);
            };
            rep.read += 1;
            let line = match row {
                Row::Fields(line) => line,
                Row::WrongWidth(line) => {
                    rep.skip(WRONG_WIDTH, line);
                    continue;
                }
            };
            self.check_export_id(cols, common, rec, line, rep)?;
            let updated = match raw(rec, common.updated) {
                b"" => None,
                b => Some(fields::date_updated(b).ok_or_else(|| {
                    cols.bad_value(
                        line,
                        common.updated.unwrap_or(0),
                        DATE_UPDATED_EXPECTED,
                        b,
                        false,
                    )
                })?),
            };
            let deleted = !raw(rec, common.deleted).is_empty();
            return Ok(Some((line, Stamp { updated, deleted })));
        }
    }

    fn check_export_id(
        &self,
        cols: &Columns,
        common: &Common,
        rec: &ByteRecord,
        line: u64,
        rep: &mut FileReport,
    ) -> Result<(), ImportError> {
        let Some(c) = common.export else {
            return Ok(());
        };
        let found = text(cols, rec, Some(c), line)?;
        if found.is_empty() || found == self.ids.export_id() {
            return Ok(());
        }
        match self.ids {
            IdCheck::Warn { export_id } => {
                rep.warn(
                    &format!("ExportID {found:?} is not Export.csv's {export_id:?} (kept)"),
                    line,
                );
                Ok(())
            }
            IdCheck::Strict {
                export_id,
                file,
                line: other_line,
            } => Err(ImportError::ExportIdMismatch {
                file: cols.file,
                line,
                column: c + 1,
                found: found.to_string(),
                expected: export_id.clone(),
                other_file: file,
                other_line: *other_line,
            }),
        }
    }

    /// Apply one row with a valid key: fold, compare DateUpdated with what the station holds,
    /// then delete or `write`. True when `write` ran.
    fn apply(
        &self,
        rep: &mut FileReport,
        kind: Kind,
        id: &str,
        stamp: &Stamp,
        write: impl FnOnce() -> Result<(), crate::store::StoreError>,
    ) -> Result<bool, ImportError> {
        // A full refresh loads into an empty table: a key is new to this import unless an
        // earlier row of it put it there. A delta keeps a list of the keys it carried.
        let (first, held, before) = if self.mode == Mode::FullRefresh {
            let (held, found) = self.tx.held_in_refresh(kind, id)?;
            (
                found != Some(Found::ThisImport),
                held,
                found == Some(Found::Before),
            )
        } else {
            let first = self.tx.first_seen(kind, id)?;
            (first, self.tx.held(kind, id)?, false)
        };
        if !first {
            rep.folded += 1;
        }
        if let (Some(new), Some(old)) = (stamp.updated, held.day()) {
            if new < old {
                if first {
                    rep.older += 1;
                }
                if before {
                    // Older than what the station holds: that stays, also in a full refresh.
                    self.tx.carry_over(kind, id, held)?;
                }
                return Ok(false);
            }
        }
        if stamp.deleted {
            self.tx.delete(kind, id, stamp.updated)?;
            if first {
                rep.deleted += 1;
            }
            return Ok(false);
        }
        write()?;
        if let Held::Deleted(_) = held {
            self.tx.undelete(kind, id)?;
            rep.restored += 1;
        }
        if first {
            rep.kept += 1;
        }
        Ok(true)
    }

    /// The row's primary key when the row goes on to be validated and written: an empty key is
    /// skipped, a deleted row is applied as a deletion here.
    fn live_key<'r>(
        &self,
        key: &Key,
        cols: &Columns,
        rec: &'r ByteRecord,
        (line, stamp): (u64, &Stamp),
        rep: &mut FileReport,
    ) -> Result<Option<&'r str>, ImportError> {
        let id = text(cols, rec, Some(key.col), line)?;
        if id.is_empty() {
            rep.skip(key.missing, line);
            return Ok(None);
        }
        if stamp.deleted {
            self.apply(rep, key.kind, id, stamp, || Ok(()))?;
            return Ok(None);
        }
        Ok(Some(id))
    }

    fn organizations(
        &self,
        rdr: &mut Rdr<'_>,
        cols: &Columns,
        rep: &mut FileReport,
    ) -> Result<(), ImportError> {
        let c_id = cols.require("OrganizationID")?;
        let common = Common::new(cols)?;
        let mut rec = ByteRecord::new();
        let mut seen = HashSet::new();
        while let Some((line, stamp)) = self.next(rdr, cols, &common, &mut rec, rep)? {
            let id = text(cols, &rec, Some(c_id), line)?;
            if id.is_empty() {
                rep.skip("missing OrganizationID", line);
            } else if !seen.insert(id.to_string()) {
                rep.folded += 1;
            } else if stamp.deleted {
                rep.deleted += 1;
            } else {
                // Organizations are only checked; the station keeps OrganizationID on projects.
                rep.kept += 1;
            }
        }
        Ok(())
    }

    fn projects(
        &self,
        rdr: &mut Rdr<'_>,
        cols: &Columns,
        rep: &mut FileReport,
    ) -> Result<(), ImportError> {
        let key = Key::new(cols, Kind::Project, "ProjectID", "missing ProjectID")?;
        let c_name = cols.require("ProjectName")?;
        let c_org = cols.find("OrganizationID")?;
        let c_type = cols.find("ProjectType")?;
        let common = Common::new(cols)?;
        let mut rec = ByteRecord::new();
        while let Some((line, stamp)) = self.next(rdr, cols, &common, &mut rec, rep)? {
            let Some(id) = self.live_key(&key, cols, &rec, (line, &stamp), rep)? else {
                continue;
            };
            if self.outside(id) {
                rep.filtered += 1;
                continue;
            }
            let name = String::from_utf8_lossy(raw(&rec, Some(c_name)));
            let org = text(cols, &rec, c_org, line)?;
            let project_type = match int(raw(&rec, c_type)) {
                Ok(t) => t,
                Err(()) => {
                    rep.warn("ProjectType not a number (stored empty)", line);
                    None
                }
            };
            if project_type.is_some_and(|t| !PROJECT_TYPES.contains(&t)) {
                rep.warn("ProjectType not in HUD list 2.02.6 (kept)", line);
            }
            if name.is_empty() {
                rep.warn("empty ProjectName (kept)", line);
            }
            let row = ProjectRow {
                project_id: id,
                organization_id: (!org.is_empty()).then_some(org),
                name: &name,
                project_type,
                date_updated: stamp.updated,
            };
            self.apply(rep, Kind::Project, id, &stamp, || {
                self.tx.upsert_project(&row)
            })?;
        }
        Ok(())
    }

    fn clients(
        &self,
        rdr: &mut Rdr<'_>,
        cols: &Columns,
        rep: &mut FileReport,
    ) -> Result<(), ImportError> {
        let key = Key::new(cols, Kind::Client, "PersonalID", "missing PersonalID")?;
        let c_first = cols.require("FirstName")?;
        let c_last = cols.require("LastName")?;
        let c_dob = cols.require("DOB")?;
        let common = Common::new(cols)?;
        let mut rec = ByteRecord::new();
        while let Some((line, stamp)) = self.next(rdr, cols, &common, &mut rec, rep)? {
            let Some(id) = self.live_key(&key, cols, &rec, (line, &stamp), rep)? else {
                continue;
            };
            // DOB only serves the lost-card search: one that is no date is left empty, with a
            // warning that does not repeat it (real exports carry `17-JUN-20`).
            let dob_raw = raw(&rec, Some(c_dob));
            let dob = if dob_raw.is_empty() {
                None
            } else {
                let d = fields::date_text(dob_raw);
                if d.is_none() {
                    rep.warn("DOB not a date (stored empty; not shown here)", line);
                }
                d
            };
            let first_raw = raw(&rec, Some(c_first));
            let last_raw = raw(&rec, Some(c_last));
            let looks_hashed =
                fields::looks_like_hash(first_raw) || fields::looks_like_hash(last_raw);
            // A hashed export's names are hashes, and a name that looks like a digest is one
            // whatever the export says: nothing of either is kept (the screen shows a label).
            let (first, last) = if self.hashed || looks_hashed {
                if self.hashed && !looks_hashed && !(first_raw.is_empty() && last_raw.is_empty()) {
                    rep.warn(
                        "HashStatus says names are hashed, but this one does not look like a \
                         hash (not stored; if the export is not hashed, fix its HashStatus)",
                        line,
                    );
                } else if !self.hashed {
                    rep.warn("name looks like a hash (not stored)", line);
                }
                (Default::default(), Default::default())
            } else {
                match (
                    std::str::from_utf8(first_raw),
                    std::str::from_utf8(last_raw),
                ) {
                    (Ok(f), Ok(l)) => {
                        (std::borrow::Cow::Borrowed(f), std::borrow::Cow::Borrowed(l))
                    }
                    _ => {
                        rep.warn("name not UTF-8 (stored with replacement characters)", line);
                        (
                            String::from_utf8_lossy(first_raw),
                            String::from_utf8_lossy(last_raw),
                        )
                    }
                }
            };
            let initial = fields::last_initial(&last);
            let key = fields::last_name_key(&last);
            let row = ClientRow {
                personal_id: id,
                first_name: &first,
                last_initial: &initial,
                last_name_key: &key,
                dob: dob.as_deref(),
                date_updated: stamp.updated,
            };
            self.apply(rep, Kind::Client, id, &stamp, || {
                self.tx.upsert_client(&row)
            })?;
        }
        Ok(())
    }

    fn enrollments(
        &self,
        rdr: &mut Rdr<'_>,
        cols: &Columns,
        rep: &mut FileReport,
    ) -> Result<(), ImportError> {
        let key = Key::new(
            cols,
            Kind::Enrollment,
            "EnrollmentID",
            "missing EnrollmentID",
        )?;
        let c_client = cols.require("PersonalID")?;
        let c_project = cols.require("ProjectID")?;
        let c_entry = cols.require("EntryDate")?;
        let c_hh = cols.find("HouseholdID")?;
        let c_rel = cols.find("RelationshipToHoH")?;
        let common = Common::new(cols)?;
        let mut rec = ByteRecord::new();
        while let Some((line, stamp)) = self.next(rdr, cols, &common, &mut rec, rep)? {
            let Some(id) = self.live_key(&key, cols, &rec, (line, &stamp), rep)? else {
                continue;
            };
            let client = text(cols, &rec, Some(c_client), line)?;
            let project = text(cols, &rec, Some(c_project), line)?;
            if client.is_empty() {
                rep.skip("missing PersonalID", line);
                continue;
            }
            if project.is_empty() {
                rep.skip("missing ProjectID", line);
                continue;
            }
            if self.outside(project) {
                rep.filtered += 1;
                self.tx.note_filtered(id)?;
                if self.delta() {
                    // It may have moved out of the station's projects.
                    self.tx.remove(Kind::Enrollment, id)?;
                }
                continue;
            }
            let Some(entry) = required_date(cols, &rec, c_entry, line, "missing EntryDate", rep)?
            else {
                continue;
            };
            let hh = text(cols, &rec, c_hh, line)?;
            let rel = match int(raw(&rec, c_rel)) {
                Ok(r) => r,
                Err(()) => {
                    rep.warn("RelationshipToHoH not a number (stored empty)", line);
                    None
                }
            };
            if rel.is_some_and(|r| !RELATIONSHIPS.contains(&r)) {
                rep.warn("RelationshipToHoH not in HUD list 3.15.1 (kept)", line);
            }
            if !self.tx.exists(Kind::Client, client)? {
                rep.skip(UNKNOWN_CLIENT, line);
                continue;
            }
            if !self.tx.exists(Kind::Project, project)? {
                rep.skip(
                    "unknown ProjectID (not in Project.csv or skipped there)",
                    line,
                );
                continue;
            }
            let row = EnrollmentRow {
                enrollment_id: id,
                personal_id: client,
                project_id: project,
                household_id: (!hh.is_empty()).then_some(hh),
                relationship_to_hoh: rel,
                entry_date: &entry,
                date_updated: stamp.updated,
            };
            self.apply(rep, Kind::Enrollment, id, &stamp, || {
                self.tx.upsert_enrollment(&row)
            })?;
        }
        Ok(())
    }

    fn exits(
        &self,
        rdr: &mut Rdr<'_>,
        cols: &Columns,
        rep: &mut FileReport,
    ) -> Result<(), ImportError> {
        let key = Key::new(cols, Kind::Exit, "ExitID", "missing ExitID")?;
        let c_enr = cols.require("EnrollmentID")?;
        let c_date = cols.require("ExitDate")?;
        let c_client = cols.find("PersonalID")?;
        let common = Common::new(cols)?;
        let mut rec = ByteRecord::new();
        while let Some((line, stamp)) = self.next(rdr, cols, &common, &mut rec, rep)? {
            let Some(id) = self.live_key(&key, cols, &rec, (line, &stamp), rep)? else {
                continue;
            };
            let enr = text(cols, &rec, Some(c_enr), line)?;
            if enr.is_empty() {
                rep.skip("missing EnrollmentID", line);
                continue;
            }
            let Some(date) = required_date(cols, &rec, c_date, line, "missing ExitDate", rep)?
            else {
                continue;
            };
            let client = text(cols, &rec, c_client, line)?;
            let Some(entry) = self.tx.entry_date(enr)? else {
                if !self.filter.is_empty() && (self.delta() || self.tx.was_filtered(enr)?) {
                    rep.filtered += 1;
                } else {
                    rep.skip(
                        "unknown EnrollmentID (not in Enrollment.csv or skipped there)",
                        line,
                    );
                }
                continue;
            };
            let row = ExitRow {
                exit_id: id,
                enrollment_id: enr,
                personal_id: (!client.is_empty()).then_some(client),
                exit_date: &date,
                date_updated: stamp.updated,
            };
            let written = self.apply(rep, Kind::Exit, id, &stamp, || self.tx.upsert_exit(&row))?;
            // Both are yyyy-mm-dd: text order is date order.
            if written && *date < *entry {
                rep.warn("ExitDate before EntryDate (kept: enrollment closed)", line);
            }
        }
        Ok(())
    }

    fn services(
        &self,
        rdr: &mut Rdr<'_>,
        cols: &Columns,
        rep: &mut FileReport,
    ) -> Result<(), ImportError> {
        let key = Key::new(cols, Kind::Service, "ServicesID", "missing ServicesID")?;
        let c_client = cols.require("PersonalID")?;
        let c_date = cols.require("DateProvided")?;
        let c_type = cols.require("RecordType")?;
        let c_enr = cols.find("EnrollmentID")?;
        let c_provided = cols.find("TypeProvided")?;
        let common = Common::new(cols)?;
        let mut rec = ByteRecord::new();
        while let Some((line, stamp)) = self.next(rdr, cols, &common, &mut rec, rep)? {
            let Some(id) = self.live_key(&key, cols, &rec, (line, &stamp), rep)? else {
                continue;
            };
            let client = text(cols, &rec, Some(c_client), line)?;
            if client.is_empty() {
                rep.skip("missing PersonalID", line);
                continue;
            }
            let Some(date) = required_date(cols, &rec, c_date, line, "missing DateProvided", rep)?
            else {
                continue;
            };
            let code = |c: Option<usize>, name: &str, rep: &mut FileReport| match int(raw(&rec, c))
            {
                Ok(v) => v,
                Err(()) => {
                    rep.warn(&format!("{name} not a number (stored empty)"), line);
                    None
                }
            };
            let record_type = code(Some(c_type), "RecordType", rep);
            let type_provided = code(c_provided, "TypeProvided", rep);
            let enrollment = text(cols, &rec, c_enr, line)?;
            if !self.tx.exists(Kind::Client, client)? {
                rep.skip(UNKNOWN_CLIENT, line);
                continue;
            }
            let row = HmisServiceRow {
                services_id: id,
                personal_id: client,
                enrollment_id: (!enrollment.is_empty()).then_some(enrollment),
                date_provided: &date,
                record_type,
                type_provided,
                date_updated: stamp.updated,
            };
            self.apply(rep, Kind::Service, id, &stamp, || {
                self.tx.upsert_service(&row)
            })?;
        }
        Ok(())
    }
}
