//! The station's live events: one typed enum, published by the use cases and the device and
//! upstream tasks, and turned into server-sent events by `web::events` (names and shapes there).

use crate::domain::lane::LaneName;
use crate::store::batches::ScanOutcome;

use super::ScannerStatus;

#[derive(Debug, Clone)]
pub enum Event {
    /// A scan or manual entry was recorded (`lane` None: a supervisor's manual entry).
    Scan {
        lane: Option<LaneName>,
        outcome: ScanOutcome,
    },
    /// A scan on `lane` was NOT recorded: the disk refused the write (`code`: `disk_full`,
    /// `read_only`, `disk_error`). The lane screen says so instead of a verdict.
    ScanRefused { lane: LaneName, code: &'static str },
    /// A batch changed (created, entry removed, reloaded, posted, lane bound).
    Batch { id: String },
    /// A lane was bound to a batch, or unbound (None).
    Lane {
        lane: LaneName,
        batch_id: Option<String>,
    },
    /// A scanner's state changed; `index` is its place in the config.
    Scanner { index: usize, status: ScannerStatus },
    /// A delivery attempt was recorded.
    Delivery { batch_id: String, delivery_id: i64 },
    /// New enrollment data was imported (`source`: "pull" or "import") and open batches reloaded.
    Data {
        source: &'static str,
        summary: String,
    },
}

impl Event {
    /// The SSE event name.
    pub fn name(&self) -> &'static str {
        match self {
            Event::Scan { .. } | Event::ScanRefused { .. } => "scan",
            Event::Batch { .. } => "batch",
            Event::Lane { .. } => "lane",
            Event::Scanner { .. } => "scanner",
            Event::Delivery { .. } => "delivery",
            Event::Data { .. } => "data",
        }
    }
}
