-- scanstation schema v1. Applied at start-up by src/store/migrate.rs (PRAGMA user_version).
-- Enrollment data (replaced or upserted by imports). Deleted HMIS rows are simply absent.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE projects (
    project_id      TEXT PRIMARY KEY,
    organization_id TEXT,
    name            TEXT NOT NULL,
    project_type    INTEGER
) WITHOUT ROWID;

-- Only what the station needs: no SSN, no full last name. last_name_key is the lower-cased first
-- three letters of the last name, used only by the supervisor's lost-card search; never displayed.
CREATE TABLE clients (
    personal_id   TEXT PRIMARY KEY,
    first_name    TEXT NOT NULL,
    last_initial  TEXT NOT NULL,
    last_name_key TEXT NOT NULL,
    dob           TEXT
) WITHOUT ROWID;
CREATE INDEX clients_first ON clients (first_name COLLATE NOCASE);

CREATE TABLE enrollments (
    enrollment_id       TEXT PRIMARY KEY,
    personal_id         TEXT NOT NULL,
    project_id          TEXT NOT NULL,
    household_id        TEXT,
    relationship_to_hoh INTEGER,
    entry_date          TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX enrollments_client ON enrollments (personal_id, project_id);
CREATE INDEX enrollments_project ON enrollments (project_id, entry_date);

CREATE TABLE exits (
    exit_id       TEXT PRIMARY KEY,
    enrollment_id TEXT NOT NULL,
    personal_id   TEXT,
    exit_date     TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX exits_enrollment ON exits (enrollment_id);

-- Batches and their entries.
CREATE TABLE batches (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    project_id   TEXT NOT NULL,
    service_code TEXT NOT NULL,
    service_date TEXT NOT NULL,
    units        REAL NOT NULL,
    unit_value   TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('open', 'posted')),
    created_at   TEXT NOT NULL,
    created_by   TEXT,
    posted_at    TEXT,
    posted_by    TEXT
);
CREATE INDEX batches_state ON batches (state, service_date);

-- Which batch each lane feeds. A lane with no row (or batch_id NULL) is unbound.
CREATE TABLE lanes (
    lane     TEXT PRIMARY KEY,
    batch_id TEXT REFERENCES batches (id)
) WITHOUT ROWID;

-- Append-only: every scan, written before it is acknowledged. Triggers forbid change. (No
-- AUTOINCREMENT here or on entries: rows are never deleted, so rowids are never reused, and a
-- scan's commit does not have to write sqlite_sequence too.)
CREATE TABLE scan_log (
    seq        INTEGER PRIMARY KEY,
    scanned_at TEXT NOT NULL,
    lane       TEXT,
    source     TEXT NOT NULL,
    raw        TEXT NOT NULL,
    batch_id   TEXT
);
-- Scans that reached no batch (only they enter this index, so a bound scan writes no page of it).
CREATE INDEX scan_log_unassigned ON scan_log (seq) WHERE batch_id IS NULL;
CREATE TRIGGER scan_log_no_update BEFORE UPDATE ON scan_log
BEGIN SELECT RAISE(ABORT, 'scan_log is append-only'); END;
CREATE TRIGGER scan_log_no_delete BEFORE DELETE ON scan_log
BEGIN SELECT RAISE(ABORT, 'scan_log is append-only'); END;

-- seq orders entries within a batch (scan order) and across batches (which came first).
CREATE TABLE entries (
    seq           INTEGER PRIMARY KEY,
    id            TEXT NOT NULL UNIQUE,
    batch_id      TEXT NOT NULL REFERENCES batches (id),
    scan_seq      INTEGER REFERENCES scan_log (seq),
    code          TEXT NOT NULL,
    client_id     TEXT,
    verdict       TEXT NOT NULL CHECK (verdict IN
                    ('ok', 'invalid_code', 'unknown_client', 'duplicate', 'no_open_enrollment')),
    enrollment_id TEXT,
    source        TEXT NOT NULL,
    scanned_at    TEXT NOT NULL,
    removed_at    TEXT,
    removed_by    TEXT
);
CREATE INDEX entries_batch ON entries (batch_id, seq);
CREATE INDEX entries_client ON entries (client_id);

-- What became of unassigned scans (the scan log itself never changes): moved into a batch as
-- entry_id, or dismissed by a supervisor. One row per scan at most.
CREATE TABLE scan_resolutions (
    scan_seq    INTEGER PRIMARY KEY REFERENCES scan_log (seq),
    resolution  TEXT NOT NULL CHECK (resolution IN ('moved', 'dismissed')),
    entry_id    TEXT,
    resolved_at TEXT NOT NULL,
    resolved_by TEXT
);

-- Posted services: one per ok entry, with a stable UUID.
CREATE TABLE services (
    id                TEXT PRIMARY KEY,
    batch_id          TEXT NOT NULL REFERENCES batches (id),
    entry_id          TEXT NOT NULL UNIQUE,
    personal_id       TEXT NOT NULL,
    enrollment_id     TEXT NOT NULL,
    project_id        TEXT NOT NULL,
    service_code      TEXT NOT NULL,
    date_provided     TEXT NOT NULL,
    unit              TEXT NOT NULL,
    units             REAL NOT NULL,
    unit_value        TEXT NOT NULL,
    hud_record_type   INTEGER,
    hud_type_provided INTEGER,
    posted_by         TEXT NOT NULL,
    posted_by_user_id TEXT,
    posted_at         TEXT NOT NULL
);
CREATE INDEX services_date ON services (date_provided);
CREATE INDEX services_batch ON services (batch_id);

-- Deliveries upstream, queued in the same transaction as the post. One row = one request with a
-- stable idempotency key and a fixed set of services (service_ids: JSON array).
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    batch_id        TEXT NOT NULL REFERENCES batches (id),
    kind            TEXT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    service_ids     TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('queued', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    delivered_at    TEXT
);
CREATE INDEX outbox_state ON outbox (state, next_attempt_at);
CREATE INDEX outbox_batch ON outbox (batch_id);
