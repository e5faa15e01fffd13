-- scanstation schema v2: what real HMIS exports need (issue 9). Applied by src/store/migrate.rs.

-- The day of each record's DateUpdated (yyyy-mm-dd; NULL when the export gave none): a row of a
-- later import replaces a record only when its DateUpdated is the same day or newer.
ALTER TABLE projects ADD COLUMN date_updated TEXT;
ALTER TABLE clients ADD COLUMN date_updated TEXT;
ALTER TABLE enrollments ADD COLUMN date_updated TEXT;
ALTER TABLE exits ADD COLUMN date_updated TEXT;

-- Records the HMIS deleted (DateDeleted set), by table and ID, with the deleting row's
-- DateUpdated day: an older copy sent again does not bring the record back; a row of the same
-- day or newer without DateDeleted restores it. Keys only, no personal data.
CREATE TABLE hmis_deleted (
    kind         TEXT NOT NULL CHECK (kind IN ('project', 'client', 'enrollment', 'exit', 'service')),
    id           TEXT NOT NULL,
    date_updated TEXT,
    PRIMARY KEY (kind, id)
) WITHOUT ROWID;

-- Services the HMIS already has (Services.csv): only what the verdict needs. services_id and
-- date_updated are bookkeeping for later deltas.
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

-- Why an entry is a duplicate (NULL unless verdict = 'duplicate'): 'batch', 'service_day' or
-- 'limit'; reason_detail says where the earlier service is: 'hmis' when the HMIS recorded it.
ALTER TABLE entries ADD COLUMN reason TEXT;
ALTER TABLE entries ADD COLUMN reason_detail TEXT;
