-- The enrollment snapshot's schema (a file of its own beside the station's database, attached to
-- it read-only as `hmis`; see src/store/snapshot.rs). The tables are those of 0001_init.sql and
-- 0002_real_exports.sql, moved out of the main file by 0003 (src/store/migrate.rs), plus the
-- import's own metadata, which used to live in the main file's `meta`.

CREATE TABLE projects (
    project_id      TEXT PRIMARY KEY,
    organization_id TEXT,
    name            TEXT NOT NULL,
    project_type    INTEGER,
    date_updated    TEXT
) WITHOUT ROWID;

-- Only what the station needs: no SSN, no full last name. last_name_key is the lower-cased first
-- three letters of the last name, used only by the supervisor's lost-card search; never displayed.
CREATE TABLE clients (
    personal_id   TEXT PRIMARY KEY,
    first_name    TEXT NOT NULL,
    last_initial  TEXT NOT NULL,
    last_name_key TEXT NOT NULL,
    dob           TEXT,
    date_updated  TEXT
) WITHOUT ROWID;
-- The lost-card search reads only these columns: the index covers it (no table lookups).
CREATE INDEX clients_first ON clients (first_name COLLATE NOCASE, last_name_key, last_initial);
CREATE INDEX clients_dob ON clients (dob) WHERE dob IS NOT NULL;

CREATE TABLE enrollments (
    enrollment_id       TEXT PRIMARY KEY,
    personal_id         TEXT NOT NULL,
    project_id          TEXT NOT NULL,
    household_id        TEXT,
    relationship_to_hoh INTEGER,
    entry_date          TEXT NOT NULL,
    date_updated        TEXT
) WITHOUT ROWID;
CREATE INDEX enrollments_client ON enrollments (personal_id, project_id);
CREATE INDEX enrollments_project ON enrollments (project_id, entry_date);

CREATE TABLE exits (
    exit_id       TEXT PRIMARY KEY,
    enrollment_id TEXT NOT NULL,
    personal_id   TEXT,
    exit_date     TEXT NOT NULL,
    date_updated  TEXT
) WITHOUT ROWID;
CREATE INDEX exits_enrollment ON exits (enrollment_id);

-- Records the HMIS deleted (DateDeleted set), by table and ID, with the deleting row's
-- DateUpdated day: an older copy sent again does not bring the record back. Keys only.
CREATE TABLE hmis_deleted (
    kind         TEXT NOT NULL CHECK (kind IN ('project', 'client', 'enrollment', 'exit', 'service')),
    id           TEXT NOT NULL,
    date_updated TEXT,
    PRIMARY KEY (kind, id)
) WITHOUT ROWID;

-- Services the HMIS already has (Services.csv): only what the verdict needs.
CREATE TABLE hmis_services (
    services_id   TEXT PRIMARY KEY,
    personal_id   TEXT NOT NULL,
    enrollment_id TEXT,
    date_provided TEXT NOT NULL,
    record_type   INTEGER,
    type_provided INTEGER,
    date_updated  TEXT
) WITHOUT ROWID;
CREATE INDEX hmis_services_client ON hmis_services (personal_id, date_provided, record_type);

-- What the last import was (imported_at, export_id, directive, totals, ...), committed with
-- the data it describes.
CREATE TABLE import_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
