//! Synthetic HUD HMIS CSV exports (FY2024 layout) for the demo, tests and benchmarks.
//!
//! [`write_hud_csv`] writes Export (ExportDirective 2, full refresh), Organization, Project, Client,
//! Enrollment and Exit with invented people: common English and Hispanic first and last names
//! combined at random, adult dates of birth, about two enrollments per client. Everything is
//! deterministic for a given [`SynthSpec`] (its own small PRNG) and streamed to disk, so 100,000
//! clients take a second or two and constant memory.
//!
//! Every client gets one of four profiles relative to [`SynthSpec::today`], and the
//! [`SynthSummary`] lists sample PersonalIDs of each so the demo can say "try these IDs":
//! - open in the main project (entered before today, no exit): a scan there is `ok`;
//! - exited from the main project before today: `no_open_enrollment`;
//! - enrolled only in other projects: `no_open_enrollment` (but a known client);
//! - exiting the main project today: still `ok` today (except for bed nights).
//!
//! The first four clients take the four profiles in that order, so even a tiny dataset has one of
//! each.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use chrono::{Duration, NaiveDate};

/// What to generate.
#[derive(Debug, Clone)]
pub struct SynthSpec {
    /// Number of clients (enrollments are about twice as many).
    pub clients: usize,
    /// Same seed, same files.
    pub seed: u64,
    /// The date the profiles are relative to (the demo passes the station's today).
    pub today: NaiveDate,
    /// How many sample PersonalIDs to list per profile.
    pub samples: usize,
}

impl SynthSpec {
    pub fn new(clients: usize, seed: u64, today: NaiveDate) -> SynthSpec {
        SynthSpec {
            clients,
            seed,
            today,
            samples: 5,
        }
    }
}

/// One generated project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthProject {
    pub id: String,
    pub name: String,
    pub project_type: u8,
}

/// What was written, and IDs to try.
#[derive(Debug, Clone, Default)]
pub struct SynthSummary {
    /// The main project first, then the others.
    pub projects: Vec<SynthProject>,
    pub clients: usize,
    pub enrollments: usize,
    pub exits: usize,
    /// Clients with an open enrollment in the main project on `today`.
    pub open_in_main: Vec<String>,
    /// Clients whose main-project enrollments all ended before `today`.
    pub exited_from_main: Vec<String>,
    /// Clients enrolled only in other projects.
    pub other_project_only: Vec<String>,
    /// Clients whose main-project enrollment ends on `today`.
    pub exiting_today: Vec<String>,
}

impl SynthSummary {
    /// The main project's ID (`"1001"`).
    pub fn main_project(&self) -> &str {
        self.projects.first().map(|p| p.id.as_str()).unwrap_or("")
    }
}

const ORGANIZATION_ID: &str = "100";
const EXPORT_ID: &str = "SYNTH";

/// The main project first.
const PROJECTS: &[(&str, &str, u8)] = &[
    ("1001", "Hot Meals Program", 6),
    ("1002", "Night Shelter", 0),
    ("1003", "Street Outreach", 4),
    ("1004", "Day Center", 11),
];

const FIRST_NAMES: &[&str] = &[
    "Maria",
    "Jose",
    "Juan",
    "Guadalupe",
    "Luis",
    "Carmen",
    "Carlos",
    "Rosa",
    "Miguel",
    "Ana",
    "Jesus",
    "Francisco",
    "Elena",
    "Sofia",
    "Alejandro",
    "Lucia",
    "Ricardo",
    "Isabel",
    "Diego",
    "Veronica",
    "Javier",
    "Adriana",
    "Manuel",
    "Yolanda",
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Barbara",
    "William",
    "Susan",
    "Richard",
    "Jessica",
    "Joseph",
    "Sarah",
    "Thomas",
    "Karen",
    "Charles",
    "Nancy",
    "Christopher",
    "Lisa",
    "Daniel",
    "Betty",
    "Anthony",
    "Dorothy",
    "Marcus",
    "Keisha",
    "Tyrone",
    "Latoya",
    "Andre",
    "Tamika",
    "DeShawn",
    "Ebony",
    "Terrence",
    "Shanice",
];

const LAST_NAMES: &[&str] = &[
    "Garcia",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Perez",
    "Sanchez",
    "Ramirez",
    "Torres",
    "Flores",
    "Rivera",
    "Gomez",
    "Diaz",
    "Reyes",
    "Morales",
    "Cruz",
    "Ortiz",
    "Gutierrez",
    "Chavez",
    "Ramos",
    "Ruiz",
    "Mendoza",
    "Alvarez",
    "De la Cruz",
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Miller",
    "Davis",
    "Wilson",
    "Anderson",
    "Taylor",
    "Thomas",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Thompson",
    "White",
    "Harris",
    "Clark",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Green",
    "Baker",
    "Adams",
    "Nelson",
    "Hill",
    "Campbell",
    "Mitchell",
    "O'Brien",
    "Washington",
];

const EXPORT_HEADER: &str = "ExportID,SourceType,SourceID,SourceName,SourceContactFirst,\
SourceContactLast,SourceContactPhone,SourceContactExtension,SourceContactEmail,ExportDate,\
ExportStartDate,ExportEndDate,SoftwareName,SoftwareVersion,CSVVersion,ExportPeriodType,\
ExportDirective,HashStatus,ImplementationID";

const ORGANIZATION_HEADER: &str = "OrganizationID,OrganizationName,VictimServiceProvider,\
OrganizationCommonName,DateCreated,DateUpdated,UserID,DateDeleted,ExportID";

const PROJECT_HEADER: &str = "ProjectID,OrganizationID,ProjectName,ProjectCommonName,\
OperatingStartDate,OperatingEndDate,ContinuumProject,ProjectType,HousingType,RRHSubType,\
ResidentialAffiliation,TargetPopulation,HOPWAMedAssistedLivingFac,PITCount,DateCreated,\
DateUpdated,UserID,DateDeleted,ExportID";

const CLIENT_HEADER: &str = "PersonalID,FirstName,MiddleName,LastName,NameSuffix,\
NameDataQuality,SSN,SSNDataQuality,DOB,DOBDataQuality,AmIndAKNative,Asian,BlackAfAmerican,\
HispanicLatinaeo,MidEastNAfrican,NativeHIPacific,White,RaceNone,AdditionalRaceEthnicity,Woman,\
Man,NonBinary,CulturallySpecific,Transgender,Questioning,DifferentIdentity,GenderNone,\
DifferentIdentityText,VeteranStatus,YearEnteredService,YearSeparated,WorldWarII,KoreanWar,\
VietnamWar,DesertStorm,AfghanistanOEF,IraqOIF,IraqOND,OtherTheater,MilitaryBranch,\
DischargeStatus,DateCreated,DateUpdated,UserID,DateDeleted,ExportID";

const ENROLLMENT_HEADER: &str = "EnrollmentID,PersonalID,ProjectID,EntryDate,HouseholdID,\
RelationshipToHoH,EnrollmentCoC,LivingSituation,RentalSubsidyType,LengthOfStay,\
LOSUnderThreshold,PreviousStreetESSH,DateToStreetESSH,TimesHomelessPastThreeYears,\
MonthsHomelessPastThreeYears,DisablingCondition,DateOfEngagement,MoveInDate,DateOfPATHStatus,\
ClientEnrolledInPATH,ReasonNotEnrolled,PercentAMI,ReferralSource,\
CountOutreachReferralApproaches,DateOfBCPStatus,EligibleForRHY,ReasonNoServices,RunawayYouth,\
SexualOrientation,SexualOrientationOther,FormerWardChildWelfare,ChildWelfareYears,\
ChildWelfareMonths,FormerWardJuvenileJustice,JuvenileJusticeYears,JuvenileJusticeMonths,\
UnemploymentFam,MentalHealthDisorderFam,PhysicalDisabilityFam,AlcoholDrugUseDisorderFam,\
InsufficientIncome,IncarceratedParent,VAMCStation,TargetScreenReqd,TimeToHousingLoss,\
AnnualPercentAMI,LiteralHomelessHistory,ClientLeaseholder,HOHLeaseholder,SubsidyAtRisk,\
EvictionHistory,CriminalRecord,IncarceratedAdult,PrisonDischarge,SexOffender,DisabledHoH,\
CurrentPregnant,SingleParent,DependentUnder6,HH5Plus,CoCPrioritized,HPScreeningScore,\
ThresholdScore,TranslationNeeded,PreferredLanguage,PreferredLanguageDifferent,DateCreated,\
DateUpdated,UserID,DateDeleted,ExportID";

const EXIT_HEADER: &str = "ExitID,EnrollmentID,PersonalID,ExitDate,Destination,\
DestinationSubsidyType,OtherDestination,HousingAssessment,SubsidyInformation,\
ProjectCompletionStatus,EarlyExitReason,ExchangeForSex,ExchangeForSexPastThreeMonths,\
CountOfExchangeForSex,AskedOrForcedToExchangeForSex,\
AskedOrForcedToExchangeForSexPastThreeMonths,WorkPlaceViolenceThreats,\
WorkplacePromiseDifference,CoercedToContinueWork,LaborExploitPastThreeMonths,\
CounselingReceived,IndividualCounseling,FamilyCounseling,GroupCounseling,SessionCountAtExit,\
PostExitCounselingPlan,SessionsInPlan,DestinationSafeClient,DestinationSafeWorker,\
PosAdultConnections,PosPeerConnections,PosCommunityConnections,AftercareDate,\
AftercareProvided,EmailSocialMedia,Telephone,InPersonIndividual,InPersonGroup,CMExitReason,\
DateCreated,DateUpdated,UserID,DateDeleted,ExportID";

/// SplitMix64: small, fast, deterministic; plenty for invented data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }

    fn pick<'a>(&mut self, list: &[&'a str]) -> &'a str {
        list[self.below(list.len() as u64) as usize]
    }

    /// True with probability `pct` percent.
    fn chance(&mut self, pct: u64) -> bool {
        self.below(100) < pct
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Profile {
    OpenInMain,
    ExitedFromMain,
    OtherOnly,
    ExitingToday,
}

struct Writers {
    client: BufWriter<File>,
    enrollment: BufWriter<File>,
    exit: BufWriter<File>,
}

fn create(dir: &Path, name: &str) -> io::Result<BufWriter<File>> {
    Ok(BufWriter::with_capacity(
        256 * 1024,
        File::create(dir.join(name))?,
    ))
}

/// Write a synthetic FY2024 export into `dir` (created if needed).
pub fn write_hud_csv(dir: &Path, spec: &SynthSpec) -> io::Result<SynthSummary> {
    std::fs::create_dir_all(dir)?;
    let today = spec.today;
    let stamp = format!("{today} 06:00:00");
    let mut rng = Rng(spec.seed ^ 0x5C4E_5747_1014_0000);

    let mut w = create(dir, "Export.csv")?;
    writeln!(w, "{EXPORT_HEADER}")?;
    writeln!(
        w,
        "{EXPORT_ID},3,,Synthetic HMIS,,,,,,{stamp},{},{today},scanstation synth,1,2024 v1.3,3,2,1,synthetic",
        today - Duration::days(3 * 365)
    )?;
    w.flush()?;

    let mut w = create(dir, "Organization.csv")?;
    writeln!(w, "{ORGANIZATION_HEADER}")?;
    writeln!(
        w,
        "{ORGANIZATION_ID},Example Community Services,0,ECS,2015-01-01 00:00:00,{stamp},synth,,{EXPORT_ID}"
    )?;
    w.flush()?;

    let mut w = create(dir, "Project.csv")?;
    writeln!(w, "{PROJECT_HEADER}")?;
    let mut summary = SynthSummary::default();
    for &(id, name, ptype) in PROJECTS {
        let housing = if ptype == 0 { "1" } else { "" };
        writeln!(
            w,
            "{id},{ORGANIZATION_ID},{name},{name},2015-01-01,,1,{ptype},{housing},,,4,,,2015-01-01 00:00:00,{stamp},synth,,{EXPORT_ID}"
        )?;
        summary.projects.push(SynthProject {
            id: id.to_string(),
            name: name.to_string(),
            project_type: ptype,
        });
    }
    w.flush()?;

    let templates = Templates::new()?;
    let mut out = Writers {
        client: create(dir, "Client.csv")?,
        enrollment: create(dir, "Enrollment.csv")?,
        exit: create(dir, "Exit.csv")?,
    };
    writeln!(out.client, "{CLIENT_HEADER}")?;
    writeln!(out.enrollment, "{ENROLLMENT_HEADER}")?;
    writeln!(out.exit, "{EXIT_HEADER}")?;

    let mut next_enrollment: u64 = 500_001;
    let mut next_exit: u64 = 900_001;
    for i in 0..spec.clients {
        let personal_id = format!("{}", 100_001 + i as u64);
        let profile = match i {
            0 => Profile::OpenInMain,
            1 => Profile::ExitedFromMain,
            2 => Profile::OtherOnly,
            3 => Profile::ExitingToday,
            _ => match rng.below(100) {
                0..=54 => Profile::OpenInMain,
                55..=74 => Profile::ExitedFromMain,
                75..=94 => Profile::OtherOnly,
                _ => Profile::ExitingToday,
            },
        };
        write_client(
            &mut out.client,
            &templates,
            &mut rng,
            &personal_id,
            today,
            &stamp,
        )?;
        summary.clients += 1;

        // (project index, entry days ago, exit days ago: None open, Some(0) today)
        let mut plan: Vec<(usize, i64, Option<i64>)> = Vec::with_capacity(4);
        let other = |rng: &mut Rng| 1 + rng.below(PROJECTS.len() as u64 - 1) as usize;
        match profile {
            Profile::OpenInMain => {
                plan.push((0, 1 + rng.below(900) as i64, None));
                for _ in 0..rng.below(3) {
                    let entry = 30 + rng.below(1000) as i64;
                    let exit = rng
                        .chance(60)
                        .then(|| 1 + rng.below(entry as u64 - 1) as i64);
                    plan.push((other(&mut rng), entry, exit));
                }
            }
            Profile::ExitedFromMain => {
                for _ in 0..1 + rng.below(2) {
                    let entry = 10 + rng.below(1000) as i64;
                    plan.push((0, entry, Some(1 + rng.below(entry as u64 - 1) as i64)));
                }
                if rng.chance(50) {
                    let entry = 10 + rng.below(1000) as i64;
                    let exit = rng
                        .chance(50)
                        .then(|| 1 + rng.below(entry as u64 - 1) as i64);
                    plan.push((other(&mut rng), entry, exit));
                }
            }
            Profile::OtherOnly => {
                for _ in 0..1 + rng.below(3) {
                    let entry = 1 + rng.below(1000) as i64;
                    let exit =
                        (entry > 1 && rng.chance(40)).then(|| rng.below(entry as u64 - 1) as i64);
                    plan.push((other(&mut rng), entry, exit));
                }
            }
            Profile::ExitingToday => {
                plan.push((0, 1 + rng.below(400) as i64, Some(0)));
                for _ in 0..rng.below(3) {
                    let entry = 30 + rng.below(1000) as i64;
                    let exit = rng
                        .chance(50)
                        .then(|| 1 + rng.below(entry as u64 - 1) as i64);
                    plan.push((other(&mut rng), entry, exit));
                }
            }
        }
        for (project, entry_ago, exit_ago) in plan {
            let enrollment_id = next_enrollment;
            next_enrollment += 1;
            let entry = today - Duration::days(entry_ago);
            write_enrollment(
                &mut out.enrollment,
                &templates,
                &mut rng,
                enrollment_id,
                &personal_id,
                PROJECTS[project].0,
                entry,
            )?;
            summary.enrollments += 1;
            if let Some(ago) = exit_ago {
                let exit = today - Duration::days(ago);
                write_exit(
                    &mut out.exit,
                    &templates,
                    &mut rng,
                    next_exit,
                    enrollment_id,
                    &personal_id,
                    exit,
                )?;
                next_exit += 1;
                summary.exits += 1;
            }
        }
        let list = match profile {
            Profile::OpenInMain => &mut summary.open_in_main,
            Profile::ExitedFromMain => &mut summary.exited_from_main,
            Profile::OtherOnly => &mut summary.other_project_only,
            Profile::ExitingToday => &mut summary.exiting_today,
        };
        if list.len() < spec.samples {
            list.push(personal_id);
        }
    }
    out.client.flush()?;
    out.enrollment.flush()?;
    out.exit.flush()?;
    Ok(summary)
}

/// Writes rows of a file with a given header, values placed by column name, the rest empty.
struct Template {
    slots: Vec<Option<usize>>,
}

impl Template {
    fn new(header: &str, names: &[&str]) -> io::Result<Template> {
        let cols: Vec<&str> = header.split(',').collect();
        let mut slots = vec![None; cols.len()];
        for (i, name) in names.iter().enumerate() {
            let Some(c) = cols.iter().position(|c| c == name) else {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("synth: no column {name}"),
                ));
            };
            slots[c] = Some(i);
        }
        Ok(Template { slots })
    }

    fn write(&self, w: &mut impl Write, values: &[&dyn std::fmt::Display]) -> io::Result<()> {
        for (c, slot) in self.slots.iter().enumerate() {
            if c > 0 {
                w.write_all(b",")?;
            }
            if let Some(v) = slot.and_then(|i| values.get(i)) {
                write!(w, "{v}")?;
            }
        }
        w.write_all(b"\n")
    }
}

struct Templates {
    client: Template,
    enrollment: Template,
    exit: Template,
}

impl Templates {
    fn new() -> io::Result<Templates> {
        Ok(Templates {
            client: Template::new(
                CLIENT_HEADER,
                &[
                    "PersonalID",
                    "FirstName",
                    "LastName",
                    "NameDataQuality",
                    "SSNDataQuality",
                    "DOB",
                    "DOBDataQuality",
                    "AmIndAKNative",
                    "Asian",
                    "BlackAfAmerican",
                    "HispanicLatinaeo",
                    "MidEastNAfrican",
                    "NativeHIPacific",
                    "White",
                    "Woman",
                    "Man",
                    "NonBinary",
                    "CulturallySpecific",
                    "Transgender",
                    "Questioning",
                    "DifferentIdentity",
                    "VeteranStatus",
                    "DateCreated",
                    "DateUpdated",
                    "UserID",
                    "ExportID",
                ],
            )?,
            enrollment: Template::new(
                ENROLLMENT_HEADER,
                &[
                    "EnrollmentID",
                    "PersonalID",
                    "ProjectID",
                    "EntryDate",
                    "HouseholdID",
                    "RelationshipToHoH",
                    "EnrollmentCoC",
                    "LivingSituation",
                    "LengthOfStay",
                    "PreviousStreetESSH",
                    "DateToStreetESSH",
                    "TimesHomelessPastThreeYears",
                    "MonthsHomelessPastThreeYears",
                    "DisablingCondition",
                    "DateCreated",
                    "DateUpdated",
                    "UserID",
                    "ExportID",
                ],
            )?,
            exit: Template::new(
                EXIT_HEADER,
                &[
                    "ExitID",
                    "EnrollmentID",
                    "PersonalID",
                    "ExitDate",
                    "Destination",
                    "DateCreated",
                    "DateUpdated",
                    "UserID",
                    "ExportID",
                ],
            )?,
        })
    }
}

fn write_client(
    w: &mut impl Write,
    t: &Templates,
    rng: &mut Rng,
    personal_id: &str,
    today: NaiveDate,
    stamp: &str,
) -> io::Result<()> {
    let first = rng.pick(FIRST_NAMES);
    let last = rng.pick(LAST_NAMES);
    let age_days = 18 * 365 + rng.below(62 * 365) as i64;
    let dob = today - Duration::days(age_days);
    let woman = u8::from(rng.chance(40));
    let man = 1 - woman;
    let hispanic = u8::from(rng.chance(35));
    let black = u8::from(rng.chance(45));
    let white = u8::from(black == 0 && rng.chance(70));
    let veteran = u8::from(rng.chance(8));
    let created = format!(
        "{} 10:00:00",
        today - Duration::days(rng.below(2000) as i64)
    );
    // SSN left empty (data quality 99): the station never needs it.
    t.client.write(
        w,
        &[
            &personal_id,
            &first,
            &last,
            &1,
            &99,
            &dob,
            &1,
            &0,
            &0,
            &black,
            &hispanic,
            &0,
            &0,
            &white,
            &woman,
            &man,
            &0,
            &0,
            &0,
            &0,
            &0,
            &veteran,
            &created,
            &stamp,
            &"synth",
            &EXPORT_ID,
        ],
    )
}

fn write_enrollment(
    w: &mut impl Write,
    t: &Templates,
    rng: &mut Rng,
    enrollment_id: u64,
    personal_id: &str,
    project_id: &str,
    entry: NaiveDate,
) -> io::Result<()> {
    let living = [116, 101, 118, 215, 302, 410][rng.below(6) as usize];
    let disabling = rng.below(2);
    let household = format!("HH{enrollment_id}");
    let created = format!("{entry} 09:15:00");
    t.enrollment.write(
        w,
        &[
            &enrollment_id,
            &personal_id,
            &project_id,
            &entry,
            &household,
            &1,
            &"TX-600",
            &living,
            &4,
            &1,
            &entry,
            &1,
            &101,
            &disabling,
            &created,
            &created,
            &"synth",
            &EXPORT_ID,
        ],
    )
}

fn write_exit(
    w: &mut impl Write,
    t: &Templates,
    rng: &mut Rng,
    exit_id: u64,
    enrollment_id: u64,
    personal_id: &str,
    exit: NaiveDate,
) -> io::Result<()> {
    let destination = [116, 101, 410, 435, 422, 30, 17][rng.below(7) as usize];
    let created = format!("{exit} 16:00:00");
    t.exit.write(
        w,
        &[
            &exit_id,
            &enrollment_id,
            &personal_id,
            &exit,
            &destination,
            &created,
            &created,
            &"synth",
            &EXPORT_ID,
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(clients: usize, seed: u64) -> SynthSpec {
        SynthSpec::new(clients, seed, NaiveDate::from_ymd_opt(2026, 3, 15).unwrap())
    }

    fn read_all(dir: &Path) -> Vec<(String, Vec<u8>)> {
        let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().to_string_lossy().into_owned(),
                    std::fs::read(e.path()).unwrap(),
                )
            })
            .collect();
        v.sort();
        v
    }

    #[test]
    fn same_seed_same_files_other_seed_other_files() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let c = tempfile::tempdir().unwrap();
        write_hud_csv(a.path(), &spec(300, 7)).unwrap();
        write_hud_csv(b.path(), &spec(300, 7)).unwrap();
        write_hud_csv(c.path(), &spec(300, 8)).unwrap();
        assert_eq!(read_all(a.path()), read_all(b.path()));
        assert_ne!(read_all(a.path()), read_all(c.path()));
    }

    #[test]
    fn rows_match_headers_and_summary() {
        let dir = tempfile::tempdir().unwrap();
        let s = write_hud_csv(dir.path(), &spec(2000, 1)).unwrap();
        for (file, expected_rows) in [
            ("Client.csv", s.clients),
            ("Enrollment.csv", s.enrollments),
            ("Exit.csv", s.exits),
            ("Project.csv", PROJECTS.len()),
            ("Export.csv", 1),
        ] {
            let mut rdr = csv::Reader::from_path(dir.path().join(file)).unwrap();
            let width = rdr.headers().unwrap().len();
            let mut n = 0;
            for rec in rdr.records() {
                assert_eq!(rec.unwrap().len(), width, "{file}");
                n += 1;
            }
            assert_eq!(n, expected_rows, "{file}");
        }
        assert_eq!(s.clients, 2000);
        let per_client = s.enrollments as f64 / s.clients as f64;
        assert!((1.8..2.2).contains(&per_client), "{per_client}");
        assert!(s.exits > 0 && s.exits < s.enrollments);
        assert_eq!(s.main_project(), "1001");
        for list in [
            &s.open_in_main,
            &s.exited_from_main,
            &s.other_project_only,
            &s.exiting_today,
        ] {
            assert_eq!(list.len(), 5);
        }
    }

    #[test]
    fn tiny_dataset_has_one_client_of_each_profile() {
        let dir = tempfile::tempdir().unwrap();
        let s = write_hud_csv(dir.path(), &spec(4, 3)).unwrap();
        assert_eq!(s.open_in_main, vec!["100001"]);
        assert_eq!(s.exited_from_main, vec!["100002"]);
        assert_eq!(s.other_project_only, vec!["100003"]);
        assert_eq!(s.exiting_today, vec!["100004"]);
    }
}
