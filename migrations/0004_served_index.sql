-- scanstation schema v4. Applied by src/store/migrate.rs (v3 moved the enrollment tables into
-- their snapshot file, src/store/snapshot.rs).

-- The served count every scan answers with (ok entries not removed) reads only this index: its
-- cost grows with the served entries of the one batch, and no table row is read for it.
CREATE INDEX entries_served ON entries (batch_id) WHERE removed_at IS NULL AND verdict = 'ok';
