// The names the daemon puts on the wire, in one place: scan verdicts (entry.verdict) and the
// live events of GET /api/v1/events. They are contract names: change them only with the daemon.

export const VERDICT = Object.freeze({
  OK: 'ok',
  NO_OPEN_ENROLLMENT: 'no_open_enrollment',
  DUPLICATE: 'duplicate',
  UNKNOWN_CLIENT: 'unknown_client',
  INVALID_CODE: 'invalid_code',
});

// Every verdict but ok is flagged: a batch with flagged entries cannot be posted.
export const FLAGGED = new Set([VERDICT.NO_OPEN_ENROLLMENT, VERDICT.DUPLICATE, VERDICT.UNKNOWN_CLIENT, VERDICT.INVALID_CODE]);

// Verdicts about a client the station knows, so the lane screen may show the short name.
export const KNOWN_CLIENT = new Set([VERDICT.OK, VERDICT.DUPLICATE, VERDICT.NO_OPEN_ENROLLMENT]);

// A lane scan kept with no batch open: shown on the lane screen like a verdict.
export const UNASSIGNED = 'unassigned';

export const EVENT = Object.freeze({
  HELLO: 'hello', // sent once when the stream opens
  SCAN: 'scan', // {lane, entry, batch: {id, served}} or {lane, unassigned}
  BATCH: 'batch', // {id}: a batch changed
  LANE: 'lane', // {lane, batch_id}: a lane was bound or unbound
  SCANNER: 'scanner', // a scanner's status changed
  DELIVERY: 'delivery', // {batch_id, delivery_id}: an outbox row changed
  DATA: 'data', // {source, summary}: new enrollment data
  LAGGED: 'lagged', // this stream fell behind and missed events
});
