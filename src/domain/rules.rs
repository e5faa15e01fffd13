//! The verdict of a scan and the life of a batch, as pure functions over facts the store gathers.
//!
//! Verdict of a scan added to batch B (project P, service S, date D), first match wins:
//! 1. `invalid_code`: the scan gives no client ID;
//! 2. `unknown_client`: no such (non-deleted) client;
//! 3. `duplicate`: an earlier non-removed entry for the same client in B; or, with scope
//!    service-day, a non-removed entry for the same client, service and date in another batch;
//!    or, for a bed night, the HMIS already has a bed night for the client on D (whatever the
//!    scope: nobody sleeps in two beds a night);
//! 4. `no_open_enrollment`: no enrollment in P with EntryDate <= D and (no exit or D <= ExitDate;
//!    for bed nights D < ExitDate);
//! 5. `ok`, carrying the open enrollment used (latest EntryDate; ties: greatest EnrollmentID).

use chrono::NaiveDate;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    Ok,
    InvalidCode,
    UnknownClient,
    Duplicate,
    NoOpenEnrollment,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::InvalidCode => "invalid_code",
            Verdict::UnknownClient => "unknown_client",
            Verdict::Duplicate => "duplicate",
            Verdict::NoOpenEnrollment => "no_open_enrollment",
        }
    }
    pub fn parse(s: &str) -> Option<Verdict> {
        [
            Verdict::Ok,
            Verdict::InvalidCode,
            Verdict::UnknownClient,
            Verdict::Duplicate,
            Verdict::NoOpenEnrollment,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DuplicateScope {
    /// Same client, service and date in any other batch (open or posted) is a duplicate too.
    ServiceDay,
    /// Only a second scan within the same batch is a duplicate.
    Batch,
}

/// One non-deleted enrollment of a client, with the date of its non-deleted exit if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrollmentFact {
    pub enrollment_id: String,
    pub project_id: String,
    pub entry_date: NaiveDate,
    pub exit_date: Option<NaiveDate>,
}

/// What the batch asks for.
#[derive(Debug, Clone)]
pub struct BatchTerms<'a> {
    pub project_id: &'a str,
    pub service_date: NaiveDate,
    pub bed_night: bool,
    pub scope: DuplicateScope,
}

/// What is known about one scan's client, gathered by the store.
#[derive(Debug, Clone, Default)]
pub struct ClientFacts {
    /// The client ID from the scan; None when the scan gave none.
    pub client_id: Option<String>,
    /// A non-deleted client with this ID exists.
    pub known: bool,
    /// A non-removed entry for the same client, service and date in another batch that counts
    /// against this one (see [`crate::store`] for which: earlier ones, and posted ones).
    pub served_elsewhere: bool,
    /// The client's non-deleted enrollments (any project).
    pub enrollments: Vec<EnrollmentFact>,
    /// The HMIS already has a bed night (Services.csv, RecordType 200) for the client on the
    /// batch's date. Only gathered for bed-night batches.
    pub hmis_bed_night: bool,
}

/// Why a scan is a `duplicate`. The wire `reason` is `batch` or `service_day` (the contract's
/// names); a service the HMIS already recorded is `service_day` with the detail `hmis`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Duplicate {
    /// An earlier entry for the client in this batch.
    Batch,
    /// An entry for the client, service and date in another batch here.
    ServiceDay,
    /// The HMIS already recorded a bed night for the client on this date.
    Hmis,
}

impl Duplicate {
    /// `reason` as the API and the entries table say it.
    pub fn reason(self) -> &'static str {
        match self {
            Duplicate::Batch => "batch",
            Duplicate::ServiceDay | Duplicate::Hmis => "service_day",
        }
    }
    /// Where the earlier service is, when not here: `hmis`.
    pub fn detail(self) -> Option<&'static str> {
        match self {
            Duplicate::Hmis => Some("hmis"),
            Duplicate::Batch | Duplicate::ServiceDay => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub verdict: Verdict,
    pub enrollment_id: Option<String>,
    /// Set when the verdict is `duplicate`.
    pub duplicate: Option<Duplicate>,
}

/// The enrollment that makes the client eligible in `project` on `date`, if any.
pub fn open_enrollment<'e>(
    enrollments: &'e [EnrollmentFact],
    project: &str,
    date: NaiveDate,
    bed_night: bool,
) -> Option<&'e EnrollmentFact> {
    enrollments
        .iter()
        .filter(|e| e.project_id == project && e.entry_date <= date)
        .filter(|e| match e.exit_date {
            None => true,
            Some(exit) if bed_night => date < exit,
            Some(exit) => date <= exit,
        })
        .max_by(|a, b| {
            a.entry_date
                .cmp(&b.entry_date)
                .then_with(|| a.enrollment_id.cmp(&b.enrollment_id))
        })
}

/// The verdict of one scan. `earlier_in_batch`: a non-removed earlier entry for the same client is
/// already in this batch.
pub fn verdict(facts: &ClientFacts, earlier_in_batch: bool, terms: &BatchTerms) -> Decision {
    let flag = |verdict| Decision {
        verdict,
        enrollment_id: None,
        duplicate: None,
    };
    if facts.client_id.is_none() {
        return flag(Verdict::InvalidCode);
    }
    if !facts.known {
        return flag(Verdict::UnknownClient);
    }
    let duplicate = if earlier_in_batch {
        Some(Duplicate::Batch)
    } else if terms.scope == DuplicateScope::ServiceDay && facts.served_elsewhere {
        Some(Duplicate::ServiceDay)
    } else if terms.bed_night && facts.hmis_bed_night {
        Some(Duplicate::Hmis)
    } else {
        None
    };
    if duplicate.is_some() {
        return Decision {
            duplicate,
            ..flag(Verdict::Duplicate)
        };
    }
    match open_enrollment(
        &facts.enrollments,
        terms.project_id,
        terms.service_date,
        terms.bed_night,
    ) {
        None => flag(Verdict::NoOpenEnrollment),
        Some(e) => Decision {
            verdict: Verdict::Ok,
            enrollment_id: Some(e.enrollment_id.clone()),
            duplicate: None,
        },
    }
}

/// Reload, one entry at a time: the verdict of a batch's next non-removed entry in scan order,
/// `seen` holding the clients of the entries before it (a reload done in parts carries it from
/// part to part).
pub fn verdict_in_order(
    facts: &ClientFacts,
    seen: &mut std::collections::HashSet<String>,
    terms: &BatchTerms,
) -> Decision {
    let earlier = match &facts.client_id {
        Some(id) => !seen.insert(id.clone()),
        None => false,
    };
    verdict(facts, earlier, terms)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchState {
    Open,
    Posted,
}

impl BatchState {
    pub fn as_str(self) -> &'static str {
        match self {
            BatchState::Open => "open",
            BatchState::Posted => "posted",
        }
    }
    pub fn parse(s: &str) -> Option<BatchState> {
        match s {
            "open" => Some(BatchState::Open),
            "posted" => Some(BatchState::Posted),
            _ => None,
        }
    }
}

/// Why a batch cannot be changed or posted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BatchRefusal {
    #[error("the batch is posted and can no longer change")]
    Frozen,
    #[error("{0} entries are flagged: remove them, or fix the data and reload, before posting")]
    Flagged(usize),
    #[error("the batch has no ok entry to post")]
    NothingOk,
    #[error("service {0} is no longer in the catalogue; it cannot be posted")]
    UnknownService(String),
}

/// A posted batch is frozen: no scans, removals or reloads.
pub fn ensure_open(state: BatchState) -> Result<(), BatchRefusal> {
    match state {
        BatchState::Open => Ok(()),
        BatchState::Posted => Err(BatchRefusal::Frozen),
    }
}

/// Post is refused while any non-removed entry is not ok, or when nothing is ok. Returns the number
/// of services the post will create.
pub fn check_post(state: BatchState, live_verdicts: &[Verdict]) -> Result<usize, BatchRefusal> {
    ensure_open(state)?;
    let flagged = live_verdicts.iter().filter(|v| **v != Verdict::Ok).count();
    if flagged > 0 {
        return Err(BatchRefusal::Flagged(flagged));
    }
    if live_verdicts.is_empty() {
        return Err(BatchRefusal::NothingOk);
    }
    Ok(live_verdicts.len())
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateRefusal {
    #[error("service date {0} is in the future (today is {1} at the station)")]
    Future(NaiveDate, NaiveDate),
    #[error("service date {0} is more than {1} days back (the configured limit)")]
    TooOld(NaiveDate, u32),
}

/// The service dates allowed on `today` (station time zone): from `max_backdate_days` back to
/// today, both included.
pub fn service_date_range(today: NaiveDate, max_backdate_days: u32) -> (NaiveDate, NaiveDate) {
    let earliest = today
        .checked_sub_days(chrono::Days::new(u64::from(max_backdate_days)))
        .unwrap_or(NaiveDate::MIN);
    (earliest, today)
}

/// A service date may not be in the future (station time zone) and may be back-dated up to
/// `max_backdate_days` ([`service_date_range`]).
pub fn check_service_date(
    date: NaiveDate,
    today: NaiveDate,
    max_backdate_days: u32,
) -> Result<(), DateRefusal> {
    let (earliest, latest) = service_date_range(today, max_backdate_days);
    if date > latest {
        return Err(DateRefusal::Future(date, today));
    }
    if date < earliest {
        return Err(DateRefusal::TooOld(date, max_backdate_days));
    }
    Ok(())
}

/// The name the screen shows for a client: [`display_name`], or, when the station holds no name
/// (a hashed export, a client recorded without one), a neutral label from the end of the client
/// ID ("Client …b403"), never a hash.
pub fn display_name_or_label(first: &str, last_initial: &str, client_id: &str) -> String {
    let name = display_name(first, last_initial);
    if !name.is_empty() {
        return name;
    }
    let n = client_id.chars().count();
    if n <= 4 {
        format!("Client {client_id}")
    } else {
        let tail: String = client_id.chars().skip(n - 4).collect();
        format!("Client …{tail}")
    }
}

/// "Maria G." from a first name and a last initial: all the public screen may show.
pub fn display_name(first: &str, last_initial: &str) -> String {
    let first = first.trim();
    let initial = last_initial.trim().chars().next();
    match (first.is_empty(), initial) {
        (false, Some(i)) => format!("{first} {}.", i.to_uppercase()),
        (false, None) => first.to_string(),
        (true, Some(i)) => format!("{}.", i.to_uppercase()),
        (true, None) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }
    fn enr(id: &str, project: &str, entry: &str, exit: Option<&str>) -> EnrollmentFact {
        EnrollmentFact {
            enrollment_id: id.into(),
            project_id: project.into(),
            entry_date: d(entry),
            exit_date: exit.map(d),
        }
    }
    fn known(enrollments: Vec<EnrollmentFact>) -> ClientFacts {
        ClientFacts {
            client_id: Some("C1".into()),
            known: true,
            served_elsewhere: false,
            enrollments,
            hmis_bed_night: false,
        }
    }
    fn terms(date: &str) -> BatchTerms<'static> {
        BatchTerms {
            project_id: "P",
            service_date: d(date),
            bed_night: false,
            scope: DuplicateScope::ServiceDay,
        }
    }
    fn v(facts: &ClientFacts, t: &BatchTerms) -> Verdict {
        verdict(facts, false, t).verdict
    }

    #[test]
    fn invalid_code_first() {
        let f = ClientFacts::default();
        assert_eq!(
            verdict(&f, true, &terms("2024-05-01")).verdict,
            Verdict::InvalidCode
        );
    }

    #[test]
    fn unknown_client_before_duplicate() {
        // Deleted clients are absent from the store, so they are unknown.
        let f = ClientFacts {
            client_id: Some("X".into()),
            known: false,
            served_elsewhere: true,
            enrollments: vec![],
            hmis_bed_night: true,
        };
        assert_eq!(
            verdict(&f, true, &terms("2024-05-01")).verdict,
            Verdict::UnknownClient
        );
    }

    #[test]
    fn open_enrollment_is_ok_and_carried() {
        let f = known(vec![enr("E1", "P", "2024-01-01", None)]);
        let dec = verdict(&f, false, &terms("2024-05-01"));
        assert_eq!(dec.verdict, Verdict::Ok);
        assert_eq!(dec.enrollment_id.as_deref(), Some("E1"));
    }

    #[test]
    fn entry_date_is_inclusive_and_future_entry_is_not_open() {
        let f = known(vec![enr("E1", "P", "2024-05-01", None)]);
        assert_eq!(v(&f, &terms("2024-05-01")), Verdict::Ok);
        assert_eq!(v(&f, &terms("2024-04-30")), Verdict::NoOpenEnrollment);
    }

    #[test]
    fn exit_on_the_service_date_still_counts_except_bed_nights() {
        let f = known(vec![enr("E1", "P", "2024-01-01", Some("2024-05-01"))]);
        assert_eq!(v(&f, &terms("2024-05-01")), Verdict::Ok);
        assert_eq!(v(&f, &terms("2024-05-02")), Verdict::NoOpenEnrollment);
        let mut bed = terms("2024-05-01");
        bed.bed_night = true;
        assert_eq!(v(&f, &bed), Verdict::NoOpenEnrollment);
        bed.service_date = d("2024-04-30");
        assert_eq!(v(&f, &bed), Verdict::Ok);
    }

    #[test]
    fn deleted_exit_reopens_deleted_enrollment_closes() {
        // The store leaves out deleted rows: a deleted exit means no exit date,
        let reopened = known(vec![enr("E1", "P", "2024-01-01", None)]);
        assert_eq!(v(&reopened, &terms("2024-06-01")), Verdict::Ok);
        // and a deleted enrollment means no enrollment.
        let gone = known(vec![]);
        assert_eq!(v(&gone, &terms("2024-06-01")), Verdict::NoOpenEnrollment);
    }

    #[test]
    fn two_open_enrollments_latest_entry_wins_then_greatest_id() {
        let f = known(vec![
            enr("E1", "P", "2024-01-01", None),
            enr("E3", "P", "2024-03-01", None),
            enr("E2", "P", "2024-02-01", None),
        ]);
        assert_eq!(
            verdict(&f, false, &terms("2024-05-01"))
                .enrollment_id
                .as_deref(),
            Some("E3")
        );
        let tie = known(vec![
            enr("E10", "P", "2024-03-01", None),
            enr("E9", "P", "2024-03-01", None),
        ]);
        // Greatest by string comparison of the HMIS ID.
        assert_eq!(
            verdict(&tie, false, &terms("2024-05-01"))
                .enrollment_id
                .as_deref(),
            Some("E9")
        );
    }

    #[test]
    fn enrollment_in_another_project_only() {
        let f = known(vec![enr("E1", "Q", "2024-01-01", None)]);
        assert_eq!(v(&f, &terms("2024-05-01")), Verdict::NoOpenEnrollment);
    }

    #[test]
    fn duplicate_in_batch_and_across_batches_by_scope() {
        let mut f = known(vec![enr("E1", "P", "2024-01-01", None)]);
        let t = terms("2024-05-01");
        assert_eq!(verdict(&f, true, &t).verdict, Verdict::Duplicate);
        assert_eq!(verdict(&f, true, &t).duplicate, Some(Duplicate::Batch));
        f.served_elsewhere = true;
        assert_eq!(verdict(&f, false, &t).verdict, Verdict::Duplicate);
        assert_eq!(
            verdict(&f, false, &t).duplicate,
            Some(Duplicate::ServiceDay)
        );
        let batch_scope = BatchTerms {
            scope: DuplicateScope::Batch,
            ..t.clone()
        };
        assert_eq!(verdict(&f, false, &batch_scope).verdict, Verdict::Ok);
        assert_eq!(verdict(&f, true, &batch_scope).verdict, Verdict::Duplicate);
    }

    #[test]
    fn a_bed_night_the_hmis_has_is_a_duplicate_in_any_scope() {
        let mut f = known(vec![enr("E1", "P", "2024-01-01", None)]);
        f.hmis_bed_night = true;
        let beds = BatchTerms {
            bed_night: true,
            ..terms("2024-05-01")
        };
        let d = verdict(&f, false, &beds);
        assert_eq!(d.verdict, Verdict::Duplicate);
        assert_eq!(d.duplicate, Some(Duplicate::Hmis));
        assert_eq!(d.duplicate.map(Duplicate::reason), Some("service_day"));
        assert_eq!(d.duplicate.and_then(Duplicate::detail), Some("hmis"));
        let batch_scope = BatchTerms {
            scope: DuplicateScope::Batch,
            ..beds.clone()
        };
        assert_eq!(
            verdict(&f, false, &batch_scope).duplicate,
            Some(Duplicate::Hmis)
        );
        // An earlier scan in this batch says so first.
        assert_eq!(verdict(&f, true, &beds).duplicate, Some(Duplicate::Batch));
        // Not a bed-night service: the HMIS bed night does not matter.
        assert_eq!(v(&f, &terms("2024-05-01")), Verdict::Ok);
        f.hmis_bed_night = false;
        assert_eq!(verdict(&f, false, &beds).duplicate, None);
    }

    #[test]
    fn a_client_without_a_name_gets_a_neutral_label() {
        assert_eq!(display_name_or_label("Maria", "G", "C1"), "Maria G.");
        assert_eq!(display_name_or_label("", "", "2615"), "Client 2615");
        assert_eq!(
            display_name_or_label("", "", "2f4b963171644a8b9902bdfe79a4b403"),
            "Client …b403"
        );
    }

    #[test]
    fn duplicate_wins_over_no_open_enrollment() {
        let f = known(vec![]);
        assert_eq!(
            verdict(&f, true, &terms("2024-05-01")).verdict,
            Verdict::Duplicate
        );
    }

    #[test]
    fn reload_flags_only_the_later_scans_of_a_client() {
        let a = known(vec![enr("E1", "P", "2024-01-01", None)]);
        let mut b = a.clone();
        b.client_id = Some("C2".into());
        let bad = ClientFacts::default();
        let mut seen = std::collections::HashSet::new();
        let verdicts: Vec<_> = [a.clone(), bad.clone(), b, a.clone(), bad]
            .iter()
            .map(|f| verdict_in_order(f, &mut seen, &terms("2024-05-01")).verdict)
            .collect();
        assert_eq!(
            verdicts,
            vec![
                Verdict::Ok,
                Verdict::InvalidCode,
                Verdict::Ok,
                Verdict::Duplicate,
                Verdict::InvalidCode
            ]
        );
    }

    #[test]
    fn post_rules() {
        use Verdict::*;
        assert_eq!(check_post(BatchState::Open, &[Ok, Ok]), Result::Ok(2));
        assert_eq!(
            check_post(BatchState::Open, &[Ok, Duplicate, NoOpenEnrollment]),
            Err(BatchRefusal::Flagged(2))
        );
        assert_eq!(
            check_post(BatchState::Open, &[]),
            Err(BatchRefusal::NothingOk)
        );
        assert_eq!(
            check_post(BatchState::Posted, &[Ok]),
            Err(BatchRefusal::Frozen)
        );
        assert_eq!(ensure_open(BatchState::Posted), Err(BatchRefusal::Frozen));
    }

    #[test]
    fn service_dates() {
        let today = d("2024-05-15");
        assert!(check_service_date(today, today, 14).is_ok());
        assert!(check_service_date(d("2024-05-01"), today, 14).is_ok());
        assert_eq!(
            check_service_date(d("2024-04-30"), today, 14),
            Err(DateRefusal::TooOld(d("2024-04-30"), 14))
        );
        assert_eq!(
            check_service_date(d("2024-05-16"), today, 14),
            Err(DateRefusal::Future(d("2024-05-16"), today))
        );
        assert!(check_service_date(today, today, 0).is_ok());
    }

    #[test]
    fn display_names_show_only_first_name_and_initial() {
        assert_eq!(display_name("Maria", "G"), "Maria G.");
        assert_eq!(display_name(" maria ", "g"), "maria G.");
        assert_eq!(display_name("Maria", ""), "Maria");
        assert_eq!(display_name("", "g"), "G.");
    }

    #[test]
    fn verdict_names_round_trip() {
        for v in [
            Verdict::Ok,
            Verdict::InvalidCode,
            Verdict::UnknownClient,
            Verdict::Duplicate,
            Verdict::NoOpenEnrollment,
        ] {
            assert_eq!(Verdict::parse(v.as_str()), Some(v));
        }
    }
}
