//! Station configuration: the TOML file IT writes (`/etc/scanstation/scanstation.toml`).
//!
//! Parsing is strict (unknown keys are errors) and validation collects every problem at once, each
//! named by its key, so `scanstation check-config` can print them all in one go.

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use std::time::Duration;

use crate::domain::barcode::{BarcodeRules, CheckDigit};
use crate::domain::lane::LaneName;
use crate::domain::policy::Policy;
use crate::domain::rules::DuplicateScope;
use crate::domain::service::{ServiceDef, Unit};

pub const DEFAULT_CONFIG_PATH: &str = "/etc/scanstation/scanstation.toml";

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Config {
    /// Keys the file has that scanstation does not know (reported by `check`).
    #[serde(skip)]
    pub unknown_keys: Vec<String>,
    pub station: StationConfig,
    #[serde(default)]
    pub storage: StorageConfig,
    #[serde(default)]
    pub web: WebConfig,
    #[serde(default)]
    pub supervisor: Vec<SupervisorConfig>,
    #[serde(default)]
    pub hmis: HmisConfig,
    #[serde(default)]
    pub service: Vec<ServiceConfig>,
    #[serde(default)]
    pub barcode: BarcodeConfig,
    #[serde(default)]
    pub scanner: Vec<ScannerConfig>,
    #[serde(default)]
    pub upstream: UpstreamConfig,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct StationConfig {
    pub id: String,
    #[serde(default = "default_timezone")]
    pub timezone: String,
}

fn default_timezone() -> String {
    "America/Chicago".into()
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct StorageConfig {
    #[serde(default = "default_database")]
    pub database: PathBuf,
}

fn default_database() -> PathBuf {
    PathBuf::from("/var/lib/scanstation/scanstation.db")
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            database: default_database(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct WebConfig {
    #[serde(default = "default_listen")]
    pub listen: String,
    #[serde(default = "default_idle_lock")]
    pub idle_lock_seconds: u64,
    /// HTTPS: "auto" (whenever `listen` is not a loopback address), "on" or "off".
    #[serde(default)]
    pub tls: TlsMode,
    /// PEM certificate chain and private key; both empty: a self-signed certificate made once
    /// in the state folder.
    #[serde(default)]
    pub tls_cert: String,
    #[serde(default)]
    pub tls_key: String,
    /// Origins besides the station's own allowed to make state-changing requests, e.g.
    /// "https://scan.agency.org".
    #[serde(default)]
    pub allowed_origins: Vec<String>,
}

/// `[web] tls`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    #[default]
    Auto,
    On,
    Off,
}

fn default_listen() -> String {
    "127.0.0.1:8080".into()
}
fn default_idle_lock() -> u64 {
    120
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            listen: default_listen(),
            idle_lock_seconds: default_idle_lock(),
            tls: TlsMode::default(),
            tls_cert: String::new(),
            tls_key: String::new(),
            allowed_origins: Vec::new(),
        }
    }
}

#[derive(Clone, Deserialize, Serialize)]
pub struct SupervisorConfig {
    pub name: String,
    pub pin_hash: String,
    #[serde(default)]
    pub hmis_user_id: Option<String>,
}

impl fmt::Debug for SupervisorConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SupervisorConfig")
            .field("name", &self.name)
            .field("pin_hash", &"<redacted>")
            .field("hmis_user_id", &self.hmis_user_id)
            .finish()
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct HmisConfig {
    #[serde(default)]
    pub projects: Vec<String>,
    #[serde(default = "default_dup_scope")]
    pub duplicate_scope: String,
    #[serde(default = "default_backdate")]
    pub max_backdate_days: u32,
    /// Optional scheduled enrollment pull: an HTTPS URL serving a zip of HUD CSV.
    #[serde(default)]
    pub import_url: Option<String>,
    #[serde(default = "default_import_interval")]
    pub import_interval_minutes: u64,
    /// Bearer token file for `import_url` (optional).
    #[serde(default)]
    pub import_token_file: Option<PathBuf>,
}

fn default_dup_scope() -> String {
    "service-day".into()
}
fn default_backdate() -> u32 {
    14
}
fn default_import_interval() -> u64 {
    60
}

impl Default for HmisConfig {
    fn default() -> Self {
        HmisConfig {
            projects: Vec::new(),
            duplicate_scope: default_dup_scope(),
            max_backdate_days: default_backdate(),
            import_url: None,
            import_interval_minutes: default_import_interval(),
            import_token_file: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ServiceConfig {
    pub code: String,
    pub name: String,
    #[serde(default = "default_unit")]
    pub unit: String,
    #[serde(default = "default_units")]
    pub units: f64,
    #[serde(default = "default_unit_value")]
    pub unit_value: String,
    #[serde(default)]
    pub hud_record_type: Option<u32>,
    #[serde(default)]
    pub hud_type_provided: Option<u32>,
}

fn default_unit() -> String {
    "count".into()
}
fn default_units() -> f64 {
    1.0
}
fn default_unit_value() -> String {
    "0.00".into()
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct BarcodeConfig {
    #[serde(default)]
    pub strip_prefix: String,
    #[serde(default)]
    pub strip_suffix: String,
    #[serde(default = "default_pattern")]
    pub pattern: String,
    #[serde(default = "default_check_digit")]
    pub check_digit: String,
}

fn default_pattern() -> String {
    crate::domain::barcode::DEFAULT_PATTERN.into()
}
fn default_check_digit() -> String {
    "none".into()
}

impl Default for BarcodeConfig {
    fn default() -> Self {
        BarcodeConfig {
            strip_prefix: String::new(),
            strip_suffix: String::new(),
            pattern: default_pattern(),
            check_digit: default_check_digit(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ScannerConfig {
    /// "serial" or "hid".
    pub kind: String,
    /// Serial device path, or for hid an event device path (e.g. /dev/input/by-id/...).
    #[serde(default)]
    pub path: Option<PathBuf>,
    /// hid only: "vendor:product" in hex (e.g. "05e0:1200") or a device name.
    #[serde(rename = "match", default)]
    pub match_: Option<String>,
    #[serde(default = "default_baud")]
    pub baud: u32,
    /// serial only: "CR", "LF" or "CRLF" (any of them is accepted on input; this is informative).
    #[serde(default)]
    pub terminator: Option<String>,
    #[serde(default = "default_lane")]
    pub lane: String,
    /// Friendly name shown in status; defaults to the path or match.
    #[serde(default)]
    pub name: Option<String>,
    /// hid only: a partial code is dropped when keys are further apart than this.
    #[serde(default = "default_key_gap")]
    pub key_timeout_ms: u64,
    /// The same code from the same scanner within this window counts once.
    #[serde(default = "default_double_read")]
    pub double_read_ms: u64,
}

fn default_baud() -> u32 {
    9600
}
fn default_lane() -> String {
    "main".into()
}
fn default_key_gap() -> u64 {
    50
}
fn default_double_read() -> u64 {
    1500
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct UpstreamConfig {
    /// "http-json", "clienttrack-csv" or "none".
    #[serde(default = "default_upstream_kind")]
    pub kind: String,
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub token_file: Option<PathBuf>,
    #[serde(default)]
    pub ca_file: String,
    /// clienttrack-csv: the folder files are dropped into.
    #[serde(default)]
    pub folder: Option<PathBuf>,
    /// http-json: at most this many services per request.
    #[serde(default = "default_batch_size")]
    pub batch_size: usize,
    #[serde(default = "default_connect_timeout")]
    pub connect_timeout_seconds: u64,
    #[serde(default = "default_request_timeout")]
    pub request_timeout_seconds: u64,
    /// ClientTrack RegionID / OrgID written into clienttrack-csv files.
    #[serde(default)]
    pub region_id: String,
    #[serde(default)]
    pub org_id: String,
    /// clienttrack-csv Service_RestrictOrg: one of [`RESTRICT_ORG_VALUES`].
    #[serde(default = "default_restrict_org")]
    pub restrict_org: String,
}

/// The Service_RestrictOrg values ClientTrack's batch upload takes (its column spec).
pub const RESTRICT_ORG_VALUES: [&str; 3] = [
    "Restrict To Organization",
    "Restrict To User",
    "Restrict to MOU/Info Release",
];

fn default_restrict_org() -> String {
    RESTRICT_ORG_VALUES[2].into()
}

fn default_upstream_kind() -> String {
    "none".into()
}
fn default_batch_size() -> usize {
    100
}
fn default_connect_timeout() -> u64 {
    10
}
fn default_request_timeout() -> u64 {
    30
}

impl Default for UpstreamConfig {
    fn default() -> Self {
        UpstreamConfig {
            kind: default_upstream_kind(),
            url: String::new(),
            token_file: None,
            ca_file: String::new(),
            folder: None,
            batch_size: default_batch_size(),
            connect_timeout_seconds: default_connect_timeout(),
            request_timeout_seconds: default_request_timeout(),
            region_id: String::new(),
            org_id: String::new(),
            restrict_org: default_restrict_org(),
        }
    }
}

/// Everything wrong with a config file, each problem named by its key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{}", .problems.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("\n"))]
    Invalid { problems: Vec<Problem> },
}

/// One problem in a config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub key: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}

/// The checked form of the config that the rest of the program uses: every value parsed and
/// typed once here; nothing outside this module reads the TOML structs.
#[derive(Debug, Clone)]
pub struct Settings {
    pub station_id: String,
    /// The IANA name as written (shown by `/status`), and the parsed zone.
    pub timezone: String,
    pub tz: chrono_tz::Tz,
    pub database: PathBuf,
    pub web: WebSettings,
    pub supervisors: Vec<SupervisorConfig>,
    /// The rules a verdict and a post follow (barcode, catalogue, duplicate scope, back-dating).
    pub policy: Policy,
    /// `[hmis] projects`: ProjectIDs an import keeps (empty keeps all).
    pub projects: Vec<String>,
    /// `[hmis] import_url`: the scheduled enrollment pull, when configured.
    pub pull: Option<PullSettings>,
    pub scanners: Vec<ScannerSettings>,
    pub upstream: UpstreamSettings,
}

#[derive(Debug, Clone)]
pub struct WebSettings {
    pub listen: std::net::SocketAddr,
    pub idle_lock: Duration,
    pub tls: TlsMode,
    /// PEM certificate chain and key; None: the self-signed pair in the state folder.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// Origins besides the station's own that may make state-changing requests (checked).
    pub allowed_origins: Vec<String>,
}

impl WebSettings {
    /// Does the station serve HTTPS? `auto`: whenever `listen` is not a loopback address.
    pub fn https(&self) -> bool {
        match self.tls {
            TlsMode::On => true,
            TlsMode::Off => false,
            TlsMode::Auto => !self.listen.ip().is_loopback(),
        }
    }
}

impl Default for WebSettings {
    fn default() -> Self {
        WebSettings {
            listen: std::net::SocketAddr::from(([127, 0, 0, 1], 8080)),
            idle_lock: Duration::from_secs(default_idle_lock()),
            tls: TlsMode::Auto,
            tls_cert: None,
            tls_key: None,
            allowed_origins: Vec::new(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct PullSettings {
    pub url: String,
    pub every: Duration,
    pub token_file: Option<PathBuf>,
}

/// How a scanner is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScannerKind {
    Serial {
        path: PathBuf,
        baud: u32,
    },
    /// An event device by path, or found by `match` ("vendor:product" or a name).
    Hid {
        path: Option<PathBuf>,
        matches: Option<String>,
    },
}

impl ScannerKind {
    /// "serial" or "hid", as `/status` and the scan log name it.
    pub fn as_str(&self) -> &'static str {
        match self {
            ScannerKind::Serial { .. } => "serial",
            ScannerKind::Hid { .. } => "hid",
        }
    }
    pub fn path(&self) -> Option<&Path> {
        match self {
            ScannerKind::Serial { path, .. } => Some(path),
            ScannerKind::Hid { path, .. } => path.as_deref(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ScannerSettings {
    pub kind: ScannerKind,
    pub lane: LaneName,
    /// Shown in `/status` and logs: the configured name, else the path or match.
    pub name: String,
    pub key_timeout: Duration,
    pub double_read: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpstreamKind {
    None,
    HttpJson,
    ClientTrackCsv,
}

impl UpstreamKind {
    pub fn as_str(self) -> &'static str {
        match self {
            UpstreamKind::None => "none",
            UpstreamKind::HttpJson => "http-json",
            UpstreamKind::ClientTrackCsv => "clienttrack-csv",
        }
    }
    /// How many services one delivery carries (None: nothing is delivered).
    pub fn chunk_size(self, batch_size: usize, services: usize) -> Option<usize> {
        match self {
            UpstreamKind::None => None,
            UpstreamKind::HttpJson => Some(batch_size.max(1)),
            UpstreamKind::ClientTrackCsv => Some(services.max(1)),
        }
    }
}

#[derive(Debug, Clone)]
pub struct UpstreamSettings {
    pub kind: UpstreamKind,
    pub url: String,
    pub token_file: Option<PathBuf>,
    /// Extra CA to trust (PEM), if any.
    pub ca_file: Option<PathBuf>,
    pub folder: Option<PathBuf>,
    pub batch_size: usize,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    pub region_id: String,
    pub org_id: String,
    /// ClientTrack's Service_RestrictOrg: one of [`RESTRICT_ORG_VALUES`].
    pub restrict_org: String,
}

impl Settings {
    pub fn service(&self, code: &str) -> Option<&ServiceDef> {
        self.policy.service(code)
    }
    pub fn station_id(&self) -> &str {
        &self.station_id
    }
    /// The folder of the database, where the station keeps its own files (the self-signed
    /// HTTPS certificate).
    pub fn state_dir(&self) -> &Path {
        self.database
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
    }
    /// Secrets other users can read (token files, the TLS key): warned about, not refused.
    pub fn secret_warnings(&self) -> Vec<String> {
        [
            self.upstream.token_file.clone(),
            self.pull.as_ref().and_then(|p| p.token_file.clone()),
            self.web.tls_key.clone(),
        ]
        .into_iter()
        .flatten()
        .filter_map(|p| crate::fsmode::readable_by_others(&p))
        .collect()
    }
}

impl WebConfig {
    /// Problems with the HTTPS and origin keys, as (key, message).
    fn problems(&self) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        if self.tls == TlsMode::Off
            && self.listen.parse::<std::net::SocketAddr>().is_ok()
            && !self
                .listen
                .parse::<std::net::SocketAddr>()
                .is_ok_and(|a| a.ip().is_loopback())
        {
            problems.push((
                "web.tls",
                format!(
                    "\"off\" on {} would send the supervisor PIN and client names over the LAN \
                     in clear: use \"auto\" or \"on\", or listen on 127.0.0.1",
                    self.listen
                ),
            ));
        }
        match (self.tls_cert.is_empty(), self.tls_key.is_empty()) {
            (true, true) => {}
            (false, true) => problems.push(("web.tls_key", "tls_cert needs a tls_key".into())),
            (true, false) => problems.push(("web.tls_cert", "tls_key needs a tls_cert".into())),
            (false, false) => {
                for (key, path) in [
                    ("web.tls_cert", &self.tls_cert),
                    ("web.tls_key", &self.tls_key),
                ] {
                    if !Path::new(path).is_file() {
                        problems.push((key, format!("{path} does not exist")));
                    }
                }
            }
        }
        for origin in &self.allowed_origins {
            if crate::net::Origin::parse(origin).is_none() {
                problems.push((
                    "web.allowed_origins",
                    format!("{origin:?} is not an origin such as \"https://scan.agency.org\""),
                ));
            }
        }
        problems
    }
}

impl Config {
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Parse the TOML. Unknown keys do not stop parsing: every one is collected (with its full
    /// path, e.g. `scanner[1].colour`) so `check` reports them together with the other problems.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let parse_err = |message: String| ConfigError::Parse {
            path: path.to_path_buf(),
            message,
        };
        let de = toml::Deserializer::parse(text).map_err(|e| parse_err(e.to_string()))?;
        let mut unknown = Vec::new();
        let mut config: Config = serde_ignored::deserialize(de, |p| unknown.push(key_path(&p)))
            .map_err(|e| parse_err(e.to_string()))?;
        config.unknown_keys = unknown;
        Ok(config)
    }

    /// Validate every key; all problems are returned together.
    pub fn check(self) -> Result<Settings, ConfigError> {
        let mut problems = Vec::new();
        let mut bad = |key: &str, message: String| {
            problems.push(Problem {
                key: key.to_string(),
                message,
            })
        };

        for key in &self.unknown_keys {
            bad(
                key,
                "unknown key (misspelt, or not for this version of scanstation)".into(),
            );
        }
        if self.station.id.trim().is_empty() {
            bad("station.id", "must not be empty".into());
        }
        let tz = match self.station.timezone.parse::<chrono_tz::Tz>() {
            Ok(tz) => Some(tz),
            Err(_) => {
                bad(
                    "station.timezone",
                    format!(
                        "unknown time zone {:?} (use an IANA name such as \"America/Chicago\")",
                        self.station.timezone
                    ),
                );
                None
            }
        };
        if self.storage.database.as_os_str().is_empty() {
            bad("storage.database", "must not be empty".into());
        }
        if self.web.listen.parse::<std::net::SocketAddr>().is_err() {
            bad(
                "web.listen",
                format!(
                    "{:?} is not an address:port such as \"127.0.0.1:8080\"",
                    self.web.listen
                ),
            );
        }
        if self.web.idle_lock_seconds == 0 {
            bad("web.idle_lock_seconds", "must be at least 1".into());
        }
        for (key, message) in self.web.problems() {
            bad(key, message);
        }
        let mut names = HashSet::new();
        for (i, s) in self.supervisor.iter().enumerate() {
            if s.name.trim().is_empty() {
                bad(&format!("supervisor[{i}].name"), "must not be empty".into());
            } else if !names.insert(s.name.clone()) {
                bad(
                    &format!("supervisor[{i}].name"),
                    format!("duplicate supervisor name {:?}", s.name),
                );
            }
            if let Err(e) = crate::pin::check_hash(&s.pin_hash) {
                bad(
                    &format!("supervisor[{i}].pin_hash"),
                    format!("not a PIN hash from `scanstation hash-pin` ({e})"),
                );
            }
        }
        let duplicate_scope = match self.hmis.duplicate_scope.as_str() {
            "service-day" => DuplicateScope::ServiceDay,
            "batch" => DuplicateScope::Batch,
            other => {
                bad(
                    "hmis.duplicate_scope",
                    format!("{other:?} is not \"service-day\" or \"batch\""),
                );
                DuplicateScope::ServiceDay
            }
        };
        if let Some(url) = &self.hmis.import_url {
            if let Err(e) = check_url(url) {
                bad("hmis.import_url", e);
            }
        }
        if self.hmis.import_interval_minutes == 0 {
            bad("hmis.import_interval_minutes", "must be at least 1".into());
        }

        let mut codes = HashSet::new();
        let mut services = Vec::new();
        for (i, s) in self.service.iter().enumerate() {
            let key = |k: &str| format!("service[{i}].{k}");
            if s.code.trim().is_empty() {
                bad(&key("code"), "must not be empty".into());
            } else if !codes.insert(s.code.clone()) {
                bad(&key("code"), format!("duplicate service code {:?}", s.code));
            }
            if s.name.trim().is_empty() {
                bad(&key("name"), "must not be empty".into());
            }
            let unit = match Unit::parse(&s.unit) {
                Some(u) => u,
                None => {
                    bad(
                        &key("unit"),
                        format!("{:?} is not one of count, dollars, minutes, hours", s.unit),
                    );
                    Unit::Count
                }
            };
            if !(s.units.is_finite() && s.units > 0.0) {
                bad(&key("units"), "must be a number above 0".into());
            }
            let unit_value = match crate::domain::money::Money::parse(&s.unit_value) {
                Ok(v) => v,
                Err(e) => {
                    bad(&key("unit_value"), e.to_string());
                    crate::domain::money::Money::zero()
                }
            };
            if s.hud_record_type.is_some() != s.hud_type_provided.is_some() {
                bad(
                    &key("hud_record_type"),
                    "hud_record_type and hud_type_provided go together".into(),
                );
            }
            services.push(ServiceDef {
                code: s.code.clone(),
                name: s.name.clone(),
                unit,
                units: s.units,
                unit_value,
                hud_record_type: s.hud_record_type,
                hud_type_provided: s.hud_type_provided,
            });
        }

        let check_digit = match self.barcode.check_digit.as_str() {
            "none" => CheckDigit::None,
            "mod10" | "luhn" => CheckDigit::Mod10,
            other => {
                bad(
                    "barcode.check_digit",
                    format!("{other:?} is not \"none\" or \"mod10\""),
                );
                CheckDigit::None
            }
        };
        let barcode = match BarcodeRules::new(
            &self.barcode.strip_prefix,
            &self.barcode.strip_suffix,
            &self.barcode.pattern,
            check_digit,
        ) {
            Ok(b) => Some(b),
            Err(e) => {
                bad("barcode.pattern", e.to_string());
                None
            }
        };

        let mut scanners = Vec::new();
        for (i, s) in self.scanner.iter().enumerate() {
            let key = |k: &str| format!("scanner[{i}].{k}");
            let kind = match s.kind.as_str() {
                "serial" => {
                    if s.baud == 0 {
                        bad(&key("baud"), "must be above 0".into());
                    }
                    if let Some(t) = &s.terminator {
                        if !matches!(t.to_ascii_uppercase().as_str(), "CR" | "LF" | "CRLF") {
                            bad(&key("terminator"), format!("{t:?} is not CR, LF or CRLF"));
                        }
                    }
                    match &s.path {
                        Some(path) => Some(ScannerKind::Serial {
                            path: path.clone(),
                            baud: s.baud,
                        }),
                        None => {
                            bad(&key("path"), "a serial scanner needs a path".into());
                            None
                        }
                    }
                }
                "hid" => {
                    if s.path.is_none() && s.match_.is_none() {
                        bad(
                            &key("path"),
                            "a hid scanner needs a path or match (\"vendor:product\" or a name)"
                                .into(),
                        );
                    }
                    Some(ScannerKind::Hid {
                        path: s.path.clone(),
                        matches: s.match_.clone(),
                    })
                }
                other => {
                    bad(
                        &key("kind"),
                        format!("{other:?} is not \"serial\" or \"hid\""),
                    );
                    None
                }
            };
            let lane = match LaneName::parse(&s.lane) {
                Ok(l) => Some(l),
                Err(e) => {
                    bad(&key("lane"), e.to_string());
                    None
                }
            };
            if let (Some(kind), Some(lane)) = (kind, lane) {
                let name = s
                    .name
                    .clone()
                    .or_else(|| s.path.as_ref().map(|p| p.display().to_string()))
                    .or_else(|| s.match_.clone())
                    .unwrap_or_else(|| format!("scanner {}", i + 1));
                scanners.push(ScannerSettings {
                    kind,
                    lane,
                    name,
                    key_timeout: Duration::from_millis(s.key_timeout_ms),
                    double_read: Duration::from_millis(s.double_read_ms),
                });
            }
        }

        if !RESTRICT_ORG_VALUES.contains(&self.upstream.restrict_org.as_str()) {
            bad(
                "upstream.restrict_org",
                format!(
                    "{:?} is not one of {}",
                    self.upstream.restrict_org,
                    RESTRICT_ORG_VALUES.map(|v| format!("{v:?}")).join(", ")
                ),
            );
        }
        let upstream_kind = match self.upstream.kind.as_str() {
            "none" => UpstreamKind::None,
            "http-json" => {
                if let Err(e) = check_url(&self.upstream.url) {
                    bad("upstream.url", e);
                }
                match &self.upstream.token_file {
                    None => bad("upstream.token_file", "http-json needs a token_file".into()),
                    Some(p) if !p.exists() => bad(
                        "upstream.token_file",
                        format!("{} does not exist", p.display()),
                    ),
                    _ => {}
                }
                if !self.upstream.ca_file.is_empty() && !Path::new(&self.upstream.ca_file).exists()
                {
                    bad(
                        "upstream.ca_file",
                        format!("{} does not exist", self.upstream.ca_file),
                    );
                }
                if self.upstream.batch_size == 0 {
                    bad("upstream.batch_size", "must be at least 1".into());
                }
                UpstreamKind::HttpJson
            }
            "clienttrack-csv" => {
                if self.upstream.folder.is_none() {
                    bad(
                        "upstream.folder",
                        "clienttrack-csv needs the folder files are written into".into(),
                    );
                }
                UpstreamKind::ClientTrackCsv
            }
            other => {
                bad(
                    "upstream.kind",
                    format!("{other:?} is not \"http-json\", \"clienttrack-csv\" or \"none\""),
                );
                UpstreamKind::None
            }
        };

        let (Some(tz), Some(barcode), Ok(listen), true) =
            (tz, barcode, self.web.listen.parse(), problems.is_empty())
        else {
            return Err(ConfigError::Invalid { problems });
        };
        let up = self.upstream;
        Ok(Settings {
            station_id: self.station.id,
            timezone: self.station.timezone,
            tz,
            database: self.storage.database,
            web: WebSettings {
                listen,
                idle_lock: Duration::from_secs(self.web.idle_lock_seconds),
                tls: self.web.tls,
                tls_cert: Some(PathBuf::from(&self.web.tls_cert))
                    .filter(|p| !p.as_os_str().is_empty()),
                tls_key: Some(PathBuf::from(&self.web.tls_key))
                    .filter(|p| !p.as_os_str().is_empty()),
                allowed_origins: self.web.allowed_origins,
            },
            supervisors: self.supervisor,
            policy: Policy {
                barcode,
                services,
                duplicate_scope,
                max_backdate_days: self.hmis.max_backdate_days,
            },
            projects: self.hmis.projects,
            pull: self.hmis.import_url.map(|url| PullSettings {
                url,
                every: Duration::from_secs(self.hmis.import_interval_minutes.max(1) * 60),
                token_file: self.hmis.import_token_file,
            }),
            scanners,
            upstream: UpstreamSettings {
                kind: upstream_kind,
                url: up.url,
                token_file: up.token_file,
                ca_file: Some(PathBuf::from(up.ca_file)).filter(|p| !p.as_os_str().is_empty()),
                folder: up.folder,
                batch_size: up.batch_size.max(1),
                connect_timeout: Duration::from_secs(up.connect_timeout_seconds.max(1)),
                request_timeout: Duration::from_secs(up.request_timeout_seconds.max(1)),
                region_id: up.region_id,
                org_id: up.org_id,
                restrict_org: up.restrict_org,
            },
        })
    }
}

/// `scanner[1].colour` from serde_ignored's path.
fn key_path(p: &serde_ignored::Path) -> String {
    use serde_ignored::Path as P;
    match p {
        P::Root => String::new(),
        P::Seq { parent, index } => format!("{}[{index}]", key_path(parent)),
        P::Map { parent, key } => {
            let head = key_path(parent);
            if head.is_empty() {
                key.clone()
            } else {
                format!("{head}.{key}")
            }
        }
        P::Some { parent } | P::NewtypeStruct { parent } | P::NewtypeVariant { parent } => {
            key_path(parent)
        }
    }
}

/// An upstream URL must be https, or http to a loopback host.
pub fn check_url(url: &str) -> Result<(), String> {
    let rest = if let Some(r) = url.strip_prefix("https://") {
        r
    } else if let Some(r) = url.strip_prefix("http://") {
        let host = r.split(['/', '?']).next().unwrap_or("");
        let host = host.rsplit_once('@').map(|(_, h)| h).unwrap_or(host);
        let host_only = if let Some(h) = host.strip_prefix('[') {
            h.split(']').next().unwrap_or("")
        } else {
            host.split(':').next().unwrap_or("")
        };
        let loopback = host_only == "localhost"
            || host_only
                .parse::<std::net::IpAddr>()
                .map(|ip| ip.is_loopback())
                .unwrap_or(false);
        if !loopback {
            return Err(format!(
                "{url:?}: plain http is only allowed to a loopback host; use https"
            ));
        }
        r
    } else {
        return Err(format!("{url:?} is not an https:// URL"));
    };
    if rest.is_empty() || rest.starts_with('/') {
        return Err(format!("{url:?} has no host"));
    }
    Ok(())
}

/// Load and check a config file in one step.
pub fn load_settings(path: &Path) -> Result<Settings, ConfigError> {
    Config::load(path)?.check()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Settings, ConfigError> {
        Config::parse(text, Path::new("test.toml"))?.check()
    }

    #[test]
    fn minimal_config_gets_defaults() {
        let s = parse("[station]\nid = \"lobby-1\"\n").unwrap();
        assert_eq!(s.web.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(s.web.idle_lock, Duration::from_secs(120));
        assert_eq!(s.policy.duplicate_scope, DuplicateScope::ServiceDay);
        assert_eq!(s.policy.max_backdate_days, 14);
        assert_eq!(s.tz, chrono_tz::America::Chicago);
    }

    #[test]
    fn unknown_keys_are_all_named_with_their_path() {
        let text = "[station]\nid = \"a\"\ncolour = \"red\"\n[[scanner]]\nkind = \"serial\"\npath = \"/dev/x\"\nspeed = 1\n[nonsense]\nx = 1\n";
        let ConfigError::Invalid { problems } = parse(text).unwrap_err() else {
            panic!("expected Invalid")
        };
        let mut keys: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
        keys.sort();
        assert_eq!(keys, vec!["nonsense", "scanner[0].speed", "station.colour"]);
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let text = r#"
[station]
id = "x"
timezone = "Mars/Olympus"
[web]
listen = "nowhere"
[[supervisor]]
name = "Maria"
pin_hash = "not-a-hash"
[hmis]
duplicate_scope = "week"
[[service]]
code = "484"
name = "Hot Meals"
[[service]]
code = "484"
name = "Again"
unit = "bushels"
unit_value = "1.234"
[barcode]
pattern = "(unclosed"
[[scanner]]
kind = "laser"
lane = "bad lane!"
[upstream]
kind = "http-json"
url = "http://hmis.example.org/"
retries = 3
restrict_org = "Restrict to MOU"
"#;
        let err = parse(text).unwrap_err();
        let ConfigError::Invalid { problems } = err else {
            panic!("expected Invalid, got {err}")
        };
        let keys: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
        for k in [
            "station.timezone",
            "web.listen",
            "supervisor[0].pin_hash",
            "hmis.duplicate_scope",
            "service[1].code",
            "service[1].unit",
            "service[1].unit_value",
            "barcode.pattern",
            "scanner[0].kind",
            "scanner[0].lane",
            "upstream.url",
            "upstream.token_file",
            "upstream.retries",
            "upstream.restrict_org",
        ] {
            assert!(keys.contains(&k), "missing {k} in {keys:?}");
        }
    }

    #[test]
    fn http_only_to_loopback() {
        assert!(check_url("https://hmis.example.org/v1").is_ok());
        assert!(check_url("http://127.0.0.1:9000/v1").is_ok());
        assert!(check_url("http://localhost/v1").is_ok());
        assert!(check_url("http://[::1]:80/").is_ok());
        assert!(check_url("http://10.0.0.1/v1").is_err());
        assert!(check_url("http://localhost.evil.org/").is_err());
        assert!(check_url("ftp://x").is_err());
        assert!(check_url("https://").is_err());
    }
}
