//! Logging: the systemd journal when started by systemd, readable stderr otherwise.
//!
//! [`init`] picks the backend once at start:
//! - `$JOURNAL_STREAM` set (systemd connected stderr to the journal) and the journal socket
//!   `/run/systemd/journal/socket` present: records go to the journal natively through
//!   `systemd-journal-logger`, with priority, `SYSLOG_IDENTIFIER=scanstation`, `TARGET`, source
//!   location and every key-value pair of the record as its own journal field.
//! - otherwise: one readable line per record on stderr,
//!   `2026-11-22T21:30:00.123Z INFO  scanstation::batch: batch 7f3c posted batch_id=7f3c count=41`.
//!   When stderr is a journal stream without the native socket, the timestamp is dropped and the
//!   line starts with a `<N>` priority prefix (`sd-daemon(3)`), so the level survives.
//!
//! Levels: `scanstation*` targets log at `info` (`debug` with `--verbose`); other crates (hyper,
//! rustls, reqwest...) only at `warn` (`info` with `--verbose`), so the journal stays readable.
//!
//! # Convention for log lines
//!
//! - Target `scanstation::<area>`: `batch`, `scan`, `scanner`, `import`, `upstream`, `web`, `store`,
//!   `systemd`, `config`.
//! - Facts that IT may want to filter on go in key-value fields as well as in the message, with
//!   these names (the journal upper-cases them: `batch_id` becomes `BATCH_ID`):
//!   `batch_id`, `lane`, `count`, `verdict`, `project_id`, `service_code`, `scanner`, `outbox`,
//!   `delivery_id`, `status`.
//! - **Never** a client's name or date of birth, in the message or a field; not even a client ID
//!   next to a name. Log batch IDs, lanes, verdicts and counts.
//!
//! ```
//! let (batch_id, lane, n) = ("7f3c", "main", 41u64);
//! log::info!(target: "scanstation::batch", batch_id, lane, count = n;
//!            "batch {batch_id} posted: {n} services");
//! log::warn!(target: "scanstation::upstream", batch_id, status = 503u16;
//!            "delivery of batch {batch_id} failed with 503, retrying");
//! ```
//!
//! Then `journalctl -u scanstation BATCH_ID=7f3c` shows every line about that batch, and
//! `journalctl -u scanstation -o verbose` shows all fields.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use log::kv::{self, VisitSource};
use log::{Level, LevelFilter, Log, Metadata, Record};

const JOURNAL_SOCKET: &str = "/run/systemd/journal/socket";

/// Set up logging once at start. `verbose` lowers the level to `debug` for scanstation's own
/// targets. Calling it again is harmless (the first logger stays).
pub fn init(verbose: bool) {
    let filter = Filter::new(verbose);
    let logger: Box<dyn Log> = match journal_logger() {
        Some(journal) => Box::new(Filtered {
            filter,
            inner: journal,
        }),
        None => Box::new(Filtered {
            filter,
            inner: StderrLog {
                journal_stream: std::env::var_os("JOURNAL_STREAM").is_some(),
            },
        }),
    };
    if log::set_boxed_logger(logger).is_ok() {
        log::set_max_level(filter.max());
    }
}

/// The native journal logger, when systemd connected us to the journal and its socket exists.
fn journal_logger() -> Option<systemd_journal_logger::JournalLog> {
    if std::env::var_os("JOURNAL_STREAM").is_none() || !Path::new(JOURNAL_SOCKET).exists() {
        return None;
    }
    let journal = systemd_journal_logger::JournalLog::new().ok()?;
    Some(
        journal
            .with_syslog_identifier("scanstation".into())
            .with_extra_fields(vec![("SCANSTATION_VERSION", env!("CARGO_PKG_VERSION"))]),
    )
}

/// Which records pass: scanstation's own at `own`, everyone else's at `others`.
#[derive(Debug, Clone, Copy)]
struct Filter {
    own: LevelFilter,
    others: LevelFilter,
}

impl Filter {
    fn new(verbose: bool) -> Filter {
        if verbose {
            Filter {
                own: LevelFilter::Debug,
                others: LevelFilter::Info,
            }
        } else {
            Filter {
                own: LevelFilter::Info,
                others: LevelFilter::Warn,
            }
        }
    }

    fn allows(&self, meta: &Metadata) -> bool {
        let t = meta.target();
        let own =
            t == "scanstation" || t.starts_with("scanstation::") || t.starts_with("scanstation_");
        meta.level() <= if own { self.own } else { self.others }
    }

    fn max(&self) -> LevelFilter {
        self.own.max(self.others)
    }
}

struct Filtered<L> {
    filter: Filter,
    inner: L,
}

impl<L: Log> Log for Filtered<L> {
    fn enabled(&self, meta: &Metadata) -> bool {
        self.filter.allows(meta) && self.inner.enabled(meta)
    }
    fn log(&self, record: &Record) {
        if self.filter.allows(record.metadata()) {
            self.inner.log(record);
        }
    }
    fn flush(&self) {
        self.inner.flush();
    }
}

/// Readable lines on stderr.
struct StderrLog {
    /// stderr is a journal stream (but the native socket is missing): no timestamp, `<N>` prefix.
    journal_stream: bool,
}

impl Log for StderrLog {
    fn enabled(&self, _: &Metadata) -> bool {
        true
    }
    fn log(&self, record: &Record) {
        let line = if self.journal_stream {
            format_journal_stream(record)
        } else {
            format_line(record, &chrono::Utc::now())
        };
        // One write call per line so lines from different threads do not interleave.
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }
    fn flush(&self) {
        let _ = std::io::stderr().flush();
    }
}

/// `2026-11-22T21:30:00.123Z INFO  target: message key=value ...\n`
fn format_line(record: &Record, now: &chrono::DateTime<chrono::Utc>) -> String {
    let mut line = now.format("%Y-%m-%dT%H:%M:%S%.3fZ ").to_string();
    let _ = write!(
        line,
        "{:<5} {}: {}",
        record.level(),
        record.target(),
        record.args()
    );
    push_key_values(&mut line, record);
    line.push('\n');
    line
}

/// `<6>target: message key=value ...\n` (`sd-daemon(3)` priority prefix; journald adds the time).
fn format_journal_stream(record: &Record) -> String {
    let prio = match record.level() {
        Level::Error => 3,
        Level::Warn => 4,
        Level::Info => 6,
        Level::Debug | Level::Trace => 7,
    };
    let mut line = format!("<{prio}>{}: {}", record.target(), record.args());
    push_key_values(&mut line, record);
    line.push('\n');
    line
}

/// Append ` key=value` for each key-value pair; values with spaces, quotes or `=` are quoted.
fn push_key_values(line: &mut String, record: &Record) {
    struct Visitor<'a>(&'a mut String);
    impl<'kvs> VisitSource<'kvs> for Visitor<'_> {
        fn visit_pair(
            &mut self,
            key: kv::Key<'kvs>,
            value: kv::Value<'kvs>,
        ) -> Result<(), kv::Error> {
            let value = value.to_string();
            let plain = !value.is_empty()
                && !value
                    .chars()
                    .any(|c| c.is_whitespace() || c == '"' || c == '=' || c.is_control());
            if plain {
                let _ = write!(self.0, " {key}={value}");
            } else {
                let _ = write!(self.0, " {key}={value:?}");
            }
            Ok(())
        }
    }
    let _ = record.key_values().visit(&mut Visitor(line));
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn with_record<R>(
        level: Level,
        target: &str,
        kvs: &[(&str, &str)],
        f: impl FnOnce(&Record) -> R,
    ) -> R {
        let args = format_args!("batch 7f3c posted: 41 services");
        let record = Record::builder()
            .level(level)
            .target(target)
            .args(args)
            .key_values(&kvs)
            .build();
        f(&record)
    }

    #[test]
    fn stderr_line_is_readable_with_fields() {
        let now = chrono::Utc
            .with_ymd_and_hms(2026, 11, 22, 21, 30, 0)
            .unwrap();
        let line = with_record(
            Level::Info,
            "scanstation::batch",
            &[("batch_id", "7f3c"), ("lane", "front door")],
            |r| format_line(r, &now),
        );
        assert_eq!(
            line,
            "2026-11-22T21:30:00.000Z INFO  scanstation::batch: batch 7f3c posted: 41 services \
             batch_id=7f3c lane=\"front door\"\n"
        );
    }

    #[test]
    fn journal_stream_line_carries_priority() {
        let line = with_record(
            Level::Warn,
            "scanstation::upstream",
            &[("status", "503")],
            format_journal_stream,
        );
        assert_eq!(
            line,
            "<4>scanstation::upstream: batch 7f3c posted: 41 services status=503\n"
        );
        let line = with_record(Level::Error, "scanstation", &[], format_journal_stream);
        assert!(line.starts_with("<3>scanstation: "), "{line}");
    }

    #[test]
    fn filter_keeps_dependencies_quiet_unless_verbose() {
        let meta = |level, target| Metadata::builder().level(level).target(target).build();
        let quiet = Filter::new(false);
        assert!(quiet.allows(&meta(Level::Info, "scanstation::batch")));
        assert!(!quiet.allows(&meta(Level::Debug, "scanstation::batch")));
        assert!(!quiet.allows(&meta(Level::Info, "hyper::proto")));
        assert!(quiet.allows(&meta(Level::Warn, "rustls::conn")));
        assert!(!quiet.allows(&meta(Level::Info, "scanstationx")));
        let verbose = Filter::new(true);
        assert!(verbose.allows(&meta(Level::Debug, "scanstation")));
        assert!(verbose.allows(&meta(Level::Info, "hyper::proto")));
        assert!(!verbose.allows(&meta(Level::Debug, "hyper::proto")));
        assert_eq!(verbose.max(), LevelFilter::Debug);
    }
}
