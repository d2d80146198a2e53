-- 0003_hostile: fallback keys, and less kept about acknowledgements.
-- A fallback key is a device's one Curve25519 key that is handed out, and kept, once its
-- one-time keys are all claimed, so an Olm session can always start (vodozemac fallback keys).
-- An acknowledged delivery keeps only the UTC day of its acknowledgement (acked_day, days since
-- the epoch) until it is purged, instead of the millisecond it happened.

CREATE TABLE fallback_keys (
    device_id TEXT PRIMARY KEY REFERENCES devices (device_id),
    key_id TEXT NOT NULL,
    public_key BLOB NOT NULL,
    uploaded_at BIGINT NOT NULL
);

ALTER TABLE deliveries ADD COLUMN acked_day BIGINT;

UPDATE deliveries SET acked_day = acked_at / 86400000 WHERE acked_at IS NOT NULL;

ALTER TABLE deliveries DROP COLUMN acked_at;

CREATE INDEX deliveries_acked ON deliveries (acked_day);
